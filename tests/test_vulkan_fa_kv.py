"""Session 24 (vkfa1; docs/methodology.md 5b-vkfa1): the K/V a prompt's flash attention loads on Vulkan, Br query rows
of one head per workgroup (estimate/vulkan_fa.py, data/speed.yaml vulkan_fa_prefill)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate import kernel_path, vulkan_fa, vulkan_path
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20


def _device(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="vulkan")


def _model(model_id: str):
    return get_model(model_id)


def _rows(name: str, date: str, head_k: int, head_v: int | None = None, n_kv: int = 32768, override: str = "") -> int:
    with vulkan_path.as_of_build(date, override), kernel_path.fa_stated(True):  # a run that states -fa 1
        return vulkan_fa.rows_per_workgroup(_device(name), head_k, head_v or head_k, n_kv)


def test_rows_per_workgroup_follow_get_fa_tuning_params():
    """ggml-vulkan d99724f get_fa_tuning_params at a large micro-batch: coopmat1 (RDNA 3+ with KHR coopmat) 16 rows;
    coopmat2 (NVIDIA) 64, 32 at a 512-wide head; scalar: row_split 4 above head 64 (128 on a discrete non-GCN AMD GPU)
    with 16 rows, else 8; Intel always reduced (8 / 4); a cache under 1024 cells reduced too."""
    assert _rows("ryzen ai max+ 395 128gb", "2026-05-18", 128) == 16  # RADV coopmat1
    assert _rows("rx 7900 xtx", "2026-05-18", 128) == 16
    assert _rows("rtx 4090", "2026-05-18", 128) == 64
    assert _rows("rtx 4090", "2026-05-18", 512) == 32
    # scalar since llama/19625
    assert _rows("radeon pro vii", "2026-06-19", 128) == 16  # GCN: split above 64
    assert _rows("radeon pro vii", "2026-06-19", 64) == 8
    assert _rows("radeon pro vii", "2026-06-19", 128, n_kv=512) == 8  # a short cache: reduced
    assert _rows("rx 7900 xtx", "2026-05-18", 128, override="shader") == 8  # discrete RDNA: split only above 128
    assert _rows("rx 7900 xtx", "2026-05-18", 256, override="shader") == 16
    assert _rows("ryzen ai max+ 395 128gb", "2026-05-18", 128, override="shader") == 16  # UMA: split above 64
    assert _rows("arc pro b70", "2026-05-06", 128) == 8  # Intel: scalar, reduced
    assert _rows("arc pro b70", "2026-05-06", 64) == 4


def test_scalar_rows_before_the_refactor():
    """get_fa_scalar_num_large_rows before llama/19625: 8 rows, 2 where the V head is 192 or wider (llama/15537), 4
    where a head is not a multiple of 16 (llama/17455) or the cache is short (llama/18280)."""
    assert _rows("radeon pro vii", "2026-02-14", 128) == 8
    assert _rows("radeon pro vii", "2026-02-14", 256) == 2
    assert _rows("radeon pro vii", "2026-02-14", 72) == 4
    assert _rows("radeon pro vii", "2026-02-14", 128, n_kv=512) == 4
    assert _rows("radeon pro vii", "2025-12-20", 128, n_kv=512) == 8  # before llama/18280
    assert _rows("radeon pro vii", "2025-09-01", 256) == 8  # before llama/15537 (after the FA-auto default, 2025-08-30)


def test_kv_seconds_is_heads_times_cells_times_both_heads_over_rows():
    """Llama 2 7B at 65536 cached cells on Strix Halo (coopmat1, 16 rows): each of the 32 query heads' workgroups reads
    65536 x (128 + 128) x 2 bytes of F16 K and V per 16 prompt rows, counted from the shapes, not from the code's
    FLOPs; nothing where the layer's K/V fits the 32 MiB Infinity Cache, nor on a GPU the cache table lacks."""
    model = _model("llama2:7b")
    d = _device("ryzen ai max+ 395 128gb")
    cells = 65536
    attention = 4 * 32 * 128 * cells  # the estimate's FLOPs of one layer for one prompt token
    bytes_per_token = 32 * cells * (128 + 128) * 2 / 16
    with vulkan_path.as_of_build("2026-05-18"), kernel_path.fa_stated(True):
        assert vulkan_fa.kv_seconds(d, model, 0, attention, 200e9) == pytest.approx(bytes_per_token / 200e9)
        # 512 cells: 32 heads x 512 x 256 x 2 = 8 MiB of K/V per layer, inside the cache
        assert vulkan_fa.kv_seconds(d, model, 0, 4 * 32 * 128 * 512, 200e9) == 0.0
        assert vulkan_fa.kv_seconds(_device("rtx 4090"), model, 0, attention, 1e12) == 0.0


def test_fa_zero_builds_charge_nothing():
    """Before llama-bench's flash-attention-auto default (PR #23714, 2026-05-30) a row that states no -fa multiplies KQ
    as matrices: no FA path, no K/V term."""
    for build in ("2025-01-15", "2026-05-18"):
        with vulkan_path.as_of_build(build):
            assert vulkan_fa.fa_path(_device("ryzen ai max+ 395 128gb")) is None
    with vulkan_path.as_of_build("2026-05-18"), kernel_path.fa_stated(True):
        assert vulkan_fa.fa_path(_device("ryzen ai max+ 395 128gb")) is not None


@pytest.fixture(scope="module")
def unseen():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import unseen_s24

    return [r for r in unseen_s24.rows() if r["backend"] == "vulkan" and r["kind"] == "prefill" and "@d" in r["test"]]


def test_strix_halo_vulkan_prompts_at_depth_follow_the_kv_loads(unseen):
    """kyuz0/amd-strix-halo-toolboxes 08aa7bc (build 9187, 2026-05-18): Llama 2 7B Q4_0 pp2048 @ d65536 measured 79.7
    (RADV) / 102.1 (AMDVLK) t/s and gemma-4-31B 86.6 (RADV); the matrix-rate attention gave 485 / 269 / 189 (blind,
    benchmarks/unseen_s24_blind.txt). With the K/V loads every one of the six depth rows is within 35%."""
    assert len(unseen) == 6
    for r in unseen:
        assert abs(r["error_pct"]) < 35, r
