"""The shared-library check behind a split (rewriter/proof/libraries.py): ELF reading, images saved by a
builder (Docker and OCI layouts, whiteouts, symlinked library folders) and what a rewrite lost."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest

from rewriter.proof.libraries import (
    ImageFiles,
    apply_layers,
    elf_dynamic,
    lost_libraries,
    missing_libraries,
    read_archive,
)


def make_elf(needed: list[str], runpath: str | None = None, salt: bytes = b"") -> bytes:
    """A minimal 64-bit little-endian shared object: one PT_LOAD over the file, a PT_DYNAMIC with
    DT_NEEDED (and DT_RUNPATH) entries pointing into a string table; ``salt`` varies the content."""
    strtab = b"\0"
    offsets = []
    for name in [*needed, *([runpath] if runpath else [])]:
        offsets.append(len(strtab))
        strtab += name.encode() + b"\0"
    strtab += salt
    str_off = 64 + 2 * 56
    dyn_off = (str_off + len(strtab) + 7) // 8 * 8
    entries = [(1, off) for off in offsets[: len(needed)]]
    if runpath:
        entries.append((29, offsets[-1]))
    entries += [(5, str_off), (0, 0)]
    dynamic = b"".join(struct.pack("<qQ", t, v) for t, v in entries)
    total = dyn_off + len(dynamic)
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 2, 0, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, total, total, 0x1000)
    dyn = struct.pack("<IIQQQQQQ", 2, 6, dyn_off, dyn_off, dyn_off, len(dynamic), len(dynamic), 8)
    body = header + load + dyn + strtab
    return body + bytes(dyn_off - len(body)) + dynamic


def layer(files: dict[str, bytes | str]) -> tarfile.TarFile:
    """An uncompressed layer: bytes are files, ``"->target"`` strings are symlinks."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            if isinstance(content, str):
                info.type = tarfile.SYMTYPE
                info.linkname = content.removeprefix("->")
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    buf.seek(0)
    return tarfile.open(fileobj=buf)


def image(*layers: dict[str, bytes | str]) -> ImageFiles:
    return apply_layers([layer(x) for x in layers])


LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
LIBPQ = "/usr/lib/x86_64-linux-gnu/libpq.so.5.17"
EXT = "/usr/local/lib/python3.13/site-packages/psycopg2/_psycopg.cpython-313-x86_64-linux-gnu.so"
BASE: dict[str, bytes | str] = {"/lib": "->usr/lib", LIBC: b"libc", "/bin/sh": make_elf(["libc.so.6"])}
FULL: dict[str, bytes | str] = {
    LIBPQ: b"libpq", "/usr/lib/x86_64-linux-gnu/libpq.so.5": "->libpq.so.5.17",
    "/var/lib/dpkg/info/libpq5:amd64.list": b"/.\n/usr/lib/x86_64-linux-gnu/libpq.so.5.17\n"
                                             b"/usr/lib/x86_64-linux-gnu/libpq.so.5\n",
}


def test_elf_dynamic_reads_needed_and_runpath() -> None:
    assert elf_dynamic(make_elf(["libpq.so.5", "libc.so.6"], "$ORIGIN/../x.libs")) == (
        ["libpq.so.5", "libc.so.6"], ["$ORIGIN/../x.libs"])
    assert elf_dynamic(b"#!/bin/sh\necho hi\n") is None
    assert elf_dynamic(make_elf(["libc.so.6"])[:100]) is None  # truncated: no answer, no crash


@pytest.mark.skipif(shutil.which("readelf") is None, reason="binutils' readelf is not installed")
def test_elf_dynamic_agrees_with_readelf_on_a_real_binary() -> None:
    binary = Path(shutil.which("readelf") or "")
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    want = [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]
    got = elf_dynamic(binary.read_bytes())
    assert got is not None and got[0] == want and want


def test_layers_apply_in_order_with_whiteouts() -> None:
    img = image({"/app/a": b"1", "/app/b": b"2", "/data/x/y": b"3"},
                {"/app/.wh.a": b"", "/data/x/.wh..wh..opq": b"", "/data/x/z": b"4", "/app/b": b"new"})
    assert "/app/a" not in img.files and "/data/x/y" not in img.files
    assert img.read("/app/b") == b"new" and img.read("/data/x/z") == b"4"
    img.close()


def test_a_split_that_loses_libpq_is_named_with_its_package() -> None:
    ext = make_elf(["libpq.so.5", "libc.so.6"])
    original = image(BASE, FULL, {EXT: ext})
    runtime = image(BASE, {EXT: ext})
    lost = missing_libraries(runtime, original)
    assert [(m.soname, m.needed_by, m.package) for m in lost] == [("libpq.so.5", (EXT,), "libpq5")]
    assert "lacks libpq.so.5" in lost[0].describe() and "libpq5" in lost[0].describe()
    # the runtime with the library (the symlinked /lib folder resolves it too)
    fixed = image(BASE, {"/usr/lib/x86_64-linux-gnu/libpq.so.5": b"pq"}, {EXT: ext})
    assert missing_libraries(fixed, original) == []
    via_lib = image(BASE, {"/lib/x86_64-linux-gnu/libpq.so.5": b"pq"}, {EXT: ext})
    assert missing_libraries(via_lib, original) == []


