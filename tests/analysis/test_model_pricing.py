"""Model token prices, checked by hand against the table in analysis/model_pricing.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdaless.analysis.model_pricing import (
    MODEL_PRICES,
    foundation_model_id,
    load_model_overrides,
    model_prices_for,
)
from lambdaless.analysis.pricing import load_prices

HAIKU_35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_claude_call_with_cache_tokens() -> None:
    prices = model_prices_for(HAIKU_35)
    # Claude 3.5 Haiku: $0.80 / $4.00 per 1M in/out, cache write $1.00, cache read $0.08.
    # 1,000 in + 500 out + 2,000 cache read + 4,000 cache write:
    # 1000 x 0.0008/1k + 500 x 0.004/1k + 2000 x 0.00008/1k + 4000 x 0.001/1k
    # = 0.0008 + 0.002 + 0.00016 + 0.004 = $0.00696
    cost = prices.cost(input_tokens=1000, output_tokens=500, cache_read=2000, cache_write=4000)
    assert cost == pytest.approx(0.00696)
    assert prices.caching


def test_batch_halves_input_and_output() -> None:
    prices = model_prices_for(HAIKU_35)
    # (1000 x 0.0008 + 1000 x 0.004) / 1000 / 2 = $0.0024
    assert prices.cost(input_tokens=1000, output_tokens=1000, batch=True) == pytest.approx(0.0024)
    assert prices.batch_discount == 0.5


def test_profiles_map_to_their_model_and_global_is_cheaper() -> None:
    assert foundation_model_id(f"us.{SONNET_45}") == (SONNET_45, "us")
    assert foundation_model_id(f"global.{SONNET_45}") == (SONNET_45, "global")
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU_35}"
    assert foundation_model_id(arn) == (HAIKU_35, None)
    # Sonnet 4.5: $3 / $15 per 1M through global, +10% geographic or in-region.
    assert model_prices_for(f"global.{SONNET_45}").input_per_1k == pytest.approx(0.003)
    assert model_prices_for(f"us.{SONNET_45}").input_per_1k == pytest.approx(0.0033)
    assert model_prices_for(SONNET_45).output_per_1k == pytest.approx(0.0165)
    # Models without the premium price the same either way.
    assert model_prices_for(f"us.{HAIKU_35}") == model_prices_for(HAIKU_35)


def test_tiers_priced_where_sold_and_refused_elsewhere() -> None:
    nova_pro = model_prices_for("us.amazon.nova-pro-v1:0")
    # Nova Pro $0.80 / $3.20 per 1M; flex 0.5x, priority 1.75x.
    base = nova_pro.cost(input_tokens=1000, output_tokens=1000)
    assert base == pytest.approx(0.004)
    assert nova_pro.cost(input_tokens=1000, output_tokens=1000, tier="flex") == pytest.approx(0.002)
    assert nova_pro.cost(input_tokens=1000, output_tokens=1000, tier="priority") == pytest.approx(
        0.007
    )
    assert nova_pro.tiers() == ("default", "flex", "priority")
    with pytest.raises(ValueError, match=r"tier='flex'.*priced in \['default'\] only"):
        model_prices_for(SONNET_45).cost(input_tokens=1, tier="flex")
    with pytest.raises(ValueError, match="batch jobs have no tier"):
        nova_pro.cost(input_tokens=1, tier="flex", batch=True)


def test_bad_input_names_the_argument() -> None:
    prices = model_prices_for(HAIKU_35)
    with pytest.raises(ValueError, match="input_tokens=-1"):
        prices.cost(input_tokens=-1)
    with pytest.raises(ValueError, match="has no prompt caching"):
        model_prices_for("meta.llama3-3-70b-instruct-v1:0").cost(cache_read=10)
    with pytest.raises(LookupError, match=r"no token prices for model 'acme\.unknown-v1'"):
        model_prices_for("acme.unknown-v1")
    with pytest.raises(ValueError, match=r"\['input_per_million'\] are not fields"):
        model_prices_for(HAIKU_35, overrides={"input_per_million": 1})
    with pytest.raises(ValueError, match=r"input_per_1k=-0\.1"):
        model_prices_for(HAIKU_35, overrides={"input_per_1k": -0.1})


def test_overrides_and_other_regions_say_so() -> None:
    eu = model_prices_for(HAIKU_35, "eu-west-1")
    assert eu.region == "eu-west-1"
    assert "no price data for eu-west-1" in eu.note
    custom = model_prices_for("acme.unknown-v1", overrides={"input_per_1k": 1, "output_per_1k": 2})
    assert custom.cost(input_tokens=1000, output_tokens=1000) == pytest.approx(3.0)
    assert "overridden: input_per_1k, output_per_1k" in custom.note


def test_every_row_is_dated_cited_and_flagged() -> None:
    for model, row in MODEL_PRICES.items():
        assert row.checked, model
        assert row.sources[0] == "https://aws.amazon.com/bedrock/pricing/", model
        assert "unverified" in row.note, model
        assert 0 < row.input_per_1k <= row.output_per_1k, model
        if row.cache_read_per_1k is not None:
            assert row.cache_read_per_1k < row.input_per_1k, model


def test_prices_file_carries_model_overrides(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "standard_per_transition": 0.00003,
                "models": {f"us.{HAIKU_35}": {"input_per_1k": 0.001}},
            }
        )
    )
    assert load_prices(path).standard_per_transition == 0.00003
    assert load_model_overrides(path) == {HAIKU_35: {"input_per_1k": 0.001}}
    regional = tmp_path / "regional.json"
    regional.write_text(json.dumps({"eu-west-1": {"models": {HAIKU_35: {"output_per_1k": 0.01}}}}))
    assert load_prices(regional).region == "eu-west-1"
    assert load_model_overrides(regional, "eu-west-1") == {HAIKU_35: {"output_per_1k": 0.01}}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"models": {HAIKU_35: 3}}))
    with pytest.raises(ValueError, match='"models" must map model ids'):
        load_model_overrides(bad)
