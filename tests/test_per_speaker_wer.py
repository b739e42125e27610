"""tools/per_speaker_wer.py: the details TSV of `asr eval` joined with the manifest's speakers."""

from __future__ import annotations

from pathlib import Path

from asr.cli.decode import write_details
from asr.data import Utterance, write_manifest
from conftest import load_tool


def _tool():
    return load_tool("per_speaker_wer")


def _scored(tmp_path: Path) -> tuple[Path, Path]:
    utts = [
        Utterance("a", tmp_path / "a.wav", 1.0, "one two three four", "espeak-ng:en-us+m7"),
        Utterance("b", tmp_path / "b.wav", 1.0, "five six", "espeak-ng:en-gb+m7"),
        Utterance("c", tmp_path / "c.wav", 1.0, "seven eight nine", "flite:slt"),
    ]
    manifest = tmp_path / "test.jsonl"
    write_manifest(utts, manifest)
    details = tmp_path / "eval.tsv"
    # a: one substitution; b: one deletion; c: all three wrong
    write_details(details, [(utts[0], "one two tree four"), (utts[1], "five"), (utts[2], "a b c")])
    return manifest, details


def test_errors_and_words_are_summed_per_speaker(tmp_path):
    manifest, details = _scored(tmp_path)
    rows = _tool().per_speaker(manifest, details)
    assert rows == [("espeak-ng:en-us+m7", 1, 4), ("flite:slt", 3, 3), ("espeak-ng:en-gb+m7", 1, 2)]


def test_merge_groups_speakers_and_the_total_is_the_corpus_wer(tmp_path, capsys):
    manifest, details = _scored(tmp_path)
    tool = _tool()
    assert tool.per_speaker(manifest, details, ("espeak-ng:[^+]*\\+", "espeak-ng+")) == [("espeak-ng+m7", 2, 6), ("flite:slt", 3, 3)]
    assert tool.main([str(manifest), str(details), "--merge", "espeak-ng:[^+]*\\+", "espeak-ng+"]) == 0
    out = capsys.readouterr().out
    assert "| espeak-ng+m7 | 33.3 % | 2 / 6 | 67 % |" in out and "| all | 55.56 % | 5 / 9 | 100 % |" in out


def test_a_details_file_of_another_manifest_is_a_one_line_error(tmp_path, capsys):
    manifest, details = _scored(tmp_path)
    other = tmp_path / "other.jsonl"
    write_manifest([Utterance("z", tmp_path / "z.wav", 1.0, "zero", "x")], other)
    assert _tool().main([str(other), str(details)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3 ids not in" in err[0] and str(details) in err[0]
    assert _tool().main([str(manifest), str(manifest)]) == 1
    assert "not an `asr eval --details` TSV" in capsys.readouterr().err
