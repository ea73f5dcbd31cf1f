"""Atomic file writes (temporary file beside the target, then rename) and output folders replaced as a whole."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    The temporary file keeps the target's suffixes so format-sniffing writers (meshio)
    behave. On any exception the temporary file is removed and ``path`` is untouched.
    Temporary files of earlier writes to ``path`` whose process was killed are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)
    prefix = f".{path.stem}.part-"
    for leftover in path.parent.glob(glob.escape(prefix) + "*"):
        if leftover.name.endswith(suffix) and not _owner_alive(leftover):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file ordinary permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def read_utf8(path: str | os.PathLike, what: str) -> str:
    """The text of the file ``path`` (a byte-order mark dropped); FileFormatError naming the file,
    and for bytes that are not UTF-8 the line and byte offset, with ``what`` the file should be
    (e.g. "a .tcd file is JSON")."""
    from .errors import FileFormatError
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise FileFormatError(f"{path}, line {line} (byte offset {exc.start}): not UTF-8 text; {what}") from None


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


#: file written into every output folder by :func:`replaced_folder`: it marks the folder as
#: tmsfield's, so that a later run may replace it as a whole
OUTPUT_MARKER = ".tmsfield-output"
_STAGING, _ASIDE = "partial", "replaced"


def _owner_alive(path: Path) -> bool:
    """Whether the process that made the temporary file or folder ``path`` (".name.kind-PID-token…") runs."""
    try:
        pid = int(path.name.rsplit("-", 2)[-2])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:          # alive, another user's
        return True
    return True


def _clean_leftovers(target: Path) -> None:
    """Remove staging folders of killed runs into ``target``; a folder moved aside by a run killed
    between its two renames goes back in place when ``target`` is missing."""
    for kind in (_ASIDE, _STAGING):
        for leftover in target.parent.glob(f".{target.name}.{kind}-*"):
            if _owner_alive(leftover):
                continue
            if kind == _ASIDE and not target.exists():
                os.rename(leftover, target)
            else:
                shutil.rmtree(leftover, ignore_errors=True)


def _replaceable(target: Path, names: frozenset) -> bool:
    entries = {p.name for p in target.iterdir()}
    return not entries or OUTPUT_MARKER in entries or entries <= names


@contextlib.contextmanager
def replaced_folder(target: str | os.PathLike, *, names=(), note: str = ""):
    """Yield an empty staging folder beside the output folder ``target``; when the block ends
    without an error the staging folder replaces ``target`` as a whole (the old folder is moved
    aside, the new one renamed into place, the old one deleted), so a killed run leaves the old
    folder or the new one, never a mix. On an error the staging folder is removed.

    Entering checks that ``target`` can be written (call it before long work): a file in the way
    or a folder without permission is a TmsFieldError naming the path. An existing ``target`` is
    replaced only when it is empty, carries :data:`OUTPUT_MARKER`, or holds only files named in
    ``names`` (the command's outputs); otherwise it is someone's folder and the run is refused.
    Staging folders left by killed runs are removed first. ``note`` goes into the marker file.
    """
    from .errors import TmsFieldError
    target = Path(os.path.abspath(target))
    if target.exists() and not target.is_dir():
        raise TmsFieldError(f"{target}: the output folder is a file; choose another output folder")
    if target.is_dir() and not _replaceable(target, frozenset(names)):
        raise TmsFieldError(f"{target}: exists and holds files that are not tmsfield outputs; choose a new or "
                            "empty output folder (it is replaced as a whole)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{_STAGING}-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise TmsFieldError(f"{target}: cannot create the output folder ({exc.strerror or exc}); choose a writable "
                            "location") from None
    try:
        os.chmod(staging, 0o777 & ~_umask())
        (staging / OUTPUT_MARKER).write_text(note or "written by tmsfield\n")
        yield staging
        if target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.{_ASIDE}-{os.getpid()}-", dir=target.parent))
            os.replace(target, aside)
            os.rename(staging, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
