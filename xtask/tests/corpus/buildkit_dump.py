#!/usr/bin/env python3
"""Dump how BuildKit's Dockerfile parser sees one or more Containerfiles.

Usage: buildkit_dump.py FILE [FILE ...]

Prints to stdout ONE JSON object mapping each path (as given) to either a
list of instructions, each of the form

    {"cmd": str, "sub_cmd": str | null, "json": bool,
     "start_line": int, "end_line": int,
     "flags": [str, ...], "value": [str, ...],
     "heredocs": [{"name": str, "content": str}, ...]}

with "cmd" and "sub_cmd" lowercased, or {"error": "<message>"} when
BuildKit fails to read or parse that file.

Needs the `dockerfile` package (Go bindings to BuildKit's parser); exits 2
with a one-line message on stderr when it is missing.
"""

import json
import sys

try:
    import dockerfile
except ImportError:
    print("buildkit_dump.py: Python module 'dockerfile' not found (pip install dockerfile)", file=sys.stderr)
    sys.exit(2)


def instruction(cmd: "dockerfile.Command") -> dict:
    return {
        "cmd": cmd.cmd.lower(),
        "sub_cmd": cmd.sub_cmd.lower() if cmd.sub_cmd else None,
        "json": bool(cmd.json),
        "start_line": cmd.start_line,
        "end_line": cmd.end_line,
        "flags": list(cmd.flags),
        "value": list(cmd.value),
        "heredocs": [{"name": h.name, "content": h.content} for h in cmd.heredocs],
    }


def dump(path: str) -> list | dict:
    try:
        return [instruction(c) for c in dockerfile.parse_file(path)]
    except (dockerfile.GoParseError, dockerfile.GoIOError) as e:
        return {"error": str(e)}


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: buildkit_dump.py FILE [FILE ...]", file=sys.stderr)
        return 2
    json.dump({p: dump(p) for p in paths}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
