"""Data-parallel training across processes, set up from torchrun's environment (PyTorch DDP).

`torchrun --nproc_per_node N -m asr train ...` sets RANK, WORLD_SIZE and LOCAL_RANK for each
process; `setup` joins the process group over NCCL when the process drives a GPU and Gloo on
the CPU, and picks the device from LOCAL_RANK. Without those variables nothing is
initialised and the run is a single process (rank 0 of 1). Everything here is a thin layer
over `torch.distributed`; the sharding of batches lives in `asr.sampler.DurationBatchSampler`.
"""

from __future__ import annotations

import datetime
import gc
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from asr.device import select_device

# Long enough for rank 0 to compute CMVN statistics over a large corpus while the others wait.
TIMEOUT = datetime.timedelta(minutes=60)


@dataclass(frozen=True)
class Context:
    """This process's place in the run: rank (0 .. world_size - 1) and the device it drives."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints, logs and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def elastic_restart() -> bool:
    """True in a process that torchrun restarted after a failure (`--max-restarts`)."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0


def setup(device_name: str | None = None) -> Context:
    """Join torchrun's process group (when launched by it) and choose this process's device.

    Under torchrun a CUDA device is cuda:LOCAL_RANK unless `device_name` names one; the
    backend is NCCL for CUDA devices and Gloo otherwise.
    """
    if not launched_by_torchrun():
        return Context(0, 1, select_device(device_name))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = select_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank if device.index is None else device.index)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        store, rank, world_size = next(dist.rendezvous("env://", timeout=TIMEOUT))
        # torchrun keeps one store across restarts: without a prefix per attempt, a restarted
        # Gloo group reads the dead attempt's addresses and fails with "connection refused".
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, store=dist.PrefixStore(f"asr/attempt{attempt}", store), rank=rank, world_size=world_size, timeout=TIMEOUT)
    return Context(dist.get_rank(), dist.get_world_size(), device)


def teardown(completed: bool = True) -> None:
    """Leave the process group. After a `completed` run every rank first waits for the others."""
    if not dist.is_initialized():
        return
    if completed:
        # Free the finished run's DDP reducer (it holds the group, often through reference
        # cycles) while the group and the interpreter still live, and let no rank destroy the
        # group while another still talks to it: a Gloo rank torn down at exit can abort.
        gc.collect()
        dist.barrier()
    dist.destroy_process_group()


def all_reduce_sum(values: torch.Tensor, context: Context) -> torch.Tensor:
    """The element-wise sum of `values` over all ranks (a copy; `values` itself unchanged)."""
    total = values.clone()
    if context.distributed:
        dist.all_reduce(total)
    return total


def broadcast_object(value: Any, context: Context) -> Any:
    """Rank 0's `value`, on every rank."""
    if not context.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(value: Any, context: Context) -> list[Any]:
    """[rank 0's value, rank 1's, ...], on every rank."""
    if not context.distributed:
        return [value]
    values: list[Any] = [None] * context.world_size
    dist.all_gather_object(values, value)
    return values


def barrier(context: Context) -> None:
    if context.distributed:
        dist.barrier()
