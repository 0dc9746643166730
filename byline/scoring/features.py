"""Article and sentence features: language-model statistics and writing style.

Every feature is a number with a stable name. Names start with the family:
``lm.<model>.`` for language-model statistics and ``style.`` for stylometry,
so a trained detector can say which evidence it used.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from byline.scoring.token_statistics import TokenStatistics, fast_detectgpt_criterion

#: Tokens per chunk for the "spread across the text" features.
SPREAD_CHUNK_TOKENS = 64

# Words and phrases that instruction-tuned models use far more often than
# reporters (from published analyses of LLM vocabulary, e.g. Liang et al. 2024,
# "Mapping the increasing use of LLMs in scientific papers"; Kobak et al. 2024).
LLM_FAVOURED_WORDS = frozenset(
    """
    delve delves delving crucial pivotal intricate intricacies showcase showcases showcasing
    underscore underscores underscoring highlight highlights highlighting noteworthy notably
    moreover furthermore additionally comprehensive multifaceted landscape realm tapestry
    testament fostering foster fosters navigate navigating seamless seamlessly robust vibrant
    meticulous meticulously commendable invaluable paramount profound profoundly bolster
    bolstering garner garnered heightened resonate resonates unwavering endeavor endeavors
    embark embarked captivating enhance enhancing leverage leveraging utilize utilizing
    significant significantly potential ensure ensuring emphasize emphasizing emphasized
    overall ultimately essential vital insights poignant sparked amidst evolving transformative
    stakeholders commitment dedication shed align aligns nuanced compelling
    """.split()
)
FIRST_PERSON = frozenset("i me my mine we us our ours".split())
HEDGES = frozenset("may might could perhaps possibly likely reportedly allegedly appears seems".split())

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_DIGIT = re.compile(r"\d")


def _safe_std(values: np.ndarray) -> float:
    return float(values.std()) if values.size > 1 else 0.0


def language_model_features(stats: TokenStatistics, n_chars: int, prefix: str) -> dict[str, float]:
    """Summaries of one model's token statistics over a text (or a sentence).

    * ``log_prob_*``: mean, spread and quantiles of log p(x_t); machine text is
      more predictable (higher log-probabilities, fewer surprises).
    * ``entropy_mean``: how uncertain the model was on average.
    * ``excess_surprise_mean``: mean of -log p(x_t) - H_t, how much more
      surprising each token was than the model expected; near zero or
      negative for machine text (the per-token core of Fast-DetectGPT).
    * ``fast_detectgpt``: Fast-DetectGPT's analytic criterion, per sqrt(token)
      so texts of different length compare.
    * ``log_rank_mean``, ``top1_rate``, ``top10_rate``: how often the written
      token was the model's first or among its ten first guesses (GLTR).
    * ``perplexity_entropy_ratio``: log-perplexity over mean entropy, a
      single-model form of the Binoculars score.
    * ``bits_per_char``: -sum log2 p / characters, comparable across tokenizers.
    * ``chunk_*_spread``: standard deviation across 64-token chunks; human
      writing is burstier, with predictable and surprising stretches.
    """
    lp = stats.log_probs.astype(np.float64)
    ent = stats.entropies.astype(np.float64)
    var = stats.log_prob_variances.astype(np.float64)
    n = lp.size
    p = f"lm.{prefix}."
    if n == 0:
        return {f"{p}{name}": 0.0 for name in LM_FEATURE_NAMES}
    excess = -lp - ent
    log_rank = np.log(stats.ranks.astype(np.float64))
    q10, q25, q50, q75, q90 = np.quantile(lp, [0.1, 0.25, 0.5, 0.75, 0.9])
    chunks = max(1, n // SPREAD_CHUNK_TOKENS)
    chunk_lp = np.array([c.mean() for c in np.array_split(lp, chunks)])
    chunk_excess = np.array([c.mean() for c in np.array_split(excess, chunks)])
    values = {
        "log_prob_mean": lp.mean(),
        "log_prob_std": _safe_std(lp),
        "log_prob_q10": q10,
        "log_prob_q25": q25,
        "log_prob_median": q50,
        "log_prob_q75": q75,
        "log_prob_q90": q90,
        "entropy_mean": ent.mean(),
        "entropy_std": _safe_std(ent),
        "excess_surprise_mean": excess.mean(),
        "excess_surprise_std": _safe_std(excess),
        "fast_detectgpt": fast_detectgpt_criterion(lp, ent, var) / math.sqrt(n),
        "log_rank_mean": log_rank.mean(),
        "top1_rate": float((stats.ranks == 1).mean()),
        "top10_rate": float((stats.ranks <= 10).mean()),
        "perplexity_entropy_ratio": -lp.mean() / max(ent.mean(), 1e-6),
        "bits_per_char": -lp.sum() / math.log(2) / max(n_chars, 1),
        "chunk_log_prob_spread": _safe_std(chunk_lp),
        "chunk_excess_surprise_spread": _safe_std(chunk_excess),
        "low_probability_rate": float((lp < -8.0).mean()),
    }
    return {f"{p}{name}": float(value) for name, value in values.items()}


LM_FEATURE_NAMES = [
    "log_prob_mean",
    "log_prob_std",
    "log_prob_q10",
    "log_prob_q25",
    "log_prob_median",
    "log_prob_q75",
    "log_prob_q90",
    "entropy_mean",
    "entropy_std",
    "excess_surprise_mean",
    "excess_surprise_std",
    "fast_detectgpt",
    "log_rank_mean",
    "top1_rate",
    "top10_rate",
    "perplexity_entropy_ratio",
    "bits_per_char",
    "chunk_log_prob_spread",
    "chunk_excess_surprise_spread",
    "low_probability_rate",
]


def cross_model_features(features: dict[str, float], first: str, second: str) -> dict[str, float]:
    """Differences between two models on the same text (tokenizer-independent units)."""
    a, b = f"lm.{first}.", f"lm.{second}."
    return {
        "lm.cross.bits_per_char_difference": features[a + "bits_per_char"] - features[b + "bits_per_char"],
        "lm.cross.excess_surprise_difference": features[a + "excess_surprise_mean"]
        - features[b + "excess_surprise_mean"],
        "lm.cross.fast_detectgpt_product": features[a + "fast_detectgpt"] * features[b + "fast_detectgpt"],
    }


def style_features(text: str, sentence_lengths: list[int]) -> dict[str, float]:
    """Stylometry of a reflowed text.

    ``sentence_lengths`` are word counts per sentence. Rates are per word so
    that long and short articles compare; no feature looks at paragraph
    layout, titles or character encoding, which follow the outlet.
    """
    words = _WORD.findall(text)
    lower = [w.lower() for w in words]
    n_words = max(len(words), 1)
    n_chars = max(len(text), 1)
    counts = Counter(lower)
    lengths = np.array(sentence_lengths, dtype=np.float64) if sentence_lengths else np.array([0.0])
    window = 50
    if len(lower) > window:
        ttr = np.mean(
            [len(set(lower[i : i + window])) / window for i in range(0, len(lower) - window + 1, 10)]
        )
    else:
        ttr = len(counts) / n_words
    values = {
        "log_words": math.log(n_words),
        "sentence_length_mean": lengths.mean(),
        "sentence_length_cv": _safe_std(lengths) / max(lengths.mean(), 1.0),
        "short_sentence_rate": float((lengths <= 8).mean()),
        "long_sentence_rate": float((lengths >= 35).mean()),
        "word_length_mean": float(np.mean([len(w) for w in words])) if words else 0.0,
        "type_token_ratio": float(ttr),
        "hapax_rate": sum(1 for c in counts.values() if c == 1) / n_words,
        "comma_rate": text.count(",") / n_words,
        "semicolon_colon_rate": (text.count(";") + text.count(":")) / n_words,
        "dash_rate": (text.count("-") + text.count("\u2014") + text.count("\u2013")) / n_words,
        "parenthesis_rate": text.count("(") / n_words,
        "quote_rate": (text.count('"') + text.count("\u201c") + text.count("\u201d")) / n_words,
        "question_exclamation_rate": (text.count("?") + text.count("!")) / n_words,
        "digit_rate": len(_DIGIT.findall(text)) / n_chars,
        "capitalised_word_rate": sum(1 for w in words if w[0].isupper()) / n_words,
        "llm_favoured_word_rate": sum(counts[w] for w in LLM_FAVOURED_WORDS if w in counts) / n_words,
        "first_person_rate": sum(counts[w] for w in FIRST_PERSON if w in counts) / n_words,
        "hedge_rate": sum(counts[w] for w in HEDGES if w in counts) / n_words,
        "contraction_rate": sum(1 for w in words if "'" in w) / n_words,
        "said_rate": (counts["said"] + counts["says"] + counts["told"]) / n_words,
    }
    return {f"style.{name}": float(value) for name, value in values.items()}
