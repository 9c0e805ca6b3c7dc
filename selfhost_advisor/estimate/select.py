"""The one rule that picks an option: fit's recommendation and its gates, hardware --for, models --fits.

Why one rule (issue 19): `fit --min-tps` used to check only the recommended (top-quality) option while
`hardware --for` accepted any quantization that met the speed, so the same card passed one and failed the other.
Why this rule (issue 17): "the highest quality that fits" recommended qwen2.5:72b at F16, 4.7 tokens/s, on a
192 GB Mac, where Q8_0 decodes twice as fast and loses no more than BF16 does; and a 70B at Q8_0 offloaded at
1.1 tokens/s where a smaller quantization was faster. Every command asks `choose(options, gate)` (or `select`):

1. Gate. Eligible: placement tier accepted (`--require-fit`), decode >= `--min-tps`, measured loss no worse than
   the floor's (`--min-quant`; a format without a measured loss, vLLM's or MLX's: weight bits no fewer than the
   floor's, in whole bits). The gate is never relaxed: a pick meets every flag.
2. Tier. The best tier with an eligible option wins: gpu, then partial, then cpu. A partial offload never beats
   a full GPU fit of an eligible quantization, whatever the speeds.
3. Quality, saturated. Within the tier, the best quality is the lowest measured perplexity change against
   16-bit (data/quality.yaml: llama.cpp's Llama 3 8B scoreboard; KLD orders the types the same way). Options whose
   change exceeds the best one's by no more than switching FP16 <-> BF16 does (0.002517 +- 0.000536 on the same
   scoreboard; tolerance its 2-sigma bound, 0.0036) are "as good": Q8_0 (0.00265 +- 0.00101) is as good as F16,
   Q6_K (0.0217 +- 0.0019) is not. Among "as good" options the fastest decode is picked (ties: the better
   measured loss). When any eligible option is unmeasured (MLX, vLLM formats, F32) quality is
   the engine's order and nothing is saturated.
4. Usable speed. If that pick decodes below the floor - `--min-tps` when given, else the speed an adult reads at
   (238 words/min, Brysbaert 2019, x 100 tokens / 75 words = 5.3 tokens/s) - the best quality among the tier's
   options at or above the floor is picked instead (saturated as in 3). If none reaches it, the fastest of them
   (it comes nearest). The default floor trades quality for speed only down to Q4_K_M's measured loss, the lowest
   type llama.cpp's own notes call recommended (data/quality.yaml `speed_trade_floor`); below it the loss grows
   3.7x by Q3_K_M. An explicit --min-tps gates, so it trades as far as --min-quant allows.

Laws (tests/test_select_laws.py): the pick meets every gate; no eligible option of the same tier is at least as
fast and measurably better; raising --min-tps never picks a slower option; F16 beside Q8_0 in one tier picks
Q8_0 unless --min-quant F16 or --quant F16 asks for it. `Pick.rule` and `Pick.reason()` say which step decided.

The scan is exact, never a bisection: along the quality list neither memory (IQ4_XS is smaller than Q4_0) nor
speed (an A100 decodes Q8_0 faster than Q5_K_M: its K-quant kernels are compute-bound) is monotone.
`LazyOptions` evaluates an option only when the scan reaches it: a model that fits on GPU at a usable speed costs
its best option and the few within the tolerance (F16: Q8_0).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterator, Sequence

from ..domain import FitOption, Quant
from ..record import record
from ..units import tok_rate
from .quality import at_least, loss, same_quality_tolerance, speed_trade_floor, usable_tps

TIERS = ("gpu", "partial", "cpu")  # best first
REQUIRE_FIT = {"gpu": ("gpu",), "partial": ("gpu", "partial"), "any": TIERS}  # --require-fit -> accepted tiers


@record
class Gate:
    """What an option must meet to be picked."""

    tiers: tuple[str, ...] = TIERS  # placements accepted, best first
    min_tps: float | None = None  # single-stream decode tokens/s at least this
    max_rank: int | None = None  # quality floor: a quantization ranked below it (larger rank) is not eligible
    # quality floor by measured loss (`--min-quant`, estimate/quality.py): a type whose mean KLD against 16-bit is
    # worse than this type's is not eligible (None: no floor)
    min_quant: str | None = None

    def allows(self, q: Quant) -> bool:
        if self.max_rank is not None and q.rank > self.max_rank:
            return False
        if self.min_quant is None:
            return True
        if loss(q.name, q.base) is None:
            return _bits_at_least(q, self.min_quant)
        return at_least(q.name, q.base, self.min_quant)

    def eligible(self, quants: Sequence[Quant]) -> tuple[Quant, ...]:
        """The quantizations the floor allows (callers that evaluate lazily skip the rest unevaluated)."""
        if isinstance(quants, tuple):
            return _eligible(self, quants)
        return tuple(q for q in quants if self.allows(q))


@lru_cache(maxsize=256)
def _bits_at_least(q: Quant, floor: str) -> bool:
    """An unmeasured format (vLLM's FP8 / GPTQ-INT4 / AWQ-INT4, the MLX formats, MXFP4_MOE, F32) against the floor: its
    weight bits at least the floor's, in whole bits as `cost --min-quant` counts them (cost/floor.weight_bits: Q8_0 8,
    Q4_K_M 4, IQ3_M 3; FP8 8, AWQ-INT4 4, MLX 3bit 3). Why (session 33): with no measured loss such a format passed
    every floor, so `fit --engine vllm --min-quant Q8_0` printed 'Quality floor: Q8_0' and recommended GPTQ-INT4, and
    --require-fit passed with it. The default floor (IQ3_M, 3 bits) passes every one of them, as before; a format of
    unknown width passes (as an unmeasured one did)."""
    from ..cost.floor import weight_bits

    bits, floor_bits = weight_bits(q.name, q.default_type), weight_bits(floor)
    return bits is None or floor_bits is None or bits >= floor_bits - 1e-9


@lru_cache(maxsize=64)
def _eligible(g: Gate, quants: tuple[Quant, ...]) -> tuple[Quant, ...]:
    """Gate.eligible of a tuple, once per (gate, quantizations): `models --fits` asks it with the same two for every
    catalog model (~15,000 Gate.allows calls, ~3% of the command). A pure function of the records and the shipped
    quality table."""
    return tuple(q for q in quants if g.allows(q))


def gate(require_fit: str | None = None, min_tps: float | None = None, max_rank: int | None = None,
         min_quant: str | None = None) -> Gate:
    """The gate of `--require-fit gpu|partial|any` (None: any tier), `--min-tps` and `--min-quant`."""
    return Gate(REQUIRE_FIT[require_fit or "any"], min_tps, max_rank, min_quant)


def decode_tps(o: FitOption) -> float | None:
    return o.speed.decode_tokens_per_s if o.speed and o.speed.decode_tokens_per_s else None


def meets(o: FitOption, g: Gate) -> bool:
    if o.placement.fit not in g.tiers:
        return False
    if not g.allows(o.quant):
        return False
    tps = decode_tps(o)
    return g.min_tps is None or (tps is not None and tps >= g.min_tps)


RULES = ("best_quality", "same_quality", "usable_speed", "fastest", "none")  # Pick.rule, step 3/4 of the docstring
_TIER_TEXT = {"gpu": "fits fully on GPU", "partial": "no option fits fully on GPU; partial offload",
              "cpu": "no GPU option; runs from RAM"}


@record
class Pick:
    """The option the rule picks, which step decided, and what it was weighed against."""

    option: FitOption | None
    rule: str  # one of RULES
    floor_tps: float  # the usable-speed floor applied: --min-tps, else the reading-speed default
    floor_given: bool = False  # the floor is the user's --min-tps
    best: FitOption | None = None  # the tier's best-quality option, when the pick is another one
    measured: bool = True  # quality compared by measured loss (False: the engine's order, MLX / vLLM formats)
    # the model embeds text: the losses that ordered the options are a chat model's perplexity, not its retrieval quality
    embedding: bool = False

    def reason(self) -> str:
        """One line: the tier and why this option (text footers; `recommended_reason` in the JSON)."""
        o, b = self.option, self.best
        if o is None:
            return "no option meets the gate"
        where = _TIER_TEXT.get(o.placement.fit, o.placement.fit)
        floor = f"--min-tps {self.floor_tps:g}" if self.floor_given else f"reading speed, {self.floor_tps:g} tokens/s"
        those = "" if self.floor_given else f" at {speed_trade_floor()} quality or better"
        if self.rule == "fastest" and b is None:
            return f"{where}; nothing{those} reaches {floor}; the best quality is also the fastest"
        if self.embedding and (self.rule in ("best_quality", "same_quality") or b is None):
            # fit shows no loss for it (render/text.py), so the reason claims none either
            return f"{where}; the lowest loss on a chat model's scoreboard (no quality is measured for embedding models)"
        if self.rule == "best_quality" or b is None:
            met = f" that decodes at {floor} or more" if self.floor_given else ""  # the gate kept only those
            return f"{where}; the best {'measured quality' if self.measured else 'quality in the engine order (unmeasured)'}{met}"
        if self.rule == "same_quality":
            return (f"{where}; as good as {b.quant.name} by measured loss (within BF16 vs FP16) and "
                    f"faster, {_tps(o)} vs {_tps(b)} tokens/s")
        if self.rule == "usable_speed":
            return f"{where}; the best quality that decodes at {floor} or more ({b.quant.name}: {_tps(b)})"
        return (f"{where}; nothing{those} reaches {floor}, so the fastest of those; the best quality, "
                f"{b.quant.name}, decodes at {_tps(b)}")


def rule_note(min_tps: float | None = None) -> str:
    """The footer of the planning tables: how each row's quantization was picked."""
    floor = (f"--min-tps {min_tps:g}" if min_tps is not None
             else f"{usable_tps():g} tokens/s (reading speed; --min-tps sets it)")
    return ("quant: best placement, then best measured quality; a faster one wins when it is as good by measured loss "
            f"(Q8_0 beside F16) or when the better one decodes below {floor}; --json pick_reason says which.")


