"""Cloud API prices: genai-prices when installed (pinned), data/prices.yaml otherwise, --price-in/--price-out for contracts.

genai-prices facts this relies on (read from its source, v0.2.5): `calc_price(Usage, model_ref, provider_id=...,
genai_request_timestamp=..., price_context=...)` returns Decimals; tiers (long-context surcharges) apply per request, so
we price one typical request and scale by tokens, never the month as one request; prices can change on a date or by
time of day, so the request is priced at the price date (today, or --price-date), and scheduled changes apply when
their date comes; `Usage.cache_read_tokens` (part of input_tokens) is billed at the cached-input price; the context
{"processing": "batch"} selects batch prices where a provider's entry has them. The package has no as_of; its snapshot
is dated by its PyPI upload.
"""
from __future__ import annotations

import difflib
from datetime import date, datetime, timezone
from functools import lru_cache

from ..catalog.data import load
from ..errors import UnknownCloudModelError
from .types import CloudOption, CloudPrice, Workload


def effective_usd_per_mtok(price: CloudPrice, w: Workload) -> tuple[float, float]:
    """(input, output) $/Mtok this workload pays on average, with its cache-read, cache-write and batch shares.

    input  = (1 - b) x [(1 - x - y) i + x c + y cw] + b x [(1 - x - y) bi + x bc + y bcw]      output = (1 - b) o + b bo
    (x = --cached-input-share, y = --cache-write-share, b = --batch-share). Unknown cached or batch prices fall back to
    the standard ones, and each read or batch discount is capped at the price it discounts, so reading the cache or
    batching never raises a bill. A cache WRITE is billed at the provider's write price, which can be above the input
    price (Anthropic: 1.25x for the 5-minute cache); it is not capped: that premium is what the provider charges.
    """
    i, o = price.input_usd_per_mtok, price.output_usd_per_mtok
    x, y, b = w.cached_input_share, w.cache_write_share, w.batch_share
    c = i if price.cached_input_usd_per_mtok is None else min(price.cached_input_usd_per_mtok, i)
    cw = i if price.cache_write_usd_per_mtok is None else price.cache_write_usd_per_mtok
    std_in = (1.0 - x - y) * i + x * c + y * cw
    bi = i if price.batch_input_usd_per_mtok is None else min(price.batch_input_usd_per_mtok, i)
    bo = o if price.batch_output_usd_per_mtok is None else min(price.batch_output_usd_per_mtok, o)
    bc = bi if price.batch_cached_input_usd_per_mtok is None else price.batch_cached_input_usd_per_mtok
    bc = min(bc, bi, c)
    bcw = cw * (bi / i if i > 0 else 1.0) if price.batch_cache_write_usd_per_mtok is None \
        else min(price.batch_cache_write_usd_per_mtok, cw)
    bat_in = min((1.0 - x - y) * bi + x * bc + y * bcw, std_in)
    return (1.0 - b) * std_in + b * bat_in, (1.0 - b) * o + b * bo


def cloud_monthly_usd(price: CloudPrice, w: Workload) -> float:
    """input tokens x effective input price + output tokens x effective output price."""
    p_in, p_out = effective_usd_per_mtok(price, w)
    return (w.input_tokens * p_in + w.output_tokens * p_out) / 1e6


def blended_usd_per_token(price: CloudPrice, w: Workload) -> float:
    p_in, p_out = effective_usd_per_mtok(price, w)
    return ((1.0 - w.output_share) * p_in + w.output_share * p_out) / 1e6


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


def price_moment(day: date | None = None) -> datetime:
    """The moment a typical request is priced at: noon UTC of `day` (default today), so dated price changes apply."""
    day = day or datetime.now(timezone.utc).date()
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


def price_data_dates() -> tuple[date, date]:
    """(earliest, newest) day the API prices we hold were observed: data/prices.yaml entries' as_of and the dated
    genai-prices snapshots. Before the earliest there is no price we observed (a model may not have existed yet)."""
    days = [str(e["as_of"]) for e in _entries() if e.get("as_of")]
    days += [str(v) for k, v in (_data().get("genai_prices_snapshots") or {}).items() if k != "source"]
    parsed = sorted(date.fromisoformat(d) for d in days)
    return parsed[0], parsed[-1]


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


def _batch_discount(e: dict | None) -> float | None:
    d = (e or {}).get("batch_discount")
    return float(d["value"]) if d else None


