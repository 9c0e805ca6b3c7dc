"""Serving model vs published vLLM runs (data/serving_benchmarks.yaml): per-row ratio ours / published, and medians.

Throughput rows: output (or, where the row's measure is total, prompt + output) tokens/s of the server at the
published concurrency (estimate.serving.serve at that concurrency, the published prompt/output lengths and precision;
a burst of N prompts sent at once is played step by step through vLLM's scheduler, estimate/serving/burst.py, with
the published mean lengths, ShareGPT's output lengths spread as burst.max_entropy_lengths, sent in burst.arrival_order;
a closed loop whose row states its num_prompts is played the same way as the client runs it: `concurrency` requests
at t = 0, one more as each finishes, until num_prompts were sent; closed loops without it: serve's steady state; a run on the chat endpoint, `endpoint: chat`, replays the API server's
serial chat intake before the engine, intake_s). Single-stream rows: decode tokens/s of one request
(1 / time per output token at the request's average depth). Groups: calibration (fitted on), heldout (in no fit),
older_engine (vLLM < 0.8, reported apart). Goals (issue 14): median throughput ratio within 0.8-1.25, every throughput
row within 0.5-2x; issue 15: single-stream decode within 15%.

Usage: python benchmarks/serving_accuracy.py [--splits]
  --splits: only the held-out throughput rows of current vLLM, grouped one way at a time (dense / MoE, lab, release,
            GPU, tensor-parallel size, client, concurrency, workload, precision, the experts' kernel, and lab x GPU x
            release together): where the bias sits (splits())
"""
from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile  # noqa: E402
from selfhost_advisor.catalog.models import get  # noqa: E402
from selfhost_advisor.domain import FitRequest  # noqa: E402
from selfhost_advisor.engines import get_engine  # noqa: E402
from selfhost_advisor.record import replace  # noqa: E402
from selfhost_advisor.estimate.serving import ServeWorkload, serve, step_seconds  # noqa: E402
from selfhost_advisor.estimate.serving.burst import (arrival_order, chat_intake_seconds, max_entropy_lengths,  # noqa: E402
                                                     serve_burst)
from selfhost_advisor.estimate.vllm import get_vllm_quant, kv_dtype_bytes, plan  # noqa: E402


def rows() -> list[dict]:
    # libyaml's safe loader where built (yaml.safe_load's rows, ~0.6 s less per call; every xdist worker calls it)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((ROOT / "data" / "serving_benchmarks.yaml").read_text(), Loader=loader)["rows"]  # noqa: S506


def engine_options(row: dict) -> FitRequest:
    """The engine settings the published run used: vLLM's defaults at its version (gpu_memory_utilization 0.9 before
    0.33, data/engines.yaml), then what the row states (`options`)."""
    version = tuple(int(x) for x in re.findall(r"\d+", str(row["engine"]))[:2])
    opts = {"gpu_memory_utilization": 0.9} if version < (0, 33) else {}
    opts.update(row.get("options") or {})
    return FitRequest(context=1, engine="vllm", engine_version=release(row), **opts)


def release(row: dict) -> str:
    """The vLLM release the row ran ('vllm 0.11.0' -> '0.11.0'): its memory rules (the profile's sampler, the NVLink
    NCCL term, whether CUDA graphs come out of the pool) size the KV pool, as estimate/vllm.py plan() applies them."""
    parts = str(row.get("engine", "")).split()
    return parts[1] if len(parts) > 1 and parts[0] == "vllm" else ""


_PICKED: dict[tuple, str] = {}


def served_quant(row: dict):
    """The vLLM format we score the row in: its published precision where our registry has that format; otherwise
    (gpt-oss's MXFP4 experts: data/engines.yaml vllm_formats has no MXFP4) the format `advisor serve` picks for that
    model on those GPUs with no --quant, which is the answer a user gets for the run."""
    from selfhost_advisor.errors import UnknownQuantError

    try:
        return get_vllm_quant(row["precision"])
    except UnknownQuantError:
        key = (row["model"], row["hardware"], int(row["gpus"]), int(row["prompt_tokens"]), int(row["output_tokens"]))
        if key not in _PICKED:
            machine = machine_from_profile(get_profile(row["hardware"]), int(row["gpus"]))
            rep = serve(get(row["model"]), machine, ServeWorkload(key[3], key[4]), quant=None)
            _PICKED[key] = rep.quant
        return get_vllm_quant(_PICKED[key])


