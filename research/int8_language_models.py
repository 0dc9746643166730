"""int8 candidates for the scoring language models on a CPU, beside float32 and bfloat16 (issue 26).

    python -m research.int8_language_models [--texts 20] [--models smollm2-135m,gemma3-270m]
                                            [--skip-memory] [--skip-batching] [--skip-processes]

Both language models are loaded as the shipped detector loads them (its window scheme, its token
budget, Gemma's vocabulary subset), and every candidate runs Byline's own window and statistics
code, ``LanguageModel.token_statistics``, with only the network swapped:

* ``float32``, ``bfloat16``: the product's two precisions;
* ``torch-int8``: PyTorch dynamic int8 quantisation (``torch.ao.quantization.quantize_dynamic``) of
  the decoder's linear layers, the output layer (vocabulary projection) left in float32;
* ``torch-int8-head``: the same with the output layer quantised too;
* ``torch-int8-no-down``: int8 weights with one scale per output channel, the MLPs' output
  projections (``down_proj``, whose inputs carry the largest activation outliers) left in float32;
* ``onnx-int8``: the decoder exported with ``torch.onnx.export`` and quantised with ONNX Runtime's
  ``quantize_dynamic`` (int8 weights per channel, matrix products only), output layer in float32
  PyTorch;
* ``onnx-int8-blockwise``: the same export with ONNX Runtime's ``MatMulNBits`` operator: 8-bit
  weights with a scale and zero point per block of 32 inputs, and ``accuracy_level=4``, which
  multiplies in int8 with the activations quantised per block of 32 as well (as llama.cpp does), so
  one outlier channel no longer coarsens a whole row. Its quantiser needs the ``onnx-ir`` package;
* ``llama.cpp``: llama-cpp-python on the packaged GGUF file itself (4-bit weights, its own
  kernels), when it is importable (it is not a Byline dependency); its logits of the full
  vocabulary feed the same statistics, restricted to the detector's vocabulary subset as Byline
  does it.

Texts: dev articles of about 500 words (as benchmarks/speed.py cuts them), half human and half
machine, prepared as the detector prepares them. Candidates are timed one text at a time,
round-robin per text, so that all see the same load on a shared machine. Accuracy: each
candidate's per-token statistics against float32 on the same tokens, and, article by article, the
Fast-DetectGPT criterion of its statistics (its correlation with float32's, and its AUROC on these
texts: a zero-shot check that the statistics still separate machine from human text; the
detector itself must be retrained on a candidate's statistics before its accuracy means anything). Peak memory: each candidate in its own process (load and score three texts).
Batching: batch sizes 1, 4 and 8 for float32 and the int8 candidates. Processes: two processes of
one thread against one process of two threads. Results go to
research/results/int8_language_models.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import describe_machine
from benchmarks.speed import DATA, articles_of, cut_article
from byline.decision.trained_detector import TrainedDetector
from byline.scoring.article_features import prepare_text
from byline.scoring.language_model import LanguageModel
from byline.scoring.model_files import PACKAGED_MODELS, cache_dir, packaged_gguf_path
from byline.scoring.token_statistics import TokenStatistics, fast_detectgpt_criterion, statistics_from_logits

RESULTS = Path(__file__).resolve().parent / "results" / "int8_language_models.json"
CANDIDATES = (
    "float32",
    "bfloat16",
    "torch-int8",
    "torch-int8-head",
    "torch-int8-no-down",
    "onnx-int8",
    "onnx-int8-blockwise",
    "llama.cpp",
)


def detector_texts(count: int) -> list[str]:
    """``count`` dev articles cut to about 500 words, as the detector's language models read them."""
    return [prepare_text(text).reflowed for text in articles_of(500, count)]


