"""The structural comparison the conformance scripts share.

`diff(ours, theirs)` walks two JSON-like values together (protobuf messages as `MessageToDict`
gives them, after each script's normalization) and returns one line per place they differ: a key
only one side has, lists of different lengths, or different values, with the path to it.
"""

import json


def diff(a, b, path="", ours="flytekit-rs", theirs="flytekit"):
    """The differences between `a` (ours) and `b` (theirs), one line each, under `path`."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}/{k}: only in {theirs}: {json.dumps(b[k])[:300]}")
            elif k not in b:
                out.append(f"{path}/{k}: only in {ours}: {json.dumps(a[k])[:300]}")
            else:
                out += diff(a[k], b[k], f"{path}/{k}", ours, theirs)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]", ours, theirs)
    elif a != b:
        out.append(f"{path}: {ours} {json.dumps(a)[:300]} != {theirs} {json.dumps(b)[:300]}")
    return out
