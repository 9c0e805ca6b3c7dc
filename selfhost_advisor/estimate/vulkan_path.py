"""Prefill on Vulkan by the matmul path ggml-vulkan takes per GPU, GGML type and llama.cpp build (docs/methodology.md
5b-vulkan; data/speed.yaml `vulkan_prefill_path`).

Why: one efficiency over one FLOPS figure cannot follow which unit multiplies. For a 512-token micro-batch
ggml_vk_mul_mat_q_f16 (ggml/src/ggml-vulkan/ggml-vulkan.cpp) first quantizes the activations to Q8_1 and asks for the
integer-dot MMQ pipeline of the weight type (`pipeline_dequant_mul_mat_mat_q8_1`, created wherever the device has
accelerated 4x8-bit dot products, but only in the FP16 and FP32 branches of ggml_vk_load_shaders: never in the
NV_coopmat2 one, nor in the KHR-coopmat one); when that pipeline is empty it runs the dequantizing matmul: with
NV_coopmat2 the weights are decoded into the tensor-core loads, with KHR coopmat the vector lanes dequantize each weight
tile into shared memory (mul_mm.comp load_a_to_shmem) before coopMatMulAdd, without either the same shader multiplies on
the vector lanes. On AMD and NVIDIA the coopmat1 time is the matrix rate plus per-tile work that halves with the
tile's token width (`coopmat_split`, docs/methodology.md 5b-vkamd4).
Which pipelines exist changed with the build (MMQ for the legacy types since PR #12135, for K-quants since #16536),
so a measured row is predicted with the paths of its own build (`as_of_build`); a user's estimate takes today's.

Decode (matvec_excess, docs/methodology.md 5b-vkgcn): the mat-vec shaders spend a fixed number of vector lane-cycles
per weight; where memory is fast for the lanes x clock (GCN 5.1) that, not the memory stream, sets the time.
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import Device
from . import kernel_path, vulkan_intel
from .scoped import pushed

PATHS = ("coopmat2", "coopmat", "coopmat_dequant", "mmq", "shader")
_LANE_PATHS = ("mmq", "shader", "coopmat_dequant", "intel_bf16_lanes")  # path_seconds keys timed on the vector lanes
# profiles that are not rows of data/gpu_specs.yaml (APUs): their architecture by id prefix (data/apu.yaml)
# iGPU profiles the spec table has no row for; Lunar Lake's Arc 130V / 140V are Xe2 (SIMD16) to ggml-vulkan: INTEL_XE2
# (estimate/vulkan_intel.py)
# Meteor Lake (Xe-LPG) and Arrow Lake H (Arc 140T: Xe-LPG+, Xe-LPG with XMX) are SIMD8, so not INTEL_XE2 (IGCIT
# #1402: the 140T reports minSubgroupSize 8) but INTEL_XE1 (SIMD8 with accelerated 4x8-bit dot products); estimate/vulkan_intel.py layer_seconds gives them the pre-Xe2 time per dispatch. Panther Lake
# (Arc B390) is Xe3, SIMD16 like Xe2: ggml-vulkan's INTEL_XE2 class ("Only allowing Xe2/Xe3 GPU", its coopmat check;
# PR #27471 tunes "Intel coopmat1" on it; 5b-vkintel5)
# The Ryzen Z1 / Z1 Extreme (data/apu.yaml radeon-z1*) are Phoenix silicon, the 780M's die: RDNA 3.0; the Radeon 860M
# (Krackan Point) is RDNA 3.5 (computerbase.de, topcpu.net)
_ARCH_BY_PREFIX = {"radeon-780m": "RDNA 3.0", "radeon-z1": "RDNA 3.0", "radeon-880m": "RDNA 3.5", "radeon-890m": "RDNA 3.5",
                   "radeon-860m": "RDNA 3.5",
                   "arc-140v": "Xe2-LPG", "arc-130v": "Xe2-LPG", "arc-meteor-lake": "Xe-LPG", "arc-140t": "Xe-LPG+",
                   "arc-130t": "Xe-LPG+", "arc-b390": "Xe3-LPG", "arc-b370": "Xe3-LPG"}
_BUILD: list[tuple[str, str]] = []  # (build date, path override) of the row being predicted; empty: today's build
_OFF: list[bool] = []


def as_of_build(date: str, override: str = ""):
    """Within it, Vulkan paths are those of a build of `date` (YYYY-MM-DD; "" = today's), and `override` (a row's
    stated non-default configuration: "shader" = coopmat and int dot disabled, "int_dot" = coopmat disabled,
    "coopmat1" = NV_coopmat2 disabled, KHR coopmat kept: GGML_VK_DISABLE_COOPMAT2) holds."""
    return pushed(_BUILD, (date or "", override or ""))


def listed_peak_only():
    """Within it, Vulkan prefill is FLOPs over the listed peak with one efficiency, as before this model (the baseline
    benchmarks/vulkan_paths.py scores against)."""
    return pushed(_OFF)


def enabled() -> bool:
    return not _OFF


def build() -> tuple[str, str]:
    return _BUILD[-1] if _BUILD else ("", "")


def architecture(device: Device) -> str:
    """data/gpu_specs.yaml's architecture of the device ("RDNA 3.0", "Ampere", "Xe-HPG"), else by profile prefix."""
    arch = kernel_path.architecture(device)
    if arch:
        return arch
    pid = device.matched_profile or ""
    return next((a for p, a in _ARCH_BY_PREFIX.items() if pid.startswith(p)), "")


def _since(rules: dict, key: str, date: str) -> bool:
    """Whether a build of `date` has the feature that landed on rules[key] (no date: today's build has it)."""
    return not date or date >= str(rules[key])


