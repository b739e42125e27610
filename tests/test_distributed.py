"""Data-parallel training in real processes: torchrun, Gloo over 127.0.0.1, SIGKILL and restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import soundfile
import torch

from asr import distributed
from asr.checkpoint import load_checkpoint, restore_model
from asr.data import Utterance, write_manifest
from conftest import tone

WORKER = Path(__file__).with_name("train_worker.py")
EPOCHS = 3
RENDEZVOUS = os.environ.get("TEST_RDZV", "--rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0").split()
FLAGS = [
    "--n-mels", "20", "--conv-channels", "4", "--hidden-size", "16", "--num-layers", "2", "--dropout", "0",
    "--epochs", str(EPOCHS), "--max-batch-seconds", "2", "--lr", "5e-3", "--warmup-steps", "2",
    "--num-workers", "0", "--num-threads", "1", "--cmvn-utterances", "20",
]  # fmt: skip


@pytest.fixture(scope="module")
def manifests(tmp_path_factory):
    """Eleven short utterances of uneven length (so some ranks' shares differ in size), and a dev set."""
    folder = tmp_path_factory.mktemp("corpus")
    utts = []
    for i in range(11):
        text, freq = ("a b", 300) if i % 3 else ("b", 900)
        seconds = 0.5 + 0.04 * i
        soundfile.write(folder / f"u{i}.wav", tone(seconds, freq=freq), 16000)
        utts.append(Utterance(f"u{i}", folder / f"u{i}.wav", seconds, text))
    write_manifest(utts, folder / "train.jsonl")
    write_manifest(utts[:3], folder / "dev.jsonl")
    return folder / "train.jsonl", folder / "dev.jsonl", sorted(u.id for u in utts)


def train(manifests, exp: Path, ranks: int = 1, env: dict | None = None, extra=(), check=True) -> subprocess.CompletedProcess:
    train_manifest, dev_manifest, _ = manifests
    launcher = [sys.executable]
    if ranks > 1:
        launcher += ["-m", "torch.distributed.run", "--nproc_per_node", str(ranks), "--max-restarts", "1",
                     *RENDEZVOUS]  # fmt: skip
    command = [*launcher, str(WORKER), str(exp / "records"), "--train", str(train_manifest), "--dev", str(dev_manifest),
               "--exp-dir", str(exp), *FLAGS, *extra]  # fmt: skip
    # PYTHONFAULTHANDLER: a rank that dies of a signal prints where it was.
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1", **(env or {})}
    environment.pop("WORLD_SIZE", None)
    # A session of its own, so that no rank outlives the test, whatever happens to torchrun.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def records(exp: Path, rank: int) -> list[dict]:
    return [json.loads(line) for line in (exp / "records" / f"rank{rank}.jsonl").read_text().splitlines()]


def effective_steps(exp: Path, rank: int) -> list[dict]:
    """The steps whose updates the final model holds: of a killed attempt, only those before the position its successor resumed at."""
    steps = records(exp, rank)
    kept = []
    for step in steps:
        while kept and (kept[-1]["epoch"], kept[-1]["batch"]) >= (step["epoch"], step["batch"]):
            assert kept[-1]["pid"] != step["pid"], "a process went back in the epoch"
            kept.pop()  # redone after the restart
        kept.append(step)
    return kept


def assert_each_utterance_once_per_epoch(exp: Path, ranks: int, all_ids: list[str]) -> None:
    steps = [effective_steps(exp, r) for r in range(ranks)]
    assert len({len(s) for s in steps}) == 1  # every rank ran the same number of steps
    by_epoch = defaultdict(list)
    for rank_steps in steps:
        for step in rank_steps:
            by_epoch[step["epoch"]] += step["ids"]
    assert sorted(by_epoch) == list(range(EPOCHS))
    for epoch, ids in by_epoch.items():
        assert sorted(ids) == all_ids, f"epoch {epoch}"


def final_weights(exp: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(exp / "last.pt")
    assert state["epoch"] == EPOCHS
    return state["model"]


def assert_close(a: dict, b: dict, exact: bool = False) -> None:
    assert a.keys() == b.keys()
    for name in a:
        if exact:
            assert torch.equal(a[name], b[name]), name
        else:
            torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=name)


@pytest.fixture(scope="module")
def single_run(manifests, tmp_path_factory):
    exp = tmp_path_factory.mktemp("single")
    train(manifests, exp)
    return exp


@pytest.fixture(scope="module")
def two_rank_run(manifests, tmp_path_factory):
    exp = tmp_path_factory.mktemp("ddp")
    result = train(manifests, exp, ranks=2)
    return exp, result


def test_two_gloo_ranks_equal_one_process_over_the_same_batches(manifests, single_run, two_rank_run):
    exp, result = two_rank_run
    assert_each_utterance_once_per_epoch(exp, 2, manifests[2])
    assert_close(final_weights(single_run), final_weights(exp))
    # Rank 0 alone wrote and logged; the checkpoint is the plain model, loadable in one process.
    assert result.stdout.strip() == str(exp / "best.pt")
    log = (exp / "train.log").read_text()
    assert log.count("epoch 1: train loss") == 1 and log.count("parameters") == 1
    assert result.stderr.count("epoch 1: train loss") == 1  # rank 1 is quiet on the console too
    model, *_ = restore_model(load_checkpoint(exp / "best.pt"))
    assert not any(key.startswith("module.") for key in model.state_dict())
    single_log = (single_run / "train.log").read_text()
    dev = [line.split("dev loss ")[1].split(",")[0] for line in (log, single_log)]  # the sharded dev loss, reduced
    assert abs(float(dev[0]) - float(dev[1])) < 1e-3


def test_sigkill_mid_epoch_then_resume_loses_nothing(manifests, single_run, tmp_path):
    exp = tmp_path / "killed"
    every_batch = ["--checkpoint-every-minutes", "1e-9"]
    killed = train(manifests, exp, env={"KILL_AT": "1:2"}, extra=every_batch, check=False)
    assert killed.returncode == -9
    saved = load_checkpoint(exp / "last.pt")
    assert (saved["epoch"], saved["batches_done"]) == (1, 2)
    train(manifests, exp, extra=[*every_batch, "--resume"])
    assert_each_utterance_once_per_epoch(exp, 1, manifests[2])
    assert_close(final_weights(single_run), final_weights(exp), exact=True)


def test_torchrun_restarts_a_killed_rank_and_resumes_by_itself(manifests, two_rank_run, tmp_path):
    exp = tmp_path / "restarted"
    train(manifests, exp, ranks=2, env={"KILL_AT": "1:2", "KILL_RANK": "1"}, extra=["--checkpoint-every-minutes", "1e-9"])
    assert (exp / "records" / "killed").exists()
    assert "resuming from" in (exp / "train.log").read_text()
    assert_each_utterance_once_per_epoch(exp, 2, manifests[2])
    assert_close(final_weights(two_rank_run[0]), final_weights(exp))


def test_single_process_context_without_torchrun(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    context = distributed.setup("cpu")
    assert (context.rank, context.world_size, context.is_main, context.distributed) == (0, 1, True, False)
    values = torch.tensor([1.0, 2.0])
    assert torch.equal(distributed.all_reduce_sum(values, context), values)
    assert distributed.gather_objects("x", context) == ["x"] and distributed.broadcast_object(3, context) == 3
