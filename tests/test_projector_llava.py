"""Vision towers of the LLaVA family, Qwen2.5-VL and MiniCPM-V (estimate/vision_towers.py), checked against published
projector sizes and against tensor lists written out here from llama.cpp's converters."""
import math
import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.resolve import resolve
from selfhost_advisor.estimate.projector import projector

F16, F32 = 2, 4
MIB = 2**20


def _bytes(tensors):
    # converters: 2-D .weight matrices and 4-D kernels F16, everything else (biases, norms, class token, query) F32;
    # a tensor given as ("f32", shape) is F32 whatever its rank
    total = 0
    for t in tensors:
        if t[0] == "f32":
            n = 1
            for x in t[1]:
                n *= x
            total += F32 * n
        else:
            n = 1
            for x in t:
                n *= x
            total += (F16 if len(t) > 1 else F32) * n
    return total


def _clip_vit_l_336_llava(n_embd, newline=False):
    d, ff = 1024, 4096
    t = [(d,), (d, 3, 14, 14), (577, d), (d,), (d,)]  # class_embd, patch_embd (no bias), position_embd, pre_ln w/b
    for _ in range(23):  # 24 CLIP blocks, the last popped (mm_vision_select_layer -2); post_layernorm skipped
        t += [(d, d), (d,)] * 4 + [(ff, d), (ff,), (d, ff), (d,)] + [(d,)] * 4
    t += [(n_embd, d), (n_embd,), (n_embd, n_embd), (n_embd,)]  # mm.0, mm.2 (llava.projector, mlp2x_gelu)
    return t + ([(n_embd,)] if newline else [])


def test_llava_7b_projector_is_ollamas_logged_595_49_mib():
    # ollama/ollama issue #2706 (llava:7b-v1.6): "clip_model_load: model size: 595.49 MB ... (377 tensors)", the MB
    # being MiB (ggml prints bytes / 1024 / 1024), f32 235 / f16 142 tensors
    w = projector(get("llava:7b"), mmproj_file=True).weights_bytes
    assert round(w / MIB, 2) == 595.49
    t = _clip_vit_l_336_llava(4096)
    assert len(t) == 377 and sum(len(x) > 1 for x in t) == 142
    assert w == _bytes(t)


def test_llava_1_5_7b_mmproj_within_1pct_of_the_published_file():
    # mys/ggml_llava-v1.5-7b mmproj-model-f16.gguf: 624 MB (code-index file id 53262363224); the header adds ~0.14 MB
    w = projector(get("llava:7b-v1.5"), mmproj_file=True).weights_bytes
    assert abs(w / 624e6 - 1) < 0.01


@pytest.mark.parametrize("cid,n_embd", [("llava:13b", 5120), ("llava:34b", 7168), ("llava-phi3:3.8b", 3072),
                                         ("llava-llama3:8b", 4096), ("bakllava:7b", 4096), ("llava:13b-v1.5", 5120),
                                         ("llava:7b-v1.6-vicuna", 4096)])
def test_llava_projection_follows_the_text_width(cid, n_embd):
    m = get(cid)
    assert m.hidden_size == n_embd
    assert projector(m, mmproj_file=True).weights_bytes == _bytes(_clip_vit_l_336_llava(n_embd))


def test_qwen25vl_tower_is_its_converted_tensors():
    d, ff, n_embd = 1280, 3420, 3584
    t = [(d, 3, 14, 14), (d, 3, 14, 14)]  # Conv3d (2, 14, 14) kernel split into patch_embd.weight and .weight.1
    for _ in range(32):  # q/k/v/out with biases, SwiGLU gate/up/down with biases, two RMSNorms
        t += [(d, d), (d,)] * 4 + [(ff, d), (ff,), (ff, d), (ff,), (d, ff), (d,), (d,), (d,)]
    t += [(d,), (4 * d, 4 * d), (4 * d,), (n_embd, 4 * d), (n_embd,)]  # merger ln_q, mm.0, mm.2
    assert projector(get("qwen2.5vl:7b"), mmproj_file=True).weights_bytes == _bytes(t)


def test_minicpm_v_2_6_resampler_keeps_its_sincos_table_in_f32():
    d, ff, n = 1152, 4304, 3584
    t = [(d, 3, 14, 14), (d,), (4900, d), (d,), (d,)]  # patch_embd + bias, 70x70 positions, post_ln
    for _ in range(27):
        t += [(d, d), (d,)] * 4 + [(ff, d), (ff,), (d, ff), (d,)] + [(d,)] * 4
    t += [("f32", (64, n)), ("f32", (4900, n))]  # resampler.query, pos_embed_k: not .weight -> F32
    t += [(n, n), (n, d)] + [(n, n), (n,)] * 4 + [(n,)] * 6  # proj, kv_proj, attn q/k/v/out + biases, 3 LayerNorms
    assert projector(get("minicpm-v:8b"), mmproj_file=True).weights_bytes == _bytes(t)