def features(device: Device, rules: dict) -> tuple[str, bool]:
    """(matrix path, integer dot) of a device for the build in force: matrix path 'coopmat2' (NVIDIA Ampere and
    later: VK_NV_cooperative_matrix2), 'coopmat' (VK_KHR_cooperative_matrix where ggml-vulkan enables it: NVIDIA
    Turing, AMD RDNA 3+, Intel Xe2) or 'none'; integer dot: VK_KHR_shader_integer_dot_product with 4x8-bit packed dot products accelerated."""
    date, override = build()
    arch = architecture(device)
    vendor = device.vendor
    matrix = "none"
    if (vendor == "nvidia" and arch in rules["nvidia_tensor_architectures"] and _since(rules, "coopmat2_since", date)
            and arch not in (rules.get("nvidia_no_coopmat2_architectures") or ())):
        matrix = "coopmat2"
    elif vendor == "nvidia" and arch in rules["nvidia_tensor_architectures"] and _since(rules, "coopmat_since", date):
        matrix = "coopmat"
    elif vendor == "amd" and arch.startswith(tuple(rules["amd_coopmat_architectures"])) and _since(rules, "coopmat_since", date):
        matrix = "coopmat"
    elif vendor == "intel" and arch in rules["intel_coopmat_architectures"] and _since(rules, "intel_coopmat_since", date):
        matrix = "coopmat"
    elif vendor == "intel" and vulkan_intel.xe1_coopmat(device, arch, date):  # Arc 140T on Windows (PR #24404)
        matrix = "coopmat"
    int_dot = not any(arch.startswith(a) for a in rules["no_int_dot_architectures"])
    if override in ("shader", "int_dot"):
        matrix = "none"
    if override == "coopmat1" and matrix == "coopmat2":
        matrix = "coopmat"
    if override == "shader":
        int_dot = False
    return matrix, int_dot


def matmul_path(device: Device, ggml_type: str, rules: dict) -> str:
    """The path of one weight type on a device at a 512-token micro-batch: 'coopmat2', 'coopmat' (16-bit weights on
    KHR coopmat), 'coopmat_dequant' (quantized weights dequantized to shared memory, then KHR coopmat: every quantized
    type on a KHR coopmat device, which gets no MMQ pipeline; Intel Xe2 keeps session 15's labels, vulkan_intel),
    'mmq' (integer dot on the vector lanes) or 'shader' (the vector lanes in FP16)."""
    matrix, int_dot = features(device, rules)
    date, _ = build()
    if ggml_type == "BF16" and matrix == "coopmat" and _bf16_on_fp32_lanes(device):
        return "shader"  # no BF16 cooperative matrices: the FP32 scalar shader (amd_bf16_on_fp32_lanes)
    if ggml_type in kernel_path.FLOAT_TYPES:
        return matrix if matrix != "none" else "shader"
    if matrix == "coopmat2":  # the coopmat2 branch creates no MMQ pipelines
        return "coopmat2"
    if matrix == "coopmat" and coopmat_split(device, rules):  # nor does the KHR coopmat branch (Intel: its own basis)
        return "coopmat_dequant"
    mmq = ((ggml_type in rules["mmq_legacy_types"] and _since(rules, "mmq_legacy_since", date))
           or (ggml_type in rules["mmq_kquant_types"] and _since(rules, "mmq_kquant_since", date)))
    if int_dot and mmq:
        return "mmq"
    return "coopmat_dequant" if matrix == "coopmat" else "shader"


def intel_lanes_basis(device: Device, rules: dict) -> bool:
    """Whether a KHR-coopmat matmul of 16-bit weights (path 'coopmat') is priced on the vector lanes: on Intel, at
    every build. Session 17 put it on the lanes beside the quantized coopmat matmuls of the time (5b-vkintel5: it took
    the listed XMX rate at the family's efficiency, 0.39 of it, where Intel's BF16 coopmat rows reach 0.05-0.07); since
    the quantized ones of builds from PR #18178 take the matrix-rate split (coopmat_split, 5b-vkintel7), the 16-bit
    ones stay on the lanes (the Arc Pro B70's ANV BF16 pp512 0.9 FLOPs per lane-clock against its Q4_0 3.2). Since
    5b-vkintel8 BF16 itself takes the FP32 shader's measured rate (vulkan_intel.bf16_on_fp32_lanes), so this holds F16
    weights alone; no Intel F16 row exists."""
    return device.vendor == "intel"


def coopmat_split(device: Device, rules: dict) -> bool:
    """Whether a KHR-coopmat device's quantized matmuls are timed as coopMatMulAdd at the matrix rate plus per-tile
    work (data/speed.yaml vulkan_prefill_path.coopmat1_split_vendors: AMD, NVIDIA; Intel in builds from PR #18178,
    `intel_large_tile_since`). Why Intel by build: the KHR-coopmat branch of ggml_vk_load_shaders creates no q8_1 MMQ
    pipeline at any commit, so Intel's quantized prompt matmuls are mul_mm.comp's COOPMAT shader (load_a_to_shmem on
    the lanes, coopMatMulAdd on XMX) as AMD's are; from PR #18178 (ggml 5bd48115, 2026-01-07) they run Intel's own
    512-invocation warptile and the large tile, and the 2026 rows (Arc Pro B60 / B70, Arc 140T, Panther Lake) reach
    4.5 FLOPs per lane-clock on a Panther Lake, above the lanes' FP16 peak of 4: the matrix units multiply. Before it
    Intel ran the generic medium warptile (mul_mat_l false for every Intel device) and keeps session 15's lanes basis
    (estimate/vulkan_intel.py), on which PR #14001's measured rows rest (5b-vkintel7)."""
    if device.vendor in (rules.get("coopmat1_split_vendors") or ()):
        return True
    return device.vendor == "intel" and _since(rules, "intel_large_tile_since", build()[0])


