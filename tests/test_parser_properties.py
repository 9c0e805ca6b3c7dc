"""Every parser of user input, fuzzed: the answer is a usable value or an AdvisorError, never another exception.

Here: hardware specs (catalog/hardware.parse_spec, cost/boxes.box_from_spec), quantization, KV cache and engine
names, model names (catalog/resolve.resolve: catalog aliases, Ollama tags, Hub ids, paths), saved probe files
(probe/files.py), whole GGUF files and their metadata (catalog/gguf_model.py over gguf_header.py), Hub
config.json (catalog/hf_config.model_from_config). Sizes, counts and context lengths are in test_units.py,
Ollama tag splitting in test_ollama.py, the header reader on raw bytes in test_gguf.py.

Where a parser accepts, the value is checked too: it round-trips, or the estimator can use it.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, parse_spec, profiles
from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import all_models, entries
from selfhost_advisor.catalog.quants import all_quants, get_quant
from selfhost_advisor.catalog.resolve import quant_of, resolve
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.errors import AdvisorError, BadFileError
from selfhost_advisor.estimate.fit import fit
from selfhost_advisor.estimate.memory import engine_params, estimate_memory, kv_type
from selfhost_advisor.estimate.tensors import count_params
from selfhost_advisor.estimate.vllm import get_vllm_quant, vllm_quants
from selfhost_advisor.probe.files import load_probe_file, report_from_probe
from selfhost_advisor.record import replace
from selfhost_advisor.render.probe_json import probe_dict

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAST = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Any JSON value Python's json module can produce, including NaN, Infinity and integers beyond 64 bits.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
Q4 = get_quant("Q4_K_M")
SMALL_MODEL = next(m for m in all_models() if m.id == "llama3.1:8b")


def _usable(model) -> None:
    """The estimator takes `model` end to end (memory, llama.cpp and vLLM fits) or says why with an AdvisorError."""
    try:
        mem = estimate_memory(model, Q4, FitRequest(context=2048))
        assert all(isinstance(v, int) and v >= 0 for v in (mem.weights_bytes, mem.kv_cache_bytes, mem.total_bytes))
        box = machine_from_profile(parse_spec("rtx4090")[0], 2, 64 * 10**9)
        fit(model, box, FitRequest(context=2048), (Q4,))
        fit(model, box, FitRequest(context=2048, engine="vllm"), vllm_quants()[:1])
    except AdvisorError:
        pass


# --- hardware specs ----------------------------------------------------------------------------------------------

GPU_PROFILES = [p for p in profiles() if p.kind == "gpu"]
_NAMES = sorted({n for p in profiles() for n in (p.id, p.name, *(p.raw.get("aliases") or ()))})
# Written the way users write hardware: a count before or after, spacing and case, a link, a stray character.
SPEC_LIKE = st.builds(
    lambda pre, name, post, link, noise: f"{pre}{name}{post}{link}{noise}",
    st.sampled_from(["", "", "2x ", "0x ", "64x ", "65x ", "3 x ", "2*", "-1x ", "x "]),
    st.sampled_from(_NAMES).map(str) | st.from_regex(r"\A[a-z]{1,4}[0-9]{0,4}\Z"),
    st.sampled_from(["", "", "x2", "x0", " x 99", "X4"]),
    st.sampled_from(["", "", " nvlink", " pcie", " NVLink"]),
    st.sampled_from(["", "", "", " ", "s", "-", "\u00d7", "\x00"]),
)
VALID_SPEC = st.builds(lambda n, name, link: f"{n}x {name}{link}" if n > 1 else f"{name}{link}",
                       st.integers(1, 64), st.sampled_from(_NAMES), st.sampled_from(["", " nvlink", " pcie"]))


@settings(max_examples=150, **FAST)
@given(VALID_SPEC | SPEC_LIKE | st.text(max_size=20))
def test_hardware_spec_is_a_profile_and_a_sane_count_or_unknown_hardware(text):
    try:
        profile, count, link = parse_spec(text)
    except AdvisorError:
        return
    # a curated profile, or a spec-table / Apple-configuration profile that its own id resolves back to
    assert profile in profiles() or get_profile(profile.id) == profile
    assert 1 <= count <= 64 and link in ("", "nvlink", "pcie")
    assert count == 1 or profile.kind == "gpu"
    machine = machine_from_profile(profile, count, None, link)
    assert len(machine.devices) == (0 if profile.kind == "cpu" else count if profile.kind == "gpu" else 1)


@settings(max_examples=200, **FAST)
@given(st.sampled_from(GPU_PROFILES), st.integers(1, 64), st.sampled_from(["{n}x {id}", "{n} x {id}", "{id}x{n}",
                                                                          "{n}*{id}", "{n}X {id} {link}"]))
def test_every_gpu_profile_multiplies_in_every_written_form(profile, n, form):
    # a card without an NVLink connector (data/hardware.yaml nvlink: false) refuses 'nvlink': it is written with 'pcie'
    link = "pcie" if profile.raw.get("nvlink") is False else "nvlink"
    got, count, _ = parse_spec(form.format(n=n, id=profile.id, link=link))
    assert (got.id, count) == (profile.id, n)


@pytest.mark.parametrize("spec", ["4090x2", "rtx4090x2", "2x4090", "2 x rtx4090", "4090 x 2", "2*rtx-4090", "2×4090"])
def test_a_count_on_either_side_of_the_card_is_the_count(spec):
    profile, count, _ = parse_spec(spec)
    assert (profile.id, count) == ("rtx-4090", 2)


@pytest.mark.parametrize("profile", profiles(), ids=lambda p: p.id)
def test_every_profile_resolves_by_id_and_by_name(profile):
    assert parse_spec(profile.id)[:2] == (profile, 1)
    assert parse_spec(profile.id.upper())[0] is profile
    assert parse_spec(profile.name)[0] is profile


@settings(max_examples=100, **FAST)
@given(VALID_SPEC | SPEC_LIKE | st.text(max_size=20))
@example("/\x00")  # a NUL byte in a path: open() raises ValueError, not OSError (found by this test)
def test_cost_box_spec_is_a_priced_box_of_the_parsed_count_or_an_advisor_error(text):
    try:
        box = box_from_spec(text)
    except AdvisorError:
        return
    profile, count, _ = parse_spec(text)
    assert (box.profile_id, box.gpus) == (profile.id, count)
    assert box.host_price_usd >= 0 and box.gpu_tdp_watts >= 0


# --- quantization, KV cache and engine names ---------------------------------------------------------------------

@settings(max_examples=150, **FAST)
@given(st.text(max_size=12) | st.from_regex(r"\A(i?q[0-9]_[a-z0-9_]{0,4}|[bf]f?[0-9]{1,2}|fp8|awq.*|gptq.*)\Z"))
def test_option_names_are_known_values_or_advisor_errors(text):
    for parse in (get_quant, kv_type, engine_params, get_vllm_quant):
        try:
            parse(text)
        except AdvisorError:
            pass


@settings(max_examples=100, **FAST)
@given(st.sampled_from(all_quants()), st.lists(st.booleans(), min_size=12, max_size=12), st.sampled_from(["", " "]))
def test_quant_names_are_case_and_space_insensitive(quant, upper, pad):
    mixed = "".join(c.upper() if u else c.lower() for c, u in zip(quant.name, upper + [False] * 20))
    assert get_quant(pad + mixed + pad) is quant


# --- model names (catalog aliases, Ollama tags, Hub ids, paths) -------------------------------------------------

ALIASES = sorted({a for e in entries() for a in (e["id"], e["hf_id"], *(e.get("aliases") or ()))})
NAME_LIKE = st.from_regex(r"\A(hf:|ollama:|hf\.co/|\./)?[A-Za-z0-9._-]{0,12}(/[A-Za-z0-9._-]{1,12})?(:[A-Za-z0-9._-]{0,14})?\Z")
# Ollama tags of catalog models: size, variant and quant suffixes (llama3.1:70b-instruct-q4_K_M), some malformed.
TAG_LIKE = st.builds(
    lambda alias, variant, quant: f"{alias}{variant}{quant}",
    st.sampled_from([a for a in ALIASES if ":" in a]),
    st.sampled_from(["", "-instruct", "-text", "-chat-v0.1", "-"]),
    st.sampled_from(["", "-q4_K_M", "-q8_0", "-fp16", "-Q9_K", "-iq2_xxs", "-q4_k_m", ":latest"]),
)


@settings(max_examples=100, **FAST)
@given(NAME_LIKE | TAG_LIKE | st.text(max_size=24) | st.sampled_from(ALIASES).map(lambda a: a + "x"))
def test_model_names_resolve_to_a_usable_model_or_an_advisor_error(text):
    try:
        r = resolve(text, offline=True)  # offline: a Hub id answers from the (empty) cache, never the network
    except AdvisorError:
        return
    assert r.model.n_layers >= 1 and r.model.params > 0


@settings(max_examples=150, **FAST)
@given(st.sampled_from(ALIASES), st.lists(st.booleans(), min_size=60, max_size=60))
def test_catalog_aliases_resolve_offline_whatever_their_case(alias, upper):
    mixed = "".join(c.upper() if u else c.lower() for c, u in zip(alias, upper))
    assert resolve(mixed, offline=True).model.id == resolve(alias, offline=True).model.id


OLLAMA_PART = st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,15}\Z")


@settings(max_examples=300, **FAST)
@given(st.sampled_from(["", "someone/", "hf.co/bartowski/", "registry.ollama.ai/library/"]), OLLAMA_PART,
       st.sampled_from([None, "70b", "8x7b", "0.5b", "3.8B", "30b-a3b", "e4b"]),
       st.sampled_from([None, "instruct", "text", "chat-v0.1", "mini-4k-instruct"]),
       st.sampled_from([None, "q4_K_M", "q8_0", "Q3_K_S", "fp16", "bf16", "iq2_xxs", "mxfp4"]))
def test_ollama_tags_split_back_into_the_parts_they_were_built_from(prefix, model, size, variant, quant):
    from selfhost_advisor.catalog.ollama import parse_tag

    pieces = [p for p in (size, variant, quant) if p]
    text = f"{prefix}{model}:{'-'.join(pieces)}" if pieces else f"{prefix}{model}"
    t = parse_tag(text)
    assert t.model == model and t.size == (size.lower() if size else None), text
    assert t.variant == variant and t.quant == ({"FP16": "F16"}.get(quant.upper(), quant.upper()) if quant else None)
    assert t.namespace == (prefix.strip("/").split("/")[-1] or "library")
    assert parse_tag(t.short) == t  # the printed short name parses back to the same tag


# --- saved probe files ------------------------------------------------------------------------------------------

def _saved_probes() -> list[dict]:
    """What `advisor probe --json --show-ids` writes for each fixture machine (test_probe.SCENARIOS)."""
    from test_probe import SCENARIOS

    return [json.loads(json.dumps(probe_dict(make(), show_ids=True))) for make in SCENARIOS.values()]


SAVED_PROBES = _saved_probes()


def _paths(obj, prefix=()):
    """Every (nested) key or index path in a JSON value."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield prefix + (k,)
        yield from _paths(v, prefix + (k,))


