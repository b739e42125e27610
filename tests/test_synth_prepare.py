"""Tests for the synthetic demo corpus: recipes/synth/sentences.py and prepare.py."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from asr.text import normalize_text

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "synth"
TOOLS = ("espeak-ng", "flite", "festival", "sox")
MISSING_TOOLS = [tool for tool in TOOLS if shutil.which(tool) is None]
needs_engines = pytest.mark.skipif(
    bool(MISSING_TOOLS),
    reason=f"needs the TTS engines: apt-get install {' '.join(MISSING_TOOLS)}",
)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sentences = _load("synth_sentences", RECIPE / "sentences.py")


@pytest.fixture(scope="module")
def prepare():
    """recipes/synth/prepare.py, which imports its neighbour `sentences` the way a script does."""
    sys.path.insert(0, str(RECIPE))
    try:
        yield _load("synth_prepare", RECIPE / "prepare.py")
    finally:
        sys.path.remove(str(RECIPE))


# ------------------------------------------------------------------ sentences


def test_sentences_are_normalised_distinct_and_numerous():
    texts = sentences.generate_sentences()
    assert len(texts) == sentences.DEFAULT_NUM_SENTENCES >= 3000
    assert len(set(texts)) == len(texts)
    assert [t for t in texts if normalize_text(t) != t] == []
    lengths = [len(t.split()) for t in texts]
    assert min(lengths) >= sentences.MIN_WORDS and max(lengths) <= sentences.MAX_WORDS
    vocabulary = {w for t in texts for w in t.split()}
    assert len(vocabulary) >= 1500


def test_sentences_are_deterministic_and_prefix_stable():
    texts = sentences.generate_sentences(500, seed=3)
    assert texts == sentences.generate_sentences(500, seed=3)
    assert sentences.generate_sentences(50, seed=3) == texts[:50]
    assert sentences.generate_sentences(500, seed=4) != texts


def test_handwritten_sentences_are_normalised():
    assert [t for t in sentences.HANDWRITTEN if normalize_text(t) != t] == []


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (342, "three hundred and forty two"),
        (1001, "one thousand and one"),
        (21500, "twenty one thousand five hundred"),
    ],
)
def test_number_words(n, text):
    assert sentences.number_words(n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (12, "twelfth"),
        (20, "twentieth"),
        (23, "twenty third"),
    ],
)
def test_ordinal_words(n, text):
    assert sentences.ordinal_words(n) == text


@pytest.mark.parametrize(
    ("year", "text"),
    [
        (1984, "nineteen eighty four"),
        (1905, "nineteen oh five"),
        (1900, "nineteen hundred"),
        (2000, "two thousand"),
        (2005, "two thousand and five"),
        (2021, "twenty twenty one"),
    ],
)
def test_year_words(year, text):
    assert sentences.year_words(year) == text


def test_inflections():
    stop, take, fry, bake = sentences.parse_verbs("stop+ take:took:taken fry bake")
    assert (stop.third, stop.past, stop.ing) == ("stops", "stopped", "stopping")
    assert (take.past, take.participle, take.ing) == ("took", "taken", "taking")
    assert (fry.third, fry.past, fry.ing) == ("fries", "fried", "frying")
    assert (bake.past, bake.ing) == ("baked", "baking")
    box, mouse, bus_stop = sentences.parse_nouns("box mouse:mice bus_stop")
    assert (box.plural, mouse.plural, bus_stop.plural) == ("boxes", "mice", "bus stops")
    assert sentences.article("hour") == "an hour"
    assert sentences.article("useful tool") == "a useful tool"


# ----------------------------------------------------------------------- plan


def test_plan_holds_out_dev_and_test_voices_and_sentences(prepare):
    options = prepare.PrepareOptions()
    plan = prepare.plan_corpus(options)
    by_split = {split: [u for u in plan if u.split == split] for split in prepare.SPLITS}
    assert len(by_split["dev"]) == options.num_dev
    assert len(by_split["test"]) == options.num_test
    assert 2500 <= len(by_split["train"]) <= 3500
    voices = {split: {u.voice.speaker for u in utts} for split, utts in by_split.items()}
    assert voices["train"].isdisjoint(voices["test"])
    assert voices["train"].isdisjoint(voices["dev"])
    assert voices["dev"].isdisjoint(voices["test"])
    texts = {split: {u.text for u in utts} for split, utts in by_split.items()}
    assert texts["train"].isdisjoint(texts["test"] | texts["dev"])
    # Every engine that has a test voice reads part of the test set.
    assert {u.voice.engine for u in by_split["test"]} == {"espeak-ng", "flite", "festival"}
    assert prepare.plan_corpus(options) == plan


def test_missing_engine_names_the_package(prepare, monkeypatch):
    monkeypatch.setattr(
        prepare.shutil, "which", lambda tool: None if tool == "festival" else "/usr/bin/" + tool
    )
    with pytest.raises(prepare.MissingEngineError, match=r"festival.*apt-get install festival"):
        prepare.check_engines([prepare.Voice("festival", "kal_diphone")])


def test_too_few_sentences_is_an_error(prepare):
    with pytest.raises(ValueError, match="no training data"):
        prepare.PrepareOptions(num_sentences=10, num_dev=5, num_test=5)


def test_sentences_file_replaces_the_built_in_list(prepare, tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_text("one\ntwo\n\ntwo\nthree four\n")
    options = prepare.PrepareOptions(
        num_sentences=4, num_dev=1, num_test=1, sentences_file=str(path)
    )
    plan = prepare.plan_corpus(options)
    assert sorted(u.text for u in plan) == ["one", "three four", "two", "two"]  # repeats kept
    first_three = prepare.PrepareOptions(num_sentences=3, num_dev=0, num_test=0, sentences_file=str(path))
    assert [u.text for u in prepare.plan_corpus(first_three)] == ["one", "two", "two"]
    too_many = prepare.PrepareOptions(num_sentences=5, num_dev=1, num_test=1, sentences_file=str(path))
    with pytest.raises(ValueError, match="fewer than --num-sentences 5"):
        prepare.plan_corpus(too_many)


def test_sentences_file_must_be_normalised(prepare, tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_text("one\nTwo, three.\n")
    with pytest.raises(ValueError, match=r"sentences.txt:2: 'Two, three.' is not normalised"):
        prepare.read_sentences_file(path)


def test_no_dev_or_test_reads_everything_with_training_voices(prepare, tmp_path):
    path = tmp_path / "digits.txt"
    path.write_text("seven\n" * 300)
    options = prepare.PrepareOptions(num_sentences=300, num_dev=0, num_test=0, sentences_file=str(path))
    plan = prepare.plan_corpus(options)
    assert {u.split for u in plan} == {"train"}
    train_voices = {v for voices in prepare.split_voices("train", "extended").values() for v in voices}
    assert {u.voice for u in plan} <= train_voices
    assert len({u.voice for u in plan}) > 50  # many voices, and tempo and pitch vary
    assert len({u.tempo for u in plan}) > 100 and len({u.pitch for u in plan}) > 20
    with pytest.raises(ValueError, match="cannot be negative"):
        prepare.PrepareOptions(num_dev=-1)


def test_sample_rate_option(prepare):
    assert prepare.PrepareOptions().sample_rate == 16000
    assert "rate -h 8000 " in " ".join(prepare.sox_command(Path("a"), Path("b"), 8000))
    with pytest.raises(ValueError, match="below 8000 Hz"):
        prepare.PrepareOptions(sample_rate=4000)


def test_settings_record_the_new_options(prepare, tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_text("one\ntwo\n")
    options = prepare.PrepareOptions(
        num_sentences=2, num_dev=0, num_test=0, sentences_file=str(path), sample_rate=8000
    )
    settings = prepare.corpus_settings(options)
    assert (settings["sentences_file"], settings["sample_rate"]) == (str(path), 8000)
    path.write_text("one\nthree\n")
    assert prepare.corpus_settings(options)["sentences_sha256"] != settings["sentences_sha256"]


def test_a_corpus_prepared_before_the_new_options_is_still_complete(prepare, tmp_path):
    """prepare.json files written before --sentences-file, --sample-rate and --voice-set existed."""
    old = {"num_sentences": 3500, "num_dev": 150, "num_test": 200, "seed": 0}
    (tmp_path / "prepare.json").write_text(json.dumps(old))
    (tmp_path / ".completed").touch()
    assert prepare.prepare(tmp_path, prepare.PrepareOptions(voice_set="basic"), jobs=1) is None
    with pytest.raises(prepare.SettingsMismatchError, match="sample_rate=16000, not sample_rate=8000"):
        prepare.prepare(tmp_path, prepare.PrepareOptions(voice_set="basic", sample_rate=8000), jobs=1)
    # The default voice set changed: the error names the one setting that differs.
    with pytest.raises(prepare.SettingsMismatchError, match="with voice_set='basic', not voice_set='extended': pass"):
        prepare.prepare(tmp_path, prepare.PrepareOptions(), jobs=1)


def test_extra_training_sentences_keep_dev_and_test(prepare):
    options = prepare.PrepareOptions(num_sentences=400, num_dev=20, num_test=30)
    plan = prepare.plan_corpus(options)
    more = prepare.plan_corpus(prepare.PrepareOptions(num_sentences=400, num_dev=20, num_test=30, extra_train=100))
    assert more[:400] == plan  # the first 400 are planned exactly as before
    extra = more[400:]
    assert len(extra) == 100 and {u.split for u in extra} == {"train"} and len({u.id for u in more}) == 500
    held_out = {u.text for u in plan if u.split != "train"}
    assert held_out.isdisjoint(u.text for u in extra)
    assert len({u.voice for u in extra}) > 30
    with pytest.raises(ValueError, match="put more lines in the file"):
        prepare.PrepareOptions(extra_train=5, sentences_file="x.txt")


def test_extended_voices_add_training_variants_and_keep_dev_and_test(prepare):
    basic = prepare.plan_corpus(prepare.PrepareOptions(voice_set="basic"))
    extended = prepare.plan_corpus(prepare.PrepareOptions())
    held_out = [u for u in basic if u.split != "train"]
    assert [u for u in extended if u.split != "train"] == held_out
    train = [u for u in extended if u.split == "train"]
    # Same sentences, engines, accents, tempi and pitches; only espeak-ng variants change.
    assert [(u.text, u.voice.engine, u.voice.name, u.tempo) for u in train] == [
        (u.text, u.voice.engine, u.voice.name, u.tempo) for u in basic if u.split == "train"
    ]
    variants = {u.voice.variant for u in train if u.voice.engine == "espeak-ng"}
    assert len(variants) > 60 and variants >= set(prepare.ESPEAK_EXTRA_TRAIN_VARIANTS[:10])
    held_out_variants = {u.voice.variant for u in held_out if u.voice.engine == "espeak-ng"}
    assert variants.isdisjoint(held_out_variants)
    with pytest.raises(ValueError, match="--voice-set must be one of basic, extended"):
        prepare.PrepareOptions(voice_set="all")


def test_pitch_shift_moves_training_voices_only(prepare):
    basic = prepare.plan_corpus(prepare.PrepareOptions(voice_set="basic"))
    shifted = prepare.plan_corpus(prepare.PrepareOptions(voice_set="basic", pitch_shift=400))
    assert [u for u in shifted if u.split != "train"] == [u for u in basic if u.split != "train"]
    assert {u.shift_cents for u in basic} == {0}
    train = [u for u in shifted if u.split == "train"]
    assert [(u.text, u.voice, u.tempo, u.pitch) for u in train] == [
        (u.text, u.voice, u.tempo, u.pitch) for u in basic if u.split == "train"
    ]
    cents = [u.shift_cents for u in train]
    assert min(cents) >= -400 and max(cents) <= 400 and min(cents) < -300 and max(cents) > 300
    assert "pitch 250 rate" in " ".join(prepare.sox_command(Path("a"), Path("b"), shift_cents=250))
    assert "pitch" not in prepare.sox_command(Path("a"), Path("b"))
    for bad in (-1, 1300):
        with pytest.raises(ValueError, match="--pitch-shift"):
            prepare.PrepareOptions(pitch_shift=bad)


def test_rms_in_training_moves_one_flite_voice_and_keeps_test(prepare):
    basic = prepare.plan_corpus(prepare.PrepareOptions(voice_set="basic"))
    moved = prepare.plan_corpus(prepare.PrepareOptions(voice_set="basic", rms_in_training=True))
    assert [u for u in moved if u.split == "test"] == [u for u in basic if u.split == "test"]
    rms = prepare.Voice("flite", "rms")
    assert rms not in {u.voice for u in moved if u.split != "train"}
    # rms's dev sentences are read by dev's own espeak-ng voices; nothing else in dev changes.
    for before, after in zip(basic, moved):
        if before.split == "dev":
            assert after.voice == before.voice or (before.voice == rms and after.voice in prepare.split_voices("dev")["espeak-ng"])
    train_flite = [u.voice for u in moved if u.split == "train" and u.voice.engine == "flite"]
    assert len(train_flite) == sum(u.split == "train" and u.voice.engine == "flite" for u in basic)
    assert train_flite.count(rms) > len(train_flite) / 8 and set(train_flite) == {rms, *prepare.split_voices("train")["flite"]}


def test_f0_range_sets_the_pitch_of_training_engine_voices_only(prepare, tmp_path):
    base = prepare.PrepareOptions(voice_set="basic", rms_in_training=True)
    options = prepare.PrepareOptions(voice_set="basic", rms_in_training=True, f0_range=(90, 240))
    before, after = prepare.plan_corpus(base), prepare.plan_corpus(options)
    # Everything but the pitch targets is planned as without the option; dev and test not at all.
    assert [u for u in after if u.split != "train"] == [u for u in before if u.split != "train"]
    assert [(u.id, u.voice, u.tempo, u.pitch) for u in after] == [(u.id, u.voice, u.tempo, u.pitch) for u in before]
    assert {u.f0 for u in before} == {0}
    targeted = [u for u in after if u.f0]
    assert {(u.voice.engine, u.voice.name) for u in targeted} == prepare.F0_TARGET_VOICES
    assert all(u.split == "train" for u in targeted)
    assert min(u.f0 for u in targeted) < 110 and max(u.f0 for u in targeted) > 220
    assert all(90 <= u.f0 <= 240 for u in targeted)
    # rms's pitch comes with its units: it keeps its own.
    assert not any(u.f0 for u in after if u.voice.name == "rms")

    high = next(u for u in targeted if u.voice.engine == "flite")
    assert f"int_f0_target_mean={high.f0}" in prepare.flite_command(high, Path("a.wav"))
    assert not any("int_f0" in arg for arg in prepare.flite_command(before[after.index(high)], Path("a.wav")))
    festival = next(u for u in targeted if u.voice.engine == "festival")
    assert f"(target_f0_mean {festival.f0})" in prepare.festival_script([festival], [Path("a.wav")])

    # The option is recorded, and a rerun with the same range finds the same settings.
    settings = prepare.corpus_settings(options)
    assert settings["f0_range"] == [90, 240]
    assert prepare.corpus_settings(prepare.PrepareOptions(voice_set="basic", rms_in_training=True, f0_range=(90, 240))) == settings
    for bad in ((240, 90), (10, 200), (100, 900)):
        with pytest.raises(ValueError, match="--f0-range"):
            prepare.PrepareOptions(f0_range=bad)


def test_cli_rejects_a_missing_sentences_file(tmp_path):
    command = [sys.executable, str(RECIPE / "prepare.py"), "--out-dir", str(tmp_path / "out")]
    command += ["--sentences-file", str(tmp_path / "absent.txt")]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 1 and "absent.txt" in done.stderr


# ------------------------------------------------------------------ synthesis


def _assert_16k_mono(path: Path) -> soundfile._SoundFileInfo:
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    return info


@needs_engines
@pytest.mark.parametrize(
    "voice",
    [
        ("espeak-ng", "en-gb-scotland", "f4"),
        ("flite", "kal", ""),
        ("festival", "ked_diphone", ""),
    ],
)
def test_each_engine_writes_16k_mono(prepare, tmp_path, voice):
    """flite's kal is 8 kHz and espeak-ng 22.05 kHz: sox must bring both to 16 kHz."""
    utt = prepare.Utterance("u1", "the cat sat on the mat", "test", prepare.Voice(*voice), 1.1, 40)
    (tmp_path / "wav").mkdir()
    prepare.synthesise_batch([utt], tmp_path)
    info = _assert_16k_mono(tmp_path / utt.audio)
    assert 0.7 < info.duration < 4.0