def _superblock(ggml_type: str) -> bool:
    """Whether a quantized type's tile work is the super-block class: K-quants and i-quants (256-weight super-blocks
    whose load_a_to_shmem unpacks sub-block scales or grid indices per call) and the rest, against the legacy class of
    32-weight blocks with one scale: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, and MXFP4 / IQ4_NL (one E8M0 / F16 scale, 4 weights a
    call through a 16-entry table, mul_mm_funcs.glsl; docs/methodology.md 5c-s29v)."""
    return ggml_type not in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "MXFP4", "IQ4_NL")


def _lane_hz(device: Device) -> float | None:
    """Vector lanes x clock: the spec table's shaders (CUDA cores) x boost clock; an APU without a clock in its
    profile: its FP16 matrix rate over 8 FLOPs per lane per clock (RDNA 3 WMMA, data/apu.yaml's basis)."""
    lanes, hz = kernel_path.vector_lanes(device), kernel_path.gpu_clock_hz(device)
    if lanes and hz:
        return lanes * hz
    return device.fp16_flops / 8 if device.fp16_flops and device.vendor == "amd" else None


def peak(device: Device, path: str, rules: dict, matrix_flops: float | None) -> float | None:
    """Operations per second a path's multiply can issue: the listed FP16 matrix rate for coopmat2 / coopmat
    (`matrix_flops`, speed._device_flops: on GeForce the FP16-accumulate rate); vector lanes x clock x ops per lane per
    clock for the others (rules: packed FP16 FMA 4, on NVIDIA 2; 4x8-bit dot 8, on NVIDIA per the INT32 lanes of its
    architecture)."""
    if path == "coopmat2" or (path == "coopmat" and not intel_lanes_basis(device, rules)):
        return matrix_flops
    if path == "coopmat_dequant" and coopmat_split(device, rules):  # coopMatMulAdd's rate (path_seconds adds the tiles)
        # on Intel before the 2026 ANV fixes, ANV's measured coopmat share (1 elsewhere)
        return matrix_flops * vulkan_intel.anv_matrix_share(device, path, build()[0]) if matrix_flops else matrix_flops
    lane_hz = _lane_hz(device)
    if not lane_hz:
        return None
    nvidia = device.vendor == "nvidia"
    if path == "mmq":
        per = rules["nvidia_dot4_ops_per_lane"].get(architecture(device), rules["nvidia_dot4_ops_per_lane"]["default"]) \
            if nvidia else rules["dot4_ops_per_lane"] * mmq_issue_share(device, rules)
    else:
        per = rules["nvidia_fp16_ops_per_lane"] if nvidia else (amd_shader_ops_per_lane(device) or rules["fp16_ops_per_lane"])
    # Intel without a cooperative matrix: the generic medium tile's share; on a pre-2026 ANV, its coopmat share
    # (estimate/vulkan_intel.py)
    return (lane_hz * float(per) * vulkan_intel.vector_path_share(device, features(device, rules)[0], path)
            * vulkan_intel.anv_matrix_share(device, path, build()[0]))


def mmq_register_tile(device: Device, rules: dict) -> tuple[int, int]:
    """(weight-row blocks, token-column blocks) one thread of mul_mmq.comp holds per 32-deep K step on an AMD GPU:
    WMITER x TM and WNITER x TN of the medium integer-dot warptile ggml_vk_load_shaders gives it (a 512-token batch
    takes the medium tile: AMD's large tile needs coopmat, vulkan_path.tile). Since PR #13016 (`gcn_tile_since`) GCN
    on any driver but AMD's proprietary one runs {256, 64, 64, 32, 16, 16, 2, 2, 2, 1, 16}: 4 x 4; the rest
    {128, 64, 64, 32, sg, 32, 2, 2, 2, 1, sg}: WNITER = WM x WN / (sg x TM x TN x WMITER) = 4 at sg 32 (RDNA) or
    64 with WM 64 (GCN elsewhere): 4 x 8 (data/speed.yaml vulkan_prefill_path.mmq_issue)."""
    cfg = rules["mmq_issue"]
    from .vulkan_amd import driver

    if (architecture(device).startswith("GCN") and driver(device) != "windows"
            and _since(cfg, "gcn_tile_since", build()[0])):
        return tuple(cfg["gcn_register_tile"])
    return tuple(cfg["register_tile"])


def mmq_issue_share(device: Device, rules: dict) -> float:
    """Share of the vector lanes' issue slots mul_mmq.comp spends on v_dot4_i32_i8 on an AMD GPU (`mmq_issue.vendors`);
    1 elsewhere. Why: on GCN and RDNA the dot4 is one more VALU instruction, so the nibble unpack, the scale epilogue
    and the conversions take the slots the dot4s would use; per output and 32-deep block of Q4_0 (mul_mmq_funcs.glsl
    mmq_dot_product): 8 dot4s plus `other_per_output`, plus `per_row_block` per weight block (unpack, scale) shared by
    the thread's token columns and `per_column_block` per activation block shared by its weight rows, over
    mmq_register_tile. On NVIDIA Ampere and later the dp4a runs on the INT32 half of the lanes (the peak's 4 ops per
    lane) while the dispatcher issues one instruction a clock, so the other ~4.2 instructions a 128-output thread
    spends per output fit beside the 8 dp4as' 16 pipe cycles: share 1, the basis the family's `mmq` efficiency is
    fitted on (an RTX 3090). Intel keeps its measured vector_path_share. Q4_0's count stands for every type (Q8_0's
    would be higher, but the RTX 3090 reads Q8_0 = Q4_0 in PRs #12135 and #12767: docs/methodology.md 5b-vkamd10)."""
    cfg = rules.get("mmq_issue")
    if not cfg or device.vendor not in (cfg.get("vendors") or ()):
        return 1.0
    rows, cols = mmq_register_tile(device, rules)
    dot = float(cfg["dot4_per_output"])
    other = float(cfg["other_per_output"]) + float(cfg["per_row_block"]) / cols + float(cfg["per_column_block"]) / rows
    return dot / (dot + other)


