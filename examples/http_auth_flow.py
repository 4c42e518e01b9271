"""An API session flow with no Lambda: authenticate, keep the session token, use it.

The partner API wants an API key on every call and a session token on data calls. The API key
lives in Secrets Manager and reaches the API only through an EventBridge connection (the
template holds a ``{{resolve:secretsmanager:...}}`` reference, never the key). The workflow:

1. ``Authenticate``: POST ``/v1/sessions``; the token in the answer goes into ``$session``.
2. ``StoreSession``: the direct DynamoDB ``putItem`` integration keeps the token (with an
   expiry for the table's TTL) for other workflows.
3. ``GetProfile``: GET ``/v1/me`` with the token in ``X-Session-Token``.

A 401 from either call ends in ``AuthRejected``; 408/429/502/503/504 are retried first.

Before deploying, create the secret the connection reads::

    aws secretsmanager create-secret --name lambdaless/examples/partner-api-key \
        --secret-string '<the API key>'

Input: ``{"clientId": "..."}``. Output: ``{"statusCode", "headers", "body"}`` of the profile call.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from lambdaless import CallHttpApi, HttpAuth, Workflow

API_KEY_SECRET_NAME = "lambdaless/examples/partner-api-key"
API = "https://api.partner.example.com"


class HttpAuthFlowStack(cdk.Stack):
    """Authenticate against an API, store the session token in DynamoDB, then use it."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        sessions = dynamodb.TableV2(
            self,
            "Sessions",
            partition_key=dynamodb.Attribute(name="clientId", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiresAt",
        )
        rejected = sfn.Fail(
            self,
            "AuthRejected",
            error="{% $states.input.error %}",
            cause="{% $string($states.input.body) %}",
        )
        authenticate = CallHttpApi(
            self,
            "Authenticate",
            base_url=API,
            method="POST",
            path="/v1/sessions",
            body={"clientId": "{% $states.input.clientId %}"},
            auth=HttpAuth.api_key(
                header_name="x-api-key",
                value=cdk.SecretValue.secrets_manager(API_KEY_SECRET_NAME),
            ),
            on_status={401: rejected},
            assign_result_to="session",
            comment="The API key comes from the connection; the answer holds the session token",
        )
        store = tasks.DynamoPutItem.jsonata(
            self,
            "StoreSession",
            table=sessions,
            item={
                "clientId": tasks.DynamoAttributeValue.from_string(
                    "{% $states.context.Execution.Input.clientId %}"
                ),
                "token": tasks.DynamoAttributeValue.from_string("{% $session.body.token %}"),
                "expiresAt": tasks.DynamoAttributeValue.number_from_string(
                    "{% $string($floor($toMillis($now()) / 1000) + 3600) %}"
                ),
            },
            outputs="{% $states.input %}",
        )
        profile = CallHttpApi(
            self,
            "GetProfile",
            base_url=API,
            path="/v1/me",
            headers={"X-Session-Token": "{% $session.body.token %}"},
            auth=HttpAuth.connection(authenticate.connection),
            on_status={401: rejected},
            comment="Same connection, plus the session token",
        )
        self.workflow = Workflow(
            self, "SessionFlow", definition=authenticate.next(store).next(profile)
        )
