"""recipes/*/run.sh and recipes/parse_options.sh: they run with `asr` from any environment on PATH."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asr.config import ExperimentConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PATH = "/usr/bin:/bin"


@pytest.fixture
def tree_without_venv(tmp_path: Path) -> Path:
    """The recipes in a project tree that has no .venv, as a user's checkout with their own environment."""
    shutil.copytree(ROOT / "recipes", tmp_path / "recipes")
    assert not (tmp_path / ".venv").exists()
    return tmp_path


def fake_yesno(folder: Path) -> Path:
    """60 short files named like the yes/no corpus's (tones, not speech: prepare.py only reads them)."""
    waves = folder / "waves_yesno"
    waves.mkdir(parents=True)
    tone = (0.3 * np.sin(np.arange(4000) * 0.3)).astype(np.float32)
    for i in range(60):
        name = "_".join(str((i >> bit) & 1) for bit in range(8))
        soundfile.write(waves / f"{name}_{i}.wav", tone, 8000)
    return folder


def run_recipe(tree: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(tree / "recipes/yesno/run.sh"), *args], cwd=tree, env={"PATH": path}, capture_output=True, text=True, timeout=120
    )


def test_recipe_runs_with_asr_from_any_environment(tree_without_venv, tmp_path):
    env_bin = Path(sys.executable).parent  # an environment that has asr installed, not the tree's .venv
    data = fake_yesno(tmp_path / "corpus")
    result = run_recipe(tree_without_venv, f"{env_bin}:{SYSTEM_PATH}", "--data-dir", str(data), "--stop-stage", "0")
    assert result.returncode == 0, result.stderr
    assert "stage 0" in result.stdout and "31 train" in result.stdout
    assert (tree_without_venv / "data/yesno/train.jsonl").is_file()


def test_recipe_without_asr_says_what_to_do(tree_without_venv):
    result = run_recipe(tree_without_venv, SYSTEM_PATH, "--stop-stage", "0")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'asr' command is not on PATH" in lines[0] and "tools/setup.sh" in lines[0]


def test_unknown_recipe_option_is_an_error(tree_without_venv):
    result = run_recipe(tree_without_venv, SYSTEM_PATH, "--no-such-option", "1")
    assert result.returncode == 2 and "unknown option --no-such-option" in result.stderr


