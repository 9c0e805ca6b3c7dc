"""The frozen records passed between layers (resolve -> estimate -> decide -> render).

record.py: frozen slotted dataclass semantics, built in a tenth of the import time (issue 8).
"""
from __future__ import annotations

from typing import Any

from .record import field, record


@record
class MoE:
    experts: int
    active: int
    expert_intermediate_size: int
    shared_experts: int = 0
    shared_intermediate_size: int = 0  # per shared expert; 0 means expert_intermediate_size
    first_dense_layers: int = 0  # DeepSeek first_k_dense_replace
    moe_layer_step: int = 1  # Llama 4 Maverick: every 2nd layer is MoE
    # LatentMoE (Nemotron 3 Super, config.json moe_latent_size): the routed experts run at this width, between a
    # per-layer down projection from and up projection to the hidden size (llama.cpp ffn_latent_down / ffn_latent_up);
    # the router and the shared expert stay at the hidden size. 0 = experts at the hidden size.
    latent_size: int = 0


@record
class MLA:
    """DeepSeek multi-head latent attention (config.json of DeepSeek-V2/V3)."""

    kv_lora_rank: int
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None


@record
class DSA:
    """DeepSeek sparse attention's lightning indexer (config.json of DeepSeek-V3.2: index_n_heads, index_head_dim,
    index_topk). Besides the MLA latent, every layer caches one index_head_dim key per token for the indexer."""

    index_n_heads: int
    index_head_dim: int
    index_topk: int
    # GLM-5.2 (config.json indexer_types): the trunk layers that run their own indexer ("full"); the others
    # ("shared") reuse the previous full layer's top-k and have neither indexer weights nor indexer keys.
    # None: every layer is full (DeepSeek-V3.2, GLM-5 / 5.1). A NextN block past the trunk always carries one.
    indexer_layers: tuple[int, ...] | None = None

    def has_indexer(self, layer: int, n_layers: int) -> bool:
        """Whether `layer` owns indexer weights and keys (llama.cpp hparams.is_indexer_full; NextN blocks: yes)."""
        return self.indexer_layers is None or layer >= n_layers or layer in self.indexer_layers


@record
class SSM:
    """Recurrent layers' shapes as llama.cpp's hparams name them (ssm_d_conv, ssm_d_inner, ssm_d_state, ssm_n_group,
    ssm_dt_rank). Mamba-2 (Granite 4.0-H, Nemotron-H): d_inner = expand x hidden, n_group B/C groups, dt_rank SSM
    heads. Gated DeltaNet (Qwen3-Next, Qwen3.5): d_inner = value heads x value head dim, d_state = key head dim,
    n_group = key heads, dt_rank = value heads. Kimi Delta Attention (Kimi Linear, kind "kda"): q, k and v heads of one
    size, so d_inner = heads x head_dim, d_state = head_dim, n_group = dt_rank = heads (llama.cpp n_embd_head_kda)."""

    kind: str  # mamba2 | gated_deltanet | kda | mamba (Mamba-1, n_group 0) | shortconv (LFM2: d_inner = hidden, d_state 0)
    d_conv: int
    d_inner: int
    d_state: int
    n_group: int
    dt_rank: int


@record
class AltUp:
    """Gemma 3n's per-layer embeddings and AltUp / LAuReL blocks (config.json hidden_size_per_layer_input,
    vocab_size_per_layer_input, altup_num_inputs, laurel_rank; llama.cpp src/models/gemma3n.cpp load_arch_tensors).
    Each token gets a per_layer_width vector for every layer from one extra embedding table, which llama.cpp keeps
    with the input embedding in host memory (LLM_TENSOR_LAYER_INPUT). Gemma 4 E2B/E4B keep the per-layer embeddings
    without AltUp and LAuReL: n_inputs 0 and laurel_rank 0 (llama.cpp src/models/gemma4.cpp load_arch_tensors)."""

    per_layer_width: int
    per_layer_vocab: int
    n_inputs: int
    laurel_rank: int


