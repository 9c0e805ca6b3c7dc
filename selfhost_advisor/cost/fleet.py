"""Each box's serving capacity at the quality floor, and boxes re-planned with more GPUs when the floor needs them.

Why: a box that reaches the load only at a format below the floor (a 70B at AWQ-INT4 on 2x RTX 4090 against an API
serving FP8) is not the option the API is compared with. It is re-planned as the same GPU in a larger box (2x -> 4x
-> 8x, up to what one host holds: data/cost.yaml host_systems max_gpus), priced as that box; if no such box serves
the floor it is excluded, with the format it would need. Capacities are computed once per box and format and reused
by the sensitivity re-runs and by the verdict at other floors.
"""
from __future__ import annotations

from typing import Callable

from ..domain import ServingCapacity
from ..errors import AdvisorError
from ..record import record, replace
from .floor import QualityFloor, meets, weight_bits
from .types import Box, Workload


@record
class Replan:
    """A box that serves the floor only with more GPUs (planned) or not at all (planned None)."""

    original: str  # "2x rtx-4090"
    planned: str | None  # "4x rtx-4090", or None: excluded
    below_format: str  # the format the original box would need (below the floor)
    reason: str


def box_engine(box: Box) -> str:
    """The engine `serve` picks for this box alone (estimate/vllm.py default_serving_engine on the machine the box is
    sized as, capacity.machine_for): vLLM for a GPU it serves, llama.cpp for a Mac, an AMD APU or a GPU named with
    'vulkan'. Raises AdvisorError where that machine cannot be built."""
    from ..estimate.vllm import default_serving_engine
    from .capacity import machine_for

    return default_serving_engine([machine_for(box)])