def _fallback(e: dict) -> CloudPrice:
    i, o = float(e["input_usd_per_mtok"]), float(e["output_usd_per_mtok"])
    c = e.get("cached_input_usd_per_mtok")
    c = float(c) if c is not None else None
    cw = e.get("cache_write_usd_per_mtok")
    cw = float(cw) if cw is not None else None
    d = _batch_discount(e)
    return CloudPrice(
        id=e["id"], name=e.get("name", e["id"]), provider=e["provider"], model=e.get("genai_ref") or e["id"],
        tier=e.get("tier", ""), input_usd_per_mtok=i, output_usd_per_mtok=o, via="data/prices.yaml",
        prices_as_of=str(e["as_of"]), source=e.get("source", ""), open_weight_of=e.get("open_weight_of"),
        cached_input_usd_per_mtok=c,
        batch_input_usd_per_mtok=i * (1 - d) if d is not None else None,
        batch_cached_input_usd_per_mtok=c * (1 - d) if d is not None and c is not None else None,
        batch_output_usd_per_mtok=o * (1 - d) if d is not None else None,
        cache_write_usd_per_mtok=cw,
        cache_source=e.get("source", "") if c is not None else "",
        batch_source=e["batch_discount"]["source"] if d is not None else "",
    )


def live_price(provider: str, model_ref: str, w: Workload, when: datetime | None = None) -> dict | None:
    """Standard, cached-input and batch $/Mtok from genai-prices for the workload's typical request, or None.

    Cached and batch prices are None where genai-prices lists none for this model (the standard price is then what
    the provider's entry would bill). Lazy import: genai_prices loads ~36 MB of price data (~150 ms).
    """
    try:
        from genai_prices import Usage, calc_price
    except ImportError:
        return None
    n_in, n_out = w.request_input_tokens, w.request_output_tokens
    moment = when or price_moment()

    def calc(cached: bool, batch: bool, write: bool = False):
        extra = {"cache_read_tokens": n_in} if cached else {"cache_write_tokens": n_in} if write else {}
        usage = Usage(input_tokens=n_in, output_tokens=n_out, **extra)
        ctx = {"price_context": {"processing": "batch"}} if batch else {}
        r = calc_price(usage, model_ref, provider_id=provider, genai_request_timestamp=moment, **ctx)
        return float(r.input_price) / n_in * 1e6, float(r.output_price) / n_out * 1e6, r.model.id

    try:
        p_in, p_out, model_id = calc(False, False)
    except LookupError:
        return None
    c_in = calc(True, False)[0]
    w_in = calc(False, False, write=True)[0]
    try:
        b_in, b_out, _ = calc(False, True)
        bc_in = calc(True, True)[0]
        bw_in = calc(False, True, write=True)[0]
    except TypeError:  # a genai-prices without price_context
        b_in, b_out, bc_in, bw_in = p_in, p_out, c_in, w_in
    has_batch = b_in < p_in - 1e-12 or b_out < p_out - 1e-12
    return {"input": p_in, "output": p_out, "model": model_id,
            "cached_input": c_in if c_in < p_in - 1e-12 else None,
            "batch_input": b_in if has_batch else None, "batch_output": b_out if has_batch else None,
            "batch_cached_input": bc_in if has_batch else None,
            "cache_write": w_in if abs(w_in - p_in) > 1e-12 else None,
            "batch_cache_write": bw_in if has_batch and abs(w_in - p_in) > 1e-12 else None}


def _as_of(version: str) -> str:
    snap = genai_prices_snapshot(version)
    return f"genai-prices {version} snapshot {snap}" if snap else f"genai-prices {version} (snapshot undated)"


def _from_live(got: dict, version: str, base: CloudPrice | None, provider: str, entry: dict | None) -> CloudPrice:
    via = f"genai-prices {version}"
    d = _batch_discount(entry)
    b_in, b_out, bc_in, b_src = got["batch_input"], got["batch_output"], got["batch_cached_input"], via
    if b_in is None and d is not None:  # genai-prices lists no batch price: the provider's sourced discount
        b_in, b_out = got["input"] * (1 - d), got["output"] * (1 - d)
        bc_in = got["cached_input"] * (1 - d) if got["cached_input"] is not None else None
        b_src = entry["batch_discount"]["source"]
    return CloudPrice(
        id=base.id if base else f"{provider}:{got['model']}", name=base.name if base else got["model"],
        provider=provider, model=got["model"], tier=base.tier if base else "",
        input_usd_per_mtok=got["input"], output_usd_per_mtok=got["output"], via=via, prices_as_of=_as_of(version),
        source=base.source if base else "", open_weight_of=base.open_weight_of if base else None,
        cached_input_usd_per_mtok=got["cached_input"], batch_input_usd_per_mtok=b_in,
        batch_cached_input_usd_per_mtok=bc_in, batch_output_usd_per_mtok=b_out,
        cache_write_usd_per_mtok=got.get("cache_write"),
        batch_cache_write_usd_per_mtok=got.get("batch_cache_write") if b_src == via else None,
        cache_source=via if got["cached_input"] is not None else "", batch_source=b_src if b_in is not None else "",
    )