def test_ollama_estimate_counts_a_separate_projector_file_without_a_graph():
    # llm/memory.go (v0.11.10) projectorMemoryRequirements: a projector blob adds its tensors' bytes on GPU 0, no graph
    p = projector(get("llava:7b"), mmproj_file=False)
    assert p.separate_file and p.graph_bytes == 0
    q = projector(get("qwen2.5vl:7b"), mmproj_file=False)  # Ollama's own engine: VisionGraphSize's qwen25vl case
    n = 28 * 28 * 1280 // (14 * 14)
    assert not q.separate_file and q.graph_bytes == 4 * (2 * 28 * 28 * 1280 * 3 + n * 3 * 196 + n * n * 16 + 1280 * n)


@pytest.mark.parametrize("name,model_id,quant", [
    ("llava", "llava:7b", None), ("llava:latest", "llava:7b", None), ("llava:7b-v1.6", "llava:7b", None),
    # the tag names its LLaVA version (session 31): 1.5 and 1.6 Vicuna are separate entries (576 vs up to 2880 image
    # tokens), as the library's tags are (code-index file id 25561721601)
    ("llava:13b-v1.5-q4_0", "llava:13b-v1.5", "Q4_0"), ("llava:13b-v1.6-vicuna-q4_0", "llava:13b", "Q4_0"),
    ("llava:34b-v1.6-q4_K_M", "llava:34b", "Q4_K_M"),
    ("llava:7b-v1.6-vicuna-q4_0", "llava:7b-v1.6-vicuna", "Q4_0"), ("bakllava", "bakllava:7b", None),
    ("llava-llama3", "llava-llama3:8b", None), ("llava-phi3:latest", "llava-phi3:3.8b", None),
    ("qwen2.5vl", "qwen2.5vl:7b", None), ("qwen2.5vl:72b", "qwen2.5vl:72b", None),
    ("minicpm-v", "minicpm-v:8b", None), ("minicpm-v:8b-2.6-q4_0", "minicpm-v:8b", "Q4_0"),
    ("Qwen/Qwen2.5-VL-32B-Instruct", "qwen2.5vl:32b", None),
    # Ollama tags as stored scripts pull them (code-index file ids 6848260264, 41457298452, 42102318445, 21920617383)
    ("bakllava:7b-v1-q4_0", "bakllava:7b", "Q4_0"), ("bakllava:7b-v1-q8_0", "bakllava:7b", "Q8_0"),
    ("llava-llama3:8b-v1.1-fp16", "llava-llama3:8b", "F16"), ("llava-phi3:3.8b-mini-q4_0", "llava-phi3:3.8b", "Q4_0"),
    ("qwen2.5vl:3b-fp16", "qwen2.5vl:3b", "F16"), ("minicpm-v:8b-2.6-fp16", "minicpm-v:8b", "F16"),
    ("llava:7b-v1.6-mistral-q4_0", "llava:7b", "Q4_0"), ("llava:7b-v1.6-vicuna-fp16", "llava:7b-v1.6-vicuna", "F16"),
])
def test_vision_tags_resolve_offline(name, model_id, quant):
    r = resolve(name)
    assert r.model.id == model_id
    assert r.quant == quant


def test_models_use_case_vision_lists_the_new_families_and_each_carries_a_projector():
    import json

    from selfhost_advisor.cli import main
    from selfhost_advisor.estimate.projector import has_vision

    import io
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["models", "--use-case", "vision", "--family", "llava,bakllava,llava-llama3,llava-phi3,qwen2.5vl,minicpm-v",
                     "--json"]) == 0
    ids = {m["id"] for m in json.loads(buf.getvalue())["models"]}
    assert ids == {"llava:7b", "llava:7b-v1.5", "llava:7b-v1.6-vicuna", "llava:13b", "llava:13b-v1.5", "llava:34b",
                   "bakllava:7b", "llava-llama3:8b",
                   "llava-phi3:3.8b", "qwen2.5vl:3b", "qwen2.5vl:7b", "qwen2.5vl:32b", "qwen2.5vl:72b", "minicpm-v:8b"}
    assert all(has_vision(get(i)) for i in ids)


