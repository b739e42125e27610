"""asr/align.py: the alignment PNG (skipped without matplotlib)."""

import numpy as np
import pytest

from asr.align import plot_alignment
from asr.cli import main
from asr.decode.types import Hypothesis, WordAlignment
from asr.tokenizer import Tokenizer
from conftest import tone

pytest.importorskip("matplotlib")
PIL = pytest.importorskip("PIL.Image")  # matplotlib depends on Pillow


def test_plot_alignment_writes_a_png_sized_by_duration(tmp_path):
    tokens = Tokenizer.english().tokens
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, len(tokens))) * 3
    logprobs = (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(np.float32)
    words = (WordAlignment("yes", 0.2, 0.6, 0.9), WordAlignment("no", 1.2, 1.5, 0.3))
    hypothesis = Hypothesis("yes no", (), -1.0, -1.0, words=words)
    short, long = tmp_path / "short.png", tmp_path / "long.png"
    plot_alignment(short, tone(2.0), logprobs, tokens, hypothesis, 0.04)
    plot_alignment(long, tone(12.0), np.tile(logprobs, (6, 1)), tokens, hypothesis, 0.04)
    with PIL.open(short) as image:
        assert image.format == "PNG"
        short_size = image.size
    with PIL.open(long) as image:
        long_size = image.size
    assert 600 <= short_size[0] <= 2000 and 500 <= short_size[1] <= 1500
    assert long_size[0] > short_size[0] and long_size[1] == short_size[1]  # width follows the duration


def test_asr_align_command(capsys, tiny_checkpoint, wav_file, tmp_path):
    png = tmp_path / "out.png"
    assert main(["align", str(tiny_checkpoint), str(wav_file), "--png", str(png), "--beam", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{wav_file}\t") and f"plot: {png}" in out
    with PIL.open(png) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] >= 600
