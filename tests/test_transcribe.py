import numpy as np
import pytest
import soundfile
import torch

import asr
from asr import transcribe as transcribe_module
from asr.features import FeatureExtractor
from asr.model import AcousticModel
from asr.tokenizer import Tokenizer
from asr.transcribe import Transcriber
from conftest import TINY_CONFIG, tone


def test_load_model_and_transcribe_path_and_array(tiny_checkpoint, wav_file):
    model = asr.load_model(tiny_checkpoint, device="cpu")
    from_path = model.transcribe(wav_file)
    from_array = model.transcribe(tone(2.0, rate=8000, channels=2), sample_rate=8000)
    assert isinstance(from_path.text, str) and isinstance(from_array.text, str)
    assert model.frame_shift == pytest.approx(0.04)
    logprobs = model.logprobs(torch.from_numpy(tone(1.0)))
    assert logprobs.dtype == np.float32 and np.allclose(np.exp(logprobs).sum(-1), 1, atol=1e-4)


def test_long_audio_is_windowed_with_the_same_result(monkeypatch):
    """A model without recurrence has a local receptive field: windowed == whole, exactly."""
    torch.manual_seed(0)
    config = TINY_CONFIG.with_overrides({"model.num_layers": 0})
    model = AcousticModel(20, 29, config.model)
    transcriber = Transcriber(model, config, Tokenizer.english(), FeatureExtractor(config.features), torch.device("cpu"))
    samples = torch.randn(16000 * 7)
    whole = transcriber.logprobs(samples)
    monkeypatch.setattr(transcribe_module, "WINDOW_SECONDS", 1.0)
    monkeypatch.setattr(transcribe_module, "CONTEXT_SECONDS", 0.24)
    windowed = transcriber.logprobs(samples)
    assert windowed.shape == whole.shape
    assert np.allclose(windowed, whole, atol=1e-5)


def test_long_file_runs_in_bounded_windows(tmp_path, tiny_checkpoint, monkeypatch):
    """A long file never reaches the model in one piece: each forward pass sees one window."""
    path = tmp_path / "long.flac"
    soundfile.write(path, np.random.default_rng(0).normal(0, 0.05, 16000 * 65).astype(np.float32), 16000)
    model = asr.load_model(tiny_checkpoint, device="cpu")
    seen, forward = [], Transcriber._forward
    monkeypatch.setattr(Transcriber, "_forward", lambda self, feats: seen.append(len(feats)) or forward(self, feats))
    hyp = model.transcribe(path)
    window = (transcribe_module.WINDOW_SECONDS + 2 * transcribe_module.CONTEXT_SECONDS) / 0.01
    assert len(seen) == 3 and max(seen) <= window
    assert isinstance(hyp.text, str)


@pytest.mark.parametrize("samples", [1, 160, 399])
def test_audio_shorter_than_one_window_transcribes_as_nothing(tiny_checkpoint, samples):
    """No frame fits, so nothing is decoded: no padding invents a frame (and a letter) for it."""
    model = asr.load_model(tiny_checkpoint, device="cpu")
    audio = np.full(samples, 0.3, np.float32)
    assert model.logprobs(torch.from_numpy(audio)).shape == (0, model.tokenizer.size)
    hyp = model.transcribe(audio)
    assert hyp.text == "" and hyp.words == ()


def test_default_decoder_is_the_checkpoints(tmp_path, wav_file):
    """A model decodes the way its checkpoint's decode section says; any protocol decoder may replace it."""
    from asr.checkpoint import model_payload, save_checkpoint
    from asr.decode.greedy import GreedyDecoder
    from asr.decode.prefix_beam import BeamSearchDecoder

    torch.manual_seed(0)
    config = TINY_CONFIG.with_overrides({"decode.decoder": "beam", "decode.beam.beam_size": 2, "decode.beam.nbest": 2})
    path = tmp_path / "beam.pt"
    save_checkpoint(model_payload(AcousticModel(20, 29, config.model), config, Tokenizer.english(), FeatureExtractor(config.features)), path)
    model = asr.load_model(path, device="cpu")
    decoder = model.decoder()
    assert isinstance(decoder, BeamSearchDecoder) and decoder.options.beam_size == 2
    nbest = model.transcribe_nbest(wav_file)
    assert 1 <= len(nbest) <= 2 and model.transcribe(wav_file) == nbest[0]
    greedy = GreedyDecoder(model.tokenizer.tokens, model.frame_shift)
    assert model.transcribe(wav_file, decoder=greedy) == greedy.decode(model.logprobs(asr.audio.load(wav_file)[0]))[0]


def test_training_and_transcription_share_the_front_end(tiny_checkpoint, wav_file):
    """The dev set's features (training side) are exactly what transcription feeds the model."""
    from asr.data import SpeechDataset, Utterance

    model = asr.load_model(tiny_checkpoint, device="cpu")
    dataset = SpeechDataset([Utterance("u", wav_file, 1.0, "a")], model.tokenizer, model.extractor, train=False)
    samples = asr.audio.load(wav_file)[0]
    assert torch.equal(dataset[0].features, model.extractor(samples))


def test_word_times_stop_at_the_audio_end_not_in_the_end_padding():
    """A unidirectional model hears 300 ms of silence after the audio; a word the decoder places
    in it is reported as ending with the audio (0.5 s here), and every hypothesis gets the same."""
    from asr.decode.types import Hypothesis, WordAlignment

    config = TINY_CONFIG.with_overrides({"model.bidirectional": False})
    model = Transcriber(AcousticModel(20, 29, config.model), config, Tokenizer.english(), FeatureExtractor(config.features), torch.device("cpu"))

    class Late:
        def decode(self, logprobs):
            heard = len(logprobs) * model.frame_shift
            words = (WordAlignment("a", 0.1, 0.2, 1.0), WordAlignment("b", 0.45, heard, 1.0), WordAlignment("c", heard - 0.01, heard, 0.5))
            return [Hypothesis("a b c", (), 0.0, 0.0, words=words)] * 2

    nbest = model.transcribe_nbest(np.zeros(8000, np.float32), decoder=Late())
    for hyp in nbest:
        assert [(w.start, w.end) for w in hyp.words] == [(0.1, 0.2), (0.45, 0.5), (0.5, 0.5)]
