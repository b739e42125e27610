"""asr/decode/lm.py: ARPA loading and back-off scoring, against KenLM and a dict reference."""

import gzip
import random

import numpy as np
import pytest

from asr.decode.lm import UNK, UNK_LOGPROB10, NgramLM, lm_logprob10
from asr.decode.lm_build import build_arpa
from asr.decode.reference import ReferenceNgramLM

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "and", "then", "it", "was", "over"]


def corpus(n_sentences: int = 600, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10))) for _ in range(n_sentences)]


def sentences() -> list[str]:
    """In-vocabulary, out-of-vocabulary and edge-case sentences."""
    rng = random.Random(1)
    vocab = [*WORDS, "zebra", "quokka", "<unk>"]
    random_ones = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 12))) for _ in range(150)]
    return [*corpus(100, seed=2), *random_ones, "", "zebra", "the the the the the", "over the cat zebra dog"]


@pytest.fixture(scope="module", params=[2, 3, 4])
def arpa_path(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("lm") / f"{request.param}gram.arpa"
    path.write_text(build_arpa(corpus(), request.param))
    return path


@pytest.mark.parametrize("bos,eos", [(True, True), (False, True), (True, False), (False, False)])
def test_scores_match_kenlm(arpa_path, bos, eos):
    kenlm = pytest.importorskip("kenlm")
    theirs = kenlm.Model(str(arpa_path))
    ours = NgramLM.load(arpa_path)
    for text in sentences():
        assert ours.score_sentence(text, bos, eos) == pytest.approx(theirs.score(text, bos=bos, eos=eos), abs=1e-4)


def test_scores_match_dict_reference(arpa_path):
    ours, reference = NgramLM.load(arpa_path), ReferenceNgramLM(arpa_path)
    for text in sentences():
        history, expected = ["<s>"], 0.0
        for word in [*text.split(), "</s>"]:
            expected += reference.logprob10(history, word)
            history.append(word)
        assert ours.score_sentence(text) == pytest.approx(expected, abs=1e-6)


def test_state_carries_the_context(arpa_path):
    lm = NgramLM.load(arpa_path)
    state, total = lm.initial_state(), 0.0
    assert state.shape == (lm.order - 1,)
    for word in ["the", "cat", "sat"]:
        logprob, state = lm.score_word(state, word)
        total += logprob
    assert list(state) == [lm.word_id(w) for w in ["<s>", "the", "cat", "sat"][-(lm.order - 1) :]]
    assert total == pytest.approx(lm.score_sentence("the cat sat", eos=False), abs=1e-9)


def test_oov_words_score_as_unk(arpa_path):
    lm = NgramLM.load(arpa_path)
    assert lm.word_id("zebra") == lm.unk_id
    assert lm.score_sentence("the zebra sat") == pytest.approx(lm.score_sentence(f"the {UNK} sat"))


def test_kernel_writes_state_in_place(arpa_path):
    lm = NgramLM.load(arpa_path)
    state = lm.initial_state()
    out = np.empty_like(state)
    separate = lm_logprob10(lm.arrays, state, lm.word_id("cat"), out)
    same = lm_logprob10(lm.arrays, state, lm.word_id("cat"), state)
    assert separate == same and np.array_equal(out, state)


def test_gzip_and_missing_unk(tmp_path):
    text = build_arpa(corpus(50), 2)
    lines = [ln for ln in text.splitlines() if f"\t{UNK}" not in ln]
    n_unigrams = int(next(ln for ln in lines if ln.startswith("ngram 1=")).split("=")[1])
    lines = [f"ngram 1={n_unigrams - 1}" if ln.startswith("ngram 1=") else ln for ln in lines]
    path = tmp_path / "lm.arpa.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines))
    lm = NgramLM.load(path)
    assert lm.score_sentence("zebra", bos=False, eos=False) == pytest.approx(UNK_LOGPROB10)
    assert lm.score_sentence("the cat") == pytest.approx(NgramLM.from_arpa_text(text).score_sentence("the cat"))


def test_bad_header_is_an_error():
    with pytest.raises(ValueError):
        NgramLM.from_arpa_text("not an arpa file")
