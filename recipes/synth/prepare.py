"""Prepare the synthetic demo corpus: built-in English sentences read by Debian's TTS engines.

No download: the sentences come from `sentences.py` (or `--sentences-file`), the
voices from espeak-ng, flite and festival (Debian packages), and sox resamples
everything to 16 kHz (or `--sample-rate`) mono 16-bit WAV. The dev and test
splits are read by voices that training never hears, and their sentences are not
in train.

    python recipes/synth/prepare.py --out-dir data/synth [--num-sentences N] [--jobs J]
        [--sentences-file FILE] [--sample-rate HZ] [--num-dev N] [--num-test N]
        [--extra-train N] [--voice-set extended|basic] [--pitch-shift CENTS]
        [--rms-in-training] [--f0-range LOW HIGH]

`--sentences-file` (one normalised sentence a line, repeats allowed) with
`--num-dev 0 --num-test 0` reads every line with a training voice: augmentation
data for another corpus (recipes/fsdd synthesises its digits this way).

Writes DIR/wav/*.wav and the manifests DIR/{train,dev,test}.jsonl, one JSON
object a line: {"id", "audio" (relative to DIR), "duration" (seconds), "text",
"speaker"}. Safe to re-run: finished WAVs are kept, and DIR/.completed makes a
second run return at once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import soundfile

# The neighbouring sentences.py: a script's own folder is on sys.path.
from sentences import DEFAULT_NUM_SENTENCES, DEFAULT_SEED, generate_sentences

from asr.audio import duration
from asr.data import Utterance as ManifestEntry
from asr.data import write_manifest
from asr.text import normalize_text

SAMPLE_RATE = 16_000  # Hz, the default; --sample-rate 8000 matches telephone-band corpora
SAMPLE_BITS = 16
SPLITS = ("train", "dev", "test")
DEFAULT_NUM_DEV = 150
DEFAULT_NUM_TEST = 200

# Speaking rate: a tempo of 1.2 speaks 20 % faster than the engine's normal.
TEMPO_RANGE = (0.85, 1.15)
ESPEAK_WORDS_PER_MINUTE = 160  # at tempo 1.0; espeak-ng's own default, 175, is brisk
ESPEAK_PITCH_RANGE = (30, 70)  # espeak-ng -p, 0..99, default 50
# --pitch-shift: sox's `pitch` raises or lowers a training utterance by up to this many cents
# (100 a semitone), voice and formants together (no change of tempo), so that a handful of
# male flite and festival voices also sound like higher and lower speakers.
# --f0-range: the flite and festival training voices whose intonation follows a target (all
# but flite's rms, whose units carry their own pitch) read each training utterance around a
# random mean pitch in this range, with the formants of their speaker: the male voices of these
# engines also speak at a woman's pitch (the test voice slt's is about 170 Hz, kal's 90 Hz).
F0_TARGET_VOICES = {("flite", "kal"), ("flite", "kal16"), ("flite", "awb"), ("festival", "kal_diphone")}
F0_STDDEV_SHARE = 0.2  # pitch movement around the mean, as a share of it (kal_diphone: 14 Hz of 105)
MIN_F0, MAX_F0 = 50, 400  # Hz

# Leading and trailing silence below this level is cut, then PAD_SECONDS put back
# at each end, so every utterance starts and ends the same way whatever the engine.
SILENCE_THRESHOLD = "0.1%"  # about -60 dBFS
SILENCE_MIN_SECONDS = 0.01
FADE_SECONDS = 0.01  # the cut lands on a non-zero sample: fade in so it does not click
PAD_SECONDS = 0.1
PEAK_DBFS = -1.0  # normalise the loudest sample here; resampling must not clip
# Shorter after trimming means the engine said nothing. A single word read fast
# ("eight" at tempo 1.15) trims to about 0.25 s, so the floor sits well below that.
MIN_SPEECH_SECONDS = 0.1

# Utterances handed to one worker at a time. Festival takes a fifth of a second
# to start and load a voice, so it reads a batch from one script; espeak-ng and
# flite start in milliseconds and run once per utterance.
FESTIVAL_BATCH = 25
OTHER_BATCH = 10

MIN_SAMPLE_RATE = 8_000  # Hz; below telephone band the words are hard to tell apart
MAX_PITCH_SHIFT = 1200  # cents; beyond an octave voices turn into chipmunks or growls

COMPLETED_MARKER = ".completed"
SETTINGS_FILE = "prepare.json"
# prepare.json files written before these options existed mean their defaults.
SETTINGS_ADDED_LATER = {
    "sentences_file": None, "sample_rate": SAMPLE_RATE, "voice_set": "basic", "extra_train": 0, "pitch_shift": 0,
    "rms_in_training": False, "f0_range": None,
}


# --------------------------------------------------------------------- voices


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak-ng", "flite" or "festival"
    name: str  # espeak-ng language, flite voice, festival voice
    variant: str = ""  # espeak-ng voice variant ("m3", "f2", "klatt")

    @property
    def speaker(self) -> str:
        return f"{self.engine}:{self.name}" + (f"+{self.variant}" if self.variant else "")


ESPEAK_ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
# Every accent is heard in training; the dev and test splits get voice variants
# (a different "speaker" on each accent) that training never hears. "" is the
# accent's own default voice.
ESPEAK_VARIANTS = {
    "train": ("", "m1", "m2", "m3", "m4", "m5", "m8", "f1", "f2", "f3", "klatt", "klatt2"),
    "dev": ("m6", "f5", "klatt4"),
    "test": ("m7", "f4", "klatt3"),
}
# The "extended" voice set (the default) also trains on espeak-ng's other variants: voice
# variety is what carries a model to unseen voices, and these cost nothing. Novelty voices
# (robots, whispers, "demonic") are left out; so are the dev and test variants above.
ESPEAK_EXTRA_TRAIN_VARIANTS = tuple(
    """adam Alex Alicia Andrea Andy Annie antonio aunty belinda benjamin boris caleb croak david
    Denis Diogo ed edward edward2 Gene Gene2 grandma grandpa gustave Henrique Hugo iven iven2
    iven3 iven4 Jacky john kaukovalta klatt5 klatt6 Lee linda marcelo Marco Mario max Michael
    michel miguel Mike Nguyen norbert pablo paul pedro quincy RicishayMax RicishayMax2
    RicishayMax3 rob robert sandro shelby steph steph2 steph3 Storm travis victor zac""".split()
)
VOICE_SETS = ("basic", "extended")
# kal (8 kHz) and kal16 are the same speaker; so is festival's kal_diphone.
FLITE_VOICES = {"train": ("kal", "kal16", "awb"), "dev": ("rms",), "test": ("slt",)}
FESTIVAL_VOICES = {"train": ("kal_diphone",), "dev": (), "test": ("ked_diphone",)}
# Share of each split read by each engine, before dropping engines a split has no
# voice for. espeak-ng has by far the most voices, festival the fewest.
ENGINE_SHARE = {"espeak-ng": 0.6, "flite": 0.25, "festival": 0.15}

APT_PACKAGE = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "festival", "sox": "sox"}
FESTIVAL_VOICE_PACKAGE = {"kal_diphone": "festvox-kallpc16k", "ked_diphone": "festvox-kdlpc16k"}


def espeak_variants(split: str, voice_set: str = "basic") -> tuple[str, ...]:
    extra = ESPEAK_EXTRA_TRAIN_VARIANTS if split == "train" and voice_set == "extended" else ()
    return ESPEAK_VARIANTS[split] + extra


def split_voices(split: str, voice_set: str = "basic") -> dict[str, tuple[Voice, ...]]:
    """The voices of one split, by engine; engines without a voice there are left out."""
    by_engine = {
        "espeak-ng": tuple(
            Voice("espeak-ng", accent, variant)
            for accent in ESPEAK_ACCENTS
            for variant in espeak_variants(split, voice_set)
        ),
        "flite": tuple(Voice("flite", name) for name in FLITE_VOICES[split]),
        "festival": tuple(Voice("festival", name) for name in FESTIVAL_VOICES[split]),
    }
    return {engine: voices for engine, voices in by_engine.items() if voices}


# ----------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PrepareOptions:
    """Everything that decides the corpus' content; saved as DIR/prepare.json.

    With `sentences_file`, its first `num_sentences` lines replace the built-in
    sentences. `num_dev` and `num_test` may be 0: every sentence is then read by
    a training voice.
    """

    num_sentences: int = DEFAULT_NUM_SENTENCES
    num_dev: int = DEFAULT_NUM_DEV
    num_test: int = DEFAULT_NUM_TEST
    seed: int = DEFAULT_SEED
    sentences_file: str | None = None
    sample_rate: int = SAMPLE_RATE  # Hz of the WAVs written
    voice_set: str = "extended"  # "basic": the training voices of corpora made before the extended set
    # More built-in sentences after the first num_sentences, all read by training voices: a
    # larger training set whose dev and test splits are those of num_sentences alone.
    extra_train: int = 0
    # Each training utterance is shifted by a random number of cents in [-pitch_shift, +pitch_shift]
    # (sox `pitch`); dev and test are never shifted. 0: off.
    pitch_shift: int = 0
    # flite's rms (a US male of flite's statistical-parametric family, like the test voice slt)
    # reads training sentences instead of dev ones: its dev sentences go to the dev espeak-ng voices.
    rms_in_training: bool = False
    # (low, high) Hz: F0_TARGET_VOICES read each training utterance around a random mean pitch
    # in this range (dev and test never). None: each engine's own.
    f0_range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.voice_set not in VOICE_SETS:
            raise ValueError(f"--voice-set must be one of {', '.join(VOICE_SETS)}, got {self.voice_set!r}")
        if self.num_dev < 0 or self.num_test < 0 or self.extra_train < 0 or self.pitch_shift < 0:
            raise ValueError("--num-dev, --num-test, --extra-train and --pitch-shift cannot be negative")
        if self.pitch_shift > MAX_PITCH_SHIFT:
            raise ValueError(f"--pitch-shift {self.pitch_shift} is above {MAX_PITCH_SHIFT} cents (an octave)")
        if self.f0_range is not None:
            low, high = self.f0_range
            if not MIN_F0 <= low <= high <= MAX_F0:
                raise ValueError(f"--f0-range {low} {high} must be two pitches in Hz, {MIN_F0} <= low <= high <= {MAX_F0}")
        if self.extra_train and self.sentences_file is not None:
            raise ValueError("--extra-train adds built-in sentences: with --sentences-file, put more lines in the file")
        if self.sample_rate < MIN_SAMPLE_RATE:
            raise ValueError(f"--sample-rate {self.sample_rate} is below {MIN_SAMPLE_RATE} Hz")
        if self.num_sentences <= self.num_dev + self.num_test:
            raise ValueError(
                f"--num-sentences {self.num_sentences} leaves no training data after "
                f"{self.num_dev} dev and {self.num_test} test utterances"
            )


@dataclass(frozen=True)
class Utterance:
    id: str
    text: str
    split: str
    voice: Voice
    tempo: float  # 1.0 is the engine's normal speaking rate
    pitch: int  # espeak-ng -p; the other engines keep their own
    shift_cents: int = 0  # sox `pitch` after synthesis (--pitch-shift); 0 for dev and test
    f0: int = 0  # Hz, the engine's mean pitch target (--f0-range); 0: the voice's own

    @property
    def audio(self) -> str:
        """The WAV's path relative to the corpus folder."""
        return f"wav/{self.id}.wav"


