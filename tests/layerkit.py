"""The per-layer decode rule tests' shared builders (test_one_block_layers, test_two_ffn_layers each had both): a
hardware profile's first GPU, optionally under another backend, and a model's decode rate with every layer on it."""
from __future__ import annotations

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace


def machine(name: str, backend: str | None = None):
    m = machine_from_profile(hw_names.resolve(name), 1)
    if backend:
        m = replace(m, devices=(replace(m.devices[0], backend=backend),))
    return m


def gpu_decode(model_id: str, quant: str, machine) -> float:
    """Decode tokens/s of `model_id` at `quant` with every layer (and the output) on the machine's one GPU."""
    model = get(model_id)
    n = model.n_layers
    place = Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=(n,))
    return estimate_speed(model, get_quant(quant), place, machine).decode_tokens_per_s
