"""Hardware profiles (data/hardware.yaml) and the forms users write them in.

"rtx4090", "RTX 4090", "2x rtx4090", "rtx4090x2", "2x rtx3090 nvlink", "a100-80gb" resolve to a profile and a
count. Apple and other unified-memory parts become one device whose usable memory is the GPU working-set limit.
"""
from __future__ import annotations

import re
from ..record import replace

from ..domain import Device, GpuDetails, Machine
from ..errors import UnknownHardwareError
from ..lazy_re import lazy
from ..termsafe import clipped
from .data import load
from .profiles import MAX_UNITS, Profile, find_profile, profiles  # noqa: F401 - profiles: re-exported for callers

_COUNT_PREFIX = lazy(r"^\s*([0-9]+)\s*[x×*]\s*(.+)$", re.I)
_COUNT_SUFFIX = lazy(r"^(.+?)\s*[x×*]\s*([0-9]+)\s*$", re.I)
# 'dual 3090', 'quad-rtx4090': the count as a word, the way shops and forums name multi-GPU boxes; a separator is
# required ('quadro ...' is a card), and a name that is hardware as written ('dual epyc genoa') keeps its meaning
_COUNT_WORD = lazy(r"^\s*(dual|quad)[\s-]+(.+)$", re.I)
_COUNT_WORDS = {"dual": 2, "quad": 4}
# full-width forms (U+FF01-FF5E) as East Asian input methods type them ('ＲＴＸ ４０９０') and the ideographic space:
# their ASCII letters. Not NFKC, which would also turn a trademark sign into 'TM' that driver_name_clean then keeps
_HALF_WIDTH = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


def fold_width(text: str) -> str:
    """`text` with full-width letters, digits and signs and the ideographic space as their ASCII (_HALF_WIDTH): every
    entry of a typed hardware name (get_profile, parse_spec, a mixed spec's '＋' in machine.resolve_machine) reads
    'ＲＴＸ ４０９０' alike; 'hardware show ＲＴＸ ４０９０' said it had words after its name."""
    return text.translate(_HALF_WIDTH)


def get_profile(name: str) -> Profile:
    """The profile a user's name means: curated, an Apple configuration or a GPU spec-table row (catalog/hw_names.py);
    AmbiguousHardwareError lists the choices when the name fits several memory sizes. Full-width input reads as ASCII
    (fold_width)."""
    from .hw_names import resolve

    return resolve(fold_width(name))


def profile_by_id(pid: str) -> Profile | None:
    """A profile by the id a Device's matched_profile holds: curated first, then table rows and Apple configurations."""
    p = find_profile(pid)
    if p is not None:
        return p
    from .hw_names import by_id

    return by_id(pid)


def _known(text: str) -> bool:
    """Whether `text` names hardware (an ambiguous name counts: resolving it later says which choices it has; so
    does one whose vendor word contradicts its card: resolving it later says so)."""
    if find_profile(text) is not None:
        return True
    from .hw_names import AmbiguousHardwareError, VendorMismatchError

    try:
        get_profile(text)
    except (AmbiguousHardwareError, VendorMismatchError):
        return True
    except UnknownHardwareError:
        return False
    return True


def unified_usable_bytes(profile: Profile) -> int:
    return unified_usable(profile)[0]


def unified_usable(profile: Profile) -> tuple[int, str]:
    """(GPU-usable bytes, where that figure comes from) for a unified-memory part. A profile stating its own share
    (`gpu_share`, Intel iGPUs: the driver's default shared-memory cap) or its CUDA-reported size (`usable_memory_gib`,
    DGX Spark) uses it; AMD APUs the iGPU share data/apu.yaml states (Windows' VGM maximum; Linux' amdgpu default GTT
    is half, raised by module options); Apple the Metal working set. The text is what fit prints beside the figure."""
    raw, total = profile.raw, profile.memory_bytes
    if raw.get("usable_memory_gib"):
        usable = int(float(raw["usable_memory_gib"]) * 2**30)
        return usable, str(raw.get("usable_memory_basis") or "CUDA-reported total")
    if raw.get("gpu_share"):
        share = float(raw["gpu_share"])
        basis = str(raw.get("usable_memory_basis") or "GPU share of RAM ({share})")
        return int(total * share), basis.replace("{share}", f"{share:.0%}")
    if profile.vendor == "amd":
        share = float(load("apu")["gpu_share"])
        return int(total * share), (f"iGPU share {share:.0%} (Windows VGM; Linux: carved VRAM + GTT, default 50%); "
                                    "yours: --gpu-memory")
    usable = working_set_bytes(total)
    if profile.id == "custom" and profile.backend != "metal":  # a spec sheet's unified=true on CUDA, Vulkan or SYCL
        return usable, (f"assumed {usable / total:.0%}, Apple's Metal default (the spec sheet gives no GPU share); "
                        "yours: --gpu-memory")
    return usable, (f"Metal working-set limit {usable / total:.0%} (macOS {current_macos()} default); after sysctl "
                    "iogpu.wired_limit_mb=N use --gpu-memory NMiB")


