"""Dumps the protobuf descriptors of the Python `flyteidl` package as JSON on stdout.

Used by `crates/flytekit-idl/tests/descriptors.rs`, which compares them with the hand-written prost
messages of the `flytekit-idl` crate. Every `*_pb2` module of the packages named on the command line
(default: `core admin event service`) is imported; for each message and enum the output records:

* messages: `{"file", "fields": [...], "oneofs": [...]}` keyed by full name (no leading dot); map
  entry messages are folded into the map field that uses them and not listed themselves;
* fields: name, number, type (`double`, ..., `message`, `enum`), label (`optional`, `repeated`,
  `required`) and `repeated`, `type_name` (full name of the message or enum, or null), `oneof`
  (name of a real oneof, or null), `proto3_optional` (presence through a synthetic oneof), and
  `map` (`{"key", "value", "value_type_name"}`) for map fields;
* enums: `{"file", "values": [[name, number], ...]}` keyed by full name;
* files: proto file name -> package.
"""

import importlib
import json
import pkgutil
import sys

from google.protobuf import descriptor_pb2

FDP = descriptor_pb2.FieldDescriptorProto
TYPE_NAMES = {
    value: name[len("TYPE_") :].lower()
    for name, value in FDP.Type.items()
}

LABEL_NAMES = {
    value: name[len("LABEL_") :].lower()
    for name, value in FDP.Label.items()
}


def strip(type_name):
    return type_name[1:] if type_name.startswith(".") else type_name


def dump_file(fdp, out):
    package = fdp.package

    def message(msg, scope):
        full = f"{scope}.{msg.name}"
        maps = {f"{full}.{n.name}": n for n in msg.nested_type if n.options.map_entry}
        fields = []
        for f in msg.field:
            entry = {
                "name": f.name,
                "number": f.number,
                "type": TYPE_NAMES[f.type],
                "label": LABEL_NAMES[f.label],
                "repeated": f.label == FDP.LABEL_REPEATED,
                "type_name": strip(f.type_name) or None,
                "oneof": None,
                "proto3_optional": bool(f.proto3_optional),
                "map": None,
            }
            if f.HasField("oneof_index") and not f.proto3_optional:
                entry["oneof"] = msg.oneof_decl[f.oneof_index].name
            if f.type == FDP.TYPE_MESSAGE and strip(f.type_name) in maps:
                key, value = maps[strip(f.type_name)].field
                entry["map"] = {
                    "key": TYPE_NAMES[key.type],
                    "value": TYPE_NAMES[value.type],
                    "value_type_name": strip(value.type_name) or None,
                }
            fields.append(entry)
        real_oneofs = sorted({f["oneof"] for f in fields if f["oneof"]})
        out["messages"][full] = {"file": fdp.name, "fields": fields, "oneofs": real_oneofs}
        for nested in msg.nested_type:
            if not nested.options.map_entry:
                message(nested, full)
        for e in msg.enum_type:
            enum(e, full)

    def enum(e, scope):
        out["enums"][f"{scope}.{e.name}"] = {
            "file": fdp.name,
            "values": [[v.name, v.number] for v in e.value],
        }

    for msg in fdp.message_type:
        message(msg, package)
    for e in fdp.enum_type:
        enum(e, package)


def main():
    packages = sys.argv[1:] or ["core", "admin", "event", "service"]
    out = {"messages": {}, "enums": {}, "files": {}}
    for pkg in packages:
        base = importlib.import_module(f"flyteidl.{pkg}")
        for info in sorted(pkgutil.iter_modules(base.__path__), key=lambda i: i.name):
            if not info.name.endswith("_pb2"):
                continue
            module = importlib.import_module(f"flyteidl.{pkg}.{info.name}")
            fdp = descriptor_pb2.FileDescriptorProto()
            module.DESCRIPTOR.CopyToProto(fdp)
            out["files"][fdp.name] = fdp.package
            dump_file(fdp, out)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
