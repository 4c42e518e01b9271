"""Cost numbers checked by hand."""

from __future__ import annotations

import pytest

from lambdaless.analysis.cost import MILLION, Middleman, cost_of_profile
from lambdaless.analysis.history import Assumptions, profile
from lambdaless.analysis.pricing import prices_for

BEDROCK = "arn:aws:states:::bedrock:invokeModel"
ONE_CALL = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": BEDROCK,
            "Retry": [
                {
                    "ErrorEquals": ["Bedrock.ThrottlingException"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 6,
                    "BackoffRate": 2,
                    "MaxDelaySeconds": 60,
                }
            ],
            "End": True,
        }
    },
}


def test_standard_one_call_vs_middleman() -> None:
    report = cost_of_profile(profile(ONE_CALL), prices=prices_for("us-east-1"))
    # Happy path: 1 transition x $0.000025 = $25.00 per 1M.
    assert report.happy.transitions == 1
    assert report.happy.direct * MILLION == pytest.approx(25.00)
    # Middleman: 1 request ($0.20/1M) + 0.25 GB x 5.05 s x $0.0000166667 = $21.2417 per 1M.
    lambda_part = 0.20 + 0.25 * 5.05 * 0.0000166667 * MILLION
    assert report.happy.middleman_lambda * MILLION == pytest.approx(lambda_part)
    assert report.happy.with_middleman * MILLION == pytest.approx(25.00 + lambda_part)
    # Worst case: 1 + 6 retries = 7 transitions = $175 per 1M, 7 Lambda invocations.
    assert report.worst.transitions == 7
    assert report.worst.direct * MILLION == pytest.approx(175.0)
    assert report.worst.middleman_lambda * MILLION == pytest.approx(7 * lambda_part)


def test_express_rounds_duration_and_bills_64_mb() -> None:
    prof = profile(ONE_CALL, assumptions=Assumptions(model_latency_seconds=1.234))
    report = cost_of_profile(prof, type="EXPRESS", middleman=Middleman(memory_mb=128))
    # $1.00/1M request + 1.3 s (1.234 rounded up to 100 ms) x 0.0625 GB x $0.00001667.
    expected = 1.00 + 1.3 * 0.0625 * 0.00001667 * MILLION
    assert report.happy.direct * MILLION == pytest.approx(expected)
    # Lambda: 0.125 GB x 1.284 s (1 ms rounding) x $0.0000166667 + $0.20/1M.
    lam = 0.20 + 0.125 * 1.284 * 0.0000166667 * MILLION
    assert report.happy.middleman_lambda * MILLION == pytest.approx(lam)


def test_map_items_and_prices_override() -> None:
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "Comment": "lambdaless:max-items=20",
                "ItemProcessor": {
                    "StartAt": "Ask",
                    "States": {"Ask": {"Type": "Task", "Resource": BEDROCK, "End": True}},
                },
                "End": True,
            }
        },
    }
    prof = profile(definition, bounds={"Each": 20})
    prices = prices_for("eu-west-1", {"standard_per_transition": 0.00003})
    report = cost_of_profile(prof, prices=prices)
    # Map 1 + 20 items x 1 Task = 21 transitions x $0.00003.
    assert report.happy.transitions == 21
    assert report.happy.direct == pytest.approx(21 * 0.00003)
    assert "eu-west-1" in prices.describe()
    assert "overridden" in prices.note
