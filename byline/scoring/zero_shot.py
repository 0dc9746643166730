"""Zero-shot scorers: one language-model statistic, no training.

Fast-DetectGPT (Bao et al., ICLR 2024) is the reference zero-shot detector;
log-likelihood and log-rank are the classic baselines (Gehrmann et al. 2019,
Mitchell et al. 2023). Used in benchmarks and as a sanity check of the
statistics; Byline's verdict comes from the trained detector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from byline.input import article_from_text, scoring_text
from byline.scoring.language_model import LanguageModel
from byline.scoring.token_statistics import fast_detectgpt_criterion


class FastDetectGPTScorer:
    """Fast-DetectGPT's analytic criterion with one model for sampling and scoring."""

    def __init__(self, language_model: LanguageModel) -> None:
        self.language_model = language_model
        self.name = f"fast-detectgpt[{language_model.name}]"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        prepared = [scoring_text(article_from_text(t).text) for t in texts]
        stats = self.language_model.token_statistics(prepared)
        return np.array(
            [fast_detectgpt_criterion(s.log_probs, s.entropies, s.log_prob_variances) for s in stats]
        )


class LogLikelihoodScorer:
    """Mean token log-probability: machine text is more predictable."""

    def __init__(self, language_model: LanguageModel) -> None:
        self.language_model = language_model
        self.name = f"log-likelihood[{language_model.name}]"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        prepared = [scoring_text(article_from_text(t).text) for t in texts]
        stats = self.language_model.token_statistics(prepared)
        return np.array([float(s.log_probs.mean()) if s.n_scored else 0.0 for s in stats])
