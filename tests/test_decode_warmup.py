"""asr/decode/warmup.py: after it has run once, no decode in a new process compiles anything."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Prints {kernel: [cache hits, cache misses]} for every on-disk-cached Numba kernel of asr.decode,
# after running the code given in argv[1].
PROBE = """
import importlib, json, pkgutil, sys
import asr.decode
from numba.core.registry import CPUDispatcher
exec(sys.argv[1])
stats = {}
for info in pkgutil.iter_modules(asr.decode.__path__):
    module = importlib.import_module(f"asr.decode.{info.name}")
    for name, obj in vars(module).items():
        if isinstance(obj, CPUDispatcher) and obj._cache.__class__.__name__ != "NullCache" and obj.__module__ == module.__name__:
            stats[f"{info.name}.{name}"] = [sum(obj.stats.cache_hits.values()), sum(obj.stats.cache_misses.values())]
print(json.dumps(stats))
"""


def probe(code: str) -> dict[str, list[int]]:
    result = subprocess.run([sys.executable, "-c", PROBE, code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


INTERNAL = {"prefix_beam_kernels.final_lm"}  # called only from other kernels, compiled into them
WARM_UP = "from asr.decode.warmup import compile_kernels; compile_kernels()"


def test_warmup_drives_every_cached_kernel():
    probe(WARM_UP)  # fills the cache if this machine's is cold
    stats = probe(WARM_UP)
    assert stats, "no cached kernels found"
    untouched = [name for name, (hits, misses) in stats.items() if hits + misses == 0 and name not in INTERNAL]
    assert not untouched, f"warm-up never runs {untouched}"
    assert all(misses == 0 for _, misses in stats.values()), stats  # second process: all from the cache


def test_first_beam_decode_after_warmup_compiles_nothing(tmp_path, tiny_checkpoint, wav_file):
    lm_text = tmp_path / "lm.txt"
    lm_text.write_text("the cat sat\nthe dog sat on the mat\n")
    probe(WARM_UP)
    transcribe = (
        "from asr.cli import main\n"
        f"main(['lm', 'build', {str(lm_text)!r}, '--order', '2', '-o', {str(tmp_path / 'lm.arpa')!r}])\n"
        f"main(['transcribe', {str(tiny_checkpoint)!r}, {str(wav_file)!r}, '--beam', '8', '--lm', {str(tmp_path / 'lm.arpa')!r},"
        " '--hotword', 'cat:2', '--nbest', '2', '--json'])\n"
    )
    stats = probe(transcribe)
    assert any(hits for hits, _ in stats.values())
    assert {name: m for name, (_, m) in stats.items() if m} == {}