@st.composite
def mutated_probe(draw):
    """A real saved probe with one to four values replaced by any JSON value (or removed)."""
    data = json.loads(json.dumps(draw(st.sampled_from(SAVED_PROBES))))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(_paths(data))))
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(path[-1])
        else:
            parent[path[-1]] = draw(JSON | st.integers(-1, 2**62) | st.sampled_from(["", "2.0.0", True, [], {}]))
    return data


@settings(max_examples=150, **FAST)
@given(mutated_probe() | JSON)
def test_probe_json_is_a_machine_that_reads_back_the_same_or_a_bad_file(obj):
    try:
        report = report_from_probe(obj, "box.json")
    except AdvisorError as err:
        assert isinstance(err, BadFileError)
        return
    m = report.machine
    sizes = [m.ram_bytes] + [d.memory_bytes for d in m.devices] + [d.bandwidth_bytes_per_s or 0 for d in m.devices]
    assert all(isinstance(s, int) and 0 <= s <= 2**60 for s in sizes)
    saved = json.loads(json.dumps(probe_dict(report, show_ids=True)))
    assert probe_dict(report_from_probe(saved, "box.json"), show_ids=True) == saved  # idempotent round trip
    try:
        fit(SMALL_MODEL, m, FitRequest(context=2048), (Q4,))
    except AdvisorError:
        pass


