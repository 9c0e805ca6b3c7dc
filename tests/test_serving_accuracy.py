"""The serving model against published vLLM runs (data/serving_benchmarks.yaml, benchmarks/serving_accuracy.py).

Reads the data file, so a new row, a model change or a refit can fail it. Goals: every throughput row within 0.5-2x of
its published figure (issue 14); single-stream decode of current vLLM releases within 15% (issue 15). Rows the model
still misses are listed in KNOWN_MISSES with the reason, as strict xfails: a change that brings one inside the band
fails the suite until the row leaves the list. The median goal (0.8-1.25) is asserted over the current-vLLM rows.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("serving_accuracy", ROOT / "benchmarks" / "serving_accuracy.py")
acc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(acc)
# The data file's rows only: the predictions (3 s of CPU, 26 simulated bursts) are made when a test first asks
# (acc.results keeps them per process), not while collecting, which every xdist worker does (suite time).
ROWS = acc.rows()


def _result(row_id: str) -> tuple[dict, float, float]:
    return next(x for x in acc.ratios() if x[0]["id"] == row_id)


def test_every_row_names_its_source_settings_and_role():
    RESULTS = acc.ratios()
    for r, _, _ in RESULTS:
        assert str(r["source"]).startswith("https://") and r["as_of"], r["id"]
        assert r["role"] in ("calibration", "heldout", "older_engine") and r["kind"] in ("throughput", "single_stream")
        assert int(r["prompt_tokens"]) >= 1 and int(r["output_tokens"]) >= 1 and int(r["concurrency"]) >= 1
    assert any(r["role"] == "heldout" for r, _, _ in RESULTS)


# Rows outside 0.5-2x today, and why (docs/methodology.md, serving calibration table).
# (The Qwen3-32B 32K row on one H100 left the list when the plan took each row's own release: vLLM 0.11.0's
# FlashInfer profile sampler and graphs captured after the pool leave room for its 32,100-token request.)
# (The five 1000 x 128-token chat bursts of Qwen3, GLM and DeepSeek-R1, 2.71-7.18 here until session 24, left the list
# when the replay put the API server's serial chat intake in front of the engine, serve19: burst.chat_intake_seconds,
# 1.32-1.61 and 0.98; the front end of those runs is docs/methodology.md 6c 'First tokens of a 1000-request burst'.)
# (gpt-oss's two 1000 x 128-token bursts on one H100, 2.41 / 2.31 here until session 26, left the list when the
# step ran their experts through the kernel vLLM 0.10.2 / 0.11.0 picked there, Marlin MoE's mma.sync at two thirds
# of Hopper's tensor rate, not triton_kernels, which those releases did not install: moe_step.mxfp4_hopper_kernel,
# serve22, 1.68 / 1.71; the rest is the harmony path's front end, docs/methodology.md 6c 'gpt-oss rows'.)
# (GLM-4.5-Air BF16's 4K burst on 4 A100s, 2.03 here until session 28, left the list when a compute-bound grouped GEMM
# of Triton fused_moe paid the half of its weight read that the published large-batch curves leave exposed, serve28:
# moe_step.fused_moe_unhidden_share, 1.85; its decode TPOT, 0.47-0.72 of published, is docs/methodology.md 6c
# 'GLM-4.5-Air rows'.)
# (DeepSeek-V3.2's 2K / 4K bursts, which ran at half our rate, and its 128-token burst left the list in session 22,
# serve16, once its prefill ran vLLM's sparse FlashMLA kernel with padded heads over all index_topk candidates:
# attention.dsa_attention_flops, 2.82 / 2.36 / 3.97 -> 1.33 / 1.29 / 1.57.)
# (GLM-4.6 FP8 at TP 8 on H100, vLLM 0.11.0, blind 3.31, left the list in session 33, serve33, when a step of a release
# before async scheduling's default paid the engine core's per-request host time, step.sync_host_seconds: 2.03 -> 1.91;
# its mean TPOT, 509 ms published against our ~105, is still unexplained: docs/methodology.md 6c 'GLM-4.6 rows'.)
KNOWN_MISSES: dict[str, str] = {
    "kvcached-qwen3-0.6b-h100-burst500": ("Qwen3-0.6B on one H100, 500 prompts of 512 / 128 at once, vLLM 0.19.0 "
                                          "(session 19, held out, blind 2.16): the GPU work is ~0.3 s, yet first "
                                          "tokens reach the clients one after another over ~4.9 s (mean TTFT 2.9 s "
                                          "against our 0.35); the API server's one event loop (intake and streaming, "
                                          "no chat template here) paces it, which the step has no term for: "
                                          "docs/methodology.md 6c 'A burst with no GPU work'"),
    "vllm23696-gptoss120b-b200x8-sharegpt": ("gpt-oss-120b at TP 8 on B200, 1000 ShareGPT prompts at once (session 16, "
                                             "held out, blind 2.98): mean TPOT 94 ms published (median 57, ITL median "
                                             "35) against our 13; per GPU the step's GPU work is about a millisecond, "
                                             "so what paces it is host work per step and per streamed token; the "
                                             "synchronous engine core's per-request part (vLLM 0.10.2, "
                                             "step.sync_host_seconds, session 33) takes it 2.84 -> 2.09, the "
                                             "per-streamed-token part has no term: docs/methodology.md 6c 'Session 16 "
                                             "rows'"),
}


# Rows `advisor serve` refuses for vLLM (acc.refused), in no median: none since session 21 sized GLM-5.2's indexer
# cache (its three rows were scored blind as refused first).
_REFUSED: tuple[str, ...] = ()


def _throughput_rows():
    for r in ROWS:
        if r["kind"] != "throughput" or r["id"] in _REFUSED:
            continue
        if r["id"] in KNOWN_MISSES:
            yield pytest.param(r["id"], marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[r["id"]]), id=r["id"])
        else:
            yield pytest.param(r["id"], id=r["id"])


@pytest.mark.parametrize("row_id", list(_throughput_rows()))
def test_throughput_within_half_to_double_of_published(row_id):
    r, ours, ratio = _result(row_id)
    assert 0.5 <= ratio <= 2.0, f"{r['id']}: ours {ours:.0f} vs published {r['published']} ({ratio:.2f}x)"


def _session14(r: dict) -> bool:
    """The 22 gpt-oss rows added held out in session 14 (data/serving_benchmarks.yaml `# --- session 14: serve4`)."""
    return r["id"].startswith("gpustack-gptoss")


def test_a_refused_row_is_listed_apart_with_its_reason(monkeypatch):
    """A row whose model serve refuses is listed apart with the refusal, never scored as a ratio of 0 (GLM-5.2's rows
    were, blind, until its vLLM indexer cache was sized); every stored row is scored now."""
    assert [r["id"] for r, _ in acc.refused()] == list(_REFUSED)
    fake = dict(next(r for r in ROWS if r["id"] == "gpustack-glm52-h200x8-sharegpt"), id="x-minimax-m3",
                model="minimax-m3:428b")
    monkeypatch.setattr(acc, "_CACHE", {})
    monkeypatch.setattr(acc, "rows", lambda: [fake])
    assert acc.ratios() == [] and [(r["id"], "indexer" in why) for r, why in acc.refused()] == [("x-minimax-m3", True)]


def test_median_throughput_ratio_of_current_vllm_within_goal():
    """Over the rows the goal was set on (before session 14); the gpt-oss and GLM rows added since are held to it apart,
    in the strict xfails below, so that the miss they show stays visible until the MoE step is right."""
    import statistics

    RESULTS = [(r, p, x) for r, p, x in acc.ratios() if not _session14(r) and not _session15(r)
               and not _session16(r) and not _session17(r) and not _session18(r) and not _session19(r)]
    xs = [x for r, _, x in RESULTS if r["kind"] == "throughput" and r["role"] != "older_engine"]
    assert len(xs) >= 20
    assert 0.8 <= statistics.median(xs) <= 1.25, statistics.median(xs)
    for role in ("calibration", "heldout"):  # and on the rows no formula was changed on, apart
        group = [x for r, _, x in RESULTS if r["kind"] == "throughput" and r["role"] == role]
        assert 0.8 <= statistics.median(group) <= 1.25, (role, statistics.median(group))


def _session15(r: dict) -> bool:
    """The 17 GLM-4.5-Air / GLM-4.6 rows added held out in session 15 (`# --- session 15: serve6`)."""
    return r["id"].startswith(("gpustack-glm45air", "gpustack-glm46")) and not _session16(r)


def test_median_throughput_ratio_with_the_session_14_rows_within_goal():
    """All held-out rows before session 15, session 14's gpt-oss included (a strict xfail until the MoE step's fixed
    cost and block padding, estimate/serving/moe_step.py, took their median from 1.32 to 1.20)."""
    import statistics

    held = [x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] == "heldout" and not _session15(r)
            and not _session16(r) and not _session17(r) and not _session18(r) and not _session19(r)]
    assert 0.8 <= statistics.median(held) <= 1.25, statistics.median(held)


def test_median_throughput_ratio_with_the_session_15_rows_within_goal():
    """All held-out rows through session 15 (GLM MoE rows included: blind median 1.74), i.e. every held-out row
    without an `added` mark. A strict xfail at 1.256 until session 16 priced the fused-MoE kernels' intermediate
    caches and gave the dense and expert GEMMs a roofline each (estimate/serving/moe_step.py moe_activation_bytes):
    1.249. The filter had let the rows of sessions 20 and 21 in (1.2505 on those 102 rows at main b26c615, 1.245 on
    the 92 it names); in session 22 (serve16) vllm #20469 became a calibration row (its TPOT fits the eager launch
    time) and the filter was made to match this docstring: 1.239 on 91 rows (docs/methodology.md 6c)."""
    import statistics

    held = [x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] == "heldout" and "added" not in r]
    assert len(held) == 91
    assert 0.8 <= statistics.median(held) <= 1.25, statistics.median(held)


def _session18(r: dict) -> bool:
    """Rows added held out in session 18 (`# --- session 18: serve9`), scored blind before any change."""
    return r.get("added") == "session 18"


def _session19(r: dict) -> bool:
    """Rows added held out in session 19 (`# --- session 19: serve10`), scored blind before any change."""
    return r.get("added") == "session 19"


def test_the_session_19_rows_are_held_out_with_their_source():
    """kvcached's vanilla-vLLM H100 burst (vLLM 0.19.0, Qwen3-0.6B, 500 x 512 / 128 at once): a burst whose GPU work is
    almost nil, so its 5.4 s are the front end's (blind 2.16, a strict known miss); and a consumer GPU's closed loops,
    Mistral-7B-v0.3 on one RTX 4090 at 4-48 users (mushfiqrahman.dev, blind 0.99-1.13)."""
    rows = [r for r in acc.rows() if _session19(r)]
    mistral = {r["id"] for r in rows if r["model"] == "mistral:7b"}
    assert mistral == {f"mushfiq-mistral7b-rtx4090-c{c}" for c in (4, 8, 16, 32, 48)}
    assert all(r["role"] == "heldout" and r["clients"] == "closed" and r["hardware"] == "rtx-4090"
               and "mushfiqrahman.dev" in r["source"] for r in rows if r["id"] in mistral)
    (r,) = [r for r in rows if r["id"] not in mistral]
    assert r["id"] == "kvcached-qwen3-0.6b-h100-burst500"
    assert r["role"] == "heldout" and r["clients"] == "burst" and r["engine"] == "vllm 0.19.0"
    assert r["source"].startswith("https://github.com/ovg-project/kvcached/")
    assert acc.ttft_floor_s(r) < 0.2 < 2.0 < float(r["ttft_ms"]) / 1e3  # the GPU's share of its TTFT is small


def _session16(r: dict) -> bool:
    """Rows added held out in session 16 (`# --- session 16: serve7`), scored blind before any change."""
    return r.get("added") == "session 16"


def _session17(r: dict) -> bool:
    """Rows added held out in session 17 (`# --- session 17: serve8`): DeepSeek-R1-0528 (vLLM 0.11.0) and DeepSeek-V3.2
    (vLLM 0.13.0) FP8 at TP 8 on H200, scored blind at d802b1c (median 2.02, 5/12 within 0.5-2x), and Nemotron 3 Nano
    FP8 at TP 2 on B200 (vLLM 0.16.0), scored blind at 602e2da (throughput 0.74-1.41, single stream 0.61), and
    Nemotron Super 49B FP8 on one B200 (same page), blind at c16b94d (single stream 1.18, 8 users 1.05)."""
    return r.get("added") == "session 17"


def test_median_throughput_ratio_of_all_held_out_rows_within_goal():
    """All held-out rows. A strict xfail from session 17 (its DeepSeek runs: 1.33 over 106 rows) until session 22
    (serve16): 1.256 over 130 rows at main b26c615; 1.239 over 129 once DeepSeek-V3.2 / GLM-5.2 prefill ran vLLM's
    sparse FlashMLA kernel (attention.dsa_attention_flops: padded heads over all index_topk candidates, read off the source,
    nothing fitted; MoE 1.41 -> 1.33; 1.232 / 1.31 once decoding tokens pay it too) and vllm #20469 became a calibration row (its TPOT fits the eager launch time).
    A thin margin: the MoE rows' median is still 1.33."""
    import statistics

    held = [x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] == "heldout"]
    assert 0.8 <= statistics.median(held) <= 1.25, statistics.median(held)


