"""asr/cli.py: every subcommand in-process (untrained tiny model: output shapes, not accuracy) and its one-line errors."""

import json
import sys

import numpy as np
import pytest
import soundfile

from asr.cli import main
from asr.decode.lm import NgramLM
from asr.decode.prefix_beam import BeamSearchOptions
from asr.transcribe import Transcriber
from conftest import tone

LM_TEXT = "The cat sat on the mat.\nthe dog sat on the log\nA CAT, a dog!\n"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def arpa(tmp_path, capsys):
    text = tmp_path / "lm.txt"
    text.write_text(LM_TEXT)
    path = tmp_path / "lm.arpa"
    assert main(["lm", "build", str(text), "--order", "2", "-o", str(path)]) == 0
    capsys.readouterr()
    return path


@pytest.fixture
def manifest(tmp_path):
    """Two utterances; the second has more reference words, so more errors (sorted first in the details)."""
    rng = np.random.default_rng(0)
    lines = []
    for i, (seconds, text) in enumerate([(1.0, "cat"), (1.5, "the dog sat on the mat and the cat sat on a log")]):
        path = tmp_path / f"u{i}.wav"
        soundfile.write(path, (tone(seconds) + rng.normal(0, 0.05, int(16000 * seconds))).astype(np.float32), 16000)
        lines.append(json.dumps({"id": f"u{i}", "audio": str(path), "duration": seconds, "text": text}))
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("decoder", [[], ["--decoder", "beam", "--beam", "4"]])
def test_transcribe_prints_path_and_text(capsys, tiny_checkpoint, wav_file, decoder):
    code, out, _ = run(capsys, "transcribe", tiny_checkpoint, wav_file, wav_file, *decoder)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{wav_file}\t") for line in lines)


@pytest.mark.parametrize("decoder", [["--decoder", "greedy"], ["--beam", "4", "--hotword", "cat:2"]])
def test_transcribe_json_has_scores_and_word_timings(capsys, tiny_checkpoint, wav_file, decoder):
    code, out, _ = run(capsys, "transcribe", tiny_checkpoint, wav_file, "--json", *decoder)
    assert code == 0
    record = json.loads(out)
    assert set(record) == {"path", "text", "score", "am_score", "lm_score", "words"}
    assert record["score"] == pytest.approx(record["am_score"] + record["lm_score"], abs=1e-3)
    assert [w["word"] for w in record["words"]] == record["text"].split()
    for word in record["words"]:
        assert set(word) == {"word", "start", "end", "confidence"}
        assert 0 <= word["start"] < word["end"] <= 1.0 + 1e-6 and 0 <= word["confidence"] <= 1


def test_transcribe_nbest_json_lists_hypotheses_best_first(capsys, tiny_checkpoint, wav_file, arpa):
    argv = ["transcribe", tiny_checkpoint, wav_file, "--lm", arpa, "--beam", "4", "--nbest", "3"]
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 0
    record = json.loads(out)
    nbest = record["nbest"]
    assert 1 <= len(nbest) <= 3 and nbest[0]["text"] == record["text"]
    assert all(set(h) == {"text", "score", "am_score", "lm_score"} for h in nbest)
    assert [h["score"] for h in nbest] == sorted((h["score"] for h in nbest), reverse=True)
    assert len({h["text"] for h in nbest}) == len(nbest)
    _, text_out, _ = run(capsys, *argv)
    assert text_out == f"{wav_file}\t{record['text']}\n"  # text output: the best only


def test_decoder_flags_come_from_beam_search_options(capsys):
    with pytest.raises(SystemExit):
        main(["transcribe", "--help"])
    out = capsys.readouterr().out
    defaults = BeamSearchOptions()
    for flag, field in [("--beam-size", "beam_size"), ("--token-topk", "token_topk"), ("--beam-threshold", "beam_threshold")]:
        assert flag in out and f"default: {getattr(defaults, field)}" in out
    assert "--beam " in out and "--blank-skip-threshold" in out and "--token-min-logprob" in out


def test_eval_reports_rates_and_writes_details_worst_first(capsys, tiny_checkpoint, manifest, arpa, tmp_path):
    details = tmp_path / "details.tsv"
    code, out, _ = run(capsys, "eval", tiny_checkpoint, manifest, "--details", details, "--lm", arpa, "--beam", "4", "--alpha", "0.7")
    assert code == 0
    assert out.startswith("decoder beam beam_size=4 ") and "alpha=0.7" in out and f"lm={arpa}" in out
    for label in ("WER", "CER", "RTF"):
        assert any(line.startswith(f"{label} ") for line in out.splitlines())
    header, *rows = details.read_text().splitlines()
    assert header == "id\terrors\tref_words\tref\thyp"
    errors = [int(r.split("\t")[1]) for r in rows]
    assert sorted(r.split("\t")[0] for r in rows) == ["u0", "u1"] and errors == sorted(errors, reverse=True)
    assert rows[0].startswith("u1\t")


