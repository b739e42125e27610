"""WER per speaker (or per group of speakers) from `asr eval --details`.

    python tools/per_speaker_wer.py data/synth/test.jsonl exp/synth_stream/eval-test-lm.tsv \
        --merge 'espeak-ng:[^+]*\\+' 'espeak-ng+'

joins the details TSV (id, errors, ref_words, ...) with the manifest's `speaker` field and
prints a markdown table of word errors / reference words for each speaker, largest share of
the test words first. `--merge PATTERN REPLACEMENT` rewrites speaker names with `re.sub`
before grouping (above: the 8 espeak-ng accents of one voice variant become one row).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

from asr.data import ManifestError, load_manifest
from report import emit


def per_speaker(manifest: Path, details: Path, merge: tuple[str, str] | None = None) -> list[tuple[str, int, int]]:
    """[(speaker, word errors, reference words)], most reference words first."""
    speakers = {utt.id: utt.speaker or "(no speaker)" for utt in load_manifest(manifest)}
    errors, words = Counter(), Counter()
    with open(details, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not {"id", "errors", "ref_words"} <= set(reader.fieldnames or ()):
            raise ValueError(f"{details}: not an `asr eval --details` TSV (needs the columns id, errors, ref_words)")
        rows = list(reader)
    missing = [row["id"] for row in rows if row["id"] not in speakers]
    if missing:
        raise ValueError(f"{details}: {len(missing)} ids not in {manifest} (first: {missing[0]}): score and manifest differ")
    for row in rows:
        speaker = speakers[row["id"]]
        if merge:
            speaker = re.sub(merge[0], merge[1], speaker)
        errors[speaker] += int(row["errors"])
        words[speaker] += int(row["ref_words"])
    return sorted(((s, errors[s], words[s]) for s in words), key=lambda r: (-r[2], r[0]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", type=Path, help="the manifest that was scored (its `speaker` field)")
    p.add_argument("details", type=Path, help="asr eval --details TSV")
    p.add_argument("--merge", nargs=2, metavar=("PATTERN", "REPLACEMENT"), help="re.sub on speaker names before grouping")
    p.add_argument("--out", type=Path, help="also write the table here")
    args = p.parse_args(argv)
    try:
        rows = per_speaker(args.manifest, args.details, tuple(args.merge) if args.merge else None)
    except (ManifestError, OSError, ValueError) as err:
        print(f"per_speaker_wer: {err}", file=sys.stderr)
        return 1
    total_words = sum(w for _, _, w in rows)
    lines = [f"WER per speaker: `{args.details}` on `{args.manifest}`", "", "| speaker | WER | errors / words | share of test words |", "|---|---|---|---|"]
    lines += [f"| {s} | {100 * e / w:.1f} % | {e} / {w} | {100 * w / total_words:.0f} % |" for s, e, w in rows if w]
    total_errors = sum(e for _, e, _ in rows)
    lines.append(f"| all | {100 * total_errors / max(total_words, 1):.2f} % | {total_errors} / {total_words} | 100 % |")
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
