"""vLLM's memory against its own start-up logs (data/engine_logs.yaml via benchmarks/engine_accuracy.py).

Goals (issue 15): the KV pool within 8% median with each run's own utilisation and settings, the profiled
activation peak within 15% median; held-out rows (not looked at while writing the formulas) must meet them too.
"""
from __future__ import annotations

import re

import sys
from functools import cache
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import engine_accuracy  # noqa: E402

from selfhost_advisor.catalog.data import load
from selfhost_advisor.estimate import vllm as V  # noqa: E402


@cache
def _results() -> list[dict]:
    """engine_accuracy's rows, evaluated when a test first asks: not at import, which every xdist worker does while
    collecting (~0.35 s of CPU each; only the worker that runs this file needs them: suite time)."""
    return engine_accuracy.evaluate()


@cache
def _summary() -> dict:
    return engine_accuracy.summary(_results())


def test_every_row_names_its_source_version_and_settings():
    rows = load("engine_logs")["rows"]
    assert len([r for r in rows if r["engine"] == "vllm"]) >= 23
    for r in rows:
        if r.get("rule") == "layout_log" or r.get("session") == 34:  # ollama33 / englog34: public notes by file id
            assert re.match(r"https://|code-index file id \d+ ", r["source"]), r
        else:
            assert r["source"].startswith("https://github.com/" if r["engine"] == "vllm" else "https://"), r
        assert r["version"] and r["logged"], r["source"]
        if r["engine"] == "vllm":
            assert {"gpu_memory_utilization", "max_model_len", "max_num_batched_tokens", "max_num_seqs"} <= set(r["flags"])


@pytest.mark.parametrize("group", ["seen", "holdout"])
def test_vllm_kv_pool_within_8_percent_median(group):
    s = _summary()["vllm"]["kv"][group]
    assert s["n"] >= 3 and s["median"] <= 0.08, s


@pytest.mark.parametrize("group", ["seen", "holdout"])
def test_vllm_activation_peak_within_15_percent_median(group):
    s = _summary()["vllm"]["act"][group]
    assert s["n"] >= 2 and s["median"] <= 0.15, s


def test_vllm_weights_match_what_vllm_loaded():
    for r in _results():
        if r["engine"] == "vllm" and r.get("weights_err") is not None:
            assert abs(r["weights_err"]) < 0.03, r


def test_a_run_vllm_refused_is_refused_here():
    # issue #13882: Qwen2.5-7B AWQ on an 8 GB laptop GPU at 0.70 left -1.05 GiB for KV; vLLM would not start
    row = next(r for r in _results() if "13882" in r["source"])
    assert row["kv_est_gib"] < 0 and row["kv_logged_gib"] < 0


def test_runs_vllm_stopped_are_stopped_here():
    # llm-d: Qwen3-32B BF16 on one H100 at --max-model-len 32000 (the 4.45 GiB pool holds about 18K tokens)
    rows = [r for r in _results() if r.get("refused_logged")]
    assert rows and all(r["refused_est"] for r in rows)


