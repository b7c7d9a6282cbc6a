"""multistage — a build-and-run image becomes a builder stage plus a minimal runtime stage.

What it changes
    The final stage, when it builds with a full toolchain image, is kept as the builder (named
    ``build`` when it has no name) and a runtime stage is appended that receives only what runs:
    * Go (``go build -o BIN``): ``CGO_ENABLED=0`` is set on the build when nothing needs cgo, and
      the binary runs on ``gcr.io/distroless/static-debian13:nonroot`` (cgo: ``cc-debian13``).
    * Rust (``cargo build --release``): the binary named by the start command, on ``cc-debian13``.
    * Python (``pip install``): the installed packages (site-packages, and those of a virtualenv the
      builder makes: ``python -m venv``, ``virtualenv``, ``uv venv``, ``ENV VIRTUAL_ENV``) and the app folder, on
      ``python3-debian13`` for Python 3.13, else the same version's ``-slim`` image (plus the runtime
      libraries of the ``-dev`` packages the builder installed). Console scripts run as
      ``python3 -m gunicorn …`` (their shebangs name the builder's interpreter).
    * Node (``npm ci``/``npm install``/``yarn install``): the app folder with production
      ``node_modules`` (``npm prune --omit=dev`` is added to the builder when it installed dev
      dependencies) on ``nodejs22|24|26-debian13``; ``npm start`` is resolved through
      ``package.json`` to the real ``node …`` command.
    * Java (a jar named by ``java -jar PATH``): the jar on ``java17|21|25-debian13``; JVM flags and
      program arguments are kept exactly.
    * .NET (``dotnet publish -o DIR``): the published folder on the chiseled
      ``aspnet:<ver>-noble-chiseled`` image.
    * A prebuilt static binary copied from the build context into an OS image (no RUN): the base
      becomes ``static-debian13:nonroot`` (the binary is checked: ELF without a program interpreter).
    The runtime stage gets the builder's ENV, EXPOSE, WORKDIR, LABEL, VOLUME and STOPSIGNAL, the
    files the builder COPYs into places the app reads at run time (``/etc/…``, ``/usr/share/…``,
    ``/opt/…``, ``/srv/…``, ``/var/lib/…``), and an exec-form ENTRYPOINT (distroless has no shell; with
    an exec-form ENTRYPOINT the CMD stays a CMD). Always the ``:nonroot`` variant; USER is left to
    the ``nonroot`` codemod (a USER after the builder's last RUN is dropped from the builder).
    Images come from ``data/runtimes.yaml`` with their end-of-life dates: an image past its date
    is never emitted.

    When distroless cannot run the app — an entry-point script or a shell-form start, an Alpine
    builder, Ruby (``bundle install``) or PHP (``composer``, ``docker-php-ext-install``), a package
    distroless lacks — the runtime is the same version's smaller image of the same family
    (``python:3.12-slim``, ``node:22-alpine``, ``ruby:3.3-slim``, ``eclipse-temurin:8-jre-alpine``, the
    ``php:*`` image itself) and the start lines move as they are: see ``transforms/_samefamily.py``
    (dependencies, context files, folders the build made, users, every non-compiler package with
    ``-dev`` → runtime library). A version past end of life moves to ``upgrades`` and a moving tag
    (``python:3``, ``node:lts``) is pinned, with a note; when a runtime stage would leave nothing
    behind, only the version moves (no split).

When it refuses (a note, file unchanged)
    Windows images; an unknown stack or a build output it cannot locate (``go build`` without ``-o``,
    a jar found only by wildcard); Go with cgo, Rust or .NET on Alpine (musl); a compiled stack
    (Go, Rust, Java, .NET) started by a script; no CMD/ENTRYPOINT (an image to build upon; PHP keeps
    its base image's start); a second service installed beside the app (nginx, supervisor, cron);
    package sources of the builder's own; a ``-dev`` package whose runtime library is not known; no
    WORKDIR; a builder that is already its family's smallest image and installs no build tools; a
    language version with no supported image; a builder whose glibc is newer than the runtime's; a
    final stage that is already a runtime (distroless, chiseled, scratch, ``-jre``) or already fed by a
    build stage. A ``HEALTHCHECK CMD curl -f URL`` (or ``wget``) of a Python or Node app on distroless
    becomes an exec-form probe run by the runtime's own interpreter (urllib / http.get, failing on HTTP
    errors like ``curl -f``); any other HEALTHCHECK that needs curl/wget/a shell is left out of a
    distroless runtime, with a note (a same-family runtime keeps it when it has the tool).

Fix safety
    **Unsafe**: the app now runs from a different image, without a shell, package manager or the
    builder's other files; anything it reads at run time outside the copied folders is gone. Verify
    with ``dockerfix verify``. Applied alone in its round, after ``secrets`` (so no secret is
    copied into the runtime stage).
"""

from __future__ import annotations

import datetime
import json
import posixpath
import re
import struct
from collections.abc import Iterator
from pathlib import Path

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.shell import Command, split_words
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context, ImageRef, inside, parse_image
from rewriter.facts.commands import package_call
from rewriter.facts.scope import join
from rewriter.facts.start import exec_argv
from transforms._base import Codemod
from transforms._data import load
from transforms._samefamily import carried_paths, is_alpine, plan_same_family
from transforms._splitplan import TODAY, abs_at, runtimes, runtimes_of, virtualenvs
from transforms._splitplan import Plan as _Plan
from transforms._splitplan import Refuse as _Refuse

ID = "multistage"
_CARRY = {"ENV", "EXPOSE", "LABEL", "VOLUME", "STOPSIGNAL"}
_OS_IMAGES = {"debian", "ubuntu", "busybox", "alpine"}
_UNSUPPORTED_TOOLCHAINS = {"erlang", "elixir", "ruby", "php", "perl", "haskell", "swift", "gcc", "buildpack-deps",
                           "clojure", "julia", "r-base"}
#: ENV of build tools: the runtime stage does not need them
_BUILD_ENV = ("POETRY_", "PIP_", "PIPENV_", "UV_", "NPM_CONFIG_", "YARN_", "GOPATH", "GOFLAGS", "GOPROXY", "CGO_",
              "GO111MODULE", "CARGO_", "RUSTUP_", "MAVEN_", "GRADLE_", "DOTNET_CLI_", "NUGET_")
