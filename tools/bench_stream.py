#!/usr/bin/env python3
"""Streaming speed and latency, one thread, on real speech, against pocketsphinx 5.1.1 on the same audio.

    python tools/bench_stream.py --speech ../shared/data/librispeech_part --model exp/yesno_stream/best.pt \
        --latency-manifest data/yesno/test.jsonl --out benchmarks/stream.md

Speed (`--arch`, default the EESEN-size 4 x 320 unidirectional LSTM, 80 mels, untrained weights:
speed does not depend on them): every LibriSpeech file under --speech (up to --seconds of
audio) streamed through `asr.stream.Recognizer` (greedy) at 80, 160 and 320 ms chunks:
real-time factor, per-chunk compute (median, p95), the share of features / model / decoder,
and, in the same run, the bare recurrent stack + linear head on the chunk's frames (the
baseline the issue measured). Eager fp32, and with `torch.ao` dynamic int8 quantization.
Peak RSS of the process at the end.

Latency (`--model`, a trained streaming checkpoint): the first --utterances of the manifest in
one stream with --gap seconds of silence between them, fed in real-time order at 160 ms chunks.
End of speech per utterance: the last 10 ms frame within 35 dB of the utterance's loudest
(energy; `speech_end`). Time to final = the stream time of the chunk that produced the final
+ its compute - the end of speech; via `finish()`: the compute of `finish()` after the last
sample. pocketsphinx: its Endpointer (VAD, 0.3 s window) + Decoder in streaming mode on the same
int16 audio, time to final measured the same way.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.audio import SAMPLE_RATE, load  # noqa: E402
from asr.config import ExperimentConfig, FeatureConfig, ModelConfig, StreamConfig  # noqa: E402
from asr.decode.greedy import GreedyDecoder  # noqa: E402
from asr.export import quantized as int8  # noqa: E402
from asr.features import FeatureExtractor  # noqa: E402
from asr.model import AcousticModel  # noqa: E402
from asr.stream import Final, Recognizer  # noqa: E402
from asr.tokenizer import Tokenizer  # noqa: E402
from asr.transcribe import Transcriber, load_model  # noqa: E402
from report import emit  # noqa: E402  (tools/report.py, beside this script)

CHUNKS_MS = (80, 160, 320)


def speech_files(folder: Path, seconds: float) -> list[np.ndarray]:
    files, total = [], 0.0
    for path in sorted(folder.rglob("*.flac")):
        samples = load(path)[0].numpy()
        files.append(samples)
        total += len(samples) / SAMPLE_RATE
        if total >= seconds:
            break
    return files


def build(arch: str, quantized: bool) -> Transcriber:
    layers, hidden = (int(x) for x in arch.split("x"))
    config = ExperimentConfig(features=FeatureConfig(n_mels=80), model=ModelConfig(bidirectional=False, num_layers=layers, hidden_size=hidden))
    torch.manual_seed(0)
    model = AcousticModel(80, 29, config.model).eval()
    if quantized:
        model = int8(model)
    return Transcriber(model, config, Tokenizer.english(), FeatureExtractor(config.features), torch.device("cpu"))


class Timed:
    """Wraps a callable and adds its wall time to a bucket."""

    def __init__(self, fn, bucket: dict, name: str) -> None:
        self.fn, self.bucket, self.name = fn, bucket, name

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.bucket[self.name] = self.bucket.get(self.name, 0.0) + time.perf_counter() - started


def speed(transcriber: Transcriber, files: list[np.ndarray], chunk_ms: int, runner=None) -> dict:
    decoder = GreedyDecoder(transcriber.tokenizer.tokens, transcriber.frame_shift)
    recognizer = Recognizer(transcriber, decoder, StreamConfig(chunk_ms=chunk_ms), runner=runner)
    parts: dict[str, float] = {}
    timed = [(recognizer.extractor, "accept", "features"), (recognizer.model, "step", "model"), (recognizer.decoder, "step", "decoder")]
    for owner, method, name in timed:  # instance attributes, deleted afterwards: the class methods come back
        setattr(owner, method, Timed(getattr(owner, method), parts, name))
    chunk, per_chunk, audio = SAMPLE_RATE * chunk_ms // 1000, [], 0.0
    try:
        for samples in files:
            stream = recognizer.stream()
            for start in range(0, len(samples), chunk):
                started = time.perf_counter()
                stream.accept(samples[start : start + chunk])
                per_chunk.append(time.perf_counter() - started)
            stream.finish()
            audio += len(samples) / SAMPLE_RATE
    finally:
        for owner, method, _ in timed:
            delattr(owner, method)
    total = sum(per_chunk)
    return {
        "rtf": total / audio, "median_ms": 1000 * statistics.median(per_chunk), "p95_ms": 1000 * float(np.percentile(per_chunk, 95)),
        **{f"{k}_share": v / total for k, v in parts.items()},
    }  # fmt: skip


def runtimes(arch: str, files: list[np.ndarray], folder: Path) -> list[str]:
    """160 ms chunks through the eager model and its TorchScript and onnxruntime exports (one thread each)."""
    from asr.export import export, load_exported

    transcriber = build(arch, quantized=False)
    rows = []
    for runtime in ("eager", "torchscript", "onnx"):
        runner = None if runtime == "eager" else load_exported(export(transcriber.model, folder / "bench.pt", runtime, folder / runtime).meta, threads=1)
        r = speed(transcriber, files, 160, runner)
        rows.append(f"| {runtime} | {r['rtf']:.4f} | {r['median_ms']:.2f} ms | {r['p95_ms']:.2f} ms | {100 * r.get('model_share', 0):.0f} % |")
        print(rows[-1], flush=True)
    return rows


def bare_stack(arch: str, chunk_ms: int, chunks: int = 300) -> float:
    """RTF of the same nn.LSTM stack + linear head alone on one chunk's output frames (40 ms each)."""
    layers, hidden = (int(x) for x in arch.split("x"))
    torch.manual_seed(0)
    rnn, head = torch.nn.LSTM(608, hidden, num_layers=layers, batch_first=True), torch.nn.Linear(hidden, 29)
    x, state, spent = torch.randn(1, chunk_ms // 40, 608), None, 0.0
    with torch.inference_mode():
        for _ in range(chunks):
            started = time.perf_counter()
            out, state = rnn(x, state)
            head(out)
            spent += time.perf_counter() - started
    return spent / (chunks * chunk_ms / 1000)


def speech_end(samples: np.ndarray, below_peak_db: float = 35.0) -> float:
    """Seconds to the end of the last 10 ms frame within `below_peak_db` of the loudest frame."""
    hop = SAMPLE_RATE // 100
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - below_peak_db)
    return (loud[-1] + 1) * hop / SAMPLE_RATE


