"""The Fast-DetectGPT peer of benchmarks/speed.py applies the published criterion to the statistics
of the text the detector's language models would read."""

import numpy as np
import pytest

from benchmarks.fast_detectgpt import FastDetectGPTScorer
from byline.input import article_from_text
from byline.scoring.article_features import prepare_text
from byline.scoring.token_statistics import TokenStatistics


class RecordingLanguageModel:
    """Returns fixed statistics and records the texts it was given."""

    name = "fake"

    def __init__(self, statistics: list[TokenStatistics]) -> None:
        self.statistics = statistics
        self.texts: list[str] = []

    def token_statistics(self, texts):
        self.texts.extend(texts)
        return self.statistics[: len(texts)]


def _statistics(log_probs, entropies, variances) -> TokenStatistics:
    n = len(log_probs)
    return TokenStatistics(
        model="fake",
        log_probs=np.array(log_probs, np.float32),
        entropies=np.array(entropies, np.float32),
        ranks=np.ones(n, np.int64),
        log_prob_variances=np.array(variances, np.float32),
        offsets=np.zeros((n, 2), np.int64),
        n_tokens=n,
    )


def test_scores_are_the_analytic_criterion_of_each_text():
    # (sum log p + sum H) / sqrt(sum var): (-3.5 + 3.5) / 2 = 0, then (-0.5 + 3.5) / 2 = 1.5
    stats = [
        _statistics([-1.0, -2.0, -0.5], [1.5, 1.0, 1.0], [1.0, 2.0, 1.0]),
        _statistics([0.0, -1.0, 0.5], [1.5, 1.0, 1.0], [1.0, 2.0, 1.0]),
    ]
    scorer = FastDetectGPTScorer(RecordingLanguageModel(stats))
    assert scorer.score(["one text.", "another text."]) == pytest.approx([0.0, 1.5])
    assert scorer.name == "fast-detectgpt[fake]"


def test_the_peer_reads_the_text_the_detector_reads():
    text = "The  council   met on Tuesday.\n\nIt voted to close the library."
    model = RecordingLanguageModel([_statistics([-1.0], [1.0], [1.0])])
    FastDetectGPTScorer(model).score([text])
    # Detector._detect_batch gives its language models prepare_text(article.text).reflowed
    assert model.texts == [prepare_text(article_from_text(text).text).reflowed]
    assert model.texts[0].startswith("The council met")