def working_set_bytes(memory_bytes: int, macos_major: int | None = None) -> int:
    """Apple Metal GPU working-set limit (recommendedMaxWorkingSetSize) as a share of unified memory, by the macOS
    release's rule (data/engines.yaml apple_working_set); no version (a named profile) takes the current macOS."""
    ws = load("engines")["apple_working_set"]
    major = int(ws["current_macos"]) if macos_major is None else macos_major
    rule = ws["rules"][0]
    for r in ws["rules"]:
        if int(r["since_macos"]) <= major:
            rule = r
    share = rule["share_small"] if memory_bytes <= int(rule["small_up_to_bytes"]) else rule["share_large"]
    return int(memory_bytes * float(share))


def current_macos() -> int:
    """The macOS major version whose working-set rule a named Apple profile takes."""
    return int(load("engines")["apple_working_set"]["current_macos"])


def _split_count(text: str) -> tuple[int, str]:
    """'2x rtx4090', 'rtx4090x2' and 'dual rtx4090' -> (2, 'rtx4090') ('quad' is 4). "rtx9999" is an unknown card, not 9999 x "rt"; "4090x2" is
    2 x 4090. Curated names are tried first so that '2x rtx4090' never reads the GPU spec table."""
    w = _COUNT_WORD.match(text)
    if w and not _known(text):
        return _COUNT_WORDS[w.group(1).lower()], w.group(2)
    m = _COUNT_PREFIX.match(text)
    s = _COUNT_SUFFIX.match(text)
    if m and find_profile(m.group(2)) is not None:
        return _units(m.group(1)), m.group(2)
    if s and find_profile(s.group(1)) is not None and find_profile(text) is None:
        return _units(s.group(2)), s.group(1)
    if m and _known(m.group(2)):
        return _units(m.group(1)), m.group(2)
    if s and not _known(text) and _known(s.group(1)):
        return _units(s.group(2)), s.group(1)
    if m and _known(text):  # '7900xtx' is the RX 7900 XTX, not 7900 x 'tx' ('has more than 64 units')
        return 1, text
    if m and len(m.group(1)) > 2 and re.match(r"^\s*[0-9]+[x×*][^\s]", text, re.I):
        return 1, text  # '7900xfoo': a misspelt model number, answered with suggestions, not a count of 7,900
    if m:
        return _units(m.group(1)), m.group(2)
    return 1, text


def _units(digits: str) -> int:
    """The count of "Nx": bounded before int() (5,000 digits would pass Python's digit limit); over it reads as
    MAX_UNITS + 1, which parse_spec refuses."""
    return int(digits) if len(digits) <= 6 else MAX_UNITS + 1


def parse_spec(spec: str) -> tuple[Profile, int, str]:
    """'2x rtx3090 nvlink' -> (profile rtx-3090, 2, 'nvlink'); full-width letters and digits read as their ASCII."""
    text = fold_width(spec).strip()
    from .spec_fields import is_custom

    if is_custom(text):  # a spec sheet ("custom:..." or "2x custom:..."): custom_hw.py
        from .custom_hw import parse_custom

        profile, count = parse_custom(text)
        return profile, count, ""
    from .backend_words import apply as on_backend, split as split_backend

    # the link word and the backend words trail the name in either order: 'rtx 3090 vulkan nvlink' and
    # 'rtx 3090 nvlink vulkan' (each alone worked; the first was unknown hardware 'rtx 3090 vulkan')
    text, interconnect = _split_link(text, spec)
    text, backend, driver = split_backend(text)  # 'arc b580 vulkan mesa': llama.cpp's Vulkan backend, Intel's ANV
    if not interconnect:
        text, interconnect = _split_link(text, spec)
    listed = _multi_gpu_name(text, spec)
    if listed is not None:  # 'g6e.xlarge', 'maxsun arc pro b60 dual': a count of one GPU kind (multi_names.py)
        n, gpu, link = listed
        if n > MAX_UNITS:
            raise UnknownHardwareError(f"hardware {clipped(spec)!r} has {n} GPUs, more than {MAX_UNITS}",
                                       "give fewer boards")
        profile = on_backend(get_profile(gpu), backend, driver, spec)
        return profile, n, interconnect or (link if n > 1 else "")
    count, text = _split_count(text)
    if count != 1 and _split_count(text)[0] != 1:  # '2x 2x rtx4090', 'dual 2x 3090': was 'unknown hardware 2x rtx4090'
        raise UnknownHardwareError(f"hardware {clipped(spec)!r} gives the count twice",
                                   "give it once, e.g. '2x rtx3090' or 'dual rtx3090'")
    if not 1 <= count <= MAX_UNITS:
        raise UnknownHardwareError(
            f"hardware {clipped(spec)!r} has {'more than ' + str(MAX_UNITS) if count > MAX_UNITS else count} units",
            f"give between 1 and {MAX_UNITS}, e.g. '2x rtx4090'"
        )
    try:
        profile = on_backend(_linked_profile(text, interconnect), backend, driver, spec)
    except UnknownHardwareError:
        _driver_without_vulkan(text, spec)
        raise
    if profile.kind in ("cpu", "host", "apple", "apu") and count > 1:
        raise UnknownHardwareError(f"hardware {spec!r}: only discrete GPUs can be multiplied", "drop the count")
    if interconnect == "nvlink" and profile.raw.get("nvlink") is False:
        # data/hardware.yaml says the card has no NVLink connector (the RTX 40 series dropped it): 'nvlink' would price
        # vLLM's tensor-parallel all-reduce at NVLink's rate for GPUs that talk over PCIe
        raise UnknownHardwareError(f"hardware {clipped(spec)!r}: the {profile.name} has no NVLink connector "
                                   "(data/hardware.yaml nvlink: false)", "drop 'nvlink': its GPUs are joined over PCIe")
    return profile, count, interconnect


