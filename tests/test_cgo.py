"""cgo for the Go split (issue 23 item 3): the readers of ``transforms/multistage/cgo.py`` (go.mod,
go.sum, vendor/modules.txt, build constraints, imports, ``#cgo`` link flags) and the table
``data/cgo.yaml``; the splits themselves are the golden cases ``golden/multistage/go-cgo-*``,
``go-alpine-cgo-musl`` and ``go-pure-modules-static``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewriter.engine.pipeline import process_text
from transforms import load as load_transform
from transforms._data import load
from transforms.multistage.cgo import (
    constraint_holds,
    file_is_built,
    go_mod_requirements,
    go_sum_modules,
    imports,
    linked_libraries,
    vendored_modules,
)

GO_MOD = """\
module example.com/app // the app

go 1.22

toolchain go1.22.5

require github.com/mattn/go-sqlite3 v1.14.22

require (
\tgithub.com/go-chi/chi/v5 v5.1.0
\t"github.com/quoted/mod" v1.0.0
\tgolang.org/x/sys v0.20.0 // indirect
\t// github.com/commented/out v1.0.0
)

replace github.com/replaced/mod => ../mod
exclude github.com/excluded/mod v1.0.0
"""


def test_go_mod_requirements_single_lines_blocks_and_indirect() -> None:
    assert go_mod_requirements(GO_MOD) == {"github.com/mattn/go-sqlite3", "github.com/go-chi/chi/v5",
                                           "github.com/quoted/mod", "golang.org/x/sys"}


def test_go_mod_without_requirements() -> None:
    assert go_mod_requirements("module example.com/x\n\ngo 1.24\n") == set()


def test_go_sum_counts_modules_whose_code_was_downloaded_only() -> None:
    text = ("github.com/mattn/go-sqlite3 v1.14.16/go.mod h1:PLACEHOLDER=\n"
            "github.com/go-chi/chi/v5 v5.1.0 h1:PLACEHOLDER=\n"
            "github.com/go-chi/chi/v5 v5.1.0/go.mod h1:PLACEHOLDER=\n"
            "garbage\n")
    assert go_sum_modules(text) == {"github.com/go-chi/chi/v5"}


def test_vendor_modules_txt() -> None:
    text = ("# github.com/mattn/go-sqlite3 v1.14.16\n## explicit; go 1.16\ngithub.com/mattn/go-sqlite3\n"
            "# golang.org/x/sys v0.20.0\n")
    assert vendored_modules(text) == {"github.com/mattn/go-sqlite3", "golang.org/x/sys"}


@pytest.mark.parametrize(
    ("expr", "tags", "holds"),
    [
        ("linux", set(), True),
        ("darwin", set(), False),
        ("linux && !android", set(), True),
        ("darwin || windows", set(), False),
        ("cgo && amd64", set(), True),
        ("!cgo", set(), False),
        ("ignore", set(), False),
        ("libsqlite3", set(), False),
        ("libsqlite3", {"libsqlite3"}, True),
        ("(linux || darwin) && !libsqlite3", {"libsqlite3"}, False),
        ("go1.21 && unix", set(), True),
        ("linux &&", set(), True),  # unreadable: counts (the conservative side)
    ],
)
def test_build_constraints_for_a_linux_cgo_build(expr: str, tags: set[str], holds: bool) -> None:
    assert constraint_holds(expr, tags) is holds


@pytest.mark.parametrize(
    ("name", "text", "built"),
    [
        ("main.go", "package main\n", True),
        ("main_test.go", "package main\n", False),
        ("cgo_darwin.go", "package main\n", False),
        ("cgo_linux_arm64.go", "package main\n", True),
        ("cgo_windows_amd64.go", "package main\n", False),
        ("tools.go", "//go:build ignore\n\npackage main\n", False),
        ("old.go", "// +build darwin freebsd\n\npackage main\n", False),
        ("old2.go", "// +build linux,!android\n\npackage main\n", True),
        ("x.go", "package main\n\n//go:build darwin\n", True),  # after the package clause: not a constraint
    ],
)
def test_which_files_a_linux_build_compiles(name: str, text: str, built: bool) -> None:
    assert file_is_built(name, text, set()) is built


def test_imports_single_grouped_and_named() -> None:
    text = ('package main\n\nimport "C"\nimport db "database/sql"\n\nimport (\n\t"fmt"\n'
            '\t_ "github.com/mattn/go-sqlite3"\n)\n')
    assert imports(text) == {"C", "database/sql", "fmt", "github.com/mattn/go-sqlite3"}


def test_linked_libraries_of_cgo_directives_whose_condition_holds() -> None:
    text = ("/*\n#cgo CFLAGS: -DX\n#cgo linux LDFLAGS: -lsqlite3 -L/opt/lib\n#cgo windows LDFLAGS: -lwinsqlite3\n"
            "#cgo linux,!android LDFLAGS: -ldl -lm\n#cgo pkg-config: libzstd --static\n"
            "#cgo LDFLAGS: ${SRCDIR}/lib/librdkafka_glibc_linux_amd64.a -lpthread\n*/\nimport \"C\"\n"
            "// #cgo darwin LDFLAGS: -framework Foo\n")
    assert linked_libraries(text, set()) == ["sqlite3", "dl", "m", "libzstd", "pthread"]


def test_cgo_table_rows_name_a_source_and_known_link_names() -> None:
    table = load("cgo")
    assert "github.com/mattn/go-sqlite3" in table["modules"]
    for module, row in table["modules"].items():
        assert row["source"].strip(), module
        assert "/" in module and not module.endswith("/")
    # every runtime package named is a list for a known package manager
    for lib, row in table["libraries"].items():
        assert lib not in table["provided"] and set(row) <= {"apt", "apk"}
    assert table["runtimes"]["alpine"]["image"].startswith("alpine:3.")


def _split(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> str:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    r = process_text(dockerfile, context_dir=tmp_path, transforms=[load_transform("multistage")], unsafe_fixes=True)
    return r.new_text


GO_APP = 'FROM golang:1.24\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\nCMD ["/out/app"]\n'


def test_explicit_cgo_disabled_is_honoured(tmp_path: Path) -> None:
    text = GO_APP.replace("RUN go build", "RUN CGO_ENABLED=0 go build")
    out = _split(tmp_path, text, {"go.mod": "module x\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n"})
    assert "static-debian13" in out


def test_a_dockerignored_cgo_file_does_not_count(tmp_path: Path) -> None:
    out = _split(tmp_path, GO_APP, {"go.mod": "module x\n", "main.go": "package main\n",
                                    "tools/gen.go": 'package tools\n\nimport "C"\n', ".dockerignore": "tools\n"})
    assert "CGO_ENABLED=0 go build" in out and "static-debian13" in out


def test_vendored_cgo_package_counts(tmp_path: Path) -> None:
    out = _split(tmp_path, GO_APP, {
        "go.mod": "module x\n", "main.go": "package main\n",
        "vendor/github.com/acme/lz/lz.go": 'package lz\n\n// #cgo LDFLAGS: -lzstd\nimport "C"\n'})
    assert "FROM debian:trixie-slim" in out and "libzstd1" in out and "CGO_ENABLED=0" not in out


def test_alpine_without_a_c_compiler_stays_static(tmp_path: Path) -> None:
    """Go turns cgo off when it finds no C compiler: the original binary is static too."""
    text = GO_APP.replace("golang:1.24", "golang:1.24-alpine")
    out = _split(tmp_path, text, {"go.mod": "module x\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n"})
    assert "static-debian13" in out


@pytest.mark.parametrize(("tag", "runtime"), [("1.24-alpine3.21", "alpine:3.23"), ("1.26-alpine3.24", "alpine:3.24")])
def test_alpine_runtime_is_the_tables_release_or_a_newer_one_the_builder_names(
        tmp_path: Path, tag: str, runtime: str) -> None:
    """musl binaries run on a newer musl: an older builder release gets the table's (supported) one."""
    text = GO_APP.replace("golang:1.24", f"golang:{tag}").replace(
        "WORKDIR", "RUN apk add --no-cache build-base sqlite-dev\nWORKDIR")
    out = _split(tmp_path, text, {"go.mod": "module x\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n"})
    assert f"FROM {runtime}\nRUN apk add --no-cache sqlite-libs\n" in out