def test_only_what_the_rewrite_lost_counts() -> None:
    ext = make_elf(["libpq.so.5", "libgone.so.1", "libc.so.6"])
    original = image(BASE, FULL, {EXT: ext})
    runtime = image(BASE, {EXT: ext})
    # libgone.so.1 was missing in the original too: not the rewrite's doing
    assert [m.soname for m in missing_libraries(runtime, original)] == ["libpq.so.5"]
    # the runtime's own build of a file (different content at the same path) is its maker's business
    own = image(BASE, {EXT: make_elf(["libpq.so.5", "libc.so.6"], salt=b"other build")})
    assert missing_libraries(own, original) == []
    # a binary moved to a new path: judged by what the original image provided
    moved = image(BASE, {"/server": make_elf(["libpq.so.5", "libc.so.6"])})
    assert [m.needed_by for m in missing_libraries(moved, original)] == [("/server",)]


def test_runpath_and_bundled_libraries_count_as_provided() -> None:
    ext = make_elf(["libpq-abc.so.5", "libc.so.6"], "$ORIGIN/../psycopg2_binary.libs")
    bundled = "/usr/local/lib/python3.13/site-packages/psycopg2_binary.libs/libpq-abc.so.5"
    original = image(BASE, {EXT: ext, bundled: b"pq"})
    assert missing_libraries(image(BASE, {EXT: ext, bundled: b"pq"}), original) == []
    assert [m.soname for m in missing_libraries(image(BASE, {EXT: ext}), original)] == ["libpq-abc.so.5"]


def test_alpine_packages_are_named_from_the_apk_database() -> None:
    ext = make_elf(["libpq.so.5", "libc.musl-x86_64.so.1"])
    apk = {"/lib/ld-musl-x86_64.so.1": b"musl", "/lib/libc.musl-x86_64.so.1": "->ld-musl-x86_64.so.1",
           "/usr/lib/libpq.so.5": b"pq",
           "/lib/apk/db/installed": b"P:musl\nR:ld-musl-x86_64.so.1\n\nP:libpq\nR:libpq.so.5\n"}
    lost = missing_libraries(image({"/lib/ld-musl-x86_64.so.1": b"musl",
                                    "/lib/libc.musl-x86_64.so.1": "->ld-musl-x86_64.so.1"}, {"/app/x.so": ext}),
                             image(apk, {"/app/x.so": ext}))
    assert [(m.soname, m.package) for m in lost] == [("libpq.so.5", "libpq")]


def _tar_bytes(tar: tarfile.TarFile) -> bytes:
    fileobj = tar.fileobj
    assert fileobj is not None
    fileobj.seek(0)
    return fileobj.read()


def save_archive(dest: Path, layers: list[dict[str, bytes | str]], oci: bool) -> None:
    """What ``docker save`` (manifest.json, plain layers) or ``podman save --format oci-archive``
    (index.json → manifest → gzipped blobs) writes."""
    blobs = [_tar_bytes(layer(x)) for x in layers]
    with tarfile.open(dest, "w") as out:
        def put(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))

        if not oci:
            put("manifest.json", json.dumps([{"Layers": [f"{i}/layer.tar" for i in range(len(blobs))]}]).encode())
            for i, b in enumerate(blobs):
                put(f"{i}/layer.tar", b)
            return
        digests = []
        for b in blobs:
            z = gzip.compress(b)
            d = hashlib.sha256(z).hexdigest()
            put(f"blobs/sha256/{d}", z)
            digests.append(d)
        manifest = json.dumps({"layers": [{"digest": f"sha256:{d}"} for d in digests]}).encode()
        md = hashlib.sha256(manifest).hexdigest()
        put(f"blobs/sha256/{md}", manifest)
        put("index.json", json.dumps({"manifests": [{"digest": f"sha256:{md}"}]}).encode())


@pytest.mark.parametrize("oci", [False, True], ids=["docker-save", "oci-archive"])
def test_saved_images_are_read_in_both_layouts(tmp_path: Path, oci: bool) -> None:
    save_archive(tmp_path / "img.tar", [{"/app/a": b"1"}, {"/app/.wh.a": b"", "/app/b": b"2"}], oci)
    img = read_archive(tmp_path / "img.tar", tmp_path)
    try:
        assert sorted(img.files) == ["/app/b"] and img.read("/app/b") == b"2"
    finally:
        img.close()


class SavingBuilder:
    """Saves the images it was given as archives, as a builder's ``export`` does."""

    def __init__(self, images: dict[str, list[dict[str, bytes | str]]], fail: str | None = None) -> None:
        self.images = images
        self.fail = fail

    def export(self, tag: str, dest: Path) -> str | None:
        if tag == self.fail:
            return "cannot save the image: no such image"
        save_archive(dest, self.images[tag], oci=True)
        return None


