"""Byline's detector in one file: article in, calibrated verdict and evidence out.

    from byline import Detector
    result = Detector().detect(text)
    result.ai_probability, result.verdict, result.sentences, result.signals

The pipeline, layer by layer:

1. input: normalise the text (Unicode, invisible characters, look-alike
   letters, whitespace) and split it into sentences;
2. scoring: run each language model of the trained detector over the
   reflowed text (bounded windows, see :mod:`byline.scoring.language_model`)
   and summarise the token statistics and the writing style as features;
3. decision: the trained classifier turns the features into a calibrated
   probability; the verdict compares it with the threshold for the chosen
   false-positive rate on human news;
4. reporting: per-sentence probabilities from the sentence classifier, the
   share of machine-like text, and the strongest signals in plain words.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from byline.decision.trained_detector import TrainedDetector
from byline.errors import BylineWarning, InputError
from byline.input import Article, article_from_text, read_article, word_count
from byline.input.language import LanguageGuess, identify_language, is_unsupported
from byline.input.prose import not_prose_reason
from byline.reporting.result import DetectionResult, SentenceScore
from byline.reporting.signals import top_signals
from byline.scoring.article_features import (
    PreparedText,
    article_features,
    has_language_model_features,
    model_alias,
    prepare_text,
    scored_article,
    sentence_features,
)
from byline.scoring.devices import resolve_precision
from byline.scoring.language_model import LanguageModel
from byline.scoring.statistics_cache import StatisticsCache, check_precision, statistics_key
from byline.version import __version__
from byline.wording import counted

DEFAULT_FPR = 0.01
#: A sentence counts as machine-written in ``ai_share`` above this probability.
SENTENCE_AI_PROBABILITY = 0.5


def _round(value: float) -> float:
    return float(round(float(value), 4))


class Detector:
    """Scores articles with a trained detector (the shipped one by default).

    ``detector``: a directory made by ``byline train`` (or ``"default"``).
    ``fpr``: target false-positive rate on human news for the verdict.
    ``model``: run this language model (name, local path, ``.gguf`` or hub
    id) instead of the detector's first one; the classifier was trained on its
    own model's statistics, so probabilities are then not calibrated - train a
    detector for the model with ``byline train --model`` instead.
    ``precision``: ``auto`` (the default), ``float32`` or ``bfloat16`` for the
    language models. ``auto`` is bfloat16 on a CPU with bfloat16 matrix units
    (Intel AMX), where it is about twice as fast, and float32 elsewhere
    (``byline.scoring.devices.resolve_precision``); ``precision`` then holds the
    one chosen. A CPU with neither AMX nor AVX-512 BF16 emulates bfloat16,
    several times slower than float32, and a :class:`~byline.errors.BylineWarning`
    says so when it is asked for. bfloat16 token statistics differ a little from
    float32 ones; the shipped detector was trained on bfloat16 statistics and
    its accuracy is measured in both (benchmarks/README.md, "bfloat16"). Either
    way a text's probability does not depend on the texts scored with it.
    ``any_language``: score texts in every language. By default a text
    confidently in a language the detector was not trained on (the shipped
    one: English) gets the verdict ``unsupported_language`` and no
    probability, because one would mean nothing.
    """

    def __init__(
        self,
        detector: str | Path | TrainedDetector | None = None,
        *,
        fpr: float = DEFAULT_FPR,
        model: str | None = None,
        device: str | None = None,
        statistics_cache: StatisticsCache | None = None,
        precision: str = "auto",
        any_language: bool = False,
    ) -> None:
        self.precision = resolve_precision(check_precision(precision), device)
        self.any_language = any_language
        self.statistics_cache = statistics_cache
        self.trained = detector if isinstance(detector, TrainedDetector) else TrainedDetector.load(detector)
        self.fpr = self._check_fpr(fpr)
        names = list(self.trained.language_models)
        if model and model != names[0]:
            warnings.warn(
                f"detector {self.trained.name!r} was trained on {names[0]} statistics; with {model} its "
                "probabilities are not calibrated (train one with `byline train --model`)",
                BylineWarning,
                stacklevel=2,
            )
        self.language_models: dict[str, LanguageModel] = {}
        for index, name in enumerate(names):
            replaced = bool(model) and index == 0
            language_model = LanguageModel(
                model if replaced else name,
                device=device,
                window_tokens=self.trained.window_tokens,
                context_tokens=self.trained.context_tokens,
                max_scored_tokens=self.trained.max_scored_tokens,
                dtype=getattr(torch, self.precision),
            )
            if not replaced and name in self.trained.vocabularies:
                language_model.set_vocabulary(self.trained.vocabularies[name])
            self.language_models[model_alias(name)] = language_model
        self.model_description = " + ".join(lm.name for lm in self.language_models.values())
        if self.precision != "float32":
            self.model_description += f", {self.precision}"
        self.name = f"byline[{self.trained.name}]"
        # Load the language identifier (about half a second) now, with the models, not on the first article.
        identify_language("")

    @staticmethod
    def _check_fpr(fpr: float) -> float:
        if not 0.0 < float(fpr) < 1.0:
            raise ValueError(f"fpr must be between 0 and 1 (exclusive), got {fpr}")
        return float(fpr)

    def threshold(self, fpr: float | None = None, words: int | None = None) -> float:
        """Probability above which the verdict is ``ai`` at the given false-positive rate,
        for an article of ``words`` words (without it: for an article of any length
        whose length band needs no higher threshold)."""
        return self.trained.article_classifier.threshold_for_fpr(
            self._check_fpr(self.fpr if fpr is None else fpr), words
        )

    # -- public API -------------------------------------------------------------------

    def detect(self, text: str | Article, *, fpr: float | None = None) -> DetectionResult:
        """Score one article given as text or as an :class:`Article`."""
        return self.detect_many([text], fpr=fpr)[0]

    def detect_file(
        self, source: str | Path, *, fpr: float | None = None, encoding: str | None = None
    ) -> DetectionResult:
        """Read a file, ``-`` or an http(s) URL and score it."""
        return self.detect(read_article(source, encoding=encoding), fpr=fpr)

    def detect_many(
        self, texts: Iterable[str | Article], *, fpr: float | None = None, batch_size: int = 16
    ) -> list[DetectionResult]:
        """Score many articles; language-model passes are batched across them.

        Raises :class:`~byline.errors.InputError` for the first unusable text, named by its
        position in ``texts`` (``<text #0>`` is the first).
        """
        if isinstance(texts, (str, bytes, Article)):
            # Iterating a string would score its characters one by one.
            raise InputError(
                "<texts>",
                f"expected a list of texts, got one {type(texts).__name__} (use detect() for one text)",
            )
        texts = list(texts)
        articles = [
            t
            if isinstance(t, Article)
            else article_from_text(t, source=f"<text #{i}>" if len(texts) > 1 else "<text>")
            for i, t in enumerate(texts)
        ]
        results: list[DetectionResult] = []
        for start in range(0, len(articles), batch_size):
            results.extend(self._detect_batch(articles[start : start + batch_size], fpr))
        return results

    def info(self) -> dict:
        """The detector, its language models and thresholds at common false-positive rates."""
        return {
            "version": __version__,
            "detector": self.trained.name,
            "language_models": [lm.description for lm in self.language_models.values()],
            "precision": self.precision,
            "window_tokens": self.trained.window_tokens,
            "max_scored_tokens": self.trained.max_scored_tokens,
            "min_words": self.trained.min_words,
            # texts confidently in another language get no verdict (None: every language is scored)
            "languages": None if self.any_language else self.trained.languages,
            "default_fpr": self.fpr,
            "thresholds": {str(f): _round(self.threshold(f)) for f in (0.001, 0.005, 0.01, 0.02, 0.05, 0.1)},
            # outlets of the training data whose own false-positive rate every threshold holds
            "threshold_outlets": sorted(self.trained.article_classifier.outlet_margin_quantiles_),
            # thresholds at the default rate by article length: short human texts score higher
            "length_band_thresholds": [
                {
                    **band,
                    "threshold": _round(band["threshold"]),
                    "false_positive_rate": _round(band["false_positive_rate"]),
                }
                for band in self.trained.article_classifier.length_band_thresholds(self.fpr)
            ],
        }

    # -- pipeline ----------------------------------------------------------------------

    def _detect_batch(self, articles: list[Article], fpr: float | None) -> list[DetectionResult]:
        fpr = self._check_fpr(self.fpr if fpr is None else fpr)
        words = [word_count(a.text) for a in articles]
        languages = [identify_language(a.text) for a in articles]
        accepted = None if self.any_language else self.trained.languages
        unsupported = {i for i, guess in enumerate(languages) if is_unsupported(guess, accepted)}
        prepared = [prepare_text(a.text, repair=i not in unsupported) for i, a in enumerate(articles)]
        not_prose = {
            i: reason
            for i, article in enumerate(articles)
            if i not in unsupported
            and words[i] >= self.trained.min_words
            and (reason := not_prose_reason(article.text))
        }
        long_enough = [
            i
            for i, n in enumerate(words)
            if n >= self.trained.min_words and i not in unsupported and i not in not_prose
        ]
        statistics: dict[int, dict] = {i: {} for i in long_enough}
        for alias, lm in self.language_models.items():
            texts = [prepared[i].reflowed for i in long_enough]
            if self.statistics_cache is not None:
                computed = self.statistics_cache.compute_missing(
                    statistics_key(lm.name, self.precision), lm.scheme, texts, lm.token_statistics
                )
            else:
                computed = lm.token_statistics(texts)
            for i, stats in zip(long_enough, computed):
                statistics[i][alias] = stats
        results = []
        for i, (article, text) in enumerate(zip(articles, prepared)):
            threshold = self.threshold(fpr, words[i])
            base = self._base(article, text, words[i], threshold, fpr, languages[i])
            if i in unsupported:
                results.append(
                    self._unscored(text, "unsupported_language", self._language_reason(languages[i]), base)
                )
            elif i in not_prose:
                results.append(self._unscored(text, "not_prose", not_prose[i], base))
            elif i not in statistics:
                reason = (
                    f"the text has {counted(words[i], 'word')}; "
                    f"Byline needs at least {self.trained.min_words} "
                    "to judge reliably, so it gives no verdict"
                )
                results.append(self._unscored(text, "too_short", reason, base))
            else:
                results.append(self._result(text, statistics[i], threshold, base))
        return results

    def _language_reason(self, guess: LanguageGuess) -> str:
        trained = ", ".join(self.trained.languages or [])
        return (
            f"the text reads as language '{guess.code}' (ISO 639, probability {guess.probability:.2f}); "
            f"this detector was trained on '{trained}' only, so a probability would mean nothing and it "
            "gives no verdict (`--any-language` or `Detector(any_language=True)` scores it anyway, uncalibrated)"
        )

    def _base(
        self,
        article: Article,
        text: PreparedText,
        words: int,
        threshold: float,
        fpr: float,
        language: LanguageGuess,
    ) -> dict:
        return {
            "language": language.code if language.confident else None,
            "repairs": {
                "spelling": text.spelling_repairs,
                "case": text.case_repairs,
                "surrogates": article.replaced_surrogates,
            },
            "threshold": _round(threshold),
            "fpr_target": fpr,
            "model": f"{self.trained.name} ({self.model_description})",
            "n_words": words,
            "source": article.source,
            "title": article.title,
            "text": article.text,
            "version": __version__,
        }

    def _unscored(self, text: PreparedText, verdict: str, reason: str, base: dict) -> DetectionResult:
        """A result without a verdict (too short, not prose, or in a language the detector does not know)."""
        first = next(iter(self.language_models.values()))
        n_tokens = len(first.tokenizer(text.reflowed, add_special_tokens=False)["input_ids"])
        return DetectionResult(
            ai_probability=None,
            verdict=verdict,  # type: ignore[arg-type]
            n_tokens=n_tokens,
            n_scored_tokens=0,
            ai_share=None,
            sentences=[SentenceScore(s.text, s.start, s.end, None) for s in text.sentences],
            reason=reason,
            **base,
        )

    def _result(self, text: PreparedText, statistics: dict, threshold: float, base: dict) -> DetectionResult:
        scored = scored_article(text, statistics)
        classifier = self.trained.article_classifier
        features = article_features(scored, text.reflowed)
        features.update(self.trained.lexical_features([text.reflowed])[0])
        row = np.array([[features[name] for name in classifier.feature_names]])
        probability = float(classifier.predict_proba(row)[0, 1])
        contributions = classifier.contributions(row)[0, :-1]
        model_names = {alias: lm.name for alias, lm in self.language_models.items()}
        signals = top_signals(
            classifier.feature_names, row[0], contributions, model_names, self.trained.feature_medians
        )
        sentences = self._sentence_scores(scored)
        scored_chars = sum(s.end - s.start for s in sentences if s.ai_probability is not None)
        ai_chars = sum(
            s.end - s.start
            for s in sentences
            if s.ai_probability is not None and s.ai_probability > SENTENCE_AI_PROBABILITY
        )
        first = next(iter(statistics.values()))
        return DetectionResult(
            ai_probability=_round(probability),
            verdict="ai" if probability > threshold else "human",
            n_tokens=first.n_tokens,
            n_scored_tokens=first.n_scored,
            ai_share=_round(ai_chars / scored_chars) if scored_chars else None,
            sentences=sentences,
            signals=signals,
            **base,
        )

    def _sentence_scores(self, scored) -> list[SentenceScore]:
        """Each sentence's probability: from the full sentence classifier where the
        language model scored it, from style and wording alone past the budget."""
        rows = sentence_features(scored)
        for row, extra in zip(rows, self.trained.lexical_features([s.text for s in scored.sentences])):
            row.update(extra)
        probabilities: list[float | None] = [None] * len(rows)
        evidence: list[str | None] = [None] * len(rows)
        full = [i for i, r in enumerate(rows) if has_language_model_features(r)]
        rest = [i for i in range(len(rows)) if i not in set(full)]
        for indices, classifier, kind in (
            (full, self.trained.sentence_classifier, "language_model"),
            (rest, self.trained.sentence_text_classifier, "text_only"),
        ):
            if classifier is None or not indices:
                continue
            matrix = np.array([[rows[i][name] for name in classifier.feature_names] for i in indices])
            for i, p in zip(indices, classifier.predict_proba(matrix)[:, 1]):
                probabilities[i] = _round(p)
                evidence[i] = kind
        return [
            SentenceScore(s.text, s.start, s.end, p, e)
            for s, p, e in zip(scored.sentences, probabilities, evidence)
        ]


__all__ = ["DEFAULT_FPR", "Detector", "InputError"]
