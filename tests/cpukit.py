"""The CPU speed tests' one estimate: a model with every layer on the CPU, no context cached (test_cpu_speed,
test_custom_cpu and test_cpu_hybrid each had this builder, differing only in the default model)."""
from __future__ import annotations

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.speed import estimate_speed


def cpu_speed(machine, model: str, quant: str = "Q4_K_M"):
    m = get(model)
    return estimate_speed(m, get_quant(quant), Placement("cpu", 0, m.n_layers + 1, 0, 0), machine,
                          decode_depth=0, prefill_depth=0)
