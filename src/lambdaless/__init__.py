"""lambdaless: Step Functions workflows that call Amazon Bedrock and HTTP APIs directly."""

from lambdaless._errors import LambdalessError
from lambdaless.models import BedrockModel, ModelFamily, ModelKind
from lambdaless.prompts import Inference
from lambdaless.retry import RetryPolicy
from lambdaless.steps.bedrock import Converse, InvokeBedrock
from lambdaless.workflow import Workflow

__all__ = [
    "BedrockModel",
    "Converse",
    "Inference",
    "InvokeBedrock",
    "LambdalessError",
    "ModelFamily",
    "ModelKind",
    "RetryPolicy",
    "Workflow",
]