def labelled_texts(count: int) -> tuple[list[str], list[int]]:
    """``count`` dev articles of about 500 words, half human (label 0) and half machine (1), alternating,
    prepared as the detector prepares them."""
    wanted = {"human": count - count // 2, "ai": count // 2}
    chosen: dict[str, list[str]] = {"human": [], "ai": []}
    with DATA.open() as handle:
        for line in handle:
            record = json.loads(line)
            label = record["label"]
            if len(chosen[label]) < wanted[label] and (cut := cut_article(record["text"], 500)) is not None:
                chosen[label].append(prepare_text(cut).reflowed)
            if all(len(chosen[k]) == wanted[k] for k in wanted):
                break
    texts, labels = [], []
    for index in range(count):
        label = "human" if index % 2 == 0 else "ai"
        texts.append(chosen[label][index // 2])
        labels.append(int(label == "ai"))
    return texts, labels


def _language_model(name: str, dtype: torch.dtype = torch.float32) -> LanguageModel:
    trained = TrainedDetector.load(None)
    model = LanguageModel(
        name,
        device="cpu",
        dtype=dtype,
        window_tokens=trained.window_tokens,
        context_tokens=trained.context_tokens,
        max_scored_tokens=trained.max_scored_tokens,
    )
    if name in trained.vocabularies:
        model.set_vocabulary(trained.vocabularies[name])
    return model


class _QuantisedProduct:
    """Stands for ``subset_weight.T`` in ``hidden @ subset_weight.T``: an int8 linear layer.

    LanguageModel multiplies by a vocabulary subset's rows directly; a tensor's ``@`` gives way to
    this object's ``__rmatmul__``, so the product's own statistics code runs with an int8 output
    layer.
    """

    def __init__(self, weight: torch.Tensor) -> None:
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        linear.weight.data = weight.float().contiguous()
        self.linear = torch.ao.quantization.quantize_dynamic(
            torch.nn.Sequential(linear), {torch.nn.Linear}, dtype=torch.qint8
        )

    @property
    def T(self) -> "_QuantisedProduct":  # noqa: N802 - mirrors Tensor.T
        return self

    def __rmatmul__(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden)


class _QuantisedHead(torch.nn.Module):
    """An int8 output layer that keeps the float ``weight`` LanguageModel reads the vocabulary size from
    (tied to the input embeddings, so it costs no memory)."""

    def __init__(self, output: torch.nn.Linear) -> None:
        super().__init__()
        self.weight = output.weight
        self.product = _QuantisedProduct(output.weight.detach())

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.product


def _quantise_torch(model: LanguageModel, head: bool, keep_down: bool = False) -> None:
    decoder = model.network.get_decoder()
    spec: dict | set = {torch.nn.Linear}
    if keep_down:
        from torch.ao.quantization import per_channel_dynamic_qconfig

        spec = {
            name: per_channel_dynamic_qconfig
            for name, module in decoder.named_modules()
            if isinstance(module, torch.nn.Linear) and not name.endswith("down_proj")
        }
    torch.ao.quantization.quantize_dynamic(decoder, spec, dtype=torch.qint8, inplace=True)
    if not head:
        return
    if model._subset is not None:
        model._subset_weight = _QuantisedProduct(model._subset_weight)
    else:
        model.network.set_output_embeddings(_QuantisedHead(model.network.get_output_embeddings()))


def _onnx_decoder(model: LanguageModel, name: str, blockwise: bool = False) -> Path:
    """The decoder (input ids and mask to last hidden states) in ONNX, int8 matrix products."""
    import onnxruntime  # noqa: F401 - fail early when missing
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = cache_dir() / "research"
    folder.mkdir(parents=True, exist_ok=True)
    exported = folder / f"{name}-decoder.onnx"
    quantised = folder / f"{name}-decoder-int8{'-blockwise' if blockwise else ''}.onnx"
    if quantised.exists():
        return quantised
    if not exported.exists():
        _export_decoder(model, exported)
    if blockwise:
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        quantiser = MatMulNBitsQuantizer(
            onnx.load(str(exported)), bits=8, block_size=32, is_symmetric=False, accuracy_level=4
        )
        quantiser.process()
        quantiser.model.save_model_to_file(str(quantised), True)
    else:
        quantize_dynamic(
            exported,
            quantised,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    return quantised


def _export_decoder(model: LanguageModel, exported: Path) -> None:
    decoder = model.network.get_decoder()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.decoder = decoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.decoder(
                input_ids=input_ids, attention_mask=attention_mask, use_cache=False
            ).last_hidden_state

    example = (torch.ones((2, 16), dtype=torch.long), torch.ones((2, 16), dtype=torch.long))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState().eval(),
            example,
            str(exported),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={
                n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "last_hidden_state")
            },
        )


def _use_onnx(model: LanguageModel, path: Path, threads: int) -> None:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def hidden_states(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        feed = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        return torch.from_numpy(session.run(None, feed)[0])

    model._hidden_states = hidden_states  # the decoder is all ONNX Runtime runs
    model.network.get_decoder().layers = (
        torch.nn.ModuleList()
    )  # free the float32 layers ONNX Runtime now runs


def _use_llama_cpp(model: LanguageModel, name: str, threads: int) -> None:
    """Score windows with llama.cpp on the GGUF file; the statistics code is Byline's."""
    import llama_cpp.llama as llama_module

    gguf = packaged_gguf_path(PACKAGED_MODELS[name])
    # With its extra buffer types (weights repacked for AMX / AVX-512 kernels), llama.cpp 0.3.36
    # crashed in its first decode on this Xeon (segmentation fault); without them it runs.
    default_params = llama_module.llama_cpp.llama_model_default_params

    def without_extra_buffers():
        params = default_params()
        params.use_extra_bufts = False
        return params

    llama_module.llama_cpp.llama_model_default_params = without_extra_buffers
    try:
        llama = llama_module.Llama(
            model_path=str(gguf),
            n_ctx=model.window_tokens,
            n_batch=model.window_tokens,
            n_ubatch=model.window_tokens,
            logits_all=True,
            n_threads=threads,
            verbose=False,
        )
    finally:
        llama_module.llama_cpp.llama_model_default_params = default_params
    subset = model._subset

    def score_batch(batch):
        results = []
        for window in batch:
            llama.reset()
            llama.eval(window.token_ids)
            logits = torch.from_numpy(np.asarray(llama.scores[: len(window.token_ids)], dtype=np.float32))
            rows = logits[window.first_scored - 1 : len(window.token_ids) - 1]
            targets = torch.tensor(window.token_ids[window.first_scored :])
            if subset is not None:
                # As LanguageModel._statistics: the subset, plus the observed token when outside it.
                position = model._subset_position[targets]
                outside = position < 0
                extra = torch.full((rows.shape[0], 1), -1e4)
                extra[outside, 0] = rows[outside].gather(1, targets[outside].unsqueeze(1)).squeeze(1)
                rows = torch.cat([rows[:, subset], extra], dim=1)
                targets = torch.where(outside, torch.full_like(position, rows.shape[1] - 1), position)
            results.append(tuple(v.float().numpy() for v in statistics_from_logits(rows, targets)))
        return results

    model._score_batch = score_batch
    model.network = None  # type: ignore[assignment] - llama.cpp holds the weights


def build(name: str, candidate: str, threads: int = 2) -> LanguageModel:
    """``name`` (a packaged model) as ``candidate`` runs it."""
    if candidate == "bfloat16":
        return _language_model(name, torch.bfloat16)
    model = _language_model(name)
    if candidate in ("torch-int8", "torch-int8-head"):
        _quantise_torch(model, head=candidate == "torch-int8-head")
    elif candidate == "torch-int8-no-down":
        _quantise_torch(model, head=False, keep_down=True)
    elif candidate in ("onnx-int8", "onnx-int8-blockwise"):
        _use_onnx(model, _onnx_decoder(model, name, blockwise=candidate.endswith("blockwise")), threads)
    elif candidate == "llama.cpp":
        _use_llama_cpp(model, name, threads)
    elif candidate != "float32":
        raise ValueError(f"unknown candidate {candidate!r}")
    return model


def differences(reference: list[TokenStatistics], other: list[TokenStatistics]) -> dict:
    """How far ``other``'s statistics are from ``reference``'s, token by token on the same tokens."""
    from scipy.stats import spearmanr

    pairs = list(zip(reference, other))
    if any(a.n_scored != b.n_scored or not np.array_equal(a.offsets, b.offsets) for a, b in pairs):
        raise ValueError("the candidates scored different tokens")
    cat = lambda field, side: np.concatenate([getattr(p[side], field) for p in pairs]).astype(np.float64)  # noqa: E731
    log_probs = cat("log_probs", 1) - cat("log_probs", 0)
    entropies = cat("entropies", 1) - cat("entropies", 0)
    ranks_a, ranks_b = cat("ranks", 0), cat("ranks", 1)
    per_text = np.array([float(b.log_probs.mean() - a.log_probs.mean()) for a, b in pairs])
    criteria = np.array([[criterion(a), criterion(b)] for a, b in pairs])
    return {
        "tokens": int(log_probs.size),
        "mean_abs_log_prob_difference": round(float(np.abs(log_probs).mean()), 4),
        "max_abs_log_prob_difference": round(float(np.abs(log_probs).max()), 3),
        "mean_abs_entropy_difference": round(float(np.abs(entropies).mean()), 4),
        "rank_identical_share": round(float((ranks_a == ranks_b).mean()), 4),
        "rank_spearman": round(float(spearmanr(ranks_a, ranks_b).statistic), 4),
        "mean_per_text_mean_log_prob_difference": round(float(per_text.mean()), 4),
        "mean_abs_per_text_mean_log_prob_difference": round(float(np.abs(per_text).mean()), 4),
        "fast_detectgpt_criterion_pearson": round(float(np.corrcoef(criteria.T)[0, 1]), 4),
    }


def criterion(stats: TokenStatistics) -> float:
    return fast_detectgpt_criterion(stats.log_probs, stats.entropies, stats.log_prob_variances)


def auroc(stats: list[TokenStatistics], labels: list[int]) -> float:
    """How well the Fast-DetectGPT criterion of these statistics alone separates machine from human text."""
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, [criterion(s) for s in stats])), 4)


