"""Export a streaming model to TorchScript or ONNX, and stream through the exported files.

What is exported are the two pieces `asr.model.ChunkedStreaming` steps over, as straight-line
graphs with the recurrent state as plain tensors: the encoder (front-end windows, h, c) ->
(recurrent outputs, h, c) and the head (outputs with their lookahead frames) -> logits; the
buffering between chunks stays in Python, the same code the eager model streams with. Both
are traced (the layer types are fixed per model), with the frame axis dynamic; our own cells
(`model.rnn_impl: native`) are scripted first, so the trace keeps their time loop (TorchScript
only: the ONNX exporter cannot trace through it). The export
writes `<out>.encoder.<ext>`, `<out>.head.<ext>` and `<out>.json` (the model's geometry and
the checkpoint it came from, whose features, vocabulary and decode settings the runtime
reuses); `load_runtime` turns them back into an object the recognizer can stream through.
A parity check against the eager model runs at the end of every export.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asr.config import ModelConfig
from asr.model import AcousticModel, ChunkedStreaming, RecurrentLayer

FORMATS = {"torchscript": "pt", "onnx": "onnx"}
RUNTIMES = ("eager", "int8", "torchscript", "onnx")
PARITY_ATOL = 1e-4


class ExportError(ValueError):
    """A model or file that cannot be exported or loaded as asked."""


class _Encoder(torch.nn.Module):
    def __init__(self, model: AcousticModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, window: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        return self.model.encode_chunk(window, h, c)


class _Head(torch.nn.Module):
    def __init__(self, model: AcousticModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, outputs: torch.Tensor) -> torch.Tensor:
        return self.model.head_chunk(outputs)


@dataclass(frozen=True)
class Exported:
    encoder: Path
    head: Path
    meta: Path


def export(model: AcousticModel, checkpoint: Path, fmt: str, out: Path) -> Exported:
    """Write `model` (unidirectional, eval mode) in `fmt` next to `out`; checks parity on random input."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    if model.config.bidirectional:
        raise ExportError("only a streaming (unidirectional) model is exported: this one is bidirectional")
    if model.config.rnn_impl == "native" and fmt != "torchscript":
        raise ExportError(
            "our own cells (model.rnn_impl: native) export to torchscript only: the ONNX exporter cannot "
            "trace through their scripted time loop; export to torchscript, or train with model.rnn_impl: torch"
        )
    model = model.cpu().eval()
    traced = _with_scripted_cells(model) if model.config.rnn_impl == "native" else model
    ext = FORMATS[fmt]
    files = Exported(out.with_suffix(f".encoder.{ext}"), out.with_suffix(f".head.{ext}"), out.with_suffix(".json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    window, state = _example(model)
    outputs = torch.randn(1, model.lookahead_count + 3, model.output_dim)
    # The wrappers in eval mode: the ONNX exporter restores the wrapper's mode on the whole model
    # afterwards, and a fresh module's is training (dropout on).
    encoder, head = _Encoder(traced).eval(), _Head(traced).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape arithmetic: the parity check below is the test
        if fmt == "torchscript":
            torch.jit.trace(encoder, (window, state.h, state.c)).save(str(files.encoder))
            torch.jit.trace(head, (outputs,)).save(str(files.head))
        else:
            _onnx(encoder, (window, state.h, state.c), files.encoder, ["window", "h", "c"], ["outputs", "h_out", "c_out"], {"window": {1: "frames"}, "outputs": {1: "frames"}})
            _onnx(head, (outputs,), files.head, ["outputs"], ["logits"], {"outputs": {1: "frames"}, "logits": {1: "frames"}})
    model.eval()
    meta = {
        "format": fmt, "checkpoint": str(Path(checkpoint).resolve()), "config": dataclasses.asdict(model.config),
        "n_mels": model.n_mels, "window_frames": model.window_frames, "stride": model.stride, "output_dim": model.output_dim,
        "vocab_size": model.vocab_size, "rnn_layers": model.rnn_layers, "hidden_size": model.hidden_size,
    }  # fmt: skip
    files.meta.write_text(json.dumps(meta, indent=2) + "\n")
    check_parity(model, load_exported(files.meta))
    return files


def _with_scripted_cells(model: AcousticModel) -> AcousticModel:
    """A copy of `model` whose own recurrent cells are compiled with torch.jit.script: tracing keeps a
    scripted module's time loop, where it would unroll an eager one at the example's length."""
    model = copy.deepcopy(model)
    for layer in model.modules():
        if isinstance(layer, RecurrentLayer) and layer.native:
            layer.rnn = torch.jit.script(layer.rnn)
    return model


def _onnx(module, args, path, inputs, outputs, axes) -> None:
    try:
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=axes, dynamo=False)
    except ImportError as err:
        raise ExportError(f"ONNX export needs the onnx package ({err}): pip install onnx") from None


def _example(model: AcousticModel):
    state = model.initial_state()
    return torch.randn(1, (5 - 1) * model.stride + model.window_frames, model.n_mels), state


class ExportedModel(ChunkedStreaming):
    """Streams through an exported encoder and head (TorchScript modules or onnxruntime sessions)."""

    def __init__(self, meta: dict, encoder, head, runtime: str) -> None:
        self.config = ModelConfig(**meta["config"])
        self.runtime, self._encoder, self._head = runtime, encoder, head
        self.n_mels, self.window_frames, self.stride = meta["n_mels"], meta["window_frames"], meta["stride"]
        self.output_dim, self.vocab_size = meta["output_dim"], meta["vocab_size"]
        self.rnn_layers, self.hidden_size, self.lookahead_count = meta["rnn_layers"], meta["hidden_size"], self.config.lookahead
        self.subsampling, self.device = self.config.subsampling, torch.device("cpu")

    def encode_chunk(self, window, h, c):
        if self.runtime == "torchscript":
            return self._encoder(window, h, c)
        x, h, c = self._encoder.run(None, {"window": window.numpy(), "h": h.numpy(), "c": c.numpy()})
        return torch.from_numpy(x), torch.from_numpy(h), torch.from_numpy(c)

    def head_chunk(self, outputs):
        if self.runtime == "torchscript":
            return self._head(outputs)
        return torch.from_numpy(self._head.run(None, {"outputs": outputs.numpy()})[0])


def quantized(model: AcousticModel) -> AcousticModel:
    """A copy with int8 weights in its LSTM/GRU/RNN and linear layers (torch.ao dynamic quantization,
    CPU only). It streams through the same code, but each call quantizes its activations by their
    own range, so unlike fp32 its output depends slightly on the chunking."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao announces its own deprecation in favour of torchao
        layers = {torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN, torch.nn.Linear}
        return torch.ao.quantization.quantize_dynamic(model.cpu().eval(), layers, dtype=torch.qint8)


def default_path(checkpoint: Path, fmt: str) -> Path:
    """Where `asr export` writes by default: beside the checkpoint, `best.pt` -> `best-onnx.json` etc."""
    return Path(checkpoint).with_name(f"{Path(checkpoint).stem}-{fmt}")


def load_exported(meta_path: Path, threads: int = 0) -> ExportedModel:
    """The runtime for files written by `export` (give the .json)."""
    meta_path = Path(meta_path).with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise ExportError(f"{meta_path}: not an export description ({err.__class__.__name__}: {err})") from None
    ext = FORMATS[meta["format"]]
    encoder, head = meta_path.with_suffix(f".encoder.{ext}"), meta_path.with_suffix(f".head.{ext}")
    if meta["format"] == "torchscript":
        return ExportedModel(meta, torch.jit.load(str(encoder)), torch.jit.load(str(head)), "torchscript")
    try:
        import onnxruntime
    except ImportError:
        raise ExportError("the onnx runtime needs onnxruntime: pip install onnxruntime") from None
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = options.inter_op_num_threads = threads
    sessions = [onnxruntime.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]) for p in (encoder, head)]
    return ExportedModel(meta, *sessions, "onnx")


def check_parity(model: AcousticModel, exported: ExportedModel, seconds: float = 3.0) -> float:
    """Largest logit difference between eager and exported streaming over random features in uneven chunks."""
    torch.manual_seed(0)
    features = torch.randn(1, int(seconds * 100), model.n_mels)
    outputs = []
    for runner in (model, exported):
        state, pieces = runner.initial_state(), []
        with torch.no_grad():
            for chunk in torch.split(features, [7, 16, 1, 40] * (features.shape[1] // 64) + [features.shape[1] % 64], dim=1):
                logits, state = runner.step(chunk, state)
                pieces.append(logits)
            pieces.append(runner.flush(state))
        outputs.append(torch.cat(pieces, 1).numpy())
    worst = float(np.abs(outputs[0] - outputs[1]).max())
    if worst > PARITY_ATOL:
        raise ExportError(f"exported model differs from the eager one by {worst:.2e} (limit {PARITY_ATOL:g})")
    return worst
