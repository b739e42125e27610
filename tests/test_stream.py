"""asr/stream.py: streaming equals offline on real speech (any chunking, greedy and beam + LM), endpoint rules, bad input."""

import numpy as np
import pytest
import soundfile
import torch

from asr.audio import AudioError, to_mono_16k
from asr.config import BeamSearchOptions, StreamConfig
from asr.decode.greedy import GreedyDecoder
from asr.decode.lm import NgramLM
from asr.decode.lm_build import build_arpa
from asr.decode.prefix_beam import BeamSearchDecoder
from asr.features import CmvnAccumulator, FeatureError, FeatureExtractor
from asr.model import AcousticModel
from asr.stream import Final, Partial, Recognizer, StreamError
from asr.tokenizer import Tokenizer
from asr.transcribe import Transcriber
from conftest import TINY_CONFIG, shared_data

CONFIG = TINY_CONFIG.with_overrides({"model.bidirectional": False, "model.lookahead": 2, "features.running_cmn": True})
NO_ENDPOINTS = StreamConfig(endpointing=False)
TOKENS = Tokenizer.english().tokens


def _transcriber(config=CONFIG, calibrate: np.ndarray | None = None) -> Transcriber:
    """An untrained model (its text is noise, but the same noise offline and streamed) with CMVN
    statistics from `calibrate` (16 kHz), so the recurrent layers see normalised input."""
    torch.manual_seed(0)
    model = AcousticModel(config.features.n_mels, len(TOKENS), config.model)
    if model.lookahead is not None:
        torch.nn.init.normal_(model.lookahead.conv.weight, std=0.3)
    extractor = FeatureExtractor(config.features)
    if calibrate is not None:
        acc = CmvnAccumulator(config.features.n_mels)
        acc.add(extractor.log_mel(torch.from_numpy(calibrate)))
        extractor = FeatureExtractor(config.features, acc.result())
    return Transcriber(model, config, Tokenizer.english(), extractor, torch.device("cpu"))


@pytest.fixture(scope="module")
def speech():
    """1.5 s of LJ Speech, at its own 22.05 kHz (so the stream resamples)."""
    data, rate = soundfile.read(shared_data("ljspeech_part") / "wavs" / "LJ002-0020.wav", dtype="float32")
    return data, rate