def test_the_session_17_rows_are_held_out_with_their_source():
    rows = [r for r in acc.rows() if _session17(r)]
    assert len(rows) == 21 and all(r["role"] == "heldout" for r in rows)
    deepseek = [r for r in rows if r["model"].startswith("deepseek")]
    assert len(deepseek) == 12 and all(r["kind"] == "throughput" for r in deepseek)
    assert all(r["hardware"] == "h200" and r["gpus"] == 8 and "gpustack" in r["source"] for r in deepseek)
    # Vultr's B200 sweep of Nemotron 3 Nano (vLLM 0.16.0, TP 2): one single-stream row, five closed loops, one burst
    nano = [r for r in rows if r["model"] == "nemotron-3-nano:30b"]
    assert len(nano) == 7 and {r["kind"] for r in nano} == {"single_stream", "throughput"}
    assert all(r["hardware"] == "b200" and r["gpus"] == 2 and "vultr.com" in r["source"] for r in nano)
    assert {r["id"] for r in rows if r["model"] == "nemotron-super:49b"} == {"vultr-nemosuper49b-b200-c1",
                                                                             "vultr-nemosuper49b-b200-c8"}


def test_the_session_18_rows_are_held_out_with_their_source():
    """Rows added held out in session 18 (`# --- session 18: serve9`), scored blind before the MLA kernel count: R1 AWQ
    on 8 H100 one user (tenstorrent, 2.17 / 2.19) and V3.1 FP8 on 8 H200 at 16 users (vllm PR #28992, 1.48)."""
    rows = [r for r in acc.rows() if _session18(r)]
    assert {r["id"] for r in rows} == {"tt-dsr1-awq-h100x8-128-128-c1", "tt-dsr1-awq-h100x8-4096-128-c1",
                                       "vllm28992-dsv31-h200x8-decode-c16"}
    assert all(r["role"] == "heldout" and r["gpus"] == 8 and r["model"].startswith("deepseek") for r in rows)
    assert {r["source"] for r in rows} == {"https://github.com/tenstorrent/tt-inference-server/issues/356",
                                           "https://github.com/vllm-project/vllm/pull/28992"}


