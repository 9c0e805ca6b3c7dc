"""Mixed GPUs ('rtx4090+rtx3090'): llama.cpp's default tensor split and speed bound by the slower card."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import listed_quants
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.errors import AdvisorError
from selfhost_advisor.estimate.fit import evaluate
from selfhost_advisor.estimate.placement import tensor_split
from selfhost_advisor.machine import mixed_machine, resolve_machine


def _q(name):
    return next(q for q in listed_quants() if q.name == name)


def _fit(model, spec, quant="Q4_K_M", ctx=8192):
    machine, _ = resolve_machine(spec, None, "128GB", None)
    return evaluate(get(model), machine, FitRequest(context=ctx), _q(quant))


def test_mixed_spec_keeps_each_card_in_order():
    m = mixed_machine("2x rtx4090 + rtx-3060-12gb", None)
    assert [d.matched_profile for d in m.devices] == ["rtx-4090", "rtx-4090", "rtx-3060-12gb"]


def test_default_split_is_proportional_to_memory():
    # llama.cpp: "default split, by free memory": 24 GB and 12 GB cards take 2/3 and 1/3 of the layers
    m = mixed_machine("rtx4090+rtx-3060-12gb", None)
    share = tensor_split(m)
    assert share[0] == pytest.approx(2 * share[1], rel=0.05)
    o = _fit("qwen3:14b", "rtx4090+rtx-3060-12gb")
    a, b = o.placement.per_device_layers
    assert o.placement.fit == "gpu" and a + b == 40
    assert a / (a + b + 1) == pytest.approx(share[0], abs=1 / 40)


def test_memory_adds_up_across_mixed_cards():
    # Llama-3.1-70B Q4_K_M (~42.5 GB of weights) fits neither a 4090 nor a 3090 alone, but both together
    assert _fit("llama3.1:70b", "rtx4090").placement.fit != "gpu"
    assert _fit("llama3.1:70b", "rtx3090").placement.fit != "gpu"
    assert _fit("llama3.1:70b", "rtx4090+rtx3090").placement.fit == "gpu"


def test_speed_is_bound_by_the_slower_card():
    # layers run one card after the other: each card's share at its own bandwidth, summed per token
    mixed = _fit("llama3.1:70b", "rtx4090+rtx3090").speed.decode_tokens_per_s
    fast = _fit("llama3.1:70b", "2x rtx4090").speed.decode_tokens_per_s
    slow = _fit("llama3.1:70b", "2x rtx3090").speed.decode_tokens_per_s
    assert slow < mixed < fast


def test_identical_cards_split_evenly():
    o = _fit("llama3.1:70b", "2x rtx4090")
    a, b = o.placement.per_device_layers
    assert abs(a - (b + 1)) <= 1  # the second card also holds the output head (llama.cpp's layer n)


@pytest.mark.parametrize("spec", ["rtx4090+", "+rtx4090", "rtx4090+m2-ultra-192gb", "rtx4090+nosuchgpu"])
def test_bad_mixed_specs_are_bad_input(spec):
    with pytest.raises(AdvisorError) as e:
        resolve_machine(spec, None, None, None)
    assert e.value.exit_code == 2


@pytest.mark.parametrize("spec", ["ai max+ 395 128gb", "Ryzen AI Max+ 395 128GB"])
def test_a_name_with_plus_is_one_machine_not_a_mix(spec):
    # The Strix Halo APU is sold as "Ryzen AI Max+ 395": its '+' is part of the name, not a second card.
    machine, _ = resolve_machine(spec, None, None, None)
    assert [d.matched_profile for d in machine.devices] == ["ryzen-ai-max-395-128gb"]
