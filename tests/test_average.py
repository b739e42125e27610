"""asr/average.py and `asr average`: the mean of a run's epoch checkpoints, refusals for mixed runs."""

import dataclasses

import pytest
import torch

from asr.average import average_checkpoints, epoch_checkpoints
from asr.checkpoint import CheckpointError, load_checkpoint, model_payload, restore_model, save_checkpoint
from asr.cli import main
from asr.features import Cmvn, FeatureExtractor
from asr.model import AcousticModel
from asr.tokenizer import Tokenizer
from conftest import TINY_CONFIG


def save_epochs(exp_dir, seeds, config=TINY_CONFIG, cmvn=None):
    """epoch{N}.pt for N = 1.. with models initialised from `seeds`; returns their state dicts."""
    tokenizer, states = Tokenizer.english(), []
    for epoch, seed in enumerate(seeds, start=1):
        torch.manual_seed(seed)
        model = AcousticModel(config.features.n_mels, tokenizer.size, config.model)
        save_checkpoint(model_payload(model, config, tokenizer, FeatureExtractor(config.features, cmvn)), exp_dir / f"epoch{epoch}.pt")
        states.append(model.state_dict())
    return states


def test_average_is_the_elementwise_mean_and_restores(tmp_path):
    states = save_epochs(tmp_path, [1, 2, 3])
    payload = average_checkpoints([tmp_path / f"epoch{n}.pt" for n in (1, 2, 3)])
    for name, tensor in payload["model"].items():
        if tensor.is_floating_point():
            torch.testing.assert_close(tensor, (states[0][name] + states[1][name] + states[2][name]) / 3)
    assert payload["averaged_from"] == ["epoch1.pt", "epoch2.pt", "epoch3.pt"]
    model, config, tokenizer, _ = restore_model(payload)  # a usable model, same settings
    assert config.model == TINY_CONFIG.model and tokenizer.size == Tokenizer.english().size


def test_average_of_one_checkpoint_is_that_checkpoint(tmp_path):
    states = save_epochs(tmp_path, [5])
    payload = average_checkpoints([tmp_path / "epoch1.pt"])
    for name, tensor in states[0].items():
        assert torch.equal(payload["model"][name], tensor)


def test_epoch_checkpoints_picks_the_newest_in_number_order(tmp_path):
    save_epochs(tmp_path, range(11))  # epoch1 .. epoch11: "epoch10" sorts before "epoch2" as text
    (tmp_path / "epoch_notes.pt").write_text("not a checkpoint")
    assert [p.name for p in epoch_checkpoints(tmp_path, 3)] == ["epoch9.pt", "epoch10.pt", "epoch11.pt"]
    with pytest.raises(CheckpointError, match="11 epoch checkpoints.*12 asked for.*train.save_every_epoch"):
        epoch_checkpoints(tmp_path, 12)
    with pytest.raises(CheckpointError, match="at least 1"):
        epoch_checkpoints(tmp_path, 0)


def test_refuses_checkpoints_of_different_runs(tmp_path):
    save_epochs(tmp_path / "a", [1])
    wider = dataclasses.replace(TINY_CONFIG, model=dataclasses.replace(TINY_CONFIG.model, hidden_size=24))
    save_epochs(tmp_path / "b", [1], config=wider)
    with pytest.raises(CheckpointError, match=r"b/epoch1.pt: its model settings differ"):
        average_checkpoints([tmp_path / "a" / "epoch1.pt", tmp_path / "b" / "epoch1.pt"])
    n_mels = TINY_CONFIG.features.n_mels
    save_epochs(tmp_path / "c", [1], cmvn=Cmvn(torch.ones(n_mels), torch.ones(n_mels)))
    with pytest.raises(CheckpointError, match=r"c/epoch1.pt: its CMVN statistics differ"):
        average_checkpoints([tmp_path / "a" / "epoch1.pt", tmp_path / "c" / "epoch1.pt"])
    save_checkpoint({"config": {}}, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match=r"odd.pt: not a model checkpoint \(no cmvn_mean"):
        average_checkpoints([tmp_path / "a" / "epoch1.pt", tmp_path / "odd.pt"])


def test_cli_average_last_epochs_then_transcribe(tmp_path, capsys, wav_file):
    save_epochs(tmp_path, [1, 2, 3, 4])
    out = tmp_path / "avg.pt"
    assert main(["average", str(tmp_path), "--last", "2", "-o", str(out)]) == 0
    assert "the mean of" in capsys.readouterr().out
    assert load_checkpoint(out)["averaged_from"] == ["epoch3.pt", "epoch4.pt"]
    assert main(["transcribe", str(out), str(wav_file)]) == 0  # the averaged file is a model like any other
    capsys.readouterr()
    assert main(["average", str(tmp_path / "epoch1.pt"), str(tmp_path / "epoch2.pt"), "-o", str(out)]) == 0
    assert load_checkpoint(out)["averaged_from"] == ["epoch1.pt", "epoch2.pt"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--last", "9"], "9 asked for"),
        (["EXTRA", "--last", "2"], "--last takes exactly one experiment folder"),
        ([], "is a folder: give checkpoint files"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, capsys, argv, message):
    save_epochs(tmp_path, [1, 2])
    argv = [str(tmp_path / "epoch1.pt") if a == "EXTRA" else a for a in argv]
    assert main(["average", str(tmp_path), *argv, "-o", str(tmp_path / "avg.pt")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