def test_the_session_24_rows_are_held_out_with_their_source():
    """Rows added held out in session 24 (`# --- session 24: serve18`), scored blind at 317b9d6: tenstorrent's one-user
    sweeps of Qwen3-30B-A3B and Qwen3-1.7B on one A100 host (issue #340) and Qwen3-4B on an RTX 4090 (issue #394)."""
    rows = [r for r in acc.rows() if r.get("added") == "session 24"]
    assert len(rows) == 17
    assert all(r["role"] == "heldout" and r["kind"] == "single_stream" and r["concurrency"] == 1 for r in rows)
    assert {r["source"] for r in rows} == {"https://github.com/tenstorrent/tt-inference-server/issues/340",
                                           "https://github.com/tenstorrent/tt-inference-server/issues/394"}
    assert {r["model"] for r in rows} == {"qwen3:30b", "qwen3:1.7b", "qwen3:4b"}


def test_a_moe_and_a_dense_model_on_one_host_miss_by_the_same_host_time():
    """tenstorrent's A100 host (session 24): single-stream, both Qwen3-30B-A3B (MoE, 48 layers) and the dense
    Qwen3-1.7B (28 layers) run slower than our step, by the host's time, which the step does not price. Per output
    token that time is (1 / published - 1 / ours); if the host costs the same per step, the MoE's gap equals the
    dense's; if it costs per layer launched, it is 48 / 28 = 1.71x the dense's. The MoE's gap must sit in that bracket
    (10% either side), so a change to the MoE step alone that moved one and not the other shows here. Session 24 held
    the two ratios within 8% of each other (a host cost in proportion to the step, which the fused-MoE fixed cost from
    the 32 published timings of session 28 left at 8.4%); the MoE's gap was 1.79-1.93x the dense's before that, 1.53-
    1.63x after (docs/methodology.md 6c, session 28)."""
    rows = {r["id"]: (ours, float(r["published"])) for r, ours, _ in acc.ratios() if r.get("added") == "session 24"}

    def gap(row_id: str) -> float:
        ours, published = rows[row_id]
        return 1.0 / published - 1.0 / ours

    for isl_osl in ("128-128", "128-1024", "1024-128", "2048-128"):
        moe, dense = gap(f"tt-qwen3-30b-a3b-a100-{isl_osl}-c1"), gap(f"tt-qwen3-1.7b-a100-{isl_osl}-c1")
        assert dense > 0
        assert 0.9 < moe / dense < 1.1 * 48 / 28, (isl_osl, moe / dense)