def in_own_format(row: dict) -> bool:
    """Whether the row is scored in the precision it ran (False: served_quant substitutes the format serve picks)."""
    from selfhost_advisor.errors import UnknownQuantError

    try:
        get_vllm_quant(row["precision"])
        return True
    except UnknownQuantError:
        return False


def outcome(row: dict) -> tuple[float, float | None, float | None]:
    """(the row's published measure as we predict it, our mean time per output token and our mean time to first token
    in seconds, each None where the model gives none)."""
    model = get(row["model"])
    # As `advisor serve / fit / cost --engine vllm` do (api: eng.check_runs before any estimate): a model the vLLM
    # sized here does not run (Llama 3.2 Vision: MllamaForConditionalGeneration left vLLM after 0.10.2, data/engines.yaml
    # vision_projectors.not_sized) is refused (NotSizedModelError, listed by refused()), not priced as a text model.
    get_engine("vllm").check_runs(model, release(row))
    machine = machine_from_profile(get_profile(row["hardware"]), int(row["gpus"]))
    q = served_quant(row)
    P, O = int(row["prompt_tokens"]), int(row["output_tokens"])
    total = row.get("measure", "output") == "total"
    if row["kind"] == "single_stream":
        # the row's stated options, as serve applies them to its one-request point (serve.py _serve_vllm: the plan's
        # TP from the request, the KV cache type's bytes, --enforce-eager's host-launched step)
        req = replace(engine_options(row), context=P + O)
        tp = plan(model, q, machine, req).tp
        step = step_seconds(model, q, machine, tp, 1, P + O / 2, kv_dtype_bytes=kv_dtype_bytes(req.kv_cache_type),
                            eager=req.enforce_eager, release=req.engine_version)
        return 1.0 / step, step, None
    closed = row.get("num_prompts") if row.get("clients", "closed") == "closed" else None
    if row.get("clients") == "burst" or closed:
        n = int(closed or row["concurrency"])
        res = serve_burst(model, machine, q, (P,) * n, output_lengths(row, n), options=engine_options(row),
                          clients=int(row["concurrency"]) if closed else None,
                          intake_s=intake_s(row))
        if res is None:
            return 0.0, None, None
        return (res.total_tokens_per_s if total else res.output_tokens_per_s), res.mean_tpot_s, res.mean_ttft_s
    rep = serve(model, machine, ServeWorkload(P, O), quant=q, concurrency=(int(row["concurrency"]),),
                options=engine_options(row))
    if not rep.fits:
        return 0.0, None, None
    pt = rep.points[0]
    return (pt.total_tokens_per_s if total else pt.output_tokens_per_s), pt.tpot_s, pt.ttft_s


def intake_s(row: dict) -> float:
    """The API server's serial time per request the replay puts in front of the engine: burst.chat_intake_seconds for
    a run that sent its requests to /v1/chat/completions (the row's `endpoint: chat`, as its page's `vllm bench serve
    --backend openai-chat` says), 0 for the completions endpoint, whose prompts need no chat template."""
    return chat_intake_seconds(get(row["model"])) if row.get("endpoint") == "chat" else 0.0


def output_lengths(row: dict, n: int) -> tuple[int, ...]:
    """The n requests' output lengths in the order the client sends them: ShareGPT's spread (vllm bench's filter: 4 <=
    output, prompt + output <= 2048) in dataset order; a random-dataset run whose published request rate shows outputs
    that stopped early (EOS) spread with that mean up to the requested length; otherwise all output_tokens."""
    P, O = int(row["prompt_tokens"]), int(row["output_tokens"])
    if row.get("lengths") == "sharegpt":
        return arrival_order(max_entropy_lengths(O, n, cap=2048 - P, floor=4))  # dataset order, not sorted
    if row.get("requests_per_s") and row.get("measure", "output") == "output":
        mean = float(row["published"]) / float(row["requests_per_s"])
        if mean < O - 0.5:
            return arrival_order(max_entropy_lengths(mean, n, cap=O, floor=1))
    return (O,) * n


def predict(row: dict) -> float:
    return outcome(row)[0]


_CACHE: dict[str, list] = {}


def results() -> list[tuple[dict, float, float, float | None, float | None]]:
    """(row, ours, ours / published, our mean TPOT, our mean TTFT in seconds or None), computed once per process. A row
    whose model `advisor serve` refuses for vLLM (NotSizedModelError: a layer kind our vLLM model does not size) is left
    out here and listed by refused() with the reason, so no median counts a refusal as a ratio."""
    from selfhost_advisor.errors import NotSizedModelError

    if "all" not in _CACHE:
        out, refused = [], []
        for r in rows():
            try:
                ours, tpot, ttft = outcome(r)
            except NotSizedModelError as e:
                refused.append((r, str(e)))
                continue
            out.append((r, ours, ours / float(r["published"]), tpot, ttft))
        _CACHE["all"], _CACHE["refused"] = out, refused
    return _CACHE["all"]


