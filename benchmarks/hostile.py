"""Time of Byline's input path on hostile input shapes, at sizes doubling from 50 KB to 1.6 MB.

    python -m benchmarks.hostile [--shapes prose,brackets,...] [--max-kb 1600] [--timeout 120] [--name NAME | --out PATH]

The input path is everything before the language models: reading the bytes
(HTML extraction for HTML shapes), normalisation, language identification,
spelling repair, reflow and sentence splitting (``input_path`` below). The
language models are left out: they only ever see the first tokens of a text.

Each shape at each size runs in a fresh process (imports warmed up on a small
input first), so that one measurement cannot slow the next and one that runs
past ``--timeout`` seconds can be stopped; the larger sizes of that shape are
then skipped. An input Byline refuses is recorded with its error and the time
the refusal took. Prints a table (seconds per size, and the ratio of each time to
the one before: about 2 when time grows linearly with size) and writes the
figures with the machine's description to benchmarks/results/hostile[-NAME].json.
Other processes on the machine change the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from training.data import DATA_DIR

ROOT = Path(__file__).resolve().parent.parent

DATA = DATA_DIR / "news-dev.jsonl"
SIZES_KB = (50, 100, 200, 400, 800, 1600)


def _prose_sentences() -> str:
    """A few human dev articles joined into one line of ordinary prose."""
    texts = []
    if DATA.exists():
        with DATA.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("label") == "human":
                    texts.append(" ".join(record["text"].split()))
                if len(texts) == 40:
                    break
    return (
        " ".join(texts) or "The council met on Tuesday. Mr. Smith said the plan, which cost $1.5m, was late. "
    )


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def make_input(shape: str, size: int) -> tuple[bytes, bool]:
    """The input of ``shape`` of about ``size`` bytes, and whether it is HTML."""
    if shape == "prose":  # one paragraph, no line breaks
        return _repeat(_prose_sentences() + " ", size).encode(), False
    if shape == "brackets":  # nested brackets around one sentence
        depth = (size - 20) // 2
        return ("(" * depth + "This is a sentence." + ")" * depth).encode(), False
    if shape == "sentence_in_brackets":
        return _repeat("(This is a sentence.) ", size).encode(), False
    if shape == "p_flood":
        head, tail = "<html><body>", "</body></html>"
        return (head + _repeat("<p>word</p>", size - len(head) - len(tail)) + tail).encode(), True
    if shape == "attribute_flood":
        # On an element around a few paragraphs of real prose, each attribute named differently.
        prose = _prose_sentences()[:3000]
        paragraphs = "".join(f"<p>{prose[i : i + 500]}</p>" for i in range(0, len(prose), 500))
        head, tail = "<html><body><div", f">{paragraphs}</div></body></html>"
        count = max(0, size - len(head) - len(tail)) // 13
        attributes = "".join(f' a{i:07d}="x"' for i in range(count))
        return (head + attributes + tail).encode(), True
    if shape == "list":
        head, tail = "<html><body><article><ul>", "</ul></article></body></html>"
        items = []
        total, index = len(head) + len(tail), 0
        while total < size:
            item = f"<li>Item {index} of the list, with a few words.</li>"
            items.append(item)
            total += len(item)
            index += 1
        return (head + "".join(items) + tail).encode(), True
    raise ValueError(f"unknown shape {shape!r}")


SHAPES = ("prose", "brackets", "sentence_in_brackets", "p_flood", "attribute_flood", "list")


def input_path(data: bytes, html: bool):
    """Raw bytes to the article and its sentence spans, as the detector prepares them."""
    from byline.input import article_from_bytes
    from byline.input.language import identify_language
    from byline.scoring.article_features import prepare_text

    article = article_from_bytes(data, "<benchmark>", html=html)
    identify_language(article.text)
    prepared = prepare_text(article.text)
    return article, prepared.sentences


def measure_one(shape: str, size: int) -> dict:
    """Time one input in this process, after a warm-up on a small input of the same shape."""
    from byline.errors import InputError

    for warm_size in (2_000,):
        try:
            input_path(*make_input(shape, warm_size))
        except InputError:
            pass
    data, html = make_input(shape, size)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        _, sentences = input_path(data, html)
        outcome = {"sentences": len(sentences)}
    except InputError as error:
        outcome = {"refused": str(error)}
    # CPU time as well as wall time: on a shared machine the wall time includes waiting for a core.
    return {
        "bytes": len(data),
        "seconds": round(time.perf_counter() - start, 3),
        "cpu_seconds": round(time.process_time() - cpu_start, 3),
        **outcome,
    }


def run_shape(shape: str, sizes: list[int], timeout: float) -> list[dict]:
    rows: list[dict] = []
    for kb in sizes:
        if rows and (rows[-1].get("timed_out") or rows[-1].get("skipped")):
            rows.append({"kb": kb, "skipped": f"a smaller size ran past {timeout:g} s"})
            continue
        command = [sys.executable, "-m", "benchmarks.hostile", "--one", shape, str(kb * 1000)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
            )
        except subprocess.TimeoutExpired:
            rows.append({"kb": kb, "timed_out": True, "seconds": None})
            print(f"  {shape} {kb} KB: over {timeout:g} s, stopped", flush=True)
            continue
        if done.returncode != 0:
            rows.append({"kb": kb, "error": done.stderr.strip().splitlines()[-1:]})
            print(f"  {shape} {kb} KB: failed: {done.stderr.strip()[-300:]}", flush=True)
            continue
        row = {"kb": kb, **json.loads(done.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(f"  {shape} {kb} KB: {row['seconds']} s{' (refused)' if 'refused' in row else ''}", flush=True)
    previous = None
    for row in rows:
        seconds = row.get("seconds")
        if seconds is not None and previous:
            row["ratio_to_previous"] = round(seconds / previous, 2)
        previous = seconds if seconds else None
    return rows


def _cell(row: dict) -> str:
    if row.get("skipped"):
        return "skipped"
    if row.get("timed_out"):
        return "timeout"
    if row.get("error"):
        return "error"
    text = f"{row['seconds']:.2f}"
    if "ratio_to_previous" in row:
        text += f" x{row['ratio_to_previous']:.1f}"
    return text + (" R" if "refused" in row else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shapes", default=",".join(SHAPES), help=f"comma-separated, from {', '.join(SHAPES)}"
    )
    parser.add_argument("--max-kb", type=int, default=SIZES_KB[-1])
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one measurement may take")
    parser.add_argument("--name", default="", help="write benchmarks/results/hostile-NAME.json")
    parser.add_argument("--out", default=None, help="write the JSON here instead")
    parser.add_argument("--one", nargs=2, metavar=("SHAPE", "BYTES"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure_one(args.one[0], int(args.one[1]))))
        return
    from benchmarks.machine import describe_machine

    sizes = [kb for kb in SIZES_KB if kb <= args.max_kb]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    results = {}
    for shape in shapes:
        print(f"{shape}:", flush=True)
        results[shape] = run_shape(shape, sizes, args.timeout)
    print("\nseconds per size (xN: ratio to the previous size; R: refused)")
    print(f"{'shape':22s}" + "".join(f"{str(kb) + ' KB':>16s}" for kb in sizes))
    for shape, rows in results.items():
        print(f"{shape:22s}" + "".join(f"{_cell(row):>16s}" for row in rows))
    output = {
        "sizes_kb": sizes,
        "timeout_seconds": args.timeout,
        "shapes": results,
        "machine": describe_machine(),
    }
    path = (
        Path(args.out)
        if args.out
        else ROOT / "benchmarks" / "results" / f"hostile{'-' + args.name if args.name else ''}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(output, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
