"""Model-token cost of a typical execution, checked by hand against analysis/model_pricing.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdaless.analysis.model_cost import TokenAssumptions, model_calls, model_cost
from lambdaless.cli import main

HAIKU = (
    "arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
    "us.anthropic.claude-3-5-haiku-20241022-v1:0"
)
NOVA_PRO = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
SYSTEM = "x" * 4000  # 1,000 tokens at 4 characters per token


def definition() -> dict[str, Any]:
    """A cached-system Claude call, then a Map whose items call Nova Pro on the flex tier."""
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Arguments": {
                    "ModelId": HAIKU,
                    "Body": {
                        "anthropic_version": "bedrock-2023-05-31",
                        "max_tokens": 500,
                        "system": [
                            {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
                        ],
                        "messages": [{"role": "user", "content": [{"type": "text", "text": "q"}]}],
                    },
                },
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input.items %}",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Classify",
                    "States": {
                        "Classify": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::aws-sdk:bedrockruntime:converse",
                            "Arguments": {
                                "ModelId": NOVA_PRO,
                                "Messages": [{"Role": "user", "Content": [{"Text": "q"}]}],
                                "InferenceConfig": {"MaxTokens": 10},
                                "ServiceTier": {"Type": "flex"},
                            },
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        },
    }


def test_calls_read_from_the_asl() -> None:
    calls = model_calls(definition())
    assert calls["Ask"].max_tokens == 500
    assert calls["Ask"].system_tokens == 1000
    assert calls["Ask"].cached_system
    assert calls["Classify"].tier == "flex"
    assert not calls["Classify"].cached_system


def test_typical_execution_cost_by_hand() -> None:
    cost = model_cost(definition(), bounds={"Each": 3})
    ask, classify = cost.calls
    # Ask, Claude 3.5 Haiku ($0.80 in, $4.00 out, $0.08 cache read, $1.00 cache write per 1M):
    # 1,000 in + 500 out + 900 cache read + 100 cache write (90% hit rate of 1,000 system tokens)
    # = 0.0008 + 0.002 + 0.000072 + 0.0001 = $0.002972
    assert (ask.input_tokens, ask.cache_read, ask.cache_write) == (1000, 900, 100)
    assert ask.usd == pytest.approx(0.002972)
    # Classify, Nova Pro on flex ($0.80 in, $3.20 out per 1M, x0.5):
    # (0.0008 + 10 x 0.0000032) x 0.5 = $0.000416 per item, 3 items
    assert classify.usd == pytest.approx(0.000416)
    assert cost.per_execution == pytest.approx(0.002972 + 3 * 0.000416)  # $0.00422
    # every call at Standard: 0.002972 + 3 x 0.000832; at priority (Nova only): x1.75
    assert cost.by_tier["default"] == pytest.approx(0.002972 + 3 * 0.000832)
    assert cost.by_tier["flex"] == pytest.approx(cost.per_execution)
    assert cost.by_tier["priority"] == pytest.approx(0.002972 + 3 * 0.000832 * 1.75)


def test_input_size_and_price_overrides() -> None:
    tokens = TokenAssumptions(input_tokens=0, cache_hit_rate=1.0)
    cost = model_cost(
        definition(),
        bounds={"Each": 1},
        assumptions=tokens,
        overrides={"amazon.nova-pro-v1:0": {"output_per_1k": 0.01}},
    )
    # Ask: 500 x 0.004/1k + 1,000 x 0.00008/1k = 0.00208; Classify: 10 x 0.01/1k x 0.5 = 0.00005
    assert cost.per_execution == pytest.approx(0.00208 + 0.00005)
    with pytest.raises(ValueError, match=r"cache_hit_rate=1\.5"):
        TokenAssumptions(cache_hit_rate=1.5)
    with pytest.raises(ValueError, match="input_tokens=-1"):
        TokenAssumptions(input_tokens=-1)


def test_unknown_model_is_reported_not_priced() -> None:
    d = definition()
    d["States"]["Ask"]["Arguments"]["ModelId"] = (
        "arn:aws:bedrock:us-east-1::foundation-model/acme.x-v1:0"
    )
    cost = model_cost(d, bounds={"Each": 1})
    assert cost.unpriced == ("arn:aws:bedrock:us-east-1::foundation-model/acme.x-v1:0",)
    assert cost.per_execution == pytest.approx(0.000416)


def test_cli_inspect_prints_model_cost_beside_orchestration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = definition()
    d["States"]["Each"]["Comment"] = "lambdaless:max-items=3"
    template = {
        "Resources": {
            "Flow": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"DefinitionString": json.dumps(d)},
            }
        }
    }
    path = tmp_path / "Flow.template.json"
    path.write_text(json.dumps(template))
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"amazon.nova-pro-v1:0": {"input_per_1k": 0.0008}}}))
    assert main(["inspect", str(path), "--prices", str(prices)]) == 0
    text = capsys.readouterr().out
    # $0.00422 per execution = $4,220.00 per 1M
    assert "model tokens per 1M (typical)" in text
    assert "$4,220.00" in text
    assert "Classify: amazon.nova-pro-v1:0, flex tier" in text
    assert "whole bill per 1M (typical)" in text
    assert main(["inspect", str(path), "--json", "--input-tokens", "0"]) == 0
    report = json.loads(capsys.readouterr().out)[0]["model_tokens"]
    # Ask: 0.002 + 0.000072 + 0.0001; Classify: 0.000016 x 3
    assert report["per_million_usd"] == pytest.approx((0.002172 + 3 * 0.000016) * 1_000_000)
