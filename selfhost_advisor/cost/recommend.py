"""The verdict: self-host, cloud or hybrid, with ranked reasons (each naming its numbers) and what would change it.

The verdict is the kind of the cheapest priced option (bought boxes, rented boxes, the priced hybrid, the reference
API) unless a hard constraint forces it: --air-gapped and --regulated leave only owned boxes (an API and a rented cloud
GPU are both third parties holding the data); --no-ops-team and --need-frontier leave only the API. So the verdict never
contradicts the numbers printed beside it. Weights order the reasons: constraints 100-90, cost 50, hybrid 48,
break-even 45, payback 44, model quality 42, low volume 35.
"""
from __future__ import annotations

from ..record import record
from .types import CloudOption, Constraints, Hybrid, Reason, Recommendation, SelfHostOption, Workload, monthly_rate_of
from . import breakeven

REGULATED = {
    "hipaa": "HIPAA: protected health information may only go to a service under a signed Business Associate "
             "Agreement; standard API terms do not include one, so public APIs are excluded (rerun without --regulated "
             "if your contract has a BAA)",
    "gdpr": "GDPR: personal data must stay in the EU/EEA or move under an adequacy decision or standard contractual "
            "clauses; APIs without EU data residency are excluded (rerun without --regulated if your provider contract "
            "covers residency)",
    "finance": "financial data: regulators expect vendor due diligence, audit rights and record retention for "
               "third-party processing (e.g. GLBA, SEC/FINRA books-and-records); public APIs under standard terms are "
               "excluded",
    "legal": "legal privilege: disclosing privileged material to a third party risks waiving privilege; public APIs "
             "are excluded",
}


def _listed_like(listed: tuple[CloudOption, int] | None) -> str:
    """The like-for-like comparison a reviewer asks for first, when data/prices.yaml has no hosted endpoint of the
    model but genai-prices prices some (compare._listed_same_model): the cheapest, its bill and how to compare it."""
    if listed is None:
        return "; no hosted endpoint of the same open model is listed to compare"
    o, n = listed
    return (f"; genai-prices prices the same open weights hosted at {n} endpoint{'s' if n > 1 else ''}, the cheapest "
            f"{o.price.id} at {_usd(o.monthly_usd)}/month (${o.price.input_usd_per_mtok:.3g}/"
            f"${o.price.output_usd_per_mtok:.3g} per Mtok; its served format unpublished here): compare with "
            f"--cloud {o.price.id}")


def _discounted(cost_of_capital: float) -> str:
    """How a payback was counted: the saving discounted at the cost of capital when one is given."""
    return f", discounted at {cost_of_capital * 100:.3g}%/yr" if cost_of_capital > 0 else ""


def _hybrid_payback(hybrid, best_buy, ref, amortize_months: float, cost_of_capital: float = 0.0) -> str:
    """The hybrid's own payback (breakeven.hybrid_payback): a verdict that recommends buying N boxes gives N boxes'
    payback; the all-owned fleet's is another purchase (more boxes)."""
    pb = breakeven.hybrid_payback(hybrid, best_buy, ref, monthly_rate_of(cost_of_capital))
    if pb is None:
        return ""
    capex, months = pb
    if months is None:
        return f"; the {_usd(capex)} of hardware never pays back against {ref.price.id} alone"
    within = "within" if months <= amortize_months else "beyond"
    return (f"; the {_usd(capex)} of hardware pays back in {months:.0f} months against {ref.price.id} alone"
            f"{_discounted(cost_of_capital)}, {within} the {amortize_months:g}-month amortization")


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def rate_usd(x: float) -> str:
    """A $/GPU-hour rate to the cent, or to a tenth of a cent when the median has one ($0.525), so units x GPUs x
    rate x hours reproduces the printed rental bill."""
    text = f"{x:.3f}"
    return "$" + (text[:-1] if text.endswith("0") else text)


def pct(x: float) -> str:
    """A share as a percentage; below 1% with one decimal (a box busy 0.4% of the time is not "0%" busy)."""
    return f"{x:.1%}" if 0 < x < 0.01 else f"{x:.0%}"


