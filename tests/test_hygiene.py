"""Repository hygiene users and contributors see: the jsii Node banner, benchmark runs that
leave the clone clean."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from lambdaless._jsii_env import NODE_BANNER_VARIABLE, silence_node_banner
from lambdaless.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_node_banner_is_silenced_when_the_user_has_not_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(NODE_BANNER_VARIABLE, raising=False)
    silence_node_banner()
    assert "20" in os.environ[NODE_BANNER_VARIABLE].split(",")


def test_the_users_banner_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NODE_BANNER_VARIABLE, "22")
    silence_node_banner()
    assert os.environ[NODE_BANNER_VARIABLE] == "22"


def test_the_cli_and_the_pytest_plugin_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NODE_BANNER_VARIABLE, raising=False)
    with pytest.raises(SystemExit):
        main(["--help"])
    assert os.environ[NODE_BANNER_VARIABLE] == "20"
    monkeypatch.delenv(NODE_BANNER_VARIABLE)
    importlib.reload(importlib.import_module("lambdaless.testing.pytest_plugin"))
    assert os.environ[NODE_BANNER_VARIABLE] == "20"


@pytest.mark.parametrize("asked", [False, True])
def test_benchmarks_save_results_only_with_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], asked: bool
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    results = importlib.import_module("_results")
    monkeypatch.setattr(results, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(sys, "argv", ["bench.py", *(["--write"] if asked else [])])
    path = results.write("demo", {"ratio": 1.0}, ["ratio 1.00x"])
    assert "ratio 1.00x" in capsys.readouterr().out
    written = sorted(p.name for p in (tmp_path / "results").glob("*")) if asked else []
    assert written == (["demo.json", "demo.md"] if asked else [])
    assert (path is not None) == asked
    assert (tmp_path / "results").exists() == asked
