"""Read synthesized ASL: walk states, time retries, lint (no CDK needed).

:func:`acknowledge` accepts a lint finding and :func:`bound` declares a loop or Map bound, both
on a ``Workflow`` (they write the state machine's template metadata).
"""

from lambdaless.analysis.annotations import acknowledge, bound

__all__ = ["acknowledge", "bound"]
