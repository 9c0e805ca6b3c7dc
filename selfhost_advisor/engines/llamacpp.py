"""llama.cpp (llama-server): GGUF weights per tensor, KV cache allocated up front, whole layers offloaded (-ngl).

The memory laws are estimate/memory.py (weights, KV cells, compute buffer) and estimate/placement.py (layer
offload with llama.cpp's --fit margin); speed is estimate/speed.py's roofline fitted on llama-bench results.
"""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from ..catalog.data import load
from ..catalog.quants import get_quant, listed_quants
from ..domain import FitOption
from ..estimate.memory import estimate_memory, layer_weights_floor
from ..estimate.moe_offload import with_expert_offload
from ..estimate.placement import device_budgets, place
from ..estimate.server_host import with_served
from ..estimate.speed import estimate_speed
from ..record import replace
from .interface import Engine, context_name

if TYPE_CHECKING:
    from ..catalog.resolve import Resolved
    from ..domain import FitRequest, Machine, Model, Quant

# llama-server's logical batch -b when not given (common/common.h: n_batch = 2048); the physical batch is
# min(n_batch, n_ubatch) (src/llama-context.cpp), so a command with -ub above it also needs -b.
LLAMA_SERVER_N_BATCH = 2048
QUALITY_FLOOR = "Q4_K_M"  # llama.cpp's own recommended default (tools/quantize/README: "recommended" Q4_K_M)


