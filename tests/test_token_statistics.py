import math

import numpy as np
import pytest
import torch

from byline.scoring.token_statistics import (
    fast_detectgpt_criterion,
    statistics_from_logits,
    token_entropies,
    token_log_prob_variances,
    token_log_probs,
    token_ranks,
)


def test_uniform_distribution():
    logits = torch.zeros(3, 8)
    targets = torch.tensor([0, 5, 7])
    assert torch.allclose(token_log_probs(logits, targets), torch.full((3,), -math.log(8)))
    assert torch.allclose(token_entropies(logits), torch.full((3,), math.log(8)))
    # no token scores strictly higher than another: every rank is 1
    assert token_ranks(logits, targets).tolist() == [1, 1, 1]
    # log p is constant, so its variance is zero
    assert torch.allclose(token_log_prob_variances(logits), torch.zeros(3), atol=1e-6)


def test_hand_checked_three_token_vocabulary():
    # p = (1/2, 1/4, 1/4) from logits log p
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    lp = np.log([0.5, 0.25, 0.25])
    entropy = -(0.5 * lp[0] + 0.25 * lp[1] + 0.25 * lp[2])  # 1.5 ln 2
    mean = -entropy
    variance = 0.5 * lp[0] ** 2 + 0.25 * lp[1] ** 2 + 0.25 * lp[2] ** 2 - mean**2
    assert token_log_probs(logits, torch.tensor([1])).item() == pytest.approx(math.log(0.25), abs=1e-6)
    assert token_entropies(logits).item() == pytest.approx(1.5 * math.log(2), abs=1e-6)
    assert token_ranks(logits, torch.tensor([0])).item() == 1
    assert token_ranks(logits, torch.tensor([2])).item() == 2  # only token 0 is strictly higher
    assert token_log_prob_variances(logits).item() == pytest.approx(variance, abs=1e-6)
    assert variance == pytest.approx(0.25 * math.log(2) ** 2)


def test_fused_statistics_match_the_separate_functions():
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 50) * 3
    targets = torch.randint(0, 50, (2, 5))
    log_probs, entropies, ranks, variances = statistics_from_logits(logits, targets)
    assert torch.allclose(log_probs, token_log_probs(logits, targets))
    assert torch.allclose(entropies, token_entropies(logits), atol=1e-5)
    assert torch.equal(ranks, token_ranks(logits, targets))
    assert torch.allclose(variances, token_log_prob_variances(logits), atol=1e-4)


def test_fast_detectgpt_criterion_formula():
    log_probs = np.array([-1.0, -2.0, -0.5])
    entropies = np.array([1.5, 1.0, 1.0])
    variances = np.array([1.0, 2.0, 1.0])
    # (sum lp - sum(-H)) / sqrt(sum var) = (-3.5 + 3.5) / 2 = 0
    assert fast_detectgpt_criterion(log_probs, entropies, variances) == pytest.approx(0.0)
    assert fast_detectgpt_criterion(log_probs + 1.0, entropies, variances) == pytest.approx(1.5)
    assert fast_detectgpt_criterion(np.array([]), np.array([]), np.array([])) == 0.0


def test_text_sampled_from_the_model_scores_near_zero_and_its_argmax_scores_high():
    torch.manual_seed(0)
    logits = torch.randn(4000, 30) * 2
    sampled = torch.distributions.Categorical(logits=logits).sample()
    greedy = logits.argmax(-1)
    lp, ent, _, var = (t.numpy() for t in statistics_from_logits(logits, sampled))
    # a sample from the model itself: the criterion is ~ N(0, 1)
    assert abs(fast_detectgpt_criterion(lp, ent, var)) < 4
    lp, ent, ranks, var = (t.numpy() for t in statistics_from_logits(logits, greedy))
    assert fast_detectgpt_criterion(lp, ent, var) > 20
    assert (ranks == 1).all()


def test_fused_statistics_are_float64_accurate_over_a_large_vocabulary():
    # A real vocabulary: most of the mass on a few tokens, some rows nearly certain, bfloat16 logits.
    torch.manual_seed(2)
    logits = torch.randn(70, 4096) * 3
    logits[:, :20] += 12
    logits[:5, 7] += 40
    targets = torch.randint(0, 4096, (70,))
    exact = torch.log_softmax(logits.double(), dim=-1)
    probs = exact.exp()
    mean = (probs * exact).sum(-1)
    variance = (probs * (exact - mean.unsqueeze(-1)).square()).sum(-1)
    log_probs, entropies, ranks, variances = statistics_from_logits(logits, targets)
    assert torch.allclose(log_probs.double(), exact.gather(-1, targets.unsqueeze(-1)).squeeze(-1), atol=1e-4)
    assert torch.allclose(entropies.double(), -mean, atol=1e-4)
    assert torch.allclose(variances.double(), variance, atol=1e-4)
    assert torch.equal(ranks, token_ranks(logits, targets))
    assert (variances[:5] < 1e-3).all()  # a nearly certain prediction has no spread
    half = statistics_from_logits(logits.bfloat16(), targets)
    assert half[0].dtype == torch.float32
    assert torch.allclose(half[1], entropies, atol=0.05)


def test_fused_statistics_of_no_tokens_are_empty():
    log_probs, entropies, ranks, variances = statistics_from_logits(
        torch.zeros(0, 10), torch.zeros(0, dtype=torch.long)
    )
    assert log_probs.shape == entropies.shape == ranks.shape == variances.shape == (0,)
