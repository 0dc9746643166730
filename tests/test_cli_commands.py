"""Every ``byline`` command is registered and answers ``--help`` when the CLI module is run
directly, and a command whose extra is not installed says which one to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from byline import extras
from byline.interfaces.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix] if prefix else []
    for name, sub in getattr(command, "commands", {}).items():  # a group's subcommands
        paths += _command_paths(sub, (*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


def test_every_command_of_the_issue_is_registered() -> None:
    names = {path[0] for path in COMMANDS}
    assert {"check", "train", "eval", "serve", "scan", "index", "trace", "models"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_works_when_the_cli_module_is_run_directly(command: tuple[str, ...]) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "byline.interfaces.cli", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("arguments", "extra"),
    [
        (["serve"], "serve"),
        (["index", "sources", "--out", "index"], "trace"),
        (["trace", "article.txt", "--index", "index"], "trace"),
        (["scan", "in", "--out", "out.jsonl", "--engine", "ray"], "cluster"),
        (["scan", "in", "--out", "out.parquet"], "parquet"),
    ],
)
def test_a_command_without_its_extra_names_the_install(monkeypatch, arguments: list[str], extra: str) -> None:
    _, modules = extras.EXTRAS[extra]
    monkeypatch.setattr(extras, "_installed", lambda module: module not in modules)
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    assert f"pip install 'byline[{extra}]'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_extras_name_modules_that_exist_here() -> None:
    # the test environment installs every extra: a misspelt module name would always report it missing
    assert all(extras.missing_extra(extra) is None for extra in extras.EXTRAS)
