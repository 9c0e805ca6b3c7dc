"""The batched step's attention FLOPs over the layers that attend (session 20): a full-attention layer over every
cached token, a sliding-window layer over its window (vLLM skips the KV tiles outside it: FlashAttention's local
attention, the Triton unified kernel since vllm PR #24390), a Gated DeltaNet / Mamba-2 layer of a hybrid over none.
Before, every layer attended to the whole depth: 4x Qwen3.5's attention (8 of 32 layers attend), 2x gpt-oss's at long
prompts (12 of 24 layers slide over 128 tokens)."""
import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.attention import attention_flops


def per_layer(model):
    """QK^T and PV per attended token of one layer: 2 x 2 x heads x head_dim FLOPs."""
    return 4 * model.n_heads * model.head_dim


def test_a_dense_model_attends_with_every_layer_as_before():
    m = get("llama3.1:8b")  # 32 layers, 32 heads x 128, no window
    assert attention_flops(m, 1, 4096) == pytest.approx(32 * per_layer(m) * 4096)
    assert attention_flops(m, 2, 4096) == pytest.approx(32 * per_layer(m) * 4096 / 2)


def test_a_gated_deltanet_hybrid_attends_only_in_its_attention_layers():
    m = get("qwen3.5:9b")  # 32 layers: 24 Gated DeltaNet, 8 full attention (16 heads x 256)
    assert sum(m.has_attention(i) for i in range(m.n_layers)) == 8
    assert attention_flops(m, 1, 32000) == pytest.approx(8 * per_layer(m) * 32000)


def test_sliding_layers_stop_at_their_window():
    m = get("gpt-oss:20b")  # 24 layers, every other one sliding over 128 tokens, 64 heads x 64
    assert m.sliding_window == 128 and sum(m.is_sliding(i) for i in range(m.n_layers)) == 12
    assert attention_flops(m, 1, 100) == pytest.approx(24 * per_layer(m) * 100)  # inside the window: all layers
    assert attention_flops(m, 1, 16000) == pytest.approx(12 * per_layer(m) * 16000 + 12 * per_layer(m) * 128)
    # more depth never costs less, and past the window only the full layers grow
    xs = [attention_flops(m, 1, d) for d in (0, 64, 128, 129, 1000, 32000)]
    assert xs == sorted(xs)
    assert attention_flops(m, 1, 2000) - attention_flops(m, 1, 1000) == pytest.approx(12 * per_layer(m) * 1000)
