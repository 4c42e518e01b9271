"""Limits lint on hand-written ASL."""

from __future__ import annotations

from typing import Any

from lambdaless.analysis.annotations import Acknowledgement, Annotations
from lambdaless.analysis.lint import lint_definition

HTTP = "arn:aws:states:::http:invoke"
BEDROCK = "arn:aws:states:::bedrock:invokeModel"


def poll_loop(comment: str = "") -> dict[str, Any]:
    return {
        "QueryLanguage": "JSONata",  # the Choice's Condition is JSONata ("state-choice")
        "StartAt": "Submit",
        "TimeoutSeconds": 3600,
        "States": {
            "Submit": {"Type": "Task", "Resource": HTTP, "Next": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Check", "Comment": comment},
            "Check": {"Type": "Task", "Resource": HTTP, "Next": "Done?"},
            "Done?": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.done %}", "Next": "Ok"}],
                "Default": "Wait",
            },
            "Ok": {"Type": "Succeed"},
        },
    }


def test_unbounded_poll_loop_is_an_error_naming_state_and_numbers() -> None:
    (finding,) = lint_definition(poll_loop())
    assert (finding.rule, finding.severity, finding.state) == ("unbounded-loop", "error", "Wait")
    # Wait 2 + Check 5 + Choice 2 = 9 events per pass; 25,000 // 9 = 2,777 passes.
    assert "Wait -> Check -> Done?" in finding.message
    assert "9 history events per pass" in finding.message
    assert "2,777 passes" in finding.message
    assert finding.blocking


def test_declared_bound_replaces_unbounded_with_numbers() -> None:
    assert lint_definition(poll_loop("lambdaless:max-iterations=100")) == []


def test_bound_too_large_exceeds_history() -> None:
    (finding,) = lint_definition(poll_loop("lambdaless:max-iterations=5000"))
    # 2 (execution) + 5 (Submit) + 5000 x 9 (loop) + 2 (Ok) = 45,009 events.
    assert finding.rule == "history-events"
    assert "45,009" in finding.message
    assert finding.severity == "error"


def test_acknowledged_finding_is_reported_but_not_blocking() -> None:
    notes = Annotations((Acknowledgement("unbounded-loop", "job ends in minutes", "Wait"),))
    (finding,) = lint_definition(poll_loop(), annotations=notes)
    assert finding.acknowledged == "job ends in minutes"
    assert not finding.blocking


def test_express_duration_flags_the_numbers() -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": BEDROCK,
                "TimeoutSeconds": 60,
                "Arguments": {"Body": {"max_tokens": 500}},
                "Retry": [{"ErrorEquals": ["Bedrock.ThrottlingException"], "MaxAttempts": 4}],
                "End": True,
            }
        },
    }
    findings = {f.rule: f for f in lint_definition(definition, type="EXPRESS")}
    # 5 attempts x 60 s + back-off 1 + 2 + 4 + 8 = 315 s > 300 s.
    assert "worst case 315 s" in findings["express-duration"].message
    assert "retry-budget" in findings  # 315 s also exceeds the 300 s Express timeout


def map_of_answers(**map_fields: Any) -> dict[str, Any]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Ask",
                    "States": {
                        "Ask": {
                            "Type": "Task",
                            "Resource": BEDROCK,
                            "Arguments": {"Body": {"max_tokens": 1000}},
                            "End": True,
                        }
                    },
                },
                "End": True,
                **map_fields,
            }
        },
    }


def test_inline_map_concurrency_payload_and_history() -> None:
    findings = {(f.rule, f.state): f for f in lint_definition(map_of_answers())}
    assert "up to 40 iterations" in findings[("map-concurrency", "Each")].message
    payload = findings[("payload-size", "Ask")]
    # 1,000 tokens x 4 bytes = 4,000 bytes; 262,144 // 4,000 = 65 items.
    assert "4,000 bytes each" in payload.message
    assert "above 65 items" in payload.message
    history = findings[("history-events", "Each")]
    # Per item: IterationStarted/Succeeded 2 + Task 5 = 7; 25,000 // 7 = 3,571 items.
    assert "7 history events" in history.message
    assert "3,571 items" in history.message


def test_bounded_map_with_concurrency_is_clean() -> None:
    definition = map_of_answers(MaxConcurrency=4, Comment="lambdaless:max-items=50")
    assert lint_definition(definition) == []


def test_distributed_map_over_10000_is_an_error() -> None:
    definition = map_of_answers(MaxConcurrency=20_000)
    definition["States"]["Each"]["ItemProcessor"]["ProcessorConfig"] = {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    findings = {f.rule: f for f in lint_definition(definition)}
    assert findings["map-concurrency"].severity == "error"
    assert "20,000" in findings["map-concurrency"].message


def test_huge_answer_without_s3_is_an_error_and_s3_output_fixes_it() -> None:
    definition = map_of_answers(MaxConcurrency=1, Comment="lambdaless:max-items=1")
    ask = definition["States"]["Each"]["ItemProcessor"]["States"]["Ask"]
    ask["Arguments"]["Body"]["max_tokens"] = 100_000
    (finding,) = lint_definition(definition)
    assert finding.rule == "payload-size"
    assert "400,000 bytes exceeds 262,144" in finding.message
    ask["Arguments"]["Output"] = {"S3Uri": "s3://bucket/answers/"}
    assert lint_definition(definition) == []


def _distributed(definition: dict[str, Any]) -> dict[str, Any]:
    definition["States"]["Each"]["ItemProcessor"]["ProcessorConfig"] = {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    return definition


def test_distributed_map_collecting_answers_is_sized_like_an_inline_one() -> None:
    """A Distributed Map without ResultWriter returns its children's outputs inline (AWS docs,
    "state-map-distributed"): the payload rule covers it, with MaxItems as its bound."""
    definition = _distributed(map_of_answers(MaxConcurrency=4))
    definition["States"]["Each"]["ItemReader"] = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL", "MaxItems": 1_000},
        "Arguments": {"Bucket": "b", "Key": "in.jsonl"},
    }
    (finding,) = [f for f in lint_definition(definition) if f.rule == "payload-size"]
    assert (finding.severity, finding.state) == ("error", "Ask")
    assert "above 65 items" in finding.message
    assert "its bound of 1,000 items" in finding.message
    assert "ResultWriter" in finding.message


def test_distributed_map_without_result_writer_is_a_finding_and_a_writer_fixes_it() -> None:
    definition = _distributed(map_of_answers(MaxConcurrency=4))
    ask = definition["States"]["Each"]["ItemProcessor"]["States"]["Ask"]
    ask["Arguments"]["Output"] = {"S3Uri": "s3://bucket/answers/"}  # answers offloaded...
    (finding,) = lint_definition(definition)  # ...yet each child's output comes back inline
    assert (finding.rule, finding.severity, finding.state) == ("payload-size", "warning", "Each")
    assert "without a ResultWriter" in finding.message
    assert "States.DataLimitExceeded" in finding.message
    definition["States"]["Each"]["ResultWriter"] = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Arguments": {"Bucket": "b", "Prefix": "out/"},
    }
    assert lint_definition(definition) == []
