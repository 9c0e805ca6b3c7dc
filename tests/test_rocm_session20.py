"""Session 20 (rocm7; docs/methodology.md 5f-rocm20): Strix Halo rows of every build kyuz0's toolbox repository kept,
held out and scored blind."""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

import yaml

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "benchmarks" / "published" / "llamabench_weak.yaml"
RULES = _speed_data()["rocm_prefill_path"]


@lru_cache(maxsize=1)
def _session20() -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where built: the file is large
    rows = yaml.load(PUBLISHED.read_text(), Loader=loader)["rows"]  # noqa: S506 - a safe loader
    return [r for r in rows if r.get("session") == 20 and r["backend"] == "rocm"]  # other owners' session-20 rows


def test_session20_rows_are_held_out_pinned_to_a_commit_and_dated_in_build_order():
    """Every row names its llama.cpp build number and the repository commit its log is read at, stays out of the fit,
    and a later build never carries an earlier date (the dates are the commits that first carry each run)."""
    rows = _session20()
    assert len(rows) == 38
    by_build: dict[int, set[str]] = {}
    for r in rows:
        assert r["in_fit"] is False and r["held_out"] is True
        assert hw_names.resolve(r["hardware"]).id == "ryzen-ai-max-395-128gb"
        assert re.search(r"/blob/[0-9a-f]{40}/benchmark/results/", r["url"]), r["url"]
        assert "ROCm 6.4.4" in r["build"]
        build = int(re.search(r"\((\d+)\)", r["build"]).group(1))
        by_build.setdefault(build, set()).add(str(r["build_date"]))
    assert all(len(dates) == 1 for dates in by_build.values())  # one date per build
    dates = [next(iter(by_build[b])) for b in sorted(by_build)]
    assert dates == sorted(dates)
    # the depth rows carry llama-bench's -ub 2048, the pp512 rows the default
    for r in rows:
        assert r.get("n_ubatch") == (2048 if r["test"].startswith("pp") and "@d" in r["test"] else None)


def test_strix_halo_q4_0_prompt_path_changes_at_rdna35_wmma_mmq():
    """The rows span llama.cpp PR #17576 (2025-12-05): builds 6609 and 7034 run Q4_0's 512-token prompt as
    dequantization + rocBLAS on gfx1151, 7423 and later as MMQ on WMMA; the table in 5f-rocm20 reads them so."""
    d = replace(machine_from_profile(hw_names.resolve("ryzen ai max+ 395 128gb"), 1).devices[0], backend="rocm")
    arch = kernel_path.architecture(d)
    assert arch == "RDNA 3.5"
    dates = sorted({str(r["build_date"]) for r in _session20()})
    for date in dates:
        with kernel_path.at_build(date):
            path = kernel_path.path_name(arch, "Q4_0", RULES)
        assert path == ("blas" if date < "2025-12-05" else "mmq_wmma"), (date, path)


def test_rocm_heldout_scores_the_session20_rows_blind():
    """benchmarks/rocm_heldout.py --session 20 predicts all 38 rows (19 prompt, 19 decode) with the shipped model."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import rocm_heldout

    rs = rocm_heldout.rows(20)
    assert len(rs) == 38
    assert sum(r["kind"] == "prefill" for r in rs) == 19
    assert all(r["predicted"] > 0 and r["session"] == 20 for r in rs)


def test_swa_prompt_walk_is_ggml_cudas_only():
    """llama.cpp's SWA cache holds n_swa + n_ubatch cells and ggml-cuda's flash attention trims only trailing masked
    tiles, so on CUDA and ROCm a prompt query of a sliding-window layer walks half a micro-batch beyond the window;
    Vulkan (flash_attn_mask_opt) and Metal (kernel_flash_attn_ext_blk) skip fully masked blocks, the CPU masked cells."""
    from selfhost_advisor.estimate.speed_work import prompt_swa_extra

    assert prompt_swa_extra(2048, "rocm") == 1024
    assert prompt_swa_extra(512, "cuda") == 256
    assert prompt_swa_extra(2048, "vulkan") == prompt_swa_extra(2048, "metal") == prompt_swa_extra(2048, "cpu") == 0


def test_swa_walk_widens_only_local_layers_and_only_past_the_window():
    """Gemma 3 4B (window 1024, 8 heads of 256): at pp2048 @ d16384 (-ub 2048; 17408 cached tokens on average) a local
    layer computes over 1024 + 1024 cells, a global layer over all 17408 as before; a pp512 prompt (256 on average)
    stays inside the window and nothing changes."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.estimate.speed_work import attention_flops_by_layer, uses_window

    m = get_model("gemma3:4b")
    local = next(i for i in range(m.n_layers) if uses_window(m, i))
    glob = next(i for i in range(m.n_layers) if not uses_window(m, i))
    per_cell = 4 * m.n_heads * m.layer_head_dim(local)
    assert m.sliding_window == 1024
    walked = attention_flops_by_layer(m, 17408, 1024)
    assert walked[local] == per_cell * 2048
    assert walked[glob] == attention_flops_by_layer(m, 17408)[glob] == 4 * m.n_heads * m.layer_head_dim(glob) * 17408
    assert attention_flops_by_layer(m, 256, 256) == attention_flops_by_layer(m, 256)
