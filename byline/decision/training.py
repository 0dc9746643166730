"""Fit a detector on labelled articles: :func:`train_detector` (``byline train``, training/train_default.py
and the generalisation benchmark all train through it).

Records use the corpus format of ``../shared/data``: ``text`` and ``label``
(``human``/``ai``) are required; ``group`` (story id: a human article and its
machine versions share it) keeps versions of one story in one
cross-validation fold; ``generator`` balances the sample weights.

Token statistics go through a :class:`StatisticsCache`, so retraining with
other features or hyper-parameters does not run the language models again.
"""

from __future__ import annotations

import functools
import math
import platform
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from byline.decision.classifier import GradientBoostedClassifier, in_length_band
from byline.decision.lexical import LexicalClassifier
from byline.decision.trained_detector import TrainedDetector
from byline.errors import InputError
from byline.input import Article, article_from_text, word_count
from byline.input.language import dominant_languages
from byline.scoring.article_features import (
    article_features,
    has_language_model_features,
    model_alias,
    prepare_text,
    scored_article,
    sentence_features,
)
from byline.scoring.language_model import LanguageModel, vocabulary_tag
from byline.scoring.statistics_cache import StatisticsCache, scheme_name, statistics_key
from byline.scoring.token_statistics import TokenStatistics
from byline.version import __version__
from byline.wording import counted

LABELS = {"human": 0, "ai": 1}

#: The lexical models stacked into every detector: word 1-2-grams, and
#: function-word/word-shape 1-4-grams (style without topic).
DEFAULT_LEXICAL_SPECS: dict[str, dict] = {
    "words": {"token_mode": "words", "ngram_range": (1, 2), "max_features": 50_000, "C": 4.0},
    "function_words": {
        "token_mode": "function_words",
        "ngram_range": (1, 4),
        "max_features": 100_000,
        "C": 1.0,
    },
}
#: Lexical models measured but not in the default detector (training/train_default.py and
#: benchmarks/generalisation.py take ``--with-lexical NAME``).
OPTIONAL_LEXICAL_SPECS: dict[str, dict] = {
    "characters": {"token_mode": "characters", "ngram_range": (3, 5), "max_features": 100_000, "C": 1.0},
}


def lexical_specs(optional: Sequence[str] = ()) -> dict[str, dict]:
    """The default lexical models plus the named ones of :data:`OPTIONAL_LEXICAL_SPECS`."""
    return DEFAULT_LEXICAL_SPECS | {name: OPTIONAL_LEXICAL_SPECS[name] for name in optional}


@dataclass
class FeatureTable:
    """Article features plus sentence features of a set of records."""

    names: list[str]
    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    generators: list[str]
    sentence_names: list[str]
    sentence_X: np.ndarray
    sentence_y: np.ndarray
    sentence_groups: np.ndarray
    kept: list[int]  # index of each row's record
    texts: list[str]  # reflowed article text of each row
    sentence_texts: list[str]
    sentence_rows: list[int]  # the article row each sentence row comes from
    #: where each human text was published (the record's ``source``), None when unknown or machine-written
    outlets: list[str | None] = field(default_factory=list)
    #: each row's length in words, as detection counts it (verdict thresholds hold per length band)
    word_counts: list[int] = field(default_factory=list)

    def add_columns(self, names: list[str], article_values: np.ndarray, sentence_values: np.ndarray) -> None:
        self.names += names
        self.X = np.column_stack([self.X, article_values])
        self.sentence_names += names
        self.sentence_X = np.column_stack([self.sentence_X, sentence_values])


#: Tokens of one language-model window, and tokens of the previous window each one repeats as
#: context (not scored again); every trained detector records them.
WINDOW_TOKENS = 512
CONTEXT_TOKENS = 64
#: Tokens scored per article unless the caller asks for fewer.
MAX_SCORED_TOKENS = 512
#: Folds of the out-of-fold lexical scores (fewer when the records hold fewer story groups).
LEXICAL_FOLDS = 5
#: How many unusable records an error message lists before it only counts the rest.
LISTED_PROBLEMS = 10
#: Training needs at least this many articles of each label (5 folds, each with both labels).
MIN_PER_LABEL = 10
#: Articles shorter than this get no verdict, and are left out of training.
MIN_WORDS = 50


