"""A causal language model that turns texts into per-token statistics.

Long texts are scored over a bounded window scheme so that cost per article
stays bounded: the token sequence is cut into windows of at most
``window_tokens`` tokens; every window after the first starts with the last
``context_tokens`` tokens of the previous one (context only, not scored again)
and, when the model uses one, a BOS token. Scoring stops after
``max_scored_tokens`` tokens; later tokens are counted in ``n_tokens`` but get
no statistics (the result says how many were scored).

Windows of many texts are batched together (sorted by length, right-padded, at
most ``batch_tokens`` tokens per forward pass), and the output layer is applied
to a few hundred positions at a time, so memory stays bounded even for
Gemma's 262k-token vocabulary.

A model with a very large, multilingual vocabulary can be given a *vocabulary
subset* (:meth:`LanguageModel.set_vocabulary`): the next-token distribution is
then normalised over those tokens (plus the observed token when it is not
among them). For Gemma-3, whose output layer over 262,144 tokens costs more
than the rest of the network, the 32,768 tokens most frequent in English news
carry nearly all of the probability mass and cut the cost of a token by more
than half; the statistics are consistent between training and use because the
subset is saved with the detector.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from byline.errors import BylineWarning, ModelError
from byline.scoring.devices import (  # noqa: F401 - default_device was imported from here
    check_device,
    default_device,
    slow_precision_warning,
)
from byline.scoring.model_files import PACKAGED_MODELS, resolve_model_path
from byline.scoring.token_statistics import TokenStatistics, statistics_from_logits


def vocabulary_tag(token_ids: Sequence[int]) -> str:
    """A short fingerprint of a vocabulary subset."""
    ids = np.asarray(sorted(set(int(t) for t in token_ids)), dtype=np.int64)
    return hashlib.sha256(ids.tobytes()).hexdigest()[:10]


def frequent_token_ids(tokenizer, texts: Sequence[str], size: int = 32768) -> list[int]:
    """The ``size`` token ids most frequent in ``texts`` (plus the special tokens)."""
    from collections import Counter

    counts: Counter[int] = Counter()
    for start in range(0, len(texts), 256):
        for ids in tokenizer(list(texts[start : start + 256]), add_special_tokens=False)["input_ids"]:
            counts.update(ids)
    chosen = {token for token, _ in counts.most_common(size)}
    chosen.update(int(t) for t in tokenizer.all_special_ids)
    return sorted(chosen)


#: Logit matrix entries (positions x vocabulary) computed at once in the output layer.
_HEAD_CHUNK_ELEMENTS = 32 * 1024 * 1024


@dataclass
class _Window:
    text_index: int
    token_ids: list[int]
    first_scored: int  # index in token_ids of the first token to score
    source_positions: list[int]  # index into the text's token list, per window token


class LanguageModel:
    """A transformers causal LM plus its tokenizer, scoring texts token by token.

    ``name_or_path`` is a packaged model name (``smollm2-135m``,
    ``gemma3-270m``), a local directory, a ``.gguf`` file or a Hugging Face id.
    """

    def __init__(
        self,
        name_or_path: str = "smollm2-135m",
        *,
        device: str | None = None,
        dtype: torch.dtype | None = None,
        window_tokens: int = 512,
        context_tokens: int = 64,
        max_scored_tokens: int = 1024,
        batch_tokens: int = 4096,
    ) -> None:
        if not 0 <= context_tokens < window_tokens // 2:
            raise ValueError("context_tokens must be smaller than half of window_tokens")
        self.name = name_or_path
        self.device = check_device(device)
        slow = slow_precision_warning("bfloat16" if dtype == torch.bfloat16 else "float32", self.device)
        if slow:
            warnings.warn(slow, BylineWarning, stacklevel=2)
        self.window_tokens = window_tokens
        self.context_tokens = context_tokens
        self.max_scored_tokens = max_scored_tokens
        # A bfloat16 product rounds differently with the shape of its batch (how many windows,
        # how much padding), so on a CPU each window gets its own forward pass: a text's
        # statistics then do not depend on the texts scored with it. Batching gained nothing on
        # a CPU in float32 (benchmarks/README.md, "Scanning many articles").
        on_cpu = torch.device(self.device).type == "cpu"
        self.batch_tokens = 0 if on_cpu and dtype == torch.bfloat16 else batch_tokens
        path, gguf_file = resolve_model_path(name_or_path)
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **extra)
            self.network = AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32, **extra)
        except (OSError, ValueError) as error:
            raise ModelError(f"{name_or_path}: could not load the language model: {error}") from None
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelError(f"{name_or_path}: a fast tokenizer (with offsets) is required")
        self.network.to(self.device).eval()
        self._bos = self.tokenizer.bos_token_id
        pad = self.tokenizer.pad_token_id
        self._pad = pad if pad is not None else (self.tokenizer.eos_token_id or 0)
        self._softcap = getattr(self.network.config, "final_logit_softcapping", None)
        self._subset: torch.Tensor | None = None
        self._subset_weight: torch.Tensor | None = None
        self._subset_bias: torch.Tensor | None = None
        self._subset_position: torch.Tensor | None = None
        self.vocabulary_tag = ""

    def set_vocabulary(self, token_ids: Sequence[int] | None) -> None:
        """Normalise next-token distributions over ``token_ids`` only (``None``: the full vocabulary)."""
        if token_ids is None:
            self._subset = self._subset_weight = self._subset_bias = self._subset_position = None
            self.vocabulary_tag = ""
            return
        ids = torch.tensor(sorted(set(int(t) for t in token_ids)), dtype=torch.long)
        head = self.network.get_output_embeddings()
        self._subset = ids.to(self.device)
        self._subset_weight = head.weight.detach()[self._subset].contiguous()
        bias = getattr(head, "bias", None)
        self._subset_bias = None if bias is None else bias.detach()[self._subset]
        position = torch.full((head.weight.shape[0],), -1, dtype=torch.long)
        position[ids] = torch.arange(len(ids))
        self._subset_position = position.to(self.device)
        self.vocabulary_tag = vocabulary_tag(ids.tolist())

    @property
    def scheme(self) -> str:
        """Names the window scheme and vocabulary, for caching statistics."""
        from byline.scoring.statistics_cache import scheme_name

        return scheme_name(
            self.window_tokens, self.context_tokens, self.max_scored_tokens, self.vocabulary_tag
        )

    @property
    def description(self) -> str:
        packaged = PACKAGED_MODELS.get(self.name)
        return packaged.description if packaged else self.name

    # -- tokenisation and windows -------------------------------------------------

    def _windows(self, text_index: int, ids: list[int]) -> list[_Window]:
        starts_with_bos = bool(ids) and self._bos is not None and ids[0] == self._bos
        limit = min(len(ids), self.max_scored_tokens + 1)
        windows: list[_Window] = []
        scored_until = 1  # position 0 has no left context
        while scored_until < limit:
            if not windows:
                begin = 0
            else:
                begin = scored_until - self.context_tokens
            prefix = [self._bos] if windows and starts_with_bos else []
            room = self.window_tokens - len(prefix)
            end = min(begin + room, limit)
            positions = list(range(begin, end))
            token_ids = prefix + [ids[p] for p in positions]
            first_scored = len(prefix) + (scored_until - begin)
            windows.append(_Window(text_index, token_ids, first_scored, [-1] * len(prefix) + positions))
            scored_until = end
        return windows

    # -- forward pass ---------------------------------------------------------------

    def _hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        decoder = self.network.get_decoder()
        output = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return output.last_hidden_state

    def _softcapped(self, logits: torch.Tensor) -> torch.Tensor:
        if self._softcap:
            logits = torch.tanh(logits / self._softcap) * self._softcap
        return logits

    def _statistics(self, hidden: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per-token statistics for hidden states ``[N, D]`` predicting ``targets [N]``."""
        if self._subset is None:
            return statistics_from_logits(
                self._softcapped(self.network.get_output_embeddings()(hidden)), targets
            )
        logits = hidden @ self._subset_weight.T
        if self._subset_bias is not None:
            logits = logits + self._subset_bias
        # The observed token joins the distribution when it is outside the subset.
        position = self._subset_position[targets]
        outside = position < 0
        head = self.network.get_output_embeddings()
        # A very low finite logit, not -inf: exp() is exactly 0 and p * log p stays 0, not NaN.
        extra = torch.full((hidden.shape[0], 1), -1e4, dtype=logits.dtype, device=logits.device)
        if outside.any():
            rows = head.weight.detach()[targets[outside]]
            values = (hidden[outside] * rows).sum(-1)
            if getattr(head, "bias", None) is not None:
                values = values + head.bias.detach()[targets[outside]]
            extra[outside, 0] = values
        logits = self._softcapped(torch.cat([logits, extra], dim=1))
        local_targets = torch.where(outside, torch.full_like(position, logits.shape[1] - 1), position)
        return statistics_from_logits(logits, local_targets)

    @torch.inference_mode()
    def _score_batch(self, batch: list[_Window]) -> list[tuple[np.ndarray, ...]]:
        length = max(len(w.token_ids) for w in batch)
        input_ids = torch.full((len(batch), length), self._pad, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), length), dtype=torch.long)
        for row, window in enumerate(batch):
            input_ids[row, : len(window.token_ids)] = torch.tensor(window.token_ids)
            attention_mask[row, : len(window.token_ids)] = 1
        hidden = self._hidden_states(input_ids.to(self.device), attention_mask.to(self.device))
        # Position p - 1 predicts token p: gather exactly the rows that are scored.
        rows, cols, targets = [], [], []
        for row, window in enumerate(batch):
            for position in range(window.first_scored, len(window.token_ids)):
                rows.append(row)
                cols.append(position - 1)
                targets.append(window.token_ids[position])
        selected = hidden[torch.tensor(rows), torch.tensor(cols)]
        target_ids = torch.tensor(targets, device=selected.device)
        vocab = (
            len(self._subset)
            if self._subset is not None
            else self.network.get_output_embeddings().weight.shape[0]
        )
        chunk = max(1, _HEAD_CHUNK_ELEMENTS // vocab)
        parts: list[list[torch.Tensor]] = [[], [], [], []]
        for start in range(0, selected.shape[0], chunk):
            stats = self._statistics(selected[start : start + chunk], target_ids[start : start + chunk])
            for part, values in zip(parts, stats):
                part.append(values.float().cpu())
        columns = [torch.cat(part).numpy() for part in parts]
        results = []
        offset = 0
        for window in batch:
            count = len(window.token_ids) - window.first_scored
            results.append(tuple(column[offset : offset + count] for column in columns))
            offset += count
        return results

    def token_statistics(self, texts: Sequence[str]) -> list[TokenStatistics]:
        """Score each text; returns one :class:`TokenStatistics` per text, in order."""
        if not texts:
            return []
        encodings = self.tokenizer(list(texts), add_special_tokens=True, return_offsets_mapping=True)
        all_ids: list[list[int]] = encodings["input_ids"]
        all_offsets: list[list[tuple[int, int]]] = encodings["offset_mapping"]
        windows = [w for index, ids in enumerate(all_ids) for w in self._windows(index, ids)]
        windows.sort(key=lambda w: len(w.token_ids), reverse=True)
        per_text: list[list[tuple[_Window, tuple[np.ndarray, ...]]]] = [[] for _ in all_ids]
        batch: list[_Window] = []
        for window in windows:
            if batch and (len(batch) + 1) * len(batch[0].token_ids) > self.batch_tokens:
                for done, stats in zip(batch, self._score_batch(batch)):
                    per_text[done.text_index].append((done, stats))
                batch = []
            batch.append(window)
        if batch:
            for done, stats in zip(batch, self._score_batch(batch)):
                per_text[done.text_index].append((done, stats))
        results = []
        for index, scored in enumerate(per_text):
            scored.sort(key=lambda item: item[0].source_positions[item[0].first_scored])
            positions = [p for w, _ in scored for p in w.source_positions[w.first_scored :]]
            columns = [
                np.concatenate([stats[k] for _, stats in scored]) if scored else np.zeros(0, np.float32)
                for k in range(4)
            ]
            offsets = np.array([all_offsets[index][p] for p in positions], dtype=np.int64).reshape(-1, 2)
            keep = offsets[:, 1] > offsets[:, 0]  # special tokens have empty spans
            results.append(
                TokenStatistics(
                    model=self.name,
                    log_probs=columns[0][keep].astype(np.float32),
                    entropies=columns[1][keep].astype(np.float32),
                    ranks=columns[2][keep].astype(np.int64),
                    log_prob_variances=columns[3][keep].astype(np.float32),
                    offsets=offsets[keep],
                    n_tokens=sum(1 for a, b in all_offsets[index] if b > a),
                )
            )
        return results
