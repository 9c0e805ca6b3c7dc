"""Frozen records of the cost model: workload, economic parameters, boxes, priced options, the comparison."""
from __future__ import annotations

from ..domain import ServingCapacity
from ..record import field, record


@record
class Workload:
    """What the user will send: tokens a month, the request mix, when they arrive, and how they are billed."""

    monthly_tokens: int
    output_share: float  # output tokens / all tokens: output / (prompt + output) of the typical request
    peak_to_average: float  # busiest-hour load / average load over the active hours
    active_hours_per_month: float  # hours in which the traffic arrives (176 = 8 h x 22 business days)
    context: int = 8192  # longest sequence the server admits (vLLM max_model_len); capacity uses the request mix
    min_stream_tokens_per_s: float | None = None  # per-user decode speed floor
    request_input_tokens: int = 1500  # prompt tokens of the typical request (--prompt-tokens)
    cached_input_share: float = 0.0  # share of input tokens an API bills at its cached-input (cache read) price
    cache_write_share: float = 0.0  # share of input tokens an API bills at its cache-write price (Anthropic: 1.25x)
    batch_share: float = 0.0  # share of requests sent through a batch API
    max_ttft_s: float | None = None  # time-to-first-token target for the serving point
    cached_prompt_tokens: int = 0  # tokens of each prompt shared with earlier requests, served from the box's prefix cache

    @property
    def output_tokens(self) -> int:
        return int(round(self.monthly_tokens * self.output_share))

    @property
    def input_tokens(self) -> int:
        return self.monthly_tokens - self.output_tokens

    @property
    def prompt_tokens(self) -> int:
        return self.request_input_tokens

    @property
    def request_output_tokens(self) -> int:
        """Output tokens of the typical request, keeping the workload's split."""
        share = self.output_share
        if share >= 1.0:
            return self.request_input_tokens
        return max(1, int(round(self.request_input_tokens * share / (1.0 - share))))

    @property
    def request_tokens(self) -> int:
        return self.request_input_tokens + self.request_output_tokens

    def with_tokens(self, monthly_tokens: int) -> "Workload":
        from ..record import replace

        return replace(self, monthly_tokens=int(monthly_tokens))


def monthly_rate_of(cost_of_capital: float) -> float:
    """The monthly rate equivalent to an annual cost of capital R, (1 + R)^(1/12) - 1; 0 without one."""
    if cost_of_capital <= 0:
        return 0.0
    return (1.0 + cost_of_capital) ** (1.0 / 12.0) - 1.0


@record
class CostParams:
    """Economic assumptions of owning hardware (data/cost.yaml defaults, each overridable)."""

    electricity_usd_per_kwh: float = 0.13
    pue: float = 1.56
    amortize_months: float = 36.0
    ops_hours_per_month: float = 8.0  # fixed part: the deployment, whatever its size (--ops-hours)
    ops_usd_per_hour: float = 90.0
    gpu_idle_share_of_tdp: float = 0.12
    hours_per_month: float = 730.0
    ops_hours_per_box: float = 0.0  # per box in the fleet (--ops-hours-per-box)
    spare_units: int = 0  # owned boxes kept beyond the peak (--spare)
    residual_value_share: float = 0.0  # share of the purchase price recovered by resale after amortize_months
    cost_of_capital: float = 0.0  # annual rate the money spent on hardware costs (a loan, or the firm's cost of capital)
    space_usd_per_box: float = 0.0  # rack space / colocation fee per owned box a month (--space-per-box)

    def capital_usd_per_month(self, capex_usd: float) -> float:
        """The hardware's monthly charge: the level payment that repays the price less the discounted resale over the
        amortization months at the cost of capital (capital recovery factor i / (1 - (1 + i)^-n), i the monthly rate);
        with no rate and no resale it is straight-line capex / n, as before."""
        n = self.amortize_months
        resale = capex_usd * self.residual_value_share
        i = self.monthly_rate
        if not i > 0:  # no rate, or one so small (1e-17) that the monthly rate rounds to 0: straight-line (was exit 3)
            return (capex_usd - resale) / n
        disc = (1.0 + i) ** -n
        return (capex_usd - resale * disc) * i / (1.0 - disc)

    @property
    def monthly_rate(self) -> float:
        """The monthly rate equivalent to the annual cost of capital (monthly_rate_of)."""
        return monthly_rate_of(self.cost_of_capital)

    @property
    def operations_usd(self) -> float:
        """The fixed part of operations (no boxes)."""
        return self.ops_hours_per_month * self.ops_usd_per_hour

    def operations_hours_for(self, units: int) -> float:
        """Engineer-hours a month of a fleet's operations: fixed hours + hours per box x boxes; none without boxes."""
        return self.ops_hours_per_month + self.ops_hours_per_box * units if units > 0 else 0.0

    def operations_usd_for(self, units: int) -> float:
        """Operations of a fleet: its engineer-hours (operations_hours_for) x rate."""
        return self.operations_hours_for(units) * self.ops_usd_per_hour