def tokens_short(n: float) -> str:
    """A token count as the text says it: 372M, 1.5B, 2T (three significant figures)."""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}"


RENTAL_THIRD_PARTY = ("a rented cloud GPU is a third party holding the data too (HHS: a cloud provider that stores ePHI is "
                      "a business associate even when it holds only encrypted data, so it needs a BAA like an API does), "
                      "so rented GPUs are excluded as well")


@record
class Choice:
    kind: str  # self-host | hybrid | cloud
    mode: str  # buy | rent | hybrid | api
    name: str
    monthly_usd: float


def _options(best_buy: SelfHostOption | None, best_rent: SelfHostOption | None, hybrid: Hybrid | None,
             ref: CloudOption | None) -> list[Choice]:
    out = []
    for o in (best_buy, best_rent):
        if o is not None:
            verb = "bought" if o.mode == "buy" else f"rented ({rate_usd(o.box.rental_usd_per_gpu_hour)}/GPU-h)"
            boxes = "box" if o.units == 1 else "boxes"
            out.append(Choice("self-host", o.mode, f"{o.units} {verb} {boxes} of {o.box.label}", o.monthly_usd.total))
    if hybrid is not None and hybrid.is_mix:
        out.append(Choice("hybrid", "hybrid", f"hybrid of {hybrid.base_units + hybrid.spare_units} bought "
                          f"{hybrid.box.label} + {hybrid.api} for {tokens_short(hybrid.overflow_tokens)} overflow tokens",
                          hybrid.total_usd))
    elif hybrid is not None and hybrid.is_tail:
        n = hybrid.base_units + hybrid.spare_units
        out.append(Choice("self-host", "buy", f"{n} bought {'box' if n == 1 else 'boxes'} of {hybrid.box.label} "
                          f"(+ {tokens_short(hybrid.overflow_tokens)} busiest-hour tokens to {hybrid.api})", hybrid.total_usd))
    if ref is not None:
        out.append(Choice("cloud", "api", ref.price.id, ref.monthly_usd))
    return sorted(out, key=lambda c: c.monthly_usd)


def _not_priced(unpriced: tuple[str, ...], no_price: tuple[str, ...], no_power: tuple[str, ...], *,
                rent: bool) -> tuple[str, str]:
    """(what is missing, what would supply it) for boxes that serve the load but are not priced to buy: no price, no
    TDP to price their electricity (an Apple or APU configuration, a spec-table row, even with --gpu-price), or both.
    Why: a Mac given --gpu-price but no TDP was said to need 'more memory or a smaller quantization'."""
    it = "it" if len(unpriced) == 1 else "them"
    or_rent = " or a rental rate (--rent-price)" if rent else ""
    if not no_power:
        return (f"no price is known to buy{' or rent' if rent else ''} {it}",
                f"a purchase price (--gpu-price, USD a GPU){or_rent}")
    if not no_price:
        return f"no power draw (TDP) is known to price owning {it}", f"the board power in a spec sheet (tdp=){or_rent}"
    both = set(no_price) & set(no_power) == set(unpriced)
    return (f"{'neither a price nor' if both else 'no price or no'} power draw (TDP) is known to buy {it}",
            f"a spec sheet with the price and board power (price=, tdp=){or_rent}")


def _bring_in(short_of: tuple[str, ...]) -> str:
    """What would bring self-hosting into a comparison no box serves, by what the boxes were short of
    (ServingCapacity.short_of, estimate/serving/types.SHORT_OF). It said 'more memory or a smaller quantization' for
    every case, also for a Mac that held the model but decoded 6.3 tokens/s against the 10 per user asked."""
    kinds = set(short_of) or {"memory"}
    parts = (["hardware with more memory or a smaller quantization"] if kinds & {"memory", "floor"} else []) \
        + (["faster hardware or a looser per-user target (--min-stream-speed, --max-ttft)"] if "targets" in kinds
           else []) \
        + (["an engine that runs on the excluded boxes (--engine llamacpp)"] if "unsupported" in kinds else []) \
        + (["a hardware profile or spec sheet with the GPU's bandwidth and FLOPS"] if "speed" in kinds else [])
    return " or ".join(parts or ["hardware with more memory or a smaller quantization"]) + \
        " would bring self-hosting into the comparison"


