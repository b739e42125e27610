import json
import math

import pytest
import soundfile
import torch

from asr.audio import AudioError
from asr.checkpoint import CheckpointError, load_checkpoint, restore_model, save_checkpoint
from asr.config import ExperimentConfig, FeatureConfig, ModelConfig, TrainConfig
from asr.data import Batch, BadAudioPolicy, Utterance
from asr.errors import TrainingError
from asr.resume import load_resume_state
from asr.tokenizer import Tokenizer
from asr.train import Trainer, amp_dtype, prepare_data, run_training
from conftest import tone

CONFIG = ExperimentConfig(
    features=FeatureConfig(n_mels=20, speed_perturb=False, specaugment=False),
    model=ModelConfig(conv_channels=4, hidden_size=16, num_layers=1),
    train=TrainConfig(epochs=2, max_batch_seconds=2.0, lr=5e-3, warmup_steps=2, num_workers=0, cmvn_utterances=10),
)


@pytest.fixture
def corpus(tmp_path):
    """Four tiny 'utterances': tones whose pitch spells the transcript."""
    utts = []
    for i, (freq, text) in enumerate([(300, "a"), (900, "b"), (300, "a"), (900, "b")]):
        path = tmp_path / f"u{i}.wav"
        soundfile.write(path, tone(0.6, freq=freq), 16000)
        utts.append(Utterance(f"u{i}", path, 0.6, text))
    return utts


def test_amp_dtype_choice():
    cpu = torch.device("cpu")
    assert amp_dtype("auto", cpu) is None and amp_dtype("fp32", cpu) is None
    assert amp_dtype("bf16", cpu) is torch.bfloat16 and amp_dtype("fp16", cpu) is torch.float16