@lru_cache(maxsize=1)
def _rules_data() -> dict:
    from ..catalog.data import load

    return load("speed").get("vulkan_prefill_path") or {}


def path_rules() -> dict | None:
    """data/speed.yaml vulkan_prefill_path, or None when switched off (listed_peak_only) or absent."""
    return (_rules_data() or None) if enabled() else None


def fixed_efficiency(path: str) -> float | None:
    """A path's efficiency that is not fitted (vulkan_prefill_path.fixed_path_efficiency: coopMatMulAdd at the listed
    matrix rate, coopmat_mma 1.0), else None (the family's fitted one)."""
    fixed = (path_rules() or {}).get("fixed_path_efficiency") or {}
    return float(fixed[path]) if path in fixed else None


def path_seconds(device: Device, layers: tuple, matrix_flops: float | None,
                 expert_layers: tuple = ()) -> dict[str, float] | None:
    """Per path, the matmuls' prefill seconds per token at unit efficiency: 2 FLOPs per weight of each type over its
    path's peak; None when a peak is unknown or the model is off. `expert_layers`: the routed experts' part of `layers`
    (MUL_MAT_ID, whose tile follows mul_mat_id_l: tile(expert=True)). (Attention stays on the family's efficiency over
    the listed FLOPS, as before: flash attention has its own kernels.)"""
    if path_rules() is None:
        return None
    out = _path_seconds(device, layers, matrix_flops, build(), vulkan_intel.driver(device), expert_layers)
    if out and device.vendor == "amd":  # AMDVLK with the large AMD tiles (estimate/vulkan_amd.py, 5b-vkamd3)
        from .vulkan_amd import amdvlk_prefill_share, sustained_clock_share

        rules = path_rules()
        matrix = features(device, rules)[0]
        large = tile(device, "coopmat", rules) == tuple(rules["tile_large"])
        # and, on the matrix units, the clock they sustain where it is measured below boost (5b-vkamd9)
        clock = sustained_clock_share(device)
        # the routed experts' MUL_MAT_ID never takes the large tile on AMD (mul_mat_id_l false: tile(expert=True)),
        # so AMDVLK's large-tile share leaves their part of each path's seconds alone (5f-halo4)
        routed = (_path_seconds(device, expert_layers, matrix_flops, build(), vulkan_intel.driver(device),
                                expert_layers) or {}) if expert_layers else {}
        out = {p: ((s - routed.get(p, 0.0)) / amdvlk_prefill_share(device, p, matrix, large) + routed.get(p, 0.0))
               / (1.0 if p in _LANE_PATHS else clock) for p, s in out.items()}
    return out


@lru_cache(maxsize=4096)
def _path_seconds(device: Device, layers: tuple, matrix_flops: float | None, _build: tuple, _driver: str = "",
                  expert_layers: tuple = ()):
    rules = path_rules()
    totals: dict[tuple[str, bool], float] = {}
    for mats in layers:
        for ty, n, _ in mats:
            totals[(ty, False)] = totals.get((ty, False), 0.0) + n
    for mats in expert_layers:  # the experts' share of `layers`: moved to their own tile
        for ty, n, _ in mats:
            totals[(ty, False)] = totals.get((ty, False), 0.0) - n
            totals[(ty, True)] = totals.get((ty, True), 0.0) + n
    out: dict[str, float] = {}
    for (ty, expert), n in totals.items():
        if n <= 0:
            continue
        p = matmul_path(device, ty, rules)
        pk = peak(device, p, rules, matrix_flops)
        if p == "shader" and ty == "BF16" and _bf16_on_fp32_lanes(device):
            if device.vendor == "intel" and vulkan_intel.bf16_flops_per_lane_cycle():
                # Intel: the FP32 scalar shader's measured rate per lane-clock, 128 lanes per Xe core (8 XVEs x
                # SIMD16 on Xe2), at its own fixed efficiency (intel_bf16_lanes, 1.0: 5b-vkintel8)
                lane_hz = intel_lane_hz(device)
                if not lane_hz:
                    return None
                out["intel_bf16_lanes"] = (out.get("intel_bf16_lanes", 0.0)
                                           + 2 * n / (lane_hz * vulkan_intel.bf16_flops_per_lane_cycle()))
                continue
            pk = _lane_hz(device)
            pk = pk * float(_amd_rules()["fp32_ops_per_lane"]) if pk else None
        if not pk:
            return None
        if p == "coopmat_dequant" and coopmat_split(device, rules):
            # on AMD a legacy type's kernel at its measured time over Q4_0's (vulkan_amd.coopmat_type_time, 5b-vkamd13)
            n *= _amd_coopmat_type_time(device, ty)
            # coopMatMulAdd at the matrix rate, then the per-tile work in matrix-rate units: (64 / BN) per weight
            out["coopmat_mma"] = out.get("coopmat_mma", 0.0) + 2 * n / pk
            key = "tile_superblock" if _superblock(ty) else "tile_legacy"
            out[key] = out.get(key, 0.0) + n * 64.0 / tile(device, p, rules, expert)[1] / pk
            continue
        out[p] = out.get(p, 0.0) + 2 * n / pk
    return out


