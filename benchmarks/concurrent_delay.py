"""How long one large request delays a concurrent 500-word request on `byline serve`, and the
server's memory after repeated large requests.

    python -m benchmarks.concurrent_delay                   # starts a server (1 worker)
    python -m benchmarks.concurrent_delay --large-bytes 5000000 --repeats 2
    python -m benchmarks.concurrent_delay --url http://127.0.0.1:8000 --server-pid 1234

Steps, one after the other, on 127.0.0.1 only:

1. a 500-word request alone, ``--alone`` times (its median latency is the baseline);
2. for comparison, a 500-word request and, ``--lag`` seconds later, another: the delay any
   ordinary request causes on one scoring thread;
3. ``--repeats`` times: a text request of ``--large-bytes`` bytes (default: the largest text the
   server accepts, from ``GET /v1/info``; prose in paragraphs) and, ``--lag`` seconds after it
   was sent, a 500-word request; records both latencies and the server's RSS after the pair;
4. the same with an HTML page of ``--html-bytes`` bytes made of a ``<p>word</p>`` flood
   (``0`` skips it), and with a batch request of ``--batch`` 500-word documents (``0`` skips it).

The delay of the small request is its latency beside the large one minus its latency alone.
Prints the figures and writes them to benchmarks/results/concurrent_delay.json (``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import psutil

from benchmarks.local_server import byline_server
from benchmarks.machine import describe_machine

REPO = Path(__file__).resolve().parent.parent

EXAMPLE = (REPO / "examples" / "machine-written.txt").read_text(encoding="utf-8")
RESULTS = REPO / "benchmarks" / "results"
SMALL_WORDS = 500


def small_text(marker: str) -> str:
    """About 500 words of news prose, unique per request."""
    words = (EXAMPLE + "\n\n" + EXAMPLE).split(" ")
    return f"Report {marker}. " + " ".join(words[: SMALL_WORDS - 2])


def large_text(size: int) -> str:
    """News prose in paragraphs, numbered so that no two are alike, cut to ``size`` UTF-8 bytes."""
    paragraphs = [p for p in EXAMPLE.split("\n\n") if p.strip()]
    pieces: list[str] = []
    total = 0
    number = 0
    while total < size:
        paragraph = f"In section {number}, {paragraphs[number % len(paragraphs)]}"
        pieces.append(paragraph)
        total += len(paragraph.encode()) + 2
        number += 1
    text = "\n\n".join(pieces).encode()[:size].decode("utf-8", "ignore")
    return text.rstrip()


def html_flood(size: int) -> str:
    unit = "<p>word</p>"
    return "<html><body>" + unit * max(1, (size - 26) // len(unit)) + "</body></html>"


def rss_mb(pid: int | None) -> float | None:
    if not pid:
        return None
    try:
        process = psutil.Process(pid)
        tree = [process, *process.children(recursive=True)]
        return round(sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20, 1)
    except psutil.Error:
        return None


def timed_post(url: str, body: dict, timeout: float) -> tuple[float, int, str]:
    begin = time.monotonic()
    path = "/v1/detect/batch" if "documents" in body else "/v1/detect"
    try:
        response = httpx.post(url + path, json=body, timeout=timeout)
    except httpx.HTTPError as error:
        return time.monotonic() - begin, 0, f"{type(error).__name__}: {error}"
    return (
        time.monotonic() - begin,
        response.status_code,
        response.text[:200] if response.status_code != 200 else "",
    )


def pair(url: str, large_body: dict, lag: float, timeout: float, marker: str) -> dict:
    """The large request, and a small one sent ``lag`` seconds later."""
    large: dict = {}

    def send_large() -> None:
        seconds, status, problem = timed_post(url, large_body, timeout)
        large.update(seconds=round(seconds, 3), status=status, problem=problem)

    thread = threading.Thread(target=send_large)
    thread.start()
    time.sleep(lag)
    seconds, status, problem = timed_post(url, {"text": small_text(marker)}, timeout)
    thread.join(timeout + 10)
    return {
        "large_s": large.get("seconds"),
        "large_status": large.get("status"),
        "large_problem": large.get("problem"),
        "small_s": round(seconds, 3),
        "small_status": status,
        "small_problem": problem,
    }


def run(url: str, pid: int | None, args: argparse.Namespace) -> dict:
    info = httpx.get(url + "/v1/info", timeout=30).json()
    limits = info.get("limits", {})
    large_bytes = args.large_bytes or limits.get("max_text_bytes") or limits.get("max_document_bytes")
    alone = []
    for n in range(args.alone):
        seconds, status, problem = timed_post(url, {"text": small_text(f"alone-{n}")}, args.timeout)
        if status != 200:
            raise RuntimeError(f"the 500-word request failed alone: {status} {problem}")
        alone.append(seconds)
    baseline = statistics.median(alone)
    print(
        f"500-word request alone: median {baseline:.2f} s ({', '.join(f'{s:.2f}' for s in alone)})",
        flush=True,
    )
    report: dict = {
        "server_limits": limits,
        "small_words": SMALL_WORDS,
        "small_alone_s": [round(s, 3) for s in alone],
        "small_alone_median_s": round(baseline, 3),
        "rss_before_mb": rss_mb(pid),
        "large_text": {"bytes": large_bytes, "runs": []},
    }
    row = pair(url, {"text": small_text("control-first")}, args.lag, args.timeout, "control")
    row["delay_s"] = round(row["small_s"] - baseline, 3)
    report["control_500_words"] = {"runs": [row]}
    print(f"beside another 500-word request: {row}", flush=True)
    body = {"text": large_text(large_bytes)}
    for repeat in range(args.repeats):
        row = pair(url, body, args.lag, args.timeout, f"text-{repeat}")
        row["delay_s"] = round(row["small_s"] - baseline, 3)
        row["rss_after_mb"] = rss_mb(pid)
        report["large_text"]["runs"].append(row)
        print(f"text of {large_bytes:,} bytes: {row}", flush=True)
    if args.html_bytes:
        report["html_flood"] = {"bytes": args.html_bytes, "runs": []}
        row = pair(url, {"html": html_flood(args.html_bytes)}, args.lag, args.timeout, "html")
        row["delay_s"] = round(row["small_s"] - baseline, 3)
        row["rss_after_mb"] = rss_mb(pid)
        report["html_flood"]["runs"].append(row)
        print(f"<p> flood of {args.html_bytes:,} bytes: {row}", flush=True)
    if args.batch:
        documents = [{"text": small_text(f"batch-{n}")} for n in range(args.batch)]
        row = pair(url, {"documents": documents}, args.lag, args.timeout, "after-batch")
        row["delay_s"] = round(row["small_s"] - baseline, 3)
        report["batch"] = {"documents": args.batch, "runs": [row]}
        print(f"batch of {args.batch} 500-word documents: {row}", flush=True)
    delays = [
        r["delay_s"]
        for key in ("large_text", "html_flood", "batch")
        for r in report.get(key, {}).get("runs", [])
    ]
    report["max_delay_s"] = max(delays) if delays else None
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server on 127.0.0.1 (default: start one)")
    parser.add_argument("--server-pid", type=int, help="its process id, to sample its memory")
    parser.add_argument(
        "--large-bytes", type=int, default=0, help="size of the large text (default: the server's limit)"
    )
    parser.add_argument(
        "--html-bytes", type=int, default=400_000, help="size of the <p> flood page (0: skip)"
    )
    parser.add_argument("--batch", type=int, default=32, help="documents in the batch request (0: skip)")
    parser.add_argument("--repeats", type=int, default=3, help="large requests, one after the other")
    parser.add_argument("--alone", type=int, default=3, help="500-word requests alone, for the baseline")
    parser.add_argument(
        "--lag", type=float, default=1.0, help="seconds between the large and the small request"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "concurrent_delay.json")
    args = parser.parse_args()
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--url must be a loopback address (127.0.0.1)")
    if args.url:
        report = run(args.url, args.server_pid, args)
    else:
        print("starting byline serve (the model loads first)...", flush=True)
        with byline_server(["--workers", "1"]) as (url, process):
            report = run(url, process.pid, args)
    report = {
        "benchmark": "delay of a 500-word request beside a large one",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {**describe_machine(), "load_average_at_end": list(psutil.getloadavg())},
        **report,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"largest delay of the 500-word request: {report['max_delay_s']} s; written to {args.out}")


if __name__ == "__main__":
    main()
