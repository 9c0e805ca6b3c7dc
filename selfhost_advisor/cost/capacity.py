"""Where a box's serving capacity comes from: the serving model (estimate/serving.py) for the workload's request mix,
or figures the user measured on their own box (--decode-tps / --prefill-tps, e.g. from `vllm bench serve`).

The cost model needs one number per box: sustained prompt + output tokens/s at the serving point the latency target
allows (`mix_tokens_per_s`). Box time per request = (prompt + output) / that rate.
"""
from __future__ import annotations

from ..domain import Machine, Model, ServingCapacity
from .types import Box, Workload


def measured_capacity(decode_tps: float, prefill_tps: float, w: Workload, engine: str) -> ServingCapacity:
    """A capacity the user measured: aggregate decode tokens/s and prefill tokens/s of one box under load."""
    return ServingCapacity(
        fits=True, reason="", engine=engine, quant=None, context=w.context, max_concurrency=0, concurrency=0,
        aggregate_decode_tokens_per_s=decode_tps, per_stream_decode_tokens_per_s=0.0,
        prefill_tokens_per_s=prefill_tps, confidence="measured",
    )


def mix_tokens_per_s(cap: ServingCapacity, w: Workload) -> float:
    """Sustained prompt + output tokens/s of one box for the workload's request mix.

    The serving model's `total_tokens_per_s` when it gives one (computed for this mix); otherwise prefill and decode
    take the box in turn (vLLM interleaves prefill chunks with decode steps on the same GPUs, so additive time is the
    conservative bound): (P + O) / (P / prefill + O / decode).
    """
    total = float(getattr(cap, "total_tokens_per_s", 0.0) or 0.0)
    if total > 0 and cap.confidence != "measured":
        return total
    if cap.prefill_tokens_per_s <= 0 or cap.aggregate_decode_tokens_per_s <= 0:
        raise ValueError("serving capacity must have positive prefill and decode rates")
    s = w.output_share
    return 1.0 / ((1.0 - s) / cap.prefill_tokens_per_s + s / cap.aggregate_decode_tokens_per_s)


def model_capacity(model: Model, machine: Machine, w: Workload, engine: str, quant=None) -> ServingCapacity:
    """The serving model's estimate for this box at the workload's request mix and latency targets.

    Requests hold prompt + output tokens of KV, not the full --context: the batch is the highest-throughput
    concurrency that the KV pool, vLLM's max_num_seqs and the latency targets (--max-ttft, --min-stream-speed) allow
    (estimate/serving: capacity_for_mix). A box that meets no target comes back with fits False and the reason.
    --cached-prompt-tokens: the shared prefix the engine serves from its cache (less prefill; vLLM: more requests fit).
    """
    from ..estimate.serving import capacity_for_mix

    return capacity_for_mix(model, machine, prompt_tokens=w.prompt_tokens, output_tokens=w.request_output_tokens,
                            quant=quant, engine=engine, max_ttft_s=w.max_ttft_s,
                            min_stream_tokens_per_s=w.min_stream_tokens_per_s,
                            cached_prompt_tokens=w.cached_prompt_tokens)


def machine_for(box: Box) -> Machine:
    from ..catalog.hardware import get_profile, machine_from_profile

    if box.spec:
        from .custom_box import custom_machine

        return custom_machine(box)

    profile = get_profile(box.profile_id)
    if box.backend_words:  # 'vulkan', 'vulkan radv': the backend the box was named with (catalog/backend_words.py)
        from ..catalog.backend_words import apply, split

        _, backend, driver = split(f"{box.profile_id} {box.backend_words}")
        profile = apply(profile, backend, driver, box.label)
    machine = machine_from_profile(profile, box.gpus)
    if box.gpu_memory is not None:  # the usable memory stated for a unified part, as fit's --gpu-memory
        from ..machine import apply_memory_options

        machine = apply_memory_options(machine, None, box.gpu_memory)
    return machine


def best_capacity(caps: list[ServingCapacity]) -> ServingCapacity | None:
    """The serving model's own choice among per-format capacities (estimate/serving/serve.py with quant None): those
    meeting the latency targets first, else those that fit; the highest output tokens/s. None when none is given."""
    if not caps:
        return None
    met = [c for c in caps if c.fits]
    fitting = met or [c for c in caps if c.output_tokens_per_s > 0 or c.aggregate_decode_tokens_per_s > 0]
    if not fitting:
        return caps[-1]
    return max(fitting, key=lambda c: c.output_tokens_per_s)