@record
class Box:
    """One purchasable (or rentable) serving unit: GPUs plus the host they sit in."""

    label: str  # "2x rtx-4090"
    profile_id: str
    gpus: int
    gpu_price_usd: float | None  # per GPU; None = no sourced price, cannot be bought
    host_price_usd: float
    gpu_tdp_watts: float  # per GPU
    host_active_watts: float
    host_idle_watts: float
    rental_usd_per_gpu_hour: float | None = None
    rental_low_usd_per_gpu_hour: float | None = None
    price_kind: str = ""  # msrp | street | used | given
    rental_quotes: int = 0  # providers behind the rental median (0: given with --rent-price or none)
    rental_high_usd_per_gpu_hour: float | None = None  # highest quote (the spread is low..high)
    purchase_quotes: tuple[float, ...] = ()  # dated purchase quotes behind gpu_price_usd (their median), if any
    spec: str = ""  # a spec-sheet box (profile_id "custom"): the custom: text or file it was built from (cost/custom_box.py)
    power_source: str = ""  # where gpu_tdp_watts comes from when not the catalog: "spec sheet", or what was assumed
    rental_oldest_quote: str = ""  # the oldest page date behind the rental median (data/cost.yaml `published`), if any
    consumer_gpu: bool = False  # a GeForce / TITAN card: its driver licence excludes datacenter deployment (cost.yaml)
    backend_words: str = ""  # 'vulkan' / 'vulkan radv' after the GPU name (llama.cpp's Vulkan backend): machine_for
    gpu_memory: str | None = None  # --gpu-memory as given: a unified-memory box's usable GPU memory (capacity.machine_for)
    # where gpu_price_usd comes from and the date behind it (session 32): data/hardware.yaml sources.price and the
    # profile's price_as_of (the date of the figure: a launch MSRP's launch month; session 32, price32), or the oldest
    # `published` of its dated quotes where the price is their median, or the flag / sheet
    price_source: str = ""
    price_as_of: str = ""
    price_undated: bool = False  # price_as_of is the day an undated page was read, not the page's date (price32)
    # how many of purchase_quotes come from undated pages (data/hardware.yaml `undated: true`, dated by the day read):
    # price_as_of is the oldest of the others; when all are undated, the oldest read day and price_undated (price33)
    purchase_quotes_undated: int = 0
    host_source: str = ""  # where host_price_usd comes from: data/cost.yaml host_systems (workstation / server), or --host-price
    host_price_as_of: str = ""  # the date of the host price's figure ('' when given or the price is the machine; price33)
    host_price_undated: bool = False  # host_price_as_of is the day an undated page was read
    # a measured idle draw per GPU / machine at the wall (a Mac: Apple's published idle, data/apple.yaml power), used in
    # place of TDP x gpu_idle_share_of_tdp; None: the share of TDP (session 32, macpow32)
    idle_watts_measured: float | None = None

    @property
    def capex_usd(self) -> float | None:
        if self.gpu_price_usd is None:
            return None
        return self.gpu_price_usd * self.gpus + self.host_price_usd

    def active_watts(self) -> float:
        return self.gpu_tdp_watts * self.gpus + self.host_active_watts

    def idle_watts(self, idle_share: float) -> float:
        if self.idle_watts_measured is not None:
            return self.idle_watts_measured * self.gpus + self.host_idle_watts
        return self.gpu_tdp_watts * self.gpus * idle_share + self.host_idle_watts

    @property
    def rental_usd_per_hour(self) -> float | None:
        return None if self.rental_usd_per_gpu_hour is None else self.rental_usd_per_gpu_hour * self.gpus


