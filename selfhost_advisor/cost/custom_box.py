"""A box priced from a spec sheet: `advisor cost -H "custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS" --gpu-price 2500`,
or the same keys in a YAML/JSON file (catalog/custom_hw.py parses them).

Why: a card not yet in the catalog, or a vendor's quote, has every input the cost model needs except what the catalog
would add: a price (the user's: --gpu-price or price=; refused without one, since a made-up price is a made-up verdict),
a host (the same rule as catalog GPUs, data/cost.yaml host_systems: a workstation for up to its max_gpus, a server
above; a unified-memory part is the whole machine) and a board power (tdp=, or else the TDP of the catalog GPU nearest
to it in memory bandwidth and FP16 rate, stated in the output as an assumption).
"""
from __future__ import annotations

import math
import os

from ..catalog.profiles import Profile
from ..errors import BadOptionError, UnknownHardwareError
from ..termsafe import clipped
from .types import Box


def is_spec_sheet(spec: str) -> bool:
    """custom:... or a file (a path, or a name ending .yaml/.yml/.json); a saved probe file is told apart later."""
    from ..catalog.spec_fields import is_custom

    low = spec.lower()
    return is_custom(spec) or low.endswith((".yaml", ".yml", ".json")) or os.path.sep in spec


def sheet_profile(spec: str) -> tuple[Profile, int] | None:
    """(profile, count) of the spec sheet `spec`, or None when `spec` is a saved probe file."""
    from ..catalog.spec_fields import is_custom

    if is_custom(spec):
        from ..catalog.custom_hw import parse_custom

        return parse_custom(spec)
    from ..probe.files import spec_sheet

    return spec_sheet(spec)


def nearest_tdp(profile: Profile) -> tuple[float, str]:
    """(watts, catalog id) of the curated GPU nearest to `profile` in log memory bandwidth and log FP16 rate, the two
    figures a spec sheet always gives: a card that moves as many bytes and does as much math draws about as much."""
    from ..catalog.profiles import profiles

    bw, fl = float(profile.bandwidth_bytes_per_s or 0), float(profile.fp16_flops or 0)
    best: tuple[float, float, str] | None = None
    for p in profiles():
        if p.kind != "gpu" or not p.tdp_watts or not p.bandwidth_bytes_per_s or not p.fp16_flops:
            continue
        d = math.log(p.bandwidth_bytes_per_s / bw) ** 2 + math.log(p.fp16_flops / fl) ** 2
        if best is None or d < best[0]:
            best = (d, float(p.tdp_watts), p.id)
    if best is None:  # the catalog always holds GPUs with a TDP; a test keeps it so
        raise RuntimeError("no catalog GPU with a TDP")
    return best[1], best[2]


def custom_box(spec: str, profile: Profile, count: int, *, gpu_price: float | None, host_price: float | None,
               rent_price: float | None) -> Box:
    """The Box for a spec sheet; --gpu-price / --host-price / --rent-price override the sheet's price= key."""
    from .hosts import host_for

    short = clipped(spec)
    if profile.kind in ("host", "cpu"):
        raise UnknownHardwareError(f"{short!r} is not a GPU or unified-memory machine",
                                   "the cost model sizes GPU and unified-memory boxes: give vram=, bandwidth= and fp16=")
    price = float(gpu_price) if gpu_price is not None else profile.price_usd
    if price is None and rent_price is None:
        raise BadOptionError(f"custom hardware {short!r} has no price to buy it at",
                             "give --gpu-price USD per GPU (or price= in the spec sheet; --host-price for the rest of "
                             "the box, --rent-price to rent it instead)")
    if profile.tdp_watts:
        # a saved probe's profile names its power limit as the source (cost/boxes.probe_profile)
        watts, source = float(profile.tdp_watts), (profile.raw.get("sources") or {}).get("tdp") or "spec sheet (tdp=)"
    else:
        watts, near = nearest_tdp(profile)
        source = (f"assumed: {watts:g} W, the TDP of {near}, the catalog GPU nearest in memory bandwidth and FP16 "
                  "rate (give tdp= in the spec sheet)")
    host_usd, host_active, host_idle = host_for(profile, count, datacenter=_host_kind(count) == "server")
    name = profile.name if profile.name != "custom GPU" else (
        f"custom {profile.memory_bytes / 1e9:.0f}GB {(profile.bandwidth_bytes_per_s or 0) / 1e9:.0f}GB/s "
        f"{(profile.fp16_flops or 0) / 1e12:.0f}TFLOPS")
    return Box(
        label=name if count == 1 else f"{count}x {name}", profile_id="custom", gpus=count,
        gpu_price_usd=price, host_price_usd=float(host_price) if host_price is not None else host_usd,
        gpu_tdp_watts=watts,
        host_active_watts=host_active, host_idle_watts=host_idle,
        rental_usd_per_gpu_hour=float(rent_price) if rent_price is not None else None,
        price_kind="given", spec=spec, power_source=source,
        price_source="" if price is None else ("given with --gpu-price" if gpu_price is not None
                                               else "price= in the spec sheet"),
        host_source="given with --host-price" if host_price is not None else (
            "none: the price is the whole machine" if profile.kind in ("apple", "apu") else
            f"data/cost.yaml host_systems.{_host_kind(count)}"),
        **_host_date(profile, count, host_price),
    )


def _host_date(profile, count: int, host_price) -> dict:
    """The date of the catalog host price a spec-sheet box is charged (cost/hosts.py host_price_date; price33)."""
    if host_price is not None or profile.kind in ("apple", "apu"):
        return {}
    from .hosts import host_price_date

    as_of, undated = host_price_date(_host_kind(count))
    return {"host_price_as_of": as_of, "host_price_undated": undated}


def _host_kind(count: int) -> str:
    """The data/cost.yaml host_systems entry a spec-sheet box of `count` GPUs sits in: more GPUs than one workstation
    holds make it a server's slots (the price, the source line and the date all read this one choice)."""
    from .defaults import data

    return "server" if count > int(data()["host_systems"]["workstation"]["max_gpus"]) else "workstation"


def custom_machine(box: Box):
    """The Machine a spec-sheet box serves on, re-read from its spec (a Box holds plain values only)."""
    from ..catalog.hardware import machine_from_profile

    sheet = sheet_profile(box.spec)
    if sheet is None:  # a saved probe whose GPU the catalog lacks (cost/boxes.probe_profile): the machine fit reads
        from ..probe.files import load_probe_file

        return load_probe_file(box.spec)
    profile, count = sheet
    return machine_from_profile(profile, count)
