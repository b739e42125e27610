"""tools/warp_wer.py on a tiny model: per-speaker greedy WER at each warp."""

from __future__ import annotations

import pytest
import soundfile
import torch

from asr.config import ExperimentConfig, FeatureConfig, ModelConfig, TrainConfig
from asr.data import Utterance, write_manifest
from asr.scoring import error_rates
from asr.train import run_training
from asr.transcribe import load_model
from conftest import load_tool, tone


def test_one_column_per_warp_and_warp_one_is_the_plain_greedy_wer(tmp_path):
    utts = []
    for i, (freq, text, speaker) in enumerate([(300, "a", "x+1"), (900, "b", "x+2"), (300, "a", "y"), (900, "b", "y")]):
        soundfile.write(tmp_path / f"u{i}.wav", tone(0.6, freq=freq), 16000)
        utts.append(Utterance(f"u{i}", tmp_path / f"u{i}.wav", 0.6, text, speaker))
    write_manifest(utts, tmp_path / "test.jsonl")
    config = ExperimentConfig(
        features=FeatureConfig(n_mels=20, speed_perturb=False, specaugment=False),
        model=ModelConfig(conv_channels=4, hidden_size=16, num_layers=1),
        train=TrainConfig(epochs=2, max_batch_seconds=2.0, lr=5e-3, warmup_steps=2, num_workers=0, cmvn_utterances=10),
    )
    run_training(config, utts, utts[:2], tmp_path / "exp", torch.device("cpu"))
    model_path, out = tmp_path / "exp" / "best.pt", tmp_path / "warps.md"
    tool = load_tool("warp_wer")
    argv = [str(model_path), str(tmp_path / "test.jsonl"), "--warps", "0.8", "1.0", "1.25", "--merge", r"\+.*", "", "--out", str(out)]
    assert tool.main(argv) == 0
    lines = out.read_text().splitlines()
    assert "| speaker | words | warp 0.8 | warp 1 | warp 1.25 | most confident warp |" in lines
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in lines if line.startswith("| ") and not line.startswith("| speaker")}
    assert set(rows) == {"x", "y", "all"} and rows["all"][0] == "4"  # x+1 and x+2 merged
    model = load_model(model_path, "cpu")
    plain = error_rates([u.text for u in utts], [model.transcribe(u.audio).text for u in utts]).wer
    assert rows["all"][2] == f"{100 * plain:.1f} %"
    with pytest.raises(SystemExit):
        tool.main([str(model_path), str(tmp_path / "test.jsonl"), "--warps", "3"])
    assert tool.main([str(tmp_path / "nothing.pt"), str(tmp_path / "test.jsonl")]) == 1
