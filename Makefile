# `make demo` and `make test` each create .venv and install what they need,
# so both work from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every optional integration, so that their tests run rather than skip.
EXTRAS := test,examples,onnx,skops,mlflow,dask,ray,progress,polars,benchmarks
# SDV, the synthesis benchmark's rivals, in a folder of its own that only the
# benchmark's SDV processes put on their path (why: docs/synthesis.md).
SDV_SITE := $(VENV)/sdv-site
SDV := sdv rdt ctgan deepecho boto3 botocore s3transfer jmespath graphviz Faker platformdirs

.PHONY: install test demo benchmark throughput figures clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[$(EXTRAS)]"
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --no-deps --target $(SDV_SITE) $(SDV)
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python benchmarks/suite.py --demo --output benchmarks/results/demo

benchmark: $(STAMP)
	$(BIN)/python benchmarks/suite.py --output benchmarks/results/suite

throughput: $(STAMP)
	$(BIN)/python benchmarks/throughput.py

figures: $(STAMP)
	$(BIN)/python examples/make_figures.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
