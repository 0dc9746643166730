"""Feature rows for whole articles and for their sentences.

Input: the normalised article text, its sentences, and each language model's
token statistics over the reflowed text. Output: named features (see
:mod:`byline.scoring.features`) for the article and for every sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from byline.input.sentences import SentenceSpan
from byline.scoring.features import (
    cross_model_features,
    language_model_features,
    style_features,
)
from byline.scoring.token_statistics import TokenStatistics

_WORD = re.compile(r"\S+")

#: Language-model features that still mean something over one sentence.
SENTENCE_LM_FEATURES = (
    "log_prob_mean",
    "log_prob_std",
    "log_prob_median",
    "entropy_mean",
    "excess_surprise_mean",
    "fast_detectgpt",
    "log_rank_mean",
    "top1_rate",
    "top10_rate",
    "perplexity_entropy_ratio",
    "low_probability_rate",
)


def model_alias(name: str) -> str:
    """A short, stable feature prefix for a model name or path."""
    base = name.rstrip("/").split("/")[-1].lower()
    base = re.sub(r"\.gguf$", "", base)
    base = base.split("-")[0] if base in ("smollm2-135m", "gemma3-270m") else base
    return re.sub(r"[^a-z0-9_]+", "_", base)


@dataclass
class ScoredArticle:
    """An article with the token statistics of each model, ready for features.

    ``statistics[alias].offsets`` are character spans in ``text`` (the
    normalised article, paragraphs kept), not in the reflowed text.
    """

    text: str
    sentences: list[SentenceSpan]
    statistics: dict[str, TokenStatistics]

    def sentence_token_masks(self, alias: str) -> list[np.ndarray]:
        """For each sentence, which scored tokens of model ``alias`` belong to it.

        A token belongs to the sentence that holds its last character (the
        first may be the space before a word).
        """
        ends = self.statistics[alias].offsets[:, 1] - 1
        masks = []
        for sentence in self.sentences:
            masks.append((ends >= sentence.start) & (ends < sentence.end))
        return masks


def map_offsets(stats: TokenStatistics, offset_map: list[int]) -> TokenStatistics:
    """Translate token spans from reflowed-text to article-text coordinates."""
    if stats.offsets.size == 0:
        return stats
    table = np.asarray(offset_map + [offset_map[-1] + 1 if offset_map else 0], dtype=np.int64)
    starts = table[np.clip(stats.offsets[:, 0], 0, len(table) - 1)]
    ends = table[np.clip(stats.offsets[:, 1] - 1, 0, len(table) - 1)] + 1
    return TokenStatistics(
        model=stats.model,
        log_probs=stats.log_probs,
        entropies=stats.entropies,
        ranks=stats.ranks,
        log_prob_variances=stats.log_prob_variances,
        offsets=np.column_stack([starts, ends]),
        n_tokens=stats.n_tokens,
    )


def article_features(article: ScoredArticle, reflowed_text: str) -> dict[str, float]:
    """Features of the whole article: every model's statistics, cross-model terms, style."""
    features: dict[str, float] = {}
    aliases = list(article.statistics)
    for alias in aliases:
        stats = article.statistics[alias]
        scored_chars = int(stats.offsets[-1, 1] - stats.offsets[0, 0]) if stats.offsets.size else 0
        features.update(language_model_features(stats, scored_chars, alias))
    for first, second in zip(aliases, aliases[1:]):
        features.update(cross_model_features(features, first, second))
    lengths = [len(_WORD.findall(s.text)) for s in article.sentences]
    features.update(style_features(reflowed_text, lengths))
    return features


SENTENCE_STYLE_FEATURES = (
    "style.log_words",
    "style.word_length_mean",
    "style.comma_rate",
    "style.digit_rate",
    "style.quote_rate",
    "style.llm_favoured_word_rate",
    "style.capitalised_word_rate",
)


