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
    ("Q2_K", ("neon", "dotprod"), "2025-01-10", True),     # every mat-mul before ggml 7e4f40c7 (2025-02-25)
])
def test_which_mat_vecs_one_thread_quantizes(ty, flags, date, serial):
    assert cpu_sync.serial_quant(ty, _box(flags=flags, date=date)) is serial


def test_the_one_thread_quantization_is_the_activation_elements_at_the_measured_cycles():
    """llama3.2:1b Q4_K_M on an x86 host: the Q4_K mat-vecs' inputs (hidden 2048, the FFN's average (2 x 2048 + 8192)
    / 3) at data/cpu_sync.yaml's cycles per element, at the clock."""
    model, work = get("llama3.2:1b"), token_work(get("llama3.2:1b"), get_quant("Q4_K_M"))
    h, f = model.hidden_size, model.intermediate_size
    elements = sum((2 * h + f) / 3 if w == h * f else h for mats in work.layer_matrices for ty, w, _ in mats
                   if ty == "Q4_K")
    cycles = cpu_sync._data()["q8_k_cycles_per_element"]
    assert cpu_sync.quant_seconds(work.layer_matrices, model, _box(clock=3e9)) == pytest.approx(elements * cycles / 3e9)
    assert cpu_sync.quant_seconds(work.layer_matrices, model, _box(threads=1)) == 0.0  # held in the measured rates


def test_a_64_thread_server_decodes_slower_than_its_memory_alone_allows_and_a_desktop_barely():
    """Decode on a 64-core EPYC spec sheet gains the barriers of 64 threads (several ms a token); a 2-thread host
    under 1% of its token."""
    spec = "custom:cores=64,clock=3GHz,simd=avx2,ram=256GB,bandwidth=204.8GB/s,name=AMD EPYC 7702"
    epyc = parse_custom_cpu(spec)
    model = get("qwen2.5:3b")
    work = token_work(model, get_quant("Q4_0"))
    sync = cpu_sync.decode_sync_seconds(work.layer_matrices, model, epyc)
    assert sync > 5e-3
    without = 1 / cpu_speed(epyc, "qwen2.5:3b", "Q4_0").decode_tokens_per_s - sync
    assert without > 0
    small = replace(epyc, cpu_threads=2, cpu=CpuInfo(name="Intel(R) Xeon(R) Processor", flags=("avx2",)))
    small_token = 1 / cpu_speed(small, "qwen2.5:3b", "Q4_0").decode_tokens_per_s
    assert cpu_sync.decode_sync_seconds(work.layer_matrices, model, small) < 0.01 * small_token
