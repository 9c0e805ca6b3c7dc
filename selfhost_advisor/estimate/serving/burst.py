"""A burst: N requests sent at once (`vllm bench serve` with request rate inf and no --max-concurrency), played step by
step through vLLM v1's scheduler rules until the last one finishes.

Why not the closed loop of paged.py: a burst has a ramp and a drain. All N prompts queue at t = 0; the engine runs at
most max_num_seqs of them (or what the KV pool admits) and takes the next from the queue as one finishes; once the queue
is empty the batch shrinks as requests finish, and with mixed output lengths the longest ones decode alone at small,
memory-bound batches. The published figure is total tokens / the time the last request finished, so that tail counts.

Scheduler rules (vllm/v1/core/sched/scheduler.py schedule(), chunked prefill on, FCFS):
- running requests first, in order: a decoding one takes 1 token of the step's budget (max_num_batched_tokens), one
  still in prefill takes what is left of its prompt up to the budget;
- a request whose KV does not fit preempts the newest running request, which loses its KV and goes back to the front
  of the queue to recompute prompt + generated tokens; no new request is admitted in a step that preempted;
- then waiting requests, in order, while budget, a seat (max_num_seqs) and KV blocks for the chunk remain.
A prompt's last chunk samples its first token in the same step. Step times are step.py's (the same step as the closed
loop). Between events (a request finishing, the pool filling) every step decodes the same requests one token deeper,
so such stretches are summed in closed form.

A finite closed loop (`vllm bench serve --max-concurrency N --num-prompts M`, simulate_burst clients=N) is the same
engine fed by N clients: N requests at t = 0, then one more each time one finishes, until M were sent. A request sent
after a finish in step k reaches the engine while step k + 1 runs and is scheduled in step k + 2 (the engine core drains
its input queue only between steps); an idle engine takes it at once. TTFT counts from the request's own send.

The API server in front (intake_s): vLLM's one API-server process prepares each chat request (chat template,
tokenization, input processing) on its event loop before the engine core sees it, one request at a time, so a burst
reaches the engine one intake apart and a closed loop's next request waits for the intake of those sent before it
(chat_intake_seconds; 0, the engine alone, unless the caller passes it). TTFT still counts from the client's send.
Before vLLM 0.19.0 (step.chat_render_on_loop) the template is rendered on the event loop itself and the request's first
suspension comes after it, so the requests sent together (a burst, a closed loop's first clients) are all rendered
before any reaches the engine: they enter as one wave at the end of their intake (session 30, serve32).
"""
from __future__ import annotations

import heapq
import math
from collections import deque

from ...domain import Machine, Model, Quant
from ...record import record
from .step import chat_render_on_loop, step_seconds

_BLOCK = 16  # tokens per KV block (vLLM's default block_size)
_STRETCH = 64  # decode steps summed as one (mean depth) before the step time is evaluated again


@record
class BurstResult:
    duration_s: float
    prompt_tokens: int
    output_tokens: int
    mean_ttft_s: float
    mean_tpot_s: float
    steps: int
    preemptions: int

    @property
    def output_tokens_per_s(self) -> float:
        return self.output_tokens / self.duration_s if self.duration_s else 0.0

    @property
    def total_tokens_per_s(self) -> float:
        return (self.prompt_tokens + self.output_tokens) / self.duration_s if self.duration_s else 0.0


def max_entropy_lengths(mean: float, n: int, cap: int, floor: int = 1) -> tuple[int, ...]:
    """n lengths whose average is `mean`, spread as the distribution with the most entropy for a known mean on
    [floor, cap]: an exponential truncated at cap (when only the mean of a length mix is published, this assumes the
    least about it). Deterministic quantiles (i + 0.5) / n, so a row gives the same answer every run. A mean above the
    interval's middle (outputs that mostly run to their cap and sometimes stop early, at EOS) is the mirror image: the
    distribution of floor + cap - x for the mirrored mean, whose exponential rises towards the cap."""
    n = max(1, int(n))
    if floor < mean and cap > floor and mean > (floor + cap) / 2.0:
        low = max_entropy_lengths(floor + cap - mean, n, cap, floor)
        return tuple(floor + cap - x for x in reversed(low))
    target = max(float(floor), min(float(mean), (floor + cap) / 2.0)) - floor
    span = float(cap - floor)
    if span <= 0 or target <= 0:
        return tuple([max(floor, int(round(mean)))] * n)

    def trunc_mean(theta: float) -> float:
        e = math.exp(-span / theta)
        return theta - span * e / (1.0 - e)

    lo, hi = 1e-6 * span, 1e6 * span
    for _ in range(200):  # the truncated mean grows with theta: bisect for the target
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if trunc_mean(mid) < target else (lo, mid)
    theta = math.sqrt(lo * hi)
    mass = 1.0 - math.exp(-span / theta)
    return tuple(floor + int(round(-theta * math.log(1.0 - (i + 0.5) / n * mass))) for i in range(n))


