"""vLLM: serving weight formats (BF16, FP8, AWQ/GPTQ int4), a paged KV pool in a fixed share of each GPU, tensor
parallelism, no partial offload. The memory law is estimate/vllm.py; speed is estimate/serving.py's batched step."""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from ..domain import FitOption, Speed
from ..errors import BadOptionError
from ..estimate.encoder import embeds_only
from ..estimate.serving import _prefill_tokens_per_s, step_seconds
from ..estimate.serving.borrowed import compute_caveat
from ..estimate.serving.step import EAGER_CAVEAT
from ..estimate.speed import efficiency
from ..estimate.vllm import check_layers, get_vllm_quant, plan, vllm_quants, vllm_quants_for
from ..estimate.vllm import check_request as check_vllm_request
from ..estimate.vllm_weights import vision_bytes
from ..termsafe import folded
from .interface import Engine, context_name

if TYPE_CHECKING:
    from ..domain import FitRequest, Machine, Model, Quant
    from ..estimate.vllm import VllmPlan


def _is_encoder(model: Model) -> bool:
    return embeds_only(model)


_GGUF_KV = ("q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl", "f32")


class Vllm(Engine):
    ubatch_refusal = "vLLM's tokens per step are --max-num-batched-tokens"
    default_quants_note = "every vLLM serving format"
    weights_note = "per tensor, vLLM serving formats (data/engines.yaml vllm_formats)"
    # option(): the band is efficiency(dev.backend).decode_band, the backend family's llama.cpp band (data/speed.yaml),
    # applied to vLLM's step roofline; no vLLM run sets it (session 31 review: the footnote said 'llama-bench results')
    band_note = ("band = llama.cpp's 10th-90th percentile of measured/predicted for this backend family (llama-bench "
                 "rows, data/speed.yaml), carried over to vLLM: no vLLM runs measure it")
    speed_note = "roofline of one vLLM engine step per decoded token; " + band_note

    loads_tower_with_model = True

    def projector_note(self, request: FitRequest, projector_bytes: int) -> str:
        return "tower in the weights, 16-bit (vLLM builds it with the model, images or not)"

    def unsized_tower_note(self, model: Model, request: FitRequest) -> str:
        return self.projector_note(request, 0) if vision_bytes(model) else super().unsized_tower_note(model, request)

    def quant(self, name: str) -> Quant:
        return get_vllm_quant(name)

    def quants(self, names=()) -> tuple[Quant, ...]:
        return tuple(sorted({self.quant(n) for n in names}, key=lambda q: q.rank)) if names else vllm_quants()

    def model_quants(self, model: Model) -> tuple[Quant, ...]:
        return vllm_quants_for(model)

    def select_quants(self, resolved, names) -> tuple[Quant, ...]:
        return self.quants(names) if names else self.model_quants(resolved.model)

    def context_over_max(self, model: Model, context: int, asked: tuple[str, str] | None = None) -> tuple[int, str]:
        """vLLM refuses a max_model_len above the derived maximum unless VLLM_ALLOW_LONG_MAX_MODEL_LEN is set
        (vllm/config/model.py _get_and_verify_max_len: "User-specified max_model_len (N) is greater than the derived
        max_model_len (max_position_embeddings=M ...). To allow overriding this maximum, set the env var
        VLLM_ALLOW_LONG_MAX_MODEL_LEN=1"); with it set, vLLM warns and runs, and so do we."""
        import os

        if os.environ.get("VLLM_ALLOW_LONG_MAX_MODEL_LEN", "").strip().lower() in ("1", "true"):
            return context, (f"{context_name(asked)} {context:,} exceeds {model.id}'s maximum {model.max_context:,}: "
                             "allowed by VLLM_ALLOW_LONG_MAX_MODEL_LEN; positions past the maximum give wrong outputs")
        fix = asked[1] if asked else f"--context {model.max_context} or less"
        raise BadOptionError(
            f"{context_name(asked)} {context:,} is above {model.id}'s maximum {model.max_context:,}: vLLM refuses a "
            "max_model_len above the model's derived maximum",
            f"give {fix} (or set VLLM_ALLOW_LONG_MAX_MODEL_LEN=1, as vLLM says)")

    def check_quants(self, quants, machine: Machine) -> None:
        """GPTQ named on an Intel GPU: exit 2 with the formats that run there (data/engines.yaml vllm_platform_formats)."""
        from ..estimate.vllm_weights import check_platform

        check_platform(quants, machine)

    def runnable_quants(self, quants, machine: Machine) -> tuple:
        """Without --quant, fit lists only the formats vLLM runs on these GPUs (no GPTQ row on an Intel GPU)."""
        from ..estimate.vllm_weights import platform_refusal

        kept = tuple(q for q in quants if not any(platform_refusal(q.name, d.vendor) for d in machine.devices))
        return kept or tuple(quants)

    def check_machine(self, machine: Machine) -> None:
        """vLLM has no Vulkan platform (vllm/platforms/__init__.py: cuda, rocm, xpu, tpu, cpu; data/engines.yaml
        refused_backends): a GPU named with llama.cpp's 'vulkan' word is bad input for --engine vllm, not a GPU we
        size as if vLLM ran on it."""
        dev = self.refused_device(machine)
        if dev is not None and dev.backend_word == "sycl":  # an Intel GPU: vLLM runs it on its XPU platform
            raise BadOptionError(f"'sycl' names llama.cpp's SYCL backend ({machine.name}); vLLM runs Intel GPUs on its "
                                 "own XPU platform", "drop 'sycl' to size vLLM on the GPU, or use --engine llamacpp")
        if dev is not None and not dev.backend_word:  # the profile's own backend (Strix Halo's 'vulkan'): no word to drop
            raise BadOptionError(f"vLLM has no {dev.backend.capitalize()} backend, the one {machine.name} is sized on "
                                 "(its hardware profile's backend)", "use --engine llamacpp")
        if dev is not None:
            raise BadOptionError(f"vLLM has no {dev.backend.capitalize()} backend ({machine.name} was named with "
                                 f"'{dev.backend}')",
                                 f"drop '{dev.backend}' to size vLLM on the GPU's own backend, or use --engine llamacpp")

    def check_runs(self, model: Model, request_version: str = "") -> None:
        super().check_runs(model, request_version)
        check_layers(model)

    def runs_nothing_on(self, machine: Machine) -> str:
        """estimate/vllm.no_serving_gpu: a Mac, an AMD APU, a CPU-only box (fit sizes every option there as 'no')."""
        from ..estimate.vllm import no_serving_gpu

        return no_serving_gpu(machine)

    def check_request(self, model: Model, request: FitRequest, machine: Machine | None = None) -> None:
        kv = folded(request.kv_cache_type)
        if kv in _GGUF_KV:
            raise BadOptionError(f"vLLM has no {kv} KV cache (a llama.cpp type)",
                                 "use --kv-cache fp8 (1 byte per value, vLLM's 8-bit KV) or auto")
        super().check_request(model, request, machine)
        from ..estimate.vllm import serving_gpus

        n = len(serving_gpus(machine)) if machine else None
        check_vllm_request(model, request, n or None)

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        depth = request.context // 2
        p = plan(model, quant, machine, request)
        speed = None
        dev = machine.devices[0] if machine.devices else None
        if p.placement.fit == "gpu" and dev and dev.bandwidth_bytes_per_s and dev.fp16_flops:
            eff = efficiency(dev.backend)
            d = 1.0 / step_seconds(model, quant, machine, p.tp, 1, depth, eager=request.enforce_eager,
                                   release=request.engine_version)
            pf = _prefill_tokens_per_s(model, quant, machine, p.tp, min(depth, 256))
            speed = Speed(d, pf, "extrapolated", d * eff.decode_band[0], d * eff.decode_band[1],
                          pf * eff.prefill_band[0], pf * eff.prefill_band[1],
                          note=f"vLLM tensor parallel {p.tp}; CUDA-family efficiency from llama-bench"
                          + (f"; pipeline over {p.pp} nodes: stages run one after another (speed as tensor parallel "
                             "within a node; the inter-node hop is not counted)" if p.pp > 1 else ""),
                          caveats=((EAGER_CAVEAT,) if request.enforce_eager else ()) + _borrowed(machine))
        elif p.placement.fit == "gpu":
            speed = Speed(None, None, "unknown", note="device bandwidth or FLOPS unknown: give a hardware profile")
        if speed is not None and speed.decode_tokens_per_s is not None and _is_encoder(model):
            from ..record import replace

            speed = replace(speed, decode_tokens_per_s=None, decode_low=None, decode_high=None,
                            note=speed.note + "; embedding model: no decode, prefill is the tokens embedded per second")
        return FitOption(quant=quant, memory=p.memory, placement=p.placement, speed=speed,
                         max_concurrency=p.max_concurrency if p.placement.fit == "gpu" else 0,
                         command=self.plan_command(model, quant, request, p))

    def plan_command(self, model: Model, quant: Quant, request: FitRequest, p: VllmPlan) -> str:
        """`vllm serve` with every setting the estimate used (vllm/engine/arg_utils.py flags). BF16 serves the Hub
        checkpoint; FP8 quantizes it at load (--quantization fp8); AWQ/GPTQ need a pre-quantized checkpoint,
        which the command asks for in a variable rather than guessing a repository."""
        if p.placement.fit != "gpu":
            return ""
        ref = request.model_ref or model.hf_id or model.id
        head = ["vllm", "serve"]
        if quant.name in ("AWQ-INT4", "GPTQ-INT4"):
            var = quant.name.replace("-", "_")
            model_arg = f'"${{{var}_CHECKPOINT:?set it to the {quant.name} checkpoint of {ref}}}"'
            if any(c in ref for c in '"$`\\}'):
                model_arg = f'"${{{var}_CHECKPOINT:?set it to the {quant.name} checkpoint}}"'
        else:
            model_arg = shlex.quote(ref)
        budget = (["--kv-cache-memory-bytes", str(request.kv_cache_memory_bytes)] if request.kv_cache_memory_bytes else
                  ["--gpu-memory-utilization", f"{p.gpu_memory_utilization:g}"])
        args = ["--max-model-len", str(request.context), *budget,
                "--tensor-parallel-size", str(p.tp),
                "--kv-cache-dtype", "fp8" if request.kv_cache_type.lower().startswith("fp8") else "auto",
                "--max-num-seqs", str(p.max_num_seqs), "--max-num-batched-tokens", str(p.max_num_batched_tokens)]
        if p.pp > 1:  # multi-node: a Ray cluster over the nodes (docs.vllm.ai "Distributed inference and serving")
            args[args.index("--tensor-parallel-size") + 2:args.index("--tensor-parallel-size") + 2] = [
                "--pipeline-parallel-size", str(p.pp), "--distributed-executor-backend", "ray"]
        if quant.name == "FP8":
            args += ["--quantization", "fp8"]
        if request.enforce_eager:
            args.append("--enforce-eager")
        if "embedding" in model.use_cases:
            # vLLM's pooling runner (vllm/engine/arg_utils.py --runner {auto,generate,pooling,draft}; it replaced
            # --task embed) serves /v1/embeddings; a decoder checkpoint (Qwen3-Embedding's Qwen3ForCausalLM) is also
            # converted to an embedder with --convert embed, as stored launch scripts for it do
            args += ["--runner", "pooling"]
            from ..estimate.encoder import NO_MEMORY_ARCHS

            if model.arch not in NO_MEMORY_ARCHS:
                args += ["--convert", "embed"]
        return " ".join([shlex.join(head), model_arg, shlex.join(args)])


ENGINE_CLASS = Vllm


def _borrowed(machine: Machine) -> tuple[str, ...]:
    """The compute-share caveat of a part whose vLLM rate is borrowed (estimate/serving/borrowed.compute_caveat)."""
    caveat = compute_caveat(machine)
    return (caveat,) if caveat else ()
