"""CPU decode's per-token serial part (estimate/cpu_sync.py, docs/methodology.md 4e-cpusync): ggml_barrier after each
graph node and the activation row one thread quantizes for a repacked K-quant mat-vec."""
import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import CpuInfo, Machine
from selfhost_advisor.estimate import cpu_sync
from selfhost_advisor.estimate.speed import token_work
from selfhost_advisor.record import replace

from cpukit import cpu_speed


def _box(name="Intel(R) Core(TM) i9-13900K", threads=8, clock=3e9, flags=("avx2", "avx_vnni"), date=None) -> Machine:
    return Machine(name="box", devices=(), ram_bytes=64 * 2**30, ram_bandwidth_bytes_per_s=int(100e9),
                   cpu=CpuInfo(name=name, flags=flags), source="probe", cpu_clock_hz=clock, cpu_threads=threads,
                   cpu_kernel_date=date)


def test_one_barrier_on_an_intel_client_part_matches_slarens_test_barrier():
    """llama.cpp PR #9461 (slaren, 2024-09-17, i9-13900K, test-barrier: per graph node two barriers and a tiny mat-mul):
    474-488 ns per node on one thread, 1039 ns on eight, so one barrier at 8 threads ~ (1039 - 474) / 2 = 283 ns."""
    per_barrier = cpu_sync.barrier_seconds(1, _box(threads=8)) / cpu_sync._data()["barriers_per_layer"]
    assert per_barrier == pytest.approx(283e-9, rel=0.25)


def test_barriers_cost_nothing_on_one_thread_and_grow_with_threads_and_the_chips_latency():
    assert cpu_sync.barrier_seconds(32, _box(threads=1)) == 0.0
    assert cpu_sync.barrier_seconds(32, _box(threads=16)) == pytest.approx(2 * cpu_sync.barrier_seconds(32, _box(threads=8)))
    epyc, graviton = _box(name="AMD EPYC 7702", threads=64), _box(name="AWS Graviton3 (Neoverse V1)", threads=64)
    assert cpu_sync.core_latency_s(epyc) > cpu_sync.core_latency_s(graviton) > cpu_sync.core_latency_s(_box())


@pytest.mark.parametrize("ty, flags, date, serial", [
    ("Q4_K", ("avx2", "avx_vnni"), None, True),            # x86 repacks Q4_K: repack.cpp hands src1 rows to threads
    ("Q6_K", ("avx2", "avx_vnni"), None, False),           # not repacked on x86: the row is split in blocks
    ("Q4_0", ("avx2", "avx_vnni"), "2024-06-01", False),   # Q8_0 activations: vectorised, not counted
    ("Q6_K", ("neon", "dotprod", "i8mm"), "2026-08-21", True),   # ARM Q6_K repack since PR #18888 (2026-01-16)
    ("Q6_K", ("neon", "dotprod", "i8mm"), "2025-12-01", False),  # before it: ggml's mul_mat, split in blocks
    ("Q2_K", ("neon", "dotprod"), "2025-01-10", True),     # every mat-mul before llama.cpp #11666 (2025-02-13)
    ("Q3_K", ("neon", "dotprod"), "2025-02-17", False),    # #11917's master (Graviton3 rows): #11666 already in
])
def test_which_mat_vecs_one_thread_quantizes(ty, flags, date, serial):
    assert cpu_sync.serial_quant(ty, _box(flags=flags, date=date)) is serial


