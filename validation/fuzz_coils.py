"""Fuzz campaign for the coil, SWC, TOML config and pose-file readers.

Each reader gets N mutated copies of valid example files (byte flips, random bytes, truncation,
inserted junk tokens, deleted/duplicated lines and, for JSON/TOML, value type swaps) and must
answer every one with a result or a :class:`~tmsfield.core.errors.TmsFieldError`:

    python -m tmsfield.validation.fuzz_coils --cases 10000

Counts per reader: clean errors (TmsFieldError), successes, tracebacks (any other exception;
the first few are listed), hangs (a case over ``--timeout`` s) and crashes (the worker process
died). Each reader runs in its own worker subprocess under a memory limit, so a crash or a
memory blow-up is counted, not fatal; after a crash the worker restarts at the next case.
Cases are reproducible: case ``i`` of reader ``r`` uses ``random.Random(f"{seed}:{r}:{i}")``.
Writes validation/results/robustness_coils.md and .json (command, machine, date, counts).

The mutators and reader wrappers are also used by tests/test_readers_coils.py (hypothesis).
"""
from __future__ import annotations

import argparse
import base64
import copy
import json
import math
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"

# --- seeds: valid example files ------------------------------------------------------------

POSE_SEED = b"1 0 0 0\n0 -1 0 0\n0 0 -1 104\n0 0 0 1\n"

CONFIG_SEED = b"""# tmsfield simulate: the options of this run
head = "sphere"
edge_length_mm = 12.0
method = "fem"
order = 2
coil = "figure8"
center_mm = [0, 0, 95]
handle = "0,1,0"
distance_mm = 4.0
didt = 1.2e8
conductivity = {3 = 1.654, 4 = 0.01}
out = "run1"
picture = false
quiet = true
"""

SWC_SEED = b"""# small test cell, units um
# id type x y z radius parent
1 1 0 0 0 8 -1
2 2 0 0 -10 0.8 1
3 2 0 0 -60 0.6 2
4 2 20 0 -120 0.5 3
5 2 -20 0 -120 0.5 3
6 3 10 0 5 1.5 1
7 3 40 5 20 1.0 6
8 4 0 0 10 2.0 1
9 4 0 0 80 1.5 8
10 4 15 0 150 1.0 9
11 4 -15 0 150 1.0 9
"""


def _ccd_seed() -> bytes:
    rows = []
    for k in range(24):                            # a small ring of dipoles, positions in m
        a = 2 * math.pi * k / 24
        rows.append(f"{0.03 * math.cos(a):.6e} {0.03 * math.sin(a):.6e} -0.002 0 0 {1e-5 * (1 + k % 3):.6e}")
    return ("# ring.ccd version 1.1;coilname=ring;dIdtmax=150\n24\n"
            "# centers and weighted directions of the elements (magnetic dipoles)\n"
            + "\n".join(rows) + "\n").encode()


def _b64(values) -> str:
    import numpy as np
    return base64.b64encode(zlib.compress(np.asarray(values, dtype="<f8").tobytes())).decode()


def tcd_seed_spec() -> dict:
    """A small .tcd exercising every part of SimNIBS' schema (lists and base64 arrays)."""
    ring = [[30.0 * c, 30.0 * s, -2.0] for c, s in ((1, 0), (0, 1), (-1, 0), (0, -1))]
    steps = [[-30.0, 30.0, 0.0], [-30.0, -30.0, 0.0], [30.0, -30.0, 0.0], [30.0, 30.0, 0.0]]
    return {
        "name": "fuzz seed", "brand": "tmsfield", "version": "1",
        "limits": [[-100.0, 100.0], [-100.0, 100.0], [-50.0, 100.0]], "resolution": [2.0, 2.0, 2.0],
        "coilCasing": 0,
        "coilElementList": [
            {"name": "loop", "stimulator": 0, "type": 2, "points": ring, "values": steps, "elementCasing": 0},
            {"name": "dipoles", "stimulator": 1, "type": 1, "deformations": [0],
             "points": _b64([[0.0, 0.0, -1.0], [10.0, 0.0, -1.0]]), "values": _b64([[0, 0, 1e-4], [0, 0, 2e-4]])},
            {"name": "grid", "stimulator": 0, "type": 3,
             "data": [[[[1e-7 * (i + j + k), 0.0, 0.0] for k in range(2)] for j in range(2)] for i in range(2)],
             "affine": [[10.0, 0, 0, -5.0], [0, 10.0, 0, -5.0], [0, 0, 10.0, 1.0], [0, 0, 0, 1]]},
        ],
        "stimulatorList": [
            {"name": "A", "brand": "B", "maxdIdt": 1.2e8,
             "waveformList": [{"name": "biphasic", "time": [0.0, 1e-4, 2e-4], "signal": [0.0, 1.0, 0.0]}]},
            {"maxdIdt": 1.0e8},
        ],
        "deformList": [{"deformRange": 0, "type": "rot2p", "point1": [0, 0, 0], "point2": [0, 1, 0]},
                       {"deformRange": 0, "type": "x"}],
        "deformRangeList": [{"initial": 0, "range": [-10, 10]}],
        "coilModels": [{"points": [[0, 0, 0], [1, 0, 0], [0, 1, 0]], "faces": [[0, 1, 2]],
                        "minDistancePoints": _b64([[0.0, 0.0, 0.0]])}],
        "selfIntersectionTest": [[0, 1]],
    }


