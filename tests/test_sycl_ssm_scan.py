"""Mamba's SSM_SCAN on the CPU where ggml-sycl has no kernel for it (estimate/sycl_path.ssm_scan_on_cpu,
ssm_fallback_seconds; data/speed.yaml sycl_paths.ssm_scan; docs/methodology.md 5b-sycl13)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import sycl_path
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace

B9039 = "74d6248f7 (9039) (2026-05-06), GGML_SYCL_F16=ON, no oneDNN, -fa 1"  # kyuz0's B70 run, before PR #22149


def test_the_scan_runs_on_the_cpu_before_pr_22149_and_for_shapes_the_kernel_refuses():
    nemo = get_model("nemotron-3-nano:30b")  # Mamba-2, d_state 128, 64 heads of 64
    with sycl_path.assume_build(B9039):
        assert sycl_path.ssm_scan_on_cpu(nemo)
    with sycl_path.assume_build("(2026-05-08)"):
        assert not sycl_path.ssm_scan_on_cpu(nemo)
    assert not sycl_path.ssm_scan_on_cpu(nemo)  # the newest build
    odd = replace(nemo, ssm=replace(nemo.ssm, d_state=64))  # the kernel takes d_state 128 or 256 only
    assert sycl_path.ssm_scan_on_cpu(odd)
    assert not sycl_path.ssm_scan_on_cpu(get_model("llama3.1:8b"))
    assert not sycl_path.ssm_scan_on_cpu(get_model("qwen3.5:9b"))  # Gated DeltaNet: its own op since PR #20455


def test_each_mamba_layer_pays_its_state_over_pcie_both_ways_and_once_in_ram():
    nemo = get_model("nemotron-3-nano:30b")
    state = 4 * 128 * 4096  # n_embd_s F32: d_state x d_inner, 2.1 MB
    layers = sum(1 for i in range(nemo.n_layers) if nemo.is_recurrent(i))
    assert layers == 23
    bw, host = 400e9, 60e9
    hand = layers * (2 * state / 25e9 + 2 * state / host - 2 * state / bw)
    with sycl_path.assume_build(B9039):
        assert sycl_path.ssm_fallback_seconds(nemo, range(nemo.n_layers), bw, host) == pytest.approx(hand)
        assert sycl_path.ssm_fallback_seconds(nemo, range(0, 1), bw, host) in (0.0, pytest.approx(hand / layers))
    assert sycl_path.ssm_fallback_seconds(nemo, range(nemo.n_layers), bw, host) == 0.0  # newest: on the GPU
    m = machine_from_profile(hw_names.resolve("arc pro b70"), 1)
    m = replace(m, devices=(replace(m.devices[0], backend="sycl"),))
    placement = Placement("gpu", nemo.n_layers + 1, nemo.n_layers + 1, 0, 0)
    with sycl_path.assume_build(B9039):
        old = estimate_speed(nemo, get_quant("Q4_K_M"), placement, m).decode_tokens_per_s
    with sycl_path.assume_build("(2026-05-08), GGML_SYCL_F16=ON, no oneDNN, -fa 1"):
        new = estimate_speed(nemo, get_quant("Q4_K_M"), placement, m).decode_tokens_per_s
    # 23 layers x 4.2 MB over a 25 GB/s link alone: 3.9 ms a token
    assert 1 / old - 1 / new > 23 * 2 * state / 25e9
