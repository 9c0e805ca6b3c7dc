"""A delta-net layer's decode cost in llama.cpp (docs/methodology.md 5e-metal3): its F32 recurrent state moves six
times per token (build_rs get_rows, the fused GATED_DELTA_NET kernel's read and write, the ggml_cpy back into the cache)
and its convolution window seven times (data/speed.yaml recurrent_state_traffic), and on Metal the layer is 16
dependent steps deep against a Llama layer's 12 from the fused kernel on (PR #20340, 2026-03-11;
metal_dispatch.recurrent_history)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import metal_path
from selfhost_advisor.estimate.kernel_path import at_build
from selfhost_advisor.estimate.speed import efficiency, estimate_speed
from selfhost_advisor.estimate.speed_work import state_traffic_by_layer


def _decode_s(model, hw: str) -> float:
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    return 1.0 / estimate_speed(model, get_quant("Q4_K_M"), pl, machine_from_profile(get_profile(hw), 1),
                                decode_depth=64).decode_tokens_per_s


def test_qwen35_4b_moves_six_states_and_seven_conv_windows_per_delta_net_layer():
    # Qwen3.5 4B: d_state 128, d_inner 4096 (32 value heads x 128), 16 key heads, d_conv 4; 24 of 32 layers delta-net
    m = get("qwen3.5:4b")
    state, conv = 128 * 4096, 3 * (4096 + 2 * 16 * 128)
    per = state_traffic_by_layer(m)
    assert sum(1 for b in per if b) == 24
    assert set(per) == {0, 4 * (6 * state + 7 * conv)}
    assert all(per[i] == 0 for i in range(m.n_layers) if not m.is_recurrent(i))
    assert sum(per) > 0.10 * 2.5e9  # over a tenth of the Q4_K_M weights' ~2.5 GB: not negligible


def test_only_the_recurrent_kinds_whose_graph_was_read_carry_it():
    # delta-net kinds (6 state passes) and, from session 17 (5h-hybrid17), Mamba-2 (4: SSM_SCAN reads the cache rows
    # itself); LFM2's short convolution was not read
    assert not any(state_traffic_by_layer(get("llama3.1:8b")))
    mamba = get("granite4:tiny-h")
    ssm = mamba.ssm
    assert ssm.kind == "mamba2"
    conv = (ssm.d_conv - 1) * (ssm.d_inner + 2 * ssm.n_group * ssm.d_state)
    assert set(state_traffic_by_layer(mamba)) == {0, 4 * (4 * ssm.d_state * ssm.d_inner + 7 * conv)}
    lfm = get("lfm2:1.2b")
    assert lfm.ssm.kind == "shortconv" and not any(state_traffic_by_layer(lfm))


# before the fused kernel (2026-03-11) the unfused autoregressive chain: 24 steps against the dense layer's 12 (session
# 34, gdn34); before Qwen3-Next's graph (PR #16095, 2025-11-28) no delta-net layer ran on Metal at all
@pytest.mark.parametrize("date, extra", [("2025-11-27", 0.0), ("2026-03-10", 12 / 17), ("2026-03-11", 4 / 17),
                                         ("9999", 4 / 17)])
def test_metal_delta_net_layers_pay_four_more_steps_from_the_fused_kernel_on(date, extra):
    metal = machine_from_profile(get_profile("m4-pro-20c-24gb"), 1).devices[0]
    cuda = machine_from_profile(get_profile("rtx 4090"), 1).devices[0]
    with at_build(date):
        assert metal_path.recurrent_extra_scale(metal) == pytest.approx(extra)
        assert metal_path.recurrent_extra_scale(cuda) == 0.0


def test_metal_decode_of_qwen35_adds_the_state_bytes_and_the_extra_steps(monkeypatch):
    # without the state traffic (and so without the delta-net layers' extra steps, which key on it) the same weights
    # stream: the difference is the state's bytes at the family's bandwidth share plus 24 layers x 4/17 of the fitted
    # per-layer time
    from selfhost_advisor.estimate import speed_decode

    m = get("qwen3.5:4b")
    eff = efficiency("metal")
    dev = machine_from_profile(get_profile("m4-pro-20c-24gb"), 1).devices[0]
    bw = eff.bandwidth * dev.bandwidth_bytes_per_s
    full = _decode_s(m, "m4-pro-20c-24gb")
    monkeypatch.setattr(speed_decode, "state_traffic_by_layer", lambda model: (0,) * model.n_layers)
    plain = _decode_s(m, "m4-pro-20c-24gb")
    assert full - plain == pytest.approx(sum(state_traffic_by_layer(m)) / bw + 24 * eff.layer_s * 4 / 17, rel=0.02)


def test_metal_moe_delta_net_layers_pay_the_same_four_steps(monkeypatch):
    # Qwen3.6-35B-A3B: 30 of 40 layers delta-net under an MoE feed-forward. The 4 extra steps are the mixer's (the
    # delta-net chain from the norm to the residual add is 11 levels deep, attention 7), whatever the feed-forward
    # (session 18; before, MoE hybrids paid none): the difference is the state bytes plus 30 x 4/17 of the layer time
    from selfhost_advisor.estimate import speed_decode

    m = get("qwen3.6:35b")
    assert m.moe is not None and sum(1 for i in range(m.n_layers) if m.is_recurrent(i)) == 30
    eff = efficiency("metal")
    dev = machine_from_profile(get_profile("m4-max-128gb"), 1).devices[0]
    bw = eff.bandwidth * dev.bandwidth_bytes_per_s
    full = _decode_s(m, "m4-max-128gb")
    monkeypatch.setattr(speed_decode, "state_traffic_by_layer", lambda model: (0,) * model.n_layers)
    plain = _decode_s(m, "m4-max-128gb")
    assert full - plain == pytest.approx(sum(state_traffic_by_layer(m)) / bw + 30 * eff.layer_s * 4 / 17, rel=0.02)
