"""Tests for rewriter.sidefiles.dockerignore: Docker's .dockerignore parsing and matching, walking, extending."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rewriter.sidefiles.dockerignore import (
    BLOCK_COMMENT,
    PRUNED_DIRS,
    clean,
    escape,
    extend,
    find_files,
    is_excluded,
    parse,
)

# (dockerignore text, path, excluded?) -- from Docker's documentation and moby's patternmatcher tests
CASES: list[tuple[str, str, bool]] = [
    # documented examples (docs.docker.com, "Build context" / .dockerignore)
    ("*/temp*", "somedir/temporary.txt", True),
    ("*/temp*", "somedir/temp", True),
    ("*/temp*", "temp", False),
    ("*/temp*", "a/b/temp.txt", False),
    ("*/*/temp*", "a/b/temporary.txt", True),
    ("*/*/temp*", "a/temporary.txt", False),
    ("temp?", "tempa", True),
    ("temp?", "temp", False),
    ("temp?", "tempab", False),
    ("temp?", "temp/", False),
    ("*.md\n!README.md", "CHANGES.md", True),
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),
    ("*.md\n!README*.md\nREADME-secret.md", "README-public.md", False),
    ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", False),  # last match wins
    ("**/*.go", "main.go", True),
    ("**/*.go", "cmd/tool/main.go", True),
    ("**/*.go", "main.gox", False),
    # ** forms
    ("**", "anything/at/all", True),
    ("dir/**", "dir/a/b", True),
    ("dir/**", "dir", False),
    ("**/dir", "dir", True),
    ("**/dir", "x/y/dir", True),
    ("**/dir", "x/dir/file", True),  # directory match excludes what is below
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/x/yb", False),
    ("**/dir2/*", "dir/dir2/file", True),
    ("**.env", "config/prod.env", True),  # moby's suffix shortcut
    # * ? [ ] do not cross /
    ("*", "file", True),
    ("*", "dir/file", True),  # parent "dir" matches *
    ("*.txt", "dir/file.txt", False),
    ("a*b", "a/b", False),
    ("a?b", "a/b", False),
    ("a[b-d]e", "ace", True),
    ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True),
    ("[\\]a]", "]", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("abc.def", "abcxdef", False),  # regexp metacharacters are literal
    ("a(b)c+|{}$", "a(b)c+|{}$", True),
    # cleaning, leading /, trailing /
    ("/secret.txt", "secret.txt", True),
    ("./secret.txt", "secret.txt", True),
    ("a//b/../c/", "a/c", True),
    ("!/keep\n*", "keep", True),  # an exception before any match does nothing
    ("docs/", "docs/README.md", True),
    # directories exclude their contents; exceptions re-include
    ("docs", "docs/a/b/c.md", True),
    ("docs\n!docs/README.md", "docs/README.md", False),
    ("docs\n!docs/README.md", "docs/other.md", True),
    ("docs/*\n!docs/README.md", "docs/README.md", False),
    ("**\n!util/docker/web", "util/docker/web/foo", False),
    ("**\n!util/docker/web\nutil/docker/web/foo", "util/docker/web/foo", True),
    ("node_modules\n!node_modules/keep", "node_modules/keep/x.js", False),
    # comments and blanks
    ("# secret.txt", "secret.txt", False),
    ("#secret.txt\n\n   \n", "secret.txt", False),
    (" #secret.txt", "#secret.txt", True),  # '#' only starts a comment in column 1
    ("  secret.txt  \n", "secret.txt", True),
    ("\ufeffsecret.txt", "secret.txt", True),  # UTF-8 BOM dropped
    ("secret.txt\r\n", "secret.txt", True),
    ("! secret.txt", "secret.txt", False),
    # no patterns
    ("", "anything", False),
]


@pytest.mark.parametrize(("text", "path", "excluded"), CASES)
def test_is_excluded_table(text: str, path: str, excluded: bool) -> None:
    assert is_excluded(path, parse(text)) is excluded


def test_path_is_cleaned_before_matching() -> None:
    pats = parse("secret.txt")
    assert is_excluded("./secret.txt", pats)
    assert is_excluded("/secret.txt", pats)
    assert not is_excluded(".", parse("*"))  # the context root is never excluded


def test_parse_patterns() -> None:
    pats = parse("# c\n\n./a/b/\n!/c\n  d  \n")
    assert [(p.text, p.exclusion) for p in pats] == [("a/b", False), ("c", True), ("d", False)]
    assert pats[0].matches("a/b") and not pats[0].matches("a/b/x")


@pytest.mark.parametrize("bad", ["!", "[", "a[", "[]a]", "[x-]", "[a-b-c]", "x\\"])
def test_invalid_patterns(bad: str) -> None:
    with pytest.raises(ValueError):
        parse(bad, strict=True)
    # lenient: the bad line is dropped, the others still work
    pats = parse(f"{bad}\nsecret.txt")
    assert [p.text for p in pats] == ["secret.txt"]


def test_clean() -> None:
    assert clean("") == "."
    assert clean("./a//b/./c/..") == "a/b"
    assert clean("/../a") == "/a"
    assert clean("../a") == "../a"


# --- find_files ------------------------------------------------------------------------------


def _touch(root: Path, rel: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("x")


def test_find_files_prunes_sorted_and_relative(tmp_path: Path) -> None:
    for rel in [".env", "b/.env", "a/.env", "a/z/.env", "app.py", "a/keep.txt"]:
        _touch(tmp_path, rel)
    for pruned in sorted(PRUNED_DIRS):
        _touch(tmp_path, f"{pruned}/.env")
        _touch(tmp_path, f"a/{pruned}/.env")
    got = find_files(tmp_path, lambda rel: rel.rsplit("/", 1)[-1] == ".env")
    assert got == [".env", "a/.env", "a/z/.env", "b/.env"]
    # deterministic
    assert find_files(tmp_path, lambda rel: rel.endswith(".env")) == got


def test_find_files_does_not_follow_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _touch(outside, "secret.env")
    ctx = tmp_path / "ctx"
    _touch(ctx, "real.env")
    try:
        os.symlink(outside, ctx / "linkdir")
        os.symlink(outside / "secret.env", ctx / "link.env")
    except OSError:  # pragma: no cover - platform without symlinks
        pytest.skip("symlinks unavailable")
    assert find_files(ctx, lambda rel: rel.endswith(".env")) == ["real.env"]


def test_find_files_max_depth(tmp_path: Path) -> None:
    for rel in ["s", "1/s", "1/2/s", "1/2/3/s", "1/2/3/4/s", "1/2/3/4/5/s"]:
        _touch(tmp_path, rel)
    def wanted(rel: str) -> bool:
        return rel.endswith("s")
    assert find_files(tmp_path, wanted) == ["s", "1/s", "1/2/s", "1/2/3/s", "1/2/3/4/s"]
    assert find_files(tmp_path, wanted, max_depth=0) == ["s"]
    assert find_files(tmp_path, wanted, max_depth=2) == ["s", "1/s", "1/2/s"]


def test_find_files_max_files_stops_quietly(tmp_path: Path) -> None:
    for i in range(10):
        _touch(tmp_path, f"f{i}.txt")
    seen: list[str] = []

    def wanted(rel: str) -> bool:
        seen.append(rel)
        return True

    got = find_files(tmp_path, wanted, max_files=3)
    assert got == ["f0.txt", "f1.txt", "f2.txt"]
    assert len(seen) == 3  # stops examining, too
    assert find_files(tmp_path / "missing", wanted) == []


# --- extend ------------------------------------------------------------------------------------


def test_extend_none_creates_block() -> None:
    out = extend(None, [".env", "config/secret.json"])
    assert out == f"{BLOCK_COMMENT}\n.env\nconfig/secret.json\n"
    pats = parse(out)
    assert is_excluded(".env", pats) and is_excluded("config/secret.json", pats)
    assert not is_excluded("app.py", pats)


def test_extend_keeps_crlf() -> None:
    original = "node_modules\r\n*.log\r\n"
    out = extend(original, [".env"])
    assert out == original + f"{BLOCK_COMMENT}\r\n.env\r\n"
    assert extend(None, [".env"], newline="\r\n") == f"{BLOCK_COMMENT}\r\n.env\r\n"


def test_extend_adds_missing_final_newline() -> None:
    assert extend("node_modules", [".env"]) == f"node_modules\n{BLOCK_COMMENT}\n.env\n"
    assert extend("a\r\nb", [".env"]) == f"a\r\nb\r\n{BLOCK_COMMENT}\r\n.env\r\n"
    assert extend("", [".env"]) == f"{BLOCK_COMMENT}\n.env\n"


def test_extend_skips_already_excluded_and_duplicates() -> None:
    original = "*.env\nsecrets/\n!secrets/public.pem\n"
    out = extend(original, ["prod.env", "secrets/key.pem", "secrets/public.pem", "id_rsa", "./id_rsa"])
    assert out == original + f"{BLOCK_COMMENT}\nsecrets/public.pem\nid_rsa\n"
    assert is_excluded("secrets/public.pem", parse(out))  # appended last, so it wins over the exception
    # nothing to add: the original is returned unchanged (idempotent)
    assert extend(out, ["prod.env", "id_rsa"]) is out
    assert extend("x", []) == "x"


def test_extend_escapes_glob_metacharacters() -> None:
    weird = ["a*b.env", "q?.txt", "[x].key", "back\\slash", "#hash", "!bang", " lead", "trail "]
    out = extend(None, weird)
    pats = parse(out)
    for path in weird:
        assert is_excluded(path, pats), path
    # the escaped patterns are literal: they do not match look-alikes
    for other in ["aXb.env", "qq.txt", "x.key", "hash", "bang", "lead", "trail"]:
        assert not is_excluded(other, pats), other
    assert escape("a*b") == "a\\*b"
    assert escape("trail ") == "trail[ ]"


def test_extend_rejects_paths_outside_context() -> None:
    with pytest.raises(ValueError):
        extend(None, ["../outside"])
    with pytest.raises(ValueError):
        extend(None, ["a\nb"])
