#!/usr/bin/env python3
"""Language-model text for the demo: more sentences from the built-in grammar, none of them dev or test.

    python recipes/synth/lm_text.py --exclude data/synth/dev.jsonl data/synth/test.jsonl \\
        --num-sentences 100000 -o exp/synth/lm-text-grammar.txt

The corpus reads 3,500 sentences of `sentences.generate_sentences(seed=0)`; the LM text
draws `--num-sentences` from a stream of another seed, then drops every sentence that is the
transcript of an utterance in an `--exclude` manifest (the dev and test sets), so the LM has
seen the grammar's patterns but never a sentence it is scored on. This is the "in-domain
text" a user with a narrow domain would have: it shows what such text buys, not how the
model does on open English.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from sentences import generate_sentences  # recipes/synth/sentences.py, beside this script

DEFAULT_SEED = 1000  # the corpus uses seed 0; any other seed is another stream


def manifest_texts(paths: Iterable[Path]) -> set[str]:
    """The `text` of every line of the JSON Lines manifests `paths`."""
    texts = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    texts.add(json.loads(line)["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise ValueError(f"{path}:{number}: not a manifest line with a text ({error})") from None
    return texts


def lm_sentences(num: int, seed: int, exclude: set[str]) -> list[str]:
    """The first `num` sentences of the seeded grammar stream that are not in `exclude`."""
    return [s for s in generate_sentences(num, seed) if s not in exclude]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exclude", type=Path, nargs="+", required=True, help="manifests whose sentences the text must not hold")
    parser.add_argument("--num-sentences", type=int, default=100_000, help="sentences drawn before the exclusion (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="(default: %(default)s; the corpus is seed 0)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="text file to write, one sentence a line")
    args = parser.parse_args(argv)
    try:
        exclude = manifest_texts(args.exclude)
        text = lm_sentences(args.num_sentences, args.seed, exclude)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(s + "\n" for s in text), encoding="utf-8")
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")
    print(f"{len(text)} sentences ({args.num_sentences - len(text)} dev/test sentences dropped) -> {args.out}")


if __name__ == "__main__":
    main()
