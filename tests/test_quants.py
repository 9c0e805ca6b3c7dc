"""The GGML type table in data/ is a copy of gguf's; the ftype mixing rules match llama.cpp on real files."""

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import all_models, get
from selfhost_advisor.catalog.quants import all_quants, get_quant, listed_quants
from selfhost_advisor.errors import UnknownQuantError
from selfhost_advisor.estimate.memory import bytes_per_type, weights_by_tensor
from selfhost_advisor.record import replace


def test_ggml_type_table_matches_gguf_package():
    gguf = pytest.importorskip("gguf")
    from gguf.constants import GGML_QUANT_SIZES

    ours = load("ggml_types")["types"]
    theirs = {t.name: (b, s) for t, (b, s) in GGML_QUANT_SIZES.items()}
    assert {k: (v["block_size"], v["type_size"]) for k, v in ours.items()} == theirs


def test_every_quant_default_type_is_a_ggml_type():
    types = load("ggml_types")["types"]
    for q in all_quants():
        assert q.default_type in types, q.name
        for override in (q.embeddings_type, q.output_type):
            assert not override or override in types


def test_file_type_names_exist_in_llama_cpp():
    gguf = pytest.importorskip("gguf")
    names = {f.name.replace("MOSTLY_", "").replace("ALL_", "") for f in gguf.LlamaFileType}
    for q in all_quants():
        assert q.ftype in names, q.ftype


def test_issue_quants_are_listed():
    wanted = "F16 Q8_0 Q6_K Q5_K_M Q5_K_S Q5_0 Q4_K_M Q4_K_S Q4_0 IQ4_XS IQ4_NL Q3_K_L Q3_K_M Q3_K_S IQ3_M IQ3_XXS Q2_K IQ2_M IQ2_XXS"
    assert set(wanted.split()) <= {q.name for q in listed_quants()}
    assert get_quant("f32").name == "F32" and get_quant("bf16").name == "BF16"


def test_quant_aliases_and_errors():
    assert get_quant("q4_k").name == "Q4_K_M"
    assert get_quant("fp16").name == "F16"
    with pytest.raises(UnknownQuantError):
        get_quant("Q9_K")


def test_q4_k_m_puts_output_head_at_q6_k_and_norms_at_f32():
    # llama-quant.cpp: output.weight -> Q6_K for K-quants; 1-D tensors are never quantized.
    m = get("llama3.1:8b")
    types = {t.name: ty for t, ty, _ in weights_by_tensor(m, get_quant("Q4_K_M"))}
    assert types["output.weight"] == "Q6_K"
    assert types["token_embd.weight"] == "Q4_K"
    assert types["blk.0.attn_norm.weight"] == "F32"
    assert types["blk.0.ffn_down.weight"] == "Q6_K"  # first n/8 layers get more bits
    assert types["blk.5.ffn_down.weight"] == "Q4_K"


def test_tied_embeddings_quantize_like_the_output_head():
    # Gemma ties token_embd to the output; llama-quantize gives it the output's Q6_K (qs.has_output false).
    types = {t.name: ty for t, ty, _ in weights_by_tensor(get("gemma2:9b"), get_quant("Q4_K_M"))}
    assert types["token_embd.weight"] == "Q6_K"
    assert "output.weight" not in types


def test_rows_not_divisible_by_256_fall_back_like_llama_cpp():
    # Qwen2.5-0.5B: hidden 896 is not a multiple of 256, so Q4_K falls back to Q5_0 and Q6_K to Q8_0.
    types = {t.name: ty for t, ty, _ in weights_by_tensor(get("qwen2.5:0.5b"), get_quant("Q4_K_M"))}
    assert types["blk.3.attn_q.weight"] == "Q5_0"
    assert types["blk.3.ffn_down.weight"] in ("Q4_K", "Q6_K")  # ne[0] = 4864 = 19 x 256


