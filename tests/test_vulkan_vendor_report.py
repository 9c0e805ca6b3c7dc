"""benchmarks/vulkan_heldout.py --vendor: every blind Vulkan row of one vendor's GPUs, with the prompt matmul path its
build takes (the list the Vulkan owners' figures come from)."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def _amd() -> tuple[dict, ...]:
    for sub in ("benchmarks", "scripts"):
        if str(ROOT / sub) not in sys.path:
            sys.path.insert(0, str(ROOT / sub))
    import vulkan_heldout

    return tuple(vulkan_heldout.vendor_report("amd"))


def test_only_blind_amd_vulkan_rows():
    rows = _amd()
    assert rows and all(r["backend"] == "vulkan" and r["blind"] for r in rows)
    assert not any(r["hardware"].startswith(("arc", "rtx", "nvidia")) for r in rows)
    assert {r["kind"] for r in rows} == {"decode", "prefill"}


def test_mmq_only_on_int_dot_gpus_without_coopmat():
    """The integer-dot MMQ pipeline is what ggml_vk_mul_mat_q_f16 runs on AMD where KHR coopmat is off (GCN 5.1,
    RDNA 2); RDNA 3+ rows take the dequantizing coopmat path, GCN 4 the shader."""
    mmq = {r["architecture"] for r in _amd() if r["path"] == "mmq"}
    assert mmq and mmq <= {"GCN 5.1", "RDNA 2.0"}
    assert all(r["path"] != "mmq" for r in _amd() if r["architecture"].startswith(("GCN 4", "RDNA 3", "RDNA 4")))


def test_k_quant_mmq_follows_the_build_date():
    """Pro VII Q4_K_S: the shader path on a build before PR #16536 (2025-10-29), MMQ after."""
    by_date = {r["build_date"]: r["path"] for r in _amd()
               if r["hardware"] == "radeon pro vii" and r["quant"] == "Q4_K_S" and r["test"] == "pp512"}
    assert by_date["2025-09-07"] == "shader" and by_date["2026-06-19"] == "mmq"
