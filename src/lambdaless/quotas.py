"""How Amazon Bedrock counts a call against a model's quota, and what concurrency that allows.

Bedrock user guide, "How tokens are counted in Amazon Bedrock" (quotas-token-burndown) and
"Quotas for Amazon Bedrock" (quotas, quotas-runtime):

* A model's tokens-per-minute (TPM) quota belongs to the account, per model and Region, and is
  shared by every caller. On-demand calls (a foundation model id) and cross-Region calls (an
  inference profile) count against two separate quotas, "On-demand InvokeModel tokens per
  minute for ${model}" and "Cross-Region InvokeModel tokens per minute for ${model}", each with
  its requests-per-minute (RPM) twin where the model still has one (Bedrock stopped enforcing
  RPM on the bedrock-runtime endpoint for many models in 2026; pass ``None`` then).
* When a call starts, Bedrock **reserves** its input tokens (cache reads and writes included)
  plus its ``max_tokens``. When it ends, the call is **settled** at its input tokens plus its
  output tokens times the model's **output burndown rate** (5 for the Claude models AWS lists:
  one output token consumes five quota tokens), and the difference is returned or taken.

So a call weighs ``max(reservation, settlement)`` quota tokens: the reservation must fit when it
starts, and the settlement is what it finally consumes of the minute. With Little's law (calls
in flight = rate x time in the system)::

    reservation = input_tokens + max_tokens
    settlement  = input_tokens + burndown x output_tokens      (output_tokens <= max_tokens)
    calls/min   = min(RPM, TPM / max(reservation, settlement))
    concurrency = max(1, floor(calls/min / 60 x latency_seconds))
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdaless._errors import require

if TYPE_CHECKING:
    from lambdaless.models import BedrockModel

#: When :data:`OUTPUT_BURNDOWN` was last checked against the Bedrock user guide.
OUTPUT_BURNDOWN_AS_OF = "2026-11-30"
#: Output-token burndown rates by foundation-model id (Bedrock user guide, "How tokens are
#: counted in Amazon Bedrock", https://docs.aws.amazon.com/bedrock/latest/userguide/
#: quotas-token-burndown.html: "The burndown rate for the following models is 5x for output
#: tokens", listing Anthropic Claude Opus 4, Claude Sonnet 4 and the later Claude 4 models; the
#: quotas page heads the section "Token burndown rate for Anthropic Claude 4 models"). Every
#: other model burns 1x. First match wins; pass ``output_burndown=`` when AWS lists yours.
OUTPUT_BURNDOWN: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"^anthropic\.claude-(opus|sonnet|haiku)-4"), 5.0),
)


def output_burndown_for(model_id: str | None) -> float:
    """The output burndown rate of a foundation-model id from :data:`OUTPUT_BURNDOWN` (1.0 when
    it is not listed or unknown)."""
    if model_id is None:
        return 1.0
    return next((rate for rule, rate in OUTPUT_BURNDOWN if rule.search(model_id)), 1.0)


class QuotaKind(enum.Enum):
    """Which of a model's two inference quotas a call counts against (the value is the quota's
    name in Service Quotas, with ``{model}`` for the model's name)."""

    ON_DEMAND = "On-demand InvokeModel tokens per minute for {model}"
    CROSS_REGION = "Cross-Region InvokeModel tokens per minute for {model}"

    @classmethod
    def of(cls, model: BedrockModel) -> QuotaKind | None:
        """A foundation model counts on demand, an inference profile (or an application
        profile over one) cross-Region; provisioned throughput has no tokens-per-minute quota."""
        from lambdaless.models import ModelKind

        kind = model.source.kind if model.source is not None else model.kind
        if kind is ModelKind.FOUNDATION_MODEL:
            return cls.ON_DEMAND
        if kind is ModelKind.CROSS_REGION_PROFILE:
            return cls.CROSS_REGION
        return None


