"""pytest plugin (entry point ``lambdaless``): the ``local_runner`` fixture.

Loaded by every pytest run in an environment where cdk-lambdaless is installed, so it imports
nothing heavy: no jsii/aws_cdk, no moto. The runner and moto load on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lambdaless.testing.runner import LocalRunner


@pytest.fixture
def local_runner() -> Callable[..., LocalRunner]:
    """A factory: ``local_runner(source, **options) -> LocalRunner`` for a CDK Stack, a template
    dict or file, a cdk.out folder, or an ASL definition dict."""

    def make(source: Any, **options: Any) -> LocalRunner:
        from lambdaless.testing.runner import LocalRunner

        return LocalRunner(source, **options)

    return make
