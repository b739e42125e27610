"""Live microphone input -> streaming recognizer.

PortAudio calls `MicrophoneSource.callback` on its own thread with each block of samples; the
callback only copies the block into a bounded queue (never blocks, never decodes), counting
PortAudio's input overflows and blocks dropped because the queue was full. `run_live` is the
consumer: it takes blocks, feeds the recognizer at the device's own rate (the recognizer
resamples) and hands events and the input level to a display. Ctrl-C flushes the recognizer
and returns its final result. `sounddevice` (PortAudio) is imported only here, when used.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from asr.stream import Event, Recognizer

QUEUE_SECONDS = 10.0  # audio the queue holds before blocks are dropped (the recognizer fell that far behind)


class LiveError(RuntimeError):
    """The microphone cannot be used: no PortAudio, no input device, a bad device name."""


def import_sounddevice():
    try:
        import sounddevice
    except OSError as err:  # sounddevice imports, then fails to find libportaudio
        raise LiveError(f"no PortAudio library ({err}); install it: apt-get install libportaudio2") from None
    except ImportError:
        raise LiveError("the microphone needs the sounddevice package: pip install sounddevice") from None
    return sounddevice


def input_devices() -> list[dict]:
    """PortAudio's input devices: [{"index", "name", "channels", "rate"}]."""
    sd = import_sounddevice()
    return [
        {"index": i, "name": d["name"], "channels": d["max_input_channels"], "rate": int(d["default_samplerate"])}
        for i, d in enumerate(sd.query_devices())
        if d["max_input_channels"] > 0
    ]


def describe_devices(devices: list[dict]) -> str:
    if not devices:
        return "no audio input device found (no microphone, or PortAudio sees no sound server)"
    return "\n".join(f"{d['index']:3d}  {d['name']}  ({d['channels']} ch, {d['rate']} Hz)" for d in devices)


def choose_device(spec: str | None) -> dict:
    """The input device for `spec` (an index, a part of a name, or None for the default)."""
    devices = input_devices()
    if not devices:
        raise LiveError(describe_devices(devices))
    if spec is None:
        default = import_sounddevice().default.device[0]
        return next((d for d in devices if d["index"] == default), devices[0])
    matches = [d for d in devices if str(d["index"]) == spec or spec.lower() in d["name"].lower()]
    if not matches:
        raise LiveError(f"no input device {spec!r}; the input devices are:\n{describe_devices(devices)}")
    return matches[0]


@dataclass
class SourceStats:
    overflows: int = 0  # blocks PortAudio flagged as overflowed (samples lost before they reached us)
    dropped: int = 0  # blocks the full queue could not take


class MicrophoneSource:
    """Blocks of mono float32 samples from a callback, through a bounded queue."""

    def __init__(self, rate: int, block_frames: int) -> None:
        self.rate, self.block_frames = rate, block_frames
        self.blocks: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(2, math.ceil(QUEUE_SECONDS * rate / block_frames)))
        self.stats = SourceStats()

    def callback(self, indata: np.ndarray, frames: int, time, status) -> None:
        """PortAudio's callback: copy and queue, nothing more (it runs on the audio thread)."""
        if status and getattr(status, "input_overflow", False):
            self.stats.overflows += 1
        try:
            self.blocks.put_nowait(indata.mean(axis=1) if indata.ndim == 2 else indata.copy())
        except queue.Full:
            self.stats.dropped += 1

    def open(self, device: int | None, channels: int = 1):
        """A started sounddevice.InputStream feeding `callback`."""
        sd = import_sounddevice()
        try:
            stream = sd.InputStream(
                device=device, channels=channels, samplerate=self.rate, blocksize=self.block_frames, dtype="float32",
                callback=self.callback,
            )  # fmt: skip
            stream.start()
        except sd.PortAudioError as err:
            raise LiveError(f"cannot open the input device: {err}") from None
        return stream


def level_db(block: np.ndarray) -> float:
    """RMS level of a block in dBFS (-120 for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if block.size else 0.0
    return 20 * math.log10(max(rms, 1e-6))


def run_live(
    recognizer: Recognizer, source: MicrophoneSource, show: Callable[[list[Event], float, SourceStats], None],
    stop: threading.Event, poll_seconds: float = 0.1,
) -> list[Event]:  # fmt: skip
    """Consume `source` until `stop` is set or Ctrl-C; returns the events of the final flush."""
    stream = recognizer.stream()
    try:
        while not stop.is_set():
            try:
                block = source.blocks.get(timeout=poll_seconds)
            except queue.Empty:
                continue
            show(stream.accept(block, source.rate), level_db(block), source.stats)
    except KeyboardInterrupt:
        pass
    while True:  # what is already queued was heard: decode it before the flush
        try:
            block = source.blocks.get_nowait()
        except queue.Empty:
            break
        show(stream.accept(block, source.rate), level_db(block), source.stats)
    return stream.finish()