def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Not ``ru_maxrss``: Linux carries that across ``exec``,
    so a worker started by a process holding every candidate would report the parent's peak."""
    return _rss_mb("VmHWM")


def compare(name: str, candidates: list[str], texts: list[str], labels: list[int]) -> dict:
    """Speed (round-robin per text) and differences from float32 of every candidate on one model."""
    models: dict[str, LanguageModel] = {}
    failures: dict[str, str] = {}
    load_seconds: dict[str, float] = {}
    for candidate in candidates:
        begin = time.perf_counter()
        try:
            models[candidate] = build(name, candidate, torch.get_num_threads())
            models[candidate].token_statistics(texts[:2])  # warm-up
        except Exception as error:  # a candidate that cannot run is a finding, not a crash
            failures[candidate] = f"{type(error).__name__}: {str(error)[:300]}"
            print(f"{name} {candidate}: failed: {failures[candidate]}", flush=True)
            continue
        load_seconds[candidate] = round(time.perf_counter() - begin, 1)
        print(
            f"{name} {candidate}: ready in {load_seconds[candidate]} s (RSS {_rss_mb():.0f} MB)", flush=True
        )
    seconds: dict[str, list[float]] = {c: [] for c in models}
    outputs: dict[str, list[TokenStatistics]] = {c: [] for c in models}
    load_before = os.getloadavg()
    for index, text in enumerate(texts[2:]):
        order = list(models) if index % 2 == 0 else list(reversed(models))
        for candidate in order:
            begin = time.perf_counter()
            outputs[candidate].extend(models[candidate].token_statistics([text]))
            seconds[candidate].append(time.perf_counter() - begin)
    result = {
        "texts": len(texts) - 2,
        "scored_tokens_per_text": round(
            statistics.mean(s.n_scored for s in outputs.get("float32", [])) if "float32" in outputs else 0, 1
        ),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "failures": failures,
        "candidates": {},
    }
    reference = outputs.get("float32")
    for candidate in models:
        row = {
            "fast_detectgpt_auroc": auroc(outputs[candidate], labels[2:]),
            "mean_seconds_per_article": round(statistics.mean(seconds[candidate]), 4),
            "median_seconds_per_article": round(statistics.median(seconds[candidate]), 4),
            "load_and_warm_up_seconds": load_seconds[candidate],
        }
        if reference is not None:
            row["speed_up_over_float32"] = round(
                statistics.mean(seconds["float32"]) / statistics.mean(seconds[candidate]), 2
            )
            if candidate != "float32":
                row["differences_from_float32"] = differences(reference, outputs[candidate])
        result["candidates"][candidate] = row
        print(f"{name} {candidate}: {json.dumps(row)}", flush=True)
    return result


