"""Load test of `byline serve`: concurrent clients on loopback for a bounded time.

    python -m benchmarks.load                        # starts a server, 32 clients for 60 s
    python -m benchmarks.load --clients 8 --duration 20 --workers 2
    python -m benchmarks.load --url http://127.0.0.1:8000 --server-pid 1234

Every request carries a unique text and source name; a response counts as
mixed up unless its `source` and `text` are exactly those of its own request
(the text after Byline's normalisation). A request with no answer (time-out,
dropped connection) counts as lost. A 503 is the server's back-pressure: the
client waits `Retry-After` seconds (within the time left) and goes on.

Reports p50/p95 latency, throughput, the count of each status code, and the
server's memory (RSS of the server and its worker processes, sampled every
second); prints the figures and writes them to benchmarks/results/load.json.
It stops by itself: clients send nothing new after --duration, and every
request has a time-out. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psutil

from benchmarks.local_server import byline_server
from benchmarks.scored_texts import RESULTS, ROOT
from byline.input import article_from_text

EXAMPLE = (ROOT / "examples" / "machine-written.txt").read_text(encoding="utf-8")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.latencies_ok: list[float] = []
        self.latencies_all: list[float] = []
        self.sent = 0
        self.answered = 0
        self.lost = 0
        self.mixed_up = 0
        self.examples: list[str] = []
        self.first_ok: float | None = None

    def note(self, message: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(message)


def client_loop(number: int, url: str, stop_at: float, timeout: float, tally: Tally, started: float) -> None:
    with httpx.Client(timeout=timeout) as client:
        sequence = 0
        while time.monotonic() < stop_at:
            sequence += 1
            marker = f"{number}-{sequence}-{uuid.uuid4().hex[:8]}"
            text = f"Reference {marker}: this copy was filed for client {number}.\n\n{EXAMPLE}"
            source = f"load/{marker}"
            begin = time.monotonic()
            with tally.lock:
                tally.sent += 1
            try:
                response = client.post(url + "/v1/detect", json={"text": text, "source": source})
            except httpx.HTTPError as error:
                with tally.lock:
                    tally.lost += 1
                    tally.statuses["no answer"] += 1
                    tally.note(f"client {number}: no answer ({type(error).__name__}: {error})")
                continue
            elapsed = time.monotonic() - begin
            status = response.status_code
            with tally.lock:
                tally.answered += 1
                tally.statuses[str(status)] += 1
                tally.latencies_all.append(elapsed)
            if status == 200:
                body = response.json()
                expected = article_from_text(text).text
                with tally.lock:
                    tally.latencies_ok.append(elapsed)
                    if tally.first_ok is None:
                        tally.first_ok = time.monotonic() - started
                    if body.get("source") != source or body.get("text") != expected:
                        tally.mixed_up += 1
                        tally.note(
                            f"client {number}: answer for {body.get('source')!r} to request {source!r}"
                        )
            elif status == 503:
                wait = float(response.headers.get("retry-after", "1"))
                time.sleep(max(0.0, min(wait, stop_at - time.monotonic())))
            else:
                with tally.lock:
                    tally.note(f"client {number}: {status} {response.text[:300]}")


def sample_memory(
    pid: int | None, url: str, stop: threading.Event, samples: list[dict], started: float
) -> None:
    process = psutil.Process(pid) if pid else None
    while not stop.is_set():
        entry: dict = {"t_s": round(time.monotonic() - started, 1)}
        if process is not None:
            try:
                tree = [process, *process.children(recursive=True)]
                entry["rss_mb"] = round(sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20, 1)
            except psutil.Error:
                pass
        try:
            entry["queued_documents"] = httpx.get(url + "/healthz", timeout=2).json()["queued_documents"]
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        samples.append(entry)
        stop.wait(1.0)


def memory_summary(samples: list[dict]) -> dict:
    """Is the server's memory flat? RSS swings with each batch's working set (activations come
    and go), so compare peaks: the second half of the run must not peak more than 10% (or
    100 MB) above the first half. Medians of the second and last quarters are reported too."""
    rss = [s["rss_mb"] for s in samples if "rss_mb" in s]
    if len(rss) < 8:
        return {"samples": len(rss)}
    half, quarter = len(rss) // 2, len(rss) // 4
    first_peak, second_peak = max(rss[:half]), max(rss[half:])
    return {
        "samples": len(rss),
        "start_mb": rss[0],
        "end_mb": rss[-1],
        "max_mb": max(rss),
        "peak_first_half_mb": first_peak,
        "peak_second_half_mb": second_peak,
        "median_second_quarter_mb": statistics.median(rss[quarter:half]),
        "median_last_quarter_mb": statistics.median(rss[-quarter:]),
        "growth_mb": round(second_peak - first_peak, 1),
        "flat": second_peak <= max(first_peak * 1.10, first_peak + 100.0),
    }


def run(url: str, pid: int | None, clients: int, duration: float, timeout: float) -> dict:
    tally = Tally()
    started = time.monotonic()
    stop_at = started + duration
    samples: list[dict] = []
    stop_sampling = threading.Event()
    sampler = threading.Thread(
        target=sample_memory, args=(pid, url, stop_sampling, samples, started), daemon=True
    )
    sampler.start()
    threads = [
        threading.Thread(target=client_loop, args=(n, url, stop_at, timeout, tally, started), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + timeout + 30)
    wall = time.monotonic() - started
    stop_sampling.set()
    sampler.join(5)
    stuck = sum(thread.is_alive() for thread in threads)
    ok = tally.statuses.get("200", 0)
    server_errors = {
        code: n for code, n in tally.statuses.items() if code.isdigit() and int(code) >= 500 and code != "503"
    }
    return {
        "clients": clients,
        "duration_s": duration,
        "wall_s": round(wall, 1),
        "requests_sent": tally.sent,
        "responses": tally.answered,
        "status_counts": dict(sorted(tally.statuses.items())),
        "lost": tally.lost + stuck,
        "mixed_up": tally.mixed_up,
        "server_errors_other_than_503": server_errors,
        "latency_ok_s": {
            "p50": _round(percentile(tally.latencies_ok, 50)),
            "p95": _round(percentile(tally.latencies_ok, 95)),
            "max": _round(max(tally.latencies_ok) if tally.latencies_ok else None),
        },
        "latency_all_s": {
            "p50": _round(percentile(tally.latencies_all, 50)),
            "p95": _round(percentile(tally.latencies_all, 95)),
        },
        "throughput_ok_per_s": round(ok / wall, 3) if wall else None,
        "first_ok_after_s": _round(tally.first_ok),
        "memory": memory_summary(samples),
        "max_queued_documents": max((s.get("queued_documents", 0) for s in samples), default=None),
        "examples_of_problems": tally.examples,
        "targets_met": {
            "no_5xx_other_than_503": not server_errors,
            "no_lost_or_mixed_up": tally.lost + stuck == 0 and tally.mixed_up == 0,
            "memory_flat": memory_summary(samples).get("flat"),
        },
        "memory_samples": samples,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server on 127.0.0.1 (default: start one)")
    parser.add_argument("--server-pid", type=int, help="its process id, to sample its memory")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds during which clients send")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a request may take")
    parser.add_argument("--workers", type=int, default=1, help="--workers for the server this script starts")
    parser.add_argument(
        "--queue-size", type=int, default=64, help="--queue-size for the server this script starts"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args()

    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--url must be a loopback address (127.0.0.1)")
    config = {"workers": args.workers, "queue_size": args.queue_size} if not args.url else {"url": args.url}
    if args.url:
        report = run(args.url, args.server_pid, args.clients, args.duration, args.timeout)
    else:
        server_args = ["--workers", str(args.workers), "--queue-size", str(args.queue_size)]
        print(
            f"starting byline serve {' '.join(server_args)} (the model loads in each worker)...", flush=True
        )
        with byline_server(server_args) as (url, process):
            info = httpx.get(url + "/v1/info", timeout=10).json()
            config["detector"] = info["default_detector"]
            config["limits"] = info["limits"]
            print(f"server up at {url}; {args.clients} clients for {args.duration:.0f} s", flush=True)
            report = run(url, process.pid, args.clients, args.duration, args.timeout)
    report = {
        "benchmark": "byline serve load test",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {
            "cpus": psutil.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_end": list(psutil.getloadavg()),
        },
        "server": config,
        **report,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    memory = report["memory"]
    print(
        f"\n{report['requests_sent']} requests from {report['clients']} clients in {report['wall_s']} s\n"
        f"status codes: {report['status_counts']}\n"
        f"lost: {report['lost']}  mixed up: {report['mixed_up']}  5xx other than 503: {report['server_errors_other_than_503']}\n"
        f"latency of 200s: p50 {report['latency_ok_s']['p50']} s, p95 {report['latency_ok_s']['p95']} s, max {report['latency_ok_s']['max']} s\n"
        f"throughput: {report['throughput_ok_per_s']} articles/s\n"
        f"server RSS: start {memory.get('start_mb')} MB, max {memory.get('max_mb')} MB, end {memory.get('end_mb')} MB, "
        f"peak growth from the first to the second half {memory.get('growth_mb')} MB (flat: {memory.get('flat')})\n"
        f"targets met: {report['targets_met']}\n"
        f"written to {args.out}"
    )


if __name__ == "__main__":
    main()
