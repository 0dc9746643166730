"""Start `byline serve` on 127.0.0.1 for a benchmark, and stop it afterwards.

Only loopback addresses are ever used: benchmarks never send traffic anywhere else.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def byline_server(
    args: list[str], start_timeout_s: float = 600.0, log_path: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``python -m byline serve --host 127.0.0.1 --port P *args``; yields (base URL, process)."""
    port = free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "byline",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *args,
        ],
        cwd=REPO,
        env={**os.environ, "BYLINE_API_KEY": ""},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"byline serve exited with status {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"byline serve did not start within {start_timeout_s:.0f} s")
            time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if log is not subprocess.DEVNULL:
            log.close()