def _tps(o: FitOption) -> str:
    t = decode_tps(o)
    return "?" if t is None else tok_rate(t)


def _quants(options: Sequence[FitOption]) -> list[Quant]:
    """The options' quantizations, without evaluating lazy options."""
    return list(options.quants) if isinstance(options, LazyOptions) else [o.quant for o in options]


def _order(quants: list[Quant]) -> tuple[list[int], list[float | None]]:
    """Indices best quality first and their measured losses: by loss (then the engine's order) when every option is
    measured; the engine's order, unsaturated (losses None), when any is not."""
    losses = [loss(q.name, q.base) for q in quants]
    if any(x is None for x in losses):
        return list(range(len(quants))), [None] * len(quants)
    return sorted(range(len(quants)), key=lambda i: (losses[i], quants[i].rank)), losses


def _usable(o: FitOption, floor: float) -> bool:
    t = decode_tps(o)
    return t is None or t >= floor  # an unknown speed is not held against an option (the --min-tps gate refuses it)


def choose(options: Sequence[FitOption], g: Gate = Gate()) -> Pick:
    """The option the gate picks and why (rule in the module docstring); Pick.option None when nothing meets it."""
    order, losses = _order(_quants(options))
    floor = g.min_tps if g.min_tps is not None else usable_tps()
    tol = same_quality_tolerance()
    trade = speed_trade_floor()
    measured = bool(losses) and losses[0] is not None

    pos = {i: k for k, i in enumerate(order)}

    def faster(i: int) -> tuple:  # speed, then quality (position in the quality order)
        return decode_tps(options[i]) or 0.0, -pos[i]

    def best(pred: Callable[[int], bool]) -> tuple[int | None, int | None]:
        """(best-quality index meeting pred, the fastest of those as good as it)."""
        for k, i in enumerate(order):
            if pred(i):
                group = [i]
                if losses[i] is not None:
                    for j in order[k + 1:]:
                        if losses[j] - losses[i] > tol:  # type: ignore[operator]
                            break  # sorted by loss: the rest lose measurably more
                        if pred(j):
                            group.append(j)
                return i, max(group, key=faster)
        return None, None

    for tier in g.tiers:
        def in_tier(i: int, tier: str = tier) -> bool:
            return options[i].placement.fit == tier and meets(options[i], g)

        top, pick = best(in_tier)
        if top is None or pick is None:
            continue
        given = g.min_tps is not None
        if _usable(options[pick], floor):
            return Pick(options[pick], "best_quality" if pick == top else "same_quality", floor, given,
                        None if pick == top else options[top], measured)
        def tradable(i: int) -> bool:  # the default floor buys speed down to Q4_K_M's loss only; --min-tps further
            q = options[i].quant
            return in_tier(i) and (given or at_least(q.name, q.base, trade))

        _, fast = best(lambda i: tradable(i) and _usable(options[i], floor))
        if fast is not None:
            return Pick(options[fast], "usable_speed", floor, given, options[top], measured)
        fastest = max([pick] + [i for i in order if tradable(i)], key=faster)
        return Pick(options[fastest], "fastest", floor, given, None if fastest == top else options[top], measured)
    return Pick(None, "none", floor, g.min_tps is not None)


