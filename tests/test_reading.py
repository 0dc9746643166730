import io
import os
import subprocess
import sys

import pytest

from byline.errors import InputError
from byline.input import article_from_html, article_from_text, read_article
from byline.input.reading import MAX_ARTICLE_BYTES, read_file_bounded

ARTICLE = (
    "The city council approved the new transport budget on Tuesday after a debate that lasted "
    "more than four hours. Councillors said the plan would add two bus routes next spring."
)


def test_plain_text_file(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    article = read_article(path)
    assert article.text == ARTICLE
    assert article.source == str(path)


def test_html_file_keeps_title_and_drops_boilerplate(tmp_path):
    html = (
        "<html><head><title>Council backs budget</title></head><body>"
        "<nav>Home | World | Sport</nav><article><h1>Council backs budget</h1>"
        f"<p>{ARTICLE}</p><p>Opposition members voted against the proposal, saying it came too late.</p>"
        "</article><footer>Copyright 2024 Example News</footer></body></html>"
    )
    path = tmp_path / "story.html"
    path.write_text(html, encoding="utf-8")
    article = read_article(path)
    assert article.title == "Council backs budget"
    assert article.text.startswith("The city council approved")
    assert "Opposition members" in article.text
    assert "Copyright" not in article.text and "Home | World" not in article.text


def test_utf8_bom_and_utf16_are_decoded(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbf" + ARTICLE.encode())
    (tmp_path / "b.txt").write_bytes(ARTICLE.encode("utf-16"))
    assert read_article(tmp_path / "a.txt").text == ARTICLE
    assert read_article(tmp_path / "b.txt").text == ARTICLE


def test_explicit_encoding(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 owners said prices rose.".encode("cp1252"))
    with pytest.raises(
        InputError, match=r"latin.txt: cannot decode the bytes as utf-8: byte 0xe9 at offset 3"
    ):
        read_article(path)
    assert read_article(path, encoding="cp1252").text == "Café owners said prices rose."


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the input is empty"),
        (b"   \n\t  \n", "contains only whitespace"),
        (b"\x00\x01\x02binary\x00data" * 10, "binary file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 stream", r"binary file \(PDF document\)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", r"binary file \(PNG image\)"),
        (b"ok text then \xff\xfe\xfa bad bytes", "cannot decode the bytes as utf-8"),
        (b"\u200b\u200b".decode("unicode_escape").encode(), "invisible"),
    ],
)
def test_bad_files_name_the_input_and_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_article(path)
    assert str(caught.value).startswith(str(path) + ": ")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match=r"nope.txt: no such file"):
        read_article(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_article(tmp_path)


def test_too_large_file(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"word " * (MAX_ARTICLE_BYTES // 5 + 1))
    with pytest.raises(InputError, match="too large"):
        read_article(path)


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ARTICLE.encode())))
    article = read_article("-")
    assert article.source == "<stdin>" and article.text == ARTICLE


def test_text_and_html_strings():
    with pytest.raises(InputError, match=r"<text>: the text is empty"):
        article_from_text("")
    with pytest.raises(InputError, match="expected text"):
        article_from_text(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no article text could be extracted"):
        article_from_html("<html><body><script>var x = 1;</script></body></html>", source="page.html")


# -- files that are not regular files: refused, never read without bound ---------------------


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    from conftest import finishes_within

    fifo = tmp_path / "story.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"story.txt: is a named pipe \(FIFO\), not a regular file"):
        finishes_within(20, read_article, fifo)


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s.txt"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match="is a socket, not a regular file"):
            read_article(path)


def test_reading_stops_one_byte_past_the_limit_whatever_the_recorded_size(tmp_path):
    # /proc files are regular files that report a size of 0 and yet hold bytes.
    proc_file = "/proc/self/maps"
    if not os.path.exists(proc_file):
        pytest.skip("no /proc")
    assert os.stat(proc_file).st_size == 0
    with pytest.raises(InputError, match="too large"):
        read_file_bounded(proc_file, "maps", limit=16)
    assert len(read_file_bounded(proc_file, "maps", limit=1 << 20)) > 16


@pytest.mark.parametrize("kind", ["device", "symlink to a device"])
def test_dev_zero_is_refused_at_once_in_bounded_memory(tmp_path, kind):
    from conftest import limited_memory

    target = "/dev/zero"
    if kind != "device":
        target = tmp_path / "zero.txt"
        target.symlink_to("/dev/zero")
    probe = "from byline.input import read_article\nimport sys\nread_article(sys.argv[1])"
    # A read without bound would fill the 2 GB address space in seconds and die of MemoryError.
    result = subprocess.run(
        [sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited_memory(2048),
    )
    assert "InputError" in result.stderr and "is a character device, not a regular file" in result.stderr, (
        result.stderr
    )
    assert "MemoryError" not in result.stderr
