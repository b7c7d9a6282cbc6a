"""The edit a ``multistage`` plan becomes: ``_fix`` names the builder stage and removes from it what
moves (start lines, EXPOSE, HEALTHCHECK, a USER after its last RUN), then appends the runtime stage —
its FROM, package install, the ``COPY --from`` of what the plan carries and of the files the app reads
at run time, the ENV/LABEL/… lines it keeps with the ARGs they use, a HEALTHCHECK probe the runtime
can run, and its start — as one exclusive, unsafe ``Fix`` (a prebuilt binary only changes its FROM).
A compiled app keeps the WORKDIR it ran in and the files of the build context it may open relative to
it (:func:`_app_files`: what was copied there that is not source, build file or document).
The start keeps its kind: a CMD stays a CMD (after ``ENTRYPOINT []`` where the runtime image has an
entry point of its own), an ENTRYPOINT stays an ENTRYPOINT with its CMD's arguments still a CMD.
"""

from __future__ import annotations

import json
import posixpath
import re

from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.core.shell import split_words
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context, inside
from rewriter.facts.homestate import root_home_state
from transforms.multistage.plan import ID, Plan, _workdir, arg_paths
from transforms.multistage.samefamily import carried_paths

_CARRY = {"ENV", "EXPOSE", "LABEL", "VOLUME", "STOPSIGNAL"}

#: ENV of build tools: the runtime stage does not need them
_BUILD_ENV = ("POETRY_", "PIP_", "PIPENV_", "UV_", "NPM_CONFIG_", "YARN_", "GOPATH", "GOFLAGS", "GOPROXY", "CGO_",
              "GO111MODULE", "CARGO_", "RUSTUP_", "MAVEN_", "GRADLE_", "DOTNET_CLI_", "NUGET_")