def test_the_session_15_rows_are_held_out_and_scored_in_their_own_format():
    rows = [r for r in acc.rows() if _session15(r)]
    assert len(rows) == 17 and all(r["role"] == "heldout" and acc.in_own_format(r) for r in rows)


def test_the_session_16_rows_are_held_out_with_their_source():
    rows = [r for r in acc.rows() if _session16(r)]
    assert len(rows) == 2 and all(r["role"] == "heldout" and r["kind"] == "throughput" for r in rows)
    assert {r["hardware"] for r in rows} == {"a100-80gb", "b200"}


def _gpt_oss_median(gpu: str) -> float:
    import statistics

    return statistics.median(x for r, _, x in acc.ratios() if _session14(r) and r["hardware"].startswith(gpu))


def test_gpt_oss_on_the_a100_within_goal():
    assert 0.8 <= _gpt_oss_median("a100") <= 1.25, _gpt_oss_median("a100")


def test_gpt_oss_on_the_h100_within_goal():
    """A strict xfail until session 33 (median 1.67 after the MoE step terms, 1.28 after serve22's Marlin MoE on Hopper):
    the 11 rows ran vLLM 0.10.2 / 0.11.0, whose engine core scheduled between GPU steps; with its per-request host time
    (step.sync_host_seconds, serve33) the median is 1.22, and with vLLM's MXFP4 layout (estimate/vllm_mxfp4.py: the 0.10.x /
    0.11.0 runs hold Marlin's padded experts, a smaller pool; englog33) lower still. docs/methodology.md 6c 'Session 33
    (serve33)' and 6-engine33."""
    assert 0.8 <= _gpt_oss_median("h100") <= 1.25, _gpt_oss_median("h100")


