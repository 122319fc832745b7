#!/usr/bin/python3
"""Validate JSON files against a JSON Schema (Debian's python3-jsonschema).

Usage: scripts/validate_json.py SCHEMA FILE...   exit 0 when all are valid, 1 otherwise.
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            print(f"{path}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}", file=sys.stderr)
        bad += bool(errors)
        if not errors:
            print(f"{path}: valid")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
