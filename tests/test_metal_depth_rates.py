"""benchmarks/metal_depth_rates.py: the M2 Ultra's decode time at depth read per K / V byte and per attention FLOP
(docs/methodology.md 5e-metal-s28; data/speed.yaml metal_fa_decode)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import metal_depth_rates  # noqa: E402


def _deep(rs: list[dict]) -> dict[str, dict]:
    """The d16384 -> d32768 reading of each model of ggml-org's file (the pair metal_fa_decode.flops_share rests on)."""
    return {r["model"]: r for r in rs if r["group"] == "llamabench_moe" and r["from"] == "tg32@d16384"}


def test_the_script_reproduces_the_shipped_flops_share_on_its_own_rows():
    """flops_share = 0.105 was read off these rows (5c-s20: GLM 0.093, Qwen2.5-Coder 0.100, Qwen3-Coder 0.105,
    gpt-oss-120b / 20b 0.110 / 0.113); the script's FLOP reading of the same pairs lands there."""
    from selfhost_advisor.catalog.data import load

    share = float(load("speed")["metal_fa_decode"]["flops_share"])
    deep = _deep(metal_depth_rates.rates())
    fitted = [deep[m]["flops_share"] for m in ("glm-4.7-flash:30b", "qwen2.5-coder:7b", "qwen3-coder:30b",
                                                "gpt-oss:120b", "gpt-oss:20b")]
    assert min(fitted) <= share <= max(fitted)
    assert max(fitted) / min(fitted) < 1.25


def test_per_kv_byte_the_gqa_models_agree_and_per_flop_they_do_not():
    """The finding of 5e-metal-s28: Gemma 3 4B (GQA 2, held out) reads the K / V bytes at the GQA 7-8 models' rate
    (about half the spec bandwidth) but the FLOPs at under a third of their share; MLA is the other way round."""
    deep = _deep(metal_depth_rates.rates())
    gqa = {m: r for m, r in deep.items() if r["gqa"]}
    assert {r["gqa"] for r in gqa.values()} >= {2, 7, 8}
    kv = [r["kv_bandwidth_share"] for r in gqa.values()]
    assert 0.4 < min(kv) and max(kv) < 0.55
    wide, narrow = deep["gpt-oss:20b"], deep["gemma3:4b"]
    assert narrow["flops_share"] < wide["flops_share"] / 3
    mla = deep["glm-4.7-flash:30b"]
    assert mla["gqa"] == 0 and mla["kv_bandwidth_share"] < min(kv) / 4


def test_the_vec_grid_follows_ggml_metal_ops():
    """ggml_metal_op_flash_attn_ext (ggml-org/ggml d99724f2), vec path: one query head a threadgroup, 32 workgroups
    over the cache, 1 simdgroup doubled while 2 x 32 x nsg x 32 cells < the cache and nsg < 4."""
    assert metal_depth_rates.vec_simdgroups(16, 256) == (512, 512)
    assert metal_depth_rates.vec_simdgroups(16, 2048) == (512, 512)
    assert metal_depth_rates.vec_simdgroups(16, 2049) == (512, 1024)
    assert metal_depth_rates.vec_simdgroups(16, 4097) == (512, 2048)
    assert metal_depth_rates.vec_simdgroups(64, 32800) == (2048, 8192)


def test_the_byte_rate_does_not_grow_with_the_grid():
    """Session 30 (5e-metal30): a parallel-limited depth term (too few threadgroups to fill 76 cores) would read faster
    per byte as the launch grows. Over an 8x range of simdgroups a core (Gemma 3 4B 13.5 .. gpt-oss 108) the byte rate
    does not rise: the model with the fewest simdgroups reads fastest, the one with the most no faster than Qwen3
    0.6B."""
    rs = {r["model"]: r for r in metal_depth_rates.grid_rates()}
    fewest = min(rs.values(), key=lambda r: r["simdgroups_per_core"])
    most = max(rs.values(), key=lambda r: r["simdgroups_per_core"])
    assert most["simdgroups_per_core"] > 6 * fewest["simdgroups_per_core"]
    assert fewest["kv_bandwidth_share"] >= max(r["kv_bandwidth_share"] for r in rs.values())
    assert most["kv_bandwidth_share"] <= 1.05 * rs["qwen3:0.6b"]["kv_bandwidth_share"]
    head128 = [r["kv_bandwidth_share"] for r in rs.values() if r["head_dim"] in (64, 128)]
    assert len(head128) == 5 and max(head128) / min(head128) < 1.2
