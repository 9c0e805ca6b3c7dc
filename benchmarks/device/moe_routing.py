"""How the synthetic-weight GGUFs of make_gguf.py route tokens: a numpy forward pass of their exact weights.

    python benchmarks/device/moe_routing.py qwen3:30b-a3b Q4_K_M [LAYERS]   # prints per-layer counts, writes JSON

Why: our H200 llama-bench runs (h200_llamabench.jsonl) time MoE prefill on synthetic files. How many token-column
tiles an expert matmul runs depends on how many tokens each expert gets (estimate/moe_tiles.py), so a check of the MoE
prefill formula needs the routing those files produce. This rebuilds every weight as make_gguf.write does (same seed,
same draws in the same order: one 64 MiB random pattern per quantized type, each tensor cut from it at a random block
offset; norms 1; other floats N(0, 0.02) repeated), dequantizes with the gguf package, and runs 512 random tokens
through attention (causal softmax, GQA, the q/k norms where the model has them; RoPE left out) and the routed experts
(softmax over the top-k router logits, SwiGLU), counting per layer the tokens each expert receives and the 128-wide
tiles that makes. Writes benchmarks/device/h200_moe_routing.json (one entry per model, merged with what is there).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "device"))

import make_gguf  # noqa: E402
from selfhost_advisor.catalog import models  # noqa: E402
from selfhost_advisor.catalog.data import load  # noqa: E402
from selfhost_advisor.catalog.resolve import quant_of  # noqa: E402
from selfhost_advisor.estimate.memory import weights_by_tensor  # noqa: E402

OUT = ROOT / "benchmarks" / "device" / "h200_moe_routing.json"
N_TOKENS, TILE = 512, 128


class Weights:
    """The float values make_gguf.write(model, quant, seed=0) stores for every tensor."""

    def __init__(self, model, quant: str) -> None:
        from gguf import GGMLQuantizationType, quants

        rows = weights_by_tensor(model, quant_of(quant))
        types = load("ggml_types")["types"]
        self.rng = np.random.default_rng(0)
        self.shapes, self.where, pats = {}, {}, {}
        for t, ty, _ in rows:
            self.shapes[t.name] = t.shape
            if ty in make_gguf.FLOAT_TYPES:
                if t.name.endswith("norm.weight"):
                    self.where[t.name] = ("ones",)
                else:  # make_gguf._float_data: one block of N(0, 0.02), repeated
                    self.where[t.name] = ("float", self.rng.normal(0, 0.02, min(t.n_elements, 1 << 24)).astype(np.float32))
                continue
            size = types[ty]["type_size"]
            if ty not in pats:
                pats[ty] = make_gguf._pattern(ty, size, self.rng)
            self.where[t.name] = ("q", ty, int(self.rng.integers(0, len(pats[ty]) // size)) * types[ty]["block_size"])
        self.values = {ty: quants.dequantize(np.frombuffer(p, np.uint8).reshape(-1, types[ty]["type_size"]),
                                             getattr(GGMLQuantizationType, ty)).reshape(-1).astype(np.float32)
                       for ty, p in pats.items()}

    def flat(self, name: str, offset: int, count: int) -> np.ndarray:
        w = self.where[name]
        if w[0] == "ones":
            return np.ones(count, np.float32)
        data, start = (w[1], 0) if w[0] == "float" else (self.values[w[1]], w[2])
        s = (start + offset) % data.size
        if s + count <= data.size:
            return data[s:s + count]
        return np.resize(np.concatenate([data[s:], data[:s]]), count)

    def matrix(self, name: str, index: int = 0) -> np.ndarray:
        """[outputs, inputs] of a 2-D tensor, or of expert `index` of a 3-D one (ggml ne0 = inputs)."""
        cols, rows = self.shapes[name][0], self.shapes[name][1]
        return self.flat(name, index * rows * cols, rows * cols).reshape(rows, cols)


def _rms(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6)


def route(model_id: str, quant: str, n_layers: int | None = None) -> list[list[int]]:
    model = models.get(model_id)
    w = Weights(model, quant)
    rng = np.random.default_rng(1)
    hidden, e_count, k = model.hidden_size, model.moe.experts, model.moe.active
    heads, kv_heads, hd = model.n_heads, model.n_kv_heads, model.head_dim
    tokens = rng.integers(0, w.shapes["token_embd.weight"][1], N_TOKENS)
    h = np.stack([w.flat("token_embd.weight", int(t) * hidden, hidden) for t in tokens]).astype(np.float32)
    mask = np.triu(np.full((N_TOKENS, N_TOKENS), -np.inf, np.float32), 1)
    counts = []
    with np.errstate(over="ignore"):
        for layer in range(n_layers or model.n_layers):
            p = f"blk.{layer}."
            x = _rms(h)
            q = (x @ w.matrix(p + "attn_q.weight").T).reshape(N_TOKENS, heads, hd)
            kk = (x @ w.matrix(p + "attn_k.weight").T).reshape(N_TOKENS, kv_heads, hd)
            v = (x @ w.matrix(p + "attn_v.weight").T).reshape(N_TOKENS, kv_heads, hd)
            if p + "attn_q_norm.weight" in w.shapes:
                q, kk = _rms(q), _rms(kk)
            out = np.empty((N_TOKENS, heads, hd), np.float32)
            for i in range(heads):
                s = q[:, i] @ kk[:, i * kv_heads // heads].T / np.sqrt(hd) + mask
                s = np.exp(s - s.max(1, keepdims=True))
                out[:, i] = (s / s.sum(1, keepdims=True)) @ v[:, i * kv_heads // heads]
            h = h + out.reshape(N_TOKENS, -1) @ w.matrix(p + "attn_output.weight").T
            x = _rms(h)
            logits = x @ w.matrix(p + "ffn_gate_inp.weight").T
            top = np.argsort(-logits, 1)[:, :k]
            g = np.take_along_axis(logits, top, 1)
            g = np.exp(g - g.max(1, keepdims=True))
            g /= g.sum(1, keepdims=True)
            c = np.bincount(top.ravel(), minlength=e_count)
            counts.append([int(v) for v in c])
            y = np.zeros_like(h)
            for e in np.nonzero(c)[0]:
                tok, slot = np.nonzero(top == e)
                gate = x[tok] @ w.matrix(p + "ffn_gate_exps.weight", e).T
                up = x[tok] @ w.matrix(p + "ffn_up_exps.weight", e).T
                a = gate / (1 + np.exp(-gate)) * up
                y[tok] += (a @ w.matrix(p + "ffn_down_exps.weight", e).T) * g[tok, slot][:, None]
            h = h + y
            tiles = int(sum(-(-v // TILE) for v in c))
            print(f"layer {layer:2d}: {np.count_nonzero(c):3d} of {e_count} experts get tokens, the busiest {c.max():3d};"
                  f" {tiles} tiles of {TILE}", flush=True)
    return counts


def main(argv: list[str]) -> int:
    model_id, quant = argv[0], argv[1]
    t0 = time.time()
    counts = route(model_id, quant, int(argv[2]) if len(argv) > 2 else None)
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data[f"{model_id} {quant}"] = {"tokens": N_TOKENS, "tile": TILE, "tokens_per_expert_by_layer": counts}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(counts)} layers in {time.time() - t0:.0f} s -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
