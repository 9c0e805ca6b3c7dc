"""A CPU-only box from its spec sheet (`custom:cores=...`, catalog/custom_cpu.py) and the kernel paths it selects
(estimate/cpu_kernels.py): AVX-512 datapath width, types without a prompt GEMM, NEON pipes, sockets (issue 16)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.errors import AdvisorError
from selfhost_advisor.estimate import cpu_kernels, cpu_sync
from selfhost_advisor.estimate.speed import estimate_speed, token_work
from selfhost_advisor.probe.files import load_hardware_file
from selfhost_advisor.record import replace

from cpukit import cpu_speed

DESKTOP = "custom:cores=16,clock=5GHz,simd=avx512,ram=64GB,channels=2,mts=5600"


def _speed(machine, model="llama3.1:8b", quant="Q4_K_M"):
    return cpu_speed(machine, model, quant)


def test_a_spec_sheet_gives_the_clocked_model_its_threads_clock_isa_and_bandwidth():
    m = parse_custom_cpu(DESKTOP)
    assert (m.cpu_threads, m.cpu_clock_hz, m.ram_bandwidth_bytes_per_s, m.ram_bytes) == (16, 5e9, 89.6e9, 64 * 10**9)
    assert m.devices == () and cpu_kernels.cpu_isa(m) == "vnni" and m.host_speed_source.startswith("custom spec")
    assert cpu_kernels.vector_flops(m) == 16 * 5e9 * 32
    same = parse_custom_cpu("custom:cores=16,clock=5000MHz,simd=avx512,ram=64GB,bandwidth=89.6GB/s")
    assert (same.cpu_clock_hz, same.ram_bandwidth_bytes_per_s) == (5e9, 89.6e9)


def test_the_cli_path_and_a_yaml_file_build_the_same_machine(tmp_path):
    profile, count, _ = parse_spec(DESKTOP)
    via_cli = machine_from_profile(profile, count)
    f = tmp_path / "box.yaml"
    f.write_text("cores: 16\nclock: 5GHz\nsimd: avx512\nram: 64GB\nchannels: 2\nmts: 5600\nname: my desktop\n")
    via_file = load_hardware_file(str(f))
    j = tmp_path / "box.json"
    j.write_text('{"cores": 16, "clock": "5GHz", "simd": "avx512", "ram": "64GB", "bandwidth": "89.6GB/s"}')
    via_json = load_hardware_file(str(j))  # a JSON spec sheet, not a probe file: it has no schema_version
    for m in (via_cli, via_file, via_json):
        assert (m.cpu_threads, m.cpu_clock_hz, m.ram_bandwidth_bytes_per_s) == (16, 5e9, 89.6e9)
    assert via_file.cpu_name == "my desktop"
    assert _speed(via_cli).decode_tokens_per_s == pytest.approx(_speed(via_file).decode_tokens_per_s)


def test_decode_is_bound_by_the_ram_a_spec_names_and_prefill_by_cores_times_clock():
    slow_ram = parse_custom_cpu(DESKTOP.replace("mts=5600", "mts=2800"))
    assert _speed(slow_ram).decode_tokens_per_s == pytest.approx(_speed(parse_custom_cpu(DESKTOP)).decode_tokens_per_s / 2,
                                                                rel=0.02)
    half = parse_custom_cpu(DESKTOP.replace("cores=16", "cores=8"))
    assert _speed(half).prefill_tokens_per_s == pytest.approx(_speed(parse_custom_cpu(DESKTOP)).prefill_tokens_per_s / 2)


def test_a_second_socket_adds_cores_but_decode_reads_one_sockets_memory():
    one = parse_custom_cpu("custom:cores=64,clock=3GHz,simd=avx512,flops_per_cycle=64,ram=768GB,bandwidth=460.8GB/s")
    two = parse_custom_cpu("custom:cores=128,clock=3GHz,simd=avx512,flops_per_cycle=64,ram=1536GB,bandwidth=921.6GB/s,"
                           "sockets=2")
    assert two.ram_bandwidth_bytes_per_s == one.ram_bandwidth_bytes_per_s == 460.8e9
    # the same memory-bound time; twice the threads' barriers cost twice as much (estimate/cpu_sync.py)
    extra = cpu_sync.barrier_seconds(32, two) - cpu_sync.barrier_seconds(32, one)
    assert extra > 0
    assert 1 / _speed(two).decode_tokens_per_s == pytest.approx(1 / _speed(one).decode_tokens_per_s + extra, rel=0.02)
    assert _speed(two).prefill_tokens_per_s == pytest.approx(2 * _speed(one).prefill_tokens_per_s)


def test_avx512_on_a_256_bit_datapath_takes_the_256_bit_prompt_rates():
    """ggml-cpu's K-quant GEMMs have AVX-512 code; Zen 4 and client Intel split each 512-bit operation in two, so per
    cycle it does no more than the 256-bit code (speed.yaml cpu_prefill vnni256); Xeon and Zen 5 desktop run it at full
    width (vnni, measured on the development VM's Xeon)."""
    half = parse_custom_cpu(DESKTOP)
    full = parse_custom_cpu(DESKTOP + ",flops_per_cycle=64")
    assert cpu_kernels.prefill_isa(half) == "vnni256" and cpu_kernels.prefill_isa(full) == "vnni"
    assert _speed(half, quant="Q5_K_M").prefill_tokens_per_s < 0.7 * _speed(full, quant="Q5_K_M").prefill_tokens_per_s
    assert _speed(half).decode_tokens_per_s == _speed(full).decode_tokens_per_s  # decode: 256-bit dot kernels on both
    # a probed host: by its name
    for name, expect in (("AMD Ryzen 9 7950X 16-Core Processor", 32), ("Intel(R) Xeon(R) Platinum 8480+", 64),
                         ("AMD Ryzen 9 9950X 16-Core Processor", 64), ("AMD EPYC 9654 96-Core Processor", 32),
                         ("AMD EPYC 9755 128-Core Processor", 64), ("11th Gen Intel(R) Core(TM) i5-1135G7", 32),
                         ("AMD Ryzen Threadripper 9980X 64-Cores", 64), ("AMD Ryzen Threadripper 7980X 64-Cores", 32),
                         ("AMD Ryzen AI 9 HX 370 w/ Radeon 890M", 32)):
        probed = replace(half, cpu_flops_per_cycle=None, cpu=replace(half.cpu, name=name))
        assert cpu_kernels.flops_per_cycle(probed) == expect, name


def test_a_spec_naming_a_full_width_avx512_cpu_takes_its_width_without_flops_per_cycle():
    """A spec that names its CPU and states no flops_per_cycle takes the width the same name gets when probed
    (cpu_kernels.full_width_avx512): a Ryzen 7 9800X3D (Zen 5 desktop: two 512-bit FMA pipes, AMD's Zen 5 disclosures,
    docs/methodology.md 4e-cpu17) runs the full-width prompt rates; a Zen 4 name, an unnamed box and a Zen 5 name whose
    spec says avx2 keep the 256-bit ones, and a stated figure always wins."""
    zen5 = parse_custom_cpu(DESKTOP + ",name=AMD Ryzen 7 9800X3D")
    zen4 = parse_custom_cpu(DESKTOP + ",name=AMD Ryzen 9 7950X")
    assert cpu_kernels.flops_per_cycle(zen5) == 64 and cpu_kernels.prefill_isa(zen5) == "vnni"
    assert cpu_kernels.flops_per_cycle(zen4) == 32 and cpu_kernels.prefill_isa(zen4) == "vnni256"
    assert cpu_kernels.flops_per_cycle(parse_custom_cpu(DESKTOP)) == 32
    stated = parse_custom_cpu(DESKTOP + ",name=AMD Ryzen 7 9800X3D,flops_per_cycle=32")
    assert cpu_kernels.prefill_isa(stated) == "vnni256"
    avx2 = parse_custom_cpu(DESKTOP.replace("simd=avx512", "simd=avx2") + ",name=AMD Ryzen 7 9800X3D")
    assert cpu_kernels.flops_per_cycle(avx2) == 32
    # the prompt is faster for the full-width core, decode (256-bit dot kernels on both) is not
    assert _speed(zen5).prefill_tokens_per_s > _speed(stated).prefill_tokens_per_s
    assert _speed(zen5).decode_tokens_per_s == pytest.approx(_speed(stated).decode_tokens_per_s)


def test_a_type_without_a_prompt_gemm_runs_its_dot_kernel_per_token():
    """ggml-cpu/llamafile/sgemm.cpp has tinyBLAS for Q8_0, Q4_0 (x86 and ARM dotprod), Q5_0 and IQ4_NL (x86 only);
    Q4_1 has none (nor a repack or a tiled kernel), so its prompt runs ggml_vec_dot_q4_1_q8_1 once per token and row: 2
    ops per weight at the decode kernel's rate (the median: no rate was timed for Q4_1). IQ3_S likewise until x86's
    tiled mul_mat (#27851) gave the i-quants a GEMM (session 15: at its own timed dot-kernel rate)."""
    m = parse_custom_cpu(DESKTOP)
    rate = cpu_kernels.prefill_type_rates(m)
    dot, dot_median = cpu_kernels.decode_rates("vnni")
    assert rate("Q4_1") == pytest.approx(2 * dot_median)
    assert cpu_kernels.prefill_type_rates(parse_custom_cpu(DESKTOP + ",build_date=2025-06"))("IQ3_S") == pytest.approx(
        2 * dot["IQ3_S"])
    # Q5_0 runs llamafile's tinyBLAS_Q0_AVX (sgemm.cpp has load(const block_q5_0 *)), the template timed on Q8_0
    # (session 12; before it took the median of the measured GEMMs), less its 5-bit unpack (session 23)
    assert rate("Q5_0") == pytest.approx(
        cpu_kernels.prefill_rates("vnni256")[0]["Q8_0"] * cpu_kernels.tinyblas_unpack_factor("Q5_0", m))
    assert cpu_kernels.tinyblas_unpack_factor("Q5_0", m) < 1.0
    arm = parse_custom_cpu("custom:cores=8,clock=3GHz,simd=neon,ram=16GB,bandwidth=68GB/s")
    arm_rate = cpu_kernels.prefill_type_rates(arm)
    neon_dot = cpu_kernels.decode_rates("neon")[0]
    # no ARM GEMM for Q3_K (ggml-cpu/repack.cpp repacks Q4_0 Q4_K Q5_K Q6_K Q8_0 IQ4_NL on ARM; Q5_K since #19356)
    assert arm_rate("Q3_K") == pytest.approx(2 * neon_dot.get("Q3_K", cpu_kernels.decode_rates("neon")[1]))
    assert arm_rate("Q5_K") > 2 * neon_dot["Q5_K"]
    # between Q6_K's i8mm repack (#18888, 2026-01-16) and its dotprod one (#19360, 2026-02-05) only i8mm cores had it
    old = parse_custom_cpu("custom:cores=8,clock=3GHz,simd=neon,ram=16GB,bandwidth=68GB/s,build_date=2026-01-20")
    assert cpu_kernels.prefill_type_rates(old)("Q6_K") == pytest.approx(2 * neon_dot["Q6_K"])
    i8mm = parse_custom_cpu("custom:cores=8,clock=3GHz,simd=neon_i8mm,ram=16GB,bandwidth=68GB/s,build_date=2026-01-20")
    assert cpu_kernels.prefill_type_rates(i8mm)("Q6_K") > cpu_kernels.prefill_type_rates(old)("Q6_K")


def test_two_128_bit_neon_pipes_halve_the_vector_rate():
    big = parse_custom_cpu("custom:cores=8,clock=3GHz,simd=neon,ram=16GB,bandwidth=68GB/s")
    small = parse_custom_cpu("custom:cores=8,clock=3GHz,simd=neon,ram=16GB,bandwidth=68GB/s,flops_per_cycle=16")
    assert cpu_kernels.vector_flops(small) == cpu_kernels.vector_flops(big) / 2


def test_the_neon_kernel_rate_reproduces_the_row_it_comes_from():
    """speed.yaml cpu_decode isa_scale neon: Apple M2 Max P-cores, 2 threads at 3.7 GHz, Llama-3.1-8B Q5_0 tg128 6.38
    tok/s (ik_llama.cpp PR #121's mainline column), solved with the clocked decode formula."""
    m = get("llama3.1:8b")
    host = parse_custom_cpu("custom:cores=2,clock=3.7GHz,simd=neon,ram=64GB,bandwidth=409.6GB/s")
    tg = estimate_speed(m, get_quant("Q5_0"), Placement("cpu", 0, m.n_layers + 1, 0, 0), host,
                        decode_depth=64).decode_tokens_per_s
    assert tg == pytest.approx(6.38, rel=0.01)


def test_without_a_one_thread_stream_a_core_may_draw_the_whole_stream():
    """decode_seconds: a spec sheet gives no one-thread read stream; the T-thread stream then binds, not T x a default."""
    host = parse_custom_cpu(DESKTOP)
    work = token_work(get("llama3.1:8b"), get_quant("Q4_K_M"))
    nbytes = sum(work.layer_read_bytes) + work.output_read_bytes
    measured = replace(host, cpu_thread_bandwidth_bytes_per_s=int(2e9))  # 16 x 2 GB/s < the socket
    assert _speed(measured).decode_tokens_per_s < _speed(host).decode_tokens_per_s
    assert cpu_kernels.decode_seconds(nbytes, 0.0, host, 60e9) == pytest.approx(nbytes / 60e9)


@pytest.mark.parametrize("spec, names", [
    ("custom:cores=8,simd=avx2,ram=32GB,bandwidth=50GB/s", "clock is missing"),
    ("custom:cores=8,clock=4GHz,ram=32GB,bandwidth=50GB/s", "simd is missing"),
    ("custom:cores=8,clock=4GHz,simd=avx2,bandwidth=50GB/s", "ram is missing"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB", "bandwidth is missing"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,channels=2", "bandwidth is missing"),
    ("custom:cores=0,clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s", "cores must be between"),
    ("custom:cores=-4,clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s", "cores must be between"),
    ("custom:cores=8,clock=0,simd=avx2,ram=32GB,bandwidth=50GB/s", "clock"),
    ("custom:cores=8,clock=-3GHz,simd=avx2,ram=32GB,bandwidth=50GB/s", "clock"),
    ("custom:cores=8,clock=4000GHz,simd=avx2,ram=32GB,bandwidth=50GB/s", "not a CPU clock"),
    ("custom:cores=8,clock=fast,simd=avx2,ram=32GB,bandwidth=50GB/s", "not a clock"),
    ("custom:cores=8,clock=4GHz,simd=sse2,ram=32GB,bandwidth=50GB/s", "simd 'sse2' is not one of"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=0GB,bandwidth=50GB/s", "ram must be positive"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=-8GB,bandwidth=50GB/s", "ram must be positive"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,bandwidth=0", "bandwidth must be positive"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s,channels=2,mts=5600", "not both"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,channels=0,mts=5600", "channels must be between"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,channels=2,mts=-1", "mts must be between"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s,flops_per_cycle=48", "flops_per_cycle must be one of"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s,sockets=0", "sockets must be between"),
    ("custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s,gpus=2", "unknown key 'gpus'"),
    ("custom:clock=4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s", "unknown key 'clock'"),  # no cores: read as a GPU spec
])
def test_a_bad_cpu_spec_is_refused_naming_the_field(spec, names):
    with pytest.raises(AdvisorError) as exc:
        parse_spec(spec)
    assert names in str(exc.value)


def test_a_gpu_spec_that_names_cores_too_is_refused():
    with pytest.raises(AdvisorError) as exc:
        parse_spec("custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,cores=8")
    assert "unknown key 'cores'" in str(exc.value)


def test_curated_cpu_profiles_take_the_clocked_path_and_two_sockets_do_not_double_decode():
    """data/hardware.yaml's CPU profiles state cores, clock and SIMD: the same path as a spec sheet. The 2-socket Genoa
    was 2x the 1-socket decode on the FLOPS path (both sockets' bandwidth); llama.cpp's weights sit on one node."""
    one = machine_from_profile(parse_spec("epyc-genoa-1s-384gb")[0])
    two = machine_from_profile(parse_spec("epyc-genoa-2s-768gb")[0])
    desk = machine_from_profile(parse_spec("desktop-ddr5-64gb")[0])
    assert (one.cpu_threads, two.cpu_threads, desk.cpu_threads) == (96, 192, 16)
    assert cpu_kernels.prefill_isa(one) == cpu_kernels.prefill_isa(desk) == "vnni256"  # Zen 4
    # the same memory-bound time; twice the threads' barriers cost twice as much (estimate/cpu_sync.py)
    extra = cpu_sync.barrier_seconds(32, two) - cpu_sync.barrier_seconds(32, one)
    assert extra > 0
    assert 1 / _speed(two).decode_tokens_per_s == pytest.approx(1 / _speed(one).decode_tokens_per_s + extra, rel=0.02)
    assert _speed(two).prefill_tokens_per_s == pytest.approx(2 * _speed(one).prefill_tokens_per_s)
    assert two.host_speed_source.startswith("profile epyc-genoa-2s-768gb")