def training_commands(tree: Path, tmp_path: Path, recipe: str, stage: int, *args: str) -> list[str]:
    """The `asr train` lines a recipe's training stage runs, printed by a stand-in `asr`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "asr").write_text(f"#!{sys.executable}\nimport sys\nprint('asr', *sys.argv[1:])\n")
    (bin_dir / "asr").chmod(0o755)
    result = subprocess.run(
        ["bash", str(tree / "recipes" / recipe / "run.sh"), "--stage", str(stage), "--stop-stage", str(stage), *args],
        cwd=tree, env={"PATH": f"{bin_dir}:{SYSTEM_PATH}"}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("asr train")]


@pytest.mark.parametrize("recipe, train_stage", [("yesno", 1), ("fsdd", 2), ("synth", 1), ("an4", 2), ("ljspeech", 2), ("librispeech", 1), ("english", 1)])
def test_every_recipe_passes_a_seed_to_training(tree_without_venv, tmp_path, recipe, train_stage):
    (command,) = training_commands(tree_without_venv, tmp_path, recipe, train_stage, "--seed", "7")
    assert command.endswith("--seed 7")


def test_an4_pretrains_on_tts_then_fine_tunes_from_it(tree_without_venv, tmp_path):
    pretrain, finetune = training_commands(tree_without_venv, tmp_path, "an4", 2, "--tts", "--seed", "3")
    assert "conf/pretrain.yaml" in pretrain and "--train data/an4/tts/train.jsonl" in pretrain and "--exp-dir exp/an4_tts_pretrain" in pretrain
    assert "conf/finetune.yaml" in finetune and "--init-from exp/an4_tts_pretrain/best.pt" in finetune and "--exp-dir exp/an4_tts " in finetune
    assert pretrain.endswith("--seed 3") and finetune.endswith("--seed 3")


def test_ljspeech_pretrains_on_tts_then_fine_tunes_from_it(tree_without_venv, tmp_path):
    (scratch,) = training_commands(tree_without_venv, tmp_path, "ljspeech", 2)
    assert "--train data/ljspeech/train.jsonl" in scratch and scratch.endswith("--exp-dir exp/ljspeech")
    pretrain, finetune = training_commands(tree_without_venv, tmp_path, "ljspeech", 2, "--tts")
    assert "conf/pretrain.yaml" in pretrain and "--train data/ljspeech/tts/train.jsonl" in pretrain
    assert "--init-from exp/ljspeech_tts_pretrain/best.pt" in finetune and "--dev data/ljspeech/dev.jsonl" in finetune


def test_ljspeech_pretrains_on_other_corpora_then_fine_tunes_from_it(tree_without_venv, tmp_path):
    pretrain, finetune = training_commands(tree_without_venv, tmp_path, "ljspeech", 2, "--librispeech-dir", "x", "--an4-dir", "y")
    assert "conf/pretrain_real.yaml" in pretrain and "--train data/ljspeech/pretrain_real/train.jsonl" in pretrain
    assert "--dev data/ljspeech/dev.jsonl" in pretrain and "--exp-dir exp/ljspeech_real_pretrain" in pretrain
    assert "conf/finetune_real.yaml" in finetune and "--init-from exp/ljspeech_real_pretrain/best.pt" in finetune
    assert "--train data/ljspeech/train.jsonl" in finetune and "--exp-dir exp/ljspeech_real" in finetune
    both = subprocess.run(["bash", "recipes/ljspeech/run.sh", "--tts", "--an4-dir", "y"], cwd=tree_without_venv,
                          env={"PATH": f"{tmp_path / 'bin'}:{SYSTEM_PATH}"}, capture_output=True, text=True, timeout=60)
    assert both.returncode == 2 and "choose one" in both.stderr and both.stdout == ""


def test_ljspeech_fine_tunes_the_english_model_with_its_settings(tree_without_venv, tmp_path):
    model = tmp_path / "english.pt"
    model.write_bytes(b"")
    (command,) = training_commands(tree_without_venv, tmp_path, "ljspeech", 2, "--init-from", str(model))
    assert f"--config recipes/ljspeech/conf/finetune_english.yaml --init-from {model}" in command
    assert "--train data/ljspeech/train.jsonl" in command and command.endswith("--exp-dir exp/ljspeech_ft")
    for args, message in (((str(tmp_path / "none.pt"),), "no such checkpoint"), ((str(model), "--tts"), "drop --tts")):
        result = subprocess.run(["bash", "recipes/ljspeech/run.sh", "--stage", "2", "--init-from", *args], cwd=tree_without_venv,
                                env={"PATH": f"{tmp_path / 'bin'}:{SYSTEM_PATH}"}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_demo_trains_phones_and_letters_on_request(tree_without_venv, tmp_path):
    (phones,) = training_commands(tree_without_venv, tmp_path, "synth", 1, "--streaming")
    assert "--units" not in phones and "--exp-dir exp/synth_stream " in phones + " "  # conf/train.yaml says units: phone
    (letters,) = training_commands(tree_without_venv, tmp_path, "synth", 1, "--streaming", "--letters")
    assert "--units char" in letters and "--exp-dir exp/synth_stream_letters" in letters


def test_english_trains_phones_on_request(tree_without_venv, tmp_path):
    (command,) = training_commands(tree_without_venv, tmp_path, "english", 1, "--phones")
    assert command.endswith("--exp-dir exp/english_phones --config recipes/english/conf/phones.yaml")  # units: phone


def test_ljspeech_trains_phones_from_scratch_or_a_phone_model(tree_without_venv, tmp_path):
    (command,) = training_commands(tree_without_venv, tmp_path, "ljspeech", 2, "--phones")
    assert "--units phone" in command and "--train data/ljspeech/train.jsonl" in command and command.endswith("--exp-dir exp/ljspeech_phones")
    model = tmp_path / "english_phones.pt"
    model.write_bytes(b"")
    (tuned,) = training_commands(tree_without_venv, tmp_path, "ljspeech", 2, "--phones", "--init-from", str(model))
    assert f"--init-from {model} --units phone" in tuned and tuned.endswith("--exp-dir exp/ljspeech_ft_phones")
    result = subprocess.run(["bash", "recipes/ljspeech/run.sh", "--stage", "2", "--phones", "--tts"], cwd=tree_without_venv,
                            env={"PATH": f"{tmp_path / 'bin'}:{SYSTEM_PATH}"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "drop --tts" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("recipe, configs", [
    ("ljspeech", ("train.yaml", "finetune_english.yaml")),
    ("librispeech", ("train.yaml", "finetune_english.yaml")),
    ("fsdd", ("finetune_english.yaml",)),
])
def test_fine_tuning_configs_keep_the_english_models_settings(recipe, configs):
    """--init-from refuses weights whose feature or model settings differ: the recipes' configs must match."""
    from asr.config import load_config
    from asr.resume import FEATURE_SETTINGS

    english = load_config(ROOT / "recipes/english/conf/train.yaml")
    config = None
    for name in configs:
        config = load_config(ROOT / "recipes" / recipe / "conf" / name, config)
    assert config.model == english.model
    for key in FEATURE_SETTINGS:
        name = key.removeprefix("features.")
        assert getattr(config.features, name) == getattr(english.features, name), key


