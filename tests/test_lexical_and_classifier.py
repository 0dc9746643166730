import json

import numpy as np
import pytest

from byline.decision.classifier import GradientBoostedClassifier
from byline.decision.lexical import LexicalClassifier, word_shapes

HUMAN = [
    "Police said the man, 34, was arrested on Tuesday night after a crash on the A40 near Oxford.",
    "The club confirmed the striker had signed a two-year deal, ending weeks of speculation.",
    "Shares in the retailer fell 4% after it warned that sales over Christmas had been weak.",
    "Residents told the BBC they had been waiting for the bridge to reopen since March.",
]
MACHINE = [
    "In a significant development, the community has come together to foster a vibrant future.",
    "This pivotal moment underscores the crucial importance of collaboration and innovation.",
    "Moreover, the initiative highlights a comprehensive commitment to sustainable growth.",
    "Ultimately, the landscape of local governance continues to evolve in profound ways.",
]


def test_word_shapes_keep_function_words_and_hide_topic():
    assert (
        word_shapes("Mr Smith said the Minister met 12 officials in NATO.")
        == "mr Xx said the Xx x 9 x in XX ."
    )


def test_lexical_classifier_learns_and_round_trips_through_json():
    texts = HUMAN * 5 + MACHINE * 5
    y = np.array([0] * 20 + [1] * 20)
    for mode in ("words", "function_words", "characters"):
        ngrams = (3, 5) if mode == "characters" else (1, 2)
        model = LexicalClassifier(token_mode=mode, ngram_range=ngrams, min_df=1, max_features=1000).fit(
            texts, y
        )
        margins = model.decision_function(texts)
        assert margins[y == 1].mean() > margins[y == 0].mean()
        restored = LexicalClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
        assert np.allclose(restored.decision_function(texts), margins)


@pytest.mark.parametrize("mode, ngrams", [("words", (1, 2)), ("characters", (3, 5))])
def test_years_do_not_reach_the_word_or_character_model(mode, ngrams):
    texts = [f"The report was published in {year}." for year in (1999, 2004, 2023, 2024)] * 3
    y = np.array([0, 0, 1, 1] * 3)
    model = LexicalClassifier(token_mode=mode, ngram_range=ngrams, min_df=1).fit(texts, y)
    assert np.allclose(model.decision_function(texts), model.decision_function(texts)[0])


def test_the_character_model_reads_parts_of_words_and_rejects_unknown_modes():
    model = LexicalClassifier(token_mode="characters", ngram_range=(3, 4), min_df=1).fit(
        HUMAN + MACHINE, np.array([0] * 4 + [1] * 4)
    )
    terms = model.to_dict()["terms"]
    assert (
        " Mo" in terms and "ly," in terms
    )  # "Moreover" and "Ultimately," in pieces, case and punctuation kept
    with pytest.raises(ValueError, match="token_mode must be one of"):
        LexicalClassifier(token_mode="bytes")


def test_gradient_boosted_classifier_calibration_threshold_and_json():
    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 2, n)
    X = np.column_stack([y + rng.normal(0, 1.0, n), rng.normal(0, 1, n)])
    groups = np.arange(n) // 2
    model = GradientBoostedClassifier(feature_names=["signal", "noise"], n_estimators=60, n_folds=3).fit(
        X, y, groups=groups
    )
    p = model.predict_proba(X)[:, 1]
    assert ((p > 0.5) == y).mean() > 0.75
    # stricter false-positive targets give higher thresholds
    assert model.threshold_for_fpr(0.01) > model.threshold_for_fpr(0.1) > model.threshold_for_fpr(0.5)
    # out-of-fold human margins: about 10% of humans score above the 10% threshold
    oof = model.probability_from_margin(model.oof_margins_)
    assert abs((oof[y == 0] > model.threshold_for_fpr(0.1)).mean() - 0.1) < 0.03
    importances = model.feature_importances()
    assert importances["signal"] > importances["noise"]
    restored = GradientBoostedClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.allclose(restored.predict_proba(X), model.predict_proba(X))
    assert restored.threshold_for_fpr(0.01) == pytest.approx(model.threshold_for_fpr(0.01))
    with pytest.raises(ValueError):
        model.threshold_for_fpr(0.0)


