"""When Bedrock models stop working: their Legacy and end-of-life (EOL) dates, as dated data.

Amazon Bedrock moves every model from Active to Legacy and then to EOL; from its EOL date,
"requests made to this version will fail" (Bedrock user guide, "Model lifecycle",
https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html, and "Model lifecycle
(Legacy)", model-lifecycle-legacy.html, for models launched before 2026-09-07). Only Bedrock's
own dates apply there, not the model providers' ("For Amazon Bedrock usage, only the dates on
this page apply"), and the EOL date is added to a model's card when it enters Legacy.

The rows below are what could be read in those pages and in the model cards on the day in
``checked``; every other model of :data:`lambdaless.rules._model_ids.KNOWN_MODEL_IDS` is
*unknown* here (:func:`lifecycle_of` says so), never assumed Active. Read 2026-11-30:

========================================  ======  =============  ============================
model                                     status  EOL date       model card (``model-card-``)
========================================  ======  =============  ============================
anthropic.claude-3-5-haiku-20241022-v1:0  Legacy  2026-06-19     anthropic-claude-3-5-haiku
anthropic.claude-3-haiku-20240307-v1:0    EOL     2026-09-10     anthropic-claude-3-haiku
anthropic.claude-haiku-4-5-20251001-v1:0  Active  >= 2026-10-01  anthropic-claude-haiku-4-5
amazon.nova-lite-v1:0                     Active  >= 2025-12-04  amazon-nova-lite
========================================  ======  =============  ============================

(``>=``: the card's "EOL no sooner than".)

Neither Legacy card gives the date the model entered Legacy nor names a successor (both point
to "models at a glance", model-cards.html): ``legacy_date`` and ``successor`` are ``None``.
Claude 3 Haiku's card says the EOL holds "in most Regions": it stays available in
``ca-central-1``, ``eu-central-2`` and ``sa-east-1`` and is Legacy in ``ap-northeast-2`` (read
in the card's Traditional Chinese translation; the English text was not readable here). The
two Active cards were read through copies of the user guide (a proxy of docs.aws.amazon.com for
Claude Haiku 4.5, the AWS European Sovereign Cloud's docs.aws.eu for Nova Lite); "EOL no sooner
than" is a floor, not a date (both cards still say Active past it).

Pure data and date arithmetic: no CDK import, so the lint and ``lambdaless inspect`` use it too.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from lambdaless.analysis.model_pricing import foundation_model_id

LIFECYCLE_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html"
LIFECYCLE_LEGACY_URL = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html"
)
MODEL_CARDS_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards.html"
_CARD = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-{}.html"
CHECKED = "2026-11-30"

#: Where a model stands on a given day: ``unknown`` when the docs read gave no EOL date.
Status = Literal["active", "legacy", "end-of-life", "unknown"]


@dataclass(frozen=True)
class ModelLifecycle:
    """The documented lifecycle of one foundation model on Amazon Bedrock.

    Attributes:
        model: the foundation model id.
        documented: the card's "Model lifecycle" on ``checked`` (``Active``, ``Legacy``,
            ``EOL``), or ``None``.
        eol_date: the day from which calls fail (``None``: not documented, or not yet set).
        eol_no_sooner_than: an Active card's floor for the EOL date (``None``: not read).
        legacy_date: the day it entered Legacy (``None``: not documented).
        successor: the Active model the docs name as its replacement (``None``: none named).
        still_available_in: regions where the docs say it outlives ``eol_date``.
        checked: the day the sources were read (``""`` for an unknown model).
        sources: the pages read.
    """

    model: str
    documented: str | None = None
    eol_date: datetime.date | None = None
    eol_no_sooner_than: datetime.date | None = None
    legacy_date: datetime.date | None = None
    successor: str | None = None
    still_available_in: tuple[str, ...] = ()
    checked: str = CHECKED
    sources: tuple[str, ...] = ()

    def status_on(self, today: datetime.date, region: str | None = None) -> Status:
        """Where the model stands on ``today`` in ``region`` (``None``: any region, so a
        regional exception does not count).

        A known EOL date on or before ``today`` is ``end-of-life``; one still ahead is
        ``legacy`` (Bedrock sets the EOL date when a model enters Legacy), unless a documented
        ``legacy_date`` is still ahead too (``active``). Without an EOL date: ``active`` when the
        card said Active on ``checked``, else ``unknown``.
        """
        if self.eol_date is None:
            return "active" if self.documented == "Active" else "unknown"
        if self.eol_date <= today:
            return "legacy" if region in self.still_available_in else "end-of-life"
        if self.legacy_date is not None and today < self.legacy_date:
            return "active"
        return "legacy"

    def describe(self) -> str:
        """``<model>: EOL 2026-06-19 on Amazon Bedrock (checked 2026-11-30, <url>)``."""
        eol = self.eol_date.isoformat() if self.eol_date else "unknown"
        if self.eol_date is None and self.eol_no_sooner_than is not None:
            eol = f"no sooner than {self.eol_no_sooner_than.isoformat()}"
        where = f"; still available in {', '.join(self.still_available_in)}" * bool(
            self.still_available_in
        )
        return (
            f"{self.model}: EOL {eol} on Amazon Bedrock{where} (checked "
            f"{self.checked or 'never'}, {', '.join(self.sources) or 'no source'})"
        )


def _row(
    model: str,
    card: str,
    documented: str,
    *,
    eol: str | None = None,
    no_sooner_than: str | None = None,
    still_available_in: tuple[str, ...] = (),
) -> ModelLifecycle:
    return ModelLifecycle(
        model=model,
        documented=documented,
        eol_date=datetime.date.fromisoformat(eol) if eol else None,
        eol_no_sooner_than=datetime.date.fromisoformat(no_sooner_than) if no_sooner_than else None,
        still_available_in=still_available_in,
        sources=(_CARD.format(card), LIFECYCLE_LEGACY_URL),
    )


_TABLE: tuple[ModelLifecycle, ...] = (
    # "Model lifecycle: Legacy", "Model EOL date: June 19, 2026".
    _row(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic-claude-3-5-haiku",
        "Legacy",
        eol="2026-06-19",
    ),
    # "Model EOL date: September 10, 2026", "Model lifecycle: EOL: 2026-09-10 (Region
    # specific)": available in ca-central-1, eu-central-2, sa-east-1; Legacy in ap-northeast-2.
    _row(
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic-claude-3-haiku",
        "EOL",
        eol="2026-09-10",
        still_available_in=("ap-northeast-2", "ca-central-1", "eu-central-2", "sa-east-1"),
    ),
    # "Model EOL date: No sooner than 10/1/2026", "Model lifecycle: Active" (launched 2025-10-16).
    _row(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic-claude-haiku-4-5",
        "Active",
        no_sooner_than="2026-10-01",
    ),
    # "Model EOL date: No sooner than 12/4/2025", "Model lifecycle: Active" (launched 2024-12-05).
    _row("amazon.nova-lite-v1:0", "amazon-nova-lite", "Active", no_sooner_than="2025-12-04"),
)

#: foundation model id -> its documented lifecycle (only models whose card was read)
MODEL_LIFECYCLES: Mapping[str, ModelLifecycle] = MappingProxyType(
    {row.model: row for row in _TABLE}
)


def lifecycle_of(model: str) -> ModelLifecycle:
    """The lifecycle of ``model`` (a foundation model id, a system profile id like
    ``us.anthropic...``, or an ARN of either); a row with nothing known for a model the table
    lacks (its status is ``unknown`` on every day)."""
    model_id, _ = foundation_model_id(model)
    return MODEL_LIFECYCLES.get(model_id) or ModelLifecycle(model=model_id, checked="")


def today_utc() -> datetime.date:
    """Today's date in UTC: the default day lifecycle checks use (read at each call)."""
    return datetime.datetime.now(datetime.UTC).date()