def sentence_features(article: ScoredArticle) -> list[dict[str, float]]:
    """Features per sentence: style for every sentence, and language-model
    statistics (``lm.*``) for the sentences every model scored (not those past
    the token budget)."""
    per_model: dict[str, list[dict[str, float] | None]] = {}
    for alias, stats in article.statistics.items():
        rows: list[dict[str, float] | None] = []
        for sentence, mask in zip(article.sentences, article.sentence_token_masks(alias)):
            if mask.sum() == 0:
                rows.append(None)
                continue
            full = language_model_features(stats.select(mask), len(sentence.text), alias)
            rows.append({f"lm.{alias}.{k}": full[f"lm.{alias}.{k}"] for k in SENTENCE_LM_FEATURES})
            rows[-1][f"lm.{alias}.log_tokens"] = float(np.log(mask.sum()))
        per_model[alias] = rows
    results: list[dict[str, float]] = []
    for index, sentence in enumerate(article.sentences):
        row: dict[str, float] = {}
        if all(rows[index] is not None for rows in per_model.values()):
            for rows in per_model.values():
                row.update(rows[index])  # type: ignore[arg-type]
            # Neighbouring sentences: one sentence is short evidence, a passage is better.
            for alias, rows in per_model.items():
                window = [r for r in rows[max(0, index - 1) : index + 2] if r is not None]
                for key in ("log_prob_mean", "excess_surprise_mean", "top1_rate"):
                    row[f"lm.{alias}.neighbourhood_{key}"] = float(
                        np.mean([r[f"lm.{alias}.{key}"] for r in window])
                    )
        style = style_features(sentence.text, [len(_WORD.findall(sentence.text))])
        row.update({key: style[key] for key in SENTENCE_STYLE_FEATURES})
        results.append(row)
    return results


def has_language_model_features(row: dict[str, float]) -> bool:
    return any(key.startswith("lm.") for key in row)


@dataclass
class PreparedText:
    """An article text split the way every scorer sees it."""

    text: str  # normalised, paragraphs kept: offsets refer to this
    reflowed: str  # one paragraph, spelling and case noise repaired: what the scorers read
    offset_map: list[int]  # reflowed index -> text index
    sentences: list[SentenceSpan]
    spelling_repairs: int = 0
    case_repairs: int = 0
    unknown_words: list[tuple[int, int]] = field(default_factory=list)  # spans in ``reflowed``


def prepare_text(text: str, *, repair: bool = True) -> PreparedText:
    """Repair systematic spelling and case noise, reflow, and split into sentences.

    ``repair=False`` for a text no language model will score (one in a language the
    detector does not know): its words would all read as misspellings.
    """
    from byline.input.normalise import reflow
    from byline.input.repair import reflowed_for_scoring, unknown_words
    from byline.input.sentences import split_sentences

    if not repair:
        reflowed, offsets = reflow(text)
        return PreparedText(text, reflowed, offsets, split_sentences(text))
    scored = reflowed_for_scoring(text)
    return PreparedText(
        text,
        scored.text,
        scored.offsets,
        split_sentences(text),
        scored.spelling_fixes,
        scored.case_fixes,
        unknown_words(scored.text, tampered=scored.repaired),
    )


def scored_article(prepared: PreparedText, statistics: dict[str, TokenStatistics]) -> ScoredArticle:
    """Attach each model's statistics (spans in the reflowed text) to the article.

    Tokens of words no English word list knows are left out of every feature:
    a typo that survived repair, a coinage or a URL is a surprise to the model
    whoever wrote the text around it, and a handful of them would otherwise
    swing the spread and low quantiles of the log-probabilities.
    """
    return ScoredArticle(
        text=prepared.text,
        sentences=prepared.sentences,
        statistics={
            alias: map_offsets(known_word_tokens(stats, prepared.unknown_words), prepared.offset_map)
            for alias, stats in statistics.items()
        },
    )


def known_word_tokens(stats: TokenStatistics, unknown_spans: list[tuple[int, int]]) -> TokenStatistics:
    """``stats`` without the tokens that overlap one of ``unknown_spans``."""
    if not unknown_spans or stats.offsets.size == 0:
        return stats
    spans = np.asarray(unknown_spans, dtype=np.int64)
    # A token overlaps span j when it starts before the span ends and ends after it starts.
    index = np.searchsorted(spans[:, 1], stats.offsets[:, 0], side="right")
    inside = index < len(spans)
    overlap = np.zeros(len(stats.offsets), dtype=bool)
    overlap[inside] = stats.offsets[inside, 1] > spans[index[inside], 0]
    kept = stats.select(~overlap)
    kept.n_tokens = stats.n_tokens
    return kept