def test_non_torch_memory_follows_the_interconnect_rule():
    # over PCIe (no custom all-reduce) TP >= 2 logs the same small non-torch memory as TP 1; our 0.25 GiB must stay
    # within 0.25 GiB of every such log. Over NVLink what TP 2 adds to the same source's TP 1 log (same machine, same
    # build) must be our release's NVLink term within 0.1 GiB: 1.79 GiB where the start-up snapshot preceded the
    # NCCL init (PR #10511), 0.41 GiB in the V1 releases that take it afterwards (llm-d)
    rows = {r["source"] + str(r["tp"]): r for r in load("engine_logs")["rows"]}
    by_source_tp = {(r["source"], r["tp"], r["model"]): r for r in _results() if r.get("non_torch_abs") is not None}
    checked = nvlink = 0
    for r in _results():
        if r.get("non_torch_abs") is None:
            continue
        row = rows[r["source"] + str(r["tp"])]
        if r["tp"] > 1 and row.get("interconnect") == "pcie":
            assert abs(r["non_torch_abs"]) <= 0.25, r
            checked += 1
        if r["tp"] > 1 and row.get("interconnect") == "nvlink":
            tp1 = by_source_tp.get((r["source"], 1, r["model"]))
            if tp1 is not None:
                logged = r["non_torch_logged_gib"] - tp1["non_torch_logged_gib"]
                ours = (V.non_torch_bytes(r["tp"], "nvlink", r["version"]) - V.non_torch_bytes(1)) / 2**30
                assert abs(logged - ours) <= 0.1, (r["version"], logged, ours)
                nvlink += 1
    assert checked >= 2 and nvlink >= 3
    # the two releases' terms differ by the init workspace that moved out of the budget
    assert V.non_torch_bytes(2, "nvlink", "0.6.5") - V.non_torch_bytes(2, "nvlink", "0.11.1") > 2**30


def test_llamacpp_compute_buffer_rows_within_10_percent():
    # issue 15 goal: llama.cpp's compute buffer within 10% (builds before llama-server's n_outputs_max cap are replayed
    # with their micro-batch of logits, flags.n_outputs)
    rows = [r for r in _results() if r["engine"] == "llamacpp" and r.get("compute_err") is not None]
    errs = [abs(r["compute_err"]) for r in rows if not r["known_miss"]]
    assert len(errs) >= 4 and max(errs) <= 0.10, errs
    # a row outside the goal must say why (data/engine_logs.yaml known_miss): two so far, Phi-3 on Metal, +14.8%, and
    # gpt-oss-20b under --n-cpu-moe 99 (session 33, ik_llama.cpp issue #822's mainline log), -10.6%
    misses = [r for r in rows if r["known_miss"] and r.get("session") != 34]
    assert len(misses) <= 2 and all(abs(r["compute_err"]) <= 0.20 for r in misses), misses
    # session 34 (englog34): the three Qwen3-Coder-Next starts (hybrid Gated DeltaNet) are the only misses of its rows
    # (and Qwen3.5-27B under -ngl 26): hybrid Gated-DeltaNet graphs, data/engine_logs.yaml known_miss
    assert {r["model"] for r in rows if r["known_miss"] and r.get("session") == 34} <= {"qwen3-coder-next:80b", "qwen3.5:27b"}
    reasons = [row["known_miss"] for row in load("engine_logs")["rows"] if row.get("known_miss")]
    assert all(len(reason) > 80 for reason in reasons)


def test_ollama_llama_server_row_batch_kv_and_compute_buffer():
    # G3A/base-conocimiento-sandbox scripts/kb-ollama-select-string.md, Ollama 0.33.2 on CPU, OLLAMA_NUM_PARALLEL=2:
    # Ollama chose -b/-ub 1024 (num_ctx 4096 x 2 slots > 4096), llama.cpp logged KV 832.00 MiB (4096 cells per slot,
    # 2 streams) and a 168.03 MiB compute buffer
    row = next(r for r in _results() if r["engine"] == "ollama" and "base-conocimiento" in r["source"])
    assert row["batch_est"] == 1024 == row["batch_logged"]
    assert row["kvbuf_est"] == 832.00
    assert abs(row["compute_err"]) < 0.05, row


def test_mlx_rows_within_15_percent():
    # all within 15% but the Llama-3.1-8B M4 Pro decode at a 32k cache (mlx 0.21.4, mlx-examples #1029): +17% since
    # session 20 gave M3+ GPUs a shorter kernel step (+13% before); that release's sdpa_vector read the cache once per
    # query head (methodology 6e-mlx2), which the estimate does not model, so it is bounded at 20% and must stay fast
    res = [(r, k) for r in _results() if r["engine"] == "mlx" for k in r if k.endswith("_err") and r[k] is not None]
    long_kv = [r[k] for r, k in res if r["gpu"] == "m4-pro-64gb" and k == "decode_err"]
    errs = [abs(r[k]) for r, k in res if not (r["gpu"] == "m4-pro-64gb" and k == "decode_err")]
    assert len(errs) >= 4 and max(errs) <= 0.15, errs
    assert len(long_kv) == 1 and 0 < long_kv[0] < 0.20, long_kv


