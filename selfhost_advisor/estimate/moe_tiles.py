"""How much more than its active share an MoE layer's expert matmuls cost in prefill: the empty columns of their tiles.

Why: llama.cpp multiplies each expert's weights by the tokens routed to it (ggml mul_mat_id), in tiles of J token
columns. A tile costs the same whatever share of its J columns holds tokens: MMQ (ggml-cuda/mmq.cuh
mul_mat_q_process_tile) unpacks the whole weight tile and runs its mma over all J columns, masking only the write-back;
Metal's kernel_mul_mm_id (kernels/mul_mm.metal) does the same per 64x32 tile. A dense layer fills its tiles; an expert
that gets 32 of a 512-token micro-batch fills a quarter of a 128-wide tile. The dense model's per-token prefill cost
of the expert matrices (their active share, estimate/speed.py) is therefore multiplied by

    padding = n_expert x E[ceil(t / J)] x J / (n_tokens x n_used),  t ~ Binomial(n_tokens, n_used / n_expert)

the column slots the tiles hold over the token-expert pairs routed: each token picks n_used distinct experts of
n_expert, so one expert's token count is binomial when routing is balanced (the routers of the models served are
trained to balance load; a skewed batch leaves experts empty and needs fewer tiles). J, per backend family, is how
llama.cpp 0c1e570 picks it (data/speed.yaml `moe_tiles`): CUDA (NVIDIA) picks the narrowest listed width with the
fewest tiles for the WHOLE micro-batch (mmq.cu ggml_cuda_mul_mat_q: ncols_opt = ne12; mmq.cuh mul_mat_q_switch_J), so
a 512-token micro-batch gets J = 128 whatever each expert receives; Metal's tile is 32 tokens (NR1). Below a family's
minimum batch the mat-vec kernels run (CUDA MMVQ up to 8 tokens, Metal mul_mv_id under 32) and nothing is padded.
"""
from __future__ import annotations

import math
from functools import lru_cache


def tile_width(n_tokens: int, widths: tuple[int, ...]) -> int:
    """mul_mat_q_switch_J: the first (narrowest) width whose tile count for n_tokens columns is the smallest."""
    best, best_tiles = widths[0], math.inf
    for j in sorted(widths):
        tiles = -(-n_tokens // j)
        if tiles < best_tiles:
            best, best_tiles = j, tiles
    return best


@lru_cache(maxsize=256)
def expected_tiles(n_tokens: int, p: float, width: int) -> float:
    """E[ceil(t / width)] for t ~ Binomial(n_tokens, p), summed in log space (n_tokens up to tens of thousands)."""
    if p >= 1.0:
        return float(-(-n_tokens // width))
    if p <= 0.0 or n_tokens <= 0:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    lg = math.lgamma(n_tokens + 1)
    mean, sd = n_tokens * p, math.sqrt(n_tokens * p * (1 - p))
    lo, hi = max(0, int(mean - 12 * sd) - 1), min(n_tokens, int(mean + 12 * sd) + 2)
    total = 0.0
    for t in range(max(1, lo), hi + 1):  # t = 0 needs no tile
        pmf = math.exp(lg - math.lgamma(t + 1) - math.lgamma(n_tokens - t + 1) + t * lp + (n_tokens - t) * lq)
        total += pmf * -(-t // width)
    return total


def padding(n_tokens: int, n_expert: int, n_used: int, rule: dict | None) -> float:
    """Column slots the expert tiles hold per routed token-expert pair (>= 1 when the tiles run, else 1.0).

    rule: data/speed.yaml moe_tiles[family]: `widths` (the tile widths llama.cpp can pick), `choose_against` (`batch`:
    the whole micro-batch, `expert_mean`: n_tokens x n_used / n_expert, `pairs`: n_tokens x n_used, every token-expert
    pair, as CUDA before llama.cpp PR #15525) and `min_tokens` (below it no tiles run).
    """
    if not rule or n_expert <= 1 or n_used <= 0 or n_tokens < int(rule.get("min_tokens", 1)):
        return 1.0
    widths = tuple(int(w) for w in rule["widths"])
    against = {"batch": n_tokens, "pairs": n_tokens * n_used}.get(str(rule.get("choose_against", "batch")),
                                                                    -(-n_tokens * n_used // n_expert))
    j = tile_width(against, widths)
    slots = n_expert * expected_tiles(n_tokens, n_used / n_expert, j) * j
    return max(1.0, slots / (n_tokens * n_used))


@lru_cache(maxsize=256)
def shrunk_width_padding(n_tokens: int, n_expert: int, n_used: int, tile: int, widths: tuple[int, ...]) -> float:
    """MMA column slots per routed token-expert pair where a tile whose expert has fewer rows left than `tile` runs its
    multiply at the narrowest of `widths` that holds them (ggml-vulkan mul_mm_cm2.comp since PR #15546: BN / 4, BN / 2
    or BN); full tiles run at `tile`. t ~ Binomial(n_tokens, n_used / n_expert) as in `padding`."""
    if n_expert <= 1 or n_used <= 0 or n_tokens <= 0:
        return 1.0
    p = n_used / n_expert
    if p >= 1.0:
        return 1.0
    lp, lq, lg = math.log(p), math.log1p(-p), math.lgamma(n_tokens + 1)
    ws = sorted(int(w) for w in widths)
    slots = 0.0
    mean, sd = n_tokens * p, math.sqrt(n_tokens * p * (1 - p))  # the binomial's mass, as expected_tiles sums it
    for t in range(max(1, int(mean - 12 * sd) - 1), min(n_tokens, int(mean + 12 * sd) + 2) + 1):
        w = math.exp(lg - math.lgamma(t + 1) - math.lgamma(n_tokens - t + 1) + t * lp + (n_tokens - t) * lq)
        full, rest = divmod(t, tile)
        slots += w * (full * tile + (next((x for x in ws if x >= rest), tile) if rest else 0))
    return max(1.0, slots / (n_tokens * p))


def coopmat2_padding(n_tokens: int, n_expert: int, n_used: int, rule: dict) -> float:
    """Per routed token-expert pair, what an NV_coopmat2 MUL_MAT_ID costs in units of one weight's 2 FLOPs at the dense
    matmul's rate (docs/methodology.md 5c-s22v): its MMA at the width each tile runs (shrunk_width_padding) plus, per
    weight the tile decodes beyond a dense tile's share, `decode_mma_units`. Why: coopMatLoadTensorNV decodes the whole
    BM x BK weight slice at every k step whatever the tile's width, so a tile of 32 tokens pays the decode a dense
    256-token tile spreads over 256 (rule: data/speed.yaml moe_tiles.vulkan `coopmat2`)."""
    tile = int(rule["tile_tokens"])
    width = shrunk_width_padding(n_tokens, n_expert, n_used, tile, tuple(rule["widths"]))
    decodes = n_expert * expected_tiles(n_tokens, n_used / n_expert, tile) / (n_tokens * n_used)
    extra = float(rule["decode_mma_units"]) * max(0.0, decodes - 1.0 / int(rule["dense_tile_tokens"]))
    return max(1.0, width + extra)
