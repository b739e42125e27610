"""Compile the decoder's Numba kernels ahead of first use: `python -m asr.decode.warmup`.

The kernels are `@njit(cache=True)`: compiled once, the machine code is kept in
`__pycache__` next to their source and later processes load it in well under a second.
On an empty cache the first beam-search decode pays the whole compile (about 20-30 s on
2 cores), so `tools/setup.sh` runs this once after installing. Every path a user can
reach is driven once: one-shot and incremental decoding, with and without an LM,
lexicon and hotwords, tree compaction and growth, and the LM's own kernels.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from asr.decode import prefix_beam_kernels as k
from asr.decode.lm import NgramLM
from asr.decode.lm_build import build_arpa
from asr.decode.prefix_beam import FRAMES_PER_CALL, BeamSearchDecoder, BeamSearchOptions

TOKENS = ("<blank>", " ", "a", "b", "c")
WORDS = ("ab", "ba", "cab")


def compile_kernels() -> float:
    """Run every kernel once on tiny inputs; returns the seconds it took (compile or cache load)."""
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    frames = FRAMES_PER_CALL + 8  # more than one kernel call, so the incremental path compacts its tree
    logprobs = np.log(rng.dirichlet(np.ones(len(TOKENS)), frames)).astype(np.float32)
    lm = NgramLM.from_arpa_text(build_arpa([" ".join(WORDS), "ab ba"], order=2))
    lm.score_sentence("ab cab")
    lm.score_word(lm.initial_state(), "ab")
    options = BeamSearchOptions(beam_size=4, nbest=2)
    for decoder in (
        BeamSearchDecoder(TOKENS, options),
        BeamSearchDecoder(TOKENS, options, lm=lm, lexicon=WORDS, hotwords={"cab": 2.0}),
    ):
        decoder.decode(logprobs)
        state = decoder.begin()
        for chunk in np.array_split(logprobs, 3):
            decoder.step(state, chunk)
            decoder.partial(state)
        k.compact(state.tree, state.n_nodes, state.beam_node, state.n_beam)
        decoder.end(state)
    k.grow_tree(k.new_tree(8, lm.state_size), 16)
    return time.perf_counter() - started


def main() -> int:
    seconds = compile_kernels()
    print(f"decoder kernels ready ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
