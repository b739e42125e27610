"""`asr tune-lm`: grid-search the LM weight (alpha) and word bonus (beta) of the beam search on a dev manifest.

Log-probs are computed once; each (alpha, beta) only re-runs the search, on several threads
(the beam kernels release the GIL). `-o` writes the best decode section as YAML for `--config`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from asr.cli.decode import add_bad_audio_argument, load_model_and_decoder
from asr.cli.flags import UsageError, add_config_flags, add_model_arguments
from asr.config import GREEDY, BeamSearchOptions, DecodeConfig, save_config
from asr.data import BadAudioPolicy, load_manifest, read_audio
from asr.scoring import error_rates

TUNE_ALPHAS = "0,0.25,0.5,0.75,1,1.5,2"  # the default grid: LM weights
TUNE_BETAS = "-1,0,1,2,3"  # word-insertion bonus, natural log
NOT_TUNED = ("alpha", "beta", "nbest")
log = logging.getLogger("asr")


def add_parsers(commands) -> None:
    p = commands.add_parser("tune-lm", help="grid-search the LM weight (alpha) and word bonus (beta) on a dev manifest")
    add_model_arguments(p)
    p.add_argument("manifest", type=Path)
    p.add_argument("--alphas", default=TUNE_ALPHAS, help="comma-separated LM weights (default: %(default)s)")
    p.add_argument("--betas", default=TUNE_BETAS, help="comma-separated word bonuses (default: %(default)s)")
    p.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1), help="decoding threads (default: %(default)s)")
    p.add_argument("-o", "--output", type=Path, metavar="YAML", help="write the best decode section here (for --config)")
    add_bad_audio_argument(p)
    exclude = ("decode.decoder", *(f"decode.beam.{name}" for name in NOT_TUNED))
    add_config_flags(p, ("decode",), exclude=exclude, required=("decode.lm",))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    alphas, betas = _float_list(args.alphas, "--alphas"), _float_list(args.betas, "--betas")
    model, config, decoder = load_model_and_decoder(args)  # --lm is required, so this is the beam search
    grid = [[_with_weights(config.decode.beam, a, b) for b in betas] for a in alphas]
    samples = list(read_audio(load_manifest(args.manifest), BadAudioPolicy(args.on_bad_audio)))
    if not samples:
        raise UsageError(f"{args.manifest}: no readable utterances")
    references, logprobs = [u.text for u, _ in samples], [model.logprobs(x) for _, x in samples]
    greedy = model.decoder(DecodeConfig(decoder=GREEDY)).decode_batch(logprobs)  # spelled back in words for a phone model
    greedy_rates = error_rates(references, [h[0].text for h in greedy])
    wer = np.array([[_sweep_wer(decoder.with_options(o), logprobs, references, args.threads) for o in row] for row in grid])
    print(f"decoder {config.decode.describe(omit=NOT_TUNED)}")
    print(f"utterances {len(samples)}  words {greedy_rates.reference_words}  greedy WER {100 * greedy_rates.wer:.2f}%")
    print(_wer_table(wer, alphas, betas))
    i, j = np.unravel_index(np.argmin(wer), wer.shape)  # ties: the first in grid order
    print(f"best: --alpha {alphas[i]:g} --beta {betas[j]:g}  WER {100 * wer[i, j]:.2f}%")
    if args.output:
        best = dataclasses.replace(config, decode=dataclasses.replace(config.decode, beam=grid[i][j]))
        save_config(best, args.output, sections=("decode",))
        print(f"decode config: {args.output}")
    return 0


def _sweep_wer(decoder, logprobs: Sequence[np.ndarray], references: Sequence[str], threads: int) -> float:
    """WER of one grid point; the beam kernels release the GIL, so the threads decode in parallel."""
    started = time.perf_counter()
    hyps = decoder.decode_batch(logprobs, num_threads=threads)
    wer = error_rates(references, [h[0].text for h in hyps]).wer
    o = decoder.options
    log.info("alpha %g beta %g: WER %.2f%% (%.1f s)", o.alpha, o.beta, 100 * wer, time.perf_counter() - started)
    return wer


def _float_list(text: str, flag: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected comma-separated numbers, e.g. 0,0.5,1") from None
    if not values:
        raise UsageError(f"{flag}: no values given")
    return values


def _with_weights(options: BeamSearchOptions, alpha: float, beta: float) -> BeamSearchOptions:
    try:
        return dataclasses.replace(options, alpha=alpha, beta=beta)
    except ValueError as err:
        raise UsageError(f"alpha {alpha:g}, beta {beta:g}: {err}") from None


def _wer_table(wer: np.ndarray, alphas: Sequence[float], betas: Sequence[float]) -> str:
    """WER (%) with a row per alpha and a column per beta."""
    lines = ["WER %       " + "".join(f"{f'beta {b:g}':>10}" for b in betas)]
    for alpha, row in zip(alphas, wer):
        lines.append(f"{f'alpha {alpha:g}':<12}" + "".join(f"{100 * w:>10.2f}" for w in row))
    return "\n".join(lines)
