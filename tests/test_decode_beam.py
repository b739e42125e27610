"""asr/decode/prefix_beam.py: the Numba search against its reference, brute force and greedy."""

import itertools
import math
import random

import numpy as np
import pytest

from asr.decode.greedy import greedy_decode
from asr.decode.lm import NgramLM
from asr.decode.lm_build import build_arpa
from asr.decode.prefix_beam import BeamSearchDecoder, BeamSearchOptions
from asr.decode.reference import ReferenceBeamSearch, ReferenceNgramLM, logaddexp
from asr.tokenizer import Tokenizer

TOKENS = ("<blank>", " ", "a", "b", "c")
WORDS = ["a", "ab", "ba", "abc", "cab", "b", "cc"]
LEXICON = ["a", "ab", "abc", "ba", "cab", "ca"]
WIDE = BeamSearchOptions(
    beam_size=1000, token_topk=100, token_min_logprob=-math.inf, beam_threshold=math.inf, nbest=1000
)


def log_softmax(x: np.ndarray) -> np.ndarray:
    return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(np.float32)


def random_logprobs(rng: np.random.Generator, frames: int, vocab: int, sharpness: float = 2.0) -> np.ndarray:
    return log_softmax(rng.normal(size=(frames, vocab)) * sharpness)


def spelled(text: str, tokens, p: float = 0.9, alternatives: dict | None = None) -> np.ndarray:
    """Peaky log-probs: each character on one frame (prob p), a blank frame after each.
    `alternatives` maps a character position to {token: prob} for that frame."""
    index = {t: i for i, t in enumerate(tokens)}
    rows = []
    for pos, ch in enumerate(text):
        row = np.full(len(tokens), (1 - p) / (len(tokens) - 1))
        row[index[ch]] = p
        for tok, q in (alternatives or {}).get(pos, {}).items():
            row[index[tok]] = q
        blank = np.full(len(tokens), 0.02 / (len(tokens) - 1))
        blank[0] = 0.98
        rows += [row / row.sum(), blank]
    return np.log(np.array(rows)).astype(np.float32)


@pytest.fixture(scope="module")
def arpa(tmp_path_factory):
    rng = random.Random(1)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(300)]
    path = tmp_path_factory.mktemp("lm") / "abc.arpa"
    path.write_text(build_arpa(texts, 3))
    return path


CONFIGS = {
    "plain": {},
    "lm": {"lm": True},
    "lm+hotwords": {"lm": True, "hotwords": {"abc": 3.0, "ba": 1.5}},
    "hotwords": {"hotwords": {"abc": 2.0, "bb": -1.0}},
    "lexicon": {"lexicon": LEXICON},
    "lm+lexicon+hotwords": {"lm": True, "lexicon": LEXICON, "hotwords": {"cab": 2.0}},
}


def decoders(arpa, config: dict, options: BeamSearchOptions, tokens=TOKENS):
    kwargs = {"lexicon": config.get("lexicon"), "hotwords": config.get("hotwords")}
    fast_lm = NgramLM.load(arpa) if config.get("lm") else None
    slow_lm = ReferenceNgramLM(arpa) if config.get("lm") else None
    return BeamSearchDecoder(tokens, options, fast_lm, **kwargs), ReferenceBeamSearch(
        tokens, options, slow_lm, **kwargs
    )


def assert_same(ours, theirs):
    assert [h.text for h in ours] == [h.text for h in theirs]
    for a, b in zip(ours, theirs):
        assert a.token_ids == b.token_ids
        for x, y in [(a.score, b.score), (a.am_score, b.am_score), (a.lm_score, b.lm_score)]:
            assert x == y or abs(x - y) < 1e-6
        assert [(w.word, w.start, w.end) for w in a.words] == [(w.word, w.start, w.end) for w in b.words]
        assert np.allclose([w.confidence for w in a.words], [w.confidence for w in b.words], atol=1e-6)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_reference_on_random_inputs(arpa, name):
    rng = np.random.default_rng(list(CONFIGS).index(name))
    for _ in range(25):
        options = BeamSearchOptions(
            beam_size=int(rng.integers(1, 10)), token_topk=int(rng.integers(1, 5)), token_min_logprob=-6.0,
            beam_threshold=float(rng.uniform(2, 15)), blank_skip_threshold=float(rng.choice([1.0, 0.6])),
            alpha=0.8, beta=0.5, nbest=4,
        )  # fmt: skip
        fast, slow = decoders(arpa, CONFIGS[name], options)
        logprobs = random_logprobs(rng, int(rng.integers(1, 30)), len(TOKENS), rng.uniform(0.5, 4))
        assert_same(fast.decode(logprobs), slow.decode(logprobs))


