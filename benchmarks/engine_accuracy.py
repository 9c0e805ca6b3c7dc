"""Compare the engine memory estimates with the engines' own start-up logs (data/engine_logs.yaml).

Usage: python benchmarks/engine_accuracy.py [--json]
vLLM rows: the KV pool ("Available KV cache memory", or "GPU KV cache size" tokens x bytes per token) predicted from
the run's own GPU memory, utilisation and batch settings, with our weights, activation peak, non-torch and graph
memory; the profiled activation peak, non-torch memory (absolute GiB) and CUDA-graph memory where the log prints them. Errors are (estimate - logged) / logged; rows
marked holdout are reported apart. Ollama / llama.cpp rows (engine: ollama | llamacpp) are added by their own
evaluators in EVALUATORS.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog.data import load  # noqa: E402
from selfhost_advisor.catalog.hardware import find_profile  # noqa: E402
from selfhost_advisor.catalog.models import get as get_model  # noqa: E402
from selfhost_advisor.domain import Device, FitRequest, Machine  # noqa: E402
from selfhost_advisor.estimate import vllm as V  # noqa: E402
from selfhost_advisor.estimate import vllm_graphs as VG  # noqa: E402

GIB = 2**30


def _version(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def _machine(row: dict) -> Machine:
    """The run's GPUs: the CUDA total the log printed when it printed one, else our per-profile figure."""
    prof = find_profile(row["gpu"]) if row.get("gpu") else None
    name = prof.name if prof else row.get("gpu_name", "GPU")
    logged_total = row["logged"].get("total_gpu_memory")
    if logged_total is not None:
        mem, matched = int(logged_total * GIB), None
    else:
        mem, matched = (prof.memory_bytes if prof else 0), (prof.id if prof else None)
    dev = Device("nvidia", name, mem, matched_profile=matched)
    return Machine(name, (dev,) * int(row["gpus"]), 0, interconnect=row.get("interconnect", ""))


