# The README's commands. Each target installs what it needs first (scripts/setup.sh), so on a fresh
# machine `make demo` and `make test` are all there is to type.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
export JSII_NODE := $(CURDIR)/node_modules/.bin/node
export CDK_DISABLE_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

STAMP := .venv/.setup-complete

.PHONY: setup demo test unit test-fast lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.lock requirements-lambda.lock package.json package-lock.json scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

## The main job: synthesize app.py, then deploy, update and destroy it against a local Account API
## emulator, through the real handler code in the synthesized asset.
demo: setup
	python -m localdeploy demo

## Everything a reviewer runs: lint, types, and the test suite.
test: setup
	ruff check .
	mypy
	python -m pytest

## The fast tests: the handler (moto in-process, Stubber) and the local engine's IAM and queue, in seconds.
unit: setup
	python -m pytest tests/unit tests/engine -q

## The same fast tests, by the name the development section uses.
test-fast: unit

lint: setup
	ruff check .
	ruff format --check .
	mypy

clean:
	rm -rf cdk.out .local .pytest_cache .mypy_cache .ruff_cache