@pytest.mark.parametrize("name", ["llama3.2-vision", "llama3.2-vision:11b", "llama3.2-vision:90b-instruct-q4_K_M",
                                  "meta-llama/Llama-3.2-11B-Vision-Instruct"])
def test_llama32_vision_is_refused_by_the_default_engine(name, capsys):
    # llama.cpp has no mllama (tests/test_mllama.py: Ollama 0.4.0-0.29.x sizes it): exit 2, one line naming the releases
    # that run it, no Hub lookup for the Hub id
    from selfhost_advisor.cli import main

    assert main(["fit", name, "-H", "rtx-4090"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "mllama" in err and "--engine-version 0.29.0" in err and "gemma3:12b" in err


def test_towers_count_the_checkpoints_parameters():
    # text model + tower = the checkpoints' parameter counts in stored files: Qwen2.5-VL-7B 8,292,166,656 with
    # visual 676,550,144 (code-index file id 49095663873), 3B 3,754,622,976 (56724970731), the 32B (intermediate 3456)
    # 33,452,718,336 (62225960460); MiniCPM-V 2.6 8,099,175,152 (12439498600), whose mmproj adds the 70x70 x n_embd
    # sin-cos table that the checkpoint computes instead of storing
    from selfhost_advisor.estimate.projector import vision_config
    from selfhost_advisor.estimate.tensors import count_params
    from selfhost_advisor.estimate.vision_towers import tower_params

    def total(cid):
        m = get(cid)
        return count_params(m) + tower_params(vision_config(m), m.hidden_size)

    assert tower_params(vision_config(get("qwen2.5vl:7b")), 3584) == 676_550_144
    assert total("qwen2.5vl:7b") == 8_292_166_656
    assert total("qwen2.5vl:3b") == 3_754_622_976
    assert total("qwen2.5vl:32b") == 33_452_718_336
    assert total("minicpm-v:8b") - 70 * 70 * 3584 == 8_099_175_152


def test_llava_hf_checkpoint_is_text_plus_the_whole_clip_tower():
    # llava-hf/llava-1.5-7b-hf has 7,063,427,072 parameters (code-index file id 4065502446): the text model with a
    # 32064-row vocabulary, all 24 CLIP blocks and post_layernorm, the projector; the mmproj drops one block and the norm
    from selfhost_advisor.estimate.projector import vision_config
    from selfhost_advisor.estimate.tensors import count_params
    from selfhost_advisor.estimate.vision_towers import tower_params

    m = get("llava:7b-v1.5")
    d, ff = 1024, 4096
    block = 4 * d * d + 2 * d * ff + 4 * d + ff + d + 4 * d
    assert count_params(m) + 2 * 64 * 4096 + tower_params(vision_config(m), 4096) + block + 2 * d == 7_063_427_072


def test_vllm_loads_qwen25vl_7b_as_its_16_bit_checkpoint():
    # vLLM builds the vision tower with the model: BF16 weights = 2 x 8,292,166,656 = 16,584,333,312 B, the bytes a
    # stored script gives for the 7B checkpoint in BF16 (B7, code-index file id 62225960460)
    from selfhost_advisor.api import fit

    r = fit("qwen2.5vl:7b", "rtx4090", quant="BF16", engine="vllm")
    assert r.options[0].memory.weights_bytes == 16_584_333_312
    assert r.assumptions["projector"].startswith("tower in the weights")
    text = fit("qwen2.5vl:7b", "rtx4090", quant="Q4_K_M", engine="llamacpp")
    assert text.assumptions["projector"].startswith("projector not counted")


def test_clip_graph_with_and_without_flash_attention_against_llamacpps_gemma3_log():
    # ggml-org/llama.cpp PR #16837 ("clip : use FA"), Gemma 3 12B, one 896 px image: Metal compute buffer 1132.00 MiB
    # before, 121.25 MiB after. With FA: 4 x 4096 patches x (MLP 4304 + 3 x 1152) = 121.25 MiB. Without: the
    # 4096^2 x 16 heads of scores and the image (1033.25 MiB) beside those block tensors, 1154.50 MiB, +2.0%
    m = get("gemma3:12b")
    fa = projector(m, mmproj_file=True, flash_attention=True).graph_bytes
    assert abs(fa / (121.25 * MIB) - 1) < 0.001
    plain = projector(m, mmproj_file=True).graph_bytes
    assert plain == 4 * (896 * 896 * 3 + 1152 * 14 + 4096 * 4096 * 16) + fa
    assert 1.01 < plain / (1132.00 * MIB) < 1.03


def test_mistral_small_mmproj_is_llamacpps_logged_837_36_mib():
    # ggml-org/llama.cpp issue #16842: Mistral Small 3.2's mmproj "model size: 837.36 MiB" (Pixtral tower + patch
    # merger + two projections into the 5120-wide text model)
    w = projector(get("mistral-small3.2:24b"), mmproj_file=True).weights_bytes
    assert abs(w / (837.36 * MIB) - 1) < 0.0001


@pytest.mark.parametrize("cid,tokens", [("llava:7b", 2880), ("llava:7b-v1.5", 576), ("bakllava:7b", 576),
                                        ("llava:7b-v1.6-vicuna", 2880), ("llava:13b-v1.5", 576), ("llava:13b", 2880),
                                        ("gemma3:12b", 256), ("qwen2.5vl:7b", 4096), ("minicpm-v:8b", 640),
                                        ("llama3.1:8b", None)])
def test_each_model_states_the_tokens_of_one_image(cid, tokens):
    from selfhost_advisor.estimate.projector import image_tokens

    assert image_tokens(get(cid)) == tokens


def test_image_tokens_option_sizes_a_dynamic_tower_and_the_command():
    from selfhost_advisor.api import fit

    small = fit("qwen2.5vl:7b", "rtx4090", quant="Q4_K_M", image_tokens=256)
    big = fit("qwen2.5vl:7b", "rtx4090", quant="Q4_K_M", image_tokens=4096)
    assert small.request.images and small.assumptions["image_tokens"] == 256
    assert small.options[0].memory.projector_bytes < big.options[0].memory.projector_bytes
    assert "--image-max-tokens 256" in small.options[0].command
    fixed = fit("llava:7b-v1.5", "rtx4090", quant="Q4_K_M", image_tokens=576, context=4096)
    assert "--image-max-tokens" not in fixed.options[0].command  # LLaVA 1.5 has one image size
    short = fit("llava:7b", "rtx4090", quant="Q4_K_M", images=True, context=2048)
    assert any("2,880 tokens" in w and "2,048-token context" in w for w in short.warnings)


@pytest.mark.parametrize("value", ["0", "-5", "1048577", "abc"])
def test_bad_image_tokens_exit_2(value, capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "qwen2.5vl:7b", "-H", "rtx-4090", "--image-tokens", value]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_vision_model_whose_tower_is_not_sized_says_so():
    # Gemma 4 E4B's tower (768 wide, with audio) is not in data/engines.yaml vision_projectors: Ollama and vLLM load it
    # with the model, so their fits are short by the tower and say it; llama-server without --mmproj is text only
    from selfhost_advisor.api import fit

    ollama = fit("gemma4:e4b", "h100-sxm", quant="Q8_0", engine="ollama").assumptions["projector"]
    assert ollama.startswith("vision tower not sized") and "short" in ollama
    assert "text only" in fit("gemma4:e4b", "h100-sxm", quant="Q8_0").assumptions["projector"]
    assert fit("llama3.1:8b", "h100-sxm", quant="Q8_0", engine="ollama").assumptions["projector"] is None


# Ollama's library sizes of the vision families' defaults, text model and projector blob together (the tag lists as
# copied in Jeffser/Alpaca src/ollama_models.py, code-index file ids 4904807767, 54831980261): "4.7 GB" stands for
# 4.65-4.75 GB. The text GGUF at the quantization named, plus the f16 mmproj, lands in each range.
OLLAMA_VISION_SIZES = [("llava:7b", "Q4_0", 4.7, 0.05), ("llava:13b", "Q4_0", 8.0, 0.05), ("llava:34b", "Q4_0", 20, 0.5),
                       ("bakllava:7b", "Q4_0", 4.7, 0.05), ("llava-llama3:8b", "Q4_K_M", 5.5, 0.05),
                       ("minicpm-v:8b", "Q4_0", 5.5, 0.05)]


@pytest.mark.parametrize("cid,quant,gb,half", OLLAMA_VISION_SIZES)
def test_ollama_vision_blobs_are_text_plus_projector(cid, quant, gb, half):
    import accuracy  # benchmarks/accuracy.py: a GGUF file's bytes as llama-quantize writes it

    from selfhost_advisor.catalog.quants import get_quant

    m = get(cid)
    total = accuracy.file_bytes(m, get_quant(quant)) + projector(m, mmproj_file=True).weights_bytes
    assert (gb - half) * 1e9 <= total <= (gb + half) * 1e9, total / 1e9


def test_granite_vision_projects_four_siglip_layers_and_matches_ollamas_size():
    # llama.cpp docs/multimodal/granitevision.md: SigLIP 27 x 1152 (4304), vision_feature_layer [-24, -20, -12, -1]:
    # all 27 blocks kept, mm.0 reads the 4 layers concatenated (4608 -> 2048); Ollama's granite3.2-vision:2b is
    # 2.4 GB (a stored model list, code-index file id 56797294866): text Q4_K_M + projector
    import accuracy

    from selfhost_advisor.catalog.quants import get_quant

    d, ff, n = 1152, 4304, 2048
    t = [(d, 3, 14, 14), (d,), (729, d)]  # patch kernel + bias, 27 x 27 positions (no class token, no pre-LayerNorm)
    for _ in range(27):
        t += [(d, d), (d,)] * 4 + [(ff, d), (ff,), (d, ff), (d,)] + [(d,)] * 4
    t += [(n, 4 * d), (n,), (n, n), (n,), (n,)]  # mm.0, mm.2, image_newline
    m = get("granite3.2-vision:2b")
    w = projector(m, mmproj_file=True).weights_bytes
    assert w == _bytes(t)
    total = accuracy.file_bytes(m, get_quant("Q4_K_M")) + w
    assert 2.35e9 <= total <= 2.45e9
    assert resolve("granite3.2-vision").model.id == "granite3.2-vision:2b"
    assert resolve("granite3.2-vision:2b-fp16").quant == "F16"


def test_granite_vision_mmproj_matches_a_logged_file_once_its_pooling_head_is_added():
    # llama.cpp's granite vision notes (code-index file id 40481386912): granite-vision-3.1-2b-preview's
    # mmproj-model-f16.gguf, same SigLIP and text width, "model size: 851.17 MB" (MiB), 451 tensors, f32 282, f16 169.
    # That converter also wrote the SigLIP pooling head, which clip.cpp does not use: in_proj_weight stays F32 (its
    # name does not end in .weight), out_proj / fc1 / fc2 weights F16, probe and 6 vectors F32.
    d, ff = 1152, 4304
    head_f32 = [(3 * d, d), (1, 1, d), (3 * d,), (d,), (d,), (d,), (ff,), (d,)]
    head_f16 = [(d, d), (ff, d), (d, ff)]
    head = sum(math.prod(s) * 4 for s in head_f32) + sum(math.prod(s) * 2 for s in head_f16)
    w = projector(get("granite3.2-vision:2b"), mmproj_file=True).weights_bytes
    assert round((w + head) / 2**20, 2) == 851.17


def test_moondream2_text_and_projector_against_llamacpp_and_ollama():
    # llama.cpp issue #9066: moondream2's text GGUF (phi2) "model params = 1.42 B", F16 "2.64 GiB"; Ollama's
    # moondream:1.8b is 1.7 GB (Alpaca's copy of the library, code-index file id 4904807767): text Q4_0 + projector
    import accuracy

    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.tensors import count_params

    m = get("moondream:1.8b")
    assert round(count_params(m) / 1e9, 2) == 1.42
    assert abs(accuracy.file_bytes(m, get_quant("F16")) / 2**30 - 2.64) < 0.01
    total = accuracy.file_bytes(m, get_quant("Q4_0")) + projector(m, mmproj_file=True).weights_bytes
    assert 1.65e9 <= total <= 1.75e9
    assert resolve("moondream").model.id == "moondream:1.8b"
    assert resolve("moondream:1.8b-v2-fp16").quant == "F16"


def test_llava15_tensor_list_matches_a_logged_q4_0_mmproj():
    # Mozilla's llava-v1.5-7b llamafile as run in a stored log (code-index file id 19445609683):
    # llava-v1.5-7b-mmproj-Q4_0.gguf, "model size: 169.18 MB" (MiB), 377 tensors, f32 235, f16 1, q4_0 141. The same
    # tensor list as the F16 file our projector counts, with every 2-D tensor (position table included) at Q4_0
    # (18 bytes per 32) and the 4-D patch kernel left F16.
    t = _clip_vit_l_336_llava(4096)
    assert projector(get("llava:7b-v1.5"), mmproj_file=True).weights_bytes == _bytes(t)
    q4 = [s for s in t if len(s) == 2]
    f16 = [s for s in t if len(s) == 4]
    f32 = [s for s in t if len(s) == 1]
    assert (len(f32), len(f16), len(q4)) == (235, 1, 141)
    size = sum(math.prod(s) for s in q4) * 18 / 32 + sum(math.prod(s) for s in f16) * 2 + sum(map(math.prod, f32)) * 4
    assert round(size / MIB, 2) == 169.18