def _feed(recognizer, samples, rate, chunk_ms):
    rng = np.random.default_rng(0)
    stream, events, start = recognizer.stream(), [], 0
    while start < len(samples):
        size = int(rng.integers(1, rate // 2)) if chunk_ms == "random" else max(1, rate * chunk_ms // 1000)
        events += stream.accept(samples[start : start + size], rate)
        start += size
    return events + stream.finish()


@pytest.mark.needs_data
@pytest.mark.parametrize("chunk_ms", [1, 10, 80, 160, 320, "random"])
def test_streaming_equals_offline_on_real_speech(speech, chunk_ms):
    samples, rate = speech
    transcriber = _transcriber(calibrate=to_mono_16k(samples, rate).numpy())
    lm = NgramLM.from_arpa_text(build_arpa(["printing in the only sense", "the arts and crafts", "in being modern"], order=2))
    decoders = {
        "greedy": GreedyDecoder(TOKENS, transcriber.frame_shift),
        "beam+lm": BeamSearchDecoder(TOKENS, BeamSearchOptions(beam_size=8), lm=lm, frame_shift=transcriber.frame_shift),
    }
    logprobs = transcriber.logprobs(to_mono_16k(samples, rate))
    for name, decoder in decoders.items():
        offline = decoder.decode(logprobs)[0]
        assert offline.text, name  # an untrained model's noise, but something to compare
        events = _feed(Recognizer(transcriber, decoder, NO_ENDPOINTS), samples, rate, chunk_ms)
        finals = [e for e in events if isinstance(e, Final)]
        assert [f.text for f in finals] == [offline.text], name
        for ours, theirs in zip(finals[0].words, offline.words):
            assert ours.word == theirs.word and ours.start == pytest.approx(theirs.start) and ours.end == pytest.approx(theirs.end)
            assert ours.confidence == pytest.approx(theirs.confidence, abs=1e-4)
        partials = [e for e in events if isinstance(e, Partial)]
        assert partials and all(offline.text.startswith(p.stable) for p in partials), name  # stable means it stays
        assert finals[0].start == 0 and finals[0].end == pytest.approx(len(samples) / rate, abs=1e-3)  # the audio's end, not the padding's
        assert finals[0].words[-1].end <= finals[0].end


def _streamed_logprobs(recognizer: Recognizer, samples: np.ndarray, chunk: int) -> np.ndarray:
    """Every log-prob frame the recognizer decodes for `samples` (16 kHz) fed `chunk` at a time, finish included."""
    seen, decode = [], recognizer._logprobs
    recognizer._logprobs = lambda logprobs, state: (seen.append(logprobs), decode(logprobs, state))[1]
    stream = recognizer.stream()
    for start in range(0, len(samples), chunk):
        stream.accept(samples[start : start + chunk])
    stream.finish()
    return np.concatenate(seen) if seen else np.zeros((0, len(TOKENS)), np.float32)


@pytest.mark.parametrize("padding_ms", [0, 120, 300])
def test_end_padding_is_heard_offline_and_streamed_alike(padding_ms):
    """A unidirectional model's audio ends with `end_padding_ms` of silence: offline and streamed give the
    same frames, padding_ms / frame_shift more than without it, and only the last few (those whose
    lookahead reaches the end) change."""
    samples = np.random.default_rng(0).standard_normal(11_000).astype(np.float32) * 0.1
    padded = _transcriber(CONFIG.with_overrides({"stream.end_padding_ms": padding_ms}), calibrate=samples)
    bare = _transcriber(CONFIG.with_overrides({"stream.end_padding_ms": 0}), calibrate=samples)
    offline, unpadded = padded.logprobs(torch.from_numpy(samples)), bare.logprobs(torch.from_numpy(samples))
    assert abs(len(offline) - len(unpadded) - padding_ms / 1000 / padded.frame_shift) < 1  # 7.5 frames: 7 or 8
    changed = 4  # 2 frames of lookahead, and the front end's right context
    np.testing.assert_allclose(offline[: len(unpadded) - changed], unpadded[: len(unpadded) - changed], atol=1e-5)
    if padding_ms:
        assert not np.allclose(offline[len(unpadded) - 1], unpadded[-1], atol=1e-3)
    recognizer = Recognizer(padded, GreedyDecoder(TOKENS, padded.frame_shift), padded.config.stream)
    for chunk in (160, 2560, 7):
        np.testing.assert_allclose(_streamed_logprobs(recognizer, samples, chunk), offline, atol=1e-4)


def test_end_padding_spares_silence_and_bidirectional_models():
    """Audio too short for one feature window stays silent (no frames, offline or streamed); a
    bidirectional model hears the end from both sides and gets no padding."""
    transcriber = _transcriber()
    assert transcriber.config.stream.end_padding_ms > 0
    short = np.full(399, 0.3, np.float32)
    assert transcriber.logprobs(torch.from_numpy(short)).shape[0] == 0
    recognizer = Recognizer(transcriber, GreedyDecoder(TOKENS, transcriber.frame_shift), NO_ENDPOINTS)
    assert _streamed_logprobs(recognizer, short, 100).shape[0] == 0
    samples = torch.from_numpy(np.random.default_rng(1).standard_normal(8000).astype(np.float32))
    lengths = {ms: len(_transcriber(TINY_CONFIG.with_overrides({"stream.end_padding_ms": ms})).logprobs(samples)) for ms in (0, 300)}
    assert lengths[0] == lengths[300]


def _peaky(spec: str, frames_per_char: int = 1) -> np.ndarray:
    """'_' is a blank frame, '.' 25 blank frames (1 s at 40 ms), a letter one frame of it."""
    ids = []
    for ch in spec:
        ids += [0] * 25 if ch == "." else [0 if ch == "_" else TOKENS.index(ch)] * frames_per_char
    probs = np.full((len(ids), len(TOKENS)), 0.01 / (len(TOKENS) - 1), np.float32)
    probs[np.arange(len(ids)), ids] = 0.99
    return np.log(probs)


@pytest.mark.parametrize("chunk_frames", [1, 4, 1000])
def test_endpoints_split_segments_in_stream_time(chunk_frames):
    """Speech, 1 s pause, speech, 1 s pause: two finals; a segment ends 0.8 s into the pause."""
    recognizer = Recognizer(_transcriber(), GreedyDecoder(TOKENS, 0.04), StreamConfig())
    logprobs, state, events = _peaky("_hi_.yo_."), recognizer.init_state(), []
    for start in range(0, len(logprobs), chunk_frames):
        events += recognizer._logprobs(logprobs[start : start + chunk_frames], state)
    finals = [e for e in events if isinstance(e, Final)]
    assert [(f.text, f.segment) for f in finals] == [("hi", 0), ("yo", 1)]
    (hi,), (yo,) = finals[0].words, finals[1].words
    assert (hi.start, hi.end) == pytest.approx((0.04, 0.12)) and finals[0].start == 0
    assert finals[0].end == pytest.approx((3 + 20) * 0.04)  # 20 silent frames = 0.8 s after "hi"
    assert (yo.start, yo.end) == pytest.approx(((4 + 25) * 0.04, (4 + 25 + 2) * 0.04))  # stream time, not segment time
    assert finals[1].start == finals[0].end
    partials = [(e.text, e.segment) for e in events if isinstance(e, Partial)]
    if chunk_frames == 1000:  # partials come once per chunk: this one's is the next segment's (empty) start
        return
    assert ("hi", 0) in partials and ("yo", 1) in partials and all(text in ("h", "hi", "y", "yo") for text, _ in partials)
    if chunk_frames == 1:
        assert partials == [("h", 0), ("hi", 0), ("y", 1), ("yo", 1)]


def test_long_silence_and_long_speech_end_segments():
    recognizer = Recognizer(_transcriber(), GreedyDecoder(TOKENS, 0.04), StreamConfig())
    state = recognizer.init_state()
    assert recognizer._logprobs(_peaky("......"), state) == []  # 6 s of silence: nothing said, nothing reported
    assert state.segment_start == 60 + 60  # restarted every 2.4 s (60 frames)
    recognizer = Recognizer(_transcriber(), GreedyDecoder(TOKENS, 0.04), StreamConfig(max_segment=1.0))
    state = recognizer.init_state()
    events = recognizer._logprobs(_peaky("ab" * 30), state)  # 60 frames of speech, no pause
    speech = "ab" * 30
    assert [f.text for f in events if isinstance(f, Final)] == [speech[:25], speech[25:50]]  # cut every 1 s (25 frames)


def test_what_cannot_stream_says_so(speech):
    with pytest.raises(StreamError, match="only a unidirectional one streams"):
        Recognizer(_transcriber(TINY_CONFIG))
    with pytest.raises(FeatureError, match="utterance_cmn"):
        Recognizer(_transcriber(CONFIG.with_overrides({"features.running_cmn": False, "features.utterance_cmn": True})))
    stream = Recognizer(_transcriber(), config=NO_ENDPOINTS).stream()
    stream.accept(np.zeros(800, np.float32), 8000)
    with pytest.raises(AudioError, match="sample rate changed mid-stream from 8000 to 16000"):
        stream.accept(np.zeros(800, np.float32), 16000)
    with pytest.raises(AudioError, match="NaN"):
        stream.accept(np.full(800, np.nan, np.float32), 8000)
    stream.accept(np.zeros((800, 2), np.float32), 8000)  # stereo is downmixed; the stream goes on
    stream.finish()
    assert stream.state.rate is None and stream.state.frames == 0  # ready for the next stream


def test_a_long_stream_keeps_its_state_bounded():
    """1,000 segments (22 minutes of 40 ms frames) through beam search: every final comes out, and the
    decoder's prefix tree does not grow with the stream (each segment starts a fresh search)."""
    decoder = BeamSearchDecoder(TOKENS, BeamSearchOptions(beam_size=8), frame_shift=0.04)
    recognizer = Recognizer(_transcriber(), decoder, StreamConfig())
    state, finals, sizes = recognizer.init_state(), 0, set()
    pattern = _peaky("_hi_yo_.")  # one segment: 8 frames of speech, then 1 s of silence
    for _ in range(1000):
        for start in range(0, len(pattern), 4):
            finals += sum(isinstance(e, Final) for e in recognizer._logprobs(pattern[start : start + 4], state))
        sizes.add(state.decoder.tree[0].shape[0])
    assert finals == 1000 and state.frames == 1000 * len(pattern)
    assert max(sizes) == min(sizes)  # the tree's capacity never grew