def refused() -> list[tuple[dict, str]]:
    """(row, the reason) for each row results() leaves out because the model refuses it."""
    results()
    return _CACHE["refused"]


def ratios() -> list[tuple[dict, float, float]]:
    return [(r, p, x) for r, p, x, _, _ in results()]


def ttft_floor_s(row: dict) -> float:
    """The least mean time to first token the row's run could have had: its prompts prefilled one after another in
    arrival order (vLLM's FCFS) at the GPUs' full spec tensor rate, nothing else running (no decode steps, no overhead,
    no queueing for a seat). In a burst, request i gets its first token no earlier than i prompts' FLOPs / FLOPS, so
    the mean over N requests is (N + 1) / 2 prompts' time; in a closed loop requests arrive one by one once it runs,
    so the floor is one prompt's time, except in a finite closed loop (`num_prompts` N, `concurrency` c clients): its
    first c requests are sent together at t = 0 (vllm bench serve starts every client at once) and wait as a burst's
    do, so the mean is (c (c + 1) / 2 + N - c) / N prompts' time (session 25, serve21: one prompt's time before). FLOPs per prompt token: the matmuls (the LM head once per prompt, vLLM
    computes logits only at each request's last scheduled token) and attention at half the prompt's depth, per GPU
    (estimate/serving/step.py). A published mean below this floor means the run did less prefill work than its
    stated lengths (prefix-cache hits, shorter prompts) or ran other settings than the row states."""
    from selfhost_advisor.estimate.serving.attention import prompt_attention_flops
    from selfhost_advisor.estimate.serving.rates import matmul_flops
    from selfhost_advisor.estimate.serving.step import lm_head_flops, step_parts

    model = get(row["model"])
    machine = machine_from_profile(get_profile(row["hardware"]), int(row["gpus"]))
    q = served_quant(row)
    tp = plan(model, q, machine, FitRequest(context=int(row["prompt_tokens"]) + int(row["output_tokens"]),
                                            engine="vllm", engine_version=release(row))).tp
    P = int(row["prompt_tokens"])
    _, _, per_token = step_parts(model, q, tp)
    lm = lm_head_flops(model, tp)
    prompt_flops = P * (per_token - lm) + lm + P * prompt_attention_flops(model, tp, P / 2.0)
    return _prompts_waited(row) * prompt_flops / matmul_flops(machine, q, spec=True)


def _prompts_waited(row: dict) -> float:
    """ttft_floor_s's mean number of prompts' prefill a request waits for, its own included: (N + 1) / 2 in a burst
    of N, (c (c + 1) / 2 + N - c) / N in a closed loop of c clients that sends N requests in all (its first wave is a
    burst of c), 1 in a closed loop without a stated request count (serve's steady state)."""
    if row.get("clients") == "burst":
        return (int(row["concurrency"]) + 1) / 2.0
    n = int(row.get("num_prompts") or 0)
    if not n:
        return 1.0
    c = min(int(row["concurrency"]), n)
    return (c * (c + 1) / 2.0 + n - c) / n


def _tpot_table(rows: list, key: str, label: str, title: str) -> None:
    """Per-row ours / published TPOT (published in ms under `key`), then the median and range."""
    if not rows:
        return
    print(f"\n{title}")
    for r, tp in rows:
        print(f"  {r['id']:42s} {label} {float(r[key]):7.2f} ms  ours {tp * 1e3:7.2f} ms  "
              f"ratio {tp * 1e3 / float(r[key]):5.2f}")
    xs = [tp * 1e3 / float(r[key]) for r, tp in rows]
    print(f"  median ratio {statistics.median(xs):.2f}, range {min(xs):.2f}-{max(xs):.2f}, n={len(xs)}")


