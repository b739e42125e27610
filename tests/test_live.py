"""asr/live.py: the callback queues and counts, the consumer streams, Ctrl-C flushes; one-line errors; a real
PulseAudio virtual microphone (needs pulseaudio; skipped with the reason otherwise)."""

import subprocess
import sys
import threading

import numpy as np
import pytest
import soundfile

import asr.live as live
from asr.audio import load
from asr.config import StreamConfig
from asr.live import LiveError, MicrophoneSource, choose_device, level_db, run_live
from asr.stream import Final, Recognizer
from conftest import shared_data
from test_stream import _transcriber
from virtual_mic import VirtualMic


class Status:
    def __init__(self, overflow: bool) -> None:
        self.input_overflow = overflow


def _speech() -> tuple[np.ndarray, int]:
    """A real yes/no recording at its own 8 kHz: the device rate differs from the model's."""
    return soundfile.read(shared_data("yesno") / "waves_yesno" / "0_0_1_0_1_0_1_1.wav", dtype="float32")


@pytest.mark.needs_data
def test_callback_blocks_decode_like_the_whole_file():
    """100 ms blocks through the callback (two flagged as overflowed) give the finals of the whole file at once."""
    samples, rate = _speech()
    recognizer = Recognizer(_transcriber(calibrate=load(shared_data("yesno") / "waves_yesno" / "0_0_1_0_1_0_1_1.wav")[0].numpy()))
    whole = recognizer.stream()
    expected = [e.text for e in whole.accept(samples, rate) + whole.finish() if isinstance(e, Final)]
    assert expected  # an untrained model's noise, but the same noise both ways

    source, stop, shown = MicrophoneSource(rate, rate // 10), threading.Event(), []

    def microphone() -> None:
        for i, start in enumerate(range(0, len(samples), rate // 10)):
            source.callback(samples[start : start + rate // 10, None], rate // 10, None, Status(overflow=i in (3, 7)))
        stop.set()

    threading.Thread(target=microphone).start()
    events = run_live(recognizer, source, lambda ev, db, stats: shown.extend(ev), stop)
    assert [e.text for e in shown + events if isinstance(e, Final)] == expected
    assert (source.stats.overflows, source.stats.dropped) == (2, 0)


def test_a_full_queue_drops_and_counts_instead_of_blocking():
    source = MicrophoneSource(16000, 1600)
    for _ in range(source.blocks.maxsize + 3):
        source.callback(np.zeros((1600, 1), np.float32), 1600, None, None)
    assert source.stats.dropped == 3 and source.blocks.full()


def test_ctrl_c_flushes_and_returns_the_final():
    recognizer = Recognizer(_transcriber(), config=StreamConfig(endpointing=False))
    source = MicrophoneSource(16000, 1600)
    source.callback(np.random.default_rng(0).normal(0, 0.1, (16000, 1)).astype(np.float32), 16000, None, None)

    def interrupt(events, db, stats):
        raise KeyboardInterrupt

    events = run_live(recognizer, source, interrupt, threading.Event())
    assert len([e for e in events if isinstance(e, Final)]) == 1  # the flush's final, after the interrupt


def test_level_is_in_dbfs():
    assert level_db(np.full(100, 0.1, np.float32)) == pytest.approx(-20.0, abs=1e-3)
    assert level_db(np.zeros(100, np.float32)) == pytest.approx(-120.0)


def test_missing_portaudio_and_devices_are_one_line_errors(monkeypatch):
    def no_portaudio():
        raise LiveError("no PortAudio library (PortAudio library not found); install it: apt-get install libportaudio2")

    monkeypatch.setattr(live, "import_sounddevice", no_portaudio)
    with pytest.raises(LiveError, match="apt-get install libportaudio2"):
        choose_device(None)
    monkeypatch.setattr(live, "input_devices", lambda: [])
    with pytest.raises(LiveError, match="no audio input device found"):
        choose_device(None)
    monkeypatch.setattr(live, "input_devices", lambda: [{"index": 3, "name": "USB Mic", "channels": 1, "rate": 48000}])
    assert choose_device("usb")["index"] == 3 and choose_device("3")["name"] == "USB Mic"
    with pytest.raises(LiveError, match=r"no input device 'webcam'; the input devices are:\n  3  USB Mic"):
        choose_device("webcam")


@pytest.mark.mic
def test_virtual_microphone_delivers_what_was_played(tmp_path):
    """The real path: PulseAudio pipe source -> PortAudio -> sounddevice -> our callback, bit-exact."""
    samples = load(shared_data("yesno") / "waves_yesno" / "0_0_1_0_1_0_1_1.wav")[0].numpy()[:16000]
    samples = (np.round(samples * 32767) / 32767).astype(np.float32)  # what int16 can carry
    code = (
        "import sys, time, numpy as np\n"
        "from asr.live import MicrophoneSource, choose_device\n"
        "source = MicrophoneSource(16000, 1600)\n"
        "stream = source.open(choose_device(None)['index'])\n"
        "print('ready', flush=True)\n"
        "blocks, started = [], time.monotonic()\n"
        "while time.monotonic() - started < 3:\n"
        "    try: blocks.append(source.blocks.get(timeout=0.2))\n"
        "    except Exception: pass\n"
        "stream.abort(); stream.close()\n"
        "np.save(sys.argv[1], np.concatenate(blocks))\n"
    )
    with VirtualMic(tmp_path) as mic:
        recorder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "got.npy")], env=mic.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert recorder.stdout.readline().strip() == "ready", recorder.stderr.read()[-2000:]
        mic.play(samples, lead_seconds=0.5)
        _, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err[-2000:]
    got = np.load(tmp_path / "got.npy")
    start = int(np.flatnonzero(np.abs(got) > 0)[0])  # the recording starts before the speech does
    first = int(np.flatnonzero(np.abs(samples) > 0)[0])
    np.testing.assert_allclose(got[start : start + len(samples) - first], samples[first:], atol=1 / 32767)
