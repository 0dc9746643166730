"""Bad inputs on the command line: one clear line naming the input, exit code 2, no traceback.

These fail while reading, before any model loads, so they are fast.
"""

import pytest
from typer.testing import CliRunner

from byline.interfaces.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("empty.txt", b"", "the input is empty"),
        ("blank.txt", b"  \n\n \t ", "contains only whitespace"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary file (PNG image)"),
        ("nul.txt", b"abc\x00def\x00" * 50, "binary file"),
        (
            "latin1.txt",
            "Caf\xe9 prices rose sharply this year.".encode("latin-1"),
            "cannot decode the bytes as utf-8",
        ),
    ],
)
def test_bad_file_gives_one_clear_line(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert f"byline: error: {path}: " in result.output
    assert problem in result.output
    assert "Traceback" not in result.output


def test_missing_file(tmp_path):
    result = runner.invoke(app, ["check", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert "missing.txt: no such file" in result.output


def test_empty_stdin():
    result = runner.invoke(app, ["check", "-"], input="")
    assert result.exit_code == 2
    assert "<stdin>: the input is empty" in result.output


def test_out_of_range_fpr_is_refused(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("words " * 60)
    result = runner.invoke(app, ["check", str(path), "--fpr", "2"])
    assert result.exit_code == 2
    assert "--fpr" in result.output


def test_train_rejects_malformed_jsonl(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text('{"text": "a", "label": "human"}\n{not json}\n')
    result = runner.invoke(app, ["train", str(data), "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "line 2: not valid JSON" in result.output


def test_every_unreadable_input_is_named_before_any_model_loads(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["check", str(tmp_path / "missing.txt"), str(empty)])
    assert result.exit_code == 2
    assert "missing.txt: no such file" in result.output and "empty.txt: the input is empty" in result.output


def test_scan_warns_at_once_that_bfloat16_is_emulated_on_this_cpu(tmp_path, monkeypatch):
    """The warning comes before any input is read or model loaded (here the folder is missing)."""
    from byline.scoring import devices

    monkeypatch.setattr(devices, "cpu_bfloat16_instructions", lambda: None)
    result = runner.invoke(
        app,
        [
            "scan",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "out.jsonl"),
            "--precision",
            "bfloat16",
            "--device",
            "cpu",
        ],
    )
    assert "byline: warning: bfloat16 is emulated on this CPU" in result.output
    assert result.exit_code == 2 and "missing" in result.output
    monkeypatch.setattr(devices, "cpu_bfloat16_instructions", lambda: "amx")
    result = runner.invoke(
        app,
        [
            "scan",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "out.jsonl"),
            "--precision",
            "bfloat16",
            "--device",
            "cpu",
        ],
    )
    assert "warning" not in result.output and result.exit_code == 2


def test_only_byline_warnings_are_shown_each_once(capsys):
    import warnings

    from byline.errors import BylineWarning
    from byline.interfaces.console import show_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for message in ("slow here", "slow here", "probabilities are not calibrated"):
            warnings.warn(message, BylineWarning)
        warnings.warn("a library's own notice", UserWarning)
    show_warnings(caught)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["byline: warning: slow here", "byline: warning: probabilities are not calibrated"]


def test_check_refuses_a_fifo_and_a_device_at_once(tmp_path):
    """Before: `byline check FIFO` waited forever for a writer, and /dev/zero was read until memory ran out."""
    import os
    import subprocess
    import sys

    from conftest import limited_memory

    fifo = tmp_path / "story.txt"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.txt"
    zero.symlink_to("/dev/zero")
    for path, kind in (
        (fifo, "a named pipe (FIFO)"),
        ("/dev/zero", "a character device"),
        (zero, "a character device"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "byline", "check", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limited_memory(3072),
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"byline: error: {path}: is {kind}, not a regular file\n"


def test_train_names_a_fifo_for_what_it_is(tmp_path):
    import os

    os.mkfifo(tmp_path / "data.jsonl")
    result = runner.invoke(app, ["train", str(tmp_path / "data.jsonl"), "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "data.jsonl: is a named pipe (FIFO), not a regular file" in result.output


# "markup[/]and[bold]x.txt" is a folder "markup[" and a file "]and[bold]x.txt" in it
@pytest.mark.parametrize(
    "name", ["red\x1b[31m.txt", "two\nlines.txt", "markup[/]and[bold]x.txt", "rtl\u202etxt.exe.txt"]
)
def test_error_lines_escape_control_characters_and_markup_in_names(tmp_path, name):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    shown = name.replace("\x1b", "\\x1b").replace("\n", "\\n").replace("\u202e", "\\u202e")
    assert result.output == f"byline: error: {tmp_path}/{shown}: the input is empty (0 bytes)\n"


def test_printable_escapes_only_what_could_drive_a_terminal():
    from byline.wording import printable

    assert printable("caf\xe9 \u65b0\u805e/story.txt") == "caf\xe9 \u65b0\u805e/story.txt"
    assert (
        printable("a\x1b[2Jb\x07\x9b\x7f\u2028\u2066\udcff")
        == "a\\x1b[2Jb\\x07\\x9b\\x7f\\u2028\\u2066\\udcff"
    )


def test_the_report_shows_a_source_name_as_text_with_controls_escaped():
    # a name with rich markup and an ESC: shown as written, never read as markup or sent raw
    import dataclasses
    import io

    from rich.console import Console

    from byline.interfaces.report import render
    from tests.server_support import FakeDetector

    result = FakeDetector().detect_many(["The council met on Tuesday to discuss the budget. " * 12])[0]
    result = dataclasses.replace(result, source="odd [/] name\x1b[31m.txt")
    out = io.StringIO()
    render(result, Console(file=out, width=200, color_system=None))
    assert "odd [/] name\\x1b[31m.txt" in out.getvalue()
    assert "\x1b" not in out.getvalue()
