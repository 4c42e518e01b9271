"""Rules about Bedrock model lifecycles: a model past its end of life fails every call.

The dates are :mod:`lambdaless.analysis.model_lifecycle`'s (dated, cited). The day they are
compared with is the synth date: the app's context ``lambdaless:today`` (``YYYY-MM-DD``) when
set, today's UTC date otherwise, read when a step is built (never at import).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from constructs import IConstruct

from lambdaless.analysis.model_lifecycle import (
    LIFECYCLE_URL,
    MODEL_CARDS_URL,
    ModelLifecycle,
    lifecycle_of,
    today_utc,
)
from lambdaless.rules._rule import Rule

#: Context key: the day lifecycle checks compare with (``YYYY-MM-DD``); today (UTC) by default.
TODAY_CONTEXT = "lambdaless:today"
#: Context key: ``{"<foundation model id>": "<reason>"}``, models past their EOL date the app
#: still calls on purpose (a region where the model stays, a private arrangement).
ACKNOWLEDGED_CONTEXT = "lambdaless:end-of-life-acknowledged"

MODEL_END_OF_LIFE = Rule(
    "model-end-of-life",
    "a model (foundation model, inference profile of one, or the source of an application "
    "profile) whose Amazon Bedrock EOL date is on or before the synth date: every call fails",
    LIFECYCLE_URL,
    "construct",
)
MODEL_LEGACY = Rule(
    "model-legacy",
    "a warning, not an error: a model in its Legacy period on Amazon Bedrock (its EOL date is "
    "set and still ahead), or past its EOL date where an acknowledgement or a region keeps it",
    LIFECYCLE_URL,
    "synth",
)

RULES: tuple[Rule, ...] = (MODEL_END_OF_LIFE, MODEL_LEGACY)


def synth_date(scope: IConstruct) -> datetime.date:
    """The day lifecycle checks use for ``scope``: its context ``lambdaless:today``, or today
    (UTC)."""
    raw = scope.node.try_get_context(TODAY_CONTEXT)
    if raw is None:
        return today_utc()
    try:
        return datetime.date.fromisoformat(str(raw))
    except ValueError:
        raise MODEL_END_OF_LIFE.refuse(
            f"context {TODAY_CONTEXT}", raw, "a date 'YYYY-MM-DD' (or no value: today, UTC)"
        ) from None


def acknowledged(scope: IConstruct) -> Mapping[str, str]:
    """The app's acknowledged end-of-life models (context ``lambdaless:end-of-life-acknowledged``:
    model id -> reason; a JSON string of that object works too, for ``cdk synth -c``)."""
    raw = scope.node.try_get_context(ACKNOWLEDGED_CONTEXT)
    if raw is None:
        return {}
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
    allowed = '{"<foundation model id>": "<why it still works for this app>"}'
    MODEL_END_OF_LIFE.require(
        isinstance(value, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()),
        f"context {ACKNOWLEDGED_CONTEXT}",
        raw,
        f"an object {allowed}, each with a reason",
    )
    return dict(value)


def has_eol_date(foundation_model_id: str | None) -> bool:
    """Whether the docs give ``foundation_model_id`` an EOL date (only those are checked)."""
    return (
        foundation_model_id is not None and lifecycle_of(foundation_model_id).eol_date is not None
    )


def check_end_of_life(
    scope: IConstruct,
    argument: str,
    value: Any,
    foundation_model_id: str | None,
    *,
    region: str | None,
) -> None:
    """Refuse a model whose EOL date is on or before the synth date.

    Args:
        scope: where the model is used (its context gives the date and the acknowledgements).
        argument: the argument named in the error (``model``, ``base_model``...).
        value: the value as given (named in the error).
        foundation_model_id: the model behind ``value`` (``None``, e.g. a provisioned model
            without one: nothing to check).
        region: the region the call is served in, when known (a foundation model in a stack
            with a literal region); ``None`` for a profile or an environment-agnostic stack.
    """
    if foundation_model_id is None:
        return
    lifecycle = lifecycle_of(foundation_model_id)
    if lifecycle.eol_date is None:
        return  # nothing documented: no context read, no cost
    today = synth_date(scope)
    if lifecycle.status_on(today, region) != "end-of-life":
        return
    if foundation_model_id in acknowledged(scope):
        return
    raise MODEL_END_OF_LIFE.refuse(argument, value, end_of_life_advice(lifecycle, today))


def end_of_life_advice(lifecycle: ModelLifecycle, today: datetime.date) -> str:
    """What the end-of-life error says is allowed, and how to move on."""
    assert lifecycle.eol_date is not None
    text = (
        f"a model Amazon Bedrock still serves: {lifecycle.model} reached its end of life on "
        f"{lifecycle.eol_date.isoformat()} (synth date {today.isoformat()}), after which every "
        "call to it fails"
    )
    if lifecycle.still_available_in:
        text += (
            " except in " + ", ".join(lifecycle.still_available_in) + " (a foundation model in "
            "a stack pinned to one of them passes)"
        )
    if lifecycle.successor:
        text += f". Move to its successor {lifecycle.successor!r}"
    else:
        text += f". Move to an Active model (the model cards list them: {MODEL_CARDS_URL})"
    return text + (
        f". If it still works for this app, acknowledge it in cdk.json's context: "
        f'"{ACKNOWLEDGED_CONTEXT}": {{"{lifecycle.model}": "<why>"}}; '
        f'"{TODAY_CONTEXT}": "YYYY-MM-DD" pins the date checked (dates checked '
        f"{lifecycle.checked})"
    )