def _multi_gpu_name(text: str, spec: str) -> tuple[int, str, str] | None:
    """(count, GPU name, link) where `text` is a dual-GPU board (or a count of them: '2x arc pro b60 dual' is 4 GPUs)
    or a cloud instance type of data/multi_gpu_names.yaml, else None; a count of instances ('2x p5.48xlarge': several
    hosts) or a size other than the GPUs' total is refused."""
    if find_profile(text) is not None:  # a curated name: fit's common path reads no more data
        return None
    from .multi_names import lookup

    found, boards = lookup(text), 1
    if found is None:
        prefixed = _COUNT_PREFIX.match(text) or _COUNT_WORD.match(text)
        found = lookup(prefixed.group(2)) if prefixed else None
        if found is None:
            return None
        if not found[4]:
            raise UnknownHardwareError(f"hardware {clipped(spec)!r} counts cloud instances", "name one: several "
                                       "instances are several hosts, which fit does not plan as one machine")
        boards = _units(prefixed.group(1)) if prefixed.group(1).isdigit() else _COUNT_WORDS[prefixed.group(1).lower()]
    n, gpu, link, stated, _ = found
    n *= boards
    if stated is not None:
        each = get_profile(gpu).memory_bytes / 2**30
        if abs(stated - n * each) > 0.08 * n * each:
            raise UnknownHardwareError(f"hardware {clipped(spec)!r}: it has {n} x {each:g} GiB = {n * each:g} GiB, "
                                       f"not {stated} GB", "drop the size")
    return n, gpu, link


def _linked_profile(text: str, interconnect: str) -> Profile:
    """The profile `text` names; where the link word parse_spec split off was 'pcie' and `text` alone names several
    cards, the one the name with 'pcie' names: 'h800 pcie' was refused as 'h800' (the PCIe card and the SXM5), since
    only a curated profile's name kept its 'pcie' (_split_link). The link stays stated."""
    from .hw_names import AmbiguousHardwareError

    try:
        return get_profile(text)
    except AmbiguousHardwareError:
        if interconnect != "pcie":
            raise
        return get_profile(f"{text} pcie")


def _split_link(text: str, spec: str) -> tuple[str, str]:
    """'2x rtx3090 nvlink' -> ('2x rtx3090', 'nvlink'); a name without a trailing link word -> (text, ''). "NVIDIA
    A100 40GB PCIe" is a profile name, not a link. Two link words ('rtx 3090 pcie nvlink') are refused naming both:
    the second silently won before."""
    def trailing(t: str) -> str:
        prefixed = _COUNT_PREFIX.match(t)
        named = prefixed.group(2) if prefixed else t
        return next((w for w in ("nvlink", "pcie") if t.lower().endswith(" " + w) and find_profile(named) is None), "")

    word = trailing(text)
    if not word:
        return text, ""
    rest = text[: -len(word) - 1]
    other = trailing(rest)
    if other:
        raise UnknownHardwareError(f"hardware {clipped(spec)!r} names two links, {other!r} and {word!r}",
                                   "keep the one the GPUs are joined by")
    return rest, word