def test_matches_reference_on_noisy_speech(tmp_path):
    tokens = Tokenizer.english().tokens
    rng = np.random.default_rng(11)
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]
    path = tmp_path / "lm.arpa"
    path.write_text(build_arpa([" ".join(rng.choice(words, 5)) for _ in range(200)], 3))
    options = BeamSearchOptions(beam_size=12, token_topk=6, beam_threshold=12.0, nbest=5)
    fast = BeamSearchDecoder(tokens, options, NgramLM.load(path), hotwords={"mat": 2.0})
    slow = ReferenceBeamSearch(tokens, options, ReferenceNgramLM(path), hotwords={"mat": 2.0})
    for _ in range(4):
        clean = spelled(" ".join(rng.choice([*words, "cap", "dot"], 4)), tokens, p=0.6)
        noisy = log_softmax(clean + rng.normal(size=clean.shape).astype(np.float32))
        assert_same(fast.decode(noisy), slow.decode(noisy))


def brute_force(logprobs: np.ndarray, tokens) -> dict[str, float]:
    """log P(text) summed over every alignment whose collapsed, space-normalised text is `text`."""
    totals: dict[str, float] = {}
    for path in itertools.product(range(len(tokens)), repeat=logprobs.shape[0]):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c)]
        text = " ".join("".join(tokens[c] for c in collapsed).split())
        score = float(sum(logprobs[t, c] for t, c in enumerate(path)))
        totals[text] = logaddexp(totals.get(text, -math.inf), score)
    return totals


@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_is_exact(seed):
    tokens = ("<blank>", " ", "a", "b")
    logprobs = random_logprobs(np.random.default_rng(seed), 6, len(tokens), 1.5)
    expected = brute_force(logprobs.astype(np.float64), tokens)
    hypotheses = BeamSearchDecoder(tokens, WIDE).decode(logprobs)
    assert len(hypotheses) == len(expected)
    assert hypotheses[0].text == max(expected, key=expected.get)
    for h in hypotheses:
        assert h.am_score == pytest.approx(expected[h.text], abs=1e-9)
        assert h.lm_score == 0.0


@pytest.mark.parametrize("chunks", [[1], [3, 1, 7], [5], [40], [2, 300]])
def test_incremental_equals_one_shot(arpa, chunks):
    decoder, _ = decoders(arpa, CONFIGS["lm+hotwords"], BeamSearchOptions(beam_size=6, nbest=3))
    logprobs = random_logprobs(np.random.default_rng(7), 700, len(TOKENS), 3.0)  # long enough to compact the tree
    state, start, sizes = decoder.begin(), 0, itertools.cycle(chunks)
    while start < len(logprobs):
        size = next(sizes)
        state = decoder.step(state, logprobs[start : start + size])
        start += size
        partial = decoder.partial(state)
        assert partial.score == pytest.approx(partial.am_score + partial.lm_score)
    assert decoder.end(state) == decoder.decode(logprobs)


def test_word_timings_and_confidence():
    tokens = Tokenizer.english().tokens
    text = "the cat sat"
    logprobs = spelled(text, tokens)
    best = BeamSearchDecoder(tokens, BeamSearchOptions(), frame_shift=0.04).decode(logprobs)[0]
    assert best.text == text
    assert [w.word for w in best.words] == text.split()
    duration = logprobs.shape[0] * 0.04
    ends = [0.0]
    for word in best.words:
        assert ends[-1] <= word.start < word.end <= duration
        assert 0.0 <= word.confidence <= 1.0
        ends.append(word.end)
    assert best.words[0].start == 0.0 and best.words[1].start == pytest.approx(8 * 0.04)  # "c" is frame 8
    assert best.words[0].confidence == pytest.approx(0.9, abs=0.01)


def test_random_input_timings_are_monotonic(arpa):
    rng = np.random.default_rng(3)
    decoder, _ = decoders(arpa, CONFIGS["lm"], BeamSearchOptions(beam_size=8, nbest=4))
    for _ in range(10):
        logprobs = random_logprobs(rng, 60, len(TOKENS), 3.0)
        for h in decoder.decode(logprobs):
            times = [x for w in h.words for x in (w.start, w.end)]
            assert times == sorted(times) and all(0 <= x <= 60 * 0.04 for x in times)
            assert all(0.0 <= w.confidence <= 1.0 for w in h.words)
            assert [w.word for w in h.words] == (h.text.split(" ") if h.text else [])


