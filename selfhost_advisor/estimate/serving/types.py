"""Records of `advisor serve`: one point per concurrency, and the report built from them."""
from __future__ import annotations

from ...domain import Machine, Model, ParamCounts
from ...record import field, record, replace

LIMITS = ("kv_pool", "max_num_seqs", "compute", "slo")
# Why a box serves a model at no concurrency, for callers that act on it (cost/fleet.py offers a bigger box only for
# "memory"): the model does not fit its memory; the engine does not run on this platform or format (vLLM on Apple,
# MXFP4 without its kernel); the GPU's bandwidth or FLOPS are unknown; no concurrency meets the latency targets; no
# format at the quality floor serves it.
SHORT_OF = ("memory", "unsupported", "speed", "targets", "floor")


@record
class ServeWorkload:
    prompt_tokens: int
    output_tokens: int
    max_ttft_s: float | None = None
    min_stream_tokens_per_s: float | None = None
    # tokens at the start of every prompt shared with earlier requests (a system prompt, few-shot examples, a document):
    # the engine may serve them from its prefix cache (prefix.py); 0 = every prompt token prefilled
    cached_prompt_tokens: int = 0
    # min_stream_tokens_per_s is the default floor (data/cost.yaml min_stream_tokens_per_s, as `cost` applies it), not a
    # target the user set: it shapes the recommended point but is no requested check (the exit code ignores it)
    min_stream_default: bool = False

    def requested(self) -> "ServeWorkload":
        """The targets the user set: this workload without the default floor."""
        if not self.min_stream_default:
            return self
        return replace(self, min_stream_tokens_per_s=None, min_stream_default=False)

    @property
    def has_targets(self) -> bool:
        return self.max_ttft_s is not None or self.min_stream_tokens_per_s is not None


@record
class ServePoint:
    """Steady state of a closed loop of `concurrency` clients, each sending its next request when one finishes."""

    concurrency: int
    output_tokens_per_s: float  # summed over all streams
    total_tokens_per_s: float  # prompt + output tokens/s
    ttft_s: float  # time to first token (prefill, waiting for a slot when queued)
    tpot_s: float  # time per output token after the first, as each stream sees it
    kv_bytes_per_gpu: int  # KV the running requests hold (vLLM: blocks in use; llama.cpp: the slots' cache)
    running: int  # requests the engine runs at once (<= max_concurrency; the rest wait)
    compute_bound: bool = False  # the decode step is limited by FLOPs, not bytes

    @property
    def stream_tokens_per_s(self) -> float:
        return 1.0 / self.tpot_s if self.tpot_s else 0.0

    @property
    def queued(self) -> int:
        return self.concurrency - self.running


@record
class ServeMiss:
    """A concurrency that misses a requested target: which ones (names as in the JSON workload) and by what."""

    concurrency: int
    unmet: tuple[str, ...]  # "max_ttft_s", "min_stream_tokens_per_s"
    ttft_s: float
    stream_tokens_per_s: float


@record
class ServeCheck:
    """The check the user asked for (exit 1 when not passed): the targets they set (--max-ttft, --min-stream-tps; not
    the default floor) at each --concurrency level they listed, or, without --concurrency, at some concurrency (one
    user, the best latency: latency grows with concurrency, as curve.recommended assumes)."""

    max_ttft_s: float | None
    min_stream_tokens_per_s: float | None
    concurrency: tuple[int, ...]  # the levels checked; () = any concurrency
    passed: bool
    failed: tuple[ServeMiss, ...] = ()


@record
class ServeReport:
    model: Model
    machine: Machine
    engine: str
    quant: str | None
    workload: ServeWorkload
    fits: bool
    reason: str  # why not, when fits is False
    tp: int = 1
    max_concurrency: int = 0
    limits: tuple[str, ...] = ()  # what stops concurrency growing: kv_pool | max_num_seqs | compute | slo
    points: tuple[ServePoint, ...] = ()
    peak: ServePoint | None = None
    recommended: ServePoint | None = None
    single: ServePoint | None = None  # one request alone: the best latency the box gives
    kv_pool_bytes: int = 0  # per GPU
    kv_pool_tokens: int = 0
    kv_bytes_per_request: int = 0  # average a request holds over its life, per GPU
    confidence: str = "extrapolated"
    band: tuple[float, float] = (1.0, 1.0)  # measured / predicted throughput, from the calibration rows
    assumptions: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    command: str | None = None
    params: ParamCounts | None = None  # the model's counted parameters (api.serve sets them, for render)
    short_of: str = ""  # when fits is False, one of SHORT_OF: what a fix would need
    check: ServeCheck | None = None  # the requested targets at the requested levels (curve.check); None: none set
