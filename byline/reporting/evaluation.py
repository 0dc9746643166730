"""Accuracy measures for a detector on labelled articles.

Thresholds for "TPR at x% FPR" are set on the human texts of the data being
evaluated (the score above which x% of them fall); the shipped verdict uses
the threshold learned in training instead, and both are reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from byline.input import word_count

#: Word counts where the ``length`` slice of a report starts a new band.
LENGTH_SLICES = (100, 200, 400)


#: Record fields the figures are also given by (``length``: the text's length band; ``attack``:
#: what was done to a machine text after generation, e.g. ``paraphrase``).
GROUP_FIELDS = ("generator", "source", "task", "origin", "attack", "length")


def length_slice(text: str) -> str:
    """The report's length band of a text, e.g. ``"100-199 words"``."""
    words = word_count(text)
    starts = [0, *LENGTH_SLICES]
    for start, end in zip(starts, [*LENGTH_SLICES, None]):
        if end is None or words < end:
            return f"{start}+ words" if end is None else f"{start}-{end - 1} words"
    raise AssertionError("unreachable")


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN unless both classes are present."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).astype(int)
    if labels.min(initial=1) == labels.max(initial=0) or len(set(labels.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


def threshold_at_fpr(human_scores: np.ndarray, false_positive_rate: float) -> float:
    """The smallest threshold t with at most ``false_positive_rate`` of human scores > t."""
    human_scores = np.sort(np.asarray(human_scores, dtype=np.float64))
    if human_scores.size == 0:
        return float("nan")
    allowed = int(np.floor(false_positive_rate * human_scores.size))
    return float(human_scores[human_scores.size - allowed - 1])


def tpr_at(machine_scores: np.ndarray, threshold: float) -> float:
    machine_scores = np.asarray(machine_scores, dtype=np.float64)
    return float((machine_scores > threshold).mean()) if machine_scores.size else float("nan")


def rate_interval(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a rate of ``hits`` in ``n`` trials.

    Small groups make rates coarse (one of 42 texts is 2.4%); the interval
    says which true rates such a count is consistent with. NaNs when ``n`` is 0.
    """
    from scipy.stats import beta

    if n <= 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if hits == 0 else float(beta.ppf(tail, hits, n - hits + 1))
    high = 1.0 if hits == n else float(beta.ppf(1.0 - tail, hits + 1, n - hits))
    return low, high


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width probability bins, weighted by bin size."""
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            error += mask.mean() * abs(labels[mask].mean() - probabilities[mask].mean())
    return float(error)


def reliability_curve(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> list[dict]:
    labels = np.asarray(labels, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append(
                {
                    "bin": [float(edges[b]), float(edges[b + 1])],
                    "count": int(mask.sum()),
                    "mean_probability": float(probabilities[mask].mean()),
                    "fraction_ai": float(labels[mask].mean()),
                }
            )
    return rows


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(np.asarray(labels).astype(int), np.asarray(scores, dtype=np.float64))
    return fpr, tpr


@dataclass
class Evaluation:
    """Scores of labelled records plus what is needed to slice them."""

    labels: np.ndarray  # 1 = ai
    probabilities: np.ndarray
    verdict_ai: np.ndarray  # the shipped verdict (threshold from training)
    records: Sequence[dict]
    #: Records left out because they got no verdict, counted by reason (``too_short``, ...).
    no_verdict: dict[str, int] = field(default_factory=dict)

    def summary(self, mask: np.ndarray | None = None, human_reference: np.ndarray | None = None) -> dict:
        """AUROC, TPR at 1%/5% FPR (thresholds on ``human_reference``), ECE and the verdict's rates."""
        mask = np.ones(len(self.labels), bool) if mask is None else mask
        humans = self.probabilities[(self.labels == 0)] if human_reference is None else human_reference
        labels, scores = self.labels[mask], self.probabilities[mask]
        machine = scores[labels == 1]
        own_humans = labels == 0
        n_human = int(own_humans.sum())
        flagged_humans = int(self.verdict_ai[mask][own_humans].sum())
        threshold_1pct = threshold_at_fpr(humans, 0.01)
        return {
            "n_human": n_human,
            "n_ai": int((labels == 1).sum()),
            "auroc": auroc(
                np.concatenate([np.zeros(humans.size), np.ones(machine.size)]),
                np.concatenate([humans, machine]),
            ),
            "tpr_at_1pct_fpr": tpr_at(machine, threshold_1pct),
            # 95% interval over this group's machine texts (the threshold's own uncertainty not included)
            "tpr_at_1pct_fpr_interval": rate_interval(
                int((machine > threshold_1pct).sum()), int(machine.size)
            ),
            "tpr_at_5pct_fpr": tpr_at(machine, threshold_at_fpr(humans, 0.05)),
            "ece": expected_calibration_error(labels, scores) if labels.size else float("nan"),
            "verdict_tpr": float(self.verdict_ai[mask][labels == 1].mean())
            if (labels == 1).any()
            else float("nan"),
            "verdict_fpr": flagged_humans / n_human if n_human else float("nan"),
            "verdict_fpr_interval": rate_interval(flagged_humans, n_human),
        }

    def report(self, fields: Sequence[str] = GROUP_FIELDS) -> dict:
        """Overall figures and the same per value of each field.

        ``length`` is not a record field but the text's length band
        (:func:`length_slice`). Per-group AUROC and TPR compare that group's
        machine texts with all human texts; the verdict's false-positive rate is
        that group's own human texts. A field no record has is left out.
        """
        humans = self.probabilities[self.labels == 0]
        report: dict = {"overall": self.summary()}
        for name in fields:
            groups: dict[str, list[int]] = defaultdict(list)
            for index, record in enumerate(self.records):
                value = length_slice(record.get("text", "")) if name == "length" else record.get(name)
                groups[str(value)].append(index)
            if list(groups) == ["None"]:
                continue
            report[f"by_{name}"] = {
                value: self.summary(np.isin(np.arange(len(self.labels)), indices), humans)
                for value, indices in sorted(groups.items())
            }
        return report


def plot_roc(labels: np.ndarray, scores: np.ndarray, path: str, title: str = "ROC") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fpr, tpr = roc_points(labels, scores)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, log in zip(axes, (False, True)):
        ax.plot(fpr, tpr, color="#c2410c")
        ax.plot([0, 1], [0, 1], color="#999999", linestyle=":")
        ax.axvline(0.01, color="#1d4ed8", linestyle="--", linewidth=0.8, label="1% FPR")
        ax.set_xlabel("false-positive rate (human news flagged)")
        ax.set_ylabel("true-positive rate (machine text flagged)")
        if log:
            ax.set_xscale("log")
            ax.set_xlim(1e-3, 1)
        ax.legend(loc="lower right")
    figure.suptitle(f"{title}: AUROC {auroc(labels, scores):.4f}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_reliability(
    labels: np.ndarray, probabilities: np.ndarray, path: str, title: str = "Reliability"
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = reliability_curve(labels, probabilities)
    figure, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":")
    ax.plot(
        [r["mean_probability"] for r in rows], [r["fraction_ai"] for r in rows], marker="o", color="#c2410c"
    )
    for r in rows:
        ax.annotate(
            str(r["count"]),
            (r["mean_probability"], r["fraction_ai"]),
            fontsize=7,
            xytext=(3, -8),
            textcoords="offset points",
        )
    ax.set_xlabel("predicted probability of machine writing")
    ax.set_ylabel("observed fraction machine-written")
    ax.set_title(f"{title}: ECE {expected_calibration_error(labels, probabilities):.3f}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
