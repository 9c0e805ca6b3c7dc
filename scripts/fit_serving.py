"""Fit the vLLM per-step overhead (data/serving.yaml vllm.layer_overhead_us) on published single-stream rows.

Why only this term: everything else in a decode step (weight and KV bytes over the CUDA family's fitted bandwidth
share, FLOPs over its compute share) is derived (estimate/serving/step.py). What is left between that roofline and a
measured time per output token is the engine's own work per step (kernel launches, scheduling, sampling), which grows
with the number of layers it launches kernels for. So: overhead per layer = mean over the calibration rows of
(measured step - roofline step) / layers. Rows with role 'calibration' in data/serving_benchmarks.yaml only.

Usage: python scripts/fit_serving.py          # prints the fit and each row
       python scripts/fit_serving.py --write  # also writes layer_overhead_us into data/serving.yaml
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile  # noqa: E402
from selfhost_advisor.catalog.models import get  # noqa: E402
from selfhost_advisor.domain import FitRequest  # noqa: E402
from selfhost_advisor.estimate.serving.step import overhead_seconds, step_seconds  # noqa: E402
from selfhost_advisor.estimate.vllm import get_vllm_quant, plan  # noqa: E402


def roofline_step(row: dict) -> tuple[float, int]:
    """(seconds of one decode step without the engine overhead, layers) for a single-stream row."""
    model = get(row["model"])
    machine = machine_from_profile(get_profile(row["hardware"]), int(row["gpus"]))
    q = get_vllm_quant(row["precision"])
    ctx = int(row["prompt_tokens"]) + int(row["output_tokens"])
    tp = plan(model, q, machine, FitRequest(context=ctx, engine="vllm")).tp
    depth = int(row["prompt_tokens"]) + int(row["output_tokens"]) / 2
    return step_seconds(model, q, machine, tp, 1, depth) - overhead_seconds(model, 1), model.n_layers


def main(argv: list[str]) -> int:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where built (safe_load's rows, 9x faster)
    rows = yaml.load((ROOT / "data" / "serving_benchmarks.yaml").read_text(), Loader=loader)["rows"]  # noqa: S506
    cal = [r for r in rows if r["role"] == "calibration" and r["kind"] == "single_stream"]
    per_layer = []
    for r in cal:
        base, layers = roofline_step(r)
        measured = 1.0 / float(r["published"])
        per_layer.append((measured - base) / layers)
        print(f"{r['id']:45s} measured {measured * 1e3:6.2f} ms  roofline {base * 1e3:6.2f} ms  "
              f"-> {per_layer[-1] * 1e6:5.1f} us/layer")
    fit = sum(per_layer) / len(per_layer)
    print(f"layer_overhead_us = {fit * 1e6:.1f} (mean of {len(cal)} rows)")
    if "--write" in argv:
        path = ROOT / "data" / "serving.yaml"
        text = path.read_text()
        text = re.sub(r"(layer_overhead_us: )[0-9.]+", rf"\g<1>{fit * 1e6:.1f}", text)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}; run scripts/compile_data.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