def seeds(reader: str) -> list[tuple[str, bytes]]:
    """(name, bytes) of the valid files mutated for ``reader``; shared SimNIBS files where present."""
    out = []
    if reader == "ccd":
        out.append(("ring.ccd", _ccd_seed()))
        if (SHARED / "simnibs" / "testcoil.ccd").is_file():
            out.append(("testcoil.ccd", (SHARED / "simnibs" / "testcoil.ccd").read_bytes()))
    elif reader == "tcd":
        out.append(("seed.tcd", json.dumps(tcd_seed_spec(), indent=1).encode()))
        if (SHARED / "simnibs" / "two_stimulator_example_coil.tcd").is_file():
            out.append(("two_stimulator_example_coil.tcd",
                        (SHARED / "simnibs" / "two_stimulator_example_coil.tcd").read_bytes()))
    elif reader == "nifti":
        path = SHARED / "simnibs" / "testcoil.nii.gz"
        out.append(("testcoil.nii.gz", path.read_bytes() if path.is_file() else gzip_stub()))
    elif reader == "swc":
        out.append(("cell.swc", SWC_SEED))
        small = Path(__file__).resolve().parents[1] / "tests" / "data" / "small_cell.swc"
        if small.is_file():
            out.append(("small_cell.swc", small.read_bytes()))
    elif reader == "config":
        out.append(("config.toml", CONFIG_SEED))
    elif reader == "pose":
        out.append(("pose.txt", POSE_SEED))
        out.append(("pose_comments.txt", b"# matsimnibs, mm\n" + POSE_SEED.replace(b"104", b"104.5 ") + b"\n"))
    else:
        raise ValueError(f"unknown reader {reader!r}")
    return out


def gzip_stub() -> bytes:
    import gzip
    return gzip.compress(b"\x5c\x01\x00\x00" + bytes(344))     # a NIfTI-1 header size, zeros


# --- mutators ------------------------------------------------------------------------------

JUNK = [b"nan", b"NaN", b"inf", b"-inf", b"1e309", b"1e9", b"3e8", b"0", b"-1", b"-0", b"1e-320", b"true",
        b"false", b"null", b"\xff", b"\xc3", b"\x00", b"[[[[[[", b"]]]", b"{", b"}", b'"', b"'", b"#", b"\n",
        b"\r\n", b",", b";", b"=", b"-", b"e", b"99999999999999999999999", b"1" * 400, b"9" * 5000, b"\t", b" ", b"\\",
        b"dIdtmax=", b"dIdtmax=0", b"dIdtmax=nan", b"dIdtmax=-5", b"1_0", b"0x10", b"\xef\xbb\xbf"]

JSON_VALUES = [None, True, False, "abc", "", "AAAA", 0, -1, 1, 2, 3e8, 1.5, -1e300, 1e300, float("nan"),
               float("inf"), [], {}, [[1, 2]], [[1, 2, 3]], [[True, 0, 0]], [["a", "b", "c"]], {"a": 1},
               [1, 2, 3], 10 ** 30, -(10 ** 4000), "eJwDAAAAAAE=", "\u0000", "\u00e9\u20ac", _b64([[float("nan"), 0, 0]])]

