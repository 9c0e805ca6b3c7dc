"""Vision projectors of Qwen3-VL and Llama 4 (estimate/projector.py), counted tensor by tensor from the transformers
module layout of each vision tower (config values: data/engines.yaml vision_projectors, each with its source)."""
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.projector import has_vision, projector

F16, F32 = 2, 4


def _bytes(tensors, f32=(), matrix=F16):
    # an mmproj file: matrices F16 (or Q8_0), vectors (biases, norms, the class token) and the tensors in f32 F32
    return sum((matrix if len(shape) > 1 and i not in f32 else F32) * _n(shape) for i, shape in enumerate(tensors))


def _n(shape):
    out = 1
    for x in shape:
        out *= x
    return out


def _qwen3vl_tensors(depth, d, ff, out, n_deepstack, positions=2304, patch=16, temporal=2):
    t = [(d, 3, temporal, patch, patch), (d,), (positions, d)]  # visual.patch_embed.proj (Conv3d + bias), pos_embed
    for _ in range(depth):  # visual.blocks.N: norm1, norm2, attn.qkv, attn.proj, mlp.linear_fc1, mlp.linear_fc2
        t += [(d,), (d,), (d,), (d,), (3 * d, d), (3 * d,), (d, d), (d,), (ff, d), (ff,), (d, ff), (d,)]
    merger = [(4 * d, 4 * d), (4 * d,), (out, 4 * d), (out,)]  # linear_fc1, linear_fc2
    t += [(d,), (d,)] + merger  # visual.merger.norm over d
    for _ in range(n_deepstack):  # visual.deepstack_merger_list.N: norm over 4d (after the 2x2 shuffle)
        t += [(4 * d,), (4 * d,)] + merger
    return t


def test_qwen3_vl_8b_tower_is_its_tensors():
    # Qwen3-VL-8B vision_config: depth 27, hidden 1152, intermediate 4304, out_hidden_size 4096, 3 deepstack layers
    m = get("qwen3-vl:8b")
    assert projector(m, mmproj_file=True).weights_bytes == _bytes(_qwen3vl_tensors(27, 1152, 4304, 4096, 3), f32=(0, 2))


def test_qwen3_vl_small_and_moe_towers_project_into_their_own_text_width():
    # 2B/4B: depth 24, hidden 1024, intermediate 4096; the merger's output is the text model's hidden size
    for cid, width in (("qwen3-vl:2b", 2048), ("qwen3-vl:4b", 2560)):
        assert get(cid).hidden_size == width
        assert projector(get(cid), mmproj_file=True).weights_bytes == _bytes(
            _qwen3vl_tensors(24, 1024, 4096, width, 3), f32=(0, 2))
    moe = get("qwen3-vl:30b")  # 30B-A3B: out_hidden_size 2048
    assert projector(moe, mmproj_file=True).weights_bytes == _bytes(_qwen3vl_tensors(27, 1152, 4304, 2048, 3), f32=(0, 2))


def test_qwen3_vl_q8_0_mmproj_files_match_their_published_sizes():
    # mmproj-Qwen3VL-2B-Instruct-Q8_0.gguf 445,053,216 B and mmproj-Qwen3VL-4B-Instruct-Q8_0.gguf 453,974,304 B (exact
    # sizes in a stored test fixture, code-index file id 59410262500): Q8_0 matrices (34 bytes per 32 weights), the
    # patch and position embeddings F32 (with them F16 the estimate is 7.9 MB, 1.8%, short), plus ~19 KB of header
    for cid, real in (("qwen3-vl:2b", 445_053_216), ("qwen3-vl:4b", 453_974_304)):
        est = projector(get(cid), mmproj_file=True, matrix_bytes=34 / 32).weights_bytes
        assert 0 < real - est < 32_000, (cid, real - est)


