"""Per-token host time that llama-server adds to what llama-bench measures (docs/methodology.md 5-dcfloor).

Why: llama-bench's tg test decodes one token after another and samples nothing; llama-server (and llama-cli, which runs
the same server context) copies each token's logits row to the host and runs its CPU sampler chain over the whole
vocabulary before it can decode the next token (common/sampling.cpp: set_logits fills n_vocab candidates, top-k's partial
sort reads them all). That time is serial with the GPU's and does not shrink with a faster GPU: on an H200 a 3B model
decodes in about 2.3 ms (our llama-bench run of Llama 3.2 3B Q4_K_M: 439.6 t/s), so a host path of ~0.5-1 ms per token
is 20-45% of a served token. The speed estimate (estimate/speed.py) stays llama-bench's figure; this is the term a
served figure adds, linear in the vocabulary: n_vocab x data/speed.yaml server_sampling.seconds_per_vocab_entry
(fit's llama.cpp options report it as speed.served_decode_tokens_per_s; engines/llamacpp.py host_sampling).
"""
from __future__ import annotations

from ..domain import Model, Speed
from ..record import replace
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data


def sampling_seconds(model: Model) -> float:
    """Seconds per decoded token of llama-server's host-side sampling over `model`'s vocabulary (0 when unknown)."""
    rule = speed_factors._speed_data().get("server_sampling") or {}
    per_entry = float(rule.get("seconds_per_vocab_entry") or 0.0)
    return float(model.vocab_size or 0) * per_entry


def with_served(speed: Speed, model: Model) -> Speed:
    """`speed` with served_decode_tokens_per_s set from its (llama-bench) decode figure; unchanged without one."""
    if not speed.decode_tokens_per_s:
        return speed
    return replace(speed, served_decode_tokens_per_s=served_decode_tokens_per_s(speed.decode_tokens_per_s, model))


def served_decode_tokens_per_s(llama_bench_tokens_per_s: float, model: Model) -> float:
    """A llama-bench decode figure turned into llama-server's: one more sampling pass per token, in series."""
    if llama_bench_tokens_per_s <= 0:
        return llama_bench_tokens_per_s
    return 1.0 / (1.0 / llama_bench_tokens_per_s + sampling_seconds(model))