def read_sentences_file(path: str | Path) -> list[str]:
    """The non-blank lines of `path`, each of which must already be normalised."""
    sentences = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.strip()
            if not text:
                continue
            if normalize_text(text) != text:
                raise ValueError(
                    f"{path}:{number}: {text!r} is not normalised "
                    f"(asr.text.normalize_text gives {normalize_text(text)!r})"
                )
            sentences.append(text)
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    return sentences


def corpus_sentences(options: PrepareOptions) -> list[str]:
    """The sentences to read: the first num_sentences of the file, or the built-in ones."""
    if options.sentences_file is None:
        return generate_sentences(options.num_sentences + options.extra_train, options.seed)
    sentences = read_sentences_file(options.sentences_file)
    if len(sentences) < options.num_sentences:
        raise ValueError(
            f"{options.sentences_file} has {len(sentences)} sentences, "
            f"fewer than --num-sentences {options.num_sentences}"
        )
    return sentences[: options.num_sentences]


def plan_corpus(options: PrepareOptions) -> list[Utterance]:
    """One utterance per sentence: its split, voice, tempo and pitch, all from the seed."""
    sentences = corpus_sentences(options)
    rng = random.Random(options.seed)
    order = list(range(options.num_sentences))
    rng.shuffle(order)
    first_train = options.num_test + options.num_dev
    split_of = {i: "test" for i in order[: options.num_test]}
    split_of |= {i: "dev" for i in order[options.num_test : first_train]}
    split_of |= {i: "train" for i in order[first_train:]}
    voices = {split: split_voices(split) for split in SPLITS}
    # The extended set's espeak-ng variants come from a stream of their own, so the main
    # stream, and with it every dev and test utterance, is the same in both voice sets.
    variant_rng = random.Random(f"{options.seed}-variants")
    train_variants = espeak_variants("train", options.voice_set)
    plan = []
    # The extra training sentences draw from a stream of their own, after the others: the
    # first num_sentences are planned exactly as without them.
    extra_rng = random.Random(f"{options.seed}-extra")
    # So do the pitch shifts, for the same reason.
    shift_rng = random.Random(f"{options.seed}-shift")
    # And the voices rms_in_training moves.
    rms_rng = random.Random(f"{options.seed}-rms")
    rms = Voice("flite", "rms")
    # And the pitch targets.
    f0_rng = random.Random(f"{options.seed}-f0")
    for i, text in enumerate(sentences):
        if i >= options.num_sentences:
            rng, variant_rng = extra_rng, extra_rng
        split = split_of.get(i, "train")
        engines = list(voices[split])
        engine = rng.choices(engines, weights=[ENGINE_SHARE[e] for e in engines])[0]
        voice = rng.choice(voices[split][engine])
        if split == "train" and engine == "espeak-ng" and options.voice_set == "extended":
            voice = Voice(engine, voice.name, variant_rng.choice(train_variants))  # the accent stays
        if options.rms_in_training and split == "train" and engine == "flite":
            voice = rms_rng.choice(voices["train"]["flite"] + (rms,))
        elif options.rms_in_training and voice == rms:
            voice = rms_rng.choice(voices["dev"]["espeak-ng"])
        plan.append(
            Utterance(
                id=f"synth{i:05d}",
                text=text,
                split=split,
                voice=voice,
                tempo=round(rng.uniform(*TEMPO_RANGE), 3),
                pitch=rng.randint(*ESPEAK_PITCH_RANGE),
                shift_cents=shift_rng.randint(-options.pitch_shift, options.pitch_shift) if split == "train" else 0,
                f0=_f0_target(voice, split, options.f0_range, f0_rng),
            )
        )
    return plan


