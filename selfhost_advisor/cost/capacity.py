"""Where a box's serving capacity comes from: the speed model (estimate.speed.serving_capacity) or figures the user
measured on their own box (--decode-tps / --prefill-tps, e.g. from `vllm bench serve`)."""
from __future__ import annotations

from ..domain import Machine, Model, ServingCapacity
from ..errors import AdvisorError
from .types import Box, Workload


class NoCapacityModelError(AdvisorError):
    pass


def measured_capacity(decode_tps: float, prefill_tps: float, w: Workload, engine: str) -> ServingCapacity:
    """A capacity the user measured: aggregate decode tokens/s and prefill tokens/s of one box under load."""
    return ServingCapacity(
        fits=True, reason="", engine=engine, quant=None, context=w.context, max_concurrency=0, concurrency=0,
        aggregate_decode_tokens_per_s=decode_tps, per_stream_decode_tokens_per_s=0.0,
        prefill_tokens_per_s=prefill_tps, confidence="measured",
    )


def model_capacity(model: Model, machine: Machine, w: Workload, engine: str, quant=None) -> ServingCapacity:
    """The speed model's batched-serving estimate for this box at the workload's context and speed floor."""
    try:
        from ..estimate.speed import serving_capacity  # type: ignore[attr-defined]
    except ImportError as exc:
        raise NoCapacityModelError(
            "this build has no serving-capacity model (selfhost_advisor/estimate/speed.py serving_capacity)",
            "give the throughput you measured on the box: --decode-tps N --prefill-tps N",
        ) from exc
    return serving_capacity(model, machine, w.context, quant=quant, engine=engine,
                            min_stream_tokens_per_s=w.min_stream_tokens_per_s)


def machine_for(box: Box) -> Machine:
    from ..catalog.hardware import get_profile, machine_from_profile

    return machine_from_profile(get_profile(box.profile_id), box.gpus)
