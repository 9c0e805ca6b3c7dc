"""Estimates against measured data (../shared/calibration): the goals of docs/methodology.md, asserted."""
import csv
import statistics
from collections.abc import Sequence

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest, Model
from selfhost_advisor.estimate.memory import compute_buffer_bytes, estimate_memory, kv_cache_bytes
from selfhost_advisor.record import replace

MiB = 2**20


def test_weights_within_2pct_median_and_5pct_max_of_real_gguf_files(calibration):
    rows, _ = accuracy.gguf_rows(calibration)
    current = [r for r in rows if not r["pre_gguf"] and not r["legacy"]]
    assert len(current) >= 60
    errors = [abs(r["error_pct"]) for r in current]
    assert statistics.median(errors) <= 2.0
    assert max(errors) <= 5.0, max(current, key=lambda r: abs(r["error_pct"]))


def test_legacy_rows_are_few_and_each_has_a_reason(calibration):
    rows, _ = accuracy.gguf_rows(calibration)
    legacy = [r for r in rows if r["legacy"]]
    assert len(legacy) <= 2 and all(len(r["legacy"]) > 40 for r in legacy)


class _Rows(Sequence):
    """accuracy.heldout_rows(), computed on first use: the estimates for ~480 files took ~0.6 s of CPU at import,
    in every xdist worker that collects this file, not only the one that runs its tests."""

    def __init__(self, make):
        self._make, self._rows = make, None

    def _all(self) -> list:
        if self._rows is None:
            self._rows = self._make()
        return self._rows

    def __getitem__(self, i):
        return self._all()[i]

    def __len__(self) -> int:
        return len(self._all())


# Held-out files (benchmarks/heldout/gguf_sizes.csv): models and architectures outside the calibration set, sizes
# from their published model cards and file listings (one source URL per row).
HELDOUT = _Rows(accuracy.heldout_rows)


def test_heldout_gguf_files_match_as_well_as_the_calibration_files():
    current = [r for r in HELDOUT if not r["note"].startswith(("legacy", "recipe"))]  # recipe: a non-stock per-tensor mix
    assert len(current) >= 150 and len({r["arch"] for r in current}) >= 8
    errors = [abs(r["error_pct"]) for r in current]
    assert statistics.median(errors) <= 0.5  # measured 0.10% (2026-11-25)
    assert sum(e <= 1.0 for e in errors) / len(errors) >= 0.9


def test_every_heldout_file_beyond_2pct_is_a_documented_miss():
    for r in HELDOUT:
        if abs(r["error_pct"]) > 2:
            assert r["note"].startswith(("legacy: ", "unexplained: ", "recipe: ")) and len(r["note"]) > 60, r
    # 14 documented misses: the 11th (session 10) is TheBloke's Nov-2023 stablelm-zephyr-3b Q2_K, -9.7%, the older Q2_K
    # mix (legacy; tests/test_finetunes_session10.py checks that mechanism at -0.09%); 12-14 are bartowski's three mid-2024 InternLM2.5-7B-1M _L files (F16 embeddings; tests/test_arch_layouts.py
    # checks that mechanism); 15-16 (session 12) are bartowski's MiniMax-M3 IQ2_XXS and IQ1_S, 4-5% above the stock
    # rules while his Q8_0 of it matches to the byte (unexplained, like his other 2026 MoE files); 17 is poolside's own
    # Laguna S 2.1 Q4_K_M, +4.3% (a file replaced at least once in its repo; unexplained); 18-20 are bartowski's Fara1.5-27B
    # IQ2_M / Q4_K_S / Q4_K_M, 5.4-5.9% above the stock rules while his BF16 of it matches (unexplained, as above);
    # 21-22 (session 15) are ggml-org's MiMo-V2.6-Flash Q2_K (-11.0% blind; a recipe, not the stock mix: its tensor types,
    # read from a loader that checks them, reproduce the file to 3 KB, tests/test_new_releases_session15.py) and unsloth's
    # Gemma 4 12B Q4_K_M (+3.6% blind, the size of the tied token_embd at Q4_K instead of Q6_K; no type count found)
    assert sum(abs(r["error_pct"]) > 2 for r in HELDOUT) <= 22


def test_heldout_notes_do_not_hide_good_rows():
    # a note marks a real miss; one on a row within 2% would keep a matching file out of the figures for no reason
    for r in HELDOUT:
        if r["note"]:
            assert abs(r["error_pct"]) > 2, r


def test_heldout_rows_name_their_source_and_precision():
    for r in HELDOUT:
        assert r["source"].startswith(("https://", "http://")) and r["precision"] and r["real_bytes"] > 10**8


def test_gemma2_q4_k_l_file_is_explained_by_f16_embeddings(calibration):
    # bartowski/gemma-2-9b-it-GGUF Q4_K_L is 6.84 GB (HF file listing); with F16 embeddings the estimate must match.
    f16_embd = replace(get_quant("Q4_K_L"), embeddings_type="F16", output_type="F16")
    est = estimate_memory(get("gemma2:9b"), f16_embd, FitRequest(context=512)).weights_bytes
    assert abs(est / 6.84e9 - 1) < 0.01


def test_pre_gguf_llama2_files_mostly_within_2pct(calibration):
    rows, _ = accuracy.gguf_rows(calibration)
    old = [r for r in rows if r["pre_gguf"] and r["quant"] != "Q2_K"]
    assert old and all(abs(r["error_pct"]) < 2.0 for r in old)


# --- KV cache: exact to llama.cpp's logged buffers (kv_and_runtime_memory.csv) ---

