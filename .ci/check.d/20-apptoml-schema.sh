#!/usr/bin/env bash
# The committed app.toml JSON Schema (docs/schema/app-toml.schema.json) is a
# valid draft 2020-12 schema, accepts every ok fixture and rejects the err
# fixtures it can judge (those whose problem is within what JSON Schema can
# say). Uses jsonschema from the venv of 10-python-checkers.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/python crates/app-toml/scripts/check_schema.py docs/schema/app-toml.schema.json fixtures/app-toml