def test_mixtral_8_experts_bumps_attention_to_q8_0():
    types = {t.name: ty for t, ty, _ in weights_by_tensor(get("mixtral:8x7b"), get_quant("Q4_K_M"))}
    assert types["blk.0.attn_v.weight"] == "Q8_0"
    assert types["blk.0.attn_k.weight"] == "Q8_0"
    assert types["blk.0.ffn_gate_inp.weight"] == "F32"


def test_gpt_oss_experts_stay_mxfp4():
    per_type = bytes_per_type(get("gpt-oss:20b"), get_quant("Q4_K_M"))
    assert per_type["MXFP4"] > 0.7 * sum(per_type.values())


def _walk_both_ways(model, quant, imatrix=None):
    from selfhost_advisor.estimate.quantize import model_walk, walk_types

    w = model_walk(model)
    return walk_types(w, model, quant, imatrix), walk_types(w, model, quant, imatrix, reuse_blocks=False)


def _distinct_walks():
    """One catalog model per distinct input of walk_types: the walk (every tensor's shape and rule facts, in order)
    and the model fields walk_types reads (arch, layers, heads, KV heads, experts). Why: fine-tunes and re-releases
    share their base's layout (330 entries, 168 distinct inputs), and walk_types is a pure function of these, so a
    second entry with the same inputs re-checks the same computation (half of this file's time)."""
    from selfhost_advisor.estimate.quantize import model_walk

    seen = {}
    for m in all_models():
        key = (model_walk(m), m.arch, m.n_layers, m.n_heads, m.n_kv_heads, m.moe is not None,
               m.moe.experts if m.moe else 0)
        seen.setdefault(key, m)
    return list(seen.values())


@pytest.mark.parametrize("model", _distinct_walks(), ids=lambda m: m.id)
def test_block_reuse_gives_the_types_of_the_plain_walk(model):
    # walk_types copies a block's types to later blocks whose counters fall in the same classes; that must be
    # exactly what walking every tensor gives, for every catalog model (dense, MoE, dense-first and
    # interleaved MoE, MLA, sliding window, tied embeddings) and every quantization. Every catalog model: each
    # distinct input of walk_types once (_distinct_walks).
    for q in all_quants():
        fast, plain = _walk_both_ways(model, q)
        assert fast == plain, q.name
    for name in ("Q4_0", "Q5_0", "IQ3_XXS", "IQ4_XS", "IQ4_NL", "Q2_K_S", "IQ2_XS"):
        for imatrix in (False, True):
            fast, plain = _walk_both_ways(model, get_quant(name), imatrix)
            assert fast == plain, (name, imatrix)


def test_block_reuse_holds_for_uneven_layouts():
    # Layer counts where the n/8, n/16 and 7n/8 cut points and the mod-3 pattern fall unevenly, and MoE models
    # whose first layers are dense or whose MoE layers alternate.
    base = get("llama3.1:8b")
    moe = next(m for m in all_models() if m.moe is not None and m.moe.experts == 8)
    variants = [replace(base, n_layers=n) for n in (1, 2, 3, 5, 7, 9, 17, 23, 31, 33, 47, 95, 126)]
    variants += [replace(moe, n_layers=n, moe=replace(moe.moe, first_dense_layers=k, moe_layer_step=step))
                 for n, k, step in ((7, 1, 1), (13, 3, 1), (24, 0, 2), (19, 2, 3))]
    for m in variants:
        for q in all_quants():
            fast, plain = _walk_both_ways(m, q)
            assert fast == plain, (m.n_layers, q.name)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.id)