def test_eval_greedy_by_default(capsys, tiny_checkpoint, manifest, tmp_path):
    code, out, _ = run(capsys, "eval", tiny_checkpoint, manifest, "--details", tmp_path / "d.tsv")
    assert code == 0 and out.splitlines()[0] == "decoder greedy"


def test_lm_build_normalises_text_and_prints_counts(capsys, tmp_path):
    text = tmp_path / "lm.txt"
    text.write_text(LM_TEXT)
    code, out, _ = run(capsys, "lm", "build", text, "-o", tmp_path / "lm.arpa")
    assert code == 0
    lm = NgramLM.load(tmp_path / "lm.arpa")
    assert lm.order == 3  # the default order is write_arpa's
    assert {"the", "cat", "a", "dog"} <= set(lm.vocab) and "The" not in lm.vocab and "CAT," not in lm.vocab
    counts = [line.split() for line in out.splitlines()[1:]]
    assert [c[0] for c in counts] == ["1-grams", "2-grams", "3-grams"]
    assert int(counts[0][1]) == len(lm.vocab)  # words, <s>, </s>, <unk>


def test_tune_lm_prints_wer_table_and_best_pair(capsys, monkeypatch, tiny_checkpoint, manifest, arpa):
    calls, logprobs = [], Transcriber.logprobs
    monkeypatch.setattr(Transcriber, "logprobs", lambda self, samples: calls.append(1) or logprobs(self, samples))
    argv = ["tune-lm", tiny_checkpoint, manifest, "--lm", arpa, "--alphas", "0,1", "--betas", "0,0.5,2", "--beam", "2", "--threads", "2"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    lines = out.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("WER %"))) :]
    assert table[0].split() == ["WER", "%", "beta", "0", "beta", "0.5", "beta", "2"]
    assert [row.split()[:2] for row in table[1:3]] == [["alpha", "0"], ["alpha", "1"]]
    assert all(len(row.split()) == 2 + 3 for row in table[1:3])
    best = table[3].split()
    assert best[:2] == ["best:", "--alpha"] and best[2] in ("0", "1") and best[4] in ("0", "0.5", "2")
    wers = [float(x) for row in table[1:3] for x in row.split()[2:]]
    assert float(best[-1].rstrip("%")) == pytest.approx(min(wers))
    assert len(calls) == 2  # the model ran once per utterance, not once per grid point


def test_import_kaldi(capsys, tmp_path, wav_file):
    data = tmp_path / "kaldi"
    data.mkdir()
    (data / "wav.scp").write_text(f"a {wav_file}\nb {wav_file}\n")
    (data / "text").write_text("a Hello World\nb yes\n")
    (data / "utt2spk").write_text("a s1\nb s2\n")
    code, out, _ = run(capsys, "import-kaldi", data, "-o", tmp_path / "m.jsonl")
    assert code == 0 and out.startswith("2 utterances")
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == ["hello world", "yes"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["transcribe", "{model}", "{tmp}/missing.wav"], "missing.wav: no such file"),
        (["transcribe", "{corrupt}", "{wav}"], "not a loadable checkpoint"),
        (["transcribe", "{model}", "{tmp}"], "is a directory, not an audio file"),
        (["transcribe", "{model}", "{wav}", "--hotword", "paris"], "bad hotword 'paris': expected WORD:WEIGHT"),
        (["transcribe", "{model}", "{wav}", "--hotword", "paris:high"], "bad hotword 'paris:high'"),
        (["transcribe", "{model}", "{wav}", "--hotword", "covid19:3"], "outside the model's vocabulary: '19'"),
        (["transcribe", "{model}", "{wav}", "--hotword", "new york:3"], "more than one word"),
        (["transcribe", "{model}", "{wav}", "--lm", "{tmp}/none.arpa"], "none.arpa: no such LM file"),
        (["transcribe", "{model}", "{wav}", "--lm", "{wav}"], "not a readable ARPA LM"),
        (["transcribe", "{model}", "{wav}", "--lexicon", "{tmp}/words.txt"], "no such lexicon file"),
        (["transcribe", "{model}", "{wav}", "--decoder", "greedy", "--lm", "{wav}"], "need --decoder beam"),
        (["transcribe", "{model}", "{wav}", "--beam", "0"], "beam_size, token_topk and nbest must be >= 1"),
        (["eval", "{model}", "{tmp}/none.jsonl"], "cannot read manifest"),
        (["tune-lm", "{model}", "{tmp}/none.jsonl", "--lm", "{wav}", "--alphas", "0,x"], "--alphas '0,x'"),
        (["lm", "build", "{tmp}/none.txt", "-o", "{tmp}/lm.arpa"], "none.txt: no such text file"),
        (["lm", "build", "{empty}", "-o", "{tmp}/lm.arpa"], "no words in the training text"),
    ],
)
def test_user_errors_are_one_line(capsys, tmp_path, tiny_checkpoint, wav_file, argv, message):
    corrupt, empty = tmp_path / "corrupt.pt", tmp_path / "empty.txt"
    corrupt.write_bytes(b"not a checkpoint")
    empty.write_text("!!!\n")
    names = {"model": tiny_checkpoint, "wav": wav_file, "tmp": tmp_path, "corrupt": corrupt, "empty": empty}
    code, out, err = run(capsys, *(a.format(**names) for a in argv))
    assert code == 1 and out == ""
    last = err.strip().splitlines()[-1]  # INFO log lines may come before it
    assert last.startswith("asr: error: ") and message in last, err
    assert "Traceback" not in err


