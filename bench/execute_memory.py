"""Peak memory of `execute` on a large List[int] input (driven by bench/execute_memory.sh).

    python bench/execute_memory.py <hostile binary> [N] [RUNS]

Writes inputs.pb holding `xs`, a list of N small integers (8 bytes each on the wire, so N = 25M
is a 200 MB file), encoded by hand (protobuf's wire format: building N message objects in Python
would take longer than the run), runs `<binary> execute ... task-name count` RUNS times as a fresh
process, checks that outputs.pb holds o0 == N, and prints the median wall time and the largest
peak RSS (ru_maxrss of the child, read with os.wait4).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, payload):
    return bytes([number << 3 | 2]) + varint(len(payload)) + payload


def write_inputs(path, n):
    # One element of LiteralCollection.literals (field 1): Literal.scalar (1) -> Scalar.primitive
    # (1) -> Primitive.integer (1, varint v): 0a 06 0a 04 0a 02 08 v, 8 bytes for v < 128.
    block = b"".join(field(1, field(1, field(1, b"\x08" + bytes([v])))) for v in range(128))
    assert len(block) == 128 * 8, len(block)
    full, rest = divmod(n, 128)
    collection = block * full + block[: rest * 8]
    literal = bytes([2 << 3 | 2]) + varint(len(collection)) + collection  # Literal.collection
    entry = field(1, b"xs") + field(2, literal)  # map entry: key, value
    with open(path, "wb") as f:
        f.write(field(1, entry))  # LiteralMap.literals


def read_o0(out):
    from flyteidl.core import literals_pb2

    lm = literals_pb2.LiteralMap()
    with open(os.path.join(out, "outputs.pb"), "rb") as f:
        lm.ParseFromString(f.read())
    return lm.literals["o0"].scalar.primitive.integer


def main():
    exe = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 25_000_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory() as work:
        inputs = os.path.join(work, "inputs.pb")
        write_inputs(inputs, n)
        size = os.path.getsize(inputs)
        times, peaks = [], []
        for i in range(runs):
            out = os.path.join(work, f"out{i}")
            cmd = [exe, "execute", "--inputs", inputs, "--output-prefix", out,
                   "--resolver", "flytekit.resolver.default", "--",
                   "task-module", "hostile", "task-name", "count"]
            t = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(p.pid, 0)
            times.append(time.perf_counter() - t)
            peaks.append(usage.ru_maxrss * 1024)
            if status != 0:
                raise SystemExit(f"execute failed with status {status}")
            got = read_o0(out)
            if got != n:
                raise SystemExit(f"outputs.pb says {got}, expected {n}")
    print(f"execute, List[int] of {n} elements ({size / 1e6:.0f} MB inputs.pb), {runs} runs")
    print(f"  median wall time {statistics.median(times):.2f} s, peak RSS {max(peaks) / 2**30:.2f} GiB "
          f"({max(peaks) / size:.1f}x the file)")


if __name__ == "__main__":
    main()
