"""Fifth pass on the weak backends' prefill: the peak of the kernel path llama.cpp takes per (backend, architecture,
quant type), scored leave-one-hardware-out and on the blind rows (docs/methodology.md 5b, "Fifth pass").

Usage: python benchmarks/weak_paths.py [--json]

Evaluation fixed before the structure was written (2026-12-05): prefill rows of ROCm and Vulkan in the fit, each GPU
predicted by the fit redone without its rows (leave-one-hardware-out), and the `in_fit: false` rows of
benchmarks/published/llamabench_weak.yaml (the 10 rows added in this pass were marked before it), each predicted by
a fit that holds no row of its GPU. A candidate ships only if, per backend, neither median gets worse by more than a
point and at least one improves.

The paths, read in the sources (llama.cpp, ggml/src/ggml-vulkan/ggml-vulkan.cpp ggml_vk_load_shaders and
ggml_vk_mul_mat_q_f16 / ggml_vk_get_mul_mat_mat_pipeline; ggml-cuda as HIP compiles it, see weak_structures.py):
- Vulkan with cooperative matrices (NVIDIA: NV_coopmat2; AMD RDNA 3/3.5/4 and Intel Xe2: KHR_coopmat): quantized
  weights are dequantized inside the matmul shader and multiplied on the matrix units: the listed FP16 matrix rate.
  The integer-dot MMQ pipelines (`pipeline_dequant_mul_mat_mat_q8_1`) are created only in the branches without
  cooperative matrices, so they never run there.
  (Corrected in session 11, methodology 5b-vulkan: ggml_vk_load_shaders creates them in the KHR-coopmat branch too,
  since PR #12135 for the legacy types and #16536 for K-quants; only the NV_coopmat2 branch has none.)
- Vulkan without cooperative matrices but with VK_KHR_shader_integer_dot_product accelerated (AMD RDNA 2, GCN 5.1
  Vega 20, NVIDIA when coopmat is off): ggml_vk_mul_mat_q_f16 quantizes the activations to Q8_1 and tries the MMQ
  pipeline first; it exists for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4 and Q2_K-Q6_K: the packed 4x8-bit dot product on
  the vector lanes, 4 MACs = 8 ops per lane per clock (shaders x 8 x boost clock; on NVIDIA dp4a issues on the
  INT32 half of the lanes: CUDA cores x 4 x clock). Other types (IQ*) fall back to the FP16 shader.
- Vulkan with neither (AMD RDNA 1 gfx1010, Intel Xe-HPG as data/speed.yaml vulkan_matrix_units says): the FP16 shader
  rate the estimator already uses.
A row whose source shows a non-default path (its device line: "matrix cores: none" on a GPU whose default has them)
says so in `vulkan_path` (the RTX 3090 row of PR #14903, set after its +65% error was seen; only this script reads it).

Candidates (terms; each a per-backend coefficient, fitted as weak_structures.py does): flops = FLOPs over the listed
peak (the model before this pass); kpath = over the peak of each type's path (kpath_vk: Vulkan only, kpath_rocm: ROCm
only); traffic = (weight bytes + weights x 1 byte) / 128 over spec bandwidth, the bytes a tiled matmul moves per
prompt token (estimate/kernel_path.py), "traffic=1" at coefficient 1 (derived, not fitted); kpath_dp4a_type = kpath
with each type on a dp4a part at the dp4a peak x its CUDA MMQ unpacking rate over Q4_0's. Order of writing: kpath
first (scored: Vulkan's blind median worse), then traffic (written after the baseline's residuals, Strix Halo's above
all, were seen), then traffic=1, then kpath_dp4a_type (after the RX 6800 K-quant rows were seen at +110..+135%).
SHIPPED (ROCm only; Vulkan keeps `flops`): kpath_dp4a_type + traffic=1, the fifth pass's model. Session 11 changed the
shipped ROCm prefill (build-dated paths, MMQ's scale epilogue: docs/methodology.md 5b-rocm); this script stays the
record of the fifth pass, and tests compare it with the estimator inside kernel_path.fifth_pass().
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import fit_speed as F  # noqa: E402
import weak_backends as W  # noqa: E402
import weak_structures as S  # noqa: E402
from selfhost_advisor.estimate.kernel_path import FLOAT_TYPES  # noqa: E402
from selfhost_advisor.estimate.speed import family  # noqa: E402

BACKENDS = ("rocm", "vulkan")
VK_MMQ_TYPES = frozenset({"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "MXFP4", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
COOPMAT_ARCH = ("RDNA 3", "RDNA 4", "Xe2")
INT_DOT_ARCH = ("RDNA 2", "GCN 5.1")


@lru_cache(maxsize=1)
def _overrides() -> dict:
    import yaml

    rows = yaml.load(F.PUBLISHED.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa
    return {(r["hardware"], r["backend"], r["quant"], r["test"], float(r["tokens_per_s"])): r["vulkan_path"]
            for r in rows if r.get("vulkan_path")}


def vulkan_path(r: F.Row) -> str:
    """'coopmat', 'int_dot' or 'shader': the matmul path ggml-vulkan takes for block-quantized weights."""
    over = _overrides().get((r.hardware, r.backend, r.quant, r.test, r.measured))
    if over:
        return over
    d = r.machine.devices[0]
    if d.vendor == "nvidia":
        return "coopmat"
    arch = W.architecture(r)
    if arch.startswith(COOPMAT_ARCH):
        return "coopmat"
    return "int_dot" if arch.startswith(INT_DOT_ARCH) else "shader"


def _int_dot_peak(r: F.Row) -> float:
    lanes, _ = S._lanes_clock(r)
    hz = F._clock_hz(r)
    if r.machine.devices[0].vendor == "nvidia":
        from selfhost_advisor.catalog.hardware import profile_by_id

        p = profile_by_id(r.machine.devices[0].matched_profile)
        return float(p.raw["cuda_cores"]) * 4 * hz
    return lanes * 8 * hz


def kpath_feature(r: F.Row, flops_feature: float, rocm: bool = True, vulkan: bool = True,
                  dp4a_by_type: bool = False) -> float:
    """FLOPs over the peak of the path each type takes, by weight share, over the measured time (flops_feature is
    FLOPs / listed peak / measured time)."""
    from selfhost_advisor.estimate.speed import _device_flops

    totals = {ty: w for ty, (w, _) in F._matrix_totals(r, head=False).items()}
    fp16 = _device_flops(r.machine.devices[0], True) or 1.0
    arch = W.architecture(r)
    total = sum(totals.values())
    out = 0.0
    for ty, w in totals.items():
        peak = fp16
        if family(r.backend) == "rocm" and rocm and ty not in FLOAT_TYPES:
            peak = S._int8_peak(r, arch, fp16) if S._rocm_path(arch, ty) == "mmq" else fp16
            if dp4a_by_type and arch in S._DP4A_ARCH and S._rocm_path(arch, ty) == "mmq":
                peak *= _mmq_rate(ty) / _mmq_rate("Q4_0")
        elif family(r.backend) == "vulkan" and vulkan and ty in VK_MMQ_TYPES and vulkan_path(r) == "int_dot":
            peak = _int_dot_peak(r)
        out += flops_feature * w / total * fp16 / peak
    return out


def _mmq_rate(ty: str) -> float:
    from selfhost_advisor.estimate.speed import _rate, _rate_table, efficiency

    return _rate(ty, _rate_table(efficiency("cuda").mmq))


def features(r: F.Row) -> dict[str, float]:
    f = S.features(r)
    f["kpath"] = kpath_feature(r, f["flops"])
    f["kpath_vk"] = kpath_feature(r, f["flops"], rocm=False)
    f["kpath_rocm"] = kpath_feature(r, f["flops"], vulkan=False)
    f["traffic"] = traffic_feature(r)
    f["kpath_dp4a_type"] = kpath_feature(r, f["flops"], vulkan=False, dp4a_by_type=True)
    return f


def traffic_feature(r: F.Row) -> float:
    """Bytes a prompt token moves through memory in a tiled matmul, over spec bandwidth, over the measured time: each
    weight tile is read once per tile of tokens and each token's activations (Q8_1 or FP16, about 1 byte per input
    element) once per tile of weight rows, so per token (weight bytes + weights x 1 byte) / tile (128, the tile edge of
    ggml's MMQ and mul_mm). The coefficient is what the caches (L2, Infinity Cache) do not absorb."""
    totals = F._matrix_totals(r, head=False)
    nbytes = sum(b + w for w, b in totals.values()) / 128
    return nbytes / r.machine.devices[0].bandwidth_bytes_per_s * r.measured


SHIPPED = ("kpath_dp4a_type", "traffic=1")
CANDIDATES = (("flops",), ("kpath_vk",), ("kpath_rocm",), ("kpath",), ("kpath", "mmq"), ("kpath", "cycles"),
              ("flops", "traffic"), ("kpath", "traffic"), ("kpath_rocm", "traffic"), ("kpath", "mmq", "traffic"),
              ("kpath_rocm", "traffic=1"), ("flops", "traffic=1"), ("kpath", "traffic=1"),
              ("kpath_dp4a_type", "traffic=1"))


def _fit_fixed_traffic(rows, feats, base="kpath_rocm"):
    """1/efficiency by least squares with the traffic term at coefficient 1 (all of it at spec bandwidth)."""
    xs = [feats[id(r)][base] for r in rows]
    ys = [1.0 - feats[id(r)]["traffic"] for r in rows]
    return {base: sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs), "traffic": 1.0}