def test_align_without_matplotlib_says_how_to_install(capsys, monkeypatch, tiny_checkpoint, wav_file, tmp_path):
    # Block matplotlib and every submodule an earlier test may have imported: imports now raise ImportError.
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    code, _, err = run(capsys, "align", tiny_checkpoint, wav_file, "--png", tmp_path / "a.png")
    assert code == 1
    assert err.strip() == "asr: error: asr align needs matplotlib (pip install 'asr[plot]')"
    assert not (tmp_path / "a.png").exists()


def test_json_is_strict_even_when_a_lexicon_rejects_everything(capsys, tiny_checkpoint, wav_file, tmp_path):
    """The untrained model says "'w'w'w'w'..." on the tone; with a beam of 1 the only prefix left is
    inside a lexicon word that never ends, so the score is -inf: written as null, not -Infinity."""
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("'w'w'w'w'w'w'w'wxyz\n")
    code, out, _ = run(capsys, "transcribe", tiny_checkpoint, wav_file, "--json", "--lexicon", lexicon, "--beam", "1")
    assert code == 0
    record = json.loads(out, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    assert record["text"] == "" and record["score"] is None


@pytest.mark.parametrize("decoder", [[], ["--beam", "4"], ["--beam", "4", "--lm", "{arpa}"]])
def test_near_empty_audio_transcribes_as_nothing(capsys, tiny_checkpoint, tmp_path, arpa, decoder):
    for name, samples in (("one.wav", 1), ("ten_ms.wav", 160)):
        soundfile.write(tmp_path / name, np.full(samples, 0.3, np.float32), 16000)
        code, out, _ = run(capsys, "transcribe", tiny_checkpoint, tmp_path / name, "--json", *(a.format(arpa=arpa) for a in decoder))
        assert code == 0
        record = json.loads(out)
        assert record["text"] == "" and record["words"] == []


def test_eval_takes_a_manifest_without_durations(capsys, tiny_checkpoint, manifest, tmp_path):
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "duration"}) + "\n" for r in lines))
    code, out, _ = run(capsys, "eval", tiny_checkpoint, bare, "--details", tmp_path / "d.tsv")
    assert code == 0 and "utterances 2" in out and "for 2.5 s of audio" in out


def _checkpoint(tmp_path, config):
    """The tiny untrained model with another config (same shapes), saved like training saves one."""
    import torch

    from asr.checkpoint import model_payload, save_checkpoint
    from asr.features import FeatureExtractor
    from asr.model import AcousticModel
    from asr.tokenizer import Tokenizer

    torch.manual_seed(0)
    tokenizer = Tokenizer.english()
    path = tmp_path / "configured.pt"
    model = AcousticModel(config.features.n_mels, tokenizer.size, config.model)
    save_checkpoint(model_payload(model, config, tokenizer, FeatureExtractor(config.features)), path)
    return path