def _f0_target(voice: Voice, split: str, f0_range: tuple[int, int] | None, rng: random.Random) -> int:
    """A training utterance's mean pitch target in Hz for a voice that follows one; otherwise 0."""
    if f0_range is None or split != "train" or (voice.engine, voice.name) not in F0_TARGET_VOICES:
        return 0
    return rng.randint(*f0_range)


# ---------------------------------------------------------------- engine check


class MissingEngineError(RuntimeError):
    """A TTS engine, voice or sox is not installed."""


def _install_hint(what: str, package: str) -> str:
    return f"{what} is not installed: install it with `sudo apt-get install {package}`"


def check_engines(voices: Iterable[Voice]) -> None:
    """Raise MissingEngineError, naming the apt package, for the first thing missing."""
    voices = set(voices)
    engines = sorted({v.engine for v in voices}) + ["sox"]
    for engine in engines:
        if shutil.which(engine) is None:
            raise MissingEngineError(_install_hint(engine, APT_PACKAGE[engine]))
    # The engines fall back to a default voice rather than fail on an unknown one,
    # so ask each for its list.
    espeak = {v.name for v in voices if v.engine == "espeak-ng"}
    if espeak:
        missing = sorted(espeak - set(_run(["espeak-ng", "--voices=en"]).split()))
        if missing:
            raise MissingEngineError(
                _install_hint(f"espeak-ng voice {missing[0]}", "espeak-ng-data")
            )
    flite = {v.name for v in voices if v.engine == "flite"}
    if flite:
        missing = sorted(flite - set(_run(["flite", "-lv"]).split()))
        if missing:
            raise MissingEngineError(_install_hint(f"flite voice {missing[0]}", "flite"))
    for name in sorted(v.name for v in voices if v.engine == "festival"):
        done = subprocess.run(
            ["festival", "--batch", f"(voice_{name})"], capture_output=True, text=True
        )
        if done.returncode != 0:
            package = FESTIVAL_VOICE_PACKAGE.get(name, "festvox-" + name)
            raise MissingEngineError(_install_hint(f"festival voice {name}", package))