def _valid_probe_bytes() -> bytes:
    box = {"schema_version": "1.0.0", "ram_bytes": 68719476736, "cpu": {"name": "x", "flags": ["avx2"]},
           "devices": [{"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 25757220864,
                        "bandwidth_bytes_per_s": 1008000000000, "matched_profile": "rtx-4090"}]}
    return json.dumps(box).encode()


@settings(max_examples=300, **FAST)
@given(st.binary(max_size=300) | st.builds(lambda d: _valid_probe_bytes()[: d], st.integers(0, 400))
       | st.tuples(st.integers(0, 300), st.binary(min_size=1, max_size=3)).map(
           lambda t: _valid_probe_bytes()[: t[0]] + t[1] + _valid_probe_bytes()[t[0] + len(t[1]):]))
def test_probe_file_bytes_load_as_a_machine_or_a_bad_file(blob):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "box.json")
        with open(path, "wb") as fh:
            fh.write(blob)
        try:
            machine = load_probe_file(path)
        except AdvisorError as err:
            assert isinstance(err, BadFileError) and "\n" not in str(err)
            return
    assert machine.ram_bytes >= 0 and all(dev.memory_bytes > 0 for dev in machine.devices)


# --- GGUF files -------------------------------------------------------------------------------------------------

gguf = pytest.importorskip("gguf")
from gguf_factory import write_gguf  # noqa: E402

