"""Frozen records of the cost model: workload, economic parameters, boxes, priced options, the comparison."""
from __future__ import annotations

from ..domain import ServingCapacity
from ..record import field, record


@record
class Workload:
    """What the user will send: tokens a month, their split, and when they arrive."""

    monthly_tokens: int
    output_share: float  # output tokens / all tokens (3:1 input:output -> 0.25)
    peak_to_average: float  # busiest-hour load / average load over the active hours
    active_hours_per_month: float  # hours in which the traffic arrives (176 = 8 h x 22 business days)
    context: int = 8192
    min_stream_tokens_per_s: float | None = None  # per-user decode speed floor
    request_input_tokens: int = 1500  # a typical request, used to select per-request price tiers

    @property
    def output_tokens(self) -> int:
        return int(round(self.monthly_tokens * self.output_share))

    @property
    def input_tokens(self) -> int:
        return self.monthly_tokens - self.output_tokens

    @property
    def request_output_tokens(self) -> int:
        """Output tokens of the typical request, keeping the workload's split."""
        share = self.output_share
        if share >= 1.0:
            return self.request_input_tokens
        return max(1, int(round(self.request_input_tokens * share / (1.0 - share))))

    def with_tokens(self, monthly_tokens: int) -> "Workload":
        return Workload(monthly_tokens, self.output_share, self.peak_to_average, self.active_hours_per_month,
                        self.context, self.min_stream_tokens_per_s, self.request_input_tokens)


@record
class CostParams:
    """Economic assumptions of owning hardware (data/cost.yaml defaults, each overridable)."""

    electricity_usd_per_kwh: float = 0.13
    pue: float = 1.56
    amortize_months: float = 36.0
    ops_hours_per_month: float = 8.0
    ops_usd_per_hour: float = 90.0
    gpu_idle_share_of_tdp: float = 0.12
    hours_per_month: float = 730.0

    @property
    def operations_usd(self) -> float:
        return self.ops_hours_per_month * self.ops_usd_per_hour


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
    price_kind: str = ""  # msrp | street | used

    @property
    def capex_usd(self) -> float | None:
        if self.gpu_price_usd is None:
            return None
        return self.gpu_price_usd * self.gpus + self.host_price_usd

    def active_watts(self) -> float:
        return self.gpu_tdp_watts * self.gpus + self.host_active_watts

    def idle_watts(self, idle_share: float) -> float:
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

    @property
    def total(self) -> float:
        return self.amortization + self.power + self.operations + self.rental


@record
class SelfHostOption:
    """A box bought (mode 'buy') or rented by the hour (mode 'rent'), sized for the workload."""

    mode: str  # buy | rent
    box: Box
    capacity: ServingCapacity
    units: int
    capacity_tokens_per_month: int  # one unit, at the workload's mix and load shape
    busy_hours_per_month: float  # machine-hours of work, all units together
    utilisation: float  # busy hours / (units x hours in the month)
    energy_kwh: float
    monthly_usd: MonthlyUsd
    usd_per_million_tokens: float
    rental_hours_per_month: float = 0.0
    payback_months: float | None = None  # capex / monthly saving vs the reference cloud (buy only)
    break_even_monthly_tokens: int | None = None  # vs the reference cloud

    @property
    def capex_usd(self) -> float:
        return (self.box.capex_usd or 0.0) * self.units if self.mode == "buy" else 0.0


@record
class Excluded:
    hardware: str
    reason: str


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
    via: str  # "genai-prices 0.2.3" | "data/prices.yaml" | "--price-in/--price-out"
    prices_as_of: str
    source: str = ""
    open_weight_of: str | None = None


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
