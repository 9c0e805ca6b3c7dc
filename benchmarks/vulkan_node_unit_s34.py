"""Session 34 (vknv34): the fixed decode time per layer a Vulkan row implies, over what the shipped model charges it.

A record script, not a scorer (docs/methodology.md 5b-vk34). For every one-GPU Vulkan decode row of
benchmarks/published/llamabench_weak.yaml and the unseen Vulkan / weak files of one vendor it prints the row's build
date, the shipped error, the model's streaming time (the prediction with the fixed per-layer time set to 0: weights,
K/V and states at the family's share, plus every kernel term), the fixed time the model charges per layer (the family's
layer_cycles at the device's clock times the layer's graph nodes over 22, layer_nodes.node_ratio), the fixed time the
measurement leaves per layer (measured time per token less that streaming time), the node ratio, and `unit`: implied
over charged, i.e. the per-node time the row reads in units of the fitted one. A unit of 1 is the fitted time; the
node-count law holds on a host where the unit is the same for dense and MoE / hybrid models. Only rows whose
streaming is under 60 % of the measured time are summarised (elsewhere the bandwidth share, not the fixed time, sets
the row). Nothing is refitted and no formula changes.

    python benchmarks/vulkan_node_unit_s34.py [nvidia|amd|intel]      # default nvidia
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import fit_speed  # noqa: E402
from selfhost_advisor.catalog.models import get as get_model  # noqa: E402
from selfhost_advisor.estimate import layer_nodes, speed_decode  # noqa: E402

PUBLISHED = ROOT / "benchmarks" / "published"
FILES = [PUBLISHED / "llamabench_weak.yaml", *sorted(PUBLISHED.glob("unseen_s*_weak.yaml")),
         *sorted(PUBLISHED.glob("unseen_s*_vulkan.yaml"))]


def _streaming_seconds(row) -> float:
    """The row's predicted seconds per token with the fixed per-layer time off (speed_decode.layer_seconds -> 0)."""
    original = speed_decode.layer_seconds
    speed_decode.layer_seconds = lambda *a, **k: 0.0
    try:
        return 1.0 / fit_speed.predict(row)
    finally:
        speed_decode.layer_seconds = original


def rows(vendor: str) -> list[dict]:
    out = []
    for path in FILES:
        for r in fit_speed.published_rows(path):
            d = r.machine.devices[0] if r.machine.devices else None
            if r.backend != "vulkan" or r.kind != "tg" or d is None or d.vendor != vendor or r.n_gpus != 1:
                continue
            model = get_model(r.model_id)
            layers = model.n_layers
            predicted = 1.0 / fit_speed.predict(r)
            stream = _streaming_seconds(r)
            measured = 1.0 / r.measured
            charged = (predicted - stream) / layers
            implied = (measured - stream) / layers
            out.append({"date": r.build_date or "", "gpu": r.gpu, "model": r.model_id, "quant": r.quant, "test": r.test,
                        "file": path.name, "error_pct": (measured / predicted - 1) * 100,
                        "stream_share": stream / measured, "charged_us": charged * 1e6, "implied_us": implied * 1e6,
                        "node_ratio": layer_nodes.node_ratio(model, 0, layers, d) / layers,
                        "unit": implied / charged if charged > 0 else float("nan"),
                        "moe_or_hybrid": model.moe is not None or bool(model.layer_pattern)})
    out.sort(key=lambda x: (x["gpu"], x["date"]))
    return out


def main() -> int:
    vendor = sys.argv[1] if len(sys.argv) > 1 else "nvidia"
    rs = rows(vendor)
    print(f"{'date':10} {'gpu':16} {'model':26} {'quant':8} {'test':12} {'err%':>7} {'strm':>5} {'chg us':>7} "
          f"{'impl us':>8} {'nodes':>5} {'unit':>5}  file")
    for x in rs:
        print(f"{x['date']:10} {x['gpu'][:16]:16} {x['model'][:26]:26} {x['quant']:8} {x['test'][:12]:12} "
              f"{x['error_pct']:+7.1f} {x['stream_share']:5.2f} {x['charged_us']:7.1f} {x['implied_us']:8.1f} "
              f"{x['node_ratio']:5.2f} {x['unit']:5.2f}  {x['file']}")
    bound = [x for x in rs if x["stream_share"] < 0.6]
    for label, group in (("dense", [x for x in bound if not x["moe_or_hybrid"]]),
                         ("MoE / hybrid", [x for x in bound if x["moe_or_hybrid"]])):
        if group:
            units = [x["unit"] for x in group]
            print(f"{label:13} rows with streaming < 60 % of the measured time: {len(group):3}  unit median "
                  f"{statistics.median(units):.2f}  range {min(units):.2f} .. {max(units):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