def recommend(
    w: Workload,
    best_self: SelfHostOption | None,
    best_cloud: CloudOption | None,
    constraints: Constraints,
    break_even_tokens: int | None,
    parity_kwh: float | None,
    electricity_usd_per_kwh: float,
    clear_win_ratio: float = 0.8,
    low_volume_tokens: float = 1e8,
    *,
    best_buy: SelfHostOption | None = None,
    best_rent: SelfHostOption | None = None,
    hybrid: Hybrid | None = None,
    model_name: str = "the open model",
    same_model: CloudOption | None = None,
    amortize_months: float = 36.0,
    same_model_hint: str | None = None,
    same_model_listed: tuple[CloudOption, int] | None = None,
    excluded_ref: CloudOption | None = None,
    show_npv: bool = False,
    unpriced: tuple[str, ...] = (),
    no_price: tuple[str, ...] = (),
    no_power: tuple[str, ...] = (),
    verdict_only: bool = False,
    short_of: tuple[str, ...] = (),
    cost_of_capital: float = 0.0,
) -> Recommendation:
    """Decide. `best_self` (cheapest of buy and rent) is kept for callers that pass one option; `best_buy` and
    `best_rent` give both. `same_model`: the cheapest hosted endpoint of the same open model, if any.
    verdict_only: the choice and the two names only, no reasons and no levers (the sensitivity re-runs read the
    choice alone: cost/sensitivity.py verdict_key)."""
    if best_buy is None and best_rent is None and best_self is not None:
        best_buy, best_rent = (best_self, None) if best_self.mode == "buy" else (None, best_self)
    ref = best_cloud
    reasons: list[Reason] = []
    changes: list[str] = []
    cloud_name = ref.price.id if ref else None

    hard = None
    if constraints.air_gapped:
        hard = "air-gapped: no cloud API or rented GPU can be reached, so only owned hardware can serve"
    elif constraints.regulated:
        hard = REGULATED[constraints.regulated] + "; " + RENTAL_THIRD_PARTY
    if hard:
        opts = _options(best_buy, None, None, None)
        if verdict_only:
            return Recommendation("self-host", (), (), opts[0].name if opts else None, cloud_name)
        reasons.append(Reason(hard, "self-host", 100))
        if not opts and unpriced:  # boxes that serve the load but have no price (or no TDP) to buy them at
            names = ", ".join(unpriced)
            missing, supply = _not_priced(unpriced, no_price, no_power, rent=False)
            reasons.append(Reason(f"{names} serve{'s' if len(unpriced) == 1 else ''} this model and load but {missing} "
                                  f"(see excluded), so the owned option is not priced: give {supply}", "neutral", 90))
            return Recommendation("self-host", tuple(reasons), (), None, cloud_name)
        if not opts:
            reasons.append(Reason("no box in the comparison can serve this model and load: add --hardware", "neutral", 90))
            return Recommendation("self-host", tuple(reasons), (), None, cloud_name)
        win = opts[0]
        # what a buyer signs: the money out on day one and what the boxes cost a month to run once bought (power,
        # operations, space: the monthly total less the amortization that spreads that day-one outlay)
        m = best_buy.monthly_usd
        running = m.total - m.amortization
        reasons.append(Reason(f"cheapest compliant option: {win.name} at {_usd(win.monthly_usd)}/month "
                              f"(${best_buy.usd_per_million_tokens:.2f}/Mtok): {_usd(best_buy.capex_usd)} of hardware "
                              f"up front, then {_usd(running)}/month to run it (power, operations"
                              f"{', space' if m.space else ''}) plus {_usd(m.amortization)}/month of amortization",
                              "self-host", 50))
        _licence(reasons, best_buy.box)
        if constraints.no_ops_team:
            reasons.append(Reason(f"--no-ops-team: someone must still run these {best_buy.units} boxes "
                                  f"({_usd(best_buy.monthly_usd.operations)}/month of operations are priced in)",
                                  "neutral", 40))
        # every constraint that excludes the APIs and rented GPUs: dropping --air-gapped alone leaves --regulated's
        # exclusions in force, so "without --air-gapped" named an option the user still could not use (session 32)
        flag = " and ".join((["--air-gapped"] if constraints.air_gapped else [])
                            + ([f"--regulated {constraints.regulated}"] if constraints.regulated else []))
        unforced = _options(best_buy, best_rent, None, ref or excluded_ref)
        cheapest = min(unforced, key=lambda o: o.monthly_usd) if unforced else win
        if cheapest.monthly_usd < win.monthly_usd - 0.5:
            changes.append(f"without {flag} the cheapest option would be {cheapest.name} at "
                           f"{_usd(cheapest.monthly_usd)}/month: the constraint costs "
                           f"{_usd(win.monthly_usd - cheapest.monthly_usd)}/month")
        else:
            changes.append(f"dropping {flag} would not change the cheapest option ({win.name})")
        return Recommendation("self-host", tuple(sorted(reasons, key=lambda r: -r.weight)), tuple(changes),
                              win.name, cloud_name)

    opts = _options(best_buy, best_rent, hybrid, ref)
    if not opts:
        return Recommendation("cloud", (Reason("nothing to compare", "neutral", 0),), (), None, None)
    self_opts = [o for o in opts if o.kind == "self-host"]
    best_self_name = self_opts[0].name if self_opts else None
    if ref is None:
        win = opts[0]
        reasons.append(Reason(f"no API to compare (all excluded): cheapest is {win.name} at {_usd(win.monthly_usd)}/month",
                              win.kind, 50))
        return Recommendation(win.kind, tuple(reasons), (), best_self_name, None)
    if not self_opts and unpriced:  # boxes that serve the load but have no price (or no TDP) to buy or rent them at
        names = ", ".join(unpriced)
        missing, supply = _not_priced(unpriced, no_price, no_power, rent=True)
        reasons.append(Reason(f"{names} serve{'s' if len(unpriced) == 1 else ''} this load but {missing} (see excluded), "
                              f"so self-hosting is not priced; {cloud_name} costs {_usd(ref.monthly_usd)}/month",
                              "cloud", 90))
        changes.append(f"{supply} would bring {names} into the comparison")
        return Recommendation("cloud", tuple(reasons), tuple(changes), None, cloud_name)
    if not self_opts:
        reasons.append(Reason(f"no box in the comparison can serve this model at this load (see excluded); "
                              f"{cloud_name} costs {_usd(ref.monthly_usd)}/month", "cloud", 90))
        changes.append(_bring_in(short_of))
        return Recommendation("cloud", tuple(reasons), tuple(changes), None, cloud_name)

    win, runner = opts[0], opts[1] if len(opts) > 1 else None
    forced = "cloud" if constraints.need_frontier or constraints.no_ops_team else None
    choice = forced or win.kind
    if verdict_only:
        return Recommendation(choice, (), (), best_self_name, cloud_name)
    if constraints.need_frontier:
        reasons.append(Reason(f"frontier quality needed (--need-frontier): {model_name} is not a substitute, so the "
                              f"verdict is the API ({cloud_name} {_usd(ref.monthly_usd)}/month) whatever the cheapest "
                              f"self-hosted option ({win.name if win.kind != 'cloud' else best_self_name}) costs",
                              "cloud", 95))
    elif constraints.no_ops_team:
        s = self_opts[0]
        gap = ref.monthly_usd - s.monthly_usd
        tail = (f"self-hosting ({s.name}) would save {_usd(gap)}/month, less than a hire costs"
                if gap > 0 else f"the API is also cheaper than {s.name} ({_usd(s.monthly_usd)}/month)")
        reasons.append(Reason(f"no ML operations staff (--no-ops-team): no one can run servers, so the verdict is the "
                              f"API ({cloud_name} {_usd(ref.monthly_usd)}/month); {tail}", "cloud", 90))

    listing = ", ".join(f"{o.name} {_usd(o.monthly_usd)}" for o in opts[:4])
    if runner is not None:
        ratio = runner.monthly_usd / win.monthly_usd if win.monthly_usd > 0 else float("inf")
        close = (" - within the +-20% the estimates carry, so a close call" if ratio < 1 / clear_win_ratio else "")
        gap = (f"{1 - 1 / ratio:.0%} less than" if ratio < 2 else f"{ratio:.1f}x less than") if ratio != float("inf") \
            else "less than"
        reasons.append(Reason(f"cost at this volume, cheapest first: {listing} a month; {win.name} costs {gap} "
                              f"{runner.name}{close}", win.kind, 50))
    else:
        reasons.append(Reason(f"cost at this volume: {listing} a month", win.kind, 50))

    if not forced and win.mode == "buy" and best_buy is not None and win.name.endswith(f"of {best_buy.box.label}"):
        _licence(reasons, best_buy.box)
    elif not forced and win.mode in ("hybrid", "buy") and hybrid is not None and (hybrid.is_mix or hybrid.is_tail):
        _licence(reasons, hybrid.box)

    if hybrid is not None:
        full = best_buy.monthly_usd.total if best_buy is not None else None
        if hybrid.is_mix:
            to_api = hybrid.overflow_tokens / w.monthly_tokens
            capex = (hybrid.box.capex_usd or 0.0) * (hybrid.base_units + hybrid.spare_units)
            reasons.append(Reason(
                f"priced hybrid: {hybrid.base_units} base + {hybrid.spare_units} spare {hybrid.box.label} boxes "
                f"({_usd(capex)} of hardware) carry the base load ({_usd(hybrid.self_host_usd)}/month) and "
                f"{tokens_short(hybrid.overflow_tokens)} tokens ({pct(to_api)}) overflow to {hybrid.api} "
                f"({_usd(hybrid.api_overflow_usd)}); total "
                f"{_usd(hybrid.total_usd)} vs {_usd(full)} all owned ({hybrid.all_owned_units} + {hybrid.spare_units} spare "
                f"boxes) and "
                f"{_usd(ref.monthly_usd)} all API" + _hybrid_payback(hybrid, best_buy, ref, amortize_months,
                                                                           cost_of_capital),
                "hybrid", 48))
        elif hybrid.is_tail:
            reasons.append(Reason(
                f"{hybrid.base_units} + {hybrid.spare_units} spare {hybrid.box.label} boxes carry all but "
                f"{tokens_short(hybrid.overflow_tokens)} tokens of the busiest hour ({hybrid.overflow_hours * 60:.2g} minutes "
                f"of the month above them): owning {hybrid.base_units} boxes is the plan, those tokens queue or cost "
                f"${hybrid.api_overflow_usd:,.2f} on {hybrid.api}; total {_usd(hybrid.total_usd)} vs {_usd(full)} for "
                f"{hybrid.all_owned_units} boxes sized for the peak hour. Not counted as a hybrid: the API would serve "
                f"in under 1 hour of the month, below the hourly resolution of the traffic inputs", "self-host", 48))
        else:
            end = "all API" if hybrid.base_units == 0 else f"all owned ({hybrid.all_owned_units} boxes)"
            reasons.append(Reason(
                f"no owned + API split beats the pure options: over 0-{hybrid.all_owned_units} {hybrid.box.label} boxes "
                f"the cheapest mix is {end} at {_usd(hybrid.total_usd)}/month", "neutral", 48))

    if best_buy is not None:
        label = best_buy.box.label
        if break_even_tokens:
            dist = w.monthly_tokens / break_even_tokens
            reasons.append(Reason(f"break-even: buying {label} costs less than {cloud_name} above "
                                  f"{tokens_short(break_even_tokens)} tokens/month; this workload is {dist:.2g}x that",
                                  "self-host" if dist >= 1 else "cloud", 45))
        else:
            reasons.append(Reason(_no_break_even(label, cloud_name, best_buy.capacity_tokens_per_month, w,
                                                 hybrid is not None and hybrid.is_mix and hybrid.base_units > 0
                                                 and hybrid.box.label == label), "cloud", 45))
        pb = best_buy.payback_months
        if pb is None:
            reasons.append(Reason(f"{label}: the {_usd(best_buy.capex_usd)} of hardware never pays back: running it "
                                  f"({_usd(best_buy.monthly_usd.total - best_buy.monthly_usd.amortization)}/month) costs at least "
                                  f"as much as {cloud_name} ({_usd(ref.monthly_usd)})", "cloud", 44))
        elif pb > amortize_months and best_buy.monthly_usd.total <= ref.monthly_usd:
            # only a resale can do this: the payback counts the price paid, the monthly total the price less the
            # (discounted) resale, so the boxes repay their price after their life and still cost less a month
            reasons.append(Reason(f"{label}: the {_usd(best_buy.capex_usd)} of hardware pays back in {pb:.0f} months"
                                  f"{_discounted(cost_of_capital)}, beyond its {amortize_months:g}-month "
                                  f"amortization, but with its resale at the end buying costs less a month than "
                                  f"{cloud_name} ({_usd(best_buy.monthly_usd.total)} against {_usd(ref.monthly_usd)})",
                                  "self-host", 44))
        elif pb > amortize_months:
            reasons.append(Reason(f"{label}: the {_usd(best_buy.capex_usd)} of hardware pays back in {pb:.0f} months"
                                  f"{_discounted(cost_of_capital)}, beyond its {amortize_months:g}-month amortization: "
                                  "not a win", "cloud", 44))
        else:
            reasons.append(Reason(f"{label}: the {_usd(best_buy.capex_usd)} of hardware pays back in {pb:.1f} months "
                                  f"of its {amortize_months:g}-month amortization{_discounted(cost_of_capital)}",
                                  "self-host", 44))
        if show_npv and best_buy.npv_vs_reference_usd is not None:
            v = best_buy.npv_vs_reference_usd
            reasons.append(Reason(f"{label}: net present value of buying instead of {cloud_name} over "
                                  f"{amortize_months:g} months, at the cost of capital and with the resale: "
                                  f"{'-' if v < 0 else ''}{_usd(abs(v))}", "self-host" if v > 0 else "cloud", 43))

    if ref.price.open_weight_of is None and ref.price.tier != "contract":
        tier = ref.price.tier or "not the same open weights"
        stronger = ", likely stronger" if ref.price.tier in ("frontier", "mid") else ""
        like = (f"; the same open model hosted ({same_model.price.id}) costs {_usd(same_model.monthly_usd)}/month"
                if same_model is not None else
                f"; compare the same open model hosted with --cloud {same_model_hint}" if same_model_hint else
                _listed_like(same_model_listed))
        reasons.append(Reason(f"{cloud_name} ({tier}, ${ref.price.input_usd_per_mtok:g}/${ref.price.output_usd_per_mtok:g}"
                              f" per Mtok) is a different model from {model_name}{stronger}: a self-host win "
                              f"assumes {model_name}'s quality is enough{like}", "neutral", 42))
    if w.monthly_tokens < low_volume_tokens and best_buy is not None:
        reasons.append(Reason(f"low volume: {tokens_short(w.monthly_tokens)} tokens/month is {_usd(ref.monthly_usd)}/month on "
                              f"{cloud_name}; owned hardware would sit mostly idle "
                              f"({pct(best_buy.utilisation)} utilisation)", "cloud", 35))

    if forced and win.kind != "cloud":
        flag = "--need-frontier" if constraints.need_frontier else "--no-ops-team"
        changes.append(f"without {flag} the verdict would be {win.kind}: {win.name} at {_usd(win.monthly_usd)}/month "
                       f"against {_usd(ref.monthly_usd)} for {cloud_name}")
    else:
        changes += _what_would_change(w, win, opts, ref, best_buy, best_rent, break_even_tokens, parity_kwh,
                                      electricity_usd_per_kwh, hybrid)
    return Recommendation(choice, tuple(sorted(reasons, key=lambda r: -r.weight)), tuple(changes), best_self_name,
                          cloud_name)


