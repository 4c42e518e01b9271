"""Test your own workflows: their ASL, their IAM, and runs offline.

>>> from lambdaless.testing import definitions, iam_statements
>>> definitions(stack)          # resolved ASL by workflow name, stable across runs (snapshots)
>>> iam_statements(workflow)    # the statements of the workflow's role, resolved

Run synthesized state machines offline, in-process, on moto's Step Functions interpreter:

>>> from lambdaless.testing import LocalRunner, mocks
>>> result = LocalRunner(stack).run(input={"topic": "tides"},
...     responses={"Summarize": mocks.bedrock_text("anthropic", "Tides follow the moon.")})
>>> result.status, result.output

moto is imported on the first ``run``, not by importing this package.
"""

from lambdaless.testing import mocks
from lambdaless.testing.assertions import definition, definitions, iam_statements
from lambdaless.testing.mock_config import MockConfig, MockConfigError
from lambdaless.testing.mocks import MockedResponse, Return, Throw
from lambdaless.testing.runner import (
    LocalRunner,
    MissingMockError,
    MockShapeError,
    RunResult,
    TaskCall,
    TaskTokenAnswer,
    TaskTokenRequest,
)
from lambdaless.testing.s3_seeds import S3Contents, S3SeedError, S3Seeds

__all__ = [
    "LocalRunner",
    "MissingMockError",
    "MockConfig",
    "MockConfigError",
    "MockShapeError",
    "MockedResponse",
    "Return",
    "RunResult",
    "S3Contents",
    "S3SeedError",
    "S3Seeds",
    "TaskCall",
    "TaskTokenAnswer",
    "TaskTokenRequest",
    "Throw",
    "definition",
    "definitions",
    "iam_statements",
    "mocks",
]
