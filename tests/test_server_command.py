"""`byline serve` on the command line: registered, and refusing bad options before starting."""

from __future__ import annotations

from typer.testing import CliRunner

from byline.interfaces.cli import app

runner = CliRunner()


def test_serve_is_a_byline_command():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--workers",
        "--detector",
        "--allow-fetch",
        "--queue-size",
        "--max-text-bytes",
        "--body-timeout",
    ):
        assert option in result.output


def test_serve_refuses_a_missing_detector_before_starting(tmp_path):
    result = runner.invoke(app, ["serve", "--detector", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "--detector" in result.output and "nowhere" in result.output


def test_serve_refuses_a_queue_smaller_than_a_batch():
    result = runner.invoke(app, ["serve", "--queue-size", "8"])
    assert result.exit_code == 2


def test_serve_refuses_a_port_in_use_before_loading_models():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"127.0.0.1:{port}: the port is in use" in " ".join(result.output.split())
    result = runner.invoke(app, ["serve", "--host", "no-such-host.invalid"])
    assert result.exit_code == 2 and "--host no-such-host.invalid: unknown host" in " ".join(
        result.output.split()
    )