def test_training_reduces_loss_and_checkpoints_load_weights_only(tmp_path, corpus):
    config = CONFIG.with_overrides({"train.epochs": 6})
    best = run_training(config, corpus, corpus[:2], tmp_path / "exp", torch.device("cpu"))
    log = (tmp_path / "exp" / "train.log").read_text()
    losses = [float(line.split("train loss ")[1].split(",")[0]) for line in log.splitlines() if "train loss" in line]
    assert len(losses) == 6 and losses[-1] < 0.5 * losses[0]
    assert "parameters" in log
    payload = torch.load(best, weights_only=True)  # a model file can never run code
    model, loaded_config, tokenizer, extractor = restore_model(payload)
    assert loaded_config == config and tokenizer.tokens[0] == "<blank>" and extractor.cmvn.mean.shape == (20,)
    assert (tmp_path / "exp" / "last.pt").exists() and (tmp_path / "exp" / "config.yaml").exists()
    records = [json.loads(line) for line in (tmp_path / "exp" / "epochs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5, 6] and all(r["seconds"] > 0 for r in records)
    assert [r["train_loss"] for r in records] == pytest.approx(losses, abs=1e-4)
    assert not list((tmp_path / "exp").glob("epoch*.pt"))  # only with train.save_every_epoch


def test_save_every_epoch_keeps_each_epochs_model(tmp_path, corpus):
    config = CONFIG.with_overrides({"train.save_every_epoch": True})
    best = run_training(config, corpus, corpus[:2], tmp_path / "exp", torch.device("cpu"))
    first, second = (torch.load(tmp_path / "exp" / f"epoch{n}.pt", weights_only=True) for n in (1, 2))
    assert restore_model(first)[1] == config
    last = load_checkpoint(tmp_path / "exp" / "last.pt")["model"]
    assert all(torch.equal(second["model"][k], last[k]) for k in last)
    assert not all(torch.equal(first["model"][k], last[k]) for k in last)
    assert best.exists()


def best_epoch(exp_dir, epochs: int) -> int:
    """Which `epoch{N}.pt` (train.save_every_epoch) `best.pt` holds."""
    best = load_checkpoint(exp_dir / "best.pt")["model"]
    (match,) = [n for n in range(1, epochs + 1)
                if all(torch.equal(best[k], load_checkpoint(exp_dir / f"epoch{n}.pt")["model"][k]) for k in best)]
    return match


@pytest.mark.parametrize("scores, best", [
    # Dev (CER, WER) per epoch, as a young model scores: an empty output is exactly 100 % WER, a
    # model that spells most words slightly wrong scores more. WER alone would keep epoch 1 here.
    ([(0.80, 1.00), (0.55, 1.06), (0.50, 1.02), (0.60, 1.10)], 3),
    # Once an epoch is under 100 % WER, the lowest WER wins (epoch 6 has the lower CER, not WER).
    ([(0.80, 1.00), (0.55, 1.06), (0.50, 1.02), (0.60, 1.10), (0.45, 0.97), (0.40, 0.99)], 5),
])
def test_best_checkpoint_is_the_lowest_wer_or_while_at_100_percent_the_lowest_cer(tmp_path, corpus, monkeypatch, scores, best):
    dev = iter(scores)
    monkeypatch.setattr(Trainer, "evaluate", lambda self, *args: (1.0, *next(dev)))
    config = CONFIG.with_overrides({"train.epochs": len(scores), "train.save_every_epoch": True})
    run_training(config, corpus, corpus[:2], tmp_path / "exp", torch.device("cpu"))
    assert best_epoch(tmp_path / "exp", len(scores)) == best
    state = load_checkpoint(tmp_path / "exp" / "last.pt")
    assert (state["best_cer"], state["best_wer"]) == scores[best - 1]


def test_resume_continues_from_same_state(tmp_path, corpus, monkeypatch):
    straight = tmp_path / "straight"
    run_training(CONFIG, corpus, corpus[:2], straight, torch.device("cpu"))

    # Interrupt a second run during its second epoch, then resume it.
    original, calls = Trainer.train_one_epoch, []

    def crash_on_second_epoch(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *args)

    split = tmp_path / "split"
    monkeypatch.setattr(Trainer, "train_one_epoch", crash_on_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        run_training(CONFIG, corpus, corpus[:2], split, torch.device("cpu"))
    monkeypatch.setattr(Trainer, "train_one_epoch", original)
    assert load_checkpoint(split / "last.pt")["epoch"] == 1
    run_training(CONFIG, corpus, corpus[:2], split, torch.device("cpu"), resume=True)

    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(split / "last.pt")
    assert a["epoch"] == b["epoch"] == 2 and a["step"] == b["step"]
    epochs = [json.loads(line)["epoch"] for line in (split / "epochs.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]  # the resumed run appends, once per epoch
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


def test_non_finite_loss_skips_then_stops(tmp_path, corpus):
    tokenizer = Tokenizer.english()
    from asr.model import AcousticModel
    from asr.features import FeatureExtractor

    model = AcousticModel(20, tokenizer.size, CONFIG.model)
    trainer = Trainer(model, CONFIG, tokenizer, FeatureExtractor(CONFIG.features), torch.device("cpu"), steps_per_epoch=4)
    nan_batch = Batch(["x1", "x2"], torch.full((2, 30, 20), math.nan), torch.tensor([30, 30]), torch.tensor([1, 1]), torch.tensor([1, 1]), [])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingError, match="non-finite"):
        trainer.train_one_epoch([nan_batch] * 10)
    assert trainer.bad_in_a_row == CONFIG.train.max_bad_batches + 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # no update from NaN


def test_bad_checkpoint_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(bad)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)
    torch.save({"something": 1}, bad)
    with pytest.raises(CheckpointError, match="not an asr checkpoint"):
        load_checkpoint(bad)


def test_resume_with_other_settings_names_them(tmp_path, corpus):
    exp = tmp_path / "exp"
    first = CONFIG.with_overrides({"train.epochs": 1})
    run_training(first, corpus, corpus[:2], exp, torch.device("cpu"))
    other = first.with_overrides({"train.lr": 0.01, "model.hidden_size": 8})
    with pytest.raises(TrainingError) as err:
        run_training(other, corpus, corpus[:2], exp, torch.device("cpu"), resume=True)
    message = str(err.value)
    assert "model.hidden_size 16 -> 8, train.lr 0.005 -> 0.01" in message and str(exp / "last.pt") in message
    assert "--" not in message  # a library error names settings, not command-line flags
    # Settings that only change the speed may differ (no epoch is left, so nothing runs).
    assert run_training(first.with_overrides({"train.num_workers": 1}), corpus, corpus[:2], exp, torch.device("cpu"), resume=True).exists()


def test_skipped_files_are_summarised(tmp_path, corpus):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"not audio at all")
    config = CONFIG.with_overrides({"train.epochs": 1, "train.on_bad_audio": "skip"})
    run_training(config, [*corpus, Utterance("bad", corrupt, 0.6, "a")], corpus[:2], tmp_path / "exp", torch.device("cpu"))
    assert "skipped 1 utterance(s) with unreadable audio: bad" in (tmp_path / "exp" / "train.log").read_text()
    with pytest.raises(AudioError, match="corrupt.wav.*utterance bad"):
        run_training(CONFIG, [*corpus, Utterance("bad", corrupt, 0.6, "a")], corpus[:2], tmp_path / "exp2", torch.device("cpu"))


@pytest.fixture
def corpus8(tmp_path):
    """Eight tiny utterances: four batches of two per epoch under a 1.3 s budget."""
    utts = []
    for i in range(8):
        freq, text = (300, "a") if i % 2 else (900, "b")
        path = tmp_path / f"v{i}.wav"
        soundfile.write(path, tone(0.6 + 0.005 * i, freq=freq), 16000)
        utts.append(Utterance(f"v{i}", path, 0.6 + 0.005 * i, text))
    return utts


# Augmented, so that the test also shows each utterance's augmentation survives the resume.
# One torch thread: data-loading workers always compute features with one, and on some CPUs
# (MKL's AVX2 path) a matrix product's last bits depend on the thread count, so features made
# in a worker equal those made by a two-thread main process only to rounding.
MID_EPOCH = CONFIG.with_overrides(
    {"train.epochs": 3, "train.max_batch_seconds": 1.3, "train.checkpoint_every_minutes": 1e-9,
     "features.specaugment": True, "features.speed_perturb": True, "model.dropout": 0.2,
     "train.num_threads": 1}
)  # fmt: skip


@pytest.fixture
def keep_thread_count():
    """Restores torch's thread count, which a run with train.num_threads sets for the process."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_mid_epoch_resume_goes_on_at_the_next_batch(tmp_path, corpus8, monkeypatch, keep_thread_count):
    straight = tmp_path / "straight"
    run_training(MID_EPOCH, corpus8, corpus8[:2], straight, torch.device("cpu"))
    assert load_checkpoint(straight / "last.pt")["batches_done"] == 0  # the epoch-end checkpoint

    original, seen = Trainer._train_step, []

    def crash_in_second_epoch(self, batch, due):
        if len(seen) == 6:  # the third batch of the second epoch
            raise KeyboardInterrupt
        seen.append(batch.ids)
        return original(self, batch, due)

    split = tmp_path / "split"
    monkeypatch.setattr(Trainer, "_train_step", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        run_training(MID_EPOCH, corpus8, corpus8[:2], split, torch.device("cpu"))
    saved = load_checkpoint(split / "last.pt")
    assert (saved["epoch"], saved["batches_done"]) == (1, 2)

    resumed = []

    def record(self, batch, due):
        resumed.append(batch.ids)
        return original(self, batch, due)

    monkeypatch.setattr(Trainer, "_train_step", record)
    # Resumed with data-loading workers: the data and its augmentation do not depend on them.
    run_training(MID_EPOCH.with_overrides({"train.num_workers": 1}), corpus8, corpus8[:2], split, torch.device("cpu"), resume=True)
    second_epoch = seen[4:] + resumed[:2]
    assert sorted(i for ids in second_epoch for i in ids) == sorted(u.id for u in corpus8)  # each utterance once
    assert len(resumed) == 2 + 4
    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(split / "last.pt")
    assert a["step"] == b["step"] == 12
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert "resuming from" in (split / "train.log").read_text() and "batch 3" in (split / "train.log").read_text()


def test_corrupt_last_checkpoint_falls_back_to_the_one_before(tmp_path, corpus, caplog):
    exp = tmp_path / "exp"
    run_training(CONFIG, corpus, corpus[:2], exp, torch.device("cpu"))
    previous = load_checkpoint(exp / "last.prev.pt")
    assert previous["epoch"] == 1
    data = (exp / "last.pt").read_bytes()
    (exp / "last.pt").write_bytes(data[: len(data) // 2])  # a write cut short
    state = load_resume_state(exp / "last.pt", CONFIG)
    assert state["epoch"] == 1
    assert "last.pt: not a loadable checkpoint" in caplog.text and "last.prev.pt" in caplog.text
    # The run goes on from there and finishes its last epoch again.
    run_training(CONFIG, corpus, corpus[:2], exp, torch.device("cpu"), resume=True)
    assert load_checkpoint(exp / "last.pt")["epoch"] == 2
    (exp / "last.pt").unlink()
    (exp / "last.prev.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="last.prev.pt: not a loadable checkpoint"):
        load_resume_state(exp / "last.pt", CONFIG)


def test_checkpoint_write_failure_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def disk_full(obj, file):
        file.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(CheckpointError, match=r"last.pt: could not write the checkpoint .*No space left"):
        save_checkpoint({"model": {}}, tmp_path / "last.pt")
    assert list(tmp_path.iterdir()) == []


def test_init_from_starts_from_the_checkpoint_weights(tmp_path, corpus):
    base = tmp_path / "base"
    run_training(CONFIG, corpus, corpus[:2], base, torch.device("cpu"))
    pretrained = load_checkpoint(base / "best.pt")["model"]
    # lr 0: the weights stay what they started as, so the run's result shows where it started.
    tune = CONFIG.with_overrides({"train.init_from": str(base / "best.pt"), "train.lr": 0.0, "train.epochs": 1, "model.dropout": 0.3})
    run_training(tune, corpus, corpus[:2], tmp_path / "tuned", torch.device("cpu"))
    tuned = load_checkpoint(tmp_path / "tuned" / "best.pt")
    assert all(torch.equal(pretrained[k], v) for k, v in tuned["model"].items())
    assert "starting from the weights of" in (tmp_path / "tuned" / "train.log").read_text()
    # The fine-tuning trains with its own augmentation, on the checkpoint's CMVN statistics.
    augmented = tune.with_overrides({"features.speed_perturb": True, "features.vtlp": [0.9, 1.1]})
    data = prepare_data(augmented, corpus, corpus[:2], BadAudioPolicy("fail"), init_state=load_checkpoint(base / "best.pt"))
    assert data.extractor.config == augmented.features
    assert torch.equal(data.extractor.cmvn.mean, restore_model(load_checkpoint(base / "best.pt"))[3].cmvn.mean)

    # A new output layer for a new vocabulary: the rest still starts from the checkpoint.
    digits = [Utterance(u.id, u.audio, u.duration, "a1" if i % 2 else "b2") for i, u in enumerate(corpus)]
    with pytest.raises(TrainingError, match=r"has no output for '1', '2'.*init_output_layer: new"):
        run_training(tune, digits, digits[:2], tmp_path / "keep", torch.device("cpu"))
    run_training(tune.with_overrides({"train.init_output_layer": "new"}), digits, digits[:2], tmp_path / "new", torch.device("cpu"))
    new = load_checkpoint(tmp_path / "new" / "best.pt")
    assert "1" in new["tokens"] and new["model"]["head.weight"].shape[0] == len(new["tokens"]) != pretrained["head.weight"].shape[0]
    assert all(torch.equal(pretrained[k], v) for k, v in new["model"].items() if not k.startswith("head."))


def test_init_from_names_the_settings_that_differ(tmp_path, corpus):
    base = tmp_path / "base"
    run_training(CONFIG.with_overrides({"train.epochs": 1}), corpus, corpus[:2], base, torch.device("cpu"))
    other = CONFIG.with_overrides({"train.init_from": str(base / "best.pt"), "model.hidden_size": 8, "features.n_mels": 16})
    with pytest.raises(TrainingError, match=r"features.n_mels 20 -> 16, model.hidden_size 16 -> 8"):
        run_training(other, corpus, corpus[:2], tmp_path / "tuned", torch.device("cpu"))
    with pytest.raises(CheckpointError, match="nothing.pt: no such checkpoint"):
        run_training(CONFIG.with_overrides({"train.init_from": str(tmp_path / "nothing.pt")}), corpus, corpus[:2], tmp_path / "x", torch.device("cpu"))


def test_resumes_a_checkpoint_from_before_mid_epoch_positions(tmp_path, corpus):
    exp = tmp_path / "exp"
    run_training(CONFIG, corpus, corpus[:2], exp, torch.device("cpu"))
    state = load_checkpoint(exp / "last.pt")
    state["epoch"] = 1  # as if it had stopped after the first epoch
    (random_state,) = state.pop("random_states")
    for key in ("batches_done", "loss_total", "loss_count"):
        del state[key]
    state.update(torch_rng=random_state["torch"], python_rng=random_state["python"])
    save_checkpoint(state, exp / "last.pt")  # the layout earlier versions wrote
    run_training(CONFIG, corpus, corpus[:2], exp, torch.device("cpu"), resume=True)
    assert load_checkpoint(exp / "last.pt")["epoch"] == 2