def check_records(
    records: Sequence[dict], positions: Sequence[str] | None = None, *, min_per_label: int = MIN_PER_LABEL
) -> list[Article]:
    """Each record's text as an :class:`Article`, or one :class:`InputError` naming every unusable
    record (the first :data:`LISTED_PROBLEMS`), so a file is fixed in one pass. ``positions`` names
    each record (e.g. ``"line 7"``); the default is ``"record N"``. Each label needs
    ``min_per_label`` records."""
    problems: list[tuple[str, str]] = []  # (where, problem)
    articles: list[Article] = []
    for index, record in enumerate(records):
        where = positions[index] if positions is not None else f"record {index + 1}"
        if not isinstance(record.get("text"), str):
            problems.append((where, "missing the 'text' field"))
            continue
        try:
            articles.append(article_from_text(record["text"], source=where))  # empty, only whitespace...
        except InputError as error:
            problems.append((where, error.problem))
            continue
        if record.get("label") not in LABELS:
            problems.append((where, f"'label' must be 'human' or 'ai', got {record.get('label')!r}"))
    if len(problems) == 1:
        raise InputError(*problems[0])
    if problems:
        raise InputError(f"{len(problems)} unusable records", listed([f"{w}: {p}" for w, p in problems]))
    labels = Counter(r["label"] for r in records)
    if labels["human"] < min_per_label or labels["ai"] < min_per_label:
        raise InputError(
            counted(len(records), "record"),
            f"need at least {min_per_label} human and {min_per_label} ai, got {labels['human']} human and {labels['ai']} ai",
        )
    return articles


def check_trainable(labels: Sequence[int] | np.ndarray, min_words: int) -> None:
    """Raise an :class:`InputError` unless ``labels`` (1 = ai), those of the articles of ``min_words``
    words or more, hold :data:`MIN_PER_LABEL` of each: shorter records are left out of training, so
    checking the records is not enough."""
    ai = int(np.sum(labels))
    human = len(labels) - ai
    if human < MIN_PER_LABEL or ai < MIN_PER_LABEL:
        raise InputError(
            "training data",
            f"need at least {MIN_PER_LABEL} human and {MIN_PER_LABEL} ai articles of {min_words} words or more, "
            f"got {human} human and {ai} ai",
        )


def compute_statistics(
    texts: Sequence[str],
    language_models: Sequence[str],
    cache: StatisticsCache,
    *,
    window_tokens: int,
    context_tokens: int,
    max_scored_tokens: int,
    vocabularies: dict[str, list[int]] | None = None,
    device: str | None = None,
    dtype: str = "float32",
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, list[TokenStatistics]]:
    """Token statistics of every text under every model, from the cache where possible.

    ``dtype`` is the precision the model computes in; ``bfloat16`` statistics are cached apart
    from float32 ones (:func:`statistics_key`), since they differ slightly.
    """
    import torch

    vocabularies = vocabularies or {}
    results: dict[str, list[TokenStatistics]] = {}
    for name in language_models:
        vocabulary = vocabularies.get(name)
        tag = vocabulary_tag(vocabulary) if vocabulary else ""
        scheme = scheme_name(window_tokens, context_tokens, max_scored_tokens, tag)
        key = statistics_key(name, dtype)
        cached = cache.get_many(key, scheme, texts)
        missing = [i for i, c in enumerate(cached) if c is None]
        if missing:
            model = LanguageModel(
                name,
                device=device,
                dtype=getattr(torch, dtype),
                window_tokens=window_tokens,
                context_tokens=context_tokens,
                max_scored_tokens=max_scored_tokens,
            )
            model.set_vocabulary(vocabulary)
            done = len(texts) - len(missing)

            def report(n: int, name: str = name) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(name, done, len(texts))

            computed = cache.compute_missing(
                key, scheme, [texts[i] for i in missing], model.token_statistics, progress=report
            )
            for i, stats in zip(missing, computed):
                cached[i] = stats
        results[name] = cached  # type: ignore[assignment]
    return results


