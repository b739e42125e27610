"""`asr train` with a record of what each step trained on, alone or under torchrun (a test helper).

    python tests/train_worker.py RECORDS_DIR [asr train arguments ...]

Each step appends {"pid", "epoch", "batch", "ids"} to RECORDS_DIR/rank{RANK}.jsonl. With
KILL_AT=EPOCH:BATCH (0-based), rank KILL_RANK (default 0) sends itself SIGKILL just before
that step, once (a marker file in RECORDS_DIR keeps the rerun or torchrun's restart alive).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from asr.cli import main
from asr.train import Trainer

records = Path(sys.argv[1])
rank = int(os.environ.get("RANK", "0"))
kill_at = tuple(int(x) for x in os.environ["KILL_AT"].split(":")) if os.environ.get("KILL_AT") else None
killed = records / "killed"
original_step = Trainer._train_step


def recorded_step(self, batch, due):
    if kill_at == (self.epoch, self.batches_done) and rank == int(os.environ.get("KILL_RANK", "0")) and not killed.exists():
        killed.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    with open(records / f"rank{rank}.jsonl", "a") as file:
        file.write(json.dumps({"pid": os.getpid(), "epoch": self.epoch, "batch": self.batches_done, "ids": batch.ids}) + "\n")
    return original_step(self, batch, due)


Trainer._train_step = recorded_step
records.mkdir(parents=True, exist_ok=True)
sys.exit(main(["train", *sys.argv[2:]]))
