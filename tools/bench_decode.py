"""Benchmark CTC decoders with a word LM on log-probs of a trained model on real speech.

The same (frames, vocab) natural-log posteriors are decoded, single-threaded and one
utterance at a time, by:
  * ours        `asr.decode.prefix_beam.BeamSearchDecoder` (Numba), lexicon-free, word LM;
  * flashlight  torchaudio's `ctc_decoder` (flashlight-text) in lexicon mode, same ARPA,
                a lexicon of the LM's words spelled with our tokens, each ending in the
                word separator (`sil_token`);
  * pyctcdecode 0.5.0 with the same ARPA through kenlm. It pins numpy<2, so it runs in
                its own venv (`--pyctcdecode-python`), in a subprocess running this file;
  * greedy      `asr.decode.greedy.greedy_decode`, the floor.
Every (decoder, beam) runs in a fresh worker process: its peak memory is the rise of
VmHWM over VmRSS after the first decode (Linux `clear_refs` resets the high-water mark),
its start time is import + LM load + first decode. The first `ours` worker starts with an
empty Numba cache (`--numba-cache`), so its start includes the JIT compile; the next ones
load the cache. Steady state: the best of `--repeats` passes over all utterances
(the best, not the mean: other jobs share the CPU).

Pruning is matched per pair (it decides the speed more than the decoder does):
  ours vs flashlight:  token_topk = beam_size_token = --topk, beam_threshold = --threshold,
                       no token log-prob floor;
  ours vs pyctcdecode: every token at or above --token-min-logp (pyctcdecode's token_min_logp),
                       beam_threshold = -beam_prune_logp = --threshold.
Scores are matched too: ours alpha * ln p + beta per word = flashlight lm_weight
alpha * ln 10 (its KenLM scores are log10) and word_score beta = pyctcdecode alpha, beta;
unknown words: unk_offset = pyctcdecode unk_score_offset; flashlight (lexicon) has none.

    .venv/bin/python tools/bench_decode.py --model exp/synth/best.pt --corpus ljspeech \
        --out benchmarks/decode_ljspeech.md

The log-probs are cached (`--cache`, default data/bench/<corpus>_<model>.npz) so reruns
only decode. Without `--lm`, an LM is built with `asr.decode.lm_build.write_arpa`: for
LJ Speech from metadata.csv's normalised text without the 285 utterances that have audio
(so never the decoded ones), for FSDD from random digit-word sequences (never the test
transcripts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = ROOT.parent / "shared" / "data"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FSDD_GAP_SECONDS = 0.15  # silence between concatenated FSDD digits
FSDD_LM_SENTENCES = 5000  # random digit strings the FSDD LM is estimated from
LN10 = math.log(10.0)
DECODERS = ("ours", "flashlight", "pyctcdecode", "greedy")


# -- data: utterances -> cached log-probs -------------------------------------------------


def fsdd_utterances(root: Path, speakers: list[str], concat: int, limit: int, seed: int) -> list[dict]:
    """Held-out speakers' recordings, `concat` digits of one speaker per utterance."""
    rng = random.Random(seed)
    utts = []
    for speaker in speakers:
        files = sorted((root / "fsdd" / "recordings").glob(f"*_{speaker}_*.wav"))
        rng.shuffle(files)
        for i in range(0, len(files) - concat + 1, concat):
            group = files[i : i + concat]
            text = " ".join(DIGITS[int(f.name.split("_")[0])] for f in group)
            utts.append({"id": "+".join(f.stem for f in group), "audio": [str(f) for f in group], "text": text})
    return utts[:limit] if limit else utts


def ljspeech_utterances(root: Path, limit: int) -> list[dict]:
    utts = []
    for line in (root / "ljspeech_part" / "metadata.csv").read_text(encoding="utf-8").splitlines():
        uid, _, text = line.split("|", 2)
        wav = root / "ljspeech_part" / "wavs" / f"{uid}.wav"
        if wav.exists():
            utts.append({"id": uid, "audio": [str(wav)], "text": text})
    return utts[:limit] if limit else utts


def manifest_utterances(path: Path, limit: int) -> list[dict]:
    from asr.data import load_manifest

    utts = [{"id": u.id, "audio": [str(u.audio)], "text": u.text} for u in load_manifest(path)]
    return utts[:limit] if limit else utts