def select(options: Sequence[FitOption], g: Gate = Gate()) -> FitOption | None:
    """The option the gate picks (choose(...).option), or None when no option meets it."""
    return choose(options, g).option


def tier_of(option: FitOption | None) -> str:
    return option.placement.fit if option is not None else "no"


class LazyOptions(Sequence[FitOption]):
    """The options of `quants`, each evaluated on first access and kept (a scan per tier re-reads them free)."""

    def __init__(self, quants: Sequence[Quant], evaluate: Callable[[Quant], FitOption]) -> None:
        self._quants = tuple(quants)
        self._evaluate = evaluate
        self._done: dict[int, FitOption] = {}

    def __len__(self) -> int:
        return len(self._quants)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if i not in self._done:
            self._done[i] = self._evaluate(self._quants[i])
        return self._done[i]

    def __iter__(self) -> Iterator[FitOption]:
        return (self[i] for i in range(len(self)))

    @property
    def quants(self) -> tuple[Quant, ...]:
        """The quantizations, known without evaluating anything."""
        return self._quants

    @property
    def evaluated(self) -> int:
        return len(self._done)


@record
class GateResult:
    """How a requested gate came out on one fit: which option meets it (None: none does) and the closest miss."""

    require_fit: str | None
    min_tps: float | None
    pick: Pick  # what choose() picks under the gate, and why (pick.option None: nothing meets it)
    best_tier: str  # the best placement any option reaches (gpu | partial | cpu | no)
    fastest: FitOption | None  # among options meeting the tier part: the fastest, to say how far off a miss is

    @property
    def option(self) -> FitOption | None:
        return self.pick.option

    @property
    def passed(self) -> bool:
        return self.option is not None

    def failure(self) -> str:
        """The check-failed line: which flag, and what came closest."""
        if self.min_tps is None:
            return f"check failed: --require-fit {self.require_fit}, best placement is {self.best_tier}"
        where = f"fits ({'/'.join(REQUIRE_FIT[self.require_fit or 'any'])})"
        tps = decode_tps(self.fastest) if self.fastest else None
        if self.fastest is None:
            return f"check failed: --min-tps {self.min_tps:g}, no option {where}"
        got = f"{tok_rate(tps)} tokens/s" if tps else "no speed (speed unknown)"
        return (f"check failed: --min-tps {self.min_tps:g}, no option that {where} decodes that fast;"
                f" fastest is {self.fastest.quant.name} at {got}")


def check(options: Sequence[FitOption], require_fit: str | None, min_tps: float | None,
          max_rank: int | None = None, min_quant: str | None = None) -> GateResult:
    """Apply `--require-fit` / `--min-tps` (and the quality floor) to a fit's options with the shared rule."""
    g = gate(require_fit, min_tps, max_rank, min_quant)
    tier_ok = [o for o in options if meets(o, gate(require_fit, None, max_rank, min_quant))]
    fastest = max(tier_ok, key=lambda o: decode_tps(o) or 0.0, default=None)
    return GateResult(require_fit, min_tps, choose(options, g),
                      tier_of(select(options, Gate(max_rank=max_rank, min_quant=min_quant))), fastest)
