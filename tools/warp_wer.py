#!/usr/bin/env python3
"""Greedy WER per speaker with the test audio read through vocal tract length warps.

    python tools/warp_wer.py exp/synth_stream/best.pt data/synth/test.jsonl \\
        --warps 0.8 0.9 1.0 1.1 1.2 --merge 'espeak-ng:[^+]*\\+' 'espeak-ng+'

A diagnosis of why a model fails on some voices (as in vocal tract length normalisation, Lee &
Rose 1996): each utterance's filterbank reads its spectrum with the frequencies scaled by each
warp (`asr.features.vtlp_frequencies`; below 1 moves formants down, a woman's voice towards a
man's). If a voice's WER falls far at some warp, its distance from the training voices is
mostly vocal tract length, which `features.vtlp` in training or a per-speaker warp at test time
could bridge; if it does not, the mismatch is something else. The last column takes, for each
utterance, the warp with the most confident posteriors (the mean over frames of the largest
log-posterior), which needs no transcript. `--merge PATTERN REPLACEMENT` groups speakers as in
tools/per_speaker_wer.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.config import DecodeConfig  # noqa: E402
from asr.data import BadAudioPolicy, ManifestError, load_manifest, read_audio  # noqa: E402
from asr.scoring import error_rates  # noqa: E402
from report import emit  # noqa: E402


def warp_hypotheses(model_path: Path, manifest: Path, warps: list[float]) -> tuple[list, dict, dict]:
    """(utterances, {(id, warp): greedy text}, {(id, warp): mean largest log-posterior})."""
    from asr.transcribe import load_model

    model = load_model(model_path, "cpu")
    decoder = model.decoder(DecodeConfig())
    utterances = load_manifest(manifest)
    texts, confidence = {}, {}
    for utt, samples in read_audio(utterances, BadAudioPolicy("fail")):
        for warp in warps:
            logprobs = model.logprobs(samples, warp)
            texts[utt.id, warp] = decoder.decode(logprobs)[0].text if len(logprobs) else ""
            confidence[utt.id, warp] = float(logprobs.max(-1).mean()) if len(logprobs) else float("-inf")
    return utterances, texts, confidence


def table(utterances: list, texts: dict, confidence: dict, warps: list[float], merge: tuple[str, str] | None) -> list[str]:
    groups: dict[str, list] = defaultdict(list)
    for utt in utterances:
        speaker = utt.speaker or "(no speaker)"
        groups[re.sub(merge[0], merge[1], speaker) if merge else speaker].append(utt)
    rows = sorted(groups.items(), key=lambda g: (-sum(len(u.text.split()) for u in g[1]), g[0])) + [("all", utterances)]
    lines = ["| speaker | words | " + " | ".join(f"warp {w:g}" for w in warps) + " | most confident warp |"]
    lines.append("|---|---|" + "---|" * (len(warps) + 1))
    for name, utts in rows:
        refs = [u.text for u in utts]
        cells = [f"{100 * error_rates(refs, [texts[u.id, w] for u in utts]).wer:.1f} %" for w in warps]
        chosen = [texts[u.id, max(warps, key=lambda w: confidence[u.id, w])] for u in utts]
        cells.append(f"{100 * error_rates(refs, chosen).wer:.1f} %")
        lines.append(f"| {name} | {sum(len(r.split()) for r in refs)} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="checkpoint")
    p.add_argument("manifest", type=Path, help="test manifest (its `speaker` field groups the rows)")
    p.add_argument("--warps", type=float, nargs="+", default=[0.8, 0.9, 1.0, 1.1, 1.2], help="warp factors (default: %(default)s)")
    p.add_argument("--merge", nargs=2, metavar=("PATTERN", "REPLACEMENT"), help="re.sub on speaker names before grouping")
    p.add_argument("--out", type=Path, help="also write the table here")
    args = p.parse_args(argv)
    if not all(0.5 <= w <= 2.0 for w in args.warps):
        p.error("--warps must lie in [0.5, 2]")
    try:
        utterances, texts, confidence = warp_hypotheses(args.model, args.manifest, args.warps)
    except (ManifestError, OSError, ValueError) as err:
        print(f"warp_wer: {err}", file=sys.stderr)
        return 1
    title = f"Greedy WER per speaker, the audio read through vocal tract length warps: `{args.model}` on `{args.manifest}`"
    emit([title, ""] + table(utterances, texts, confidence, args.warps, tuple(args.merge) if args.merge else None), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