def test_librispeech_pretrains_on_tts_then_fine_tunes_from_it(tree_without_venv, tmp_path):
    pretrain, finetune = training_commands(tree_without_venv, tmp_path, "librispeech", 1, "--tts", "--seed", "2")
    assert "conf/pretrain.yaml" in pretrain and "--train data/librispeech/tts/train.jsonl" in pretrain
    assert "--exp-dir exp/librispeech_tts_pretrain" in pretrain and "--dev data/librispeech/dev.jsonl" in pretrain
    assert "conf/finetune.yaml" in finetune and "--init-from exp/librispeech_tts_pretrain/best.pt" in finetune
    assert "--exp-dir exp/librispeech_tts " in finetune and finetune.endswith("--seed 2")
    (full, _) = training_commands(tree_without_venv, tmp_path, "librispeech", 1, "--tts", "--full")
    assert "--exp-dir exp/librispeech_eesen_tts_pretrain" in full and "--train data/librispeech_full/tts/train.jsonl" in full


def test_librispeech_pretrains_on_other_corpora_then_fine_tunes_from_it(tree_without_venv, tmp_path):
    pretrain, finetune = training_commands(tree_without_venv, tmp_path, "librispeech", 1, "--ljspeech-dir", "x")
    assert "conf/pretrain_real.yaml" in pretrain and "--train data/librispeech/pretrain_real/train.jsonl" in pretrain
    assert "--dev data/librispeech/dev.jsonl" in pretrain and "--exp-dir exp/librispeech_real_pretrain" in pretrain
    assert "conf/finetune_real.yaml" in finetune and "--init-from exp/librispeech_real_pretrain/best.pt" in finetune
    assert "--train data/librispeech/train.jsonl" in finetune and "--exp-dir exp/librispeech_real" in finetune