def test_the_one_thread_quantization_is_the_activation_elements_at_the_measured_cycles():
    """llama3.2:1b Q4_K_M on an x86 host: each Q4_K mat-vec's own input (its row length: 2048 for attn_q/k/v/o, gate
    and up, 8192 for ffn_down) at data/cpu_sync.yaml's cycles per element, at the clock; counted here from the
    per-tensor list (weights_by_tensor), not from the per-type sums the estimate reads."""
    from selfhost_advisor.estimate.memory_weights import weights_by_tensor

    model, work = get("llama3.2:1b"), token_work(get("llama3.2:1b"), get_quant("Q4_K_M"))
    elements = sum(t.shape[0] for t, ty, _ in weights_by_tensor(model, get_quant("Q4_K_M"))
                   if t.layer >= 0 and len(t.shape) == 2 and ty == "Q4_K")
    cycles = cpu_sync._data()["q8_k_cycles_per_element"]
    assert cpu_sync.quant_seconds(work.layer_inputs, model, _box(clock=3e9)) == pytest.approx(elements * cycles / 3e9)
    assert cpu_sync.quant_seconds(work.layer_inputs, model, _box(threads=1)) == 0.0  # held in the measured rates


def test_before_the_parallel_split_every_k_quant_mat_vec_input_is_quantized_by_one_thread():
    """A build before llama.cpp #11666 (2025-02-13): thread 0 converts every mat-vec's input to Q8_K. llama3.2:1b (16
    layers, hidden 2048, FFN 8192) at Q2_K (Q2_K / Q3_K / Q4_K / Q6_K matrices, all Q8_K dot types): per layer
    attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up read 2048 elements each and ffn_down 8192: 6 x 2048 + 8192
    = 20480, not one hidden row per GGML type (the per-type sums it was counted from until session 20)."""
    model, work = get("llama3.2:1b"), token_work(get("llama3.2:1b"), get_quant("Q2_K"))
    cycles = cpu_sync._data()["q8_k_cycles_per_element"]
    box = _box(flags=("neon", "dotprod"), date="2025-01-10", clock=3e9)
    assert cpu_sync.quant_seconds(work.layer_inputs, model, box) == pytest.approx(16 * 20480 * cycles / 3e9)


def test_an_moe_layers_dense_mat_vecs_are_quantized_by_one_thread_too():
    """qwen3:30b-a3b Q4_K_M on an x86 host of the newest build: attn_q / k / v / output are ordinary mat-muls, so
    repack.cpp converts a repacked Q4_K one's input on thread 0 as in a dense model; the routed experts
    (ffn_*_exps, MUL_MAT_ID) are not counted. Counted from the per-tensor list."""
    from selfhost_advisor.estimate.memory_weights import weights_by_tensor

    model, quant = get("qwen3:30b-a3b"), get_quant("Q4_K_M")
    work = token_work(model, quant)
    elements = sum(t.shape[0] for t, ty, _ in weights_by_tensor(model, quant)
                   if t.layer >= 0 and len(t.shape) == 2 and ty == "Q4_K" and "_exps" not in t.name)
    assert elements > 0
    cycles = cpu_sync._data()["q8_k_cycles_per_element"]
    assert cpu_sync.quant_seconds(work.layer_inputs, model, _box(clock=3e9)) == pytest.approx(elements * cycles / 3e9)


def test_a_64_thread_server_decodes_slower_than_its_memory_alone_allows_and_a_desktop_barely():
    """Decode on a 64-core EPYC spec sheet gains the barriers of 64 threads (several ms a token); a 2-thread host
    under 1% of its token."""
    spec = "custom:cores=64,clock=3GHz,simd=avx2,ram=256GB,bandwidth=204.8GB/s,name=AMD EPYC 7702"
    epyc = parse_custom_cpu(spec)
    model = get("qwen2.5:3b")
    work = token_work(model, get_quant("Q4_0"))
    sync = cpu_sync.decode_sync_seconds(work.layer_matrices, model, epyc, work.layer_inputs)
    assert sync > 5e-3
    without = 1 / cpu_speed(epyc, "qwen2.5:3b", "Q4_0").decode_tokens_per_s - sync
    assert without > 0
    small = replace(epyc, cpu_threads=2, cpu=CpuInfo(name="Intel(R) Xeon(R) Processor", flags=("avx2",)))
    small_token = 1 / cpu_speed(small, "qwen2.5:3b", "Q4_0").decode_tokens_per_s
    assert cpu_sync.decode_sync_seconds(work.layer_matrices, model, small, work.layer_inputs) < 0.01 * small_token


