"""Shared fixtures: tiny generated audio, a tiny untrained model checkpoint, the shared data folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from asr.checkpoint import model_payload, save_checkpoint
from asr.config import ExperimentConfig, FeatureConfig, ModelConfig
from asr.features import FeatureExtractor
from asr.model import AcousticModel
from asr.tokenizer import Tokenizer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_tool(name: str):
    """tools/NAME.py as a module; tools/ is on sys.path while it loads, as when run as a script."""
    tools = Path(__file__).resolve().parents[1] / "tools"
    sys.path.insert(0, str(tools))
    try:
        spec = importlib.util.spec_from_file_location(name, tools / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # as importlib's recipe does: dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(tools))
    return module


def shared_data(name: str) -> Path:
    """A corpus folder under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"needs real speech at {path} (absent on this machine)")
    return path


def tone(seconds: float, rate: int = 16_000, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    soundfile.write(path, tone(1.0), 16_000)
    return path


TINY_CONFIG = ExperimentConfig(
    features=FeatureConfig(n_mels=20, speed_perturb=False),
    model=ModelConfig(conv_channels=4, hidden_size=16, num_layers=2),
)


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """An untrained model saved the way training saves one."""
    torch.manual_seed(0)
    tokenizer = Tokenizer.english()
    model = AcousticModel(20, tokenizer.size, TINY_CONFIG.model)
    path = tmp_path / "model.pt"
    save_checkpoint(model_payload(model, TINY_CONFIG, tokenizer, FeatureExtractor(TINY_CONFIG.features)), path)
    return path
