"""Apple CPU cores and i8mm (session 15, m2i8mm): the M1's Firestorm/Icestorm cores have no FEAT_I8MM, the M2's
Avalanche/Blizzard and every later Apple core have it, so a published row of an M2-or-later chip is an i8mm host
unless its build was made without it (the M4 Max "dotprod-only build" of llama.cpp #17494).

Sources (data, not this code): lelegard/arm-cpusysregs docs/apple-m1-features.md (sysctl hw.optional.arm, FEAT_I8MM:
M1 "-", M2 "X"); zacky1972/qiita_article public/5deec6b139a76246aeee.md (`sysctl hw` of an M1 and an M2 side by side:
FEAT_I8MM 0 -> 1); the VirtualBox CPU database entry for the M2 Max (src/VBox/VMM/VMMR3/cpus/ARM_Apple_M2_Max.h:
ID_AA64ISAR1_EL1 = 0x0010111110211402: the I8MM field, bits [55:52], reads 1 = FEAT_I8MM, one value for its Avalanche
and Blizzard cores)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.estimate import cpu_kernels

ROOT = Path(__file__).resolve().parents[1]
ROWS = yaml.load((ROOT / "benchmarks" / "published" / "llamabench_cpu.yaml").read_text(),
                 Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506
_APPLE = re.compile(r"^Apple M(\d)\b")


def test_published_apple_rows_flag_i8mm_by_the_chips_core():
    apple = [r for r in ROWS if _APPLE.match(str(r["cpu"]))]
    assert any(r["cpu"].startswith("Apple M2 Max") for r in apple)
    for r in apple:
        generation = int(_APPLE.match(r["cpu"]).group(1))
        no_i8mm_build = "dotprod-only build" in r["cpu"]
        want = generation >= 2 and not no_i8mm_build
        assert ("i8mm" in r["flags"]) == want, (r["cpu"], r["flags"], r["test"], r["quant"])


def test_the_m2_max_q4_0_decode_row_runs_the_i8mm_gemv():
    """ik_llama.cpp discussion #164, mainline 14b699ec (4384): Llama-3.1-8B Q4_0 tg128 at 4 threads, 23.89 t/s. On an
    i8mm core repack.cpp decodes the repacked Q4_0 through ggml_gemv_q4_0_4x8_q8_0 (the 2.00 instruction count), not
    the dotprod 4x4 GEMV (2.24): with the dotprod flag this row read 1.10, with i8mm 1.01 (the count was not fitted to
    it; docs/methodology.md 4e-cpu6 notes the row implies 1.98). Session 19 (4e-cpu7) counts the NEON dot kernels by
    issue slots: the Q4_0 dot kernel the GEMV multiplies runs 1.33x the Q5_0 anchor, and the row reads 1.18."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cpu_published

    row = next(r for r in ROWS if r.get("block") == "cpu3s15m2" and r["quant"] == "Q4_0" and r["test"] == "tg128")
    host = parse_custom_cpu(cpu_published.spec(row, row["clock_ghz"] * 1e9))
    assert cpu_kernels.gemv_speedup("Q4_0", host) == pytest.approx(2.00)
    assert cpu_published.predict(row, row["clock_ghz"] * 1e9) == pytest.approx(row["tokens_per_s"], rel=0.20)

