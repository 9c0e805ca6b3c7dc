"""The prompt GEMM of float weights on an x86 CPU: llamafile tinyBLAS's F16 / BF16 / F32 templates, timed on the
development VM (benchmarks/cpu_float_gemm.py, data/speed.yaml cpu_prefill; docs/methodology.md 4e-cpu8), not the one
op per vector FLOP a float weight took before."""
import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.estimate import cpu_kernels

XEON = "custom:cores=16,clock=3GHz,simd=avx512,flops_per_cycle=64,ram=64GB,bandwidth=300GB/s"  # full-width AVX-512
ZEN4 = "custom:cores=16,clock=5GHz,simd=avx512,ram=64GB,bandwidth=83.2GB/s,name=AMD Ryzen 9 7950X"  # split 512-bit
HASWELL = "custom:cores=4,clock=3.5GHz,simd=avx2,ram=32GB,bandwidth=25.6GB/s"
M2MAX = "custom:cores=8,clock=3.7GHz,simd=neon_i8mm,ram=64GB,bandwidth=409.6GB/s"


def _rate(spec: str, ty: str) -> float:
    return cpu_kernels.prefill_type_rates(parse_custom_cpu(spec))(ty)


def test_a_full_width_avx512_host_runs_the_512_bit_float_gemms_faster_than_a_256_bit_one():
    # measured per vector FLOP (32 a cycle): the __m512 tinyBLAS F16 0.87, the __m256 one 0.58 (session 20 rows)
    assert _rate(XEON, "F16") == pytest.approx(0.867)
    assert _rate(ZEN4, "F16") == pytest.approx(0.582)  # Zen 4 takes the 256-bit rates (prefill_isa vnni256)
    assert _rate(XEON, "BF16") > _rate(ZEN4, "BF16")


def test_an_avx2_host_runs_the_same_256_bit_float_code_unscaled():
    # tinyBLAS's float templates use F16C and FMA, no int8 dot: cpu_matvec's int8 ISA ratio does not apply to them
    for ty in ("F16", "BF16", "F32"):
        assert _rate(HASWELL, ty) == pytest.approx(_rate(ZEN4, ty))
    assert _rate(HASWELL, "Q8_0") < _rate(ZEN4, "Q8_0")  # the quantized GEMMs keep the scaled rates


def test_a_neon_host_keeps_the_float_rate_its_own_kernels_were_not_timed_at():
    rates, _, float_rate = cpu_kernels.prefill_rates("neon")
    assert "F16" not in rates
    assert _rate(M2MAX, "F16") == pytest.approx(float_rate)


def test_float_weights_stay_out_of_the_quantized_median():
    with_floats = cpu_kernels.prefill_rates("vnni")
    assert with_floats[0]["F16"] < 1.0
    quant = sorted(v for k, v in with_floats[0].items() if k in ("Q4_0", "Q8_0", "Q6_K", "Q5_K", "Q3_K", "Q4_K",
                                                                 "IQ4_XS", "Q2_K"))
    assert with_floats[1] == pytest.approx((quant[3] + quant[4]) / 2)