def composite(manifest: Path, count: int, gap: float) -> tuple[np.ndarray, list[float], list[str]]:
    """`count` utterances with `gap` s of silence between them; returns samples, ends of speech (stream time), texts."""
    lines = [json.loads(line) for line in manifest.read_text().splitlines()][:count]
    pieces, ends, texts, at = [], [], [], 0.0
    for line in lines:
        audio = Path(line["audio"]) if Path(line["audio"]).is_absolute() else manifest.parent / line["audio"]
        samples = load(audio)[0].numpy()
        ends.append(at + speech_end(samples))
        texts.append(line["text"])
        pieces += [samples, np.zeros(int(gap * SAMPLE_RATE), np.float32)]
        at += len(samples) / SAMPLE_RATE + gap
    return np.concatenate(pieces), ends, texts


def our_latency(model_path: Path, samples: np.ndarray, ends: list[float], after_speech: float, end_padding_ms: int = StreamConfig.end_padding_ms) -> dict:
    transcriber = load_model(model_path, "cpu")
    recognizer = Recognizer(transcriber, config=StreamConfig(silence_after_speech=after_speech, end_padding_ms=end_padding_ms))
    chunk, stream, finals = SAMPLE_RATE * 160 // 1000, recognizer.stream(), []
    for start in range(0, len(samples), chunk):
        started = time.perf_counter()
        events = stream.accept(samples[start : start + chunk])
        compute = time.perf_counter() - started
        finals += [(e, (start + chunk) / SAMPLE_RATE + compute) for e in events if isinstance(e, Final)]
    stream.finish()
    lags = [at - end for (_, at), end in zip(finals, ends)]
    # finish(): the stream ends right after the last utterance's speech.
    last = int(ends[-1] * SAMPLE_RATE)
    stream = recognizer.stream()
    for start in range(0, last, chunk):
        stream.accept(samples[start : min(start + chunk, last)])
    started = time.perf_counter()
    stream.finish()
    return {"finals": [e.text for e, _ in finals], "lags": lags, "finish_ms": 1000 * (time.perf_counter() - started)}


