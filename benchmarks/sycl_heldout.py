"""SYCL rows by when they were read: held-out figures per batch of benchmarks/published/llamabench_weak.yaml
(docs/methodology.md 5b-sycl2).

Usage: python benchmarks/sycl_heldout.py [--json] [--terms]
Each SYCL row is scored as benchmarks/weak_backends.py scores it: a row in the fit by the fit redone without its GPU
(leave-one-hardware-out), a blind row (`in_fit: false`) by a fit with no row of its GPU. The rows are grouped by the
comment line of the file that added them (`# --- session 12: sycl2`, `# --- session 11: intel`, ...), so the rows
added in one pass, held out before its formula changes, are reported apart from the rows an earlier pass fitted on.
Each row also names the one-token kernel its build ran for the type holding most of its layers' weights
(estimate/sycl_path.decode_kernel: DMMV or MMVQ, block or reordered layout), and the decode errors are summed up per
kernel at the end (docs/methodology.md 5b-sycl6), the prompt errors per GPU (5b-sycl8). `--terms` prints instead each
MoE decode row's prediction taken apart term by term (decode_terms, 5b-sycl26).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, never an installed one
sys.path.insert(0, str(ROOT / "benchmarks"))

import weak_backends  # noqa: E402

DATA = ROOT / "benchmarks" / "published" / "llamabench_weak.yaml"
BATCH_MARK = "# --- session "


def batches(path: Path = DATA) -> dict[tuple, str]:
    """(hardware, model, quant, test, tokens/s) of every SYCL row -> the batch that added it: the text of the last
    `# --- session N: who` line above it (its first words), or "before session 11"."""
    out: dict[tuple, str] = {}
    text = path.read_text().splitlines()
    rows = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506
    starts = [i for i, line in enumerate(text) if line.startswith("- {")]
    assert len(starts) == len(rows), "one row per '- {' line"
    marks = [(i, line[len("# --- "):].split(".")[0].split(" (")[0].strip())
             for i, line in enumerate(text) if line.startswith(BATCH_MARK)]
    for start, r in zip(starts, rows):
        if r["backend"] != "sycl":
            continue
        before = [m for i, m in marks if i < start]
        out[(r["hardware"], r["model"], r["quant"], r["test"], float(r["tokens_per_s"]))] = (
            before[-1] if before else "before session 11")
    return out


def _builds(path: Path = DATA) -> dict[tuple, str]:
    """(hardware, model, quant, test, tokens/s) of every SYCL row -> its `build` text ("" when the row states none)."""
    import fit_speed

    return {(r.hardware, r.model_id, r.quant, r.test, float(r.measured)): r.build
            for r in fit_speed.published_rows(path) if r.backend == "sycl"}


def kernels(path: Path = DATA) -> dict[tuple, str]:
    """(hardware, model, quant, test, tokens/s) of every SYCL row -> the decode kernel its build runs for the GGML type
    holding most of the model's layer weights (sycl_path.decode_kernel, at the row's build text and GPU)."""
    import fit_speed
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate import sycl_path
    from selfhost_advisor.estimate.speed_work import token_work

    out: dict[tuple, str] = {}
    for r in fit_speed.published_rows(path):
        if r.backend != "sycl":
            continue
        weights: dict[str, float] = {}
        for layer in token_work(get_model(r.model_id), get_quant(r.quant)).layer_matrices:
            for ty, n, _ in layer:
                weights[ty] = weights.get(ty, 0.0) + n
        main = max(weights, key=weights.get)
        out[(r.hardware, r.model_id, r.quant, r.test, float(r.measured))] = (
            f"{main} {sycl_path.decode_kernel(main, sycl_path.parse_build(r.build), r.machine.devices[0])}")
    return out


def _grouped(rep: dict, kind: str, label) -> dict[str, dict]:
    """The out-of-sample errors of every `kind` row ("decode" / "prefill") grouped by label(row): rows, median |error|
    and median signed error (+ = predicted faster), sorted by label."""
    groups: dict[str, list[float]] = {}
    for key, g in rep.items():
        if not key.endswith(f"/ {kind}"):
            continue
        for x in g["rows"]:
            if x["error_pct"] is not None:
                groups.setdefault(label(x), []).append(x["error_pct"])
    return {k: {"rows": len(v), "median_abs_error_pct": round(statistics.median(abs(e) for e in v), 1),
                "median_error_pct": round(statistics.median(v), 1)} for k, v in sorted(groups.items())}


def _kernel_label(x: dict) -> str:
    return x["kernel"].split(" ", 1)[1]


def by_kernel(rep: dict) -> dict[str, dict]:
    """Decode errors per kernel label: rows, median |error| and median signed error (+ = predicted faster)."""
    return _grouped(rep, "decode", _kernel_label)


def prefill_by_gpu(rep: dict) -> dict[str, dict]:
    """Prompt errors per GPU over every batch: rows, median |error| and median signed error (+ = predicted faster).
    A bias one GPU carries on every model shows here (the B580's -17..-47% before 5b-sycl8), where the per-batch medians
    mix GPUs."""
    return _grouped(rep, "prefill", lambda x: x["hardware"])


def decode_by_gpu(rep: dict) -> dict[str, dict]:
    """Decode errors per GPU and kernel label ("arc b580 / MMVQ reordered"): rows, median |error| and median signed
    error (+ = predicted faster). by_kernel's pooled MMVQ figure mixes two opposite biases: every Xe2 card predicted slow
    on the reordered MMVQ (B580 -15..-29%), the A770's rows predicted fast; the split shows which GPU carries it."""
    return _grouped(rep, "decode", lambda x: f"{x['hardware']} / {_kernel_label(x)}")


def _year(build: str) -> str:
    """The year of a row's llama.cpp build as its `build` text dates it (sycl_path.parse_build), "newest" when undated."""
    from selfhost_advisor.estimate import sycl_path

    date = sycl_path.parse_build(build).date
    return date[:4] if date else "newest"


def decode_by_generation(rep: dict) -> dict[str, dict]:
    """Decode errors per Intel GPU generation and build year ("Xe2-HPG / 2026"): rows, median |error| and median signed
    error (+ = predicted faster). Why: the per-GPU split mixes builds, and the two biggest signed biases sit on one
    generation at one time: Xe2 dGPUs predicted slow on 2025 builds (the B580's) and on 2026 builds (the B70's), the
    Xe-HPG cards fast on 2024-2025 builds (docs/methodology.md 5b-sycl12)."""
    return _grouped(rep, "decode", lambda x: f"{x['architecture']} / {x['year']}")


def structure(model_id: str) -> str:
    """A model's decode structure as the SYCL misses split (docs/methodology.md 5b-sycl25): "dense", "dense hybrid"
    (recurrent layers), "MoE", "MoE hybrid", "MoE MLA" (multi-head latent attention)."""
    from selfhost_advisor.catalog.models import get as get_model

    m = get_model(model_id)
    kind = "MoE" if m.moe is not None and m.moe.active else "dense"
    if m.mla is not None:
        return f"{kind} MLA"
    return f"{kind} hybrid" if m.ssm is not None else kind


def decode_by_structure(rep: dict, blind_only: bool = False) -> dict[str, dict]:
    """Decode errors per model structure (structure(): dense, hybrid, MoE, MoE MLA ...): rows, median |error| and median
    signed error (+ = predicted faster); `blind_only`: the `in_fit: false` rows alone. Why: the sessions whose new rows
    read worst (15, 19-22) are the ones that brought MoE rows, and those split by sign with the MoE's structure (Qwen's
    plain MoE predicted slow, MLA and gpt-oss fast), which a median over every row hides (docs/methodology.md
    5b-sycl25)."""
    if blind_only:
        rep = {k: {**g, "rows": [x for x in g["rows"] if x["blind"]]} for k, g in rep.items()}
    return _grouped(rep, "decode", lambda x: structure(x["model"]))


# The SYCL decode terms of estimate/speed_decode.py that decode_terms() takes apart, in the order it switches them off:
# (label, the module and function that computes it). Each term is the row's predicted time with the terms before it off,
# less its time with this one off too; so the terms and the rest sum to the prediction whatever overlaps between them
# (expert_layout_seconds calls block_layout_seconds for non-K-quant experts: that part counts as the expert layout).
DECODE_TERMS = (("routing submissions", "sycl_path", "moe_layer_seconds"),
                ("expert calls before PR #21920", "sycl_path", "expert_decode_seconds"),
                ("expert tensors on the block layout", "sycl_path", "expert_layout_seconds"),
                ("block layout and BF16 (dense, head)", "sycl_path", "block_layout_seconds"),
                ("SSM scan on the CPU", "sycl_path", "ssm_fallback_seconds"),
                ("per-layer fixed time", "speed_decode", "layer_seconds"))


def decode_terms(row) -> dict[str, float]:
    """Milliseconds per token of one SYCL decode row (a scripts/fit_speed.Row): `measured`, `predicted`, what each of
    DECODE_TERMS adds to the prediction, and `rest` (weights and KV streamed at the family share, the output head,
    llama-server's sampling). Why: 5b-sycl25 took the MoE rows' predictions apart with a throw-away instrumented
    predict; the same split, kept here, says which term a row's miss sits in (docs/methodology.md 5b-sycl26)."""
    import importlib
    from contextlib import ExitStack
    from unittest import mock

    import fit_speed

    def ms() -> float:
        return 1000.0 / fit_speed.predict(row)

    out = {"measured": 1000.0 / row.measured, "predicted": ms()}
    with ExitStack() as stack:
        before = out["predicted"]
        for label, module, name in DECODE_TERMS:
            mod = importlib.import_module(f"selfhost_advisor.estimate.{module}")
            stack.enter_context(mock.patch.object(mod, name, lambda *a, **k: 0.0))
            now = ms()
            out[label] = before - now
            before = now
        out["rest"] = before
    return out


def moe_decode_terms(path: Path = DATA) -> list[dict]:
    """decode_terms of every SYCL decode row of an MoE model (structure() "MoE ..."), with its hardware, model, quant,
    test, build text and whether it is blind; in the file's order."""
    import fit_speed

    return [{"hardware": r.hardware, "model": r.model_id, "quant": r.quant, "test": r.test, "build": r.build,
             "blind": r.blind, **decode_terms(r)}
            for r in fit_speed.published_rows(path)
            if r.backend == "sycl" and r.kind == fit_speed.DECODE and structure(r.model_id).startswith("MoE")]


def report(rows: list[dict] | None = None) -> dict:
    """Per batch and test: rows, median |error| and each signed error (the out-of-sample one of weak_backends)."""
    which = batches()
    kernel = kernels()
    builds = _builds()
    rows = rows if rows is not None else weak_backends.rows_report(
        only={k[0] for k in which})
    out: dict[str, dict] = {}
    for r in rows:
        if r["backend"] != "sycl":
            continue
        key = (r["hardware"], r["model"], r["quant"], r["test"], float(r["measured"]))
        batch = which.get(key, "?")
        g = out.setdefault(f"{batch} / {r['kind']}", {"rows": []})
        g["rows"].append({"hardware": r["hardware"], "model": r["model"], "quant": r["quant"], "test": r["test"],
                          "measured": r["measured"], "blind": r["blind"], "error_pct": r["error_pct"],
                          "architecture": r["architecture"], "year": _year(builds.get(key, "")),
                          "kernel": kernel.get(key, "?") if r["kind"] == "decode" else ""})
    for g in out.values():
        errs = [abs(x["error_pct"]) for x in g["rows"] if x["error_pct"] is not None]
        g["median_abs_error_pct"] = round(statistics.median(errs), 1) if errs else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--terms", action="store_true",
                    help="only the MoE decode rows, each prediction taken apart by term (ms per token)")
    args = ap.parse_args()
    if args.terms:
        terms = moe_decode_terms()
        if args.json:
            print(json.dumps(terms, indent=2))
            return 0
        labels = [t[0] for t in DECODE_TERMS]
        print("SYCL MoE decode rows, ms per token: measured, predicted, and what each term adds to the prediction "
              "(" + "; ".join(f"{i + 1} {x}" for i, x in enumerate(labels)) + "; rest: weights, KV, head, sampling)")
        print(f"    {'hardware':12} {'model':22} {'quant':9} {'test':12} {'meas':>6} {'pred':>6} "
              + " ".join(f"{i + 1:>5}" for i in range(len(labels))) + f" {'rest':>6}")
        for t in terms:
            print(f"    {t['hardware'][:12]:12} {t['model'][:22]:22} {t['quant'][:9]:9} {t['test'][:12]:12}"
                  f" {t['measured']:6.2f} {t['predicted']:6.2f} " + " ".join(f"{t[x]:5.2f}" for x in labels)
                  + f" {t['rest']:6.2f}{'  (blind)' if t['blind'] else ''}")
        return 0
    rep = report()
    if args.json:
        print(json.dumps({"batches": rep, "decode_by_kernel": by_kernel(rep), "decode_by_gpu": decode_by_gpu(rep),
                          "decode_by_generation": decode_by_generation(rep),
                          "decode_by_structure": decode_by_structure(rep),
                          "blind_decode_by_structure": decode_by_structure(rep, blind_only=True),
                          "prefill_by_gpu": prefill_by_gpu(rep)},
                         indent=2))
        return 0
    for key in sorted(rep):
        g = rep[key]
        print(f"{key}: {len(g['rows'])} rows, median |error| {g['median_abs_error_pct']}%")
        for x in g["rows"]:
            err = "n/a" if x["error_pct"] is None else f"{x['error_pct']:+.1f}%"
            print(f"    {x['hardware'][:24]:24} {x['model']:12} {x['quant']:6} {x['test']:6} measured"
                  f" {x['measured']:8.2f}  {err:7}  {x['kernel']:20}{'  (blind)' if x['blind'] else ''}")
    for what, groups, width in (("decode errors by kernel", by_kernel(rep), 16),
                                ("decode errors by GPU and kernel", decode_by_gpu(rep), 42),
                                ("decode errors by GPU generation and build year", decode_by_generation(rep), 42),
                                ("decode errors by model structure", decode_by_structure(rep), 16),
                                ("blind decode errors by model structure", decode_by_structure(rep, True), 16),
                                ("prefill errors by GPU", prefill_by_gpu(rep), 24)):
        rows_said = "the in_fit: false rows alone" if what.startswith("blind") else "every row"
        print(f"\n{what} ({rows_said}, its out-of-sample error; + = predicted faster):")
        for k, v in groups.items():
            print(f"    {k[:width]:{width}} {v['rows']:3d} rows  median |error| {v['median_abs_error_pct']:5.1f}%"
                  f"  signed {v['median_error_pct']:+6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
