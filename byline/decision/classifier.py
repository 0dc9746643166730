"""The trained part of Byline: gradient-boosted trees over features, calibrated.

scikit-learn conventions: hyper-parameters in the constructor, ``fit``,
``predict_proba``. Saved as JSON (the LightGBM model in its own text format
inside), never pickle.

Calibration is Platt scaling fitted on out-of-fold margins (folds grouped by
story, so versions of one story never sit on both sides), which keeps the
probability strictly increasing in the margin: a verdict taken at a threshold
never disagrees with the probability shown. The margins of the human training
texts, also out of fold, are kept so that a threshold can be set for any
target false-positive rate after training: pooled, and per outlet when the
training records name one. A verdict's threshold holds the target rate for
every outlet large enough to measure, not only on average, because a false
accusation falls on one newsroom's reporters, not on the average of all.
It also holds it for texts of the article's own length: short human texts get
higher machine scores (less evidence, more spread), so the human margins are
also kept per word-count band, and a short article's threshold is raised to
its band's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
_QUANTILE_LEVELS = np.linspace(0.0, 1.0, 1001)
#: Word counts where length bands start (the first band starts at the detector's minimum).
LENGTH_BAND_EDGES = (100, 150, 200, 300, 400, 600)


#: Texts' weight pulling each outlet's false-positive rate towards the pooled one when a threshold
#: is set. Each outlet's own 1% quantile rests on its two or three highest human scores, so the
#: highest of eight such quantiles sat far above the pooled one; 200 keeps a large outlet whose
#: humans score high throughout in charge of the threshold while damping that noise (the rules
#: compared: research/README.md, "Verdict thresholds").
OUTLET_SHRINKAGE = 200.0


def in_length_band(words: np.ndarray | Sequence[int], start: int, end: int | None) -> np.ndarray:
    """Which word counts fall in the length band from ``start`` up to, not including, ``end`` (None: no end)."""
    words = np.asarray(words)
    return (words >= start) & (words < end) if end is not None else words >= start


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_platt(
    margins: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Fit p = sigmoid(a * margin + b) by weighted logistic regression."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit(margins.reshape(-1, 1), labels, sample_weight=weights)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


class GradientBoostedClassifier:
    """LightGBM on a fixed, named feature list, with Platt calibration and FPR thresholds."""

    def __init__(
        self,
        feature_names: Sequence[str] = (),
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        feature_fraction: float = 0.8,
        reg_lambda: float = 1.0,
        n_folds: int = 5,
        random_state: int = 0,
        min_outlet_humans: int = 100,
        length_band_edges: Sequence[int] = LENGTH_BAND_EDGES,
        outlet_shrinkage: float = OUTLET_SHRINKAGE,
    ) -> None:
        self.feature_names = list(feature_names)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.reg_lambda = reg_lambda
        self.n_folds = n_folds
        self.random_state = random_state
        #: Outlets with fewer human training texts than this are too small to set a threshold.
        self.min_outlet_humans = min_outlet_humans
        #: Word counts that start a new length band; a band with fewer than
        #: ``min_outlet_humans`` human texts is merged into the next longer one.
        self.length_band_edges = [int(e) for e in length_band_edges]
        #: How many texts' weight pulls an outlet's false-positive rate towards the pooled one
        #: when the threshold is set ((FP + k * pooled) / (n + k)); 0: each outlet's own rate.
        self.outlet_shrinkage = float(outlet_shrinkage)
        self.booster_: Any = None
        self.platt_: tuple[float, float] = (1.0, 0.0)
        self.human_margin_quantiles_: np.ndarray = np.zeros(0)
        self.outlet_margin_quantiles_: dict[str, np.ndarray] = {}
        self.outlet_human_counts_: dict[str, int] = {}
        #: per (target rate, shrinkage), computed once; the shrinkage is in the key, so setting it
        #: later never returns a margin computed under another
        self._outlet_margins: dict[tuple[float, float], float] = {}
        #: (first word count, first word count of the next band or None, human margin quantiles)
        self.length_band_margin_quantiles_: list[tuple[int, int | None, np.ndarray]] = []
        self.oof_margins_: np.ndarray = np.zeros(0)

    # -- training -------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "deterministic": True,
            "num_threads": 2,
            "verbose": -1,
        }

    def _train(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None):
        import lightgbm as lgb

        data = lgb.Dataset(
            X, label=y, weight=w, feature_name=self.feature_names or "auto", free_raw_data=True
        )
        return lgb.train(self._params(), data, num_boost_round=self.n_estimators)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        outlets: Sequence[str | None] | None = None,
        word_counts: Sequence[int] | None = None,
    ) -> "GradientBoostedClassifier":
        """Fit on features ``X`` and labels ``y`` (1 = machine-written).

        ``groups`` (story ids) keep every version of a story in one fold.
        ``outlets`` (where each human text was published; ``None`` when unknown)
        let thresholds hold the target false-positive rate per outlet, and
        ``word_counts`` (each text's length in words) per length band.
        """
        from sklearn.model_selection import GroupKFold

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        if not self.feature_names:
            self.feature_names = [f"f{i}" for i in range(X.shape[1])]
        if X.shape[1] != len(self.feature_names):
            raise ValueError(f"X has {X.shape[1]} columns but {len(self.feature_names)} feature names")
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        oof = np.zeros(len(y))
        for train_index, test_index in GroupKFold(n_splits=self.n_folds).split(X, y, groups):
            w = None if sample_weight is None else sample_weight[train_index]
            booster = self._train(X[train_index], y[train_index], w)
            oof[test_index] = booster.predict(X[test_index], raw_score=True)
        self.oof_margins_ = oof
        self.platt_ = fit_platt(oof, y, sample_weight)
        # 1,001 quantiles of the human margins: enough for any FPR >= 0.1%.
        self.human_margin_quantiles_ = np.quantile(oof[y == 0], _QUANTILE_LEVELS)
        self.outlet_margin_quantiles_ = {}
        self.outlet_human_counts_ = {}
        self._outlet_margins = {}
        if outlets is not None:
            if len(outlets) != len(y):
                raise ValueError(f"{len(outlets)} outlets for {len(y)} texts")
            names = np.array([str(o) if o else "" for o in outlets])
            for outlet in sorted(set(names[y == 0]) - {""}):
                margins = oof[(y == 0) & (names == outlet)]
                if len(margins) >= self.min_outlet_humans:
                    self.outlet_margin_quantiles_[outlet] = np.quantile(margins, _QUANTILE_LEVELS)
                    self.outlet_human_counts_[outlet] = len(margins)
        self.length_band_margin_quantiles_ = []
        if word_counts is not None:
            if len(word_counts) != len(y):
                raise ValueError(f"{len(word_counts)} word counts for {len(y)} texts")
            human_words = np.asarray(word_counts, dtype=np.int64)[y == 0]
            for start, end in self._length_bands(human_words):
                self.length_band_margin_quantiles_.append(
                    (
                        start,
                        end,
                        np.quantile(oof[y == 0][in_length_band(human_words, start, end)], _QUANTILE_LEVELS),
                    )
                )
        self.booster_ = self._train(X, y, sample_weight)
        return self

    def _length_bands(self, human_words: np.ndarray) -> list[tuple[int, int | None]]:
        """Bands of word counts, each with at least ``min_outlet_humans`` human texts
        (a short band is merged into the next longer one, the last into the one before)."""
        starts = [0, *sorted(set(self.length_band_edges))]
        bands: list[list] = []  # [start, end, count]
        for start, end in zip(starts, [*starts[1:], None]):
            count = int(in_length_band(human_words, start, end).sum())
            if bands and bands[-1][2] < self.min_outlet_humans:
                bands[-1][1:] = [end, bands[-1][2] + count]
            else:
                bands.append([start, end, count])
        if len(bands) > 1 and bands[-1][2] < self.min_outlet_humans:
            last = bands.pop()
            bands[-1][1:] = [None, bands[-1][2] + last[2]]
        return [(start, end) for start, end, count in bands if count >= self.min_outlet_humans]

    # -- prediction -----------------------------------------------------------------

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Raw margins (log-odds before calibration); higher means more machine-like."""
        return self.booster_.predict(np.asarray(X, dtype=np.float64), raw_score=True, num_threads=1)

    def probability_from_margin(self, margins: np.ndarray | float) -> np.ndarray:
        a, b = self.platt_
        return _sigmoid(a * np.asarray(margins, dtype=np.float64) + b)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.probability_from_margin(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def threshold_for_fpr(self, false_positive_rate: float, words: int | None = None) -> float:
        """The probability above which a text is called machine-written so that,
        on the human training texts (out of fold), at most about
        ``false_positive_rate`` of them would be, overall and in every outlet
        with at least ``min_outlet_humans`` texts; given the text's length in
        ``words``, also among human texts of its length band."""
        return float(self.probability_from_margin(self._threshold_margin(false_positive_rate, words)))

    def _threshold_margin(self, false_positive_rate: float, words: int | None = None) -> float:
        if not 0.0 < false_positive_rate < 1.0:
            raise ValueError("the false-positive rate must be between 0 and 1")
        held = [self.human_margin_quantiles_]
        band = self.length_band(words) if words is not None else None
        if band is not None:
            held.append(band[2])
        margins = [float(np.interp(1.0 - false_positive_rate, _QUANTILE_LEVELS, q)) for q in held]
        return max([*margins, self._outlet_margin(false_positive_rate)])

    def _outlet_margin(self, false_positive_rate: float) -> float:
        """The lowest margin at which every measured outlet's false-positive rate, shrunk towards
        the pooled rate by ``outlet_shrinkage`` texts, is at most the target (-inf without outlets).

        Each outlet's own 1% quantile rests on its few highest human scores, and the highest of
        several such noisy quantiles sits well above what any outlet needs; shrinking each rate
        towards the pooled one, in proportion to the outlet's size, keeps the rule per outlet
        while damping that noise."""
        if not self.outlet_margin_quantiles_:
            return -np.inf
        key = (false_positive_rate, self.outlet_shrinkage)
        if key in self._outlet_margins:
            return self._outlet_margins[key]
        levels = 1.0 - false_positive_rate
        own = [float(np.interp(levels, _QUANTILE_LEVELS, q)) for q in self.outlet_margin_quantiles_.values()]
        k = self.outlet_shrinkage
        if k <= 0 or len(self.outlet_human_counts_) != len(self.outlet_margin_quantiles_):
            margin = max(own)  # each outlet's own rate (and detectors saved without counts)
        else:
            # candidates: every stored quantile between the pooled and the highest own threshold
            pooled_margin = float(np.interp(levels, _QUANTILE_LEVELS, self.human_margin_quantiles_))
            stored = np.concatenate([self.human_margin_quantiles_, *self.outlet_margin_quantiles_.values()])
            candidates = np.unique(stored[(stored >= pooled_margin) & (stored <= max(own))])
            candidates = np.append(candidates, max(own))
            pooled = 1.0 - np.interp(candidates, self.human_margin_quantiles_, _QUANTILE_LEVELS)
            worst = np.zeros(len(candidates))
            for outlet, quantiles in self.outlet_margin_quantiles_.items():
                n = self.outlet_human_counts_[outlet]
                rate = 1.0 - np.interp(candidates, quantiles, _QUANTILE_LEVELS)
                worst = np.maximum(worst, (n * rate + k * pooled) / (n + k))
            holding = np.flatnonzero(
                (worst <= false_positive_rate + 1e-12) & (pooled <= false_positive_rate + 1e-12)
            )
            margin = float(candidates[holding[0]]) if holding.size else max(own)
        self._outlet_margins[key] = margin
        return margin

    def length_band(self, words: int) -> tuple[int, int | None, np.ndarray] | None:
        """The length band a text of ``words`` words falls in (None without bands)."""
        bands = self.length_band_margin_quantiles_
        # bands are in order and the last has no end; a band that starts later is never skipped to
        return next(
            (band for band in bands if band[1] is None or words < band[1]), bands[-1] if bands else None
        )

    def length_band_thresholds(self, false_positive_rate: float) -> list[dict[str, Any]]:
        """Each length band's verdict threshold and its human texts' out-of-fold
        false-positive rate there (below the target where the pooled or an outlet's threshold is higher)."""
        rows = []
        for start, end, quantiles in self.length_band_margin_quantiles_:
            margin = self._threshold_margin(false_positive_rate, start)
            rows.append(
                {
                    "min_words": start,
                    "max_words": None if end is None else end - 1,
                    "threshold": float(self.probability_from_margin(margin)),
                    "false_positive_rate": float(1.0 - np.interp(margin, quantiles, _QUANTILE_LEVELS)),
                }
            )
        return rows

    def outlet_false_positive_rates(self, false_positive_rate: float) -> dict[str, float]:
        """Each measured outlet's out-of-fold false-positive rate at ``threshold_for_fpr``."""
        margin = self._threshold_margin(false_positive_rate)
        return {
            outlet: float(1.0 - np.interp(margin, quantiles, _QUANTILE_LEVELS))
            for outlet, quantiles in self.outlet_margin_quantiles_.items()
        }

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-feature contributions to the margin (TreeSHAP); last column is the bias."""
        return self.booster_.predict(np.asarray(X, dtype=np.float64), pred_contrib=True, num_threads=1)

    def feature_importances(self) -> dict[str, float]:
        gains = self.booster_.feature_importance(importance_type="gain")
        total = float(gains.sum()) or 1.0
        return {name: float(g) / total for name, g in zip(self.feature_names, gains)}

    # -- persistence ----------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "reg_lambda": self.reg_lambda,
            "n_folds": self.n_folds,
            "random_state": self.random_state,
            "min_outlet_humans": self.min_outlet_humans,
            "length_band_edges": list(self.length_band_edges),
            "outlet_shrinkage": self.outlet_shrinkage,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            "feature_names": self.feature_names,
            "platt": list(self.platt_),
            "human_margin_quantiles": [float(q) for q in self.human_margin_quantiles_],
            "outlet_margin_quantiles": {
                outlet: [float(q) for q in quantiles]
                for outlet, quantiles in self.outlet_margin_quantiles_.items()
            },
            "outlet_human_counts": dict(self.outlet_human_counts_),
            "length_band_margin_quantiles": [
                {"min_words": start, "end_words": end, "quantiles": [float(q) for q in quantiles]}
                for start, end, quantiles in self.length_band_margin_quantiles_
            ],
            "lightgbm_model": self.booster_.model_to_string(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GradientBoostedClassifier":
        import lightgbm as lgb

        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported classifier format {data.get('format_version')}")
        model = cls(feature_names=data["feature_names"], **data["params"])
        model.platt_ = tuple(data["platt"])  # type: ignore[assignment]
        model.human_margin_quantiles_ = np.asarray(data["human_margin_quantiles"], dtype=np.float64)
        # Detectors saved before per-outlet thresholds have none: their thresholds are pooled only.
        model.outlet_margin_quantiles_ = {
            outlet: np.asarray(quantiles, dtype=np.float64)
            for outlet, quantiles in data.get("outlet_margin_quantiles", {}).items()
        }
        model.outlet_human_counts_ = {o: int(n) for o, n in data.get("outlet_human_counts", {}).items()}
        # ... and detectors saved before length bands have none: no text's threshold depends on its length.
        model.length_band_margin_quantiles_ = [
            (
                int(band["min_words"]),
                None if band["end_words"] is None else int(band["end_words"]),
                np.asarray(band["quantiles"], dtype=np.float64),
            )
            for band in data.get("length_band_margin_quantiles", [])
        ]
        model.booster_ = lgb.Booster(model_str=data["lightgbm_model"])
        return model

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> "GradientBoostedClassifier":
        return cls.from_dict(json.loads(Path(path).read_text()))
