"""Put it together: size and price every box (buy and rent), price every cloud candidate, pick the reference, price the
hybrid, compute break-even and payback, and decide. Pure given a capacity function (the serving model, or measured
figures)."""
from __future__ import annotations

from typing import Callable

from ..domain import ServingCapacity
from . import tco
from .boxes import no_power_reason, unpriced_reason
from .capacity import mix_tokens_per_s
from .defaults import data
from .breakeven import break_even_monthly_tokens, npv_vs_api_usd, parity_electricity_usd_per_kwh, payback_months
from .cloud import price_cloud, same_model_ids
from .hybrid import best_hybrid, cheapest_hybrid
from .recommend import recommend
from .types import (
    Box, CloudOption, CloudPrice, Constraints, CostComparison, CostParams, Excluded, Hybrid, SelfHostOption, Workload,
)

CapacityFn = Callable[[Box], ServingCapacity]


def _exclusion(constraints: Constraints, price: CloudPrice) -> str | None:
    if constraints.air_gapped:
        return "air-gapped: unreachable"
    if constraints.regulated:
        return f"regulated data ({constraints.regulated})"
    return None


def reference_cloud(options: list[CloudOption], model_id: str, explicit: bool, need_frontier: bool) -> CloudOption | None:
    """The API self-hosting is judged against: the user's own list if given; otherwise the cheapest hosted endpoint of
    the same open-weight model (like for like); a frontier model when --need-frontier; else the cheapest candidate."""
    if not options:
        return None
    pool = options
    if need_frontier:
        pool = [o for o in options if o.price.tier == "frontier"] or options
    elif not explicit:
        pool = [o for o in options if o.price.open_weight_of == model_id] or options
    return min(pool, key=lambda o: o.monthly_usd)


def _hf_id(model_id: str) -> str:
    from ..catalog import models as catalog_models

    try:
        return catalog_models.get(model_id).hf_id or ""
    except Exception:  # a Hub id or GGUF file outside the catalog: no repo name to match  # noqa: BLE001
        return ""


def _mark_same_weights(c: CloudPrice, model_id: str) -> CloudPrice:
    """A `--cloud provider:model` that genai-prices lists under this model's own repo name is the same open weights
    hosted (session 32: `--cloud openrouter:meta-llama/llama-3.1-8b-instruct` against llama3.1:8b was called "not the
    same open weights ... a different model"), so it is compared like for like, as a data/prices.yaml endpoint is."""
    from ..record import replace
    from .cloud import _model_key

    if c.open_weight_of is not None or not c.via.startswith("genai-prices") or c.id != f"{c.provider}:{c.model}":
        return c
    hf = _hf_id(model_id)
    if not hf or _model_key(c.model) != _model_key(hf):
        return c
    return replace(c, open_weight_of=model_id, tier=c.tier or "open-weight")


def _listed_same_model(model_id: str, w: Workload, assumptions: dict | None) -> tuple[CloudOption, int] | None:
    """The cheapest hosted endpoint of the same open weights that genai-prices prices, and how many it prices, for a
    model data/prices.yaml lists none of (cloud.genai_same_model_names), priced for this workload on the price date;
    None when it lists none or genai-prices is not installed. A finance reviewer compares like for like first."""
    from datetime import date

    from .cloud import genai_same_model_names, price_moment, resolve_cloud

    names = genai_same_model_names(_hf_id(model_id))
    if not names:
        return None
    day = ((assumptions or {}).get("prices_date") or {}).get("value")
    when = price_moment(date.fromisoformat(day)) if day else None
    priced = []
    for n in names:
        try:
            priced.append(price_cloud(_mark_same_weights(resolve_cloud(n, w, when), model_id), w))
        except Exception:  # a listing genai-prices cannot price for this request  # noqa: BLE001
            continue
    priced = [o for o in priced if o.monthly_usd > 0]  # a $0 listing is a free tier under another name
    return (min(priced, key=lambda o: o.monthly_usd), len(priced)) if priced else None