def arrival_order(lengths: tuple[int, ...]) -> tuple[int, ...]:
    """The lengths in an order with no length trend, as requests sampled from a dataset arrive.

    max_entropy_lengths returns sorted quantiles; sent in that order a burst would run shortest-first (the first
    admitted requests finish first and free their seats and KV), which a sample of ShareGPT does not do (vllm bench
    sends its sample in dataset order, benchmarks/datasets.py). Request k gets the quantile whose index has the k-th
    smallest bit-reversed value (the van der Corput order): every prefix of the burst spreads over the whole
    distribution, as a random sample does on average, and the same row gives the same order every run."""
    n = len(lengths)
    bits = max(1, (n - 1).bit_length())
    order = sorted(range(n), key=lambda i: int(format(i, f"0{bits}b")[::-1], 2))
    return tuple(lengths[i] for i in order)


def chat_intake_seconds(model: Model) -> float:
    """Seconds of the API server's serial work per /v1/chat/completions request before the engine sees it
    (data/serving.yaml chat_intake_us: vLLM's front end renders the Jinja chat template and tokenizes on its event loop,
    one request after another; the figure is the V1 front end's measured capacity in vllm PR #12287, 70.84 requests/s);
    0 for a model whose chat requests vLLM renders with openai_harmony instead (harmony_chat_archs: gpt-oss, token ids
    straight from Rust, no template or tokenizer call). For the burst replay of runs on the chat endpoint: `serve`'s
    closed-loop capacity does not add it."""
    from .step import serving_data

    c = serving_data()["vllm"]
    if model.arch in c.get("harmony_chat_archs", ()):
        return 0.0
    return float(c.get("chat_intake_us", 0.0)) * 1e-6