def int8_wer(model_path: Path, manifest: Path) -> tuple[float, float]:
    """Offline greedy WER of the trained model on the whole manifest, eager fp32 and int8 dynamic."""
    from asr.scoring import error_rates

    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    audio = [load(Path(x["audio"]) if Path(x["audio"]).is_absolute() else manifest.parent / x["audio"])[0] for x in lines]
    wers = []
    for quantized in (False, True):
        transcriber = load_model(model_path, "cpu")
        if quantized:
            transcriber.model = int8(transcriber.model)
        decoder = GreedyDecoder(transcriber.tokenizer.tokens, transcriber.frame_shift)
        wers.append(error_rates([x["text"] for x in lines], [transcriber.transcribe(a, decoder=decoder).text for a in audio]).wer)
    return wers[0], wers[1]


def pocketsphinx_latency(samples: np.ndarray, ends: list[float]) -> dict:
    from pocketsphinx import Decoder, Endpointer

    endpointer = Endpointer()
    decoder = Decoder(samprate=endpointer.sample_rate)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    step, finals, spent = endpointer.frame_bytes, [], 0.0
    for offset in range(0, len(pcm) - step + 1, step):
        started = time.perf_counter()
        was_in_speech = endpointer.in_speech
        speech = endpointer.process(pcm[offset : offset + step])
        if speech is not None:
            if not was_in_speech:
                decoder.start_utt()
            decoder.process_raw(speech)
            if not endpointer.in_speech:
                decoder.end_utt()
                text = decoder.hyp().hypstr if decoder.hyp() else ""
                compute = time.perf_counter() - started
                finals.append((text, (offset + step) / 2 / SAMPLE_RATE + compute))
        spent += time.perf_counter() - started
    lags = [at - end for (_, at), end in zip(finals, ends)]
    return {"finals": [t for t, _ in finals], "lags": lags, "rtf": spent / (len(samples) / SAMPLE_RATE)}


