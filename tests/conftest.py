"""Shared fixtures: a tiny randomly initialised causal LM with a real fast tokenizer."""

from __future__ import annotations

import pytest

CORPUS = [
    "The council approved the budget on Tuesday after a long debate.",
    "Officials said the new bus routes would open next spring.",
    "Police are appealing for witnesses after the crash on the main road.",
    "The company reported record profits and plans to hire more staff.",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A 2-layer Llama with a 300-token BPE vocabulary, saved like any HF model."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS * 5, trainer)
    from tokenizers.processors import TemplateProcessing

    tokenizer.post_processor = TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    directory = tmp_path_factory.mktemp("tiny-llama")
    fast.save_pretrained(directory)
    model.save_pretrained(directory)
    return directory


def finishes_within(seconds: float, function, *args, **kwargs):
    """``function(*args, **kwargs)``'s result (or its exception, raised here) if it returns within
    ``seconds``; otherwise the test fails, so an input that hangs cannot hang the suite (the stuck
    thread is a daemon and dies with the test process)."""
    import threading

    outcome: dict = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(function, '__name__', function)} did not return within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def limited_memory(megabytes: int):
    """A ``preexec_fn`` for subprocess that caps the child's address space, so a regression that
    reads without bound dies quickly instead of taking the machine's memory."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

    return limit