def _run(command: Sequence[str]) -> str:
    """Run a command, return its stdout; a failure raises with the end of its stderr."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{command[0]} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        )
    return done.stdout


# ----------------------------------------------------------------- synthesis


def espeak_command(utt: Utterance, wav: Path) -> list[str]:
    voice = utt.voice.name + (f"+{utt.voice.variant}" if utt.voice.variant else "")
    rate = round(ESPEAK_WORDS_PER_MINUTE * utt.tempo)
    options = f"-v {voice} -s {rate} -p {utt.pitch}".split()
    return ["espeak-ng", *options, "-w", str(wav), utt.text]


def flite_command(utt: Utterance, wav: Path) -> list[str]:
    settings = [f"duration_stretch={1 / utt.tempo:.3f}"]
    if utt.f0:
        settings += [f"int_f0_target_mean={utt.f0}", f"int_f0_target_stddev={round(utt.f0 * F0_STDDEV_SHARE)}"]
    options = [arg for setting in settings for arg in ("--setf", setting)]
    return ["flite", "-voice", utt.voice.name, *options, "-t", utt.text, "-o", str(wav)]


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def festival_script(utts: Sequence[Utterance], wavs: Sequence[Path]) -> str:
    """A Scheme script that makes festival read every utterance into its WAV."""
    lines = []
    for utt, wav in zip(utts, wavs, strict=True):
        lines += [
            f"(voice_{utt.voice.name})",
            f"(Parameter.set 'Duration_Stretch {1 / utt.tempo:.3f})",
        ]
        if utt.f0:
            # The voice's own call above set int_lr_params; this replaces its target for this
            # utterance only (the next utterance calls its voice again).
            lines.append(
                f"(set! int_lr_params (append '((target_f0_mean {utt.f0}) "
                f"(target_f0_std {round(utt.f0 * F0_STDDEV_SHARE)})) int_lr_params))"
            )
        lines += [
            f"(utt.save.wave (utt.synth (Utterance Text {_scheme_string(utt.text)})) "
            f"{_scheme_string(str(wav))} 'riff)",
        ]
    return "\n".join(lines) + "\n"


def sox_command(raw: Path, out: Path, sample_rate: int = SAMPLE_RATE, shift_cents: int = 0) -> list[str]:
    """raw engine output -> trimmed, normalised `sample_rate` mono 16-bit WAV, pitch-shifted by `shift_cents`."""
    output = f"-t wav -b {SAMPLE_BITS} -c 1".split()
    # Trim and fade the start, then the same on the reversed audio for the end.
    trim = f"silence 1 {SILENCE_MIN_SECONDS} {SILENCE_THRESHOLD} fade {FADE_SECONDS} reverse"
    shift = ["pitch", str(shift_cents)] if shift_cents else []
    finish = f"rate -h {sample_rate} norm {PEAK_DBFS} pad {PAD_SECONDS} {PAD_SECONDS}"
    return ["sox", str(raw), *output, str(out), *trim.split(), *trim.split(), *shift, *finish.split()]


def synthesise_batch(
    utts: Sequence[Utterance], corpus_dir: Path, sample_rate: int = SAMPLE_RATE
) -> None:
    """Read `utts` (one engine) into corpus_dir/wav/, each file appearing whole or not at all."""
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        raws = [Path(tmp, f"{utt.id}.raw.wav") for utt in utts]
        engine = utts[0].voice.engine
        if engine == "festival":
            script = Path(tmp, "batch.scm")
            script.write_text(festival_script(utts, raws))
            _run(["festival", "--batch", str(script)])
        else:
            make_command = espeak_command if engine == "espeak-ng" else flite_command
            for utt, raw in zip(utts, raws, strict=True):
                _run(make_command(utt, raw))
        for utt, raw in zip(utts, raws, strict=True):
            if not raw.is_file() or raw.stat().st_size == 0:
                raise RuntimeError(f"{utt.voice.speaker} wrote no audio for {utt.id}: {utt.text!r}")
            part = Path(tmp, f"{utt.id}.wav")
            _run(sox_command(raw, part, sample_rate, utt.shift_cents))
            if soundfile.info(str(part)).duration < MIN_SPEECH_SECONDS + 2 * PAD_SECONDS:
                raise RuntimeError(f"{utt.voice.speaker} read {utt.id} as silence: {utt.text!r}")
            # A move within one file system is atomic; the temp folder may be elsewhere.
            final = corpus_dir / utt.audio
            shutil.move(part, final.with_suffix(".part"))
            os.replace(final.with_suffix(".part"), final)


def _batches(utts: Sequence[Utterance]) -> list[list[Utterance]]:
    """Group by voice (festival loads each voice once a batch), then cut to batch size."""
    by_voice: dict[Voice, list[Utterance]] = {}
    for utt in utts:
        by_voice.setdefault(utt.voice, []).append(utt)
    batches = []
    for voice, group in by_voice.items():
        size = FESTIVAL_BATCH if voice.engine == "festival" else OTHER_BATCH
        batches += [group[i : i + size] for i in range(0, len(group), size)]
    return batches


def synthesise(
    plan: Sequence[Utterance], corpus_dir: Path, jobs: int, sample_rate: int = SAMPLE_RATE
) -> int:
    """Make every WAV of `plan` that is not there yet; returns how many were made.

    The work happens in the engines' and sox's own processes, so a thread per
    job keeps `jobs` cores busy without pickling anything.
    """
    (corpus_dir / "wav").mkdir(parents=True, exist_ok=True)
    todo = [utt for utt in plan if not (corpus_dir / utt.audio).is_file()]
    batches = _batches(todo)
    done = 0
    report_every = max(len(todo) // 10, 1)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending = {
            pool.submit(synthesise_batch, batch, corpus_dir, sample_rate): len(batch)
            for batch in batches
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_EXCEPTION)
            for future in finished:
                if future.exception() is not None:
                    pool.shutdown(cancel_futures=True)
                    raise future.exception()
                before = done
                done += pending.pop(future)
                if done // report_every > before // report_every or done == len(todo):
                    print(f"  synthesised {done}/{len(todo)}", flush=True)
    return len(todo)


# ------------------------------------------------------------------ manifests


@dataclass(frozen=True)
class SplitSummary:
    split: str
    utterances: int
    hours: float
    speakers: int


def write_manifests(plan: Sequence[Utterance], corpus_dir: Path) -> list[SplitSummary]:
    """DIR/<split>.jsonl for each split, durations read from the WAVs."""
    summaries = []
    for split in SPLITS:
        utts = [utt for utt in plan if utt.split == split]
        entries = [
            ManifestEntry(utt.id, corpus_dir / utt.audio, duration(corpus_dir / utt.audio), utt.text, utt.voice.speaker)
            for utt in utts
        ]
        write_manifest(entries, corpus_dir / f"{split}.jsonl")  # atomic; audio paths relative to the corpus folder
        seconds = sum(entry.duration for entry in entries)
        speakers = len({utt.voice for utt in utts})
        summaries.append(SplitSummary(split, len(utts), seconds / 3600, speakers))
    return summaries


# ---------------------------------------------------------------------- main


class SettingsMismatchError(RuntimeError):
    """The output folder holds a corpus prepared with other settings."""


def corpus_settings(options: PrepareOptions) -> dict:
    """What prepare.json records: the options, and a digest of the sentences file's
    content, so that an edited file is not mistaken for the one already read."""
    settings = asdict(options)
    if options.sentences_file is not None:
        digest = hashlib.sha256(Path(options.sentences_file).read_bytes()).hexdigest()
        settings["sentences_sha256"] = digest
    # As prepare.json holds them (tuples come back as lists), so a rerun compares like with like.
    return json.loads(json.dumps(settings))


def prepare(corpus_dir: Path, options: PrepareOptions, jobs: int) -> list[SplitSummary] | None:
    """Synthesise the corpus into corpus_dir; None when it was already complete."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    settings = corpus_settings(options)
    settings_path = corpus_dir / SETTINGS_FILE
    if settings_path.is_file():
        before = SETTINGS_ADDED_LATER | json.loads(settings_path.read_text())
        if before != settings:
            differ = sorted(k for k in before.keys() | settings.keys() if before.get(k) != settings.get(k))
            was = ", ".join(f"{k}={before.get(k)!r}" for k in differ)
            now = ", ".join(f"{k}={settings.get(k)!r}" for k in differ)
            raise SettingsMismatchError(
                f"{corpus_dir} was prepared with {was}, not {now}: "
                "pass the same settings, choose another --out-dir or delete it"
            )
        if (corpus_dir / COMPLETED_MARKER).is_file():
            print(f"{corpus_dir} is already prepared ({COMPLETED_MARKER} exists)")
            return None
    plan = plan_corpus(options)
    check_engines({utt.voice for utt in plan})
    settings_path.write_text(json.dumps(settings, indent=2) + "\n")

    start = time.perf_counter()
    made = synthesise(plan, corpus_dir, jobs, options.sample_rate)
    elapsed = time.perf_counter() - start
    print(f"synthesised {made} of {len(plan)} utterances in {elapsed:.1f} s with {jobs} jobs")

    summaries = write_manifests(plan, corpus_dir)
    for s in summaries:
        print(
            f"{s.split:>5}: {s.utterances:5d} utterances, {s.hours:.2f} h, {s.speakers} voices "
            f"-> {corpus_dir / (s.split + '.jsonl')}"
        )
    (corpus_dir / COMPLETED_MARKER).touch()
    return summaries


