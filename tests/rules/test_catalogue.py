"""The catalogue itself: unique ids, a cited AWS page and a test for every rule, and the
README's list of rules."""

from __future__ import annotations

import re

import pytest
from tests.rules._support import TESTS, rule_ids_in_tests

from lambdaless.rules import BY_ID, CATALOGUE, Rule

README = TESTS.parent / "README.md"
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
# A URL on docs.aws.amazon.com, or a guide/reference name with the page slug in quotes.
_DOC = re.compile(r"^https://docs\.aws\.amazon\.com/\S+$|(Guide|guide|Reference|reference).*\"")


def test_ids_are_unique_and_kebab_case() -> None:
    ids = [rule.id for rule in CATALOGUE]
    assert len(ids) == len(set(ids)) == len(BY_ID)
    assert [i for i in ids if not _ID.match(i)] == []


@pytest.mark.parametrize("rule", CATALOGUE, ids=lambda rule: rule.id)
def test_rule_cites_an_aws_page_and_says_where_it_runs(rule: Rule) -> None:
    assert _DOC.search(rule.doc), rule.doc
    assert rule.summary.strip()
    assert rule.where in ("construct", "synth")


def test_every_rule_has_a_test() -> None:
    tested = rule_ids_in_tests(exclude=("test_catalogue.py",))
    assert sorted(BY_ID.keys() - tested) == []


def test_readme_lists_every_rule_and_how_to_acknowledge() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- rules:start -->"), text.index("<!-- rules:end -->")
    listed = re.findall(r"^- `([a-z0-9-]+)`", text[start:end], re.MULTILINE)
    assert sorted(listed) == sorted(BY_ID), "README's rule list differs from CATALOGUE"
    section = text[text.rindex("\n## ", 0, start) : end]
    assert "acknowledge(" in section


def test_rule_refuses_with_its_id_and_page() -> None:
    rule = Rule("example-rule", "an example", "https://docs.aws.amazon.com/x.html", "construct")
    message = str(rule.refuse("arg", "v", "something else"))
    assert message == (
        "arg='v' is not allowed: expected something else "
        "[rule example-rule; AWS: https://docs.aws.amazon.com/x.html]"
    )
    with pytest.raises(ValueError, match="where='later'"):
        Rule("x-y", "s", "d", "later")
