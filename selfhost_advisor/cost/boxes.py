"""Turn hardware specs ("2x rtx4090", "a100-80gb") into priced Boxes: GPUs from data/hardware.yaml, host and rental
prices from data/cost.yaml."""
from __future__ import annotations

from ..catalog.hardware import Profile, get_profile, parse_spec
from ..errors import UnknownHardwareError
from .defaults import data
from .hosts import host_for
from .types import Box


def _host_kind(profile: Profile) -> str:
    """The data/cost.yaml host_systems entry a catalog GPU sits in: a data-centre profile's server slot, else one
    workstation (the price, the source line, the date and the GPUs per box all read this one choice)."""
    return "server" if profile.id in data()["datacenter_profiles"] else "workstation"


def _host(profile: Profile, count: int) -> tuple[float, float, float]:
    """(host price, active watts, idle watts) for `count` GPUs of `profile`."""
    return host_for(profile, count, datacenter=_host_kind(profile) == "server")


def _probe_spec(machine, path: str) -> str | None:
    """A saved probe (advisor probe --json, loaded from `path`) priced through its GPUs' matched catalog profile:
    '2x rtx-4090'; None where its GPUs are not one catalog profile (probe_profile reads them)."""
    matched = {d.matched_profile for d in machine.devices}
    if not machine.devices:  # a laptop's or CPU server's probe: it said "its GPUs are not one catalog profile"
        raise UnknownHardwareError(
            f"probe file {path} has no GPU: the cost model sizes GPU and unified-memory boxes",
            "save the probe on the GPU server ('advisor probe --json > box.json' there), or give a profile, "
            "e.g. --hardware '2x rtx4090'",
        )
    if None in matched or len(matched) != 1:
        return None
    return f"{len(machine.devices)}x {matched.pop()}"


def probe_profile(machine, path: str):
    """(Profile, count) of a saved probe (loaded from `path`) whose GPUs match no catalog profile (a card the catalog
    lacks): its identical GPUs as a spec sheet of the probe's own figures (memory, bandwidth, FP16 rate), priced by
    --gpu-price as any spec sheet (cost/custom_box.py); mixed GPUs, or a figure the probe did not read, are refused
    naming what is missing."""
    from ..catalog.profiles import Profile

    devices = machine.devices
    shapes = {(d.vendor, d.name, d.memory_bytes, d.bandwidth_bytes_per_s, d.fp16_flops, d.unified, d.backend)
              for d in devices}
    if len(shapes) != 1:
        raise UnknownHardwareError(
            f"probe file {path}: its GPUs are not one model, and the cost model prices identical GPUs",
            "give a catalog profile or a spec sheet per box, e.g. --hardware '2x rtx4090' or "
            "--hardware 'custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS' --gpu-price 2500",
        )
    d = devices[0]
    missing = [k for k, v in (("bandwidth", d.bandwidth_bytes_per_s), ("fp16", d.fp16_flops)) if not v]
    if missing:
        raise UnknownHardwareError(
            f"probe file {path}: its GPU {d.name!r} matches no catalog profile and the probe did not read its "
            f"{' and '.join(missing)}",
            "give it as a spec sheet with --gpu-price, e.g. --hardware 'custom:vram=24GB,bandwidth=1TB/s,"
            "fp16=80TFLOPS' --gpu-price 2500",
        )
    watts = d.details.power_limit_watts if d.details is not None else None
    kind = "apple" if d.backend == "metal" and d.unified else ("apu" if d.unified else "gpu")
    profile = Profile(id="custom", name=d.name, kind=kind, vendor=d.vendor, backend=d.backend,
                      memory_bytes=d.memory_bytes, bandwidth_bytes_per_s=int(d.bandwidth_bytes_per_s),
                      fp16_flops=d.fp16_flops, fp16_acc16_flops=d.fp16_acc16_flops,
                      tdp_watts=float(watts) if watts else None, price_usd=None, unified=d.unified,
                      raw={"id": "custom",
                           "sources": {"spec": f"saved probe: {path}", "tdp": "the probe's power limit"}})
    return profile, len(devices)