# Layer kinds in Model.layer_pattern (Nemotron-H's hybrid_override_pattern alphabet): "*" attention,
# "M" recurrent (Mamba-1/2, linear attention or LFM2's short convolution), "-" feed-forward only, "E" a
# mixture-of-experts feed-forward only (Nemotron-H MoE), "P" attention and Mamba-2 side by side in one block
# (Falcon-H1: llama.cpp gives every such layer both a KV cache and a recurrent state), "L" one linear map in place of
# attention, no KV (DeciLM replace_with_linear; llama.cpp deci: n_head > 0, n_head_kv 0, attn_output only), "X"
# cross-attention to the image (Llama 3.2 Vision, mllama: no self-attention; K/V of the vision tower's output, a fixed
# cross_attention_tokens per image whatever the context).
LAYER_KINDS = {"*": "attention", "M": "recurrent", "-": "feed-forward", "E": "MoE feed-forward",
               "P": "parallel attention + recurrent", "L": "linear attention replacement", "X": "cross-attention"}


@record
class ParamCounts:
    """A model's parameters as its tensors add up (estimate/tensors.param_counts): every text-model tensor, and the
    ones a decoded token reads (MoE layers: the active routed experts and the shared ones; dense: all of them).
    Results carry them, so render only formats them (issue 19)."""

    total: int
    active: int


@record
class SizedAs:
    """A release the catalog sizes with another entry's shapes (data/models.yaml `other_releases`: GLM-4.7 with GLM-4.6's
    entry): what was asked for, the entry that sized it, and why that is sound."""
    release: str
    entry: str
    entry_name: str
    reason: str


