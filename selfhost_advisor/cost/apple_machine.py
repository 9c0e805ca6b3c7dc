"""A Mac's whole-machine power and list price for `cost`, per configuration (data/apple.yaml `power`, `prices`).

Why: a Mac is bought as one machine (no host), and Apple publishes what each measured configuration draws at the wall,
idle and at its maximum (support.apple.com 102027 Mac Studio, 103253 Mac mini). cost prices a GPU box's electricity
from its TDP (active) and 12% of it (idle) plus a host; a Mac's active draw is Apple's maximum (the most it draws, as a
TDP is) and its idle draw Apple's measured idle, with no host. A configuration Apple's figure does not cover, or whose
price was not read, gets no figure: cost excludes it and says why (docs/methodology.md, cost, "Session 32 (macpow32)").
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.profiles import Profile
from ..record import record


@record
class ApplePower:
    idle_watts: float
    max_watts: float
    source: str  # what the JSON's gpu_watts_source says: machine, configuration measured, page


@record
class ApplePrice:
    usd: float
    source: str
    as_of: str


@lru_cache(maxsize=1)
def _tables() -> tuple[dict, dict, dict]:
    from ..catalog.data import load

    raw = load("apple")
    power = {cid: e for e in raw.get("power") or () for cid in e["covers"]}
    prices = {e["id"]: e for e in raw.get("prices") or ()}
    return power, prices, dict(raw.get("power_not_listed") or {})


def config_id(profile: Profile) -> str | None:
    """The data/apple.yaml configuration ('m3-ultra-80c-512gb') a Mac profile is, curated ('m3-ultra-512gb', its GPU
    cores in raw) or not; None for another kind or a configuration data/apple.yaml does not list."""
    if profile.kind != "apple":
        return None
    from ..catalog.hw_names import apple_profiles

    cores = profile.raw.get("gpu_cores")
    for q in apple_profiles():
        chip = q.raw["chip"]
        if q.id == profile.id:
            return q.id
        if q.memory_bytes == profile.memory_bytes and q.raw["gpu_cores"] == cores and \
                profile.id.startswith(chip + "-") and profile.id[len(chip) + 1:][:1].isdigit():
            return q.id
    return None


def _chip(cid: str) -> str:
    return cid.rsplit("-", 2)[0]


def apple_power(profile: Profile) -> ApplePower | None:
    """Apple's idle and maximum wall power covering this configuration, or None."""
    cid = config_id(profile)
    e = _tables()[0].get(cid or "")
    if e is None:
        return None
    return ApplePower(float(e["idle_watts"]), float(e["max_watts"]),
                      f"Apple's {e['machine']} {e['measured']}: {e['idle_watts']} W idle, {e['max_watts']} W maximum "
                      f"at the wall ({e['source']})")


def no_power_reason(profile: Profile) -> str:
    """Why a Mac configuration has no Apple power figure ('' when it has one or is not a Mac)."""
    cid = config_id(profile)
    if profile.kind != "apple" or (cid and apple_power(profile) is not None):
        return ""
    chip = _chip(cid) if cid else ""
    why = _tables()[2].get(chip)
    return why or (f"Apple publishes no idle / maximum power for the {profile.name} (its power pages list the Mac "
                   "Studio and Mac mini configurations Apple measured; none covers this one)")


def apple_price(profile: Profile) -> ApplePrice | None:
    """Apple's list price of the whole machine in this configuration, or None where it was not read."""
    e = _tables()[1].get(config_id(profile) or "")
    if e is None:
        return None
    return ApplePrice(float(e["usd"]), f"{e['machine']}: {e['source']}", str(e["as_of"]))
