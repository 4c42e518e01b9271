"""The JSON Schema of a structured answer, from a dict or from a Python type.

A step's ``output_schema`` is a JSON Schema dict, or a type that has one: a class with a
``model_json_schema()`` classmethod (pydantic v2 models, or any class offering it), a dataclass,
or a ``TypedDict``. Dataclasses and TypedDicts are read from their type hints: ``str``, ``int``,
``float``, ``bool``, ``None``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]``, ``Literal``,
``Enum`` subclasses, unions (``X | None``), ``Any`` and nested dataclasses/TypedDicts. A field
with a default (dataclass) or outside ``__required_keys__`` (TypedDict) is optional.

The schema is then checked by :func:`lambdaless.rules.structured.check_output_schema`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from lambdaless._errors import invalid
from lambdaless.rules.structured import check_output_schema

__all__ = ["OutputSchemaLike", "json_schema_of"]

#: What ``output_schema=`` accepts: a JSON Schema dict, or a type that has one.
OutputSchemaLike = Mapping[str, Any] | type

_SCALARS: Mapping[Any, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def json_schema_of(argument: str, value: Any) -> dict[str, Any]:
    """The checked JSON Schema of ``value`` (a dict, or a type with a schema)."""
    if isinstance(value, Mapping):
        schema = dict(value)
    elif isinstance(value, type) and callable(getattr(value, "model_json_schema", None)):
        schema = getattr(value, "model_json_schema")()  # noqa: B009 (typed as a plain type)
        if not isinstance(schema, Mapping):
            raise invalid(
                argument, value, "a class whose model_json_schema() returns a JSON Schema dict"
            )
        schema = dict(schema)
    elif isinstance(value, type) and (dataclasses.is_dataclass(value) or _is_typed_dict(value)):
        schema = _object_schema(argument, value, ())
    else:
        raise invalid(
            argument,
            value,
            "a JSON Schema dict, a dataclass, a TypedDict, or a class with a "
            "model_json_schema() classmethod (e.g. a pydantic model)",
            wrong_type=True,
        )
    check_output_schema(argument, schema)
    return schema


def _is_typed_dict(value: type) -> bool:
    return typing.is_typeddict(value)


def _object_schema(argument: str, cls: type, seen: tuple[type, ...]) -> dict[str, Any]:
    if cls in seen:
        raise invalid(
            argument,
            cls,
            "a type that does not contain itself (recursive types have no finite schema here; "
            "pass a JSON Schema dict with $defs/$ref instead)",
        )
    hints = typing.get_type_hints(cls)
    if dataclasses.is_dataclass(cls):
        fields = [f for f in dataclasses.fields(cls) if f.init]
        names = [f.name for f in fields]
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
    else:
        names = list(hints)
        keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset(names))
        required = [n for n in names if n in keys]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: _type_schema(f"{argument}.{name}", hints[name], (*seen, cls)) for name in names
        },
        "required": required,
        "additionalProperties": False,
    }
    doc = (cls.__doc__ or "").strip()
    if doc and not doc.startswith(f"{cls.__name__}("):  # not the dataclass's generated one
        schema["description"] = doc
    return schema


def _type_schema(argument: str, hint: Any, seen: tuple[type, ...]) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return {}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"enum": [member.value for member in hint]}
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or _is_typed_dict(hint)):
        return _object_schema(argument, hint, seen)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type_schema(argument, a, seen) for a in args]}
    if origin in (list, Sequence) and len(args) == 1:
        return {"type": "array", "items": _type_schema(argument, args[0], seen)}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _type_schema(argument, args[0], seen)}
    if origin in (dict, Mapping) and len(args) == 2 and args[0] is str:
        return {"type": "object", "additionalProperties": _type_schema(argument, args[1], seen)}
    raise invalid(
        argument,
        hint,
        "str, int, float, bool, None, list[X], tuple[X, ...], dict[str, X], Literal, an Enum, "
        "a union, Any, or a nested dataclass/TypedDict (or pass a JSON Schema dict)",
    )
