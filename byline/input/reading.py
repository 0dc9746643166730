"""Turn a file, standard input, a URL, HTML or a Python string into an :class:`Article`.

Every failure is an :class:`~byline.errors.InputError` that names the input and
the problem; nothing here prints or exits.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from byline.errors import InputError
from byline.input.html_bounds import check_html_bounds
from byline.input.normalise import normalise_text, replace_lone_surrogates

#: Files larger than this are refused: no news article is anywhere near it,
#: and reading one would only waste memory.
MAX_ARTICLE_BYTES = 5_000_000

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
TEXT_SOURCE = "<text>"
STDIN_SOURCE = "<stdin>"

# Leading bytes of common binary formats, to name them in the error message.
_MAGIC = {
    b"%PDF": "PDF document",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"PK\x03\x04": "ZIP archive (or an Office document)",
    b"\x1f\x8b": "gzip archive",
    b"\x7fELF": "executable",
    b"PAR1": "Parquet file",
    b"SQLite format 3": "SQLite database",
}


@dataclass(frozen=True)
class Article:
    """One article, ready to score.

    ``text`` is normalised (see :func:`~byline.input.normalise.normalise_text`)
    with paragraphs separated by a blank line; every offset Byline reports
    refers to it. ``title`` is kept for display only and is never scored.
    """

    text: str
    source: str = TEXT_SOURCE
    title: str | None = None
    #: Unpaired UTF-16 surrogates in the text as given, replaced with U+FFFD by normalisation.
    replaced_surrogates: int = 0


def article_from_text(text: str, source: str = TEXT_SOURCE, title: str | None = None) -> Article:
    """Normalise a Python string into an article; refuse empty text."""
    if not isinstance(text, str):
        raise InputError(source, f"expected text (str), got {type(text).__name__}")
    if not text:
        raise InputError(source, "the text is empty")
    if not text.strip():
        raise InputError(source, "the text contains only whitespace")
    text, surrogates = replace_lone_surrogates(text)
    normalised = normalise_text(text)
    if not normalised:
        raise InputError(source, "the text contains only invisible or control characters")
    return Article(text=normalised, source=source, title=title, replaced_surrogates=surrogates)


def article_from_html(html: str | bytes, source: str = TEXT_SOURCE) -> Article:
    """Extract the main text and title of an HTML page with trafilatura.

    Pages with more elements, or more attributes on one element, than
    :mod:`byline.input.html_bounds` allows are refused before parsing, so
    extraction takes bounded time.
    """
    if isinstance(html, bytes):
        html = decode_bytes(html, source)
    if not html.strip():
        raise InputError(source, "the HTML is empty")
    check_html_bounds(html, source)  # extraction time grows with the square of these counts
    import trafilatura  # heavy import, only needed for HTML

    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False
    )
    body = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if not body:
        raise InputError(source, "no article text could be extracted from the HTML")
    title = (getattr(document, "title", None) or "").strip() or None
    # trafilatura often repeats the headline as the first line of the body.
    first_line, _, rest = body.partition("\n")
    if title and first_line.strip() == title and rest.strip():
        body = rest
    # trafilatura puts one newline between paragraphs; make them paragraphs.
    body = body.replace("\n", "\n\n")
    return article_from_text(body, source=source, title=title)


def binary_problem(head: bytes, expected: str = "text", *, nul_bytes: bool = True) -> str | None:
    """Why ``head`` (a file's first bytes) is not ``expected`` but a binary file, or None.

    Known formats are named by their leading bytes; otherwise NUL bytes in the first
    8 KiB give it away (unless ``nul_bytes`` is False: UTF-16 text has them).
    """
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return f"this is a binary file ({kind}), not {expected}"
    if nul_bytes and b"\x00" in head[:8192]:
        return f"this looks like a binary file (it contains NUL bytes), not {expected}"
    return None


def decode_bytes(data: bytes, source: str, encoding: str | None = None) -> str:
    """Decode bytes as text, refusing binary data and undecodable bytes.

    Without ``encoding``, a byte-order mark picks UTF-8 or UTF-16; otherwise
    UTF-8 is required (a guessed legacy encoding could silently change words).
    """
    if not data:
        raise InputError(source, "the input is empty (0 bytes)")
    if encoding is None:
        if data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        else:
            encoding = "utf-8"
    if problem := binary_problem(data, nul_bytes=encoding in ("utf-8", "utf8")):
        raise InputError(source, problem)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex()
        raise InputError(
            source,
            f"cannot decode the bytes as {encoding}: byte 0x{bad} at offset {error.start}"
            " (pass an encoding, e.g. --encoding cp1252, if the file uses another one)",
        ) from None
    except LookupError:
        raise InputError(source, f"unknown text encoding {encoding!r}") from None
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f\v")
    if controls > 0.05 * min(len(text), 8192):
        raise InputError(source, "this looks like a binary file (many control characters), not text")
    return text


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:1024].lower()
    return head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in head)


def article_from_bytes(
    data: bytes, source: str, *, html: bool | None = None, encoding: str | None = None
) -> Article:
    """Read an article from raw bytes; ``html=None`` sniffs the content."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise InputError(
            source, f"the input is too large ({len(data):,} bytes; the limit is {MAX_ARTICLE_BYTES:,})"
        )
    text = decode_bytes(data, source, encoding)
    if html or (html is None and _looks_like_html(text)):
        return article_from_html(text, source)
    return article_from_text(text, source)


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def fetch_url(url: str, timeout: float = 20.0) -> bytes:
    """Download a page (only when the caller asked for a URL)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "byline (news text checker)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user-given URL
            return response.read(MAX_ARTICLE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(url, f"could not fetch the page: {reason}") from None


def read_article(source: str | Path, *, encoding: str | None = None) -> Article:
    """Read one article from a path, ``-`` (standard input) or an http(s) URL.

    ``.html``/``.htm`` files and fetched pages go through HTML extraction;
    other files are read as text (HTML content is still recognised).
    """
    name = str(source)
    if name == "-":
        data = sys.stdin.buffer.read(MAX_ARTICLE_BYTES + 1)
        return article_from_bytes(data, STDIN_SOURCE, encoding=encoding)
    if is_url(name):
        return article_from_bytes(fetch_url(name), name, html=True, encoding=encoding)
    path = Path(source)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except PermissionError:
        raise InputError(name, "permission denied") from None
    except OSError as error:
        raise InputError(name, f"cannot read the file: {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(name, "is a directory, not a file (use `byline scan` for folders)")
    data = read_file_bounded(path, name)
    html = True if path.suffix.lower() in HTML_SUFFIXES else None
    return article_from_bytes(data, name, html=html, encoding=encoding)


def not_regular_file(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not read (a FIFO, a device, a socket), or None for a
    regular file or a folder.

    Such a file has no size to check beforehand, and opening or reading it may never end
    (a FIFO with no writer, ``/dev/zero``); ``-`` is the one way to read a stream.
    """
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"is {kind}, not a regular file"


