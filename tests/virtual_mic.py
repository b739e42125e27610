"""A real microphone for tests: a private PulseAudio daemon whose default source plays a FIFO
(the recipe and its pitfalls: ../shared/VIRTUAL_MIC.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

RATE = 16_000
BLOCK_SECONDS = 0.1


class VirtualMic:
    """`with VirtualMic(tmp) as mic:` starts the daemon (skips the test when pulseaudio is absent);
    `mic.env` is the environment a recording process needs; `mic.play(samples)` writes speech into
    the source in real time, then silence until the daemon stops."""

    def __init__(self, folder: Path) -> None:
        if not shutil.which("pulseaudio") or not shutil.which("pactl"):
            pytest.skip("needs PulseAudio for a virtual microphone (apt-get install pulseaudio pulseaudio-utils)")
        self.folder, self.fifo = folder, folder / "mic.fifo"
        for name in ("run", "home"):
            (folder / name).mkdir(mode=0o700, exist_ok=True)
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(folder / "run"), "HOME": str(folder / "home"), "PULSE_SOURCE": "fifomic"}
        self.daemon: subprocess.Popen | None = None
        self.writer: threading.Thread | None = None
        self.done = threading.Event()

    def __enter__(self) -> VirtualMic:
        self.daemon = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "-L", "module-native-protocol-unix",
             "-L", f"module-null-sink sink_name=nullsink rate={RATE} channels=1",
             "-L", f"module-pipe-source source_name=fifomic file={self.fifo} format=s16le rate={RATE} channels=1"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode != 0:
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                pytest.skip("PulseAudio did not start here")
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-source", "fifomic"], env=self.env, check=True, capture_output=True)
        return self

    def play(self, samples: np.ndarray, lead_seconds: float = 1.0) -> None:
        """Write `samples` (float32, 16 kHz) after `lead_seconds` of silence, 100 ms every 100 ms."""
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        block = int(RATE * BLOCK_SECONDS) * 2
        silence = bytes(block)

        def write() -> None:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)  # a blocking writer hangs while nobody records
            try:
                chunks = [silence] * int(lead_seconds / BLOCK_SECONDS) + [pcm[i : i + block] for i in range(0, len(pcm), block)]
                started = time.monotonic()
                for n, chunk in enumerate(chunks):
                    _write_all(fd, chunk)
                    time.sleep(max(0.0, started + (n + 1) * BLOCK_SECONDS - time.monotonic()))
                while not self.done.is_set():  # keep the FIFO open: a closed writer can hang InputStream.stop()
                    _write_all(fd, silence)
                    time.sleep(BLOCK_SECONDS)
            finally:
                os.close(fd)

        self.writer = threading.Thread(target=write, daemon=True)
        self.writer.start()

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.writer is not None:
            self.writer.join(timeout=5)
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except BlockingIOError:  # the pipe is full: nobody is recording yet
            time.sleep(0.01)
