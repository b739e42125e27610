#!/usr/bin/env python3
"""Effect of each beam-search pruning knob on speed and WER, one knob at a time.

Reuses the log-probs and LM that `tools/bench_decode.py` cached (run it first), decodes
every utterance single-threaded with our Numba prefix beam search, and varies one
`BeamSearchOptions` field at a time around a baseline; times are best of 3 passes and
ratios are against the baseline measured in the same run.

    python tools/bench_pruning.py --logprobs data/bench/ljspeech_399ddafe.npz \
        --lm data/bench/ljspeech_lm3.arpa --out benchmarks/pruning_ljspeech.md
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decode import load_logprobs  # noqa: E402

from asr.decode.lm import NgramLM  # noqa: E402
from asr.decode.prefix_beam import BeamSearchDecoder, BeamSearchOptions  # noqa: E402
from asr.scoring import error_rates  # noqa: E402

BASELINE = BeamSearchOptions(beam_size=32, token_topk=8, token_min_logprob=-10.0, beam_threshold=20.0, blank_skip_threshold=1.0)
SWEEPS = {
    "beam_size": [8, 16, 32, 64, 128],
    "token_topk": [2, 4, 8, 16, 29],
    "token_min_logprob": [-3.0, -5.0, -10.0, -20.0],
    "beam_threshold": [5.0, 10.0, 20.0, 40.0],
    "blank_skip_threshold": [0.9, 0.99, 0.999, 1.0],
}


def measure(decoder: BeamSearchDecoder, logprobs: list, passes: int = 3) -> tuple[float, list[str]]:
    """(best ms per utterance over `passes`, best texts)."""
    best, texts = float("inf"), []
    for _ in range(passes):
        started = time.perf_counter()
        texts = [decoder.decode(lp)[0].text for lp in logprobs]
        best = min(best, (time.perf_counter() - started) * 1000 / len(logprobs))
    return best, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logprobs", type=Path, required=True, help=".npz cached by tools/bench_decode.py")
    parser.add_argument("--lm", type=Path, required=True, help="word ARPA")
    parser.add_argument("--out", type=Path, help="write the markdown table here too")
    args = parser.parse_args()
    tokens, _, refs, frame_shift, logprobs = load_logprobs(args.logprobs)
    lm = NgramLM.load(args.lm)
    decoder = BeamSearchDecoder(tokens, BASELINE, lm=lm, frame_shift=frame_shift)
    measure(decoder, logprobs, passes=1)  # JIT compile / cache load and warm caches outside the timings
    base_ms, base_texts = measure(decoder, logprobs, passes=5)
    rows = ["| knob | value | ms/utt | time / baseline | WER |", "|---|---:|---:|---:|---:|"]
    for knob, values in SWEEPS.items():
        for value in values:
            options = dataclasses.replace(BASELINE, **{knob: value})
            ms, texts = (base_ms, base_texts) if options == BASELINE else measure(decoder.with_options(options), logprobs)
            mark = " (baseline)" if options == BASELINE else ""
            rows.append(f"| {knob} | {value}{mark} | {ms:.3f} | {ms / base_ms:.2f} | {error_rates(refs, texts).wer:.4f} |")
    threads = []
    for n in (1, 2, 4):
        started = time.perf_counter()
        decoder.decode_batch(logprobs, num_threads=n)
        threads.append(f"{n} thread(s) {(time.perf_counter() - started) * 1000 / len(logprobs):.3f} ms/utt")
    frames = sum(len(lp) for lp in logprobs) / len(logprobs)
    text = "\n".join(rows) + (
        f"\n\n{len(logprobs)} utterances, {frames:.0f} frames each on average; baseline {BASELINE}; "
        f"LM {args.lm.name}, alpha {BASELINE.alpha}, beta {BASELINE.beta}; one thread, best of 3 passes.\n"
        f"\ndecode_batch at the baseline (kernels release the GIL; {os.cpu_count()} cores): {'; '.join(threads)}.\n"
    )
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
