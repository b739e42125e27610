"""asr/export.py: TorchScript and ONNX exports of a streaming model stream like the eager model."""

import numpy as np
import pytest
import soundfile
import torch

from asr.audio import to_mono_16k
from asr.config import StreamConfig
from asr.export import ExportError, check_parity, export, load_exported
from asr.stream import Final, Recognizer
from conftest import TINY_CONFIG, shared_data
from test_stream import CONFIG, _transcriber

pytest.importorskip("onnxruntime", reason="the ONNX runtime is a dev extra: pip install onnxruntime onnx")


@pytest.fixture(scope="module")
def speech():
    data, rate = soundfile.read(shared_data("ljspeech_part") / "wavs" / "LJ002-0020.wav", dtype="float32")
    return to_mono_16k(data, rate).numpy()


@pytest.mark.needs_data
@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
def test_exports_stream_a_real_utterance_like_eager(tmp_path, speech, rnn_type):
    transcriber = _transcriber(CONFIG.with_overrides({"model.rnn_type": rnn_type}), calibrate=speech)
    features = transcriber.extractor(torch.from_numpy(speech))[None]
    runners = {"eager": transcriber.model.eval()}
    for fmt in ("torchscript", "onnx"):
        files = export(transcriber.model, tmp_path / "model.pt", fmt, tmp_path / fmt)
        assert files.encoder.exists() and files.head.exists()
        runners[fmt] = load_exported(files.meta)
    logits = {}
    for name, runner in runners.items():
        state, pieces = runner.initial_state(), []
        with torch.no_grad():
            for chunk in torch.split(features, 16, dim=1):  # 160 ms of features a step
                out, state = runner.step(chunk, state)
                pieces.append(out)
            pieces.append(runner.flush(state))
        logits[name] = torch.cat(pieces, 1).numpy()
    assert logits["eager"].shape[1] > 20
    for fmt in ("torchscript", "onnx"):
        assert np.abs(logits[fmt] - logits["eager"]).max() <= 1e-4, fmt
    finals = {
        name: [e.text for e in _recognize(transcriber, runner, speech) if isinstance(e, Final)] for name, runner in runners.items()
    }
    assert finals["eager"] and finals["torchscript"] == finals["onnx"] == finals["eager"]


def _recognize(transcriber, runner, samples):
    stream = Recognizer(transcriber, config=StreamConfig(endpointing=False), runner=runner).stream()
    events = []
    for start in range(0, len(samples), 2560):
        events += stream.accept(samples[start : start + 2560])
    return events + stream.finish()


def test_what_cannot_be_exported_says_so(tmp_path):
    bidirectional = _transcriber(TINY_CONFIG).model
    with pytest.raises(ExportError, match="only a streaming .unidirectional. model"):
        export(bidirectional, tmp_path / "m.pt", "torchscript", tmp_path / "x")
    with pytest.raises(ExportError, match="unknown export format 'tflite'"):
        export(_transcriber().model, tmp_path / "m.pt", "tflite", tmp_path / "x")
    with pytest.raises(ExportError, match="not an export description"):
        load_exported(tmp_path / "missing.json")


@pytest.mark.parametrize("options", [
    {"model.rnn_type": "lstm", "model.rnn_layer_norm": True, "model.peephole": True, "model.recurrent_dropout": 0.1},
    {"model.rnn_type": "gru"},
])  # fmt: skip
def test_our_own_cells_export_to_torchscript_with_their_time_loop(tmp_path, options):
    model = _transcriber(CONFIG.with_overrides({"model.rnn_impl": "native", **options})).model.eval()
    files = export(model, tmp_path / "m.pt", "torchscript", tmp_path / "ts")  # its parity check streams uneven chunks
    exported = load_exported(files.meta)
    assert check_parity(model, exported, seconds=5.0) <= 1e-4  # chunks of other lengths than the export's example
    assert not any(isinstance(m, torch.jit.ScriptModule) for m in model.modules())  # the model itself stays eager
    with pytest.raises(ExportError, match="export to torchscript only.*model.rnn_impl: torch"):
        export(model, tmp_path / "m.pt", "onnx", tmp_path / "onnx")


def test_parity_check_catches_a_different_model(tmp_path):
    model = _transcriber().model.eval()
    files = export(model, tmp_path / "m.pt", "torchscript", tmp_path / "ts")
    exported = load_exported(files.meta)
    with torch.no_grad():
        model.head.bias += 0.01  # the exported graph keeps the old weights
    with pytest.raises(ExportError, match="differs from the eager one"):
        check_parity(model, exported)


def test_int8_copy_streams_like_its_own_offline_pass():
    """The int8 copy streams through the same code. Dynamic quantization scales each call's activations
    by their own range, so chunked and whole differ a little (unlike fp32, which agrees to 1e-5)."""
    from asr.export import quantized

    model = _transcriber().model.eval()
    torch.manual_seed(1)
    features = torch.randn(1, 120, model.n_mels)
    small = quantized(model)
    with torch.no_grad():
        whole, _ = small(features, torch.tensor([120]))
        state, pieces = small.initial_state(), []
        for chunk in torch.split(features, 13, dim=1):
            out, state = small.step(chunk, state)
            pieces.append(out)
        pieces.append(small.flush(state))
    streamed = torch.cat(pieces, 1)
    assert streamed.shape == whole.shape and (streamed - whole).abs().max() < 0.1
    assert isinstance(small.layers[0].rnn, torch.ao.nn.quantized.dynamic.LSTM) and model.layers[0].rnn.weight_ih_l0.dtype == torch.float32
