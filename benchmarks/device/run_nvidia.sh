#!/usr/bin/env bash
# On a lent NVIDIA machine (the `device` tool): capture `advisor probe --json` as a fixture, then time llama-bench
# on synthetic GGUFs (make_gguf.py) of catalog models, for a held-out check of the speed model.
#
# Expects, in the repository root: .whl/ (typer, click, shellingham, nvidia-ml-py, py-cpuinfo wheels: the machine
# reaches no registry) and .lcp/llama-bench.gz (llama.cpp built with -DGGML_CUDA=ON for the machine's architecture;
# see README.md beside this script). Writes under $OUT: gpu.txt, nvml.json, probe.json, probe.txt, fit_here.json,
# bench.jsonl, dmon.txt (clocks and power, 1 s), log.txt. Stops starting new models once BUDGET_S seconds have passed.
# VARIANTS: environments each model is benched under, space-separated, "-" for none (default "-"); e.g.
# VARIANTS="- GGML_CUDA_DISABLE_FUSION=1 GGML_CUDA_DISABLE_GRAPHS=1" times ggml-cuda's per-kernel cost on this host
# (docs/methodology.md 5f-cuda24); each bench.jsonl line carries its variant as advisor_env.
set -u
OUT=${OUT:-/tmp/out}
BUDGET_S=${BUDGET_S:-300}
MODELS=${MODELS:-"llama3.1:8b/Q4_K_M qwen3:30b-a3b/Q4_K_M llama3.1:8b/Q8_0 llama3.1:8b/F16 qwen2.5:32b/Q4_K_M llama3.1:70b/Q4_K_M"}
BENCH_ARGS=${BENCH_ARGS:-"-p 512 -n 128 -d 0,4096 -r 5"}
VARIANTS=${VARIANTS:-"-"}
mkdir -p "$OUT"
exec 2>>"$OUT/log.txt"
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl >&2
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1

if [ -z "${SKIP_PROBE:-}" ]; then
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit,pcie.link.gen.max,pcie.link.width.max --format=csv
  nvidia-smi -q -d CLOCK,POWER | grep -vi -E "uuid|serial"; nproc; free -g; df -h /tmp /dev/shm; } > "$OUT/gpu.txt" 2>&1
python3 benchmarks/device/capture_nvml.py "NVML as the probe asks it, captured on a lent machine by benchmarks/device/run_nvidia.sh" > "$OUT/nvml.json"
python3 -m selfhost_advisor probe --json > "$OUT/probe.json"
python3 -m selfhost_advisor probe > "$OUT/probe.txt" 2>&1
python3 -m selfhost_advisor fit llama3.1:8b --json > "$OUT/fit_here.json"
echo "probe done at $(elapsed) s" >&2
fi

# Memory copy rate through PyTorch (read + write bytes / time), the ceiling decode works against.
python3 - >&2 <<'EOF'
import torch
x = torch.empty(4 << 30, dtype=torch.uint8, device="cuda"); y = torch.empty_like(x)
for _ in range(3): y.copy_(x)
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
torch.cuda.synchronize(); s.record()
for _ in range(20): y.copy_(x)
e.record(); torch.cuda.synchronize()
print(f"d2d copy: {2 * 20 * x.numel() / (s.elapsed_time(e) / 1e3) / 1e12:.3f} TB/s (read+write)")
EOF

CUBLAS=$(dirname "$(find /usr/local /opt -name 'libcublasLt.so.13*' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH=$CUBLAS:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
gunzip -c .lcp/llama-bench.gz > /tmp/llama-bench && chmod +x /tmp/llama-bench
/tmp/llama-bench --list-devices 2>&1 | tee -a "$OUT/log.txt" | grep -q CUDA0 || { echo "llama-bench sees no GPU" >&2; exit 3; }
nvidia-smi dmon -s pc -d 1 > "$OUT/dmon.txt" 2>&1 &

DIR=/dev/shm
for spec in $MODELS; do
  if [ "$(elapsed)" -gt "$BUDGET_S" ]; then echo "budget spent: skipping $spec" >&2; continue; fi
  model=${spec%/*}; quant=${spec#*/}
  f=$DIR/m.gguf
  python3 benchmarks/device/make_gguf.py "$model" "$quant" "$f" >&2 || { rm -f "$f"; DIR=/tmp; f=$DIR/m.gguf;
    python3 benchmarks/device/make_gguf.py "$model" "$quant" "$f" >&2 || continue; }
  echo "$spec written at $(elapsed) s" >&2
  for v in $VARIANTS; do
    envv=(); [ "$v" != "-" ] && envv=("$v")
    env ${envv[@]+"${envv[@]}"} /tmp/llama-bench -m "$f" -ngl 99 -fa 1 $BENCH_ARGS -o jsonl \
      | python3 -c "import json,sys; [print(json.dumps(dict(json.loads(l), advisor_model='$model', advisor_quant='$quant', advisor_env='$v'))) for l in sys.stdin if l.strip()]" \
      >> "$OUT/bench.jsonl"
  done
  echo "$spec benched at $(elapsed) s" >&2
  rm -f "$f"
done
echo "done at $(elapsed) s" >&2