def test_librispeech_fine_tunes_the_english_model_with_its_settings(tree_without_venv, tmp_path):
    model = tmp_path / "english.pt"
    model.write_bytes(b"")
    (command,) = training_commands(tree_without_venv, tmp_path, "librispeech", 1, "--init-from", str(model))
    assert f"--config recipes/librispeech/conf/train.yaml --config recipes/librispeech/conf/finetune_english.yaml --init-from {model}" in command
    assert "--train data/librispeech/train.jsonl" in command and command.endswith("--exp-dir exp/librispeech_ft")
    for args, message in (((str(tmp_path / "none.pt"),), "no such checkpoint"), ((str(model), "--full"), "drop --tts")):
        result = subprocess.run(["bash", "recipes/librispeech/run.sh", "--stage", "1", "--init-from", *args], cwd=tree_without_venv,
                                env={"PATH": f"{tmp_path / 'bin'}:{SYSTEM_PATH}"}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_librispeech_full_trains_the_chosen_size_on_the_standard_split(tree_without_venv, tmp_path):
    (mini,) = training_commands(tree_without_venv, tmp_path, "librispeech", 1)
    assert "--train data/librispeech/train.jsonl" in mini and mini.endswith("--exp-dir exp/librispeech")
    (full,) = training_commands(tree_without_venv, tmp_path, "librispeech", 1, "--full", "--size", "large")
    assert "conf/train.yaml --config recipes/librispeech/conf/large.yaml" in full
    assert "--train data/librispeech_full/train.jsonl --dev data/librispeech_full/dev.jsonl" in full and full.endswith("exp/librispeech_large")


def test_fsdd_with_an4_trains_on_the_joined_manifest(tree_without_venv, tmp_path):
    (command,) = training_commands(tree_without_venv, tmp_path, "fsdd", 2, "--an4-dir", "somewhere/an4")
    assert "--train data/fsdd/train_an4.jsonl" in command and "--exp-dir exp/fsdd_tts_an4" in command
    assert "--config recipes/fsdd/conf/an4.yaml" in command


def test_fsdd_fine_tunes_the_english_model_with_its_settings(tree_without_venv, tmp_path):
    model = tmp_path / "english.pt"
    model.write_bytes(b"")
    (command,) = training_commands(tree_without_venv, tmp_path, "fsdd", 2, "--an4-dir", "somewhere/an4", "--init-from", str(model))
    assert f"--config recipes/fsdd/conf/finetune_english.yaml --init-from {model}" in command
    assert "conf/train.yaml" not in command and "--train data/fsdd/train_an4.jsonl" in command and "--exp-dir exp/fsdd_tts_an4_ft" in command
    for args, message in (((str(tmp_path / "none.pt"),), "no such checkpoint"), ((str(model), "--streaming"), "drop --streaming")):
        result = subprocess.run(["bash", "recipes/fsdd/run.sh", "--stage", "2", "--init-from", *args], cwd=tree_without_venv,
                                env={"PATH": f"{tmp_path / 'bin'}:{SYSTEM_PATH}"}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_fsdd_extended_voices_keep_their_own_data_and_exp_dirs(tree_without_venv, tmp_path):
    # The synthesiser refuses two voice sets in one folder, so the extended set must not reuse data/fsdd.
    (command,) = training_commands(tree_without_venv, tmp_path, "fsdd", 2, "--an4-dir", "somewhere/an4", "--tts-voice-set", "extended")
    assert "--train data/fsdd_ext/train_an4.jsonl --dev data/fsdd_ext/dev.jsonl" in command
    assert "--exp-dir exp/fsdd_tts_an4_ext" in command


def test_an4_streaming_trains_the_unidirectional_config(tree_without_venv, tmp_path):
    (command,) = training_commands(tree_without_venv, tmp_path, "an4", 2, "--streaming")
    assert "conf/train.yaml --config recipes/an4/conf/stream.yaml" in command and "--exp-dir exp/an4_stream" in command


def test_english_trains_on_the_pool_and_scores_every_corpus(tree_without_venv, tmp_path):
    (command,) = training_commands(tree_without_venv, tmp_path, "english", 1)
    assert "--config recipes/english/conf/train.yaml --train data/english/train.jsonl --dev data/english/dev.jsonl" in command
    assert command.endswith("--exp-dir exp/english")
    script = (tree_without_venv / "recipes/english/run.sh").read_text()
    assert 'tests="an4 librispeech ljspeech fsdd tts"' in script


def test_demo_and_english_recipe_synthesise_data_synth_alike():
    # Both write data/synth, and the synthesiser refuses a folder made with other settings: a
    # user who ran the demo first must be able to run the english recipe, and the other way round.
    def synth_options(recipe: str, marker: str) -> list[str]:
        (line,) = [line for line in (ROOT / "recipes" / recipe / "run.sh").read_text().splitlines() if marker in line]
        words = line.split()
        del words[words.index("--out-dir") : words.index("--out-dir") + 2]
        return words[words.index(next(w for w in words if w.endswith("prepare.py"))) + 1 :]

    demo = synth_options("synth", "$here/prepare.py")
    assert demo == synth_options("english", "recipes/synth/prepare.py")
    assert "--rms-in-training" in demo


@pytest.mark.parametrize("path", sorted(ROOT.glob("recipes/*/conf/*.yaml")), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_recipe_config_applies_over_the_defaults(path):
    assert isinstance(load_config(path, ExperimentConfig()), ExperimentConfig)  # unknown keys or bad values raise
