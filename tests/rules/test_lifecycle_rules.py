"""Model lifecycles: a model past its Bedrock end of life is refused wherever a model is taken,
a Legacy one is a lint warning, and the day compared with is the app's (never the real date).

Each test sets its own synth date on its stack (context ``lambdaless:today``), overriding the
suite's fixed date (tests/conftest.py).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from examples.app import EXAMPLES
from examples.documents_at_scale import DocumentsAtScaleStack
from tests.conftest import ExampleApp
from tests.rules._support import accepted, refused

from lambdaless import (
    BatchInference,
    BedrockModel,
    ChainPrompt,
    Converse,
    FanOut,
    InvokeBedrock,
    KnowledgeBaseSync,
    ModelCapacity,
    ModelCustomization,
    ModelQuota,
    PromptChain,
    S3Path,
    Workflow,
)
from lambdaless.analysis import acknowledge
from lambdaless.analysis.lint import lint
from lambdaless.analysis.model_lifecycle import CHECKED, MODEL_LIFECYCLES, lifecycle_of
from lambdaless.rules._model_ids import KNOWN_MODEL_IDS
from lambdaless.rules.lifecycle import ACKNOWLEDGED_CONTEXT, TODAY_CONTEXT
from lambdaless.synthesized import load

HAIKU_3_5 = "anthropic.claude-3-5-haiku-20241022-v1:0"  # EOL 2026-06-19 (model card)
HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1:0"  # EOL 2026-09-10 in most regions
HAIKU_4_5 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # no EOL date documented
US = cdk.Environment(account="111122223333", region="us-east-1")


def _stack(today: str, *, env: cdk.Environment | None = US, **context: Any) -> cdk.Stack:
    stack = cdk.Stack(cdk.App(), "Lifecycle", env=env)
    stack.node.set_context(TODAY_CONTEXT, today)
    for key, value in context.items():
        stack.node.set_context(key, value)
    return stack


def _bucket(stack: cdk.Stack) -> s3.IBucket:
    found = stack.node.try_find_child("Data")
    return found or s3.Bucket.from_bucket_name(stack, "Data", "lifecycle-data")  # type: ignore[return-value]


# Every construct that takes a model, and the argument it takes it by.
BUILDERS: dict[str, tuple[str, Callable[[cdk.Stack, str], object]]] = {
    "InvokeBedrock": ("model", lambda s, m: InvokeBedrock(s, "Ask", model=m, prompt="Hi")),
    "Converse": ("model", lambda s, m: Converse(s, "Ask", model=m, prompt="Hi")),
    "PromptChain": (
        "model",
        lambda s, m: PromptChain(
            s, "Chain", model=m, prompts=[ChainPrompt("draft", "{% $states.input.topic %}")]
        ),
    ),
    "FanOut": (
        "model",
        lambda s, m: FanOut(
            s,
            "Each",
            items="{% $states.input.items %}",
            model=m,
            prompt="{% $states.input.text %}",
            max_concurrency=2,
        ),
    ),
    "KnowledgeBaseSync": (
        "model",
        lambda s, m: KnowledgeBaseSync(
            s,
            "Refresh",
            knowledge_base_id="KBDOCS0001",
            data_source_id="DSDOCS0001",
            question="What changed?",
            model=m,
        ),
    ),
    "ModelCustomization": (
        "base_model",
        lambda s, m: ModelCustomization(
            s,
            "Tune",
            base_model=m,
            training_data=S3Path(_bucket(s), "train.jsonl"),
            output_data=S3Path(_bucket(s), "out/"),
        ),
    ),
    "BatchInference": (
        "model",
        lambda s, m: BatchInference(
            s, "Batch", prompt="{% $states.input.text %}", model=m, work=S3Path(_bucket(s), "b/")
        ),
    ),
    "ModelCapacity": (
        "model",
        lambda s, m: ModelCapacity(
            s,
            "Capacity",
            model=m,
            quota=ModelQuota(tokens_per_minute=100_000, input_tokens=500, latency_seconds=5),
        ),
    ),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_construct_that_takes_a_model_refuses_one_past_its_end_of_life(name: str) -> None:
    argument, build = BUILDERS[name]
    error = refused(
        "model-end-of-life",
        lambda: build(_stack("2026-11-30"), HAIKU_3_5),
        argument=argument,
        value=HAIKU_3_5,
    )
    assert "reached its end of life on 2026-06-19 (synth date 2026-11-30)" in str(error)
    assert ACKNOWLEDGED_CONTEXT in str(error)  # the escape hatch is in the message
    # The same construct on the day before the EOL date, and with an Active model, builds.
    accepted(lambda: build(_stack("2026-06-18"), HAIKU_3_5))
    accepted(lambda: build(_stack("2030-01-01"), "anthropic.claude-haiku-4-5-20251001-v1:0"))


def test_the_eol_day_itself_is_refused_and_profiles_are_checked_by_their_model() -> None:
    for model in (HAIKU_3_5, f"us.{HAIKU_3_5}", f"global.{HAIKU_3_5}"):
        refused(
            "model-end-of-life",
            lambda model=model: InvokeBedrock(
                _stack("2026-06-19"), "Ask", model=model, prompt="Hi"
            ),
            argument="model",
            value=model,
        )


def test_an_application_profile_is_checked_by_its_source() -> None:
    stack = _stack("2026-11-30")
    profile = BedrockModel.application_profile(
        "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123def456",
        source=f"us.{HAIKU_3_5}",
    )
    refused(
        "model-end-of-life",
        lambda: Converse(stack, "Ask", model=profile, prompt="Hi"),
        argument="model",
    )


def test_claude_3_haiku_stays_where_its_card_says_and_nowhere_else() -> None:
    ca = cdk.Environment(account="111122223333", region="ca-central-1")
    accepted(lambda: InvokeBedrock(_stack("2026-11-30", env=ca), "Ask", model=HAIKU_3, prompt="Hi"))
    for env, model in ((US, HAIKU_3), (None, HAIKU_3), (US, f"us.{HAIKU_3}")):
        error = refused(
            "model-end-of-life",
            lambda env=env, model=model: InvokeBedrock(
                _stack("2026-11-30", env=env), "Ask", model=model, prompt="Hi"
            ),
            argument="model",
            value=model,
        )
        assert "except in ap-northeast-2, ca-central-1, eu-central-2, sa-east-1" in str(error)


def test_an_acknowledged_model_builds_and_a_reason_is_required() -> None:
    reason = {HAIKU_3_5: "private arrangement with the provider until 2027-01-31"}
    accepted(
        lambda: InvokeBedrock(
            _stack("2026-11-30", **{ACKNOWLEDGED_CONTEXT: reason}),
            "Ask",
            model=HAIKU_3_5,
            prompt="Hi",
        )
    )
    # `cdk synth -c` passes context values as strings: the JSON object works too.
    accepted(
        lambda: InvokeBedrock(
            _stack("2026-11-30", **{ACKNOWLEDGED_CONTEXT: json.dumps(reason)}),
            "Ask",
            model=HAIKU_3_5,
            prompt="Hi",
        )
    )
    for bad in ({HAIKU_3_5: " "}, [HAIKU_3_5], "not json"):
        refused(
            "model-end-of-life",
            lambda bad=bad: InvokeBedrock(
                _stack("2026-11-30", **{ACKNOWLEDGED_CONTEXT: bad}),
                "Ask",
                model=HAIKU_3_5,
                prompt="Hi",
            ),
            argument=f"context {ACKNOWLEDGED_CONTEXT}",
        )
    # Acknowledging one model does not let another through.
    refused(
        "model-end-of-life",
        lambda: InvokeBedrock(
            _stack("2026-11-30", **{ACKNOWLEDGED_CONTEXT: {HAIKU_3: "ca-central-1 only"}}),
            "Ask",
            model=HAIKU_3_5,
            prompt="Hi",
        ),
        argument="model",
    )


def test_a_malformed_synth_date_is_refused_naming_the_context_key() -> None:
    refused(
        "model-end-of-life",
        lambda: InvokeBedrock(_stack("30/11/2026"), "Ask", model=HAIKU_3_5, prompt="Hi"),
        argument=f"context {TODAY_CONTEXT}",
        value="30/11/2026",
    )


def _findings(today: datetime.date, model: str, **context: Any) -> list[Any]:
    stack = _stack("2026-06-01", **context)
    workflow = Workflow(
        stack, "W", definition=InvokeBedrock(stack, "Ask", model=model, prompt="Hi")
    )
    machine = load(stack)[0]
    del workflow
    return [f for f in lint(machine, today=today) if f.rule == "model-legacy"]


def test_the_lint_warns_about_a_legacy_model_with_its_eol_date() -> None:
    [finding] = _findings(datetime.date(2026, 6, 1), f"us.{HAIKU_3_5}")
    assert finding.severity == "warning"
    assert finding.state == "Ask"
    assert "is Legacy on Amazon Bedrock: it reaches its end of life on 2026-06-19" in (
        finding.message
    )
    assert not finding.blocking
    assert _findings(datetime.date(2026, 6, 1), HAIKU_4_5) == []


def test_the_lint_reports_an_acknowledged_model_past_its_eol_as_a_warning() -> None:
    today = datetime.date(2026, 11, 30)
    [finding] = _findings(today, HAIKU_3_5, **{ACKNOWLEDGED_CONTEXT: {HAIKU_3_5: "why"}})
    assert "reached its end of life on Amazon Bedrock on 2026-06-19" in finding.message
    assert finding.severity == "warning"


def test_a_legacy_warning_can_be_acknowledged_like_any_lint_finding() -> None:
    stack = _stack("2026-06-01")
    workflow = Workflow(
        stack, "W", definition=InvokeBedrock(stack, "Ask", model=HAIKU_3_5, prompt="Hi")
    )
    acknowledge(workflow, "model-legacy", reason="migrating to Haiku 4.5 in sprint 12")
    [finding] = [
        f for f in lint(load(stack)[0], today=datetime.date(2026, 6, 1)) if f.rule == "model-legacy"
    ]
    assert finding.acknowledged == "migrating to Haiku 4.5 in sprint 12"


def test_the_table_is_dated_cited_and_only_has_models_the_library_knows() -> None:
    assert set(MODEL_LIFECYCLES) <= KNOWN_MODEL_IDS
    for row in MODEL_LIFECYCLES.values():
        assert row.documented in ("Active", "Legacy", "EOL")
        # a Legacy or EOL card gives the EOL date; an Active one only its floor
        assert (row.eol_date is not None) == (row.documented != "Active")
        assert (row.eol_no_sooner_than is not None) == (row.documented == "Active")
        assert row.checked == "2026-11-30"
        assert all(s.startswith("https://docs.aws.amazon.com/bedrock/") for s in row.sources)
        assert any("model-card-" in s for s in row.sources)
    # Profiles and ARNs resolve to their model; anything undocumented is unknown, never Active.
    assert lifecycle_of(f"us.{HAIKU_3_5}").eol_date == datetime.date(2026, 6, 19)
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU_3}"
    assert lifecycle_of(arn).eol_date == datetime.date(2026, 9, 10)
    active = lifecycle_of(HAIKU_4_5)
    assert active.status_on(datetime.date(2026, 11, 30)) == "active"
    assert "no sooner than 2026-10-01" in active.describe()
    unknown = lifecycle_of("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert unknown.status_on(datetime.date(2030, 1, 1)) == "unknown"
    assert unknown.checked == ""


def test_status_on_a_given_day() -> None:
    haiku = lifecycle_of(HAIKU_3)
    assert haiku.status_on(datetime.date(2026, 9, 9)) == "legacy"
    assert haiku.status_on(datetime.date(2026, 9, 10)) == "end-of-life"
    assert haiku.status_on(datetime.date(2026, 9, 10), "sa-east-1") == "legacy"
    assert haiku.status_on(datetime.date(2026, 9, 10), "us-west-2") == "end-of-life"


def test_no_example_calls_a_legacy_or_end_of_life_model(example_app: ExampleApp) -> None:
    """On the day the dates were read, every example (and the full-scale one) calls only
    models without a documented EOL date: a template copied from here keeps working."""
    checked = datetime.date.fromisoformat(CHECKED)
    stacks = [example_app.stacks[name] for name in EXAMPLES]
    stacks.append(DocumentsAtScaleStack(cdk.App(), "DocumentsAtScale"))
    findings = [
        finding.describe()
        for stack in stacks
        for machine in load(stack)
        for finding in lint(machine, today=checked)
        if finding.rule == "model-legacy"
    ]
    assert findings == []


def test_no_readme_code_calls_a_model_past_its_end_of_life() -> None:
    """The README's Python blocks run at the suite's fixed date (tests/test_readme.py); on the
    day the dates were read, none may name a model past its EOL date."""
    checked = datetime.date.fromisoformat(CHECKED)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"^```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL))
    gone = [m for m, row in MODEL_LIFECYCLES.items() if row.status_on(checked) == "end-of-life"]
    assert gone  # the check has something to look for
    assert [model for model in gone if model in blocks] == []