@pytest.mark.parametrize("beam_size", [1, 2, 4, 16])
def test_never_worse_than_greedy_on_peaky_input(beam_size):
    rng = np.random.default_rng(beam_size)
    decoder = BeamSearchDecoder(TOKENS, BeamSearchOptions(beam_size=beam_size))
    for _ in range(20):
        logprobs = random_logprobs(rng, 40, len(TOKENS), 6.0)
        best_path = float(logprobs.max(axis=1).astype(np.float64).sum())
        assert decoder.decode(logprobs)[0].am_score >= best_path - 1e-9


def test_lm_picks_the_likelier_spelling(tmp_path):
    tokens = Tokenizer.english().tokens
    path = tmp_path / "lm.arpa"
    path.write_text(build_arpa(["the cat sat"] * 50 + ["the cap fell"] * 2 + ["a cat"] * 5, 3))
    logprobs = spelled("the cap sat", tokens, alternatives={6: {"p": 0.5, "t": 0.4}})
    options = BeamSearchOptions(beam_size=8, alpha=1.0, beta=0.0)
    assert BeamSearchDecoder(tokens, options).decode(logprobs)[0].text == "the cap sat"
    assert BeamSearchDecoder(tokens, options, NgramLM.load(path)).decode(logprobs)[0].text == "the cat sat"


def test_hotword_boost_and_lexicon():
    tokens = Tokenizer.english().tokens
    logprobs = spelled("a cap", tokens, alternatives={4: {"p": 0.5, "t": 0.4}})
    options = BeamSearchOptions(beam_size=8)
    assert BeamSearchDecoder(tokens, options).decode(logprobs)[0].text == "a cap"
    assert BeamSearchDecoder(tokens, options, hotwords={"cat": 2.0}).decode(logprobs)[0].text == "a cat"
    lexicon = BeamSearchDecoder(tokens, options, lexicon=["a", "cat", "dog"]).decode(logprobs)[0]
    assert lexicon.text == "a cat"


def test_batch_and_empty_input(arpa):
    rng = np.random.default_rng(5)
    decoder, _ = decoders(arpa, CONFIGS["lm"], BeamSearchOptions(beam_size=4))
    batch = [random_logprobs(rng, n, len(TOKENS)) for n in (0, 1, 20, 50)]
    assert decoder.decode_batch(batch, num_threads=2) == [decoder.decode(x) for x in batch]
    empty = decoder.decode(batch[0])[0]
    assert empty.text == "" and empty.am_score == 0.0 and empty.words == ()


def test_with_options_equals_a_new_decoder(arpa):
    logprobs = random_logprobs(np.random.default_rng(9), 40, len(TOKENS), 3.0)
    decoder, _ = decoders(arpa, CONFIGS["lm+hotwords"], BeamSearchOptions(beam_size=4))
    options = BeamSearchOptions(beam_size=7, alpha=1.3, beta=-0.5, nbest=3)
    fresh, _ = decoders(arpa, CONFIGS["lm+hotwords"], options)
    assert decoder.with_options(options).decode(logprobs) == fresh.decode(logprobs)


def test_bad_arguments():
    with pytest.raises(ValueError):
        BeamSearchOptions(beam_size=0)
    with pytest.raises(ValueError):
        BeamSearchDecoder(("<blank>", "a"), hotwords={"a": 1.0})  # no space token
    with pytest.raises(ValueError):
        BeamSearchDecoder(TOKENS, hotwords={"xyz": 1.0})  # not spellable
    with pytest.raises(ValueError):
        BeamSearchDecoder(TOKENS).decode(np.zeros((3, 4), np.float32))


def spikes(n_frames: int, tokens, at: dict[int, dict[str, float]], floor: float = 1e-5) -> np.ndarray:
    """Blank-dominant log-probs (every other token at `floor`); `at` maps a frame to {token: prob}."""
    index = {t: i for i, t in enumerate(tokens)}
    probs = np.full((n_frames, len(tokens)), floor)
    for t, row in at.items():
        for tok, p in row.items():
            probs[t, index[tok]] = p
    probs[:, 0] = 0.0
    probs[:, 0] = 1.0 - probs.sum(1)
    return np.log(probs).astype(np.float32)


