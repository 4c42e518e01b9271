"""pytest plugin (entry point ``lambdaless``): the ``local_runner`` and ``asl_snapshot`` fixtures.

Loaded by every pytest run in an environment where cdk-lambdaless is installed, so it imports
nothing heavy: no jsii/aws_cdk, no moto, no syrupy: they load on first use. Loading it
silences jsii's Node end-of-life banner unless the user set the variable
(:func:`lambdaless._jsii_env.silence_node_banner`): pytest loads plugins before any test
starts aws-cdk-lib.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from lambdaless._jsii_env import silence_node_banner

if TYPE_CHECKING:
    from syrupy.assertion import SnapshotAssertion

    from lambdaless.testing.runner import LocalRunner

silence_node_banner()


@pytest.fixture
def local_runner() -> Callable[..., LocalRunner]:
    """A factory: ``local_runner(source, **options) -> LocalRunner`` for a CDK Stack, a
    Workflow, a template dict or file, a cdk.out folder, or an ASL definition dict."""

    def make(source: Any, **options: Any) -> LocalRunner:
        from lambdaless.testing.runner import LocalRunner

        return LocalRunner(source, **options)

    return make


@pytest.fixture
def asl_snapshot(request: pytest.FixtureRequest) -> SnapshotAssertion:
    """syrupy's ``snapshot``, writing each test's snapshot as one readable JSON file:
    ``__snapshots__/<test file>/<test name>.json`` beside the test. Compare it with
    :func:`lambdaless.testing.definitions`; ``pytest --snapshot-update`` writes the files.
    Needs syrupy (``pip install 'cdk-lambdaless[testing]'``)."""
    try:
        from syrupy.extensions.json import JSONSnapshotExtension
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise pytest.UsageError(
            "asl_snapshot needs syrupy: pip install 'cdk-lambdaless[testing]'"
        ) from error
    snapshot: SnapshotAssertion = request.getfixturevalue("snapshot")
    return snapshot.use_extension(JSONSnapshotExtension)