@record
class MonthlyUsd:
    amortization: float
    power: float
    operations: float
    rental: float = 0.0
    space: float = 0.0  # rack space / colocation of owned boxes

    @property
    def total(self) -> float:
        return self.amortization + self.power + self.operations + self.rental + self.space


@record
class SelfHostOption:
    """A box bought (mode 'buy') or rented by the hour (mode 'rent'), sized for the workload."""

    mode: str  # buy | rent
    box: Box
    capacity: ServingCapacity
    units: int
    capacity_tokens_per_month: int  # one unit, at the workload's mix and load shape
    busy_hours_per_month: float  # machine-hours of work, all units together
    utilisation: float  # busy hours / (units x hours paid for: 730 owned, billed hours rented)
    energy_kwh: float
    monthly_usd: MonthlyUsd
    usd_per_million_tokens: float
    rental_hours_per_month: float = 0.0
    spare_units: int = 0  # included in units
    payback_months: float | None = None  # capex / monthly saving vs the reference cloud (buy only)
    break_even_monthly_tokens: int | None = None  # vs the reference cloud
    npv_vs_reference_usd: float | None = None  # buying instead of the reference API over the amortization (buy only)

    @property
    def capex_usd(self) -> float:
        return (self.box.capex_usd or 0.0) * self.units if self.mode == "buy" else 0.0


@record
class Hybrid:
    """N owned boxes carry the base load; the API takes what overflows them (cost/traffic.py)."""

    box: Box
    base_units: int  # boxes sized below the peak (0 = all API; the all-owned count = no overflow)
    spare_units: int
    overflow_tokens: int  # tokens a month sent to the API
    self_host_usd: float  # the owned part: amortization + power + operations
    api_overflow_usd: float
    api: str  # the API that takes the overflow
    all_owned_units: int  # boxes the all-owned fleet needs for the peak (without spares)
    overflow_hours: float = 0.0  # hours of the month in which the load exceeds the owned boxes
    material: bool = True  # the API serves in at least hybrid_min_overflow_hours (data/cost.yaml) of the month

    @property
    def total_usd(self) -> float:
        return self.self_host_usd + self.api_overflow_usd

    @property
    def is_split(self) -> bool:
        return 0 < self.base_units < self.all_owned_units

    @property
    def is_mix(self) -> bool:
        """A true hybrid: owned boxes and an API that serves a material part of the month."""
        return self.is_split and self.material

    @property
    def is_tail(self) -> bool:
        """Owned boxes that fall short only inside the busiest hour: owning them is the plan (the sliver above them
        queues or goes to an API), so it counts as self-hosting, not as a hybrid (cost/hybrid.py)."""
        return self.is_split and not self.material


# Why a box is left out of the comparison (Excluded.kind, the JSON's excluded[].kind): it cannot serve the load
# (memory, targets: the capacity's reason), it has no throughput estimate, it serves under one token a month in the
# active hours, or it serves the load but buying it is not priced (no price or no TDP: renting it may still be listed,
# and cost/sensitivity.prices_to_win searches the price at which it would win). Decisions read the kind, not the text.
EXCLUSION_KINDS = ("cannot-serve", "no-throughput", "under-one-token", "purchase-unpriced")


