#!/usr/bin/env python3
"""json_conventions.py FILE...: check that each file holds JSON (one document, or one per
line) written the way every bootmeta --json is: lowerCamelCase keys (no '_') and 64-bit
integers as decimal strings (proto3 JSON). Objects keyed by data rather than by field
(config keys, Go build settings) are not checked for their keys, only for their values.
Exit 1 naming the file and the path of the first offence."""
import json
import sys

# members whose object is a map: its keys are names from the data (DB_URL, vcs.revision)
MAPS = {"values", "onlyInA", "onlyInB", "changed", "settings"}
# members that are 64-bit in the records: always strings
INT64 = {"seq", "timeMs", "sinceMs", "createdMs", "flagVersion", "revertedFromSeq", "size", "time_ms"}


def walk(v, path, is_map=False):
    if isinstance(v, dict):
        for k, x in v.items():
            p = f"{path}.{k}"
            if not is_map:
                if "_" in k:
                    raise ValueError(f"{p}: key is not lowerCamelCase")
                if k in INT64 and not isinstance(x, str):
                    raise ValueError(f"{p}: 64-bit integer {x!r} is not a string")
                if k in INT64 and not x.lstrip("-").isdigit():
                    raise ValueError(f"{p}: {x!r} is not a decimal integer")
            walk(x, p, k in MAPS and not is_map)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, f"{path}[{i}]")


def docs(text):
    try:
        return [json.loads(text)]
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    bad = 0
    for f in sys.argv[1:]:
        text = open(f, encoding="utf-8").read()
        try:
            ds = docs(text)
            if not ds:
                raise ValueError("no JSON")
            for d in ds:
                walk(d, "$")
        except ValueError as e:
            print(f"{f}: {e}\n{text[:2000]}", file=sys.stderr)
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
