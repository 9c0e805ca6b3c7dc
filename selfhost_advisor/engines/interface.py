"""What every inference engine provides: its data record (data/engines.yaml), capabilities and hooks.

Why one interface (pip-audit's shape, STYLE.md): the estimates, the CLI and the renderers ask an engine what it
can do (partial offload? a paged KV pool? which KV cache types?) instead of testing its name. Adding an engine is
one module here plus its record in data/engines.yaml; nothing outside this package compares engine names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog.data import load
from ..errors import BadOptionError, NotSizedModelError, VllmOptionError
from ..termsafe import folded
from .startup_log import lines as startup_log_lines

DEFAULT_CONTEXT = 8192  # tokens: fit's and hardware --for's context when --context is not given (docs/cli.md)

if TYPE_CHECKING:
    from ..catalog.resolve import Resolved
    from ..domain import Device, FitOption, FitRequest, Machine, Model, Quant


class Engine:
    """One engine: `params` is its record in data/engines.yaml; subclasses implement the hooks."""

    name: str = ""
    # --ubatch (llama.cpp's -ub): "" where the engine takes it, else what the engine has instead (exit 2 says it)
    ubatch_refusal: str = "it has no physical-batch option"

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        self.name = name
        self.params = params
        caps = params.get("capabilities", {})
        self.partial_offload: bool = bool(caps.get("partial_offload", False))
        self.tensor_parallel: bool = bool(caps.get("tensor_parallel", False))
        self.pipeline_parallel: bool = bool(caps.get("pipeline_parallel", False))
        self.kv_pool: bool = bool(caps.get("kv_pool", False))  # paged KV blocks shared by all sequences
        self.gguf_files: bool = bool(caps.get("gguf_files", False))  # runs a local .gguf as it is
        self.weight_formats: str = str(caps.get("weight_formats", "gguf"))  # gguf | serving
        self.kv_cache_types: tuple[str, ...] = tuple(caps.get("kv_cache_types", ()))
        self.expert_offload: bool = bool(caps.get("expert_offload", False))  # MoE experts in RAM (--n-cpu-moe)
        self.mixed_gpus: bool = bool(caps.get("mixed_gpus", False))  # different GPU models in one machine

    def __repr__(self) -> str:
        return f"Engine({self.name!r})"

    # --- weight formats -------------------------------------------------------------------------------------
    def quant(self, name: str) -> Quant:
        """One weight format by name (raises UnknownQuantError naming the engine's formats)."""
        raise NotImplementedError

    def quants(self, names: list[str] | tuple[str, ...] = ()) -> tuple[Quant, ...]:
        """The named formats best first, or every format the engine offers when none are named."""
        raise NotImplementedError

    def select_quants(self, resolved: Resolved, names: list[str]) -> tuple[Quant, ...]:
        """Formats `fit` evaluates for a resolved model: a file's own, the named ones, or all."""
        return self.quants(names)

    def model_quants(self, model: Model) -> tuple[Quant, ...]:
        """Every format the engine serves `model` in (vLLM adds a model's own released format: gpt-oss's MXFP4)."""
        return self.quants()

    def buying_quants(self, quants: tuple[Quant, ...]) -> tuple[Quant, ...]:
        """Formats `hardware --for` considers when none are named (buying advice at 2-3 bits would mislead)."""
        return quants

    default_quants_note: str = ""  # which formats `hardware --for` tried, when --quant was not given
    weights_note: str = ""  # how weights are sized (fit's assumptions.weights)
    # fit's footnote: what the speed band (decode_low..decode_high) was measured on. llama.cpp and Ollama: the band of
    # measured/predicted on llama-bench rows of the backend family (data/speed.yaml decode_band)
    band_note: str = ("band = 10th-90th percentile of measured/predicted on llama-bench results; 'calibrated' "
                      "hardware families have measurements")
    # fit --json assumptions.speed: what the estimate is and what its band was measured on (session 31, apu31: vLLM's
    # said 'fitted per backend family on llama-bench results' where its footnote, band_note, says carried over)
    speed_note: str = "roofline with efficiency fitted per backend family on llama-bench results (data/speed.yaml)"

    # --- requests -------------------------------------------------------------------------------------------
    def check_model(self, resolved: Resolved, query: str) -> None:
        """Refuse a model source the engine cannot run (BadOptionError)."""
        if resolved.model.tensor_types is not None and not self.gguf_files:
            raise BadOptionError(f"{query} is a GGUF file sized for llama.cpp/Ollama",
                                 f"--engine {self.name} needs a Hub id or catalog model")

    def check_serves(self, command: str) -> None:
        """Refuse an engine `serve` / `cost` cannot model many users on: they model a paged KV pool (vLLM) or
        llama-server's slots over GGUF formats; MLX's formats reached the slots' quantizer (KeyError, exit 3)."""
        if not self.kv_pool and self.weight_formats != "gguf":
            raise BadOptionError(f"{command} does not model serving with --engine {self.name}",
                                 f"use --engine vllm, llamacpp or ollama; 'advisor fit MODEL --engine {self.name}' "
                                 "sizes one stream")

    def check_runs(self, model: Model, request_version: str = "") -> None:
        """Refuse an architecture this engine (this release, for Ollama) does not run: Llama 3.2 Vision (mllama) runs
        only on Ollama 0.4.0-0.29.x (data/engines.yaml vision_projectors.not_sized); exit 2 naming the releases that do."""
        for rec in load("engines").get("vision_projectors", {}).get("not_sized", {}).get("families", {}).values():
            if model.arch in rec.get("archs", ()) and not self.runs_release(rec.get("runs_on", {}).get(self.name),
                                                                           request_version):
                why = " ".join(str(rec.get("not_run", {}).get(self.name, "not run by this engine")).split())
                raise NotSizedModelError(f"{model.id} on --engine {self.name}{self.release_label(request_version)}: {why}",
                                         " ".join(str(rec["hint"]).split()))

    def runs(self, model: Model, request_version: str = "") -> bool:
        """Whether check_runs lets `model` through (models --fits leaves the others out)."""
        try:
            self.check_runs(model, request_version)
        except NotSizedModelError:
            return False
        return True

    def runs_release(self, span: dict | None, request_version: str = "") -> bool:
        """Whether the engine release in use lies in `span` ({since, before}); engines with one set of rules run it
        when they are listed at all."""
        return span is not None

    def release_label(self, request_version: str = "") -> str:
        return ""

    _VLLM_FLAGS = (("gpu_memory_utilization", "--gpu-memory-utilization"), ("max_num_seqs", "--max-num-seqs"),
                   ("kv_cache_memory_bytes", "--kv-cache-memory-bytes"),
                   ("max_num_batched_tokens", "--max-num-batched-tokens"), ("enforce_eager", "--enforce-eager"),
                   ("tensor_parallel", "--tp"), ("nodes", "--nodes"))

    def check_request(self, model: Model, request: FitRequest, machine: Machine | None = None) -> None:
        """Refuse options this engine does not have (exit 2 naming the fix): a KV cache type outside its
        capabilities, and the paged-pool options (utilisation, batch limits, graphs, TP) on engines without a pool."""
        kv = folded(request.kv_cache_type)
        if kv not in self.kv_cache_types:
            hint = "q8_0 (half of f16's bytes, llama.cpp's 8-bit KV)" if kv.startswith("fp8") else \
                ", ".join(self.kv_cache_types)
            raise BadOptionError(f"{self.name} has no {kv} KV cache", f"use --kv-cache {hint}")
        if request.engine_version and not self.params.get("versions"):
            raise BadOptionError(f"--engine-version: we keep one set of {self.name} rules ({self.params.get('version', '')})",
                                 "drop --engine-version (release rules are kept for --engine ollama)")
        if not self.kv_pool:
            for field, flag in self._VLLM_FLAGS:
                value = getattr(request, field)
                if value is not None and value is not False:  # `0 not in (None, False)` is False: --nodes 0 passed
                    # api._vllm_option_hint says to drop it instead where vLLM serves no GPU of the machine
                    raise VllmOptionError(f"{flag} is a vLLM option; {self.name} does not have it",
                                          "add --engine vllm or drop it")

    def default_context(self, model: Model, machine: Machine, request_version: str = "") -> int:
        """Context when --context is not given: 8192 tokens capped at the model's maximum (512 for a BERT embedder,
        4096 for Llama 2); engines with release records (Ollama) use their release's default, capped likewise."""
        return min(DEFAULT_CONTEXT, model.max_context)

    def embedding_note(self, model: Model, request: FitRequest) -> str:
        """A warning about how the engine embeds with this model ("" when there is nothing to say)."""
        return ""

    def context_floor(self, model: Model, context: int, request_version: str = "") -> tuple[int, str]:
        """The context the engine really runs with when it raises a small one: (context, a note or "")."""
        return context, ""

    def version_note(self, request_version: str = "") -> str:
        """A note on the --engine-version asked for ("" where none is due; engines keeping one set of rules refuse any)."""
        return ""

    def context_over_max(self, model: Model, context: int, asked: tuple[str, str] | None = None) -> tuple[int, str]:
        """An explicit context above the model's maximum: (the context the engine runs with, the warning), or
        BadOptionError where the engine refuses it. Default: it runs as asked (mlx_lm reads no maximum). `asked`: what
        the user's options call that context and how to bring it under the maximum (serve sizes it from
        --prompt-tokens + --output-tokens); None: fit's --context."""
        return context, f"{context_name(asked)} {context:,} exceeds {model.id}'s maximum {model.max_context:,}"

    def kv_cache_label(self, kv_cache_type: str) -> str:
        """How the text output names the KV cache type this engine stores for the request's --kv-cache."""
        return kv_cache_type

    def default_flash_attention(self, model: Model, request_version: str = "") -> bool:
        return bool(self.params["flash_attention"])

    def slot_limit(self, model: Model, request_version: str = "") -> int | None:
        """Most concurrent slots the engine gives this model whatever is asked (None: no such limit)."""
        return None

    def step_batch(self, request: FitRequest) -> int:
        """Tokens one serving step of a slot engine batches (serve's model of llama-server's loop): 2048, llama-server's
        default logical batch -b (common/common.h n_batch), where the engine takes no --ubatch."""
        return 2048

    def describe(self, model: Model, request: FitRequest) -> dict:
        """Engine-specific assumptions for fit's JSON (the release and its defaults, where the engine keeps them)."""
        return {}

    def projector_note(self, request: FitRequest, projector_bytes: int) -> str:
        """fit's assumptions.projector for a vision model: what was counted for its vision tower, and why."""
        if projector_bytes:
            why = "images sent" if request.images else "loaded with the model, images or not"
            return f"projector {projector_bytes / 2**30:.2f} GiB on GPU 0 (encoder weights + one image's graph; {why})"
        return "projector not counted: text only (--images adds it: llama-server --mmproj)"

    loads_tower_with_model: bool = False  # the engine loads a vision tower whether or not images are sent

    def unsized_tower_note(self, model: Model, request: FitRequest) -> str:
        """fit's assumptions.projector for a vision model whose tower we have not sized (no vision_projectors entry)."""
        if self.loads_tower_with_model:
            return "vision tower not sized: this engine loads it with the model, so the memory here is short by it"
        return "vision tower not sized (--images would add nothing): the figures are text only"

    def model_ref(self, resolved: Resolved) -> str:
        """What the command loads for this resolved model (a file path, a Hub id, an Ollama tag)."""
        if resolved.files:
            return resolved.files[0]
        return resolved.model.hf_id or resolved.model.id

    def command(self, model: Model, option: FitOption, request: FitRequest, machine: Machine) -> str:
        """The engine's command line with exactly the settings the estimate assumed ("" when nothing runs)."""
        return ""

    def check_quants(self, quants, machine: Machine) -> None:
        """Refuse a format the user named that the engine does not run on this machine's GPUs (BadOptionError);
        most engines run every format they list anywhere."""

    def runnable_quants(self, quants, machine: Machine) -> tuple:
        """The formats of `quants` the engine runs on this machine's GPUs (all of them for most engines)."""
        return tuple(quants)

    def check_machine(self, machine: Machine) -> None:
        """Refuse hardware the engine cannot run on (BadOptionError); most engines run anywhere."""

    def refused_device(self, machine: Machine) -> Device | None:
        """The first GPU named with a backend this engine has no build or platform for, or None: a table backend in
        its record's refused_backends (vLLM: 'vulkan') or a backend word the user typed in refused_backend_words
        (Ollama: 'sycl'; vLLM: 'vulkan', 'sycl'); data/engines.yaml gives each list's source. check_machine says why."""
        refused = self.params.get("refused_backends") or ()
        words = self.params.get("refused_backend_words") or ()
        return next((d for d in machine.devices if d.backend in refused or d.backend_word in words), None)

    def runs_nothing_on(self, machine: Machine) -> str:
        """Why this engine sizes no model on `machine` at all ("" where it can run one): `models --fits` refuses such a
        machine (exit 2) rather than listing every catalog model as not running with no reason (vLLM on a Mac)."""
        return ""

    def engine_machine(self, machine: Machine, request_version: str = "") -> tuple[Machine, str]:
        """The machine as this engine (release) runs it, and a note saying what changed ("" when nothing did): Ollama
        has no SYCL build, so an Intel GPU runs on its Vulkan backend or not at all (engines/ollama.py)."""
        return machine, ""

    # --- estimates ------------------------------------------------------------------------------------------
    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        """Memory, placement and single-stream speed of one weight format under this engine."""
        raise NotImplementedError

    def startup_log(self, model: Model, opt: FitOption, request: FitRequest, machine: Machine) -> tuple[str, ...]:
        """The lines the engine's own start-up log should print for `opt` (engines/startup_log.py), in the format its
        record names (data/engines.yaml startup_log); () where we cannot say."""
        return startup_log_lines(self.startup_log_format(request), model, opt, machine)

    def startup_log_format(self, request: FitRequest) -> str:
        """The start-up log format this engine prints for the request (data/engines.yaml startup_log; "" for none)."""
        return str(self.params.get("startup_log", ""))

    def never_on_gpu(self, model: Model, machine: Machine) -> bool:
        """True only when no weight format of `model` can be placed fully on the machine's GPUs, known without
        evaluating one (planning commands then skip the model: estimate/fit.py best_pick). False: not known."""
        return False


def context_name(asked: tuple[str, str] | None) -> str:
    """What an over-maximum context is called in a message (Engine.context_over_max's `asked`): 'context' for fit's."""
    return asked[0] if asked else "context"