@record
class Model:
    id: str
    name: str
    arch: str  # llama.cpp architecture name (general.architecture)
    n_layers: int
    hidden_size: int
    intermediate_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab_size: int
    tied_embeddings: bool
    max_context: int
    params: int  # stated total parameters (may include a vision tower; see text_params)
    hf_id: str = ""
    text_params: int | None = None
    attention_bias: bool = False
    qk_norm: bool = False
    sliding_window: int | None = None
    sliding_window_pattern: int | None = None  # every Nth layer is global; 1 = all layers sliding
    moe: MoE | None = None
    mla: MLA | None = None
    dsa: DSA | None = None  # DeepSeek-V3.2 sparse attention: the indexer's own key cache (estimate/memory.py)
    license: str = ""  # the Hub card's license tag (license_name where it is `other`); "" when not known
    use_cases: tuple[str, ...] = ()  # subset of catalog USE_CASES (chat, code, reasoning, vision, embedding)
    released: str = ""
    source: str = ""
    aliases: tuple[str, ...] = ()
    tensor_types: tuple[tuple[str, tuple[int, ...], str], ...] | None = None  # exact, from a GGUF header
    gguf_alignment: int = 32  # general.alignment of that GGUF: each tensor's data is padded to it
    ssm: SSM | None = None  # hybrid / recurrent models: the recurrent layers' shapes
    layer_pattern: str = ""  # one LAYER_KINDS character per layer; "" = every layer attention
    # NextN / MTP blocks a GGUF keeps after the n_layers blocks (GLM-4.5): in the file, never loaded by llama.cpp
    gguf_nextn_layers: int = 0
    # The NextN block shares the main embedding and head: the checkpoint (and so the GGUF) has no nextn.embed_tokens /
    # nextn.shared_head_head (GLM-4.6; vllm-project/vllm#25993: GLM-4.6 lacks model.layers.92.shared_head.head)
    gguf_nextn_shares_head: bool = False
    # Gemma 3n: the last kv_shared_layers layers attend with the KV of an earlier layer and keep none of their own
    # (llama.cpp n_layer_kv_from_start); altup holds its per-layer embedding and AltUp / LAuReL shapes.
    kv_shared_layers: int = 0
    altup: AltUp | None = None
    # Gemma 4: full-attention layers have their own head size and KV heads (config.json global_head_dim,
    # num_global_key_value_heads; GGUF attention.key_length vs key_length_swa, per-layer head_count_kv); 0 = as the
    # sliding layers. k_eq_v: those layers have no V projection (attention_k_eq_v: V is K's output; llama.cpp still
    # caches V). double_wide_shared_ffn: the KV-sharing layers' FFN is twice intermediate_size (use_double_wide_mlp).
    global_head_dim: int = 0
    global_kv_heads: int = 0
    k_eq_v: bool = False
    double_wide_shared_ffn: bool = False
    # DeciLM (Llama-3.x Nemotron Super / Ultra, llama.cpp `deci`): each block's own FFN width (config.json block_configs
    # ffn_mult; 0 = no FFN) and KV heads (num_attention_heads / n_heads_in_group; 0 = no attention), as llama.cpp's
    # per-layer n_ff_arr / n_head_kv_arr hold them. () = every layer as intermediate_size / n_kv_heads.
    ffn_widths: tuple[int, ...] = ()
    kv_heads_by_layer: tuple[int, ...] = ()
    # Parallel attention + MLP on one normed input, so no ffn_norm (HF use_parallel_residual: StableLM 2 12B).
    parallel_residual: bool = False
    # Falcon new_decoder_architecture (40B, 180B): the MLP has its own input LayerNorm (ln_mlp -> attn_norm_2).
    attn_norm_2: bool = False
    # The config ties the head to the embedding, but the checkpoint also stores lm_head, so the GGUF carries
    # output.weight and llama.cpp loads it (StarCoder 15B: 485 tensors, 15.82 B params in its load log): such entries say
    # tied_embeddings false (the GGUF's view) and gguf_has_output true; vLLM ties them (estimate/vllm_weights.py).
    gguf_has_output: bool = False
    # mllama ("X" layers): tokens one image leaves in each cross-attention layer's K/V (Llama 3.2 Vision: 1601 patches
    # x 4 tiles), and token_embd's rows when the checkpoint has more than vocab_size (128256 + 8 there).
    cross_attention_tokens: int = 0
    embedding_rows: int = 0
    # MiMo-V2 (llama.cpp mimo2): V heads narrower than K heads (config.json v_head_dim 128 vs head_dim 192; 0 = head_dim),
    # and the full-attention layers named one by one where they are not every Nth (hybrid_layer_pattern 0 entries:
    # layer 0 and every 6th); () = the sliding_window_pattern rule.
    v_head_dim: int = 0
    full_attention_layers: tuple[int, ...] = ()
    # Step-3.5 / 3.7 (llama.cpp step35): the sliding layers' own query-head count (attention_other_setting
    # num_attention_heads 96 beside the full layers' 64; GGUF per-layer head_count); 0 = n_heads.
    sliding_n_heads: int = 0
    # Resolved by a name another release of the same shapes goes by (catalog/name_forms.py as_release); None otherwise.
    sized_as: SizedAs | None = None

    def layer_head_dim(self, layer: int) -> int:
        """Head size of `layer`: Gemma 4's full-attention layers use global_head_dim (512), the others head_dim."""
        return self.global_head_dim if self.global_head_dim and not self.is_sliding(layer) else self.head_dim

    def layer_kv_heads(self, layer: int) -> int:
        """KV heads of `layer` (llama.cpp hparams.n_head_kv(il)): Gemma 4's full layers may have fewer, DeciLM's
        blocks each have their own."""
        if self.kv_heads_by_layer:
            return self.kv_heads_by_layer[layer]
        return self.global_kv_heads if self.global_kv_heads and not self.is_sliding(layer) else self.n_kv_heads

    def layer_n_heads(self, layer: int) -> int:
        """Query heads of `layer` (llama.cpp hparams.n_head(il)): Step-3.5's sliding layers have more."""
        return self.sliding_n_heads if self.sliding_n_heads and self.is_sliding(layer) else self.n_heads

    def layer_v_head_dim(self, layer: int) -> int:
        """V head size of `layer` (llama.cpp n_embd_head_v): MiMo-V2's 128 beside its 192-wide K heads."""
        return self.v_head_dim or self.layer_head_dim(layer)

    def layer_has_v(self, layer: int) -> bool:
        """Whether `layer` has a V projection (attn_v): not Gemma 4's full layers when attention_k_eq_v."""
        return not (self.k_eq_v and not self.is_sliding(layer))

    def layer_intermediate_size(self, layer: int) -> int:
        """Dense FFN width of `layer` (llama.cpp hparams.n_ff(il)): Gemma 4 E2B doubles it in its KV-sharing layers;
        DeciLM blocks each have their own (0: the block has no FFN)."""
        if self.ffn_widths:
            return self.ffn_widths[layer]
        if self.double_wide_shared_ffn and self.kv_shared_layers and layer >= self.n_layers - self.kv_shared_layers:
            return 2 * self.intermediate_size
        return self.intermediate_size

    def layer_kind(self, layer: int) -> str:
        """"*" attention, "M" recurrent, "-" feed-forward only (see LAYER_KINDS)."""
        return self.layer_pattern[layer] if self.layer_pattern else "*"

    def is_recurrent(self, layer: int) -> bool:
        """Whether `layer` keeps a recurrent state ("M", and Falcon-H1's parallel "P")."""
        return self.layer_kind(layer) in "MP"

    def has_attention(self, layer: int) -> bool:
        """Whether `layer` attends (and so keeps a KV cache): "*", and Falcon-H1's parallel "P"."""
        return self.layer_kind(layer) in "*P"

    def is_sliding(self, layer: int) -> bool:
        """Whether `layer` uses sliding-window attention (HF convention: every Nth layer is global)."""
        if not self.sliding_window:
            return False
        if self.full_attention_layers:
            return layer not in self.full_attention_layers
        pattern = self.sliding_window_pattern or 1
        if pattern == 1:
            return True
        return (layer + 1) % pattern != 0

    def is_moe_layer(self, layer: int) -> bool:
        if self.moe is not None and "E" in self.layer_pattern:  # Nemotron-H MoE: the pattern names the MoE blocks
            return self.layer_pattern[layer] == "E"
        if self.moe is None or layer < self.moe.first_dense_layers:
            return False
        return (layer + 1) % self.moe.moe_layer_step == 0


