"""Robustness campaign for the head-mesh readers: mutated files through ``tmsfield.load_head``.

Seeds: one small tagged mesh (a 150 mm cube of 6x6x6 cells, 1296 tetrahedra, two tissues,
boundary triangles) written as .msh 2.2 ASCII, 2.2 binary, 4.1 ASCII, 4.1 binary, .msh.gz and
a zlib-compressed .vtu. Each case applies 1-3 random mutations to a seed (byte flips,
truncation, inserted junk or tokens, deleted or duplicated ranges, changed counts: ASCII
integers and binary int32/int64 words replaced by 0, -1, n±1, 2n, 2**31, 10**18, ...) and
loads it. Outcomes per case:

- ``clean``: a :class:`~tmsfield.core.errors.TmsFieldError` (the contract);
- ``ok``: the mutated file still loads;
- ``traceback``: any other exception (a bug; the first few are listed);
- ``hang``: no answer within the per-case timeout (``signal.alarm``);
- ``crash``: the worker process died (segfault, killed); it restarts after the case.

Each format runs in its own worker subprocess (one at a time), under an address-space limit
(``--memory-gb``) so that a resource bomb shows as a MemoryError traceback instead of taking the
machine. Cases are reproducible: ``--replay FORMAT CASE OUT`` writes the file of one case.

Run:  python -m tmsfield.validation.fuzz_meshes --cases 10000
      (writes validation/results/robustness_meshes.{md,json})
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
FORMATS = ("msh22-ascii", "msh22-binary", "msh41-ascii", "msh41-binary", "msh-gz", "vtu")
SUFFIX = {"msh-gz": ".msh.gz", "vtu": ".vtu"}


# ---------------------------------------------------------------------------------- seeds

def seed_mesh(cells: int = 6, size_mm: float = 150.0):
    """Nodes (mm), tetrahedra (positive), tags (3 inside a 45 mm ball, else 5), boundary
    triangles and their tags (1000 + tag): a cube of ``cells``³ cubes, 6 tetrahedra each."""
    from tmsfield.head_models.geometry import signed_volumes
    from tmsfield.head_models.surfaces import boundary_faces
    n = cells + 1
    grid = np.stack(np.meshgrid(*[np.linspace(-size_mm / 2, size_mm / 2, n)] * 3, indexing="ij"), -1)
    nodes = grid.reshape(-1, 3)
    index = np.arange(n**3).reshape(n, n, n)
    corner = index[:-1, :-1, :-1].ravel()
    offsets = {(i, j, k): i * n * n + j * n + k for i in (0, 1) for j in (0, 1) for k in (0, 1)}
    paths = [((1, 0, 0), (1, 1, 0)), ((1, 0, 0), (1, 0, 1)), ((0, 1, 0), (1, 1, 0)),
             ((0, 1, 0), (0, 1, 1)), ((0, 0, 1), (1, 0, 1)), ((0, 0, 1), (0, 1, 1))]
    tets = np.concatenate([np.stack([corner, corner + offsets[a], corner + offsets[b],
                                     corner + offsets[(1, 1, 1)]], axis=1) for a, b in paths])
    negative = signed_volumes(nodes, tets) < 0
    tets[negative] = tets[negative][:, [0, 2, 1, 3]]
    centroids = nodes[tets].mean(axis=1)
    tags = np.where(np.linalg.norm(centroids, axis=1) < 45.0, 3, 5)
    tris, owner = boundary_faces(tets)
    return nodes, tets, tags, tris, 1000 + tags[owner]


def _msh22_ascii(nodes, tets, tags, tris, tri_tags) -> bytes:
    lines = ["$MeshFormat", "2.2 0 8", "$EndMeshFormat", "$Nodes", str(len(nodes))]
    lines += [f"{i + 1} {x!r} {y!r} {z!r}" for i, (x, y, z) in enumerate(nodes.tolist())]
    lines += ["$EndNodes", "$Elements", str(len(tris) + len(tets))]
    eid = 1
    for etype, conn, etags in ((2, tris, tri_tags), (4, tets, tags)):
        for row, tag in zip(conn.tolist(), etags.tolist()):
            lines.append(f"{eid} {etype} 2 {tag} {tag} " + " ".join(str(v + 1) for v in row))
            eid += 1
    lines += ["$EndElements", ""]
    return "\n".join(lines).encode()


def _msh41(nodes, tets, tags, tris, tri_tags, binary: bool) -> bytes:
    """MSH 4.1 with one entity per tag (physical group = the tag), nodes in one block."""
    out = [b"$MeshFormat\n4.1 %d 8\n" % binary]
    if binary:
        out.append(struct.pack("<i", 1) + b"\n")
    out.append(b"$EndMeshFormat\n")
    ints = (lambda *v: struct.pack(f"<{len(v)}i", *v)) if binary else (lambda *v: " ".join(map(str, v)).encode() + b"\n")
    sizes = (lambda *v: struct.pack(f"<{len(v)}Q", *v)) if binary else ints
    doubles = (lambda *v: struct.pack(f"<{len(v)}d", *v)) if binary else (lambda *v: " ".join(map(repr, v)).encode() + b"\n")
    lo, hi = nodes.min(axis=0).tolist(), nodes.max(axis=0).tolist()
    surf, vol = np.unique(tri_tags).tolist(), np.unique(tags).tolist()
    body = [sizes(0, 0, len(surf), len(vol))]
    for _dim, groups in ((2, surf), (3, vol)):
        for i, tag in enumerate(groups):
            if binary:
                body.append(ints(i + 1) + doubles(*lo, *hi) + sizes(1) + ints(tag) + sizes(0))
            else:
                body.append(b"%d %s 1 %d 0\n" % (i + 1, " ".join(map(repr, lo + hi)).encode(), tag))
    out += [b"$Entities\n", *body, b"\n" if binary else b"", b"$EndEntities\n"]
    n = len(nodes)
    body = [sizes(1, n, 1, n), ints(3, 1, 0) + sizes(n) if binary else b"3 1 0 %d\n" % n]
    body += [np.arange(1, n + 1, dtype="<u8").tobytes() if binary else
             b"".join(b"%d\n" % i for i in range(1, n + 1))]
    body += [nodes.astype("<f8").tobytes() if binary else b"".join(doubles(*row) for row in nodes.tolist())]
    out += [b"$Nodes\n", *body, b"\n" if binary else b"", b"$EndNodes\n"]
    blocks, eid = [], 1
    for dim, etype, conn, etags, groups in ((2, 2, tris, tri_tags, surf), (3, 4, tets, tags, vol)):
        for i, tag in enumerate(groups):
            rows = conn[etags == tag] + 1
            table = np.column_stack([np.arange(eid, eid + len(rows)), rows])
            eid += len(rows)
            head = ints(dim, i + 1, etype) + sizes(len(rows)) if binary else b"%d %d %d %d\n" % (dim, i + 1, etype, len(rows))
            data = table.astype("<u8").tobytes() if binary else b"".join(ints(*r) for r in table.tolist())
            blocks.append(head + data)
    body = [sizes(len(blocks), eid - 1, 1, eid - 1), *blocks]
    out += [b"$Elements\n", *body, b"\n" if binary else b"", b"$EndElements\n"]
    return b"".join(out)


def write_seeds(folder: Path) -> dict[str, Path]:
    """The seed file of every format in ``folder``."""
    import meshio

    from tmsfield.head_models.gmsh_msh import write_msh
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nodes, tets, tags, tris, tri_tags = seed_mesh()
    paths = {fmt: folder / f"seed_{fmt}{SUFFIX.get(fmt, '.msh')}" for fmt in FORMATS}
    paths["msh22-ascii"].write_bytes(_msh22_ascii(nodes, tets, tags, tris, tri_tags))
    write_msh(paths["msh22-binary"], nodes, triangles=tris, triangle_tags=tri_tags,
              tetrahedra=tets, tetrahedron_tags=tags)
    paths["msh-gz"].write_bytes(gzip.compress(paths["msh22-binary"].read_bytes()))
    cells = [("triangle", tris.astype(np.int32)), ("tetra", tets.astype(np.int32))]
    data = {"gmsh:physical": [tri_tags.astype(np.int32), tags.astype(np.int32)],
            "gmsh:geometrical": [tri_tags.astype(np.int32), tags.astype(np.int32)]}
    for fmt, binary in (("msh41-ascii", False), ("msh41-binary", True)):
        paths[fmt].write_bytes(_msh41(nodes, tets, tags, tris, tri_tags, binary))
    metres = meshio.Mesh(nodes * 1e-3, cells, cell_data=data)
    meshio.write(paths["vtu"], metres, file_format="vtu", compression="zlib")
    return paths


# ------------------------------------------------------------------------------ mutations

_INT = re.compile(rb"-?\d+")
_JUNK = [b"-1", b"0", b"nan", b"inf", b"1e308", b"99999999999999999999", b"$Nodes\n", b"$EndNodes\n",
         b"$Elements\n", b"$EndElements\n", b"\n", b" ", b"\x00", b"\xff" * 8, b"4.1 1 8\n",
         b'"', b"<", b"</DataArray>", b'NumberOfComponents="7"', b"_", b"=" * 4, b"9" * 5000]


def _count_value(rng: random.Random, n: int) -> int:
    return rng.choice([0, 1, -1, n - 1, n + 1, 2 * n, n // 2, 2**31 - 1, 2**31, 2**32 + n,
                       10**9, 10**18, 2**63 - 1, -(2**31)])


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """``data`` with 1-3 random mutations, and their descriptions."""
    done = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        size = len(data)
        if size == 0:
            break
        op = rng.choice(["flip", "flip", "truncate", "insert", "delete", "duplicate", "count",
                         "count", "word"])
        at = rng.randrange(size)
        if op == "flip":
            k = rng.choice([1, 1, 2, 8])
            buf = bytearray(data)
            for _ in range(k):
                i = rng.randrange(size)
                buf[i] = rng.randrange(256) if rng.random() < 0.5 else buf[i] ^ (1 << rng.randrange(8))
            data, text = bytes(buf), f"flip {k} byte(s) near {at}"
        elif op == "truncate":
            data, text = data[:at], f"truncate at {at}"
        elif op == "insert":
            junk = rng.choice(_JUNK) if rng.random() < 0.7 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32)))
            data, text = data[:at] + junk + data[at:], f"insert {junk[:16]!r} at {at}"
        elif op == "delete":
            stop = min(size, at + rng.choice([1, 4, 28, 100, 1000, 10**5]))
            data, text = data[:at] + data[stop:], f"delete {at}:{stop}"
        elif op == "duplicate":
            stop = min(size, at + rng.choice([4, 28, 100, 1000, 10000]))
            where = rng.randrange(size)
            data, text = data[:where] + data[at:stop] + data[where:], f"copy {at}:{stop} to {where}"
        elif op == "count":
            numbers = list(_INT.finditer(data, 0, min(size, 4096) if rng.random() < 0.5 else size))
            if not numbers:
                continue
            m = rng.choice(numbers)
            value = _count_value(rng, int(m.group()) if len(m.group()) < 19 else 1)
            data = data[:m.start()] + str(value).encode() + data[m.end():]
            text = f"number {m.group()[:20]!r} at {m.start()} -> {value}"
        else:   # a binary int32/int64 word
            width = rng.choice([4, 8])
            at -= at % 4
            if at + width > size:
                continue
            old = int.from_bytes(data[at:at + width], "little", signed=True)
            value = _count_value(rng, abs(old) if abs(old) < 2**40 else 1)
            packed = struct.pack("<i" if width == 4 else "<q",
                                 max(min(value, 2**(8 * width - 1) - 1), -2**(8 * width - 1)))
            data, text = data[:at] + packed + data[at + width:], f"int{8 * width} at {at} -> {value}"
        done.append(text)
    return data, done


def case_bytes(seed: bytes, fmt: str, case: int, master_seed: int) -> tuple[bytes, list[str]]:
    """The mutated file of one case (deterministic in its arguments)."""
    return mutate(seed, random.Random(f"{master_seed}-{fmt}-{case}"))


# --------------------------------------------------------------------------------- worker

class _Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise _Hang()


def worker(fmt: str, first: int, cases: int, master_seed: int, timeout: int, seeds: Path,
           log: Path, memory_gb: float) -> None:
    """Run cases ``first``..``cases``-1 of ``fmt``; one line per case start/outcome in ``log``."""
    import logging
    import warnings

    import tmsfield as tf
    from tmsfield.core.errors import TmsFieldError
    logging.getLogger("tmsfield").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    if memory_gb:
        limit = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    seed_path = write_seeds(seeds)[fmt] if not (seeds / "done").exists() else \
        next(seeds.glob(f"seed_{fmt}.*"))
    seed = seed_path.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="fuzz_")) / f"case{SUFFIX.get(fmt, '.msh')}"
    signal.signal(signal.SIGALRM, _alarm)
    with open(log, "a", buffering=1) as out:
        for case in range(first, cases):
            data, _ = case_bytes(seed, fmt, case, master_seed)
            work.write_bytes(data)
            out.write(f"S {case}\n")
            start = time.perf_counter()
            signal.alarm(timeout)
            try:
                tf.load_head(work)
                outcome, detail = "ok", ""
            except _Hang:
                outcome, detail = "hang", ""
            except TmsFieldError as exc:
                outcome, detail = "clean", type(exc).__name__
            except BaseException as exc:   # noqa: BLE001  (SystemExit too: that is the point)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                outcome = "traceback"
                detail = "".join(traceback.format_exception(exc)[-6:]).replace("\n", "\\n")
            finally:
                signal.alarm(0)
            out.write(f"R {case} {outcome} {time.perf_counter() - start:.4f} {detail}\n")


# ------------------------------------------------------------------------------- campaign

def run_format(fmt: str, cases: int, master_seed: int, timeout: int, seeds: Path,
               memory_gb: float) -> dict:
    """All cases of one format, in worker subprocesses restarted after a crash."""
    log = seeds / f"log_{fmt}.txt"
    log.unlink(missing_ok=True)
    counts, tracebacks, crashes, slowest = Counter(), [], [], (0.0, None)
    first, started = 0, time.perf_counter()
    while first < cases:
        command = [sys.executable, "-m", "tmsfield.validation.fuzz_meshes", "--worker", fmt,
                   "--first", str(first), "--cases", str(cases), "--seed", str(master_seed),
                   "--timeout", str(timeout), "--seeds", str(seeds), "--log", str(log),
                   "--memory-gb", str(memory_gb)]
        try:
            proc = subprocess.run(command, capture_output=True, text=True,
                                  timeout=timeout * (cases - first) + 600)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        results, last_started = {}, None
        for line in log.read_text().splitlines():
            parts = line.split(" ", 4)
            if parts[0] == "S":
                last_started = int(parts[1])
            elif parts[0] == "R":
                results[int(parts[1])] = parts[2:]
        if rc == 0 and last_started == cases - 1 and last_started in results:
            first = cases
        elif last_started is not None and last_started not in results:   # died inside a case
            kind = "hang" if rc == "timeout" else "crash"
            crashes.append({"case": last_started, "kind": kind, "returncode": rc,
                            "stderr": (proc.stderr[-2000:] if rc != "timeout" else "")})
            results[last_started] = [kind, "0", f"worker {rc}"]
            first = last_started + 1
            log.write_text("".join(f"R {c} {' '.join(r)}\n" for c, r in sorted(results.items())))
        else:
            raise RuntimeError(f"{fmt}: worker failed outside a case (rc {rc}): "
                               f"{proc.stderr[-3000:] if rc != 'timeout' else ''}")
    results = {}
    for line in log.read_text().splitlines():
        parts = line.split(" ", 4)
        if parts[0] == "R":
            results[int(parts[1])] = parts[2:]
    errors = Counter()
    for case, (outcome, seconds, *detail) in sorted(results.items()):
        counts[outcome] += 1
        if float(seconds) > slowest[0]:
            slowest = (float(seconds), case)
        if outcome == "clean":
            errors[detail[0] if detail else "?"] += 1
        if outcome == "traceback" and len(tracebacks) < 5:
            text = detail[0].replace("\\n", "\n") if detail else ""
            tracebacks.append({"case": case, "traceback": text})
    return {"format": fmt, "cases": len(results), "clean_errors": counts["clean"], "ok": counts["ok"],
            "tracebacks": counts["traceback"], "hangs": counts["hang"], "crashes": counts["crash"],
            "error_types": dict(errors), "first_tracebacks": tracebacks, "crash_cases": crashes[:5],
            "slowest_case_s": round(slowest[0], 3), "slowest_case": slowest[1],
            "seconds": round(time.perf_counter() - started, 1)}


def _machine() -> dict:
    import meshio

    import tmsfield  # noqa: F401
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "meshio": meshio.__version__}


def write_report(rows: list[dict], args, command: str, out: Path) -> None:
    from tmsfield.core.files import write_text_atomic
    record = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
              "machine": _machine(), "cases_per_format": args.cases, "seed": args.seed,
              "timeout_s": args.timeout, "memory_gb": args.memory_gb, "formats": rows}
    write_text_atomic(out.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    lines = ["# Mesh readers under mutated input (robustness campaign)", "",
             f"Produced by `{command}` on {record['date']}; machine: {record['machine']['platform']}, "
             f"{record['machine']['cpus']} CPUs (shared), Python {record['machine']['python']}, "
             f"numpy {record['machine']['numpy']}, meshio {record['machine']['meshio']}.", "",
             "Each case mutates a small seed mesh (1296 tetrahedra) and loads it with "
             "`tmsfield.load_head` (see the module docstring of `validation/fuzz_meshes.py`). "
             f"Per-case timeout {args.timeout} s, address space {args.memory_gb} GiB per worker. "
             "Target: 0 tracebacks, 0 hangs, 0 crashes.", "",
             "| format | cases | clean errors | loads | tracebacks | hangs | crashes | slowest case | time |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['format']} | {r['cases']} | {r['clean_errors']} | {r['ok']} | {r['tracebacks']} | "
                     f"{r['hangs']} | {r['crashes']} | {r['slowest_case_s']} s | {r['seconds']} s |")
    lines += ["", "Error types of the clean errors:", ""]
    for r in rows:
        lines.append(f"- {r['format']}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["error_types"].items())))
    problems = [(r["format"], t) for r in rows for t in r["first_tracebacks"]]
    if problems:
        lines += ["", "## First tracebacks", ""]
        for fmt, t in problems:
            lines += [f"{fmt}, case {t['case']} (`--replay {fmt} {t['case']} FILE`):", "```",
                      t["traceback"].strip(), "```"]
    write_text_atomic(out.with_suffix(".md"), "\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per format")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=10, help="seconds per case")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="address-space limit per worker")
    parser.add_argument("--out", type=Path, default=RESULTS / "robustness_meshes.md")
    parser.add_argument("--replay", nargs=3, metavar=("FORMAT", "CASE", "OUT"))
    parser.add_argument("--worker", choices=FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seeds", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.first, args.cases, args.seed, args.timeout, args.seeds, args.log,
               args.memory_gb)
        return
    if args.replay:
        fmt, case, out = args.replay
        folder = Path(tempfile.mkdtemp(prefix="fuzz_seeds_"))
        data, what = case_bytes(write_seeds(folder)[fmt].read_bytes(), fmt, int(case), args.seed)
        Path(out).write_bytes(data)
        print(f"{out}: {'; '.join(what)}")
        return
    command = "python -m tmsfield.validation.fuzz_meshes " + " ".join(argv if argv is not None else sys.argv[1:])
    seeds = Path(tempfile.mkdtemp(prefix="fuzz_seeds_"))
    write_seeds(seeds)
    (seeds / "done").touch()
    rows = []
    for fmt in args.formats:
        row = run_format(fmt, args.cases, args.seed, args.timeout, seeds, args.memory_gb)
        print(f"{fmt}: {row['cases']} cases, {row['clean_errors']} clean errors, {row['ok']} loads, "
              f"{row['tracebacks']} tracebacks, {row['hangs']} hangs, {row['crashes']} crashes "
              f"({row['seconds']} s)", flush=True)
        rows.append(row)
    write_report(rows, args, command, args.out)


if __name__ == "__main__":
    main()
