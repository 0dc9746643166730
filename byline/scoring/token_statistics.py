"""Per-token statistics of a causal language model, computed from its logits.

All functions take ``logits`` of shape ``[..., T, V]`` (the model's scores for
the token at each position, already aligned with ``targets`` so that
``logits[..., t, :]`` predicts ``targets[..., t]``) and work in float32 for
stable sums. Natural logarithms throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def token_log_probs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(x_t | x_<t): the log-softmax of the logits at the observed token."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    return log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def token_entropies(logits: torch.Tensor) -> torch.Tensor:
    """H_t = -sum_v p_t(v) log p_t(v), the model's uncertainty before seeing x_t."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    return -(log_probs.exp() * log_probs).sum(-1)


def token_ranks(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """1 + the number of vocabulary items scored strictly above the observed token.

    Rank 1 means the model's top guess was the token that was written.
    """
    target_logits = logits.gather(-1, targets.unsqueeze(-1))
    return (logits > target_logits).sum(-1) + 1


def token_log_prob_variances(logits: torch.Tensor) -> torch.Tensor:
    """Var_{v~p_t}[log p_t(v)] = sum_v p log^2 p - (sum_v p log p)^2.

    The spread of log-likelihood a token sampled from the model itself would
    have; the denominator of the Fast-DetectGPT criterion.
    """
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    probs = log_probs.exp()
    mean = (probs * log_probs).sum(-1)
    return ((probs * log_probs.square()).sum(-1) - mean.square()).clamp_min(0.0)


def fast_detectgpt_criterion(
    log_probs: np.ndarray, entropies: np.ndarray, log_prob_variances: np.ndarray
) -> float:
    """Analytic sampling discrepancy of Fast-DetectGPT (Bao et al., ICLR 2024).

    d(x) = (sum_t log p(x_t) - sum_t mu_t) / sqrt(sum_t sigma_t^2), where
    mu_t = E_{v~p_t}[log p_t(v)] = -H_t and sigma_t^2 is the variance above,
    i.e. how much more likely the text is than text the model would sample
    itself, in standard deviations. Machine text scores high. Uses the same
    model for sampling and scoring, as the paper's white-box setting.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.size == 0:
        return 0.0
    expected = -np.asarray(entropies, dtype=np.float64)
    variance = float(np.sum(log_prob_variances, dtype=np.float64))
    return float((log_probs.sum() - expected.sum()) / np.sqrt(max(variance, 1e-12)))


@dataclass
class TokenStatistics:
    """Statistics of every scored token of one text under one language model.

    ``offsets`` holds each token's ``(start, end)`` character span in the text
    that was scored; tokens without a span (special tokens) are not included.
    ``n_tokens`` counts every token of the text, also those beyond the scored
    budget (see :class:`~byline.scoring.language_model.LanguageModel`).
    """

    model: str
    log_probs: np.ndarray
    entropies: np.ndarray
    ranks: np.ndarray
    log_prob_variances: np.ndarray
    offsets: np.ndarray
    n_tokens: int

    @property
    def n_scored(self) -> int:
        return int(self.log_probs.size)

    def select(self, mask: np.ndarray) -> "TokenStatistics":
        """The statistics of the tokens where ``mask`` is true (e.g. one sentence)."""
        return TokenStatistics(
            model=self.model,
            log_probs=self.log_probs[mask],
            entropies=self.entropies[mask],
            ranks=self.ranks[mask],
            log_prob_variances=self.log_prob_variances[mask],
            offsets=self.offsets[mask],
            n_tokens=int(mask.sum()),
        )


#: Rows of logits processed together by :func:`statistics_from_logits`: small enough that the
#: temporaries of one block (rows x vocabulary) stay in the CPU's cache between passes.
_ROWS_PER_BLOCK = 32


def statistics_from_logits(
    logits: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """All four per-token statistics in a few passes over the logits (the hot path of detection).

    Returns ``(log_probs, entropies, ranks, log_prob_variances)``, each shaped
    like ``targets``; equal to calling the four functions above separately, to
    float32 rounding. It is faster than a log-softmax over the whole chunk: one
    ``exp`` per logit instead of an ``exp`` and a log-softmax, temporaries reused
    in place, and blocks of rows small enough for the cache.
    With ``x`` the logits shifted by their maximum and ``p = exp(x) / Z``:
    ``log p(target) = x_target - log Z``, ``E_p[log p] = E_p[x] - log Z`` and
    ``Var_p[log p] = Var_p[x]`` (a constant shift does not change a variance).
    """
    vocabulary = logits.shape[-1]
    parts: list[list[torch.Tensor]] = [[], [], [], []]
    # split() yields one empty block for no rows, so empty input needs no case of its own.
    blocks = zip(
        logits.reshape(-1, vocabulary).split(_ROWS_PER_BLOCK), targets.reshape(-1, 1).split(_ROWS_PER_BLOCK)
    )
    for block, target in blocks:
        block = block.float()
        target_logits = block.gather(-1, target)
        ranks = (block > target_logits).sum(-1) + 1
        top = block.amax(-1, keepdim=True)
        shifted = block - top
        weighted = shifted.exp()
        partition = weighted.sum(-1, keepdim=True)
        log_partition = partition.log()
        weighted.mul_(shifted)  # p * x (unnormalised); exp(x) is not needed again
        mean = weighted.sum(-1, keepdim=True) / partition
        second_moment = weighted.mul_(shifted).sum(-1, keepdim=True) / partition
        log_probs = target_logits - top - log_partition
        entropies = log_partition - mean
        variances = (second_moment - mean.square()).clamp_min(0.0)
        for part, values in zip(parts, (log_probs, entropies, ranks, variances)):
            part.append(values.reshape(-1))
    return tuple(torch.cat(part).reshape(targets.shape) for part in parts)  # type: ignore[return-value]