class Fleet:
    """Serving capacities by box and format for one model and workload (the serving model runs once per pair)."""

    def __init__(self, model, w: Workload, engine: str, quant=None, measured: tuple[float, float] | None = None,
                 box_kw: dict | None = None, per_box: bool = False):
        self.model, self.w, self.engine, self.quant, self.measured = model, w, engine.lower(), quant, measured
        self.box_kw = dict(box_kw or {})
        # per_box (the engine was not given and the named boxes mix GPUs vLLM serves with ones it does not): each box
        # is sized with the engine `serve` picks for it alone (estimate/vllm.py default_serving_engine), so a Mac
        # beside CUDA boxes is served by llama.cpp instead of excluded as 'vLLM does not run on Apple GPUs'
        # (session 32, macpow32); each row's serving.engine says which
        self.per_box = per_box
        self._engines: dict[str, str] = {}
        self._single: dict[tuple[str, str], ServingCapacity] = {}
        self._notes: dict[str, list[str]] = {}  # engine_machine's note -> the boxes it is about, in order

    def machine_notes(self, boxes) -> tuple[str, ...]:
        """What the engine does with these boxes' hardware (Ollama runs an Intel GPU on its Vulkan backend), once per
        note with the boxes it concerns: fit and serve print it, and the boxes were sized on it."""
        shown = {b.label for b in boxes}
        out = []
        for note, labels in self._notes.items():
            named = [label for label in labels if label in shown]
            if named:
                out.append(f"{', '.join(named)}: {note}")
        return tuple(out)

    def engine_of(self, box: Box) -> str:
        """The engine this box is sized with: the comparison's, or with per_box the one `serve` picks for it alone."""
        if not self.per_box or box.spec:
            return self.engine
        if box.label not in self._engines:
            try:
                self._engines[box.label] = box_engine(box)
            except AdvisorError:
                self._engines[box.label] = self.engine
        return self._engines[box.label]

    @property
    def floor_applies(self) -> bool:
        """The floor chooses the format (not measured figures, not a --quant the user named)."""
        return self.measured is None and self.quant is None

    def _machine(self, box: Box):
        from ..engines import get_engine
        from .capacity import machine_for

        from ..estimate.driver_notes import device_notes
        from ..estimate.sycl_path import engine_sycl_notes

        # the machine as the engine runs it: Ollama puts an Intel GPU on Vulkan (engines/ollama.py engine_machine); the
        # Vulkan driver it was then sized for; llama.cpp's SYCL build on an Intel GPU (fit and serve print the same notes)
        eng = get_engine(self.engine_of(box))
        machine, note = eng.engine_machine(machine_for(box))
        for said in ([note] if note else []) + device_notes(machine.devices) + engine_sycl_notes(eng, machine.devices):
            if box.label not in self._notes.setdefault(said, []):
                self._notes[said].append(box.label)
        return machine

    def _one(self, box: Box, quant) -> ServingCapacity:
        from .capacity import model_capacity

        key = (box.label, getattr(quant, "name", "") or "")
        if key not in self._single:
            self._single[key] = model_capacity(self.model, self._machine(box), self.w, self.engine_of(box), quant)
        return self._single[key]

    def _paged(self, box: Box) -> bool:
        from ..engines import get_engine

        return bool(get_engine(self.engine_of(box)).kv_pool)

    def capacity(self, box: Box, floor: QualityFloor, free_too: bool = True,
                 ) -> tuple[ServingCapacity, ServingCapacity | None]:
        """(capacity at the floor, the unconstrained choice) for one box; the second only with free_too (a box tried
        as a re-plan needs just the formats at or above the floor). A measured or --quant capacity is served as given
        (the floor is not applied to a format the user chose or measured)."""
        from ..engines import get_engine
        from .capacity import best_capacity, measured_capacity

        if self.measured is not None:
            cap = measured_capacity(self.measured[0], self.measured[1], self.w, self.engine)
            if self.quant is not None:
                cap = replace(cap, quant=self.quant.name)
            return cap, None
        if self.quant is not None:
            return self._one(box, self.quant), None
        quants = get_engine(self.engine_of(box)).model_quants(self.model)
        if self._paged(box):  # the serving model's own choice (serve() with quant None), among the formats allowed
            ok = best_capacity([self._one(box, q) for q in quants if meets(q.name, q.default_type, floor)])
            free = best_capacity([self._one(box, q) for q in quants]) if free_too else None
            return (ok if ok is not None else _none_at(box, floor, free, self.engine_of(box))), free
        free = self._one(box, None)
        if meets(free.quant, "", floor):
            return free, free
        eligible = [q for q in quants if meets(q.name, q.default_type, floor)]
        if not eligible:
            return _none_at(box, floor, free, self.engine_of(box)), free
        lowest = min(eligible, key=lambda q: weight_bits(q.name, q.default_type) or 0.0)
        return self._one(box, lowest), free

    def plan(self, boxes: list[Box], floor: QualityFloor,
             ) -> tuple[list[Box], Callable[[Box], ServingCapacity], tuple[Replan, ...]]:
        """The boxes to compare at this floor (re-planned where the floor needs more GPUs), their capacity function,
        and what was re-planned or excluded because of the floor."""
        caps: dict[str, ServingCapacity] = {}
        out: list[Box] = []
        replans: list[Replan] = []
        labels = {b.label for b in boxes}
        for box in boxes:
            cap, free = self.capacity(box, floor)
            below = free is not None and free.fits and not cap.fits and not meets(free.quant, "", floor)
            if not below:
                if not cap.fits and (free is None or not free.fits) and self.floor_applies:
                    cap = replace(cap, reason=self._too_small(box, floor, cap))
                caps[box.label] = cap
                out.append(box)
                continue
            bigger, why = self._bigger(box, floor, labels)
            if bigger is not None:
                caps[bigger[0].label] = bigger[1]
                out.append(bigger[0])
                labels.add(bigger[0].label)
                replans.append(Replan(box.label, bigger[0].label, str(free.quant),
                                      f"{box.label} serves this load only at {free.quant}, below the {floor.format} "
                                      f"floor; at {bigger[1].quant} it takes {bigger[0].label}"))
                continue
            reason = (f"serves this load only at {free.quant}, below the {floor.format} floor; "
                      f"{why} (--min-quant any compares it at {free.quant})")
            caps[box.label] = replace(cap, fits=False, reason=reason)
            out.append(box)
            replans.append(Replan(box.label, None, str(free.quant), f"{box.label} {reason}"))
        return out, (lambda b: caps[b.label]), tuple(replans)

    def _too_small(self, box: Box, floor: QualityFloor, cap: ServingCapacity) -> str:
        """Why a box serves the model at no format, in a buyer's words: the weights at the floor's smallest format
        against the box's GPU memory, and the same GPU in the smallest larger box that does serve it (what to buy
        instead). The engine's own refusal follows (vLLM's 'No available memory for the cache blocks' names neither
        the memory nor a fix). A box short of anything but memory (a latency target, an engine that does not run on
        it: vLLM on a Mac) keeps the serving model's reason: a bigger box of the same GPU would not help."""
        from ..engines import get_engine
        from .boxes import max_gpus_per_box

        why = cap.reason
        if not why or cap.short_of != "memory":
            return why
        try:
            eng = get_engine(self.engine_of(box))
            quants = [q for q in eng.model_quants(self.model) if meets(q.name, q.default_type, floor)]
            if not quants:
                return why
            q = min(quants, key=lambda q: weight_bits(q.name, q.default_type) or 0.0)
            weights = _weights_bytes(self.model, q, eng.weight_formats == "serving")
            devices = self._machine(box).devices
        except (AdvisorError, KeyError, ValueError):
            return why
        have = sum(d.memory_bytes for d in devices)
        if weights <= 0 or have <= 0:
            return why
        # GiB, the unit GPU memory is sold in (a '24 GB' RTX 4090 holds 24 GiB = 25.8 decimal GB)
        gb = lambda b: f"{b / 2**30:.0f} GiB" if b >= 10 * 2**30 else f"{b / 2**30:.1f} GiB"  # noqa: E731
        name = getattr(self.model, "name", "") or "the model"
        what = (f"{name} needs {gb(weights)} for its weights at {q.name} (the smallest format at the "
                f"{floor.format} floor); "
                f"{box.label} has {gb(have)} of GPU memory" +
                (" in all" if box.gpus > 1 else "") +
                ("" if weights > have else ", which holds them but not the engine's working memory and one "
                 "request's KV cache beside them"))
        fix = ""
        limit = max_gpus_per_box(box.profile_id) if not box.spec else box.gpus
        for big in self._doublings(box, limit):
            bcap, _ = self.capacity(big, floor, free_too=False)
            if bcap.fits:
                fix = f"; {big.label} serves it at {bcap.quant} (--hardware \"{big.label}\")"
                break
        if not fix:
            fix = (f"; no box of up to {limit} of these GPUs serves it at the {floor.format} floor"
                   if limit > box.gpus else "; a GPU with more memory is needed")
        return f"{what}{fix} (engine: {why})"

    def _doublings(self, box: Box, limit: int):
        """The same GPU in boxes of twice, four times ... its count, up to `limit` GPUs, as box_from_spec builds them
        (with the box's backend words); stops at the first count it refuses."""
        from .boxes import box_from_spec

        n = box.gpus * 2
        while n <= limit:
            try:
                yield box_from_spec(f"{n}x {box.profile_id}" + (f" {box.backend_words}" if box.backend_words else ""),
                                    **self.box_kw)
            except AdvisorError:
                return
            n *= 2

    def _bigger(self, box: Box, floor: QualityFloor, labels: set[str]):
        """The same GPU in the smallest larger box (doubling the count) that serves the floor, with its capacity; or
        None and why not."""
        from .boxes import max_gpus_per_box

        limit = max_gpus_per_box(box.profile_id)
        if limit <= box.gpus:
            if box.spec:
                return None, "a spec-sheet box is priced as given (its count= sets the GPUs)"
            return None, f"{box.profile_id} comes as one machine, so no larger box is planned" if limit == 1 \
                else f"one host holds at most {limit} of them"
        tried = []
        for big in self._doublings(box, limit):
            if big.label in labels:
                return None, f"{big.label} is already compared"
            cap, _ = self.capacity(big, floor, free_too=False)
            if cap.fits:
                return (big, cap), ""
            tried.append(big.label)
        return None, (f"{' and '.join(tried)} do{'es' if len(tried) == 1 else ''} not serve it at the floor either"
                      if tried else f"one host holds at most {limit} of them")


def _none_at(box: Box, floor: QualityFloor, free: ServingCapacity | None, engine: str) -> ServingCapacity:
    base = free if free is not None else ServingCapacity(False, "", engine, None, 0, 0, 0, 0.0, 0.0, 0.0)
    return replace(base, fits=False, reason=f"no format at or above the {floor.format} floor fits {box.label}",
                   short_of="floor")


def _weights_bytes(model, quant, serving_formats: bool) -> int:
    """The weights' bytes at `quant` as the engine loads them (vLLM's checkpoint formats, else GGUF's)."""
    if serving_formats:
        from ..estimate.vllm_weights import vllm_weights

        return int(vllm_weights(model, quant).total)
    from ..estimate.memory_weights import weights

    return int(weights(model, quant).total_bytes)