def test_threshold_holds_the_false_positive_rate_in_every_outlet():
    """One outlet whose reporters write in a machine-like house style must not carry the
    false accusations that a pooled threshold would put on it."""
    rng = np.random.default_rng(1)
    n = 1200
    y = rng.integers(0, 2, n)
    outlets = np.where(y == 0, rng.choice(["wire", "local", "tiny"], n, p=[0.6, 0.37, 0.03]), None)
    # the wire service's humans lean towards the machine side of the signal
    X = np.column_stack(
        [2.0 * y + np.where(outlets == "wire", 0.8, 0.0) + rng.normal(0, 1.0, n), rng.normal(0, 1, n)]
    )
    groups = np.arange(n)
    pooled = GradientBoostedClassifier(feature_names=["signal", "noise"], n_estimators=60, n_folds=3).fit(
        X, y, groups=groups
    )
    model = GradientBoostedClassifier(
        feature_names=["signal", "noise"], n_estimators=60, n_folds=3, outlet_shrinkage=0
    ).fit(X, y, groups=groups, outlets=list(outlets))
    assert set(model.outlet_margin_quantiles_) == {"wire", "local"}  # "tiny" is too small to measure
    oof = model.probability_from_margin(model.oof_margins_)
    wire = (y == 0) & (outlets == "wire")
    # pooled, the wire service carries more than its share; per outlet, it holds the target
    assert (oof[wire] > pooled.threshold_for_fpr(0.05)).mean() > 0.07
    assert (oof[wire] > model.threshold_for_fpr(0.05)).mean() <= 0.06
    assert model.threshold_for_fpr(0.05) > pooled.threshold_for_fpr(0.05)
    rates = model.outlet_false_positive_rates(0.05)
    assert rates["wire"] == pytest.approx(0.05, abs=0.01) and rates["local"] < 0.05
    restored = GradientBoostedClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.threshold_for_fpr(0.05) == pytest.approx(model.threshold_for_fpr(0.05))
    # shrunk outlet rates: saved with the outlets' sizes, restored to the same threshold
    model.outlet_shrinkage = 50.0
    restored = GradientBoostedClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.outlet_human_counts_ == model.outlet_human_counts_ and restored.outlet_shrinkage == 50.0
    assert restored.threshold_for_fpr(0.05) == pytest.approx(model.threshold_for_fpr(0.05))
    with pytest.raises(ValueError):
        model.fit(X, y, groups=groups, outlets=["wire"])


def test_shrunk_outlet_rates_lower_a_threshold_set_by_one_small_outlets_few_highest_scores():
    """An outlet of 100 humans whose 1% quantile rests on two high scores set the threshold
    for everyone; shrunk towards the pooled rate, the threshold falls between the pooled one and
    that outlet's own, every outlet's shrunk rate holds the target, and it survives saving."""
    levels = np.linspace(0.0, 1.0, 1001)
    rng = np.random.default_rng(3)
    big = rng.normal(0.0, 1.0, 2000)
    small = np.concatenate([rng.normal(0.0, 1.0, 98), [3.5, 3.8]])
    model = GradientBoostedClassifier(outlet_shrinkage=100)
    model.human_margin_quantiles_ = np.quantile(np.concatenate([big, small]), levels)
    model.outlet_margin_quantiles_ = {"big": np.quantile(big, levels), "small": np.quantile(small, levels)}
    model.outlet_human_counts_ = {"big": 2000, "small": 100}
    own = max(float(np.interp(0.99, levels, q)) for q in model.outlet_margin_quantiles_.values())
    pooled = float(np.interp(0.99, levels, model.human_margin_quantiles_))
    shrunk = model._threshold_margin(0.01)
    assert pooled <= shrunk < own
    rate = {o: (q > shrunk).mean() for o, q in (("big", big), ("small", small))}
    pooled_rate = (np.concatenate([big, small]) > shrunk).mean()
    for outlet, n in model.outlet_human_counts_.items():
        assert (n * rate[outlet] + 100 * pooled_rate) / (n + 100) <= 0.01 + 0.002
    # without shrinkage, each outlet's own quantile: the highest of them
    model.outlet_shrinkage = 0.0
    assert model._threshold_margin(0.01) == pytest.approx(own)


