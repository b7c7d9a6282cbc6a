"""Shared libraries a rewritten image lacks: the positive check behind a split's runtime libraries.

A split copies the app's installed dependencies (site-packages, gems, ``node_modules``, binaries) into
a smaller runtime image. A native extension built in the builder links libraries by soname
(``DT_NEEDED``: ``libpq.so.5``, ``libmariadb.so.3``); when the runtime image has no file of that name
where the dynamic loader looks, the app fails when it loads the extension — perhaps only on the request
that imports it. This module reads an image as its builder saved it (``docker save`` / ``podman save``
archive: an OCI layout or Docker's ``manifest.json`` layout, layers applied in order with whiteouts),
finds the ELF files outside the distribution's own folders (the app's binaries, native extensions in
site-packages, gems, ``node_modules``) that the rewrite carried over, and lists every soname the
original image provided and none of the runtime's library folders (nor the file's own
``RPATH``/``RUNPATH``, ``$ORIGIN`` included, where a wheel's bundled ``*.libs`` sit) provides; for
each, the Debian/Alpine package that provided it in the original image (read from the original's
``/var/lib/dpkg/info/*.list`` or ``/lib/apk/db/installed``), so the report can say what to install.
The images come from the builder's own export: nothing here reads the engine's storage, so it works
for a remote engine too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import re
import shutil
import struct
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rewriter.proof.containers import Builder

#: the distribution's own folders: their files come with the base image's packages, not with the app
SYSTEM = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/bin/", "/usr/sbin/", "/usr/lib/",
          "/usr/lib32/", "/usr/lib64/", "/usr/libexec/", "/usr/share/", "/usr/include/", "/etc/", "/var/lib/",
          "/var/cache/", "/proc/", "/sys/", "/dev/", "/run/", "/tmp/", "/var/tmp/")
#: where the dynamic loader finds libraries without help (glibc's defaults, multiarch, musl)
LIB_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu")
#: largest file read as a possible ELF object (bigger ones are skipped, not guessed)
MAX_ELF = 256 * 1024 * 1024
_DT_NEEDED, _DT_RPATH, _DT_RUNPATH, _DT_STRTAB = 1, 15, 29, 5


@dataclass
class ImageFiles:
    """The files of an image after every layer is applied: path → (layer, member); symlinks apart.

    Layers are tar archives on disk (or in memory for tests), opened once; :meth:`close` closes them.
    """

    layers: list[tarfile.TarFile] = field(default_factory=list)
    files: dict[str, tuple[int, tarfile.TarInfo]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  #: symlink path → target

    def names(self) -> set[str]:
        return set(self.files) | set(self.links)

    def size(self, path: str) -> int | None:
        where = self.files.get(path)
        return None if where is None else where[1].size

    def read(self, path: str, limit: int = MAX_ELF) -> bytes | None:
        """The content of ``path`` (``None``: no such file, or larger than ``limit``)."""
        where = self.files.get(path)
        if where is None or where[1].size > limit:
            return None
        fh = self.layers[where[0]].extractfile(where[1])
        return fh.read() if fh is not None else None

    def head(self, path: str, n: int) -> bytes:
        where = self.files.get(path)
        if where is None:
            return b""
        fh = self.layers[where[0]].extractfile(where[1])
        return fh.read(n) if fh is not None else b""

    def close(self) -> None:
        for tar in self.layers:
            tar.close()


def _unpack_layer(data: IO[bytes], dest: Path) -> Path:
    """A layer blob written to ``dest`` uncompressed (gzip streamed, not held in memory)."""
    magic = data.read(2)
    data.seek(0)
    with dest.open("wb") as out:
        if magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=data) as gz:
                shutil.copyfileobj(gz, out, 1 << 20)
        else:
            shutil.copyfileobj(data, out, 1 << 20)
    return dest


def read_archive(path: Path, workdir: Path) -> ImageFiles:
    """An image saved by ``docker save`` or ``podman save --format oci-archive`` (its first manifest);
    layers are unpacked into ``workdir``, which the caller removes."""
    with tarfile.open(path) as outer:
        def member(name: str) -> IO[bytes]:
            fh = outer.extractfile(name.removeprefix("./"))
            if fh is None:
                raise ValueError(f"{name} is not a file in the archive")
            return fh

        def blob(name: str) -> bytes:
            return member(name).read()

        names = set(outer.getnames())
        if "manifest.json" in names:  # Docker's layout
            layer_names = json.loads(blob("manifest.json"))[0]["Layers"]
        else:  # OCI layout
            index = json.loads(blob("index.json"))
            digest = index["manifests"][0]["digest"].replace(":", "/")
            manifest = json.loads(blob(f"blobs/{digest}"))
            if "manifests" in manifest:  # an index inside
                manifest = json.loads(blob(f"blobs/{manifest['manifests'][0]['digest'].replace(':', '/')}"))
            layer_names = [f"blobs/{lay['digest'].replace(':', '/')}" for lay in manifest["layers"]]
        paths = [_unpack_layer(member(n), workdir / f"layer-{i}.tar") for i, n in enumerate(layer_names)]
    return apply_layers([tarfile.open(p) for p in paths])


def apply_layers(layers: list[tarfile.TarFile]) -> ImageFiles:
    """Layers (open tar archives, bottom first) applied in order, whiteouts honoured."""
    image = ImageFiles(layers=layers)
    for index, tar in enumerate(layers):
        for m in tar.getmembers():
            path = "/" + m.name.removeprefix("./").lstrip("/").rstrip("/")
            base = posixpath.basename(path)
            parent = posixpath.dirname(path)
            if base == ".wh..wh..opq":
                _remove_under(image, parent)
                continue
            if base.startswith(".wh."):
                gone = posixpath.join(parent, base[4:])
                _remove_under(image, gone)
                image.files.pop(gone, None)
                image.links.pop(gone, None)
                continue
            if m.issym():
                image.links[path] = m.linkname
                image.files.pop(path, None)
            elif m.islnk():
                target = "/" + m.linkname.removeprefix("./").lstrip("/")
                if target in image.files:
                    image.files[path] = image.files[target]
                    image.links.pop(path, None)
            elif m.isfile():
                image.files[path] = (index, m)
                image.links.pop(path, None)
            elif m.isdir():
                image.links.pop(path, None)
    return image


def _remove_under(image: ImageFiles, folder: str) -> None:
    prefix = folder.rstrip("/") + "/"
    for table in (image.files, image.links):
        for p in [p for p in table if p.startswith(prefix)]:
            del table[p]


def elf_dynamic(data: bytes) -> tuple[list[str], list[str]] | None:
    """(DT_NEEDED sonames, RPATH/RUNPATH folders) of an ELF object; None when ``data`` is not a
    dynamically linked ELF file."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return None
    bits = {1: 32, 2: 64}.get(data[4])
    order = {1: "<", 2: ">"}.get(data[5])
    if bits is None or order is None:
        return None
    try:
        if bits == 64:
            phoff, = struct.unpack_from(order + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
        else:
            phoff, = struct.unpack_from(order + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 0x2A)
        loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
        dynamic: tuple[int, int] | None = None
        for i in range(phnum):
            at = phoff + i * phentsize
            if bits == 64:
                p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(order + "IIQQQQ", data, at)
            else:
                p_type, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(order + "IIIII", data, at)
            if p_type == 1:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == 2:
                dynamic = (p_offset, p_filesz)
        if dynamic is None:
            return None
        entries: list[tuple[int, int]] = []
        size = 16 if bits == 64 else 8
        fmt = order + ("qQ" if bits == 64 else "iI")
        for at in range(dynamic[0], dynamic[0] + dynamic[1], size):
            tag, value = struct.unpack_from(fmt, data, at)
            if tag == 0:
                break
            entries.append((tag, value))
        strtab_addr = next((v for t, v in entries if t == _DT_STRTAB), None)
        if strtab_addr is None:
            return None
        strtab = next((off + strtab_addr - vaddr for vaddr, off, sz in loads if vaddr <= strtab_addr < vaddr + sz),
                      None)
        if strtab is None:
            return None

        def string(offset: int) -> str:
            end = data.index(b"\0", strtab + offset)
            return data[strtab + offset:end].decode("utf-8", "replace")

        needed = [string(v) for t, v in entries if t == _DT_NEEDED]
        paths = [p for t, v in entries if t in {_DT_RPATH, _DT_RUNPATH} for p in string(v).split(":") if p]
        return needed, paths
    except (struct.error, ValueError):
        return None


@dataclass(frozen=True)
class Missing:
    """A soname the runtime image does not provide, who needs it, and the package that had it."""

    soname: str
    needed_by: tuple[str, ...]
    package: str | None

    def describe(self) -> str:
        more = len(self.needed_by) - 2
        who = ", ".join(self.needed_by[:2]) + (f" and {more} more" if more > 0 else "")
        had = f" (the original has it from the package {self.package})" if self.package else ""
        return f"the runtime image lacks {self.soname}, needed by {who}{had}"


def _resolve(image: ImageFiles, path: str, depth: int = 0) -> str | None:
    """``path`` with symlinks followed (None when it dangles)."""
    if path in image.files or depth > 20:
        return path if path in image.files else None
    target = image.links.get(path)
    if target is None:
        # a folder on the way may be a link (``/lib`` → ``usr/lib``)
        head, tail = posixpath.split(path)
        if head and head != "/" and head in image.links:
            new_head = posixpath.normpath(posixpath.join(posixpath.dirname(head), image.links[head]))
            return _resolve(image, posixpath.join(new_head, tail), depth + 1)
        if head and head != "/":
            parent = _resolve_dir(image, head, depth + 1)
            if parent != head:
                return _resolve(image, posixpath.join(parent, tail), depth + 1)
        return None
    joined = target if target.startswith("/") else posixpath.join(posixpath.dirname(path), target)
    return _resolve(image, posixpath.normpath(joined), depth + 1)


def _resolve_dir(image: ImageFiles, folder: str, depth: int) -> str:
    if depth > 20 or folder in {"", "/"}:
        return folder
    head, tail = posixpath.split(folder)
    head = _resolve_dir(image, head, depth + 1)
    here = posixpath.join(head, tail)
    target = image.links.get(here)
    if target is None:
        return here
    joined = target if target.startswith("/") else posixpath.join(posixpath.dirname(here), target)
    return _resolve_dir(image, posixpath.normpath(joined), depth + 1)


def _provides(image: ImageFiles, folders: Iterable[str], soname: str) -> bool:
    return any(_resolve(image, posixpath.join(f, soname)) is not None for f in folders)


def _loader_dirs(image: ImageFiles) -> list[str]:
    """The default folders and those of ``/etc/ld.so.conf.d/*.conf`` (musl: ``/etc/ld-musl-*.path``)."""
    found = list(LIB_DIRS)
    for path in sorted(image.files):
        if (path.startswith("/etc/ld.so.conf.d/") and path.endswith(".conf")) or path.startswith("/etc/ld-musl-"):
            text = (image.read(path, 65536) or b"").decode("utf-8", "replace")
            found += [ln.strip() for chunk in text.splitlines() for ln in chunk.split(":")
                      if ln.strip().startswith("/")]
    return found


def app_objects(image: ImageFiles, skip: Iterable[str] = SYSTEM) -> Iterator[tuple[str, list[str], list[str]]]:
    """(path, NEEDED, RPATH folders) of every dynamically linked ELF file outside the ``skip`` folders."""
    for path in sorted(image.files):
        if path.startswith(tuple(skip)):
            continue
        if image.head(path, 4) != b"\x7fELF":
            continue
        data = image.read(path)
        dyn = elf_dynamic(data) if data is not None else None
        if dyn is not None:
            yield path, dyn[0], dyn[1]


def package_of(image: ImageFiles, soname: str) -> str | None:
    """The Debian (dpkg) or Alpine (apk) package of ``image`` that installs a file named ``soname``."""
    for path in sorted(p for p in image.files if p.startswith("/var/lib/dpkg/info/") and p.endswith(".list")):
        text = (image.read(path, 16 * 1024 * 1024) or b"").decode("utf-8", "replace")
        if any(line.rsplit("/", 1)[-1] == soname for line in text.splitlines()):
            return posixpath.basename(path)[: -len(".list")].split(":", 1)[0]
    db = image.read("/lib/apk/db/installed", 64 * 1024 * 1024)
    if db:
        package = None
        for line in db.decode("utf-8", "replace").splitlines():
            if line.startswith("P:"):
                package = line[2:]
            elif line.startswith("R:") and line[2:] == soname:
                return package
    return None


def _digest(image: ImageFiles, path: str) -> str | None:
    data = image.read(path)
    return None if data is None else hashlib.sha256(data).hexdigest()


def _found(image: ImageFiles, dirs: Sequence[str], path: str, rpaths: Sequence[str], soname: str) -> bool:
    origin = posixpath.dirname(path)
    own = [posixpath.normpath(r.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)) for r in rpaths]
    return _provides(image, own, soname) or _provides(image, dirs, soname)


