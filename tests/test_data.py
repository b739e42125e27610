import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from asr.audio import AudioError
from asr.config import FeatureConfig
from asr.data import (
    BadAudioPolicy, ManifestError, SpeechDataset, Utterance, check_audio, collate,
    compute_cmvn, drop_untrainable, from_kaldi_dir, load_manifest, write_manifest,
)
from asr.features import FeatureExtractor
from asr.tokenizer import Tokenizer
from conftest import TINY_CONFIG, tone


def _write_lines(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


def test_manifest_round_trip_and_relative_paths(tmp_path, wav_file):
    path = tmp_path / "m.jsonl"
    _write_lines(path, [{"id": "a", "audio": wav_file.name, "duration": 1.0, "text": "Hello, World!", "speaker": "s1"}, ""])
    (utt,) = load_manifest(path)
    assert utt.audio == wav_file and utt.text == "hello world" and utt.speaker == "s1"
    write_manifest([utt], tmp_path / "out" / "m2.jsonl")
    assert load_manifest(tmp_path / "out" / "m2.jsonl") == [utt]
    write_manifest([utt], path)
    assert json.loads(path.read_text())["audio"] == "tone.wav"  # stored relative to the manifest


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", "m.jsonl:2: not valid JSON"),
        ('{"id": "b", "audio": "x.wav"}', "m.jsonl:2: missing field(s) text"),
        ('{"id": "b", "audio": "x.wav", "duration": "long", "text": "x"}', "is not a number"),
        ('{"id": "b", "audio": "x.wav", "duration": 0, "text": "x"}', "must be positive"),
        ('{"id": "a", "audio": "x.wav", "duration": 1, "text": "x"}', "duplicate utterance id 'a'"),
    ],
)
def test_manifest_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "m.jsonl"
    _write_lines(path, ['{"id": "a", "audio": "x.wav", "duration": 1, "text": "x"}', line])
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_manifest_without_duration_reads_the_header(tmp_path, wav_file, caplog):
    path = tmp_path / "m.jsonl"
    gone = tmp_path / "gone.wav"
    _write_lines(path, [
        {"id": "a", "audio": wav_file.name, "text": "a"},
        {"id": "b", "audio": wav_file.name, "duration": 2.5, "text": "b"},
        {"id": "c", "audio": gone.name, "text": "c"},
    ])  # fmt: skip
    with caplog.at_level("INFO", logger="asr"):
        a, b, c = load_manifest(path)
    assert (a.duration, b.duration, c.duration) == (pytest.approx(1.0), 2.5, None)
    said = [r.getMessage() for r in caplog.records if "no duration" in r.getMessage()]
    assert said == [f"{path}: 2 of 3 lines have no duration; reading it from the audio headers"]  # once per manifest
    assert [u.id for u in check_audio([a, b, c], BadAudioPolicy("skip"))] == ["a", "b"]  # the unreadable one meets the bad-audio policy
    with pytest.raises(AudioError, match="gone.wav: no such file"):
        check_audio([c], BadAudioPolicy("fail"))
    write_manifest([c], tmp_path / "out.jsonl")
    assert "duration" not in json.loads((tmp_path / "out.jsonl").read_text())


def test_check_audio_fills_unknown_durations(tmp_path, wav_file):
    (utt,) = check_audio([Utterance("a", wav_file, None, "a")], BadAudioPolicy("fail"))
    assert utt.duration == pytest.approx(1.0)


def test_kaldi_import(tmp_path, wav_file):
    (tmp_path / "wav.scp").write_text(f"u1 {wav_file}\nu2 {wav_file}\n")
    (tmp_path / "text").write_text("u1 HELLO THERE\nu2 GOOD-BYE\n")
    (tmp_path / "utt2spk").write_text("u1 spk1\nu2 spk2\n")
    utts = from_kaldi_dir(tmp_path)
    assert [(u.id, u.text, u.speaker, u.duration) for u in utts] == [("u1", "hello there", "spk1", 1.0), ("u2", "good bye", "spk2", 1.0)]
    (tmp_path / "wav.scp").write_text("u1 sox x.wav -t wav - |\n")
    with pytest.raises(ManifestError, match="piped"):
        from_kaldi_dir(tmp_path)


def test_bad_audio_policy(tmp_path, wav_file):
    corrupt = tmp_path / "bad.wav"
    corrupt.write_bytes(b"not audio at all")
    utts = [Utterance("good", wav_file, 1.0, "a"), Utterance("bad", corrupt, 1.0, "b"), Utterance("gone", tmp_path / "no.wav", 1.0, "c")]
    skip = BadAudioPolicy("skip")
    assert [u.id for u in check_audio(utts, skip)] == ["good"]
    assert list(skip.skipped) == ["bad", "gone"]
    assert skip.summary() == "skipped 2 utterance(s) with unreadable audio: bad gone"
    # Every reader of audio reports to the same policy: CMVN statistics skip the same files, once.
    compute_cmvn(utts, FeatureExtractor(FeatureConfig(n_mels=20)), 10, 0, skip)
    assert list(skip.skipped) == ["bad", "gone"] and BadAudioPolicy("skip").summary() == ""
    with pytest.raises(AudioError, match="bad.wav.*utterance bad; on_bad_audio 'skip' would skip it"):
        check_audio(utts, BadAudioPolicy("fail"))
    with pytest.raises(AudioError, match="is a directory"):
        check_audio([Utterance("dir", tmp_path, 1.0, "d")], BadAudioPolicy("fail"))
    with pytest.raises(AudioError, match="utterance bad"):
        compute_cmvn(utts, FeatureExtractor(FeatureConfig(n_mels=20)), 10, 0, BadAudioPolicy("fail"))


