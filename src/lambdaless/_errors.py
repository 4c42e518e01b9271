"""How bad input is reported: an error naming the argument, its value and what is allowed.

Every error lambdaless raises for bad input is a :class:`LambdalessError` (a ``ValueError``);
a value of the wrong type raises :class:`LambdalessTypeError`, which is also a ``TypeError``.
Each carries ``argument``, ``value`` and, once a public constructor has seen it, the construct
``path`` of the construct being built (see :func:`at_path`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

_Init = TypeVar("_Init", bound=Callable[..., None])


class LambdalessError(ValueError):
    """Raised at synth time for input that AWS would reject or that cannot work.

    Attributes:
        argument: the refused argument's name, or ``None`` for an error about several.
        value: the refused value (``None`` when ``argument`` is ``None``).
        allowed: what would have been accepted, or ``None``.
        path: the construct path (``Stack/Workflow/Step``) of the construct being built, or
            ``None`` when the error was raised outside a construct.
    """

    def __init__(
        self,
        message: str,
        *,
        argument: str | None = None,
        value: Any = None,
        allowed: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument
        self.value = value
        self.allowed = allowed
        self.path = path

    def __str__(self) -> str:
        return self.message if self.path is None else f"{self.message} (at {self.path})"


class LambdalessTypeError(LambdalessError, TypeError):
    """A value of the wrong type: a ``TypeError`` as well as a :class:`LambdalessError`."""


def invalid(
    argument: str, value: Any, allowed: str, *, wrong_type: bool = False
) -> LambdalessError:
    """``argument=value`` is refused; ``allowed`` says what would be accepted.

    ``wrong_type`` (default ``False``) makes it a :class:`LambdalessTypeError`.
    """
    cls = LambdalessTypeError if wrong_type else LambdalessError
    return cls(
        f"{argument}={value!r} is not allowed: expected {allowed}",
        argument=argument,
        value=value,
        allowed=allowed,
    )


def require(condition: bool, argument: str, value: Any, allowed: str) -> None:
    """Raise :func:`invalid` unless ``condition`` holds."""
    if not condition:
        raise invalid(argument, value, allowed)


def require_type(value: Any, types: type | tuple[type, ...], argument: str, allowed: str) -> None:
    """Raise a :class:`LambdalessTypeError` unless ``value`` is an instance of ``types``
    (a ``bool`` is never taken for an ``int``)."""
    is_bool = isinstance(value, bool)
    wanted = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, types) or (is_bool and bool not in wanted and int in wanted):
        raise invalid(argument, value, allowed, wrong_type=True)


def at_path(init: _Init) -> _Init:
    """Decorate a construct's ``__init__(self, scope, id, ...)`` so that a
    :class:`LambdalessError` raised while it runs carries the path of the construct being
    built (``<scope path>/<id>``), unless an inner constructor already set one."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except LambdalessError as error:
            if error.path is None:
                scope = args[0] if args else kwargs.get("scope")
                id = args[1] if len(args) > 1 else kwargs.get("id")
                error.path = _path_of(scope, id)
            raise

    return wrapper  # type: ignore[return-value]


def _path_of(scope: Any, id: Any) -> str | None:
    """``<scope path>/<id>``, or what of it is known when the scope is not a construct."""
    node = getattr(scope, "node", None)
    parent = getattr(node, "path", None) if node is not None else None
    if not isinstance(id, str):
        return parent if isinstance(parent, str) and parent else None
    return f"{parent}/{id}" if isinstance(parent, str) and parent else id
