"""Properties over hostile numbers and structures: every numeric option of every command, GGUF metadata with NaN,
infinity, huge values and float arrays where counts belong, and arrays nested to any depth. The answer is a value or
bad input (exit 2 / BadFileError), never a crash (exit 3), a hang or a non-finite figure in JSON."""
from __future__ import annotations

import math
import struct

import pytest
import typer
from gguf_raw import ARR, F32, F64, STR, U32, U64, _kv, base_kvs, gguf_bytes, nested
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.gguf_header import BytesSource, read_header
from selfhost_advisor.catalog.gguf_model import from_headers, ggml_type_ids
from selfhost_advisor.cli import app, main
from selfhost_advisor.errors import BadFileError

FAST = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
HOSTILE_NUMBERS = st.sampled_from(["nan", "inf", "-inf", "1e309", "1e400", str(2**63), str(-(2**63) - 1), "1" + "0" * 5000,
                                   "9" * 41, "\u0661\u0662", "0x10", "-0", "1e-330", " 5 ", "1_0"]) | \
    st.floats().map(repr) | st.integers(-(2**70), 2**70).map(str)
NUMERIC = sorted((name, p.opts[0]) for name, c in typer.main.get_command(app).commands.items() for p in c.params
                 if type(p.type).__name__.startswith(("Int", "Float", "BoundedInt", "BoundedFloat")))
BASE = {"fit": ["llama3.1:8b", "--vram", "24GB"], "cost": ["-t", "1e9", "-H", "rtx4090"],
        "hardware": ["--for", "llama3.1:8b"], "serve": ["llama3.1:8b", "-H", "h100-sxm"],
        # --fits over the qwen3 rows (40 models, dense and MoE) rather than the whole catalog: the option is parsed and
        # checked the same way, and a --min-tps no option meets evaluated every quantization of ~400 models (~2.5 s of
        # CPU an example, most of this file's time; session 15)
        "models": ["qwen3", "--fits", "rtx4090"]}


def test_every_command_has_numeric_options_to_check():
    assert len(NUMERIC) >= 15 and {n for n, _ in NUMERIC} >= {"fit", "cost", "hardware", "models"}


@settings(max_examples=60, **FAST)
@given(option=st.sampled_from(NUMERIC), value=HOSTILE_NUMBERS)
def test_a_hostile_number_in_any_numeric_option_is_a_value_or_bad_input(capsys, option, value):
    command, flag = option
    code = main([command, *BASE.get(command, []), flag, value, "--json"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err  # never 3 (a crash)
    assert "Infinity" not in out and "NaN" not in out
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("advisor: ")


def _model(kvs, **kw):
    header = read_header(BytesSource(gguf_bytes(kvs, **kw), "m.gguf"), ggml_type_ids())
    return from_headers([header], model_id="m.gguf", source="m.gguf", files=("m.gguf",)).model


COUNT_KEYS = ["llama.block_count", "llama.embedding_length", "llama.attention.head_count",
              "llama.attention.head_count_kv", "llama.context_length", "llama.feed_forward_length", "llama.vocab_size",
              "llama.expert_count", "llama.attention.sliding_window", "llama.attention.key_length"]


@settings(max_examples=150, **FAST)
@given(key=st.sampled_from(COUNT_KEYS), value=st.floats(allow_nan=True, allow_infinity=True, width=32))
def test_a_float32_where_a_count_belongs_is_a_whole_count_or_a_bad_file(key, value):
    try:
        m = _model(base_kvs(**{key: (F32, struct.pack("<f", value))}))
    except BadFileError as err:
        assert str(err).startswith("m.gguf")  # names the file (and the key, or the shape it broke)
        return
    assert math.isfinite(value) and value == int(value) and value >= 0
    assert all(isinstance(v, int) for v in (m.n_layers, m.hidden_size, m.n_heads, m.max_context))


@settings(max_examples=100, **FAST)
@given(key=st.sampled_from(COUNT_KEYS),
       values=st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.integers(0, 2**64 - 1), min_size=1, max_size=8),
       as_double=st.booleans())
def test_float_and_integer_arrays_where_a_count_belongs_read_or_refuse(key, values, as_double):
    floats = [float(v) for v in values]
    if as_double:
        payload = struct.pack("<IQ", F64, len(floats)) + struct.pack(f"<{len(floats)}d", *floats)
    else:
        ints = [int(v) if isinstance(v, int) else 0 for v in values]
        payload = struct.pack("<IQ", U64, len(ints)) + struct.pack(f"<{len(ints)}Q", *ints)
    try:
        _model(base_kvs(**{key: (ARR, payload)}))
    except BadFileError:
        pass


@settings(max_examples=40, **FAST)
@given(depth=st.integers(0, 300_000), item=st.sampled_from([U32, STR]))
def test_arrays_nested_to_any_depth_are_bounded_never_a_recursion_error(depth, item):
    inner = struct.pack("<IQ", item, 0)
    payload = struct.pack("<IQ", ARR, 1) * depth + inner
    kvs = base_kvs()
    try:
        _model(kvs, extra_kv=_kv("x.nested", ARR, payload), extra_n=1)
    except BadFileError as err:
        assert depth >= 4 and "nested" in str(err)
    else:
        assert depth < 4


@pytest.mark.parametrize("claim", [2**24, 2**40, 2**64 - 1])
def test_claimed_counts_are_refused_before_allocation(claim):
    data = b"GGUF" + struct.pack("<IQQ", 3, claim, 1)
    with pytest.raises(BadFileError, match="limit"):
        read_header(BytesSource(data, "claim.gguf"), ggml_type_ids())
    array = gguf_bytes(base_kvs(), extra_kv=_kv("x", ARR, struct.pack("<IQ", STR, claim)), extra_n=1)
    with pytest.raises(BadFileError, match="array of"):
        read_header(BytesSource(array, "claim.gguf"), ggml_type_ids())


def test_the_kept_metadata_is_bounded_whatever_the_file_holds():
    arr = struct.pack("<IQ", U32, 4096) + bytes(4 * 4096)
    n = 100  # 409,600 items in arrays the reader could keep: only MAX_GGUF_KEPT are kept, the rest summarised
    header = read_header(BytesSource(gguf_bytes(base_kvs(), extra_kv=b"".join(_kv(f"x.a{i}", ARR, arr) for i in range(n)),
                                                extra_n=n), "g.gguf"), ggml_type_ids())
    from selfhost_advisor.limits import MAX_GGUF_KEPT

    kept = sum(len(v) for v in header.metadata.values() if isinstance(v, list))
    assert 0 < kept <= MAX_GGUF_KEPT
    nested(1)  # the helper the harness shares


def test_a_huge_block_count_is_refused_at_once_not_iterated():
    """block_count 2**40 with a handful of tensors: the per-block attention scan must not walk 2**40 blocks (it hung
    the suite); the layer-count check refuses the file. CPU time, not wall time: the check is about work done, and a
    wall-clock bound measures the neighbours on a loaded machine."""
    import time

    start = time.process_time()
    with pytest.raises(BadFileError, match="layers"):
        _model(base_kvs(**{"llama.block_count": (U64, struct.pack("<Q", 2**40))}))
    assert time.process_time() - start < 5
