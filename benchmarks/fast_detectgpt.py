"""The Fast-DetectGPT reference detector, the cheapest zero-shot peer that runs on a CPU, for speed
comparisons (benchmarks/speed.py).

Fast-DetectGPT (Bao et al., ICLR 2024) in its analytic, white-box form: one language model both
samples and scores, and the criterion is
:func:`byline.scoring.token_statistics.fast_detectgpt_criterion` (tested against the paper's
formula in tests/test_token_statistics.py). The published setting reads up to 512 tokens.
Benchmark code only: Byline's verdict comes from its trained detector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from byline.input import article_from_text, scoring_text
from byline.scoring.language_model import LanguageModel
from byline.scoring.token_statistics import fast_detectgpt_criterion

#: The reference reads this many tokens of an article, in one window (it scores all but the first).
PEER_TOKENS = 512


class FastDetectGPTScorer:
    """Fast-DetectGPT's analytic criterion with one model for sampling and scoring."""

    def __init__(self, language_model: LanguageModel) -> None:
        self.language_model = language_model
        self.name = f"fast-detectgpt[{language_model.name}]"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """The criterion of each text (machine text scores high), in order."""
        prepared = [scoring_text(article_from_text(t).text) for t in texts]
        stats = self.language_model.token_statistics(prepared)
        return np.array(
            [fast_detectgpt_criterion(s.log_probs, s.entropies, s.log_prob_variances) for s in stats]
        )


def reference_peer(model: str = "smollm2-135m", precision: str = "float32") -> FastDetectGPTScorer:
    """Fast-DetectGPT on ``model`` reading the first :data:`PEER_TOKENS` tokens in one window."""
    language_model = LanguageModel(
        model,
        window_tokens=PEER_TOKENS,
        context_tokens=64,
        max_scored_tokens=PEER_TOKENS - 1,
        dtype=getattr(torch, precision),
    )
    return FastDetectGPTScorer(language_model)
