"""`advisor cost` assembled from plain values: workload, owning costs, boxes, capacity and prices -> compare().

Why here and not in cli_cost.py: the CLI and the library (selfhost_advisor.cost(), api.py) must build the same
comparison from the same inputs; cli_cost.py parses options and calls this, api.cost() calls it directly.
"""
from __future__ import annotations

import re

from typing import Optional, Sequence

from ..catalog.spec_fields import THOUSANDS_GROUP
from ..errors import BadOptionError
from .types import CostComparison


def _names(values: str | Sequence[str] | None) -> list[str]:
    """'a,b' or ['a', 'b,c'] -> ['a', 'b', 'c'] (repeatable, comma-separated options)."""
    items = [values] if isinstance(values, str) else list(values or [])
    return [v.strip() for item in items for v in str(item).split(",") if v.strip()]


def _cloud_names(values: str | Sequence[str] | None) -> list[str]:
    """_names for --cloud, each name once (compared without case, kept as typed), at most MAX_LIST_VALUES of them.
    Why: each name is priced (~4 ms with genai-prices) and printed as a row; 3,000 x '--cloud gpt-4o' took 11.6 s."""
    from ..limits import MAX_LIST_VALUES

    once: dict[str, str] = {}
    for name in _names(values):
        once.setdefault(name.lower(), name)
    if len(once) > MAX_LIST_VALUES:
        raise BadOptionError(f"--cloud names {len(once):,} APIs, more than {MAX_LIST_VALUES}",
                             "name the APIs to compare, e.g. --cloud gpt-4o-mini,claude-haiku")
    return list(once.values())


def _boxes(values: str | Sequence[str] | None) -> list[str]:
    """_names for --hardware, with a spec sheet kept whole ('custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS' is one
    box: its key=value parts join the custom: part before them) and each box once, compared without case or spacing
    but kept as typed (a probe file's path is case-sensitive)."""
    out: list[str] = []
    for part in _names(values):
        if out and ("=" in part and ":" not in part.split("=", 1)[0] or THOUSANDS_GROUP.fullmatch(part)) \
                and "custom:" in out[-1].lower():  # a key=value, or the digits after a thousands comma (price=$2,500)
            out[-1] += "," + part
        else:
            out.append(part)
    return list({" ".join(s.lower().split()): " ".join(s.split()) for s in reversed(out)}.values())[::-1]


def _differ(a, b) -> bool:
    """Whether two boxes of one label, a spec sheet among them, differ in what is priced or served (their price, power, host, or the machine
    re-read from the sheet), not only in how the sheet was written ('./box.yaml' and 'box.yaml' are one box)."""
    from ..record import replace
    from .custom_box import custom_machine

    if not (a.spec and b.spec):  # a catalog box and a spec sheet given its name
        return True
    return replace(a, spec="") != replace(b, spec="") or custom_machine(a) != custom_machine(b)


def default_engine(boxes: Sequence) -> str:
    """The engine `cost` sizes the named `boxes` with when --engine is not given: vLLM, unless no box has a GPU vLLM
    serves from (a Mac, an AMD APU, a GPU named with 'vulkan'): then llama.cpp, as `serve` picks (api.serve).
    Before, `cost -H m4-max-128gb` sized the Mac with vLLM and excluded it ('vLLM does not run on Apple GPUs ...: use
    --engine llamacpp') while `serve -H m4-max-128gb` served it. A mix of both kinds keeps vLLM (the others are
    excluded with that reason); so do no boxes (the default comparison) and a box whose machine does not resolve."""
    from ..errors import AdvisorError
    from ..estimate.vllm import default_serving_engine
    from .capacity import machine_for

    try:
        machines = [machine_for(box) for box in boxes]
    except AdvisorError:
        return "vllm"
    return default_serving_engine(machines)


def _resolve_boxes(specs: Sequence[str], box_kw: dict) -> tuple[list, Optional[Exception]]:
    """The boxes of `specs` in order, up to the first that does not resolve, and its error (None when all do): resolved
    once, for the default engine and the comparison; the error is raised where the comparison reaches that box, after
    the boxes before it are checked, as when each was resolved in turn."""
    from ..errors import AdvisorError
    from .boxes import box_from_spec

    out = []
    for spec in specs:
        try:
            out.append(box_from_spec(spec, **box_kw))
        except AdvisorError as e:
            bins = _mac_bins(e)
            if not bins:
                return out, e
            try:  # each GPU bin of the Mac named, in core order, as its own box
                out.extend(box_from_spec(pid, **box_kw) for pid in bins)
            except AdvisorError as e2:
                return out, e2
    return out, None