def score(terms) -> dict:
    rows = [r for r in F.fit_rows() if family(r.backend) in BACKENDS and r.kind == F.PROMPT]
    blind = [r for r in F.published_rows(before_session=12)  # the rows of this record's day
             if r.blind and family(r.backend) in BACKENDS and r.kind == F.PROMPT
             and S._has_lanes_clock(r)]
    feats = {id(r): features(r) for r in rows + blind}
    out = {}
    for be in BACKENDS:
        rs = [r for r in rows if family(r.backend) == be]
        loho, bl = [], []
        fitter = (lambda rows_, f_, t_: _fit_fixed_traffic(rows_, f_, t_[0])) if terms[-1] == "traffic=1" else S._fit_any
        terms = tuple(t if t != "traffic=1" else "traffic" for t in terms) if terms[-1] != "traffic=1" else terms
        full = fitter(rs, feats, terms)
        for hw in sorted({r.gpu for r in rs} | {r.gpu for r in blind if family(r.backend) == be}):
            train = [r for r in rs if r.gpu != hw]
            coef = fitter(train, feats, terms) if len(train) < len(rs) else full
            loho += [(r, 100 * S._predict(r, feats, coef, terms)) for r in rs if r.gpu == hw]
            bl += [(r, 100 * S._predict(r, feats, coef, terms)) for r in blind if r.gpu == hw and family(r.backend) == be]
        out[be] = {"loho_median": round(statistics.median(abs(e) for _, e in loho), 1), "loho_rows": len(loho),
                   "blind_median": round(statistics.median(abs(e) for _, e in bl), 1) if bl else None,
                   "blind_rows": len(bl), "coefficients": {k: float(f"{v:.3g}") for k, v in full.items()},
                   "loho": [(r.hardware, r.model_id, r.quant, r.test, round(e, 1)) for r, e in loho],
                   "blind": [(r.hardware, r.model_id, r.quant, r.test, round(e, 1)) for r, e in bl]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rows", action="store_true", help="every row's error")
    args = ap.parse_args()
    report = {"+".join(t): score(t) for t in CANDIDATES}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("prefill |error| medians: leave-one-hardware-out (rows in the fit) | blind (in_fit: false, fit without its GPU)")
    for name, per in report.items():
        print(f"  {name:14} " + "  ".join(f"{be} LOHO {v['loho_median']:5.1f}% ({v['loho_rows']}) blind "
                                           f"{v['blind_median']}% ({v['blind_rows']})" for be, v in per.items()))
        if args.rows:
            for be, v in per.items():
                for key in ("loho", "blind"):
                    for row in v[key]:
                        print(f"      {be:6} {key:5} {row[0][:24]:24} {row[1]:12} {row[2]:6} {row[3]:13} {row[4]:+7.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

