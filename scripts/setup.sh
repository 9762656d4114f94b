#!/usr/bin/env bash
# Installs everything this repository needs, from nothing, into the repository itself:
#   .venv         the library, its tools and test dependencies (pinned by requirements-dev.lock), and
#                 localdeploy (editable, from localdeploy/pyproject.toml)
#   .venv-lambda  what the Lambda Python runtime provides and nothing more (boto3, awslambdaric)
#   node_modules  the CDK CLI matching aws-cdk-lib, and a Node release jsii supports
# Safe to run again: each step is skipped or brought up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed" >&2; exit 1; }

step() { echo "set-up: $* ($(( SECONDS )) s)"; }

step "1/3 .venv: the library, the CDK, the test tools (pip, pinned by requirements-dev.lock)"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements-dev.lock -e '.[dev]'
# localdeploy (the local model of AWS the tests and the demo use) is a development package of its own, not part
# of the product's wheel; its dependencies are the ones just installed.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e ./localdeploy

step "2/3 .venv-lambda: what Lambda's Python runtime has (boto3, awslambdaric)"
[ -x .venv-lambda/bin/python ] || "$python" -m venv .venv-lambda
.venv-lambda/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lambda.lock

command -v npm >/dev/null || { echo "npm is needed (apt-get install nodejs npm)" >&2; exit 1; }
step "3/3 node_modules: the CDK CLI matching aws-cdk-lib and Node 22 (npm ci, pinned by package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error
node_version=$(node_modules/.bin/node --version)
case "$node_version" in
  v22.*) ;;
  *) echo "node_modules/.bin/node is $node_version, expected v22 (package.json)" >&2; exit 1 ;;
esac
echo "set-up complete in $(( SECONDS )) s: $(.venv/bin/python --version), node $node_version, cdk $(node_modules/.bin/node node_modules/aws-cdk/bin/cdk --version 2>/dev/null | cut -d' ' -f1)"
