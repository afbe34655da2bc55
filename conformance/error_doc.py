"""Reading the `error.pb` a task's container writes, the way the conformance scripts report it."""

import glob
import os

from flyteidl.core import errors_pb2


def read_error(directory):
    """The first `error*.pb` in `directory`: `(path, ContainerError)`, or `None` when there is none."""
    errors = sorted(glob.glob(os.path.join(directory, "error*.pb")))
    if not errors:
        return None
    doc = errors_pb2.ErrorDocument()
    with open(errors[0], "rb") as f:
        doc.ParseFromString(f.read())
    return errors[0], doc.error


def describe(e):
    """A `ContainerError` as JSON: code, message, kind and origin by name."""
    return {
        "code": e.code,
        "message": e.message,
        "kind": errors_pb2.ContainerError.Kind.Name(e.kind),
        "origin": {0: "UNKNOWN", 1: "USER", 2: "SYSTEM"}[e.origin],
    }