def speed_tables(args: argparse.Namespace) -> list[str]:
    """The speed part: RTF and per-chunk times of an untrained `args.arch` model, eager and int8, then the runtimes."""
    files = speech_files(args.speech, args.seconds)
    audio_s = sum(len(f) for f in files) / SAMPLE_RATE
    lines = [f"Speed: {len(files)} LibriSpeech files, {audio_s:.0f} s; {args.arch} unidirectional LSTM, 80 mels, greedy.", "",
             "| variant | chunk | RTF | per chunk median | p95 | features / model / decoder | bare stack RTF (same run) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for quantized in (False, True):
        transcriber = build(args.arch, quantized)
        for chunk_ms in CHUNKS_MS:
            r = speed(transcriber, files, chunk_ms)
            shares = " / ".join(f"{100 * r.get(k + '_share', 0):.0f} %" for k in ("features", "model", "decoder"))
            name = "int8 dynamic" if quantized else "eager fp32"
            lines.append(f"| {name} | {chunk_ms} ms | {r['rtf']:.4f} | {r['median_ms']:.2f} ms | {r['p95_ms']:.2f} ms | {shares} | {bare_stack(args.arch, chunk_ms):.4f} |")
            print(lines[-1], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        lines += ["", f"Runtimes, 160 ms chunks, same {args.arch} model: the seeds' claim is that TorchScript makes RNN inference about 3x as fast.", "",
                  "| runtime | RTF | per chunk median | p95 | model share |", "|---|---|---|---|---|", *runtimes(args.arch, files, Path(tmp))]  # fmt: skip
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speech", type=Path, help="folder with LibriSpeech .flac files (the speed part; without it, only the latency part runs)")
    p.add_argument("--seconds", type=float, default=120.0, help="audio for the speed part (default: %(default)s)")
    p.add_argument("--arch", default="4x320", help="layers x units of the speed part's LSTM (default: %(default)s)")
    p.add_argument("--model", type=Path, help="a trained streaming checkpoint (latency part)")
    p.add_argument("--latency-manifest", type=Path, help="utterances for the latency part")
    p.add_argument("--utterances", type=int, default=3)
    p.add_argument("--gap", type=float, default=2.0, help="seconds of silence between them (default: %(default)s)")
    p.add_argument("--after-speech", default="0.3,0.5,0.8", help="silence_after_speech values to try (default: %(default)s)")
    p.add_argument("--out", type=Path, help="markdown file for the tables")
    args = p.parse_args()
    torch.set_num_threads(1)
    lines = [f"Streaming on one thread (`python {' '.join(sys.argv)}`).", ""]

    if args.speech:
        lines += speed_tables(args)
    if args.model and args.latency_manifest:
        samples, ends, texts = composite(args.latency_manifest, args.utterances, args.gap)
        lines += ["", f"Latency: {args.utterances} utterances of `{args.latency_manifest}` with {args.gap} s gaps, model `{args.model}`, 160 ms chunks.", "",
                  "| system | finals | time to final after end of speech (per utterance) | via finish() | RTF |", "|---|---|---|---|---|"]  # fmt: skip
        # The last row: what the end padding (300 ms of silence run through the model) adds to finish().
        runs = [(float(x), StreamConfig.end_padding_ms) for x in args.after_speech.split(",")] + [(StreamConfig.silence_after_speech, 0)]
        for after, padding in runs:
            r = our_latency(args.model, samples, ends, after, padding)
            ok = "right split" if len(r["finals"]) == len(texts) else f"{len(r['finals'])} finals for {len(texts)} utterances"
            lags = ", ".join(f"{1000 * x:.0f} ms" for x in r["lags"])
            name = f"ours, silence_after_speech {after:g} s" + ("" if padding else ", end_padding_ms 0")
            lines.append(f"| {name} | {ok}: {' / '.join(r['finals'])} | {lags} | {r['finish_ms']:.1f} ms | - |")
            print(lines[-1], flush=True)
        fp32, int8 = int8_wer(args.model, args.latency_manifest)
        int8_line = f"int8 dynamic quantization of `{args.model}`: greedy WER on all of `{args.latency_manifest}` {100 * fp32:.2f} % (fp32) -> {100 * int8:.2f} % (int8)."
        try:
            r = pocketsphinx_latency(samples, ends)
            lags = ", ".join(f"{1000 * x:.0f} ms" for x in r["lags"])
            lines.append(f"| pocketsphinx 5.1.1 (Endpointer + Decoder, en-us) | {len(r['finals'])}: {' / '.join(r['finals'])} | {lags} | - | {r['rtf']:.3f} |")
        except ImportError:
            lines.append("| pocketsphinx | not installed (pip install pocketsphinx==5.1.1) | | | |")
        print(lines[-1], flush=True)
        lines += ["", int8_line]
    lines += ["", f"Peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (whole benchmark process)."]
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