_MOVE = {"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "VOLUME", "STOPSIGNAL"}


def _build_env(inst: Instruction) -> bool:
    """An ENV that only configures build tools (every variable it sets)."""
    if inst.keyword != "ENV":
        return False
    names = [w.text.split("=", 1)[0] for w in inst.words if "=" in w.text] or [w.text for w in inst.words[:1]]
    return bool(names) and all(n.upper().startswith(_BUILD_ENV) for n in names)


def _rebase(stage: Stage, plan: Plan) -> Fix:
    frm = stage.from_instruction
    word = frm.words[0]
    what = ("the prebuilt static binary now runs on {r} (no shell, no package manager)" if plan.stack != "java"
            else "the prebuilt jar now runs on {r}, the same Java version's runtime (no compiler, no JDK tools)")
    return Fix(ID, what.format(r=plan.runtime),
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


def _carried_files(ctx: Context, stage: Stage, plan: Plan) -> list[str]:
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


#: compiled stacks: the runtime gets the binary (or jar) — and the app's files beside it, read below
_COMPILED = {"go", "rust", "java", "dotnet", "c"}
#: per compiled stack, what in the build context is source or build output, never read by the app at run time
_SOURCES = {
    "go": ({".go", ".s", ".c", ".h"}, {"go.mod", "go.sum", "go.work", "go.work.sum", "vendor"}),
    "rust": ({".rs"}, {"src", "target", "Cargo.toml", "Cargo.lock", "build.rs", "benches", "examples"}),
    "java": ({".java", ".kt", ".kts", ".groovy", ".scala"},
             {"src", "target", "build", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle",
              "settings.gradle.kts", "gradle", "gradlew", "gradlew.bat", "mvnw", "mvnw.cmd", "gradle.properties"}),
    "dotnet": ({".cs", ".fs", ".vb", ".csproj", ".fsproj", ".vbproj", ".sln", ".props", ".targets"},
               {"bin", "obj", "Properties", "global.json", "nuget.config", "NuGet.Config"}),
    "c": ({".c", ".h", ".cc", ".cpp", ".hpp", ".cxx", ".o", ".a"},
          {"Makefile", "makefile", "CMakeLists.txt", "configure", "build", "cmake"}),
}
#: never the app's run-time files, whatever the stack
_NOT_APP = {"Dockerfile", "Containerfile", ".dockerignore", ".git", ".github", ".gitlab-ci.yml", ".gitignore",
            "docs", "doc", "test", "tests", "testdata", "README", "LICENSE", "CHANGELOG", "Makefile",
            "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml", "node_modules"}
_DOC_SUFFIXES = (".md", ".rst", ".adoc")
#: at most this many files are looked at in one folder of the context to decide whether it is all sources
_SCAN = 400


def _is_app_file(stack: str, name: str) -> bool:
    exts, names = _SOURCES[stack]
    base = name.rsplit("/", 1)[-1]
    return not (base in names or base in _NOT_APP or base.startswith((".", "README", "LICENSE", "CHANGELOG",
                                                                       "Dockerfile"))
                or base.endswith(_DOC_SUFFIXES) or posixpath.splitext(base)[1] in exts)


def _app_files(ctx: Context, stage: Stage, plan: Plan, workdir: str) -> list[str]:
    """What a compiled app may open relative to the folder it runs in: the entries of the build context
    copied into that folder (``COPY . .``, ``COPY templates ./templates``) that are neither sources nor
    build files nor documents (``templates/``, ``static/``, ``config/``, ``Rocket.toml``, ``app.db``).
    A folder is carried when any file in it is not a source file. Each is copied from the builder at
    the same path; the binary and what the plan copies already are left out."""
    if plan.stack not in _COMPILED or ctx.context_dir is None:
        return []
    from rewriter.sidefiles.dockerignore import is_excluded, parse

    patterns = parse(ctx.read_side(".dockerignore") or "")
    taken = {dest.rstrip("/") for _src, dest in plan.copies} | {src.rstrip("/") for src, _dest in plan.copies}
    out: list[str] = []
    for copy in ctx.facts.context_copies([stage]):
        if any(ch in w for w in copy.sources for ch in "*?[") or copy.inst.flag("from") is not None:
            continue
        for src in copy.sources:
            rel = posixpath.normpath(src.lstrip("/"))
            if rel.startswith(".."):
                continue
            if rel == "." and copy.into_dir and copy.dest.rstrip("/") == workdir.rstrip("/"):
                folder = inside(ctx.context_dir, ".")
                names = sorted(p.name for p in folder.iterdir()) if folder is not None and folder.is_dir() else []
                candidates = [(n, posixpath.join(workdir, n)) for n in names]
            elif copy.dest.rstrip("/") == workdir.rstrip("/") or copy.dest.startswith(workdir.rstrip("/") + "/"):
                name = posixpath.basename(rel)
                candidates = [(rel, posixpath.join(copy.dest, name) if copy.into_dir else copy.dest)]
            else:
                continue
            for name, dest in candidates:
                if dest in taken or dest in out or is_excluded(name, patterns) or not _is_app_file(plan.stack, name):
                    continue
                path = inside(ctx.context_dir, name)
                if path is None or not path.exists():
                    continue
                if path.is_dir():
                    files = [p for _i, p in zip(range(_SCAN), (q for q in path.rglob("*") if q.is_file()),
                                                strict=False)]
                    if not any(_is_app_file(plan.stack, f.name) for f in files):
                        continue
                out.append(dest)
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


def _health_probe(health: Instruction, plan: Plan) -> str | None:
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


#: distroless language images start their own interpreter (ENTRYPOINT ["/usr/bin/python3.13"],
#: ["/nodejs/bin/node"], ["/usr/bin/java", "-jar"]); static, base and cc have none. Any other runtime
#: (a configured mirror, say) may have one: it is reset, which costs nothing where there is none.
_NO_ENTRYPOINT = re.compile(r"^gcr\.io/distroless/(?:static|base|cc)(?:-debian\d+)?(?::|@|$)")


def _has_own_entrypoint(runtime: str) -> bool:
    return not _NO_ENTRYPOINT.match(runtime)


def _health_needs_missing(health: Instruction, plan: Plan) -> bool:
    """Does a HEALTHCHECK run curl/wget that the runtime stage does not install?"""
    tools = {t for t in ("curl", "wget") if re.search(rf"\b{t}\b", health.arguments)}
    if plan.installer == "apk":
        tools.discard("wget")  # busybox has wget
    return bool(tools - set(plan.packages))


def _fix(ctx: Context, stage: Stage, plan: Plan) -> Fix:
    if plan.rebase_only:
        return _rebase(stage, plan)
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
    workdir = _workdir(ctx, stage)
    app_files = [] if plan.shell or workdir == "/" else _app_files(ctx, stage, plan, workdir)
    # settings the build left in root's home (bundle config --global, npm config set): the original had them
    home = [] if plan.stack in _COMPILED else [
        f"/root/{h.path}" for h in root_home_state(ctx, ctx.facts.chain(stage)) if h.sure]
    written = arg_paths()  # a path the build names with a build argument keeps it (re-declared below)
    copy_lines = [f"COPY --from={builder} {written.get(src, src)} {written.get(dest, dest)}"
                  for src, dest in [*plan.copies, *((p, p) for p in [*carried_files, *app_files, *home])]]
    lines += _args_used(stage, copy_lines) + copy_lines
    # the app runs where it ran: a compiled one opens files relative to its WORKDIR
    if workdir != "/" and (any(dest == workdir for _src, dest in plan.copies) or plan.stack in _COMPILED):
        lines.append(f"WORKDIR {workdir}")
    kept = [c for c in carried if not c.upper().startswith(("HEALTHCHECK",))]
    declared = set(lines)
    lines += [a for a in _args_used(stage, kept + ([i.raw for i in _start_lines(stage)] if plan.shell else []))
              if a not in declared] + kept
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
    elif stage.last("ENTRYPOINT") is None and stage.last("CMD") is not None:
        # CMD stays CMD: `docker run IMAGE other-command` (a migration, a worker, a one-off job) runs that
        # command as it did before. A runtime image with an ENTRYPOINT of its own (distroless python3,
        # nodejs, java) would receive the command as its arguments: it is reset first.
        if _has_own_entrypoint(plan.runtime):
            lines.append("ENTRYPOINT []")
        lines.append(f"CMD {json.dumps(plan.entrypoint, ensure_ascii=False)}")
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
    notes = [*plan.notes, *([f"root's settings from the build ({', '.join(home)}) go with it"] if home else [])]
    if notes:
        msg += " (" + "; ".join(notes) + ")"
    if health_kept:
        pass
    elif probe is not None:
        msg += "; its HEALTHCHECK's HTTP probe is done by the runtime's own interpreter (no curl there)"
    elif health is not None and re.search(r"\b(curl|wget|sh|bash)\b", health.arguments):
        msg += "; its HEALTHCHECK needs curl/wget/a shell, which the runtime lacks, so it was left out"
    elif health is not None:
        msg += "; HEALTHCHECK left out of the runtime (check it still has what it runs)"
    return Fix(ID, msg, tuple(edits), Applicability.UNSAFE, frm.start_line, exclusive=True)
