"""The host a box's GPUs sit in (data/cost.yaml host_systems): its price and power, for catalog and spec-sheet boxes
alike (cost/boxes.py, cost/custom_box.py)."""
from __future__ import annotations

from ..catalog.hardware import get_profile
from ..catalog.profiles import Profile
from ..errors import UnknownHardwareError
from .defaults import data


def host_for(profile: Profile, count: int, *, datacenter: bool) -> tuple[float, float, float]:
    """(host price, active watts, idle watts): a server's per-GPU share, or one workstation (data/cost.yaml)."""
    if profile.kind in ("apple", "apu"):
        return 0.0, 0.0, 0.0  # the price and the power figure are the whole machine
    hosts = data()["host_systems"]
    if datacenter:
        s = hosts["server"]
        return float(s["usd_per_gpu"]) * count, float(s["active_watts_per_gpu"]) * count, float(s["idle_watts_per_gpu"]) * count
    ws = hosts["workstation"]
    if count > int(ws["max_gpus"]):
        raise UnknownHardwareError(
            f"{count}x {profile.id} does not fit one workstation host (at most {ws['max_gpus']} GPUs)",
            "give fewer GPUs per box; the cost model adds boxes as the load needs",
        )
    price = get_profile(ws["usd_from_profile"]).price_usd or 0.0
    return float(price), float(ws["active_watts"]), float(ws["idle_watts"])


def host_price_date(kind: str) -> tuple[str, bool]:
    """(date of the host price's figure, whether that is only the day an undated page was read) for a host_systems kind
    (session 33, price33): the data-centre slot's $4,000 is SemiAnalysis' 2023 bill of materials, the workstation's the
    host-workstation profile's price_as_of (an undated page), so a reviewer sees how old the host half of the capex is."""
    h = data()["host_systems"][kind]
    if kind == "server":
        return str(h.get("price_as_of") or ""), False
    raw = get_profile(h["usd_from_profile"]).raw
    return str(raw.get("price_as_of") or ""), bool(raw.get("price_undated"))
