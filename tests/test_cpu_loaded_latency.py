"""A latency-bound core's stream slows as the memory fills (session 21, cpu5; estimate/cpu_kernels.py
loaded_decode_seconds, estimate/cpu_core_bw.py unloaded_core_stream; docs/methodology.md 4e-cpu9)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.cpu_core_bw import unloaded_core_stream
from selfhost_advisor.estimate.cpu_kernels import decode_seconds, loaded_decode_seconds
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace

SERVER = "custom:cores={t},clock={ghz}GHz,simd=neon_i8mm,ram=256GB,bandwidth={bw}GB/s,name={name}"


def _host(name: str, t: int = 4, ghz: float = 2.6, bw: float = 307.2, extra: str = ""):
    return parse_custom_cpu(SERVER.format(t=t, ghz=ghz, bw=bw, name=name) + extra)


def _decode(host, model: str, quant: str, depth: int = 8) -> float:
    m = get(model)
    return estimate_speed(m, get_quant(quant), Placement("cpu", 0, m.n_layers + 1, 0, 0), host,
                          decode_depth=depth).decode_tokens_per_s


def test_one_core_streaming_alone_reads_exactly_its_published_figure():
    # Graviton3E's core streams 45 GB/s alone (data/cpu_core_bandwidth.yaml); with no kernel time, one thread must
    # read at that rate whatever the socket: the M/M/1 unloaded rate is defined so that it does
    for bw in (100.0, 307.2, 2000.0):
        host = _host("AWS Graviton3E", t=1, bw=bw)
        socket = bw * 1e9 * 0.675  # the share speed.yaml gives the CPU's all-core stream
        unloaded = unloaded_core_stream(host, socket)
        assert 45e9 < unloaded
        assert 8e9 / loaded_decode_seconds(8e9, 0.0, 1, unloaded, socket) == pytest.approx(45e9, rel=1e-9)


def test_a_probed_host_and_a_core_nobody_measured_keep_the_unloaded_sum():
    # a probe measured its streams under its own threads' load; an unnamed core has no one-core figure to load
    probed = replace(_host("AWS Graviton3E"), source="probe")
    assert unloaded_core_stream(probed, 200e9) is None
    assert unloaded_core_stream(_host("box"), 200e9) is None
    m = _host("box", t=8)
    assert decode_seconds(4e9, 0.05, m, 200e9) == pytest.approx(max(4e9 / 200e9, 4e9 / (8 * 200e9) + 0.05))


def test_a_core_that_alone_saturates_the_memory_streams_behind_its_kernel():
    # a stated one-core stream at or above the all-core stream (a desktop core): rho1 -> 1, nothing left to queue on
    m = _host("box", t=2, bw=83.2, extra=",thread_bandwidth=60GB/s")
    socket = 83.2e9 * 0.675
    assert unloaded_core_stream(m, socket) == math.inf
    assert decode_seconds(4.4e9, 0.095, m, socket) == pytest.approx(max(4.4e9 / socket, 0.095))


@settings(max_examples=60, deadline=None)
@given(st.floats(1e8, 2e10), st.floats(0.0, 0.5), st.sampled_from((1, 2, 4, 16, 64)),
       st.floats(5e9, 2e11), st.floats(1e10, 6e11))
def test_loaded_decode_lies_between_its_bounds(nbytes, kernel_s, threads, one, socket):
    unloaded = one / (1 - one / socket) if one < socket else math.inf
    t = loaded_decode_seconds(nbytes, kernel_s, threads, unloaded, socket)
    # never faster than the all-core stream or the kernel, never slower than streaming at the loaded rate plus the kernel
    assert t >= max(nbytes / socket, kernel_s) * (1 - 1e-12)
    assert t <= nbytes / socket + nbytes / (threads * min(one, socket)) + kernel_s + 1e-12


@settings(max_examples=30, deadline=None)
@given(st.floats(5.0, 400.0), st.floats(5.0, 400.0), st.sampled_from((1, 4, 16, 48)))
def test_a_faster_stated_one_core_stream_never_decodes_slower_even_past_the_socket(a, b, threads):
    # 307.2 GB/s x 0.675 = 207 GB/s: the pairs cross it, where the unloaded rate turns infinite
    lo, hi = sorted((a, b))
    slow = _host("AWS Graviton3", t=threads, extra=f",thread_bandwidth={lo:.3f}GB/s")
    fast = _host("AWS Graviton3", t=threads, extra=f",thread_bandwidth={hi:.3f}GB/s")
    assert _decode(fast, "llama3.2:1b", "Q4_K_M") >= _decode(slow, "llama3.2:1b", "Q4_K_M") * (1 - 1e-9)


def test_more_threads_never_decode_slower_under_load():
    speeds = [_decode(_host("AWS Graviton3E", t=t), "mistral:7b", "Q2_K") for t in (1, 2, 4, 8, 16, 32, 48, 64)]
    assert speeds == sorted(speeds)


@pytest.mark.parametrize("threads, measured, rel", [(16, 30.04, 0.15), (32, 50.06, 0.10), (48, 58.05, 0.10)])
def test_graviton3e_many_thread_decode_of_pr_12064(threads, measured, rel):
    # llama.cpp #12064 (2025-02-25) "NEON (original)", Mistral 7B Q2_K tg16, Graviton3E (Neoverse V1, 2.6 GHz,
    # 8 x DDR5-4800): held-out rows (benchmarks/published/llamabench_cpu.yaml, cpuarm13); nothing was fitted on
    # them. The unloaded corner max(stream, per-thread stream + kernel) read 1.19 / 1.33 / 1.14 of them (now 1.13 /
    # 1.06 / 1.00).
    host = _host("AWS Graviton3E", t=threads, extra=",build_date=2025-02-25")
    assert _decode(host, "mistral:7b", "Q2_K") == pytest.approx(measured, rel=rel)


# --- AM5 desktop Ryzen: one core alone draws the memory's stream (data/cpu_core_bandwidth.yaml; methodology 4e-cpu9)
from selfhost_advisor.estimate.cpu_core_bw import core_stream_by_name  # noqa: E402
from selfhost_advisor.estimate.cpu_kernels import decode_rates  # noqa: E402


@pytest.mark.parametrize("name, am5", [
    ("AMD Ryzen 9 7950X", True), ("Ryzen 7 9700X", True), ("AMD Ryzen 7 9800X3D", True), ("AMD Ryzen 5 7600", True),
    ("AMD Ryzen 9 7940HS", False), ("AMD Ryzen 9 7945HX", False), ("AMD Ryzen 7 8840U", False),
    ("AMD Ryzen 7 8700G", False), ("AMD Ryzen Threadripper 7980X", False), ("AMD Ryzen 9 5950X", False)])
def test_am5_desktop_ryzen_takes_the_one_core_figure_and_mobile_parts_do_not(name, am5):
    # memtest86plus#557: one Zen 5 core of a 9700X read 62.9 GB/s of DDR5-5600 (a lower bound, memtest86+ 7.20)
    assert (core_stream_by_name(name) == pytest.approx(62.9e9)) is am5


ZEN4 = ("custom:cores=2,clock=5.7GHz,simd=avx512,ram=64GB,bandwidth=83.2GB/s,cpu_bandwidth=64GB/s,"
        "build_date=2024-12-23,name=AMD Ryzen 9 7950X")


@pytest.mark.parametrize("quant, measured", [("Q4_K_S", 9.57), ("IQ2_XXS", 5.47), ("IQ3_S", 3.71), ("Q6_K", 7.62)])
def test_ryzen_7950x_two_thread_decode_streams_behind_its_kernel(quant, measured):
    # ik_llama.cpp discussion #164 (mainline 14b699ec, 2024-12-23) "t/s (llama.cpp)", Llama-3.1-8B tg128, 2 threads:
    # held-out rows (block cpu3s15zen4). The unloaded sum read 0.70 / 0.88 / 0.87 / 0.80 of them.
    host = parse_custom_cpu(ZEN4)
    assert unloaded_core_stream(host, 64e9 * 0.675) == math.inf
    assert _decode(host, "llama3.1:8b", quant, 64) == pytest.approx(measured, rel=0.12)


def test_x86_q5_0_and_iq4_nl_decode_at_their_counted_rates():
    # data/cpu_kernel_paths.yaml decode_dot x86: AVX2 slots against the timed IQ4_XS (0.172 weights / vector FLOP);
    # both took the median of the timed types (0.205) before
    rates, median = decode_rates("vnni")
    assert rates["IQ4_XS"] == pytest.approx(0.172)
    assert rates["Q5_0"] == pytest.approx(0.172 * (109 / 3 / 256) / (19 / 3 / 32))
    assert rates["IQ4_NL"] == pytest.approx(0.172 * (109 / 3 / 256) / (32 / 3 / 64))
    assert rates["Q5_0"] < rates["IQ4_NL"] < rates["IQ4_XS"] < median
    # the same count on the timed Q8_0 (chain-bound, 4 cycles a block) lands within 12% of its timed rate
    assert 0.172 * (109 / 3 / 256) / (4 / 32) == pytest.approx(rates["Q8_0"], rel=0.12)
    # an AVX2 core without VNNI keeps the counted shape, Q5_0's multiply-sum one slot longer (maddubs + madd: no_vnni)
    avx2, _ = decode_rates("avx2")
    assert avx2["Q5_0"] / avx2["IQ4_XS"] == pytest.approx(rates["Q5_0"] / rates["IQ4_XS"] * 19 / 20)
