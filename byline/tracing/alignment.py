"""Sentence-by-sentence alignment of an article with one source article.

Each article sentence is matched to the source sentences most similar to it
(cosine of all-MiniLM-L6-v2 vectors). A sentence is *supported* when its best
match reaches ``SUPPORT_THRESHOLD``; numbers and names it carries that its
supporting source sentences lack are reported as changed or added facts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from byline.input.sentences import SentenceSpan
from byline.tracing.facts import names_in, numbers_in, word_keys
from byline.tracing.result import AlignedSentence, Alignment, SupportingSentence
from byline.tracing.store import StoredArticle

#: Cosine similarity from which a source sentence counts as support. Chosen on
#: news-dev (see benchmarks/source_tracing.py): rewritten, polished and paraphrased
#: sentences of a source mostly score above it, sentences of other articles on
#: the same topic mostly below.
SUPPORT_THRESHOLD = 0.6
#: Other source sentences within this much of the best match also support a sentence
#: (a rewrite often merges two source sentences into one).
SUPPORT_MARGIN = 0.12
MAX_SUPPORTING = 3


def _round(value: float) -> float:
    return float(round(float(value), 4))


def align(
    text: str,
    spans: Sequence[SentenceSpan],
    vectors: np.ndarray,
    source: StoredArticle,
    threshold: float = SUPPORT_THRESHOLD,
) -> Alignment:
    """Align ``text`` (split into ``spans`` with unit ``vectors``) with ``source``."""
    similarity = vectors @ source.vectors.T if len(source.vectors) else np.zeros((len(spans), 0), np.float32)
    source_numbers = numbers_in(source.text)
    source_names = names_in(source.text) | word_keys(source.text)
    sentences: list[AlignedSentence] = []
    supported_chars = 0
    total_chars = 0
    for position, span in enumerate(spans):
        row = similarity[position]
        order = np.argsort(-row)[:MAX_SUPPORTING] if row.size else np.array([], dtype=int)
        best = float(row[order[0]]) if order.size else 0.0
        supported = best >= threshold
        supporting = [
            SupportingSentence(*source.sentence(int(j)), similarity=_round(row[j]))
            for j in order
            if supported and row[j] >= threshold and row[j] >= best - SUPPORT_MARGIN
        ]
        if supported:
            support_text = " ".join(s.text for s in supporting)
            known_numbers, known_names = (
                numbers_in(support_text),
                names_in(support_text) | word_keys(support_text),
            )
        else:
            known_numbers, known_names = source_numbers, source_names
        new_numbers = sorted(numbers_in(span.text) - known_numbers)
        new_names = sorted(names_in(span.text) - known_names)
        sentences.append(
            AlignedSentence(
                text=span.text,
                start=span.start,
                end=span.end,
                supported=supported,
                similarity=_round(best),
                sources=supporting,
                new_numbers=new_numbers,
                new_names=new_names,
            )
        )
        length = span.end - span.start
        total_chars += length
        supported_chars += length if supported else 0
    reused, reused_share = source_reuse(similarity, source, threshold)
    return Alignment(
        source_id=source.id,
        support_threshold=threshold,
        sentences=sentences,
        supported_share=_round(supported_chars / total_chars) if total_chars else 0.0,
        unsupported_sentences=sum(1 for s in sentences if not s.supported),
        changed_facts=sum(1 for s in sentences if s.new_numbers or s.new_names),
        source_reused_share=_round(reused_share),
        source_sentences_reused=int(reused.sum()),
        source_sentences=len(source.spans),
    )


def source_reuse(
    similarity: np.ndarray, source: StoredArticle, threshold: float = SUPPORT_THRESHOLD
) -> tuple[np.ndarray, float]:
    """Which of ``source``'s sentences some sentence of the text matches (``similarity``: text
    sentences by source sentences), and their share of the source's characters."""
    reused = similarity.max(axis=0) >= threshold if similarity.size else np.zeros(len(source.spans), bool)
    lengths = (
        (source.spans[:, 1] - source.spans[:, 0]).astype(np.int64)
        if len(source.spans)
        else np.zeros(0, np.int64)
    )
    source_chars = int(lengths.sum())
    return reused, (int(lengths[reused].sum()) / source_chars if source_chars else 0.0)
