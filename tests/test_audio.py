import numpy as np
import pytest
import soundfile
import torch

from asr.audio import SAMPLE_RATE, AudioError, duration, load, to_mono_16k
from conftest import tone


@pytest.mark.parametrize("ext,subtype", [("wav", "PCM_16"), ("flac", "PCM_16"), ("ogg", "VORBIS")])
def test_load_any_format_rate_and_channels(tmp_path, ext, subtype):
    path = tmp_path / f"stereo.{ext}"
    soundfile.write(path, tone(0.5, rate=8000, channels=2), 8000, subtype=subtype)
    samples, rate = load(path)
    assert rate == SAMPLE_RATE
    assert samples.dtype.name == "float32" if hasattr(samples.dtype, "name") else True
    assert samples.ndim == 1
    assert abs(samples.shape[0] - SAMPLE_RATE // 2) <= 1
    assert 0.2 < float(samples.abs().max()) < 0.4


def test_downmix_averages_channels():
    left = np.ones(1600, dtype=np.float32) * 0.5
    stereo = np.stack([left, -left * 0], axis=1)
    assert float(to_mono_16k(stereo, SAMPLE_RATE).mean()) == pytest.approx(0.25)


def _one_line_naming(err: pytest.ExceptionInfo, path) -> str:
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_file(tmp_path):
    with pytest.raises(AudioError) as err:
        load(tmp_path / "nope.wav")
    assert "no such file" in _one_line_naming(err, tmp_path / "nope.wav")


def test_directory_is_named_as_one(tmp_path):
    for read in (load, duration):
        with pytest.raises(AudioError) as err:
            read(tmp_path)
        assert "is a directory, not an audio file" in _one_line_naming(err, tmp_path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(AudioError) as err:
        load(path)
    assert "cannot decode" in _one_line_naming(err, path)
    with pytest.raises(AudioError):
        duration(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError) as err:
        load(path)
    assert "empty" in _one_line_naming(err, path)


def test_non_finite_samples(tmp_path):
    path = tmp_path / "nan.wav"
    data = tone(0.1)
    data[10] = np.nan
    soundfile.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(AudioError) as err:
        load(path)
    assert "NaN" in _one_line_naming(err, path)


def test_duration_from_header(wav_file):
    assert duration(wav_file) == pytest.approx(1.0)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_stream_resampler_equals_offline(rate):
    import torchaudio.functional as AF

    from asr.audio import StreamResampler

    rng = np.random.default_rng(0)
    samples = torch.from_numpy(rng.normal(0, 0.1, rate + 777).astype(np.float32))
    offline = AF.resample(samples, rate, 16000)
    resampler = StreamResampler(rate)
    for sizes in ([1], [37], [rate // 10], [5000, 3, 999]):
        state, pieces, start, i = resampler.init_state(), [], 0, 0
        while start < len(samples):
            out, state = resampler.accept(samples[start : start + sizes[i % len(sizes)]], state)
            pieces.append(out)
            start, i = start + sizes[i % len(sizes)], i + 1
        streamed = torch.cat([*pieces, resampler.flush(state)])
        assert streamed.shape == offline.shape and torch.allclose(streamed, offline, atol=1e-6), sizes