def test_python_dash_m_asr_is_the_command():
    import subprocess

    result = subprocess.run([sys.executable, "-m", "asr", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and all(command in result.stdout for command in ("train", "transcribe", "tune-lm", "import-kaldi"))


def test_train_has_a_flag_for_every_setting(capsys):
    from test_config import _all_fields

    from asr.config import ExperimentConfig

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for key, field in _all_fields(ExperimentConfig):
        assert "--" + field.name.replace("_", "-") in out, key


def test_decoding_follows_the_checkpoint_then_config_then_flags(capsys, tmp_path, manifest, arpa):
    from conftest import TINY_CONFIG

    model = _checkpoint(tmp_path, TINY_CONFIG.with_overrides({"decode.decoder": "beam", "decode.lm": str(arpa), "decode.beam.beam_size": 3}))
    details = ["--details", tmp_path / "d.tsv"]
    _, out, _ = run(capsys, "eval", model, manifest, *details)
    assert out.startswith("decoder beam beam_size=3 ") and f"lm={arpa}" in out
    yaml_file = tmp_path / "decode.yaml"
    yaml_file.write_text("decode:\n  beam:\n    beam_size: 5\n    alpha: 0.9\n")
    _, out, _ = run(capsys, "eval", model, manifest, *details, "--config", yaml_file)
    assert out.startswith("decoder beam beam_size=5 ") and "alpha=0.9" in out and f"lm={arpa}" in out
    _, out, _ = run(capsys, "eval", model, manifest, *details, "--config", yaml_file, "--beam", "2")
    assert out.startswith("decoder beam beam_size=2 ") and "alpha=0.9" in out
    _, out, _ = run(capsys, "eval", model, manifest, *details, "--decoder", "greedy")  # drops the checkpoint's LM too
    assert out.splitlines()[0] == "decoder greedy"
    yaml_file.write_text("model:\n  hidden_size: 3\n")
    code, _, err = run(capsys, "eval", model, manifest, *details, "--config", yaml_file)
    assert code == 1 and "only the decode, stream section(s) apply here, not model" in err


def test_tune_lm_writes_a_decode_config_eval_can_read(capsys, tmp_path, tiny_checkpoint, manifest, arpa):
    best = tmp_path / "best.yaml"
    code, out, _ = run(capsys, "tune-lm", tiny_checkpoint, manifest, "--lm", arpa, "--alphas", "0,1.5", "--betas", "0,2", "--beam", "3", "-o", best)
    assert code == 0
    alpha, beta = next(line.split()[2:5:2] for line in out.splitlines() if line.startswith("best:"))
    code, out, _ = run(capsys, "eval", tiny_checkpoint, manifest, "--details", tmp_path / "d.tsv", "--config", best)
    assert code == 0
    decoder = out.splitlines()[0].split()
    assert decoder[:3] == ["decoder", "beam", "beam_size=3"]
    assert f"alpha={float(alpha)}" in decoder and f"beta={float(beta)}" in decoder and f"lm={arpa}" in decoder


def test_eval_skips_bad_audio_and_says_which(capsys, tmp_path, tiny_checkpoint, manifest):
    (tmp_path / "broken.wav").write_bytes(b"not audio")
    lines = manifest.read_text() + json.dumps({"id": "broken", "audio": str(tmp_path / "broken.wav"), "text": "x"}) + "\n"
    manifest.write_text(lines)
    details = ["--details", tmp_path / "d.tsv"]
    code, out, _ = run(capsys, "eval", tiny_checkpoint, manifest, *details, "--on-bad-audio", "skip")
    assert code == 0 and "utterances 2" in out and "skipped 1 utterance(s) with unreadable audio: broken" in out
    code, _, err = run(capsys, "eval", tiny_checkpoint, manifest, *details)
    assert code == 1 and "broken.wav" in err and "utterance broken" in err


def test_library_errors_never_name_command_line_flags():
    """Messages raised under asr/ (the CLI package aside) name settings like decode.lm, never --lm:
    the library is also called from Python, where there are no flags."""
    import ast
    import re
    from pathlib import Path

    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    found = []
    package = Path(__file__).resolve().parents[1] / "asr"
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise):
                for const in ast.walk(node):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) and flag.search(const.value):
                        found.append(f"{path.name}:{node.lineno}: {const.value}")
    assert not found, found


def test_stream_prints_finals_and_jsonl_events(capsys, tmp_path):
    """An untrained unidirectional model on 2 s of noisy tone: whatever it says, the output has the documented shape."""
    from conftest import TINY_CONFIG

    model = _checkpoint(tmp_path, TINY_CONFIG.with_overrides({"model.bidirectional": False, "model.lookahead": 1}))
    audio = tmp_path / "a.wav"
    soundfile.write(audio, (tone(2.0) + np.random.default_rng(0).normal(0, 0.05, 32000)).astype(np.float32), 16000)
    code, out, _ = run(capsys, "stream", model, audio, "--jsonl", "--no-endpointing", "--chunk-ms", "80")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert {e["type"] for e in events} <= {"partial", "final"} and all(e["file"] == str(audio) for e in events)
    for e in events:
        keys = {"file", "type", "segment", "text", "stable"} if e["type"] == "partial" else {"file", "type", "segment", "start", "end", "text", "words"}
        assert set(e) == keys
    finals = [e for e in events if e["type"] == "final"]
    assert len(finals) <= 1 and all(f["start"] == 0 and f["end"] <= 2.0 for f in finals)
    code, out, _ = run(capsys, "stream", model, audio, "--no-endpointing")
    assert code == 0 and all(line.startswith(f"{audio}\t0.00\t") for line in out.splitlines())
    code, _, err = run(capsys, "stream", _checkpoint(tmp_path, TINY_CONFIG), audio)
    assert code == 1 and "only a unidirectional one streams" in err.splitlines()[-1]
