"""Exercises of notebook 09 (the genre tables sharded across Dask workers).

``09.assign_shards``: the learner writes ``assign_shards(table_bytes, n_shards)``, the greedy
longest-processing-time rule that gives every genre table to one worker; the check compares
it with the package's own :func:`odsc_recsys.distributed.plan_shards` on cases drawn from a
fixed seed.

``09.actor_calls``: the learner writes ``actor_calls(n_transitions, round_size, n_shards)``,
the number of actor calls one training epoch makes; the check counts the calls of real
in-process runs of :class:`odsc_recsys.distributed.DistributedQTables`.

No answer is stored here: both checks compute the expected value with the package.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import Verdict, answered, as_number, correct, exercise, wrong


def _owner_cases(seed: int = 9) -> list[tuple[np.ndarray, int]]:
    """Distinct table sizes (so the order of the tables is never a tie), listed unsorted."""
    rng = np.random.default_rng(seed)
    cases = [(np.array([5, 9, 2, 7, 4]), 2)]  # by hand: 9 -> 0, 7 -> 1, 5 -> 1, 4 -> 0, 2 -> 1
    for n_tables, n_shards in ((10, 2), (10, 4), (7, 3), (12, 5), (6, 6), (4, 1)):
        cases.append((rng.choice(np.arange(1, 10_000), n_tables, replace=False), n_shards))
    return cases


def _greedy(sizes: np.ndarray, n_shards: int, order: np.ndarray) -> np.ndarray:
    """Greedy to the least-loaded shard, tables taken in ``order`` (for the hints)."""
    loads, owner = np.zeros(n_shards), np.zeros(len(sizes), dtype=np.int64)
    for g in order:
        owner[g] = int(np.argmin(loads))
        loads[owner[g]] += sizes[g]
    return owner


def _round_robin(sizes: np.ndarray, n_shards: int) -> np.ndarray:
    """Tables dealt out in turn, largest first (for the hints)."""
    owner = np.zeros(len(sizes), dtype=np.int64)
    owner[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes)) % n_shards
    return owner


_MISTAKES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "you took the tables in the order given: take them from the largest down":
        lambda sizes, n: _greedy(sizes, n, np.arange(len(sizes))),
    "you took the smallest table first: start with the largest":
        lambda sizes, n: _greedy(sizes, n, np.argsort(sizes, kind="stable")),
    "dealing the tables out in turn ignores the loads: give each table to the shard whose "
    "load (total bytes so far) is smallest": _round_robin,
}  # fmt: skip


@exercise("09.assign_shards", "code",
          "assign_shards(table_bytes, n_shards) -> the shard of each table")  # fmt: skip
def assign_shards(func: Callable[[np.ndarray, int], Any]) -> Verdict:
    """Largest table first, each to the shard with the smallest load so far."""
    from ..distributed import plan_shards

    cases, answers = _owner_cases(), []
    for sizes, n_shards in cases:
        got = answered(func(sizes.copy(), n_shards))
        try:
            owner = np.asarray(got, dtype=np.int64)
        except (TypeError, ValueError):
            return wrong(f"return one shard number per table, got {got!r}")
        if owner.shape != sizes.shape:
            return wrong(
                f"for {len(sizes)} tables return {len(sizes)} shard numbers (table g's shard at "
                f"position g), got shape {owner.shape}"
            )
        if owner.min() < 0 or owner.max() >= n_shards:
            return wrong(f"shard numbers run from 0 to {n_shards - 1}, you returned {owner.tolist()}")
        answers.append(owner)
    for (sizes, n_shards), owner in zip(cases, answers, strict=True):
        if np.array_equal(owner, plan_shards(sizes, n_shards).owner):
            continue
        # a known mistake when it explains every case, else the rule itself
        pairs = list(zip(cases, answers, strict=True))
        hint = next(
            (h for h, rule in _MISTAKES.items()
             if all(np.array_equal(o, rule(sz, n)) for (sz, n), o in pairs)),
            "sort the tables by size, largest first; give each to the shard with the smallest "
            "total so far (the lower shard on a tie), then add its size to that shard's load",
        )  # fmt: skip
        return wrong(f"for sizes {sizes.tolist()} on {n_shards} shards you returned "
                     f"{owner.tolist()}; {hint}.")  # fmt: skip
    return correct("largest first, each to the least-loaded shard: no shard exceeds the mean "
                   "load by more than the largest table.")  # fmt: skip


def _counted_calls(n_transitions: int, round_size: int, n_shards: int) -> int:
    """Train one epoch in process on a tiny made-up catalogue and count the actor calls."""
    from ..distributed import ClusterConfig, DistributedQTables

    rng = np.random.default_rng(n_transitions * 1_000 + round_size)
    genre_of = np.arange(16) % 4  # 16 movies in 4 genres, so up to 4 shards
    rows = np.array([rng.choice(16, 4, replace=False) for _ in range(n_transitions)])
    data = SimpleNamespace(states=rows[:, :3], targets=rows[:, 3])
    names = ["a", "b", "c", "d"]
    cluster = ClusterConfig(in_process=True, n_shards=n_shards)
    with DistributedQTables(genre_of, names, cluster=cluster) as dq:
        dq.train(data, round_size=round_size)
        return dq.stats.calls


@exercise("09.actor_calls", "code",
          "actor_calls(n_transitions, round_size, n_shards) -> calls in one epoch")  # fmt: skip
def actor_calls(func: Callable[[int, int, int], Any]) -> Verdict:
    """One call per shard per round, plus one final call per shard for the last updates."""
    for n, b, shards in ((40, 10, 2), (45, 10, 2), (30, 7, 3), (12, 1, 2), (20, 64, 4)):
        got = answered(func(n, b, shards))
        value = as_number(got, "return one number")
        want = _counted_calls(n, b, shards)
        if value == want:
            continue
        rounds = math.ceil(n / b)
        if n % b and value == shards * (n // b + 1):
            hint = "a last, partial round is still a round: round the number of rounds up"
        elif value == shards * rounds:
            hint = "the updates of the last round still have to reach the shards"
        elif value == rounds + 1:
            hint = "every round calls every shard"
        else:
            hint = "count the rounds first (the last may be partial), then the calls per round"
        return wrong(f"for {n} transitions, rounds of {b} and {shards} shards you returned "
                     f"{got!r}; {hint}.")  # fmt: skip
    return correct("one call per shard per round, and one more per shard to apply the last "
                   "round's updates.")  # fmt: skip