def _mac_bins(err) -> list[str]:
    """The configuration ids a refused Mac name names when they differ only in GPU bin ('mac studio m3 ultra 256gb':
    the 60- and the 80-core M3 Ultra with 256 GB; session 32, macpow32): cost compares both as boxes, since a buyer
    choosing between them is what cost is for, where fit and serve, which size one machine, ask which. [] otherwise
    (memory sizes differ, or not a Mac)."""
    from ..catalog.hw_names import AmbiguousHardwareError

    cands = list(getattr(err, "candidates", ()) or ()) if isinstance(err, AmbiguousHardwareError) else []
    if len(cands) < 2 or any(c.kind != "apple" for c in cands) or len({c.memory_bytes for c in cands}) != 1 \
            or "none of the cards" in str(err):
        return []
    return [c.id for c in sorted(cands, key=lambda c: (c.raw.get("gpu_cores") or 0, c.id))]


# Why the engine was chosen (the JSON's assumptions.engine.source; the text header says the llama.cpp case, the one a
# user asking about serving capacity would not expect)
ENGINE_SOURCES = {
    "vllm": "default: vLLM, a continuously batching server, sizes boxes with a GPU it serves (--engine llamacpp or "
            "ollama to size them as those engines serve)",
    "llamacpp": "default: llama.cpp, as no box named has a GPU vLLM serves (a Mac, an AMD APU, a GPU named with "
                "'vulkan'), as `serve` picks; --engine to change",
}
ENGINE_SOURCES["mixed"] = (
    "default: each box with the engine `serve` picks for it: vLLM for a GPU it serves, llama.cpp for a Mac, an AMD APU "
    "or a GPU named with 'vulkan' (each self_host row's serving.engine says which; --engine to size every box with one)")
ENGINE_HEADER = {"llamacpp": "the default where no box has a GPU vLLM serves; --engine to change",
                 "mixed": "vLLM for the GPUs it serves, llama.cpp for the others (a Mac, an AMD APU, a GPU named with "
                          "'vulkan'), as serve picks for each box; --engine to size every box with one"}


def _mixed(boxes) -> bool:
    """Whether the named boxes need different engines (some have a GPU vLLM serves, some not): then each is sized with
    its own (cost/fleet.py per_box), where before the others were excluded ('use --engine llamacpp')."""
    from ..errors import AdvisorError
    from .fleet import box_engine

    try:
        return len({box_engine(b) for b in boxes if not b.spec}) > 1
    except AdvisorError:
        return False


def _usable_memory(boxes) -> dict | None:
    """The GPU memory each unified-memory box is sized on, and why (the JSON's assumptions.usable_memory; the text's
    Usable line): what fit prints on its Usable line for the same machine. Why: cost sized a Strix Halo on the iGPU's
    75% (Windows) share without saying so, and a Linux box at amdgpu's default half could not be stated (--gpu-memory)."""
    from .capacity import machine_for

    value = {}
    for box in boxes:
        if box.spec:
            continue
        for d in machine_for(box).devices[:1]:
            stated = d.stated_usable_memory
            if d.unified and stated:
                value[box.label] = {"usable_bytes": int(stated[0]), "memory_bytes": int(d.memory_bytes),
                                    "source": stated[1]}
    given = any(b.gpu_memory is not None for b in boxes)
    return {"value": value, "source": "given with --gpu-memory" if given else
            "default: each unified-memory box's usable share, as fit's Usable line (value[].source)"} if value else None


def _check_backend(box, eng) -> None:
    """A box named with a backend word ('rtx 4090 vulkan') is refused by an engine without that backend, as fit and
    serve refuse it (--engine vllm: vLLM has no Vulkan platform, engines/vllm.py check_machine), not priced as CUDA.
    A spec sheet with backend=vulkan is the same box: it was excluded under a wrong reason ('Apple GPUs or non-CUDA
    unified memory') where fit and serve exit 2."""
    if box.backend_words or box.spec:
        from .capacity import machine_for

        eng.check_machine(machine_for(box))


