"""gmsh .msh files: a vectorised reader (MSH 2.2 and 4.1, ASCII or binary, optionally gzipped)
and a writer of MSH 2.2 binary files in the SimNIBS layout.

Reading (:func:`read_msh`)
    Coordinates come back exactly as stored (SimNIBS files are in mm; unit conversion belongs
    to :mod:`tmsfield.head_models.io`). Connectivity is returned as 0-based rows of ``nodes``;
    gmsh node ids may be sparse and in any order. Triangles (gmsh type 2) and linear
    tetrahedra (type 4) are kept; every other element type is parsed and skipped.
    The tissue tag of an element follows SimNIBS: in MSH 2.2 its first tag (the physical tag;
    0 when the element has no tags), in MSH 4.1 the first physical group of its entity in
    ``$Entities``, or the entity tag when the entity belongs to no physical group (meshio's
    "gmsh:physical" is the same wherever every entity has a physical group).
    Each section is parsed with numpy in one go (ASCII: one C-level parse of all its numbers;
    binary: views of the file bytes); Python loops run per element block or per entity,
    never per element or line. Every malformed file raises :class:`FileFormatError` naming the
    file, the section and what is wrong.

Writing (:func:`write_msh`)
    MSH 2.2 binary as SimNIBS writes it, atomically; see the function.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import FileFormatError, MeshError, TmsFieldError
from ..core.files import atomic_path

TRIANGLE, TETRAHEDRON = 2, 4
#: nodes per element of every fixed-size gmsh element type (from gmsh's own element table)
NODES_PER_ELEMENT = {
    1: 2, 2: 3, 3: 4, 4: 4, 5: 8, 6: 6, 7: 5, 8: 3, 9: 6, 10: 9, 11: 10, 12: 27, 13: 18,
    14: 14, 15: 1, 16: 8, 17: 20, 18: 15, 19: 13, 20: 9, 21: 10, 22: 12, 23: 15, 24: 15,
    25: 21, 26: 4, 27: 5, 28: 6, 29: 20, 30: 35, 31: 56, 32: 22, 33: 28, 36: 16, 37: 25,
    38: 36, 39: 12, 40: 16, 41: 20, 42: 28, 43: 36, 44: 45, 45: 55, 46: 66, 47: 49, 48: 64,
    49: 81, 50: 100, 51: 121, 52: 18, 53: 21, 54: 24, 55: 27, 56: 30, 57: 24, 58: 28, 59: 32,
    60: 36, 61: 40, 62: 7, 63: 8, 64: 9, 65: 10, 66: 11, 71: 84, 72: 120, 73: 165, 74: 220,
    75: 286, 79: 34, 80: 40, 81: 46, 82: 52, 83: 58, 84: 1, 85: 1, 86: 1, 87: 1, 88: 1, 89: 1,
    92: 64, 93: 125, 94: 216, 95: 343, 96: 512, 97: 729, 98: 1000, 99: 32, 100: 44, 101: 56,
    102: 68, 103: 80, 104: 92, 105: 104, 118: 30, 119: 55, 120: 91, 121: 140, 122: 204,
    123: 285, 124: 385, 125: 21, 126: 29, 127: 37, 128: 45, 129: 53, 130: 61, 131: 69, 132: 1,
    137: 16,
}
_KEPT = {TRIANGLE: 3, TETRAHEDRON: 4}
#: data components gmsh understands: scalar, vector, tensor
DATA_COMPONENTS = (1, 3, 9)
_CONVERT = "convert it with `gmsh {name} -save -format msh22 -o out.msh`"
#: default cap (bytes) on a .msh file, and on what a .msh.gz inflates to: a real head mesh is
#: well below it (SimNIBS charm heads: ~0.2-0.5 GB); raise it with ``read_msh(max_bytes=...)``
MAX_BYTES = 2**31
#: without an explicit ``max_bytes``, a gzipped file may also inflate to at most this many times
#: its compressed size (meshes compress 2-5x; a decompression bomb ~1000x), once past
#: ``GZIP_RATIO_FLOOR`` bytes
GZIP_MAX_RATIO = 100
GZIP_RATIO_FLOOR = 64 * 2**20
_CHUNK = 16 * 2**20

_SPACE = re.compile(rb"\s*")
_HEADER = re.compile(rb"\$(\w+)[ \t\r]*(?:\n|$)")
_NUMBER = {np.dtype(np.int64): rb"[+-]?\d+",
           np.dtype(np.float64): rb"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|(?i:nan|inf(?:inity)?))"}
#: the first whitespace-separated token that is not a number of the given dtype
_BAD_TOKEN = {dt: re.compile(rb"(?<!\S)(?!(?:%s)(?!\S))\S+" % num) for dt, num in _NUMBER.items()}


@dataclass(frozen=True, eq=False)
class MshData:
    """Triangles and tetrahedra of a .msh file, with its node and element data.

    Attributes
    ----------
    nodes : (N, 3) float64, coordinates as stored in the file (SimNIBS: mm), in file order.
    tetrahedra : (M, 4) int64, 0-based rows of ``nodes``, in file order.
    tetrahedron_tags : (M,) int64 tissue tags (see the module docstring).
    triangles : (K, 3) int64, 0-based rows of ``nodes``.
    triangle_tags : (K,) int64 (SimNIBS: 1000 + tissue).
    node_data : name -> (N,) or (N, c) float64 from ``$NodeData`` (c components), matched to
        ``nodes`` by node id; NaN at nodes the section gives no value for.
    element_data : name -> (M,) or (M, c) float64 from ``$ElementData``, matched to
        ``tetrahedra`` by element id; NaN where the section gives no value.
    triangle_data : name -> (K,) or (K, c), the same sections matched to ``triangles``.

    Values on other element types are dropped. A data section named like an earlier one
    replaces it (a gmsh time series keeps its last step).
    """

    nodes: np.ndarray
    tetrahedra: np.ndarray
    tetrahedron_tags: np.ndarray
    triangles: np.ndarray
    triangle_tags: np.ndarray
    node_data: dict = field(default_factory=dict)
    element_data: dict = field(default_factory=dict)
    triangle_data: dict = field(default_factory=dict)
    #: gmsh ids of ``nodes``, ``tetrahedra`` and ``triangles`` (for messages that name them)
    node_ids: np.ndarray | None = None
    tetrahedron_ids: np.ndarray | None = None
    triangle_ids: np.ndarray | None = None


# ---------------------------------------------------------------------------------- reading

@dataclass
class _Block:
    """One element block: raw ids/node ids (views of the file where possible)."""
    etype: int
    ids: np.ndarray                 # (n,) element ids
    nodes: np.ndarray | None        # (n, k) node ids; None for skipped element types
    tags: np.ndarray | int | None   # (n,) or one tag (MSH 2.2); None: from ``entity`` (4.1)
    entity: tuple | None = None     # (dim, entity tag), MSH 4.1


@dataclass
class _Raw:
    """What the sections of a file hold, before ids are resolved to rows."""
    node_ids: np.ndarray | None = None
    nodes: np.ndarray | None = None
    blocks: list | None = None
    physical: dict = field(default_factory=dict)      # (dim, entity tag) -> physical tag | None
    node_data: dict = field(default_factory=dict)     # name -> (ids (n,), values (n, c))
    element_data: dict = field(default_factory=dict)


class _File:
    """One .msh file being parsed: its bytes, its format (from $MeshFormat), error helpers."""

    def __init__(self, path: Path, buf: bytes):
        self.path, self.buf = path, buf
        self.version: int | None = None   # 2 or 4 once $MeshFormat is read
        self.binary = False
        self.endian = "<"
        self.size_t = np.dtype("<u8")

    def error(self, section: str, message: str) -> FileFormatError:
        return FileFormatError(f"{self.path}: ${section}: {message}")

    def where(self, pos: int) -> str:
        """``pos`` as a reader finds it: a line (ASCII) or a byte offset (binary)."""
        if self.binary:
            return f"byte {pos}"
        line = self.buf.count(b"\n", 0, pos) + 1
        return f"line {line}"

    def at_eof(self, end: int) -> bool:
        """Whether section data that stop at ``end`` ran into the end of the file."""
        return not self.buf.startswith(b"$", end)

    def short(self, section: str, end: int, done: int, total: int, unit: str) -> FileFormatError:
        """The error for a section whose data stop (at ``end``) after ``done`` of ``total``."""
        if self.at_eof(end):
            return self.error(section, f"the file ends after {done} of {total} {unit} "
                                       "(truncated file? export or download it again)")
        return self.error(section, f"holds {done} of the {total} {unit} its header announces "
                                   f"(ends at {self.where(end)}): the counts do not match the data")

    def line(self, section: str, pos: int) -> tuple[bytes, int]:
        """The stripped line starting at ``pos`` and the position after it."""
        if pos >= len(self.buf):
            raise self.error(section, "the file ends inside the section (truncated file?)")
        eol = self.buf.find(b"\n", pos)
        eol = len(self.buf) if eol < 0 else eol
        return self.buf[pos:eol].strip(), eol + 1

    def int_line(self, section: str, pos: int, what: str) -> tuple[int, int]:
        """A line holding one non-negative integer (``what``) and the position after it."""
        text, after = self.line(section, pos)
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            found = text[:40].decode("ascii", "replace")
            raise self.error(section, f"expected {what} at {self.where(pos)}, found {found!r}")
        return value, after

    def ascii_end(self, pos: int) -> int:
        """Start of the first line at or after ``pos`` that begins with '$'; in a file that
        ends first (truncated), the end of its last whole token."""
        nxt = self.buf.find(b"\n$", pos - 1)
        if nxt >= 0:
            return nxt + 1
        end = len(self.buf)
        while end > pos and not self.buf[end - 1:end].isspace():   # a cut-off number
            end -= 1
        return end


def _numbers(f: _File, section: str, start: int, end: int, dtype) -> np.ndarray:
    """All whitespace-separated numbers of ``f.buf[start:end]``, parsed in one numpy call."""
    dtype = np.dtype(dtype)
    text = f.buf[start:end]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)  # older numpy warns and stops early
            return np.fromstring(text, dtype=dtype, sep=" ")
    except (ValueError, DeprecationWarning):
        pass
    bad = _BAD_TOKEN[dtype].search(text)
    kind = "integer" if dtype.kind == "i" else "number"
    if bad is None:
        raise f.error(section, f"the values from {f.where(start)} on cannot be read as numbers")
    token = bad.group()[:40].decode("ascii", "replace")
    raise f.error(section, f"{token!r} at {f.where(start + bad.start())} is not a "
                           f"{kind}: the file is corrupt")


def _token_where(f: _File, start: int, end: int, index: int) -> str:
    """The line of the ``index``-th number in ``f.buf[start:end]`` (for error messages)."""
    space = np.frombuffer(f.buf, np.uint8, end - start, start) <= 32
    token_starts = np.flatnonzero(~space & np.concatenate(([True], space[:-1])))
    return f.where(start + int(token_starts[min(index, len(token_starts) - 1)]))


def _integers(f: _File, section: str, values: np.ndarray, what: str) -> np.ndarray:
    """``values`` (ASCII numbers parsed as float64) as int64; every one must be an integer."""
    with np.errstate(invalid="ignore"):   # NaN/inf/huge values: caught just below
        ints = values.astype(np.int64)
    bad = np.flatnonzero(ints != values)
    if len(bad):
        raise f.error(section, f"{what} must be integers, found {float(values[bad[0]])!r}")
    return ints


class _Values:
    """Sequential reader of one section's numbers: ASCII tokens or binary values.

    ``total``/``unit``/``done``/``per`` (values per item of the current block) describe the
    progress, so that a section that ends early says how many of its items were complete.
    """

    def __init__(self, f: _File, section: str, pos: int, *, integers: bool = False):
        self.f, self.section, self.pos, self.start = f, section, pos, pos
        self.total, self.unit, self.done, self.per = None, "values", 0, 0
        if not f.binary:
            self.end = f.ascii_end(pos)
            self.tokens = _numbers(f, section, pos, self.end, np.int64 if integers else np.float64)
            self.pos = 0

    def take(self, count: int, kind: str, *, convert: bool = True) -> np.ndarray:
        """The next ``count`` values of ``kind``: "i" (int32 in binary files), "z" (size_t) or
        "d" (float64). Converted to int64/float64 unless ``convert`` is False (then binary
        values are views of the file bytes)."""
        count = int(count)
        if count < 0:
            raise self.f.error(self.section, f"negative count {count}: the file is corrupt")
        if self.f.binary:
            dtype = self.f.size_t if kind == "z" else np.dtype(self.f.endian + ("i4" if kind == "i" else "f8"))
            available = (len(self.f.buf) - self.pos) // dtype.itemsize
            if available < count:
                raise self._short(available, len(self.f.buf))
            out = np.frombuffer(self.f.buf, dtype, count, self.pos)
            self.pos += count * dtype.itemsize
        else:
            available = len(self.tokens) - self.pos
            if available < count:
                raise self._short(available, self.end)
            out = self.tokens[self.pos:self.pos + count]
            self.pos += count
        if not convert:
            return out
        if kind == "d":
            return out.astype(np.float64, copy=False)
        if out.dtype.kind == "f":
            return _integers(self.f, self.section, out, "ids, counts and types")
        return out.astype(np.int64, copy=False)

    def where(self) -> str:
        """The current position as a line (ASCII) or byte offset (binary)."""
        if self.f.binary:
            return self.f.where(self.pos)
        return _token_where(self.f, self.start, self.end, self.pos)

    def _short(self, available: int, end: int) -> FileFormatError:
        if self.total is None:
            return self.f.error(self.section, "the data end inside the section header (truncated file?)")
        done = self.done + (available // self.per if self.per else 0)
        return self.f.short(self.section, end, done, self.total, self.unit)

    def finish(self) -> int:
        """Position after the section's data; ASCII numbers left over are an error."""
        if self.f.binary:
            return self.pos
        if self.pos != len(self.tokens):
            raise self.f.error(self.section, f"{len(self.tokens) - self.pos} value(s) more than "
                                             f"the {self.total} {self.unit} the header announces: "
                                             "the counts do not match the data")
        return self.end


