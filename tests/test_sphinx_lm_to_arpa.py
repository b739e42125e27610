"""tools/sphinx_lm_to_arpa.py on the LMs pocketsphinx ships: the ARPA it writes scores every
n-gram as pocketsphinx itself does, and en-us.lm.bin (whose header 5.1.1's writer trusts and
crashes on) converts with its true counts."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from asr.decode.lm import NgramLM, read_arpa_file
from conftest import load_tool

pocketsphinx = pytest.importorskip("pocketsphinx", reason="pocketsphinx (the peer, extras 'peers') is not installed")
MODEL = Path(pocketsphinx.get_model_path()) / "en-us"
SPHINX_LOG10 = math.log10(1.0001)  # pocketsphinx's scores are integers in log base 1.0001


def sphinx_log10(model, words: list[str]) -> float:
    """pocketsphinx's log10 p(words[-1] | words[:-1]); `prob` takes the words newest first."""
    return model.prob(list(reversed(words))) * SPHINX_LOG10


def test_the_arpa_scores_ngrams_and_backoffs_as_pocketsphinx_does(tmp_path):
    tool = load_tool("sphinx_lm_to_arpa")
    path = MODEL / "en-us-phone.lm.bin"
    assert tool.main([str(path), "-o", str(tmp_path / "phone.arpa"), "--digits", "6"]) == 0
    arpa = read_arpa_file(tmp_path / "phone.arpa")
    lm = NgramLM(arpa)
    sphinx = pocketsphinx.NGramModel.readfile(str(path))
    rng = random.Random(0)
    vocab = [w for w in arpa.vocab if w != "<s>"]
    cases = []
    for ids, _, _ in arpa.ngrams[1:]:
        stored = [[arpa.vocab[i] for i in row] for row in ids[rng.sample(range(len(ids)), 200)].tolist()]
        cases += stored + [row[:-1] + [rng.choice(vocab)] for row in stored]  # many of these back off
    for words in cases:
        state = lm.initial_state(bos=False)
        for word in words[:-1]:
            _, state = lm.score_word(state, word)
        ours, _ = lm.score_word(state, words[-1])
        # 6 decimals here against pocketsphinx truncating to whole log-1.0001 units (4.3e-5 each)
        assert ours == pytest.approx(sphinx_log10(sphinx, words), abs=1e-4), words


def test_en_us_converts_with_the_counts_its_trie_holds(tmp_path, capsys):
    tool = load_tool("sphinx_lm_to_arpa")
    assert tool.main(["-o", str(tmp_path / "en-us.arpa")]) == 0  # the default: pocketsphinx's en-us.lm.bin
    assert "declares 2051547 2-grams, its trie holds 2051541" in capsys.readouterr().err
    with open(tmp_path / "en-us.arpa") as f:
        header = [next(f) for _ in range(4)]
    assert header == ["\\data\\\n", "ngram 1=72547\n", "ngram 2=2051541\n", "ngram 3=1669625\n"]
    lm = NgramLM.load(tmp_path / "en-us.arpa")  # the counts agree with the sections, or this raises
    sphinx = pocketsphinx.NGramModel.readfile(str(MODEL / "en-us.lm.bin"))
    for sentence in ["the cat sat on the mat", "he said that it was raining"]:
        words = ["<s>", *sentence.split()]
        state = lm.initial_state(bos=True)
        for i in range(1, len(words)):
            ours, state = lm.score_word(state, words[i])
            assert ours == pytest.approx(sphinx_log10(sphinx, words[max(0, i - 2) : i + 1]), abs=2e-4)


@pytest.mark.parametrize("content", [b"\\data\\\nngram 1=1\n", b"Trie Language Model\x03\x05\x00"])
def test_a_file_that_is_not_a_whole_trie_lm_is_one_line_naming_it(tmp_path, capsys, content):
    tool = load_tool("sphinx_lm_to_arpa")
    bad = tmp_path / "bad.lm.bin"
    bad.write_bytes(content)
    assert tool.main([str(bad), "-o", str(tmp_path / "out.arpa")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: ") and "\n" not in err
    assert not (tmp_path / "out.arpa").exists()
