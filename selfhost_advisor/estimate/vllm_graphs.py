"""vLLM's CUDA-graph memory per GPU: what its profiler reserves before the KV pool (>= 0.21), sized from what it captures.

Why a law and not one constant: since v0.21 vLLM takes its own graph estimate out of the KV budget, so the graphs
move the pool, hence how many tokens and users fit. vLLM's estimator (v1/worker/gpu_model_runner.py
profile_cudagraph_memory) captures, per mode, the largest size and the next one into a throwaway pool and returns
    max over modes (first capture's free-memory drop) + sum over modes (graphs in the mode - 1) x max(second drop, 1 MiB)
("Use at least 1 MiB per graph for driver overhead"). What each part holds:
- the first capture runs the largest captured batch once eagerly (the warm-up, whose activations stay cached in the
  allocator: torch.accelerator.empty_cache() runs before the loop, not between the warm-up and the capture) and once
  into the graph pool, so it holds the largest batch's activations twice (forward_peak_bytes at that size), plus the
  workspaces the first capture allocates and the profile run never touched (cuBLAS on the capture stream, the
  attention backend's buffers): no source sizes those, so they are one figure calibrated on the seen logs
  (data/engines.yaml cudagraph_first_capture_bytes);
- a later, smaller graph reuses the blocks the larger one freed in the shared pool ("Capture the large shapes first
  so that the smaller shapes can reuse the memory pool", capture_model), so it costs its driver state, which the
  estimator floors at 1 MiB (cudagraph_per_graph_bytes).
Which graphs (vllm/config/vllm.py _set_cudagraph_sizes, config/compilation.py): sizes [1, 2, 4] + range(8, 256, 8) +
range(256, max + 1, 16) up to max_cudagraph_capture_size = min(2 x max_num_seqs, 512, max_num_batched_tokens); from
0.11.0 (PR #25444, FULL_AND_PIECEWISE the default) a PIECEWISE set at every size and FULL decode graphs at the sizes up
to max_num_seqs; before 0.11.0 PIECEWISE only up to 512 tokens; V0 (worker/model_runner.py) full decode graphs 1, 2, 4,
8, 16, ... up to max_num_seqs (256 at most). Not modelled: DP/EP runs (the two-sample extrapolation of an all-to-all
workspace gave 33 and 118.65 GiB, vllm issues #45178 and #53013), speculative decoding's sizes, TP's captured
collectives (TP 2 over PCIe logged 0.15 GiB more than TP 1, data/engine_logs.yaml).
"""
from __future__ import annotations

from collections.abc import Callable

from ..catalog.data import load

_SIZES = [1, 2, 4] + list(range(8, 256, 8)) + list(range(256, 513, 16))  # vLLM's default capture list, up to 512


def _engine() -> dict:
    return load("engines")["engines"]["vllm"]


def version_tuple(v: str) -> tuple[int, ...]:
    """'0.11.0', 'v0.21.1rc2 (build)' -> (0, 11, 0), (0, 21, 1): the release's first three numbers, digits only."""
    out = []
    for part in v.split(" ")[0].split(".")[:3]:
        digits = "".join(c for c in part if c in "0123456789")
        out.append(int(digits) if digits else 0)
    return tuple(out)


def capture_counts(generation: str, version: str, max_num_seqs: int, batched_tokens: int) -> tuple[int, int, int]:
    """(PIECEWISE graph sets, FULL graphs, largest captured tokens) vLLM captures by default (module docstring)."""
    if generation == "v0":
        n = [x for x in [1, 2, 4] + [8 * i for i in range(1, 33)] if x <= max_num_seqs]
        return 0, len(n), max(n)
    if version_tuple(version) < (0, 11, 0):
        pw = [x for x in _SIZES if x <= batched_tokens]
        return len(pw), 0, max(pw)
    cap = min(2 * max_num_seqs, 512, batched_tokens)
    pw = [x for x in _SIZES if x <= cap]
    return len(pw), len([x for x in pw if x <= max_num_seqs]), max(pw)


def law_bytes(activation_bytes: int, piecewise: int, full: int) -> int:
    """The estimator's structure with our parts: the first-capture workspace + the largest batch's activations twice +
    every further graph of each mode at the per-graph floor."""
    e = _engine()
    extra = max(0, piecewise - 1) + max(0, full - 1)
    return int(e["cudagraph_first_capture_bytes"]) + 2 * activation_bytes + extra * int(e["cudagraph_per_graph_bytes"])


def graph_bytes(activation: Callable[[int], int], max_num_batched_tokens: int, max_num_seqs: int, version: str,
                generation: str = "v1") -> int:
    """CUDA-graph memory on one GPU for these batch settings, as vLLM's profiler reserves it; `activation(tokens)` is
    the model's forward-pass peak at that many tokens on one GPU (vllm.forward_peak_bytes, passed in so that this
    module does not import vllm.py, which calls it)."""
    pw, full, largest = capture_counts(generation, version, max_num_seqs, max_num_batched_tokens)
    return law_bytes(activation(largest), pw, full)