def rental_rate(profile_id: str) -> tuple[float, float, int, float] | None:
    """(median, lowest, number of quotes, highest) of the on-demand USD per GPU-hour quotes in data/cost.yaml, or None."""
    quotes = sorted(float(q["usd"]) for q in (data()["rental"]["quotes"].get(profile_id) or ()))
    if not quotes:
        return None
    n = len(quotes)
    median = quotes[n // 2] if n % 2 else (quotes[n // 2 - 1] + quotes[n // 2]) / 2.0
    return median, quotes[0], n, quotes[-1]


def oldest_rental_quote(profile_id: str) -> str:
    """The oldest `published` date of the rental quotes behind the median ('' without quotes): how stale the rate
    can be, which the text output states beside it."""
    dates = sorted(str(q.get("published") or "") for q in (data()["rental"]["quotes"].get(profile_id) or ()))
    return next((d for d in dates if d), "")


def consumer_gpu(profile: Profile) -> bool:
    """A GeForce or TITAN branded card: the hardware its GeForce driver licence covers (data/cost.yaml
    consumer_gpu_licence), read off the catalog name NVIDIA sells it under."""
    name = profile.name.lower()
    return profile.vendor == "nvidia" and ("geforce" in name or "titan" in name)


def unpriced_reason(box: Box) -> str:
    """Why a box has no purchase price. Only the curated profiles of data/hardware.yaml are priced (with their
    source); a GPU named from the spec table (data/gpu_specs.yaml) or an Apple / APU configuration (data/apple.yaml,
    data/apu.yaml) carries specs only, so one card and an N-card box of it are both unpriced, and --gpu-price prices
    either (the host is priced from data/cost.yaml host_systems as for any GPU)."""
    if box.spec:
        return "no --gpu-price given"
    from ..catalog.hardware import profile_by_id
    from ..catalog.profiles import find_profile

    profile = profile_by_id(box.profile_id)
    if profile is not None and profile.kind == "apple":
        from .apple_machine import config_id

        return (f"no price: Apple's list price of the {profile.name} ({config_id(profile) or profile.id}) was not read "
                "(data/apple.yaml prices lists the configurations read); give --gpu-price (the machine's price, USD)")
    if find_profile(box.profile_id) is not None:
        return "no price in data/hardware.yaml"
    sources = (profile.raw.get("sources") or {}) if profile is not None else {}
    where = ("the GPU spec table, data/gpu_specs.yaml" if "spec" in sources
             else str(sources.get("configuration") or "not a curated profile"))
    return (f"no price: {box.profile_id} comes from {where}, which lists specs, not prices (only data/hardware.yaml's "
            f"curated profiles are priced); give --gpu-price (USD a GPU)")


def no_power_reason(box: Box) -> str:
    """Why a priced box is still not priced to buy: no board power for its electricity. A curated profile's would be in
    data/hardware.yaml; a spec-table row, Apple or APU configuration (data/apple.yaml, data/apu.yaml) states none, and
    a spec sheet takes one (tdp=)."""
    from ..catalog.profiles import find_profile

    from ..catalog.hardware import profile_by_id
    from .apple_machine import no_power_reason as mac_reason

    profile = None if box.spec else profile_by_id(box.profile_id)
    mac = mac_reason(profile) if profile is not None else ""
    if mac:
        return (f"no TDP (a Mac: Apple's wall power): {mac}; a spec sheet with the machine's wall power takes it (--hardware "
                "'custom:...,unified=true,tdp=...W')")
    if not box.spec and find_profile(box.profile_id) is not None:
        return "no TDP in data/hardware.yaml"
    return (f"no TDP: {box.profile_id}'s data lists no board power to price its electricity (a spec sheet takes one: "
            "--hardware 'custom:...,tdp=120W')")


def licence_note(box: Box) -> str | None:
    """The GeForce licence flag for a bought consumer card (data/cost.yaml consumer_gpu_licence), or None."""
    if not box.consumer_gpu:
        return None
    return f"{box.label} uses GeForce cards: " + " ".join(str(data()["consumer_gpu_licence"]["text"]).split())


def box_from_spec(spec: str, *, gpu_price: float | None = None, host_price: float | None = None,
                  rent_price: float | None = None, gpu_memory: str | None = None) -> Box:
    """A Box for `spec`; --gpu-price (per GPU), --host-price (per box) and --rent-price (per GPU-hour) override data;
    --gpu-memory states a unified-memory part's usable GPU memory, as fit's does."""
    from ..catalog.spec_fields import refuse_misplaced_custom
    from .custom_box import custom_box, is_spec_sheet, sheet_profile

    refuse_misplaced_custom(spec)
    if is_spec_sheet(spec):  # custom:..., a spec-sheet file (priced by --gpu-price / price=), or a saved probe
        if gpu_memory is not None:
            from ..errors import BadOptionError

            raise BadOptionError(f"--gpu-memory {gpu_memory} goes with a named machine, not a spec sheet or probe file",
                                 "a spec sheet's vram= is the memory its GPU may use")
        sheet = sheet_profile(spec)
        if sheet is not None:
            return custom_box(spec, *sheet, gpu_price=gpu_price, host_price=host_price, rent_price=rent_price)
        from ..probe.files import load_probe_file

        machine = load_probe_file(spec)
        catalog = _probe_spec(machine, spec)
        if catalog is None:  # a GPU the catalog lacks: priced from --gpu-price as a spec sheet of the probe's figures
            return custom_box(spec, *probe_profile(machine, spec), gpu_price=gpu_price, host_price=host_price,
                              rent_price=rent_price)
        spec = catalog
    profile, count, _link = parse_spec(spec)
    words = _backend_words(spec)
    if profile.kind in ("host", "cpu"):
        raise UnknownHardwareError(f"{spec!r} is not a GPU or unified-memory machine",
                                   "the cost model sizes GPU and unified-memory boxes: give e.g. rtx4090, '2x rtx4090', a100-80gb")
    host_usd, host_active, host_idle = _host(profile, count)
    rate = rental_rate(profile.id)
    mac = _mac_facts(profile, gpu_price)
    label = (profile.id if count == 1 else f"{count}x {profile.id}") + (f" {words}" if words else "")
    box = Box(
        label=label, profile_id=profile.id, gpus=count,
        gpu_price_usd=float(gpu_price) if gpu_price is not None else (
            profile.price_usd if profile.price_usd is not None else mac.get("price")),
        host_price_usd=float(host_price) if host_price is not None else host_usd,
        gpu_tdp_watts=float(mac["max_watts"] if "max_watts" in mac else profile.tdp_watts or 0.0),
        host_active_watts=host_active, host_idle_watts=host_idle, idle_watts_measured=mac.get("idle_watts"),
        power_source=mac.get("power_source", ""),
        rental_usd_per_gpu_hour=float(rent_price) if rent_price is not None else (rate[0] if rate else None),
        rental_low_usd_per_gpu_hour=None if rent_price is not None or not rate else rate[1],
        price_kind="given" if gpu_price is not None else str(profile.raw.get("price_kind", "") or mac.get("kind", "")),
        rental_quotes=0 if rent_price is not None or not rate else rate[2],
        rental_high_usd_per_gpu_hour=None if rent_price is not None or not rate else rate[3],
        purchase_quotes=() if gpu_price is not None else tuple(
            sorted(float(q["usd"]) for q in (profile.raw.get("price_quotes") or ()))),
        rental_oldest_quote="" if rent_price is not None else oldest_rental_quote(profile.id),
        consumer_gpu=consumer_gpu(profile),
        **{**_price_provenance(profile, count, gpu_price, host_price), **mac.get("provenance", {})},
        backend_words=words, gpu_memory=gpu_memory,
    )
    if gpu_memory is not None:  # refused now, as fit refuses it (a discrete card, more than the machine's memory), by
        from .capacity import machine_for  # the one function that applies it to the box's machine

        machine_for(box)
    return box


def _mac_facts(profile: Profile, gpu_price: float | None) -> dict:
    """A Mac's Apple figures (cost/apple_machine.py, data/apple.yaml): its wall power at maximum and idle, which replace
    any catalog TDP (Apple measured the whole machine), and its list price where the catalog has none and none is given."""
    if profile.kind != "apple":
        return {}
    from .apple_machine import apple_power, apple_price

    out: dict = {}
    power = apple_power(profile)
    if power is not None:
        out.update(max_watts=power.max_watts, idle_watts=power.idle_watts, power_source=power.source)
    price = apple_price(profile) if gpu_price is None and profile.price_usd is None else None
    if price is not None:
        out.update(price=price.usd, kind="msrp",
                   provenance={"price_source": f"data/apple.yaml prices: {price.source}", "price_as_of": price.as_of})
    return out


def _price_provenance(profile: Profile, count: int, gpu_price: float | None,
                      host_price: float | None) -> dict:
    """Where a catalog box's GPU and host prices come from, for a reviewer who rebuilds the capex (session 32): the
    GPU's data/hardware.yaml sources.price and as_of (for a median of dated quotes, the oldest quote's `published`),
    the host's data/cost.yaml host_systems entry; a flag's value says so."""
    undated_quotes = 0
    if gpu_price is not None:
        src, as_of = "given with --gpu-price", ""
    elif profile.price_usd is None:
        src, as_of = "", ""
    else:
        src = str((profile.raw.get("sources") or {}).get("price") or "data/hardware.yaml")
        raw_quotes = profile.raw.get("price_quotes") or ()
        # a quote read off an undated page carries `undated: true` and the day it was read: it dates nothing, so the
        # figure's date is the oldest dated quote (session 33, price33: "median of 2 dated purchase quotes (oldest
        # 2026-12)" printed for the L40S, whose two quotes were both undated pages read that month)
        dated = sorted(str(q.get("published") or "") for q in raw_quotes if not q.get("undated"))
        read = sorted(str(q.get("published") or "") for q in raw_quotes if q.get("undated"))
        undated_quotes = len(read)
        # the date of the figure (session 32, price32: data/hardware.yaml price_as_of, a launch MSRP's launch month),
        # not the date the profile was compiled, which dated a 2022 launch price 2026-11-25
        as_of = (next((d for d in dated if d), "") or next((d for d in read if d), "")
                 or str(profile.raw.get("price_as_of") or profile.raw.get("as_of") or ""))
    host_as_of, host_undated = "", False
    if host_price is not None:
        host = "given with --host-price"
    elif profile.kind in ("apple", "apu"):
        host = "none: the price is the whole machine"
    else:
        from .hosts import host_price_date

        kind = _host_kind(profile)
        h = data()["host_systems"][kind]
        host = (f"data/cost.yaml host_systems.{kind}: ${float(h['usd_per_gpu']):,.0f} a GPU slot" if kind == "server"
                else f"data/cost.yaml host_systems.workstation: {h['usd_from_profile']} in data/hardware.yaml")
        host_as_of, host_undated = host_price_date(kind)
    quoted = bool(profile.raw.get("price_quotes"))
    undated = gpu_price is None and profile.price_usd is not None and (
        undated_quotes == len(profile.raw["price_quotes"]) if quoted else bool(profile.raw.get("price_undated")))
    return {"price_source": src, "price_as_of": as_of, "price_undated": undated, "host_source": host,
            "purchase_quotes_undated": undated_quotes, "host_price_as_of": host_as_of, "host_price_undated": host_undated}


def _backend_words(spec: str) -> str:
    """The backend words a catalog GPU was named with ('rx 7900 xtx vulkan radv' -> 'vulkan radv'), '' for none: the
    box is priced on that backend's speed (capacity.machine_for), as `serve` and `fit` size it, and labelled apart from
    the same GPU on its own backend."""
    from ..catalog.backend_words import split

    _, backend, driver = split(spec)
    return " ".join(w for w in (backend, driver) if w)


def default_specs() -> list[str]:
    return [str(s) for s in data()["default_hardware"]]


def max_gpus_per_box(profile_id: str) -> int:
    """GPUs one host holds (data/cost.yaml host_systems): a data-centre server 8, a workstation 4; an Apple or APU
    machine is one unit (1); a spec-sheet box is priced as given (1: its count= sets its GPUs)."""
    if profile_id == "custom":
        return 1
    profile = get_profile(profile_id)
    if profile.kind in ("apple", "apu"):
        return 1
    hosts = data()["host_systems"]
    kind = _host_kind(profile)
    return int(hosts[kind].get("max_gpus") or 1)
