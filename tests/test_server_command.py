"""`byline serve` on the command line: registered, and refusing bad options before starting."""

from __future__ import annotations

from typer.testing import CliRunner

from byline.interfaces.cli import app

runner = CliRunner()


def test_serve_is_a_byline_command():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--detector", "--allow-fetch", "--queue-size"):
        assert option in result.output


def test_serve_refuses_a_missing_detector_before_starting(tmp_path):
    result = runner.invoke(app, ["serve", "--detector", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "--detector" in result.output and "nowhere" in result.output


def test_serve_refuses_a_queue_smaller_than_a_batch():
    result = runner.invoke(app, ["serve", "--queue-size", "8"])
    assert result.exit_code == 2
