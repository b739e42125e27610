"""asr/decode/lm_build.py: modified Kneser-Ney estimation written as ARPA."""

import math
import random

import numpy as np
import pytest

from asr.decode.lm import BOS, EOS, UNK, NgramLM
from asr.decode.lm_build import FALLBACK_DISCOUNTS, _discounts, adjusted_counts, build_arpa, write_arpa

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "and", "then", "it", "was", "over"]


def corpus(n_sentences: int = 800, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10))) for _ in range(n_sentences)]


def test_continuation_counts_for_lower_orders():
    counts = adjusted_counts(["a b", "c b", "c b"], order=2)
    assert counts[1][("c", "b")] == 2  # highest order: raw counts
    assert counts[0][("b",)] == 2  # two distinct left neighbours: a, c
    assert counts[0][("c",)] == 1  # only ever after <s>
    assert counts[1][(BOS, "c")] == 2
    assert (BOS,) not in counts[0]


def test_discounts_follow_counts_of_counts_or_fall_back():
    assert _discounts(adjusted_counts(["a b"], 2)[1]) == FALLBACK_DISCOUNTS
    rng = random.Random(0)
    zipf = [" ".join(f"w{int(rng.paretovariate(1.0))}" for _ in range(8)) for _ in range(2000)]
    discounts = _discounts(adjusted_counts(zipf, 2)[1])
    assert discounts != FALLBACK_DISCOUNTS
    assert all(0 < d < k for k, d in enumerate(discounts, start=1))


def test_text_is_normalised(tmp_path):
    path = tmp_path / "lm.arpa"
    write_arpa(["Hello, World!", "HELLO   there."], path, order=2)
    lm = NgramLM.load(path)
    assert {"hello", "world", "there", BOS, EOS, UNK} == set(lm.vocab)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_distributions_sum_to_one(order):
    lm = NgramLM.from_arpa_text(build_arpa(corpus(300), order))
    words = [w for w in lm.vocab if w != BOS]
    contexts = [[], ["the"], ["cat", "sat"], ["zebra"], ["over", "the", "dog"]]
    for context in contexts:
        for bos in (True, False):
            state = lm.initial_state(bos)
            for w in context:
                _, state = lm.score_word(state, w)
            total = sum(10 ** lm.score_word(state, w)[0] for w in words)
            assert total == pytest.approx(1.0, abs=1e-4), (context, bos)


def test_kenlm_reads_it(tmp_path):
    kenlm = pytest.importorskip("kenlm")
    path = tmp_path / "lm.arpa"
    write_arpa(corpus(), path, order=3)
    model = kenlm.Model(str(path))
    assert model.order == 3
    assert math.isfinite(model.score("the cat sat on the mat"))


def test_unseen_word_gets_unk_mass():
    lm = NgramLM.from_arpa_text(build_arpa(corpus(), 3))
    assert lm.score_sentence("zebra", bos=False, eos=False) == pytest.approx(float(lm.arrays[3][lm.unk_id]))
    assert np.isfinite(lm.score_sentence("zebra the cat"))
