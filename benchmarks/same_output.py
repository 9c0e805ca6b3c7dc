"""Before/after check for refactors and speed-ups that must not change any output (issue 19: "without changing any
output"): runs a fixed set of `advisor` commands (JSON and text at 80 and 120 columns) and saves, or compares,
their stdout, stderr and exit status byte for byte.

Usage:
    python benchmarks/same_output.py save DIR      # before the change
    python benchmarks/same_output.py compare DIR   # after it: lists every command whose bytes differ; exit 1 if any

Run both from the same checkout state of data/ (other helpers' catalog or price edits change outputs legitimately:
save again after a rebase). The commands run in parallel subprocesses with the isolation of tests/cliproc.py.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cliproc import isolated_env, run_all  # noqa: E402

FITS_HW = ("rtx4090", "2x rtx3090", "m2-ultra-192gb", "h100-sxm", "desktop-ddr5-64gb", "epyc-genoa-2s-768gb", "rtx-pro-6000-blackwell")
JSON = [
    *(["models", "--fits", hw, "--json"] for hw in FITS_HW),
    ["models", "--fits", "rtx4090", "--engine", "vllm", "--json"],
    ["models", "--fits", "rtx4090", "--engine", "ollama", "--context", "32k", "--json"],
    ["models", "--fits", "rtx4090", "--min-tps", "60", "--json"],
    ["models", "--fits", "2x rtx4090", "--min-quant", "any", "--json"],
    ["models", "--fits", "rtx-3060-12gb", "--ram", "64GB", "--json"],
    ["models", "--fits", "rtx4090", "--vram", "16GB", "--gpus", "2", "--json"],
    ["models", "--json"],
    ["fit", "llama3.1:70b", "--hardware", "rtx4090", "--json"],
    ["fit", "llama3.1:70b", "--hardware", "2x rtx4090", "--json"],
    ["fit", "llama3.1:8b", "--hardware", "m2-ultra-192gb", "--context", "128k", "--json"],
    ["fit", "qwen3:30b-a3b", "--hardware", "rtx4090", "--ram", "64GB", "--json"],
    ["fit", "deepseek-r1:671b", "--hardware", "h100-sxm", "--json"],
    ["fit", "llama3.1:70b", "--hardware", "rtx-pro-6000-blackwell", "--min-tps", "25", "--json"],
    ["fit", "llama3.1:8b", "--hardware", "rtx4090", "--engine", "vllm", "--json"],
    ["fit", "llama3.1:8b", "--hardware", "rtx4090", "--engine", "ollama", "--json"],
    ["fit", "mixtral:8x7b", "--hardware", "rtx-3060-12gb", "--ram", "64GB", "--json"],
    ["hardware", "--json"],
    ["hardware", "--for", "llama3.1:70b", "--min-tps", "20", "--json"],
    ["hardware", "--for", "qwen3:30b-a3b", "--json"],
    ["serve", "llama3.1:8b", "-H", "h100-sxm", "--json"],
    ["cost", "--monthly-tokens", "2e9", "--price-date", "2026-12-05", "--json"],
    # cost: the sensitivity re-runs, the hybrid, the quality floor at other values, constraints, measured figures
    ["cost", "-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o", "--active-hours", "730", "--peak-to-average", "3",
     "--spare", "1", "--cached-input-share", "0.2", "--price-date", "2026-12-05", "--json"],
    ["cost", "-t", "3e9", "-H", "2x rtx4090,2x h100-sxm", "--cloud", "together/llama3.1:70b", "--active-hours", "730",
     "--price-date", "2026-12-05", "--json"],
    ["cost", "-t", "1e9", "--min-quant", "any", "--price-date", "2026-12-05", "--json"],
    ["cost", "-t", "1e9", "-H", "2x a100-80gb", "--min-quant", "bf16", "--price-date", "2026-12-05", "--json"],
    ["cost", "-t", "5e8", "-m", "llama3.1:8b", "-H", "rtx4090", "--cloud", "gpt-4o-mini,claude-haiku",
     "--price-date", "2026-12-05", "--json"],
    ["cost", "-t", "1e9", "-H", "2x rtx4090", "--decode-tps", "600", "--prefill-tps", "4000", "--cloud",
     "claude-sonnet-5-5", "--cached-input-share", "0.5", "--cache-write-share", "0.1", "--price-date", "2026-12-05",
     "--json"],
    ["cost", "-t", "1e8", "--regulated", "hipaa", "--price-date", "2026-12-05", "--json"],
    ["cost", "-t", "2e9", "--max-ttft", "1.5", "--min-stream-speed", "20", "--price-date", "2026-12-05", "--json"],
    ["serve", "llama3.1:70b", "-H", "2x h100-sxm", "--json"],
    ["serve", "qwen3:30b-a3b", "-H", "rtx4090", "--engine", "vllm", "--json"],
]
TEXT = [
    ["models", "--fits", "rtx4090"],
    ["models", "--fits", "m2-ultra-192gb", "--min-tps", "20"],
    ["fit", "llama3.1:70b", "--hardware", "rtx4090"],
    ["fit", "qwen3:30b-a3b", "--hardware", "rtx4090", "--ram", "64GB"],
    ["hardware", "--for", "llama3.1:70b"],
    ["models"],
    ["cost", "-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o", "--active-hours", "730", "--peak-to-average", "3",
     "--spare", "1", "--cached-input-share", "0.2", "--price-date", "2026-12-05"],
    ["cost", "-t", "1e9", "--price-date", "2026-12-05"],
]


def _jobs(home: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    (home / "ollama").mkdir(exist_ok=True)
    base = isolated_env(home, home / "ollama")
    jobs = [(" ".join(a), a, base) for a in JSON]
    for cols in ("80", "120"):
        jobs += [(f"COLUMNS={cols} " + " ".join(a), a, {**base, "COLUMNS": cols}) for a in TEXT]
    return jobs


def _outputs() -> dict[str, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        jobs = _jobs(Path(tmp))
        done = run_all([(a, env) for _, a, env in jobs], ROOT)
    return {name: {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr} for (name, _, _), p in zip(jobs, done)}


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "compare"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, out = sys.argv[1], Path(sys.argv[2])
    got = _outputs()
    if mode == "save":
        out.mkdir(parents=True, exist_ok=True)
        (out / "outputs.json").write_text(json.dumps(got, indent=1, sort_keys=True))
        print(f"saved {len(got)} commands to {out / 'outputs.json'}")
        return 0
    want = json.loads((out / "outputs.json").read_text())
    bad = [name for name in want if want[name] != got.get(name)]
    for name in bad:
        digest = {k: hashlib.sha256(str(v).encode()).hexdigest()[:12] for k, v in (got.get(name) or {}).items()}
        print(f"DIFFERS: {name} {digest}")
    print(f"{len(want) - len(bad)} of {len(want)} commands byte-identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