@record
class Quant:
    name: str  # file type, e.g. Q4_K_M
    default_type: str  # GGML type for tensors no rule bumps
    rank: int  # 0 = best quality
    ppl: float | None = None
    base: str = ""  # the llama-quantize ftype when this is a variant (Q4_K_L -> Q4_K_M)
    embeddings_type: str = ""  # --token-embedding-type override
    output_type: str = ""  # --output-tensor-type override

    @property
    def ftype(self) -> str:
        return self.base or self.name


@record
class MigInstance:
    """One NVIDIA MIG instance (a CUDA process sees exactly one)."""

    name: str  # e.g. "NVIDIA A100-SXM4-80GB MIG 3g.40gb"
    memory_bytes: int
    uuid: str | None = None


@record
class GpuDetails:
    """What a driver told the probe about one GPU beyond the figures the estimator uses (all optional)."""

    index: int | None = None
    pci_bus_id: str | None = None  # redacted in output unless --show-ids
    uuid: str | None = None  # redacted unless --show-ids
    serial: str | None = None  # redacted unless --show-ids
    pci_device_id: str | None = None  # "0x744c"
    driver: str | None = None  # nvidia | amdgpu | i915 | xe | metal ...
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # "12.4"
    compute_capability: str | None = None  # "8.9"
    sm_count: int | None = None
    gpu_cores: int | None = None  # CUDA cores (NVML) or Apple GPU cores
    max_sm_clock_mhz: int | None = None
    max_memory_clock_mhz: int | None = None
    memory_bus_width_bits: int | None = None
    power_limit_watts: float | None = None
    pcie_generation: int | None = None
    pcie_width: int | None = None
    mig_enabled: bool | None = None
    mig_instances: tuple[MigInstance, ...] = ()
    nvlink_active_links: int | None = None
    bandwidth_source: str | None = None  # "catalog:rtx-4090" | "nvml: ..." | None
    usable_memory_source: str | None = None  # why usable_memory_bytes differs from memory_bytes