def _amd_coopmat_type_time(device: Device, ggml_type: str) -> float:
    """vulkan_amd.coopmat_type_time at the build in force (1 off AMD)."""
    from .vulkan_amd import coopmat_type_time

    return coopmat_type_time(device, ggml_type, build()[0])


def tile(device: Device, path: str, rules: dict, expert: bool = False) -> tuple[int, int]:
    """(weight rows, tokens) of the output tile a 512-token matmul runs in (ggml_vk_guess_matmul_pipeline with m =
    thousands of rows, n = 512): coopmat2 the large tile (wg_denoms 128 x 256: the medium tiles overfill the GPU); else
    the large 128 x 128 tile where device->mul_mat_l is set (AMD: with coopmat since PR #18749, Intel: Xe2 with coopmat
    since PR #18178; NVIDIA and others: always), else the medium 64 x 64. AMD's proprietary driver never gets the large
    tile (PR #18763; estimate/vulkan_amd.py). `expert`: a MUL_MAT_ID matmul (routed experts), whose large tile is
    mul_mat_id_l: never on AMD (ggml_vk_get_device sets `device->mul_mat_id_l[i] = false` for AMD), as the dense
    rule elsewhere."""
    if path == "coopmat2":
        return tuple(rules["tile_coopmat2"])
    date, _ = build()
    matrix, _ = features(device, rules)
    large = True
    if device.vendor == "amd" and expert:
        large = False
    elif device.vendor == "amd":
        from .vulkan_amd import large_tiles_allowed

        large = matrix == "coopmat" and _since(rules, "amd_large_tile_since", date) and large_tiles_allowed(device)
    elif device.vendor == "intel":
        large = matrix == "coopmat" and _since(rules, "intel_large_tile_since", date)
    return tuple(rules["tile_large"]) if large else tuple(rules["tile_medium"])


def traffic_seconds(device: Device, layers: tuple) -> float:
    """Per prompt token, the bytes the tiled matmuls move through memory over spec bandwidth: each weight tile is read
    once per tile of tokens, each token's activations once per tile of weight rows (Q8_1 for MMQ, FP16 for coopmat2,
    FP32 for the others: rules activation_bytes), no cache credit (coefficient 1, as data/speed.yaml
    rocm_prefill_path); on AMD the activations come from the L2 (rules activation_from_l2_vendors: the shaders number
    their workgroups weight-row tile fastest) and only the weights count."""
    rules = path_rules()
    if rules is None or not rules.get("tile_large") or not device.bandwidth_bytes_per_s:
        return 0.0
    return _traffic(device, layers, build()) / float(device.bandwidth_bytes_per_s)


@lru_cache(maxsize=4096)
def _traffic(device: Device, layers: tuple, _build: tuple) -> float:
    rules = path_rules()
    total = 0.0
    l2 = device.vendor in (rules.get("activation_from_l2_vendors") or ())  # activation tiles from the L2 (5b-vkamd4)
    for mats in layers:
        for ty, n, nbytes in mats:
            p = matmul_path(device, ty, rules)
            act = rules["activation_bytes"].get(p)
            if act is None:  # a path whose activation format is not listed: no floor
                continue
            rows, tokens = tile(device, p, rules)
            total += nbytes / tokens + (0.0 if l2 else n * float(act) / rows)
    return total


def expert_bias_seconds(expert_layers: tuple, n_ubatch: int, bandwidth: float | None, min_tokens: int = 9) -> float:
    """Per prompt token, the routed experts' bias adds (gpt-oss: ggml_add_id after each MUL_MAT_ID) on Vulkan: from
    `min_tokens` tokens (ggml_vk_use_mul_mat_vec_id: the mat-vec shader, which fuses the bias, runs up to 8) each ADD_ID
    is a dispatch of its own (ggml_vk_can_fuse fuses MUL_MAT_ID + ADD_ID "mat-vec only"; ggml-org/ggml d99724f) that
    reads and writes the routed rows in F32: 2 x the bias operand's active bytes a token (the F32 entries of
    work.layer_expert_matrices hold n_used x rows elements per bias) over `bandwidth`. Why: the family's efficiency was
    fitted on models with no such pass (docs/methodology.md 5c-s22v)."""
    if not bandwidth or n_ubatch < min_tokens:
        return 0.0
    return sum(2.0 * nbytes for mats in expert_layers for ty, _, nbytes in mats if ty == "F32") / bandwidth


def expert_path_seconds(device: Device, expert_layers: tuple, matrix_flops: float | None, eff,
                        fallback: float) -> float | None:
    """Per prompt token, what the Vulkan prompt terms charge the routed experts' matmuls (MUL_MAT_ID) at their dense
    share: path_seconds of the expert matrices alone (at their own tile, tile(expert=True); on AMD at the sustained
    clock, and without AMDVLK's large-tile share, which the medium expert tile never takes) over each path's
    efficiency, as speed_prefill sums a layer's paths (`fallback`: the family's efficiency for a path with none). The
    unit the MoE tile padding multiplies (speed_terms._expert_tile_seconds): mul_mm.comp / mul_mmq.comp run an
    expert's partial tile whole, so its weight-tile dequantization into shared memory and its coopMatMulAdd (or dot
    products) cost per tile, not per routed token (docs/methodology.md 5c-s29v). None without expert layers, where a
    peak is unknown, and on NV_coopmat2, whose padding (moe_tiles.coopmat2_padding) is in units of the family's rate."""
    rules = path_rules()
    if rules is None or not expert_layers or features(device, rules)[0] == "coopmat2":
        return None
    out = path_seconds(device, expert_layers, matrix_flops, expert_layers)
    if not out:
        return None
    paths = dict(eff.vulkan_paths)
    return sum(s / (fixed_efficiency(p) or paths.get(p) or fallback) for p, s in out.items())


