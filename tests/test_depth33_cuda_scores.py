"""Session 33 (depth33): a CUDA prompt without flash attention pays its F32 score tensor's memory passes (20 bytes a
score, the ggml-cuda path ROCm already pays) only in a layer whose micro-batch score tensor (heads x cells x rows x 4 B)
outgrows every NVIDIA GPU's L2 (data/speed.yaml prompt_scores_without_fa.above_cache_mib, 128 MiB); smaller tensors may
stay in the L2, which the model does not hold per GPU, and are left uncharged (docs/methodology.md 5c-depth33)."""
from __future__ import annotations

import sys

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_prefill import _scores_without_fa_seconds
from selfhost_advisor.record import replace

_RULE = load("speed")["prompt_scores_without_fa"]


def _device(name: str, backend: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend=backend)


def test_the_cuda_gate_is_at_least_the_largest_nvidia_l2():
    """GB202 (RTX PRO 6000 Blackwell) holds 128 MB of L2, B200 126 MB, AD102 96 MB: a gate below that would charge a
    tensor some NVIDIA GPU keeps on chip."""
    assert _RULE["bytes_per_score"]["cuda"] == _RULE["bytes_per_score"]["rocm"] == 20  # one ggml-cuda code path
    assert _RULE["above_cache_mib"]["cuda"] >= 128
    assert "rocm" not in _RULE["above_cache_mib"] and "vulkan" not in _RULE["above_cache_mib"]


def test_a_deep_cuda_prompt_pays_its_scores_a_shallow_one_does_not():
    llama = get_model("llama3.1:8b")  # 32 layers of 32 query heads, no sliding window
    cuda, rocm = _device("rtx 4090", "cuda"), _device("rtx 4090", "rocm")
    bw = 1e12
    with kernel_path.fa_stated(False):
        # depth 8192: 32 heads x 8448 cells x 512 rows x 4 B = 554 MB a layer, beyond any L2: 20 B a score
        deep = _scores_without_fa_seconds(llama, 0, 32, cuda, 8192, 512, bw)
        # depth 0 (pp512): 32 x 256 x 512 x 4 B = 16.8 MB a layer: may stay in the L2, not charged
        shallow = _scores_without_fa_seconds(llama, 0, 32, cuda, 0, 512, bw)
        # the ROCm family has no gate: its depth-0 charge stands as 5c-fa32 shipped it
        rocm_shallow = _scores_without_fa_seconds(llama, 0, 32, rocm, 0, 512, bw)
    assert deep == pytest.approx(20 * 32 * 32 * (8192 + 256) / bw)
    assert shallow == 0.0
    assert rocm_shallow == pytest.approx(20 * 32 * 32 * 256 / bw)
    with kernel_path.fa_stated(True):
        assert _scores_without_fa_seconds(llama, 0, 32, cuda, 8192, 512, bw) == 0.0


def test_the_gate_is_per_layer_at_the_boundary():
    """A layer just under 128 MiB is free, one just over pays all its scores (the tensor streams through memory)."""
    llama = get_model("llama3.1:8b")
    cuda = _device("rtx 4090", "cuda")
    with kernel_path.fa_stated(False):
        # 32 heads x cells x 512 rows x 4 B = 128 MiB at 2048 cells: depth 1792 + 256 -> 2048 (under: not more than)
        at = _scores_without_fa_seconds(llama, 0, 1, cuda, 1792, 512, 1.0)
        above = _scores_without_fa_seconds(llama, 0, 1, cuda, 1793, 512, 1.0)  # pads to 2304 cells
    assert at == 0.0
    assert above == pytest.approx(20 * 32 * 2304)


def test_a_hybrid_pays_only_its_attention_layers_and_the_depth_slope_steepens():
    """Qwen3.5-9B (1 attention layer in 4) on an RTX 4090: fa 0 at depth 65536 is slower than fa 1 by at least the
    attention layers' score bytes over the spec bandwidth; at depth 0 the two agree (no score term)."""
    model = get_model("qwen3.5:9b")
    attn = [i for i in range(model.n_layers) if model.has_attention(i)]
    assert 0 < len(attn) < model.n_layers
    machine = machine_from_profile(hw_names.resolve("rtx 4090"), 1)
    n = model.n_layers
    placement = Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=(n,))
    q8 = get_quant("Q8_0")

    def prefill(depth: int, fa: bool) -> float:
        with kernel_path.fa_stated(fa):
            return estimate_speed(model, q8, placement, machine, decode_depth=depth, prefill_depth=depth,
                                  n_ubatch=512).prefill_tokens_per_s

    assert prefill(512, False) == pytest.approx(prefill(512, True))
    d = 65536 + 512
    extra = 1 / prefill(d, False) - 1 / prefill(d, True)
    cells = -(-(d + 256) // 256) * 256
    scores = sum(model.layer_n_heads(i) for i in attn) * cells
    assert extra >= 20 * scores / machine.devices[0].bandwidth_bytes_per_s


def test_pr_19092s_rows_state_flash_attention():
    """PR #19092 ("CUDA: faster FA for GQA > 1 but not power of 2") measured its FA kernel change (x1.48 at -ub 1 on
    GLM 4.7 Flash): its master / PR columns ran -fa 1, which the rows now state (an unstated row of 2026-01 reads
    llama-bench's fa 0 default, 5c-fa32)."""
    import yaml

    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "published" / "llamabench_moe.yaml"
    rows = [r for r in yaml.safe_load(path.read_text())["rows"] if "pull/19092" in str(r.get("url", ""))]
    assert len(rows) == 36
    assert all(r.get("fa") == 1 for r in rows)


def test_pr_15631_and_21665_rows_leave_the_flag_unstated():
    """PR #15631 (fused adds) and PR #21665 (fused MULs) quote no llama-bench command, and their compare-llama-bench
    tables have no FlashAttention column (the script shows only columns that vary): the -fa they ran is unstated, and
    neither PR changes the FA kernels, so their rows carry no flag and read the tool's default at their date (fa 0
    before 2026-05-30, 5c-fa32); session 33 fastate33 (5c-depth33). A source that shows -fa 1 would change this."""
    import yaml

    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from fit_speed import row_fa

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "published" / "llamabench_moe.yaml"
    rows = yaml.safe_load(path.read_text())["rows"]
    for pr, n in (("pull/15631", 30), ("pull/21665", 8)):
        picked = [r for r in rows if pr in str(r.get("url", ""))]
        assert len(picked) == n
        assert all(row_fa(r) is None for r in picked)
        assert not any(kernel_path.fa_on_at(str(r["date"])) for r in picked)
