"""The fused-MoE part of a vLLM step: what a MoE layer costs beyond reading the experts its tokens touch.

Its terms, each from vLLM's source or from published kernel timings, none fitted on a serving row:

1. Block padding (compute). vLLM's MoE kernels group each expert's tokens into tiles of BLOCK_SIZE_M rows
   (moe_align_block_size pads every touched expert's token count up to a multiple of the block) and run the tensor
   cores on whole tiles, so an expert holding n tokens costs ceil(n / block) x block rows of GEMM. The block comes from
   the kernel vLLM picks (moe_kernel): Marlin MoE (W4A16: AWQ/GPTQ, and MXFP4 before Hopper) takes the first of
   8, 16, 32, 48, 64 with M x topk / E / block < 0.9 (fused_marlin_moe); triton_kernels' matmul_ogs (MXFP4 on Hopper
   and ROCm) max(16, min(next_pow2(M x topk // E), 128)); the Triton fused_moe default config 16 when M <= E, else 64
   (fused_moe.py get_default_config). Tokens pick experts independently (the same assumption as touched_share), so
   an expert's count is Binomial(M, topk / E) and the expected rows are E x sum_j block x P(n > j x block).
2. The intermediate caches (memory): a fused-MoE layer writes and reads back activations per routed (token, expert)
   pair, none of which shrink with tensor parallelism except the expert width (moe_activation_bytes).
3. A fixed cost per MoE layer (router GEMM, top-k, block alignment, two grouped GEMM launches at a small grid, the
   activation and the weighted sum): the part of published fused-MoE kernel timings (vLLM benchmark_moe.py / sglang's
   tuning script, CUDA-graph replays) that the expert bytes at the step's bandwidth share do not explain. The
   timings and how the figure follows from them are in data/serving.yaml moe_kernel_timings; the figure is their
   median, computed here.
4. The grouped GEMMs' rate (Triton fused_moe on families with a measured GEMM share): each output tile pays a fixed
   time besides its K / BLOCK_K steps of MMA, so a GEMM of reduction width K reaches the family's measured GEMM share
   x K / (K + K0); w13 reduces over the hidden size, w2 over the expert shard, which is narrow under tensor parallelism
   (Qwen3-235B at TP 8: 192). K0 is fitted on published large-batch fused_moe rates (fused_moe_k0). The fixed part
   runs at the 16-bit rate whatever the format (an FP8 tile's MMAs are faster, its fixed part is not: tile_law_flops).
5. The grouped GEMMs' weight stream at large batch (Triton fused_moe, where the tile law applies): a published
   fused_moe curve is a line at large M, time = intercept + M / marginal rate, and its intercept is not the fixed cost
   alone but the fixed cost and about half the time of reading the experts' weights once (fused_moe_unhidden_share,
   from the same published curves as K0). A compute-bound GEMM is priced as its FLOPs at the tile law's (marginal)
   rate plus that share of its weight bytes, a memory-bound one as its bytes, whichever is longer.
"""
from __future__ import annotations

import math
import statistics
from functools import lru_cache

from ...catalog.data import load
from ...domain import Machine, Model, Quant
from ..tensors import build_tensors

_MARLIN_FORMATS = ("AWQ-INT4", "GPTQ-INT4", "GPTQ-INT8")
# NVIDIA families under compute capability 8.9 (no FP8 tensor cores): vLLM's FP8 MoE runs weight-only through Marlin
# there (quantization/fp8.py: use_marlin = not current_platform.has_device_capability(89), "Using Marlin backend for
# FP8 MoE"; not on ROCm)
_NO_FP8_FAMILIES = ("nvidia-a100", "nvidia-rtx-30", "nvidia-turing")


@lru_cache(maxsize=64)
def mxfp4_hopper_kernel(release: str = "") -> str:
    """The MXFP4 MoE kernel vLLM runs on Hopper in this release ('' = the registry's current one): 'triton_kernels'
    from data/serving.yaml mxfp4_triton_kernels_since (0.11.1), 'marlin' before it.

    get_mxfp4_backend (vllm quantization/mxfp4.py) takes the Triton backend (triton_kernels' matmul_ogs) on compute
    capability 9.0 only when the triton_kernels package imports (has_triton_kernels) and FlashInfer's SM90 path is not
    asked for (VLLM_USE_FLASHINFER_MOE_MXFP4_BF16, off by default); otherwise "Using Marlin backend". vLLM did not
    depend on triton_kernels until PR #27370 ("users have to install triton_kernels manually to access this
    code-path"; merged after 0.11.0), so a plain install of 0.10.x / 0.11.0 ran gpt-oss's experts through Marlin MoE
    on an H100 as on an A100."""
    from ..vllm_graphs import version_tuple
    from ..vllm_weights import engine_version

    since = str(load("serving")["vllm"]["mxfp4_triton_kernels_since"])
    return "triton_kernels" if version_tuple(release or engine_version()) >= version_tuple(since) else "marlin"