def test_drop_untrainable_counts_frames_like_the_features(wav_file):
    """1 s = 98 feature frames (whole 25 ms windows); a 4x front end leaves 24: 24 tokens fit, 25 do not."""
    halve_twice = lambda frames: (frames - 1) // 4  # a stand-in for the model's output lengths  # noqa: E731
    fits, too_long, empty = (Utterance(i, wav_file, 1.0, t) for i, t in (("fits", "a" * 24), ("long", "a" * 25), ("empty", "")))
    assert [u.id for u in drop_untrainable([fits, too_long, empty], Tokenizer.english(), halve_twice)] == ["fits"]


def test_dataset_and_collate(tmp_path):
    utts = []
    for i, seconds in enumerate([0.5, 1.0]):
        path = tmp_path / f"{i}.wav"
        soundfile.write(path, tone(seconds, rate=8000), 8000)
        utts.append(Utterance(str(i), path, seconds, "hi there"))
    utts.append(Utterance("broken", tmp_path / "missing.wav", 1.0, "x"))
    config = FeatureConfig(n_mels=20)
    dataset = SpeechDataset(utts, Tokenizer.english(), FeatureExtractor(config), train=True)
    batch = collate([dataset[i] for i in range(3)])
    assert batch.ids == ["0", "1"] and [b.id for b in batch.bad] == ["broken"]
    assert batch.features.shape[0] == 2 and batch.features.shape[2] == 20
    assert batch.target_lengths.tolist() == [8, 8] and batch.targets.shape == (16,)
    assert batch.feature_lengths.max() == batch.features.shape[1]


def test_dev_utterances_end_with_the_end_padding_and_their_features_are_otherwise_the_same(tmp_path):
    """A unidirectional model's dev set is scored as decoding hears it: 4,800 samples (300 ms) of
    silence after each utterance, 30 more feature frames; the frames before them unchanged."""
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(0.5, rate=16000), 16000)
    utts = [Utterance("a", path, 0.5, "hi")]
    extractor = FeatureExtractor(FeatureConfig(n_mels=20))
    bare, padded = (SpeechDataset(utts, Tokenizer.english(), extractor, train=False, end_padding=n)[0] for n in (0, 4800))
    assert padded.features.shape[0] == bare.features.shape[0] + 30
    torch.testing.assert_close(padded.features[: bare.features.shape[0] - 2], bare.features[:-2])


def test_dev_end_padding_is_the_stream_settings_for_a_unidirectional_model_only():
    from asr.train import dev_end_padding

    assert dev_end_padding(TINY_CONFIG) == 0
    unidirectional = TINY_CONFIG.with_overrides({"model.bidirectional": False, "stream.end_padding_ms": 250})
    assert dev_end_padding(unidirectional) == 4000


def test_collate_all_bad():
    batch = collate([])
    assert batch.ids == [] and torch.numel(batch.targets) == 0


def test_manifest_written_from_relative_paths_reads_back(tmp_path, wav_file, monkeypatch):
    """Paths relative to the working directory (as recipes pass them) are stored relative to the manifest."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus" / "wav").mkdir(parents=True)
    (tmp_path / "corpus" / "wav" / "a.wav").write_bytes(wav_file.read_bytes())
    write_manifest([Utterance("a", Path("corpus/wav/a.wav"), 1.0, "a"), Utterance("b", wav_file, 1.0, "b")], Path("corpus/m.jsonl"))
    lines = [json.loads(line) for line in (tmp_path / "corpus" / "m.jsonl").read_text().splitlines()]
    assert lines[0]["audio"] == "wav/a.wav"
    assert [u.audio for u in load_manifest("corpus/m.jsonl")] == [tmp_path / "corpus/wav/a.wav", wav_file]


def test_training_augmentation_depends_on_the_utterance_not_the_process(tmp_path):
    config = FeatureConfig(n_mels=20, speed_perturb=True, specaugment=True)
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.wav")
        soundfile.write(paths[-1], np.random.default_rng(i).standard_normal(16000).astype(np.float32) * 0.1, 16000)
    utts = [Utterance(str(i), p, 1.0, "a") for i, p in enumerate(paths)]
    dataset = SpeechDataset(utts, Tokenizer.english(), FeatureExtractor(config), train=True, seed=1)
    first = [dataset[i].features for i in range(3)]
    torch.manual_seed(123)  # another process state
    state = torch.get_rng_state()
    again = [dataset[i].features for i in (2, 0, 1)]
    assert torch.equal(torch.get_rng_state(), state)  # the process's random stream is untouched
    assert all(torch.equal(a, b) for a, b in zip(first, [again[1], again[2], again[0]]))
    dataset.set_epoch(1)
    assert not torch.equal(dataset[0].features, first[0])  # a new epoch, new augmentation


def test_vtlp_warps_training_features_only_and_leaves_other_augmentation_as_it_was(tmp_path):
    path = tmp_path / "a.wav"
    soundfile.write(path, np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1, 16000)
    utts = [Utterance("a", path, 1.0, "a")]
    plain = FeatureConfig(n_mels=20, speed_perturb=True, specaugment=False)
    warped = FeatureConfig(n_mels=20, speed_perturb=True, specaugment=False, vtlp=(1.2, 1.3))

    def features(config, train):
        return SpeechDataset(utts, Tokenizer.english(), FeatureExtractor(config), train=train, seed=3)[0].features

    assert not torch.allclose(features(plain, True), features(warped, True))
    assert torch.equal(features(plain, False), features(warped, False))  # dev: never warped
    # The warp is drawn after the speed, so the speed a seed gives is the same with or without it.
    assert features(plain, True).shape == features(warped, True).shape
