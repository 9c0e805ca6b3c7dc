"""How much of a GPU a prompt micro-batch's matmuls can keep busy: small matrices on many SMs / CUs (issue 16).

Why: the prefill estimate charges a layer's matmul FLOPs at an efficiency of the device's peak (estimate/speed_prefill.py),
fitted on models whose every matrix fills the device. A small model's matrices may be cut into fewer pieces of work
than the GPU has SMs (NVIDIA) or CUs (AMD); the rest idle while that matmul runs. From ggml-cuda's MMQ (mmq.cuh, the
same file compiled for HIP), per weight matrix of `rows` output rows and `k` inputs, at n_ubatch tokens:

- tiles = ceil(rows / mmq_y) x ceil(n_ubatch / mmq_x): mmq_y = 128 (get_mmq_y_host: NVIDIA Volta and later, and AMD
  except RDNA 1), mmq_x the width with the fewest column tiles, at most 128 (get_mmq_x_max_host on mma / MFMA parts):
  a 512-token micro-batch is 4 column tiles.
- stream-k (mmq.cu: use_stream_k on NVIDIA from Volta and on CDNA): the launch has one block per SM
  (block_nums_stream_k(nsm, ...); PR #22298 keeps whole tiles when they fill >= 90 % of the waves), and the blocks share
  the tiles' k-iterations (tiles x ceil(k / MMQ_ITER_K), MMQ_ITER_K = 256) in contiguous ranges, with a fix-up of the
  partial tiles after. A matrix with fewer such units than SMs leaves SMs idle: busy share = min(1, units / nsm).
- without stream-k (RDNA, Pascal's dp4a MMQ): one block per tile: busy share = min(1, tiles / nsm).

Only the under-filled part is modelled: a matrix with at least one unit per SM counts as filling the device, because
the fitted efficiency already contains the ragged last wave of the calibration rows' matrices (7B and larger, which
all have thousands of units on every GPU fitted); so a model that fills the device is estimated exactly as before.

Decode (ggml-cuda mmvq.cu) runs one block per weight row for one token on NVIDIA and AMD (calc_rows_per_block: 1 row
for ncols_dst = 1): a matrix has as many blocks as rows, at least 128 (the K / V projections of 0.5B models) against
at most 304 CUs; the busy share of the mat-vecs is modelled by nothing here (docs/methodology.md 5-smallmat).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.hardware import profile_by_id
from ..domain import Device, Model
from .cuda_path import _row, compute_capability
from .kernel_path import _spec, architecture, mode, path_name
from .quantize import model_walk

MMQ_Y = 128  # get_mmq_y_host: NVIDIA >= Volta, AMD except RDNA 1
MMQ_X_MAX = 128  # get_mmq_x_max_host with mma (Turing+) or MFMA/WMMA
MMQ_ITER_K = 256  # mmq.cuh MMQ_ITER_K: the k-iteration stream-k shares out
_MMQ_X = tuple(range(8, MMQ_X_MAX + 1, 8))  # mul_mat_q_switch_mmq_x: widths in steps of 8


def compute_units(device: Device) -> int | None:
    """SMs (NVIDIA) or CUs (AMD) of a device: its profile's sm_count, else its data/gpu_specs.yaml row's `units`
    (TechPowerUp's SM / CU count; cuda_path._row finds the row of a curated profile by its name), else what the
    driver reported, else None."""
    if device.matched_profile:
        p = profile_by_id(device.matched_profile)
        n = (p.raw.get("sm_count") if p is not None else None) or _row(device.matched_profile).get("units")
        if n:
            return int(n)
    det = device.details
    return int(det.sm_count) if det is not None and det.sm_count else None


def stream_k(device: Device) -> bool:
    """Whether MMQ shares k-iterations out over the SMs (mmq.cu use_stream_k): NVIDIA from Volta on, AMD CDNA."""
    if device.backend == "cuda" and device.vendor == "nvidia":
        cc = compute_capability(device)
        return cc is None or cc >= 7.0
    if device.backend == "rocm":
        arch = str(_spec(device.matched_profile or "").get("architecture") or "")
        return arch.startswith("CDNA")
    return False


def column_tiles(n_tokens: int) -> int:
    """Column tiles of a micro-batch: the narrowest MMQ width with the fewest tiles (mul_mat_q_switch_mmq_x)."""
    return min(-(-n_tokens // x) for x in _MMQ_X) if n_tokens > 0 else 0


def busy_share(rows: int, k: int, n_tokens: int, nsm: int, streamed: bool) -> float:
    """Share of the SMs one MMQ matmul keeps busy (module docstring): min(1, units / nsm)."""
    tiles = -(-rows // MMQ_Y) * column_tiles(n_tokens)
    units = tiles * -(-k // MMQ_ITER_K) if streamed else tiles
    return min(1.0, units / nsm) if nsm > 0 and units > 0 else 1.0


@lru_cache(maxsize=256)
def _layer_shapes(model: Model) -> tuple[tuple[tuple[int, int], ...], ...]:
    """(rows, k) of each dense weight matrix of each repeating layer (routed experts left to estimate/moe_tiles.py)."""
    walk = model_walk(model)
    per_template = tuple(tuple((f.tensor.n_elements // f.tensor.shape[0], f.tensor.shape[0]) for f in tpl
                               if f.tensor.n_dims >= 2 and "_exps" not in f.tensor.name and f.tensor.shape[0] > 0)
                         for tpl in walk.templates)
    return tuple(per_template[k] for _, k in walk.blocks)


@lru_cache(maxsize=4096)
def _layer_factor(shapes: tuple[tuple[int, int], ...], n_tokens: int, nsm: int, streamed: bool) -> float:
    flops = sum(r * k for r, k in shapes)
    if not flops:
        return 1.0
    return sum(r * k / busy_share(r, k, n_tokens, nsm, streamed) for r, k in shapes) / flops


def prefill_factor(model: Model, device: Device, first: int, count: int, n_ubatch: int) -> float:
    """How many times longer layers first..first+count-1's dense matmuls take on `device` than at full occupancy
    (FLOP-weighted over their matrices; 1.0 where every matrix fills the device, or off CUDA / ROCm MMQ)."""
    if device.backend not in ("cuda", "rocm") or count <= 0 or n_ubatch <= 8:  # <= 8 tokens: MMVQ, not MMQ
        return 1.0

    if any(mode()):  # kernel_path.listed_peak_only() / fifth_pass(): earlier models replayed as shipped, without it
        return 1.0
    nsm = compute_units(device)
    if not nsm:
        return 1.0
    try:
        shapes = _layer_shapes(model)[first:first + count]
    except (ValueError, KeyError, AttributeError):  # a model the walk cannot describe: as before
        return 1.0
    streamed = stream_k(device)
    weights = [sum(r * k for r, k in s) for s in shapes]
    # MoE (session 14, moe3; docs/methodology.md 5c-s14): the routed experts' active weights fill the device, their MMQ
    # grid having a z-slice per expert (mmq.cuh launch_mul_mat_q: ntzw = nchannels_y = n_expert), so they count at
    # factor 1 in the FLOP weighting; else the dense matrices' factor stretched the experts' FLOPs, which the caller
    # multiplies by it with the rest of the layer.
    experts = sum(_layer_expert_weights(model)[first:first + count])
    total = sum(weights) + experts
    if not total:
        return 1.0
    return (sum(w * _layer_factor(s, n_ubatch, nsm, streamed) for w, s in zip(weights, shapes)) + experts) / total


@lru_cache(maxsize=256)
def _layer_expert_weights(model: Model) -> tuple[float, ...]:
    """Active routed-expert weights of each repeating layer (the `_exps` tensors x n_used / n_expert; 0 when dense)."""
    if model.moe is None:
        return tuple(0.0 for _ in range(model.n_layers))

    walk = model_walk(model)
    share = model.moe.active / model.moe.experts
    per_template = tuple(sum(f.tensor.n_elements for f in tpl if "_exps" in f.tensor.name) * share
                         for tpl in walk.templates)
    return tuple(per_template[k] for _, k in walk.blocks)


def rocm_mmq_share(device: Device, layers: tuple, rules: dict) -> float:
    """Share of the weights of `layers` ((type, weights, bytes) per matrix) that a ROCm build multiplies with MMQ
    (kernel_path.path_name "mmq_*"); the rest go to hipBLAS, whose tiling is not modelled here."""
    arch = architecture(device)
    if not arch or mode()[1]:  # kernel_path.fifth_pass(): the session-10 model replayed as shipped, without this term
        return 0.0
    total = mmq = 0
    for mats in layers:
        for ty, n, _ in mats:
            total += n
            if path_name(arch, ty, rules).startswith("mmq"):
                mmq += n
    return mmq / total if total else 0.0
