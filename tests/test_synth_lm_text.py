"""recipes/synth/lm_text.py: the demo's grammar LM text never holds a dev or test sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "synth"
sys.path.insert(0, str(RECIPE))
try:
    import lm_text
    from sentences import generate_sentences
finally:
    sys.path.remove(str(RECIPE))


def write_manifest(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": f"u{i}", "audio": f"{i}.wav", "text": t}) + "\n" for i, t in enumerate(texts)))
    return path


def test_excluded_sentences_are_dropped_and_the_rest_kept_in_order():
    stream = generate_sentences(2000, lm_text.DEFAULT_SEED)
    excluded = set(stream[10:60])
    text = lm_text.lm_sentences(2000, lm_text.DEFAULT_SEED, excluded)
    assert len(text) == 1950 and not excluded & set(text)
    assert text == [s for s in stream if s not in excluded]


def test_cli_drops_the_corpus_dev_and_test_sentences(tmp_path):
    # The corpus's own stream (seed 0) shares sentences with the LM stream: the hand-written
    # ones at least, which every long enough stream draws.
    corpus = generate_sentences(3500, 0)
    dev = write_manifest(tmp_path / "dev.jsonl", corpus[:150])
    test = write_manifest(tmp_path / "test.jsonl", corpus[150:350])
    out = tmp_path / "lm" / "text.txt"
    result = subprocess.run(
        [sys.executable, str(RECIPE / "lm_text.py"), "--exclude", str(dev), str(test), "--num-sentences", "20000", "-o", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = out.read_text().splitlines()
    dropped = 20000 - len(lines)
    assert dropped > 0 and f"({dropped} dev/test sentences dropped)" in result.stdout
    assert not set(corpus[:350]) & set(lines)
    assert len(set(lines)) == len(lines)


def test_a_bad_manifest_is_a_one_line_error(tmp_path):
    bad = tmp_path / "dev.jsonl"
    bad.write_text('{"id": "u1", "audio": "a.wav"}\n')
    result = subprocess.run(
        [sys.executable, str(RECIPE / "lm_text.py"), "--exclude", str(bad), "-o", str(tmp_path / "t.txt")], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {bad}:1: not a manifest line with a text ('text')"
