"""Stated limits on everything advisor reads: each bound is checked where the input is parsed, before allocating.

Why: a file, a flag or a server can claim any size. Each limit is far above anything real (the comment says what real
inputs reach) and low enough that the worst input within it is read in well under 2 s and 200 MB. docs/cli.md
("Limits") lists them; an input beyond one is bad input (exit 2) naming the limit.
"""
from __future__ import annotations

# Counts the user types (flags and hardware specs)
MIN_RATE_PER_S = 1e6  # the least byte or FLOP rate a spec sheet or probe file gives (1 MB/s, 1 MFLOPS): below, a unit slip
MAX_GPUS = 64  # --gpus, "Nx rtx4090" and the devices of a probe file; the largest real nodes hold 8-16 GPUs
MAX_PARALLEL = 1024  # --parallel: Ollama's slots or vLLM's sequences (vLLM's default max_num_seqs is 256)
MAX_SEQS = 1 << 16  # vLLM --max-num-seqs (its default is 256; 1,024 on large GPUs)
MAX_BATCHED_TOKENS = 1 << 24  # vLLM --max-num-batched-tokens: at most a context's worth (MAX_CONTEXT)
MAX_UBATCH = 1 << 24  # --ubatch: llama.cpp caps n_ubatch at n_batch, itself capped at n_ctx (src/llama-context.cpp)
MAX_CONTEXT = 1 << 24  # --context: 16M tokens; the longest real context windows are 10M (Llama 4 Scout)
# a name read from a file (a probe's device, CPU or machine name; a GGUF's general.name): real ones are under 60 characters; a custom spec's
# name= is cut to 80 (catalog/custom_hw.py). A 200,000-character device name printed 2,500 lines of 'Hardware'
MAX_FILE_NAME_CHARS = 120
MAX_NUMBER_CHARS = 40  # any number typed on the command line: "1e9", "0.25", 20 digits; longer is not a number
MIN_COLUMNS = 40  # narrower (COLUMNS=1, a terminal reporting 5 columns) is drawn at this: one character a line was unreadable
MAX_COLUMNS = 1000  # COLUMNS (terminal width) honoured up to this; wider is read as this (rich overflows on 10^20)
MAX_FLOAT = 1e15  # any float flag: $1e15, 1e15 tokens/s, 1e15 hours are all far beyond real values
MAX_LIST_VALUES = 256  # distinct values of serve --concurrency / cost --cloud, a row each (real: ~10); each costs
# ~1.4 ms (a serving point) to ~4 ms (a priced API): 5,000 levels were 7 s of CPU, 3,000 --cloud gpt-4o 11.6 s

# Files read
MAX_PROBE_FILE_BYTES = 1 << 20  # a saved `advisor probe --json`: a few KB (8 GPUs with details: ~10 KB)
MAX_SPEC_YAML_BYTES = 64 << 10  # a spec sheet in YAML (--hardware box.yaml): ~200 B; PyYAML parses ~20 KB per 0.1 s
MAX_MANIFEST_BYTES = 1 << 20  # an Ollama manifest: about 1 KB
MAX_CACHE_ENTRY_BYTES = 64 << 20  # one of advisor's own Hub cache entries (the largest is a parsed GGUF header)
MAX_DEVICE_ENTRIES = MAX_GPUS  # devices and other_devices of a probe file, each
MAX_MIG_INSTANCES = 64  # MIG instances of one GPU (an H100 has at most 7)
MAX_LIST_ITEMS = 4096  # CPU flags and warnings of a probe file (a CPU reports about 150 flags)

# GGUF headers (local files, Ollama blobs and Hub files alike)
MAX_GGUF_TENSORS = 1 << 16  # tensors in one file: DeepSeek-V3 has 1,025, Llama 3.1 405B 1,138
MAX_GGUF_KEYS = 1 << 16  # metadata keys: real files hold 20-60
MAX_GGUF_ARRAY = 1 << 21  # items in one metadata array: token lists reach 262,144 (Gemma 3), merges ~500k
MAX_GGUF_STRINGS = 1 << 21  # strings in all metadata arrays: Llama 3 holds ~410k (tokens and merges); bounds the time
MAX_GGUF_STRING = 1 << 24  # bytes in one metadata string (a chat template is ~10 KB; tokens a few bytes)
MAX_GGUF_NESTING = 4  # arrays inside arrays: real files never nest (llama.cpp's reader refuses nested arrays)
MAX_GGUF_KEPT = 1 << 16  # metadata array items kept in memory over all keys (longer arrays keep their length only)
MAX_GGUF_KEPT_STRING = 1 << 20  # a string value longer than this is kept as its first MiB only
MAX_GGUF_INT = 1 << 40  # any count or dimension read from metadata (layers, widths, vocabulary, context)

# The Hugging Face Hub
MAX_HUB_JSON_BYTES = 16 << 20  # repository info, config.json, the safetensors index (DeepSeek-V3's index: 9 MB)
MAX_SAFETENSORS_HEADER = 16 << 20  # safetensors allows 100 MB; real shard headers are under 1 MB
MAX_HUB_RANGE_BYTES = 64 << 20  # one range read of a GGUF header (the reader asks for at most 64 MiB at a time)