def _blocks(tokens: int) -> int:
    return -(-tokens // _BLOCK)


class _Burst:
    """The engine's state while a burst plays out (one instance per simulate_burst call)."""

    def __init__(self, model, quant, machine, tp, prompts, outputs, batched_tokens, max_running, pool_tokens, kvb,
                 clients=None, eager=False, release="", intake_s=0.0):
        self.args = (model, quant, machine, tp)
        self.eager = eager
        self.release = release
        self.kvb = kvb
        self.prompts, self.outputs = prompts, outputs
        n = len(prompts)
        self.target = list(prompts)  # tokens to (re)compute before decoding (prompt + generated after a preemption)
        self.computed = [0] * n  # tokens whose KV is in the pool
        self.generated = [0] * n
        self.first = [0.0] * n
        self.finish = [0.0] * n
        self.budget0, self.max_running = batched_tokens, max(1, max_running)
        self.pool = max(1, pool_tokens // _BLOCK)  # blocks
        self.used = 0
        # a closed loop of `clients`: the first ones at t = 0, then one more each time a request finishes
        self.sent = n if clients is None else min(n, max(1, int(clients)))
        self.arrive = [0.0] * n
        self.incoming: list[int] = []  # sent after a request finished, not yet in the engine's queue
        self.intake_s = max(0.0, float(intake_s))
        # requests the API server has taken in but the engine has not yet seen: (time it reaches the engine, request)
        self.pending: deque[tuple[float, int]] = deque()
        self.intake_free = 0.0  # when the API server's serial intake is next free
        if self.intake_s:
            self.waiting: deque[int] = deque()
            for i in range(self.sent):
                self._take_in(i, 0.0)
            if chat_render_on_loop(release):  # the requests sent together reach the engine together, after all
                self.pending = deque((self.intake_free, i) for _, i in self.pending)  # their renders (one wave)
        else:
            self.waiting = deque(range(self.sent))
        self.running: list[int] = []
        self.t = 0.0
        self.steps = self.preemptions = self.done = 0

    def _time(self, b: int, depth: float, pre: list[tuple[int, int, int]], k: int = 1) -> float:
        p_tok = sum(c for _, _, c in pre)
        p_depth = sum(c * (s + c / 2.0) for _, s, c in pre) / p_tok if p_tok else 0.0
        return k * step_seconds(*self.args, b, depth, p_tok, p_depth, self.kvb, len(pre), eager=self.eager,
                                release=self.release)

    def _preempt_newest(self) -> None:
        j = self.running.pop()  # the newest request gives its KV back and recomputes later
        self.used -= _blocks(self.computed[j])
        self.target[j] = self.prompts[j] + self.generated[j]
        self.computed[j] = 0
        self.waiting.appendleft(j)
        self.preemptions += 1

    def _finish(self, i: int) -> None:
        self.finish[i] = self.t
        self.used -= _blocks(self.computed[i])
        self.done += 1
        self._send()

    def _take_in(self, i: int, sent_at: float) -> None:
        """The API server's intake of request i, sent at `sent_at`: one request after another, intake_s each."""
        self.intake_free = max(self.intake_free, sent_at) + self.intake_s
        self.pending.append((self.intake_free, i))

    def release_pending(self) -> None:
        """Requests whose intake has ended by now join the engine's queue; an idle engine waits for the next one."""
        if not self.pending:
            return
        if not (self.running or self.waiting) and self.pending[0][0] > self.t:
            self.t = self.pending[0][0]
        while self.pending and self.pending[0][0] <= self.t:
            self.waiting.append(self.pending.popleft()[1])

    def _send(self) -> None:
        """A closed-loop client whose request just finished sends the next one (none left in a burst)."""
        if self.sent < len(self.prompts):
            self.arrive[self.sent] = self.t
            if self.intake_s:
                self._take_in(self.sent, self.t)
            else:
                self.incoming.append(self.sent)
            self.sent += 1

    def _admit_incoming(self, idle: bool) -> None:
        """Requests sent after a step's outputs reach the engine's queue while the next step runs (vLLM v1's
        EngineCoreProc.run_busy_loop drains its input queue only between steps, and the engine has begun the next
        step before the client sees the finished request), so they join the queue after that step; an idle engine
        blocks on its queue and takes them at once."""
        if self.incoming and (idle or not (self.running or self.waiting)):
            self.waiting.extend(self.incoming)
            self.incoming.clear()

    def step(self) -> None:
        """One scheduler step with prefill work or admissions (or a preemption).

        The loops run once per running request per step (80,000 steps of up to 1,024 requests for the published
        bursts, benchmarks/serving_accuracy.py), so they keep their state in locals and count blocks inline; the
        arithmetic is the same integer arithmetic as _blocks, the order the same as vLLM's."""
        self._admit_incoming(False)
        arrived, self.incoming = self.incoming, []  # they reach the queue while this step runs
        c, target, running, outputs, generated = self.computed, self.target, self.running, self.outputs, self.generated
        budget, used, pool = self.budget0, self.used, self.pool
        dec: list[int] = []
        dec_ctx = 0  # sum of the decoding requests' computed tokens (exact: integers)
        pre: list[tuple[int, int, int]] = []  # (request, first token, tokens)
        preempted = False
        for i in running:  # _preempt_newest pops only requests after this one, which the loop then never reaches
            ci = c[i]
            decoding = ci >= target[i]
            if decoding:  # a decode uses 1 token of the budget too; a new block where the last one is full
                if budget < 1:
                    continue
                new, need = 1, 1 if ci % _BLOCK == 0 else 0
            else:
                new = min(target[i] - ci, budget)
                if new <= 0:
                    continue
                need = -(-(ci + new) // _BLOCK) + (-ci // _BLOCK)  # _blocks(ci + new) - _blocks(ci)
            if used + need > pool:
                while used + need > pool and running[-1] != i:
                    self.used = used
                    self._preempt_newest()
                    used = self.used
                    preempted = True
                if used + need > pool:
                    break
            used += need
            budget -= new
            if decoding:
                dec.append(i)
                dec_ctx += ci
            else:
                pre.append((i, ci, new))
        if not preempted:
            waiting, max_running = self.waiting, self.max_running
            while waiting and budget > 0 and len(running) < max_running:
                i = waiting[0]
                new = min(target[i] - c[i], budget)
                need = _blocks(c[i] + new) - _blocks(c[i])
                if used + need > pool:
                    break
                running.append(waiting.popleft())
                used += need
                budget -= new
                pre.append((i, c[i], new))
        self.used = used
        if not dec and not pre:
            raise RuntimeError("burst cannot progress: one request's KV exceeds the pool")
        depth = dec_ctx / len(dec) if dec else 0.0
        self.t += self._time(len(dec), depth, pre)
        self.steps += 1
        ended = []
        for i in dec:
            c[i] += 1
            generated[i] += 1
            if generated[i] >= outputs[i]:
                ended.append(i)
        for i, s, n in pre:
            c[i] = s + n
            if c[i] >= target[i]:  # the prompt's last chunk samples the next token
                generated[i] += 1
                if not self.first[i]:
                    self.first[i] = self.t
                if generated[i] >= outputs[i]:
                    ended.append(i)
        self.waiting.extend(arrived)
        if ended:
            gone = set(ended)
            self.running = [i for i in running if i not in gone]
            for i in ended:
                self._finish(i)

    def drain(self) -> bool:
        """Steps that only decode the running requests (nothing waiting, no prefill left): summed in stretches that
        end when a request finishes or the pool fills. Returns False when the state is not of that kind."""
        c, run = self.computed, self.running
        if self.waiting or self.incoming or self.pending or not run or any(c[i] < self.target[i] for i in run):
            return False
        more = self.sent < len(self.prompts)  # a closed loop: the stretch ends where a finish sends the next request
        heap = [(self.outputs[i] - self.generated[i], i) for i in run]
        heapq.heapify(heap)
        b, ctx, g = len(run), sum(c[i] for i in run), 0
        tokens = sum(c[i] for i in run)
        free = self.pool * _BLOCK - tokens - _BLOCK * b  # tokens that surely fit before blocks run out
        gone: set[int] = set()
        while heap:
            k = min(heap[0][0] - g, _STRETCH)
            room = free // b
            if room < 1:
                if not g:
                    return False  # the pool is about to fill: the general step preempts
                break
            k = max(1, min(k, room))
            self.t += self._time(b, ctx / b + (k - 1) / 2.0, [], k)
            self.steps += k
            g += k
            ctx += b * k
            free -= b * k
            while heap and heap[0][0] <= g:
                _, i = heapq.heappop(heap)
                gone.add(i)
                c[i] += g
                self.generated[i] += g
                self.finish[i] = self.t
                self.used -= _blocks(c[i])
                self.done += 1
                self._send()
                b -= 1
                ctx -= c[i]
                free += c[i] + _BLOCK
            if more and gone:
                break
        for i in run:
            if i not in gone:
                self.used += _blocks(c[i] + g) - _blocks(c[i])
                c[i] += g
                self.generated[i] += g
        self.running = [i for i in run if i not in gone]
        return True


def simulate_burst(model: Model, quant: Quant, machine: Machine, tp: int, prompts: tuple[int, ...],
                   outputs: tuple[int, ...], *, batched_tokens: int, max_running: int, pool_tokens: int,
                   kv_dtype_bytes: int = 2, clients: int | None = None, eager: bool = False,
                   release: str = "", intake_s: float = 0.0) -> BurstResult:
    """Play N = len(prompts) requests sent at once; pool_tokens = the KV pool in tokens (estimate/vllm.py plan()).
    clients: a closed loop instead (`vllm bench serve --max-concurrency clients --num-prompts N`, request rate inf):
    the client starts `clients` requests at t = 0 and sends the next one each time one finishes; TTFT counts from a
    request's own send. eager: --enforce-eager (step_seconds eager=); release: the vLLM release (step_seconds
    release=). intake_s: the API server's serial time per request before the engine queues it (chat_intake_seconds;
    a burst's request i reaches the engine at (i + 1) x intake_s, a closed loop's at max(its send, the previous
    request's intake end) + intake_s; on a release before chat_render_on_loop_before the requests sent together all
    reach it when the last of their intakes ends)."""
    s = _Burst(model, quant, machine, tp, tuple(prompts), tuple(max(1, o) for o in outputs), batched_tokens,
               max_running, pool_tokens, kv_dtype_bytes, clients, eager, release, intake_s)
    n = len(prompts)
    while s.done < n:
        s.release_pending()
        if not s.drain():
            s.step()
    m = [i for i in range(n) if s.outputs[i] > 1]
    tpot = sum((s.finish[i] - s.first[i]) / (s.outputs[i] - 1) for i in m) / len(m) if m else 0.0
    return BurstResult(duration_s=s.t, prompt_tokens=sum(prompts), output_tokens=sum(s.outputs),
                       mean_ttft_s=sum(f - a for f, a in zip(s.first, s.arrive)) / n, mean_tpot_s=tpot, steps=s.steps, preemptions=s.preemptions)


def serve_burst(model: Model, machine: Machine, quant: Quant, prompts: tuple[int, ...], outputs: tuple[int, ...],
                options=None, clients: int | None = None, intake_s: float = 0.0) -> BurstResult | None:
    """A burst on vLLM with its default engine settings (or `options`, a FitRequest): None when the model does not
    fit (estimate/vllm.py plan()). intake_s: simulate_burst's (chat_intake_seconds for a run on the chat endpoint)."""
    from ...domain import FitRequest
    from ...record import replace
    from ..vllm import kv_dtype_bytes, plan

    req = replace(options or FitRequest(context=1), context=max(p + o for p, o in zip(prompts, outputs)),
                  engine="vllm")
    pl = plan(model, quant, machine, req)
    if pl.placement.fit != "gpu":
        return None
    return simulate_burst(model, quant, machine, pl.tp, prompts, outputs, batched_tokens=pl.max_num_batched_tokens,
                          max_running=pl.max_num_seqs, pool_tokens=pl.pool_tokens,
                          kv_dtype_bytes=kv_dtype_bytes(req.kv_cache_type), clients=clients,
                          eager=req.enforce_eager, release=req.engine_version, intake_s=intake_s)
