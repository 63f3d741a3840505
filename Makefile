# odsc-recsys: two commands for users (`make lab`, `make test`), a few for maintainers.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]*_*.ipynb))
SOLUTIONS := $(sort $(wildcard notebooks/solutions/*.ipynb))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=300

.PHONY: help setup data lab test unit nbval lint notebooks benchmark benchmark-dask benchmark-deep benchmark-deep-tuning benchmark-planning clean

help:
	@echo "make lab        set up (venv, package, data) and start JupyterLab on notebooks/"
	@echo "make test       set up, then ruff, unit tests and strict nbval on every notebook"
	@echo "make notebooks  re-execute the numbered notebooks in place (instructors, maintainers)"
	@echo "make benchmark  print speed and memory figures (make benchmark-dask: the Dask shards)"
	@echo "make benchmark-deep  compile, training and scoring times and memory of the Q-networks"
	@echo "make benchmark-deep-tuning  the validation search behind the Q-networks' defaults"
	@echo "make benchmark-planning  notebook 11's sweeps of the discount gamma, with more seeds"

# The virtual env and the package in editable mode, rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,fast]"
	touch $(STAMP)

setup: $(STAMP)

data: $(STAMP)
	$(PY) -m odsc_recsys fetch-data

# Jupyter refuses to run as root unless told; containers and cloud VMs often are root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

# JupyterLab draws a widget output, and the widget state that `make notebooks` saves, only in a
# trusted notebook; in an untrusted one it shows the output's text instead (`VBox(...)`).
# These are the project's own notebooks: sign them for this user (after every re-execution).
TRUST := $(VENV)/bin/jupyter trust $(NOTEBOOKS) $(SOLUTIONS) >/dev/null

lab: data
	$(TRUST)
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/

lint: $(STAMP)
	$(VENV)/bin/ruff check odsc_recsys tests notebooks $(wildcard benchmarks)

test: data lint
	$(PY) -m pytest -p no:cacheprovider $(NBVAL) tests $(NOTEBOOKS) $(SOLUTIONS)

unit: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider tests

nbval: data
	$(PY) -m pytest -p no:cacheprovider $(NBVAL) $(NOTEBOOKS) $(SOLUTIONS)

notebooks: data
	for nb in $(NOTEBOOKS); do \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=300 "$$nb" || exit 1; \
	done
	$(TRUST)

benchmark: data
	$(PY) benchmarks/run.py

benchmark-dask: data
	$(PY) benchmarks/dask_shards.py

benchmark-deep: data
	$(PY) benchmarks/deep.py

benchmark-deep-tuning: data
	$(PY) benchmarks/deep_tuning.py

benchmark-planning: data
	$(PY) benchmarks/planning.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