TOML_VALUES = [b"true", b"false", b'"abc"', b'""', b"0", b"-1", b"0.0", b"-0.0", b"nan", b"inf", b"-inf",
               b"1e400", b"[1, 2]", b"[1, 2, 3]", b'["a"]', b"[true, 1, 2]", b"{a = 1}", b"{3 = true}",
               b"1979-05-27", b"07:32:00", b"[[1]]", b'"3=abc"', b'["3=1"]', b"2", b"1e8", b'"sphere"',
               b'"bem"', b'"nonexistent.txt"', b'"a\\u0000b"', b'"a\\u0000b.ccd"', b'"3=\\u0000"', b"1" * 5000, b"1" * 4000]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four random byte-level edits."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randrange(len(data) + 1) if data else 0
        if op == 0 and data:                             # bit flip
            pos = min(pos, len(data) - 1)
            data[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and data:                           # random byte
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 2:                                    # truncate
            del data[pos:]
        elif op == 3:                                    # insert a junk token
            data[pos:pos] = rng.choice(JUNK)
        elif op == 4:                                    # insert random bytes
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 5:                                    # delete a range
            del data[pos:pos + rng.randint(1, 64)]
        elif op == 6:                                    # duplicate or drop a line
            lines = bytes(data).split(b"\n")
            k = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(k, lines[k])
            else:
                del lines[k]
            data = bytearray(b"\n".join(lines))
        else:                                            # replace a number-like token
            tokens = bytes(data).split(b" ")
            k = rng.randrange(len(tokens))
            tokens[k] = rng.choice(JUNK)
            data = bytearray(b" ".join(tokens))
    return bytes(data)


def _json_paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _json_paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:8]):
            yield from _json_paths(v, path + (i,))


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    """One to three structural JSON edits: value type swaps, deleted/unknown keys, deep nesting."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return mutate_bytes(data, rng)
    deep = []
    for _ in range(rng.randint(1, 3)):
        paths = list(_json_paths(doc))
        path = rng.choice(paths)
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key, op = path[-1], rng.randrange(6)
        if op <= 2:                                      # swap the value
            parent[key] = copy.deepcopy(rng.choice(JSON_VALUES))
        elif op == 3 and isinstance(parent, dict):       # delete the key
            del parent[key]
        elif op == 3:
            parent.pop(key)
        elif op == 4 and isinstance(parent, dict):       # an unknown key beside it
            parent[rng.choice(["typo", "Points", "stimulators", "maxdidt"])] = 1
        else:                                            # nest the value deeply (in the text)
            depth = rng.choice([2, 50, 5000, 100000])
            deep.append(("[" * depth) + json.dumps(parent[key]) + ("]" * depth))
            parent[key] = f"__deep_{len(deep) - 1}__"
    text = json.dumps(doc) if rng.random() < 0.5 else json.dumps(doc, indent=1)
    for k, nested in enumerate(deep):
        text = text.replace(f'"__deep_{k}__"', nested)
    return mutate_bytes(text.encode(), rng) if rng.random() < 0.2 else text.encode()


def mutate_toml(data: bytes, rng: random.Random) -> bytes:
    """Swap the values of one to three ``key = value`` lines for values of other types."""
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(lines))
        if b"=" in lines[k] and not lines[k].startswith(b"#"):
            key = lines[k].split(b"=", 1)[0].strip()
            if rng.random() < 0.2:
                key = key.replace(b"_", b"-") if rng.random() < 0.5 else key + b"x"
            lines[k] = key + b" = " + rng.choice(TOML_VALUES)
        else:
            lines.insert(k, b"deep = " + b"[" * rng.choice([3, 2000]))
    text = b"\n".join(lines)
    return mutate_bytes(text, rng) if rng.random() < 0.2 else text


def mutate(reader: str, data: bytes, rng: random.Random) -> bytes:
    if reader == "tcd" and rng.random() < 0.6:
        return mutate_json(data, rng)
    if reader == "config" and rng.random() < 0.6:
        return mutate_toml(data, rng)
    return mutate_bytes(data, rng)


# --- readers -------------------------------------------------------------------------------

def run_reader(reader: str, path: Path):
    """Read ``path`` with the reader under test, as a user would."""
    import tmsfield as tf
    if reader in ("ccd", "tcd"):
        return tf.coils.load(path)
    if reader == "nifti":
        from tmsfield.cli.options import load_coil
        return load_coil(str(path))
    if reader == "swc":
        return tf.neurons.load_swc(path)
    if reader == "config":
        import click

        from tmsfield.cli.config import load_config
        from tmsfield.cli.main import simulate
        return load_config(path, click.Context(simulate))
    if reader == "pose":
        return tf.CoilPose.load(path)
    raise ValueError(f"unknown reader {reader!r}")


SUFFIX = {"ccd": ".ccd", "tcd": ".tcd", "nifti": ".nii.gz", "swc": ".swc", "config": ".toml", "pose": ".txt"}
READERS = list(SUFFIX)


def make_case(reader: str, seed: str, index: int) -> bytes:
    rng = random.Random(f"{seed}:{reader}:{index}")
    name, data = rng.choice(seeds_cached(reader))
    return mutate(reader, data, rng)


_SEEDS: dict[str, list] = {}


def seeds_cached(reader: str):
    if reader not in _SEEDS:
        _SEEDS[reader] = seeds(reader)
    return _SEEDS[reader]


class Hang(BaseException):
    """Raised by the per-case alarm (a BaseException, so readers' `except Exception` miss it)."""


def _alarm(signum, frame):
    raise Hang()


def classify(reader: str, path: Path) -> tuple[str, str | None]:
    """('error' | 'success' | 'traceback', details) for one file."""
    from tmsfield.core.errors import TmsFieldError
    try:
        run_reader(reader, path)
    except TmsFieldError:
        return "error", None
    except Hang:
        raise
    except BaseException as exc:                          # noqa: BLE001 - that is what we count
        return "traceback", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-4:])
    return "success", None


