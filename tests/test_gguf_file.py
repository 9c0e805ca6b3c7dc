"""A GGUF file's bytes besides tensor data (estimate/gguf_file.py), against published exact file sizes."""
import accuracy  # benchmarks/accuracy.py

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate.gguf_file import metadata_bytes, tokenizer_bytes, tokenizer_kind


def test_gemma3_vocab_is_sentencepiece_and_qwen_llama3_are_bpe():
    # llama.cpp logs: Gemma 3 writes tokenizer.ggml.scores arr[f32,262144] and no merges; Qwen2/Llama 3 write merges
    assert tokenizer_kind(get("gemma3:270m")) == "spm"
    assert tokenizer_kind(get("llama2:7b")) == "spm"  # 32000-token SentencePiece
    assert tokenizer_kind(get("qwen2.5-coder:1.5b")) == "bpe"
    assert tokenizer_kind(get("llama3.1:8b")) == "bpe"


def test_llama3_tokenizer_is_larger_than_its_vocab_suggests():
    # 280147 merges at 128256 tokens (llama.cpp load logs) against one merge per token for a plain BPE vocab
    llama3, exaone = get("llama3.1:8b"), get("exaone4:1.2b")
    per_token = tokenizer_bytes(llama3) / llama3.vocab_size
    assert per_token > 1.5 * tokenizer_bytes(exaone) / exaone.vocab_size


def test_small_model_files_match_published_exact_sizes_with_the_tokenizer_counted():
    # exact bytes, held out from the one fit (Qwen2.5-Coder-1.5B): ggml-org gemma-3-270m-it-qat Q4_0 241,410,624;
    # LGAI-EXAONE EXAONE-4.0-1.2B Q4_K_M 812,437,792; ggml-org SmolLM3 Q4_K_M 1,915,305,312 (code-index 60914445973,
    # 23562944075). Without the tokenizer they were -2.7%, -0.5%, -0.4%.
    for cid, quant, real in (("gemma3:270m", "Q4_0", 241_410_624), ("exaone4:1.2b", "Q4_K_M", 812_437_792),
                             ("smollm3:3b", "Q4_K_M", 1_915_305_312)):
        m, q = get(cid), get_quant(quant)
        assert abs(accuracy.file_bytes(m, q) / real - 1) < 0.003, cid
        assert abs(accuracy.file_weights_bytes(m, q) / real - 1) > 0.003, cid  # the metadata is what closes it


def test_metadata_counts_tensor_infos_and_padding():
    from selfhost_advisor.estimate.tensors import Tensor
    m = get("gemma3:270m")
    base = metadata_bytes(m, [], [])
    one = metadata_bytes(m, [Tensor("blk.0.attn_q.weight", (640, 1024), 0)], [31])
    assert one - base == (8 + len("blk.0.attn_q.weight") + 4 + 16 + 4 + 8) + 1  # info + 1 byte of padding to 32


def test_glm46_gguf_nextn_block_has_no_own_embedding_or_head():
    # vllm-project/vllm#25993: GLM-4.6 lacks model.layers.92.shared_head.head; ubergarm's GLM-4.6 BF16 is 664.707 GiB
    m = get("glm-4.6:355b")
    assert m.gguf_nextn_shares_head and not get("glm-4.5:355b").gguf_nextn_shares_head
    assert abs(accuracy.file_bytes(m, get_quant("BF16")) / (664.707 * 2**30) - 1) < 0.0005


def test_glm45_gguf_repeating_layers_hold_the_nextn_embedding_and_head():
    # a GLM-4.5 GGUF's llama-server load log: "repeating layers = 133.360 GiB (3.211 BPW, 356.786 B parameters)"
    # (sokann/GLM-4.5-GGUF-3.2162bpw card): every blk.* tensor, the NextN block's own embedding and head included
    from selfhost_advisor.estimate.tensors import build_tensors, file_only_tensors
    m = get("glm-4.5:355b")
    blocks = [t for t in list(build_tensors(m)) + file_only_tensors(m) if t.name.startswith("blk.")]
    assert round(sum(t.n_elements for t in blocks) / 1e9, 3) == 356.786
