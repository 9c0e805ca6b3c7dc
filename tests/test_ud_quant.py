"""Unsloth's UD-Q4_K_M of a Qwen3.5 / 3.6 MoE (data/quants.yaml UD-Q4_K_M; docs/methodology.md 5c-s28b): the file's
tensor types as its loader counts them, its bytes as llama-bench reports them, and what they do to a decoded token."""

from collections import Counter

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.catalog.resolve import quant_in_filename
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.memory import weights_by_tensor
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_work import token_work

# The loader of unsloth/Qwen3.6-35B-A3B-GGUF's Q4_K_M-type file (eullm/eullm docs/arm-cix-p1-cpu-profile.md 8.3):
# "361 x f32, 251 x q8_0 | 80 x Q4_K + 37 x Q5_K + 4 x Q6_K"; llama-bench's model_size of
# Qwen3.6-35B-A3B-UD-Q4_K_M.gguf (msb-msb/insiderllm-bench-results, raw-b10088-qwen3.6-35b-a3b-rep1.json).
LOADER = {"F32": 361, "Q8_0": 251, "Q4_K": 80}
LOADER_Q5_K_Q6_K = 37 + 4
MODEL_SIZE = 22_123_538_944


def _types(model_id: str, quant: str) -> dict[str, str]:
    return {t.name: ty for t, ty, _ in weights_by_tensor(get(model_id), get_quant(quant))}


def test_the_file_holds_the_types_its_loader_counts():
    counts = Counter(_types("qwen3.6:35b", "UD-Q4_K_M").values())
    assert {k: counts[k] for k in LOADER} == LOADER
    assert counts["Q5_K"] + counts["Q6_K"] == LOADER_Q5_K_Q6_K  # the 40 routed-expert downs and the output head
    types = _types("qwen3.6:35b", "UD-Q4_K_M")
    assert types["blk.0.ffn_gate_exps.weight"] == types["blk.0.ffn_up_exps.weight"] == "Q4_K"
    assert types["blk.0.ffn_down_exps.weight"] == "Q5_K"
    assert types["output.weight"] == "Q6_K"
    # what a decoded token reads besides the routed experts is Q8_0: shared expert, delta-net and attention projections
    assert types["blk.0.ffn_down_shexp.weight"] == types["blk.0.ssm_out.weight"] == types["blk.3.attn_q.weight"] == "Q8_0"


def test_the_file_is_llama_bench_s_model_size_less_three_q6_k_downs():
    # the file holds 3 of its 40 routed-expert downs at Q6_K (which layers is not stated); the rule puts all 40 at Q5_K,
    # so it is short by exactly three Q6_K-over-Q5_K tensors of 256 experts x 2048 x 512 weights (GGML block sizes)
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T

    total = sum(b for _, _, b in weights_by_tensor(get("qwen3.6:35b"), get_quant("UD-Q4_K_M")))
    q5, q6 = GGML_QUANT_SIZES[T.Q5_K], GGML_QUANT_SIZES[T.Q6_K]
    down = 256 * 2048 * 512
    assert total + 3 * (down // q6[0] * q6[1] - down // q5[0] * q5[1]) == MODEL_SIZE


@pytest.mark.parametrize("model_id", ["qwen3:30b-a3b", "llama3.1:8b", "qwen3.6:27b", "gpt-oss:20b"])
def test_files_not_read_keep_q4_k_m_s_rules(model_id):
    assert _types(model_id, "UD-Q4_K_M") == _types(model_id, "Q4_K_M")


def test_a_decoded_token_reads_the_q8_0_tensors():
    # the routed experts are about Q4_K_M's (Q5_K downs against a Q4_K / Q6_K mix), the rest about twice the bytes
    model, q4, ud = get("qwen3.6:35b"), get_quant("Q4_K_M"), get_quant("UD-Q4_K_M")
    a, b = token_work(model, q4, "f16"), token_work(model, ud, "f16")
    experts_a, experts_b = sum(a.layer_expert_read_bytes), sum(b.layer_expert_read_bytes)
    rest_a, rest_b = sum(a.layer_read_bytes) - experts_a, sum(b.layer_read_bytes) - experts_b
    assert abs(experts_b / experts_a - 1) < 0.05
    assert 1.5 < rest_b / rest_a < 2.0
    machine = machine_from_profile(hw_names.resolve("rtx 3090"), 1)
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    slow = estimate_speed(model, ud, place, machine).decode_tokens_per_s
    fast = estimate_speed(model, q4, place, machine).decode_tokens_per_s
    assert slow < fast


def test_the_unsloth_file_name_resolves_to_its_own_type():
    assert quant_in_filename("Qwen3.6-35B-A3B-UD-Q4_K_M.gguf") == "UD-Q4_K_M"
    assert quant_in_filename("Qwen3.6-35B-A3B-Q4_K_M.gguf") == "Q4_K_M"
    assert get_quant("ud-q4_k_m").name == "UD-Q4_K_M"


def test_fit_says_when_a_ud_file_is_sized_as_plain_q4_k_m():
    """A UD-Q4_K_M of a model whose Unsloth recipe was not read is sized by Q4_K_M's rules; fit must not present that
    as the file's size without saying so (Unsloth's Qwen3.6 file is 4.6% larger than Q4_K_M's rules give)."""
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.fit import fit

    machine = machine_from_profile(get_profile("rtx 3090"))
    req = FitRequest(context=8192)
    plain = fit(get("llama3.1:8b"), machine, req, [get_quant("UD-Q4_K_M")])
    read = fit(get("qwen3.6:35b"), machine, req, [get_quant("UD-Q4_K_M")])
    assert any("UD-Q4_K_M" in w and "plain Q4_K_M" in w for w in plain.warnings)
    assert not any("plain Q4_K_M" in w for w in read.warnings)