def build_feature_table(
    records: Sequence[dict],
    language_models: Sequence[str],
    cache: StatisticsCache,
    *,
    window_tokens: int = WINDOW_TOKENS,
    context_tokens: int = CONTEXT_TOKENS,
    max_scored_tokens: int = MAX_SCORED_TOKENS,
    min_words: int = MIN_WORDS,
    sentences_per_article: int = 6,
    vocabularies: dict[str, list[int]] | None = None,
    device: str | None = None,
    statistics_dtype: str = "float32",
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> FeatureTable:
    """Features of every usable record (texts under ``min_words`` are skipped).

    ``statistics_dtype`` ``bfloat16`` computes (or reads) the language-model statistics in
    bfloat16: faster on CPUs with bfloat16 units, for training; detection computes in float32.
    """
    rng = random.Random(seed)
    prepared, kept, words = [], [], []
    for index, record in enumerate(records):
        text = article_from_text(record["text"], source=f"record {index + 1}").text
        words_in_text = word_count(text)
        if words_in_text < min_words:
            continue
        prepared.append(prepare_text(text))
        kept.append(index)
        words.append(words_in_text)
    if not prepared:
        raise InputError(
            counted(len(records), "record"),
            f"none has {min_words} words or more, so there is nothing to learn from",
        )
    statistics = compute_statistics(
        [p.reflowed for p in prepared],
        language_models,
        cache,
        window_tokens=window_tokens,
        context_tokens=context_tokens,
        max_scored_tokens=max_scored_tokens,
        vocabularies=vocabularies,
        device=device,
        dtype=statistics_dtype,
        progress=progress,
    )
    aliases = [model_alias(m) for m in language_models]
    rows, sentence_rows, sentence_labels, sentence_groups = [], [], [], []
    sentence_texts, sentence_articles = [], []
    for position, (index, text) in enumerate(zip(kept, prepared)):
        by_alias = {alias: statistics[name][position] for alias, name in zip(aliases, language_models)}
        article = scored_article(text, by_alias)
        rows.append(article_features(article, text.reflowed))
        scored = [
            (span, f)
            for span, f in zip(article.sentences, sentence_features(article))
            if has_language_model_features(f)
        ]
        for span, features in rng.sample(scored, min(sentences_per_article, len(scored))):
            sentence_rows.append(features)
            sentence_texts.append(span.text)
            sentence_articles.append(position)
            sentence_labels.append(LABELS[records[index]["label"]])
            sentence_groups.append(str(records[index].get("group", index)))
    names = list(rows[0])
    sentence_names = list(sentence_rows[0]) if sentence_rows else []
    return FeatureTable(
        names=names,
        X=np.array([[r[n] for n in names] for r in rows]),
        y=np.array([LABELS[records[i]["label"]] for i in kept]),
        groups=np.array([str(records[i].get("group", i)) for i in kept]),
        generators=[str(records[i].get("generator", records[i]["label"])) for i in kept],
        sentence_names=sentence_names,
        sentence_X=np.array([[r[n] for n in sentence_names] for r in sentence_rows]),
        sentence_y=np.array(sentence_labels),
        sentence_groups=np.array(sentence_groups),
        kept=kept,
        texts=[p.reflowed for p in prepared],
        sentence_texts=sentence_texts,
        sentence_rows=sentence_articles,
        outlets=[records[i].get("source") if records[i]["label"] == "human" else None for i in kept],
        word_counts=words,
    )


def add_lexical_features(
    table: FeatureTable,
    specs: dict[str, dict],
    extra_texts: Sequence[str] = (),
    extra_labels: Sequence[int] = (),
    extra_groups: Sequence[str] = (),
    n_folds: int = LEXICAL_FOLDS,
) -> dict[str, LexicalClassifier]:
    """Fit lexical classifiers and add their log-odds as features, out of fold.

    The classifiers may learn from more texts than the table holds
    (``extra_*``: articles without language-model statistics, which cost
    nothing to add). Every table row and sentence gets its score from the fold
    model that did not see its story, so the classifiers stacked on top
    learn how far to trust it on unseen text. Returns models fitted on all texts.
    """
    from sklearn.model_selection import GroupKFold

    texts = list(table.texts) + list(extra_texts)
    labels = np.concatenate([table.y, np.asarray(extra_labels, dtype=int)])
    groups = np.concatenate([table.groups, np.asarray(extra_groups, dtype=str)]).astype(str)
    weights = np.where(labels == 1, 0.5 / labels.mean(), 0.5 / (1 - labels.mean()))
    article_fold = np.zeros(len(texts), dtype=int)
    folds = list(GroupKFold(n_splits=n_folds).split(texts, labels, groups))
    for fold, (_, test_index) in enumerate(folds):
        article_fold[test_index] = fold
    sentence_fold = article_fold[np.asarray(table.sentence_rows, dtype=int)]
    models: dict[str, LexicalClassifier] = {}
    for name, params in specs.items():
        article_values = np.zeros(len(table.texts))
        sentence_values = np.zeros(len(table.sentence_texts))
        for fold, (train_index, _) in enumerate(folds):
            model = LexicalClassifier(**params).fit(
                [texts[i] for i in train_index], labels[train_index], weights[train_index]
            )
            rows = np.flatnonzero(article_fold[: len(table.texts)] == fold)
            article_values[rows] = model.decision_function([table.texts[i] for i in rows])
            sentences = np.flatnonzero(sentence_fold == fold)
            if sentences.size:
                sentence_values[sentences] = model.decision_function(
                    [table.sentence_texts[i] for i in sentences]
                )
        table.add_columns([f"lexical.{name}"], article_values, sentence_values)
        models[name] = LexicalClassifier(**params).fit(texts, labels, weights)
    return models


def listed(problems: Sequence[str], limit: int = LISTED_PROBLEMS) -> str:
    """``problems`` joined by "; ", the first ``limit`` of them and a count of the rest."""
    shown = "; ".join(problems[:limit])
    return shown + (f"; and {len(problems) - limit} more" if len(problems) > limit else "")


#: Models with more output tokens than this get a vocabulary subset (see LanguageModel.set_vocabulary).
LARGE_VOCABULARY = 65536


@functools.cache  # loading Gemma's 262k-token tokenizer takes seconds; callers ask twice
def _tokenizer(name: str):
    from transformers import AutoTokenizer

    from byline.scoring.model_files import resolve_model_path

    path, gguf_file = resolve_model_path(name)
    return AutoTokenizer.from_pretrained(path, **({"gguf_file": gguf_file} if gguf_file else {}))


def has_large_vocabulary(name: str) -> bool:
    """Whether training gives ``name`` a vocabulary subset (more than :data:`LARGE_VOCABULARY` tokens)."""
    return len(_tokenizer(name)) > LARGE_VOCABULARY


def vocabulary_subsets(
    language_models: Sequence[str], texts: Sequence[str], size: int = 32768
) -> dict[str, list[int]]:
    """For each model with a very large vocabulary, the ``size`` tokens most frequent in ``texts``."""
    from byline.scoring.language_model import frequent_token_ids

    subsets = {}
    for name in language_models:
        tokenizer = _tokenizer(name)
        if len(tokenizer) > LARGE_VOCABULARY:
            subsets[name] = frequent_token_ids(tokenizer, texts, size)
    return subsets


def balanced_weights(labels: np.ndarray, generators: Sequence[str]) -> np.ndarray:
    """Sample weights giving both classes equal total weight, and each
    generator within the machine class a weight growing only with the square
    root of its size, so large generators do not drown small ones."""
    counts = Counter(generators)
    weights = np.array([1.0 / math.sqrt(counts[g]) for g in generators])
    for label in (0, 1):
        mask = labels == label
        weights[mask] *= mask.sum() / weights[mask].sum()
        weights[mask] *= len(labels) / (2.0 * mask.sum())
    return weights


def feature_medians(table: FeatureTable) -> dict[str, dict[str, float]]:
    return {
        name: {
            "human": float(np.median(table.X[table.y == 0, j])),
            "ai": float(np.median(table.X[table.y == 1, j])),
        }
        for j, name in enumerate(table.names)
    }


def fit_detector(
    table: FeatureTable,
    *,
    name: str,
    language_models: Sequence[str],
    window_tokens: int = WINDOW_TOKENS,
    context_tokens: int = CONTEXT_TOKENS,
    max_scored_tokens: int = MAX_SCORED_TOKENS,
    min_words: int = MIN_WORDS,
    feature_names: Sequence[str] | None = None,
    classifier_params: dict | None = None,
    lexical_classifiers: dict[str, LexicalClassifier] | None = None,
    vocabularies: dict[str, list[int]] | None = None,
    metadata: dict | None = None,
) -> TrainedDetector:
    """Fit the article and sentence classifiers on a feature table."""
    check_trainable(table.y, min_words)
    names = list(feature_names or table.names)
    columns = [table.names.index(n) for n in names]
    weights = balanced_weights(table.y, table.generators)
    article = GradientBoostedClassifier(feature_names=names, **(classifier_params or {}))
    article.fit(
        table.X[:, columns],
        table.y,
        groups=table.groups,
        sample_weight=weights,
        outlets=table.outlets or None,
        word_counts=table.word_counts or None,
    )
    sentence = sentence_text = None
    if len(table.sentence_y) and len(set(table.sentence_y.tolist())) == 2:
        sentence_weights = np.where(
            table.sentence_y == 1, 0.5 / table.sentence_y.mean(), 0.5 / (1 - table.sentence_y.mean())
        )
        sentence = GradientBoostedClassifier(feature_names=table.sentence_names, n_estimators=300)
        sentence.fit(
            table.sentence_X, table.sentence_y, groups=table.sentence_groups, sample_weight=sentence_weights
        )
        # for sentences past the language model's budget: the same sentences, text features only
        text_columns = [j for j, n in enumerate(table.sentence_names) if not n.startswith("lm.")]
        sentence_text = GradientBoostedClassifier(
            feature_names=[table.sentence_names[j] for j in text_columns], n_estimators=300
        )
        sentence_text.fit(
            table.sentence_X[:, text_columns],
            table.sentence_y,
            groups=table.sentence_groups,
            sample_weight=sentence_weights,
        )
    info = {
        "trained_on": date.today().isoformat(),
        "byline_version": __version__,
        "python": platform.python_version(),
        "n_articles": int(len(table.y)),
        "n_human": int((table.y == 0).sum()),
        "n_ai": int((table.y == 1).sum()),
        "n_sentences": int(len(table.sentence_y)),
        # outlets whose own out-of-fold false-positive rate the verdict's threshold holds
        "threshold_outlets": {
            outlet: int(sum(1 for o in table.outlets if o == outlet))
            for outlet in sorted(article.outlet_margin_quantiles_)
        },
        # length bands whose own out-of-fold false-positive rate it holds, with their human texts
        "threshold_length_bands": [
            {
                "min_words": start,
                "max_words": None if end is None else end - 1,
                "n_human": int(in_length_band(np.asarray(table.word_counts)[table.y == 0], start, end).sum()),
            }
            for start, end, _ in article.length_band_margin_quantiles_
        ],
        "feature_importance": dict(sorted(article.feature_importances().items(), key=lambda kv: -kv[1])),
    }
    info.update(metadata or {})
    medians = feature_medians(table)
    return TrainedDetector(
        name=name,
        language_models=list(language_models),
        article_classifier=article,
        sentence_classifier=sentence,
        sentence_text_classifier=sentence_text,
        window_tokens=window_tokens,
        context_tokens=context_tokens,
        max_scored_tokens=max_scored_tokens,
        min_words=min_words,
        feature_medians={n: medians[n] for n in names},
        lexical_classifiers=dict(lexical_classifiers or {}),
        vocabularies=dict(vocabularies or {}),
        languages=dominant_languages(table.texts),
        metadata=info,
    )


def train_detector(
    records: Sequence[dict],
    language_models: Sequence[str],
    cache: StatisticsCache,
    *,
    name: str,
    max_scored_tokens: int = MAX_SCORED_TOKENS,
    min_words: int = MIN_WORDS,
    lexical: dict[str, dict] = DEFAULT_LEXICAL_SPECS,
    extra_texts: Sequence[str] | None = None,
    extra_labels: Sequence[int] = (),
    extra_groups: Sequence[str] = (),
    lexical_folds: int = LEXICAL_FOLDS,
    vocabularies: dict[str, list[int]] | None = None,
    device: str | None = None,
    statistics_dtype: str = "float32",
    progress: Callable[[str, int, int], None] | None = None,
    metadata: dict | None = None,
) -> TrainedDetector:
    """A detector fitted on labelled ``records`` (see :func:`check_records`): their features
    (:func:`build_feature_table`, language models in windows of :data:`WINDOW_TOKENS`), then
    :func:`detector_from_table`. The arguments are theirs."""
    table = build_feature_table(
        records,
        language_models,
        cache,
        window_tokens=WINDOW_TOKENS,
        context_tokens=CONTEXT_TOKENS,
        max_scored_tokens=max_scored_tokens,
        min_words=min_words,
        vocabularies=vocabularies,
        device=device,
        statistics_dtype=statistics_dtype,
        progress=progress,
    )
    return detector_from_table(
        table,
        name=name,
        language_models=language_models,
        max_scored_tokens=max_scored_tokens,
        min_words=min_words,
        lexical=lexical,
        extra_texts=extra_texts,
        extra_labels=extra_labels,
        extra_groups=extra_groups,
        lexical_folds=lexical_folds,
        vocabularies=vocabularies,
        metadata=metadata,
    )


def detector_from_table(
    table: FeatureTable,
    *,
    name: str,
    language_models: Sequence[str],
    max_scored_tokens: int = MAX_SCORED_TOKENS,
    min_words: int = MIN_WORDS,
    lexical: dict[str, dict] = DEFAULT_LEXICAL_SPECS,
    extra_texts: Sequence[str] | None = None,
    extra_labels: Sequence[int] = (),
    extra_groups: Sequence[str] = (),
    lexical_folds: int = LEXICAL_FOLDS,
    feature_names: Sequence[str] | None = None,
    vocabularies: dict[str, list[int]] | None = None,
    metadata: dict | None = None,
) -> TrainedDetector:
    """The second half of :func:`train_detector`, for callers that fit several detectors on parts
    of one feature table (it gains the lexical columns): the ``lexical`` models, which also learn
    from the ``extra_*`` articles, add their out-of-fold scores, then :func:`fit_detector` fits
    the classifiers (on ``feature_names``, default all). Given ``extra_texts``, the metadata
    records ``lexical_training_articles``."""
    groups = set(table.groups.tolist()) | set(map(str, extra_groups))
    lexical_classifiers = (
        add_lexical_features(
            table,
            lexical,
            extra_texts or (),
            extra_labels,
            extra_groups,
            n_folds=min(lexical_folds, len(groups)),
        )
        if lexical
        else {}
    )
    if extra_texts is not None:
        metadata = {**(metadata or {}), "lexical_training_articles": len(table.texts) + len(extra_texts)}
    return fit_detector(
        table,
        name=name,
        language_models=language_models,
        window_tokens=WINDOW_TOKENS,
        context_tokens=CONTEXT_TOKENS,
        max_scored_tokens=max_scored_tokens,
        min_words=min_words,
        feature_names=feature_names,
        lexical_classifiers=lexical_classifiers,
        vocabularies=vocabularies,
        metadata=metadata,
    )
