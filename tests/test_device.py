import torch

from asr.device import select_device


def test_named_device_or_the_best_present():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(torch.device("cpu")) == torch.device("cpu")
    assert select_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert select_device("") == select_device(None)
