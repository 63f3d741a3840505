"""Notebook 09's checks: the shard assignment (greedy, largest first) and the calls per epoch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from odsc_recsys.distributed import plan_shards
from odsc_recsys.exercises import check
from odsc_recsys.exercises.nb09 import _counted_calls


def assign_shards(table_bytes, n_shards):
    loads = [0] * n_shards
    owner = [0] * len(table_bytes)
    for g in sorted(range(len(table_bytes)), key=lambda g: -table_bytes[g]):
        s = min(range(n_shards), key=lambda s: loads[s])
        owner[g] = s
        loads[s] += table_bytes[g]
    return owner


def actor_calls(n_transitions, round_size, n_shards):
    return n_shards * (math.ceil(n_transitions / round_size) + 1)


# --- 09.assign_shards -------------------------------------------------------------------------

def test_the_hand_case_of_the_check_is_what_the_package_plans():
    # sizes 5, 9, 2, 7, 4 on 2 shards: 9 -> 0, 7 -> 1, 5 -> 1 (7 < 9), 4 -> 0 (9 < 12),
    # 2 -> 1 (12 < 13)
    assert plan_shards(np.array([5, 9, 2, 7, 4]), 2).owner.tolist() == [1, 0, 1, 1, 0]
    assert assign_shards([5, 9, 2, 7, 4], 2) == [1, 0, 1, 1, 0]


def test_assign_shards_blank_is_not_attempted():
    assert check("09.assign_shards", lambda sizes, n: ...).status == "not attempted"
    assert check("09.assign_shards", ...).status == "not attempted"


def test_assign_shards_right_function_passes_as_list_or_array():
    assert check("09.assign_shards", assign_shards).passed
    assert check("09.assign_shards", lambda s, n: np.array(assign_shards(list(s), n))).passed


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda s, n: [g % n for g in range(len(s))], "largest"),  # not sorted, no loads
        (lambda s, n: assign_shards(list(-np.asarray(s)), n), "largest"),  # smallest first
        (lambda s, n: [int(np.argsort(-np.asarray(s), kind="stable").tolist().index(g)) % n
                       for g in range(len(s))], "in turn ignores the loads"),  # fmt: skip
        (lambda s, n: [0] * len(s), "smallest total"),
        (lambda s, n: [0] * (len(s) - 1), "shard numbers"),
        (lambda s, n: [n] * len(s), "from 0 to"),
        (lambda s, n: "shard 0", "shard number"),
    ],
)
def test_assign_shards_wrong_answers_get_their_hint(answer, hint):
    verdict = check("09.assign_shards", answer)
    assert verdict.status == "wrong" and hint in str(verdict), str(verdict)


def test_assign_shards_in_given_order_is_told_to_sort():
    def in_order(sizes, n):
        loads, owner = [0] * n, []
        for size in sizes:
            s = loads.index(min(loads))
            owner.append(s)
            loads[s] += size
        return owner

    verdict = check("09.assign_shards", in_order)
    assert "order given" in str(verdict), str(verdict)


def test_a_number_instead_of_a_function_is_wrong():
    assert check("09.assign_shards", 3).status == "wrong"
    assert check("09.actor_calls", 18).status == "wrong"


# --- 09.actor_calls ---------------------------------------------------------------------------

def test_the_counted_calls_are_one_per_shard_per_round_plus_one():
    # by hand: 45 transitions in rounds of 10 is 5 rounds (the last holds 5), on 2 shards
    assert _counted_calls(45, 10, 2) == 2 * (5 + 1) == 12
    assert _counted_calls(20, 64, 4) == 4 * (1 + 1)


def test_actor_calls_blank_right_and_wrong():
    assert check("09.actor_calls", lambda n, b, s: ...).status == "not attempted"
    assert check("09.actor_calls", actor_calls).passed
    cases = {
        "last round still": lambda n, b, s: s * math.ceil(n / b),
        "every round calls every shard": lambda n, b, s: math.ceil(n / b) + 1,
        "round the number of rounds up": lambda n, b, s: s * (n // b + 1),
        "count the rounds first": lambda n, b, s: n * s,
        "one number": lambda n, b, s: [1, 2],
    }
    for hint, answer in cases.items():
        verdict = check("09.actor_calls", answer)
        assert verdict.status == "wrong" and hint in str(verdict), (hint, str(verdict))


def test_checks_are_quick():
    import time

    start = time.perf_counter()
    check("09.assign_shards", assign_shards)
    check("09.actor_calls", actor_calls)
    assert time.perf_counter() - start < 1.0