def compute_logprobs(model_path: Path, utts: list[dict], cache: Path) -> None:
    """Run the model on each utterance's audio (concatenated, with gaps) and save an .npz:
    tokens, ids, texts, frame_shift, and lp_<i> (frames_i, vocab) float32."""
    import torch

    import asr
    from asr.audio import SAMPLE_RATE, load

    torch.set_num_threads(1)
    model = asr.load_model(model_path, device="cpu")
    gap = torch.zeros(int(FSDD_GAP_SECONDS * SAMPLE_RATE))
    arrays = {}
    for i, u in enumerate(utts):
        pieces = []
        for path in u["audio"]:
            pieces += [load(path)[0], gap]
        samples = torch.cat(pieces[:-1])
        arrays[f"lp_{i}"] = model.logprobs(samples).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache, tokens=np.array(model.tokenizer.tokens), ids=np.array([u["id"] for u in utts]),
        texts=np.array([u["text"] for u in utts]), frame_shift=np.float64(model.frame_shift), **arrays,
    )  # fmt: skip


def load_logprobs(path: Path) -> tuple[list[str], list[str], list[str], float, list[np.ndarray]]:
    """(tokens, ids, texts, frame_shift, log-probs per utterance)."""
    with np.load(path) as z:
        n = len(z["ids"])
        lps = [np.ascontiguousarray(z[f"lp_{i}"]) for i in range(n)]
        return list(z["tokens"]), list(z["ids"]), list(z["texts"]), float(z["frame_shift"]), lps


# -- LM and lexicon --------------------------------------------------------------------------


def build_lm(args: argparse.Namespace, decoded_ids: set[str], path: Path) -> None:
    from asr.decode.lm_build import write_arpa

    if args.corpus == "ljspeech":
        lines = (args.data_root / "ljspeech_part" / "metadata.csv").read_text(encoding="utf-8").splitlines()
        texts = [line.split("|")[2] for line in lines if line.split("|")[0] not in decoded_ids]
    elif args.corpus == "fsdd":
        rng = random.Random(args.seed + 1)
        texts = [" ".join(rng.choice(DIGITS) for _ in range(rng.randint(1, 8))) for _ in range(FSDD_LM_SENTENCES)]
    else:
        raise SystemExit("--lm is required with --manifest")
    write_arpa(texts, path, order=args.lm_order)


