"""Environment the jsii runtime (aws-cdk-lib's Node process) reads when it starts.

jsii prints a multi-line banner on stderr at every start under a Node.js release whose jsii
support is ending (Node 20 today), unless ``JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION``
lists that major version (comma-separated). The pytest plugin and the ``lambdaless`` command
set it for Node 20 when the user has not set it, before anything starts jsii; a CDK app sets it
itself (see README, "Install").
"""

from __future__ import annotations

import os

NODE_BANNER_VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
#: Node.js majors whose end-of-support banner lambdaless silences when the user has not chosen.
NODE_BANNER_MAJORS = "20"


def silence_node_banner() -> None:
    """Set :data:`NODE_BANNER_VARIABLE` unless the user already has (their value wins)."""
    os.environ.setdefault(NODE_BANNER_VARIABLE, NODE_BANNER_MAJORS)
