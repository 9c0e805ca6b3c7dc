"""llama-server's per-token host sampling (estimate/server_host.py, docs/methodology.md 5-dcfloor)."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate.server_host import sampling_seconds, served_decode_tokens_per_s
from selfhost_advisor.estimate.speed_factors import _speed_data

ROOT = Path(__file__).resolve().parents[1]


def test_per_entry_time_is_the_median_of_pr_25262_cpu_minus_backend_sampling_rows():
    # llama.cpp PR #25262's table (llama-server, CPU sampling vs -bs): (t/s CPU, t/s backend, vocabulary)
    rows = [(81.01, 87.16, 201088), (13.62, 13.84, 248320), (57.87, 61.22, 248320), (305.73, 365.06, 201088)]
    per_entry = statistics.median((1 / cpu - 1 / bs) / vocab for cpu, bs, vocab in rows)
    assert _speed_data()["server_sampling"]["seconds_per_vocab_entry"] == pytest.approx(per_entry, rel=0.01)


def test_sampling_grows_with_the_vocabulary():
    # Qwen3.5 (248,320 tokens) samples over ~1.9x Ministral 3's 131,072 and ~3.8x LFM2's 65,536
    qwen, ministral, lfm = (sampling_seconds(get_model(m)) for m in ("qwen3.5:4b", "ministral-3:3b", "lfm2:1.2b"))
    assert qwen > ministral > lfm > 0
    assert qwen / ministral == pytest.approx(248320 / 131072)
    assert 0.8e-3 < qwen < 1.2e-3  # ~1 ms: as long as a 3B model's whole decode on an H200 is 2.3 ms


def test_served_figure_adds_the_host_time_in_series():
    model = get_model("ministral-3:3b")
    bench = 444.0  # llama-bench-like t/s of a 3B on an H200
    served = served_decode_tokens_per_s(bench, model)
    assert served < bench
    assert 1 / served == pytest.approx(1 / bench + sampling_seconds(model))
    # a slow GPU loses a smaller share than a fast one: the host time is fixed per token
    assert served_decode_tokens_per_s(40.0, model) / 40.0 > served / bench


def test_small_on_big_server_rows_within_15_percent_median():
    """The llama-server rows of benchmarks/published/small_on_big.yaml (36, Pavlo Khmel's table): median |error| was
    30.0% (session 12's 19 rows) / 27.9% (all 36, session 13's blind score) as llama-bench figures; with the sampling
    term 11.8%. H100 / H200 / B300 stay above (+10.7% signed median): the server's other per-token work is not modelled."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import small_on_big

    server = [r for r in small_on_big.rows() if r["via"] == "server"]
    assert len(server) == 36
    assert statistics.median(abs(r["error_pct"]) for r in server) <= 15.0
    assert all(r["predicted"] < r["predicted_llama_bench"] for r in server)


def test_fit_reports_the_served_figure_for_llama_cpp_only():
    """fit's llama.cpp options carry served_decode_tokens_per_s (llama-bench's decode plus the sampling); the JSON
    validates against docs/schema/fit.schema.json (tests/test_json_contract.py); Ollama's runner samples in Go: null."""
    from selfhost_advisor import api
    from selfhost_advisor.render.jsonout import fit_dict

    sp = api.fit("llama3.2:3b", "h100-sxm", quant="Q4_K_M").options[0].speed
    assert sp.served_decode_tokens_per_s == pytest.approx(
        served_decode_tokens_per_s(sp.decode_tokens_per_s, get_model("llama3.2:3b")))
    assert sp.served_decode_tokens_per_s < sp.decode_tokens_per_s
    ollama = api.fit("llama3.2:3b", "h100-sxm", quant="Q4_K_M", engine="ollama")
    assert ollama.options[0].speed.served_decode_tokens_per_s is None
    assert fit_dict(ollama)["options"][0]["speed"]["served_decode_tokens_per_s"] is None


def test_fit_text_names_the_served_figure_where_sampling_costs_a_tenth(capsys, monkeypatch):
    """On an H100 a 3B model's sampling is ~0.5 ms of a ~2.5 ms token: the text output says what llama-server serves;
    on an RTX 4090 with an 8B model it is ~6 % of a token: no note."""
    from selfhost_advisor.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    assert main(["fit", "llama3.2:3b", "--hardware", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert "llama-server also samples every token" in out and "128,256-token" in out
    assert main(["fit", "llama3.1:8b", "--hardware", "rtx4090"]) == 0
    assert "llama-server also samples" not in capsys.readouterr().out


@pytest.mark.parametrize("hw, model, expected", [("instinct mi100", "qwen2:1.5b", True), ("instinct mi355x", "qwen2.5:1.5b", True),
                                                 ("radeon instinct mi50 16gb", "llama3.1:70b", False),
                                                 ("rx 7900 xtx", "qwen2:1.5b", False), ("h100-sxm", "qwen2:1.5b", False)])
def test_gcn5_cdna_small_model_decode_is_qualified(hw, model, expected):
    """GCN 5 / CDNA: the published small-model rows read slower than the ROCm fit (MI100 1.5B +43 %, MI355X 1.5B +46 %):
    a decode caveat where the fixed per-layer time is a quarter of the token or more; not on RDNA or CUDA, not for a
    70B whose weights dominate."""
    from selfhost_advisor import api

    r = api.fit(model, hw, quant="Q4_0" if "mi100" in hw else "Q4_K_M")
    caveats = r.options[0].speed.caveats
    assert any(c.startswith("decode: small models on GCN 5 / CDNA") for c in caveats) is expected, caveats


def _slot_report(engine: str, concurrency: tuple[int, ...]):
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.estimate.serving import ServeWorkload, serve

    machine = machine_from_profile(get_profile("rtx-4090"), 1)
    return serve(get_model("llama3.1:8b"), machine, ServeWorkload(1500, 500), engine=engine, quant="Q4_K_M",
                 concurrency=concurrency)


def test_llama_server_slots_pay_one_sampling_pass_per_decoding_slot():
    """tools/server update_slots samples every decoding slot's token on the CPU after each llama_decode, one slot after
    another: at one slot the served step is fit's served figure (llama-bench decode + one pass); each further slot adds
    one more pass, so the step's host share grows with the batch and the time per output token rises by n passes."""
    from selfhost_advisor.estimate.serving.slots import SlotServer

    rep = _slot_report("llamacpp", (1, 8))
    model = get_model("llama3.1:8b")
    sample = sampling_seconds(model)
    assert rep.assumptions["host_sampling_ms_per_token"] == pytest.approx(sample * 1e3, abs=1e-3)
    one, eight = rep.points
    # one slot: a token costs llama-bench's decode time plus one sampling pass (the fit's served figure)
    assert one.tpot_s > sample
    server = SlotServer.__new__(SlotServer)
    server.t1, server.kv_s, server.flop_s, server.sample_s = 0.010, 0.0005, 0.0, sample
    assert server._decode(8) - server._decode(1) == pytest.approx(7 * 0.0005 + 7 * sample)
    assert eight.tpot_s - one.tpot_s > 7 * sample * 0.9


def test_ollama_slots_add_no_unmeasured_sampling_and_so_outrun_llama_server_on_the_same_option():
    """Ollama's runner sampler time is not measured (engines/ollama.py host_sampling False): its slots price none, so
    at 8 concurrent requests it decodes faster per step than llama-server on the same GPU and quant."""
    cpp, oll = _slot_report("llamacpp", (8,)), _slot_report("ollama", (8,))
    assert oll.assumptions["host_sampling_ms_per_token"] == 0.0
    assert cpp.points[0].tpot_s > oll.points[0].tpot_s


def test_cost_capacity_of_a_llama_server_box_uses_the_served_step():
    """advisor cost --engine llamacpp sizes a box with the slot server, so its capacity carries the host sampling: the
    aggregate decode at the chosen concurrency is below the same box's figure without it (sample_s set to 0)."""
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.estimate.serving import capacity_for_mix
    from selfhost_advisor.estimate.serving import slots as S

    machine = machine_from_profile(get_profile("rtx-4090"), 1)
    model = get_model("llama3.1:8b")
    capacity_for_mix.cache_clear()  # pure and cached: both figures computed fresh
    cap = capacity_for_mix(model, machine, prompt_tokens=1500, output_tokens=500, quant="Q4_K_M", engine="llamacpp")
    real = S._sampling_seconds
    try:
        S._sampling_seconds = lambda m, e: 0.0
        capacity_for_mix.cache_clear()
        bare = capacity_for_mix(model, machine, prompt_tokens=1500, output_tokens=500, quant="Q4_K_M",
                                engine="llamacpp")
    finally:
        S._sampling_seconds = real
        capacity_for_mix.cache_clear()
    assert cap.total_tokens_per_s < bare.total_tokens_per_s


def test_cost_says_which_rate_sizes_a_slot_engine_box(capsys):
    """`cost --json` names the decode rate a llama.cpp / Ollama box was sized with (assumptions.serving_rate); vLLM's
    paged model has no such entry."""
    import json

    from selfhost_advisor.cli import main

    got = {}
    for engine in ("llamacpp", "ollama", "vllm"):
        assert main(["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--engine", engine,
                     "--price-date", "2026-12-05", "--json"]) == 0
        got[engine] = json.loads(capsys.readouterr().out)["assumptions"].get("serving_rate")
    assert got["llamacpp"]["value"] == "llama-server served rate" and "update_slots" in got["llamacpp"]["source"]
    assert got["ollama"]["value"] == "llama-bench rate" and got["vllm"] is None