def test_kv_cache_qwen2_7b_8k_matches_ollama_log():
    # memory.required.kv=448.0 MiB for qwen2:7b at ctx 8192 (kv_and_runtime_memory.csv row 1)
    total, _ = kv_cache_bytes(get("qwen2.5:7b"), FitRequest(context=8192))
    assert total == 448 * MiB


def test_kv_cache_llama3_8b_2k_matches_ollama_log():
    # memory.required.kv=256.0 MiB for llama3 (8B) at ctx 2048 (kv_and_runtime_memory.csv row 2)
    total, _ = kv_cache_bytes(get("llama3:8b"), FitRequest(context=2048))
    assert total == 256 * MiB


def _granite_8b_code() -> Model:
    # Facts from architectures.csv (llm_load_print_meta of ibm-granite/granite-8b-code-instruct-128k).
    return Model(
        id="granite-8b-code", name="Granite 8B Code", arch="llama", n_layers=36, hidden_size=4096,
        intermediate_size=14336, n_heads=32, n_kv_heads=8, head_dim=128, vocab_size=49152,
        tied_embeddings=True, max_context=128000, params=8_050_000_000,
    )


def test_kv_cache_granite_8b_32k_matches_llamacpp_log():
    # llama_kv_cache_init: Metal KV buffer size = 4608.00 MiB at n_ctx 32768 (kv_and_runtime_memory.csv row 3)
    total, _ = kv_cache_bytes(_granite_8b_code(), FitRequest(context=32768))
    assert total == 4608 * MiB


def test_compute_buffer_granite_32k_no_flash_attention_matches_log():
    # Metal compute buffer size = 2144.00 MiB (same log; that build ran without flash attention)
    req = FitRequest(context=32768, flash_attention=False)
    # llama.cpp prints MiB with two decimals: compare at that precision. That build reserved a micro-batch of logits.
    assert round(compute_buffer_bytes(_granite_8b_code(), req, n_outputs=512) / MiB, 2) == 2144.00


@pytest.mark.parametrize("n_ctx,logged_mib", [(512, 258.50), (8192, 560.00)])
def test_compute_buffer_llama3_8b_matches_cuda_logs(n_ctx, logged_mib):
    # "CUDA0 compute buffer size = 258.50 MiB" (n_ctx 512) and "= 560.00 MiB" (n_ctx 8192), no flash attention;
    # public llama.cpp/Ollama logs quoted in docs/methodology.md; builds before llama-server capped n_outputs_max, so the
    # prompt graph was reserved with a micro-batch (512 rows) of logits.
    req = FitRequest(context=n_ctx, flash_attention=False)
    assert round(compute_buffer_bytes(get("llama3:8b"), req, n_outputs=512) / MiB, 2) == logged_mib


def test_compute_buffer_current_llama_server_qwen3_4b_within_10pct():
    # 2026 llama-server, Qwen3-4B Q4_K_M, n_ctx 8192, 4 slots (output buffer 2.32 MiB = 4 x 151936 x 4 B), flash
    # attention: "sched_reserve: CUDA0 compute buffer size = 85.01 MiB". The logits of 4 rows no longer dominate; the
    # FFN phase (gate, up, GLU product + the live KQ mask) does.
    req = FitRequest(context=8192, n_parallel=4, flash_attention=True)
    est = compute_buffer_bytes(get("qwen3:4b"), req) / MiB
    assert abs(est - 85.01) / 85.01 < 0.10


def test_llama_server_reserves_logits_per_slot_ollama_per_microbatch():
    m = get("llama3.1:8b")
    server = compute_buffer_bytes(m, FitRequest(context=8192, n_parallel=1))
    # Ollama's llama.cpp runner (before 0.30.0; llama is not an Ollama-engine architecture) holds 512 rows of f32
    # logits, llama-server 1 per slot
    ollama = compute_buffer_bytes(m, FitRequest(context=8192, engine="ollama", n_parallel=1, engine_version="0.29.0"))
    assert ollama >= 4 * 512 * m.vocab_size > server
    # qwen3 runs on Ollama's own engine there (fs/ggml OllamaEngineRequired), whose reserveWorstCaseGraph holds
    # n_parallel rows (session 33, ollama33)
    q = get("qwen3:4b")
    assert compute_buffer_bytes(q, FitRequest(context=8192, engine="ollama", n_parallel=1, engine_version="0.29.0")) \
        < 4 * 512 * q.vocab_size
    # from 0.30.0 Ollama runs llama-server itself (-np slots), so its rule is llama-server's
    assert compute_buffer_bytes(m, FitRequest(context=8192, engine="ollama", n_parallel=1, engine_version="0.30.0")) == server


def test_calibration_kv_rows_all_within_one_mib(calibration):
    rows, _ = accuracy.kv_rows(calibration)
    assert rows and all(abs(r["estimated_bytes"] - r["real_bytes"]) < MiB for r in rows)


def test_catalog_architecture_agrees_with_calibration_configs(calibration):
    by_hf = {}
    with open(calibration / "architectures.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            by_hf[r["model_id"].lower()] = r
    checked = 0
    from selfhost_advisor.catalog.models import all_models

    for m in all_models():
        keys = [m.hf_id.lower(), *(a.lower() for a in m.aliases)]
        row = next((by_hf[k] for k in keys if k in by_hf), None)
        if row is None:
            continue
        checked += 1
        assert m.n_layers == int(row["n_layers"]), m.id
        assert m.hidden_size == int(row["hidden_size"]), m.id
        assert m.n_kv_heads == int(row["n_kv_heads"]), m.id
        assert m.head_dim == int(row["head_dim"]), m.id
        assert m.vocab_size == int(row["vocab_size"]), m.id
    assert checked >= 5