def test_moe_expert_offload_decode_row_within_15_percent():
    errs = [abs(r["decode_err"]) for r in _results() if r["engine"] == "llamacpp" and r.get("decode_err") is not None]
    assert errs and max(errs) <= 0.15, errs


@pytest.mark.parametrize("group", ["seen", "holdout"])
def test_ollama_totals_within_5_percent_of_its_own_log(group):
    # issue 15 goal: Ollama totals (memory.required.full, the figure its layer choice rests on) within 5%
    s = _summary()["ollama"]["full"][group]
    assert s["n"] >= 5 and s["median"] <= 0.05 and s["max"] <= 0.0505, s


def test_ollama_offloads_the_layers_its_log_says():
    # exact on every row but mistral-small3.1 (issue #10417): Ollama's own Q4_K_M blob of it has 1.8% larger blocks
    # (12.7 GiB logged) than llama.cpp's Q4_K_M rule gives (12.48), so one layer fewer fits beside its 9.5 GiB projector
    rows = [r for r in _results() if r["engine"] == "ollama" and "layers_est" in r]
    assert len(rows) >= 10
    off = [r for r in rows if r["layers_est"] != r["layers_logged"]]
    assert [r["source"].rsplit("/", 1)[-1] for r in off] in ([], ["10417"])
    assert all(abs(r["layers_est"] - r["layers_logged"]) <= 1 for r in off)


def test_runs_that_logged_flashinfer_sampling_need_the_flashinfer_rule():
    # dennislee22/vLLM-benchmarking, vLLM 0.10.1.1 on A100 80GB: "Using FlashInfer for top-p & top-k sampling". With
    # FlashInfer's 14 B per logit the pools are within 2%; the sorting sampler's 38 B would take 0.87 GiB more from
    # each and miss the 0.25-utilisation run by more than 10%
    rows = [r for r in load("engine_logs")["rows"] if r.get("sampler_path") == "flashinfer"]
    assert len(rows) >= 4
    for row in rows:
        fi = engine_accuracy.vllm_row(row)
        sort = engine_accuracy.vllm_row({**row, "sampler_path": "torch_sort"})
        assert abs(fi["kv_err"]) < 0.02, fi
        assert sort["kv_est_gib"] < fi["kv_est_gib"] - 0.5, (fi, sort)
    low = next(r for r in rows if r["flags"]["gpu_memory_utilization"] == 0.25 and r["tp"] == 1)
    assert engine_accuracy.vllm_row({**low, "sampler_path": "torch_sort"})["kv_err"] < -0.10


def test_llama_70b_fp8_on_one_h100_is_refused_in_0_11_by_the_logged_margin():
    # llm-d/llm-d-benchmark: vLLM 0.11.0, Llama-3.3-70B FP8 on one H100 at 0.9 -> "Available KV cache memory: -1.44 GiB"
    # (the sorting sampler's 4.8 GiB profile peak); current vLLM's plan for the same box is tested in
    # test_vllm_sampler_hybrid.py (it starts with a short context)
    r = next(x for x in _results() if x["model"] == "llama3.3:70b" and x["tp"] == 1)
    assert r["kv_logged_gib"] < 0 and r["kv_est_gib"] < 0
    assert abs(r["kv_est_gib"] - r["kv_logged_gib"]) < 0.1


def test_cuda_graph_constant_sits_inside_vllms_own_estimates():
    # vLLM >= 0.21 subtracts its "Estimated CUDA graph memory" from the pool (data/engine_logs.yaml
    # cudagraph_estimates, 0.07-118.65 GiB). The constant must stay inside what vLLM itself estimated; its error
    # against each is reported by benchmarks/engine_accuracy.py, not hidden
    rows = engine_accuracy.graph_estimates()
    assert len(rows) >= 30 and all(r["source"].startswith(("https://github.com/", "code-index file id")) for r in rows)
    logged = [r["estimate_gib"] for r in rows]
    assert min(logged) < rows[0]["ours_gib"] < max(logged)


