"""Reproduce the break-even regimes of Pan et al., arXiv:2509.18101 (2025) with this tool's cost functions.

Their inputs (as published): hardware is a one-time cost (RTX 5090 $2,000 for 24-32B models; one or two A100 at
$15,000 each for 70-120B; 4-16 A100 for 235B+), electricity $0.15/kWh for 8 hours per business day, no operations
or facility overhead, and the on-premise box's own monthly token output priced at the API's rates. Break-even
t* = hardware / (API cost of those tokens - electricity), i.e. this tool's payback_months with ops = 0, PUE = 1,
a flat load (peak = average) over 176 h/month and the box running at its serving capacity.
Throughput is ours (estimate/serving.py, vLLM at 8k context, 3:1 input:output); theirs is not restated here, so
differences in t* come from throughput first.

Run: python benchmarks/pan_breakeven.py
"""
from __future__ import annotations

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.cost import tco
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.breakeven import payback_months
from selfhost_advisor.cost.capacity import machine_for, model_capacity
from selfhost_advisor.cost.cloud import CloudPrice, cloud_monthly_usd
from selfhost_advisor.cost.types import CostParams, Workload
from selfhost_advisor.record import replace

PAN = CostParams(electricity_usd_per_kwh=0.15, pue=1.0, amortize_months=36, ops_hours_per_month=0.0,
                 ops_usd_per_hour=0.0, gpu_idle_share_of_tdp=0.0, hours_per_month=176.0)
# API list prices of Pan et al.'s comparison set (USD per Mtok, in/out), as genai-prices 0.2.3 records them.
APIS = {"GPT-5": (1.25, 10.0), "Claude-4 Sonnet": (3.0, 15.0), "Claude-4 Opus": (15.0, 75.0)}
CASES = [  # (model, box spec, GPU price Pan used)
    ("mistral-small:24b", "rtx5090", 2000), ("gemma3:27b", "rtx5090", 2000), ("qwen3:32b", "rtx5090", 2000),
    ("qwen3:30b", "rtx5090", 2000),
    ("llama3.3:70b", "2x a100-80gb", 15000), ("gpt-oss:120b", "a100-80gb", 15000),
    ("qwen3:235b", "4x a100-80gb", 15000),
]


def main() -> None:
    print(f"{'model':<18} {'box':<14} {'tok/month':>10} {'elec $/mo':>9} " + " ".join(f"{k:>16}" for k in APIS))
    for model_id, spec, gpu_usd in CASES:
        m = resolve(model_id).model
        box = replace(box_from_spec(spec), gpu_price_usd=float(gpu_usd), host_price_usd=0.0, host_active_watts=0.0,
                      host_idle_watts=0.0)
        probe = Workload(1, 0.25, 1.0, 176.0)
        cap = model_capacity(m, machine_for(box), probe, "vllm")
        if not cap.fits:
            print(f"{model_id:<18} {box.label:<14} does not fit: {cap.reason}")
            continue
        tokens = tco.capacity_tokens_per_month(cap, probe)
        w = probe.with_tokens(tokens)
        o = tco.price_box(box, cap, w, PAN)
        cells = []
        for name, (p_in, p_out) in APIS.items():
            api = cloud_monthly_usd(CloudPrice(name, name, "", "", "", p_in, p_out, "", ""), w)
            t = payback_months(o.capex_usd, o.monthly_usd.power, api)
            cells.append(f"{t:>13.1f} mo" if t is not None else f"{'never':>16}")
        print(f"{model_id:<18} {box.label:<14} {tokens / 1e6:>9.0f}M {o.monthly_usd.power:>9.2f} " + " ".join(cells))


if __name__ == "__main__":
    main()