def test_blocks_of_one_kind_hold_the_same_tensors(model):
    # The estimators size one block per kind (tensors.layout); that is only right if layer_tensors depends on
    # nothing but layer_kind besides the block index.
    from selfhost_advisor.estimate.tensors import layer_tensors, layout

    lay = layout(model)
    strip = lambda ts: [(t.name.split(".", 2)[-1], t.shape) for t in ts]  # noqa: E731
    for i in range(model.n_layers):
        assert strip(layer_tensors(model, i)) == strip(lay.templates[lay.kinds[i]]), i


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.id)
def test_block_sums_equal_per_tensor_sums(model):
    # weights() sums each distinct block once; summing every tensor of the plain list must give the same.
    from selfhost_advisor.estimate.memory import weights

    share = model.moe.active / model.moe.experts if model.moe else 1.0
    for name in ("F16", "Q8_0", "Q4_K_M", "IQ2_XS"):
        q = get_quant(name)
        rows = weights_by_tensor(model, q)
        w = weights(model, q)
        layer = [0] * model.n_layers
        read = [0] * model.n_layers
        for t, _, b in rows:
            if t.layer >= 0:
                layer[t.layer] += b
                read[t.layer] += int(b * (share if "_exps" in t.name else 1.0))
        assert w.total_bytes == sum(b for _, _, b in rows)
        assert w.params == sum(t.n_elements for t, _, _ in rows)
        assert list(w.layer_bytes) == layer and list(w.layer_active_bytes) == read
        assert dict(w.by_type) == bytes_per_type_from(rows)


def bytes_per_type_from(rows):
    out = {}
    for _, ty, b in rows:
        out[ty] = out.get(ty, 0) + b
    return out


def test_mxfp4_moe_puts_stacked_experts_at_mxfp4_and_the_rest_at_q8_0():
    # llama-quant.cpp LLAMA_FTYPE_MOSTLY_MXFP4_MOE: tensors with ne[2] > 1 -> MXFP4, every other quantizable
    # tensor (token_embd and the output head too) -> Q8_0; norms and routers stay F32
    types = {t.name: ty for t, ty, _ in weights_by_tensor(get("qwen3:30b"), get_quant("MXFP4_MOE"))}
    assert types["blk.0.ffn_down_exps.weight"] == types["blk.0.ffn_up_exps.weight"] == "MXFP4"
    assert types["blk.0.attn_q.weight"] == types["token_embd.weight"] == types["output.weight"] == "Q8_0"
    assert types["blk.0.ffn_gate_inp.weight"] == "F32"
    dense = {ty for _, ty, _ in weights_by_tensor(get("llama3.1:8b"), get_quant("MXFP4_MOE"))}
    assert dense <= {"Q8_0", "F32"}  # a dense model has no 3-D tensor: all Q8_0


def test_walk_types_cache_answers_each_model_as_its_own_walk_would():
    """walk_types is cached per (walk, _rule_facts, quant, imatrix): a model that shares a walk and the rule facts
    with another (a fine-tune of its base) gets the other's answer, one that differs in a fact the rules read
    (layers, GQA, experts, 70B, MoE, Falcon) does not, and a caller that edits the lists it got changes no later
    answer (the cache keeps tuples)."""
    from selfhost_advisor.estimate.quantize import _rule_facts, _walk_types, model_walk, walk_types

    base = get("llama3.1:70b")
    q = get_quant("Q4_K_M")
    w = model_walk(base)
    singles, blocks = walk_types(w, base, q)
    uncached = _walk_types.__wrapped__(w, _rule_facts(base), q, None, True)
    assert (tuple(singles), tuple(blocks)) == uncached
    singles[0], blocks[0] = "EDITED", ("EDITED",)
    again = walk_types(w, base, q)
    assert again[0][0] != "EDITED" and again[1][0] != ("EDITED",) and (tuple(again[0]), tuple(again[1])) == uncached
    # the same walk read as another model: each fact the rules read changes the key (LLM_TYPE_70B is 80 layers:
    # the 70B bumps of attn_v / ffn_down apply to this file type only then)
    for other in (replace(base, n_layers=79), replace(base, n_kv_heads=base.n_heads), replace(base, arch="falcon")):
        assert _rule_facts(other) != _rule_facts(base)
        assert walk_types(w, other, q) == tuple(map(list, _walk_types.__wrapped__(w, _rule_facts(other), q, None,
                                                                                   True)))
    assert walk_types(w, replace(base, arch="falcon"), q) != walk_types(w, base, q)
    # a field the rules do not read (the hidden size) shares the answer
    assert _rule_facts(replace(base, hidden_size=base.hidden_size + 128)) == _rule_facts(base)