def batching(name: str, candidates: list[str], texts: list[str], sizes=(1, 4, 8), repeats: int = 2) -> dict:
    """Seconds per article at each batch size (windows per forward pass), alternating candidates and sizes."""
    models = {c: build(name, c, torch.get_num_threads()) for c in candidates}
    for model in models.values():
        model.token_statistics(texts[:2])
    window = max(
        len(w.token_ids) for m in models.values() for w in m._windows(0, m.tokenizer(texts[0])["input_ids"])
    )
    timings: dict[str, dict[int, list[float]]] = {c: {b: [] for b in sizes} for c in models}
    load_before = os.getloadavg()
    for _ in range(repeats):
        for size in sizes:
            for candidate, model in models.items():
                model.batch_tokens = size * window
                begin = time.perf_counter()
                model.token_statistics(texts)
                timings[candidate][size].append((time.perf_counter() - begin) / len(texts))
    return {
        "texts": len(texts),
        "window_tokens": window,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seconds_per_article": {
            c: {str(b): round(min(t), 4) for b, t in by_size.items()} for c, by_size in timings.items()
        },
    }


def _worker(args: argparse.Namespace) -> None:
    """One process of the processes-against-threads test, or a memory probe: load, wait for a line, score, report."""
    torch.set_num_threads(args.threads)
    texts = detector_texts(args.texts)
    if args.part:
        index, parts = (int(x) for x in args.part.split("/"))
        texts = texts[index::parts]
    model = build(args.worker_model, args.worker_candidate, args.threads)
    model.token_statistics(texts[:1])
    if args.wait:
        print("ready", flush=True)
        sys.stdin.readline()
    begin = time.perf_counter()
    for text in texts:
        model.token_statistics([text])
    elapsed = time.perf_counter() - begin
    print(
        json.dumps({"seconds": elapsed, "texts": len(texts), "peak_memory_mb": round(_peak_rss_mb(), 1)}),
        flush=True,
    )