def test_timing_follows_the_spike_not_the_entry():
    """'h' enters the beam on 1e-3 at frame 2; its spike is at frame 20, 'i' at 22 (as greedy says)."""
    tokens = Tokenizer.english().tokens
    logprobs = spikes(30, tokens, {2: {"h": 1e-3}, 20: {"h": 0.98}, 22: {"i": 0.98}})
    shift = 0.04
    greedy = greedy_decode(logprobs, tokens, shift).words
    for options in (BeamSearchOptions(beam_size=8), WIDE):
        best = BeamSearchDecoder(tokens, options, frame_shift=shift).decode(logprobs)[0]
        (word,) = best.words
        assert (word.word, greedy[0].word) == ("hi", "hi")
        assert word.start == pytest.approx(20 * shift, abs=shift + 1e-9)
        assert word.start == pytest.approx(greedy[0].start, abs=shift + 1e-9)
        assert word.end == pytest.approx(23 * shift) == pytest.approx(greedy[0].end)
        assert word.confidence == pytest.approx(0.98, abs=1e-3)
        assert_same([best], ReferenceBeamSearch(tokens, options, frame_shift=shift).decode(logprobs)[:1])


def random_spikes(rng: np.random.Generator, tokens) -> tuple[np.ndarray, str]:
    """Peaky log-probs of a random text: each character a 1-3 frame spike, blanks around, noise, and
    now and then an early weak bump of the next character."""
    words = [rng.choice(list("abc"), int(rng.integers(1, 4))) for _ in range(int(rng.integers(1, 4)))]
    text = " ".join("".join(w) for w in words)
    at, t = {}, int(rng.integers(0, 4))
    for ch in text:
        if rng.random() < 0.3:
            at[t] = {ch: float(rng.uniform(1e-4, 0.05))}  # weak, early
            t += int(rng.integers(2, 5))
        for _ in range(int(rng.integers(1, 4))):
            at[t] = {ch: float(rng.uniform(0.6, 0.99))}
            t += 1
        t += int(rng.integers(1, 4))
    logprobs = spikes(t + 2, tokens, at, floor=1e-4)
    noisy = log_softmax(logprobs + 0.3 * rng.normal(size=logprobs.shape).astype(np.float32))
    return noisy, text


@pytest.mark.parametrize("beam_size", [1, 8, 64])
def test_timings_match_greedy_on_peaky_input(beam_size):
    """Where the texts agree, every word is within a frame of greedy's (greedy takes the first frame of a
    character's spike, the beam its likeliest), and nearly all match it exactly, confidence included."""
    rng = np.random.default_rng(beam_size)
    shift = 0.02
    options = BeamSearchOptions(beam_size=beam_size, token_min_logprob=-20.0)
    decoder = BeamSearchDecoder(TOKENS, options, frame_shift=shift)
    texts = words = exact = 0
    for _ in range(40):
        logprobs, _ = random_spikes(rng, TOKENS)
        greedy, best = greedy_decode(logprobs, TOKENS, shift), decoder.decode(logprobs)[0]
        if best.text != greedy.text:
            continue
        texts += 1
        for ours, theirs in zip(best.words, greedy.words, strict=True):
            assert ours.word == theirs.word
            assert ours.start == pytest.approx(theirs.start, abs=shift + 1e-6)
            assert ours.end == pytest.approx(theirs.end, abs=shift + 1e-6)
            assert ours.confidence == pytest.approx(theirs.confidence, abs=0.25)
            words += 1
            exact += (ours.start, ours.end, ours.confidence) == pytest.approx(
                (theirs.start, theirs.end, theirs.confidence), abs=1e-6
            )
    assert texts >= 35 and exact >= 0.95 * words


def test_word_units_decode_with_timings():
    """One token per word and no space token: each token is a word, timed by its own frame."""
    tokens = Tokenizer.from_words(["yes no"]).tokens  # <blank>, no, yes
    logprobs = spelled(["yes", "no", "no"], tokens)
    greedy = greedy_decode(logprobs, tokens, 0.04)
    decoder = BeamSearchDecoder(tokens, BeamSearchOptions(beam_size=4), frame_shift=0.04)
    best = decoder.decode(logprobs)[0]
    assert best.text == "yes no no" == greedy.text
    assert [(w.word, w.start, w.end) for w in best.words] == [(w.word, w.start, w.end) for w in greedy.words]
    assert [x for w in best.words for x in (w.start, w.end)] == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16, 0.2])
    assert all(w.confidence == pytest.approx(0.9, abs=0.01) for w in best.words + greedy.words)
    state = decoder.begin()
    decoder.step(state, logprobs[:3])
    assert decoder.partial(state).text == "yes no"
    with pytest.raises(ValueError, match="word units"):
        BeamSearchDecoder(tokens, BeamSearchOptions(), lexicon=["yes", "no"])
