"""vLLM under a closed loop of B clients: the KV the requests hold, the batched step, chunked prefill, TTFT and TPOT.

The steady state (each client sends its next request when one finishes, as `vllm bench serve --max-concurrency B`):
- KV: a request holds ceil((P + t) / 16) blocks while its t-th output token is generated; averaged over its life this
  sets how many fit in the pool (vllm/v1/core/kv_cache_manager.py allocates blocks as tokens arrive).
- Each step decodes one token for every running request past its prefill (b_dec of them) and takes the prompts that
  arrived since the last step, up to max_num_batched_tokens (vLLM v1's scheduler serves running requests first,
  then waiting prefills in chunks). Prompts arrive at rate r x ceil(P / chunk) chunks per second, lam = that x step per step; steps
  carry floor(lam) or floor(lam) + 1 chunks in the shares whose mean is lam, and the mean step is their average.
- TTFT = the wait for the step already running when the request reaches the engine, then the steps carrying the
  prompt's chunks. vLLM v1's engine core (vllm/v1/engine/core.py EngineCoreProc.run_busy_loop) drains its input queue
  only between steps (`_process_input_queue()` then `_process_engine_step()`), so with other requests decoding a new
  one waits the rest of the current step: half a mean step for an arrival at a uniform phase (alone, none); TPOT = the mean step another request's prompt may ride in;
  life L = TTFT + (O - 1) x TPOT; r = B / L (Little's law); output tokens/s = r x O, total = r x (P + O).
Solved by fixed-point iteration (each quantity depends on the others through the step time).
"""
from __future__ import annotations

import math

from ...domain import Machine, Model, Quant
from ..vllm import sequence_kv_bytes
from .step import compute_bound, step_seconds
from .types import ServePoint

_SAMPLES = 32


def held_kv_bytes(model: Model, tp: int, prompt: int, output: int, dtype_bytes: int = 2) -> int:
    """Average KV bytes (per GPU) one request holds over its life: whole 16-token blocks of P + t, t = 0 .. O-1."""
    n = min(_SAMPLES, max(1, output))
    total = 0
    for i in range(n):
        t = (i * output) // n + (output // n) // 2 if output > n else i
        total += sequence_kv_bytes(model, tp, prompt + t + 1, dtype_bytes)
    return total // n


