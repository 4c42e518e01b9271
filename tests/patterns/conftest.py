"""Helpers for the pattern tests: the state machine role's own statements, and moto's DynamoDB
holding a ``ModelCapacity``'s item."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from lambdaless.synthesized import LOCAL_PSEUDO_PARAMETERS
from lambdaless.testing import LocalRunner

Statements = Callable[[cdk.Stack], list[dict[str, Any]]]


@pytest.fixture
def sm_statements() -> Statements:
    """The statements of the state machine role's default policy, without the logs and X-Ray
    ones every Workflow has."""

    def statements(stack: cdk.Stack) -> list[dict[str, Any]]:
        policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
        found = [
            s
            for name, policy in policies.items()
            if "StateMachineRoleDefaultPolicy" in name
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        return [s for s in found if not any(a in str(s["Action"]) for a in ("logs:", "xray:"))]

    return statements


# -- a ModelCapacity's table in moto's DynamoDB --------------------------------------------------


class Store:
    """moto's DynamoDB, with each conditional update applied atomically as DynamoDB does (moto's
    backend takes no lock, so threads could interleave a condition check and its update), and
    ``used`` recorded after every successful write."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.used: list[int] = []
        #: refused conditional updates so far (a full capacity, or a release given already)
        self.refused = 0
        #: called with ``refused`` after each refusal: a test scripts another caller with it
        self.on_refused: Callable[[int], None] | None = None


@pytest.fixture
def dynamodb() -> Iterator[Store]:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()  # a refusal's script may update the item itself
    update_item = DynamoDBBackend.update_item
    store = Store(None)

    def atomic_update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            try:
                item = update_item(self, *args, **kwargs)
            except ConditionalCheckFailed:
                store.refused += 1
                if store.on_refused is not None:
                    store.on_refused(store.refused)
                raise
            used = item.attrs.get("used")
            if used is not None:
                store.used.append(int(used.value))
            return item

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoDBBackend, "update_item", atomic_update_item)
        store.client = boto3.client("dynamodb", region_name=LOCAL_PSEUDO_PARAMETERS["AWS::Region"])
        yield store


def capacity_table(runner: LocalRunner, dynamodb: Store) -> str:
    """Create the capacity table the synthesized ASL names."""
    reclaim = runner.state_machine("Reclaim")
    name = reclaim.definition["States"]["ReadHolders"]["Arguments"]["TableName"]
    dynamodb.client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return str(name)


def capacity_item(dynamodb: Store, table: str) -> dict[str, Any]:
    item = dynamodb.client.get_item(
        TableName=table, Key={"pk": {"S": "capacity"}}, ConsistentRead=True
    )
    return dict(item.get("Item", {}))


def holders(item: dict[str, Any]) -> list[str]:
    return [name for name in item if name.startswith("h#")]
