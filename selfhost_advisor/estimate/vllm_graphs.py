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
Which graphs (vllm/config/vllm.py _set_cudagraph_sizes, config/compilation.py; data/engines.yaml cudagraph_capture,
by release): sizes [1, 2, 4] + range(8, 256, 8) + range(256, max + 1, 16) up to max_cudagraph_capture_size =
min(2 x max_num_seqs, ceiling, max_num_batched_tokens), the ceiling 512, 1024 on data-centre Blackwell (compute
capability 10.x) from PR #49390; the 8-step list [1, 2, 4] + range(8, max + 1, 8) before the 16-step one (0.10.0 and
0.11.0 count 67 graphs to 512), and before 0.10.0 (PR #20628) the maximum 512 whatever max_num_seqs. From 0.11.0 (PR
#25444, FULL_AND_PIECEWISE the default) a PIECEWISE set at every size and FULL decode graphs at the sizes up to
max_num_seqs; before 0.11.0 PIECEWISE only; V0 (worker/model_runner.py) full decode graphs 1, 2, 4, 8, 16, ... up to
max_num_seqs (256 at most). Not modelled: DP/EP runs (the two-sample extrapolation of an all-to-all
workspace gave 33 and 118.65 GiB, vllm issues #45178 and #53013), speculative decoding's sizes, TP's captured
collectives (TP 2 over PCIe logged 0.15 GiB more than TP 1, data/engine_logs.yaml).
"""
from __future__ import annotations

from collections.abc import Callable

from ..catalog.data import load
from ..lazy_re import lazy

_SIZES = [1, 2, 4] + list(range(8, 256, 8)) + list(range(256, 1025, 16))  # the 16-step list, up to 1024
_SIZES_8 = [1, 2, 4] + list(range(8, 513, 8))  # the 8-step list (cuda_graph_sizes=[N]: range(8, N + 1, 8)), up to 512
# data-centre Blackwell (B200, B300, GB200, GB300): compute capability 10.x, vLLM's is_device_capability_family(100)
_DC_BLACKWELL = lazy(r"\bg?b[23]00\b")


def _engine() -> dict:
    return load("engines")["engines"]["vllm"]


def version_tuple(v: str) -> tuple[int, ...]:
    """'0.11.0', 'v0.21.1rc2 (build)' -> (0, 11, 0), (0, 21, 1): the release's first three numbers, digits only."""
    out = []
    for part in v.split(" ")[0].split(".")[:3]:
        digits = "".join(c for c in part if c in "0123456789")
        out.append(int(digits) if digits else 0)
    return tuple(out)


def datacenter_blackwell(device) -> bool:
    """Compute capability 10.x: what the probe read where it read one, else the GPU's name (B200, B300, GB200, GB300;
    not the RTX PRO / GeForce Blackwell parts, 12.x, nor DGX Spark's GB10)."""
    det = getattr(device, "details", None)
    cc = str(getattr(det, "compute_capability", "") or "") if det is not None else ""
    if cc:
        return cc.split(".")[0] == "10"
    return getattr(device, "vendor", "nvidia") == "nvidia" and bool(_DC_BLACKWELL.search(str(device.name).lower()))


def capture_ceiling(version: str, device=None) -> int:
    """The default max_cudagraph_capture_size ceiling of this release on this GPU (data/engines.yaml cudagraph_capture)."""
    rules = _engine()["cudagraph_capture"]
    if device is not None and datacenter_blackwell(device) and \
            version_tuple(version) >= version_tuple(str(rules["dc_blackwell_since"])):
        return int(rules["dc_blackwell_ceiling"])
    return int(rules["ceiling"])


def capture_counts(generation: str, version: str, max_num_seqs: int, batched_tokens: int,
                   ceiling: int = 512) -> tuple[int, int, int]:
    """(PIECEWISE graph sets, FULL graphs, largest captured tokens) vLLM captures by default (module docstring)."""
    if generation == "v0":
        n = [x for x in [1, 2, 4] + [8 * i for i in range(1, 33)] if x <= max_num_seqs]
        return 0, len(n), max(n)
    rules = _engine()["cudagraph_capture"]
    v = version_tuple(version)
    cap = min(2 * max_num_seqs, ceiling) if v >= version_tuple(str(rules["seqs_bound_since"])) else ceiling
    cap = min(cap, batched_tokens)
    sizes = _SIZES if v >= version_tuple(str(rules["step16_since"])) else _SIZES_8
    pw = [x for x in sizes if x <= cap] or [1]
    if v < version_tuple(str(rules["full_and_piecewise_since"])):
        return len(pw), 0, max(pw)
    return len(pw), len([x for x in pw if x <= max_num_seqs]), max(pw)


def law_bytes(activation_bytes: int, piecewise: int, full: int) -> int:
    """The estimator's structure with our parts: the first-capture workspace + the largest batch's activations twice +
    every further graph of each mode at the per-graph floor."""
    e = _engine()
    extra = max(0, piecewise - 1) + max(0, full - 1)
    return int(e["cudagraph_first_capture_bytes"]) + 2 * activation_bytes + extra * int(e["cudagraph_per_graph_bytes"])


def graph_bytes(activation: Callable[[int], int], max_num_batched_tokens: int, max_num_seqs: int, version: str,
                generation: str = "v1", device=None) -> int:
    """CUDA-graph memory on one GPU for these batch settings, as vLLM's profiler reserves it; `activation(tokens)` is
    the model's forward-pass peak at that many tokens on one GPU (vllm.forward_peak_bytes, passed in so that this
    module does not import vllm.py, which calls it); `device` sets the capture ceiling (capture_ceiling)."""
    pw, full, largest = capture_counts(generation, version, max_num_seqs, max_num_batched_tokens,
                                       capture_ceiling(version, device))
    return law_bytes(activation(largest), pw, full)
