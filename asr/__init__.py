"""asr: a streaming LSTM-CTC speech-recognition toolkit.

    >>> import asr
    >>> model = asr.load_model("exp/best.pt")
    >>> model.transcribe("speech.wav").text
"""

__all__ = ["Transcriber", "load_model"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Imported on first use, so `import asr.decode` (numpy + Numba only) does not pay for torch.
    if name in __all__:
        from asr import transcribe

        return getattr(transcribe, name)
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
