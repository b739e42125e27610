import numpy as np
import pytest
import torch

from asr.decode.greedy import GreedyDecoder, greedy_decode
from asr.decode.types import Decoder
from asr.train import greedy_ids
from asr.tokenizer import Tokenizer

TOK = Tokenizer.english()


def _peaky(ids_per_frame, vocab=29, peak=0.9):
    probs = np.full((len(ids_per_frame), vocab), (1 - peak) / (vocab - 1), dtype=np.float32)
    probs[np.arange(len(ids_per_frame)), ids_per_frame] = peak
    return np.log(probs)


def _frames(text_with_blanks):
    """'hh_e_ l' -> ids per frame; '_' is blank."""
    return [0 if ch == "_" else TOK.tokens.index(ch) for ch in text_with_blanks]


def test_greedy_collapses_repeats_and_drops_blanks():
    frames = _frames("__hh_e_ll_l__oo_ _ww_")
    hyp = greedy_decode(_peaky(frames), TOK.tokens, frame_shift=0.04)
    assert hyp.text == "hello w"
    assert TOK.decode(hyp.token_ids) == "hello w"


def test_word_timings_and_confidence():
    frames = _frames("__hi___ __yo_")
    hyp = greedy_decode(_peaky(frames, peak=0.8), TOK.tokens, frame_shift=0.04)
    (hi, yo) = hyp.words
    assert (hi.word, hi.start, hi.end) == ("hi", 0.08, 0.16)
    assert (yo.word, yo.start, yo.end) == ("yo", 0.40, 0.48)
    assert hi.confidence == np.float32(0.8) or abs(hi.confidence - 0.8) < 1e-5


def test_batched_greedy_respects_lengths():
    a, b = _frames("_ab_c"), _frames("cc_b_")
    logprobs = torch.from_numpy(np.stack([_peaky(a), _peaky(b)]))
    ids = greedy_ids(logprobs, torch.tensor([5, 3]))
    assert [TOK.decode(x) for x in ids] == ["abc", "c"]


def test_empty_output():
    hyp = greedy_decode(_peaky(_frames("____")), TOK.tokens, 0.04)
    assert hyp.text == "" and hyp.words == ()


def test_decoders_do_not_import_torch():
    """asr/decode works on numpy arrays: importing every decoder module leaves torch unloaded."""
    import subprocess
    import sys

    code = (
        "import pkgutil, importlib, sys, asr.decode\n"
        "for m in pkgutil.iter_modules(asr.decode.__path__): importlib.import_module('asr.decode.' + m.name)\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "False"


def _random_chunks(n_frames: int, rng: np.random.Generator) -> list[int]:
    bounds = np.sort(rng.choice(np.arange(1, n_frames), size=rng.integers(1, 8), replace=False))
    return np.diff(np.concatenate([[0], bounds, [n_frames]])).tolist()


def test_incremental_equals_one_shot_for_any_chunking():
    """The last token is carried across chunk edges: a repeat split by a chunk edge is still one token."""
    decoder = GreedyDecoder(TOK.tokens, frame_shift=0.04)
    rng = np.random.default_rng(0)
    frames = _frames("__hh_ee_lll_l__oo_ _ww_oo__rr_ll_dd__")
    cases = [_peaky(frames), np.log(rng.dirichlet(np.ones(29) * 0.3, 60)).astype(np.float32)]
    for logprobs in cases:
        (whole,) = decoder.decode(logprobs)
        for sizes in [[1] * len(logprobs), [3], *(_random_chunks(len(logprobs), rng) for _ in range(10))]:
            state, start = decoder.begin(), 0
            for size in sizes * (len(logprobs) // sum(sizes) + 1):
                decoder.step(state, logprobs[start : start + size])
                start += size
            (streamed,) = decoder.end(state)
            assert (streamed.text, streamed.token_ids, streamed.words) == (whole.text, whole.token_ids, whole.words)
            assert streamed.score == pytest.approx(whole.score, abs=1e-3)


def test_partial_shows_the_words_so_far():
    decoder = GreedyDecoder(TOK.tokens, frame_shift=0.04)
    logprobs = _peaky(_frames("_hi_ _th_ere_"))
    state = decoder.step(decoder.begin(), logprobs[:8])
    assert decoder.partial(state).text == "hi th"
    decoder.step(state, logprobs[8:])
    assert decoder.partial(state).text == decoder.end(state)[0].text == "hi there"


def test_both_decoders_have_the_protocol():
    from asr.decode.prefix_beam import BeamSearchDecoder

    for decoder in (GreedyDecoder(TOK.tokens, 0.04), BeamSearchDecoder(TOK.tokens)):
        assert isinstance(decoder, Decoder)
        logprobs = _peaky(_frames("_ab_"))
        state = decoder.step(decoder.begin(), logprobs)
        assert decoder.partial(state).text == decoder.end(state)[0].text == decoder.decode(logprobs)[0].text == "ab"