def test_gpt_oss_is_scored_in_its_released_mxfp4():
    """The gpt-oss rows ran MXFP4 (the only checkpoint OpenAI released); our registry serves it now, so each row is
    scored in it, and `serve` with no --quant picks it for gpt-oss (the checkpoint `vllm serve openai/gpt-oss-20b`
    loads)."""
    rows = [r for r in acc.rows() if _session14(r)]
    assert len(rows) == 22 and all(acc.in_own_format(r) for r in rows)
    assert {acc.served_quant(r).name for r in rows} == {"MXFP4"}


# Single-stream rows outside 15% today, and why.
_DEEPSEEK_AWQ = ("DeepSeek-R1-0528 AWQ at TP 8 on H100, one user (session 18, held out, blind 2.17 / 2.19; 1.62 / 1.64 "
                 "with the MLA kernel count): 16.1 ms a token published, 264 us a layer against our 162; what remains "
                 "beyond the MLA block's kernels is not read yet (the MoE block's router, grouped top-k and shared "
                 "expert kernels; Marlin at TP 8's narrow shapes): docs/methodology.md 6c 'MLA kernels'")
KNOWN_SINGLE_MISSES: dict[str, str] = {
    "tt-dsr1-awq-h100x8-128-128-c1": _DEEPSEEK_AWQ,
    "tt-dsr1-awq-h100x8-4096-128-c1": _DEEPSEEK_AWQ,
    "vultr-nemosuper49b-b200-c1": ("Nemotron Super 49B FP8 on one B200, vLLM 0.16.0 (session 17, held out, blind 1.18, "
                                   "1.26 once its 31 no-op attention blocks run no kernels, as nemotron_nas.py skips "
                                   "them): 13.40 ms a token published for ~50 GB of FP8 weights is 4.9 TB/s after the "
                                   "per-block overhead, 0.62 of the B200's 8 TB/s against the 0.86 the step takes: "
                                   "docs/methodology.md 6c 'Nemotron 3 Nano on B200'"),
    "vultr-minimax25-b200x4-c1": ("MiniMax-M2.5 FP8 at TP 4 on B200, vLLM 0.12.0 (session 23, held out, blind 1.62): "
                                  "11.40 ms a token published where its ~2.8 GB of active weights a GPU take 0.4 ms; "
                                  "ours 7.0 ms blind, 7.3 ms (1.57) with its TP q/k norms counted, 8.2 ms (1.40) "
                                  "once 0.12.0's two q/k-norm all-reduces a layer were (session 24), ~52 us a layer "
                                  "short, the low-batch MoE-layer cost the DeepSeek rows also miss (their MoE and "
                                  "norm kernels under TP; docs/methodology.md 6c 'Session 23 rows', 'Session 24')"),
}
_TT_A100 = ("tenstorrent's A100 sweep (session 24, held out, blind 1.33-1.41): Qwen3-30B-A3B (MoE) and Qwen3-1.7B "
            "(dense) on the same host come out fast by the same share (1.33-1.39 and 1.36-1.41), so the miss is that "
            "host's (its A100's memory and its vLLM release are not stated: as an A100 40GB, the 30B at TP 2, both read "
            "1.14-1.15), not the MoE step; its decode also slows with depth 2-3x faster than the KV reads explain "
            "(docs/methodology.md 6c 'Session 24')")
KNOWN_SINGLE_MISSES.update({r["id"]: _TT_A100 for r in ROWS if r["id"].startswith(("tt-qwen3-30b-a3b-a100",
                                                                                     "tt-qwen3-1.7b-a100"))})