def _spawn(
    model: str, candidate: str, threads: int, texts: int, part: str = "", wait: bool = False
) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "research.int8_language_models",
        "--worker-model",
        model,
        "--worker-candidate",
        candidate,
        "--threads",
        str(threads),
        "--texts",
        str(texts),
    ]
    if part:
        command += ["--part", part]
    if wait:
        command.append("--wait")
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _report(process: subprocess.Popen) -> dict:
    output, _ = process.communicate()
    return json.loads(output.strip().splitlines()[-1])


def memory(models: list[str], candidates: list[str]) -> dict:
    """Peak RSS of a process that loads one model as one candidate and scores three texts."""
    peaks: dict[str, dict[str, float | str]] = {}
    for name in models:
        peaks[name] = {}
        for candidate in candidates:
            try:
                peaks[name][candidate] = _report(_spawn(name, candidate, 2, 3))["peak_memory_mb"]
            except (json.JSONDecodeError, IndexError):
                peaks[name][candidate] = "failed"
    return peaks


def processes(name: str, candidate: str, texts: int, repeats: int = 2) -> dict:
    """Seconds per article: two processes of one thread (half the texts each) against one of two threads."""
    results: dict[str, list[float]] = {"one_process_two_threads": [], "two_processes_one_thread": []}
    load_before = os.getloadavg()
    for _ in range(repeats):
        single = _spawn(name, candidate, 2, texts, wait=True)
        assert single.stdout.readline().strip() == "ready"
        single.stdin.write("go\n")
        single.stdin.flush()
        report = _report(single)
        results["one_process_two_threads"].append(report["seconds"] / report["texts"])
        pair = [_spawn(name, candidate, 1, texts, part=f"{i}/2", wait=True) for i in range(2)]
        for process in pair:
            assert process.stdout.readline().strip() == "ready"
        for process in pair:
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = [_report(p) for p in pair]
        results["two_processes_one_thread"].append(
            max(r["seconds"] for r in reports) / sum(r["texts"] for r in reports)
        )
    return {
        "model": name,
        "candidate": candidate,
        "texts": texts,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seconds_per_article": {k: [round(v, 4) for v in values] for k, values in results.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=24)
    parser.add_argument("--models", default="smollm2-135m,gemma3-270m")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--batching-candidates", default="float32,torch-int8,onnx-int8-blockwise")
    parser.add_argument("--processes-candidates", default="float32,torch-int8,onnx-int8-blockwise")
    parser.add_argument(
        "--memory-candidates", default="float32,bfloat16,torch-int8,onnx-int8-blockwise,llama.cpp"
    )
    parser.add_argument(
        "--skip-compare", action="store_true", help="keep the speed and accuracy comparison of an earlier run"
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-batching", action="store_true")
    parser.add_argument("--skip-processes", action="store_true")
    parser.add_argument("--output", default=str(RESULTS))
    # internal: one worker process
    parser.add_argument("--worker-model", help=argparse.SUPPRESS)
    parser.add_argument("--worker-candidate", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--part", default="", help=argparse.SUPPRESS)
    parser.add_argument("--wait", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_model:
        _worker(args)
        return
    models = args.models.split(",")
    candidates = args.candidates.split(",")
    output_path = Path(args.output)
    output: dict = json.loads(output_path.read_text()) if output_path.exists() else {}
    output["machine"] = describe_machine()
    output["torch"] = torch.__version__
    texts, labels = labelled_texts(args.texts + 2)
    output.setdefault("models", {})
    for name in models if not args.skip_compare else []:
        output["models"][name] = compare(name, candidates, texts, labels)
        output_path.write_text(json.dumps(output, indent=2))
    if not args.skip_batching:
        output["batching"] = {
            name: batching(name, args.batching_candidates.split(","), texts[:8]) for name in models
        }
        print(json.dumps(output["batching"]), flush=True)
        output_path.write_text(json.dumps(output, indent=2))
    if not args.skip_processes:
        output["processes"] = {
            name: {c: processes(name, c, 8) for c in args.processes_candidates.split(",")} for name in models
        }
        print(json.dumps(output["processes"]), flush=True)
        output_path.write_text(json.dumps(output, indent=2))
    if not args.skip_memory:
        output["peak_memory_mb"] = memory(models, args.memory_candidates.split(","))
        print(json.dumps(output["peak_memory_mb"]), flush=True)
        output_path.write_text(json.dumps(output, indent=2))
    print(f"written to {output_path}")


if __name__ == "__main__":
    main()