def _price_date(text: Optional[str]):
    from datetime import date

    from .cloud import price_data_dates, price_moment

    if text is None:
        return price_moment()
    # YYYY-MM-DD in ASCII digits only, as the help says: Python 3.11's fromisoformat also reads ISO week dates
    # ('2026-W49-2') and the basic form ('20261201'), which 3.10 refuses (session 34)
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            raise ValueError(text)
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadOptionError(f"--price-date {text!r} is not a date", "give YYYY-MM-DD, e.g. 2026-12-05") from None
    first, newest = price_data_dates()
    if day < first:  # 0001-01-01 priced every API at its 2026 price
        raise BadOptionError(f"--price-date {day.isoformat()} is before the earliest API price data held (prices "
                             f"observed {first.isoformat()} to {newest.isoformat()}; later dates apply the changes "
                             f"scheduled by then)", f"give a date from {first.isoformat()} on, or leave it out for today")
    return price_moment(day)


def build_comparison(
    monthly_tokens: str | int | float, *,
    model: str = "llama3.1:70b",
    hardware: str | Sequence[str] | None = None,
    cloud: str | Sequence[str] | None = None,
    prompt_tokens: float | None = None,
    output_tokens: float | None = None,
    output_share: float | None = None,
    peak_to_average: float | None = None,
    active_hours: float | None = None,
    context: str | int | None = None,
    min_stream_speed: float | None = None,
    max_ttft: float | None = None,
    request_tokens: float | None = None,
    cached_input_share: float | None = None,
    batch_share: float | None = None,
    cache_write_share: float | None = None,
    cached_prompt_tokens: int | None = None,
    electricity: float | None = None,
    pue: float | None = None,
    amortize_months: float | None = None,
    ops_hours: float | None = None,
    ops_hours_per_box: float | None = None,
    spare: int | None = None,
    gpu_price: float | None = None,
    host_price: float | None = None,
    rent_price: float | None = None,
    price_date: str | None = None,
    ops_rate: float | None = None,
    no_ops_team: bool = False,
    regulated: str | None = None,
    air_gapped: bool = False,
    need_frontier: bool = False,
    price_in: float | None = None,
    price_out: float | None = None,
    engine: str | None = None,
    quant: str | None = None,
    decode_tps: float | None = None,
    prefill_tps: float | None = None,
    min_quant: str | None = None,
    residual_value: float | None = None,
    cost_of_capital: float | None = None,
    space_per_box: float | None = None,
    gpu_memory: str | None = None,
) -> CostComparison:
    """Self-host vs cloud for `monthly_tokens` ('2e9', '500M'); every option as `advisor cost` takes it."""
    from ..catalog.resolve import resolve  # any model: catalog, Hub id, GGUF file, installed Ollama
    from . import cloud as cloud_mod
    from .boxes import default_specs
    from .compare import compare
    from .defaults import thresholds
    from .inputs import (
        assumptions, build_constraints, build_params, build_workload, check_contract, check_prices,
    )

    monthly_tokens = str(monthly_tokens)
    context = None if context is None else str(context)
    m = resolve(model).model
    from ..estimate.encoder import refuse_embedder

    refuse_embedder(m, "cost")
    from ..engines import get_engine as _engine

    # the same box named twice ('rtx4090,rtx4090', 'rtx4090,rtx-4090') is priced once: a repeat added a duplicate row
    # each time (5,000 repeats made 1 MB of JSON and 3 s of work for one box)
    named = _boxes(hardware)
    if gpu_memory is not None and len(named) != 1:  # as --gpu-price: one machine's figure
        raise BadOptionError("--gpu-memory states one machine's usable GPU memory",
                             "give exactly one --hardware with it (a Mac, an AMD APU, DGX Spark)")
    box_kw = dict(gpu_price=gpu_price, host_price=host_price, rent_price=rent_price,
                  **({"gpu_memory": str(gpu_memory)} if gpu_memory is not None else {}))
    resolved, unresolved = _resolve_boxes(named or default_specs(), box_kw)
    engine_source, engine_why, per_box = "given with --engine", "", False
    if engine is None:
        engine = default_engine(resolved if named and unresolved is None else [])
        per_box = bool(named) and unresolved is None and _mixed(resolved)  # a mix: default_engine kept vLLM
        key = "mixed" if per_box else engine
        engine_source, engine_why = ENGINE_SOURCES[key], ENGINE_HEADER.get(key, "")

    _engine(engine).check_serves("cost")
    _engine(engine).check_runs(m)
    w = build_workload(monthly_tokens, output_share, peak_to_average, active_hours, context, min_stream_speed,
                       request_tokens, m.max_context, prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                       cached_input_share=cached_input_share, batch_share=batch_share, max_ttft=max_ttft,
                       cache_write_share=cache_write_share, cached_prompt_tokens=cached_prompt_tokens)
    over = ""
    if w.context > m.max_context:  # --context above the maximum: what the engine does (engines/*.py context_over_max)
        from ..engines import get_engine
        from ..record import replace as _replace

        ctx, over = get_engine(engine).context_over_max(m, w.context)
        w = _replace(w, context=ctx)
    p = build_params(electricity, pue, amortize_months, ops_hours, ops_rate, ops_hours_per_box, spare, residual_value,
                     cost_of_capital, space_per_box)
    constraints = build_constraints(regulated, air_gapped, no_ops_team, need_frontier)
    contract = check_contract(price_in, price_out)
    when = _price_date(price_date)
    boxes: list = []
    for box in resolved:
        _check_backend(box, _engine(engine))
        same = next((b for b in boxes if b.label == box.label), None)
        if same is None:
            boxes.append(box)
        elif box.spec != same.spec and _differ(box, same):  # a spec sheet named as another box: one was dropped
            raise BadOptionError(f"two different boxes are both named {box.label!r}",
                                 "give each spec sheet its own name= (e.g. name=Quote A) to compare them")
    if unresolved is not None:
        raise unresolved
    check_prices(gpu_price, host_price, rent_price, len(boxes) if hardware else 0)
    measured = (decode_tps, prefill_tps) != (None, None)
    if measured:
        if decode_tps is None or prefill_tps is None or not (decode_tps > 0 and prefill_tps > 0):
            raise BadOptionError("--decode-tps and --prefill-tps go together and must be positive", "e.g. --decode-tps 900 --prefill-tps 6000")
        if len(boxes) != 1:
            raise BadOptionError("measured --decode-tps/--prefill-tps describe one box", "give exactly one --hardware")
        from .capacity import measured_capacity, mix_tokens_per_s
        from .tco import capacity_tokens_per_month

        # positive but tiny (1e-10 tok/s): a box serving 0 tokens a month was tco's ValueError, exit 3 (5e-324: a mix
        # rate of 0.0, tco's ZeroDivisionError)
        mcap = measured_capacity(float(decode_tps), float(prefill_tps), w, engine)
        if not mix_tokens_per_s(mcap, w) > 0 or capacity_tokens_per_month(mcap, w) < 1:
            raise BadOptionError(f"--decode-tps {decode_tps:g} / --prefill-tps {prefill_tps:g} serve less than one "
                                 "token a month at this load", "give the box's measured rates in tokens/s, e.g. "
                                 "--decode-tps 900 --prefill-tps 6000")
    quant_obj = None
    if quant:
        from ..engines import get_engine

        quant_obj = get_engine(engine).quant(quant)
        from ..estimate.fit import refuse_unread_ud

        refuse_unread_ud(m, (quant_obj,))  # as `fit`: an unread UD-Q4_K_XL layout is refused, not guessed

    from .fleet import Fleet

    fleet = Fleet(m, w, engine, quant_obj, (float(decode_tps), float(prefill_tps)) if measured else None,
                  box_kw=box_kw, per_box=per_box and quant_obj is None and not measured)
    names = _cloud_names(cloud)
    prices = ([cloud_mod.resolve_cloud(n, w, when) for n in names] if names
              else ([] if contract else cloud_mod.default_cloud(m.id, w, when)))
    if contract:
        prices.append(cloud_mod.contract_price(*contract))
    prices = _with_formats(prices)
    constraints_, explicit, th = constraints, bool(names or contract), thresholds()
    notes = assumptions(w, p, when.date().isoformat())
    notes["engine"] = {"value": engine, "source": engine_source}
    usable = _usable_memory(boxes)
    if usable:
        notes["usable_memory"] = usable
    slot_engine = _engine(engine)
    if not measured and (not slot_engine.kv_pool or fleet.per_box):  # one slot per request: which decode rate
        notes["serving_rate"] = _slot_rate_note(bool(getattr(slot_engine, "host_sampling", False)))
    if context is None and w.context == m.max_context and notes["context"].get("default", w.context) > w.context:
        notes["context"] = {**notes["context"], "source": f"the model's maximum ({m.id}): the default is capped at it"}
    floor = _floor(min_quant, prices, w, m.id, explicit, constraints.need_frontier)
    planned, capacity_fn, replans = fleet.plan(boxes, floor)

    def rerun(w2, p2, boxes2, prices2, capacity=capacity_fn, verdict_only=False):
        return compare(m.id, m.name, w2, p2, boxes2, capacity, prices2, constraints_, explicit_cloud=explicit,
                       thresholds=th, assumptions=notes, verdict_only=verdict_only,
                       engine=slot_engine.name)

    def verdict_rerun(*args, **kw):  # the re-runs read only the verdict and the monthly totals
        return rerun(*args, verdict_only=True, **kw)

    result = rerun(w, p, planned, prices)
    from ..record import replace
    from .quality_note import annotate, floor_verdicts
    from .sensitivity import prices_to_win, quote_prices, reconcile, scale_capacity, sensitivities

    def capacity_rerun(f: float):  # every box's serving capacity x f (the serving model's own error)
        return verdict_rerun(w, p, planned, prices, capacity=lambda b: scale_capacity(capacity_fn(b), f))

    at_floors = floor_verdicts(fleet, boxes, prices, floor, result, verdict_rerun) if fleet.floor_applies else ()
    result = annotate(result, floor, replans, at_floors, fleet, quant_obj)
    result = reconcile(replace(result, sensitivity=sensitivities(result, planned, prices, verdict_rerun,
                                                                           None if measured else capacity_rerun)))
    result = quote_prices(replace(result, price_to_win=prices_to_win(result, planned, prices, verdict_rerun)))
    # the engine's note on the hardware (Ollama: an Intel GPU on Vulkan) leads, as in fit and serve
    lead = tuple(n for n in (over, _prefix_note(m, engine, w, measured), *fleet.machine_notes([*boxes, *planned]))
                 if n)
    result = replace(result, engine_why=engine_why) if engine_why else result
    return replace(result, warnings=lead + tuple(result.warnings)) if lead else result


