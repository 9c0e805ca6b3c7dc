"""DeepSeek sparse attention in vLLM (estimate/serving/attention.py dsa_attention_flops): the sparse FlashMLA kernels run
the absorbed 576 / 512 form over all index_topk candidates of every token, prompt or decoding, with the GPU's heads
padded to 64 (Hopper) or 128 (Blackwell); the lightning indexer's FP8 logits run on every GPU over the whole depth."""
from __future__ import annotations

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.attention import dsa_attention_flops
from selfhost_advisor.estimate.serving.step import step_seconds
from selfhost_advisor.estimate.vllm import get_vllm_quant

H200 = machine_from_profile(get_profile("h200"), 8)
B200 = machine_from_profile(get_profile("b200"), 8)
A100 = machine_from_profile(get_profile("a100-80gb"), 8)


def test_deepseek_v32_by_hand():
    v32 = get("deepseek-v3.2:671b")
    attention, logits = dsa_attention_flops(v32, H200, 8, 1000)
    # 128 heads / TP 8 = 16 a GPU, padded to the kernel's 64; 2,048 candidates; QK over 512 + 64, PV over 512; 61 layers
    assert attention == 2 * 64 * 2048 * (512 + 64 + 512) * 61
    # the indexer, replicated: 64 heads of 128 over 1,000 cached tokens in each of the 61 layers
    assert logits == 2 * 64 * 128 * 1000 * 61
    # Blackwell pads to 128; a GPU without FlashMLA's constraint keeps its 16 heads
    assert dsa_attention_flops(v32, B200, 8, 1000)[0] == 2 * attention
    assert dsa_attention_flops(v32, A100, 8, 1000)[0] == attention / 4


def test_glm52_pads_eight_heads_and_indexes_in_its_own_layers():
    glm = get("glm-5.2:744b")
    attention, logits = dsa_attention_flops(glm, H200, 8, 2000)
    assert attention == 2 * 64 * 2048 * 1088 * 78  # 64 heads / 8 = 8 a GPU, computed as 64
    assert logits == 2 * 32 * 128 * 2000 * 21  # 21 of its 78 layers own an indexer; the others reuse its top-k


def test_models_without_dsa_keep_their_attention():
    assert dsa_attention_flops(get("deepseek-r1:671b-0528"), H200, 8, 1000) is None
    assert dsa_attention_flops(get("qwen3:235b"), H200, 8, 1000) is None


def test_a_v32_prompt_chunk_costs_more_than_r1s():
    q = get_vllm_quant("FP8")
    r1, v32 = get("deepseek-r1:671b-0528"), get("deepseek-v3.2:671b")
    chunk_r1 = step_seconds(r1, q, H200, 8, 0, 0, 8192, 1024)
    chunk_v32 = step_seconds(v32, q, H200, 8, 0, 0, 8192, 1024)
    # the same weights and MoE; the sparse kernel's padded, fixed-length walk makes V3.2's chunk 2.5x R1's here
    # (published mean TTFT of gpustack's 2K bursts: 45.7 s against R1's 28.9)
    assert chunk_v32 > 1.5 * chunk_r1


def test_decoders_pay_the_sparse_kernel_too(monkeypatch):
    from selfhost_advisor.estimate.serving import step as step_module

    q, v32 = get_vllm_quant("FP8"), get("deepseek-v3.2:671b")
    _, with_kernel = step_module._parts_seconds(v32, q, H200, 8, 256, 1500, 0.0, 0.0, 2)
    attention, _ = dsa_attention_flops(v32, H200, 8, 1500)
    # 256 decoders x 285 MFLOP a layer x 61 layers take at least that long at the H200's full 16-bit rate
    assert with_kernel >= 256 * attention / H200.devices[0].fp16_flops
    monkeypatch.setattr(step_module, "dsa_attention_flops", lambda *a: (0.0, 0.0))
    _, without = step_module._parts_seconds(v32, q, H200, 8, 256, 1500, 0.0, 0.0, 2)
    assert with_kernel > 1.2 * without  # the latent KV reads alone


def test_head_padding_follows_the_kernels_compute_capability_rule_not_a_profile_family():
    # vllm flashmla_sparse.py: prefill_padding = 128 if is_device_capability_family(100) else 64. The spec table's H20
    # (Hopper, sm_90) and B300 (Blackwell Ultra, sm_103) pad as H200 and B200 do; they were unpadded while the rule
    # read a family string. A probed GPU's own compute capability decides over its name.
    from selfhost_advisor.domain import GpuDetails
    from selfhost_advisor.record import replace
    from selfhost_advisor.estimate.serving.rates import cuda_major, dsa_head_padding

    def one(profile):
        return machine_from_profile(get_profile(profile), 1)

    assert [dsa_head_padding(one(p)) for p in ("h200", "h20-96-gb", "h100-pcie")] == [64, 64, 64]
    assert [dsa_head_padding(one(p)) for p in ("b200", "b300")] == [128, 128]
    assert [dsa_head_padding(one(p)) for p in ("a100-80gb", "rtx-4090", "rtx-5090", "mi300x")] == [1, 1, 1, 1]
    assert [cuda_major(one(p)) for p in ("rtx-4090", "rtx-5090", "jetson-t5000", "mi300x")] == [8, 12, 11, None]
    v32 = get("deepseek-v3.2:671b")
    h20x8 = machine_from_profile(get_profile("h20-96-gb"), 8)
    assert dsa_attention_flops(v32, h20x8, 8, 1000)[0] == dsa_attention_flops(v32, H200, 8, 1000)[0]
    m = one("rtx-4090")
    probed = replace(m, devices=(replace(m.devices[0], details=GpuDetails(compute_capability="9.0")),))
    assert cuda_major(probed) == 9 and dsa_head_padding(probed) == 64