def test_threshold_holds_the_false_positive_rate_for_short_texts():
    """Short human texts carry less evidence and spread further towards the machine side;
    their verdict needs its own, higher threshold, and longer texts keep theirs."""
    rng = np.random.default_rng(2)
    n = 2000
    y = rng.integers(0, 2, n)
    words = rng.choice([60, 120, 250, 500, 900], n, p=[0.03, 0.2, 0.3, 0.3, 0.17])
    spread = np.where(words < 150, 2.0, 0.7)  # short texts: noisier signal
    X = np.column_stack([2.0 * y + rng.normal(0, 1.0, n) * spread, rng.normal(0, 1, n)])
    kwargs = dict(
        feature_names=["signal", "noise"], n_estimators=60, n_folds=3, length_band_edges=(100, 150, 400)
    )
    pooled = GradientBoostedClassifier(**kwargs).fit(X, y, groups=np.arange(n))
    model = GradientBoostedClassifier(**kwargs).fit(X, y, groups=np.arange(n), word_counts=list(words))
    # the 60-word band is too small to measure alone: merged into the next one
    assert [(start, end) for start, end, _ in model.length_band_margin_quantiles_] == [
        (0, 150),
        (150, 400),
        (400, None),
    ]
    oof = model.probability_from_margin(model.oof_margins_)
    short = (y == 0) & (words < 150)
    assert (oof[short] > pooled.threshold_for_fpr(0.05)).mean() > 0.08
    assert (oof[short] > model.threshold_for_fpr(0.05, words=120)).mean() <= 0.06
    assert model.threshold_for_fpr(0.05, words=60) == model.threshold_for_fpr(0.05, words=120)
    assert model.threshold_for_fpr(0.05, words=120) > model.threshold_for_fpr(0.05, words=500)
    # a long text's threshold is never below the pooled one, and without a length it is the pooled one
    assert (
        model.threshold_for_fpr(0.05, words=900)
        >= model.threshold_for_fpr(0.05)
        == pytest.approx(pooled.threshold_for_fpr(0.05))
    )
    bands = model.length_band_thresholds(0.05)
    assert [(b["min_words"], b["max_words"]) for b in bands] == [(0, 149), (150, 399), (400, None)]
    assert all(b["false_positive_rate"] <= 0.05 + 1e-9 for b in bands)
    restored = GradientBoostedClassifier.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored.threshold_for_fpr(0.05, words=120) == pytest.approx(
        model.threshold_for_fpr(0.05, words=120)
    )
    # a detector saved before length bands loads, with thresholds that ignore length
    old = model.to_dict()
    del old["length_band_margin_quantiles"], old["params"]["length_band_edges"]
    legacy = GradientBoostedClassifier.from_dict(old)
    assert legacy.threshold_for_fpr(0.05, words=120) == pytest.approx(legacy.threshold_for_fpr(0.05))
    with pytest.raises(ValueError):
        model.fit(X, y, groups=np.arange(n), word_counts=[100])


def test_rate_interval_is_exact_and_narrows_with_more_texts():
    from byline.reporting.evaluation import rate_interval

    # Clopper-Pearson: with no hits in n, the 95% upper end is 1 - 0.025 ** (1 / n)
    assert rate_interval(0, 42)[0] == 0.0
    assert abs(rate_interval(0, 42)[1] - (1 - 0.025 ** (1 / 42))) < 1e-9
    low, high = rate_interval(1, 42)
    assert 0 < low < 1 / 42 < high < 0.13
    assert rate_interval(1, 637)[1] < 0.01 < rate_interval(1, 42)[1]
    all_hit, none_hit = rate_interval(16, 16), rate_interval(0, 16)
    assert all_hit[1] == 1.0 and abs(all_hit[0] - (1 - none_hit[1])) < 1e-9  # symmetric
    assert all(v != v for v in rate_interval(0, 0))
