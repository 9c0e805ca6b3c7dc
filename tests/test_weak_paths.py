"""ROCm prefill by kernel path and matmul traffic (estimate/kernel_path.py; docs/methodology.md 5b, fifth pass), and
benchmarks/weak_paths.py, the record of the candidates: its shipped candidate must be the shipped model, and the
reasons given for what was and was not shipped must still hold."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import (_device_flops, _speed_data, prefill_traffic_seconds, rocm_path_scale,
                                             token_work)
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
CAL = ROOT.parent / "shared" / "calibration"
needs_cal = pytest.mark.skipif(not (CAL / "llamacpp_speed.csv").exists(), reason="shared/calibration not present")


RULES = _speed_data()["rocm_prefill_path"]


def _rocm(name: str):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="rocm")


def test_the_paths_follow_ggml_cuda_under_hip():
    """ggml_cuda_should_use_mmq at a 512-token micro-batch: CDNA 3 always MMQ; CDNA 1/2 MMQ only for the legacy types;
    RDNA 3/3.5 hipBLAS for Q2_K and Q6_K; RDNA 4 and the dp4a parts MMQ."""
    def p(arch, ty):
        return kernel_path.rocm_path(arch, ty, RULES)

    assert p("CDNA 3.0", "Q4_K") == "mmq" and p("CDNA 2.0", "Q4_K") == "blas" and p("CDNA 1.0", "Q5_1") == "mmq"
    assert p("CDNA 1.0", "Q8_0") == "blas" and p("RDNA 3.5", "Q6_K") == "blas" and p("RDNA 3.0", "Q2_K") == "blas"
    assert p("RDNA 3.0", "Q4_K") == "mmq" and p("RDNA 4.0", "Q6_K") == "mmq" and p("RDNA 2.0", "Q6_K") == "mmq"


def test_int8_peaks_come_from_the_spec_table_or_dp4a_lanes():
    """Fifth pass: R9700 (RDNA 4) the table's int8 rate, 2x its FP16; RX 6800 (RDNA 2, no matrix units): 3,840 lanes x 8
    ops x 2,105 MHz = 64.7 TOPS, 2x its packed FP16; Strix Halo (RDNA 3.5 APU, no table row): WMMA int8 = the FP16 rate."""
    r9700 = _rocm("radeon ai pro r9700")
    rx6800 = _rocm("rx 6800")
    strix = _rocm("ryzen ai max+ 395 128gb")
    with kernel_path.fifth_pass():
        assert kernel_path.int8_peak(r9700, "RDNA 4.0", _device_flops(r9700), RULES) == pytest.approx(
            2 * _device_flops(r9700), rel=0.01)
        assert kernel_path.architecture(rx6800) == "RDNA 2.0"
        assert kernel_path.int8_peak(rx6800, "RDNA 2.0", 1.0, RULES) == pytest.approx(3840 * 8 * 2105e6, rel=1e-6)
        assert kernel_path.architecture(strix) == "RDNA 3.5"
        assert kernel_path.int8_peak(strix, "RDNA 3.5", 59.4e12, RULES) == 59.4e12


def test_mmq_scale_epilogue_caps_the_matrix_peak_and_adds_to_dp4a():
    """Session 11 (data/speed.yaml rocm_prefill_path.epilogue_lane_ops_per_64_ops = 3, read in mmq.cuh
    vec_dot_q8_0_q8_1_mma): 3 lane-instructions per 32-deep block product of each output cap MMQ at 64 / 3 x lanes x
    clock. MI300X: 19,456 lanes x 2.1 GHz -> 871.6 TOPS, a third of its listed 2,614.9 (which is the dense rate: 304 CUs
    x 4,096 x 2.1 GHz); R9700 (4,096 lanes x 2.92 GHz) 255.2 of 382.8; MI100 and the RX 7900 XTX keep their matrix rate
    (1,024 and 512 int8 ops per CU-clock, under the cap's 1,365); the RX 6800's dp4a lanes do both: 1 / (1/64.7 +
    1/172.4 TOPS) = 47.0 TOPS; Strix Halo keeps 59.4 (cap 158)."""
    mi300x = _rocm("instinct mi300x")
    assert kernel_path.architecture(mi300x) == "CDNA 3.0"
    assert kernel_path.int8_peak(mi300x, "CDNA 3.0", 1307.4e12, RULES) == pytest.approx(64 / 3 * 19456 * 2.1e9, rel=1e-6)
    assert 304 * 4096 * 2.1e9 == pytest.approx(2614.9e12, rel=1e-3)  # the listed int8 rate is the dense one
    r9700 = _rocm("radeon ai pro r9700")
    assert kernel_path.int8_peak(r9700, "RDNA 4.0", _device_flops(r9700), RULES) == pytest.approx(
        64 / 3 * 4096 * 2920e6, rel=1e-6)
    mi100 = _rocm("instinct mi100")
    assert kernel_path.int8_peak(mi100, "CDNA 1.0", 184.6e12, RULES) == pytest.approx(184.6e12, rel=0.01)
    xtx = _rocm("rx 7900 xtx")
    assert kernel_path.int8_peak(xtx, "RDNA 3.0", _device_flops(xtx), RULES) == pytest.approx(_device_flops(xtx), rel=0.01)
    rx6800 = _rocm("rx 6800")
    dp4a, cap = 3840 * 8 * 2105e6, 64 / 3 * 3840 * 2105e6
    assert kernel_path.int8_peak(rx6800, "RDNA 2.0", 1.0, RULES, matrix=False) == pytest.approx(
        1 / (1 / dp4a + 1 / cap), rel=1e-6)
    strix = _rocm("ryzen ai max+ 395 128gb")
    assert kernel_path.int8_peak(strix, "RDNA 3.5", 59.4e12, RULES) == 59.4e12


def test_the_path_each_build_ran():
    """rocm_prefill_path.path_history replayed to a build date (ggml_cuda_should_use_mmq at 512 tokens, as each llama.cpp
    commit changed it): RDNA 3 on hipBLAS until PR #17576 (2025-12-05), then WMMA MMQ, Q6_K back to hipBLAS with PR
    #18537 (2026-01-06); CDNA 3 on dp4a MMQ before PR #11831, hipBLAS until PR #14624 (2025-07-26), then MFMA MMQ; MI100
    Q4_0 on hipBLAS until PR #14949 (2025-07-30); the latest build is the fifth pass's rule."""
    def at(date, arch, ty):
        with kernel_path.at_build(date):
            return kernel_path.rocm_path(arch, ty, RULES), kernel_path.mmq_on_matrix_units(arch, ty, RULES)

    assert at("2025-04", "RDNA 3.0", "Q4_K")[0] == "blas" and at("2025-08", "RDNA 3.5", "Q4_0")[0] == "blas"
    assert at("2025-12-05", "RDNA 3.0", "Q6_K") == ("mmq", True) and at("2026-01", "RDNA 3.0", "Q6_K")[0] == "mmq"
    assert at("2026-02", "RDNA 3.0", "Q6_K")[0] == "blas" and at("2026-02", "RDNA 3.0", "Q4_K") == ("mmq", True)
    assert at("2024-06", "CDNA 3.0", "Q4_0") == ("mmq", False) and at("2025-06", "CDNA 3.0", "Q4_0")[0] == "blas"
    assert at("2025-08", "CDNA 3.0", "Q4_K") == ("mmq", True)
    assert at("2025-07-29", "CDNA 1.0", "Q4_0")[0] == "blas" and at("2025-08", "CDNA 1.0", "Q4_0") == ("mmq", True)
    assert at("2025-08", "CDNA 1.0", "Q6_K")[0] == "blas" and at("2025-01", "GCN 5.1", "Q4_0")[0] == "blas"
    assert at("2025-03", "GCN 5.1", "Q4_0") == ("mmq", False) and at("2024-03", "RDNA 2.0", "Q4_0") == ("mmq", False)
    for arch in ("CDNA 1.0", "CDNA 2.0", "CDNA 3.0", "RDNA 2.0", "RDNA 3.0", "RDNA 3.5", "RDNA 4.0", "GCN 5.1"):
        for ty in ("Q4_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS"):
            latest = at(None, arch, ty)[0]
            with kernel_path.fifth_pass():
                assert latest == kernel_path.rocm_path(arch, ty, RULES), (arch, ty)


def test_every_rocm_row_names_its_build_date():
    """The path a published ROCm row ran is chosen by its build's date (benchmarks/published/llamabench_weak.yaml)."""
    import yamlkit

    rows = yamlkit.safe_load((ROOT / "benchmarks" / "published" / "llamabench_weak.yaml").read_text())["rows"]
    rocm = [r for r in rows if r["backend"] == "rocm"]
    assert len(rocm) >= 50
    for r in rocm:
        assert str(r.get("build_date", ""))[:2] == "20", r


def test_hipblas_pays_its_fp16_conversion_pass_where_the_build_ran_hipblas():
    """ggml_cuda_mul_mat_cublas converts a quantized src0 to FP16 into a pool buffer once per micro-batch: its bytes
    read plus 2 per weight written, over 512 tokens at spec bandwidth. Strix Halo's 2025-07 build ran llama2 7B Q4_0 on
    hipBLAS (RDNA 3.5 before PR #17576): 6.5e9 matrix weights x (0.5625 + 2) B / 512 / 256 GB/s ~ 0.13 ms a token; the
    latest build runs it as MMQ: no pass. The MI100 runs Q6_K on hipBLAS in every build, Q4_0 as MMQ since 2025-07-30."""
    from selfhost_advisor.estimate.kernel_path import dequant_seconds

    q4 = token_work(get_model("llama2:7b"), get_quant("Q4_0")).layer_matrices
    strix = _rocm("ryzen ai max+ 395 128gb")
    with kernel_path.at_build("2025-07"):
        old = dequant_seconds(strix, q4, RULES, 512)
        assert old == pytest.approx(sum(b + 2 * n for m in q4 for _, n, b in m) / 512 / 256e9, rel=1e-6)
    assert 0.11e-3 < old < 0.15e-3
    assert dequant_seconds(strix, q4, RULES, 512) == 0.0
    mi100 = _rocm("instinct mi100")
    q6 = token_work(get_model("llama3.1:8b"), get_quant("Q6_K")).layer_matrices
    assert dequant_seconds(mi100, q6, RULES, 512) > 0 and dequant_seconds(mi100, q4, RULES, 512) == 0.0
    with kernel_path.at_build("2025-07-29"):
        assert dequant_seconds(mi100, q4, RULES, 512) > 0
    with kernel_path.fifth_pass():
        assert dequant_seconds(mi100, q6, RULES, 512) == 0.0


def test_path_scale_of_a_q4_0_model_on_rdna4_and_rdna3():
    """RDNA 4 (R9700): the fifth pass halved the FLOPs time of a Q4_0 model (int8 = 2x FP16); with the epilogue cap it is
    191.4 / 255.2 = 0.75 of the FP16 time; RDNA 3 stays 1 (its WMMA int8 rate = FP16, under the cap)."""
    mats = token_work(get_model("llama3.1:8b"), get_quant("Q4_0")).layer_matrices
    r9700 = _rocm("radeon ai pro r9700")
    with kernel_path.fifth_pass():
        assert rocm_path_scale(r9700, mats, _device_flops(r9700)) == pytest.approx(0.5, rel=0.02)
    assert rocm_path_scale(r9700, mats, _device_flops(r9700)) == pytest.approx(
        _device_flops(r9700) / (64 / 3 * 4096 * 2920e6), rel=0.02)
    xtx = _rocm("rx 7900 xtx")  # RDNA 3: int8 WMMA = FP16 WMMA
    assert rocm_path_scale(xtx, mats, _device_flops(xtx)) == pytest.approx(1.0, rel=1e-9)
    # on a dp4a part a K-quant runs at the dp4a peak x its unpacking rate over Q4_0's (CUDA MMQ rates: 310 / 654)
    q3 = token_work(get_model("llama3.1:8b"), get_quant("Q3_K_S")).layer_matrices
    rx6800 = _rocm("rx 6800")
    fp16 = _device_flops(rx6800)
    q3_scale = rocm_path_scale(rx6800, q3, fp16)
    q4_scale = rocm_path_scale(rx6800, mats, fp16)
    assert q4_scale == pytest.approx(fp16 / kernel_path.int8_peak(rx6800, "RDNA 2.0", fp16, RULES, matrix=False),
                                     rel=0.01)
    assert q3_scale > 1.6 * q4_scale


def test_matmul_traffic_scales_with_bytes_and_inverse_bandwidth():
    """Per token, (weight bytes + weights) / 128 at spec bandwidth: a Q8_0 8B moves more than a Q4_0 8B, and the same
    file costs 960/256 times as long on Strix Halo's LPDDR5X as on an RX 7900 XTX's GDDR6."""
    q4 = token_work(get_model("llama3.1:8b"), get_quant("Q4_0")).layer_matrices
    q8 = token_work(get_model("llama3.1:8b"), get_quant("Q8_0")).layer_matrices
    strix, xtx = _rocm("ryzen ai max+ 395 128gb"), _rocm("rx 7900 xtx")
    t4 = prefill_traffic_seconds(strix, q4)
    # 8B at Q4_0: about 7.0e9 matrix weights in the layers at 0.5625 B each -> ~11e9 bytes / 128 / 256 GB/s ~ 0.33 ms
    assert 0.30e-3 < t4 < 0.36e-3
    assert prefill_traffic_seconds(strix, q8) > 1.2 * t4
    assert t4 / prefill_traffic_seconds(xtx, q4) == pytest.approx(960 / 256, rel=1e-6)


def test_a_micro_batch_narrower_than_a_tile_reads_the_weights_once_per_micro_batch():
    """Session 16: a column tile holds at most the micro-batch's tokens, so below 128 tokens per micro-batch the
    weight bytes are shared by n_ubatch tokens, the activations still by a 128-row tile; 128 and wider unchanged."""
    layers = token_work(get_model("llama3.1:8b"), get_quant("Q6_K")).layer_matrices
    r9700 = _rocm("radeon ai pro r9700")
    weights = sum(b for mats in layers for _, _, b in mats)
    acts = sum(n for mats in layers for _, n, _ in mats)
    bw = float(r9700.bandwidth_bytes_per_s)
    t = {ub: kernel_path.traffic_seconds(r9700, layers, RULES, ub) for ub in (16, 64, 128, 512)}
    assert t[16] == pytest.approx((weights / 16 + acts / 128) / bw, rel=1e-9)
    assert t[128] == t[512] == pytest.approx(kernel_path.traffic_seconds(r9700, layers, RULES), rel=1e-12)
    assert t[16] - t[64] == pytest.approx(weights * (1 / 16 - 1 / 64) / bw, rel=1e-9)
    # the hipBLAS conversion pass is added on top by prefill_traffic_seconds, per micro-batch as before
    assert prefill_traffic_seconds(r9700, layers, 16) >= t[16]


def test_the_path_applies_to_rocm_only():
    q4 = token_work(get_model("llama3.1:8b"), get_quant("Q4_0")).layer_matrices
    xtx = _rocm("rx 7900 xtx")
    assert prefill_traffic_seconds(xtx, q4) > 0
    assert prefill_traffic_seconds(replace(xtx, backend="vulkan"), q4) == 0.0
    r9700 = _rocm("radeon ai pro r9700")
    assert rocm_path_scale(replace(r9700, backend="vulkan"), q4, _device_flops(r9700)) == 1.0
    with kernel_path.listed_peak_only():
        assert prefill_traffic_seconds(xtx, q4) == 0.0 and rocm_path_scale(r9700, q4, _device_flops(r9700)) == 1.0


def _of_record_day(row: dict) -> bool:
    """Whether a weak_backends row existed when weak_paths' record was taken (rows of session 12 on carry `session`;
    weak_paths scores fit_speed.published_rows(before_session=12))."""
    return (row["hardware"], row["quant"], row["test"], float(row["measured"])) not in _later_rows()


@functools.lru_cache(maxsize=1)
def _later_rows() -> frozenset:
    """The (hardware, quant, test, tokens/s) of llamabench_weak.yaml's rows of session 12 on, read once per process
    (it was parsed again for each of ~40 rows _of_record_day was asked about: ~6 s of the suite's CPU)."""
    import yamlkit

    return frozenset((r["hardware"], r["quant"], r["test"], float(r["tokens_per_s"]))
                     for r in yamlkit.safe_load((ROOT / "benchmarks/published/llamabench_weak.yaml").read_text())["rows"]
                     if int(r.get("session") or 0) >= 12)


@pytest.fixture(scope="module")
def paths():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import weak_backends
    import weak_paths
    from screenkit import Scored

    return weak_backends, Scored(weak_paths)


@needs_cal
def test_the_shipped_candidate_reproduces_the_shipped_rocm_prefill_figures(paths):
    """weak_paths refits by its own least squares; on the fifth pass's structure it must give that model's
    leave-one-hardware-out and blind errors row by row (Vulkan: the `flops` baseline), or its comparisons say nothing."""
    weak_backends, wp = paths
    import fit_speed

    with kernel_path.fifth_pass():  # the fifth pass's model, fitted and shipped as it was (session 11 changed it)
        from selfhost_advisor.estimate.speed import efficiency

        table = {f: efficiency(f) for f in ("cuda", "metal", "vulkan", "sycl", "cpu")}
        table["rocm"] = fit_speed._table(fit_speed.fit_families(fit_speed.fit_rows(), ("rocm",)))["rocm"]
        # the ROCm cards' rows alone (rows_report `only`): each row's figures are its own card's fold, so the Vulkan and
        # SYCL cards' folds, which this compares nothing against, were ~60% of the test's time
        rocm = {r.hardware for r in fit_speed.fit_rows() + fit_speed.published_rows()
                if weak_backends.family(r.backend) == "rocm"}
        shipped = weak_backends.rows_report(shipped_table=table, only=rocm)
    # (Vulkan shipped the `flops` baseline until session 11's path model, estimate/vulkan_path.py, which this
    # screening does not implement: tests/test_vulkan_paths.py checks that one)
    for be, terms in (("rocm", wp.SHIPPED),):
        got = wp.score(terms)[be]
        for key, blind in (("loho", False), ("blind", True)):
            want = sorted(round(r["error_pct"], 1) for r in shipped
                          if r["backend"] == be and r["kind"] == "prefill" and r["blind"] == blind
                          and r["error_pct"] is not None and _of_record_day(r))
            assert sorted(e[-1] for e in got[key]) == pytest.approx(want, abs=0.15), (be, key)


@needs_cal
def test_the_reasons_for_what_shipped_still_hold(paths):
    """methodology 5b, fifth pass: on ROCm the kernel path with matmul traffic at coefficient 1 lowers the
    leave-one-hardware-out median by 20+ points and the blind one by 40+ on its 8 rows (15+ on the 12 blind rows since
    session 11; the two MI50 IQ4 rows, added after it landed, -35/-34% before and +10/-1% with it); the Vulkan int-dot
    path makes Vulkan's blind
    median worse (the Radeon Pro VII, GCN 5.1, goes from -32/-19% to +36/+61%), so Vulkan keeps the listed peak."""
    _, wp = paths
    base, ship = wp.score(("flops",)), wp.score(wp.SHIPPED)
    assert ship["rocm"]["loho_median"] < base["rocm"]["loho_median"] - 20
    assert ship["rocm"]["blind_median"] < base["rocm"]["blind_median"] - 15
    mi50 = [e[-1] for e in ship["rocm"]["blind"] if e[0] == "radeon instinct mi50 16gb"]
    # < 15 (+10/-1) until the CUDA fit took its May-2024 rows on their cuBLAS path (methodology 5f, "Dated rows"),
    # which lowered the MMQ rates ROCm's dp4a path borrows: +22.3/+13.7 in this refit since (the shipped model's
    # blind MI50 rows, benchmarks/weak_backends.py, moved -3.6/-13.5 -> +5.6/-1.9)
    assert len(mi50) == 2 and max(abs(e) for e in mi50) < 25
    assert ship["rocm"]["coefficients"]["traffic"] == 1.0
    vk = wp.score(("kpath_vk",))["vulkan"]
    assert vk["blind_median"] > base["vulkan"]["blind_median"] + 1
    # the first two: PR #22933's rows (file order); session 12 added four more after them (methodology 5b-vkgcn)
    pro_vii = [e[-1] for e in vk["blind"] if e[0] == "radeon pro vii"][:2]
    assert len(pro_vii) == 2 and min(pro_vii) > 30


def test_rocm_decode_pays_the_cuda_matvec_rates_per_128_lanes():
    """ROCm compiles ggml-cuda's mmvq.cu: its per-type mat-vec rates count per 128 vector lanes x clock, k times
    slower (fitted). Strix Halo: 40 CUs x 64 lanes / 128 x 2.9 GHz / k; a slow type (Q3_K, 7.2 weights per SM-cycle on
    our H200) binds there, so Q3_K_S decodes slower per byte than Q4_0; CUDA keeps its SM count."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.estimate.speed import efficiency, estimate_speed, rocm_matvec_cycles
    from selfhost_advisor.domain import Placement

    k = efficiency("rocm").matvec_lane_factor
    assert 1.0 < k < 3.0
    strix = _rocm("ryzen ai max+ 395 128gb")
    assert rocm_matvec_cycles(strix, k) == pytest.approx(40 * 64 / 128 * 2.9e9 / k, rel=1e-9)
    m = machine_from_profile(hw_names.resolve("ryzen ai max+ 395 128gb"), 1)
    m = replace(m, devices=(strix,))
    model = get_model("llama3.1:8b")
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    per_byte = {}
    for q in ("Q4_0", "Q3_K_S"):
        sp = estimate_speed(model, get_quant(q), place, m, decode_depth=64)
        per_byte[q] = sp.decode_tokens_per_s * sum(token_work(model, get_quant(q)).layer_read_bytes)
    assert per_byte["Q3_K_S"] < 0.9 * per_byte["Q4_0"]  # bytes/s streamed: the Q3_K kernel, not memory, binds
    assert efficiency("cuda").matvec_lane_factor == 0.0
    # Vulkan's factor (since 5b-vkgcn) is its own mat-vec lane-cycles per weight (vulkan_path.matvec_excess), not a
    # multiple of the CUDA rates: the ROCm branch never applies to a Vulkan device
    assert efficiency("vulkan").matvec_lane_factor > 2.0
    vk = replace(strix, backend="vulkan")
    sp = estimate_speed(model, get_quant("Q3_K_S"), place, replace(m, devices=(vk,)), decode_depth=64)
    assert sp.decode_tokens_per_s * sum(token_work(model, get_quant("Q3_K_S")).layer_read_bytes) > per_byte["Q3_K_S"]
