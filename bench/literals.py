"""Times a 1,000,000-element List[int] round trip through Python flytekit and through flytekit-rs,
in one run, and prints the medians and the ratios.

Round trip = to literal, serialize to bytes, parse the bytes, back to a native list:
- flytekit:    TypeEngine.to_literal -> LiteralMap.to_flyte_idl().SerializeToString()
               -> LiteralMap.FromString -> TypeEngine.to_python_value
- flytekit-rs: FlyteType::to_literal -> encode_to_vec -> LiteralMap::decode -> FlyteType::from_literal
               (the `bench_literals` example, built in release mode by bench/literals.sh)
- prost:       plain encode + decode of the same LiteralMap (the floor for any Rust SDK)

Usage: bench/literals.sh [--n N] [--py-repeats R] [--rust-repeats R]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import typing


def time_flytekit(n, repeats):
    from flyteidl.core import literals_pb2
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine
    from flytekit.models.literals import LiteralMap

    ctx = FlyteContextManager.current_context()
    t = typing.List[int]
    lt = TypeEngine.to_literal_type(t)
    values = list(range(n))
    totals, stages = [], {"to_literal": [], "serialize": [], "parse": [], "to_python_value": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        lit = TypeEngine.to_literal(ctx, values, t, lt)
        t1 = time.perf_counter()
        data = LiteralMap({"xs": lit}).to_flyte_idl().SerializeToString()
        t2 = time.perf_counter()
        parsed = LiteralMap.from_flyte_idl(literals_pb2.LiteralMap.FromString(data))
        t3 = time.perf_counter()
        back = TypeEngine.to_python_value(ctx, parsed.literals["xs"], t)
        t4 = time.perf_counter()
        assert back == values
        totals.append(t4 - t0)
        for key, (a, b) in zip(stages, [(t0, t1), (t1, t2), (t2, t3), (t3, t4)]):
            stages[key].append(b - a)
    return statistics.median(totals), {k: statistics.median(v) for k, v in stages.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--py-repeats", type=int, default=3)
    ap.add_argument("--rust-repeats", type=int, default=21)
    ap.add_argument("--rust-bin", required=True, help="the built bench_literals example")
    args = ap.parse_args()

    rust = json.loads(
        subprocess.run(
            [args.rust_bin, str(args.n), str(args.rust_repeats)], check=True, capture_output=True, text=True
        ).stdout
    )
    py_total, py_stages = time_flytekit(args.n, args.py_repeats)
    rs_total = rust["rust_round_trip_s"]
    prost_total = rust["prost_encode_decode_s"]

    def ms(s):
        return f"{s * 1e3:10.2f} ms"

    print(f"List[int] of {args.n:,} elements: to literal, serialize, parse, back (median)")
    print(f"  flytekit      {ms(py_total)}   (median of {args.py_repeats})")
    for k, v in py_stages.items():
        print(f"    {k:<16}{ms(v)}")
    print(f"  flytekit-rs   {ms(rs_total)}   (median of {args.rust_repeats})")
    for k in ["to_literal", "encode", "decode", "from_literal"]:
        print(f"    {k:<16}{ms(rust['rust_stages_s'][k])}")
    print(f"  prost only    {ms(prost_total)}   (encode + decode of the same LiteralMap)")
    print(f"ratio flytekit / flytekit-rs: {py_total / rs_total:8.1f}x   (target >= 500x)")
    print(f"ratio flytekit-rs / prost:    {rs_total / prost_total:8.2f}x   (target <= 3x)")
    json.dump(
        {
            "n": args.n,
            "flytekit_s": py_total,
            "flytekit_rs_s": rs_total,
            "prost_s": prost_total,
            "flytekit_over_rust": py_total / rs_total,
            "rust_over_prost": rs_total / prost_total,
        },
        sys.stderr,
    )
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
