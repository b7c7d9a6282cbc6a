"""The compiled stacks of ``multistage``: Go, Rust, C/C++ built in an OS image, a prebuilt static
binary, Java (a jar) and .NET. Each planner finds the build output the start command runs (``go build
-o``, the release binary, the ``-o`` of the compiler, ``java -jar FILE``, ``dotnet publish -o``),
checks that it can run on the distroless (or chiseled) image the runtime table names, and returns the
``Plan`` that copies it there, or refuses and says why.
"""

from __future__ import annotations

import posixpath
import re
import struct
from pathlib import Path

from rewriter.core.edits import Edit
from rewriter.core.syntax import Stage
from rewriter.facts import Context, ImageRef
from rewriter.facts.commands import package_call
from transforms.multistage.cgo import go_cgo
from transforms.multistage.plan import (
    Plan,
    Refuse,
    _abs,
    _alive,
    _distroless,
    _glibc_ok,
    _option,
    _override,
    _stage_value,
    _version,
    abs_at,
    runtimes,
)
from transforms.multistage.samefamily import is_alpine

_C_COMPILERS = {"gcc", "g++", "cc", "c++", "clang", "clang++"}


def _c_binary(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> Plan | None:
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
                    raise Refuse(f"the C build installs {pkg}; the binary may need its libraries at run time, which "
                                  "distroless cc may lack")
        elif call is not None and call.family in {"apk", "rpm"}:
            return None
    if not _glibc_ok(image, _distroless("cc")["glibc"]):
        raise Refuse(f"the builder {image.raw} has a newer glibc than distroless cc")
    plan = Plan("c", _distroless("static" if outputs[target] else "cc")["image"])
    plan.copies.append((target, target))
    plan.entrypoint = [target, *entry[1:]]
    return plan


def _static_binary(ctx: Context, stage: Stage, entry: list[str]) -> Plan | None:
    """An OS image that only carries a prebuilt static binary: its base becomes distroless static."""
    if any(i.keyword in {"RUN", "ONBUILD", "SHELL"} for i in stage.instructions):
        return None  # the image is built with a shell: not a prebuilt binary alone
    target = _abs(ctx, stage, entry[0]) if "/" in entry[0] else entry[0]
    source = _copied_from_context(ctx, stage, target)
    path = ctx.context_file(source) if source else None
    if path is None or not _static_elf(path):
        return None
    plan = Plan("static binary", _distroless("static")["image"])
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


def _go(ctx: Context, stage: Stage, runs: list, entry: list[str]) -> Plan:
    builds = [(i, c) for i, c in runs if c.name == "go" and len(c.argv) > 1 and c.argv[1] == "build"]
    if not builds:
        raise Refuse("golang image without `go build`: nothing to move to a runtime stage")
    inst, cmd = builds[-1]
    out = _option(cmd.argv, "-o")
    if out is None:
        raise Refuse("`go build` has no `-o`: the binary's path is not known; add `-o /out/app` and run again")
    binary = abs_at(ctx, inst, out)
    cgo_on = any(a.name == "CGO_ENABLED" and a.value is not None and a.value.text == "1" for a in cmd.env) or \
        _stage_value(ctx, stage, "CGO_ENABLED") == "1"
    needs_cgo = cgo_on or any(call.family in {"apt", "apk"} and any(p.endswith("-dev") for p in call.packages)
                              for _i, c in runs if (call := package_call(c)) is not None)
    plan = Plan("go", _distroless("cc" if needs_cgo else "static")["image"])
    needs_cgo = go_cgo(ctx, stage, runs, cmd, plan, needs_cgo)  # issue 23 item 3: cgo from the sources, go.mod
    if not needs_cgo and not any(a.name == "CGO_ENABLED" for a in cmd.env):
        offset = inst.shell_text()[1]
        plan.builder_edits.append(Edit.insert(inst.start + offset + cmd.start, "CGO_ENABLED=0 "))
    plan.copies.append((binary, binary))
    plan.entrypoint = _rebase_entry(ctx, stage, entry, {binary})
    return plan


def _rust(ctx: Context, stage: Stage, runs: list, entry: list[str]) -> Plan:
    builds = any(c.name == "cargo" and "build" in c.argv and "--release" in c.argv for _i, c in runs)
    installs = any(c.name == "cargo" and "install" in c.argv for _i, c in runs)
    if not builds and not installs:
        raise Refuse("rust image without `cargo build --release` or `cargo install`: nothing to move to a "
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
        raise Refuse(f"cannot tell that {entry[0]} is the binary `cargo build --release` produced")
    plan = Plan("rust", _distroless("cc")["image"])
    plan.copies.append((target, target))
    plan.entrypoint = [target, *entry[1:]]
    return plan


def _java(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> Plan:
    version = _version(image.tag, r"^(\d{1,2})(?:u\d+|[.-]|$)") if image.short_name in {
        "openjdk", "eclipse-temurin", "amazoncorretto"} else None
    # maven:3.6.3-openjdk-8, maven:3.8-jdk-11, maven:3.9-eclipse-temurin-21, gradle:8-jdk17-alpine
    version = version or _version(image.tag, r"(?:temurin-|corretto-|openjdk-|jdk-?)(\d{1,2})(?:\D|$)")
    version = version or _version(image.tag, r"(?:^|-)(\d{2})(?:\D|$)")
    if version is None:
        raise Refuse(f"cannot tell the Java version of {image.raw}; pin it (eclipse-temurin:21-jdk)")
    if image.tag and re.search(r"(?:^|[.-])jre(?:$|[.-])", image.tag):
        raise Refuse(f"{image.raw} is already a Java runtime image (a JRE): nothing to leave behind")
    if entry[0].rsplit("/", 1)[-1] != "java" or "-jar" not in entry:
        raise Refuse("the start command is not `java … -jar FILE`: cannot tell which jar to run")
    jar = entry[entry.index("-jar") + 1] if entry.index("-jar") + 1 < len(entry) else ""
    if not jar.endswith(".jar") or any(ch in jar for ch in "*?$"):
        raise Refuse("the jar to run is not named exactly in the start command")
    row = runtimes()["java"].get(version)
    family = runtimes()["families"]["java"]
    if row is None and version in family["versions"]:
        # no distroless image for this version (Java 8): the same version's Temurin JRE
        row = {"image": family["slim"].format(v=version), "java": "/opt/java/openjdk/bin/java",
               "eol": family["versions"][version]}
    if is_alpine(image):
        # musl: the same version's Temurin JRE on Alpine (the jar itself is portable)
        family = runtimes()["families"]["java"]
        if version not in family["versions"]:
            raise Refuse(f"no supported runtime image for Java {version}")
        row = {"image": family["alpine"].format(v=version), "java": "/opt/java/openjdk/bin/java",
               "eol": family["versions"][version]}
    if row is None or not _alive(row):
        raise Refuse(f"no supported runtime image for Java {version}")
    plan = Plan("java", _override(ctx, f"java-{version}", row["image"]))
    if not any(i.keyword == "RUN" for i in stage.instructions) and is_alpine(image):
        # a jar built elsewhere (ADD target/app.jar) on a JDK: nothing is built here, so no builder
        # stage; the image only moves to the same version's JRE (its start line, found on PATH, stays)
        plan.rebase_only = True
        return plan
    jar_abs = _abs(ctx, stage, jar)
    plan.copies.append((jar_abs, jar_abs))
    flags = entry[1 : entry.index("-jar")]
    plan.entrypoint = [row["java"], *flags, "-jar", jar_abs, *entry[entry.index("-jar") + 2 :]]
    return plan


def _dotnet(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> Plan:
    version = _version(image.tag, r"(\d+\.\d+)")
    publishes = [(i, c) for i, c in runs if c.name == "dotnet" and "publish" in c.argv]
    if version is None or not publishes:
        raise Refuse("dotnet sdk image without a versioned tag and `dotnet publish`: nothing to split")
    out = _option(publishes[-1][1].argv, "-o") or _option(publishes[-1][1].argv, "--output")
    if out is None:
        raise Refuse("`dotnet publish` has no `-o`: the published folder is not known")
    row = runtimes()["dotnet"].get(version)
    if row is None or not _alive(row):
        raise Refuse(f".NET {version} is past end of life: move to .NET 10 and run again")
    if entry[0] != "dotnet":
        raise Refuse("the start command is not `dotnet App.dll`")
    plan = Plan("dotnet", _override(ctx, f"dotnet-{version}", row["aspnet"]))
    folder = abs_at(ctx, publishes[-1][0], out)
    plan.copies.append((folder, folder))
    plan.entrypoint = ["dotnet", *[_abs(ctx, stage, a) if a.endswith(".dll") else a for a in entry[1:]]]
    return plan


#: the PATH of the builder images (golang's: /go/bin first): a bare start command is looked up there
_PATH = ("/go/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _rebase_entry(ctx: Context, stage: Stage, entry: list[str], binaries: set[str]) -> list[str]:
    first = _abs(ctx, stage, entry[0]) if "/" in entry[0] else entry[0]
    if "/" not in entry[0]:
        # `go build -o /usr/local/bin/app` + `CMD ["app"]` (the golang image's own example): found on PATH
        found = [b for folder in _PATH for b in sorted(binaries) if b == f"{folder}/{entry[0]}"]
        first = found[0] if found else first
    if first not in binaries:
        raise Refuse(f"the start command `{entry[0]}` is not the binary the build produces")
    return [first, *entry[1:]]