def _nodes_per_element(f: _File, section: str, etype: int, where) -> int:
    """Nodes of gmsh element type ``etype``; ``where()`` locates it for the error message."""
    count = NODES_PER_ELEMENT.get(int(etype))
    if count is None:
        raise f.error(section, f"unknown element type {etype} at {where()}: the file is corrupt "
                               "(an element before it may have too many or too few values) or uses "
                               "a variable-size element type this reader cannot skip")
    return count


def _mesh_format(f: _File, pos: int, raw: _Raw) -> int:
    text, after = f.line("MeshFormat", pos)
    words = text.split()
    if len(words) < 3 or words[1] not in (b"0", b"1") or not words[2].isdigit() or len(words[2]) > 3:
        found = text[:60].decode("ascii", "replace")
        raise f.error("MeshFormat", f"expected 'version file-type data-size', found {found!r}")
    version = words[0].decode("ascii", "replace")
    try:
        number = float(version)
    except ValueError:
        number = None
    if number not in (2.0, 2.1, 2.2, 4.1):
        raise f.error("MeshFormat", f"MSH version {version} is not supported (this reader handles "
                                    f"2.2 and 4.1); " + _CONVERT.format(name=f.path.name))
    f.version, f.binary, data_size = int(number), words[1] == b"1", int(words[2])
    if not f.binary:
        return after
    if data_size not in ((8,) if f.version == 2 else (4, 8)):
        raise f.error("MeshFormat", f"data-size {data_size} is not supported in binary MSH "
                                    f"{version} (expected {'8' if f.version == 2 else '4 or 8'})")
    marker = f.buf[after:after + 4]
    if len(marker) < 4:
        raise f.error("MeshFormat", "the file ends inside the section (truncated file?)")
    for endian in "<>":
        if np.frombuffer(marker, endian + "i4")[0] == 1:
            f.endian, f.size_t = endian, np.dtype(f"{endian}u{data_size}")
            return after + 4
    raise f.error("MeshFormat", f"the binary endianness marker is {marker!r}, not the integer 1: "
                                "the file is corrupt")