def default_jobs() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _num_sentences(asked: int | None, sentences_file: Path | None) -> int:
    if asked is not None:
        return asked
    if sentences_file is not None:
        return len(read_sentences_file(sentences_file))
    return PrepareOptions().num_sentences


def main(argv: Sequence[str] | None = None) -> None:
    defaults = PrepareOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="corpus folder to write")
    parser.add_argument(
        "--num-sentences",
        type=int,
        default=None,
        help="utterances in all splits together (default: every line of --sentences-file, "
        f"else {defaults.num_sentences})",
    )
    parser.add_argument(
        "--num-dev", type=int, default=defaults.num_dev, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--num-test", type=int, default=defaults.num_test, help="(default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="(default: %(default)s)")
    parser.add_argument(
        "--sentences-file",
        type=Path,
        default=defaults.sentences_file,
        help="read these sentences, one normalised sentence a line, instead of the built-in ones",
    )
    parser.add_argument(
        "--sample-rate",
        type=int,
        default=defaults.sample_rate,
        help="Hz of the WAVs written (default: %(default)s)",
    )
    parser.add_argument(
        "--extra-train",
        type=int,
        default=defaults.extra_train,
        help="this many more built-in sentences, all for training; dev and test stay those of "
        "--num-sentences (default: %(default)s)",
    )
    parser.add_argument(
        "--voice-set",
        choices=VOICE_SETS,
        default=defaults.voice_set,
        help="training voices: extended adds espeak-ng's other variants (%(default)s; "
        "basic is the smaller set of corpora made before it)",
    )
    parser.add_argument(
        "--pitch-shift",
        type=int,
        default=defaults.pitch_shift,
        metavar="CENTS",
        help="shift each training utterance's voice up or down by a random number of cents up to this "
        "(sox pitch; 100 cents a semitone; dev and test untouched; default: %(default)s, off)",
    )
    parser.add_argument(
        "--f0-range",
        type=int,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=defaults.f0_range,
        help="flite kal, kal16, awb and festival kal_diphone read each training utterance around a random "
        "mean pitch in [LOW, HIGH] Hz, so that these male voices also speak at a woman's pitch "
        "(dev and test untouched; default: each voice's own)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help="engines run at once (default: CPU count, %(default)s)",
    )
    parser.add_argument(
        "--rms-in-training",
        action="store_true",
        help="train on flite's rms too (otherwise a dev voice; its dev sentences go to dev's espeak-ng voices)",
    )
    args = parser.parse_args(argv)
    try:
        options = PrepareOptions(
            num_sentences=_num_sentences(args.num_sentences, args.sentences_file),
            num_dev=args.num_dev,
            num_test=args.num_test,
            seed=args.seed,
            sentences_file=None if args.sentences_file is None else str(args.sentences_file),
            sample_rate=args.sample_rate,
            voice_set=args.voice_set,
            extra_train=args.extra_train,
            pitch_shift=args.pitch_shift,
            rms_in_training=args.rms_in_training,
            f0_range=None if args.f0_range is None else tuple(args.f0_range),
        )
        prepare(args.out_dir, options, max(args.jobs, 1))
    except (OSError, ValueError, MissingEngineError, SettingsMismatchError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
