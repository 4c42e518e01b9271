"""A value JSON cannot carry (NaN, Infinity, Decimal, a set, bytes) in a step's arguments is an
error naming where it sits, never a dead jsii kernel."""

from __future__ import annotations

import decimal
from typing import Any

import aws_cdk as cdk
import pytest

from lambdaless._errors import LambdalessError
from lambdaless.steps.http import CallHttpApi, HttpAuth

AUTH = {
    "connection_arn": "arn:aws:events:us-east-1:111122223333:connection/api/abcd",
    "secret_arn": (
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:events!connection/api/abcd-AbCdEf"
    ),
}


@pytest.mark.parametrize(
    "value", [decimal.Decimal("0.5"), float("nan"), float("inf"), {1, 2}, b"raw", 1j]
)
def test_a_body_json_cannot_carry_is_refused_by_its_place(us_stack: cdk.Stack, value: Any) -> None:
    with pytest.raises(
        LambdalessError, match=r"Arguments\.RequestBody\.scores\[1\]=.*a JSON value"
    ):
        CallHttpApi(
            us_stack,
            "Post",
            base_url="https://api.example.com",
            auth=HttpAuth.imported(**AUTH),
            method="POST",
            body={"scores": [1, value]},
        )


def test_json_bodies_still_pass(us_stack: cdk.Stack) -> None:
    CallHttpApi(
        us_stack,
        "Post",
        base_url="https://api.example.com",
        auth=HttpAuth.imported(**AUTH),
        method="POST",
        body={"scores": [1, 2.5, None, True, "x", {"n": -1}]},
    )
