import numpy as np
import pytest
import torch

from byline.scoring.language_model import LanguageModel
from byline.scoring.token_statistics import statistics_from_logits

TEXT = (
    "The council approved the budget on Tuesday after a long debate. Officials said the new bus "
    "routes would open next spring. Police are appealing for witnesses after the crash."
)


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return LanguageModel(str(tiny_model_dir), device="cpu")


def test_statistics_match_a_plain_forward_pass(tiny):
    stats = tiny.token_statistics([TEXT])[0]
    ids = tiny.tokenizer(TEXT, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = tiny.network(ids).logits[0, :-1]
    log_probs, entropies, ranks, variances = statistics_from_logits(logits, ids[0, 1:])
    assert stats.n_scored == ids.shape[1] - 1  # every token but the BOS
    assert np.allclose(stats.log_probs, log_probs.numpy(), atol=1e-5)
    assert np.allclose(stats.entropies, entropies.numpy(), atol=1e-5)
    assert np.array_equal(stats.ranks, ranks.numpy())
    assert np.allclose(stats.log_prob_variances, variances.numpy(), atol=1e-4)


def test_offsets_point_at_the_scored_tokens(tiny):
    stats = tiny.token_statistics([TEXT])[0]
    pieces = [TEXT[a:b] for a, b in stats.offsets]
    assert "".join(pieces).replace(" ", "") == TEXT.replace(" ", "")
    assert (np.diff(stats.offsets[:, 0]) > 0).all()


def test_windows_score_every_token_once_and_respect_the_budget(tiny_model_dir):
    long_text = " ".join([TEXT] * 6)
    windowed = LanguageModel(
        str(tiny_model_dir), window_tokens=40, context_tokens=8, max_scored_tokens=10_000
    )
    stats = windowed.token_statistics([long_text])[0]
    n_text_tokens = len(windowed.tokenizer(long_text, add_special_tokens=False).input_ids)
    assert stats.n_tokens == n_text_tokens
    assert stats.n_scored == n_text_tokens  # the first text token follows the BOS: all scored, none twice
    assert len(np.unique(stats.offsets[:, 0])) == stats.n_scored

    budget = LanguageModel(str(tiny_model_dir), window_tokens=40, context_tokens=8, max_scored_tokens=25)
    capped = budget.token_statistics([long_text])[0]
    assert capped.n_scored == 25 and capped.n_tokens == n_text_tokens
    # the first window is the same causal prefix, so its statistics agree
    assert np.allclose(capped.log_probs, stats.log_probs[:25], atol=1e-5)


def test_batched_scoring_equals_one_by_one(tiny):
    texts = [TEXT, TEXT[:60], "Short one here.", TEXT + " " + TEXT]
    together = tiny.token_statistics(texts)
    alone = [tiny.token_statistics([t])[0] for t in texts]
    for a, b in zip(together, alone):
        assert a.n_scored == b.n_scored
        assert np.allclose(a.log_probs, b.log_probs, atol=1e-5)
        assert np.array_equal(a.offsets, b.offsets)


def test_bfloat16_statistics_do_not_depend_on_the_texts_beside_them(tiny_model_dir):
    """A bfloat16 product rounds differently with its batch's shape, so on a CPU each window
    runs alone: a text's statistics are then exactly the same alone or in any batch."""
    model = LanguageModel(str(tiny_model_dir), device="cpu", dtype=torch.bfloat16)
    texts = [TEXT, TEXT[:60], "Short one here.", TEXT + " " + TEXT]
    together = model.token_statistics(texts)
    for text, batched in zip(texts, together):
        alone = model.token_statistics([text])[0]
        assert np.array_equal(alone.log_probs, batched.log_probs)
        assert np.array_equal(alone.entropies, batched.entropies)


@pytest.mark.parametrize(
    ("instructions", "device", "expected"),
    [("amx", "cpu", "bfloat16"), ("avx512_bf16", "cpu", "float32"), (None, "cpu", "float32")],
)
def test_auto_precision_is_bfloat16_only_on_a_cpu_with_amx(monkeypatch, instructions, device, expected):
    from byline.scoring import devices

    monkeypatch.setattr(devices, "cpu_bfloat16_instructions", lambda: instructions)
    assert devices.resolve_precision("auto", device) == expected
    # an explicit precision is kept whatever the CPU
    assert devices.resolve_precision("float32", device) == "float32"
    assert devices.resolve_precision("bfloat16", device) == "bfloat16"


def test_vocabulary_subset_renormalises_over_the_subset(tiny_model_dir):
    full = LanguageModel(str(tiny_model_dir))
    subset = LanguageModel(str(tiny_model_dir))
    ids = full.tokenizer(TEXT, add_special_tokens=False).input_ids
    kept = sorted(set(ids[::2]) | set(range(20)))  # some observed tokens are left out on purpose
    subset.set_vocabulary(kept)
    assert subset.scheme.endswith("-v" + subset.vocabulary_tag) and subset.vocabulary_tag
    a, b = full.token_statistics([TEXT])[0], subset.token_statistics([TEXT])[0]
    # expected: log-softmax over the subset plus the observed token
    tokens = full.tokenizer(TEXT, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = full.network(tokens).logits[0, :-1]
    targets = tokens[0, 1:]
    expected = []
    for row, target in zip(logits, targets):
        columns = sorted(set(kept) | {int(target)})
        expected.append(torch.log_softmax(row[columns], -1)[columns.index(int(target))].item())
    assert np.allclose(b.log_probs, expected, atol=1e-5)
    assert (b.log_probs >= a.log_probs - 1e-6).all()  # fewer competitors: never less likely
    assert (b.ranks <= a.ranks).all()


def test_vocabulary_subset_statistics_are_finite(tiny_model_dir):
    subset = LanguageModel(str(tiny_model_dir))
    subset.set_vocabulary(range(0, 300, 3))
    stats = subset.token_statistics([TEXT])[0]
    for values in (stats.log_probs, stats.entropies, stats.log_prob_variances):
        assert np.isfinite(values).all()


def test_bfloat16_statistics_are_cached_apart_and_close_to_float32(tiny_model_dir, tmp_path):
    """Training may compute statistics in bfloat16 (faster with AMX); they must never pass for float32 ones."""
    from byline.decision.training import compute_statistics, statistics_key
    from byline.scoring.statistics_cache import StatisticsCache, scheme_name

    name = str(tiny_model_dir)
    cache = StatisticsCache(tmp_path / "statistics.sqlite")
    scheme = dict(window_tokens=64, context_tokens=8, max_scored_tokens=64)
    exact = compute_statistics([TEXT], [name], cache, **scheme)[name][0]
    assert cache.get_many(statistics_key(name, "bfloat16"), scheme_name(64, 8, 64), [TEXT]) == [None]
    quick = compute_statistics([TEXT], [name], cache, dtype="bfloat16", **scheme)[name][0]
    assert statistics_key(name) == name and statistics_key(name, "bfloat16") == f"{name}@bfloat16"
    stored = cache.get_many(statistics_key(name, "bfloat16"), scheme_name(64, 8, 64), [TEXT])[0]
    assert np.array_equal(stored.log_probs, quick.log_probs)
    assert np.array_equal(cache.get_many(name, scheme_name(64, 8, 64), [TEXT])[0].log_probs, exact.log_probs)
    assert quick.n_scored == exact.n_scored and not np.array_equal(quick.log_probs, exact.log_probs)
    assert np.abs(quick.log_probs - exact.log_probs).mean() < 0.1
    with pytest.raises(ValueError, match="unknown statistics dtype"):
        statistics_key(name, "float16")


def test_a_model_path_that_does_not_exist_is_named_as_a_path(tmp_path):
    from byline.errors import ModelError
    from byline.scoring.model_files import resolve_model_path

    for missing in (str(tmp_path / "no-model"), "./no-model", "~/no-model-here", str(tmp_path / "m.gguf")):
        with pytest.raises(ModelError, match="no such"):
            resolve_model_path(missing)
    # a hub id is passed through to transformers (which may find it in the local cache)
    assert resolve_model_path("HuggingFaceTB/SmolLM2-360M") == ("HuggingFaceTB/SmolLM2-360M", None)


def test_a_device_this_machine_lacks_is_a_clear_error():
    from byline.errors import ModelError
    from byline.scoring.devices import check_device

    assert check_device("cpu") == "cpu" and check_device(None) in ("cpu", "cuda", "mps")
    with pytest.raises(ModelError, match="--device tpu: not a torch device"):
        check_device("tpu")
    with pytest.raises(ModelError, match="Byline runs on cpu, cuda or mps"):
        check_device("meta")
    if not torch.cuda.is_available():
        # torch itself raises AssertionError("Torch not compiled with CUDA enabled") much later
        with pytest.raises(ModelError, match="--device cuda: no CUDA GPU is available"):
            LanguageModel("smollm2-135m", device="cuda")
    else:
        with pytest.raises(ModelError, match="CUDA devices, numbered from 0"):
            check_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize(
    "amx, avx512_bf16, expected", [(True, False, "amx"), (False, True, "avx512_bf16"), (False, False, None)]
)
def test_the_cpu_bfloat16_instructions_are_read_from_torch(monkeypatch, amx, avx512_bf16, expected):
    from byline.scoring.devices import cpu_bfloat16_instructions

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    assert cpu_bfloat16_instructions() == expected

    def broken():
        raise RuntimeError("no cpuinfo")

    # torch's probes are private: one that fails or is gone counts as "no such instructions"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", broken, raising=False)
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    assert cpu_bfloat16_instructions() is None


@pytest.mark.parametrize("instructions", ["amx", "avx512_bf16", None])
def test_bfloat16_warns_where_the_cpu_would_emulate_it(tiny_model_dir, monkeypatch, instructions):
    """Emulated bfloat16 made the shipped detector 4.3 times slower than float32 on an AVX2-only
    CPU, while the README promises it is faster: a user who asks for it there must be told."""
    import warnings

    from byline.errors import BylineWarning
    from byline.scoring import devices

    monkeypatch.setattr(devices, "cpu_bfloat16_instructions", lambda: instructions)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LanguageModel(str(tiny_model_dir), device="cpu", dtype=torch.bfloat16)
        LanguageModel(str(tiny_model_dir), device="cpu")  # float32 is never emulated
    messages = [str(w.message) for w in caught if issubclass(w.category, BylineWarning)]
    if instructions:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith("bfloat16 is emulated on this CPU")
    assert devices.slow_precision_warning("float32", "cpu") is None


@pytest.mark.slow
def test_preparing_a_packaged_model_says_so_once_without_progress_bar_noise(tmp_path):
    """First use converts the packaged GGUF weights: one `byline:` notice on stderr, not the
    library's carriage-return progress bar; the next start finds it prepared and says nothing."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "BYLINE_CACHE_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "byline", "models", "prepare", "smollm2-135m"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    assert (
        first.stderr.strip()
        == "byline: preparing the packaged model smollm2-135m for first use (a minute or two, once)"
    )
    assert "\r" not in first.stderr and "ready in" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and again.stderr == ""
    listed = subprocess.run(
        [sys.executable, "-m", "byline", "models", "list"], capture_output=True, text=True, env=env
    )
    assert any(
        line.startswith("smollm2-135m") and " prepared " in line for line in listed.stdout.splitlines()
    )
    assert any(
        line.startswith("gemma3-270m") and "not prepared" in line for line in listed.stdout.splitlines()
    )
