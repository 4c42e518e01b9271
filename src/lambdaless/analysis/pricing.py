"""Prices as dated data, with their sources, overridable per region.

The numbers are the public on-demand list prices for us-east-1. They change rarely but they do
change: each :class:`Prices` carries the page it came from and the day it was checked, and the
CLI prints both beside every cost. Other regions fall back to us-east-1 (flagged in ``note``)
unless prices are supplied, e.g. ``lambdaless inspect --prices prices.json``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STEP_FUNCTIONS_PRICING_URL = "https://aws.amazon.com/step-functions/pricing/"
LAMBDA_PRICING_URL = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PRICING_URL = "https://aws.amazon.com/dynamodb/pricing/on-demand/"


@dataclass(frozen=True)
class Prices:
    """On-demand prices in USD of one region.

    Standard workflows bill each state transition, retries included; Express workflows bill each
    request plus duration x memory, duration rounded up to 100 ms and memory billed in 64 MB
    chunks; Lambda bills each request plus duration x configured memory, duration rounded up
    to 1 ms (AWS Step Functions and AWS Lambda pricing pages, see ``sources``).
    """

    region: str
    standard_per_transition: float
    express_per_request: float
    express_per_gb_second: float
    lambda_per_request: float
    lambda_per_gb_second: float
    express_memory_mb: int = 64
    express_rounding_ms: int = 100
    lambda_rounding_ms: int = 1
    dynamodb_per_write_request: float = 0.0
    dynamodb_per_read_request: float = 0.0
    checked: str = ""
    sources: tuple[str, ...] = ()
    note: str = ""

    def describe(self) -> str:
        """``us-east-1 prices checked 2026-11-21 (https://..., https://...)``."""
        text = f"{self.region} prices checked {self.checked or 'unknown'}"
        if self.sources:
            text += f" ({', '.join(self.sources)})"
        return text + (f"; {self.note}" if self.note else "")


#: Checked against the public pricing pages on the date below (x86 Lambda, first tier).
US_EAST_1 = Prices(
    region="us-east-1",
    standard_per_transition=0.025 / 1000,  # $0.025 per 1,000 state transitions
    express_per_request=1.00 / 1_000_000,  # $1.00 per 1M requests
    express_per_gb_second=0.00001667,  # first 1,000 hours of GB-seconds per month
    lambda_per_request=0.20 / 1_000_000,  # $0.20 per 1M requests
    lambda_per_gb_second=0.0000166667,  # x86, first 6 billion GB-seconds per month
    # DynamoDB on demand: $0.625 per 1M write request units, $0.125 per 1M read request units
    # (one unit per request up to 1 KB written / 4 KB read strongly consistent).
    dynamodb_per_write_request=0.625 / 1_000_000,
    dynamodb_per_read_request=0.125 / 1_000_000,
    checked="2026-11-21",
    sources=(STEP_FUNCTIONS_PRICING_URL, LAMBDA_PRICING_URL, DYNAMODB_PRICING_URL),
)

#: Region -> prices. Add a region here (with its source and date) or pass overrides.
PRICES: dict[str, Prices] = {"us-east-1": US_EAST_1}

_FIELDS = {f.name for f in dataclasses.fields(Prices)}
#: key of a prices file that holds model token prices (analysis.model_pricing)
MODELS_KEY = "models"


def prices_for(region: str = "us-east-1", overrides: Mapping[str, Any] | None = None) -> Prices:
    """The prices of ``region``, with ``overrides`` (field name -> value) applied.

    A region without data uses us-east-1's prices and says so in ``note``.
    """
    base = PRICES.get(region)
    if base is None:
        base = dataclasses.replace(
            US_EAST_1, region=region, note=f"no price data for {region}: us-east-1 prices used"
        )
    changes = dict(overrides or {})
    unknown = sorted(set(changes) - _FIELDS)
    if unknown:
        raise ValueError(
            f"price overrides {unknown} are not fields of Prices; use {sorted(_FIELDS)}"
        )
    if "sources" in changes:
        changes["sources"] = tuple(changes["sources"])
    if changes and "note" not in changes:
        changes["note"] = (
            (base.note + "; " if base.note else "") + "overridden: " + ", ".join(sorted(changes))
        )
    return dataclasses.replace(base, **changes)


def load_prices(path: str | Path, region: str | None = None) -> Prices:
    """Prices from a JSON file: either one object of :class:`Prices` fields, or region ->
    such an object (``region`` picks one; by default the only one or us-east-1).

    A ``"models"`` key beside the fields holds model token-price overrides, read by
    :func:`lambdaless.analysis.model_pricing.load_model_overrides`; it is skipped here.
    """
    document = json.loads(Path(path).read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object")
    if set(document) - {MODELS_KEY} <= _FIELDS:
        fields = {k: v for k, v in document.items() if k != MODELS_KEY}
        return prices_for(str(fields.pop("region", region or "us-east-1")), fields)
    if region is None:
        region = next(iter(document)) if len(document) == 1 else "us-east-1"
    if region not in document:
        raise ValueError(f"{path}: no prices for region {region!r}; it has {sorted(document)}")
    fields = {k: v for k, v in dict(document[region]).items() if k != MODELS_KEY}
    return prices_for(region, fields)
