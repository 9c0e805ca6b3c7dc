"""Turn hardware specs ("2x rtx4090", "a100-80gb") into priced Boxes: GPUs from data/hardware.yaml, host and rental
prices from data/cost.yaml."""
from __future__ import annotations

from ..catalog.hardware import Profile, get_profile, parse_spec
from ..errors import UnknownHardwareError
from .defaults import data
from .types import Box


def _host(profile: Profile, count: int) -> tuple[float, float, float]:
    """(host price, active watts, idle watts) for `count` GPUs of `profile`."""
    if profile.kind in ("apple", "apu"):
        return 0.0, 0.0, 0.0  # the price and the power figure are the whole machine
    hosts = data()["host_systems"]
    if profile.id in data()["datacenter_profiles"]:
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


def box_from_spec(spec: str) -> Box:
    profile, count, _link = parse_spec(spec)
    if profile.kind in ("host", "cpu"):
        raise UnknownHardwareError(f"{spec!r} is not a GPU or unified-memory machine",
                                   "the cost model serves with vLLM on GPUs: give e.g. rtx4090, '2x rtx4090', a100-80gb")
    host_usd, host_active, host_idle = _host(profile, count)
    rent = (data()["rental"]["usd_per_gpu_hour"] or {}).get(profile.id) or {}
    label = profile.id if count == 1 else f"{count}x {profile.id}"
    return Box(
        label=label, profile_id=profile.id, gpus=count, gpu_price_usd=profile.price_usd, host_price_usd=host_usd,
        gpu_tdp_watts=float(profile.tdp_watts or 0.0), host_active_watts=host_active, host_idle_watts=host_idle,
        rental_usd_per_gpu_hour=float(rent["on_demand"]) if rent.get("on_demand") else None,
        rental_low_usd_per_gpu_hour=float(rent["low"]) if rent.get("low") else None,
        price_kind=str(profile.raw.get("price_kind", "")),
    )


def default_specs() -> list[str]:
    return [str(s) for s in data()["default_hardware"]]