# --- decode: the mat-vec shaders' issue rate (docs/methodology.md 5b-vkgcn) ---

def matvec_lane_hz(device: Device) -> float | None:
    """Vector lanes x boost clock a Vulkan mat-vec can issue on: the spec table's shaders (CUDA cores, stream
    processors, Xe vector lanes), else the profile's cores at 64 lanes (AMD CU: 4 SIMD16 or 2 SIMD32) or 128 (Intel Xe
    core: 8 XVEs x SIMD16), times the boost clock; None without either."""
    lanes = kernel_path.vector_lanes(device, 128 if device.vendor == "intel" else 64)
    hz = kernel_path.gpu_clock_hz(device)
    return lanes * hz * amd_matvec_clock_share(device) if lanes and hz else None


def matvec_excess(matrices: tuple, device: Device, bandwidth: float, lane_cycles: float) -> float:
    """Seconds one layer's mat-vecs take beyond streaming their weights: per GGML type, max(0, weights x
    `lane_cycles` / (lanes x clock) - bytes / bandwidth). ggml-vulkan's mat-vec shaders (mul_mat_vec*.comp, and since
    PRs #14903 / #16900 the integer-dot mul_mat_vecq.comp) run one multiply-accumulate per weight per lane after
    dequantizing it in registers; where a GPU's bandwidth is high for its lanes x clock (GCN 5.1: 0.16 bytes per
    lane-cycle, against 0.03-0.06 on RDNA 3/4 and Ampere) the lanes, not memory, set the time. `lane_cycles` (the
    fitted lane-cycles one weight costs, the same for every block-quantized type; float types keep the bandwidth law)
    is data/speed.yaml families.vulkan.matvec_lane_factor; on AMD the integer-dot mat-vec's VALU saving comes off it
    (vulkan_amd.mmvq_lane_saving, docs/methodology.md 5b-vkamd11)."""
    lane_hz = matvec_lane_hz(device) if lane_cycles else None
    if not lane_hz:
        return 0.0
    totals: dict[str, list[float]] = {}
    for ty, n, nbytes in matrices:
        if ty in kernel_path.FLOAT_TYPES:
            continue
        acc = totals.setdefault(ty, [0.0, 0.0])
        acc[0] += n
        acc[1] += nbytes
    # on AMD the integer-dot mat-vec of a type and build that take it spends fewer lane-cycles (vulkan_amd.mmvq_lane_saving)
    return sum(max(0.0, n * (lane_cycles - mmvq_lane_saving(device, ty)) / lane_hz - nbytes / bandwidth)
               for ty, (n, nbytes) in totals.items())


def mmvq_lane_saving(device: Device, ggml_type: str) -> float:
    """Lane-cycles per weight the integer-dot mat-vec saves on this device, type and build in force
    (vulkan_amd.mmvq_lane_saving: AMD only; docs/methodology.md 5b-vkamd11)."""
    from .vulkan_amd import mmvq_lane_saving as saving

    rules = path_rules()
    int_dot = bool(rules is not None and features(device, rules)[1])
    return saving(device, ggml_type, architecture(device), int_dot, build()[0])


# --- AMD: one rule per architecture (docs/methodology.md 5b-vkamd; data/speed.yaml vulkan_amd) ---

@lru_cache(maxsize=1)
def _amd_rules() -> dict:
    from ..catalog.data import load

    return load("speed").get("vulkan_amd") or {}


def amd_shader_ops_per_lane(device: Device) -> float | None:
    """Operations per lane per clock of the scalar and dequantizing matmuls on an AMD GPU without packed FP16 math
    (GCN before 5: ggml-vulkan sets device->fp16 false and builds the FP32 shaders, an FMA = 2; GCN 5 / Vega: the FP16
    shaders' scalar FMA chains run unpaired, no faster than FP32, data/speed.yaml vulkan_amd.unpacked_fp16_architectures,
    in builds before vulkan_amd.fp16_dot2_since, from which they call v_dot2_f32_f16: the packed rate; any AMD GPU under
    a driver of vulkan_amd.unpacked_fp16_drivers, AMDVLK, whose compiler emits no packed 16-bit math); None elsewhere
    (the family's packed-FP16 rate). Why: RADV's Polaris device line reads "fp16: 0"; on Vega 20 ("fp16:
    1") PR #12015's kernel timings read f16 4.21 < f32 4.96 TFLOPS; AMDVLK: vkpeak fp16-vec4 = fp32 on RDNA 2
    (GPUOpen-Drivers/AMDVLK#279)."""
    rules = _amd_rules()
    if device.vendor != "amd":
        return None
    fp32_lanes = tuple(rules.get("no_packed_fp16_architectures") or ())
    date = build()[0]
    if date and date < str(rules.get("fp16_dot2_since") or "9999"):  # before llama/24123's v_dot2_f32_f16 variants
        fp32_lanes += tuple(rules.get("unpacked_fp16_architectures") or ())
    from .vulkan_amd import driver

    if architecture(device) not in fp32_lanes and driver(device) not in (rules.get("unpacked_fp16_drivers") or ()):
        return None
    return float(rules["fp32_ops_per_lane"])


