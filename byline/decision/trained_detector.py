"""A trained detector as saved on disk: which language models it reads, how it
windows a text, and its calibrated article and sentence classifiers.

Stored as one JSON file, ``detector.json``, in a directory. The detector that
ships with Byline lives in ``byline/decision/trained/default/`` and is
reproduced by ``byline train`` (see ``training/README.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from byline.decision.classifier import GradientBoostedClassifier
from byline.decision.lexical import LexicalClassifier
from byline.errors import ModelError
from byline.input.records import json_error_text, json_kind

FORMAT_VERSION = 1
DETECTOR_FILE = "detector.json"
SHIPPED_DIR = Path(__file__).resolve().parent / "trained"
DEFAULT_DETECTOR = SHIPPED_DIR / "default"


@dataclass
class TrainedDetector:
    """Everything needed to turn language-model statistics into a verdict."""

    name: str
    language_models: list[str]
    article_classifier: GradientBoostedClassifier
    sentence_classifier: GradientBoostedClassifier | None = None
    #: For sentences past the scored-token budget: style and lexical features only.
    sentence_text_classifier: GradientBoostedClassifier | None = None
    window_tokens: int = 512
    context_tokens: int = 64
    max_scored_tokens: int = 512
    min_words: int = 50
    #: Per-feature medians of human and machine training texts, for explanations.
    feature_medians: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Per language model, the token ids its distributions are normalised over
    #: (see :meth:`LanguageModel.set_vocabulary`); absent means the full vocabulary.
    vocabularies: dict[str, list[int]] = field(default_factory=dict)
    #: Trained n-gram models whose log-odds are features ``lexical.<name>``.
    lexical_classifiers: dict[str, LexicalClassifier] = field(default_factory=dict)
    #: ISO 639 codes of the languages it was trained on (``byline.input.language``): a text
    #: confidently in another language gets no verdict. ``None``: not recorded, any is scored.
    languages: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def lexical_features(self, texts: list[str]) -> list[dict[str, float]]:
        """The ``lexical.*`` features of each text (an article or a sentence)."""
        rows: list[dict[str, float]] = [{} for _ in texts]
        for name, model in self.lexical_classifiers.items():
            for row, value in zip(rows, model.decision_function(texts)):
                row[f"lexical.{name}"] = float(value)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "language_models": self.language_models,
            "window_tokens": self.window_tokens,
            "context_tokens": self.context_tokens,
            "max_scored_tokens": self.max_scored_tokens,
            "min_words": self.min_words,
            "languages": self.languages,
            "feature_medians": self.feature_medians,
            "metadata": self.metadata,
            "lexical_classifiers": {k: v.to_dict() for k, v in self.lexical_classifiers.items()},
            "vocabularies": self.vocabularies,
            "article_classifier": self.article_classifier.to_dict(),
            "sentence_classifier": self.sentence_classifier.to_dict() if self.sentence_classifier else None,
            "sentence_text_classifier": (
                self.sentence_text_classifier.to_dict() if self.sentence_text_classifier else None
            ),
        }

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / DETECTOR_FILE
        path.write_text(json.dumps(self.to_dict()))
        return path

    @classmethod
    def load(cls, location: str | Path | None = None) -> "TrainedDetector":
        """Load from a directory holding ``detector.json`` (or the file itself);
        ``None`` or ``"default"`` loads the detector shipped with Byline."""
        if location is None or str(location) == "default":
            location = DEFAULT_DETECTOR
        path = Path(location)
        if path.is_dir():
            path = path / DETECTOR_FILE
        if not path.is_file():
            raise ModelError(f"{location}: no trained detector here (expected {DETECTOR_FILE})")
        data = _read_detector_file(path)
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{path}: a detector of format version {data.get('format_version')!r}; this Byline reads "
                f"version {FORMAT_VERSION} (train it again with `byline train`)"
            )
        try:
            sentence = data.get("sentence_classifier")
            sentence_text = data.get("sentence_text_classifier")
            return cls(
                name=data["name"],
                language_models=list(data["language_models"]),
                window_tokens=int(data["window_tokens"]),
                context_tokens=int(data["context_tokens"]),
                max_scored_tokens=int(data["max_scored_tokens"]),
                min_words=int(data["min_words"]),
                languages=None if data.get("languages") is None else [str(c) for c in data["languages"]],
                feature_medians=data.get("feature_medians", {}),
                metadata=data.get("metadata", {}),
                vocabularies={k: list(map(int, v)) for k, v in data.get("vocabularies", {}).items()},
                lexical_classifiers={
                    k: LexicalClassifier.from_dict(v) for k, v in data.get("lexical_classifiers", {}).items()
                },
                article_classifier=GradientBoostedClassifier.from_dict(data["article_classifier"]),
                sentence_classifier=GradientBoostedClassifier.from_dict(sentence) if sentence else None,
                sentence_text_classifier=GradientBoostedClassifier.from_dict(sentence_text)
                if sentence_text
                else None,
            )
        except KeyError as error:
            raise ModelError(f"{path}: not a valid Byline detector (no {error.args[0]!r} field)") from None
        except (ValueError, TypeError, AttributeError) as error:
            raise ModelError(f"{path}: not a valid Byline detector ({error})") from None


def _read_detector_file(path: Path) -> dict[str, Any]:
    """The JSON object in a detector file, or a ModelError that says what the file is instead."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ModelError(f"{path}: cannot read the detector ({error.strerror or error})") from None
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not a Byline detector (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise ModelError(
            f"{path}: not a Byline detector (not valid JSON: {json_error_text(error, with_line=True)})"
        ) from None
    except RecursionError:
        raise ModelError(f"{path}: not a Byline detector (the JSON is nested too deeply)") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: not a Byline detector (the JSON is {json_kind(data)}, not an object)")
    return data
