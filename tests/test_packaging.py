"""environment.yml and pyproject.toml must name the same dependencies with the same bounds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the check needs to run on one Python only

ROOT = Path(__file__).resolve().parent.parent

# conda-forge spells a few PyPI names differently
CONDA_NAME = {"dask[distributed]": "dask"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    assert m, req
    name = m.group(1).lower()
    return CONDA_NAME.get(name, name), m.group(2).replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pip_reqs = project["dependencies"] + [r for reqs in extras.values() for r in reqs]
    expected = dict(_split(r) for r in pip_reqs)

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    got = dict(_split(d) for d in conda if _split(d)[0] not in ("python", "pip"))
    assert got == expected

    # python bound and the editable install of the package itself
    py = [d for d in conda if _split(d)[0] == "python"]
    assert py == ["python" + project["requires-python"]]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any("-e ." in line for line in pip_section)
