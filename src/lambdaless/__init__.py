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
    from lambdaless.deployment import Deployment
    from lambdaless.managed_prompts import BedrockPrompt
    from lambdaless.models import BedrockModel, ModelFamily, ModelKind
    from lambdaless.monitoring import WorkflowMonitoring
    from lambdaless.patterns._common import S3Path
    from lambdaless.patterns.approval import ApprovalChannel, HumanApproval
    from lambdaless.patterns.batch import BatchInference
    from lambdaless.patterns.capacity import CapacityGuard, ModelCapacity
    from lambdaless.patterns.customization import ModelCustomization
    from lambdaless.patterns.fan_out import FanOut, S3Items
    from lambdaless.patterns.knowledge_base import KnowledgeBaseSync
    from lambdaless.patterns.prompt_chain import ChainPrompt, PromptChain
    from lambdaless.prompts import Inference
    from lambdaless.quotas import ModelQuota, QuotaKind
    from lambdaless.redrive import Redrive
    from lambdaless.retry import RetryPolicy
    from lambdaless.steps.bedrock import Converse, InvokeBedrock
    from lambdaless.steps.http import CallHttpApi, HttpAuth
    from lambdaless.workflow import Workflow

#: public name -> defining module
_EXPORTS: dict[str, str] = {
    "ApprovalChannel": "lambdaless.patterns.approval",
    "BatchInference": "lambdaless.patterns.batch",
    "BedrockModel": "lambdaless.models",
    "BedrockPrompt": "lambdaless.managed_prompts",
    "CallHttpApi": "lambdaless.steps.http",
    "CapacityGuard": "lambdaless.patterns.capacity",
    "ChainPrompt": "lambdaless.patterns.prompt_chain",
    "Converse": "lambdaless.steps.bedrock",
    "Deployment": "lambdaless.deployment",
    "FanOut": "lambdaless.patterns.fan_out",
    "HttpAuth": "lambdaless.steps.http",
    "HumanApproval": "lambdaless.patterns.approval",
    "Inference": "lambdaless.prompts",
    "InvokeBedrock": "lambdaless.steps.bedrock",
    "KnowledgeBaseSync": "lambdaless.patterns.knowledge_base",
    "LambdalessError": "lambdaless._errors",
    "ModelCustomization": "lambdaless.patterns.customization",
    "ModelFamily": "lambdaless.models",
    "ModelCapacity": "lambdaless.patterns.capacity",
    "ModelKind": "lambdaless.models",
    "ModelQuota": "lambdaless.quotas",
    "PromptChain": "lambdaless.patterns.prompt_chain",
    "QuotaKind": "lambdaless.quotas",
    "Redrive": "lambdaless.redrive",
    "RetryPolicy": "lambdaless.retry",
    "S3Items": "lambdaless.patterns.fan_out",
    "S3Path": "lambdaless.patterns._common",
    "Workflow": "lambdaless.workflow",
    "WorkflowMonitoring": "lambdaless.monitoring",
}

__all__ = [
    "ApprovalChannel",
    "BatchInference",
    "BedrockModel",
    "BedrockPrompt",
    "CallHttpApi",
    "CapacityGuard",
    "ChainPrompt",
    "Converse",
    "Deployment",
    "FanOut",
    "HttpAuth",
    "HumanApproval",
    "Inference",
    "InvokeBedrock",
    "KnowledgeBaseSync",
    "LambdalessError",
    "ModelCapacity",
    "ModelCustomization",
    "ModelFamily",
    "ModelKind",
    "ModelQuota",
    "PromptChain",
    "QuotaKind",
    "Redrive",
    "RetryPolicy",
    "S3Items",
    "S3Path",
    "Workflow",
    "WorkflowMonitoring",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lambdaless' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
