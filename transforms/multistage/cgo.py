"""cgo for ``multistage``'s Go split (issue 23 item 3): does the binary need cgo, and which runtime
and system libraries does it then need?

What it changes
    ``go_cgo`` is called where ``compiled._go`` decides ``CGO_ENABLED`` and the runtime image. Besides
    the evidence ``_go`` already reads (``CGO_ENABLED=1`` in the RUN, ENV or ARG; a ``-dev`` package
    installed), cgo is on when the build context shows it:
    * a ``.go`` file the build compiles (not ``_test.go``, not under ``testdata/`` or a ``.``/``_``
      folder, not left out by ``.dockerignore`` or by its build constraints for linux) has
      ``import "C"`` — vendored packages count (``go mod vendor`` copies only packages the build imports);
    * ``go.mod`` (its ``require``s), ``go.sum`` (modules whose code was downloaded, not only their
      ``go.mod``) or ``vendor/modules.txt`` name a module of ``data/cgo.yaml`` ``modules``
      (``github.com/mattn/go-sqlite3``, ``confluent-kafka-go``…), or a ``.go`` file imports a package
      of its ``packages`` (``github.com/google/gopacket/pcap``);
    * the builder installs a Debian Go source package of its ``source_packages``
      (``golang-github-mattn-go-sqlite3-dev`` links the system SQLite).
    With cgo on, ``CGO_ENABLED=0`` is not added and the runtime has a C library: distroless ``cc``
    when the binary links nothing beyond it; when it links a system library — a ``#cgo LDFLAGS: -lNAME``
    or ``#cgo pkg-config: NAME`` of a compiled file, a module's library (``go-sqlite3`` built with
    ``-tags libsqlite3`` links ``libsqlite3``), the runtime part of a ``-dev`` package the builder
    installs — the runtime is ``debian:trixie-slim`` (the Debian release distroless debian13 is built
    from) with that library's package installed. An Alpine (musl) builder gets an Alpine runtime
    (``alpine:3.x``, ``apk add`` of the libraries): a glibc image cannot run a musl binary.
    On Alpine, source and module evidence counts only when the builder installs a C compiler (without
    one, Go builds with cgo off).

When it refuses (a note, file unchanged)
    A linked library (or a ``-dev`` package) whose runtime package the tables do not know for the
    runtime's package manager — named in the note; a builder whose glibc is newer than the runtime's.

Fix safety
    Part of the ``multistage`` fix (unsafe). Without any cgo evidence the split is today's:
    ``CGO_ENABLED=0`` and distroless ``static``. An explicit ``CGO_ENABLED=0`` is always honoured.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field

from rewriter.core.shell import Command
from rewriter.core.syntax import Stage
from rewriter.facts import Context, parse_image
from rewriter.facts.commands import package_call
from transforms._data import load
from transforms.multistage.plan import (
    Plan,
    Refuse,
    _alive,
    _distroless,
    _glibc_ok,
    _option,
    _override,
    _stage_value,
    runtimes,
)
from transforms.multistage.samefamily import is_alpine

#: GOOS and GOARCH values a file name suffix or a build constraint may name (go tool dist list)
_GOOS = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl",
         "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"}
_GOARCH = {"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle", "mips64",
           "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64", "s390", "s390x",
           "sparc", "sparc64", "wasm"}
#: the C compilers an Alpine builder may install (Go disables cgo when it finds none)
_APK_COMPILERS = {"gcc", "build-base", "clang", "g++", "clang-dev", "musl-gcc"}
_WALK_FILES = 5000
_WALK_DEPTH = 8
_MAX_READ = 1 << 20


@dataclass
class Evidence:
    """Why the build needs cgo, and the system libraries it links (link name → where it was seen)."""

    reasons: list[str] = field(default_factory=list)
    libraries: dict[str, str] = field(default_factory=dict)


# --- reading the module's requirements -------------------------------------------------------------

def go_mod_requirements(text: str) -> set[str]:
    """The module paths a ``go.mod`` requires (single ``require`` lines and ``require ( … )`` blocks,
    ``// indirect`` included); ``replace``/``exclude`` lines are not requirements."""
    found: set[str] = set()
    block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if block:
            if line.startswith(")"):
                block = False
            elif line:
                found.add(line.split()[0].strip('"'))
            continue
        if re.match(r"^require\s*\($", line):
            block = True
        elif m := re.match(r"^require\s+(\S+)\s+\S+", line):
            found.add(m.group(1).strip('"'))
    return found


def go_sum_modules(text: str) -> set[str]:
    """The modules a ``go.sum`` holds the code hash of (``PATH VERSION h1:…``); a line for
    ``VERSION/go.mod`` alone means only the module's go.mod was read, not its code."""
    found: set[str] = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and not parts[1].endswith("/go.mod"):
            found.add(parts[0])
    return found


def vendored_modules(text: str) -> set[str]:
    """The modules ``vendor/modules.txt`` lists (``# PATH VERSION``)."""
    return {m.group(1) for m in re.finditer(r"(?m)^# (\S+) v\S+", text)}


# --- reading Go sources ------------------------------------------------------------------------------

def _tag_true(tag: str, tags: set[str]) -> bool:
    if tag in _GOOS:
        return tag == "linux"
    if tag in _GOARCH:
        return True  # the build's architecture is not known: any counts (the conservative side)
    if tag == "unix" or tag == "cgo" or tag == "gc" or re.fullmatch(r"go1\.\d+", tag):
        return True
    return tag in tags


def constraint_holds(expr: str, tags: set[str]) -> bool:
    """A ``//go:build`` expression (``linux && !arm``, ``(a || b) && !c``) for a linux build with cgo
    and the given ``-tags``; any architecture counts. An expression it cannot read holds."""
    tokens = re.findall(r"\(|\)|!|&&|\|\||[A-Za-z0-9_.]+", expr)
    pos = 0

    def parse_or() -> bool:
        nonlocal pos
        value = parse_and()
        while pos < len(tokens) and tokens[pos] == "||":
            pos += 1
            value = parse_and() or value
        return value

    def parse_and() -> bool:
        nonlocal pos
        value = parse_not()
        while pos < len(tokens) and tokens[pos] == "&&":
            pos += 1
            value = parse_not() and value
        return value

    def parse_not() -> bool:
        nonlocal pos
        if pos < len(tokens) and tokens[pos] == "!":
            pos += 1
            return not parse_not()
        if pos < len(tokens) and tokens[pos] == "(":
            pos += 1
            value = parse_or()
            pos += 1  # ")"
            return value
        if pos >= len(tokens):
            raise ValueError(expr)
        pos += 1
        return _tag_true(tokens[pos - 1], tags)

    try:
        value = parse_or()
    except ValueError:
        return True
    return value if pos == len(tokens) else True


def _plus_build_holds(line: str, tags: set[str]) -> bool:
    """A legacy ``// +build`` line: options separated by spaces are OR, terms joined by commas AND."""
    options = line.split()
    return not options or any(all((not _tag_true(t[1:], tags)) if t.startswith("!") else _tag_true(t, tags)
                                  for t in opt.split(",") if t) for opt in options)


def file_is_built(name: str, text: str, tags: set[str]) -> bool:
    """Does a linux build (cgo on, ``tags`` set) compile this ``.go`` file? Its name's ``_GOOS``/
    ``_GOARCH`` suffix and the build constraints of its header decide."""
    stem = name[:-3] if name.endswith(".go") else name
    if stem.endswith("_test") or name.startswith(("_", ".")):
        return False
    parts = stem.split("_")[1:]
    if parts and parts[-1] in _GOARCH:
        parts = parts[:-1]
    if parts and parts[-1] in _GOOS and parts[-1] != "linux":
        return False
    header = re.split(r"(?m)^\s*package\s", text, maxsplit=1)[0]
    go_build = re.search(r"(?m)^//go:build\s+(.+)$", header)
    if go_build:
        return constraint_holds(go_build.group(1).strip(), tags)
    return all(_plus_build_holds(m.group(1), tags) for m in re.finditer(r"(?m)^//\s*\+build\s+(.+)$", header))


def imports(text: str) -> set[str]:
    """The import paths of a Go file (single imports and ``import ( … )`` blocks)."""
    found: set[str] = set()
    for m in re.finditer(r'(?m)^import\s*(?:[A-Za-z_.]\w*\s+)?"([^"]+)"', text):
        found.add(m.group(1))
    for block in re.finditer(r"(?ms)^import\s*\((.*?)^\)", text):
        found |= set(re.findall(r'"([^"]+)"', block.group(1)))
    return found


def _cgo_condition_holds(words: list[str], tags: set[str]) -> bool:
    """The build condition of a ``#cgo`` line (``linux,!android darwin``): empty holds."""
    return not words or _plus_build_holds(" ".join(words), tags)


def linked_libraries(text: str, tags: set[str]) -> list[str]:
    """The system libraries a cgo file links on linux: ``-lNAME`` of its ``#cgo LDFLAGS`` and the
    names of its ``#cgo pkg-config`` lines whose condition holds (``${SRCDIR}`` archives are the
    module's own and are linked into the binary)."""
    found: list[str] = []
    for m in re.finditer(r"(?m)^\s*(?://)?\s*#cgo\s+([^:\n]*?)\s*(LDFLAGS|pkg-config)\s*:(.*)$", text):
        if not _cgo_condition_holds(m.group(1).split(), tags):
            continue
        words = m.group(3).split()
        if m.group(2) == "pkg-config":
            found += [w for w in words if not w.startswith("-")]
        else:
            found += [w[2:] for w in words if w.startswith("-l") and len(w) > 2]
    return found


# --- the build context -------------------------------------------------------------------------------

def _context_files(ctx: Context) -> list[str]:
    """The ``.go`` files, ``go.mod``/``go.sum`` files and ``vendor/modules.txt`` of the build context
    (relative paths; ``.dockerignore`` applied), found once per run."""
    key = "multistage:cgo-files"
    if key in ctx.memo:
        return ctx.memo[key]  # type: ignore[return-value]
    found: list[str] = []
    if ctx.context_dir is not None and ctx.context_dir.is_dir():
        from rewriter.sidefiles import dockerignore

        patterns = dockerignore.parse(ctx.read_side(".dockerignore") or "")
        seen = 0
        pending: list[tuple[str, str, int]] = [(str(ctx.context_dir), "", 0)]
        while pending and seen < _WALK_FILES:
            folder, rel_dir, depth = pending.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if depth < _WALK_DEPTH and not entry.name.startswith((".", "_")) and \
                                entry.name not in {"testdata", "node_modules"}:
                            pending.append((entry.path, rel, depth + 1))
                        continue
                    if not entry.is_file(follow_symlinks=False):
                        continue
                except OSError:
                    continue
                seen += 1
                wanted = entry.name.endswith(".go") or entry.name in {"go.mod", "go.sum"} or rel == "vendor/modules.txt"
                if wanted and not dockerignore.is_excluded(rel, patterns):
                    found.append(rel)
    ctx.memo[key] = found
    return found


def _read(ctx: Context, rel: str) -> str:
    path = ctx.context_file(rel)
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            return fh.read(_MAX_READ).decode("utf-8", "replace")
    except OSError:
        return ""


def build_tags(ctx: Context, stage: Stage, cmd: Command) -> set[str]:
    """The ``-tags`` of the ``go build`` (comma- or space-separated), and those of ``GOFLAGS``."""
    tags: set[str] = set()
    values = [_option(cmd.argv, "-tags"), _option(cmd.argv, "--tags")]
    goflags = next((a.value.text for a in cmd.env if a.name == "GOFLAGS" and a.value is not None), None) or \
        _stage_value(ctx, stage, "GOFLAGS") or ""
    values += [_option(goflags.split(), "-tags")]
    for v in values:
        if v:
            tags |= {t for t in re.split(r"[,\s]+", v.strip("'\"")) if t}
    return tags


def evidence(ctx: Context, tags: set[str], runs: list | None = None) -> Evidence:
    """What the build context (and the Debian Go source packages the builder installs) says about cgo
    (see the module docstring)."""
    table = load("cgo")
    ev = Evidence()
    for _i, c in runs or []:
        call = package_call(c)
        if call is None or call.family != "apt" or call.subcommand != "install":
            continue
        for pkg in call.packages:
            row = table["source_packages"].get(pkg)
            if row is not None:
                ev.reasons.append(f"the builder installs {pkg}, Go sources that need cgo")
                for lib in row["libraries"]:
                    ev.libraries.setdefault(lib, pkg)
    files = _context_files(ctx)
    modules: set[str] = set()
    for rel in files:
        name = posixpath.basename(rel)
        if name == "go.mod":
            modules |= go_mod_requirements(_read(ctx, rel))
        elif name == "go.sum":
            modules |= go_sum_modules(_read(ctx, rel))
        elif rel == "vendor/modules.txt":
            modules |= vendored_modules(_read(ctx, rel))
    for module, row in table["modules"].items():
        if module in modules:
            ev.reasons.append(f"the module requires {module}, which needs cgo")
            for lib in row["libraries"]:
                ev.libraries.setdefault(lib, module)
            for tag, libs in row["tags"].items():
                if tag in tags:
                    for lib in libs:
                        ev.libraries.setdefault(lib, f"{module} built with -tags {tag}")
    for rel in files:
        if not rel.endswith(".go"):
            continue
        text = _read(ctx, rel)
        if not file_is_built(posixpath.basename(rel), text, tags):
            continue
        used = imports(text)
        if "C" in used:
            if not any(r.startswith("import \"C\"") for r in ev.reasons):
                ev.reasons.append(f"import \"C\" in {rel}")
            for lib in linked_libraries(text, tags):
                ev.libraries.setdefault(lib, f"#cgo in {rel}")
        for package, row in table["packages"].items():
            if package in used:
                ev.reasons.append(f"{rel} imports {package}, which needs cgo")
                for lib in row["libraries"]:
                    ev.libraries.setdefault(lib, package)
    return ev


# --- the decision ----------------------------------------------------------------------------------

def _dev_libraries(runs: list, installer: str) -> list[tuple[str, str]]:
    """(``-dev`` package, runtime package) of what the builder installs with ``installer``; a ``-dev``
    package whose runtime part the tables do not know is refused (the binary may link it)."""
    table = runtimes()
    libs = table["apk_runtime_libraries" if installer == "apk" else "runtime_libraries"]
    skip = set(table["compilers"][installer]) | set(table["build_only_packages"])
    out: list[tuple[str, str]] = []
    for _i, c in runs:
        call = package_call(c)
        if call is None or call.family != installer or call.subcommand not in {"install", "add"}:
            continue
        for pkg in call.packages:
            if not pkg.endswith("-dev") or pkg in skip or pkg.startswith("golang-"):
                continue  # golang-*-dev are Go sources, not C libraries
            if pkg not in libs:
                raise Refuse(f"the Go build installs {pkg} and uses cgo; the runtime library the binary needs "
                             "from it is not known, so the runtime stage could miss it")
            out.append((pkg, libs[pkg]))
    return out


def _has_compiler(runs: list) -> bool:
    return any(call is not None and call.family == "apk" and set(call.packages) & _APK_COMPILERS
               for _i, c in runs if (call := package_call(c)) is not None)


def _explicit_off(ctx: Context, stage: Stage, cmd: Command) -> bool:
    for a in cmd.env:
        if a.name == "CGO_ENABLED" and a.value is not None:
            return a.value.text == "0"
    return _stage_value(ctx, stage, "CGO_ENABLED") == "0"


def _runtime(row: dict) -> str:
    if not _alive(row):
        raise Refuse(f"the cgo runtime {row['image']} of data/cgo.yaml is past end of life ({row['eol']})",
                     hint="update the table, or set `images:` in the configuration")
    return str(row["image"])


def go_cgo(ctx: Context, stage: Stage, runs: list, cmd: Command, plan: Plan, evident: bool) -> bool:
    """Decide cgo for the Go build ``cmd``; when it is on, set ``plan``'s runtime image, the packages it
    installs and its notes. ``evident``: ``_go``'s own evidence (``CGO_ENABLED=1``, ``-dev`` packages).
    Returns whether cgo is on (the caller then adds no ``CGO_ENABLED=0``)."""
    if _explicit_off(ctx, stage, cmd):
        plan.runtime = _distroless("static")["image"]  # the author's CGO_ENABLED=0: a static binary
        return False
    image = parse_image(ctx.resolved_base(stage))
    alpine = is_alpine(image)
    tags = build_tags(ctx, stage, cmd)
    ev = evidence(ctx, tags, runs)
    if alpine and not evident and not _has_compiler(runs):
        return False  # no C compiler: Go builds with cgo off, whatever the sources say
    if not evident and not ev.reasons:
        return False
    table = load("cgo")
    installer = "apk" if alpine else "apt"
    packages: list[str] = []
    why: list[str] = []
    for lib, source in ev.libraries.items():
        if lib in table["provided"]:
            continue
        row = table["libraries"].get(lib, {})
        if not row.get(installer):
            raise Refuse(f"the Go build links the system library lib{lib} ({source}); the package that provides "
                         f"it on the {'Alpine' if alpine else 'Debian'} runtime is not known",
                         hint="add a runtime stage with it by hand")
        packages += row[installer]
        why.append(f"lib{lib} ({source})")
    for dev, lib in _dev_libraries(runs, installer):
        if alpine or lib not in runtimes()["distroless_libraries"]:
            packages.append(lib)
            why.append(f"{lib} (from {dev})")
    packages = list(dict.fromkeys(packages))
    if ev.reasons and not evident:
        plan.notes.append("cgo stays on: " + "; ".join(ev.reasons[:2]))
    cgo = table["runtimes"]
    if alpine:
        runtime = _runtime(cgo["alpine"])
        named = re.search(r"alpine(\d+)\.(\d+)", image.tag or "")
        newest = tuple(int(p) for p in runtime.rsplit(":", 1)[1].split("."))
        if named and (int(named.group(1)), int(named.group(2))) > newest:
            runtime = f"alpine:{named.group(1)}.{named.group(2)}"  # a newer musl than the table's release
        plan.runtime = _override(ctx, "go-cgo-alpine", runtime)
        plan.installer = "apk"
        plan.packages = packages
        plan.notes.append(f"{image.raw} is Alpine (musl): the cgo binary runs on {plan.runtime}")
        return True
    glibc = _distroless("cc")["glibc"]
    if not _glibc_ok(image, glibc):
        raise Refuse(f"the builder {image.raw} has a newer glibc than the runtime ({glibc})")
    if packages:
        plan.runtime = _override(ctx, "go-cgo-debian", _runtime(cgo["debian"]))
        plan.installer = "apt"
        plan.packages = packages
        plan.notes.append(f"the binary links {', '.join(why)}, which distroless cc lacks: the runtime is "
                          f"{plan.runtime} with {' '.join(packages)}")
    else:
        plan.runtime = _distroless("cc")["image"]
    return True