@record
class Excluded:
    hardware: str
    reason: str
    kind: str  # one of EXCLUSION_KINDS


@record
class CloudPrice:
    """A per-token price for one model at one provider, with where it came from."""

    id: str
    name: str
    provider: str
    model: str  # the provider's model id
    tier: str  # frontier | mid | small | open-weight | contract
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    via: str  # "genai-prices 0.2.5" | "data/prices.yaml" | "--price-in/--price-out"
    prices_as_of: str
    source: str = ""
    open_weight_of: str | None = None
    cached_input_usd_per_mtok: float | None = None  # None: no cached-input price known (billed as input)
    batch_input_usd_per_mtok: float | None = None  # None: no batch price known (billed at the standard rate)
    batch_cached_input_usd_per_mtok: float | None = None
    batch_output_usd_per_mtok: float | None = None
    cache_write_usd_per_mtok: float | None = None  # None: writing the cache costs what input does (no premium listed)
    batch_cache_write_usd_per_mtok: float | None = None
    cache_source: str = ""  # where the cached-input price came from
    batch_source: str = ""  # where the batch price came from
    weight_format: str | None = None  # the weight format the provider publishes it serves (None: not published)
    weight_format_source: str = ""
    weight_format_note: str = ""  # why it is unknown, or what the provider says instead of a format


@record
class CloudOption:
    price: CloudPrice
    monthly_usd: float
    usd_per_million_tokens: float
    excluded_reason: str | None = None  # set when a hard constraint rules it out


@record
class Constraints:
    regulated: str | None = None  # hipaa | gdpr | finance | legal
    air_gapped: bool = False
    no_ops_team: bool = False
    need_frontier: bool = False


@record
class Reason:
    text: str
    favours: str  # self-host | cloud | hybrid | neutral
    weight: int  # higher ranks first: 100 hard constraint, 50 cost, ...


@record
class Recommendation:
    choice: str  # self-host | cloud | hybrid
    reasons: tuple[Reason, ...]
    what_would_change: tuple[str, ...]
    best_self_host: str | None = None
    best_cloud: str | None = None


@record
class CostComparison:
    model_id: str
    model_name: str
    workload: Workload
    params: CostParams
    self_host: tuple[SelfHostOption, ...]  # bought boxes, cheapest first
    rental: tuple[SelfHostOption, ...]  # rented boxes, cheapest first
    cloud: tuple[CloudOption, ...]  # cheapest first
    excluded: tuple[Excluded, ...]
    reference_cloud: CloudOption | None
    break_even_monthly_tokens: int | None
    recommendation: Recommendation
    constraints: Constraints
    assumptions: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    hybrid: Hybrid | None = None  # the cheapest owned + API split (None: no bought box or no usable API)
    sensitivity: tuple = ()  # cost/sensitivity.Sensitivity per key unknown (build_comparison fills it)
    quality_floor: object = None  # cost/floor.QualityFloor: the lowest weight format self-hosting may serve
    replanned: tuple = ()  # cost/fleet.Replan: boxes given more GPUs (or excluded) to serve the floor
    floor_verdicts: tuple = ()  # cost/quality_note.FloorVerdict: the verdict at the other floors
    format_quality: dict = field(default_factory=dict)  # weight format -> measured loss record (cost/floor.py) or None
    engine: str = ""  # the serving engine asked for (--engine): the header and the JSON name it even when no box is sized
    price_to_win: tuple = ()  # cost/sensitivity.PriceToWin per box that serves the load but has no price
    engine_why: str = ""  # the header's note on a default engine a user would not expect (cost/run.ENGINE_HEADER)


def served_engine(c: CostComparison) -> str | None:
    """The engine the comparison sized its boxes with: the one asked for (--engine), else the first sized option's
    (a CostComparison built by compare() without engine=), else None (nothing says which)."""
    if c.engine:
        return c.engine
    opts = c.self_host or c.rental
    return opts[0].capacity.engine if opts else None
