"""The verdict: self-host, cloud or hybrid, with ranked reasons and what would change it.

Hard constraints rank first (weight 100): air-gapped networks reach no API; regulated data may not go to a public API
under standard terms. Then cost at this volume (50), distance to the break-even volume (45), the organisation's ability
to run servers (40) and low volume (35). Thresholds are in data/cost.yaml ("recommendation").
"""
from __future__ import annotations

from .types import CloudOption, Constraints, Reason, Recommendation, SelfHostOption, Workload

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


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def _tokens(n: float) -> str:
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}"


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
) -> Recommendation:
    reasons: list[Reason] = []
    changes: list[str] = []
    self_name = None
    if best_self is not None:
        verb = "bought" if best_self.mode == "buy" else "rented"
        self_name = f"{best_self.units} {verb} {'box' if best_self.units == 1 else 'boxes'} of {best_self.box.label}"
    cloud_name = best_cloud.price.id if best_cloud else None

    hard = None
    if constraints.air_gapped:
        hard = "air-gapped: no cloud API or rented GPU can be reached, so only owned hardware can serve"
    elif constraints.regulated:
        hard = REGULATED[constraints.regulated]
    if hard:
        reasons.append(Reason(hard, "self-host", 100))
        if best_self is None:
            reasons.append(Reason("no box in the comparison can serve this model and load: add --hardware", "neutral", 90))
        else:
            reasons.append(Reason(
                f"cheapest compliant option: {self_name} at {_usd(best_self.monthly_usd.total)}/month "
                f"(${best_self.usd_per_million_tokens:.2f}/Mtok)", "self-host", 50))
        changes.append("dropping the " + ("--air-gapped" if constraints.air_gapped else "--regulated")
                       + " constraint would let the APIs compete on cost")
        return Recommendation("self-host", tuple(sorted(reasons, key=lambda r: -r.weight)), tuple(changes),
                              self_name, cloud_name)

    if best_cloud is None and best_self is None:
        return Recommendation("cloud", (Reason("nothing to compare", "neutral", 0),), (), None, None)
    if best_self is None:
        reasons.append(Reason("no box in the comparison can serve this model at this load (see excluded)", "cloud", 90))
        changes.append("hardware with more memory or a smaller quantization would bring self-hosting into the comparison")
        return Recommendation("cloud", tuple(reasons), tuple(changes), None, cloud_name)
    assert best_cloud is not None

    s, c = best_self.monthly_usd.total, best_cloud.monthly_usd
    ratio = s / c if c > 0 else float("inf")
    if ratio < clear_win_ratio:
        choice = "self-host"
        reasons.append(Reason(f"cost at this volume: {self_name} {_usd(s)}/month vs {cloud_name} {_usd(c)}/month "
                              f"({1 - ratio:.0%} cheaper)", "self-host", 50))
    elif ratio > 1 / clear_win_ratio:
        choice = "cloud"
        reasons.append(Reason(f"cost at this volume: {cloud_name} {_usd(c)}/month vs {self_name} {_usd(s)}/month "
                              f"(self-hosting costs {ratio:.1f}x)", "cloud", 50))
    else:
        choice = "hybrid"
        reasons.append(Reason(f"cost at this volume is close: {self_name} {_usd(s)}/month vs {cloud_name} "
                              f"{_usd(c)}/month (within the +-20% the estimates carry); self-host the steady load, "
                              "send peaks to the API", "hybrid", 50))

    if constraints.need_frontier:
        reasons.append(Reason("frontier quality needed: the open-weight model is not a substitute for a frontier API",
                              "cloud", 95))
        choice = "cloud" if choice != "self-host" else "hybrid"

    if break_even_tokens:
        dist = w.monthly_tokens / break_even_tokens
        fav = "self-host" if dist >= 1 else "cloud"
        reasons.append(Reason(f"break-even distance: {_tokens(w.monthly_tokens)} tokens/month is {dist:.2g}x the "
                              f"break-even volume of {_tokens(break_even_tokens)}", fav, 45))
    else:
        reasons.append(Reason(f"no monthly volume makes {best_self.box.label} cheaper than {cloud_name} at these prices: "
                              "a fully used box costs more than the API charges for the tokens it serves", "cloud", 45))

    if constraints.no_ops_team:
        reasons.append(Reason("no ML operations staff (--no-ops-team): someone must patch, monitor and update the "
                              "servers; an API needs no one", "cloud", 40))
        if choice == "self-host":
            choice = "hybrid"
    if w.monthly_tokens < low_volume_tokens:
        reasons.append(Reason(f"low volume: {_tokens(w.monthly_tokens)} tokens/month is {_usd(c)}/month on "
                              f"{cloud_name}; hardware would sit mostly idle "
                              f"({best_self.utilisation:.0%} utilisation)", "cloud", 35))

    self_cheaper = ratio < 1.0
    if break_even_tokens:
        if self_cheaper:
            changes.append(f"the API wins below {_tokens(break_even_tokens)} tokens/month")
        else:
            changes.append(f"self-hosting on {best_self.box.label} wins above {_tokens(break_even_tokens)} tokens/month")
    if parity_kwh is not None:
        if self_cheaper and parity_kwh > electricity_usd_per_kwh:
            changes.append(f"the API wins above ${parity_kwh:.2f}/kWh (now ${electricity_usd_per_kwh:.2f})")
        elif not self_cheaper and parity_kwh < electricity_usd_per_kwh:
            changes.append(f"self-hosting breaks even at ${parity_kwh:.2f}/kWh (now ${electricity_usd_per_kwh:.2f})")
    elif not self_cheaper:
        changes.append("no electricity price, even free power, makes self-hosting cheaper at this volume")
    if c > 0:
        if self_cheaper:
            changes.append(f"the API wins if {cloud_name} cuts prices by {1 - ratio:.0%}")
        else:
            changes.append(f"self-hosting wins if {cloud_name} raises prices by {ratio - 1:.0%}")
    return Recommendation(choice, tuple(sorted(reasons, key=lambda r: -r.weight)), tuple(changes), self_name, cloud_name)
