"""Checks the committed app.toml JSON Schema against the fixtures.

Every fixtures/app-toml/ok/*.toml must validate; every err fixture listed in
SCHEMA_DETECTS must not (the others are problems only `paas` can see:
vocabulary from the platform config, cron syntax, duplicate ports, expiry,
cross-field rules, or not TOML at all).
"""

import datetime
import json
import pathlib
import sys
import tomllib

from jsonschema import Draft202012Validator

SCHEMA_DETECTS = [
    "env-value-types",
    "invalid-names",
    "invalid-unset",
    "invalid-values",
    "missing-keys",
    "range",
    "schema-version",
    "seed-typos",
    "type",
    "unknown-engine-and-size",
    "unknown-key",
    "unknown-variant",
]


def as_json(value):
    """TOML dates become strings, as editors see them."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def main(schema_path, fixtures):
    schema = json.loads(pathlib.Path(schema_path).read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    failures = 0
    fixtures = pathlib.Path(fixtures)
    for path in sorted((fixtures / "ok").glob("*.toml")):
        errors = list(validator.iter_errors(as_json(tomllib.loads(path.read_text()))))
        for e in errors:
            print(f"{path}: {'/'.join(map(str, e.path))}: {e.message}")
        failures += bool(errors)
    for name in SCHEMA_DETECTS:
        path = fixtures / "err" / f"{name}.toml"
        if validator.is_valid(as_json(tomllib.loads(path.read_text()))):
            print(f"{path}: the schema accepts it")
            failures += 1
    ok = len(list((fixtures / "ok").glob("*.toml")))
    print(f"app.toml schema: {ok} ok fixtures valid, {len(SCHEMA_DETECTS)} err fixtures rejected, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
