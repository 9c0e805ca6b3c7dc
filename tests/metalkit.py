"""Metal test helpers shared by the Metal path tests: a profile's first device, and a model's all-GPU prefill rate."""
from __future__ import annotations

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.speed import estimate_speed


def device(hw: str):
    return machine_from_profile(get_profile(hw), 1).devices[0]


def prefill(hw: str, quant: str, model: str = "llama2:7b") -> float:
    """Prompt tokens/s of `model` at `quant` with every layer on the GPU of profile `hw`."""
    m = get(model)
    pl = Placement("gpu", m.n_layers + 1, m.n_layers + 1, 0, 0)
    return estimate_speed(m, get_quant(quant), pl, machine_from_profile(get_profile(hw), 1)).prefill_tokens_per_s
