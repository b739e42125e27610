"""Tests for asr/sampler.py: duration batches, SortaGrad, sharding across data-parallel ranks."""

import random

import pytest

from asr.sampler import DurationBatchSampler


def test_sampler_budget_coverage_and_determinism():
    durations = [1 + (i * 7919 % 13) for i in range(200)]
    sampler = DurationBatchSampler(durations, max_seconds=30, seed=3)
    batches = sampler.batches()
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert all(max(durations[i] for i in b) * len(b) <= 30 for b in batches)
    assert DurationBatchSampler(durations, 30, seed=3).batches() == batches
    sampler.set_epoch(1)
    assert sampler.batches() != batches
    spread = [max(durations[i] for i in b) - min(durations[i] for i in b) for b in batches]
    assert sum(spread) / len(spread) < 2  # batches group similar durations


def test_sampler_sortagrad_epochs_go_shortest_first():
    durations = [1 + (i * 7919 % 13) for i in range(200)]
    sampler = DurationBatchSampler(durations, max_seconds=30, seed=3, sorted_epochs=2)
    for epoch in (0, 1, 2):
        sampler.set_epoch(epoch)
        longest = [max(durations[i] for i in b) for b in sampler.batches()]
        assert (longest == sorted(longest)) == (epoch < 2)
        assert sorted(i for b in sampler.batches() for i in b) == list(range(200))


def test_sampler_long_utterance_gets_own_batch():
    assert DurationBatchSampler([50.0, 1.0], max_seconds=10, shuffle=False).batches() == [[1], [0]]


@pytest.mark.parametrize("world_size", [2, 3])
def test_sampler_shards_each_global_batch_across_ranks(world_size):
    durations = [random.Random(i).uniform(0.5, 12) for i in range(101)]
    single = DurationBatchSampler(durations, 30, seed=5)
    ranks = [DurationBatchSampler(durations, 30, seed=5, rank=r, world_size=world_size) for r in range(world_size)]
    for epoch in range(3):
        for sampler in (single, *ranks):
            sampler.set_epoch(epoch)
        shares = [s.batches() for s in ranks]
        assert len({len(s) for s in shares}) == 1 == len({len(s) for s in ranks})  # the same number of steps everywhere
        for step, batch in enumerate(single.batches()):
            parts = [share[step] for share in shares]
            assert sorted(i for part in parts for i in part) == sorted(batch)  # nothing lost, nothing twice
        assert sorted(i for share in shares for b in share for i in b) == list(range(101))
    # A resume at batch 4 yields the rest of the epoch's batches, on every rank.
    ranks[1].set_epoch(2, start=4)
    assert ranks[1].batches() == shares[1][4:] and len(ranks[1]) == len(shares[1]) - 4
    with pytest.raises(ValueError, match="rank 3 is not in 0..2"):
        DurationBatchSampler(durations, 30, rank=3, world_size=3)
