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


def whole_seconds(argument: str, value: Any, maximum: int, *, where: str = "") -> int:
    """An ``aws_cdk.Duration`` of whole seconds from 1 to ``maximum``, as an int.

    ``Duration.to_seconds()`` raises a jsii error on fractions, so the check reads the exact
    value first (``integral=False``) and names the argument instead.
    """
    to_seconds = getattr(value, "to_seconds", None)
    require(callable(to_seconds), argument, value, "an aws_cdk.Duration")
    assert to_seconds is not None
    seconds = float(to_seconds(integral=False))
    require(
        seconds == int(seconds) and 1 <= seconds <= maximum,
        argument,
        f"{seconds:g} s",
        f"a whole number of seconds from 1 to {maximum}{where}",
    )
    return int(seconds)