def _single_rows():
    for r in ROWS:
        if r["kind"] != "single_stream" or r["role"] == "older_engine":
            continue
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_SINGLE_MISSES[r["id"]])] if r["id"] in KNOWN_SINGLE_MISSES \
            else []
        yield pytest.param(r["id"], marks=marks, id=r["id"])


@pytest.mark.parametrize("row_id", list(_single_rows()))
def test_single_stream_decode_of_current_vllm_within_15_percent(row_id):
    r, ours, ratio = _result(row_id)
    assert 0.85 <= ratio <= 1.15, f"{r['id']}: ours {ours:.1f} vs published {r['published']} ({ratio:.2f}x)"


def test_the_fit_reproduces_the_stored_overhead():
    """data/serving.yaml's layer_overhead_us is what scripts/fit_serving.py computes from the calibration rows."""
    import yamlkit

    spec = importlib.util.spec_from_file_location("fit_serving", ROOT / "scripts" / "fit_serving.py")
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    rows = yamlkit.safe_load((ROOT / "data" / "serving_benchmarks.yaml").read_text())["rows"]
    cal = [r for r in rows if r["role"] == "calibration" and r["kind"] == "single_stream"]
    per_layer = []
    for r in cal:
        base, layers = fit.roofline_step(r)
        per_layer.append((1.0 / float(r["published"]) - base) / layers)
    stored = yamlkit.safe_load((ROOT / "data" / "serving.yaml").read_text())["vllm"]["layer_overhead_us"]
    assert stored == pytest.approx(sum(per_layer) / len(per_layer) * 1e6, abs=0.1)


def test_the_stored_band_is_the_seen_rows_range():
    """data/serving.yaml throughput_band = (published / ours) lowest and highest over the calibration throughput rows;
    a model change that moves them must restate the band (it is what `serve` and `cost` report as uncertainty)."""
    import yamlkit

    seen = [x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] == "calibration"]
    band = yamlkit.safe_load((ROOT / "data" / "serving.yaml").read_text())["vllm"]["throughput_band"]
    assert band == pytest.approx([1 / max(seen), 1 / min(seen)], abs=0.002)


def _percentile(xs: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (pos - lo)


def test_the_stored_moe_band_is_the_moe_rows_spread():
    """data/serving.yaml moe_throughput_band = 10th and 90th percentile of published / ours over every MoE throughput
    row of current vLLM (all held out); a model change or a new MoE row must restate it."""
    import yamlkit

    from selfhost_advisor.catalog.models import get

    moe = [1 / x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] != "older_engine"
           and get(r["model"]).moe is not None]
    band = yamlkit.safe_load((ROOT / "data" / "serving.yaml").read_text())["vllm"]["moe_throughput_band"]
    assert len(moe) >= 50
    assert band == pytest.approx([_percentile(moe, 0.1), _percentile(moe, 0.9)], abs=0.002)
    # measured MoE throughput sits under ours in most runs (nine of ten before session 24 replayed the chat runs'
    # API-server intake, burst.chat_intake_seconds; the 90th percentile is now 1.02)
    assert _percentile(moe, 0.5) < 1.0 < band[1]


def test_serve_reports_the_moe_band_for_a_moe_model_and_the_dense_band_otherwise():
    import yamlkit

    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.estimate.serving import ServeWorkload, serve

    h100 = machine_from_profile(get_profile("h100-sxm"), 1)
    oss = serve(get("gpt-oss:20b"), h100, ServeWorkload(1000, 200), concurrency=(8,))
    dense = serve(get("qwen3:8b"), h100, ServeWorkload(1000, 200), concurrency=(8,))
    assert oss.fits and dense.fits
    vllm = yamlkit.safe_load((ROOT / "data" / "serving.yaml").read_text())["vllm"]
    assert oss.band == pytest.approx(tuple(vllm["moe_throughput_band"]))
    assert dense.band == pytest.approx(tuple(vllm["throughput_band"]))
    assert oss.band != dense.band


def _by_id(row_id: str) -> dict:
    return next(r for r in acc.rows() if r["id"] == row_id)


def test_ttft_floor_by_hand_for_qwen3_8b_on_a100():
    # Qwen3-8B (config: hidden 4096, intermediate 12288, 36 layers, 32 heads x 128, 8 KV heads, vocab 151936, untied):
    # per layer q 4096^2 + k, v 4096 x 1024 + o 4096^2 + gate/up/down 3 x 4096 x 12288 = 192,937,984 weights (norms
    # are vectors); a prompt token 2 x 36 x that = 13.891 GFLOP + attention 4 x 36 x 32 x 128 x 108.5 = 0.064 GFLOP;
    # the LM head once per prompt, 2 x 151936 x 4096. 1000 prompts of 217 tokens at the A100's 312 TFLOPS, FCFS:
    # mean over requests of i prompts' time = 500.5 x 217 x 13.955e9 + 1.245e9 ... / 312e12 = 4.86 s
    per_layer = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 12288
    prompt = 217 * (2 * 36 * per_layer + 4 * 36 * 32 * 128 * 217 / 2) + 2 * 151936 * 4096
    by_hand = 500.5 * prompt / 312e12
    assert acc.ttft_floor_s(_by_id("gpustack-quant-qwen3-8b-a100-bf16")) == pytest.approx(by_hand, rel=0.002)
    assert by_hand == pytest.approx(4.86, abs=0.01)