# --- worker (one reader, one process) ------------------------------------------------------

def worker(reader: str, seed: str, start: int, stop: int, timeout: float, status: Path, memory_gb: float) -> None:
    """Run cases [start, stop) and append one JSON line per case to ``status``."""
    import resource

    import tmsfield  # noqa: F401 - import before limiting memory
    import tmsfield.cli.main  # noqa: F401
    limit = int(memory_gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))              # a crash leaves no core file behind
    signal.signal(signal.SIGALRM, _alarm)
    crash_at = int(os.environ.get("TMSFIELD_FUZZ_CRASH_AT", "-1"))      # self-test of crash counting
    with tempfile.TemporaryDirectory(prefix=f"fuzz_{reader}_") as tmp, open(status, "a") as log:
        path = Path(tmp) / f"case{SUFFIX[reader]}"
        for i in range(start, stop):
            log.write(json.dumps({"i": i, "state": "start"}) + "\n")
            log.flush()
            if i == crash_at:
                os.abort()
            data = make_case(reader, seed, i)
            path.write_bytes(data)
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                outcome, detail = classify(reader, path)
            except Hang:
                outcome, detail = "hang", f"over {timeout:g} s"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            record = {"i": i, "state": outcome, "s": round(time.perf_counter() - t0, 4)}
            if outcome in ("traceback", "hang"):
                record.update(detail=detail, input=base64.b64encode(data[:4000]).decode())
            log.write(json.dumps(record) + "\n")
            log.flush()


def campaign(reader: str, cases: int, seed: str, timeout: float, memory_gb: float, stall: float) -> dict:
    """Run ``cases`` cases of ``reader`` in worker subprocesses; restart after a crash."""
    counts = {"error": 0, "success": 0, "traceback": 0, "hang": 0, "crash": 0}
    examples, slowest, next_case = [], [0.0, None], 0
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="fuzz_status_") as tmp:
        status = Path(tmp) / "status.jsonl"
        while next_case < cases:
            status.write_text("")
            cmd = [sys.executable, "-m", "tmsfield.validation.fuzz_coils", "--worker", reader, "--seed", seed,
                   "--start", str(next_case), "--cases", str(cases), "--timeout", str(timeout),
                   "--status", str(status), "--memory-gb", str(memory_gb)]
            env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            last_size, last_change = 0, time.time()
            while proc.poll() is None:
                time.sleep(0.2)
                size = status.stat().st_size
                if size != last_size:
                    last_size, last_change = size, time.time()
                elif time.time() - last_change > stall:      # stuck inside C code: a hang
                    proc.kill()
                    proc.wait()
                    break
            stderr = proc.stderr.read().decode(errors="replace")[-2000:]
            proc.stderr.close()
            started = None
            for line in status.read_text().splitlines():
                rec = json.loads(line)
                if rec["state"] == "start":
                    started = rec["i"]
                    continue
                started = None
                counts[rec["state"]] += 1
                next_case = rec["i"] + 1
                if rec["s"] > slowest[0]:
                    slowest = [rec["s"], rec["i"]]
                if rec["state"] in ("traceback", "hang") and len(examples) < 5:
                    examples.append({"case": rec["i"], "kind": rec["state"], "detail": rec["detail"],
                                     "input_b64": rec["input"][:600]})
            if started is not None:                           # died or was killed mid-case
                killed = time.time() - last_change > stall
                counts["hang" if killed else "crash"] += 1
                if len(examples) < 5:
                    examples.append({"case": started, "kind": "hang" if killed else "crash",
                                     "detail": f"worker exit {proc.returncode}: {stderr[-600:]}"})
                next_case = started + 1
            elif proc.returncode != 0 and next_case < cases:
                raise RuntimeError(f"worker for {reader} failed before any case: {stderr}")
    return {"reader": reader, "cases": cases, **counts, "seconds": round(time.time() - t0, 1),
            "slowest_case_s": slowest[0], "slowest_case": slowest[1], "examples": examples}


