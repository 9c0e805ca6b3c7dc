"""The bad-input contract CI relies on, through the real `advisor` process: exit 2, one line on stderr, nothing on stdout.

Each row is something a user (or a script) can get wrong. The check is the same for all of them: exit status 2
(errors.ExitCode.BAD_INPUT), stdout empty (a pipeline reading --json gets nothing, not half an object), stderr
exactly one line starting 'advisor: ' that names the input at fault, and never a traceback.
All rows run once in a module fixture; offline (HF_HUB_OFFLINE=1, --offline) with a private ADVISOR_HOME and an
empty Ollama folder. They run in this process (cliproc.run_inprocess: the same environment, folder and fresh
streams, without ~0.1 s of interpreter start and imports per row); the first row of each command also runs as a
real `advisor` process, and the two must agree byte for byte, so the entry point and the in-process runner are checked.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cliproc import isolated_env, run_all, run_inprocess

F = "{dir}"  # replaced by the fixture folder

# (argv, a piece of the input the one-line message must name, or None where there is nothing to name)
ROWS: list[tuple[list[str], str | None]] = [
    # fit: model names and files
    (["fit", "nosuchmodel"], "nosuchmodel"),
    (["fit", "wizardlm"], "wizardlm:7b-q4_0"),  # the library has no wizardlm:latest: its real tags, not a made-up default
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--gpu-memory-utilization", "1.5"], "(0, 1]"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--gpu-memory-utilization", "nan"], "--gpu-memory-utilization"),  # refused by the shared finite-number check
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--kv-cache", "q8_0"], "--kv-cache fp8"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "-q", "MXFP4"], "no MXFP4 checkpoint"),  # gpt-oss's released format only
    (["serve", "qwen3:8b", "-H", "h100-sxm", "--engine", "vllm", "-q", "MXFP4", "--prompt-tokens", "100", "--output-tokens", "100"], "no MXFP4 checkpoint"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--kv-cache-memory-bytes", "0GiB"], "--kv-cache-memory-bytes"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--kv-cache-memory-bytes", "20"], "no unit"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--kv-cache-memory-bytes", "20GiB"], "vLLM option"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--kv-cache", "fp8"], "--kv-cache q8_0"),
    (["fit", "llama3.1:8b", "-H", "4x h100-sxm", "--engine", "vllm", "--tp", "3"], "does not divide"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--max-num-seqs", "0"], "--max-num-seqs"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--enforce-eager"], "--engine vllm"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--nodes", "0"], "--nodes is a vLLM option"),  # 0 == False slipped through
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--tp", "0"], "--tp is a vLLM option"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--engine", "ollama", "--engine-version", "latest"], "--engine-version"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--engine", "ollama", "--engine-version", "0.0.9"], "0.0.9"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--engine-version", "0.6.5"], "--engine-version"),  # llama.cpp keeps one
    (["fit", "gemma3:27b", "-H", "m4-max-128gb", "--engine", "mlx", "--kv-cache", "q4"], "sliding-window"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--kv-cache", "q4"], "q4"),  # an MLX type under llama.cpp
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--nodes", "2"], "--engine vllm"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--nodes", "0"], "--nodes"),
    (["fit", "llama3.1:7b"], "llama3.1:7b"),
    (["fit", " "], None),
    (["fit", "ollama:nosuch"], "nosuch"),
    (["fit", "./missing.gguf"], "missing.gguf"),
    (["fit", "./dirmodel.gguf"], "dirmodel.gguf"),
    (["fit", "./notgguf.gguf"], "notgguf.gguf"),
    (["fit", "./corrupt.gguf"], "corrupt.gguf"),
    (["fit", "./trunc-header.gguf"], "trunc-header.gguf"),
    (["fit", "./trunc-data.gguf"], "trunc-data.gguf"),
    (["fit", "./v1.gguf"], "v1.gguf"),
    (["fit", "./tiny.gguf", "--quant", "Q8_0"], "Q8_0"),
    (["fit", "./tiny.gguf", "--engine", "vllm", "--vram", "24GB"], "tiny.gguf"),
    (["fit", "hf:acme/not-cached", "--offline"], "acme/not-cached"),
    (["fit", "acme/not-cached", "--offline"], "acme/not-cached"),
    (["fit", "acme/not-cached"], "HF_HUB_OFFLINE"),  # offline by the environment: the message says which switch
    (["fit", "acme/damaged-cache", "--offline"], "acme/damaged-cache"),
    (["fit", "hf:acme/..", "--offline"], "acme/.."),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--model", "a" * 300 + "/" + "b" * 300], "aaaa"),  # was ENAMETOOLONG: exit 3
    # fit: sizes, counts, options
    (["fit", "llama3.1:8b", "--vram", "24 GBs"], "24 GBs"),
    (["fit", "llama3.1:8b", "--vram", "24XB"], "24XB"),
    (["fit", "llama3.1:8b", "--vram", "-24GB"], "-24GB"),
    (["fit", "llama3.1:8b", "--vram", "1e400GB"], "1e400GB"),
    (["fit", "llama3.1:8b", "--vram", "0.4"], "0.4"),
    (["fit", "llama3.1:8b", "--ram", "nan"], "nan"),
    (["fit", "llama3.1:8b", "--context", "-5"], "-5"),
    (["fit", "llama3.1:8b", "--context", "0"], "0"),
    (["fit", "llama3.1:8b", "--context", "1e9"], "1e9"),
    (["fit", "llama3.1:8b", "--context", "99999999999"], "99999999999"),
    (["fit", "llama3.1:8b", "--quant", "Q9_K"], "Q9_K"),
    (["fit", "llama3.1:8b", "--engine", "tgi"], "tgi"),
    (["fit", "llama3.1:8b", "--engine", "vllm", "--quant", "Q4_K_M", "--vram", "24GB"], "Q4_K_M"),
    (["fit", "llama3.1:8b", "--kv-cache", "q3_x"], "q3_x"),
    (["fit", "llama3.1:8b", "--require-fit", "always", "--vram", "24GB"], "always"),
    # a non-ASCII value is named as typed: str.lower() made "GPUİ" read 'gpui̇' (i + U+0307), text nobody typed
    (["fit", "llama3.1:8b", "--require-fit", "GPU\u0130", "--vram", "24GB"], "'GPU\u0130'"),
    (["fit", "llama3.1:8b", "--kv-cache", "F16\u0130", "--vram", "24GB"], "F16\u0130 KV cache"),
    (["fit", "llama3.1:8b", "--engine", "VLLM\u0130", "--vram", "24GB"], "'VLLM\u0130'"),
    (["cost", "-t", "1e9", "--require", "CLOUD\u0130"], "'CLOUD\u0130'"),
    (["fit", "llama3.1:8b", "--min-tps", "-5", "--vram", "24GB"], "-5"),
    (["fit", "llama3.1:8b", "--min-tps", "nan", "--vram", "24GB"], "nan"),
    (["fit", "llama3.1:8b", "--min-tps", "inf", "--vram", "24GB"], "inf"),  # no model meets it: bad input, not exit 1
    (["fit", "llama3.1:8b", "--parallel", "0", "--vram", "24GB"], "--parallel"),
    (["fit", "llama3.1:8b", "--ubatch", "0", "--vram", "24GB"], "--ubatch 0"),
    (["fit", "llama3.1:8b", "--ubatch", "99999999999", "--vram", "24GB"], "--ubatch"),  # limits.MAX_UBATCH
    (["fit", "llama3.1:8b", "--ubatch", "big", "--vram", "24GB"], "--ubatch"),
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--ubatch", "2048"], "--max-num-batched-tokens"),
    (["fit", "llama3.1:8b", "-H", "m4-max-128gb", "--engine", "mlx", "--ubatch", "2048"], "--prefill-step-size"),
    # --ubatch on the other commands that size a llama.cpp / Ollama request: fit's check and refusal (api._ubatch)
    (["hardware", "--for", "qwen3:30b", "--ubatch", "0"], "--ubatch 0"),
    (["hardware", "--for", "qwen3:30b", "--engine", "vllm", "--ubatch", "2048"], "--max-num-batched-tokens"),
    (["hardware", "--ubatch", "2048"], "--for"),
    (["models", "--fits", "rtx4090", "--ubatch", "99999999999"], "--ubatch"),  # limits.MAX_UBATCH
    (["models", "--fits", "rtx4090", "--engine", "vllm", "--ubatch", "2048"], "--max-num-batched-tokens"),
    (["models", "--installed", "--ubatch", "2048"], "--fits"),
    (["serve", "qwen3:30b", "-H", "h100-sxm", "--ubatch", "2048"], "--max-num-batched-tokens"),  # serve's default: vLLM
    (["serve", "qwen3:30b", "-H", "rtx4090", "--engine", "llamacpp", "--ubatch", "0"], "--ubatch 0"),
    (["serve", "qwen3:30b", "-H", "rtx4090", "--engine", "ollama", "--ubatch", "x"], "--ubatch"),
    (["fit", "llama3.1:8b", "--parallel", "100000", "--vram", "24GB"], "--parallel"),  # limits.MAX_PARALLEL
    (["fit", "llama3.1:8b", "--gpus", "10000000", "--vram", "24GB"], "--gpus"),  # limits.MAX_GPUS: it used to hang
    (["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--max-num-seqs", "9007199254740992"], "--max-num-seqs"),
    (["fit", "llama3.1:8b", "--context", "1" + "0" * 5000, "--vram", "24GB"], "context"),
    (["hardware", "--for", "llama3.1:8b", "--max-price", "inf"], "--max-price"),
    (["fit", "llama3.1:8b", "--n-cpu-moe", "4", "--vram", "24GB"], "--n-cpu-moe"),  # dense model
    (["fit", "qwen3:30b", "--n-cpu-moe", "-1", "--vram", "24GB"], "--n-cpu-moe"),
    (["fit", "qwen3:30b", "--n-cpu-moe", "99", "--vram", "24GB"], "--n-cpu-moe"),
    (["fit", "qwen3:30b", "--n-cpu-moe", "8", "--engine", "vllm", "--vram", "24GB"], "--n-cpu-moe"),
    (["fit", "llama3.1:8b", "--hardware", "rtx4090+rtx3090", "--engine", "vllm"], "rtx4090 + rtx3090"),
    (["fit", "llama3.1:8b", "--engine", "mlx", "--hardware", "rtx4090"], "mlx"),
    (["fit", "llama3.1:8b", "--engine", "mlx", "--hardware", "m4-max-128gb", "--quant", "Q4_K_M"], "Q4_K_M"),
    (["fit", "llama3.1:8b", "--hardware", "rtx4090+"], "rtx4090+"),
    (["fit", "llama3.1:8b", "--hardware", "rtx4090+m2-ultra-192gb"], "m2-ultra-192gb"),
    (["fit", "llama3.1:8b", "--hardware", "rtx4090+rtx9999"], "rtx9999"),
    (["fit", "llama3.1:8b", "--gpus", "0", "--vram", "24GB"], "--gpus"),
    (["fit", "llama3.1:8b", "--gpus", "2"], "--gpus"),
    # fit: hardware specs and saved probe files
    (["fit", "llama3.1:8b", "--hardware", "rtx9999"], "rtx9999"),
    (["fit", "llama3.1:8b", "--hardware", "rtx 3060"], "rtx-3060-8-gb"),  # memory variants: the choices, not a pick
    (["fit", "llama3.1:8b", "--hardware", "m4 max 96gb"], "m4 max 96gb"),
    (["fit", "llama3.1:8b", "--hardware", "custom:vram=16GB,bandwidth=448GB/s"], "fp16 is missing"),
    (["fit", "llama3.1:8b", "--hardware", "custom:vram=16GB,bandwidth=0,fp16=60"], "bandwidth"),
    (["fit", "llama3.1:8b", "--hardware", "custom:vram=1e-9GB,bandwidth=448GB/s,fp16=60TFLOPS"], "vram=1e-9GB is 1 byte"),
    (["fit", "llama3.1:8b", "--vram", "100MB"], "--vram 100MB is 100,000,000 bytes"),
    (["fit", "llama3.1:8b", "--hardware", "2x 2x rtx4090"], "'2x 2x rtx4090' gives the count twice"),  # was 'unknown hardware 2x rtx4090'
    # Intel's Vulkan drivers (estimate/vulkan_intel.py): only on an Intel GPU, only with Vulkan
    (["fit", "llama3.1:8b", "--hardware", "rtx 4090 vulkan mesa"], "not an Intel or AMD GPU"),
    # "anv" is Mesa's Intel driver: after an AMD GPU it is refused, not read as "mesa" (= RADV there)
    (["fit", "llama3.1:8b", "--hardware", "rx 7900 xtx vulkan anv"], "Mesa's Intel Vulkan driver"),
    (["fit", "llama3.1:8b", "--hardware", "Radeon RX 7900 XTX (Vulkan, Mesa ANV)"], "Mesa's Intel Vulkan driver"),
    (["fit", "llama3.1:8b", "--hardware", "m4 max 64gb vulkan"], "runs Metal"),
    (["fit", "llama3.1:8b", "--hardware", "custom:vram=12GB,bandwidth=456GB/s,fp16=110TFLOPS,driver=mesa"], "backend=vulkan"),
    (["fit", "llama3.1:8b", "--hardware", "custom:vram=12GB,bandwidth=456GB/s,fp16=110TFLOPS,backend=vulkan,driver=radv"],
     "driver=mesa"),
    (["fit", "llama3.1:8b", "--hardware", "custom:cores=8,simd=avx2,ram=32GB,bandwidth=50GB/s"], "clock is missing"),
    (["fit", "llama3.1:8b", "--hardware", "custom:cores=8,clock=-4GHz,simd=avx2,ram=32GB,bandwidth=50GB/s"], "clock"),
    (["fit", "llama3.1:8b", "--hardware", "custom:cores=8,clock=4GHz,simd=avx9,ram=32GB,channels=2,mts=5600"], "simd"),
    (["fit", "llama3.1:8b", "--hardware", "custom:cores=8,clock=3GHz,simd=neon,ram=16GB,bandwidth=68GB/s,e_cores=8"], "e_cores=8"),
    (["fit", "llama3.1:8b", "--hardware", "custom:cores=8,clock=3GHz,simd=neon,ram=16GB,bandwidth=68GB/s,cpu_bandwidth=-4GB/s"], "cpu_bandwidth"),
    (["fit", "llama3.1:8b", "--hardware", "custom:cores=8,clock=3GHz,simd=avx2,ram=16GB,bandwidth=68GB/s,build_date=2024-13-40"], "build_date"),
    (["fit", "llama3.1:8b", "--hardware", "3x"], "3x"),
    (["fit", "llama3.1:8b", "--hardware", "rtx4090x0"], "rtx4090x0"),
    (["fit", "llama3.1:8b", "--hardware", "65x rtx4090"], "65x rtx4090"),
    (["fit", "llama3.1:8b", "--hardware", "2x m2-ultra-192gb"], "2x m2-ultra-192gb"),
    (["fit", "llama3.1:8b", "--hardware", "rtx4090", "--vram", "24GB"], "--vram"),
    (["fit", "llama3.1:8b", "--hardware", "./missing.json"], "missing.json"),
    (["fit", "llama3.1:8b", "--hardware", "./empty.json"], "empty.json"),
    (["fit", "llama3.1:8b", "--hardware", "./garbage.json"], "garbage.json"),
    (["fit", "llama3.1:8b", "--hardware", "./list.json"], "list.json"),
    (["fit", "llama3.1:8b", "--hardware", "./v9.json"], "v9.json"),
    (["fit", "llama3.1:8b", "--hardware", "./deep.json"], "deep.json"),
    (["fit", "llama3.1:8b", "--hardware", "./infinity.json"], "ram_bytes"),
    (["fit", "llama3.1:8b", "--hardware", "./huge-int.json"], "memory_bytes"),
    (["fit", "llama3.1:8b", "--hardware", "./mig-not-a-list.json"], "mig_instances"),
    (["fit", "llama3.1:8b", "--hardware", "./folder.json"], "folder.json"),
    (["fit", "llama3.1:8b", "--hardware", "./empty.json/box.json"], "box.json"),
    # usage errors (click): one line too, pointing at the command's help
    (["fit", "llama3.1:8b", "--bogus-flag"], "--bogus-flag"),
    (["fit"], "advisor fit --help"),
    (["fit", "llama3.1:8b", "--gpus", "two"], "two"),
    (["fit", "llama3.1:8b", "--context"], "--context"),
    (["nosuchcommand"], "nosuchcommand"),
    # models
    (["models", "--fits", "rtx9999"], "rtx9999"),
    (["models", "--fits", "rtx4090", "--min-tps", "0"], "--min-tps"),
    (["models", "--fits", "rtx4090", "--min-tps", "inf"], "--min-tps"),
    (["models", "--fits", "rtx4090", "--engine", "nope"], "nope"),
    (["models", "--fits", "rtx4090", "--context", "lots"], "lots"),
    (["models", "--fits", "./garbage.json"], "garbage.json"),
    (["models", "--installed", "--context", "-1"], "-1"),
    (["models", "--installed", "--vram", "12XB"], "12XB"),
    (["models", "--bogus"], "--bogus"),
    (["models", "--use-case", "chat,vizion"], "vizion"),  # the message lists chat, code, reasoning, vision, embedding
    (["models", "--license", "gpl-9"], "gpl-9"),
    (["models", "--family", "qwen25"], "qwen25"),
    (["models", "--min-context", "lots"], "--min-context"),
    (["models", "--min-context", "max"], "--min-context"),
    (["models", "--search", "  "], "--search"),
    (["models", "--fits", "rtx4090", "--use-case", "poetry"], "poetry"),
    # hardware
    (["hardware", "show", "nosuch"], "nosuch"),
    (["hardware", "bogus"], "bogus"),
    (["hardware", "show"], "show"),
    (["hardware", "--for", "nosuchmodel"], "nosuchmodel"),
    (["hardware", "--for", "llama3.1:8b", "--max-price", "-1"], "--max-price"),
    (["hardware", "--for", "llama3.1:8b", "--min-tps", "-1"], "--min-tps"),
    (["hardware", "--for", "llama3.1:8b", "--engine", "xx"], "xx"),
    (["hardware", "--for", "llama3.1:8b", "--quant", "Q9"], "Q9"),
    (["hardware", "--for", "./trunc-header.gguf"], "trunc-header.gguf"),
    (["hardware", "show", "rtx4090", "extra"], "extra"),
    # probe
    (["probe", "--bogus"], "--bogus"),
    (["probe", "extra"], "extra"),
    (["probe", "--json=yes"], "--json"),
    # cost
    (["cost"], "--monthly-tokens"),
    (["cost", "--monthly-tokens", "-1"], "-1"),
    (["cost", "--monthly-tokens", "0"], "0"),
    (["cost", "--monthly-tokens", "nan"], "nan"),
    (["cost", "--monthly-tokens", "inf"], "inf"),
    (["cost", "--monthly-tokens", "2e9x"], "2e9x"),
    (["cost", "--monthly-tokens", "1e400"], "1e400"),
    (["cost", "-t", "1e9", "--require", "maybe"], "maybe"),
    (["cost", "-t", "1e9", "-H", "custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS"], "--gpu-price"),  # a spec sheet needs a price
    (["cost", "-t", "1e9", "-H", "custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS", "--gpu-price", "0"], "--gpu-price"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--prompt-tokens", "0"], "--prompt-tokens"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--output-tokens", "-5"], "--output-tokens"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--prompt-tokens", "99999999999"], "--prompt-tokens"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--max-ttft", "0"], "--max-ttft"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--max-ttft", "inf"], "--max-ttft"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--min-stream-tps", "nan"], "--min-stream-tps"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--concurrency", "0"], "--concurrency"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--concurrency", "1,8,10000000"], "--concurrency"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--concurrency", "eight"], "eight"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--engine", "foo"], "foo"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--quant", "Q4_K_M"], "Q4_K_M"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--gpu-memory-utilization", "1.5"], "--gpu-memory-utilization"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--kv-cache-memory-bytes", "-5GiB"], "--kv-cache-memory-bytes"),
    (["serve", "llama3.1:8b", "-H", "rtx4090", "--engine", "llamacpp", "--kv-cache-memory-bytes", "5GiB"], "vLLM option"),
    # vLLM's pool options on a slot engine were silently ignored (the same slots as without them): fit's refusal
    (["serve", "llama3.1:8b", "-H", "rtx4090", "--engine", "llamacpp", "--max-num-seqs", "4"], "--max-num-seqs is a vLLM"),
    (["serve", "llama3.1:8b", "-H", "rtx4090", "--engine", "ollama", "--gpu-memory-utilization", "0.5"], "vLLM option"),
    (["cost", "-t", "1e9", "--price-in", "1"], "--price-out"),
    (["cost", "-t", "1e9", "--price-in", "-1", "--price-out", "2"], "--price-in"),
    (["cost", "-t", "1e9", "--price-in", "2", "--price-out", "nan"], "--price-out"),
    (["cost", "-t", "1e9", "--output-share", "1.5"], "--output-share"),
    (["cost", "-t", "1e9", "--electricity", "-0.1"], "--electricity"),
    (["cost", "-t", "1e9", "--pue", "inf"], "--pue"),
    (["cost", "-t", "1e9", "--amortize-months", "0"], "--amortization-months"),  # old spelling, new name in the message
    (["cost", "-t", "1e9", "--residual-value", "1"], "--residual-value"),  # all of it back: not a purchase
    (["cost", "-t", "1e9", "--residual-value", "-0.1"], "--residual-value"),
    (["cost", "-t", "1e9", "--cost-of-capital", "nan"], "--cost-of-capital"),
    (["cost", "-t", "1e9", "--cost-of-capital", "8"], "--cost-of-capital"),  # 800%/yr: a percentage given as a number
    (["cost", "-t", "1e9", "--space-per-box", "-1"], "--space-per-box"),
    (["cost", "-t", "1e9", "--prompt-tokens", "0"], "--prompt-tokens"),
    (["cost", "-t", "1e9", "--prompt-tokens", "nan"], "--prompt-tokens"),
    (["cost", "-t", "1e9", "--output-tokens", "-5"], "--output-tokens"),
    (["cost", "-t", "1e9", "--output-tokens", "inf"], "--output-tokens"),
    (["cost", "-t", "1e9", "--output-share", "0.3", "--output-tokens", "100"], "--output-tokens"),
    (["cost", "-t", "1e9", "--request-tokens", "100", "--prompt-tokens", "200"], "--prompt-tokens"),
    (["cost", "-t", "1e9", "--cached-input-share", "1.5"], "--cached-input-share"),
    (["cost", "-t", "1e9", "--batch-share", "nan"], "--batch-share"),
    (["cost", "-t", "1e9", "--batch-share", "-0.1"], "--batch-share"),
    (["cost", "-t", "1e9", "--active-hours", "0"], "--active-hours"),
    (["cost", "-t", "1e9", "--active-hours", "nan"], "--active-hours"),
    (["cost", "-t", "1e9", "--peak-to-average", "inf"], "--peak-to-average"),
    (["cost", "-t", "1e9", "--ops-hours-per-box", "-1"], "--ops-hours-per-box"),
    (["cost", "-t", "1e9", "--spare", "-1"], "--spare"),
    (["cost", "-t", "1e9", "--max-ttft", "0"], "--max-ttft"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--gpu-price", "0"], "--gpu-price"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--gpu-price", "nan"], "--gpu-price"),
    (["cost", "-t", "1e9", "--gpu-price", "1500"], "--hardware"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--host-price", "-1"], "--host-price"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--rent-price", "inf"], "--rent-price"),
    (["cost", "-t", "1e9", "--price-date", "yesterday"], "--price-date"),
    (["cost", "-t", "1e9", "--price-date", "0001-01-01"], "0001-01-01 is before the earliest API price data"),
    (["cost", "-t", "1e9", "--max-monthly-usd", "-1"], "--max-monthly-usd"),
    (["cost", "-t", "1e9", "--regulated", "sox"], "sox"),
    (["cost", "-t", "1e9", "--cloud", "gpt-17-ultra"], "gpt-17-ultra"),
    (["cost", "-t", "1e9", "--hardware", "rtx9999"], "rtx9999"),
    (["cost", "-t", "1e9", "--hardware", "./garbage.json"], "garbage.json"),
    (["cost", "-t", "1e9", "--model", "nosuchmodel"], "nosuchmodel"),
    (["cost", "-t", "1e9", "--model", "./corrupt.gguf"], "corrupt.gguf"),
    (["cost", "-t", "1e9", "--model", "acme/not-cached"], "HF_HUB_OFFLINE"),  # names the switch that is on
    (["cost", "-t", "1e9", "--engine", "foo"], "foo"),
    (["cost", "-t", "1e9", "--quant", "zz"], "zz"),
    (["cost", "-t", "1e9", "--decode-tps", "100"], "--prefill-tps"),
    (["cost", "-t", "1e9", "--chart", "c.png"], "c.png"),
    (["cost", "-t", "1e9", "--request-tokens", "0"], "--request-tokens"),
    # a context above the model's maximum under vLLM (it refuses max_model_len above the derived maximum), and
    # serve / cost for an embedding model, which generates no tokens (were ZeroDivisionError: exit 3)
    (["fit", "llama2", "-H", "rtx4090", "--engine", "vllm", "--context", "8192"], "4,096"),
    (["serve", "llama2", "-H", "h100-sxm", "--prompt-tokens", "4000", "--output-tokens", "200"], "4,096"),
    (["serve", "bge-m3", "-H", "rtx4090"], "bge-m3"),
    (["cost", "-t", "1e9", "--model", "nomic-embed-text"], "nomic-embed-text"),
    (["fit", "bge-m3", "-H", "rtx4090", "--min-tps", "20"], "--min-tps"),  # was exit 1 "fastest ... at no speed"
    # a single-value option given twice: click kept the last without a word (cost -H, fit -q are lists and repeat)
    (["fit", "llama3.1:8b", "-H", "rtx4090", "-H", "rtx3090"], "--hardware (-H) is given more than once"),
    (["fit", "llama3.1:8b", "--vram", "8GB", "--vram=16GB"], "--vram is given more than once"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "-c", "4096", "--context", "8192"], "--context (-c) is given more than once"),
    (["models", "--fits", "rtx4090", "--fits", "rtx3090"], "--fits is given more than once"),
    (["cost", "-t", "1e9", "-t", "2e9"], "is given more than once"),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--flash-attention", "--no-flash-attention"], "--flash-attention/--no-flash-attention is given more than once"),
]
if hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads a mode-000 file anyway
    ROWS.append((["fit", "llama3.1:8b", "--hardware", "./unreadable.json"], "unreadable.json"))


def _ids(rows):
    return [" ".join(argv) or "(no arguments)" for argv, _ in rows]


def _write_inputs(d: Path) -> None:
    """The broken files the rows point at, each broken in one way."""
    from gguf_factory import write_gguf

    write_gguf(d / "tiny.gguf")
    tiny = (d / "tiny.gguf").read_bytes()
    (d / "trunc-header.gguf").write_bytes(tiny[:200])
    (d / "trunc-data.gguf").write_bytes(tiny[:-1000])
    (d / "corrupt.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)
    (d / "v1.gguf").write_bytes(tiny[:4] + (1).to_bytes(4, "little") + tiny[8:])
    (d / "notgguf.gguf").write_text("hello")
    (d / "dirmodel.gguf").mkdir()
    probe = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": []}
    (d / "empty.json").write_bytes(b"")
    (d / "garbage.json").write_bytes(b"\x00\xffnot json{")
    (d / "list.json").write_text("[1, 2]")
    (d / "v9.json").write_text(json.dumps({**probe, "schema_version": "9.0.0"}))
    (d / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (d / "infinity.json").write_text('{"schema_version": "1.0.0", "ram_bytes": Infinity}')
    (d / "huge-int.json").write_text(json.dumps({**probe, "devices": [{"memory_bytes": 10**400}]}))
    (d / "mig-not-a-list.json").write_text(json.dumps(
        {**probe, "devices": [{"memory_bytes": 24 * 10**9, "details": {"mig_instances": 5}}]}))
    (d / "folder.json").mkdir()
    (d / "unreadable.json").write_text(json.dumps(probe))
    (d / "unreadable.json").chmod(0)
    damaged = d / "home" / "hub" / "acme--damaged-cache" / "main"
    damaged.mkdir(parents=True)
    (damaged / "model_info.json").write_text("[]")  # valid JSON, not a cache entry


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-input")
    _write_inputs(d)
    return d


@pytest.fixture(scope="module")
def results(folder):
    env = isolated_env(folder / "home", folder / "no-ollama")
    done = run_inprocess([(argv, env) for argv, _ in ROWS], folder)
    return dict(zip(_ids(ROWS), done))


def _first_per_command() -> list[tuple[list[str], str | None]]:
    first: dict[str, tuple[list[str], str | None]] = {}
    for row in ROWS:
        first.setdefault(row[0][0] if row[0] else "", row)
    return list(first.values())


def test_a_real_process_gives_the_same_bytes_as_the_in_process_run(results, folder):
    sample = _first_per_command()
    assert len(sample) >= 6
    env = isolated_env(folder / "home", folder / "no-ollama")
    for row, proc in zip(sample, run_all([(argv, env) for argv, _ in sample], folder)):
        mine = results[_ids([row])[0]]
        assert (proc.returncode, proc.stdout, proc.stderr) == (mine.returncode, mine.stdout, mine.stderr), row


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_bad_input_exits_2_with_one_line_on_stderr_and_nothing_on_stdout(results, row):
    argv, named = row
    r = results[_ids([row])[0]]
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("advisor: ") and len(r.stderr.strip()) > len("advisor: ") + 10
    if named is not None:
        assert named in r.stderr, f"the message should name {named!r}: {r.stderr}"


def test_the_table_covers_every_command_with_many_distinct_inputs():
    ids = _ids(ROWS)
    assert len(set(ids)) == len(ids) >= 40
    commands = {argv[0] for argv, _ in ROWS if argv}
    assert {"fit", "models", "hardware", "probe", "cost"} <= commands
