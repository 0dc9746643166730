"""Which texts the language rule declines: the corpus, and English texts changed on purpose.

    python -m benchmarks.languages [--data news-dev.jsonl,news-train.jsonl] [--seed 0]

The detector gives no verdict for a text confidently (probability 0.9 or more)
in a language it was not trained on (``byline.input.language``). That rule must
leave English news alone, however odd, or it would hide machine-written
articles. This benchmark identifies the language of every article of the
developer corpus the way the detector does (the normalised text), and of the
English dev articles after each evasion attack of ``benchmarks/attacks.py`` (500 machine-written texts) and
each restyling of ``benchmarks/human_styles.py`` (500 human ones). It reports how many would be
declined, which ones, and the time per article. Writes
benchmarks/results/languages.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter

import numpy as np

from benchmarks.scored_texts import write_results
from training.data import DATA_DIR


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default="news-dev.jsonl,news-train.jsonl", help="comma-separated files of ../shared/data"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from benchmarks import human_styles
    from benchmarks.evasion_attacks import ATTACKS
    from byline.decision.trained_detector import TrainedDetector
    from byline.input import article_from_text
    from byline.input.language import identify_language, is_unsupported

    languages = TrainedDetector.load().languages
    records = []
    for name in args.data.split(","):
        with (DATA_DIR / name).open() as handle:
            records += [json.loads(line) for line in handle]
    texts = [article_from_text(r["text"], source=r["id"]).text for r in records]

    started = time.perf_counter()
    guesses = [identify_language(t) for t in texts]
    per_article_ms = (time.perf_counter() - started) / max(len(texts), 1) * 1000
    declined = [(r, g) for r, g in zip(records, guesses) if is_unsupported(g, languages)]
    not_english = [(r, g) for r, g in zip(records, guesses) if g.code != "en"]
    english = np.array([g.probability for g in guesses if g.code == "en"])
    report: dict = {
        "detector_languages": languages,
        "data": args.data,
        "n_articles": len(records),
        "identify_ms_per_article": round(per_article_ms, 3),
        "declined": len(declined),
        "declined_by_label": dict(Counter(r["label"] for r, _ in declined)),
        "declined_articles": [
            {"id": r["id"], "label": r["label"], "language": g.code, "probability": round(g.probability, 3)}
            for r, g in declined
        ],
        "guessed_not_english": [
            {
                "id": r["id"],
                "label": r["label"],
                "language": g.code,
                "probability": round(g.probability, 3),
                "declined": is_unsupported(g, languages),
            }
            for r, g in not_english
        ],
        "english_probability_quantiles": {
            q: round(float(np.quantile(english, float(q))), 4) for q in ("0.001", "0.01", "0.1")
        }
        if english.size
        else {},
    }
    print(f"{len(records)} articles ({args.data}); {per_article_ms:.2f} ms each to identify")
    print(f"declined by the rule (detector languages {languages}): {len(declined)}")
    for row in report["guessed_not_english"]:
        print(
            f"  {row['id']:>16} {row['label']:5} {row['language']:4} p={row['probability']:.3f}"
            f"{'  declined' if row['declined'] else ''}"
        )

    machine = [
        t for t, r, g in zip(texts, records, guesses) if r["label"] == "ai" and g.code == "en" and g.confident
    ]
    human = [
        t
        for t, r, g in zip(texts, records, guesses)
        if r["label"] == "human" and g.code == "en" and g.confident
    ]
    sample = random.Random(args.seed)
    machine = sample.sample(machine, min(500, len(machine)))
    human = sample.sample(human, min(500, len(human)))
    report["changed_texts"] = {}
    print("English texts changed on purpose, declined afterwards:")
    for family, transforms, originals in (
        ("attack", ATTACKS, machine),
        ("human_style", human_styles.STYLES, human),
    ):
        for name, transform in transforms.items():
            rng = random.Random(f"{args.seed}-{name}")
            changed = [article_from_text(transform(t, rng)).text for t in originals]
            count = sum(is_unsupported(identify_language(t), languages) for t in changed)
            report["changed_texts"][f"{family}:{name}"] = {"texts": len(changed), "declined": count}
            print(f"  {family + ':' + name:34} {count} of {len(changed)}")
    path = write_results(report, "languages")
    print(f"written {path}")


if __name__ == "__main__":
    main()