def test_llama4_tower_is_its_tensors():
    d, ff, p, pos = 1408, 5632, 14, (336 // 14) ** 2 + 1
    t = [(d, 3 * p * p), (d,), (pos, d), (d,), (d,), (d,), (d,)]  # patch linear, class token, positions, ln_pre/post
    for _ in range(34):  # q, k, v, o and fc1, fc2 with biases; input and post-attention LayerNorms
        t += [(d, d), (d,)] * 4 + [(ff, d), (ff,), (d, ff), (d,), (d,), (d,), (d,), (d,)]
    adapter = [(4096, ff), (4096, 4096)]  # vision_adapter.mlp fc1, fc2 (no biases)
    engine_only = _bytes(t + adapter)
    m = get("llama4:scout")
    assert projector(m, mmproj_file=False).weights_bytes == engine_only
    assert projector(m, mmproj_file=True).weights_bytes == engine_only + F16 * 4096 * m.hidden_size  # linear_1
    assert has_vision(get("llama4:maverick"))


def test_llamacpps_4096_token_cap_sets_qwen3_vl_graph():
    # llama.cpp clip.cpp set_limit_image_tokens(8, 4096) for the Qwen-VL towers: 4096 tokens of 2x2 patches = 16384
    # patches; without flash attention 16 heads of f32 scores over them, with it the MLP (4304) and 3 d-wide tensors
    m = get("qwen3-vl:8b")
    fa = 4 * 16384 * (4304 + 3 * 1152)
    assert projector(m, mmproj_file=True).graph_bytes == 4 * (16384 * 16 * 16 * 3 + 1152 * 16 + 16384 * 16384 * 16) + fa
    assert projector(m, mmproj_file=True, flash_attention=True).graph_bytes == fa
    # --image-tokens 1024: a 1024 px image, 4096 patches
    assert projector(m, mmproj_file=True, image_tokens=1024).graph_bytes == (
        4 * (1024 * 1024 * 3 + 1152 * 16 + 4096 * 4096 * 16) + 4 * 4096 * (4304 + 3 * 1152))


def _qwen35_tower_elements(depth, d, ff, out, positions=2304, patch=16, temporal=2):
    block = 4 * d * d + 2 * d * ff + 4 * d + ff + d + 4 * d  # qkv + proj, fc1/fc2, their biases, two LayerNorms
    merger = 2 * d + 16 * d * d + 4 * d + 4 * d * out + out  # norm (w, b), fc1 4d x 4d, fc2 4d x out, biases
    return depth * block + d * 3 * temporal * patch * patch + d + positions * d + merger


def test_qwen35_towers_are_qwen3_vl_without_deepstack():
    # Qwen3.5-397B-A17B's checkpoint holds 456,010,480 vision parameters (a stored shard audit, code-index file ids
    # 69814713714 / 69522823023); Qwen3.5-9B's total 9,409,813,744 is its text model + the same tower
    # (code-index file ids 52490800823, 69023165690)
    from selfhost_advisor.estimate.tensors import count_params

    assert _qwen35_tower_elements(27, 1152, 4304, 4096) == 456_010_480
    assert count_params(get("qwen3.5:9b")) + _qwen35_tower_elements(27, 1152, 4304, 4096) == 9_409_813_744
    for cid, (depth, d, ff) in (("qwen3.5:0.8b", (12, 768, 3072)), ("qwen3.5:4b", (24, 1024, 4096)),
                                ("qwen3.5:397b", (27, 1152, 4304))):
        m = get(cid)
        n = _qwen35_tower_elements(depth, d, ff, m.hidden_size)
        f32 = d * 3 * 2 * 16 * 16 + 2304 * d  # the patch and position embeddings, kept F32 (qwen3vl-small's check)
        vectors = depth * (9 * d + ff) + d + 2 * d + 4 * d + m.hidden_size  # biases and norms, F32
        assert projector(m, mmproj_file=True).weights_bytes == 2 * (n - f32 - vectors) + 4 * (f32 + vectors)


def test_vllm_builds_the_tower_from_its_config_when_the_catalog_states_no_text_params():
    # Qwen3.5-9B in BF16: 2 x 9,409,813,744 = 18,819,627,488 B, the bytes a stored load log gives for the checkpoint
    # (code-index file id 70987549510); Mistral Small 3.2 on vLLM v0.11.0 logged 44.76 GiB of weights, Pixtral tower
    # included (llm-d-benchmark, data/engine_logs.yaml)
    from selfhost_advisor.api import fit

    assert fit("qwen3.5:9b", "h100-sxm", quant="BF16", engine="vllm").options[0].memory.weights_bytes == 18_819_627_488
    w = fit("mistral-small3.2:24b", "h100-sxm", quant="BF16", engine="vllm").options[0].memory.weights_bytes
    assert abs(w / (44.76 * 2**30) - 1) < 0.002


def test_qwen36_27b_mmproj_and_its_warmup_graph_against_a_llama_server_log():
    # A llama-server log of unsloth's Qwen3.6-27B mmproj-BF16.gguf on an RTX 5090 (code-index file id 56678392724):
    # 334 tensors, "model size: 887.99 MiB" (1152 x 27, projection_dim 5120); flash attention on, warm-up image
    # 1472 x 1472 (92^2 patches of 16 px = 2116 tokens of 2x2), "CUDA0 compute buffer size = 248.10 MiB"
    m = get("qwen3.6:27b")
    assert round(projector(m, mmproj_file=True).weights_bytes / 2**20, 2) == 887.99
    graph = projector(m, mmproj_file=True, image_tokens=2116, flash_attention=True).graph_bytes
    assert graph == 4 * 8464 * (4304 + 3 * 1152)
    assert abs(graph / 2**20 / 248.10 - 1) < 0.015  # ours 250.55 MiB, +1.0%
    # the same tower without flash attention (a Tesla P100 log quoted in a parser's tests, code-index file id
    # 58091952734): "allocating 4657.81 MiB", the scores of 16 heads beside the block tensors; ours 4647.93, -0.2%
    plain = projector(m, mmproj_file=True, image_tokens=2116).graph_bytes
    assert abs(plain / 2**20 / 4657.81 - 1) < 0.005


def test_qwen3_vl_30b_f16_mmproj_differs_only_by_its_f16_patch_kernels():
    # An ik_llama.cpp log of Qwen3-30B-mmproj-F16.gguf (code-index file id 39535847655): 352 tensors, "model size:
    # 1033.29 MiB", its last tensor v.position_embd (f32, 10,616,832 B) at offset 1,072,862,144. That file keeps the
    # two 1152 x 3 x 16 x 16 patch kernels F16 where the files we count (Qwen3-VL Q8_0, Qwen3.6 BF16) keep them F32:
    # our figure less 1152 x 1536 x 2 B is the file's data to the byte.
    w = projector(get("qwen3-vl:30b"), mmproj_file=True).weights_bytes
    assert w - 1152 * 1536 * 2 == 1_072_862_144 + 10_616_832
    assert round((w - 1152 * 1536 * 2) / 2**20, 2) == 1033.29


def test_qwen25vl_7b_mmproj_is_the_logged_allocation():
    # A llama-server log on a Radeon Pro VII (code-index file id 51961927824): Qwen2.5-VL 7B's mmproj, 32 x 1280
    # (3420), projection_dim 3584, "model size: 1291.40 MiB", "failed to allocate ROCm0 buffer of size 1354132480"
    w = projector(get("qwen2.5vl:7b"), mmproj_file=True).weights_bytes
    assert round(w / 2**20, 2) == 1291.40
    assert 0 <= 1_354_132_480 - w <= 1024  # the buffer's alignment padding