def _ttft_table(rows: list) -> None:
    """Per-row ours / published mean TTFT, with the run's compute floor (ttft_floor_s); rows whose published mean is
    under the floor are marked and summarised apart (their runs did not do the prefill work the row states)."""
    if not rows:
        return
    print("\nmean TTFT where the run publishes it (ours / published; floor: the least mean TTFT the stated prompts allow "
          "at the GPU's full spec rate, ttft_floor_s)")
    ok, below, by_role = [], [], {"calibration": [], "heldout": []}
    closed = []  # closed loops (vllm bench serve --max-concurrency N): the TTFT of a request arriving as others run
    for r, tt in rows:
        pub, floor = float(r["ttft_ms"]) / 1e3, ttft_floor_s(r)
        x = tt / pub
        (below if pub < floor else ok).append(x)
        if r.get("clients", "closed") == "closed":
            closed.append(x)
        if pub >= floor and r["role"] in by_role:
            by_role[r["role"]].append(x)
        print(f"  {r['id']:42s} published {pub:8.2f} s  ours {tt:8.2f} s  ratio {x:5.2f}  floor {floor:7.2f} s"
              + ("  [published under the floor]" if pub < floor else ""))
    for label, xs in (("at or above the floor", ok), ("  of them seen", by_role["calibration"]),
                      ("  of them held out", by_role["heldout"]), ("under the floor", below),
                      ("closed loops", closed)):
        if xs:
            print(f"  {label:22s} n={len(xs):2d}  median ratio {statistics.median(xs):.2f}, range {min(xs):.2f}-{max(xs):.2f}")


def _moe(row: dict) -> bool:
    """Whether the row's model is a mixture of experts (the split the serving goals are tracked by)."""
    return get(row["model"]).moe is not None


def _lab(row: dict) -> str:
    """The publisher of a row, the first word of its id (gpustack, vultr, silybench, vllm23696, ...)."""
    return row["id"].split("-")[0]


def _workload(row: dict) -> str:
    """ShareGPT, or the stated lengths' shape: prompt-heavy (P >= 4 O), decode-heavy (O >= 2 P), balanced."""
    P, O = int(row["prompt_tokens"]), int(row["output_tokens"])
    if row.get("lengths") == "sharegpt":
        return "sharegpt"
    return "prompt-heavy" if P >= 4 * O else "decode-heavy" if O >= 2 * P else "balanced"


def _client(row: dict) -> str:
    """burst (every prompt at once), a finite closed loop (num_prompts stated, replayed) or the steady state."""
    if row.get("clients") == "burst":
        return "burst"
    return "closed loop, num_prompts" if row.get("num_prompts") else "closed loop, steady state"


def _concurrency_band(row: dict) -> str:
    c = int(row["concurrency"])
    return "1-16" if c <= 16 else "17-128" if c <= 128 else "129-512" if c <= 512 else "513+"


def _moe_kernel(row: dict) -> str:
    """The kernel the row's experts ran (estimate/serving/moe_step.py moe_kernel: Triton fused_moe, Marlin MoE,
    triton_kernels, at the row's release and GPU), '-' for a dense model."""
    from selfhost_advisor.estimate.serving.moe_step import gpu_family, moe_kernel

    if not _moe(row):
        return "-"
    machine = machine_from_profile(get_profile(row["hardware"]), int(row["gpus"]))
    return moe_kernel(gpu_family(machine), machine.devices[0].backend, served_quant(row), release(row))


def _cell(row: dict) -> str:
    """lab, GPU and vLLM release together (session 29, serve30): the cells in which a MoE row and a dense row ran the
    same bench on the same GPU and release, so a MoE / dense gap can be read with the lab and the release held."""
    return f"{_lab(row)} {row['hardware']} {release(row) or row['engine']}"


SPLITS = (("dense / MoE", lambda r: "MoE" if _moe(r) else "dense"), ("lab", _lab),
          ("vLLM release", lambda r: release(r) or str(r["engine"])), ("GPU", lambda r: str(r["hardware"])),
          ("tensor parallel", lambda r: f"{int(r['gpus'])} GPU"), ("client", _client),
          ("concurrency", _concurrency_band), ("workload", _workload), ("precision", lambda r: str(r["precision"])),
          ("MoE kernel", _moe_kernel), ("lab GPU release", _cell))


def split_stats(xs: list[float]) -> tuple[int, float, float, int, int]:
    """(rows, median ours / published, median |ln ratio|, rows within 0.8-1.25, rows within 0.5-2x)."""
    import math

    return (len(xs), statistics.median(xs), statistics.median(abs(math.log(x)) for x in xs),
            sum(0.8 <= x <= 1.25 for x in xs), sum(0.5 <= x <= 2.0 for x in xs))


