"""Cloud API prices: genai-prices when installed (pinned), data/prices.yaml otherwise, --price-in/--price-out for contracts.

genai-prices facts this relies on (read from its source, v0.2.3): `calc_price(Usage, model_ref, provider_id=...,
genai_request_timestamp=...)` returns Decimals; tiers (long-context surcharges) apply per request, so we price one typical
request and scale by tokens, never the month as one request; prices can change on a date or by time of day, so the
request timestamp is fixed in data/prices.yaml. The package has no as_of; its snapshot is dated by its PyPI upload.
"""
from __future__ import annotations

import difflib
from datetime import datetime
from functools import lru_cache

from ..catalog._data import load
from ..errors import UnknownCloudModelError
from .types import CloudOption, CloudPrice, Workload


def cloud_monthly_usd(price: CloudPrice, w: Workload) -> float:
    """input tokens x input price + output tokens x output price."""
    return (w.input_tokens * price.input_usd_per_mtok + w.output_tokens * price.output_usd_per_mtok) / 1e6


def blended_usd_per_token(price: CloudPrice, output_share: float) -> float:
    return ((1.0 - output_share) * price.input_usd_per_mtok + output_share * price.output_usd_per_mtok) / 1e6


def price_cloud(price: CloudPrice, w: Workload, excluded_reason: str | None = None) -> CloudOption:
    monthly = cloud_monthly_usd(price, w)
    per_m = monthly / (w.monthly_tokens / 1e6) if w.monthly_tokens else 0.0
    return CloudOption(price=price, monthly_usd=monthly, usd_per_million_tokens=per_m, excluded_reason=excluded_reason)


def _data() -> dict:
    return load("prices")


@lru_cache(maxsize=1)
def _entries() -> tuple[dict, ...]:
    return tuple(_data()["candidates"])


def _index() -> dict[str, dict]:
    index: dict[str, dict] = {}
    for e in _entries():
        for key in (e["id"], *(e.get("aliases") or ())):
            index.setdefault(str(key).lower(), e)
    return index


def request_timestamp() -> datetime:
    return datetime.fromisoformat(str(_data()["request_timestamp"]))


def genai_prices_version() -> str | None:
    """Installed genai-prices version, from package metadata (no import of the 36 MB data module)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return None


def genai_prices_snapshot(version: str | None) -> str | None:
    if version is None:
        return None
    return (_data().get("genai_prices_snapshots") or {}).get(version)


def _fallback(e: dict) -> CloudPrice:
    return CloudPrice(
        id=e["id"], name=e.get("name", e["id"]), provider=e["provider"], model=e.get("genai_ref") or e["id"],
        tier=e.get("tier", ""), input_usd_per_mtok=float(e["input_usd_per_mtok"]),
        output_usd_per_mtok=float(e["output_usd_per_mtok"]), via="data/prices.yaml", prices_as_of=str(e["as_of"]),
        source=e.get("source", ""), open_weight_of=e.get("open_weight_of"),
    )


def live_price(provider: str, model_ref: str, w: Workload) -> tuple[float, float, str] | None:
    """(input $/Mtok, output $/Mtok, model id) from genai-prices for the workload's typical request, or None.

    Lazy import: genai_prices loads ~36 MB of price data (~150 ms), only when a cost command asks.
    """
    try:
        from genai_prices import Usage, calc_price
    except ImportError:
        return None
    n_in, n_out = w.request_input_tokens, w.request_output_tokens
    try:
        calc = calc_price(Usage(input_tokens=n_in, output_tokens=n_out), model_ref, provider_id=provider,
                          genai_request_timestamp=request_timestamp())
    except LookupError:
        return None
    return float(calc.input_price) / n_in * 1e6, float(calc.output_price) / n_out * 1e6, calc.model.id


def _with_live(base: CloudPrice, w: Workload) -> CloudPrice:
    version = genai_prices_version()
    got = live_price(base.provider, base.model, w) if version else None
    if got is None:
        return base
    p_in, p_out, model_id = got
    snap = genai_prices_snapshot(version)
    return CloudPrice(
        id=base.id, name=base.name, provider=base.provider, model=model_id, tier=base.tier,
        input_usd_per_mtok=p_in, output_usd_per_mtok=p_out, via=f"genai-prices {version}",
        prices_as_of=f"genai-prices {version} snapshot {snap}" if snap else f"genai-prices {version} (snapshot undated)",
        source=base.source, open_weight_of=base.open_weight_of,
    )


def resolve_cloud(name: str, w: Workload) -> CloudPrice:
    """A --cloud name: a data/prices.yaml id or alias, or provider:model for anything genai-prices lists."""
    key = name.strip().lower()
    e = _index().get(key)
    if e is not None:
        base = _fallback(e)
        return _with_live(base, w) if e.get("genai_ref") else base
    if ":" in key and "/" not in key.split(":", 1)[0]:
        provider, ref = name.strip().split(":", 1)
        version = genai_prices_version()
        got = live_price(provider.lower(), ref, w) if version else None
        if got is not None:
            snap = genai_prices_snapshot(version)
            return CloudPrice(
                id=f"{provider.lower()}:{got[2]}", name=got[2], provider=provider.lower(), model=got[2], tier="",
                input_usd_per_mtok=got[0], output_usd_per_mtok=got[1], via=f"genai-prices {version}",
                prices_as_of=f"genai-prices {version} snapshot {snap}" if snap else f"genai-prices {version}",
            )
    close = difflib.get_close_matches(key, list(_index()), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UnknownCloudModelError(
        f"unknown cloud model {name!r}",
        f"{hint}use an id from data/prices.yaml, provider:model from genai-prices (e.g. openai:gpt-5.4), "
        "or --price-in/--price-out",
    )


def default_cloud(model_id: str, w: Workload) -> list[CloudPrice]:
    """A frontier model, a mid-tier model, and hosted endpoints of the same open-weight model (like for like)."""
    d = _data()["default_candidates"]
    names = [d["frontier"], d["mid_tier"]]
    names += [e["id"] for e in _entries() if e.get("open_weight_of") == model_id]
    return [resolve_cloud(n, w) for n in names]


def contract_price(price_in: float, price_out: float) -> CloudPrice:
    """A private contract: the user's own $/Mtok."""
    return CloudPrice(
        id="contract", name="your contract price", provider="contract", model="contract", tier="contract",
        input_usd_per_mtok=price_in, output_usd_per_mtok=price_out, via="--price-in/--price-out",
        prices_as_of="as given", source="user input",
    )