# Runs whose published mean TTFT is under the compute floor of the work the row states (so they did not prefill that
# much at that rate: prefix-cache hits, other prompts or settings). Their TPOT and TTFT are shown, not held to.
UNDER_FLOOR = {"gpustack-quant-qwen3-8b-a100-bf16", "gpustack-quant-qwen3-8b-rtx4090-awq"}


def test_published_ttft_under_the_compute_floor_is_exactly_the_listed_runs():
    under = {r["id"] for r in acc.rows() if r.get("ttft_ms") and float(r["ttft_ms"]) / 1e3 < acc.ttft_floor_s(r)}
    assert under == UNDER_FLOOR


def _unseen_s25_serving() -> dict:
    import yaml

    path = ROOT / "benchmarks" / "published" / "unseen_s25_serving.yaml"
    return {r["id"]: r for r in yaml.safe_load(path.read_text())["rows"]}


def test_ttft_floor_of_a_finite_closed_loop_counts_its_first_wave_by_hand():
    # Phi-4 14B (config: hidden 5120, intermediate 17920, 40 layers, 40 heads x 128, 10 KV heads, vocab 100352,
    # untied): per layer q, o 5120^2, k, v 5120 x 1280, gate/up/down 3 x 5120 x 17920 weights; a prompt token 2 x 40 x
    # that + attention 4 x 40 x 40 x 128 x 107, the LM head once per prompt. 214-token prompts at the RTX PRO 6000's
    # 503.8 TFLOPS: one prompt ~11.6 ms. `vllm bench serve --max-concurrency 512 --num-prompts 1000` sends 512 at
    # t = 0: they wait 1..512 prompts' time (FCFS), the other 488 at least their own: (512 x 513 / 2 + 488) / 1000.
    per_layer = 2 * 5120 * 5120 + 2 * 5120 * 1280 + 3 * 5120 * 17920
    prompt_s = (214 * (2 * 40 * per_layer + 4 * 40 * 40 * 128 * 214 / 2) + 2 * 100352 * 5120) / 503.8e12
    assert prompt_s == pytest.approx(0.0116, abs=0.0001)
    rows = _unseen_s25_serving()
    c512 = rows["lhl-rtxpro6000-phi4-14b-sharegpt-c512"]
    assert acc.ttft_floor_s(c512) == pytest.approx((512 * 513 / 2 + 488) / 1000 * prompt_s, rel=0.002)
    # the same loop with as many clients as prompts is the burst's (N + 1) / 2
    assert acc.ttft_floor_s({**c512, "concurrency": 1000}) == pytest.approx(
        acc.ttft_floor_s({**c512, "clients": "burst", "concurrency": 1000}), rel=1e-9)
    # a closed loop without a stated request count keeps one prompt's time (serve's steady state)
    assert acc.ttft_floor_s({k: v for k, v in c512.items() if k != "num_prompts"}) == pytest.approx(prompt_s, rel=0.002)


def test_phi4_closed_loops_from_128_clients_ran_under_their_prompts_compute_floor():
    # lhl's runs repeat one ShareGPT sample (every run prints 214316 input tokens) on one server whose V1 prefix cache
    # is on by default: from 128 clients the published mean TTFT is below the first wave's prefill at the full spec
    # rate, so those runs did not prefill their prompts (docs/methodology.md 6c, session 25 serve21); 32 and 64
    # clients and the cold c=max burst are above it
    rows = _unseen_s25_serving()
    under = {i for i, r in rows.items() if float(r["ttft_ms"]) / 1e3 < acc.ttft_floor_s(r)}
    assert under == {f"lhl-rtxpro6000-phi4-14b-sharegpt-c{c}" for c in (128, 256, 512)}


def test_phi4_rtx_pro_6000_runs_above_their_floor_are_within_the_throughput_goal():
    # the blind rows that did prefill their prompts (the cold c=max burst, 32 and 64 clients: TTFT above the first
    # wave's floor) are the ones that speak to the step; docs/methodology.md 6c serve21 scored them 0.87, 1.02, 0.83
    rows = _unseen_s25_serving()
    informative = [r for r in rows.values() if float(r["ttft_ms"]) / 1e3 >= acc.ttft_floor_s(r)]
    assert len(informative) == 3
    for r in informative:
        assert 0.8 <= acc.outcome(r)[0] / float(r["published"]) <= 1.25, r["id"]


