"""Plain-words explanations of the features that drove a verdict."""

from __future__ import annotations

import re

import numpy as np

from byline.reporting.result import Signal

# What each feature measures, phrased to take the value; "{model}" is the
# language model's name. Looked up by the part of the name after the model.
_LM_DESCRIPTIONS = {
    "log_prob_mean": "Average log-probability of each token under {model}: {value:.2f}",
    "log_prob_median": "Median log-probability of a token under {model}: {value:.2f}",
    "log_prob_std": "Spread of token log-probabilities under {model}: {value:.2f}",
    "log_prob_q10": "Log-probability of the 10% most surprising tokens under {model}: {value:.2f}",
    "log_prob_q25": "Lower-quartile token log-probability under {model}: {value:.2f}",
    "log_prob_q75": "Upper-quartile token log-probability under {model}: {value:.2f}",
    "log_prob_q90": "Log-probability of the 10% most predictable tokens under {model}: {value:.2f}",
    "entropy_mean": "How uncertain {model} was about the next token, on average: {value:.2f} nats",
    "entropy_std": "How much {model}'s uncertainty varied: {value:.2f}",
    "excess_surprise_mean": "How much more surprising the words were than {model} expected: {value:+.2f} nats per token",
    "excess_surprise_std": "Spread of that surprise across tokens: {value:.2f}",
    "fast_detectgpt": "Fast-DetectGPT curvature under {model}: {value:+.2f} per token",
    "log_rank_mean": "Average log-rank of each written token among {model}'s guesses: {value:.2f}",
    "top1_rate": "{model} guessed {value:.0%} of tokens exactly as written",
    "top10_rate": "{value:.0%} of tokens were among {model}'s ten first guesses",
    "perplexity_entropy_ratio": "Perplexity relative to the model's own uncertainty (Binoculars-style): {value:.2f}",
    "bits_per_char": "{model} needs {value:.2f} bits per character to encode the text",
    "chunk_log_prob_spread": "How much predictability varies along the text: {value:.2f}",
    "chunk_excess_surprise_spread": "How much surprise varies along the text: {value:.2f}",
    "low_probability_rate": "{value:.1%} of tokens were very unlikely under {model}",
}
_CROSS_DESCRIPTIONS = {
    "bits_per_char_difference": "Difference between the two models' bits per character: {value:+.3f}",
    "excess_surprise_difference": "Difference between the two models' surprise: {value:+.2f}",
    "fast_detectgpt_product": "Agreement of the two models' Fast-DetectGPT curvature: {value:+.2f}",
}
_STYLE_DESCRIPTIONS = {
    "log_words": "Length: {words:.0f} words",
    "sentence_length_mean": "Average sentence length: {value:.1f} words",
    "sentence_length_cv": "Variation of sentence length: {value:.2f} (human writing varies more)",
    "short_sentence_rate": "{value:.0%} of sentences have 8 words or fewer",
    "long_sentence_rate": "{value:.0%} of sentences have 35 words or more",
    "word_length_mean": "Average word length: {value:.2f} letters",
    "type_token_ratio": "Vocabulary diversity: {value:.2f} distinct words per word (50-word windows)",
    "hapax_rate": "{value:.0%} of words occur only once",
    "comma_rate": "Commas per word: {value:.3f}",
    "semicolon_colon_rate": "Semicolons and colons per word: {value:.3f}",
    "dash_rate": "Dashes and hyphens per word: {value:.3f}",
    "parenthesis_rate": "Parentheses per word: {value:.3f}",
    "quote_rate": "Quotation marks per word: {value:.3f} (reporters quote sources)",
    "question_exclamation_rate": "Question and exclamation marks per word: {value:.3f}",
    "digit_rate": "Digits per character: {value:.3f} (figures, dates, scores)",
    "capitalised_word_rate": "{value:.0%} of words are capitalised (names, places)",
    "llm_favoured_word_rate": "{value:.1%} of words are ones language models overuse (e.g. 'crucial', 'moreover', 'landscape')",
    "first_person_rate": "First-person pronouns per word: {value:.3f}",
    "hedge_rate": "Hedging words per word: {value:.3f}",
    "contraction_rate": "Contractions per word: {value:.3f}",
    "said_rate": "'said'/'told' per word: {value:.3f} (attribution to sources)",
}


_VALUE_FORMAT = re.compile(r"\{value(:[^}]*)?\}")

_LEXICAL_DESCRIPTIONS = {
    "words": "Word choice, by an n-gram model of human and machine news: log-odds {value:+.2f}",
    "function_words": "Sentence patterns (function words and word shapes): log-odds {value:+.2f}",
}


def _template(name: str) -> str | None:
    family, _, rest = name.partition(".")
    if family == "lm":
        alias, _, key = rest.partition(".")
        return (_CROSS_DESCRIPTIONS if alias == "cross" else _LM_DESCRIPTIONS).get(key)
    if family == "lexical":
        return _LEXICAL_DESCRIPTIONS.get(rest)
    if family == "style":
        return _STYLE_DESCRIPTIONS.get(rest)
    return None


def describe_feature(
    name: str, value: float, model_names: dict[str, str], medians: dict[str, float] | None = None
) -> str:
    """One sentence saying what the feature measured on this text, and, given
    the training medians, what is typical of human and of machine news."""
    template = _template(name)
    if template is None:
        return f"{name} = {value:.3f}"
    alias = name.split(".")[1] if name.startswith("lm.") else ""
    fields = {"model": model_names.get(alias, alias), "value": value}
    if name == "style.log_words":  # only this template shows words; exp of other values may overflow
        fields["words"] = float(np.exp(value))
    text = template.format(**fields)
    spec = _VALUE_FORMAT.search(template)
    if medians and spec and "human" in medians and "ai" in medians:
        shape = "{" + (spec.group(1) or "") + "}"
        if name == "style.log_words":
            shape, medians = "{:.0f}", {k: float(np.exp(v)) for k, v in medians.items()}
        text += f" (typical human news: {shape.format(medians['human'])}; machine text: {shape.format(medians['ai'])})"
    return text


def top_signals(
    names: list[str],
    values: np.ndarray,
    contributions: np.ndarray,
    model_names: dict[str, str],
    medians: dict[str, dict[str, float]] | None = None,
    limit: int = 5,
) -> list[Signal]:
    """The features that pushed the margin most, strongest first, in plain words."""
    order = np.argsort(-np.abs(contributions))[:limit]
    signals = []
    for index in order:
        contribution = float(contributions[index])
        if contribution == 0.0:
            continue
        direction = "ai" if contribution > 0 else "human"
        description = describe_feature(
            names[index], float(values[index]), model_names, (medians or {}).get(names[index])
        )
        leaning = "points to machine writing" if direction == "ai" else "points to human writing"
        signals.append(
            Signal(
                name=names[index],
                value=float(values[index]),
                contribution=round(contribution, 4),
                direction=direction,
                description=f"{description} - {leaning}.",
            )
        )
    return signals