def vllm_row(row: dict) -> dict:
    m = get_model(row["model"])
    q = V.get_vllm_quant(row["quant"])
    f = row["flags"]
    machine = _machine(row)
    tp = int(row["tp"])
    refusal = _cli_refusal(m, row["version"])
    if refusal:  # a model whose vLLM memory is not modelled: `fit --engine vllm` refuses it, so no figure is scored
        return {"source": row["source"], "model": row["model"], "quant": row["quant"], "gpu": row.get("gpu"),
                "tp": tp, "version": row["version"], "holdout": bool(row.get("holdout")), "cli_refuses": refusal}
    graphs_in_budget = V.graphs_in_budget(m, row["version"])
    req = FitRequest(context=int(f["max_model_len"]), engine="vllm", gpu_memory_utilization=float(f["gpu_memory_utilization"]),
                     max_num_seqs=int(f["max_num_seqs"]), max_num_batched_tokens=int(f["max_num_batched_tokens"]),
                     enforce_eager=not graphs_in_budget or bool(f.get("enforce_eager")), tensor_parallel=tp,
                     kv_cache_type=f.get("kv_cache_dtype", "auto"), engine_version=row["version"])
    p = V.plan(m, q, machine, req)
    # V0 gathers logits to TP rank 0 only: other ranks profile no sampler
    seqs = 0 if row["generation"] == "v0" and int(row.get("rank", 0)) > 0 else int(f["max_num_seqs"])
    # the sampler the run's own release profiled (V0 always sorted; a row may name the path its log shows)
    path = row.get("sampler_path") or ("torch_sort" if row["generation"] == "v0" else V.sampler_path(m, row["version"]))
    act = V.activation_bytes(m, tp, int(f["max_num_batched_tokens"]), seqs, path)
    pool = p.pool_bytes_per_gpu + (p.memory.compute_buffer_bytes // tp - act)  # the plan's pool, with this rank's activation
    if p.pool_bytes_per_gpu == 0:  # the plan clamps at 0; rebuild the signed figure vLLM logs
        total = V.cuda_total_bytes(machine.devices[0])
        pool = int(total * req.gpu_memory_utilization) - _row_weights(row, m, q, machine).per_gpu(tp) - act \
            - V.non_torch_bytes(tp, machine.interconnect, row["version"]) - (0 if req.enforce_eager else _row_graphs(row, m))
    lg = row["logged"]
    out = {"source": row["source"], "model": row["model"], "quant": row["quant"], "gpu": row.get("gpu") or row.get("gpu_name"),
           "tp": tp, "version": row["version"], "holdout": bool(row.get("holdout"))}
    if row.get("expect_refusal"):  # vLLM stopped at start-up: does the estimate stop too?
        # plan()'s own rule (pool >= one sequence's KV) on this row's pool, which carries the row's sampler path
        out["refused_est"] = p.placement.fit == "no" or pool < p.seq_kv_bytes_per_gpu * req.n_parallel
        out["refused_logged"] = True
    kv_logged = lg.get("kv_cache")
    if kv_logged is None and lg.get("kv_cache_tokens"):
        kv_logged = lg["kv_cache_tokens"] * V.kv_bytes_per_token(m, tp, V.kv_dtype_bytes(req.kv_cache_type)) / GIB
    if kv_logged is not None:
        out.update(kv_logged_gib=round(kv_logged, 2), kv_est_gib=round(pool / GIB, 2),
                   kv_err=(pool / GIB - kv_logged) / abs(kv_logged) if kv_logged else None)
    if lg.get("activation") is not None:
        out.update(act_logged_gib=lg["activation"], act_est_gib=round(act / GIB, 2),
                   act_err=(act / GIB - lg["activation"]) / lg["activation"])
    if lg.get("non_torch") is not None:
        nt = V.non_torch_bytes(tp, machine.interconnect, row["version"]) / GIB
        out.update(non_torch_logged_gib=lg["non_torch"], non_torch_est_gib=round(nt, 2), non_torch_abs=nt - lg["non_torch"])
    if lg.get("graphs") is not None:
        g = _row_graphs(row, m) / GIB
        out.update(graphs_logged_gib=lg["graphs"], graphs_est_gib=round(g, 2), graphs_err=(g - lg["graphs"]) / lg["graphs"])
    if lg.get("weights") is not None:
        w = _row_weights(row, m, q, machine).per_gpu(tp) / GIB
        out.update(weights_logged_gib=lg["weights"], weights_est_gib=round(w, 2), weights_err=(w - lg["weights"]) / lg["weights"])
    return out


def _cli_refusal(m, version: str) -> str:
    """Why the CLI refuses this model on vLLM (engines' check_runs: data/engines.yaml not_sized), '' where it sizes it."""
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.errors import NotSizedModelError

    try:
        get_engine("vllm").check_runs(m, version)
    except NotSizedModelError as e:
        return str(e)
    return ""


def _row_weights(row: dict, m, q, machine):
    """The weights plan() counts for the run: MXFP4 experts laid out for the release's MoE kernel on its GPU."""
    return V.vllm_weights(m, q, V.mxfp4_kernel(m, q, machine, row["version"]))


def _row_graphs(row: dict, m) -> int:
    """The graph law (estimate/vllm_graphs.py) for a start-up log row, with the run's generation, release and flags."""
    f = row["flags"]
    tp = int(row["tp"])
    return VG.graph_bytes(lambda n: V.forward_peak_bytes(m, tp, n), int(f["max_num_batched_tokens"]),
                          int(f["max_num_seqs"]), row["version"], row["generation"], _machine(row).devices[0])


EVALUATORS = {"vllm": vllm_row}
sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_accuracy_local import EVALUATORS as _GGUF_MLX  # noqa: E402  (llama.cpp, Ollama and MLX rows)

EVALUATORS.update(_GGUF_MLX)


def evaluate(rows: list[dict] | None = None) -> list[dict]:
    rows = load("engine_logs")["rows"] if rows is None else rows
    out = []
    for row in rows:
        fn = EVALUATORS.get(row["engine"])
        if fn is not None:
            out.append({"engine": row["engine"], **fn(row), "session": row.get("session")})
    return out


def summary(results: list[dict]) -> dict:
    """Median and max |error| per engine and quantity, for seen rows, held-out rows and the rows added blind in sessions
    33 and 34 (`session: 33` / `session: 34`, logs of 2025-2026 read after the rules were written) apart."""
    out: dict = {}
    for r in results:
        for key in [k for k in r if k.endswith(("_err", "_abs")) and r[k] is not None]:
            name = key[:-4] + ("_gib" if key.endswith("_abs") else "")
            group = out.setdefault(r["engine"], {}).setdefault(name, {"seen": [], "holdout": [], "s33": [], "s34": []})
            sess = r.get("session")
            group[f"s{sess}" if sess in (33, 34) else "holdout" if r["holdout"] else "seen"].append(abs(r[key]))
    for eng in out.values():
        for q, g in eng.items():
            eng[q] = {k: ({"n": len(v), "median": statistics.median(v), "max": max(v)} if v else {"n": 0})
                      for k, v in g.items()}
    return out


def graph_estimates() -> list[dict]:
    """vLLM >= 0.21's own "Estimated CUDA graph memory" lines against our constant (engines.yaml cudagraph_bytes);
    rows marked holdout were added after the constant was set and are reported apart."""
    g = int(load("engines")["engines"]["vllm"]["cudagraph_bytes"]) / GIB
    out = []
    for r in load("engine_logs").get("cudagraph_estimates", []):
        row = {**r, "ours_gib": g, "err": (g - r["estimate_gib"]) / r["estimate_gib"], "holdout": bool(r.get("holdout"))}
        counts = logged_counts(r)
        if counts is not None:
            pw, full, largest = counts
            act = V.forward_peak_bytes(get_model(r["model_id"]), int(r["tp"]), largest) \
                if r.get("model_id") and largest else 0  # an unnamed model's activations are in the workspace figure
            law = VG.law_bytes(act, pw, full) / GIB
            row.update(counts=counts, law_gib=law, law_err=(law - r["estimate_gib"]) / r["estimate_gib"])
        out.append(row)
    return out


def logged_counts(r: dict) -> tuple[int, int, int | None] | None:
    """(PIECEWISE sets, FULL graphs, largest size) an estimate log quotes ("Profiling CUDA graph memory: PIECEWISE=51
    (largest=512), FULL=35 (largest=256)", or the capture bars' counts); None where it quotes none."""
    import re

    if r.get("capture"):
        return tuple(r["capture"])
    text = str(r.get("graphs", ""))
    pw, full = re.search(r"PIECEWISE=(\d+)", text), re.search(r"FULL=(\d+)", text)
    if not pw and not full:
        return None
    largest = [int(x) for x in re.findall(r"largest=(\d+)", text)]
    return int(pw.group(1)) if pw else 0, int(full.group(1)) if full else 0, max(largest) if largest else None


def first_capture_residuals() -> list[float]:
    """What the seen estimate logs leave for the first-capture workspace (GiB): the logged estimate - 2 x the largest
    batch's activations (catalog models only) - the per-graph floor x the further graphs. Its median is
    engines.yaml cudagraph_first_capture_bytes; logs that quote no graph counts, held-out logs, negative estimates and
    the DP/EP run (its all-to-all workspace extrapolated per graph, vllm issue #45178) are left out."""
    floor = int(load("engines")["engines"]["vllm"]["cudagraph_per_graph_bytes"])
    first = int(load("engines")["engines"]["vllm"]["cudagraph_first_capture_bytes"])
    out = []
    for r in graph_estimates():
        if r["holdout"] or "law_gib" not in r or r["estimate_gib"] <= 0 or "DP/EP" in r["model"]:
            continue
        pw, full, _ = r["counts"]
        # the law's own parts, taken back out: law - first = 2 x activations + floor x further graphs
        parts = r["law_gib"] * GIB - first
        assert parts >= (max(0, pw - 1) + max(0, full - 1)) * floor
        out.append((r["estimate_gib"] * GIB - parts) / GIB)
    return out


def graph_law_scores() -> dict:
    """The graph law against vLLM's own estimates, seen and held out apart, beside the constant on the same rows
    (only logs that quote their graph counts can be scored; negative estimates are not)."""
    rows = [r for r in graph_estimates() if "law_gib" in r and r["estimate_gib"] > 0]
    out = {}
    for label, grp in (("seen", [r for r in rows if not r["holdout"]]), ("holdout", [r for r in rows if r["holdout"]])):
        out[label] = {"n": len(grp),
                      "law_rel": statistics.median(abs(r["law_err"]) for r in grp),
                      "const_rel": statistics.median(abs(r["err"]) for r in grp),
                      "law_abs_gib": statistics.median(abs(r["law_gib"] - r["estimate_gib"]) for r in grp),
                      "const_abs_gib": statistics.median(abs(r["ours_gib"] - r["estimate_gib"]) for r in grp)}
    return out


PREVIOUS_GRAPH_GIB = 0.75  # the constant before session 11 (engines.yaml history), scored beside the current one


def graph_constant() -> dict:
    """The graph constant as the median of the seen estimate logs, scored on the held-out ones beside the previous
    0.75 GiB: median absolute error in GiB (what moves the KV pool) and relative. Negative logged estimates (free
    memory rose during the profiling capture) are not scored."""
    rows = [r for r in graph_estimates() if r["estimate_gib"] > 0]
    seen = [r["estimate_gib"] for r in rows if not r["holdout"]]
    held = [r["estimate_gib"] for r in rows if r["holdout"]]
    ours = rows[0]["ours_gib"]

    def score(c: float) -> dict:
        return {"abs_gib": statistics.median(abs(c - x) for x in held),
                "rel": statistics.median(abs(c - x) / x for x in held)}

    return {"seen_median_gib": statistics.median(seen), "n_seen": len(seen), "n_held": len(held),
            "ours_gib": ours, "ours": score(ours), "previous": score(PREVIOUS_GRAPH_GIB)}


def capture_counts(generation: str, version: str, max_num_seqs: int, batched_tokens: int) -> tuple[int, int, int]:
    """(piecewise graph sets, full graphs, largest captured tokens) vLLM captures by default (estimate/vllm_graphs.py).

    V0 (worker/model_runner.py): full decode graphs for 1, 2, 4, 8, 16, ... up to max_num_seqs (256 at most).
    V1 before 0.11.0: PIECEWISE only, the default list [1, 2, 4] + range(8, 256, 8) + range(256, 513, 16) up to
    max_num_batched_tokens. From 0.11.0 (PR #25444: FULL_AND_PIECEWISE the default): piecewise sizes up to
    max_cudagraph_capture_size = min(2 x max_num_seqs, 512) (vllm/config/compilation.py), FULL decode graphs for the
    sizes up to max_num_seqs (a uniform decode batch has one token per sequence)."""
    return VG.capture_counts(generation, version, max_num_seqs, batched_tokens)


def _graph_logs():
    """(row, its logged figures, its flags) of every vLLM start-up log that states its graphs' memory ("Graph capturing
    finished ... took X GiB"): the rows graph_layer_law and graph_mode_split_law score their laws on."""
    for row in load("engine_logs")["rows"]:
        lg = row.get("logged", {})
        if row.get("engine") == "vllm" and lg.get("graphs") is not None:
            yield row, lg, row["flags"]


def graph_layer_law() -> dict:
    """A capture-size law, examined and not adopted (docs/methodology.md 6b): graph memory = the largest captured
    batch's transient activations of one layer (gate_up 2I, the activation I, the residual and its norm 2h, 16-bit,
    I / TP per rank) + a cost per captured graph piece (each piecewise size is layers + 1 graphs, each full graph one
    graph of all layers' kernels: pieces = sets x (L + 1) + full x L) x c. c is fitted on the seen rows that name a
    catalog model and their graph counts (cudagraph_estimates with model_id), then every held-out row is predicted:
    the start-up logs' "Graph capturing finished ... took X GiB" (engine_logs rows with logged graphs)."""
    seen = [r for r in load("engine_logs").get("cudagraph_estimates", []) if r.get("model_id") and not r.get("holdout")]

    def shape(model_id: str, tp: int, sets: int, full: int, largest: int) -> tuple[float, int]:
        m = get_model(model_id)
        act = largest * (3 * m.intermediate_size / tp + 2 * m.hidden_size) * 2
        return act, sets * (m.n_layers + 1) + full * m.n_layers

    fit = []
    for r in seen:
        act, pieces = shape(r["model_id"], int(r["tp"]), *r["capture"])
        fit.append((r["estimate_gib"] * GIB - act) / pieces)
    c = statistics.mean(fit) if fit else 0.0
    const = int(load("engines")["engines"]["vllm"]["cudagraph_bytes"])
    out = []
    for row, lg, f in _graph_logs():
        counts = capture_counts(row["generation"], row["version"], int(f["max_num_seqs"]), int(f["max_num_batched_tokens"]))
        act, pieces = shape(row["model"], int(row["tp"]), *counts)
        law = (act + pieces * c) / GIB
        out.append({"source": row["source"], "model": row["model"], "tp": int(row["tp"]), "version": row["version"],
                    "capture": counts, "logged_gib": lg["graphs"], "law_gib": law,
                    "law_err": (law - lg["graphs"]) / lg["graphs"], "const_err": (const / GIB - lg["graphs"]) / lg["graphs"],
                    "holdout": bool(row.get("holdout"))})
    return {"c_mib_per_piece": c / 2**20, "fitted_on": len(fit), "rows": out}


def graph_mode_split_law() -> dict:
    """The graph law with its first-capture workspace split by mode, examined and not adopted (docs/methodology.md 6b,
    session 28). In vLLM's _dummy_run attention metadata is built only when force_attention or the runtime mode is FULL
    (v1/worker/gpu_model_runner.py), so a PIECEWISE capture runs no attention kernel at all (the attention layers see no
    metadata), while the first FULL capture of profile_cudagraph_memory runs attention at profile_seq_lens =
    max_num_batched_tokens / batch tokens: only runs with FULL graphs meet the attention backend's capture-time buffers.
    Each workspace is the median, over the seen estimate logs of its kind (PIECEWISE only, or with FULL graphs), of what
    the law's derived parts leave (first_capture_residuals' rule); held-out logs are predicted, never fitted. Scored
    on the estimate logs (seen, held out) and on the "Graph capturing finished ... took X GiB" start-up rows."""
    floor = int(load("engines")["engines"]["vllm"]["cudagraph_per_graph_bytes"])
    first = int(load("engines")["engines"]["vllm"]["cudagraph_first_capture_bytes"])
    est = [r for r in graph_estimates() if "law_gib" in r and r["estimate_gib"] > 0]
    res: dict[str, list[float]] = {"piecewise": [], "full": []}
    for r in est:
        if r["holdout"] or "DP/EP" in r["model"]:
            continue
        pw, full, _ = r["counts"]
        parts = r["law_gib"] * GIB - first
        assert parts >= (max(0, pw - 1) + max(0, full - 1)) * floor
        res["full" if full else "piecewise"].append(r["estimate_gib"] * GIB - parts)
    work = {k: statistics.median(v) for k, v in res.items() if v}

    def split(law_bytes: float, full: int) -> float:
        return law_bytes - first + work["full" if full else "piecewise"]

    out: dict = {"workspace_gib": {k: v / GIB for k, v in work.items()}, "fitted_on": {k: len(v) for k, v in res.items()}}
    for label, grp in (("seen", [r for r in est if not r["holdout"]]), ("holdout", [r for r in est if r["holdout"]]),
                       ("session28", [r for r in est if r.get("session") == 28])):  # the logs added blind in session 28
        if not grp:
            continue
        split_gib = [split(r["law_gib"] * GIB, r["counts"][1]) / GIB for r in grp]
        out[label] = {"n": len(grp),
                      "split_rel": statistics.median(abs(s - r["estimate_gib"]) / r["estimate_gib"] for s, r in zip(split_gib, grp)),
                      "law_rel": statistics.median(abs(r["law_err"]) for r in grp),
                      "split_abs_gib": statistics.median(abs(s - r["estimate_gib"]) for s, r in zip(split_gib, grp)),
                      "law_abs_gib": statistics.median(abs(r["law_gib"] - r["estimate_gib"]) for r in grp)}
    caps = []
    for row, lg, f in _graph_logs():
        pw, full, _ = VG.capture_counts(row["generation"], row["version"], int(f["max_num_seqs"]),
                                        int(f["max_num_batched_tokens"]),
                                        VG.capture_ceiling(row["version"], _machine(row).devices[0]))
        law = _row_graphs(row, get_model(row["model"]))
        caps.append({"model": row["model"], "tp": int(row["tp"]), "version": row["version"], "logged_gib": lg["graphs"],
                     "law_err": (law / GIB - lg["graphs"]) / lg["graphs"],
                     "split_err": (split(law, full) / GIB - lg["graphs"]) / lg["graphs"]})
    out["captures"] = caps
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = evaluate()
    summ = summary(results)
    if args.json:
        print(json.dumps({"rows": results, "summary": summ}, indent=2, default=str))
        return 0
    for r in results:
        parts = [f"{r['engine']:8} {r['model']:13} {r['quant']:9} {str(r['gpu']):12} tp{r['tp']} v{r['version']:10}"]
        for q in ("kv", "act", "weights", "graphs"):
            if f"{q}_err" in r and r[f"{q}_err"] is not None:
                parts.append(f"{q} {r[q + '_est_gib']:7.2f}/{r[q + '_logged_gib']:7.2f} GiB {r[q + '_err']:+6.1%}")
        for q in ("compute", "kvbuf", "batch", "decode", "prefill", "peak", "full", "partial", "graph", "total"):
            if r.get(f"{q}_err") is not None:
                parts.append(f"{q} {r[q + '_est']:8.2f}/{r[q + '_logged']:8.2f} {r[q + '_unit']} {r[q + '_err']:+6.1%}")
        if r.get("cli_refuses"):
            parts.append("not sized: fit --engine vllm refuses it (exit 2)")
        if "refused_est" in r:  # vLLM stopped at start-up: yes/no whether the estimate stops too
            parts.append(f"refused {'yes' if r['refused_est'] else 'NO'}/yes")
        if "layers_est" in r:
            parts.append(f"layers {r['layers_est']}/{r['layers_logged']} of {r['model_layers']}")
        sess = r.get("session")
        print("  ".join(parts) + (f"  [s{sess}]" if sess in (33, 34) else "  [holdout]" if r["holdout"] else ""))
    print()
    for eng, qs in summ.items():
        for q, g in qs.items():
            for k, s in g.items():
                if s["n"]:
                    if q.endswith("_gib"):  # absolute error in GiB (small quantities where a ratio misleads)
                        print(f"{eng} {q:13} {k:8} n={s['n']:2}  median |err| {s['median']:5.2f} GiB  max {s['max']:5.2f} GiB")
                    else:
                        print(f"{eng} {q:13} {k:8} n={s['n']:2}  median |err| {s['median']:6.1%}  max {s['max']:6.1%}")
    ge = [r for r in graph_estimates() if r["estimate_gib"] > 0]  # negative logged estimates are not scored
    for label, grp in (("seen", [r for r in ge if not r["holdout"]]), ("holdout", [r for r in ge if r["holdout"]])):
        if grp:
            errs = [abs(r["err"]) for r in grp]
            logged = ", ".join(f"{r['estimate_gib']:.2f}" for r in grp)
            print(f"vllm graphs_estimate {label:8} n={len(grp):2}  median |err| {statistics.median(errs):6.1%}  max "
                  f"{max(errs):6.1%}  (ours {grp[0]['ours_gib']:.2f} GiB; logged {logged})")
    gc = graph_constant()
    print(f"vllm graphs_constant: ours {gc['ours_gib']:.3f} GiB (median of {gc['n_seen']} seen logs "
          f"{gc['seen_median_gib']:.3f}); held out n={gc['n_held']}: median |err| {gc['ours']['abs_gib']:.2f} GiB "
          f"({gc['ours']['rel']:.0%}), the previous {PREVIOUS_GRAPH_GIB:.2f} GiB {gc['previous']['abs_gib']:.2f} GiB "
          f"({gc['previous']['rel']:.0%})")
    for label, sc in graph_law_scores().items():
        print(f"vllm graphs_estimate law {label:8} n={sc['n']:2} (logs quoting their graph counts)  median |err| "
              f"{sc['law_rel']:6.1%} ({sc['law_abs_gib']:.2f} GiB); the constant on the same rows {sc['const_rel']:6.1%} "
              f"({sc['const_abs_gib']:.2f} GiB)")
    ms = graph_mode_split_law()
    caps = ms["captures"]
    print(f"vllm graphs mode-split law (not adopted): first-capture workspace PIECEWISE-only "
          f"{ms['workspace_gib']['piecewise']:.3f} GiB (n={ms['fitted_on']['piecewise']} seen), with FULL graphs "
          f"{ms['workspace_gib']['full']:.3f} GiB (n={ms['fitted_on']['full']} seen); estimate logs seen "
          f"{ms['seen']['split_rel']:.1%} (law {ms['seen']['law_rel']:.1%}), held out n={ms['holdout']['n']} "
          f"{ms['holdout']['split_rel']:.1%} / {ms['holdout']['split_abs_gib']:.2f} GiB (law {ms['holdout']['law_rel']:.1%} / "
          f"{ms['holdout']['law_abs_gib']:.2f} GiB), of them the {ms['session28']['n']} added blind in session 28 "
          f"{ms['session28']['split_rel']:.1%} (law {ms['session28']['law_rel']:.1%}); capture logs n={len(caps)} "
          f"{statistics.median(abs(c['split_err']) for c in caps):.1%} (law {statistics.median(abs(c['law_err']) for c in caps):.1%})")
    law = graph_layer_law()
    held = [r for r in law["rows"] if r["holdout"]]
    if held:
        print(f"vllm graphs layer law (not adopted): c = {law['c_mib_per_piece']:.3f} MiB per graph piece, fitted on "
              f"{law['fitted_on']} seen estimate row(s); held out n={len(held)}: law median |err| "
              f"{statistics.median(abs(r['law_err']) for r in held):.1%} (max {max(abs(r['law_err']) for r in held):.1%}), "
              f"constant {statistics.median(abs(r['const_err']) for r in held):.1%} "
              f"(max {max(abs(r['const_err']) for r in held):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
