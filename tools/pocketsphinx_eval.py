#!/usr/bin/env python3
"""pocketsphinx 5.1.1 on any manifest, scored like `asr eval`: WER, CER, real-time factor.

    pip install pocketsphinx==5.1.1     # the wheel ships its en-us acoustic model, dictionary and 3-gram LM
    python tools/pocketsphinx_eval.py data/an4/test.jsonl --details exp/an4/pocketsphinx-test.tsv
    python tools/pocketsphinx_eval.py data/an4/test.jsonl --lm exp/an4/lm.arpa   # its decoder with our LM

Each utterance is read with asr.audio (16 kHz mono), decoded in one piece (full-utterance
mode), and its hypothesis goes through the toolkit's transcript normalisation, so both
systems are scored by the same rules (jiwer, errors summed over the corpus). `--lm` gives
pocketsphinx another ARPA LM (its en-us dictionary must know the words). The real-time
factor is decoding time over audio time, one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.audio import SAMPLE_RATE, load  # noqa: E402
from asr.data import load_manifest  # noqa: E402
from asr.scoring import error_rates, utterance_errors  # noqa: E402
from asr.text import normalize_text  # noqa: E402


def decoder(lm: Path | None):
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise SystemExit("pocketsphinx is not installed: pip install pocketsphinx==5.1.1") from None
    options = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
    if lm is not None:
        if not lm.is_file():
            raise SystemExit(f"{lm}: no such LM file")
        options["lm"] = str(lm)
    return Decoder(**options)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("manifest", type=Path)
    p.add_argument("--lm", type=Path, help="an ARPA LM instead of pocketsphinx's en-us 3-gram")
    p.add_argument("--details", type=Path, help="per-utterance TSV, worst first (like asr eval --details)")
    args = p.parse_args()
    utterances = load_manifest(args.manifest)
    ps = decoder(args.lm)
    refs, hyps, spent, audio_seconds = [], [], 0.0, 0.0
    for utt in utterances:
        samples, _ = load(utt.audio)
        pcm = (np.clip(samples.numpy(), -1, 1) * 32767).astype("<i2").tobytes()
        started = time.perf_counter()
        ps.start_utt()
        ps.process_raw(pcm, full_utt=True)
        ps.end_utt()
        hyp = ps.hyp().hypstr if ps.hyp() else ""
        spent += time.perf_counter() - started
        audio_seconds += len(samples) / SAMPLE_RATE
        refs.append(utt.text)
        hyps.append(normalize_text(hyp))
    rates = error_rates(refs, hyps)
    print(f"WER {100 * rates.wer:.2f}% (S {rates.substitutions}, D {rates.deletions}, I {rates.insertions}, of {rates.reference_words} words)")
    print(f"CER {100 * rates.cer:.2f}%")
    print(f"RTF {spent / audio_seconds:.3f} ({len(utterances)} utterances, {audio_seconds / 60:.1f} min; pocketsphinx, "
          f"{'LM ' + str(args.lm) if args.lm else 'its en-us 3-gram'})")  # fmt: skip
    if args.details:
        rows = sorted(zip(utterances, refs, hyps), key=lambda r: -utterance_errors(r[1], r[2]).wer)
        args.details.parent.mkdir(parents=True, exist_ok=True)
        with open(args.details, "w", encoding="utf-8") as out:
            out.write("id\twer\treference\thypothesis\n")
            for utt, ref, hyp in rows:
                out.write(f"{utt.id}\t{100 * utterance_errors(ref, hyp).wer:.1f}\t{ref}\t{hyp}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
