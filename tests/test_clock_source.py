"""A clock the probe timed vs one it read from cpufreq sysfs: the host_speed_source says which, and the AVX2 prompt
kernels' counted rates (estimate/cpu_kernels.py clock_is_measured, docs/methodology.md 4e-cpu13) need a timed one."""
from __future__ import annotations

from selfhost_advisor.domain import CpuInfo, Machine
from selfhost_advisor.estimate.cpu_kernels import clock_is_measured, host_prefill_rates, prefill_rates
from selfhost_advisor.probe import ProbeSources, _with_host_rates, hostrate

X86 = CpuInfo(name="AMD EPYC", arch="x86_64", physical_cores=2, flags=("avx", "avx2", "f16c", "fma"))


def _quick(tmp_path, method: str) -> Machine:
    rates = hostrate.HostRates(3.2e9, int(38e9), 2, 0.1, method, int(19e9))
    m = Machine(name="this machine", devices=(), ram_bytes=2**34, cpu=X86)
    return _with_host_rates(m, ProbeSources(root=str(tmp_path), host_rates=lambda t: rates), [])


def test_the_quick_probe_names_where_its_clock_came_from(tmp_path):
    timed = _quick(tmp_path, "dependent-add clock; memchr read stream, 2 and 1 threads")
    stated = _quick(tmp_path, hostrate.SYSFS_CLOCK + "; memchr read stream, 2 and 1 threads")
    assert "GHz core clock" in timed.host_speed_source
    assert "GHz maximum clock (cpufreq sysfs)" in stated.host_speed_source
    assert clock_is_measured(timed) and not clock_is_measured(stated)


def test_an_x86_host_under_w_x_keeps_the_stated_clock_scale_for_its_prompt_kernels(tmp_path):
    # the same AVX2 core: timed, it takes the counted no-VNNI rates; with cpufreq's maximum it keeps avx2's scale,
    # as a published row at its stated maximum does
    timed = _quick(tmp_path, "dependent-add clock; memchr")
    stated = _quick(tmp_path, hostrate.SYSFS_CLOCK + "; memchr")
    assert host_prefill_rates(stated)[0] == prefill_rates("avx2")[0]
    assert host_prefill_rates(timed)[0] != prefill_rates("avx2")[0]


def test_measure_words_follow_its_method():
    assert hostrate.clock_words("memchr read stream, 2 threads; dependent-add clock; STREAM copy") == "core clock"
    assert hostrate.clock_words(f"memchr read stream; {hostrate.SYSFS_CLOCK}; STREAM copy") == \
        "maximum clock (cpufreq sysfs)"


def test_an_avx512_core_without_vnni_keeps_the_scale_even_timed(tmp_path):
    # Skylake-SP: AVX-512F, no VNNI; ggml runs 512-bit code there that the 256-bit count does not describe
    from selfhost_advisor.estimate.cpu_kernels import prefill_isa
    from selfhost_advisor.record import replace

    timed = _quick(tmp_path, "dependent-add clock; memchr")
    sky = replace(timed, cpu=replace(X86, name="Intel Xeon Gold 6148", flags=X86.flags + ("avx512f", "avx512bw")))
    assert clock_is_measured(sky)
    assert host_prefill_rates(sky)[0] == prefill_rates(prefill_isa(sky))[0]