def test_our_ttft_never_beats_the_compute_floor():
    # the model runs prefill at a share of the spec rate and adds decode steps and queueing: it cannot be faster
    # than every prompt back to back at 100% of the tensor rate
    for r, _, _, _, ttft in acc.results():
        if r.get("ttft_ms") and ttft:
            assert ttft >= acc.ttft_floor_s(r) * 0.999, r["id"]


def test_closed_loops_that_state_their_prompt_count_are_replayed_as_the_client_runs_them():
    """A closed loop with num_prompts is played through burst.py (clients = concurrency, arrivals at finishes), which
    puts the first wave's queue into the mean TTFT: ours / published over those rows was 0.20 median blind (serve's
    steady state), 0.55 after (docs/methodology.md 6c 'Closed loops replayed'). The Mistral rows' outputs stopped at
    EOS (published tokens / requests = 100 of 128), so they are spread with that mean."""
    import statistics

    played = [(r, tt) for r, _, _, _, tt in acc.results() if r.get("num_prompts") and r.get("ttft_ms") and tt]
    assert len(played) >= 15
    assert statistics.median(tt * 1e3 / float(r["ttft_ms"]) for r, tt in played) >= 0.5
    mistral = sorted((int(r["concurrency"]), tt) for r, tt in played if r["id"].startswith("mushfiq"))
    assert [tt for _, tt in mistral] == sorted(tt for _, tt in mistral)  # the published TTFT rises with the clients
    r = _by_id("mushfiq-mistral7b-rtx4090-c48")
    outs = acc.output_lengths(r, int(r["num_prompts"]))
    assert max(outs) == 128 and sum(outs) / len(outs) == pytest.approx(1190 / 11.87, rel=0.01)


def test_the_replayed_mean_ttft_sits_near_the_published_p95_of_silybench_loops():
    """silybench's fixed-length closed loops publish the 95th-percentile TTFT (ttft_p95_ms): serve's steady state put
    our mean at 0.03-0.23 of it (median 0.045), the replay of the client's start at 0.29-1.57 (median 0.59). A mean sits
    at or under its p95 unless a few requests wait far longer than the rest; the guard keeps the replay in that range."""
    import statistics

    xs = [tt * 1e3 / float(r["ttft_p95_ms"]) for r, _, _, _, tt in acc.results() if r.get("ttft_p95_ms") and tt]
    assert len(xs) == 15
    assert 0.4 <= statistics.median(xs) <= 1.0


def test_every_gpustack_run_used_the_chat_endpoint_and_only_they_pay_the_intake():
    """gpustack's performance-lab pages run `vllm bench serve --backend openai-chat --endpoint /v1/chat/completions`;
    the replay puts the chat intake before the engine for those rows only (acc.intake_s), and never for gpt-oss."""
    from selfhost_advisor.catalog.models import get

    for r in ROWS:
        if str(r["id"]).startswith("gpustack"):
            assert r.get("endpoint") == "chat", r["id"]
        else:
            assert "endpoint" not in r and acc.intake_s(r) == 0.0, r["id"]
        if get(r["model"]).arch == "gpt-oss":
            assert acc.intake_s(r) == 0.0
    assert any(acc.intake_s(r) > 0 for r in ROWS)


def test_each_split_partitions_the_held_out_rows_and_keeps_their_median():
    """benchmarks/serving_accuracy.py --splits (session 27, serve24): every split's groups, over all rows and within
    dense and within MoE, hold each held-out throughput row exactly once, and a split with one group reproduces the
    whole set's median, so the table reads the same rows the summary's 'held out' line does."""
    import statistics

    held = [x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] == "heldout"]
    moe = [x for r, _, x in acc.ratios() if r["kind"] == "throughput" and r["role"] == "heldout" and acc._moe(r)]
    table = acc.splits()
    for name, _ in acc.SPLITS:
        for part, rows in (("all", held), ("MoE", moe), ("dense", None)):
            groups = [s for n, _, p, s in table if n == name and p == part]
            if rows is None or (name == "dense / MoE" and part != "all"):
                continue
            assert sum(s[0] for s in groups) == len(rows), (name, part)
            assert sum(s[4] for s in groups) == sum(0.5 <= x <= 2.0 for x in rows), (name, part)
    dm = {g: s for n, g, _, s in table if n == "dense / MoE"}
    assert dm["MoE"][1] == pytest.approx(statistics.median(moe))
    assert dm["MoE"][0] + dm["dense"][0] == len(held)