class LlamaCpp(Engine):
    ubatch_refusal = ""  # -ub; Ollama (a subclass) takes it as num_batch
    default_quants_note = "Q4_K_M and better (default; --quant to choose)"
    weights_note = "per tensor, llama.cpp quantizer type rules, imatrix for IQ types"
    # llama-server samples each token on the host over the vocabulary (estimate/server_host.py): the served decode figure
    # adds that; Ollama (a subclass) samples in its own runner, whose time per token is not measured: False there
    host_sampling = True

    def step_batch(self, request: FitRequest) -> int:
        """The logical batch -b the command runs: llama-server's 2048, or -ub when above it (command() adds -b N);
        the slots' decode tokens and prompt chunks share it, in physical batches of -ub (src/llama-context.cpp)."""
        return max(LLAMA_SERVER_N_BATCH, request.n_ubatch)

    def quant(self, name: str) -> Quant:
        return get_quant(name)

    def quants(self, names=()) -> tuple[Quant, ...]:
        return tuple(sorted({self.quant(n) for n in names}, key=lambda q: q.rank)) if names else listed_quants()

    def select_quants(self, resolved: Resolved, names: list[str]) -> tuple[Quant, ...]:
        from ..catalog.resolve import select_quants

        return select_quants(resolved, names) or listed_quants()

    def embedding_note(self, model: Model, request: FitRequest) -> str:
        """A non-causal encoder embeds each input in one physical batch: llama-server refuses a longer input ("input
        (N tokens) is too large to process. increase the physical batch size"; it splits only causal models with
        last-token pooling), so -ub bounds the input length below the context."""
        from ..estimate.encoder import NO_MEMORY_ARCHS, encoder_compute_bytes

        if model.arch not in NO_MEMORY_ARCHS or request.n_ubatch >= request.context:
            return ""
        bigger = encoder_compute_bytes(model, request.context, request.flash_attention)
        grows = (f"its compute buffer grows to {bigger / 2**20:,.0f} MiB" if bigger is not None
                 else "its compute buffer grows with it (not sized here)")
        return (f"llama-server embeds each input in one physical batch: inputs longer than -ub {request.n_ubatch} tokens "
                f"are refused; to embed up to {request.context:,} add -b {request.context} -ub {request.context} "
                f"({grows})")

    def context_over_max(self, model: Model, context: int, asked: tuple[str, str] | None = None) -> tuple[int, str]:
        """llama.cpp warns and runs: llama_context allocates the KV cache for -c ("n_ctx_seq (N) > n_ctx_train (M) --
        possible training context overflow") and llama-server then caps each slot at the maximum ("the slot context
        (N) exceeds the training context of the model (M) - capping", tools/server/server-context.cpp). So the
        memory is the asked context's and no request can use more than the maximum."""
        return context, (f"{context_name(asked)} {context:,} exceeds {model.id}'s maximum {model.max_context:,}: "
                         f"llama-server allocates the KV cache for -c {context} but caps each slot at {model.max_context:,} tokens")

    def buying_quants(self, quants: tuple[Quant, ...]) -> tuple[Quant, ...]:
        floor = self.quant(QUALITY_FLOOR).rank
        return tuple(q for q in quants if q.rank <= floor)

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        depth = request.context // 2
        runtime = load("engines")["runtime"]
        backend = machine.devices[0].backend if machine.devices else "cpu"
        mem = estimate_memory(model, quant, request, n_gpus=len(machine.devices), backend=backend)
        proj = self.projector_bytes(model, request)
        if proj:
            mem = replace(mem, projector_bytes=proj)
        margin = self.gpu_margin_bytes(model, request)
        buffers = mem  # llama.cpp's own buffers
        planned = self.planned_graph(model, quant, request) if machine.devices else None
        if planned is not None:  # the engine lays layers out with its own graph estimate, not the buffers' sizes
            partial, full, layer_buffer = planned
            mem, margin = replace(buffers, compute_buffer_bytes=max(partial, full)), margin + layer_buffer
        placement = place(mem, machine, margin_bytes=margin,
                          os_reserve_bytes=int(runtime["os_reserve_bytes"]), host_ram_known=host_ram_known)
        if planned is not None:  # the graph planned for the layout placed; no layer on a GPU: llama.cpp's buffer in RAM
            mem = replace(buffers, compute_buffer_bytes=full if placement.gpu_layers == placement.total_layers
                          else partial) if placement.gpu_layers else buffers
        speed = estimate_speed(model, quant, placement, machine, kv_cache_type=request.kv_cache_type,
                               decode_depth=depth, prefill_depth=min(depth, 256), n_ubatch=request.n_ubatch)
        opt = FitOption(quant=quant, memory=mem, placement=placement, speed=speed)
        if self.expert_offload:
            opt = with_expert_offload(model, quant, machine, request, opt, host_ram_known=host_ram_known)
        cap = self.prompt_cache_cap(opt, machine, request)
        if cap is not None:
            note = (f"llama-server keeps idle prompts' KV in RAM up to --cache-ram ({self.prompt_cache_ram_bytes(request) // 2**20} "
                    f"MiB by default); {cap / 1e9:.1f} GB of RAM is left beside this fit, so the command caps it there")
            opt = replace(opt, placement=replace(opt.placement, note="; ".join(n for n in (opt.placement.note, note) if n)))
        if opt.speed is not None and self.host_sampling:  # llama-server's figure: its host sampling on top
            opt = replace(opt, speed=with_served(opt.speed, model))
        return replace(opt, command=self.command(model, opt, request, machine))

    def planned_graph(self, model: Model, quant: Quant, request: FitRequest) -> tuple[int, int, int] | None:
        """(partial-offload graph, full-offload graph, per-GPU layer buffer) for an engine that places layers with its own
        graph estimate rather than llama.cpp's reserved buffers (Ollama's llama.cpp runner, engines/ollama.py); None:
        llama-server places with the buffers themselves."""
        return None

    def prompt_cache_ram_bytes(self, request: FitRequest) -> int:
        """llama-server's default prompt-cache limit in host RAM (data/engines.yaml prompt_cache_ram_bytes)."""
        return int(self.params.get("prompt_cache_ram_bytes", 0))

    def prompt_cache_cap(self, option: FitOption, machine: Machine, request: FitRequest) -> int | None:
        """Bytes to cap llama-server's prompt cache at when its default would not fit in the RAM this fit leaves
        (CPU and partial fits, or any fit on unified memory, with the RAM known); None when the default fits."""
        default = self.prompt_cache_ram_bytes(request)
        pl = option.placement
        unified = bool(machine.devices) and all(d.unified for d in machine.devices)
        if not default or not machine.ram_bytes or pl.fit not in ("cpu", "partial", "gpu") or (pl.fit == "gpu" and not unified):
            return None
        used = pl.cpu_bytes + (pl.gpu_bytes if unified else 0)
        room = machine.ram_bytes - int(load("engines")["runtime"]["os_reserve_bytes"]) - used
        return max(0, room) if room < default else None

    def gpu_margin_bytes(self, model: Model, request: FitRequest) -> int:
        """Memory kept free on each GPU: llama.cpp's --fit target (data/engines.yaml runtime.gpu_margin_bytes)."""
        return int(load("engines")["runtime"]["gpu_margin_bytes"])

    def projector_bytes(self, model: Model, request: FitRequest) -> int:
        """Vision projector on GPU 0 when images are used: the --mmproj file's weights and one image's graph
        (estimate/projector.py); 0 for text-only use or a model without a vision encoder."""
        if not request.images:
            return 0
        from ..estimate.projector import projector

        p = projector(model, mmproj_file=True, image_tokens=request.image_tokens,
                      flash_attention=request.flash_attention)
        return p.weights_bytes + p.graph_bytes if p else 0

    def never_on_gpu(self, model: Model, machine: Machine) -> bool:
        """Exact, not a heuristic: a "gpu" placement (estimate/placement.place) puts every repeating layer, weights
        and KV, within the devices' memory, so the layers' weights are at most the summed device memory; and they
        are at least memory.layer_weights_floor (each tensor at the GGML type that stores it in the fewest bytes,
        whatever the quantizer's rules). Not for a GGUF file's exact tensors, nor for subclasses (Ollama places
        layers its own way)."""
        if type(self) is not LlamaCpp or model.tensor_types is not None or not machine.devices:
            return False
        return layer_weights_floor(model) > sum(device_budgets(machine, 0))

    def gguf_ref(self, model: Model, quant: Quant, request: FitRequest) -> str:
        """The GGUF the command loads: the user's file, or the usual file name of this quantization
        (<Hub name>-<QUANT>.gguf, as bartowski/unsloth name them) for a catalog or Hub model."""
        ref = request.model_ref
        if ref.lower().endswith(".gguf"):
            return ref
        base = (ref or model.hf_id or model.id).rstrip("/").split("/")[-1].replace(":", "-")
        return f"{base}-{quant.name}.gguf"

    def command(self, model: Model, option: FitOption, request: FitRequest, machine: Machine) -> str:
        """llama-server with the context, offload, flash attention, KV types, micro-batch, slots and split the
        estimate used (tools/server/README.md flags)."""
        pl = option.placement
        if pl.fit == "no":
            return ""
        args = ["llama-server", "-m", self.gguf_ref(model, option.quant, request),
                "-c", str(request.context), "-ngl", str(pl.gpu_layers),
                "-fa", "on" if request.flash_attention else "off",
                "-ctk", request.kv_cache_type, "-ctv", request.kv_cache_type,
                "-ub", str(request.n_ubatch), "-np", str(request.n_parallel)]
        if request.n_ubatch > LLAMA_SERVER_N_BATCH:  # n_ubatch = min(n_batch, n_ubatch): -b must rise with it
            args[args.index("-ub"):args.index("-ub")] = ["-b", str(request.n_ubatch)]
        if request.images and self.projector_bytes(model, request):
            args += ["--mmproj", "mmproj-" + self.gguf_ref(model, option.quant, request).rsplit("-", 1)[0] + "-f16.gguf"]
            from ..estimate.projector import is_dynamic

            if request.image_tokens and is_dynamic(model):
                args += ["--image-max-tokens", str(request.image_tokens)]
        if pl.cpu_moe_layers:
            args += ["--n-cpu-moe", str(pl.cpu_moe_layers)]
        if "embedding" in model.use_cases:
            # common/arg.cpp {"--embedding", "--embeddings"}: "restrict to only support embedding use case; use only
            # with dedicated embedding models" (env LLAMA_ARG_EMBEDDINGS); without it /v1/embeddings is refused
            args.append("--embedding")
        cap = self.prompt_cache_cap(option, machine, request)
        if cap is not None:
            args += ["--cache-ram", str(cap // 2**20)]
        used = [n for n in pl.per_device_layers if n]
        if len(used) > 1:
            args += ["--tensor-split", ",".join(str(n) for n in pl.per_device_layers)]
        return shlex.join(args)


ENGINE_CLASS = LlamaCpp