def write_lexicon(arpa: Path, tokens: list[str], path: Path, boundary: bool = False) -> int:
    """flashlight lexicon: `word<TAB>w o r d` per LM word that our tokens can spell (`w o r d |` with
    `boundary`); returns the count. Our space is flashlight's `sil_token` "|": between words it is
    silence. With `boundary` a word is complete only once a "|" follows it, and our models emit none
    after the last word (nor any in single-word FSDD), so flashlight then finds nothing (WER 1.0)."""
    from asr.decode.lm import BOS, EOS, UNK, read_arpa_file

    spellable = set(tokens[1:]) - {" "}
    lines = []
    for word in read_arpa_file(arpa).vocab:
        if word not in (BOS, EOS, UNK) and set(word) <= spellable:
            lines.append(f"{word}\t{' '.join(word)}{' |' if boundary else ''}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# -- workers: one decoder, one beam, in their own process ------------------------------------


def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to VmRSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def make_decoder(job: dict, tokens: list[str]):
    """A function log-probs (frames, vocab) -> text, for the job's decoder."""
    kind, beam, prune = job["decoder"], job["beam"], job["pruning"]
    if kind == "greedy":  # the floor: argmax, collapse repeats, drop blanks (no word timings)

        def greedy(lp):
            best = lp.argmax(1)
            keep = best[(best != 0) & (best != np.concatenate(([0], best[:-1])))]
            return "".join([tokens[i] for i in keep.tolist()])

        return greedy
    if kind == "ours":
        from asr.decode.lm import NgramLM
        from asr.decode.prefix_beam import BeamSearchDecoder, BeamSearchOptions

        options = BeamSearchOptions(
            beam_size=beam, token_topk=prune["token_topk"], token_min_logprob=prune["token_min_logprob"],
            beam_threshold=prune["beam_threshold"], alpha=job["alpha"], beta=job["beta"],
            unk_offset=job["unk_offset"],
        )  # fmt: skip
        decoder = BeamSearchDecoder(tokens, options, NgramLM.load(job["arpa"]))
        return lambda lp: decoder.decode(lp)[0].text
    if kind == "flashlight":
        import torch
        from torchaudio.models.decoder import ctc_decoder

        torch.set_num_threads(1)
        names = ["-" if i == 0 else "|" if t == " " else t for i, t in enumerate(tokens)]
        decoder = ctc_decoder(
            lexicon=job["lexicon"], tokens=names, lm=job["arpa"], beam_size=beam,
            beam_size_token=prune["beam_size_token"], beam_threshold=prune["beam_threshold"],
            lm_weight=job["alpha"] * LN10, word_score=job["beta"], log_add=True, blank_token="-", sil_token="|",
        )  # fmt: skip

        def run(lp):
            return " ".join(decoder(torch.from_numpy(lp)[None])[0][0].words)

        return run
    if kind == "pyctcdecode":
        from pyctcdecode import build_ctcdecoder

        labels = ["" if i == 0 else t for i, t in enumerate(tokens)]
        decoder = build_ctcdecoder(
            labels, kenlm_model_path=job["arpa"], alpha=job["alpha"], beta=job["beta"],
            unk_score_offset=job["unk_offset"],
        )  # fmt: skip
        return lambda lp: decoder.decode(
            lp, beam_width=beam, beam_prune_logp=prune["beam_prune_logp"], token_min_logp=prune["token_min_logp"]
        )
    raise ValueError(kind)


def worker(job_path: Path) -> None:
    """Decode the job's log-probs; write a JSON result next to the job."""
    start = time.perf_counter()
    job = json.loads(job_path.read_text())
    tokens, _, _, _, lps = load_logprobs(Path(job["logprobs"]))
    decode = make_decoder(job, tokens)
    built = time.perf_counter()
    decode(lps[0])
    first = time.perf_counter()
    rss = _memory_kb("VmRSS")
    peak_ok = _reset_peak()
    passes, texts = [], []
    for _ in range(job["repeats"]):
        t0 = time.perf_counter()
        texts = [decode(lp) for lp in lps]
        passes.append((time.perf_counter() - t0) / len(lps) * 1e3)
    result = {
        "ms_per_utt": min(passes), "ms_passes": passes, "start_s": first - start, "build_s": built - start,
        "first_decode_s": first - built, "peak_kb": (_memory_kb("VmHWM") - rss) if peak_ok else None,
        "texts": [" ".join(t.split()) for t in texts],
    }  # fmt: skip
    Path(job["result"]).write_text(json.dumps(result))


# -- driver ---------------------------------------------------------------------------------------


def pruning(kind: str, args: argparse.Namespace, vocab: int) -> dict:
    if kind == "flashlight":
        return {"beam_size_token": args.topk, "beam_threshold": args.threshold}
    if kind == "ours-fl":
        return {"token_topk": args.topk, "token_min_logprob": -math.inf, "beam_threshold": args.threshold}
    if kind == "pyctcdecode":
        return {"token_min_logp": args.token_min_logp, "beam_prune_logp": -args.threshold}
    if kind == "ours-pc":
        return {"token_topk": vocab - 1, "token_min_logprob": args.token_min_logp, "beam_threshold": args.threshold}
    return {}


def run_worker(kind: str, beam: int, args: argparse.Namespace, common: dict, workdir: Path, vocab: int) -> dict:
    decoder = "ours" if kind.startswith("ours") else kind
    job = {**common, "decoder": decoder, "beam": beam, "pruning": pruning(kind, args, vocab)}
    job["result"] = str(workdir / f"{kind}_{beam}.result.json")
    job_path = workdir / f"{kind}_{beam}.job.json"
    job_path.write_text(json.dumps(job))
    python = str(args.pyctcdecode_python) if decoder == "pyctcdecode" else sys.executable
    env = {**os.environ, "NUMBA_CACHE_DIR": str(args.numba_cache), "OMP_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    subprocess.run([python, __file__, "--worker", str(job_path)], check=True, env=env, cwd=ROOT)
    result = json.loads(Path(job["result"]).read_text())
    return {**result, "kind": kind, "beam": beam, "pruning": job["pruning"]}


def wer(refs: list[str], hyps: list[str]) -> float:
    from asr.scoring import error_rates

    return error_rates(refs, hyps).wer


def fmt_pruning(p: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items())


def table(rows: list[dict], refs: list[str]) -> str:
    """Markdown: one row per (decoder, beam); `ours / it` is ours' time over its matched rival's."""
    by = {(r["kind"], r["beam"]): r for r in rows}
    rival_of = {"flashlight": "ours-fl", "pyctcdecode": "ours-pc"}
    lines = [
        "| decoder | beam | ms/utt | ours / it | WER | peak MB | start s | pruning |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r["kind"] == "greedy":
            beams = [b for k, b in by if k == "ours-fl"]
            ratio = "; ".join(f"b{b}: {by[('ours-fl', b)]['ms_per_utt'] / r['ms_per_utt']:.1f}" for b in beams)
        else:
            mine = by.get((rival_of.get(r["kind"], ""), r["beam"]))
            ratio = f"{mine['ms_per_utt'] / r['ms_per_utt']:.3f}" if mine else ""
        peak = "n/a" if r["peak_kb"] is None else f"{r['peak_kb'] / 1024:.1f}"
        beam = "-" if r["kind"] == "greedy" else r["beam"]
        lines.append(
            f"| {r['kind']} | {beam} | {r['ms_per_utt']:.3f} | {ratio} | {wer(refs, r['texts']):.4f} | {peak} "
            f"| {r['start_s']:.2f} | {fmt_pruning(r['pruning'])} |"
        )
    return "\n".join(lines)


def prepare(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """(log-prob cache, ARPA, lexicon): computed when missing."""
    if args.manifest:
        utts, name = manifest_utterances(args.manifest, args.limit), args.manifest.stem
    elif args.corpus == "fsdd":
        utts = fsdd_utterances(args.data_root, args.fsdd_speakers, args.fsdd_concat, args.limit, args.seed)
        name = f"fsdd_{'-'.join(args.fsdd_speakers)}_x{args.fsdd_concat}"
    else:
        utts, name = ljspeech_utterances(args.data_root, args.limit), "ljspeech"
    from asr.text import normalize_text

    for u in utts:
        u["text"] = normalize_text(u["text"])
    tag = hashlib.sha1(f"{Path(args.model).resolve()}:{Path(args.model).stat().st_mtime}".encode()).hexdigest()[:8]
    out_dir = args.work_dir
    cache = args.cache or out_dir / f"{name}_{tag}.npz"
    if not cache.exists() or list(np.load(cache)["ids"]) != [u["id"] for u in utts]:
        t0 = time.perf_counter()
        compute_logprobs(args.model, utts, cache)
        print(f"log-probs of {len(utts)} utterances -> {cache} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    arpa = args.lm or out_dir / f"{name}_lm{args.lm_order}.arpa"
    if not arpa.exists():
        held_out = {u["id"] for u in ljspeech_utterances(args.data_root, 0)} if args.corpus == "ljspeech" else set()
        build_lm(args, held_out, arpa)  # LJ Speech: without any utterance that has audio
    tokens = load_logprobs(cache)[0]
    lexicon = out_dir / f"{arpa.stem}{'.boundary' if args.lexicon_boundary else ''}.lexicon.txt"
    n_words = write_lexicon(arpa, tokens, lexicon, args.lexicon_boundary)
    print(f"LM {arpa}, lexicon of {n_words} words {lexicon}", file=sys.stderr)
    return cache, arpa, lexicon


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, help="checkpoint (asr.load_model)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--manifest", type=Path, help="JSONL manifest to decode")
    src.add_argument("--corpus", choices=("fsdd", "ljspeech"), help="read a corpus from --data-root")
    p.add_argument("--data-root", type=Path, default=DATA_ROOT)
    p.add_argument("--fsdd-speakers", nargs="+", default=["theo"], help="held-out FSDD speakers")
    p.add_argument(
        "--fsdd-concat", type=int, default=1,
        help="FSDD recordings joined per utterance (a model trained on single digits never emits a space: keep 1)",
    )  # fmt: skip
    p.add_argument("--limit", type=int, default=100, help="utterances to decode (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, help="log-prob .npz (default: in --work-dir)")
    p.add_argument("--work-dir", type=Path, default=ROOT / "data" / "bench")
    p.add_argument("--lm", type=Path, help="word ARPA (default: built, see the module docstring)")
    p.add_argument("--lm-order", type=int, default=3)
    p.add_argument("--lexicon-boundary", action="store_true", help="end lexicon spellings with | (see write_lexicon)")
    p.add_argument("--decoders", nargs="+", default=list(DECODERS), choices=DECODERS)
    p.add_argument("--beams", nargs="+", type=int, default=[8, 32, 128])
    p.add_argument("--topk", type=int, default=4, help="tokens per frame (ours vs flashlight)")
    p.add_argument("--threshold", type=float, default=10.0, help="beam threshold (all)")
    p.add_argument("--token-min-logp", type=float, default=-5.0, help="token floor (ours vs pyctcdecode)")
    p.add_argument("--alpha", type=float, default=0.5, help="LM weight on ln p")
    p.add_argument("--beta", type=float, default=1.0, help="word insertion bonus")
    p.add_argument("--unk-offset", type=float, default=-10.0)
    p.add_argument("--repeats", type=int, default=3, help="timed passes per worker (best is reported)")
    p.add_argument("--pyctcdecode-python", type=Path, default=ROOT / ".bench-venv" / "bin" / "python")
    p.add_argument("--numba-cache", type=Path, default=ROOT / "data" / "bench" / "numba_cache")
    p.add_argument("--out", type=Path, help="markdown table (and .json of all results) to write")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        return worker(args.worker)
    if not args.model or not (args.manifest or args.corpus):
        raise SystemExit("--model and one of --manifest / --corpus are needed")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    cache, arpa, lexicon = prepare(args)
    tokens, _, refs, _, lps = load_logprobs(cache)
    common = {"logprobs": str(cache), "arpa": str(arpa), "lexicon": str(lexicon), "alpha": args.alpha,
              "beta": args.beta, "unk_offset": args.unk_offset, "repeats": args.repeats}  # fmt: skip
    shutil.rmtree(args.numba_cache, ignore_errors=True)  # the first `ours` worker compiles
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if "ours" in args.decoders:
            cold = run_worker("ours-fl", args.beams[0], args, {**common, "repeats": 1}, Path(tmp), len(tokens))
        if "greedy" in args.decoders:
            rows.append(run_worker("greedy", 0, args, common, Path(tmp), len(tokens)))
        for beam in args.beams:
            for kind in ("ours-fl", "flashlight", "ours-pc", "pyctcdecode"):
                if kind.split("-")[0] in args.decoders:
                    rows.append(run_worker(kind, beam, args, common, Path(tmp), len(tokens)))
                    print(f"{kind} beam {beam}: {rows[-1]['ms_per_utt']:.3f} ms/utt", file=sys.stderr)
    frames = sum(lp.shape[0] for lp in lps)
    notes = [
        "command: `" + " ".join([Path(sys.executable).name, "tools/bench_decode.py", *sys.argv[1:]]) + "`",
        f"{len(lps)} utterances, {frames / len(lps):.0f} frames/utt on average, vocabulary {len(tokens)}; "
        f"LM {arpa.name}; alpha={args.alpha}, beta={args.beta}, unk_offset={args.unk_offset}; "
        f"best of {args.repeats} passes; one thread.",
        "ours / it: ours' ms/utt over this decoder's at matched pruning (ours-fl vs flashlight, ours-pc vs "
        "pyctcdecode); for greedy, ours-fl over greedy at each beam.",
        "start s: process start to the first decode done (imports, LM load, first call).",
    ]
    if "ours" in args.decoders:
        notes.append(f"ours start with an empty Numba cache (JIT compile): {cold['start_s']:.2f} s "
                     f"(build {cold['build_s']:.2f} s, first decode {cold['first_decode_s']:.2f} s).")  # fmt: skip
    text = table(rows, refs) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        slim = [{k: v for k, v in r.items() if k != "texts"} for r in rows]
        args.out.with_suffix(".json").write_text(json.dumps({"rows": slim, "notes": notes}, indent=1))


if __name__ == "__main__":
    main()