def _prefix_note(model, engine: str, w, measured) -> str:
    """Why --cached-prompt-tokens changes no box's capacity, when it does not: measured rates are taken as given; a
    model the engine cannot serve a prefix of from cache (serving/prefix.py: recurrent layers, or on the slot engines a
    sliding window the request outgrows) gets no credit, as `serve` warns."""
    if not w.cached_prompt_tokens:
        return ""
    if measured:
        return ("--cached-prompt-tokens is not applied to --decode-tps / --prefill-tps: measure them with your "
                "shared prefix")
    from ..engines import get_engine
    from ..estimate.serving.prefix import uncredited_reason

    return uncredited_reason(model, get_engine(engine).kv_pool, w.prompt_tokens, w.request_output_tokens)


def _slot_rate_note(host_sampling: bool) -> dict:
    """Which decode rate sizes a llama.cpp / Ollama box (estimate/serving/slots.py): the engine's host sampling is
    priced (llama-server) or not (Ollama's runner, unmeasured)."""
    if host_sampling:
        return {"value": "llama-server served rate", "source": "each decode step is llama-bench's batched step plus "
                "llama-server's CPU sampling of every decoding slot (tools/server update_slots samples slot after slot; "
                "n_vocab x data/speed.yaml server_sampling.seconds_per_vocab_entry a slot), so one slot runs at fit's "
                "served_decode_tokens_per_s; docs/methodology.md 6c"}
    return {"value": "llama-bench rate", "source": "Ollama's runner sampler time is not measured (engines/ollama.py "
            "host_sampling), so its slots add none: an upper estimate of its served rate; docs/methodology.md 6c"}


def _with_formats(prices: list) -> list:
    """Each API with the weight format it is published to serve (data/prices.yaml served_formats) or None."""
    from ..record import replace
    from .floor import served_format

    out = []
    for pr in prices:
        got = served_format(pr)
        out.append(replace(pr, weight_format=got["format"], weight_format_source=got["source"],
                           weight_format_note=got["note"]))
    return out


def _floor(min_quant, prices, w, model_id: str, explicit: bool, need_frontier: bool):
    """The quality floor: --min-quant, or what the reference API (the one compare() will pick) serves."""
    from .cloud import price_cloud
    from .compare import reference_cloud
    from .floor import resolve_floor

    ref = reference_cloud([price_cloud(pr, w) for pr in prices], model_id, explicit, need_frontier)
    return resolve_floor(min_quant, prices, ref.price if ref is not None else None, model_id)