@pytest.mark.parametrize("name, ns", [
    ("AMD EPYC 7702 64-Core Processor", 251),              # Rome: nviennot Dual EPYC 7742 CSV, IO-die hop ~250 ns
    ("AMD EPYC 7773X 64-Core Processor", 105),             # Milan: nviennot EPYC 7773X CSV mean
    ("AMD Ryzen Threadripper PRO 5995WX 64-Cores", 71),    # nviennot issue #133 "Mean latency: 70.9ns"
    ("AMD Ryzen Threadripper 3970X 32-Core Processor", 87),  # Zen 2 Threadripper: the 3960X CSV
    ("AMD Ryzen 9 7950X 16-Core Processor", 45),           # two CCDs: the 7950X CSV mean
    ("AMD Ryzen 7 8840U w/ Radeon 780M Graphics", 19),     # one CCX: 5700X / 5800U / 7600 18-19 ns
    ("AMD Ryzen 9 5900HX with Radeon Graphics", 19),       # a mobile Ryzen 9: one CCD (nviennot 5900HX 19 ns)
    ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", 50),  # mesh Xeons 47-51
    ("13th Gen Intel(R) Core(TM) i9-13900K", 40),          # the single-die default
])
def test_core_to_core_latency_by_chip_family(name, ns):
    """data/cpu_sync.yaml latency_ns (session 14): the mean over pairs of cores of nviennot/core-to-core-latency's
    measurements per family; the first matching entry wins, so a Threadripper is not read as a Ryzen."""
    assert cpu_sync.core_latency_s(_box(name=name)) == pytest.approx(ns * 1e-9)


def test_the_zen4_server_latency_is_the_pair_mean_of_its_ccd_figures():
    """A random arrival order makes a hop of the barrier's cache line cost the mean over pairs of cores: on an 8-CCD,
    64-core Zen 4 part 7 of a core's 63 partners share its CCD (23 ns, nviennot issue #132) and 56 do not (87-100 ns,
    93 taken): 7/63 x 23 + 56/63 x 93 = 85 ns."""
    expected = (7 * 23 + 56 * 93) / 63
    assert cpu_sync.core_latency_s(_box(name="AMD EPYC 9554 64-Core Processor")) == pytest.approx(expected * 1e-9, rel=0.01)


def test_a_64_thread_rome_decodes_slower_than_a_genoa_of_the_same_spec_by_its_barriers():
    """The same spec sheet named as a Zen 2 EPYC (IO-die hops ~250 ns) or a Zen 4 one (~85 ns): only the barriers
    differ, and by barriers x threads x the latency difference."""
    model = get("qwen2.5:3b")
    work = token_work(model, get_quant("Q4_0"))
    spec = "custom:cores=64,clock=3GHz,simd=avx2,ram=256GB,bandwidth=204.8GB/s,name=AMD EPYC {}"
    rome, genoa = parse_custom_cpu(spec.format("7702")), parse_custom_cpu(spec.format("9554"))
    t_rome = 1 / cpu_speed(rome, "qwen2.5:3b", "Q4_0").decode_tokens_per_s
    t_genoa = 1 / cpu_speed(genoa, "qwen2.5:3b", "Q4_0").decode_tokens_per_s
    gap = model.n_layers * cpu_sync._data()["barriers_per_layer"] * 64 * (251 - 85) * 1e-9
    assert t_rome - t_genoa == pytest.approx(gap, rel=0.02)
    assert cpu_sync.decode_sync_seconds(work.layer_matrices, model, rome, work.layer_inputs) > \
        2 * cpu_sync.decode_sync_seconds(work.layer_matrices, model, genoa, work.layer_inputs)