def _nodes(f: _File, pos: int, raw: _Raw) -> int:
    if raw.nodes is not None:
        raise f.error("Nodes", "a second $Nodes section: one mesh per file is supported")
    return (_nodes_v2 if f.version == 2 else _nodes_v4)(f, pos, raw)


def _nodes_v2(f: _File, pos: int, raw: _Raw) -> int:
    count, pos = f.int_line("Nodes", pos, "the number of nodes")
    if f.binary:
        record = np.dtype([("id", f.endian + "i4"), ("xyz", f.endian + "f8", (3,))])
        available = (len(f.buf) - pos) // record.itemsize
        if available < count:
            raise f.short("Nodes", len(f.buf), available, count, "nodes")
        data = np.frombuffer(f.buf, record, count, pos)
        raw.node_ids = data["id"].astype(np.int64)
        raw.nodes = np.ascontiguousarray(data["xyz"], dtype=np.float64)
        return pos + count * record.itemsize
    end = f.ascii_end(pos)
    values = _numbers(f, "Nodes", pos, end, np.float64)
    if len(values) < 4 * count:
        raise f.short("Nodes", end, len(values) // 4, count, "nodes")
    if len(values) > 4 * count:
        raise f.error("Nodes", f"{len(values) - 4 * count} value(s) more than the {count} nodes "
                               "the header announces: the counts do not match the data")
    table = values.reshape(count, 4)
    raw.node_ids = _integers(f, "Nodes", table[:, 0], "node ids")
    raw.nodes = table[:, 1:].copy()
    return end


def _nodes_v4(f: _File, pos: int, raw: _Raw) -> int:
    s = _Values(f, "Nodes", pos)
    n_blocks, s.total = (int(v) for v in s.take(4, "z")[:2])
    s.unit = "nodes"
    ids, coords = [], []
    for _ in range(n_blocks):
        s.per = 0
        dim, _, parametric = s.take(3, "i")
        count = s.take(1, "z")[0]
        ids.append(s.take(count, "z"))
        width = 3 + (int(dim) if parametric else 0)   # parametric nodes add u (v, w)
        s.per = width
        coords.append(s.take(count * width, "d").reshape(count, width)[:, :3])
        s.done += int(count)
    if s.done != s.total:
        raise f.error("Nodes", f"the header announces {s.total} nodes, the blocks hold {s.done}")
    raw.node_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    raw.nodes = np.concatenate(coords) if coords else np.zeros((0, 3))
    return s.finish()


def _elements(f: _File, pos: int, raw: _Raw) -> int:
    if raw.blocks is not None:
        raise f.error("Elements", "a second $Elements section: one mesh per file is supported")
    raw.blocks = []
    if f.version == 4:
        return _elements_v4(f, pos, raw)
    count, pos = f.int_line("Elements", pos, "the number of elements")
    return (_elements_v2_binary if f.binary else _elements_v2_ascii)(f, pos, count, raw)


def _repeats(words: np.ndarray, at: int, length: int, limit: int, key: slice) -> int:
    """How many consecutive rows of ``length`` integers, starting at ``at``, repeat the values
    in ``key`` (row offsets) of the first row: at most ``limit``, all complete in ``words``.
    Gallops (1, 2, 4, ... rows per check), so a run costs O(its length). The rows are blocks
    with their header (type, count, tags) in MSH 2.2 binary, which gmsh writes one per element,
    and elements (id, type, tags, ...) in MSH 2.2 ASCII."""
    complete = min(limit, (len(words) - at) // length)
    if complete == 0:
        return 0
    first, found, probe = words[at + key.start:at + key.stop], 1, 1
    while found < complete:
        probe = min(2 * probe, complete - found)
        rows = words[at + found * length:at + (found + probe) * length].reshape(probe, length)
        same = (rows[:, key] == first).all(axis=1)
        if not same.all():
            return found + int(np.argmin(same))
        found += probe
    return found


def _elements_v2_binary(f: _File, pos: int, count: int, raw: _Raw) -> int:
    words = np.frombuffer(f.buf, f.endian + "i4", (len(f.buf) - pos) // 4, pos)
    at, done = 0, 0
    while done < count:
        where = f.where(pos + 4 * at)
        if at + 3 > len(words):
            raise f.short("Elements", len(f.buf), done, count, "elements")
        etype, n, n_tags = (int(v) for v in words[at:at + 3])
        n_nodes = _nodes_per_element(f, "Elements", etype, lambda where=where: where)
        if n < 1 or n_tags < 0 or done + n > count:
            raise f.error("Elements", f"the block header at {where} announces {n} elements with "
                                      f"{n_tags} tags after {done} of {count} elements: the file is corrupt")
        width = 1 + n_tags + n_nodes
        length = 3 + n * width
        repeats = _repeats(words, at, length, (count - done) // n, slice(0, 3))
        if repeats == 0:
            complete = done + max(len(words) - at - 3, 0) // width
            raise f.short("Elements", len(f.buf), complete, count, "elements")
        rows = words[at:at + repeats * length].reshape(repeats, length)[:, 3:].reshape(repeats * n, width)
        raw.blocks.append(_Block(etype, rows[:, 0], rows[:, 1 + n_tags:] if etype in _KEPT else None,
                                 rows[:, 1] if n_tags else 0))
        at, done = at + repeats * length, done + repeats * n
    return pos + 4 * at


def _elements_v2_ascii(f: _File, pos: int, count: int, raw: _Raw) -> int:
    end = f.ascii_end(pos)
    tokens = _numbers(f, "Elements", pos, end, np.int64)
    at, done = 0, 0
    while done < count:
        if at + 3 > len(tokens):
            raise f.short("Elements", end, done, count, "elements")
        etype, n_tags = int(tokens[at + 1]), int(tokens[at + 2])
        n_nodes = _nodes_per_element(f, "Elements", etype, lambda at=at: _token_where(f, pos, end, at))
        if n_tags < 0:
            raise f.error("Elements", f"negative number of tags at {_token_where(f, pos, end, at)}: "
                                      "the file is corrupt")
        length = 3 + n_tags + n_nodes
        repeats = _repeats(tokens, at, length, count - done, slice(1, 3))
        if repeats == 0:
            raise f.short("Elements", end, done, count, "elements")
        rows = tokens[at:at + repeats * length].reshape(repeats, length)
        raw.blocks.append(_Block(etype, rows[:, 0], rows[:, 3 + n_tags:] if etype in _KEPT else None,
                                 rows[:, 3] if n_tags else 0))
        at, done = at + repeats * length, done + repeats
    if at != len(tokens):
        raise f.error("Elements", f"{len(tokens) - at} value(s) more than the {count} elements the "
                                  f"header announces (from {_token_where(f, pos, end, at)}): the "
                                  "counts do not match the data")
    return end


def _elements_v4(f: _File, pos: int, raw: _Raw) -> int:
    s = _Values(f, "Elements", pos, integers=True)
    n_blocks, s.total = (int(v) for v in s.take(4, "z")[:2])
    s.unit = "elements"
    for _ in range(n_blocks):
        s.per, where = 0, s.where
        dim, tag, etype = (int(v) for v in s.take(3, "i"))
        count = int(s.take(1, "z")[0])
        n_nodes = _nodes_per_element(f, "Elements", etype, where)
        s.per = 1 + n_nodes
        rows = s.take(count * s.per, "z", convert=False).reshape(count, s.per)
        raw.blocks.append(_Block(etype, rows[:, 0], rows[:, 1:] if etype in _KEPT else None, None,
                                 (dim, tag)))
        s.done += count
    if s.done != s.total:
        raise f.error("Elements", f"the header announces {s.total} elements, the blocks hold {s.done}")
    return s.finish()


def _entities(f: _File, pos: int, raw: _Raw) -> int:
    if f.version == 2:   # not part of MSH 2.2: skip it like any unknown section
        return _skip(f, "Entities", pos)
    s = _Values(f, "Entities", pos)
    per_dim = s.take(4, "z")
    s.total, s.unit = int(per_dim.sum()), "entities"
    for dim, count in enumerate(per_dim):
        for _ in range(int(count)):
            tag = int(s.take(1, "i")[0])
            s.take(3 if dim == 0 else 6, "d")                 # point or bounding box
            physical = s.take(s.take(1, "z")[0], "i")
            if dim > 0:
                s.take(s.take(1, "z")[0], "i")                # bounding entities
            raw.physical[(dim, tag)] = int(physical[0]) if len(physical) else None
            s.done += 1
    return s.finish()


def _data_section(section: str):
    """Parser of ``$NodeData`` / ``$ElementData`` (ASCII header, then id-value records)."""
    def parse(f: _File, pos: int, raw: _Raw) -> int:
        header = []
        for kind in ("string", "real", "integer"):
            count, pos = f.int_line(section, pos, f"the number of {kind} tags")
            for _ in range(count):
                text, pos = f.line(section, pos)
                header.append((kind, text))
        strings = [t.strip(b'"').decode("utf-8", "replace") for k, t in header if k == "string"]
        try:
            integers = [int(t) for k, t in header if k == "integer"]
        except ValueError:
            integers = []
        if not strings or len(integers) < 3 or integers[1] < 1 or integers[2] < 0:
            raise f.error(section, "the header needs a name (string tag) and the integer tags "
                                   "time step, number of components, number of values")
        name, components, count = strings[0], integers[1], integers[2]
        if components > max(DATA_COMPONENTS):   # before any array is shaped by it
            raise f.error(section, f"{name!r} announces {components} components per value; gmsh "
                                   f"writes {', '.join(map(str, DATA_COMPONENTS))}: the file is corrupt")
        if f.binary:
            record = np.dtype([("id", f.endian + "i4"), ("v", f.endian + "f8", (components,))])
            available = (len(f.buf) - pos) // record.itemsize
            if available < count:
                raise f.short(section, len(f.buf), available, count, f"values of {name!r}")
            data = np.frombuffer(f.buf, record, count, pos)
            ids = data["id"].astype(np.int64)
            values = data["v"].reshape(count, components)   # converted where it is placed
            end = pos + count * record.itemsize
        else:
            end = f.ascii_end(pos)
            numbers = _numbers(f, section, pos, end, np.float64)
            width = 1 + components
            if len(numbers) != count * width:
                if len(numbers) < count * width:
                    raise f.short(section, end, len(numbers) // width, count, f"values of {name!r}")
                raise f.error(section, f"{name!r}: {len(numbers) - count * width} value(s) more than "
                                       f"the {count} the header announces: the counts do not match the data")
            table = numbers.reshape(count, width)
            ids, values = _integers(f, section, table[:, 0], "ids"), table[:, 1:].copy()
        target = raw.node_data if section == "NodeData" else raw.element_data
        target[name] = (ids, values)
        return end
    return parse


def _skip(f: _File, name: str, pos: int) -> int:
    """Skip a section this reader does not interpret; return the position of its end marker."""
    end = f.buf.find(b"\n$End" + name.encode(), pos - 1)
    if end < 0:
        raise f.error(name, f"no $End{name} (truncated file?)")
    return end + 1


_PARSERS = {"MeshFormat": _mesh_format, "Nodes": _nodes, "Elements": _elements,
            "Entities": _entities, "NodeData": _data_section("NodeData"),
            "ElementData": _data_section("ElementData")}


def _expect_end(f: _File, name: str, pos: int) -> int:
    """Position after the ``$End<name>`` marker that must follow at ``pos``."""
    pos = _SPACE.match(f.buf, pos).end()
    marker = b"$End" + name.encode()
    after = pos + len(marker)
    if f.buf.startswith(marker, pos) and (after == len(f.buf) or f.buf[after:after + 1].isspace()):
        return after
    if pos >= len(f.buf):
        raise f.error(name, f"the file ends before $End{name} (truncated file?)")
    found = f.buf[pos:pos + 24].split(b"\n")[0].decode("ascii", "replace")
    raise f.error(name, f"expected $End{name} at {f.where(pos)}, found {found!r}: "
                        f"the section holds more data than its header announces, or $End{name} "
                        "is missing")


def _parse_sections(f: _File) -> _Raw:
    raw, pos, previous = _Raw(), 0, None
    while True:
        pos = _SPACE.match(f.buf, pos).end()
        if pos >= len(f.buf):
            return raw
        header = _HEADER.match(f.buf, pos)
        if header is None:
            found = f.buf[pos:pos + 24].split(b"\n")[0].decode("ascii", "replace")
            if previous is None:
                raise FileFormatError(f"{f.path}: does not start with $MeshFormat (found {found!r}): "
                                      "not a gmsh .msh file")
            raise f.error(previous, f"expected a section header ($Name) after $End{previous} at "
                                    f"{f.where(pos)}, found {found!r}: the file is corrupt")
        name = header.group(1).decode("ascii")
        if name.startswith("End"):
            raise f.error(previous or name[3:], f"unexpected ${name} at {f.where(pos)}: the file is corrupt")
        if f.version is None and name not in ("MeshFormat", "Comments"):
            raise FileFormatError(f"{f.path}: no $MeshFormat section before ${name}: "
                                  "not a gmsh .msh file, or its header is missing")
        parser = _PARSERS.get(name)
        end = parser(f, header.end(), raw) if parser else _skip(f, name, header.end())
        pos, previous = _expect_end(f, name, end), name


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n} bytes"


def file_bytes(path: Path, max_bytes: int | None = None, *, what: str = "mesh") -> bytes:
    """The file's bytes, decompressed in memory when it is gzipped (detected by its magic).

    Neither the file nor what it inflates to may exceed ``max_bytes`` (default
    :data:`MAX_BYTES`); without an explicit ``max_bytes`` a gzipped file may also inflate to at
    most :data:`GZIP_MAX_RATIO` times its size (past :data:`GZIP_RATIO_FLOOR`). Decompression
    runs in chunks and stops at the cap, so a decompression bomb costs at most the cap in memory.
    """
    cap = MAX_BYTES if max_bytes is None else int(max_bytes)
    raise_it = f"if the {what} is genuine, pass max_bytes= (e.g. max_bytes={4 * max(cap, 1)})"
    try:
        size = path.stat().st_size
        if size > cap:
            raise FileFormatError(f"{path}: the file is {_mib(size)}, more than the cap of "
                                  f"{_mib(cap)} (max_bytes={cap}); {raise_it}")
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if data[:2] != b"\x1f\x8b":
        return data
    limit, ratio = cap, None
    if max_bytes is None and GZIP_MAX_RATIO * len(data) < cap:
        limit, ratio = max(GZIP_RATIO_FLOOR, GZIP_MAX_RATIO * len(data)), GZIP_MAX_RATIO
        limit = min(limit, cap)
    chunks, total = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while True:
                chunk = stream.read(min(_CHUNK, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    why = (f"more than {ratio} times its compressed size of {_mib(len(data))}"
                           if ratio and limit < cap else f"more than the cap of {_mib(cap)} "
                                                         f"(max_bytes={cap})")
                    raise FileFormatError(f"{path}: the gzipped file inflates to {why}: a "
                                          f"decompression bomb, or an unusually large {what}; "
                                          f"{raise_it}")
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(f"{path}: not a readable gzip file ({exc}); download or compress "
                              "it again") from exc
    return b"".join(chunks)


class _IdIndex:
    """Vectorised map from gmsh ids (unique, any order) to 0-based rows: a lookup table when
    the ids are dense (the usual case), binary search when they are sparse."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        top = int(ids.max()) if len(ids) else -1
        self.table = None
        if not len(ids) or (ids.min() >= 0 and top < 4 * len(ids) + 1024):
            self.table = np.full(top + 1, -1, dtype=np.int64)
            self.table[ids] = np.arange(len(ids))
        else:
            self.order = np.argsort(ids, kind="stable")
            self.sorted = ids[self.order]

    def duplicate(self) -> int | None:
        """An id that occurs more than once, or None."""
        if self.table is not None and np.count_nonzero(self.table >= 0) == len(self.ids):
            return None
        values, counts = np.unique(self.ids, return_counts=True)
        return int(values[np.argmax(counts)]) if counts.max() > 1 else None

    def rows(self, query: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """Row of every id in ``query`` (int64, any shape), -1 for ids not in the index;
        written into ``out`` (which may be ``query`` itself) when given."""
        if not query.size:
            return np.zeros(query.shape, dtype=np.int64) if out is None else out
        if self.table is None:
            pos = np.minimum(np.searchsorted(self.sorted, query), len(self.sorted) - 1)
            rows = np.where(self.sorted[pos] == query, self.order[pos], -1)
        elif query.min() < 0 or query.max() >= len(self.table):
            inside = (query >= 0) & (query < len(self.table))
            rows = np.full(query.shape, -1, dtype=np.int64)
            rows[inside] = self.table[query[inside]]
        else:   # in bounds: element by element, so ``out`` may alias ``query``
            return np.take(self.table, query, out=out, mode="clip")
        if out is None:
            return rows
        out[...] = rows
        return out


def _block_tags(raw: _Raw, block: _Block):
    if block.tags is not None:
        return block.tags
    physical = raw.physical.get(block.entity)
    return block.entity[1] if physical is None else physical


def _gather(f: _File, raw: _Raw, etype: int, node_index: _IdIndex):
    """Connectivity as node rows (n, k), tags (n,) and element ids (n,) of type ``etype``."""
    blocks = [b for b in raw.blocks if b.etype == etype]
    n = sum(len(b.ids) for b in blocks)
    conn = np.empty((n, _KEPT[etype]), dtype=np.int64)
    tags, ids = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    start = 0
    for b in blocks:
        stop = start + len(b.ids)
        conn[start:stop], ids[start:stop], tags[start:stop] = b.nodes, b.ids, _block_tags(raw, b)
        start = stop
    node_index.rows(conn, out=conn)
    if conn.size and conn.min() < 0:
        row, col = np.argwhere(conn < 0)[0]
        block_nodes = np.concatenate([b.nodes for b in blocks])   # error path only
        kind = {TRIANGLE: "triangle", TETRAHEDRON: "tetrahedron"}[etype]
        raise f.error("Elements", f"{kind} {ids[row]} names node id {block_nodes[row, col]}, "
                                  "which $Nodes does not define: the file is corrupt")
    return conn, tags, ids


def _spread(values: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    """Values (n, c) placed at ``rows`` (-1: dropped) of a NaN array (size,) or (size, c)."""
    out = np.full((size, values.shape[1]), np.nan)
    hit = rows >= 0
    if hit.all():
        out[rows] = values
    else:
        out[rows[hit]] = values[hit]
    return out[:, 0] if values.shape[1] == 1 else out


def _element_values(f: _File, raw: _Raw, tet_ids: np.ndarray, tri_ids: np.ndarray):
    """``$ElementData`` matched to tetrahedra and to triangles by element id."""
    if not raw.element_data:
        return {}, {}
    tets, tris = _IdIndex(tet_ids), _IdIndex(tri_ids)
    for index in (tets, tris):
        if index.duplicate() is not None:
            raise f.error("Elements", f"element id {index.duplicate()} occurs twice, so "
                                      "$ElementData cannot be matched to elements")
    on_tets, on_tris = {}, {}
    for name, (ids, values) in raw.element_data.items():
        tet_rows, tri_rows = tets.rows(ids), tris.rows(ids)
        elsewhere = (tet_rows < 0) & (tri_rows < 0)
        if elsewhere.any():   # values on other element types are dropped; unknown ids are errors
            others = [b.ids for b in raw.blocks if b.etype not in _KEPT]
            missing = ~np.isin(ids[elsewhere], np.concatenate(others) if others else [])
            if missing.any():
                raise f.error("ElementData", f"{name!r} gives a value for element id "
                                             f"{ids[elsewhere][missing][0]}, which $Elements does not define")
        on_tets[name] = _spread(values, tet_rows, len(tet_ids))
        on_tris[name] = _spread(values, tri_rows, len(tri_ids))
    return on_tets, on_tris


def _assemble(f: _File, raw: _Raw) -> MshData:
    for name, missing in (("MeshFormat", f.version is None), ("Nodes", raw.nodes is None),
                          ("Elements", raw.blocks is None)):
        if missing:
            raise FileFormatError(f"{f.path}: no ${name} section (truncated file, or not a gmsh mesh)")
    finite = np.isfinite(raw.nodes).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)[0]
        raise f.error("Nodes", f"node {raw.node_ids[bad]} has a non-finite coordinate "
                               f"{raw.nodes[bad].tolist()}")
    node_index = _IdIndex(raw.node_ids)
    if node_index.duplicate() is not None:
        raise f.error("Nodes", f"node id {node_index.duplicate()} occurs twice")
    tets, tet_tags, tet_ids = _gather(f, raw, TETRAHEDRON, node_index)
    tris, tri_tags, tri_ids = _gather(f, raw, TRIANGLE, node_index)
    node_data = {}
    for name, (ids, values) in raw.node_data.items():
        rows = node_index.rows(ids)
        if (rows < 0).any():
            raise f.error("NodeData", f"{name!r} gives a value for node id {ids[rows < 0][0]}, "
                                      "which $Nodes does not define")
        node_data[name] = _spread(values, rows, len(raw.nodes))
    element_data, triangle_data = _element_values(f, raw, tet_ids, tri_ids)
    return MshData(raw.nodes, tets, tet_tags, tris, tri_tags, node_data, element_data, triangle_data,
                   raw.node_ids, tet_ids, tri_ids)


def read_msh(path: str | os.PathLike, *, max_bytes: int | None = None) -> MshData:
    """Read the triangles, tetrahedra, tags and data of a gmsh .msh file.

    Parameters
    ----------
    path : MSH 2.2 or 4.1 file, ASCII or binary, optionally gzipped (.msh.gz; detected by
        content, decompressed in memory).
    max_bytes : cap on the file's size and on what a gzipped file inflates to (default
        :data:`MAX_BYTES`, 2 GiB; a gzipped file is also refused when it inflates more than
        :data:`GZIP_MAX_RATIO` times unless ``max_bytes`` is given). Checked before reading
        and while decompressing; counts in section headers are checked against the bytes that
        follow before anything is allocated for them.

    Returns
    -------
    :class:`MshData` (coordinates as stored: SimNIBS files are in mm).

    Raises
    ------
    FileFormatError : for any malformed file, naming the file, the section and the problem
        (truncation with how many items were complete, unsupported versions, counts that do
        not match, missing end markers, non-numeric values, non-finite coordinates, element
        nodes that do not exist, unreadable gzip, files or inflated data above ``max_bytes``).
    """
    path = Path(path)
    f = _File(path, file_bytes(path, max_bytes))
    return _assemble(f, _parse_sections(f))


# ---------------------------------------------------------------------------------- writing

def _mesh_array(values, dtype, columns: int | None, name: str, path: Path) -> np.ndarray:
    array = np.asarray(values)
    shape_ok = array.ndim == 2 and array.shape[1] == columns if columns else array.ndim == 1
    if not shape_ok:
        want = f"(n, {columns})" if columns else "(n,)"
        raise MeshError(f"write_msh({path}): {name} must have shape {want}, got {array.shape}")
    return array.astype(dtype, copy=False)


def _data_columns(values, rows: int, name: str, path: Path) -> np.ndarray:
    """``values`` (rows,) or (rows, c) as float64 (rows, c) with c in DATA_COMPONENTS."""
    if not name or '"' in name or "\n" in name:
        raise TmsFieldError(f"write_msh({path}): data name {name!r} must be non-empty, without "
                            "quotes or line breaks")
    array = np.asarray(values, dtype=np.float64)
    if array.ndim:
        array = array.reshape(array.shape[0], int(np.prod(array.shape[1:])))
    if array.ndim != 2 or len(array) != rows or array.shape[1] not in DATA_COMPONENTS:
        raise TmsFieldError(f"write_msh({path}): data {name!r} has shape {np.shape(values)}; "
                            f"expected ({rows},) or ({rows}, c) with c in {DATA_COMPONENTS}")
    return array


def _element_data_columns(values, n_tris: int, n_tets: int, name: str, path: Path) -> np.ndarray:
    """Element data over all elements: given for triangles + tetrahedra, or for tetrahedra
    only (then the triangles get zeros)."""
    if np.shape(values)[:1] == (n_tets,) and n_tris:
        tets = _data_columns(values, n_tets, name, path)
        return np.concatenate([np.zeros((n_tris, tets.shape[1])), tets])
    return _data_columns(values, n_tris + n_tets, name, path)


def _write_records(fh, ids_from: int, **columns) -> None:
    """One packed little-endian record per row: int32 id, then the given float64 columns."""
    n = len(next(iter(columns.values())))
    fields = [("id", "<i4")] + [(key, "<f8", (value.shape[1],)) for key, value in columns.items()]
    records = np.empty(n, dtype=fields)
    records["id"] = np.arange(ids_from, ids_from + n)
    for key, value in columns.items():
        records[key] = value
    records.tofile(fh)


def _write_element_block(fh, etype: int, first_id: int, conn: np.ndarray, tags: np.ndarray) -> None:
    n, k = conn.shape
    np.array([etype, n, 2], dtype="<i4").tofile(fh)
    block = np.empty((n, 3 + k), dtype="<i4")
    block[:, 0] = np.arange(first_id, first_id + n)
    block[:, 1] = tags
    block[:, 2] = tags
    block[:, 3:] = conn
    block[:, 3:] += 1
    block.tofile(fh)


def _write_data(fh, section: str, name: str, values: np.ndarray) -> None:
    n, components = values.shape
    fh.write(f'${section}\n1\n"{name}"\n1\n0\n3\n0\n{components}\n{n}\n'.encode())
    _write_records(fh, 1, v=values)
    fh.write(f"\n$End{section}\n".encode())


def write_msh(path: str | os.PathLike, nodes, *, triangles=None, triangle_tags=None, tetrahedra,
              tetrahedron_tags, node_data=None, element_data=None) -> None:
    """Write a tagged mesh as gmsh MSH 2.2 binary in the SimNIBS layout, atomically.

    Parameters
    ----------
    path : output file (.msh); the file appears complete or not at all.
    nodes : (N, 3) coordinates, written as given (SimNIBS expects mm).
    triangles, triangle_tags : optional (K, 3) 0-based rows of ``nodes`` and (K,) tags
        (SimNIBS: 1000 + tissue).
    tetrahedra, tetrahedron_tags : (M, 4) 0-based rows of ``nodes`` and (M,) tissue tags.
    node_data : name -> (N,) or (N, c) values, c in (1, 3, 9), written as ``$NodeData``.
    element_data : name -> values over all K + M elements (triangles first), or over the M
        tetrahedra only (the triangles then get zeros, as in SimNIBS result files); shape
        (n,) or (n, c), c in (1, 3, 9); written as ``$ElementData``.

    Layout: nodes numbered 1..N; elements numbered 1..K+M, triangles (type 2) first, then
    tetrahedra (type 4), each with two tags (physical = elementary = the given tag); every
    data section has one string tag (the name), one real tag (time 0) and three integer tags
    (time step 0, components, number of values). Little-endian, data-size 8.
    """
    path = Path(path)
    nodes = _mesh_array(nodes, np.float64, 3, "nodes", path)
    tets = _mesh_array(tetrahedra, np.int64, 4, "tetrahedra", path)
    tet_tags = _mesh_array(tetrahedron_tags, np.int64, None, "tetrahedron_tags", path)
    tris = _mesh_array(np.zeros((0, 3)) if triangles is None else triangles, np.int64, 3,
                       "triangles", path)
    tri_tags = _mesh_array(np.zeros(0) if triangle_tags is None else triangle_tags, np.int64,
                           None, "triangle_tags", path)
    if len(tet_tags) != len(tets) or len(tri_tags) != len(tris):
        raise MeshError(f"write_msh({path}): {len(tets)} tetrahedra with {len(tet_tags)} tags, "
                        f"{len(tris)} triangles with {len(tri_tags)} tags")
    for name, conn in (("tetrahedra", tets), ("triangles", tris)):
        if conn.size and (conn.min() < 0 or conn.max() >= len(nodes)):
            raise MeshError(f"write_msh({path}): {name} refer to nodes outside 0..{len(nodes) - 1}")
    if max(len(nodes), len(tris) + len(tets)) >= 2**31:
        raise MeshError(f"write_msh({path}): MSH 2.2 binary numbers nodes and elements with int32")
    node_columns = {k: _data_columns(v, len(nodes), k, path) for k, v in (node_data or {}).items()}
    element_columns = {k: _element_data_columns(v, len(tris), len(tets), k, path)
                       for k, v in (element_data or {}).items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(b"$MeshFormat\n2.2 1 8\n" + np.array(1, "<i4").tobytes() + b"\n$EndMeshFormat\n")
        fh.write(f"$Nodes\n{len(nodes)}\n".encode())
        _write_records(fh, 1, xyz=nodes)
        fh.write(f"\n$EndNodes\n$Elements\n{len(tris) + len(tets)}\n".encode())
        if len(tris):
            _write_element_block(fh, TRIANGLE, 1, tris, tri_tags)
        if len(tets):
            _write_element_block(fh, TETRAHEDRON, 1 + len(tris), tets, tet_tags)
        fh.write(b"\n$EndElements\n")
        for name, values in node_columns.items():
            _write_data(fh, "NodeData", name, values)
        for name, values in element_columns.items():
            _write_data(fh, "ElementData", name, values)
