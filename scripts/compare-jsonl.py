#!/usr/bin/env python3
"""Compares two streams of Kubernetes objects, one JSON object per line, object for object.

Usage: compare-jsonl.py OURS REFERENCE   (files or pipes; read line by line, nothing is kept)

OURS is `revkeeper get --prefix /registry/ --decode -o jsonl`, REFERENCE the Go reference
decoder's output. Lines are compared as parsed JSON after two normalisations:
- revkeeper adds metadata.resourceVersion as the apiserver does on read, the reference does
  not, so it is dropped;
- `"creationTimestamp": null` (a zero time, e.g. in a Pod template's metadata) is dropped: the
  reference is built on apimachinery 0.32, which prints it; Kubernetes >= 1.34 omits it, as
  revkeeper does (cluster-dev's ABOUT.md, "Version difference").
Prints the number of objects; on the first difference prints the object (apiVersion, kind,
namespace/name, line) and the first differing field path, and exits 1. Values are printed only
for non-Secret objects, shortened (no secret value ever reaches the output).
"""
import json
import sys


def ident(o):
    m = o.get("metadata") or {}
    ns = m.get("namespace")
    name = m.get("name", "?")
    return f'{o.get("apiVersion", "?")} {o.get("kind", "?")} {ns + "/" if ns else ""}{name}'


def normalise(o):
    m = o.get("metadata")
    if isinstance(m, dict):
        m.pop("resourceVersion", None)
    return o


def drop_null_creation_timestamps(v):
    if isinstance(v, dict):
        if v.get("creationTimestamp", 0) is None:
            del v["creationTimestamp"]
        for x in v.values():
            drop_null_creation_timestamps(x)
    elif isinstance(v, list):
        for x in v:
            drop_null_creation_timestamps(x)
    return v


def first_diff(a, b, path="$"):
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return path, a, b
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}", a.get(k, "<absent>"), b.get(k, "<absent>")
            d = first_diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        if len(a) != len(b):
            return f"{path}.length", len(a), len(b)
        return None
    return None if a == b else (path, a, b)


def short(v, secret):
    if secret:
        return "<hidden: Secret>"
    s = json.dumps(v)
    return s if len(s) <= 200 else s[:200] + "..."


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n = 0
    with open(sys.argv[1], "rb") as ours, open(sys.argv[2], "rb") as ref:
        for n, (la, lb) in enumerate(zip(ours, ref), start=1):
            if la == lb:
                continue
            a, b = normalise(json.loads(la)), normalise(json.loads(lb))
            if a == b or drop_null_creation_timestamps(a) == drop_null_creation_timestamps(b):
                continue
            where = f"line {n}: revkeeper {ident(a)}"
            if ident(a) != ident(b):
                print(f"compare: {where} where the reference has {ident(b)}", file=sys.stderr)
                sys.exit(1)
            path, x, y = first_diff(a, b)
            secret = a.get("kind") == "Secret"
            print(f"compare: {where}: {path}: revkeeper {short(x, secret)}, reference {short(y, secret)}",
                  file=sys.stderr)
            sys.exit(1)
        rest_a, rest_b = ours.readline(), ref.readline()
        if rest_a or rest_b:
            side, line = ("revkeeper", rest_a) if rest_a else ("reference", rest_b)
            print(f"compare: line {n + 1}: only {side} has {ident(json.loads(line))}", file=sys.stderr)
            sys.exit(1)
    print(n)


if __name__ == "__main__":
    main()
