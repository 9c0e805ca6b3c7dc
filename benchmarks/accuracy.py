"""Compare the estimator with measured data in ../shared/calibration and print per-row errors.

Usage: python benchmarks/accuracy.py [--calibration DIR] [--json]
- gguf_sizes.csv: estimated weights vs the real GGUF file size (the file also holds a few MB of metadata,
  which counts against us here);
- kv_and_runtime_memory.csv: estimated KV cache vs the KV buffer in llama.cpp / Ollama logs;
- benchmarks/heldout/gguf_sizes.csv: real GGUF sizes of models NOT in ../shared/calibration (gathered from
  published model cards and file listings, see benchmarks/heldout/README.md): how the rules generalize.
Rows whose model is not in the catalog, or whose file type the estimator does not know, are listed as skipped.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, never an installed one

from selfhost_advisor.record import replace  # noqa: E402
from selfhost_advisor.catalog.models import get as get_model, resolve  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.domain import FitRequest  # noqa: E402
from selfhost_advisor.errors import AdvisorError  # noqa: E402
from selfhost_advisor.estimate.memory import estimate_memory, kv_cache_bytes  # noqa: E402
from selfhost_advisor.estimate.ggml import tensor_bytes  # noqa: E402
from selfhost_advisor.estimate.quantize import assign_types  # noqa: E402
from selfhost_advisor.estimate.tensors import build_tensors, file_only_tensors  # noqa: E402
from selfhost_advisor.estimate.gguf_file import metadata_bytes  # noqa: E402

# Fine-tunes keep their base model's architecture (the calibration rows' notes say which base).
FINETUNE_BASE = {
    "bartowski/Llama-3.1-8B-Ultra-Instruct-GGUF": "llama3.1:8b",
    "bartowski/Llama-3.1-8B-Open-SFT-GGUF": "llama3.1:8b",
    "bartowski/llama-3-neural-chat-v1-8b-GGUF": "llama3:8b",
    "localmodels/Llama-2-7B-ggml": "llama2:7b",
    "TheBloke/Mistral-7B-v0.1-GGUF": "mistral:7b",
    "mradermacher/Mixtral-8x7B-v0.1-GGUF": "mixtral:8x7b",
}
# Files made under an older quantizer convention than the llama.cpp rules we port. Each is reported, and kept out
# of the headline figure only with its reason; tests/test_accuracy.py checks the reason where it can be checked.
LEGACY = {
    ("TheBloke/Mistral-7B-v0.1-GGUF", "Q2_K"): "made 2023-09, before llama.cpp's 2024-01 Q2_K rework (#4897) made Q2_K"
    " files ~12% smaller; current Q2_K files (bartowski Llama-3.1-8B, gemma-2-9b) match within 0.3%",
    ("bartowski/gemma-2-9b-it-GGUF", "Q4_K_L"): "bartowski's 2024-06 _L files kept embeddings/output at F16, not Q8_0;"
    " with F16 the estimate matches (tests/test_accuracy.py)",
}
UNIT = {"GB": 10**9, "MB": 10**6, "GiB": 2**30, "MiB": 2**20, "B": 1, "bytes": 1}


def _catalog_id(model_id: str) -> str:
    if model_id in FINETUNE_BASE:
        return FINETUNE_BASE[model_id]
    name = model_id.split("/", 1)[-1]
    name = re.sub(r"-(gguf|ggml)$", "", name, flags=re.I).replace("google_-_", "")
    return name


def gguf_rows(cal: Path) -> tuple[list[dict], list[str]]:
    rows, skipped = [], []
    with open(cal / "gguf_sizes.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                model = resolve(_catalog_id(r["model_id"])).model
                quant = get_quant(r["quant"])
            except AdvisorError as err:
                skipped.append(f"{r['model_id']} {r['quant']}: {err}")
                continue
            real = float(r["file_size_bytes_or_gb"]) * UNIT[r["unit"].strip()]
            est = file_bytes(model, quant)
            rows.append({
                "model": r["model_id"], "catalog": model.id, "quant": quant.name, "real_bytes": int(real),
                "estimated_bytes": est, "error_pct": 100.0 * (est - real) / real,
                "pre_gguf": "ggml" in r["model_id"].lower(),
                "legacy": LEGACY.get((r["model_id"], r["quant"])),
            })
    return rows, skipped


def kv_rows(cal: Path) -> tuple[list[dict], list[str]]:
    names = {"Qwen2-7B-Instruct": "qwen2.5:7b", "llama3": "llama3:8b", "Granite-8B-Code-Instruct-128k": None}
    rows, skipped = [], []
    with open(cal / "kv_and_runtime_memory.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            label = r["model"].split(" (")[0]
            cid = names.get(label)
            if cid is None:
                skipped.append(f"{label}: not in the catalog (architecture given in the row; see tests)")
                continue
            ctx = int(r["context"].split()[0])
            model = resolve(cid).model
            est, _ = kv_cache_bytes(model, FitRequest(context=ctx, engine="llamacpp"))
            real = float(r["kv_cache_mib"]) * 2**20
            rows.append({"model": label, "catalog": cid, "context": ctx, "real_bytes": int(real),
                         "estimated_bytes": est, "error_pct": 100.0 * (est - real) / real})
    return rows, skipped


HELDOUT = ROOT / "benchmarks" / "heldout" / "gguf_sizes.csv"
# The files data/gguf_arch.yaml's one fitted constant (mean_token_bytes) was fitted on: reported apart.
METADATA_FIT = frozenset({"bartowski/Qwen2.5-Coder-1.5B-Instruct-GGUF"})


def file_weights_bytes(model, quant) -> int:
    """Tensor data of a GGUF file of `model`: the loaded weights plus the blocks llama.cpp keeps in the file but never
    loads (GLM-4.5's NextN block, tensors.file_only_tensors), quantized as llama-quantize sees them: one more block."""
    req = FitRequest(context=512)
    if not model.gguf_nextn_layers:
        return estimate_memory(model, quant, req).weights_bytes
    whole, extra, types = _nextn_walk(model, quant)
    return estimate_memory(whole, quant, req).weights_bytes + sum(
        tensor_bytes(ty, t.n_elements, t.shape[0]) for t, ty in zip(extra, types))


def _nextn_walk(model, quant):
    whole = replace(model, n_layers=model.n_layers + model.gguf_nextn_layers, gguf_nextn_layers=0)
    extra = [t for t in file_only_tensors(model) if ".nextn." in t.name]
    return whole, extra, assign_types(whole, list(build_tensors(whole)) + extra, quant)[-len(extra):]


def file_bytes(model, quant) -> int:
    """The whole GGUF file: tensor data (file_weights_bytes) + header, tokenizer, tensor infos and padding
    (estimate/gguf_file.py)."""
    tensors = list(build_tensors(model)) + file_only_tensors(model)
    if model.gguf_nextn_layers:
        whole, extra, _ = _nextn_walk(model, quant)
        types = assign_types(whole, list(build_tensors(whole)) + extra, quant)
        tensors = list(build_tensors(whole)) + extra
    else:
        types = assign_types(model, tensors, quant)
    sizes = [tensor_bytes(ty, t.n_elements, t.shape[0]) for t, ty in zip(tensors, types)]
    return file_weights_bytes(model, quant) + metadata_bytes(model, tensors, sizes)


_HELDOUT_CACHE: dict[Path, list[dict]] = {}


def heldout_rows(path: Path = HELDOUT) -> list[dict]:
    """Estimated weights vs real sizes of files outside the calibration set; `note` explains each known miss.
    Computed once per process and path (500 file estimates, ~1 s; several test files read them): each call gets
    its own copies of the rows."""
    if path not in _HELDOUT_CACHE:
        _HELDOUT_CACHE[path] = _heldout_rows(path)
    return [dict(r) for r in _HELDOUT_CACHE[path]]


def _heldout_rows(path: Path) -> list[dict]:
    rows = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            model = resolve(r["catalog_id"]).model
            real = int(r["real_bytes"])
            quant = get_quant(r["quant"])
            # llama-bench's "model size" counts tensor bytes only; every other row is a whole file
            est = (file_weights_bytes(model, quant) if "tensor bytes only" in r["precision"]
                   else file_bytes(model, quant))
            rows.append({"model": r["model_id"], "catalog": model.id, "arch": model.arch, "quant": r["quant"],
                         "real_bytes": real, "estimated_bytes": est, "error_pct": 100.0 * (est - real) / real,
                         "precision": r["precision"], "source": r["source"], "note": r["note"]})
    return rows


def device_speed_rows() -> list[dict]:
    """Our llama-bench runs on a lent GPU (benchmarks/device/): each row predicted three ways.

    in_fit: the shipped fit (its dense-model rows are what the mat-vec and MMQ rates are fitted on); leave_model_out:
    the fit redone without that model's runs, then predicted (how the rates carry to other models); the MoE runs are
    in no fit, so for them the two are the same figure; heldout: a later run of models and types the fit never saw
    (benchmarks/device/h200_heldout.jsonl).
    """
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    cal = fit_speed.fit_rows()
    dev = fit_speed.device_rows()
    mv = [r for r in dev if fit_speed.in_fit(r)]
    full = fit_speed._table(fit_speed.fit(cal, mv))
    by_model = {m: fit_speed._table(fit_speed.fit(cal, [r for r in mv if r.model_id != m]))
                for m in sorted({r.model_id for r in mv})}
    out = []
    held = fit_speed.device_rows(fit_speed.DEVICE_HELDOUT)
    for r in dev + held:
        pred = fit_speed.predict(r, full)
        fitted = r in dev and fit_speed.in_fit(r)
        loo = fit_speed.predict(r, by_model[r.model_id]) if fitted else pred
        out.append({"model": r.model_id, "quant": r.quant, "test": r.test, "gpu": r.hardware,
                    "kind": "decode" if r.kind == fit_speed.DECODE else "prefill", "measured": r.measured,
                    "predicted": pred, "error_pct": 100.0 * (pred / r.measured - 1),
                    "leave_model_out_error_pct": 100.0 * (loo / r.measured - 1),
                    "in_fit": fitted, "heldout": r in held, "moe": get_model(r.model_id).moe is not None})
    return out


def _summary(rows: list[dict]) -> dict:
    errs = [abs(r["error_pct"]) for r in rows]
    return {"rows": len(errs), "median_abs_error_pct": statistics.median(errs) if errs else None,
            "max_abs_error_pct": max(errs) if errs else None}


def speed_report(cal: Path) -> dict:
    """Decode/prefill vs llama-bench rows, per backend family: in-sample (the shipped fit), leave-one-hardware-out
    (refit without that machine's rows, then predict them: the error to expect on hardware not in the file), and
    held_out_before_fit: benchmarks/published rows in no fit (the Metal rows of an M4), predicted by the shipped fit.
    The weak backends' rows once held out have joined the fit since they were scored (docs/methodology.md 5b)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed
    from selfhost_advisor.estimate.speed import family

    rows = fit_speed._best_cpu_rows(fit_speed.fit_rows(cal))
    mv = [r for r in fit_speed.device_rows() if fit_speed.in_fit(r)]
    out: dict = {}
    for r in fit_speed.published_rows():
        if r.backend == "metal":  # not in fit_rows
            key = f"{family(r.backend)} {'decode' if r.kind == 'tg' else 'prefill'}"
            out.setdefault(key, {"in_sample": [], "held_out": [], "held_out_before_fit": []})
            out[key]["held_out_before_fit"].append(abs(fit_speed.predict(r) / r.measured - 1) * 100)
    from selfhost_advisor.estimate.speed import _speed_data

    shipped = _speed_data()["families"]  # the full fit (tests/test_speed.py checks it is a fresh one)
    folds: dict[str, tuple] = {}
    for r in rows:
        # every row of that card, whatever name a file gives it (Row.gpu: "NVIDIA RTX 3090" and "NVIDIA RTX 3090
        # 24GB" are one card; grouping by name kept one of them in the other's fold)
        if r.gpu not in folds:
            held = [x for x in rows if x.gpu != r.gpu]
            # each family is fitted on its own rows, so only the families this card has rows in change: the CUDA
            # family with our device rows and its kernel-rate alternation (fit), any other alone (fit_families)
            fams = tuple(sorted({family(x.backend) for x in rows if x.gpu == r.gpu}))
            refit = fit_speed.fit(held, mv) if "cuda" in fams else fit_speed.fit_families(held, fams)
            folds[r.gpu] = (fit_speed._table({**shipped, **{f: refit[f] for f in fams if f in refit}}),
                            {(family(x.backend), x.kind) for x in held})
        # no rows of this backend and test left without this hardware: nothing to predict it from
        table = folds[r.gpu][0] if (family(r.backend), r.kind) in folds[r.gpu][1] else None
        ins = fit_speed.predict(r) / r.measured - 1
        oos = fit_speed.predict(r, table) / r.measured - 1 if table else None
        key = f"{family(r.backend)} {'decode' if r.kind == 'tg' else 'prefill'}"
        out.setdefault(key, {"in_sample": [], "held_out": [], "held_out_before_fit": []})
        out[key]["in_sample"].append(abs(ins) * 100)
        if oos is not None:
            out[key]["held_out"].append(abs(oos) * 100)
    summary = {}
    for key, v in sorted(out.items()):
        summary[key] = {k: {"rows": len(x), "median_abs_error_pct": round(statistics.median(x), 1),
                            "max_abs_error_pct": round(max(x), 1)} if x else None for k, x in v.items()}
    return summary


def published_speed_rows() -> list[dict]:
    """Each published weak-backend row: the shipped fit's error and, for rows in the fit (all but the Metal ones), the
    error of a fit without that row's hardware."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    from selfhost_advisor.estimate.speed import family

    fit_rows = fit_speed.fit_rows()
    folds: dict = {}
    out = []
    for r in fit_speed.published_rows():
        loho = None
        if r.backend != "metal":
            # Each family is fitted on its own rows only, so a fold refits the row's own family (fit_families): the
            # same factors as the full fit with our CUDA device rows (tests/test_weak_backends.py checks), in a
            # fraction of the time.
            key = (r.gpu, family(r.backend))
            if key not in folds:
                folds[key] = fit_speed._table(fit_speed.fit_families(
                    [x for x in fit_rows if x.gpu != r.gpu], (key[1],)))
            loho = 100.0 * (fit_speed.predict(r, folds[key]) / r.measured - 1)
        out.append({"hardware": r.hardware, "backend": r.backend, "model": r.model_id, "quant": r.quant, "test": r.test,
                    "measured": r.measured, "error_pct": 100.0 * (fit_speed.predict(r) / r.measured - 1),
                    "loho_error_pct": loho, "held_out": r.held_out, "blind": r.blind})
    return out


def _moe_summary() -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import moe_accuracy

    return moe_accuracy.summary(moe_accuracy.rows())


def _cuda_heldout_summary() -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cuda_heldout

    return cuda_heldout.summary(cuda_heldout.rows())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibration", default=str(ROOT.parent / "shared" / "calibration"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cal = Path(args.calibration)
    w, w_skip = gguf_rows(cal)
    gguf = [r for r in w if not r["pre_gguf"]]
    current = [r for r in gguf if not r["legacy"]]
    k, k_skip = kv_rows(cal)
    speed = speed_report(cal) if (cal / "llamacpp_speed.csv").exists() else {}
    held = heldout_rows()
    device = device_speed_rows()
    report = {"speed": speed, "weights": _summary(gguf), "weights_current_rules": _summary(current), "weights_pre_gguf": _summary([r for r in w if r["pre_gguf"]]),
              "kv_cache": _summary(k), "weights_heldout": _summary(held),
              "weights_heldout_current_rules": _summary([r for r in held if not r["note"].startswith(("legacy", "recipe"))]),
              # the rows the one fitted metadata constant (data/gguf_arch.yaml mean_token_bytes) was fitted on, left out
              "weights_heldout_current_rules_outside_metadata_fit": _summary(
                  [r for r in held if not r["note"].startswith(("legacy", "recipe")) and r["model"] not in METADATA_FIT]),
              "weight_rows": w, "kv_rows": k, "heldout_rows": held,
              "device_speed": {
                  f"{kind}_dense_in_fit": _summary([r for r in device if r["in_fit"] and r["kind"] == kind])
                  for kind in ("decode", "prefill")} | {
                  f"{kind}_dense_leave_model_out": _summary([{"error_pct": r["leave_model_out_error_pct"]}
                                                             for r in device if r["in_fit"] and r["kind"] == kind])
                  for kind in ("decode", "prefill")} | {
                  f"{kind}_moe_not_fitted": _summary([r for r in device if r["moe"] and r["kind"] == kind])
                  for kind in ("decode", "prefill")} | {
                  f"{kind}_heldout_models": _summary([r for r in device if r["heldout"] and r["kind"] == kind])
                  for kind in ("decode", "prefill")},
              "device_speed_rows": device, "skipped": w_skip + k_skip,
              # MoE rows apart (benchmarks/moe_accuracy.py): published rows held out before the MoE prefill formula,
              # their dense anchors, and our H200 synthetic runs (seen while deriving it)
              "moe_speed": _moe_summary(),
              # NVIDIA GPUs outside the CUDA calibration (benchmarks/cuda_heldout.py), in no fit
              "cuda_heldout_speed": _cuda_heldout_summary()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'model':46s} {'quant':8s} {'real GB':>9s} {'est GB':>9s} {'error':>8s}")
    for r in w:
        tag = " (pre-GGUF .bin)" if r["pre_gguf"] else (" (older convention, see below)" if r["legacy"] else "")
        print(f"{r['model'][:46]:46s} {r['quant']:8s} {r['real_bytes']/1e9:9.3f} {r['estimated_bytes']/1e9:9.3f}"
              f" {r['error_pct']:+7.2f}%{tag}")
    print(f"\nKV cache vs llama.cpp/Ollama logs:")
    for r in k:
        print(f"  {r['model']:30s} ctx {r['context']:6d}  real {r['real_bytes']/2**20:8.1f} MiB"
              f"  est {r['estimated_bytes']/2**20:8.1f} MiB  {r['error_pct']:+.2f}%")
    print("\nHeld-out GGUF sizes (models not in the calibration set; benchmarks/heldout/gguf_sizes.csv), per architecture:")
    for arch in sorted({r["arch"] for r in held}):
        a = _summary([r for r in held if r["arch"] == arch])
        print(f"  {arch:12s} {a['rows']:3d} rows  median |error| {a['median_abs_error_pct']:.2f}%  max {a['max_abs_error_pct']:.2f}%")
    beyond = [r for r in held if abs(r["error_pct"]) > 2]
    for note in dict.fromkeys(r["note"] for r in beyond):
        files = ", ".join(f"{r['model'].split('/')[-1]} {r['quant']} {r['error_pct']:+.2f}%" for r in beyond
                          if r["note"] == note)
        print(f"  beyond 2%: {files}\n    {note or 'NO EXPLANATION RECORDED'}")
    for key in ("weights", "weights_current_rules", "weights_pre_gguf", "weights_heldout", "weights_heldout_current_rules",
                "weights_heldout_current_rules_outside_metadata_fit", "kv_cache"):
        s = report[key]
        if s["rows"]:
            print(f"{key}: {s['rows']} rows, median |error| {s['median_abs_error_pct']:.2f}%,"
                  f" max {s['max_abs_error_pct']:.2f}%")
    print("\nSpeed vs llama-bench (|error| %, in-sample fit / leave-one-hardware-out):")
    for key, v in speed.items():
        ins, held, before = v["in_sample"], v["held_out"], v["held_out_before_fit"]
        h = f"median {held['median_abs_error_pct']:5.1f} max {held['max_abs_error_pct']:6.1f}" if held else "n/a (one machine)"
        i = (f"{ins['rows']:3d} rows  in-sample median {ins['median_abs_error_pct']:5.1f} max {ins['max_abs_error_pct']:6.1f}"
             if ins else "  0 rows  in no fit" + " " * 28)
        b = (f" | held out (in no fit): {before['rows']} rows median {before['median_abs_error_pct']:5.1f}"
             f" max {before['max_abs_error_pct']:6.1f}" if before else "")
        print(f"  {key:20s} {i} | leave-one-hardware-out {h}{b}")
    print("\nPublished rows of the weak backends (benchmarks/published/llamabench_weak.yaml; by architecture, quant and"
          " model size: python benchmarks/weak_backends.py):")
    for r in published_speed_rows():
        print(f"  {r['backend']:6s} {r['hardware'][:24]:24s} {r['model']:12s} {r['quant']:6s} {r['test']:7s}"
              f" measured {r['measured']:8.1f} shipped {r['error_pct']:+6.1f}%"
              + (f" hardware left out {r['loho_error_pct']:+6.1f}%" if r['loho_error_pct'] is not None else "")
              + ("  (in no fit)" if r["loho_error_pct"] is None else "  (blind: in_fit false)" if r["blind"]
                 else "  (once held out)" if r["held_out"] else ""))
    if device:
        print(f"\nOur llama-bench runs on a lent {device[0]['gpu']} (synthetic-weight GGUFs, benchmarks/device/):")
        for r in device:
            tag = "fit" if r["in_fit"] else ("held out" if r["heldout"] else "MoE, in no fit")
            print(f"  {r['model']:14s} {r['quant']:7s} {r['test']:12s} measured {r['measured']:9.1f}"
                  f"  predicted {r['predicted']:9.1f}  {r['error_pct']:+6.1f}%"
                  f"  (model left out {r['leave_model_out_error_pct']:+6.1f}%) {tag}")
        for key, s in report["device_speed"].items():
            if s["rows"]:
                print(f"  {key}: {s['rows']} rows, median |error| {s['median_abs_error_pct']:.1f}%,"
                      f" max {s['max_abs_error_pct']:.1f}%")
    print("\nMoE models (benchmarks/moe_accuracy.py: published rows held out before the MoE prefill formula, dense"
          " anchors of the same files, our H200 synthetic runs seen while deriving it):")
    for key, s in report["moe_speed"].items():
        if "/ all /" not in key:
            print(f"  {key:45s} {s['rows']:3d} rows, median |error| {s['median_abs_error_pct']:.1f}%,"
                  f" max {s['max_abs_error_pct']:.1f}%")
    print("\nNVIDIA GPUs outside the CUDA calibration (benchmarks/cuda_heldout.py; published rows in no fit):")
    for key, s in report["cuda_heldout_speed"].items():
        if s["rows"] and ("current" in key or "before" in key):
            print(f"  {key:45s} {s['rows']:3d} rows, median |error| {s['median_abs_error_pct']:.1f}%,"
                  f" max {s['max_abs_error_pct']:.1f}%")
    for (model, quant), why in LEGACY.items():
        print(f"older convention: {model} {quant}: {why}")
    if report["skipped"]:
        print("\nskipped:\n  " + "\n  ".join(report["skipped"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