_MOVE = {"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "VOLUME", "STOPSIGNAL"}


class MultistageTransform(Codemod):
    id = ID
    description = "Split a build-and-run image into a builder stage and a distroless (or slim) runtime stage."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        stage = ctx.final_stage
        if stage is None:
            return
        result: Fix | Note | None
        with runtimes_of(ctx):  # the configuration's `tables: runtimes` additions count
            try:
                plan = _plan(ctx, stage)
                result = _fix(ctx, stage, plan) if plan is not None else None
            except _Refuse as exc:
                result = Note(ID, exc.message, stage.start_line, refusal=True)
        if result is not None:
            yield result


def _alive(row: dict) -> bool:
    """Is a runtime-table row still updated by its publisher (its end of life after TODAY)?"""
    return datetime.date.fromisoformat(str(row["eol"])) > TODAY


# --------------------------------------------------------------------------- analysis


class _NotDistroless(_Refuse):
    """The app cannot run on distroless (its start needs a shell, a library distroless lacks): a
    same-family runtime may still take it."""


def _plan(ctx: Context, stage: Stage) -> _Plan | None:
    image = parse_image(ctx.resolved_base(stage))
    name = image.short_name
    if ctx.is_windows(stage):
        raise _Refuse("Windows image: no distroless runtime exists for it; left unchanged")
    if _is_runtime_image(image):
        return None  # already a runtime stage: nothing to split
    runs = ctx.facts.runs.commands(stage)
    if _already_split(ctx, stage, runs):
        return None  # the final stage already takes what it runs from a build stage
    stack = load("images")["stacks"].get(name)  # the language an official toolchain image builds
    if image.name.startswith("mcr.microsoft.com/dotnet/sdk"):
        stack = "dotnet"
    alpine = is_alpine(image)
    if stack is None:
        if name in _OS_IMAGES and not alpine:
            try:
                entry_os = _entry_argv(ctx, stage)
            except _NotDistroless:
                return None  # an OS image started by a script: not a prebuilt binary
            compiled = _c_binary(ctx, stage, image, runs, entry_os)
            return compiled if compiled is not None else _static_binary(ctx, stage, entry_os)
        if name in _UNSUPPORTED_TOOLCHAINS:
            raise _Refuse(f"{name} builds are not a stack this codemod splits yet (Go, Rust, Python, Node, Java, "
                          ".NET, Ruby, PHP)")
        return None  # not a toolchain image: nothing to split
    try:
        entry: list[str] | None = _entry_argv(ctx, stage)
        why = ""
    except _NotDistroless as exc:
        entry, why = None, exc.reason
    except _Refuse:
        if stack != "php" or not stage.last("COPY"):
            raise
        # PHP images start through the base image's own server (apache2-foreground, php-fpm): the
        # runtime is that same image, so the inherited start is the same
        entry, why = None, ""
    if stack in {"ruby", "php"}:
        return plan_same_family(ctx, stage, image, stack, runs, _workdir(ctx, stage),
                                f"{stack.capitalize()} has no distroless runtime")
    if stack in {"python", "node"}:
        if alpine:
            why = f"{image.raw} is Alpine (musl): the runtime is the same version's Alpine image"
        if entry is not None and not alpine:
            try:
                return _python(ctx, stage, image, runs, entry) if stack == "python" else \
                    _node(ctx, stage, image, runs, entry)
            except _NotDistroless as exc:
                why = exc.message
        plan = plan_same_family(ctx, stage, image, stack, runs, _workdir(ctx, stage), why)
        _check_installs(ctx, stack, stage, runs, plan, entry)
        return plan
    if entry is None:
        raise _Refuse(why)
    if alpine and stack not in {"go", "java"}:
        raise _Refuse(f"{image.raw} is Alpine (musl): its build output does not run on glibc distroless images")
    if stack == "go":
        plan = _go(ctx, stage, runs, entry)
        if alpine and "static" not in plan.runtime:
            raise _Refuse(f"{image.raw} is Alpine (musl) and the Go build uses cgo: the binary needs musl; build "
                          "with CGO_ENABLED=0 and run again")
        return plan
    if stack == "rust":
        return _rust(ctx, stage, runs, entry)
    if stack == "java":
        return _java(ctx, stage, image, runs, entry)
    return _dotnet(ctx, stage, image, runs, entry)


def _already_split(ctx: Context, stage: Stage, runs: list[tuple[Instruction, Command]]) -> bool:
    """Is the final stage built FROM an earlier stage, or fed by one that builds (``COPY --from``,
    ``RUN --mount=…,from=``) while building nothing itself? Its author split the build already."""
    if ctx.facts.parent(stage) is not None:
        return True
    builds = {"pip", "pip3", "npm", "yarn", "pnpm", "bundle", "gem", "composer", "go", "cargo", "mvn", "gradle",
              "dotnet", "poetry", "pipenv", "uv", "make", "./mvnw", "./gradlew"}
    if any(c.name.rsplit("/", 1)[-1] in builds or c.name in builds or _is_pip_install(c)
           for i, c in runs if not i.mounts):
        return False  # it still builds or installs dependencies itself
    feeding = [ctx.facts.copy_source(i) for i in stage.instructions if i.keyword in {"COPY", "ADD"}]
    mounted = [m.get("from", "") for i in stage.instructions if i.keyword == "RUN" for m in i.mounts]
    feeding += [st if st is not None and st.index < stage.index else None
                for st in (ctx.tree.stage_named(ref) if ref else None for ref in mounted)]
    return any(st is not None and any(i.keyword == "RUN" for i in st.instructions) for st in feeding)


def _check_installs(ctx: Context, stack: str, stage: Stage, runs: list, plan: _Plan,
                    entry: list[str] | None) -> None:
    """A same-family Python/Node split needs the dependency install it moves; Node apps installed with
    dev dependencies are pruned when the start runs ``node`` itself (not a script that may use them)."""
    if stack == "python":
        if not any(_is_pip_install(c) for _i, c in runs) and not any(c.name == "poetry" for _i, c in runs):
            raise _Refuse("python image without `pip install`/`poetry install`: nothing to split")
        if any(_option(c.argv, "--target") or _option(c.argv, "--prefix") or "--user" in c.argv
               for _i, c in runs if _is_pip_install(c)):
            raise _Refuse("pip installs to a custom location (--target/--prefix/--user); move it by hand")
        return
    installs = _node_installs(runs)
    if not installs:
        raise _Refuse("node image without `npm ci`/`npm install`/`yarn install`: nothing to split")
    prod = _production_install(ctx, stage, installs)
    if not prod and installs[-1].name == "npm" and entry and entry[0].rsplit("/", 1)[-1] == "node":
        plan.builder_edits.append(_prune_edit(ctx, stage))
    elif not prod:
        plan.notes.append("dev dependencies are kept (the start may use them)")


def _node_installs(runs: list) -> list[Command]:
    """The ``npm ci``/``npm install``/``yarn install``/``pnpm install`` commands of the stage."""
    return [c for _i, c in runs if c.name in {"npm", "yarn", "pnpm"} and len(c.argv) > 1
            and c.argv[1] in {"ci", "install", "i"}]


def _production_install(ctx: Context, stage: Stage, installs: list[Command]) -> bool:
    """Do the installs leave dev dependencies out (``--omit=dev``/``--production``, or ``NODE_ENV=production``
    set by an ENV or an ARG default of the stage)?"""
    return any("--omit=dev" in c.argv or "--production" in c.argv or "--prod" in c.argv for c in installs) or \
        _stage_value(ctx, stage, "NODE_ENV") == "production"


def _stage_value(ctx: Context, stage: Stage, name: str) -> str | None:
    """The value an ENV (or an ARG default) of the stage gives ``name``, the last one set (facts layer)."""
    value = None
    for inst in stage.instructions:
        if inst.keyword in {"ENV", "ARG"}:
            value = ctx.facts.scopes.after(inst).values.get(name, value)
    return value


def _prune_edit(ctx: Context, stage: Stage) -> Edit:
    """``RUN npm prune --omit=dev`` after the builder's last RUN (in the file's own newline style)."""
    last = [i for i in stage.instructions if i.keyword == "RUN"][-1]
    return Edit.insert(last.end, _line("RUN npm prune --omit=dev", ctx, last))


_C_COMPILERS = {"gcc", "g++", "cc", "c++", "clang", "clang++"}


def _c_binary(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> _Plan | None:
    """A C/C++ program compiled in an OS image (``apt-get install gcc``, ``gcc -o hello hello.c``) and
    started as that binary: it runs on distroless ``cc`` (glibc, libgcc, libstdc++), or ``static`` when
    linked with ``-static``. None when the stage is not that; refused when the build installs a
    library whose runtime part distroless lacks."""
    outputs = {}
    for i, c in runs:
        if c.name.rsplit("/", 1)[-1] in _C_COMPILERS and _option(c.argv, "-o"):
            outputs[abs_at(ctx, i, _option(c.argv, "-o") or "")] = "-static" in c.argv
    target = _abs(ctx, stage, entry[0])
    if "/" not in entry[0]:  # a bare name: found on PATH
        on_path = [o for o in outputs if posixpath.basename(o) == entry[0] and posixpath.dirname(o) in {
            "/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"}]
        target = on_path[0] if on_path else target
    if target not in outputs:
        return None
    table = runtimes()
    compilers = set(table["compilers"]["apt"]) | {"g++", "clang", "gcc", "cpp"}
    for _i, c in runs:
        call = package_call(c)
        if call is not None and call.family == "apt" and call.subcommand == "install":
            for pkg in call.packages:
                if pkg not in compilers:
                    raise _Refuse(f"the C build installs {pkg}; the binary may need its libraries at run time, which "
                                  "distroless cc may lack")
        elif call is not None and call.family in {"apk", "rpm"}:
            return None
    if not _glibc_ok(image, _distroless("cc")["glibc"]):
        raise _Refuse(f"the builder {image.raw} has a newer glibc than distroless cc")
    plan = _Plan("c", _distroless("static" if outputs[target] else "cc")["image"])
    plan.copies.append((target, target))
    plan.entrypoint = [target, *entry[1:]]
    return plan


def _static_binary(ctx: Context, stage: Stage, entry: list[str]) -> _Plan | None:
    """An OS image that only carries a prebuilt static binary: its base becomes distroless static."""
    if any(i.keyword in {"RUN", "ONBUILD", "SHELL"} for i in stage.instructions):
        return None  # the image is built with a shell: not a prebuilt binary alone
    target = _abs(ctx, stage, entry[0]) if "/" in entry[0] else entry[0]
    source = _copied_from_context(ctx, stage, target)
    path = ctx.context_file(source) if source else None
    if path is None or not _static_elf(path):
        return None
    plan = _Plan("static binary", _distroless("static")["image"])
    plan.rebase_only = True
    return plan


def _copied_from_context(ctx: Context, stage: Stage, target: str) -> str | None:
    """The build-context path a COPY puts at ``target`` (file or into a folder), if any."""
    found = None
    for inst in stage.instructions:
        if inst.keyword not in {"COPY", "ADD"} or inst.flag("from") or inst.heredocs:
            continue
        words = list(inst.exec_args) if inst.exec_args else [w.text.strip("\"'") for w in inst.words]
        if len(words) < 2:
            continue
        dest = abs_at(ctx, inst, words[-1])
        for src in words[:-1]:
            rel = posixpath.normpath(src.lstrip("/"))
            if dest == target or posixpath.join(dest, posixpath.basename(rel)) == target:
                found = rel
    return found


def _static_elf(path: Path) -> bool:
    """Is this an ELF executable without a program interpreter (statically linked)?"""
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
            if head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
                return False
            order = "<" if head[5] == 1 else ">"
            wide = head[4] == 2
            phoff = struct.unpack_from(order + ("Q" if wide else "I"), head, 0x20 if wide else 0x1C)[0]
            phentsize, phnum = struct.unpack_from(order + "HH", head, 0x36 if wide else 0x2A)
            fh.seek(phoff)
            table = fh.read(phentsize * phnum)
    except (OSError, struct.error):
        return False
    if len(table) < phentsize * phnum:
        return False
    types = [struct.unpack_from(order + "I", table, i * phentsize)[0] for i in range(phnum)]
    return 3 not in types  # PT_INTERP: dynamically linked


def _is_runtime_image(image: ImageRef) -> bool:
    tag = image.tag or ""
    return (
        "distroless" in image.name
        or image.name == "scratch"
        or "chiseled" in tag
        or "chainguard" in image.name
        or tag.endswith("-jre")
        or "/dotnet/aspnet" in image.name
        or "/dotnet/runtime" in image.name
    )


def _entry_argv(ctx: Context, stage: Stage) -> list[str]:
    """The start command as an argument vector (ENTRYPOINT + CMD), or refuse if it needs a shell."""
    ep = stage.last("ENTRYPOINT")
    cmd = stage.last("CMD")
    argv: list[str] = []
    for inst in (ep, cmd):
        if inst is None:
            continue
        if inst.is_json:
            argv += list(inst.exec_args or ())
        else:
            text = inst.arguments
            if text.startswith("exec "):
                text = text[5:]
            words = exec_argv(text)
            if words is None:
                raise _NotDistroless(f"the start command ({inst.keyword} at line {inst.start_line}) needs "
                                     "a shell, which distroless images do not have",
                                     hint="make it a plain command and run again")
            argv += words
        if inst is ep and not inst.is_json:
            break  # a shell-form ENTRYPOINT ignores CMD
    if not argv:
        raise _Refuse("the stage has no CMD or ENTRYPOINT to run in the runtime stage")
    if argv[0].endswith(".sh") or "entrypoint" in argv[0].lower():
        raise _NotDistroless(f"the entry point {argv[0]} is a script that needs a shell, which distroless "
                             "images do not have")
    return argv


def _workdir(ctx: Context, stage: Stage) -> str:
    """The WORKDIR the start runs in (``/`` when the Dockerfile sets none); refused when it is set
    from a variable whose value the Dockerfile does not give."""
    workdir = ctx.facts.final(stage).workdir
    if workdir is None:
        raise _Refuse("the WORKDIR is set from a variable whose value is not in the Dockerfile (the base image's "
                      "or a build argument's): cannot tell where the application is")
    return workdir


def _abs(ctx: Context, stage: Stage, path: str) -> str:
    """``path`` of the start command, absolute (relative to the WORKDIR the start runs in)."""
    return path if path.startswith("/") and join("/", path) == path else join(_workdir(ctx, stage), path)


def _glibc_ok(image: ImageRef, runtime_glibc: str) -> bool:
    table = runtimes()["glibc"]
    tag = image.tag or ""
    for release, version in table.items():
        if release in tag and tuple(map(int, version.split("."))) > tuple(map(int, runtime_glibc.split("."))):
            return False
    return True


def _distroless(kind: str) -> dict:
    return runtimes()["distroless"][kind]


# --------------------------------------------------------------------------- stacks


def _go(ctx: Context, stage: Stage, runs: list, entry: list[str]) -> _Plan:
    builds = [(i, c) for i, c in runs if c.name == "go" and len(c.argv) > 1 and c.argv[1] == "build"]
    if not builds:
        raise _Refuse("golang image without `go build`: nothing to move to a runtime stage")
    inst, cmd = builds[-1]
    out = _option(cmd.argv, "-o")
    if out is None:
        raise _Refuse("`go build` has no `-o`: the binary's path is not known; add `-o /out/app` and run again")
    binary = abs_at(ctx, inst, out)
    cgo_on = any(a.name == "CGO_ENABLED" and a.value is not None and a.value.text == "1" for a in cmd.env) or \
        _stage_value(ctx, stage, "CGO_ENABLED") == "1"
    needs_cgo = cgo_on or any(call.family in {"apt", "apk"} and any(p.endswith("-dev") for p in call.packages)
                              for _i, c in runs if (call := package_call(c)) is not None)
    plan = _Plan("go", _distroless("cc" if needs_cgo else "static")["image"])
    if not needs_cgo and not any(a.name == "CGO_ENABLED" for a in cmd.env):
        offset = inst.shell_text()[1]
        plan.builder_edits.append(Edit.insert(inst.start + offset + cmd.start, "CGO_ENABLED=0 "))
    plan.copies.append((binary, binary))
    plan.entrypoint = _rebase_entry(ctx, stage, entry, {binary})
    return plan


def _rust(ctx: Context, stage: Stage, runs: list, entry: list[str]) -> _Plan:
    builds = any(c.name == "cargo" and "build" in c.argv and "--release" in c.argv for _i, c in runs)
    installs = any(c.name == "cargo" and "install" in c.argv for _i, c in runs)
    if not builds and not installs:
        raise _Refuse("rust image without `cargo build --release` or `cargo install`: nothing to move to a "
                      "runtime stage")
    target = _abs(ctx, stage, entry[0])
    if "/" not in entry[0]:
        # a bare name found on PATH: where a cp/mv/install of the release build put it, or cargo install's bin
        for i, c in runs:
            words = [w for w in c.argv[1:] if not w.startswith("-")]
            if c.name in {"cp", "mv", "install"} and len(words) >= 2 and "target/release/" in " ".join(words[:-1]):
                dest = abs_at(ctx, i, words[-1])
                if posixpath.basename(dest) == entry[0]:
                    target = dest
                elif posixpath.basename(words[-2]) == entry[0]:
                    target = posixpath.join(dest, entry[0])
        if target == _abs(ctx, stage, entry[0]) and installs:
            target = f"/usr/local/cargo/bin/{entry[0]}"
    if "/target/release/" not in target and not target.startswith("/usr/local/cargo/bin/") and not any(
            c.name in {"cp", "mv", "install"} and any(abs_at(ctx, i, w.text) in {target, posixpath.dirname(target)}
                                                      for w in c.args) for i, c in runs):
        raise _Refuse(f"cannot tell that {entry[0]} is the binary `cargo build --release` produced")
    plan = _Plan("rust", _distroless("cc")["image"])
    plan.copies.append((target, target))
    plan.entrypoint = [target, *entry[1:]]
    return plan


def _python(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> _Plan:
    version = _version(image.tag, r"(\d+\.\d+)")
    if version is None:
        raise _NotDistroless(f"cannot tell the Python version of {image.raw}; pin a version tag (python:3.13-slim)")
    installs = [c for _i, c in runs if _is_pip_install(c)]
    poetry = [c for _i, c in runs if c.name == "poetry" and "install" in c.argv]
    if poetry and not _poetry_system(ctx, stage, runs):
        raise _Refuse("poetry installs into a virtualenv whose interpreter path is the builder's; set "
                      "POETRY_VIRTUALENVS_CREATE=false (or export requirements) and run again")
    if not installs and not poetry:
        raise _Refuse("python image without `pip install`/`poetry install`: nothing to split")
    if any(_option(c.argv, "--target") or _option(c.argv, "--prefix") or "--user" in c.argv for c in installs):
        raise _Refuse("pip installs to a custom location (--target/--prefix/--user); move it by hand")
    rows = runtimes()["python"]
    row = rows.get(version)
    upgrade_notes: list[str] = []
    upgrade_edits: list[Edit] = []
    if row is None or not _alive(row):
        moved = _upgrade(stage, image, "python", version, upgrade_notes, upgrade_edits)
        if moved is None:
            raise _Refuse(f"no supported runtime image for Python {version} (end of life or none published); move "
                          "the builder to Python 3.13 for distroless")
        version, row = moved, rows[moved]
        image = parse_image(image.raw.replace(f":{image.tag}", ":" + upgrade_edits[0].content.rsplit(":", 1)[1]))
    if not row.get("distroless") and image.short_name == "python" and (image.tag or "").endswith("-slim") and \
            row["image"].split(":")[1] == image.tag:
        raise _NotDistroless(f"{image.raw} is already the slim runtime that would be used (distroless needs "
                             "Python 3.13)")
    runtime_image = _override(ctx, f"python-{version}", row["image"])
    plan = _Plan("python", runtime_image, builder_edits=upgrade_edits, notes=upgrade_notes)
    if not _glibc_ok(image, _distroless("base")["glibc"]):
        raise _NotDistroless(f"the builder {image.raw} has a newer glibc than the runtime")
    libs = _runtime_libraries(runs, bool(row.get("distroless")))
    if libs:
        plan.packages = libs
    site_builder = f"/usr/local/lib/python{version}/site-packages"
    plan.copies.append((site_builder, row["site"]))
    for venv in virtualenvs(ctx, stage, runs):
        # a venv's interpreter links point at the builder's python: its packages join the runtime's site
        plan.copies.append((f"{venv}/lib/python{version}/site-packages", row["site"]))
        plan.notes.append(f"the virtualenv {venv}'s packages are installed into the runtime's {row['site']}")
    workdir = _workdir(ctx, stage)
    if workdir != "/":
        plan.copies.append((workdir, workdir))
    else:
        raise _Refuse("the app has no WORKDIR: cannot tell which files are the application")
    modules = runtimes()["python_modules"]
    prog = entry[0].rsplit("/", 1)[-1]
    if re.fullmatch(r"python[0-9.]*", prog):
        plan.entrypoint = [row["python"], *entry[1:]]
    elif prog in modules:
        plan.entrypoint = [row["python"], "-m", modules[prog], *entry[1:]]
    else:
        raise _NotDistroless(f"the start command `{entry[0]}` is not a Python interpreter or a console script "
                             "this codemod knows; run it as `python3 -m <module>` and run again")
    if row.get("distroless"):
        plan.notes.append(f"Python {version} runs on {runtime_image}")
    else:
        plan.notes.append(f"distroless publishes Python 3.13 only: Python {version} gets {runtime_image}")
    return plan


def _is_pip_install(c: Command) -> bool:
    argv = list(c.argv)
    if c.name.rsplit("/", 1)[-1] in {"python", "python3"} and argv[1:3] == ["-m", "pip"]:
        argv = argv[2:]
    return bool(argv) and argv[0].rsplit("/", 1)[-1] in {"pip", "pip3"} and "install" in argv


def _poetry_system(ctx: Context, stage: Stage, runs: list) -> bool:
    if (_stage_value(ctx, stage, "POETRY_VIRTUALENVS_CREATE") or "").lower() in {"false", "0"}:
        return True
    return any(c.name == "poetry" and c.argv[1:4] == ("config", "virtualenvs.create", "false") for _i, c in runs)


def _runtime_libraries(runs: list, distroless: bool) -> list[str]:
    table = runtimes()
    needed: list[str] = []
    for _i, c in runs:
        call = package_call(c)
        if call is None or call.family != "apt" or call.subcommand != "install":
            continue
        for pkg in call.packages:
            if pkg in table["build_only_packages"]:
                continue
            lib = table["runtime_libraries"].get(pkg)
            if lib is None:
                raise _NotDistroless(f"the builder installs {pkg}; the runtime libraries the app needs from it "
                                     "are not known, so a runtime stage could miss them")
            if distroless and lib not in table["distroless_libraries"]:
                raise _NotDistroless(f"the app needs {lib} (from {pkg}), which distroless images do not have")
            if not distroless:
                needed.append(lib)
    return list(dict.fromkeys(needed))


def _node(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> _Plan:
    version = _version(image.tag, r"(\d+)")
    if version is None:
        raise _NotDistroless(f"cannot tell the Node version of {image.raw}; pin a version tag (node:22)")
    installs = _node_installs(runs)
    if not installs:
        raise _Refuse("node image without `npm ci`/`npm install`/`yarn install`: nothing to split")
    row = runtimes()["node"].get(version)
    upgrade_notes: list[str] = []
    upgrade_edits: list[Edit] = []
    if row is None or not _alive(row):
        moved = _upgrade(stage, image, "node", version, upgrade_notes, upgrade_edits)
        if moved is None:
            raise _Refuse(f"Node {version} is past end of life (or has no runtime image): move the builder to Node "
                          "22 or later, which distroless publishes, and run again")
        version, row = moved, runtimes()["node"][moved]
    runtime_image = _override(ctx, f"node-{version}", row["image"])
    plan = _Plan("node", runtime_image, builder_edits=upgrade_edits, notes=upgrade_notes)
    workdir = _workdir(ctx, stage)
    if workdir == "/":
        raise _Refuse("the app has no WORKDIR: cannot tell which files are the application")
    argv = entry
    if argv[0] in {"npm", "yarn"} and argv[1:2] in (["start"], ["run"]):
        argv = _resolve_start(ctx, argv)
    if argv[0].rsplit("/", 1)[-1] != "node":
        raise _NotDistroless(f"the start command `{' '.join(entry)}` is not `node …`; cannot run it without a "
                             "shell")
    plan.entrypoint = [row["node"], *argv[1:]]
    prod = _production_install(ctx, stage, installs)
    if not prod and installs[-1].name == "npm":
        plan.builder_edits.append(_prune_edit(ctx, stage))
    elif not prod:
        raise _NotDistroless("yarn/pnpm install dev dependencies and there is no prune step to drop them; "
                             "install with --production and run again")
    plan.copies.append((workdir, workdir))
    return plan


def _resolve_start(ctx: Context, argv: list[str]) -> list[str]:
    script = argv[2] if argv[1] == "run" and len(argv) > 2 else "start"
    text = ctx.read_side("package.json")
    if text is None:
        raise _NotDistroless("`npm start` cannot be resolved: package.json is not in the build context")
    try:
        command = json.loads(text).get("scripts", {}).get(script)
    except ValueError:
        raise _NotDistroless("package.json does not parse; cannot resolve `npm start`") from None
    if not command:
        command = "node server.js" if script == "start" else None
    words = exec_argv(command) if command else None
    if words is None:
        raise _NotDistroless(f"the `{script}` script in package.json needs a shell; distroless has none")
    return words + argv[3 if argv[1] == "run" else 2 :]


def _java(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> _Plan:
    version = _version(image.tag, r"^(\d{1,2})(?:u\d+|[.-]|$)") if image.short_name in {
        "openjdk", "eclipse-temurin", "amazoncorretto"} else None
    version = version or _version(image.tag, r"(?:temurin-|jdk-?|^|-)(\d{2})(?:\D|$)")
    if version is None:
        raise _Refuse(f"cannot tell the Java version of {image.raw}; pin it (eclipse-temurin:21-jdk)")
    if entry[0].rsplit("/", 1)[-1] != "java" or "-jar" not in entry:
        raise _Refuse("the start command is not `java … -jar FILE`: cannot tell which jar to run")
    jar = entry[entry.index("-jar") + 1] if entry.index("-jar") + 1 < len(entry) else ""
    if not jar.endswith(".jar") or any(ch in jar for ch in "*?$"):
        raise _Refuse("the jar to run is not named exactly in the start command")
    row = runtimes()["java"].get(version)
    if is_alpine(image):
        # musl: the same version's Temurin JRE on Alpine (the jar itself is portable)
        family = runtimes()["families"]["java"]
        if version not in family["versions"]:
            raise _Refuse(f"no supported runtime image for Java {version}")
        row = {"image": family["alpine"].format(v=version), "java": "/opt/java/openjdk/bin/java",
               "eol": family["versions"][version]}
    if row is None or not _alive(row):
        raise _Refuse(f"no supported runtime image for Java {version}")
    plan = _Plan("java", _override(ctx, f"java-{version}", row["image"]))
    jar_abs = _abs(ctx, stage, jar)
    plan.copies.append((jar_abs, jar_abs))
    flags = entry[1 : entry.index("-jar")]
    plan.entrypoint = [row["java"], *flags, "-jar", jar_abs, *entry[entry.index("-jar") + 2 :]]
    return plan


def _dotnet(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> _Plan:
    version = _version(image.tag, r"(\d+\.\d+)")
    publishes = [(i, c) for i, c in runs if c.name == "dotnet" and "publish" in c.argv]
    if version is None or not publishes:
        raise _Refuse("dotnet sdk image without a versioned tag and `dotnet publish`: nothing to split")
    out = _option(publishes[-1][1].argv, "-o") or _option(publishes[-1][1].argv, "--output")
    if out is None:
        raise _Refuse("`dotnet publish` has no `-o`: the published folder is not known")
    row = runtimes()["dotnet"].get(version)
    if row is None or not _alive(row):
        raise _Refuse(f".NET {version} is past end of life: move to .NET 10 and run again")
    if entry[0] != "dotnet":
        raise _Refuse("the start command is not `dotnet App.dll`")
    plan = _Plan("dotnet", _override(ctx, f"dotnet-{version}", row["aspnet"]))
    folder = abs_at(ctx, publishes[-1][0], out)
    plan.copies.append((folder, folder))
    plan.entrypoint = ["dotnet", *[_abs(ctx, stage, a) if a.endswith(".dll") else a for a in entry[1:]]]
    return plan


def _rebase_entry(ctx: Context, stage: Stage, entry: list[str], binaries: set[str]) -> list[str]:
    first = _abs(ctx, stage, entry[0]) if "/" in entry[0] else entry[0]
    if first not in binaries:
        raise _Refuse(f"the start command `{entry[0]}` is not the binary the build produces")
    return [first, *entry[1:]]


def _option(argv: tuple[str, ...] | list[str], flag: str) -> str | None:
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


#: Debian releases past their (LTS) end of life: an upgraded builder's tag drops them
_OLD_DEBIAN = re.compile(r"-(?:jessie|stretch|buster|bullseye)\b")


def _upgrade(stage: Stage, image: ImageRef, stack: str, version: str, plan_notes: list[str],
             edits: list[Edit]) -> str | None:
    """An end-of-life builder moves to the supported version of ``upgrades`` (the FROM tag's version
    and an old Debian suffix change); the new version, or None when the tag cannot be rewritten."""
    target = str(runtimes()["upgrades"][stack])
    tag = image.tag or ""
    try:
        older = tuple(map(int, version.split("."))) < tuple(map(int, target.split(".")))
    except ValueError:
        return None
    m = re.match(r"^(\d+(?:\.\d+)*)", tag)
    if not older or m is None or image.digest or "$" in image.raw:
        return None
    new_tag = _OLD_DEBIAN.sub("", target + tag[m.end():])
    frm = stage.from_instruction
    word = frm.words[0]
    edits.append(Edit(frm.start + word.start, frm.start + word.end, image.raw.replace(f":{tag}", f":{new_tag}", 1)))
    plan_notes.append(f"{stack.capitalize()} {version} is past end of life: the builder moves to {stack}:{new_tag} "
                      f"({stack.capitalize()} {target}); check that the dependencies support it")
    return target


def _version(tag: str | None, pattern: str) -> str | None:
    m = re.search(pattern, tag or "")
    return m.group(1) if m else None


def _override(ctx: Context, key: str, default: str) -> str:
    return ctx.config.images.get(key, default)


# --------------------------------------------------------------------------- the edit


def _build_env(inst: Instruction) -> bool:
    """An ENV that only configures build tools (every variable it sets)."""
    if inst.keyword != "ENV":
        return False
    names = [w.text.split("=", 1)[0] for w in inst.words if "=" in w.text] or [w.text for w in inst.words[:1]]
    return bool(names) and all(n.upper().startswith(_BUILD_ENV) for n in names)


def _line(text: str, ctx: Context, after: Instruction) -> str:
    nl = ctx.tree.newline
    return text + nl if after.raw.endswith("\n") else nl + text


def _rebase(stage: Stage, plan: _Plan) -> Fix:
    frm = stage.from_instruction
    word = frm.words[0]
    return Fix(ID, f"the prebuilt static binary now runs on {plan.runtime} (no shell, no package manager)",
               (Edit(frm.start + word.start, frm.start + word.end, plan.runtime),), Applicability.UNSAFE,
               frm.start_line, exclusive=True)


_HEALTH = re.compile(r"^(?P<flags>(?:--\S+\s+)*)CMD\s+(?P<cmd>.+?)\s*$", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"^https?://[A-Za-z0-9.\-_:\[\]]+(?:/[A-Za-z0-9._~%/\-?=&]*)?$")
#: probes that fail (exit non-zero) unless GET URL answers < 400, in the runtime's own language
_PROBES = {
    "python": "import urllib.request; urllib.request.urlopen({url!r}, timeout=10)",
    "node": "require('http').get({url!r}, r => process.exit(r.statusCode < 400 ? 0 : 1))"
            ".on('error', () => process.exit(1))",
}


#: where a COPY/ADD of the builder puts what the app reads at run time (configuration, assets, data)
_RUNTIME_PLACES = ("/etc/", "/usr/share/", "/usr/local/share/", "/var/lib/", "/var/www/", "/opt/", "/srv/",
                   "/data/", "/config/")


def _carried_files(ctx: Context, stage: Stage, plan: _Plan) -> list[str]:
    """Files and folders the stage COPYs/ADDs (from the build context) into places the app reads at
    run time (``/etc/myapp/config.ini``, ``/usr/share/app/static``) that the runtime would not get
    otherwise: they are copied from the builder as they are at its end."""
    out: list[str] = []
    # the builder's WORKDIR is the app (copied whole) or its sources (never shipped)
    covered = [dest.rstrip("/") for _src, dest in plan.copies] + [_workdir(ctx, stage)]
    for copy in ctx.facts.context_copies([stage]):
        if any("*" in w for w in copy.sources):
            continue
        dest_abs = copy.dest
        if not copy.into_dir:
            paths = [dest_abs]
        elif dest_abs.count("/") >= 3 or dest_abs.rstrip("/") + "/" not in _RUNTIME_PLACES:
            paths = [dest_abs]  # an app's own folder (/etc/myapp/, /usr/share/app/static/): all of it
        else:
            # straight into /etc/ or /opt/: a file keeps its name; a folder's entries land there
            paths = []
            for src in copy.sources:
                folder = inside(ctx.context_dir, src)
                if folder is not None and folder.is_dir():
                    paths += [posixpath.join(dest_abs, p.name) for p in sorted(folder.iterdir())]
                else:
                    paths.append(posixpath.join(dest_abs, posixpath.basename(src.rstrip("/"))))
        for path in paths:
            is_covered = any(path == c or path.startswith(c + "/") for c in covered)
            if not is_covered and path.startswith(_RUNTIME_PLACES) and path not in out:
                out.append(path)
    return out


def _split_cmd(stage: Stage, argv: list[str]) -> tuple[list[str], list[str]]:
    """Keep CMD as CMD: with an exec-form ENTRYPOINT, the CMD's arguments stay replaceable by
    ``docker run IMAGE ARGS`` when the runtime's start command still ends with them."""
    ep, cmd = stage.last("ENTRYPOINT"), stage.last("CMD")
    if ep is None or not ep.is_json or cmd is None:
        return argv, []
    try:
        tail = list(cmd.exec_args) if cmd.exec_args is not None else split_words(cmd.arguments)
    except ValueError:
        return argv, []
    if tail and len(argv) > len(tail) and argv[-len(tail):] == tail:
        return argv[: -len(tail)], tail
    return argv, []


def _health_probe(health: Instruction, plan: _Plan) -> str | None:
    """``HEALTHCHECK CMD curl -f URL [|| exit 1]`` (or ``wget -q[O-] URL``) as an exec-form probe run
    by the runtime's interpreter; None when the check is anything else or the runtime has no probe."""
    m = _HEALTH.match(health.arguments)
    template = _PROBES.get(plan.stack)
    if m is None or template is None or not plan.entrypoint:
        return None
    cmd = m["cmd"]
    if cmd.startswith("["):
        try:
            argv = [str(a) for a in json.loads(cmd)]
        except json.JSONDecodeError:
            return None
    else:
        try:
            argv = split_words(re.sub(r"\s*\|\|\s*(?:exit\s+1|false)\s*$", "", cmd))
        except ValueError:
            return None
    if len(argv) < 2 or argv[0].rsplit("/", 1)[-1] not in {"curl", "wget"}:
        return None
    options, urls = [a for a in argv[1:] if a.startswith("-")], [a for a in argv[1:] if not a.startswith("-")]
    if len(urls) != 1 or not _URL.match(urls[0]) or not set(options) <= {"-f", "--fail", "-s", "-S", "-sf", "-fs",
                                                                         "-fsS", "-sSf", "--silent", "-q", "-O-",
                                                                         "-qO-", "-O", "--spider"}:
        return None
    if argv[0].rsplit("/", 1)[-1] == "curl" and not {"-f", "--fail", "-sf", "-fs", "-fsS", "-sSf"} & set(options):
        return None  # without -f curl succeeds on HTTP errors: a stricter probe would change the result
    interpreter = plan.entrypoint[0]
    flag = "-c" if plan.stack == "python" else "-e"
    probe = json.dumps([interpreter, flag, template.format(url=urls[0])], ensure_ascii=False)
    flags = "".join(f"{f.raw} " for f in health.flags) + m["flags"]
    return f"HEALTHCHECK {flags}CMD {probe}"


def _start_lines(stage: Stage) -> list[Instruction]:
    """The stage's last ENTRYPOINT and CMD, in their order: a runtime with a shell keeps them as they are."""
    found = [i for i in (stage.last("ENTRYPOINT"), stage.last("CMD")) if i is not None]
    return sorted(found, key=lambda i: i.start)


def _args_used(stage: Stage, lines: list[str]) -> list[str]:
    """The stage's ARG lines whose names the lines carried into the runtime stage refer to (an ARG is
    scoped to its stage: without it ``ENV PORT=$PORT`` would be empty there)."""
    text = "\n".join(lines)
    out = []
    for inst in stage.instructions:
        if inst.keyword != "ARG":
            continue
        names = [w.text.split("=", 1)[0] for w in inst.words]
        if any(re.search(r"\$\{?" + re.escape(n) + r"\b", text) for n in names if n):
            out.append(inst.raw.rstrip("\r\n").lstrip())
    return out


def _health_needs_missing(health: Instruction, plan: _Plan) -> bool:
    """Does a HEALTHCHECK run curl/wget that the runtime stage does not install?"""
    tools = {t for t in ("curl", "wget") if re.search(rf"\b{t}\b", health.arguments)}
    if plan.installer == "apk":
        tools.discard("wget")  # busybox has wget
    return bool(tools - set(plan.packages))


def _fix(ctx: Context, stage: Stage, plan: _Plan) -> Fix:
    if plan.rebase_only:
        return _rebase(stage, plan)
    if plan.upgrade_only:
        notes = [n.replace("the builder moves", "the image moves") for n in plan.notes
                 if "past end of life" in n or "moving tag" in n]
        return Fix(ID, "; ".join(notes) + " (no runtime stage: the build installs nothing a runtime would leave "
                   "behind)", tuple(plan.builder_edits), Applicability.UNSAFE, stage.from_instruction.start_line,
                   exclusive=True)
    nl = ctx.tree.newline
    edits: list[Edit] = list(plan.builder_edits)
    frm = stage.from_instruction
    builder = stage.name
    if builder is None:
        taken = {st.name.lower() for st in ctx.tree.stages if st.name}
        builder = next(n for n in ("build", "builder", "app-build", "dockerfix-build") if n not in taken)
        edits.append(Edit.insert(frm.start + frm.args_end, f" AS {builder}"))
    carried: list[str] = []
    health: Instruction | None = None
    runs = [i for i in stage.instructions if i.keyword == "RUN"]
    last_run = runs[-1].start if runs else -1
    for inst in stage.instructions[1:]:
        if inst.keyword in _CARRY and not _build_env(inst):
            carried.append(inst.raw.rstrip("\r\n").lstrip())
        if inst.keyword == "HEALTHCHECK":
            health = inst
        # a USER after the builder's last RUN only chose who runs the app: the runtime decides now
        if inst.keyword in _MOVE or (inst.keyword == "USER" and inst.start > last_run):
            edits.append(Edit.delete(inst.start, inst.end))
    lines = ["", f"FROM {plan.runtime}"]
    if plan.packages and plan.installer == "apk":
        lines.append(f"RUN apk add --no-cache {' '.join(plan.packages)}")
    elif plan.packages:
        flag = " --no-install-recommends" if plan.no_recommends else ""
        lines.append(f"RUN apt-get update && apt-get install -y{flag} {' '.join(plan.packages)} "
                     "&& rm -rf /var/lib/apt/lists/*")
    if plan.shell:
        carried_files = carried_paths(ctx, stage, plan)
        users = [p for p in carried_files if p in {"/etc/passwd", "/etc/group"}]
        if users:
            lines.append(f"COPY --from={builder} {' '.join(users)} /etc/")
        carried_files = [p for p in carried_files if p not in users]
    else:
        carried_files = _carried_files(ctx, stage, plan)
    for src, dest in [*plan.copies, *((p, p) for p in carried_files)]:
        lines.append(f"COPY --from={builder} {src} {dest}")
    workdir = _workdir(ctx, stage)
    if workdir != "/" and (any(dest == workdir for _src, dest in plan.copies) or plan.stack == "c"):
        lines.append(f"WORKDIR {workdir}")
    kept = [c for c in carried if not c.upper().startswith(("HEALTHCHECK",))]
    lines += _args_used(stage, kept + ([i.raw for i in _start_lines(stage)] if plan.shell else [])) + kept
    if plan.shell and plan.user:
        lines.append(f"USER {plan.user}")
    probe = _health_probe(health, plan) if health is not None else None
    health_kept = plan.shell and health is not None and not _health_needs_missing(health, plan)
    if health_kept and health is not None:
        probe = health.raw.rstrip("\r\n").lstrip()
    if probe is not None:
        lines.append(probe)
    if plan.shell:
        lines += [i.raw.rstrip("\r\n").lstrip() for i in _start_lines(stage)]
    else:
        entrypoint, cmd = _split_cmd(stage, plan.entrypoint)
        lines.append(f"ENTRYPOINT {json.dumps(entrypoint, ensure_ascii=False)}")
        if cmd:
            lines.append(f"CMD {json.dumps(cmd, ensure_ascii=False)}")
    text = nl.join(lines) + nl
    at = stage.instructions[-1].end
    if not ctx.text.endswith("\n") and at == len(ctx.text):
        text = nl + text[: -len(nl)]
    edits.append(Edit.insert(at, text))
    msg = f"{plan.stack} app split into builder `{builder}` and runtime {plan.runtime}"
    if plan.notes:
        msg += " (" + "; ".join(plan.notes) + ")"
    if health_kept:
        pass
    elif probe is not None:
        msg += "; its HEALTHCHECK's HTTP probe is done by the runtime's own interpreter (no curl there)"
    elif health is not None and re.search(r"\b(curl|wget|sh|bash)\b", health.arguments):
        msg += "; its HEALTHCHECK needs curl/wget/a shell, which the runtime lacks, so it was left out"
    elif health is not None:
        msg += "; HEALTHCHECK left out of the runtime (check it still has what it runs)"
    return Fix(ID, msg, tuple(edits), Applicability.UNSAFE, frm.start_line, exclusive=True)


TRANSFORM = MultistageTransform()