def test_cuda_graph_constant_is_the_seen_median_and_beats_the_old_constant_held_out():
    # engines.yaml cudagraph_bytes is the median of the seen estimate logs (rounded to 0.01 GiB). Session 11 numbered
    # its logs as found, odd seen, even held out, before comparing: on the held-out logs the median beats the former
    # 0.75 GiB in GiB (what moves the KV pool) and relatively. A new log that turns that around fails here
    gc = engine_accuracy.graph_constant()
    assert gc["n_seen"] >= 17 and gc["n_held"] >= 16
    assert abs(gc["ours_gib"] - gc["seen_median_gib"]) < 0.006
    assert gc["ours"]["abs_gib"] < gc["previous"]["abs_gib"]
    assert gc["ours"]["rel"] < gc["previous"]["rel"]


def test_cuda_graph_session11_logs_alternate_seen_and_held_out():
    # the assignment is by the order found, not by value: odd seen, even held out
    rows = [r for r in engine_accuracy.graph_estimates() if "order" in r]
    assert [r["order"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["holdout"] == (r["order"] % 2 == 0) for r in rows)


@pytest.mark.parametrize("seqs, tokens, logged", [
    (256, 8192, (51, 35, 512)),   # LMCache #3430 (vLLM 0.21.0): "PIECEWISE=51 (largest=512), FULL=35 (largest=256)"
    (16, 8192, (7, None, 32)),     # club-3090 PR #44: "PIECEWISE=7 (largest=32)" (spec decode drops the FULL graphs)
    (8, 8192, (5, None, 16)),     # club-3090 issue #584: "PIECEWISE=5 (largest=16)"
])
def test_capture_counts_reproduce_the_logged_graph_lists(seqs, tokens, logged):
    # vllm/config/compilation.py: [1, 2, 4] + range(8, 256, 8) + range(256, max + 1, 16), max = min(2 x max_num_seqs,
    # 512); FULL decode graphs up to max_num_seqs. The two club-3090 runs log only PIECEWISE (FULL is dropped with
    # spec decode), so their piecewise count and largest size are what is checked
    pw, full, largest = engine_accuracy.capture_counts("v1", "0.21.0", seqs, tokens)
    assert (pw, largest) == (logged[0], logged[2])
    if seqs == 256:
        assert full == logged[1]


def test_capture_counts_by_generation():
    assert engine_accuracy.capture_counts("v0", "0.6.5", 256, 2048) == (0, 35, 256)  # V0: full graphs 1..256
    # PIECEWISE only before 0.11, on the 8-step list ([1, 2, 4] + range(8, 513, 8): 67 graphs to 512)
    assert engine_accuracy.capture_counts("v1", "0.10.1.1", 256, 2048) == (67, 0, 512)
    # 0.11.0: FULL_AND_PIECEWISE, still the 8-step list (its gpt-oss override: "from 67 to 81" graphs)
    assert engine_accuracy.capture_counts("v1", "0.11.0", 1024, 8192) == (67, 67, 512)
    assert engine_accuracy.capture_counts("v1", "0.21.0", 1024, 8192) == (51, 51, 512)  # the 16-step list


def test_graph_constant_is_kept_while_a_layer_law_does_no_better_on_held_out_logs():
    # The law (graph pieces x a per-piece cost fitted on the seen estimate rows, + the largest batch's activations)
    # was examined and not adopted: on the held-out "Graph capturing finished ... took X GiB" rows its median error
    # is not below the graph constant's. If new rows turn that around, this fails: adopt the law then
    law = engine_accuracy.graph_layer_law()
    held = [r for r in law["rows"] if r["holdout"]]
    assert law["fitted_on"] >= 1 and len(held) >= 6
    assert 0.05 < law["c_mib_per_piece"] < 2.0  # per graph piece: tens to hundreds of KiB of driver state, not GiB
    import statistics

    assert statistics.median(abs(r["law_err"]) for r in held) >= statistics.median(abs(r["const_err"]) for r in held)


def test_graph_mode_split_law_is_fitted_on_seen_logs_only(monkeypatch):
    # session 28 (graphs28): the first-capture workspace split by mode (PIECEWISE captures run no attention; the first
    # FULL capture runs it at long profile_seq_lens). Each workspace is a median of seen logs of its kind: changing a
    # held-out log must not move either, changing a seen PIECEWISE-only log must move only the PIECEWISE one
    base = engine_accuracy.graph_mode_split_law()["workspace_gib"]
    real = engine_accuracy.graph_estimates()

    def bumped(pred):
        out = [dict(r) for r in real]
        hit = next(r for r in out if "law_gib" in r and r["estimate_gib"] > 0 and pred(r))
        hit["estimate_gib"] *= 20
        return out

    monkeypatch.setattr(engine_accuracy, "graph_estimates", lambda: bumped(lambda r: r["holdout"]))
    assert engine_accuracy.graph_mode_split_law()["workspace_gib"] == base
    monkeypatch.setattr(engine_accuracy, "graph_estimates",
                        lambda: bumped(lambda r: not r["holdout"] and r["counts"][1] == 0))
    moved = engine_accuracy.graph_mode_split_law()["workspace_gib"]
    assert moved["piecewise"] > base["piecewise"] and moved["full"] == base["full"]


def test_graph_mode_split_law_stays_out_while_the_capture_logs_prefer_the_adopted_law():
    # Its PIECEWISE-only workspace is the smaller, as the source says it must be (no attention kernel in a PIECEWISE
    # capture), and it does better than the adopted graph law on the seen estimate lines it was calibrated on; but on
    # the twelve estimate logs added blind in session 28 it is relatively worse, and on the held-out "Graph capturing
    # finished ... took X GiB" rows it is worse too (the TP-2 and V0 rows, whose misses are terms neither law has), so
    # it was not adopted. New logs that turn either around fail here: re-examine the split then
    import statistics

    ms = engine_accuracy.graph_mode_split_law()
    assert ms["fitted_on"]["piecewise"] >= 3 and ms["fitted_on"]["full"] >= 5
    assert ms["workspace_gib"]["piecewise"] < ms["workspace_gib"]["full"]
    assert ms["seen"]["split_rel"] < ms["seen"]["law_rel"]
    blind = ms["session28"]
    assert blind["n"] >= 10 and blind["split_rel"] > blind["law_rel"]
    caps = ms["captures"]
    assert len(caps) >= 6
    assert statistics.median(abs(c["split_err"]) for c in caps) > statistics.median(abs(c["law_err"]) for c in caps)


def test_graph_estimate_rows_added_later_are_held_out():
    rows = engine_accuracy.graph_estimates()
    assert any(r["holdout"] for r in rows) and any(not r["holdout"] for r in rows)
    # only seen rows may carry the structured counts the law is fitted on
    assert all(not r.get("capture") for r in rows if r["holdout"])


def test_ollama_gptoss_graph_before_0_11_5_follows_each_release_ggml_go():
    # ollama/ollama#11711 (held out, RTX 4060 Ti, num_ctx 8192): memory.required.kv 300.0 MiB, memory.graph.full 2.0 GiB,
    # memory.graph.partial 4.0 GiB. fs/ggml/ggml.go v0.11.0-v0.11.2: full = 4 x heads / KV heads x kvTotal / 6 and
    # partial = 2 x full; v0.11.3-0.11.4 partial = full; before 0.11.0 no gpt-oss rule (the GQA x KV / 6 fallback)
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.engines.ollama_estimate import graph_size

    m = get_model("gpt-oss:20b")
    kv, partial, full = graph_size(m, 8192, 512, 1, "f16", False, version="0.11.2", arch="gptoss")
    assert sum(kv) == 300 * 2**20
    assert (full, partial) == (2 * 2**30, 4 * 2**30)
    _, partial3, full3 = graph_size(m, 8192, 512, 1, "f16", False, version="0.11.3", arch="gptoss")
    assert partial3 == full3 == 2 * 2**30
    row = next(r for r in _results() if r["source"].endswith("/ollama/issues/11711"))
    assert row["holdout"] and abs(row["partial_err"]) < 0.02 and row["kv_err"] == 0.0, row


def test_iswa_compute_buffer_holds_the_sliding_window_mask_too():
    # HilbertraumAI/HilbertRaum#318 (held out): Gemma 4 12B, llama-server -c 8192 -ub 2048, -np auto (4 slots, one
    # stream): KV 128.00 + 1920.00 MiB and a Vulkan0 compute buffer of 541.07 MiB. llama-graph.cpp's iSWA input builds a
    # second mask over the 6144 sliding-window cells; without it the FFN phase came to 484.00 MiB (-10.5%)
    row = next(r for r in _results() if r["source"].endswith("HilbertRaum/issues/318"))
    assert row["holdout"] and row["kvbuf_est"] == 2048.00, row
    assert abs(row["compute_err"]) < 0.03, row
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.memory_overhead import swa_mask_cells

    req = FitRequest(context=8192, engine="llamacpp", n_parallel=4, kv_unified=True, n_ubatch=2048)
    assert swa_mask_cells(get_model("gemma4:12b"), req) == 6144
    assert swa_mask_cells(get_model("llama3.1:8b"), req) == 0  # no sliding layers: no second mask



def _fit(capsys, *argv):
    import json as _json

    from selfhost_advisor.cli import main

    code = main(["fit", *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return _json.loads(out) if "--json" in argv else out


def test_fit_prints_the_buffer_lines_a_real_llamacpp_log_shows(capsys):
    # A Llama-3.2-3B-Q4_K_M load quoted in a log parser's doc comment ("verbatim from the spike's captured output",
    # code-index file id 54573746480): CPU_Mapped 308.24 MiB, CUDA0 model 1918.36 MiB, CUDA0 KV 224.00 MiB (2048 cells)
    opt = _fit(capsys, "llama3.2:3b", "-H", "rtx-4090", "-q", "Q4_K_M", "--context", "2048", "--json")["options"][0]
    got = {line.split(" size = ")[0]: float(line.split(" = ")[1].split()[0]) for line in opt["engine_log"]}
    assert abs(got["CUDA0 model buffer"] - 1918.36) < 0.05 and abs(got["CPU_Mapped model buffer"] - 308.24) < 0.05
    assert got["CUDA0 KV buffer"] == 224.00
    text = _fit(capsys, "llama3.2:3b", "-H", "rtx-4090", "-q", "Q4_K_M", "--context", "2048")
    assert "Its log should show: CUDA0 model buffer size = 1918.35 MiB" in text
    # HilbertraumAI/HilbertRaum#318 (Gemma 4 12B QAT Q4_0 on a Vulkan RTX 3080 Ti): "Vulkan0 model buffer size =
    # 6637.63 MiB", "CPU_Mapped model buffer size = 787.50 MiB" (token_embd Q6_K, in host memory)
    g = _fit(capsys, "gemma4:12b", "-H", "rtx 3080 ti vulkan", "-q", "Q4_0", "--context", "8192", "--json")["options"][0]
    assert g["engine_log"][:2] == ["Vulkan0 model buffer size = 6637.63 MiB", "CPU_Mapped model buffer size = 787.50 MiB"]
    # no prediction where the split is not ours to give: a partial offload
    part = _fit(capsys, "llama3.1:70b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M", "--json")["options"][0]
    assert part["placement"]["fit"] == "partial" and part["engine_log"] is None


def test_fit_prints_vllm_pool_lines_per_gpu(capsys):
    o = _fit(capsys, "llama3.1:8b", "-H", "2x h100-sxm", "--engine", "vllm", "-q", "BF16", "--json")["options"][0]
    log = o["engine_log"]
    # TP 2 over BF16 weights of 8.03 B parameters: each rank loads half (vLLM logs 7.48 GiB, data/engine_logs.yaml
    # vllm/pull/10511 at TP 2)
    assert log[0] == "Model loading took 7.48 GiB"
    assert log[1] == f"Available KV cache memory: {o['memory']['kv_pool_bytes'] / 2**30:.2f} GiB"
    assert log[2] == f"GPU KV cache size: {o['memory']['kv_pool_tokens']:,} tokens"


def test_session33_rows_are_reported_apart_and_a_model_fit_refuses_is_not_scored():
    # the start-up logs added blind in session 33 (data/engine_logs.yaml `session: 33`) form their own summary group;
    # gpt-oss's loaded weights (vLLM's MXFP4 layout per MoE kernel, estimate/vllm_mxfp4.py) within 3% on all of them
    s = _summary()["vllm"]["weights"]["s33"]
    assert s["n"] >= 4 and s["max"] < 0.03, s
    assert _summary()["vllm"]["weights"]["holdout"]["n"] == 13  # the older held-out group is unchanged
    # Kimi Linear on vLLM (issue #28228): `fit --engine vllm` refuses it (not sized), so no pool figure is scored
    kimi = next(r for r in _results() if "28228" in r["source"])
    assert "kimi-linear" in kimi["cli_refuses"] and "kv_err" not in kimi


def test_ollama_layout_log_kv_within_3_percent():
    # session 33 (ollama33): the Ollama 0.11.10-0.20 per-device "kv cache" lines (data/engine_logs.yaml rule
    # layout_log), summed over the devices; qwen3-coder-next's three KV types are the recurrent checkpoints' rows
    rows = [r for r in _results() if r["engine"] == "ollama" and r.get("session") == 33 and "kv_err" in r]
    assert len(rows) >= 8
    assert max(abs(r["kv_err"]) for r in rows) < 0.03, [(r["model"], r["kv_err"]) for r in rows]


def test_session34_llamacpp_rows_kv_exact_and_compute_within_10_percent():
    # the 15 llama.cpp start-ups added blind in session 34 (data/engine_logs.yaml `session: 34`): the KV / recurrent-state
    # allocation is llama.cpp's to the MiB, except the library run whose SWA cache is full-size (swa_full, the default of
    # llama_context_default_params; llama-server, which the fit sizes, turns it off); with each pre-PR-#23861 build's
    # micro-batch of logits (flags.n_outputs) the compute buffers not marked known_miss are within 10%
    # (batch 2 adds three hybrid starts; the MTP run's second recurrent state per sequence is not a setting we size)
    rows = [r for r in _results() if r["engine"] == "llamacpp" and r.get("session") == 34]
    assert len(rows) == 18
    kv = [r for r in rows if r.get("kvbuf_err") is not None and r["model"] != "gemma4:e4b" and "MTP" not in r["version"]]
    assert len(kv) == 16 and max(abs(r["kvbuf_err"]) for r in kv) < 0.005
    mtp = next(r for r in rows if "MTP" in r["version"])
    assert -0.6 < mtp["kvbuf_err"] < -0.4 and abs(mtp["compute_err"]) <= 0.10
    swa_full = next(r for r in rows if r["model"] == "gemma4:e4b")
    assert swa_full["kvbuf_est"] < 0.5 * swa_full["kvbuf_logged"]  # a window-sized SWA cache, not the logged full one
    compute = [r for r in rows if r.get("compute_err") is not None and not r["known_miss"]]
    assert len(compute) == 8 and max(abs(r["compute_err"]) for r in compute) <= 0.10
    assert _summary()["llamacpp"]["kvbuf"]["s34"]["n"] == 18
