#!/usr/bin/env bash
# The external manifest checkers, from PyPI, in the venv .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check 'kubernetes-validate>=1.33' 'checkov>=3.2'
.venv/bin/pip install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7'
.venv/bin/kubernetes-validate --version
.venv/bin/checkov --version
