"""The compiled paths' edges: chunked kernel calls, and a machine without numba."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from odsc_recsys.qtables import GenreQTables, fast, replay, replay_train, replay_train_fast
from odsc_recsys.qtables import tables as tables_module
from odsc_recsys.sessions import make_transitions

CODES = np.array([0, 1, 0, 2, 1, 0, 2, 2, 1, 0, 0, 1])
NAMES = ["a", "b", "c"]


def transitions(seed: int = 0):
    rng = np.random.default_rng(seed)
    histories = {u: rng.permutation(len(CODES))[:9] for u in range(12)}
    return make_transitions(histories)


def same_tables(a: GenreQTables, b: GenreQTables) -> bool:
    return all(np.array_equal(a.table(g), b.table(g)) for g in range(len(NAMES)))


@pytest.mark.skipif(not fast.HAVE_NUMBA, reason="numba is not installed")
@pytest.mark.parametrize("storage", ["dense", "lazy", "sparse"])
@pytest.mark.parametrize("rules", [{}, {"one_per_substate": True, "proposer_only": True}])
def test_chunked_kernel_calls_equal_the_readable_loop(monkeypatch, storage, rules):
    # 7 transitions per call: chunk boundaries fall inside users' sequences, and lazy and
    # sparse tables gather and give back rows between chunks.
    monkeypatch.setattr(replay, "CHUNK", 7)
    data = transitions()
    assert len(data) > 5 * 7
    slow, quick = (GenreQTables(CODES, NAMES, storage=storage) for _ in range(2))
    log_slow = replay_train(slow, data, 2, np.random.default_rng(3), **rules)
    log_quick = replay_train_fast(quick, data, 2, np.random.default_rng(3), **rules)
    assert same_tables(slow, quick)
    assert log_slow.equals(log_quick)
    assert [slow.written_rows(g).tolist() for g in range(3)] == [
        quick.written_rows(g).tolist() for g in range(3)
    ]


def test_without_numba_the_fast_paths_fall_back_to_the_readable_code(monkeypatch):
    monkeypatch.setattr(fast, "HAVE_NUMBA", False)
    data = transitions(1)
    slow, fallback = GenreQTables(CODES, NAMES), GenreQTables(CODES, NAMES)
    replay_train(slow, data, 1, np.random.default_rng(0))
    with pytest.warns(UserWarning, match="numba is not installed"):
        replay_train_fast(fallback, data, 1, np.random.default_rng(0))
    assert same_tables(slow, fallback)
    histories = [data.states[j] for j in range(5)]
    assert tables_module.recommend_batch(slow, histories, 4) is None
    policy = slow.as_recommender()
    loop = [slow.recommend(h, k=4, exclude=h).items.tolist() for h in histories]
    assert policy.recommend_many(histories, 4).tolist() == loop


def test_the_package_imports_and_trains_where_numba_cannot_be_imported():
    script = textwrap.dedent(
        """
        import sys, warnings
        sys.modules["numba"] = None  # import numba now raises ImportError
        import numpy as np
        from odsc_recsys.qtables import HAVE_NUMBA, GenreQTables, replay_train_fast
        from odsc_recsys.sessions import make_transitions
        assert not HAVE_NUMBA
        t = GenreQTables(np.array([0, 1, 0, 1, 0]), ["a", "b"])
        data = make_transitions({0: np.array([0, 1, 2, 3, 4])})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            replay_train_fast(t, data, 1, np.random.default_rng(0))
        assert any("numba is not installed" in str(w.message) for w in caught)
        print(int(t.n_allocated_rows), float(np.abs(t.table(0)).sum()) > 0)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["9", "True"]  # dense: 3 + 3 rows of genre a, 2 + 1 of b
