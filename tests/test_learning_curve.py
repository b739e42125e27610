"""tools/learning_curve.py on a tiny run trained with train.save_every_epoch."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile
import torch

from asr.config import ExperimentConfig, FeatureConfig, ModelConfig, TrainConfig
from asr.data import Utterance, write_manifest
from asr.train import run_training
from conftest import load_tool, tone

def _tool():
    return load_tool("learning_curve")


def test_scores_every_epochs_model_against_training_minutes(tmp_path):
    utts = []
    for i, (freq, text) in enumerate([(300, "a"), (900, "b"), (300, "a"), (900, "b")]):
        soundfile.write(tmp_path / f"u{i}.wav", tone(0.6, freq=freq), 16000)
        utts.append(Utterance(f"u{i}", tmp_path / f"u{i}.wav", 0.6, text))
    write_manifest(utts, tmp_path / "test.jsonl")
    config = ExperimentConfig(
        features=FeatureConfig(n_mels=20, speed_perturb=False, specaugment=False),
        model=ModelConfig(conv_channels=4, hidden_size=16, num_layers=1),
        train=TrainConfig(epochs=3, max_batch_seconds=2.0, lr=5e-3, warmup_steps=2, num_workers=0, cmvn_utterances=10, save_every_epoch=True),
    )
    run_training(config, utts, utts[:2], tmp_path / "exp", torch.device("cpu"))
    (tmp_path / "beam.yaml").write_text("decode:\n  decoder: beam\n  beam:\n    beam_size: 4\n")
    tool = _tool()
    out, png = tmp_path / "curve.md", tmp_path / "curve.png"
    argv = [str(tmp_path / "exp"), str(tmp_path / "test.jsonl"), "--config", str(tmp_path / "beam.yaml"), "--out", str(out), "--png", str(png)]
    assert tool.main(argv) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [r.split(" | ")[0] for r in rows] == ["| 1", "| 2", "| 3"]
    minutes = [float(r.split(" | ")[1]) for r in rows]
    assert minutes == sorted(minutes) and "greedy WER | greedy CER | beam WER" in out.read_text()
    assert png.stat().st_size > 1000
    (tmp_path / "epochs.jsonl").write_text('{"epoch": 1, "seconds": 1}\n')  # a run without epoch{N}.pt
    with pytest.raises(SystemExit, match="no epoch"):
        tool.main([str(tmp_path), str(tmp_path / "test.jsonl")])
