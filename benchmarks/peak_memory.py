"""Peak memory (RSS) of one epoch of as-published replay training, readable or compiled.

Each measurement runs in a fresh Python process, because a process's peak RSS only grows:
``python benchmarks/peak_memory.py readable dense`` prints one line of numbers,

    <peak after loading the data> <peak after warming up> <peak after training>   (MiB)

The warm-up trains a tiny table first, so the compiled path has loaded numba and its cached
kernels before the figure that counts is taken: what training itself adds is
``after training - after warm-up``. :func:`table` runs every combination and returns them.
"""

from __future__ import annotations

import resource
import subprocess
import sys

import numpy as np


def _peak_mib() -> float:
    """This process's peak resident set (``VmHWM``), in MiB.

    ``getrusage``'s ``ru_maxrss`` would do on a fresh interpreter, but Linux carries it over
    from the parent through ``exec``: a child of a big process would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:  # not Linux: ru_maxrss is in kB on Linux, bytes on macOS
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def measure(path: str, storage: str) -> tuple[float, float, float]:
    """Peak RSS (MiB) after loading the data, after a warm-up and after one epoch."""
    from odsc_recsys.qtables import GenreQTables, replay_train, replay_train_fast
    from odsc_recsys.sessions import Transitions, load_tutorial_data
    from odsc_recsys.training import AS_PUBLISHED, make_tables

    train = replay_train if path == "readable" else replay_train_fast
    data = load_tutorial_data()
    loaded = _peak_mib()
    tiny = GenreQTables(np.array([0, 0, 1, 1, 2, 2]), ["a", "b", "c"], storage=storage)
    warm_up = Transitions(states=np.array([[0, 2, 4]]), targets=np.array([1]),
                          users=np.array([0]), positions=np.array([3]))  # fmt: skip
    train(tiny, warm_up, 1, np.random.default_rng(0))
    warmed = _peak_mib()
    tables = make_tables(data.catalog, AS_PUBLISHED.with_(storage=storage))
    train(tables, data.split.train, 1, np.random.default_rng(0))
    return loaded, warmed, _peak_mib()


def table(storages: tuple[str, ...] = ("dense", "lazy", "sparse")) -> list[tuple]:
    """``(path, storage, loaded, warmed, trained)`` for every path and storage, each measured
    in its own process."""
    rows = []
    for path in ("readable", "compiled"):
        for storage in storages:
            out = subprocess.run([sys.executable, __file__, path, storage], check=True,
                                 capture_output=True, text=True).stdout  # fmt: skip
            rows.append((path, storage, *(float(x) for x in out.split())))
    return rows


if __name__ == "__main__":
    print(*(f"{x:.1f}" for x in measure(sys.argv[1], sys.argv[2])))
