"""How bad input is reported: an error naming the argument, its value and what is allowed."""

from __future__ import annotations

from typing import Any


class LambdalessError(ValueError):
    """Raised at synth time for input that AWS would reject or that cannot work."""


def invalid(argument: str, value: Any, allowed: str) -> LambdalessError:
    """``argument=value`` is refused; ``allowed`` says what would be accepted."""
    return LambdalessError(f"{argument}={value!r} is not allowed: expected {allowed}")


def require(condition: bool, argument: str, value: Any, allowed: str) -> None:
    """Raise :func:`invalid` unless ``condition`` holds."""
    if not condition:
        raise invalid(argument, value, allowed)
