#!/usr/bin/env python3
"""Writes the benchmark schema: 2,000 messages and 500 rpcs (plus 10 enums).

rpc i takes M(2i) and returns M(2i+1); messages below 1000 also hold a
nested message from the upper thousand and a list of another, so every
message is reachable and every field type of the language appears.
The same generator exists in Rust in benches/brief.rs (criterion).
Usage: gen_schema.py OUT.brief
"""
import sys

def main(out):
    lines = ['service "bench"', ""]
    for i in range(500):
        lines.append(f"rpc call{i} (M{2 * i}) M{2 * i + 1} `Rpc number {i}`")
    lines.append("")
    for k in range(2000):
        lines.append(f"message M{k} {{")
        lines.append(f"    id       int      `Identifier of M{k}`")
        lines.append("    name     string")
        lines.append("    score    float?")
        lines.append("    active   bool")
        lines.append("    tags     []string")
        lines.append("    counts   map[string]int?")
        lines.append("    payload  bytes?")
        lines.append("    at       time")
        lines.append(f"    kind     E{k % 10}")
        if k < 1000:
            lines.append(f"    child    M{1000 + k}")
            lines.append(f"    others   []M{1000 + (k * 7) % 1000}")
        lines.append("}")
        lines.append("")
    for e in range(10):
        lines.append(f"enum E{e} {{ a b c d }}")
        lines.append("")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))

if __name__ == "__main__":
    main(sys.argv[1])