from selfhost_advisor.catalog.gguf_model import model_from_metadata, read_local  # noqa: E402


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    path = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    write_gguf(path, n_layers=2, d=256, ff=512, vocab=320, tokens=16)
    reader = gguf.GGUFReader(str(path))  # llama.cpp's own reader says where the last tensor's data ends
    end = max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
    return path.read_bytes(), end


def _read_bytes(blob: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.gguf")
        with open(path, "wb") as fh:
            fh.write(blob)
        return read_local(path)


@settings(max_examples=150, **FAST)
@given(st.data())
def test_any_truncation_of_a_gguf_before_its_last_tensor_ends_is_a_bad_file(tiny_gguf, data):
    blob, end = tiny_gguf
    cut = data.draw(st.integers(0, end - 1))
    with pytest.raises(BadFileError):
        _read_bytes(blob[:cut])


@settings(max_examples=100, **FAST)
@given(st.data())
def test_mutated_gguf_files_read_as_a_usable_model_or_a_bad_file(tiny_gguf, data):
    blob, end = tiny_gguf
    buf = bytearray(blob)
    header_end = min(len(buf), 4096)  # the header: magic, counts, metadata, tensor infos
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, header_end - 1))
        buf[pos] = data.draw(st.integers(0, 255) | st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
    try:
        gm = _read_bytes(bytes(buf))
    except AdvisorError as err:
        assert "\n" not in str(err)
        return
    assert gm.model.n_layers >= 1 and gm.data_bytes >= 0
    _usable(gm.model)
    estimate_memory(gm.model, quant_of(gm.quant), FitRequest(context=1024))


GGUF_KEYS = ["block_count", "embedding_length", "attention.head_count", "attention.head_count_kv",
             "attention.key_length", "vocab_size", "feed_forward_length", "expert_count", "expert_used_count",
             "expert_feed_forward_length", "expert_shared_count", "leading_dense_block_count",
             "interleave_moe_layer_step", "attention.kv_lora_rank", "rope.dimension_count", "attention.key_length_mla",
             "attention.value_length_mla", "attention.sliding_window", "attention.sliding_window_pattern",
             "context_length"]
# The value types a GGUF can hold for these keys: (u)int8..64, float, bool, string, arrays (per-layer values).
GGUF_VALUE = (st.integers(1, 64) | st.integers(1, 64) | st.integers(-(2**31), 2**64 - 1) | st.integers(-2, 300)
              | st.floats() | st.booleans() | st.text(max_size=4) | st.lists(st.integers(-3, 64) | st.booleans(), max_size=6))


@st.composite
def gguf_metadata(draw):
    arch = draw(st.sampled_from(["llama", "gemma3", "deepseek2", "qwen3moe", "gpt-oss", "phi3", "cohere2", "newarch"]))
    md = {"general.architecture": arch}
    for key in ("block_count", "embedding_length", "attention.head_count"):
        md[f"{arch}.{key}"] = draw(st.integers(1, 64))  # present, so most examples get past the first check
    for key in draw(st.lists(st.sampled_from(GGUF_KEYS), max_size=10, unique=True)):
        md[f"{arch}.{key}"] = draw(GGUF_VALUE)
    if draw(st.booleans()):
        md["tokenizer.ggml.tokens"] = draw(JSON)
    if draw(st.booleans()):
        md["general.file_type"] = draw(GGUF_VALUE)
    return md


TENSORS = st.lists(st.tuples(
    st.sampled_from(["token_embd.weight", "output.weight", "blk.0.attn_q.weight", "blk.0.ffn_up.weight", "rope_freqs"]),
    st.lists(st.sampled_from([256, 512, 32, 0, 1, 320]), min_size=1, max_size=4).map(tuple),
    st.sampled_from(["F32", "F16", "Q8_0", "Q4_K", "Q6_K"])), max_size=5)


@settings(max_examples=150, **FAST)
@given(gguf_metadata(), TENSORS)
def test_gguf_metadata_maps_to_a_usable_model_or_a_bad_file(md, tensors):
    try:
        model = model_from_metadata(md, tensors, model_id="m.gguf", source="m.gguf")
    except AdvisorError as err:
        assert isinstance(err, BadFileError)
        return
    assert 1 <= model.n_layers and model.head_dim >= 1 and model.n_kv_heads >= 1
    _usable(model)


# --- Hub config.json --------------------------------------------------------------------------------------------

CONFIGS = {p.parent.name: json.loads(p.read_text()) for p in sorted((FIXTURES / "hub").glob("*/config.json"))}
CONFIG_KEYS = sorted({k for c in CONFIGS.values() for k in c} | {k for c in CONFIGS.values()
                                                                 for k in (c.get("text_config") or {})})


@st.composite
def mutated_config(draw):
    cfg = json.loads(json.dumps(CONFIGS[draw(st.sampled_from(sorted(CONFIGS)))]))
    target = cfg["text_config"] if "text_config" in cfg and draw(st.booleans()) else cfg
    for key in draw(st.lists(st.sampled_from(CONFIG_KEYS), min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(JSON | st.integers(-3, 3) | st.sampled_from([0, 2**63, 1.5, "32", []]))
    return cfg


@settings(max_examples=150, **FAST)
@given(mutated_config() | st.dictionaries(st.sampled_from(CONFIG_KEYS), JSON, max_size=6) | JSON)
def test_hub_config_maps_to_a_usable_model_or_an_advisor_error(cfg):
    try:
        model = model_from_config(cfg, "acme/model")
    except AdvisorError as err:
        assert "\n" not in str(err)
        return
    model = replace(model, params=count_params(model))
    assert model.params > 0
    _usable(model)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_recorded_configs_parse_unmutated(name):
    # the mutation test above starts from these: each must parse as it is, or the property tests nothing
    assert model_from_config(CONFIGS[name], name.replace("--", "/")).n_layers >= 1


# --- the cases fuzzing found, kept as plain regressions ---------------------------------------------------------

def _llama_md(**keys):
    md = {"general.architecture": "llama", "llama.block_count": 2, "llama.embedding_length": 256,
          "llama.attention.head_count": 4, "llama.feed_forward_length": 512, "llama.vocab_size": 320}
    md.update({f"llama.{k}": v for k, v in keys.items()})
    return md


@pytest.mark.parametrize("md,words", [
    (_llama_md(embedding_length=3), "head dimension 0"),  # hidden < heads: was ZeroDivisionError
    (_llama_md(block_count=2**63), "block_count"),  # was a loop over 2^63 layers
    (_llama_md(expert_count=8, expert_used_count=9), "active experts"),
    ({**_llama_md(vocab_size=0), "tokenizer.ggml.tokens": 5}, "vocabulary size"),  # int tokens: was TypeError
], ids=["head-dim-0", "2^63-layers", "more-active-than-experts", "tokens-not-a-list"])
def test_corrupt_gguf_metadata_names_the_unusable_field(md, words):
    with pytest.raises(BadFileError, match=words):
        model_from_metadata(md, [], model_id="m.gguf", source="m.gguf")


@pytest.mark.parametrize("edit,words", [
    ({"num_local_experts": None}, "num_local_experts"),  # was TypeError from int(None)
    ({"architectures": [["MixtralForCausalLM"]]}, "not supported"),  # was TypeError: unhashable list
    ({"intermediate_size": None}, "intermediate size"),  # was ZeroDivisionError in the quantizer
    ({"num_hidden_layers": 10**12}, "layers"),
])
def test_corrupt_hub_config_names_the_unusable_field(edit, words):
    cfg = {**CONFIGS["mistralai--Mixtral-8x7B-Instruct-v0.1"], **edit}
    with pytest.raises(AdvisorError, match=words):
        model_from_config({k: v for k, v in cfg.items() if v is not None}, "mistralai/Mixtral-8x7B-Instruct-v0.1")


def test_a_generic_device_without_backend_reads_back_as_its_makers_backend():
    """Hypothesis found it: an Intel-named device with no vendor and no backend was read as CUDA, written back with
    backend 'cuda', and that file was then refused ('its name says intel'). It takes its maker's backend instead."""
    saved = next(p for p in SAVED_PROBES if p.get("other_devices"))
    probe = json.loads(json.dumps(saved))
    device = {"name": "Intel GPU 8086:a780", "memory_bytes": 0}
    probe["other_devices"] = [device]
    first = probe_dict(report_from_probe(probe, "box.json"), show_ids=True)
    assert first["other_devices"][0]["backend"] == "sycl"
    again = json.loads(json.dumps(first))
    assert probe_dict(report_from_probe(again, "box.json"), show_ids=True) == again
    probe["other_devices"] = [dict(device, name="NVIDIA GeForce RTX 3060")]  # an NVIDIA name keeps CUDA
    assert probe_dict(report_from_probe(probe, "box.json"), show_ids=True)["other_devices"][0]["backend"] == "cuda"