def splits() -> list[tuple[str, str, str, tuple[int, float, float, int, int]]]:
    """(split, group, dense or MoE or 'all', split_stats) over the held-out throughput rows (the 'held out' line of
    main()'s summary), each split once over all rows and once within dense and within MoE, so a split's bias can be
    read apart from the MoE / dense mix (the MoE rows sit ~1.26 and the dense ~0.97 since session 24)."""
    held = [(r, x) for r, _, x in ratios() if r["kind"] == "throughput" and r["role"] == "heldout"]
    out = []
    for name, key in SPLITS:
        for part in ("all", "dense", "MoE"):
            if name == "dense / MoE" and part != "all":
                continue
            rows = [(r, x) for r, x in held if part == "all" or (part == "MoE") == _moe(r)]
            groups: dict[str, list[float]] = {}
            for r, x in rows:
                groups.setdefault(key(r), []).append(x)
            for g in sorted(groups):
                out.append((name, g, part, split_stats(groups[g])))
    return out


def print_splits() -> None:
    held = [x for r, _, x in ratios() if r["kind"] == "throughput" and r["role"] == "heldout"]
    n, med, ln, inner, outer = split_stats(held)
    print(f"held-out throughput rows, ours / published: n={n} median {med:.3f} [median |ln ratio| {ln:.3f}], "
          f"within 0.8-1.25 {inner}, within 0.5-2x {outer}")
    for name, group, part, (n, med, ln, inner, outer) in splits():
        print(f"  {name:16s} {part:5s} {group:28s} n={n:3d}  median {med:5.2f} [{ln:.3f}]  "
              f"0.8-1.25 {inner:3d}  0.5-2x {outer:3d}")


def main() -> int:
    if "--splits" in sys.argv[1:]:
        print_splits()
        return 0
    out = ratios()
    for kind in ("throughput", "single_stream"):
        for role in ("calibration", "heldout", "older_engine"):
            group = [(r, p, x) for r, p, x in out if r["kind"] == kind and r["role"] == role]
            if not group:
                continue
            print(f"\n{kind} / {role}")
            for r, p, x in group:
                print(f"  {r['id']:42s} {r['engine']:13s} c={r['concurrency']:<4} {r.get('measure', 'output')[:3]} published {float(r['published']):9.1f}"
                      f"  ours {p:9.1f}  ratio {x:5.2f}")
            xs = [x for _, _, x in group]
            print(f"  median ratio {statistics.median(xs):.2f}, range {min(xs):.2f}-{max(xs):.2f}, n={len(xs)}")
    if refused():
        print("\nrows `advisor serve` refuses (in no median):")
        for r, why in refused():
            print(f"  {r['id']:42s} {r['engine']:13s} {why}")
    current = [(r, x) for r, _, x in out if r["kind"] == "throughput" and r["role"] != "older_engine"]
    print("\nthroughput rows of current vLLM (>= 0.8), the issue's goal: median 0.8-1.25, every row 0.5-2x; rows "
          "scored in the format they ran, and apart those whose format we lack (gpt-oss MXFP4: scored in the format "
          "`advisor serve` picks, served_quant)")
    own = [(r, x) for r, x in current if in_own_format(r)]
    for label, group in (("seen (calibration)", [x for r, x in own if r["role"] == "calibration"]),
                         ("held out", [x for r, x in own if r["role"] == "heldout"]),
                         ("all", [x for _, x in own]),
                         ("format substituted", [x for r, x in current if not in_own_format(r)]),
                         ("every row", [x for _, x in current]),
                         ("held out, dense", [x for r, x in current if r["role"] == "heldout" and not _moe(r)]),
                         ("held out, MoE", [x for r, x in current if r["role"] == "heldout" and _moe(r)])):
        if group:
            inside = sum(0.5 <= x <= 2.0 for x in group)
            print(f"  {label:20s} n={len(group):2d}  median {statistics.median(group):.2f}  range {min(group):.2f}-"
                  f"{max(group):.2f}  within 0.5-2x: {inside}/{len(group)}")
    _tpot_table([(r, tp) for r, _, _, tp, _ in results() if r.get("tpot_ms") and tp and r["role"] != "older_engine"],
                "tpot_ms", "published", "mean TPOT where the run publishes it (ours / published; not a goal, a check of "
                "the step and the loop)")
    _ttft_table([(r, tt) for r, _, _, _, tt in results() if r.get("ttft_ms") and tt and r["role"] != "older_engine"])
    _tpot_table([(r, tp) for r, _, _, tp, _ in results() if r.get("tpot_p95_ms") and tp], "tpot_p95_ms", "p95",
                "our mean TPOT against the published 95th percentile (closed loops; a mean at or under its p95 is right)")
    _tpot_table([(r, tt) for r, _, _, _, tt in results() if r.get("ttft_p95_ms") and tt], "ttft_p95_ms", "p95",
                "our mean TTFT against the published 95th percentile (closed loops; a mean at or under its p95 is right)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