class PagedServer:
    """The fixed parts of one vLLM deployment: model, format, GPUs, TP size, workload and engine limits."""

    def __init__(self, model: Model, quant: Quant, machine: Machine, tp: int, prompt: int, output: int,
                 batched_tokens: int, max_running: int, kv_dtype_bytes: int = 2, eager: bool = False,
                 release: str = "", cached: int = 0, shared_kv_bytes: int = 0) -> None:
        """cached: prompt tokens each request finds in the prefix cache (prefix.py; 0 < cached < prompt): only the rest
        is prefilled, attending to the whole prompt before it. shared_kv_bytes: KV per GPU the shared prefix holds once
        in the pool (vLLM; 0 for slots, which each keep their own copy)."""
        self.model, self.quant, self.machine, self.tp = model, quant, machine, tp
        self.prompt, self.output = prompt, output
        self.cached = max(0, min(int(cached), prompt - 1))
        self.uncached = prompt - self.cached  # prompt tokens each request prefills
        self.shared_kv = int(shared_kv_bytes)
        self.budget = batched_tokens
        self.kv_dtype_bytes = kv_dtype_bytes
        self.eager = eager  # --enforce-eager: the host launches each step's kernels (step_seconds eager=)
        self.release = release  # the vLLM release whose kernels a step launches ('' = current; step_seconds release=)
        self.max_running = max(1, max_running)
        self.depth = prompt + output / 2.0  # average cached tokens of a decoding request
        self._memo: dict[int, ServePoint] = {}
        self.saturated: dict[int, bool] = {}  # prompts arrive faster than max_num_batched_tokens admits them
        self._steps: dict[tuple[float, float], float] = {}  # one iteration asks for the same step 2-4 times
        self._held: int | None = None

    def _step(self, b_dec: float, chunk_tokens: float) -> float:
        key = (b_dec, chunk_tokens)
        got = self._steps.get(key)
        if got is None:
            if len(self._steps) > 4096:
                self._steps.clear()
            # a chunk of C prompt tokens laid end to end over prompts of U uncached tokens touches C / U + 1 of them;
            # an uncached token attends to the cached prefix and the prompt before it: mean depth cached + U / 2
            depth = self.prompt / 2.0 if not self.cached else self.cached + self.uncached / 2.0
            got = self._steps[key] = step_seconds(self.model, self.quant, self.machine, self.tp, b_dec, self.depth,
                                                  chunk_tokens, depth, self.kv_dtype_bytes,
                                                  chunk_tokens / max(1, self.uncached) + 1.0, eager=self.eager,
                                                  release=self.release)
        return got

    def _kv_bytes(self, running: int) -> int:
        if self._held is None:  # the same for every concurrency of this server
            self._held = held_kv_bytes(self.model, self.tp, self.prompt, self.output, self.kv_dtype_bytes)
        if self.shared_kv:  # the shared prefix's blocks once, each request its own past them
            return int(running * (self._held - self.shared_kv) + self.shared_kv)
        return int(running * self._held)

    def _compute_bound(self, b_dec: float) -> bool:
        return compute_bound(self.model, self.quant, self.machine, self.tp, b_dec, self.depth, self.kv_dtype_bytes,
                             self.release)

    def _mean_step(self, b_dec: float, lam: float, chunk: float, per_step: float) -> float:
        """Mean step time when `lam` chunks arrive per step (at most per_step fit in one): steps carry floor(lam) or
        floor(lam) + 1 chunks, in the shares that make the mean lam (arrivals of a closed loop spread evenly)."""
        if lam >= per_step:
            return self._step(b_dec, per_step * chunk)
        k = math.floor(lam)
        f = lam - k
        return (1.0 - f) * self._step(b_dec, k * chunk) + f * self._step(b_dec, min(k + 1, per_step) * chunk)

    def budget_limit(self) -> int:
        """The most requests that can run before prompts arrive faster than the token budget admits them (beyond it
        they queue for prefill: throughput stays, the wait grows); max_running if the budget never binds."""
        top = self.max_running
        self.point(top)
        if not self.saturated[top]:
            return top
        lo, hi = 1, top
        while lo < hi:
            mid = (lo + hi + 1) // 2
            self.point(mid)
            if self.saturated[mid]:
                hi = mid - 1
            else:
                lo = mid
        return lo

    def point(self, concurrency: int) -> ServePoint:
        if concurrency not in self._memo:
            self._memo[concurrency] = self._solve(concurrency)
        return self._memo[concurrency]

    def _solve(self, concurrency: int) -> ServePoint:
        a = min(concurrency, self.max_running)
        P, O = self.uncached, self.output  # the prompt tokens a request prefills (all of them unless cached)
        b_dec = a * (O - 1) / max(O, 1)
        tpot = step_all = self._step(b_dec, 0.0)
        ttft = self._step(0.0, min(P, self.budget))
        wait = 0.0  # the rest of the running step (run_busy_loop takes new requests between steps); none alone
        saturated = False
        for _ in range(200):
            room = max(1.0, self.budget - b_dec)  # prefill tokens a step can still take
            chunk = min(float(P), room)
            n_chunks = math.ceil(P / chunk)
            per_step = room / chunk  # chunks a step can take (a partial one: vLLM chunks the next prompt)
            wait = 0.5 * step_all if a > 1 else 0.0
            life = wait + ttft + (O - 1) * tpot
            r = a / life
            b_dec = a * (O - 1) * tpot / life
            lam = r * P / chunk * step_all  # chunks arriving per step (prompt tokens / chunk size)
            saturated = lam > per_step * (1 + 1e-6)
            lam = min(lam, per_step)
            new_all = self._mean_step(b_dec, lam, chunk, per_step)
            # another request's chunks ride in the steps this one decodes in (none of its own)
            new_tpot = self._mean_step(b_dec, lam * (a - 1) / a, chunk, per_step)
            rest = P - (n_chunks - 1) * chunk  # the prompt's last, partial chunk
            new_ttft = (n_chunks - 1) * self._step(b_dec, chunk) + self._step(b_dec, rest)
            done = abs(new_all - step_all) < 1e-9 * step_all and abs(new_ttft - ttft) < 1e-9 * ttft
            step_all, tpot, ttft = 0.5 * (step_all + new_all), 0.5 * (tpot + new_tpot), 0.5 * (ttft + new_ttft)
            if done:
                break
        self.saturated[a] = saturated
        ttft += wait
        life = ttft + (O - 1) * tpot
        r = a / life
        if concurrency > a:  # clients beyond what the engine runs wait for a finished request
            ttft += (concurrency - a) / r
        kv = self._kv_bytes(a)
        cb = self._compute_bound(max(1.0, b_dec))
        return ServePoint(concurrency=concurrency, output_tokens_per_s=r * O, total_tokens_per_s=r * (self.prompt + O),
                          ttft_s=ttft, tpot_s=tpot, kv_bytes_per_gpu=kv, running=a, compute_bound=cb)