def compare(
    model_id: str,
    model_name: str,
    w: Workload,
    p: CostParams,
    boxes: list[Box],
    capacity_fn: CapacityFn,
    cloud_prices: list[CloudPrice],
    constraints: Constraints = Constraints(),
    explicit_cloud: bool = False,
    thresholds: dict[str, float] | None = None,
    assumptions: dict | None = None,
    verdict_only: bool = False,
    engine: str = "",
) -> CostComparison:
    """verdict_only: for the sensitivity re-runs, which read only the verdict and the options' monthly totals: the
    break-even volumes, paybacks and the parity electricity price (reasons, not the choice) are left out, and so are
    the reasons, levers and warnings themselves (recommend's verdict_only; ~770 re-runs of every `cost`)."""
    buy: list[SelfHostOption] = []
    rent: list[SelfHostOption] = []
    excluded: list[Excluded] = []
    warnings: list[str] = []
    unpriced: list[str] = []
    no_price: list[str] = []  # those of `unpriced` without a purchase price
    no_power: list[str] = []  # those of `unpriced` without a TDP (with or without a price)
    capacities: dict[str, ServingCapacity] = {}
    for box in boxes:
        cap = capacity_fn(box)
        capacities[box.label] = cap
        if not cap.fits:
            excluded.append(Excluded(box.label, cap.reason or "cannot serve the model", "cannot-serve"))
            continue
        try:
            rate = mix_tokens_per_s(cap, w)
        except ValueError:
            rate = 0.0
        if not rate > 0:
            excluded.append(Excluded(box.label, "no throughput estimate for this hardware", "no-throughput"))
            continue
        if tco.capacity_tokens_per_month(cap, w) < 1:  # --active-hours 1e-300: was tco's ValueError, exit 3
            excluded.append(Excluded(box.label, "serves less than one token a month in the active hours given",
                                     "under-one-token"))
            continue
        if box.capex_usd is not None and box.gpu_tdp_watts > 0:
            buy.append(tco.price_box(box, cap, w, p, "buy"))
        else:
            why = "; ".join(([unpriced_reason(box)] if box.capex_usd is None else [])
                            + ([no_power_reason(box)] if not box.gpu_tdp_watts > 0 else []))
            if box.rental_usd_per_hour is None or constraints.air_gapped or constraints.regulated:
                # it serves the load: the verdict says so, not that no box serves it (a Mac or APU configuration given
                # --gpu-price but no TDP was said to need 'more memory or a smaller quantization')
                unpriced.append(box.label)
                if box.capex_usd is None:
                    no_price.append(box.label)
                if not box.gpu_tdp_watts > 0:
                    no_power.append(box.label)
            excluded.append(Excluded(box.label, f"buy: {why}", "purchase-unpriced"))
        if box.rental_usd_per_hour is not None and not (constraints.air_gapped or constraints.regulated):
            rent.append(tco.price_box(box, cap, w, p, "rent"))

    cloud_prices = [_mark_same_weights(c, model_id) for c in cloud_prices]
    cloud = sorted((price_cloud(c, w, _exclusion(constraints, c)) for c in cloud_prices), key=lambda o: o.monthly_usd)
    ref = reference_cloud(cloud, model_id, explicit_cloud, constraints.need_frontier)

    if ref is not None and not verdict_only:
        priced = []
        for o in buy:
            t_star = break_even_monthly_tokens(o.box, o.capacity, w, p, ref.price)
            # what the boxes cost a month once bought: the total less the capital charge (power, operations and
            # space; space was left out, so colocation made payback look shorter than the totals allow)
            running = o.monthly_usd.total - o.monthly_usd.amortization
            priced.append(_replace(o, payback_months=payback_months(o.capex_usd, running, ref.monthly_usd,
                                                                  p.monthly_rate),
                                   break_even_monthly_tokens=t_star,
                                   npv_vs_reference_usd=npv_vs_api_usd(o.monthly_usd.total, ref.monthly_usd, p)))
        buy = priced
    buy.sort(key=lambda o: o.monthly_usd.total)
    rent.sort(key=lambda o: o.monthly_usd.total)

    best_buy = buy[0] if buy else None
    best_rent = rent[0] if rent else None
    candidates = buy + rent
    best_self = min(candidates, key=lambda o: o.monthly_usd.total) if candidates else None
    t_star = best_buy.break_even_monthly_tokens if best_buy else None
    parity = None
    if best_buy is not None and ref is not None and not verdict_only:
        other = best_buy.monthly_usd.total - best_buy.monthly_usd.power
        parity = parity_electricity_usd_per_kwh(other, best_buy.energy_kwh, ref.monthly_usd)
    usable_ref = ref if ref is not None and not ref.excluded_reason else None
    hybrid = None
    if usable_ref is not None and buy:
        hybrid = cheapest_hybrid(buy, w, p, usable_ref)
    same = [o for o in cloud if o.price.open_weight_of == model_id and not o.excluded_reason]
    th = thresholds or {}
    rec = recommend(
        w, best_self, usable_ref, constraints, t_star, parity, p.electricity_usd_per_kwh,
        clear_win_ratio=th.get("clear_win_ratio", 0.8), low_volume_tokens=th.get("low_volume_tokens", 1e8),
        best_buy=best_buy, best_rent=best_rent, hybrid=hybrid, model_name=model_name,
        same_model=min(same, key=lambda o: o.monthly_usd) if same else None, amortize_months=p.amortize_months,
        cost_of_capital=p.cost_of_capital,
        same_model_hint=next(iter(same_model_ids(model_id)), None),
        same_model_listed=None if verdict_only or same_model_ids(model_id) else _listed_same_model(model_id, w, assumptions),
        excluded_ref=ref if ref is not None and ref.excluded_reason else None,
        show_npv=p.cost_of_capital > 0 or p.residual_value_share > 0,
        unpriced=tuple(unpriced), no_price=tuple(no_price), no_power=tuple(no_power), verdict_only=verdict_only,
        short_of=tuple(sorted({c.short_of for c in capacities.values() if not c.fits})),
    )
    if not verdict_only:  # a re-run's reasons and warnings are read by nothing: left out with its levers
        for o in buy + rent:
            if o.capacity.confidence not in ("calibrated", "measured"):
                warnings.append(f"{o.box.label}: serving capacity is {o.capacity.confidence} "
                                f"(band x{o.capacity.low_factor:.2f}-{o.capacity.high_factor:.2f}); "
                                "box counts may differ")
                break
        caveats: dict[str, str] = {}  # a box's rates borrowed, not fitted (vLLM on an Intel GPU: serving/borrowed.py),
        for label, cap in capacities.items():  # priced or not (an unpriced box's capacity is still quoted)
            if cap.caveat and cap.caveat not in caveats:
                caveats[cap.caveat] = label
        warnings.extend(f"{label}: {caveat}" for caveat, label in caveats.items())
        for o in buy:  # a spec sheet without tdp=: the power bill rests on a stated stand-in (cost/custom_box.py)
            if o.box.power_source.startswith("assumed"):
                warnings.append(f"{o.box.label}: GPU power {o.box.power_source}")
        from .boxes import licence_note

        note = licence_note(buy[0].box) if buy else None
        if note and not any(r.text == note for r in rec.reasons):  # the verdict's reasons carry it when it buys them
            warnings.append(note)
        on_call = data()["on_call"]
        ops_given = str((assumptions or {}).get("ops_hours_per_month", {}).get("source", "")).startswith("given")
        if (buy or rent) and not ops_given and w.active_hours_per_month > float(on_call["business_hours_per_month"]):
            warnings.append(f"{w.active_hours_per_month:g} active hours a month: "
                            + " ".join(str(on_call["text"]).split()))
        premium = [o.price for o in cloud if o.price.cache_write_usd_per_mtok is not None
                   and o.price.cache_write_usd_per_mtok > o.price.input_usd_per_mtok]
        if w.cached_input_share > 0 and w.cache_write_share == 0 and premium:
            pr = premium[0]
            warnings.append(f"cache writes are not priced (--cache-write-share 0): {pr.id} charges "
                            f"${pr.cache_write_usd_per_mtok:.3g}/Mtok to write its prompt cache against "
                            f"${pr.input_usd_per_mtok:.3g} input; give the written share from your usage reports")
        if w.cached_prompt_tokens and w.cached_input_share == 0 and cloud and (buy or rent):
            warnings.append(f"{w.cached_prompt_tokens:,} of each {w.prompt_tokens:,}-token prompt are a shared prefix "
                            "(--cached-prompt-tokens) while the APIs are priced with no cached input: --cached-input-share "
                            f"{w.cached_prompt_tokens / w.prompt_tokens:.2g} bills that share at each API's cached-input "
                            "price")
        if not explicit_cloud and not same and not (constraints.air_gapped or constraints.regulated):
            warnings.append(f"no hosted endpoint of {model_id} is listed in data/prices.yaml: the API comparison is "
                            "with different models (add one with --cloud provider:model or --price-in/--price-out)")
    return CostComparison(
        model_id=model_id, model_name=model_name, workload=w, params=p, self_host=tuple(buy), rental=tuple(rent),
        cloud=tuple(cloud), excluded=tuple(excluded), reference_cloud=ref, break_even_monthly_tokens=t_star,
        recommendation=rec, constraints=constraints, assumptions=dict(assumptions or {}), warnings=tuple(warnings),
        hybrid=hybrid, engine=engine,
    )