def resolve_cloud(name: str, w: Workload, when: datetime | None = None) -> CloudPrice:
    """A --cloud name: a data/prices.yaml id or alias, or provider:model for anything genai-prices lists."""
    key = name.strip().lower()
    e = _index().get(key)
    version = genai_prices_version()
    if e is not None:
        base = _fallback(e)
        got = live_price(base.provider, base.model, w, when) if version and e.get("genai_ref") else None
        return _from_live(got, version, base, base.provider, e) if got else base
    if ":" in key and "/" not in key.split(":", 1)[0]:
        provider, ref = name.strip().split(":", 1)
        got = live_price(provider.lower(), ref, w, when) if version else None
        if got is not None:
            return _from_live(got, version, None, provider.lower(), None)
    close = suggest_cloud(name)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UnknownCloudModelError(
        f"unknown cloud model {name!r}",
        f"{hint}use an id from data/prices.yaml, provider:model from genai-prices (e.g. openai:gpt-5.4), "
        "or --price-in/--price-out",
    )


def same_model_ids(model_id: str) -> list[str]:
    """data/prices.yaml ids of hosted endpoints that serve this open-weight model."""
    return [e["id"] for e in _entries() if e.get("open_weight_of") == model_id]


def _model_key(name: str) -> str:
    """A model name without its organisation, case or punctuation: 'Qwen/Qwen2.5-Coder-32B-Instruct' and
    'qwen/qwen-2.5-coder-32b-instruct' are both 'qwen25coder32binstruct'."""
    return "".join(ch for ch in name.rsplit("/", 1)[-1].lower() if ch.isalnum())


@lru_cache(maxsize=16)
def genai_same_model_names(hf_id: str) -> tuple[str, ...]:
    """provider:model names genai-prices lists for this Hugging Face repo (the same open weights hosted), for a model
    data/prices.yaml has no hosted endpoint of (session 32: `cost -m qwen2.5-coder:32b` said no hosted endpoint was
    listed while genai-prices prices four). Matched on the repo's name without its organisation, case or punctuation;
    free tiers (':free', '-free') are left out: a rate-limited free tier is no price for a production volume."""
    if not hf_id:
        return ()
    try:
        from genai_prices.data_snapshot import get_snapshot
    except ImportError:
        return ()
    key = _model_key(hf_id)
    out = []
    for prov in get_snapshot().providers:
        for m in prov.models:
            low = m.id.lower()
            if low.endswith((":free", "-free")):
                continue
            if _model_key(m.id) == key:
                out.append(f"{prov.id}:{m.id}")
    return tuple(out)


def suggest_cloud(name: str, n: int = 3) -> list[str]:
    """Names to suggest for an unknown --cloud name: the provider:model genai-prices finds for a bare model id
    (`gemini-2.5-flash` -> `google:gemini-2.5-flash`), then the nearest data/prices.yaml ids and genai-prices
    provider:model names (issue 19). Imports genai-prices only here, on the error path."""
    key = name.strip().lower()
    out: list[str] = []
    ref = key.split(":", 1)[1] if ":" in key else key
    try:
        from genai_prices import Usage, calc_price
        from genai_prices.data_snapshot import get_snapshot

        try:
            calc = calc_price(Usage(input_tokens=1000, output_tokens=100), ref,
                              genai_request_timestamp=price_moment())
            out.append(f"{calc.provider.id}:{calc.model.id}")
        except LookupError:
            pass
        known = [f"{p.id}:{m.id}" for p in get_snapshot().providers for m in p.models]
    except ImportError:
        known = []
    provider = key.split(":", 1)[0] if ":" in key else None
    by_model: dict[str, str] = {}
    for k in known:  # a model several resellers list: the first provider (genai-prices lists the makers first)
        if provider is None or k.lower().startswith(provider + ":"):
            by_model.setdefault(k.split(":", 1)[1].lower(), k)
    out += [by_model[m] for m in difflib.get_close_matches(ref, list(by_model), n=n, cutoff=0.75)]
    out += difflib.get_close_matches(key, list(_index()), n=n, cutoff=0.5)
    return list(dict.fromkeys(out))[:n]


def default_cloud(model_id: str, w: Workload, when: datetime | None = None) -> list[CloudPrice]:
    """A frontier model, a mid-tier model, and hosted endpoints of the same open-weight model (like for like)."""
    d = _data()["default_candidates"]
    names = [d["frontier"], d["mid_tier"], *same_model_ids(model_id)]
    return [resolve_cloud(n, w, when) for n in names]


def contract_price(price_in: float, price_out: float) -> CloudPrice:
    """A private contract: the user's own $/Mtok."""
    return CloudPrice(
        id="contract", name="your contract price", provider="contract", model="contract", tier="contract",
        input_usd_per_mtok=price_in, output_usd_per_mtok=price_out, via="--price-in/--price-out",
        prices_as_of="as given", source="user input",
    )


def listed_same_model(model_id: str) -> list[CloudPrice]:
    """The data/prices.yaml records of this model's hosted endpoints (no live prices: read for their served format)."""
    return [_fallback(e) for e in _entries() if e.get("open_weight_of") == model_id]