@record
class Device:
    vendor: str  # nvidia | amd | apple | intel | generic
    name: str
    memory_bytes: int
    bandwidth_bytes_per_s: int | None = None
    fp16_flops: float | None = None  # dense FP16 tensor FLOPS, FP32 accumulate (the datasheet figure)
    free_memory_bytes: int | None = None
    unified: bool = False
    usable_memory_bytes: int | None = None  # e.g. Apple Metal working-set limit, largest MIG instance
    matched_profile: str | None = None
    backend: str = "cuda"
    fp16_acc16_flops: float | None = None  # FP16 accumulate, where it differs (GeForce: 2x fp16_flops)
    details: GpuDetails | None = None  # probe only
    vulkan_driver: str = ""  # Intel under Vulkan: "mesa" (Linux ANV) | "windows" | "" unknown (estimate/vulkan_intel.py)
    backend_word: str = ""  # the llama.cpp backend word the GPU was named with ('vulkan', 'sycl'; catalog/backend_words)
    sycl_build: str = ""  # the GGML_SYCL_F16 named after 'sycl': "fp32" | "fp16" | "" unsaid (estimate/sycl_path.py)

    @property
    def stated_usable_memory(self) -> tuple[int, str] | None:
        """(usable bytes, why) where the GPU memory models may use is stated with its reason (a unified part's share,
        --gpu-memory, --memory free), else None: the one reading behind fit's and serve's Usable lines
        (render/text.usable_lines) and cost's assumptions.usable_memory (cost/run.py)."""
        why = self.details.usable_memory_source if self.details else None
        return None if self.usable_memory_bytes is None or not why else (self.usable_memory_bytes, why)


@record
class CpuInfo:
    name: str
    arch: str = ""  # x86_64 | aarch64 | arm64
    physical_cores: int | None = None
    logical_cores: int | None = None
    sockets: int | None = None
    flags: tuple[str, ...] = ()  # llama.cpp-relevant ISA features: avx2, avx512f, amx_int8, neon, sve ...
    source: str = ""  # proc-cpuinfo | py-cpuinfo | sysctl
    matched_profile: str | None = None


@record
class Machine:
    name: str
    devices: tuple[Device, ...]
    ram_bytes: int  # RAM a model may use: physical RAM, or the container's cgroup limit when lower
    available_ram_bytes: int | None = None
    cpu_name: str = ""
    ram_bandwidth_bytes_per_s: int | None = None
    source: str = "profile"  # profile | inline | probe (this host) | file
    interconnect: str = ""
    cpu_flops: float | None = None  # host CPU FP32 FLOPS (prefill of CPU-resident layers)
    # probe only: what was detected but cannot hold layers (no memory figure), and the host details
    other_devices: tuple[Device, ...] = ()
    cpu: CpuInfo | None = None
    physical_ram_bytes: int | None = None
    cgroup_memory_limit_bytes: int | None = None
    container: bool | None = None
    # where ram_bandwidth_bytes_per_s / cpu_flops come from: "measured: ..." (advisor probe --measure), "profile ...",
    # or "" (speed.yaml default_host); measured_host holds the measurement itself (probe/measure.Measurement)
    host_speed_source: str = ""
    measured_host: object = None
    # this host's core clock under load and the threads llama.cpp runs (probe/hostrate.py): with both, CPU layers
    # are timed by the dot kernels' rate per cycle (estimate/cpu_kernels.py) instead of a FLOPS figure
    cpu_clock_hz: float | None = None
    cpu_threads: int | None = None
    cpu_thread_bandwidth_bytes_per_s: int | None = None  # one thread's read stream (probe/hostrate.py)
    cpu_flops_per_cycle: int | None = None  # FP32 FLOP per cycle of one core, where stated (custom CPU spec)
    # hybrid parts (estimate/cpu_kernels.py vector_flops): how many of cpu_threads run on efficiency / little cores,
    # their clock and FP32 FLOP per cycle (the rest run at cpu_clock_hz and cpu_flops_per_cycle)
    cpu_e_cores: int | None = None
    cpu_e_clock_hz: float | None = None
    cpu_e_flops_per_cycle: int | None = None
    # the llama.cpp build date whose CPU prompt kernels run ('YYYY-MM-DD', a custom spec's build_date; None: the
    # newest, those data/speed.yaml cpu_prefill was measured on): estimate/cpu_kernels.py kernel_path
    cpu_kernel_date: str | None = None
    ram_source: str = ""  # "free": ram_bytes was cut to the RAM available now (--memory free); "" the whole RAM
    busy_load: float | None = None  # live probe: the 1-minute load average when other work already kept a core busy