def _bf16_on_fp32_lanes(device: Device) -> bool:
    """AMD by architecture (amd_bf16_on_fp32_lanes); Intel wherever it has a cooperative matrix, on every driver and
    build (vulkan_intel.bf16_on_fp32_lanes: the FP32 shader's measured rate, 5b-vkintel8; Xe2: BF16 would otherwise
    take the coopmat path; without one, BF16 keeps the vector-lane path the other 16-bit types take at
    vector_path_share, as before)."""
    if amd_bf16_on_fp32_lanes(device):
        return True
    return (vulkan_intel.bf16_on_fp32_lanes(device, build()[0])
            and features(device, path_rules() or _rules_data())[0] == "coopmat")


def amd_bf16_on_fp32_lanes(device: Device) -> bool:
    """Whether ggml-vulkan multiplies BF16 weights on this AMD GPU's vector lanes at the FP32 rate: every AMD
    architecture whose drivers expose no BF16 cooperative matrices (all but vulkan_amd.bf16_coopmat_architectures;
    RDNA 3 / 3.5 read "bf16: 0"). With KHR coopmat pipeline_matmul_bf16 is built from the FP32 shader ("reusing
    CREATE_MM from the fp32 path"); without, "bf16 scalar path promotes to f32" (ggml_vk_load_shaders). Why: the matrix
    rate, or the packed-FP16 rate, the other 16-bit weights get is not BF16's there."""
    rules = _amd_rules()
    arch = architecture(device)
    if device.vendor != "amd" or "bf16_coopmat_architectures" not in rules:
        return False
    if not arch.startswith(tuple(rules["bf16_coopmat_architectures"])):
        return True
    from .vulkan_amd import driver  # an architecture with BF16 coopmats on a driver that exposes none (AMDVLK)

    return driver(device) in (rules.get("bf16_coopmat_missing_drivers") or ())


def _bf16_expert_rule() -> dict:
    from ..catalog.data import load

    return load("speed").get("vulkan_bf16_expert_decode") or {}


def bf16_expert_call_seconds(device: Device) -> float | None:
    """Seconds one BF16 MUL_MAT_ID takes at one token under Vulkan on `device`, where data/speed.yaml
    vulkan_bf16_expert_decode measured it: ggml_vk_use_mul_mat_vec_id refuses BF16 (F32, F16 and quantized experts
    only), so each MUL_MAT_ID runs mul_mm.comp's 32 x 32 FP32-shader tile, one workgroup walking K a 16-deep step at a
    time, whatever its size (docs/methodology.md 5f-halo5); per driver (RADV where unknown), on the architectures listed
    and on GPUs that multiply BF16 on their FP32 lanes; None elsewhere (the caveat of moe_caveats stays there)."""
    rule = _bf16_expert_rule()
    if not rule or device.backend != "vulkan" or not amd_bf16_on_fp32_lanes(device):
        return None
    if architecture(device) not in (rule.get("architectures") or ()):
        return None
    from .vulkan_amd import driver

    per_driver = rule.get("call_s") or {}
    value = per_driver.get(driver(device) or "radv")
    return float(value) if value is not None else None


def bf16_expert_decode_seconds(model, work, device: Device, bandwidth: float, layers: range) -> float:
    """Seconds a decoded token's BF16 routed experts in `layers` add under Vulkan beyond streaming them: per MoE layer
    its MUL_MAT_IDs (gate and up, or one fused gate_up, and down: tensors.fused_gate_up_experts) at
    bf16_expert_call_seconds each, less the routed BF16 bytes over `bandwidth` that the decode time already charges;
    never below 0, and 0 off that path."""
    call = bf16_expert_call_seconds(device)
    if not call or model.moe is None or not work.layer_expert_matrices or not bandwidth:
        return 0.0
    from .tensors import fused_gate_up_experts

    calls = 2 if fused_gate_up_experts(model) else 3
    extra = 0.0
    for i in layers:
        if i >= len(work.layer_expert_matrices):
            break
        routed = sum(b for ty, _, b in work.layer_expert_matrices[i] if ty == "BF16")
        if routed:
            extra += max(0.0, calls * call - routed / bandwidth)
    return extra


def amd_matvec_clock_share(device: Device) -> float:
    """Share of the boost clock the Vulkan mat-vec shaders run at: below 1 on AMD generations whose boards reach their
    power limit in mul_mat_vec (GCN before 5: 750 of 1200 MHz on an RX 470 and a FirePro W8100, llama.cpp PR #10665),
    else 1."""
    rules = _amd_rules()
    if device.vendor != "amd" or architecture(device) not in (rules.get("power_limited_matvec_architectures") or ()):
        return 1.0
    return float(rules["power_limited_matvec_clock_share"])


def amd_layer_clock_excess(device: Device, layer_cycles: float) -> float:
    """Seconds one decoded layer's fixed kernel chain (the family's per-layer cycles) takes beyond its time at the boost
    clock on a GPU that decodes at its power-limited clock (amd_matvec_clock_share): the whole GPU runs at that clock
    during inference (PR #10665), not only the mat-vecs; 0 elsewhere."""
    share = amd_matvec_clock_share(device)
    hz = kernel_path.gpu_clock_hz(device)
    if share >= 1.0 or not hz or not layer_cycles:
        return 0.0
    return layer_cycles / hz * (1.0 / share - 1.0)


