"""The one rule that picks an option: fit's recommendation and its gates, hardware --for, models --fits.

Why one rule (issue 19): `fit --min-tps` used to check only the recommended (top-quality) option while
`hardware --for` accepted any quantization that met the speed, so the same card passed one and failed the other.
Now every command asks `select(options, gate)`:

    among the options that meet the gate (placement tier accepted, decode >= min_tps, measured quality loss no
    worse than the floor's, `--min-quant`), the one in the best tier (gpu, then partial, then cpu); within a tier, the best quality.

Options come best quality first. The scan is exact, in list order, never a bisection: along the quality list
neither memory (IQ4_XS is smaller than Q4_0, IQ3_XXS than Q2_K) nor speed (an A100 decodes Q8_0 faster than
Q5_K_M: its K-quant kernels are compute-bound) is monotone, so a bisection can skip the best option.
`LazyOptions` evaluates an option only when the scan reaches it, so the first pass stops at the first GPU fit.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

from ..domain import FitOption, Quant
from ..record import record

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
        from .quality import at_least

        return at_least(q.name, q.base, self.min_quant)

    def eligible(self, quants: Sequence[Quant]) -> tuple[Quant, ...]:
        """The quantizations the floor allows (callers that evaluate lazily skip the rest unevaluated)."""
        return tuple(q for q in quants if self.allows(q))


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


def select(options: Sequence[FitOption], g: Gate = Gate()) -> FitOption | None:
    """The option the gate picks (rule in the module docstring), or None when no option meets it."""
    for tier in g.tiers:
        for o in options:
            if o.placement.fit == tier and meets(o, g):
                return o
    return None


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
    def evaluated(self) -> int:
        return len(self._done)


@record
class GateResult:
    """How a requested gate came out on one fit: which option meets it (None: none does) and the closest miss."""

    require_fit: str | None
    min_tps: float | None
    option: FitOption | None  # the option select() picks under the gate
    best_tier: str  # the best placement any option reaches (gpu | partial | cpu | no)
    fastest: FitOption | None  # among options meeting the tier part: the fastest, to say how far off a miss is

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
        got = f"{tps:.1f} tokens/s" if tps else "no speed (speed unknown)"
        return (f"check failed: --min-tps {self.min_tps:g}, no option that {where} decodes that fast;"
                f" fastest is {self.fastest.quant.name} at {got}")


def check(options: Sequence[FitOption], require_fit: str | None, min_tps: float | None,
          max_rank: int | None = None, min_quant: str | None = None) -> GateResult:
    """Apply `--require-fit` / `--min-tps` (and the quality floor) to a fit's options with the shared rule."""
    g = gate(require_fit, min_tps, max_rank, min_quant)
    tier_ok = [o for o in options if meets(o, gate(require_fit, None, max_rank, min_quant))]
    fastest = max(tier_ok, key=lambda o: decode_tps(o) or 0.0, default=None)
    return GateResult(require_fit, min_tps, select(options, g),
                      tier_of(select(options, Gate(max_rank=max_rank, min_quant=min_quant))), fastest)