@record
class ProbeReport:
    """`advisor probe`: the machine as detected, and why anything is missing (never an exception)."""

    machine: Machine
    warnings: tuple[str, ...] = ()
    os: str = ""  # linux | darwin | windows


@record
class MemoryBreakdown:
    weights_bytes: int
    kv_cache_bytes: int
    compute_buffer_bytes: int
    runtime_bytes: int  # GPU contexts (CUDA ~384 MiB per device) + host buffers
    host_bytes: int = 0  # the part of runtime_bytes that lives in host RAM (input/mask/logits buffers)
    # where the weights live when fully offloaded (llama.cpp keeps token_embd in host memory)
    input_embedding_bytes: int = 0
    output_bytes: int = 0  # output head (a duplicate of token_embd when tied)
    layer_bytes: tuple[int, ...] = ()  # weights + KV per repeating layer
    bits_per_weight: float = 0.0
    state_bytes: int = 0  # the part of kv_cache_bytes that is recurrent state (hybrid / SSM models), F32
    # Engines with a paged KV pool (vLLM): per GPU, as the engine logs "Available KV cache memory" and
    # "GPU KV cache size: N tokens"; None for engines that allocate KV up front (llama.cpp, Ollama).
    kv_pool_bytes: int | None = None
    kv_pool_tokens: int | None = None
    projector_bytes: int = 0  # vision projector weights + one image's graph, when images are used (on GPU 0)

    @property
    def overhead_bytes(self) -> int:
        return self.compute_buffer_bytes + self.runtime_bytes + self.projector_bytes

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes


@record
class Placement:
    fit: str  # gpu | partial | cpu | no
    gpu_layers: int
    total_layers: int
    gpu_bytes: int
    cpu_bytes: int
    missing_bytes: int = 0
    per_device_bytes: tuple[int, ...] = ()
    note: str = ""
    per_device_layers: tuple[int, ...] = ()  # repeating layers per GPU, in order
    cpu_moe_layers: int = 0  # llama.cpp --n-cpu-moe: layers whose routed experts stay in RAM (estimate/moe_offload.py)
    unsupported: bool = False  # fit 'no' because the engine does not run here at all (platform, format), not memory


@record
class Speed:
    decode_tokens_per_s: float | None
    prefill_tokens_per_s: float | None
    confidence: str  # calibrated | extrapolated | unknown
    decode_low: float | None = None
    decode_high: float | None = None
    prefill_low: float | None = None
    prefill_high: float | None = None
    note: str = ""
    kernel_share: float = 0.0  # share of decode time llama.cpp's mat-vec kernels add beyond memory (speed.py)
    caveats: tuple[str, ...] = ()  # qualifications no published row validates (speed._prefill_caveats); not in note
    served_decode_tokens_per_s: float | None = None  # llama-server: decode plus its host sampling (server_host.py)


