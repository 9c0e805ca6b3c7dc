"""Mamba-2's SSM_SCAN token loop in prompt processing (data/speed.yaml recurrent_prefill_step.mamba2; docs/methodology.md
5b-ssm30): the per-token step of each Mamba-2 layer reproduces the kernel timings the constants come from, follows
the shader's build history, and drops out where ggml-cuda's chunked SSD path replaces the loop."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate import kernel_path, vulkan_path
from selfhost_advisor.estimate.speed_gpu import recurrent_prefill_seconds
from selfhost_advisor.record import replace

# test-backend-ops SSM_SCAN(d_state=128, head_dim=64, n_head=48, n_seq_tokens=512): one Granite-4.0-H-sized layer
# (128 x 3072 state elements) over 512 tokens, us per run, as the PRs print them.
PR18630_RTX4070_BEFORE_US = 910.72
PR18630_RTX4070_AFTER_US = 495.45


def _device(spec: str, backend: str):
    p, k, link = parse_spec(spec)
    m = machine_from_profile(p, k, 128 * 2**30, link)
    return replace(m.devices[0], backend=backend)


def _per_layer_token(device, model) -> float:
    layers = sum(1 for i in range(model.n_layers) if model.is_recurrent(i))
    return recurrent_prefill_seconds(device, model, 0, model.n_layers) / layers


def test_granite_layer_on_rtx4070_vulkan_reproduces_the_pr_timings_by_build():
    granite = get("granite4:tiny-h")
    assert granite.ssm.d_state * granite.ssm.d_inner == 128 * 64 * 48  # the timed shape
    d = _device("rtx 4070", "vulkan")
    with vulkan_path.as_of_build("2026-02-01"):  # PR #18630's subgroup-per-row shader
        assert _per_layer_token(d, granite) == pytest.approx(PR18630_RTX4070_AFTER_US * 1e-6 / 512, rel=0.01)
    with vulkan_path.as_of_build("2025-12-01"):  # PR #16645's SPLIT_H shader
        assert _per_layer_token(d, granite) == pytest.approx(PR18630_RTX4070_BEFORE_US * 1e-6 / 512, rel=0.01)
    with vulkan_path.as_of_build("2025-10-20"):  # PR #16463's shader: priced no cheaper than #16645's
        assert _per_layer_token(d, granite) >= PR18630_RTX4070_BEFORE_US * 1e-6 / 512 * 0.99
    with vulkan_path.as_of_build("2025-10-01"):  # no SSM shaders yet: the op ran on the CPU, not this term
        assert recurrent_prefill_seconds(d, granite, 0, granite.n_layers) == 0.0


def test_cuda_rocm_metal_and_sycl_pay_no_scan_term():
    """CUDA / ROCm were priced from PR #18505's laptop timing and not shipped (the RTX 5090 CUDA rows read worse),
    Metal and SYCL have no kernel timing read: none of them charges the loop, at any build."""
    granite = get("granite4:tiny-h")
    for spec, backend in (("rtx 4050 laptop", "cuda"), ("rx 7900 xtx", "rocm"), ("m3 max 128gb", "metal"),
                          ("arc b580", "sycl")):
        d = _device(spec, backend)
        for date in ("2025-09-01", "2026-03-01", None):
            with kernel_path.at_build(date):
                assert recurrent_prefill_seconds(d, granite, 0, granite.n_layers) == 0.0, (spec, date)
    vk = _device("rtx 4050 laptop", "vulkan")  # the same card under Vulkan does
    assert recurrent_prefill_seconds(vk, granite, 0, granite.n_layers) > 0.0


def test_scales_with_state_elements_and_counts_only_mamba_layers():
    d = _device("rtx 5090", "vulkan")
    granite, nemotron = get("granite4:tiny-h"), get("nemotron-3-nano:30b")
    with vulkan_path.as_of_build("2026-05-03"):
        g, n = _per_layer_token(d, granite), _per_layer_token(d, nemotron)
        # Nemotron-3-Nano: 64 heads x 64 x 128 state elements against Granite's 48 x 64 x 128
        assert n / g == pytest.approx(4096 / 3072, rel=1e-9)
        attention_only = [i for i in range(nemotron.n_layers) if not nemotron.is_recurrent(i)]
        assert all(recurrent_prefill_seconds(d, nemotron, i, 1) == 0.0 for i in attention_only)


def test_no_term_for_dense_models():
    llama = get("llama3.1:8b")
    assert recurrent_prefill_seconds(_device("rtx 4070", "vulkan"), llama, 0, llama.n_layers) == 0.0


def test_vulkan_prompt_rate_of_a_mamba_hybrid_pays_the_scan_on_top():
    """End to end (estimate_speed): Nemotron-3-Nano's prompt time per token on an RTX 5090 under Vulkan grows by
    exactly the scan's seconds when the term is on, and a dense model's does not move."""
    from selfhost_advisor.catalog import data as catalog_data
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate.speed import estimate_speed

    p, k, link = parse_spec("rtx 5090")
    m = machine_from_profile(p, k, 128 * 2**30, link)
    m = replace(m, devices=(replace(m.devices[0], backend="vulkan"),))

    def per_token(name: str) -> float:
        model = get(name)
        placement = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
        with vulkan_path.as_of_build("2026-05-03"), kernel_path.at_build("2026-05-03"):
            return 1.0 / estimate_speed(model, get_quant("Q4_K_M"), placement, m, n_ubatch=512).prefill_tokens_per_s

    nemotron = get("nemotron-3-nano:30b")
    with vulkan_path.as_of_build("2026-05-03"):
        scan = recurrent_prefill_seconds(m.devices[0], nemotron, 0, nemotron.n_layers)
    assert scan > 0.0
    with_term, dense_with = per_token("nemotron-3-nano:30b"), per_token("llama3.1:8b")
    rule = catalog_data.load("speed")["recurrent_prefill_step"]
    saved = rule.pop("mamba2")
    try:
        without, dense_without = per_token("nemotron-3-nano:30b"), per_token("llama3.1:8b")
    finally:
        rule["mamba2"] = saved
    assert with_term - without == pytest.approx(scan, rel=1e-6)
    assert dense_with == dense_without
