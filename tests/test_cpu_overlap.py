"""How a decode thread combines its stream with its dot kernel, by CPU vendor (session 25; estimate/cpu_kernels.py
stream_and_kernel, data/speed.yaml cpu_decode overlap; docs/methodology.md 4e-cpu12)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import CpuInfo, Machine, Placement
from selfhost_advisor.estimate.cpu_kernels import decode_seconds, overlap_form, stream_and_kernel
from selfhost_advisor.estimate.speed import estimate_speed

ROOT = Path(__file__).resolve().parents[1]


def _probed(name: str, threads: int = 2, clock: float = 3.2e9, one: float = 20e9, total: float = 38e9) -> Machine:
    return Machine(name="this machine", devices=(), ram_bytes=24 << 30, ram_bandwidth_bytes_per_s=int(total),
                   cpu=CpuInfo(name=name, arch="x86_64", physical_cores=threads, flags=("avx", "avx2", "f16c", "fma")),
                   source="probe", cpu_clock_hz=clock, cpu_threads=threads, cpu_thread_bandwidth_bytes_per_s=int(one))


def test_the_vendor_word_picks_the_form():
    assert overlap_form(_probed("AMD EPYC")) == "tandem"
    assert overlap_form(_probed("AMD Ryzen 9 7950X")) == "tandem"
    assert overlap_form(_probed("Intel(R) Xeon(R) Platinum 8592+")) == "sum"
    assert overlap_form(_probed("")) == "sum"
    # any word of the name, any case, and the vendor's brand names without the vendor word (a spec sheet's name=)
    assert overlap_form(_probed("amd ryzen 9 5950x")) == "tandem"
    assert overlap_form(_probed("Ryzen 9 5950X")) == "tandem"
    assert overlap_form(_probed("Threadripper PRO 5975WX")) == "tandem"
    assert overlap_form(_probed("custom CPU box")) == "sum"
    assert overlap_form(_probed("Intel Core i9-13900K (Raptor Lake)")) == "sum"
    assert overlap_form(_probed("AMDX 9000")) == "sum"  # a word, not a prefix


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-5, 10.0), st.floats(1e-5, 10.0))
def test_tandem_lies_between_the_overlap_and_the_sum(s, k):
    amd, intel = _probed("AMD EPYC"), _probed("Intel Xeon")
    t = stream_and_kernel(s, k, amd)
    assert max(s, k) * (1 - 1e-12) <= t <= (s + k) * (1 + 1e-12)
    assert stream_and_kernel(s, k, intel) == pytest.approx(s + k)
    # symmetric in its two stages, and the extra time over the longer stage is the shorter one's square over the sum
    assert stream_and_kernel(k, s, amd) == pytest.approx(t)
    # t - max(s, k) cancels: its rounding error is a few ulps of t, not of the difference
    assert t - max(s, k) == pytest.approx(min(s, k) ** 2 / (s + k), rel=1e-9, abs=1e-13 * (s + k))


def test_equal_stages_take_one_and_a_half_of_either_and_a_lone_stage_its_own_time():
    amd = _probed("AMD EPYC")
    assert stream_and_kernel(0.04, 0.04, amd) == pytest.approx(0.06)
    assert stream_and_kernel(0.0, 0.05, amd) == 0.05
    assert stream_and_kernel(0.05, 0.0, amd) == 0.05


def test_the_socket_stream_still_caps_an_overlapping_core():
    # two threads whose per-thread stages overlap can still not read faster than the measured two-thread stream
    amd = _probed("AMD EPYC", one=20e9, total=21e9)
    nbytes, kernel = 4e9, 0.01
    assert decode_seconds(nbytes, kernel, amd, 21e9) == pytest.approx(nbytes / 21e9)


def test_the_same_box_decodes_faster_named_amd_and_prefill_does_not_move():
    m, q = get("llama3.2:1b"), get_quant("Q4_K_M")
    place = Placement("cpu", 0, m.n_layers + 1, 0, 0)
    amd = estimate_speed(m, q, place, _probed("AMD EPYC"), decode_depth=8)
    intel = estimate_speed(m, q, place, _probed("Intel Xeon"), decode_depth=8)
    assert 1.05 < amd.decode_tokens_per_s / intel.decode_tokens_per_s < 1.5
    assert amd.prefill_tokens_per_s == pytest.approx(intel.prefill_tokens_per_s)


def test_the_epyc_rows_are_within_the_goal_and_the_sum_was_not(tmp_path):
    # the rows the form was chosen on (benchmarks/cpu_llamabench_epyc_onethread_s25.jsonl: llama-bench -t 1 per
    # CPU-second, the six validation layouts), each predicted from its own stored probe figures, once as the AMD host
    # it is and once with only the vendor word changed (the sum): the sum read 0.63-0.87 of them
    import cpu_validation

    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "cpu_llamabench_epyc_onethread_s25.jsonl").open()]
    ratios = {}
    for name in ("AMD EPYC", "Intel Xeon"):
        for h in rows:
            box = cpu_validation._box_from_row(dict(h, cpu_name=name))
            path = tmp_path / "box.json"
            path.write_text(json.dumps(box))
            ratios.setdefault(name, []).append(cpu_validation.predict_file(h["model"], h["quant"], str(path))[0] / h["tg"])
    assert len(rows) == 6
    assert all(0.75 <= r <= 1.25 for r in ratios["AMD EPYC"]), ratios
    assert sum(1 for r in ratios["Intel Xeon"] if r < 0.75) >= 2, ratios


@settings(max_examples=100, deadline=None)
@given(st.floats(1e9, 5e10), st.floats(1e-4, 1.0), st.floats(5e9, 5e10), st.floats(2e10, 4e11))
def test_the_loaded_stream_takes_the_vendors_form_too(nbytes, kernel, one_core, socket):
    # a spec sheet's one-core stream (M/M/1 loaded path, loaded_decode_seconds): tandem between the bounds as unloaded
    from selfhost_advisor.estimate.cpu_kernels import loaded_decode_seconds

    unloaded, threads = one_core * 1.5, 4.0
    summed = loaded_decode_seconds(nbytes, kernel, threads, unloaded, socket)
    tandem = loaded_decode_seconds(nbytes, kernel, threads, unloaded, socket, tandem=True)
    u = nbytes / socket
    assert max(u, kernel) * (1 - 1e-9) <= tandem <= summed * (1 + 1e-9)
    # the root: its own loaded stream, combined in the tandem form, gives back its time
    s = nbytes / (threads * unloaded) / (1 - u / tandem)
    assert s + kernel - s * kernel / (s + kernel) == pytest.approx(tandem, rel=1e-6)


def test_a_spec_sheet_with_a_one_core_stream_keeps_its_vendors_form():
    from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu

    spec = "custom:cores=4,clock=4.5GHz,simd=avx2,ram=64GB,channels=2,mts=5600,thread_bandwidth=20GB/s,name={}"
    m, q = get("llama3.1:8b"), get_quant("Q4_K_M")
    place = Placement("cpu", 0, m.n_layers + 1, 0, 0)
    amd = estimate_speed(m, q, place, parse_custom_cpu(spec.format("AMD Ryzen 9 5950X")), decode_depth=8)
    other = estimate_speed(m, q, place, parse_custom_cpu(spec.format("box")), decode_depth=8)
    assert amd.decode_tokens_per_s > 1.02 * other.decode_tokens_per_s