DESCRIPTION = {
    "ccd": "SimNIBS .ccd dipole coil (tf.coils.load)",
    "tcd": "SimNIBS .tcd JSON coil (tf.coils.load)",
    "nifti": ".nii.gz A-field coil (CLI load_coil: read as a sampled A-field grid)",
    "swc": "SWC morphology (tf.neurons.load_swc, full discretisation)",
    "config": "TOML run config (tmsfield simulate --config; cli.config.load_config)",
    "pose": "4x4 matsimnibs pose file (tf.CoilPose.load)",
}


def write_results(rows: list[dict], meta: dict) -> None:
    from tmsfield.core.files import write_text_atomic
    RESULTS.mkdir(exist_ok=True)
    write_text_atomic(RESULTS / "robustness_coils.json", json.dumps({"meta": meta, "readers": rows}, indent=1) + "\n")
    lines = ["# Robustness of the coil, SWC, config and pose readers (fuzz campaign)", "",
             f"Run {meta['date']} on {meta['machine']}: `{meta['command']}` (tmsfield {meta['version']}, "
             f"Python {meta['python']}, seed {meta['seed']!r}, per-case timeout {meta['timeout_s']} s, "
             f"worker memory limit {meta['memory_gb']} GB).", "",
             "Every case is a valid example file mutated by byte flips, random bytes, truncation, inserted "
             "junk tokens (nan, 1e309, 3e8, non-UTF-8 bytes, brackets, ...), deleted/duplicated lines and, for "
             ".tcd and TOML, value type swaps, unknown keys and deep nesting. A reader passes a case with a "
             "result or a `TmsFieldError`; anything else is a traceback, a case over the timeout a hang, "
             "a dead worker process a crash.", "",
             "| reader | cases | clean errors | successes | tracebacks | hangs | crashes | time (s) | slowest case (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {DESCRIPTION[r['reader']]} | {r['cases']} | {r['error']} | {r['success']} | "
                     f"{r['traceback']} | {r['hang']} | {r['crash']} | {r['seconds']} | {r['slowest_case_s']} |")
    bad = [e for r in rows for e in r["examples"]]
    lines += ["", "Failures: none." if not bad else "Failures (first few per reader):", ""]
    for r in rows:
        for e in r["examples"]:
            lines += [f"- {r['reader']} case {e['case']} ({e['kind']}):", "", "```", e["detail"].strip(), "```", ""]
    write_text_atomic(RESULTS / "robustness_coils.md", "\n".join(lines) + "\n")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10000, help="cases per reader")
    parser.add_argument("--readers", default=",".join(READERS), help=f"comma-separated subset of {READERS}")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-case timeout (s)")
    parser.add_argument("--stall", type=float, default=60.0, help="kill a worker silent this long (s)")
    parser.add_argument("--memory-gb", type=float, default=3.0, help="address-space limit of a worker")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write the results files")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--status", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.seed, args.start, args.cases, args.timeout, Path(args.status), args.memory_gb)
        return []
    import tmsfield as tf
    rows = []
    for reader in args.readers.split(","):
        row = campaign(reader, args.cases, args.seed, args.timeout, args.memory_gb, args.stall)
        rows.append(row)
        print(f"{reader:7s} cases {row['cases']:6d}  errors {row['error']:6d}  successes {row['success']:6d}  "
              f"tracebacks {row['traceback']}  hangs {row['hang']}  crashes {row['crash']}  ({row['seconds']} s)",
              flush=True)
        for e in row["examples"]:
            print(f"  case {e['case']} {e['kind']}: {e['detail'].strip()[-400:]}", flush=True)
    if not args.no_write:
        cpu = platform.processor() or platform.machine()
        meta = {"command": "python -m tmsfield.validation.fuzz_coils " + " ".join(argv if argv is not None else sys.argv[1:]),
                "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                "machine": f"{platform.system()} {platform.machine()} ({cpu}), {os.cpu_count()} cores "
                           "shared with other jobs",
                "version": tf.__version__, "python": platform.python_version(), "seed": args.seed,
                "timeout_s": args.timeout, "memory_gb": args.memory_gb}
        write_results(rows, meta)
    return rows


if __name__ == "__main__":
    main()