def _spectral_centroid(path: Path) -> float:
    import numpy as np

    audio, rate = soundfile.read(str(path))
    power = np.abs(np.fft.rfft(audio)) ** 2
    return float((np.fft.rfftfreq(len(audio), 1 / rate) * power).sum() / power.sum())


@needs_engines
def test_pitch_shift_raises_the_voice_and_keeps_the_tempo(prepare, tmp_path):
    voice = prepare.Voice("flite", "awb")
    plain = prepare.Utterance("plain", "the cat sat on the mat", "train", voice, 1.0, 50)
    up = prepare.Utterance("up", "the cat sat on the mat", "train", voice, 1.0, 50, shift_cents=700)
    (tmp_path / "wav").mkdir()
    prepare.synthesise_batch([plain, up], tmp_path)
    before, after = (_assert_16k_mono(tmp_path / u.audio).duration for u in (plain, up))
    assert abs(after - before) < 0.1 * before
    # 700 cents multiplies every frequency by 1.5: the spectrum's centre of mass moves up with it.
    assert _spectral_centroid(tmp_path / up.audio) > 1.25 * _spectral_centroid(tmp_path / plain.audio)


def _median_f0(path: Path) -> float:
    """Median pitch in Hz of the voiced 40-ms frames (autocorrelation peak between 60 and 400 Hz)."""
    import numpy as np

    audio, rate = soundfile.read(str(path))
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    shortest, longest = rate // 400, rate // 60
    pitches = []
    for start in range(0, len(audio) - frame, hop):
        x = audio[start : start + frame] - audio[start : start + frame].mean()
        correlation = np.correlate(x, x, "full")[frame - 1 :]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[0] > 0 and correlation[lag] > 0.5 * correlation[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


@needs_engines
@pytest.mark.parametrize("voice", [("flite", "kal16"), ("festival", "kal_diphone")])
def test_f0_target_raises_a_male_voice_to_a_womans_pitch(prepare, tmp_path, voice):
    text = "the quick brown fox jumps over the lazy dog near the river bank"
    plain = prepare.Utterance("plain", text, "train", prepare.Voice(*voice), 1.0, 50)
    high = prepare.Utterance("high", text, "train", prepare.Voice(*voice), 1.0, 50, f0=220)
    (tmp_path / "wav").mkdir()
    prepare.synthesise_batch([plain, high], tmp_path)
    assert _median_f0(tmp_path / plain.audio) < 130  # kal: about 90 Hz, kal_diphone about 105
    assert 180 < _median_f0(tmp_path / high.audio) < 260


@needs_engines
def test_prepare_cli_writes_consistent_manifests(tmp_path):
    out = tmp_path / "synth"
    command = [
        sys.executable,
        str(RECIPE / "prepare.py"),
        "--out-dir",
        str(out),
        "--num-sentences",
        "16",
        "--num-dev",
        "4",
        "--num-test",
        "4",
        "--jobs",
        "2",
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)

    manifests = {}
    for split in ("train", "dev", "test"):
        lines = (out / f"{split}.jsonl").read_text().splitlines()
        manifests[split] = [json.loads(line) for line in lines]
    assert [len(m) for m in manifests.values()] == [8, 4, 4]
    for entries in manifests.values():
        for e in entries:
            assert set(e) == {"id", "audio", "duration", "text", "speaker"}
            assert not Path(e["audio"]).is_absolute()
            info = _assert_16k_mono(out / e["audio"])
            assert e["duration"] == pytest.approx(info.frames / info.samplerate, abs=1e-3)
            assert e["duration"] > 0.5
            assert e["text"] and normalize_text(e["text"]) == e["text"]
    speakers = {split: {e["speaker"] for e in entries} for split, entries in manifests.items()}
    assert speakers["train"].isdisjoint(speakers["test"] | speakers["dev"])
    assert speakers["dev"].isdisjoint(speakers["test"])
    ids = [e["id"] for entries in manifests.values() for e in entries]
    assert len(set(ids)) == len(ids)
    assert (out / ".completed").is_file()

    again = subprocess.run(command, check=True, capture_output=True, text=True)
    assert "already prepared" in again.stdout


@needs_engines
def test_prepare_cli_reads_a_sentences_file_at_8k(tmp_path):
    """Single words, repeated, every one read by a training voice at 8 kHz."""
    sentences = tmp_path / "digits.txt"
    sentences.write_text("eight\nsix\neight\ntwo\n")
    out = tmp_path / "tts"
    command = [sys.executable, str(RECIPE / "prepare.py"), "--out-dir", str(out)]
    command += ["--sentences-file", str(sentences), "--num-dev", "0", "--num-test", "0"]
    command += ["--sample-rate", "8000", "--jobs", "2"]
    subprocess.run(command, check=True, capture_output=True, text=True)

    entries = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert sorted(e["text"] for e in entries) == ["eight", "eight", "six", "two"]
    assert (out / "dev.jsonl").read_text() == (out / "test.jsonl").read_text() == ""
    for e in entries:
        info = soundfile.info(str(out / e["audio"]))
        assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    settings = json.loads((out / "prepare.json").read_text())
    assert settings["sentences_file"] == str(sentences) and settings["sample_rate"] == 8000
    assert settings["num_sentences"] == 4
