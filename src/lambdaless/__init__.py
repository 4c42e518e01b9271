"""lambdaless: Step Functions workflows that call Amazon Bedrock and HTTP APIs directly.

The public API is re-exported here and imported on first use, so that the jsii-free layers
(``lambdaless.analysis``, ``lambdaless.testing``, the ``lambdaless`` command) start without
loading aws-cdk-lib's 2-second, 0.5 GB runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdaless._errors import LambdalessError
    from lambdaless.models import BedrockModel, ModelFamily, ModelKind
    from lambdaless.monitoring import WorkflowMonitoring
    from lambdaless.prompts import Inference
    from lambdaless.redrive import Redrive
    from lambdaless.retry import RetryPolicy
    from lambdaless.steps.bedrock import Converse, InvokeBedrock
    from lambdaless.steps.http import CallHttpApi, HttpAuth
    from lambdaless.workflow import Workflow

#: public name -> defining module
_EXPORTS: dict[str, str] = {
    "BedrockModel": "lambdaless.models",
    "CallHttpApi": "lambdaless.steps.http",
    "Converse": "lambdaless.steps.bedrock",
    "HttpAuth": "lambdaless.steps.http",
    "Inference": "lambdaless.prompts",
    "InvokeBedrock": "lambdaless.steps.bedrock",
    "LambdalessError": "lambdaless._errors",
    "ModelFamily": "lambdaless.models",
    "ModelKind": "lambdaless.models",
    "Redrive": "lambdaless.redrive",
    "RetryPolicy": "lambdaless.retry",
    "Workflow": "lambdaless.workflow",
    "WorkflowMonitoring": "lambdaless.monitoring",
}

__all__ = [
    "BedrockModel",
    "CallHttpApi",
    "Converse",
    "HttpAuth",
    "Inference",
    "InvokeBedrock",
    "LambdalessError",
    "ModelFamily",
    "ModelKind",
    "Redrive",
    "RetryPolicy",
    "Workflow",
    "WorkflowMonitoring",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lambdaless' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
