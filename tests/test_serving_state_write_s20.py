"""A hybrid's decode step writes its recurrent states back (session 20): vLLM's Gated DeltaNet and Mamba-2 decode kernels
update each recurrent layer's state in place, so a step moves the state twice (read, counted in the KV read, and write)."""
import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving import step as S
from selfhost_advisor.estimate.speed import efficiency
from selfhost_advisor.estimate.vllm import get_vllm_quant
from selfhost_advisor.estimate.vllm_hybrid import state_page_bytes


def test_the_write_is_every_recurrent_layers_state_and_nothing_for_a_transformer():
    m = get("qwen3.5:9b")  # 24 Gated DeltaNet layers of 32; temporal state 128 x 4096 in fp32 + the conv state
    assert S.state_write_bytes(m, 1) == 24 * state_page_bytes(m, 1)
    assert 48 * 2**20 <= S.state_write_bytes(m, 1) < 50 * 2**20
    assert S.state_write_bytes(m, 2) < S.state_write_bytes(m, 1)  # sharded over TP with the heads
    assert S.state_write_bytes(get("llama3.1:8b"), 1) == 0


def test_a_memory_bound_decode_step_pays_the_write_at_the_steps_bandwidth(monkeypatch):
    m, q = get("qwen3.5:9b"), get_vllm_quant("BF16")
    machine = machine_from_profile(get_profile("h100-sxm"), 1)
    batch, depth = 256, 1000
    with_write = S._parts_seconds(m, q, machine, 1, batch, depth, 0.0, 0.0, 2)[1]
    monkeypatch.setattr(S, "state_write_bytes", lambda model, tp: 0)
    without = S._parts_seconds(m, q, machine, 1, batch, depth, 0.0, 0.0, 2)[1]
    bw = efficiency("cuda").bandwidth * machine.devices[0].bandwidth_bytes_per_s
    assert with_write - without == pytest.approx(batch * 24 * state_page_bytes(m, 1) / bw, rel=1e-9)