@record
class FitOption:
    quant: Quant
    memory: MemoryBreakdown
    placement: Placement
    speed: Speed | None = None
    max_concurrency: int | None = None  # vLLM: sequences of the full context the KV pool holds
    command: str = ""  # the engine command line that realises this option (engines/<engine>.py)
    engine_log: tuple[str, ...] = ()  # what the engine's start-up log should print for it (engines/startup_log.py)


@record
class FitRequest:
    context: int
    engine: str = "llamacpp"
    kv_cache_type: str = "f16"
    n_parallel: int = 1
    n_ubatch: int = 512
    n_ubatch_given: bool = False  # --ubatch: the user's micro-batch (Ollama: num_batch, which turns its automatic batch off)
    flash_attention: bool = True
    n_cpu_moe: int | None = None  # MoE expert offload: None = offer it when it beats layer offload, 0 = never, N = exactly N
    # vLLM options (None: the engine's default for this GPU and version, data/engines.yaml)
    gpu_memory_utilization: float | None = None
    kv_cache_memory_bytes: int | None = None  # vLLM --kv-cache-memory-bytes: a fixed pool per GPU, utilisation ignored
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    enforce_eager: bool = False
    tensor_parallel: int | None = None  # None: the largest size <= GPUs that divides the heads
    nodes: int | None = None  # vLLM pipeline parallel: this many boxes like the hardware, one stage each
    model_ref: str = ""  # what the command loads: a file path, Hub id or Ollama tag ("" = the model's Hub id)
    images: bool = False  # images are sent: a vision model loads its projector (estimate/projector.py)
    image_tokens: int | None = None  # tokens one image takes (dynamic-resolution towers: llama-server --image-max-tokens)
    engine_version: str = ""  # the engine release whose rules and defaults apply ("" = the registry's current one)
    kv_unified: bool | None = None  # llama.cpp one KV stream for all slots (-np auto); None = the engine's rule


@record
class FitResult:
    model: Model
    machine: Machine
    request: FitRequest
    options: tuple[FitOption, ...]
    recommended: str | None
    assumptions: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    gate: Any = None  # estimate.select.GateResult when --require-fit/--min-tps were asked, else None
    # a smaller model of the same family that fits fully on GPU at Q4_K_M or better, when this one does not
    # (estimate/alternative.py): {"model", "quant", "fit", "decode_tokens_per_s", "quality"}
    alternative: dict | None = None
    pick: Any = None  # estimate.select.Pick behind `recommended`: which step of the rule decided, and why
    params: ParamCounts | None = None  # the model's counted parameters (estimate.fit.fit sets them)


@record
class ServingCapacity:
    """What one machine sustains serving a model to many concurrent streams (vLLM-style batching).

    Produced by estimate.serving.capacity_for_mix; the cost model turns it into units needed for a workload.
    """

    fits: bool
    reason: str  # why it cannot serve, when fits is False
    engine: str
    quant: str | None  # the quantization served
    context: int
    max_concurrency: int  # streams whose KV cache fits at `context`
    concurrency: int  # streams used: <= max_concurrency, fewer when a per-stream speed floor binds
    aggregate_decode_tokens_per_s: float  # output tokens/s summed over all streams
    per_stream_decode_tokens_per_s: float
    prefill_tokens_per_s: float  # input tokens/s (compute-bound)
    confidence: str = "extrapolated"  # calibrated | extrapolated
    low_factor: float = 1.0  # band: aggregate x low_factor .. aggregate x high_factor
    high_factor: float = 1.0
    total_tokens_per_s: float = 0.0  # prompt + output tokens/s of one box at `concurrency` (capacity_for_mix)
    output_tokens_per_s: float = 0.0  # output tokens/s at `concurrency` (capacity_for_mix)
    # what it is short of, when fits is False (estimate/serving/types.SHORT_OF): memory | unsupported | speed |
    # targets | floor. The cost model decides by this, not by the words of `reason`.
    short_of: str = ""
    # what the capacity's rates rest on where it is not a fit (estimate/serving/borrowed.compute_caveat: vLLM on an
    # Intel GPU borrows llama.cpp's SYCL prompt share); cost prints it with the box
    caveat: str = ""