def amd_fa_prefill_rate(device: Device) -> float | None:
    """FLOPs per second of ggml-vulkan's flash attention in prompt processing on an AMD GPU: vector lanes x boost clock
    x data/speed.yaml vulkan_amd.fa_prefill_flops_per_lane_cycle, for a build with llama-bench's FA-auto default
    (vulkan_intel.igpu_dispatch.flash_attn_since), on the scalar path (no KHR coopmat: GCN, RDNA 1 / 2, builds
    without coopmat) and on RDNA 3+'s coopmat1 path before its refactor (vulkan_amd.fa_coopmat1_refactor_since,
    llama/19075); None elsewhere (the family's efficiency over the matrix rate, as before). Why: AMD has no coopmat2 FA;
    the scalar path runs both products in FP32 and the softmax on the vector lanes, 4-16 query rows a workgroup, and the
    coopmat1 shader before llama/19075 multiplied only Q x K^T with coopmats: at depth 8192 the Strix Halo (coopmat1,
    January 2026) and Radeon Pro VII (scalar) rows take 5.7x the attention time the matrix-rate efficiency gave
    (docs/methodology.md 5b-vkamd5)."""
    if device.vendor != "amd":
        return None
    rules = _amd_rules()
    per = rules.get("fa_prefill_flops_per_lane_cycle")
    if not per or not _fa_on_by_default():
        return None
    date = build()[0]
    # the coopmat1 shader since llama/19075 multiplies both products with coopmats: the family's matrix-rate efficiency
    # (RX 9070 XT, 2026-06: pp2048 against pp512 reads ~27% of the matrix rate), not the lanes
    if (features(device, path_rules() or _rules_data())[0] == "coopmat"
            and not (date and date < str(rules.get("fa_coopmat1_refactor_since") or ""))):
        return None
    lane_hz = _lane_hz(device)
    return lane_hz * float(per) if lane_hz else None


def intel_fa_prefill_rate(device: Device) -> float | None:
    """FLOPs per second of ggml-vulkan's flash attention in prompt processing on an Intel GPU: vector lanes (128 per Xe
    core: 8 XVEs x SIMD16 on Xe2 / Xe3, 16 x SIMD8 on Xe-HPG / Xe-LPG; the spec table's shaders where it has them) x
    boost clock x data/speed.yaml vulkan_intel.fa_prefill_flops_per_lane_cycle, for a build with llama-bench's FA-auto
    default (vulkan_intel.igpu_dispatch.flash_attn_since); None elsewhere. Why the lanes and not XMX: get_fa_tuning_params
    (ggml-org/ggml d99724f) takes the coopmat1 FA shader only where the driver lists a 16x16x16 FP16 cooperative-matrix
    shape (coopmat_support_16x16x16_f16acc / _f32acc) and Intel's XMX shapes have 8 rows (ggml's own coopmat on an
    Arc Pro B70 is "rows: 8, cols: 16", llama.cpp issue #28590), so every Intel GPU runs the scalar FA shader, with
    Intel's own tuning there: subgroups disabled, 32 invocations, fewer rows per workgroup (get_fa_tuning_params_scalar).
    The rate per lane-clock is MEASURED (docs/methodology.md 5b-vkintel6)."""
    if device.vendor != "intel":
        return None
    per = vulkan_intel.fa_prefill_flops_per_lane_cycle()
    if not per or not _fa_on_by_default():
        return None
    lane_hz = intel_lane_hz(device)
    return lane_hz * per if lane_hz else None


def intel_fa_decode_excess(device: Device, attention_flops: float, kv_seconds: float) -> float:
    """Seconds a decoded token's flash attention adds on an Intel GPU under Vulkan beyond reading its KV cache
    (`kv_seconds`, already in the streaming law): ggml-vulkan's scalar FA shader at one query row (get_fa_tuning_params:
    n_rows 1 always takes the scalar path; block_rows 1, Intel's subgroups disabled) computes at 128 lanes per Xe core x
    boost clock x data/speed.yaml vulkan_intel.fa_decode_flops_per_lane_cycle, MEASURED (docs/methodology.md
    5b-vkintel6); the slower of reading and computing binds (max). From llama-bench's FA-auto default; 0 before it, off
    Intel and where the rate is unknown."""
    if device.vendor != "intel" or not attention_flops:
        return 0.0
    per = vulkan_intel.fa_decode_flops_per_lane_cycle()
    lane_hz = intel_lane_hz(device)
    if not per or not lane_hz or not _fa_on_by_default():
        return 0.0
    return max(0.0, attention_flops / (lane_hz * per) - kv_seconds)


def fa_prefill_rate(device: Device) -> float | None:
    """Flash attention's prompt rate where ggml-vulkan runs it on the vector lanes (amd_fa_prefill_rate,
    intel_fa_prefill_rate); None elsewhere (the family's efficiency over the matrix rate)."""
    return amd_fa_prefill_rate(device) or intel_fa_prefill_rate(device)


def intel_lane_hz(device: Device) -> float | None:
    """An Intel GPU's FP32 lanes x boost clock: the spec table's shaders, else 128 per Xe core (8 XVEs x SIMD16 on Xe2 /
    Xe3, 16 x SIMD8 on Xe-HPG / Xe-LPG; sycl_path.vector_lanes' count), x boost clock; None without either."""
    lanes, hz = kernel_path.vector_lanes(device, 128), kernel_path.gpu_clock_hz(device)
    return lanes * hz if lanes and hz else None


def _fa_on_by_default() -> bool:
    """Whether the Vulkan build being predicted (build()) runs flash attention: a row's stated -fa, else its tool's
    default at that build (kernel_path.fa_stated_or_default: today's build does). Why the stated flag: a row run with
    -fa 1 before llama-bench's default turned auto (2026-05-30) ran the FA shaders."""
    return kernel_path.fa_stated_or_default(build()[0])