def missing_libraries(runtime: ImageFiles, original: ImageFiles, skip: Iterable[str] = SYSTEM) -> list[Missing]:
    """The sonames that the app's ELF files in ``runtime`` need, that ``original`` provides and
    ``runtime`` does not: what the rewrite lost, not what was missing before.

    Only files the rewrite carried over are judged: a file at the same path in both images with the
    same content (copied from the builder), or one the original does not have at that path (moved). A
    file whose content differs is the runtime image's own build (its base's interpreter, say) and is
    left to its maker.
    """
    dirs, old_dirs = _loader_dirs(runtime), _loader_dirs(original)
    wanted: dict[str, list[str]] = {}
    for path, needed, rpaths in app_objects(runtime, skip):
        if path in original.files and (runtime.size(path) != original.size(path)
                                       or _digest(runtime, path) != _digest(original, path)):
            continue
        for soname in needed:
            if posixpath.basename(soname) != soname:
                continue  # an absolute or relative path: not looked up by name
            if _found(runtime, dirs, path, rpaths, soname):
                continue
            if path in original.files:
                if not _found(original, old_dirs, path, rpaths, soname):
                    continue  # missing before too
            elif not _provides(original, old_dirs, soname):
                continue
            wanted.setdefault(soname, []).append(path)
    return [Missing(s, tuple(by), package_of(original, s)) for s, by in sorted(wanted.items())]


