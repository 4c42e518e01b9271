"""One documented AWS constraint that lambdaless checks before deploying."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdaless._errors import LambdalessError, invalid

WHERE = ("construct", "synth")


@dataclass(frozen=True)
class Rule:
    """A rule of the catalogue.

    Attributes:
        id: a stable kebab-case name (``model-id-characters``), printed in every error it raises.
        summary: one line saying what is refused.
        doc: the AWS page the rule enforces: a URL, or the guide and page slug.
        where: ``"construct"`` when the argument alone decides (the constructor raises), or
            ``"synth"`` when the graph decides (``Workflow`` or the validation plugin).
    """

    id: str
    summary: str
    doc: str
    where: str

    def __post_init__(self) -> None:
        if self.where not in WHERE:
            raise ValueError(f"where={self.where!r}: expected one of {WHERE}")

    def refuse(
        self, argument: str, value: Any, allowed: str, *, wrong_type: bool = False
    ) -> LambdalessError:
        """The error for ``argument=value``, naming what is allowed, this rule and its page
        (a :class:`~lambdaless._errors.LambdalessTypeError` with ``wrong_type``, default
        ``False``)."""
        return invalid(
            argument, value, f"{allowed} [rule {self.id}; AWS: {self.doc}]", wrong_type=wrong_type
        )

    def require(self, condition: bool, argument: str, value: Any, allowed: str) -> None:
        """Raise :meth:`refuse` unless ``condition`` holds."""
        if not condition:
            raise self.refuse(argument, value, allowed)