def moe_kernel(family: str, backend: str, quant: Quant, release: str = "") -> str:
    """The MoE kernel vLLM runs the experts with: 'marlin', 'triton_kernels' or 'fused_moe' (Triton).

    MXFP4 (vllm quantization/mxfp4.py get_mxfp4_backend): on CUDA, Marlin when the compute capability is under 9
    (A100, Ampere and Ada cards), on Hopper triton_kernels from 0.11.1 and Marlin before (mxfp4_hopper_kernel; release:
    the vLLM release, '' = the registry's current one); FlashInfer on Blackwell (not modelled apart: the Triton
    default's rule); triton_kernels on ROCm. AWQ / GPTQ MoE checkpoints load through Marlin MoE, and so does FP8 on
    NVIDIA parts without FP8 tensor cores (A100, Ampere, Turing: weight-only, _NO_FP8_FAMILIES)."""
    if quant.name == "MXFP4":
        if backend == "rocm":
            return "triton_kernels"
        if family == "nvidia-h100":
            return mxfp4_hopper_kernel(release)
        if family.startswith("nvidia") and family not in ("nvidia-b200", "nvidia-gb10", "nvidia-rtx-50"):
            return "marlin"
        return "fused_moe"
    if quant.name in _MARLIN_FORMATS:
        return "marlin"
    if quant.name == "FP8" and backend == "cuda" and family in _NO_FP8_FAMILIES:
        return "marlin"
    return "fused_moe"


def mxfp4_refusal(family: str, backend: str, capability: float | None = None) -> str | None:
    """Why vLLM cannot serve MXFP4 experts on this GPU family, or None where it can.

    vllm quantization/mxfp4.py: Mxfp4Config.get_min_capability() is 80 (no Turing or older); on ROCm the only backend is
    triton_kernels, whose MXFP4 MoE does not run on RDNA3: it crashed compiling for gfx1100 (vllm issue #33143, the
    kernels use CDNA's MFMA), and the MXFP4 oracle takes it only for device capabilities 9.0 to below 11.0, which leaves
    gfx11 out (vllm issue #40301, v0.19.2 and main in April 2026; PR #40333 to let gfx11xx through is open).
    `capability`: the CUDA device's compute capability where known (cuda_path.compute_capability): the floor holds
    for every part below 8.0, not only the family T4 keys (audit33b: an RTX 2080 Ti, a Quadro RTX 8000, a V100 or a
    GTX 1080 were sized serving gpt-oss's MXFP4, which vLLM refuses at start-up)."""
    from ..vllm_weights import capability_refusal

    if backend == "cuda" and capability is not None:
        why = capability_refusal("MXFP4", capability)  # data/engines.yaml vllm_min_capability (vcap33)
        if why:
            return why
    if family == "nvidia-turing" and capability is None:
        return capability_refusal("MXFP4", 7.5)
    if backend == "rocm" and family == "amd-rdna3":
        return ("vLLM has no MXFP4 MoE kernel for RDNA3 (triton_kernels runs on CDNA only: vllm issues #33143, "
                "#40301); serve a BF16 checkpoint or use --engine llamacpp")
    return None


