"""MLX (mlx-lm) on Apple Silicon: mlx_lm.convert formats (affine 3-8 bit, group 64, bf16 scales and biases; mxfp4),
a bf16 KV cache grown in 256-token steps, everything in unified memory up to Metal's wired limit. The laws are
estimate/mlx.py; off Apple there is nothing to run (check_machine: exit 2)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BadOptionError
from .interface import Engine

if TYPE_CHECKING:
    from ..domain import FitOption, FitRequest, Machine, Model, Quant


class Mlx(Engine):
    ubatch_refusal = "mlx_lm prefills in chunks of --prefill-step-size, 2048 here"
    default_quants_note = "every mlx_lm.convert format"
    weights_note = "per tensor, mlx_lm.convert formats (data/engines.yaml mlx_formats): 2-D weights quantized, norms bf16"
    # estimate/mlx._speed: the band is efficiency("metal").decode_band, llama.cpp's Metal band (data/speed.yaml)
    band_note = ("band = llama.cpp's 10th-90th percentile of measured/predicted on Metal (llama-bench rows, "
                 "data/speed.yaml), carried over to mlx-lm: no mlx-lm runs measure it")
    speed_note = "roofline of mlx-lm's decode (estimate/mlx.py); " + band_note

    def kv_cache_label(self, kv_cache_type: str) -> str:
        """mlx-lm's KVCache stores bf16 (estimate/mlx.py sizes it so); f16 is only the CLI's llama.cpp default."""
        return "bf16" if kv_cache_type == "f16" else kv_cache_type

    def quant(self, name: str) -> Quant:
        from ..estimate.mlx import get_mlx_quant

        return get_mlx_quant(name)

    def quants(self, names=()) -> tuple[Quant, ...]:
        from ..estimate.mlx import mlx_quants

        return tuple(sorted({self.quant(n) for n in names}, key=lambda q: q.rank)) if names else mlx_quants()

    def check_machine(self, machine: Machine) -> None:
        from ..estimate.mlx import is_apple

        if not is_apple(machine):
            raise BadOptionError(f"--engine mlx runs on Apple Silicon only; {machine.name} is not an Apple machine",
                                 "use --engine llamacpp, or an Apple profile such as m4-max-128gb")

    def check_request(self, model: Model, request: FitRequest, machine: Machine | None = None) -> None:
        """mlx-lm cannot quantize a sliding-window cache (RotatingKVCache.to_quantized raises NotImplementedError)."""
        super().check_request(model, request, machine)
        from ..estimate.memory import uses_window
        from ..estimate.mlx import kv_bits

        if kv_bits(request.kv_cache_type) and any(uses_window(model, i) for i in range(model.n_layers)):
            raise BadOptionError(f"mlx-lm cannot quantize {model.id}'s sliding-window KV cache (RotatingKVCache)",
                                 "drop --kv-cache for --engine mlx, or use --engine llamacpp")

    def command(self, model: Model, option: FitOption, request: FitRequest, machine: Machine) -> str:
        """mlx_lm.convert of the Hub checkpoint into exactly the estimated format (bits, group size, mode), then
        mlx_lm.server on it with its prompt cache capped to the KV room (prompt_cache_bytes); no repository name is
        guessed. When the estimate passes 90% of the wired limit, the sysctl that raises Metal's limit comes first."""
        import shlex

        if option.placement.fit == "no":
            return ""
        from ..catalog._data import load

        fmt = next(f for f in load("engines")["mlx_formats"]["formats"] if f["name"] == option.quant.name)
        ref = request.model_ref or model.hf_id or model.id
        out = f"./{ref.rstrip('/').split('/')[-1].replace(':', '-')}-mlx-{fmt['name']}"
        conv = ["mlx_lm.convert", "--hf-path", ref, "--mlx-path", out]
        if fmt["group_size"]:
            conv += ["-q", "--q-bits", str(fmt["bits"]), "--q-group-size", str(fmt["group_size"])]
            if fmt["name"] == "mxfp4":
                conv += ["--q-mode", "mxfp4"]
        else:
            conv += ["--dtype", "bfloat16"]
        from ..estimate.mlx import kv_bits

        bits = kv_bits(request.kv_cache_type)
        if bits:  # mlx_lm.server has no --kv-bits: the quantized cache is mlx_lm.generate's (prompt on stdin)
            group = str(load("engines")["engines"]["mlx"]["kv_group_size"])
            run = ["mlx_lm.generate", "--model", out, "--kv-bits", str(bits), "--kv-group-size", group, "--prompt", "-"]
        else:
            run = ["mlx_lm.server", "--model", out, "--prompt-cache-bytes", str(self.prompt_cache_bytes(option, machine))]
        parts = [shlex.join(conv), shlex.join(run)]
        if "90% of the wired limit" in option.placement.note:
            mb = -(-option.memory.total_bytes // 2**20) + 1024
            parts.insert(0, f"sudo sysctl iogpu.wired_limit_mb={mb}")
        return " && ".join(parts)

    @staticmethod
    def prompt_cache_bytes(option: FitOption, machine: Machine) -> int:
        """The cap for mlx_lm.server's prompt cache: the wired limit less the weights and activations, i.e. the room
        the estimate leaves for KV. The server keeps the KV caches of up to --prompt-cache-size (10) past prompts
        with no byte limit unless --prompt-cache-bytes is given, and then trims the stored ones to that cap minus the
        caches in use (mlx_lm/server.py, models/cache.py LRUPromptCache, read at d78bf58e); without it ten cached
        conversations at this context would hold ten times the KV counted here."""
        dev = machine.devices[0]
        limit = dev.usable_memory_bytes or dev.memory_bytes
        m = option.memory
        return max(m.kv_cache_bytes, limit - (m.total_bytes - m.kv_cache_bytes))

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        from ..estimate.mlx import option
        from ..record import replace

        opt = option(model, quant, machine, request)
        return replace(opt, command=self.command(model, opt, request, machine))


ENGINE_CLASS = Mlx
