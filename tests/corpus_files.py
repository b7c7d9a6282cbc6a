"""Access to the Dockerfile test corpus.

The full corpus lives outside the repository in ``../shared/corpus`` (relative
to the repository root). It has one ``MANIFEST.tsv``: a tab-separated file with
the columns ``file, repo, path, commit, stack, license, notes`` and a header line.

The repository keeps a byte-for-byte copy of the permissively licensed files in
``tests/corpus`` (see ``tests/corpus/README.md``), so the tests also run on a
fresh clone where ``../shared`` is absent. In that case only those copies are
tested, and one skipped placeholder parameter says so.

Usage::

    @pytest.mark.parametrize("cf", corpus_params())
    def test_something(cf: CorpusFile) -> None:
        assert cf.path is not None  # None: file missing on this machine
        text = read_text(cf.path)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

SHARED_CORPUS: Path = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
)
LOCAL_CORPUS: Path = Path(__file__).resolve().parent / "corpus"

MANIFEST_NAME = "MANIFEST.tsv"
MANIFEST_COLUMNS = ("file", "repo", "path", "commit", "stack", "license", "notes")


@dataclass(frozen=True)
class CorpusFile:
    """One corpus entry. ``path`` is None when the file is missing on this machine."""

    rel: str
    path: Path | None
    license: str
    stack: str
    notes: str
    repo: str


def shared_corpus_available() -> bool:
    """Return True if the shared corpus (with its manifest) is present."""
    return (SHARED_CORPUS / MANIFEST_NAME).is_file()


def _read_manifest(root: Path) -> list[CorpusFile]:
    """Parse ``root/MANIFEST.tsv`` into CorpusFile entries with paths under ``root``."""
    with (root / MANIFEST_NAME).open(encoding="utf-8", newline="") as fh:
        # Split on "\n" only: str.splitlines() would also split on other
        # characters such as \x0c or \u2028 that may appear in notes.
        lines = [line.removesuffix("\r") for line in fh.read().split("\n")]
    if not lines:
        msg = f"{root / MANIFEST_NAME}: empty manifest"
        raise ValueError(msg)
    header = tuple(lines[0].split("\t"))
    if header != MANIFEST_COLUMNS:
        msg = f"{root / MANIFEST_NAME}: unexpected header {header!r}"
        raise ValueError(msg)
    result: list[CorpusFile] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(MANIFEST_COLUMNS):
            msg = (
                f"{root / MANIFEST_NAME}:{lineno}: expected {len(MANIFEST_COLUMNS)} "
                f"tab-separated fields, got {len(fields)}"
            )
            raise ValueError(msg)
        row = dict(zip(MANIFEST_COLUMNS, fields, strict=True))
        path = root / row["file"]
        result.append(
            CorpusFile(
                rel=row["file"],
                path=path if path.is_file() else None,
                license=row["license"],
                stack=row["stack"],
                notes=row["notes"],
                repo=row["repo"],
            )
        )
    return result


def corpus_files() -> list[CorpusFile]:
    """Return the corpus files available for testing.

    If the shared corpus is present, return all of its files with paths into the
    shared corpus. Otherwise return the local, permissively licensed copies in
    ``tests/corpus``.
    """
    if shared_corpus_available():
        return _read_manifest(SHARED_CORPUS)
    return _read_manifest(LOCAL_CORPUS)


def corpus_params() -> list[ParameterSet]:
    """Return ``pytest.param`` entries (id = relative path) for ``parametrize``.

    If the shared corpus is absent, add one skipped ``shared-corpus`` parameter
    (value None) so the report shows that only part of the corpus was tested.
    """
    files = corpus_files()
    params = [pytest.param(cf, id=cf.rel) for cf in files]
    if not shared_corpus_available():
        reason = (
            "../shared/corpus is absent: only the permissively licensed copy in "
            f"tests/corpus is tested ({len(files)} files); "
            "the other files are not redistributed"
        )
        params.append(
            pytest.param(
                None, id="shared-corpus", marks=pytest.mark.skip(reason=reason)
            )
        )
    return params


def read_text(path: Path) -> str:
    """Read a corpus file as text with no newline translation.

    Bytes that are not valid UTF-8 come back as surrogates (``surrogateescape``),
    so encoding the text again with the same error handler gives the original bytes.
    """
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
        return fh.read()
