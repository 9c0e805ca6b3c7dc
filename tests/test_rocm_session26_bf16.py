"""Session 26 (rocm25; docs/methodology.md 5f-rocm27): a BF16 weight matrix's prompt GEMM on an AMD architecture without
BF16 arithmetic (GCN, RDNA 1, RDNA 2: the parts ggml's common.cuh bf16_mma_hardware_available leaves out) multiplies on
the FP32 lanes, where a F16 matrix of the same card keeps the packed-FP16 rate."""
from __future__ import annotations

import pytest

from selfhost_advisor import api
from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

RULES = _speed_data()["rocm_prefill_path"]


def _device(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="rocm")


def _scale(device, ty: str, fp16: float) -> float:
    layers = (((ty, 1_000_000, 2_000_000),),)
    return kernel_path.path_scale(device, layers, fp16, RULES, lambda _ty: None)


def test_bf16_on_gfx906_runs_at_the_fp32_lanes_and_f16_keeps_the_packed_rate():
    d = _device("radeon instinct mi50 32gb")
    assert kernel_path.architecture(d) == "GCN 5.1"
    fp16 = 26.8e12  # the spec table's packed-FP16 figure: twice the lanes' FP32 rate
    lanes = kernel_path.lane_ops_per_s(d)
    assert lanes == pytest.approx(3840 * 1746e6)
    assert kernel_path.bf16_peak(d, "GCN 5.1", fp16, RULES) == pytest.approx(2 * lanes)
    assert _scale(d, "F16", fp16) == pytest.approx(1.0)
    assert _scale(d, "BF16", fp16) == pytest.approx(fp16 / (2 * lanes))
    assert _scale(d, "BF16", fp16) > 1.9


@pytest.mark.parametrize("arch", ["GCN 5.0", "GCN 5.1", "RDNA 1.0", "RDNA 2.0"])
def test_every_architecture_without_bf16_matrix_hardware_is_listed(arch):
    # bf16_mma_hardware_available: `GGML_CUDA_CC_IS_CDNA(cc) || cc >= GGML_CUDA_CC_RDNA3`
    assert any(arch.startswith(a) for a in RULES["no_bf16_architectures"])


@pytest.mark.parametrize("name", ["radeon ai pro r9700", "rx 7900 xtx", "instinct mi100"])
def test_bf16_keeps_the_fp16_rate_where_the_hardware_multiplies_bf16(name):
    # RDNA 3 / 4 (WMMA BF16, v_dot2_f32_bf16) and CDNA (MFMA BF16, arcturus' BBS Tensile kernels)
    d = _device(name)
    arch = kernel_path.architecture(d)
    assert kernel_path.bf16_peak(d, arch, 1e14, RULES) == 1e14


def _speed(model: str, hw: str, quant: str):
    return api.fit(model, hw, quant=quant).options[0].speed


def test_an_mi50_bf16_prompt_is_slower_than_the_same_model_in_f16_and_decode_is_unchanged():
    bf16, f16 = (_speed("ministral-3:8b", "radeon instinct mi50 32gb", q) for q in ("BF16", "F16"))
    assert bf16.prefill_tokens_per_s < 0.6 * f16.prefill_tokens_per_s
    assert bf16.decode_tokens_per_s == pytest.approx(f16.decode_tokens_per_s, rel=0.02)


def test_an_r9700_bf16_prompt_keeps_the_f16_rate():
    bf16, f16 = (_speed("ministral-3:8b", "radeon ai pro r9700", q) for q in ("BF16", "F16"))
    assert bf16.prefill_tokens_per_s == pytest.approx(f16.prefill_tokens_per_s, rel=0.02)


def _unseen_mi50_pp512() -> dict[str, dict]:
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for sub in ("benchmarks", "scripts"):
        if str(root / sub) not in sys.path:
            sys.path.insert(0, str(root / sub))
    import unseen_s26

    rows = unseen_s26.rows([root / "benchmarks" / "published" / "unseen_s26_weak.yaml"])
    return {r["model"]: r for r in rows if "MI50" in r["hardware"] and r["quant"] == "BF16" and r["test"] == "pp512"}


def test_the_gfx906_bf16_caveat_states_what_its_rows_read_under_the_shipped_model():
    """data/speed.yaml rocm_bf16_untuned is READ off the three MI50 BF16 pp512 rows: each row's figure is the file's,
    and each predicted / measured ratio rounds into the stated range."""
    rule = _speed_data()["rocm_bf16_untuned"]
    rows = _unseen_mi50_pp512()
    assert set(rows) == set(rule["rows"]["pp512"])
    lo, hi = rule["reads_below"]
    for model, measured in rule["rows"]["pp512"].items():
        r = rows[model]
        assert r["measured"] == measured
        assert lo <= round(r["predicted"] / r["measured"], 1) <= hi, (model, r["predicted"] / r["measured"])
    (c,) = [c for c in _speed("ministral-3:8b", "radeon instinct mi50 32gb", "BF16").caveats
           if c.startswith("prefill:") and "gfx906" in c]
    assert f"{lo}-{hi}x below" in c


@pytest.mark.parametrize("model, hw, quant", [("ministral-3:8b", "radeon instinct mi50 32gb", "F16"),
                                              ("ministral-3:8b", "radeon instinct mi50 32gb", "Q4_0"),
                                              ("ministral-3:8b", "radeon ai pro r9700", "BF16")])
def test_no_gfx906_bf16_caveat_off_bf16_or_off_gfx906(model, hw, quant):
    # the prompt caveat (session 30's float-decode caveat, tests/test_rocm_session30_float_decode.py, is another)
    assert not [c for c in _speed(model, hw, quant).caveats if c.startswith("prefill:") and "gfx906" in c]


def test_the_gfx906_bf16_caveat_names_the_entrys_cards_each_a_gcn51_part():
    # the cards are data (rocm_bf16_untuned.cards, session 31), each a GCN 5.1 (gfx906) row of data/gpu_specs.yaml
    from selfhost_advisor.catalog.data import load

    cards = _speed_data()["rocm_bf16_untuned"]["cards"]
    gcn51 = [g["name"] for g in load("gpu_specs")["gpus"] if g.get("architecture") == "GCN 5.1"]
    for card in cards:
        assert any(name.endswith(card) or f"{card} " in name for name in gcn51), (card, gcn51)
    (c,) = [c for c in _speed("ministral-3:8b", "radeon instinct mi50 32gb", "BF16").caveats
           if c.startswith("prefill:") and "gfx906" in c]
    assert f"on gfx906 ({' / '.join(cards)})" in c
