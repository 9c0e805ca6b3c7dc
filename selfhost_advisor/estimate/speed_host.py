"""The host CPU's rates in the speed estimate: its RAM bandwidth and FLOPS on the CPU family's spec-sheet scale
(measured figures rescaled), and the compute side of CPU decode (speed.yaml cpu_matvec). Read by CPU layers and by
the CPU part of a partial offload (estimate/speed_decode.py, estimate/speed_prefill.py).
"""
from __future__ import annotations

from ..domain import Machine
from .cpu_kernels import cpu_isa
from .speed_factors import _fitted, _speed_data, default_host
from .speed_work import _per_layer


def _measured(machine: Machine) -> dict | None:
    """data/speed.yaml measured_host when the host figures were measured here (advisor probe --measure)."""
    return _speed_data()["measured_host"] if machine.host_speed_source.startswith("measured") else None


def _host_bandwidth(machine: Machine) -> float:
    """Host RAM bandwidth on the CPU family's spec-sheet scale. A measured copy rate is already what streaming
    reaches, so it is rescaled to be used at measured_host's share instead of the spec-sheet share."""
    bw = float(machine.ram_bandwidth_bytes_per_s or default_host()["ram_bandwidth_gbps"] * 1e9)
    m = _measured(machine)
    return bw * float(m["bandwidth_efficiency"]) / _fitted("cpu").bandwidth if m else bw


def _host_flops(machine: Machine) -> float:
    """Host CPU FLOPS on the CPU family's spec-sheet scale (a measured GEMM rate: at measured_host's share)."""
    flops = float(machine.cpu_flops or default_host()["cpu_tflops"] * 1e12)
    m = _measured(machine)
    return flops * float(m["compute_efficiency"]) / _fitted("cpu").compute_quant if m else flops


def _cpu_matvec_seconds(layers: tuple, machine: Machine) -> float:
    """Seconds the CPU's quantized dot kernels need for `layers`' weights at this host's FP32 FLOPS (speed.yaml
    cpu_matvec): the compute side of CPU decode, which binds when few cores feed fast RAM."""
    rates = _speed_data().get("cpu_matvec")
    if not rates or not layers:
        return 0.0
    flops = float(machine.cpu_flops or default_host()["cpu_tflops"] * 1e12)
    per_flop = float(rates[cpu_isa(machine)]["weights_per_flop"])
    weights = sum(_per_layer(layers, lambda mats: float(sum(w for _, w, _ in mats))))
    return weights / (flops * per_flop)