def _licence(reasons: list[Reason], box) -> None:
    """A compliance reason when the verdict buys GeForce cards (cost/boxes.py licence_note): it names the licence
    clause and changes no figure."""
    from .boxes import licence_note

    note = licence_note(box)
    if note:
        reasons.append(Reason(note, "neutral", 46))


def _by(ratio: float) -> str:
    """A rise to `ratio` times: 'by 31%' below 2x, '12.3-fold' above."""
    return f"by {ratio - 1:.0%}" if ratio < 2 else f"{ratio:.1f}-fold"


def _what_would_change(w: Workload, win: Choice, opts: list[Choice], ref: CloudOption, best_buy, best_rent,
                       t_star: int | None, parity_kwh: float | None, kwh_now: float,
                       hybrid: Hybrid | None = None) -> list[str]:
    """Levers that flip the verdict away from the option that wins, each with the number where it flips."""
    out: list[str] = []
    others = [o for o in opts if o.mode != win.mode]
    if not others:
        return out
    rival = others[0]
    c = ref.monthly_usd
    if win.mode == "api":
        best = min((o for o in opts if o.kind != "cloud"), key=lambda o: o.monthly_usd, default=None)
        if best is not None and c > 0:
            out.append(f"{best.name} wins if {ref.price.id} raises prices {_by(best.monthly_usd / c)}")
        if best_buy is not None and t_star and t_star > w.monthly_tokens:
            out.append(f"buying {best_buy.box.label} wins above {tokens_short(t_star)} tokens/month")
        if best_buy is not None and parity_kwh is not None and parity_kwh < kwh_now:
            out.append(f"buying breaks even at ${parity_kwh:.2f}/kWh (now ${kwh_now:.2f})")
        if best_rent is not None and best_rent.rental_hours_per_month > 0:
            r = best_rent
            gpu_h = r.units * r.box.gpus * r.rental_hours_per_month
            rate = (c - r.monthly_usd.operations) / gpu_h
            if rate > 0:
                out.append(f"renting {r.box.label} wins below ${rate:.2f}/GPU-h (now {rate_usd(r.box.rental_usd_per_gpu_hour)})")
        return out
    if win.monthly_usd > 0:
        r = rival.monthly_usd / win.monthly_usd
        more = f"{r - 1:.0%} more than estimated" if r < 2 else f"{r:.1f}x the estimate"
        out.append(f"{rival.name} wins if {win.name} costs {more}")
    if any(o.mode == "api" for o in opts) and c > win.monthly_usd:
        if win.mode == "hybrid" and hybrid is not None:
            # a price cut d lowers the overflow too: all-API wins when c (1 - d) < owned + overflow (1 - d)
            cut = 1 - hybrid.self_host_usd / (c - hybrid.api_overflow_usd)
        else:
            cut = 1 - win.monthly_usd / c
        out.append(f"the API alone wins if {ref.price.id} cuts prices by {cut:.0%}")
    if win.mode == "buy" and t_star:
        out.append(f"the API wins below {tokens_short(t_star)} tokens/month")
    if win.mode == "buy" and parity_kwh is not None and parity_kwh > kwh_now:
        out.append(f"the API wins above ${parity_kwh:.2f}/kWh (now ${kwh_now:.2f})")
    if win.mode == "rent" and best_rent is not None and best_rent.rental_hours_per_month > 0:
        r = best_rent
        gpu_h = r.units * r.box.gpus * r.rental_hours_per_month
        rate = (rival.monthly_usd - r.monthly_usd.operations) / gpu_h
        out.append(f"{rival.name} wins above ${rate:.2f}/GPU-h (now {rate_usd(r.box.rental_usd_per_gpu_hour)})")
    return out


def _no_break_even(label: str, cloud_name: str, per_unit_tokens: int, w, hybrid_owns: bool) -> str:
    """Why no volume breaks even, in the terms the break-even uses (cost/breakeven.py: K tokens a unit, sized for the
    busiest hour): a box carries K over the active hours at 1 / (peak / average) of its rate, and at that load it costs
    more than the API charges for K. A box kept busy (a hybrid's base) carries more, which the text says when the
    hybrid owns boxes, so the reason does not read as contradicting a hybrid verdict."""
    text = (f"no monthly volume makes an all-owned fleet of {label} cheaper than {cloud_name} at these prices: sized "
            f"for the busiest hour ({w.peak_to_average:g}x the average over {w.active_hours_per_month:g} active "
            f"hours), a box carries at most {tokens_short(per_unit_tokens)} tokens a month, and costs more than the API "
            f"charges for them")
    if hybrid_owns:
        text += "; kept busy as the hybrid's base, a box carries more and does beat it"
    return text
