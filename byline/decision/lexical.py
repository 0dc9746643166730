"""A lexical classifier: TF-IDF n-grams and logistic regression.

Supervised word statistics catch what language-model statistics miss (the
vocabulary and phrasing instruction-tuned models favour), but they can also
learn topics. ``token_mode="function_words"`` keeps only style: every word
outside a fixed list of English function words becomes its shape (``Xx``,
``x``, ``9``), so "said the Minister on 12 May" becomes "said the Xx on 9 Xx".
``token_mode="characters"`` uses character n-grams inside word boundaries:
spelling, punctuation and affix habits, and parts of words a word model never saw.

scikit-learn conventions (``fit``, ``predict_proba``, parameters in the
constructor); saved as JSON (vocabulary, idf weights, coefficients).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

FORMAT_VERSION = 1

# Closed-class English words: articles, pronouns, prepositions, conjunctions,
# auxiliaries, common adverbs and reporting verbs. Style, not topic.
FUNCTION_WORDS = frozenset(
    """
    a an the this that these those some any each every no all both either neither much many more most
    few less least other another such what which who whom whose where when why how whether if then than
    i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
    myself ourselves yourself himself herself itself themselves one ones
    of in on at by for with about against between into through during before after above below to from
    up down out off over under again further once here there across along among around behind beyond
    despite except inside near onto outside since toward towards upon via within without amid per
    and but or nor so yet because although though while whereas unless until as also only just even
    not very too quite rather really still already almost enough however therefore thus moreover
    furthermore additionally meanwhile instead otherwise indeed perhaps likely often always never sometimes
    be is are was were been being am have has had having do does did doing will would shall should can
    could may might must ought
    said says say saying told tell according added noted explained stated claimed reported announced
    mr mrs ms dr
    """.split()
)
_DIGIT = re.compile(r"\d")
_TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*|[^\sA-Za-z\d]")


def word_shapes(text: str) -> str:
    """Function words kept (lower-cased), other words reduced to their shape."""
    out = []
    for token in _TOKEN.findall(text):
        lower = token.lower()
        if lower in FUNCTION_WORDS or not token[0].isalnum():
            out.append(lower)
        elif token[0].isdigit():
            out.append("9")
        elif token[0].isupper():
            out.append("Xx" if not token.isupper() or len(token) == 1 else "XX")
        else:
            out.append("x")
    return " ".join(out)


TOKEN_MODES = ("words", "function_words", "characters")


class LexicalClassifier:
    """TF-IDF over word n-grams (or function-word/shape n-grams) + logistic regression."""

    def __init__(
        self,
        token_mode: str = "words",
        ngram_range: tuple[int, int] = (1, 2),
        max_features: int = 50_000,
        min_df: int = 3,
        C: float = 4.0,
    ) -> None:
        if token_mode not in TOKEN_MODES:
            raise ValueError(f"token_mode must be one of {', '.join(TOKEN_MODES)}")
        self.token_mode = token_mode
        self.ngram_range = tuple(ngram_range)
        self.max_features = max_features
        self.min_df = min_df
        self.C = C
        self.vectorizer_: Any = None
        self.coef_: np.ndarray = np.zeros(0)
        self.intercept_: float = 0.0

    def _vectorizer(self, vocabulary: dict[str, int] | None = None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if self.token_mode == "characters":
            tokens = {"analyzer": "char_wb", "lowercase": False}
        else:
            tokens = {
                "lowercase": self.token_mode == "words",
                "token_pattern": r"(?u)\b\w+\b|[^\s\w]"
                if self.token_mode == "function_words"
                else r"(?u)\b\w\w+\b",
            }
        return TfidfVectorizer(
            ngram_range=self.ngram_range,
            max_features=None if vocabulary else self.max_features,
            min_df=1 if vocabulary else self.min_df,
            sublinear_tf=True,
            vocabulary=vocabulary,
            dtype=np.float32,
            **tokens,
        )

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        if self.token_mode == "function_words":
            return [word_shapes(t) for t in texts]
        # Digits to 0: years and dates would tell old human news from recent
        # machine text (a quirk of the training corpus, not of authorship).
        return [_DIGIT.sub("0", t) for t in texts]

    def fit(
        self, texts: Sequence[str], y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> "LexicalClassifier":
        from sklearn.linear_model import LogisticRegression

        self.vectorizer_ = self._vectorizer()
        matrix = self.vectorizer_.fit_transform(self._prepare(texts))
        model = LogisticRegression(C=self.C, max_iter=3000)
        model.fit(matrix, np.asarray(y), sample_weight=sample_weight)
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Log-odds of machine writing."""
        if len(texts) == 0:  # scikit-learn's vectorizers refuse an empty batch
            return np.zeros(0)
        matrix = self.vectorizer_.transform(self._prepare(texts))
        return np.asarray(matrix @ self.coef_).ravel() + self.intercept_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(texts)))
        return np.column_stack([1.0 - p, p])

    def to_dict(self) -> dict[str, Any]:
        vocabulary = self.vectorizer_.vocabulary_
        terms = sorted(vocabulary, key=vocabulary.get)
        return {
            "format_version": FORMAT_VERSION,
            "params": {
                "token_mode": self.token_mode,
                "ngram_range": list(self.ngram_range),
                "max_features": self.max_features,
                "min_df": self.min_df,
                "C": self.C,
            },
            "terms": terms,
            "idf": [round(float(v), 6) for v in self.vectorizer_.idf_],
            "coef": [round(float(v), 6) for v in self.coef_],
            "intercept": self.intercept_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LexicalClassifier":
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported lexical model format {data.get('format_version')}")
        params = dict(data["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        model = cls(**params)
        model.vectorizer_ = model._vectorizer({term: i for i, term in enumerate(data["terms"])})
        model.vectorizer_.idf_ = np.asarray(data["idf"], dtype=np.float32)
        model.coef_ = np.asarray(data["coef"], dtype=np.float64)
        model.intercept_ = float(data["intercept"])
        return model
