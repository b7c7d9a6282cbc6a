"""The top of ``multistage``'s analysis: ``_plan`` reads the final stage's base image, leaves alone a
stage that is already a runtime or already fed by a build stage, reads the start command as an
argument vector (refusing one that needs a shell), and hands the stage to its stack's planner
(compiled, Python, Node) or to a same-family runtime. Its answer is a ``Plan``, None (nothing to
split) or a ``Refuse``.
"""

from __future__ import annotations

from rewriter.core.shell import Command
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context, ImageRef, parse_image
from rewriter.facts.start import exec_argv
from transforms._data import load
from transforms.multistage.compiled import _c_binary, _dotnet, _go, _java, _rust, _static_binary
from transforms.multistage.node import _node, _node_installs, _production_install, _prune_edit
from transforms.multistage.plan import Plan, Refuse, _NotDistroless, _option, _workdir
from transforms.multistage.python import _is_pip_install, _python
from transforms.multistage.samefamily import is_alpine, plan_same_family

_OS_IMAGES = {"debian", "ubuntu", "busybox", "alpine"}
_UNSUPPORTED_TOOLCHAINS = {"erlang", "elixir", "ruby", "php", "perl", "haskell", "swift", "gcc", "buildpack-deps",
                           "clojure", "julia", "r-base"}


def _plan(ctx: Context, stage: Stage) -> Plan | None:
    image = parse_image(ctx.resolved_base(stage))
    name = image.short_name
    if ctx.is_windows(stage):
        raise Refuse("Windows image: no distroless runtime exists for it; left unchanged")
    if _is_runtime_image(image):
        return None  # already a runtime stage: nothing to split
    runs = ctx.facts.runs.commands(stage)
    if _already_split(ctx, stage, runs):
        return None  # the final stage already takes what it runs from a build stage
    stack = load("images")["stacks"].get(name)  # the language an official toolchain image builds
    if image.name.startswith(("mcr.microsoft.com/dotnet/sdk", "mcr.microsoft.com/dotnet/core/sdk")) or (
            image.name in {"microsoft/dotnet", "docker.io/microsoft/dotnet"} and "sdk" in (image.tag or "")):
        stack = "dotnet"  # legacy names too (dotnet/core/sdk:3.1, microsoft/dotnet:2.2-sdk)
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
            raise Refuse(f"{name} builds are not a stack this codemod splits yet (Go, Rust, Python, Node, Java, "
                          ".NET, Ruby, PHP)")
        return None  # not a toolchain image: nothing to split
    try:
        entry: list[str] | None = _entry_argv(ctx, stage)
        why = ""
    except _NotDistroless as exc:
        entry, why = None, exc.reason
    except Refuse:
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
        raise Refuse(why)
    if alpine and stack not in {"go", "java"}:
        raise Refuse(f"{image.raw} is Alpine (musl): its build output does not run on glibc distroless images")
    if stack == "go":
        plan = _go(ctx, stage, runs, entry)
        if alpine and plan.runtime.startswith("gcr.io/distroless/") and "static" not in plan.runtime:
            raise Refuse(f"{image.raw} is Alpine (musl) and the Go build uses cgo: the binary needs musl; build "
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


def _check_installs(ctx: Context, stack: str, stage: Stage, runs: list, plan: Plan,
                    entry: list[str] | None) -> None:
    """A same-family Python/Node split needs the dependency install it moves; Node apps installed with
    dev dependencies are pruned when the start runs ``node`` itself (not a script that may use them)."""
    if stack == "python":
        if not any(_is_pip_install(c) for _i, c in runs) and not any(c.name == "poetry" for _i, c in runs):
            raise Refuse("python image without `pip install`/`poetry install`: nothing to split")
        if any(_option(c.argv, "--target") or _option(c.argv, "--prefix") or "--user" in c.argv
               for _i, c in runs if _is_pip_install(c)):
            raise Refuse("pip installs to a custom location (--target/--prefix/--user); move it by hand")
        return
    installs = _node_installs(runs)
    if not installs:
        raise Refuse("node image without `npm ci`/`npm install`/`yarn install`: nothing to split")
    prod = _production_install(ctx, stage, installs)
    if not prod and installs[-1].name == "npm" and entry and entry[0].rsplit("/", 1)[-1] == "node":
        plan.builder_edits.append(_prune_edit(ctx, stage))
    elif not prod:
        plan.notes.append("dev dependencies are kept (the start may use them)")


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
        or "/dotnet/core/aspnet" in image.name
        or "/dotnet/core/runtime" in image.name
        or (image.name.endswith("microsoft/dotnet") and "sdk" not in tag)
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
        raise Refuse("the stage has no CMD or ENTRYPOINT to run in the runtime stage")
    if argv[0].endswith(".sh") or "entrypoint" in argv[0].lower():
        raise _NotDistroless(f"the entry point {argv[0]} is a script that needs a shell, which distroless "
                             "images do not have")
    return argv