def _positive(name: str, value: float | None, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    require(
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0,
        name,
        value,
        "a positive number" + (" or None" if optional else ""),
    )


def concurrency_for_quota(
    *,
    tokens_per_minute: float,
    input_tokens: float,
    max_tokens: int,
    latency_seconds: float,
    requests_per_minute: float | None = None,
    output_tokens: float | None = None,
    output_burndown: float = 1.0,
) -> int:
    """How many calls may be in flight at once without exceeding the quota (module docstring).

    ``output_tokens`` is the expected output of one call; by default ``max_tokens`` (the worst
    case). ``requests_per_minute=None`` when the model has no RPM quota.
    """
    return ModelQuota(
        tokens_per_minute=tokens_per_minute,
        input_tokens=input_tokens,
        latency_seconds=latency_seconds,
        requests_per_minute=requests_per_minute,
        output_tokens=output_tokens,
        output_burndown=output_burndown,
    ).max_concurrency(max_tokens=max_tokens)


@dataclass(frozen=True)
class ModelQuota:
    """A model's quota and the expected shape of one call, in Bedrock's own accounting.

    ``max_tokens`` is not a field: it comes from the step that makes the call (its
    ``Inference``), so it is never typed twice.

    Args:
        tokens_per_minute: the account's tokens-per-minute quota for the model, of the kind the
            calls use (:class:`QuotaKind`: on-demand or cross-Region).
        input_tokens: expected input tokens of one call, cache reads and writes included.
        latency_seconds: expected duration of one call.
        requests_per_minute: the requests-per-minute quota, or ``None`` (the default) when the
            model has none.
        output_tokens: expected output tokens of one call; by default the call's ``max_tokens``
            (the worst case, always safe).
        output_burndown: quota tokens consumed per output token; by default the model's rate
            from :data:`OUTPUT_BURNDOWN` (5 for the Claude 4 models, 1 otherwise), or 1 when no
            model is known.
    """

    tokens_per_minute: float
    input_tokens: float
    latency_seconds: float
    requests_per_minute: float | None = None
    output_tokens: float | None = None
    output_burndown: float | None = None

    def __post_init__(self) -> None:
        _positive("tokens_per_minute", self.tokens_per_minute)
        _positive("latency_seconds", self.latency_seconds)
        _positive("requests_per_minute", self.requests_per_minute, optional=True)
        _positive("output_tokens", self.output_tokens, optional=True)
        _positive("output_burndown", self.output_burndown, optional=True)
        require(
            isinstance(self.input_tokens, int | float)
            and not isinstance(self.input_tokens, bool)
            and math.isfinite(self.input_tokens)
            and self.input_tokens >= 0,
            "input_tokens",
            self.input_tokens,
            "a number of tokens, 0 or more",
        )

    def burndown(self, model_id: str | None = None) -> float:
        """``output_burndown`` if given, else the rate :data:`OUTPUT_BURNDOWN` lists for the
        model."""
        return (
            self.output_burndown
            if self.output_burndown is not None
            else output_burndown_for(model_id)
        )

    def reservation(self, *, max_tokens: int) -> float:
        """Quota tokens Bedrock reserves when a call starts: input plus ``max_tokens``."""
        _check_max_tokens(max_tokens)
        return self.input_tokens + max_tokens

    def settlement(self, *, max_tokens: int, model_id: str | None = None) -> float:
        """Quota tokens a call finally consumes: input plus output times the burndown rate."""
        _check_max_tokens(max_tokens)
        output = min(self.output_tokens, max_tokens) if self.output_tokens else max_tokens
        return self.input_tokens + self.burndown(model_id) * output

    def call_tokens(self, *, max_tokens: int, model_id: str | None = None) -> float:
        """What one call weighs against the tokens-per-minute quota: the larger of its
        reservation and its settlement."""
        return max(
            self.reservation(max_tokens=max_tokens),
            self.settlement(max_tokens=max_tokens, model_id=model_id),
        )

    def calls_per_minute(self, *, max_tokens: int, model_id: str | None = None) -> float:
        """The sustainable call rate: the tighter of RPM and TPM / :meth:`call_tokens`."""
        by_tokens = self.tokens_per_minute / self.call_tokens(
            max_tokens=max_tokens, model_id=model_id
        )
        rpm = self.requests_per_minute
        return by_tokens if rpm is None else min(rpm, by_tokens)

    def max_concurrency(self, *, max_tokens: int, model_id: str | None = None) -> int:
        """Calls in flight at the sustainable rate (Little's law), at least 1."""
        rate = self.calls_per_minute(max_tokens=max_tokens, model_id=model_id)
        return max(1, math.floor(rate / 60 * self.latency_seconds))


def _check_max_tokens(max_tokens: int) -> None:
    require(
        isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1,
        "max_tokens",
        max_tokens,
        "a whole number of tokens, 1 or more",
    )