def test_unknown_dev_package_with_cgo_is_refused(tmp_path: Path) -> None:
    text = GO_APP.replace("WORKDIR", "RUN apt-get update && apt-get install -y libfrobnicate-dev\nWORKDIR")
    r = process_text(text, context_dir=tmp_path, transforms=[load_transform("multistage")], unsafe_fixes=True)
    assert not r.changed
    assert any("libfrobnicate-dev" in n.message for n in r.notes)


def test_alpine_builder_with_explicit_cgo_gets_a_musl_runtime(tmp_path: Path) -> None:
    """Before issue 23 item 3 this was refused (cgo on Alpine): the binary needs musl, and Alpine has it."""
    text = ("FROM golang:1.24-alpine\nRUN apk add gcc musl-dev\nWORKDIR /src\nCOPY . .\n"
            "RUN CGO_ENABLED=1 go build -o /app\nCMD [\"/app\"]\n")
    out = _split(tmp_path, text, {})
    assert "FROM alpine:3.23\nCOPY --from=build /app /app\n" in out


def test_debian_go_source_package_links_the_system_library(tmp_path: Path) -> None:
    """Debian's golang-github-mattn-go-sqlite3-dev has no bundled SQLite: the binary links libsqlite3."""
    text = GO_APP.replace("WORKDIR", "RUN apt-get update && apt-get install -y golang-github-mattn-go-sqlite3-dev\n"
                                     "WORKDIR")
    out = _split(tmp_path, text, {"go.mod": "module x\n"})
    assert "FROM debian:trixie-slim\nRUN apt-get update && apt-get install -y --no-install-recommends " \
           "libsqlite3-0 " in out and "CGO_ENABLED=0" not in out
