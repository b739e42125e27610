"""Batching for training: similar-duration utterances under a padded-seconds budget, sharded for data-parallel ranks."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from torch.utils.data import Sampler

from asr.data import Seconds


class DurationBatchSampler(Sampler[list[int]]):
    """Batches of similar-duration utterances under a padded-seconds budget, shuffled per epoch.

    A batch's cost is its longest utterance times its size (what padding makes the model
    process). Utterances are sorted by duration with a little per-epoch jitter, packed
    greedily, and the batch order is shuffled; `set_epoch` makes each epoch differ while
    the whole sequence stays fixed by `seed`. The first `sorted_epochs` epochs keep the
    batches shortest first (SortaGrad, Amodei et al. 2016: short utterances are easier to
    align, which steadies early CTC training).

    Data-parallel training: every rank builds the same global batches from the shared seed
    and takes its share of each one (every `world_size`-th utterance from `rank`), so all
    ranks run the same number of steps, each utterance is seen by exactly one rank, and the
    global batches (hence the results) do not depend on the number of ranks. A share can be
    empty when a batch holds fewer utterances than there are ranks. `set_epoch(epoch, start)`
    skips the first `start` global batches: a resumed run continues at the next batch.
    """

    def __init__(
        self, durations: Sequence[Seconds], max_seconds: Seconds, shuffle: bool = True, seed: int = 0, sorted_epochs: int = 0,
        rank: int = 0, world_size: int = 1,
    ) -> None:  # fmt: skip
        if max_seconds <= 0:
            raise ValueError("max_seconds must be positive")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
        self.durations = list(durations)
        self.max_seconds = max_seconds
        self.shuffle = shuffle
        self.seed = seed
        self.sorted_epochs = sorted_epochs
        self.rank, self.world_size = rank, world_size
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def global_batches(self) -> list[list[int]]:
        """All ranks' batches of this epoch, in order (indices into `durations`)."""
        rng = random.Random(self.seed * 100_003 + self.epoch)
        jitter = [rng.uniform(0.95, 1.05) if self.shuffle else 1.0 for _ in self.durations]
        order = sorted(range(len(self.durations)), key=lambda i: self.durations[i] * jitter[i])
        batches, current, longest = [], [], 0.0
        for index in order:
            longest_if_added = max(longest, self.durations[index])
            if current and longest_if_added * (len(current) + 1) > self.max_seconds:
                batches.append(current)
                current, longest_if_added = [], self.durations[index]
            current.append(index)
            longest = longest_if_added
        if current:
            batches.append(current)
        if self.shuffle and self.epoch >= self.sorted_epochs:
            rng.shuffle(batches)
        return batches

    def batches(self) -> list[list[int]]:
        """This rank's share of the global batches from `start` on."""
        return [batch[self.rank :: self.world_size] for batch in self.global_batches()[self.start :]]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        return len(self.global_batches()) - self.start
