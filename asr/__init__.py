"""asr: a streaming LSTM-CTC speech-recognition toolkit.

    >>> import asr
    >>> model = asr.load_model("exp/best.pt")
    >>> model.transcribe("speech.wav").text
"""

from asr.transcribe import Transcriber, load_model

__all__ = ["Transcriber", "load_model"]
__version__ = "0.1.0"