def _driver_without_vulkan(text: str, spec: str) -> None:
    """'arc b580 mesa' said "unknown hardware; did you mean arc-b580": a driver word needs 'vulkan' before it."""
    from .backend_words import DRIVER_WORDS, SYCL_BUILD_WORDS

    words = text.split()
    if len(words) >= 2 and words[-1].lower() in SYCL_BUILD_WORDS:  # 'arc b580 fp32': the build word follows 'sycl'
        try:
            intel = get_profile(" ".join(words[:-1])).vendor == "intel"
        except UnknownHardwareError:
            intel = False
        if intel:
            typed = spec.split()
            raise UnknownHardwareError(f"hardware {clipped(spec)!r}: {words[-1]!r} names a llama.cpp SYCL build "
                                       "(GGML_SYCL_F16), which follows the word 'sycl'",
                                       f"e.g. --hardware '{clipped(' '.join(typed[:-1]), 40)} sycl {typed[-1].lower()}'")
    if len(words) < 2 or words[-1].lower() not in DRIVER_WORDS:
        return
    try:
        if get_profile(" ".join(words[:-1])).vendor != "intel":
            return
    except UnknownHardwareError:
        return
    typed = spec.split()
    raise UnknownHardwareError(f"hardware {clipped(spec)!r}: {words[-1]!r} names an Intel Vulkan driver, which follows "
                               "the word 'vulkan'", f"e.g. --hardware '{clipped(' '.join(typed[:-1]), 40)} vulkan "
                               f"{typed[-1].lower()}'")


def machine_from_profile(profile: Profile, count: int = 1, ram_bytes: int | None = None, interconnect: str = "") -> Machine:
    """A Machine of `count` identical devices; host RAM only when the caller knows it."""
    custom = profile.id == "custom"
    named_cpu = profile.kind == "cpu" and bool(profile.raw.get("named_cpu"))  # 'ryzen 9 7950x 64gb' (cpu_names.py)
    label = profile.name if custom or named_cpu else profile.id
    label = label if count == 1 else f"{count}x {label}"
    matched = None if custom else profile.id
    details = None
    if custom and profile.raw.get("cuda_cores") and profile.raw.get("boost_clock_mhz"):
        details = GpuDetails(gpu_cores=int(profile.raw["cuda_cores"]),
                             max_sm_clock_mhz=int(profile.raw["boost_clock_mhz"]))
    if interconnect:
        label += f" {interconnect}"
    if profile.kind == "cpu":
        if profile.raw.get("cpu_cores"):  # custom:cores=..., or a profile stating its cores: the clocked CPU path
            from .custom_cpu import cpu_machine, curated_cpu_fields

            return cpu_machine(profile if custom or named_cpu else curated_cpu_fields(profile), label, ram_bytes)
        return Machine(
            name=label, devices=(), ram_bytes=ram_bytes or profile.memory_bytes, cpu_name=profile.name,
            ram_bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, source="profile", cpu_flops=profile.fp16_flops,
        )
    if profile.unified:
        usable, basis = unified_usable(profile)
        device = Device(
            vendor=profile.vendor, name=profile.name, memory_bytes=profile.memory_bytes,
            bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, fp16_flops=profile.fp16_flops, unified=True,
            fp16_acc16_flops=profile.fp16_acc16_flops,
            usable_memory_bytes=usable, matched_profile=matched,
            backend=profile.backend, details=replace(details or GpuDetails(), usable_memory_source=basis),
            vulkan_driver=profile.raw.get("vulkan_driver", ""), backend_word=profile.raw.get("backend_word", ""),
            sycl_build=profile.raw.get("sycl_build", ""),
        )
        return Machine(
            name=label, devices=(device,), ram_bytes=profile.memory_bytes, cpu_name=profile.name,
            ram_bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, source="profile",
        )
    device = Device(
        vendor=profile.vendor, name=profile.name, memory_bytes=profile.memory_bytes,
        bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, fp16_flops=profile.fp16_flops,
        matched_profile=matched, backend=profile.backend, fp16_acc16_flops=profile.fp16_acc16_flops, details=details,
        vulkan_driver=profile.raw.get("vulkan_driver", ""), backend_word=profile.raw.get("backend_word", ""),
        sycl_build=profile.raw.get("sycl_build", ""),
    )
    return Machine(
        name=label, devices=(device,) * count, ram_bytes=ram_bytes or 0, source="profile",
        interconnect=interconnect or str(profile.raw.get("interconnect", "")),
    )


def generic_machine(vram_bytes: int | None, n_gpus: int, ram_bytes: int | None) -> Machine:
    """A machine described only by sizes (--vram 24GB --gpus 2 --ram 64GB)."""
    devices: tuple[Device, ...] = ()
    if vram_bytes:
        devices = (Device(vendor="generic", name=f"GPU with {vram_bytes / 1e9:.0f} GB", memory_bytes=vram_bytes),) * n_gpus
    label = (f"{n_gpus}x " if n_gpus > 1 else "") + (f"{vram_bytes / 1e9:.0f} GB VRAM" if vram_bytes else "no GPU")
    if ram_bytes:
        label += f" + {ram_bytes / 1e9:.0f} GB RAM"
    return Machine(name=label, devices=devices, ram_bytes=ram_bytes or 0, source="inline")