def test_lost_libraries_exports_both_images_and_cleans_up(tmp_path: Path) -> None:
    ext = make_elf(["libpq.so.5", "libc.so.6"])
    tool = SavingBuilder({"orig": [BASE, FULL, {EXT: ext}], "new": [BASE, {EXT: ext}]})
    lost, problem = lost_libraries(tool, "new", "orig", tmp_path)  # type: ignore[arg-type]
    assert problem is None and [m.package for m in lost] == ["libpq5"]
    assert list(tmp_path.iterdir()) == []
    # an image that cannot be saved makes the check unknown, never passed
    lost, problem = lost_libraries(SavingBuilder(tool.images, fail="new"), "new", "orig",  # type: ignore[arg-type]
                                   tmp_path)
    assert lost == [] and problem and "cannot save" in problem


def test_migrate_drops_a_split_whose_runtime_lost_a_library(tmp_path: Path) -> None:
    """Both images answer alike (the import happens on a later request), but the split's runtime lacks
    libpq.so.5: migrate drops the split with that evidence, names the package, and keeps the rest."""
    import os

    from test_migrate import APP, Fake

    from rewriter.proof.migrate import Options, migrate_file

    ext = make_elf(["libpq.so.5", "libc.so.6"])

    class Saving(Fake):
        def export(self, tag: str, dest: Path) -> str | None:
            split = self.texts[tag].count("\nFROM ") >= 1  # a second stage: the runtime image
            layers = [BASE, {EXT: ext}] if split else [BASE, FULL, {EXT: ext}]
            save_archive(dest, layers, oci=True)
            return None

    (tmp_path / "Dockerfile").write_text(APP)
    (tmp_path / ".netrc").write_text("machine pypi.example.com login ci password FIXTURE_pw_123\n")
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    fake = Saving()
    o = migrate_file(tmp_path / "Dockerfile", Options(env=dict(os.environ)), lambda: fake)
    assert "multistage" in o.dropped and "multistage" not in o.kept
    assert "lacks libpq.so.5" in o.dropped["multistage"] and "libpq5" in o.dropped["multistage"]
    assert o.status == "partially migrated" and o.kept  # the other codemods stay
    # the same images with the library in the runtime: the split is kept
    class Provided(Saving):
        def export(self, tag: str, dest: Path) -> str | None:
            split = self.texts[tag].count("\nFROM ") >= 1
            extra = {"/usr/lib/x86_64-linux-gnu/libpq.so.5": b"pq"}
            layers = [BASE, extra, {EXT: ext}] if split else [BASE, FULL, {EXT: ext}]
            save_archive(dest, layers, oci=True)
            return None

    fine = migrate_file(tmp_path / "Dockerfile", Options(env=dict(os.environ)), lambda: Provided())
    assert "multistage" in fine.kept and fine.status == "migrated"


def test_migrate_keeps_the_split_with_the_runtime_installing_what_the_app_links(tmp_path: Path) -> None:
    """The full image's psycopg2 (built against its libpq, no table entry needed) lands on distroless,
    which lacks libpq.so.5; migrate learns the package from the original's dpkg database, makes the split
    again with the runtime installing it (a same-family slim image, since distroless cannot), builds it,
    and keeps it when the library is there: the split is not dropped."""
    import os

    from test_migrate import Fake

    from rewriter.proof.migrate import Options, format_outcome, migrate_file

    ext = make_elf(["libpq.so.5", "libc.so.6"])

    class Saving(Fake):
        def export(self, tag: str, dest: Path) -> str | None:
            text = self.texts[tag]
            # the original, or a runtime stage that installs the package: the library is there
            has = text.count("\nFROM ") == 0 or "libpq5" in text
            layers = [BASE, FULL, {EXT: ext}] if has else [BASE, {EXT: ext}]
            save_archive(dest, layers, oci=True)
            return None

    (tmp_path / "Dockerfile").write_text("FROM python:3.13\nWORKDIR /app\nCOPY requirements.txt .\n"
                                         "RUN pip install -r requirements.txt\nCOPY . .\nEXPOSE 8000\n"
                                         "CMD python app.py\n")
    (tmp_path / "requirements.txt").write_text("pyyaml-like-c-extension\n")  # no native.yaml row knows it
    (tmp_path / "app.py").write_text("print('hi')\n")
    o = migrate_file(tmp_path / "Dockerfile", Options(env=dict(os.environ)), lambda: Saving())
    assert o.status == "migrated" and "multistage" in o.kept, (o.status, o.dropped)
    assert o.runtime_packages == ["libpq5"] and o.result is not None
    assert "apt-get install" in o.result.new_text and "libpq5" in o.result.new_text
    assert "libpq5 (the app's files link their libraries" in format_outcome(o)
    assert o.record()["runtime_packages"] == ["libpq5"]
