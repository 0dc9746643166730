"""Plain-words explanations of the features that drove a verdict."""

from __future__ import annotations

import numpy as np

from byline.reporting.result import Signal

# What each feature measures, phrased to take the value; "{model}" is the
# language model's name. Looked up by the part of the name after the model.
_LM_DESCRIPTIONS = {
    "log_prob_mean": "average log-probability of each token under {model}: {value:.2f}",
    "log_prob_median": "median log-probability of a token under {model}: {value:.2f}",
    "log_prob_std": "spread of token log-probabilities under {model}: {value:.2f}",
    "log_prob_q10": "log-probability of the 10% most surprising tokens under {model}: {value:.2f}",
    "log_prob_q25": "lower-quartile token log-probability under {model}: {value:.2f}",
    "log_prob_q75": "upper-quartile token log-probability under {model}: {value:.2f}",
    "log_prob_q90": "log-probability of the 10% most predictable tokens under {model}: {value:.2f}",
    "entropy_mean": "how uncertain {model} was about the next token, on average: {value:.2f} nats",
    "entropy_std": "how much {model}'s uncertainty varied: {value:.2f}",
    "excess_surprise_mean": "how much more surprising the words were than {model} expected: {value:+.2f} nats per token",
    "excess_surprise_std": "spread of that surprise across tokens: {value:.2f}",
    "fast_detectgpt": "Fast-DetectGPT curvature under {model}: {value:+.2f} per token",
    "log_rank_mean": "average log-rank of each written token among {model}'s guesses: {value:.2f}",
    "top1_rate": "{model} guessed {value:.0%} of tokens exactly as written",
    "top10_rate": "{value:.0%} of tokens were among {model}'s ten first guesses",
    "perplexity_entropy_ratio": "perplexity relative to the model's own uncertainty (Binoculars-style): {value:.2f}",
    "bits_per_char": "{model} needs {value:.2f} bits per character to encode the text",
    "chunk_log_prob_spread": "how much predictability varies along the text: {value:.2f}",
    "chunk_excess_surprise_spread": "how much surprise varies along the text: {value:.2f}",
    "low_probability_rate": "{value:.1%} of tokens were very unlikely under {model}",
}
_CROSS_DESCRIPTIONS = {
    "bits_per_char_difference": "difference between the two models' bits per character: {value:+.3f}",
    "excess_surprise_difference": "difference between the two models' surprise: {value:+.2f}",
    "fast_detectgpt_product": "agreement of the two models' Fast-DetectGPT curvature: {value:+.2f}",
}
_STYLE_DESCRIPTIONS = {
    "log_words": "length: {words:.0f} words",
    "sentence_length_mean": "average sentence length: {value:.1f} words",
    "sentence_length_cv": "variation of sentence length: {value:.2f} (human writing varies more)",
    "short_sentence_rate": "{value:.0%} of sentences have 8 words or fewer",
    "long_sentence_rate": "{value:.0%} of sentences have 35 words or more",
    "word_length_mean": "average word length: {value:.2f} letters",
    "type_token_ratio": "vocabulary diversity: {value:.2f} distinct words per word (50-word windows)",
    "hapax_rate": "{value:.0%} of words occur only once",
    "comma_rate": "commas per word: {value:.3f}",
    "semicolon_colon_rate": "semicolons and colons per word: {value:.3f}",
    "dash_rate": "dashes and hyphens per word: {value:.3f}",
    "parenthesis_rate": "parentheses per word: {value:.3f}",
    "quote_rate": "quotation marks per word: {value:.3f} (reporters quote sources)",
    "question_exclamation_rate": "question and exclamation marks per word: {value:.3f}",
    "digit_rate": "digits per character: {value:.3f} (figures, dates, scores)",
    "capitalised_word_rate": "{value:.0%} of words are capitalised (names, places)",
    "llm_favoured_word_rate": "{value:.1%} of words are ones language models overuse (e.g. 'crucial', 'moreover', 'landscape')",
    "first_person_rate": "first-person pronouns per word: {value:.3f}",
    "hedge_rate": "hedging words per word: {value:.3f}",
    "contraction_rate": "contractions per word: {value:.3f}",
    "said_rate": "'said'/'told' per word: {value:.3f} (attribution to sources)",
}


def describe_feature(name: str, value: float, model_names: dict[str, str]) -> str:
    """One sentence saying what the feature measured on this text."""
    family, _, rest = name.partition(".")
    if family == "lm":
        alias, _, key = rest.partition(".")
        if alias == "cross":
            template = _CROSS_DESCRIPTIONS.get(key)
        else:
            template = _LM_DESCRIPTIONS.get(key)
        if template:
            return template.format(model=model_names.get(alias, alias), value=value)
    elif family == "style" and rest in _STYLE_DESCRIPTIONS:
        return _STYLE_DESCRIPTIONS[rest].format(value=value, words=float(np.exp(value)))
    return f"{name} = {value:.3f}"


def top_signals(
    names: list[str],
    values: np.ndarray,
    contributions: np.ndarray,
    model_names: dict[str, str],
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
        description = describe_feature(names[index], float(values[index]), model_names)
        leaning = "points to machine writing" if direction == "ai" else "points to human writing"
        signals.append(
            Signal(
                name=names[index],
                value=float(values[index]),
                contribution=round(contribution, 4),
                direction=direction,
                description=f"{description[0].upper()}{description[1:]} - {leaning}.",
            )
        )
    return signals