class LibraryCheck:
    """:func:`missing_libraries` for several rewrites of one original: the original is saved and read
    once (kept under ``workdir`` until :meth:`close`), each rewrite when it is checked."""

    def __init__(self, tool: Builder, original_tag: str, workdir: Path) -> None:
        self.tool = tool
        self.original_tag = original_tag
        self.workdir = workdir
        self.original: ImageFiles | None = None
        self.problem: str | None = None
        self.count = 0

    def _read(self, tag: str, folder: Path) -> ImageFiles:
        folder.mkdir(parents=True, exist_ok=True)
        archive = folder / "image.tar"
        try:
            problem = self.tool.export(tag, archive)
            if problem:
                raise ValueError(problem)
            return read_archive(archive, folder)
        except (OSError, KeyError, IndexError, tarfile.TarError) as exc:
            raise ValueError(f"cannot read the saved image {tag}: {exc}") from None
        finally:
            archive.unlink(missing_ok=True)

    def lost(self, tag: str) -> tuple[list[Missing], str | None]:
        """What the image ``tag`` lost against the original (``([], reason)``: the check could not run)."""
        if self.problem:
            return [], self.problem
        try:
            if self.original is None:
                self.original = self._read(self.original_tag, self.workdir / "libraries-original")
            self.count += 1
            folder = self.workdir / f"libraries-{self.count}"
            try:
                image = self._read(tag, folder)
                try:
                    return missing_libraries(image, self.original), None
                finally:
                    image.close()
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        except ValueError as exc:
            if self.original is None:
                self.problem = str(exc)  # the original cannot be saved: no use trying again
            return [], str(exc)

    def close(self) -> None:
        if self.original is not None:
            self.original.close()
        shutil.rmtree(self.workdir / "libraries-original", ignore_errors=True)


def adds_stage(before: str, after: str) -> bool:
    """Whether a rewrite adds a stage (a split: the app moves to another image, whose libraries may differ)."""
    def stages(text: str) -> int:
        return sum(1 for line in text.splitlines() if re.match(r"\s*FROM\s", line, re.IGNORECASE))

    return stages(after) > stages(before)


def lost_libraries(tool: Builder, runtime_tag: str, original_tag: str,
                   workdir: Path) -> tuple[list[Missing], str | None]:
    """Export both images with the builder and list what the rewrite lost (``([], reason)`` when an
    image could not be read: the check is then unknown, never passed)."""
    check = LibraryCheck(tool, original_tag, workdir)
    try:
        return check.lost(runtime_tag)
    finally:
        check.close()