def block_m(kernel: str, tokens: int, topk: int, experts: int) -> int:
    """BLOCK_SIZE_M the kernel picks for `tokens` tokens (rules quoted in the module docstring)."""
    if kernel == "marlin":
        for block in (8, 16, 32, 48, 64):
            if tokens * topk / experts / block < 0.9:
                return block
        return 64
    if kernel == "triton_kernels":
        per = max(1, tokens * topk // experts)
        return max(16, min(1 << (per - 1).bit_length(), 128))
    return 16 if tokens <= experts else 64


@lru_cache(maxsize=8192)
def padded_rows(tokens: int, topk: int, experts: int, block: int) -> float:
    """Expected GEMM rows of one MoE layer: sum over experts of ceil(n / block) x block, n ~ Binomial(tokens, topk/E)."""
    if tokens <= 0:
        return 0.0
    p = min(1.0, topk / experts)
    if p >= 1.0:
        return experts * math.ceil(tokens / block) * block
    mean, sd = tokens * p, math.sqrt(tokens * p * (1 - p))
    hi = min(tokens, int(mean + 10 * sd + block + 2))
    log_q = math.log1p(-p)
    rows = 0.0
    for n in range(1, hi + 1):
        log_pmf = (math.lgamma(tokens + 1) - math.lgamma(n + 1) - math.lgamma(tokens - n + 1)
                   + n * math.log(p) + (tokens - n) * log_q)
        rows += math.exp(log_pmf) * math.ceil(n / block) * block
    return experts * rows


def padding_share(kernel: str, tokens: float, topk: int, experts: int) -> float:
    """Padded rows over real rows (tokens x topk): >= 1; 1 for a dense model or an empty step."""
    m = int(round(tokens))
    if m <= 0:
        return 1.0
    return padded_rows(m, topk, experts, block_m(kernel, m, topk, experts)) / (m * topk)


@lru_cache(maxsize=256)
def expert_flops_per_token(model: Model, tp: int) -> int:
    """Routed-expert GEMM FLOPs one token costs per GPU (topk of E experts' matrices), as step_parts counts them."""
    if model.moe is None:
        return 0
    share = model.moe.active / model.moe.experts
    return int(sum(2 * t.n_elements * share for t in build_tensors(model) if "_exps" in t.name)) // tp


@lru_cache(maxsize=256)
def moe_layers(model: Model) -> int:
    """Layers with routed experts (leading dense layers and interleaved dense layers excluded)."""
    if model.moe is None:
        return 0
    return len({t.name.split(".")[1] for t in build_tensors(model) if "_exps" in t.name and t.name.startswith("blk.")})


def kernel_timing_residuals_us() -> list[float]:
    """Each published fused-MoE timing minus its expert bytes at the step's bandwidth share (microseconds)."""
    from ..speed import efficiency

    share = efficiency("cuda").bandwidth
    out = []
    for row in load("serving")["vllm"]["moe_kernel_timings"]["rows"]:
        byte_time = float(row["expert_bytes"]) / (share * float(row["bandwidth_gbps"]) * 1e9)
        out.append(float(row["kernel_us"]) - byte_time * 1e6)
    return out


@lru_cache(maxsize=1)
def moe_layer_fixed_us() -> float:
    """The fixed cost per MoE layer: the median of kernel_timing_residuals_us()."""
    return statistics.median(kernel_timing_residuals_us())


def moe_fixed_seconds(model: Model) -> float:
    """Per step: every MoE layer's fixed cost."""
    return moe_layers(model) * moe_layer_fixed_us() * 1e-6


def gpu_family(machine: Machine) -> str:
    """The first GPU's hardware family as data/speed.yaml hardware_families names it ('' when unmatched: a spec-table
    row's architecture family, which speed_factors._hardware_family falls back to, keys none of vLLM's tables)."""
    from ..speed_factors import listed_family

    return listed_family(machine.devices[0].matched_profile or "")


def moe_padding_flops(model: Model, quant: Quant, machine: Machine, tp: int, tokens: float,
                      release: str = "") -> float:
    """Extra GEMM FLOPs per GPU of a step of `tokens` tokens from block padding (0 for a dense model)."""
    if model.moe is None or tokens <= 0:
        return 0.0
    dev = machine.devices[0]
    kernel = moe_kernel(gpu_family(machine), dev.backend, quant, release)
    share = padding_share(kernel, tokens, model.moe.active, model.moe.experts)
    return (share - 1.0) * tokens * expert_flops_per_token(model, tp)


@lru_cache(maxsize=256)
def gate_up_ratio(model: Model) -> float:
    """Width of the first expert GEMM's output over the second's input: 2 for a gated expert (gate and up, w13, then
    SiLU-and-mul halves it), 1 for an ungated one (Nemotron-H's ReLU^2 experts: up_exps and down_exps only); the
    routed-expert tensors' elements, first GEMM over second."""
    if model.moe is None:
        return 2.0
    w2 = w13 = 0
    for t in build_tensors(model):
        if "_exps" in t.name and t.name.endswith(".weight"):
            if "down_exps" in t.name:
                w2 += t.n_elements
            else:
                w13 += t.n_elements
    return w13 / w2 if w2 else 2.0


def moe_kernel_bytes(model: Model, quant: Quant, machine: Machine, tp: int,
                     tokens: float, release: str = "") -> tuple[float, float, float, float]:
    """Activation bytes per GPU each kernel of a step's fused-MoE layers moves, beside the expert weights:
    (first GEMM, activation kernel, second GEMM, top-k sum).

    Triton fused_moe and Marlin MoE (vllm fused_moe.py fused_experts_impl, fused_marlin_moe.py) run four kernels per
    layer, one after the other in the step's stream, on (token, expert) pairs: the w13 GEMM reads the hidden states
    (T x H) and writes intermediate_cache1 (T x k x r I/tp, r = gate_up_ratio); silu_and_mul reads it and writes
    intermediate_cache2 (T x k x I/tp); the w2 GEMM reads that and writes intermediate_cache3 (T x k x H); moe_sum reads
    it and writes the output (T x H). 16-bit. triton_kernels' matmul_ogs (OAITritonExperts, gpt_oss_triton_kernels_
    moe.py) fuses the activation into the first GEMM and the top-k sum into the second's scatter: (T x H in, T x k x I/tp
    out; T x k x I/tp in, T x H out) and no activation or sum kernel. H is the experts' input width (the latent width of
    a LatentMoE). Under TP every GPU runs every routed pair on its 1/tp slice of the expert width, so the H terms do not
    shrink with tp."""
    if model.moe is None or tokens <= 0:
        return 0.0, 0.0, 0.0, 0.0
    kernel = moe_kernel(gpu_family(machine), machine.devices[0].backend, quant, release)
    h = model.moe.latent_size or model.hidden_size
    k, width = model.moe.active, model.moe.expert_intermediate_size / tp
    n = moe_layers(model) * tokens * 2.0  # 16-bit values
    if kernel == "triton_kernels":
        return n * (h + k * width), 0.0, n * (k * width + h), 0.0
    r = gate_up_ratio(model)
    return n * (h + k * r * width), n * k * (r + 1.0) * width, n * k * (width + h), n * (k * h + h)


def moe_activation_bytes(model: Model, quant: Quant, machine: Machine, tp: int, tokens: float,
                         release: str = "") -> float:
    """Bytes per GPU a step's MoE layers move besides the expert weights: the kernels' intermediate caches, all four
    kernels of moe_kernel_bytes together. For a gated expert 4 x (H + k x (3 I/tp + H)) per token and MoE layer
    (triton_kernels: 4 x (H + k x I/tp)): at 1000 tokens Qwen3-235B-A22B at TP 8 moves 166 MB a layer against 604 MB
    of expert weights."""
    return sum(moe_kernel_bytes(model, quant, machine, tp, tokens, release))


def expert_kernels_seconds(model: Model, quant: Quant, machine: Machine, tp: int, tokens: float,
                           weight_bytes: float, work: float, bandwidth: float, flops: float,
                           gemm_flops: tuple[float, float] | None = None, release: str = "") -> float:
    """Seconds per GPU of a step's routed-expert kernels: each of the kernels moe_kernel_bytes names is its own
    roofline, and their times add (they run one after the other in one CUDA stream, as the dense GEMMs and attention
    do, step.py). The two GEMMs split the touched expert weights (`weight_bytes`) and the padded GEMM FLOPs (`work`) in
    the ratio of their matrices (w13 : w2 = gate_up_ratio : 1); the activation kernel and the top-k sum only move
    bytes. Why it matters: at a narrow expert shard the second GEMM writes k x H values a token while its K is only
    I/tp, and moe_sum reads them back (Qwen3-235B-A22B at TP 8: 1.57 MFLOP and ~8 kB a routed pair), so a
    compute-bound prompt chunk's experts take ~1.3x their FLOPs' time there, while a full-width expert (Mixtral at TP
    2: 7,168 wide) loses ~5%. A single roofline over all the bytes and FLOPs hid the serial kernels' bytes under the
    GEMMs' FLOPs. flops = float('inf') gives the memory-only time (step.compute_bound). gemm_flops: the (w13, w2)
    GEMMs' own rates where the tile law applies (fused_moe_gemm_flops), else both at `flops`."""
    g1, act, g2, red = moe_kernel_bytes(model, quant, machine, tp, tokens, release)
    r = gate_up_ratio(model)
    first = r / (r + 1.0)
    tiled = gemm_flops is not None and flops != float("inf")
    f1, f2 = gemm_flops if tiled else (flops, flops)
    # the tile law's rates are marginal (a curve's slope), so a compute-bound grouped GEMM also pays the unhidden share
    # of its weight read (fused_moe_unhidden_share: the published curves' intercept); not where the law does not apply
    unhidden = fused_moe_unhidden_share() if tiled else 0.0
    w1, w2 = first * weight_bytes, (1.0 - first) * weight_bytes
    return (max((w1 + g1) / bandwidth, first * work / f1 + unhidden * w1 / bandwidth) + act / bandwidth
            + max((w2 + g2) / bandwidth, (1.0 - first) * work / f2 + unhidden * w2 / bandwidth) + red / bandwidth)


def tile_law_flops(k: float, peak: float, share: float, k0: float, peak16: float | None = None) -> float:
    """FLOPS of a grouped GEMM of reduction width `k` under the tile law: each output tile spends k / peak on its MMAs
    and a fixed k0 / peak16 besides (pipeline fill, epilogue, the tile's scheduling), so the GEMM reaches
    share x k / (k / peak + k0 / peak16). peak16: the part's 16-bit tensor rate, the rate K0 was fitted at
    (fused_moe_rates are BF16); equal to peak for a 16-bit GEMM, where this is share x peak x k / (k + k0). Why the
    fixed part stays at the 16-bit rate: an FP8 tile's MMAs run at the FP8 rate, but its fixed part moves no more
    FLOPs, so it takes the same time as a BF16 tile's. The block-FP8 fused_moe then gains 1.10x over BF16 at
    E=128, N=96, hidden 2048, top-8 on an H200 (tests/test_serving_moe_step.py), where vllm PR #35457 measured 10-17%
    with both tuned; the all-FP8 law gave 1.56x."""
    fixed = peak if peak16 is None else peak16
    return share * k / (k / peak + k0 / fixed)


def _tile_rate(hidden: float, n: float, topk: float, spec: float, share: float, bandwidth: float, k0: float,
               bw_share: float, peak: float | None = None) -> float:
    """Large-batch rate of one fused_moe layer as a share of `spec` (the 16-bit spec rate), as the step prices it per
    token: the two GEMMs under tile_law_flops (w13: K = hidden, 2/3 of the FLOPs; w2: K = n, 1/3) at the format's
    tensor rate `peak` (default: spec), the activation kernel (2N in, N out) and the top-k sum (k H in, H out),
    16-bit, at bw_share x bandwidth."""
    f1, f2 = topk * 2.0 * hidden * 2.0 * n, topk * 2.0 * n * hidden
    serial = 2.0 * topk * 3.0 * n + 2.0 * (topk * hidden + hidden)
    rate = spec if peak is None else peak
    t = (f1 / tile_law_flops(hidden, rate, share, k0, spec) + f2 / tile_law_flops(n, rate, share, k0, spec)
         + serial / (bw_share * bandwidth))
    return (f1 + f2) / (t * spec)


def _family_gemm_share(family: str) -> float | None:
    """The family's measured BF16 GEMM share of spec (data/serving.yaml gemm_achieved_tflops; None where unmeasured)."""
    row = load("serving")["vllm"].get("gemm_achieved_tflops", {}).get(family)
    return float(row["bf16"]) / float(row["bf16_spec"]) if row else None


@lru_cache(maxsize=1)
def fused_moe_k0() -> float:
    """K0 of the tile law, least squares in log rate over data/serving.yaml fused_moe_rates (a grid of 10 over
    0-4000): 810 on the three rows stored in session 21 (Mixtral TP 2 on H100 0.63, E=64 N=1408 on A100 0.60, Gemma 4
    N=704 on H200 0.43; leave one out: 0.64 / 0.52 / 0.49 predicted)."""
    import math

    from ..speed import efficiency

    bw_share = efficiency("cuda").bandwidth
    rows = load("serving")["vllm"]["fused_moe_rates"]["rows"]

    def loss(k0: float) -> float:
        return sum(math.log(_tile_rate(float(r["hidden"]), float(r["n"]), float(r["topk"]),
                                       float(r["spec_tflops"]) * 1e12, _family_gemm_share(r["family"]),
                                       float(r["bandwidth_gbps"]) * 1e9, k0, bw_share) / float(r["rate"])) ** 2
                   for r in rows)
    return float(min(range(0, 4001, 10), key=loss))


def fused_moe_unhidden_shares() -> list[float]:
    """Per data/serving.yaml fused_moe_rates row: the share of the experts' weight-read time its published curve spends
    beside its marginal compute. The curve's intercept (kernel_us - tokens x the slope between tokens_lo and tokens)
    less the step's fixed MoE cost (moe_layer_fixed_us), over the time all its experts' weights (expert_bytes) take at
    the CUDA family's bandwidth share: 0.43 (Mixtral TP 2 on H100), 0.50 (E=64 N=1408 on A100), 0.60 (Gemma 4 on H200)
    with the rows stored in session 28."""
    from ..speed import efficiency

    share = efficiency("cuda").bandwidth
    out = []
    for row in load("serving")["vllm"]["fused_moe_rates"]["rows"]:
        lo, t_lo = float(row["tokens_lo"]), float(row["us_lo"])
        hi, t_hi = float(row["tokens"]), float(row["kernel_us"])
        intercept = t_hi - hi * (t_hi - t_lo) / (hi - lo)
        weights_us = float(row["expert_bytes"]) / (share * float(row["bandwidth_gbps"]) * 1e9) * 1e6
        out.append((intercept - moe_layer_fixed_us()) / weights_us)
    return out


@lru_cache(maxsize=1)
def fused_moe_unhidden_share() -> float:
    """The share of a compute-bound grouped GEMM's weight-read time that its MMAs do not hide: the median of
    fused_moe_unhidden_shares() (0.50 in session 28). Why: the stored rates are each curve's slope, and a roofline
    max(bytes, FLOPs / slope) drops the curve's intercept, so the step gave 0.82-0.86 of vllm PR #24700's tuned Mixtral
    times at 512-1,536 tokens (0.95-1.10 with this term). A Triton fused_moe program streams its expert's weight tiles
    over K for every BLOCK_SIZE_M rows it owns, and the first tiles of each program wait on memory before any MMA runs;
    the published curves size how much of the stream that leaves exposed, no source read derives it."""
    return statistics.median(fused_moe_unhidden_shares())


def fused_moe_gemm_flops(model: Model, quant: Quant, machine: Machine, tp: int,
                         peak: float, peak16: float | None = None, release: str = "") -> tuple[float, float] | None:
    """(w13, w2) FLOPS per GPU of the grouped GEMMs under the tile law (tile_law_flops), from `peak` (the format's
    tensor rate, rates.matmul_flops) and `peak16` (the part's 16-bit rate, at which each tile's fixed part runs;
    default peak); None where it does not apply: a kernel other than Triton fused_moe (Marlin, triton_kernels:
    no published large-batch timing read) or a family without a measured GEMM share (the step then keeps its
    all-in share)."""
    if model.moe is None:
        return None
    family = gpu_family(machine)
    if moe_kernel(family, machine.devices[0].backend, quant, release) != "fused_moe":
        return None
    share = _family_gemm_share(family)
    if share is None:
        return None
    k0 = fused_moe_k0()
    h = float(model.moe.latent_size or model.hidden_size)
    n = model.moe.expert_intermediate_size / tp
    return tile_law_flops(h, peak, share, k0, peak16), tile_law_flops(n, peak, share, k0, peak16)


def expert_mma_share(machine: Machine, quant: Quant, release: str = "") -> float:
    """Share of the dense GEMMs' tensor rate the routed-expert GEMMs reach: data/speed.yaml mmq_tensor_share where
    the experts run Marlin MoE on a family whose spec rate needs another instruction (Hopper: 0.653), 1 elsewhere.

    Marlin MoE (vllm csrc/moe/marlin_moe_wna16/marlin_template.h) issues only warp-level
    mma.sync.aligned.m16n8k16 (f16 / bf16 in, f32 accumulate), which on Hopper reaches about two thirds of the wgmma
    spec rate (Luo et al., arXiv 2501.12084: 494.4 of 756.5 TFLOPS on an H800). The dense GEMMs beside it run cuBLAS
    (BF16) or the format's own kernel: MXFP4 checkpoints leave attention, router and LM head in BF16, and GPTQ's
    dense linears take Machete (wgmma) on compute capability 9.0; a format whose every GEMM is Marlin
    (data/serving.yaml mma_sync_formats) already carries the share in rates.matmul_flops, so it is not applied twice."""
    if moe_kernel(gpu_family(machine), machine.devices[0].backend, quant, release) != "marlin":
        return 1.0
    if quant.name in load("serving")["vllm"].get("mma_sync_formats", ()):
        return 1.0
    share = load("speed").get("mmq_tensor_share", {}).get(gpu_family(machine))
    return float(share["share"]) if share else 1.0