def check_regular_path(path: Path, location: str, *, hint: str = "") -> None:
    """Refuse a path that does not exist or is a FIFO, device or socket, without opening it;
    ``hint`` is added to the latter message (e.g. how to pass a stream instead)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(location, "no such file or folder") from None
    except OSError as error:
        raise InputError(location, f"cannot read it: {error.strerror or error}") from None
    if problem := not_regular_file(mode):
        raise InputError(location, f"{problem}{f' ({hint})' if hint else ''}")


def read_file_bounded(path: str | Path, name: str, limit: int = MAX_ARTICLE_BYTES) -> bytes:
    """The bytes of a regular file, refusing it once it holds over ``limit`` bytes.

    A FIFO, device or socket is refused without being read (see :func:`not_regular_file`);
    at most ``limit + 1`` bytes are ever read, whatever the file's recorded size says.
    """
    try:
        if problem := not_regular_file(os.stat(path).st_mode):
            raise InputError(name, problem)  # before opening: opening a FIFO can block
        # O_NONBLOCK: should the path become a FIFO after the check, opening it still returns at once.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with open(descriptor, "rb") as handle:
            status = os.fstat(descriptor)
            if problem := not_regular_file(status.st_mode):
                raise InputError(name, problem)
            if status.st_size > limit:
                raise InputError(
                    name, f"the file is too large ({status.st_size:,} bytes; the limit is {limit:,})"
                )
            data = handle.read(limit + 1)
    except PermissionError:
        raise InputError(name, "permission denied") from None
    except IsADirectoryError:
        raise InputError(name, "is a directory, not a file (use `byline scan` for folders)") from None
    except OSError as error:
        raise InputError(name, f"cannot read the file: {error.strerror or error}") from None
    if len(data) > limit:  # it grew after the size was checked
        raise InputError(name, f"the file is too large (over the limit of {limit:,} bytes)")
    return data