def _replace(o: SelfHostOption, **kw) -> SelfHostOption:
    from ..record import replace

    return replace(o, **kw)


def cost_curve(comparison: CostComparison, volumes: list[int]) -> dict[str, list[float]]:
    """Monthly USD at each volume for the best bought box, the best rented box, the reference API and the priced hybrid
    (chart data). The hybrid is re-optimised at every volume (its N owned boxes minimise cost there), so its curve is
    never above the bought box's or the API's; it is keyed "hybrid: BOX + API"."""
    w, p = comparison.workload, comparison.params
    curves: dict[str, list[float]] = {}
    for label, opts in (("buy", comparison.self_host), ("rent", comparison.rental)):
        if opts:
            o = opts[0]
            curves[f"{o.box.label} ({label})"] = [
                tco.monthly_total(o.box, o.capacity, w.with_tokens(v), p, o.mode) for v in volumes
            ]
    ref = comparison.reference_cloud
    if ref is not None:
        curves[ref.price.name] = [price_cloud(ref.price, w.with_tokens(v)).monthly_usd for v in volumes]
    h = comparison.hybrid
    owned = next((o for o in comparison.self_host if h is not None and o.box.label == h.box.label), None)
    if h is not None and owned is not None and ref is not None and not ref.excluded_reason:
        ys = []
        for v in volumes:
            wv = w.with_tokens(max(1, v))
            ys.append(best_hybrid(owned.box, owned.capacity, wv, p, price_cloud(ref.price, wv)).total_usd if v > 0
                      else 0.0)
        curves[f"hybrid: {h.box.label} + {h.api}"] = ys
    return curves


def recommended_monthly_usd(c: CostComparison) -> float | None:
    """Monthly USD of what the verdict recommends (the priced hybrid's total for hybrid)."""
    self_opts = list(c.self_host) + list(c.rental)
    best_self = min([o.monthly_usd.total for o in self_opts]
                    + ([c.hybrid.total_usd] if c.hybrid is not None and c.hybrid.is_tail else []), default=None)
    best_cloud = c.reference_cloud.monthly_usd if c.reference_cloud else None
    choice = c.recommendation.choice
    if choice == "self-host":
        return best_self
    if choice == "cloud":
        return best_cloud
    return c.hybrid.total_usd if c.hybrid is not None else None
