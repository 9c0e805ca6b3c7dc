"""ROCm speed on published llama-bench rows kept out of every fit (benchmarks/published/llamabench_weak.yaml rows with
`backend: rocm` and `in_fit: false`; docs/methodology.md 5f-gpuold), each predicted by the SHIPPED model.

Usage: python benchmarks/rocm_heldout.py [--json] [--session N]
Why apart from weak_backends.py: that report predicts a blind row of a GPU with other rows in the fit by the fit redone
without that GPU (leave-one-hardware-out); this one asks the model as it ships, which is what a user (and a check on
rows nobody here has seen) gets. Rows are grouped by the session that added them (`session`, 0 when absent) and by
whether any fitted row shares their GPU ("GPU in no fit": hardware the ROCm fit has never seen).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cuda_heldout import _stats, print_report  # noqa: E402  (one summary for both held-out GPU scripts)


def rows(session: int | None = None) -> list[dict]:
    """Every blind ROCm row with the shipped model's prediction and signed error (%)."""
    import yaml

    import fit_speed

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where built (safe_load's rows, 9x faster)
    raw = [r for r in yaml.load(fit_speed.PUBLISHED.read_text(), Loader=loader)["rows"]  # noqa: S506
           if r["backend"] == "rocm"]
    parsed = [r for r in fit_speed.published_rows() if r.backend == "rocm"]
    fitted = {r.gpu for r in fit_speed.fit_rows() if r.backend == "rocm"}
    out = []
    for src, r in zip(raw, parsed):
        if not r.blind or (session is not None and int(src.get("session") or 0) != session):
            continue
        pred = fit_speed.predict(r)
        out.append({"hardware": r.hardware, "profile": r.machine.devices[0].matched_profile, "model": r.model_id,
                    "quant": r.quant, "test": r.test + (f" ub{r.n_ubatch}" if r.n_ubatch != 512 else ""),
                    "kind": "decode" if r.kind == fit_speed.DECODE else "prefill",
                    "session": int(src.get("session") or 0), "gpu_in_fit": r.gpu in fitted,
                    "build_year": str(src.get("build_date") or "")[:4] or "latest",
                    "measured": r.measured, "predicted": pred, "error_pct": 100 * (pred / r.measured - 1)})
    return out


def summary(rs: list[dict]) -> dict:
    out = {}
    for kind in ("decode", "prefill"):
        k = [r for r in rs if r["kind"] == kind]
        out[f"{kind} / all blind rows"] = _stats(k)
        out[f"{kind} / GPU in no fit"] = _stats([r for r in k if not r["gpu_in_fit"]])
        # llama.cpp builds of 2024 (before HIP's 2025 kernel fusions and wave64 work) apart from later ones
        # (docs/methodology.md 5f-rocm15 .. 5f-rocm17)
        out[f"{kind} / builds of 2024"] = _stats([r for r in k if r["build_year"] == "2024"])
        out[f"{kind} / builds of 2025-26"] = _stats([r for r in k if r["build_year"] != "2024"])
        for s in sorted({r["session"] for r in k}):
            out[f"{kind} / session {s}"] = _stats([r for r in k if r["session"] == s])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--session", type=int, default=None, help="only the rows one session added")
    args = ap.parse_args()
    rs = rows(args.session)
    return print_report(rs, summary(rs), args.json, 32, lambda r: (
        f"  {r['kind']:7s} {r['hardware'][:28]:28s} {r['model']:11s} {r['quant']:7s} {r['test']:13s} measured "
        f"{r['measured']:8.1f} predicted {r['predicted']:8.1f} {r['error_pct']:+7.1f}%"
        + ("" if r["gpu_in_fit"] else "  (GPU in no fit)") + f"  (session {r['session']})"))


if __name__ == "__main__":
    raise SystemExit(main())
