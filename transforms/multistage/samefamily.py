"""Same-family runtime stages for ``multistage``: the builder's language image, minus the build.

When a split onto distroless is impossible — the start needs a shell (an entry-point script, a
shell-form CMD with ``&&`` or expansions), the builder is Alpine (musl), or the stack is Ruby or PHP —
the runtime stage is the publisher's smaller image of the *same* language version (``python:3.11`` →
``python:3.11-slim``, ``node:18-alpine`` → ``node:18-alpine`` (the version never moves), ``ruby:3.3``
→ ``ruby:3.3-slim``, ``php:8.3-apache`` → the same image without what the build added). The start
lines move as they are, and the runtime gets what the app had at run time:

* the installed dependencies (Python: site-packages, the console scripts of ``/usr/local/bin`` and
  any virtualenv; Node: the app folder with ``node_modules``, global installs; Ruby: the gems of
  ``/usr/local/bundle``; PHP: the compiled extensions and ``php.ini`` files) and the app folder;
* every file the Dockerfile copied from the build context outside those (entry-point scripts,
  configuration), every folder a RUN made with ``mkdir``, every ``/etc`` folder a RUN configured
  (``a2enmod``, ``sed -i /etc/…``), the users and groups the build created, and the last USER;
* every package the builder installed except compilers and headers — a ``-dev`` package becomes its
  runtime library (tables ``runtime_libraries`` / ``apk_runtime_libraries``), with the builder's own
  ``--no-install-recommends`` choice.

Refuses (a note) when the builder installs a second service (nginx, supervisor, cron: one app per
container), adds its own package sources (the runtime could not install the same packages), installs
a ``-dev`` package whose runtime library is not known. A version past end of life stays (a note
recommends the ``upgrade`` codemod, a separate change ``migrate`` tries last); a moving tag
(``python:3-slim``, ``node:lts``) is pinned to the release it names today (``moving_tags``).

Unsafe, like every split: the runtime image differs from the builder's.
"""

from __future__ import annotations

import posixpath
import re

from rewriter.core.edits import Edit
from rewriter.core.shell import Command
from rewriter.core.syntax import Stage
from rewriter.facts import Context, ImageRef, inside, parse_image
from rewriter.facts.commands import package_call
from transforms._languages import language_version
from transforms.multistage.native import app_libraries
from transforms.multistage.plan import TODAY, Plan, Refuse, end_of_life_note, eol_date, runtimes, virtualenvs

#: paths a build writes that never belong in a runtime
_SCRATCH = ("/tmp", "/var/tmp", "/root/.cache", "/var/cache", "/var/lib/apt", "/var/lib/dpkg", "/usr/src",
            "/root/.npm", "/root/.composer", "/proc", "/dev", "/run")
#: /etc folders a command configures: the runtime gets the builder's copy
_ETC_BY_COMMAND = {"a2enmod": "/etc/apache2", "a2ensite": "/etc/apache2", "a2enconf": "/etc/apache2",
                   "a2dismod": "/etc/apache2", "a2dissite": "/etc/apache2", "a2disconf": "/etc/apache2",
                   "update-ca-certificates": "/etc/ssl", "locale-gen": "/etc/locale.gen"}
_USER_TOOLS = {"useradd", "adduser", "groupadd", "addgroup", "usermod"}


def is_alpine(image: ImageRef) -> bool:
    return "alpine" in (image.tag or "") or image.short_name == "alpine"


def version_of(stack: str, image: ImageRef) -> tuple[str | None, str | None]:
    """The language version a builder image has, and the moving tag it was read from (if any)."""
    return language_version(stack, image, runtimes())


def family_alive(stack: str, version: str) -> bool:
    day = eol_date(stack, version)
    return day is not None and day > TODAY


def _runtime_ref(stack: str, builder: ImageRef, version: str, alpine: bool) -> str:
    """The same family's smaller image of ``version``, under the builder's own registry/name."""
    family = runtimes()["families"][stack]
    template = str(family["alpine" if alpine else "slim"])
    tag = builder.tag or ""
    if template == "same" or (stack != "java" and (alpine or "slim" in tag)):
        return builder.raw.split("@", 1)[0]
    if stack == "java":
        name = "eclipse-temurin" if builder.name.rsplit("/", 1)[-1] != "eclipse-temurin" else builder.name
        return template.format(v=version).replace("eclipse-temurin", name, 1)
    m = re.match(r"^(\d+(?:\.\d+)*)", tag)
    rest = tag[m.end():] if m else ""
    return f"{builder.name}:{version}-slim{rest}" if builder.name != stack else template.format(v=version) + rest


def pin_moving(stage: Stage, image: ImageRef, stack: str, version: str, moving: str | None,
               plan: Plan) -> ImageRef:
    """Rewrite the builder's FROM tag when it is moving (``python:3``, ``node:lts``) to the release it
    names today, so builder and runtime install into the same version's paths; the version itself
    never moves here (a version past end of life gets a note: the ``upgrade`` codemod moves it)."""
    plan.notes += end_of_life_note(stack, version)
    if moving is None:
        return image
    tag = image.tag or "latest"
    plan.notes.append(f"{image.raw} is a moving tag: pinned to {stack.capitalize()} {version}, its current "
                      "release, so builder and runtime stay on the same version")
    if image.digest or "$" in image.raw:
        raise Refuse(f"{image.raw} is a moving tag that would have to be pinned, but it is given by digest or a "
                     "variable")
    if tag == moving:
        new_tag = f"{version}-{tag}" if tag in {"slim", "alpine", "apache", "fpm", "cli"} else version
    else:
        new_tag = version + tag[len(moving):]
    new_raw = f"{image.name}:{new_tag}" if image.raw.lower().startswith(image.name) else image.raw.replace(
        f":{tag}", f":{new_tag}", 1)
    if image.tag is None:
        new_raw = f"{image.raw}:{new_tag}"
    frm = stage.from_instruction
    word = frm.words[0]
    plan.builder_edits.append(Edit(frm.start + word.start, frm.start + word.end, new_raw))
    return parse_image(new_raw)


def plan_same_family(ctx: Context, stage: Stage, image: ImageRef, stack: str, runs: list[tuple[object, Command]],
                     workdir: str, why: str) -> Plan:
    """A runtime stage on the builder's own family (see the module docstring); ``why`` says why not distroless."""
    alpine = is_alpine(image)
    version, moving = version_of(stack, image)
    if version is None:
        raise Refuse(f"cannot tell the {stack.capitalize()} version of {image.raw}; pin a version tag")
    plan = Plan(stack, "", shell=True, installer="apk" if alpine else "apt")
    original = image.raw
    image = pin_moving(stage, image, stack, version, moving, plan)
    plan.runtime = ctx.config.images.get(f"{stack}-{version}{'-alpine' if alpine else ''}",
                                         _runtime_ref(stack, image, version, alpine))
    start = " ".join(i.arguments for i in (stage.last("ENTRYPOINT"), stage.last("CMD"), stage.last("HEALTHCHECK"))
                     if i is not None)
    dropped = _packages(plan, runs, alpine, set(re.findall(r"[\w.+-]+", start)))
    for dep, lib in app_libraries(ctx, stack, runs, plan.installer):
        if lib not in plan.packages:
            plan.packages.append(lib)
            plan.notes.append(f"the app's {dep} links {lib}: the runtime installs it")
    if plan.runtime == image.raw.split("@", 1)[0] and not dropped and not _leaves_tools(stack, runs):
        lead = f"{why}; and " if why else ""
        raise Refuse(f"{lead}{original} is already the smallest image of its family and the build installs no "
                     "build tools: a runtime stage would leave nothing behind")
    if workdir == "/":
        raise Refuse("the app has no WORKDIR: cannot tell which files are the application")
    _dependencies(ctx, plan, stage, stack, version, runs)
    plan.copies.append((workdir, workdir))
    plan.user = _last_user(stage)
    plan.notes.insert(0, why)
    plan.notes.append(f"build tools stay in the builder; the start runs as before on {plan.runtime}")
    return plan


def _dependencies(ctx: Context, plan: Plan, stage: Stage, stack: str, version: str, runs: list) -> None:
    argvs = [list(c.argv) for _i, c in runs]
    if stack == "python":
        plan.copies.append((f"/usr/local/lib/python{version}/site-packages",
                            f"/usr/local/lib/python{version}/site-packages"))
        plan.copies.append(("/usr/local/bin", "/usr/local/bin"))
        for venv in virtualenvs(ctx, stage, runs):
            plan.copies.append((venv, venv))
    elif stack == "node":
        if any(a[:1] in (["npm"], ["yarn"], ["pnpm"]) and ("-g" in a or "--global" in a or a[1:2] == ["global"])
               for a in argvs):
            plan.copies += [("/usr/local/lib/node_modules", "/usr/local/lib/node_modules"),
                            ("/usr/local/bin", "/usr/local/bin")]
    elif stack == "ruby":
        if not any(a[:1] in (["bundle"], ["gem"], ["bundler"]) for a in argvs):
            raise Refuse("ruby image without `bundle install` or `gem install`: nothing to split")
        plan.copies.append(("/usr/local/bundle", "/usr/local/bundle"))
    elif stack == "php":
        plan.copies += [("/usr/local/lib/php", "/usr/local/lib/php"), ("/usr/local/etc/php", "/usr/local/etc/php")]


def _installed(runs: list, alpine: bool) -> tuple[list[str], bool]:
    """Packages the stage installs and keeps (removed and ``--virtual`` groups deleted later are
    not kept), and whether every apt install said ``--no-install-recommends``."""
    kept: list[str] = []
    groups: dict[str, list[str]] = {}
    no_recommends = True
    for _i, c in runs:
        call = package_call(c)
        if call is None:
            continue
        if call.family == "apt" and call.subcommand == "install":
            no_recommends &= call.has_word("--no-install-recommends")
            kept += call.packages
        elif call.family == "apt" and call.subcommand in {"purge", "remove", "autoremove"}:
            gone = set(call.packages)
            kept = [p for p in kept if p not in gone]
        elif call.family == "apk" and call.subcommand == "add":
            if call.has_word("--repository", "-X"):
                raise Refuse("the builder installs Alpine packages from its own repository; the runtime could "
                             "not install the same ones")
            virtual = call.option("--virtual", "-t")
            if virtual:
                groups[virtual] = call.packages
            kept += call.packages
        elif call.family == "apk" and call.subcommand == "del":
            removed: set[str] = set()
            for a in call.packages:
                removed |= set(groups.get(a, [a]))
            kept = [p for p in kept if p not in removed]
    return list(dict.fromkeys(p for p in kept if "$" not in p)), no_recommends


def _leaves_tools(stack: str, runs: list) -> bool:
    """Does the build use tools of its own that a runtime stage leaves behind (composer, a global npm
    build tool, a compiler toolchain fetched by a script)?"""
    names = {c.name.rsplit("/", 1)[-1] for _i, c in runs}
    tools = {"composer", "composer.phar", "pipenv", "poetry", "bundle", "gem", "yarn", "pnpm", "cargo"}
    return bool(names & tools) or (
        stack == "node" and any(c.name == "npm" and "run" in c.argv for _i, c in runs))


def _packages(plan: Plan, runs: list, alpine: bool, start_words: set[str]) -> list[str]:
    """Set ``plan.packages`` to what the runtime installs; the packages left behind."""
    table = runtimes()
    for _i, c in runs:
        argv = " ".join(c.argv)
        name = c.name.rsplit("/", 1)[-1]
        if name in {"add-apt-repository", "apt-key"} or "sources.list" in argv or (
                name in {"bash", "sh"} and any("setup_" in w for w in c.argv)):
            raise Refuse("the builder adds its own package sources; the runtime could not install the same packages")
    installed, plan.no_recommends = _installed(runs, alpine)
    compilers = set(table["compilers"]["apk" if alpine else "apt"])
    libs = table["apk_runtime_libraries" if alpine else "runtime_libraries"]
    services = set(table["services"])
    out: list[str] = []
    for pkg in installed:
        if pkg in services:
            raise Refuse(f"the builder installs {pkg}, a second service beside the app (one application per "
                         "container); split it into its own image first")
        if pkg in compilers:
            continue
        if pkg.endswith("-dev") or pkg.endswith("-devel"):
            lib = libs.get(pkg)
            if lib is None:
                raise Refuse(f"the builder installs {pkg}; the runtime library the app needs from it is not known, "
                             "so the runtime stage could miss it")
            out.append(lib)
        else:
            out.append(pkg)
    helpers = set(table["build_helpers"]) - set(start_words)
    left = [p for p in out if p in helpers]
    if left:
        plan.notes.append(f"{', '.join(left)} stay in the builder (the dependency install needs them, the app "
                          "does not)")
    plan.packages = [p for p in dict.fromkeys(out) if p not in helpers]
    return [p for p in installed if p not in plan.packages]


def _last_user(stage: Stage) -> str | None:
    user = stage.last("USER")
    return user.arguments.strip() if user is not None and user.arguments.strip() else None


def carried_paths(ctx: Context, stage: Stage, plan: Plan) -> list[str]:
    """Paths the original image had at run time that the runtime stage gets from the builder: files
    copied from the build context outside the copied folders, folders made with ``mkdir``, ``/etc``
    folders a RUN configured, and the user database when the build created users."""
    covered = [dest.rstrip("/") or "/" for _src, dest in plan.copies]
    out: list[str] = []
    for copy in ctx.facts.context_copies([stage]):
        if any("*" in w or "?" in w for w in copy.sources):
            continue
        if not copy.into_dir:
            out.append(copy.dest)
            continue
        for src in copy.sources:
            folder = inside(ctx.context_dir, src)
            if src in {".", "./"} or (folder is not None and folder.is_dir()):
                out.append(copy.dest)
            else:
                out.append(posixpath.join(copy.dest, posixpath.basename(src.rstrip("/"))))
    made, removed, users = _run_paths(ctx, stage)
    out += made
    if users:
        out += ["/etc/passwd", "/etc/group", "/home"]

    def wanted(path: str) -> bool:
        return (path.startswith("/") and path != "/" and not path.startswith(tuple(s + "/" for s in _SCRATCH))
                and path not in _SCRATCH and not any(path == c or path.startswith(c + "/") for c in covered)
                and not any(path == r or path.startswith(r.rstrip("/") + "/") for r in removed))

    kept = [p for p in dict.fromkeys(out) if wanted(p) or p in {"/etc/passwd", "/etc/group"}]
    # a path inside another carried folder comes with it
    return [p for p in kept if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in kept)]


def _run_paths(ctx: Context, stage: Stage) -> tuple[list[str], list[str], bool]:
    """One pass over the stage's RUNs (with the WORKDIR in force at each): the paths they make
    (``mkdir``, the target of ``mv``/``cp``/``ln``, ``/etc`` folders they configure), the paths they
    remove (``rm``, the sources of ``mv``: the builder no longer has them), and whether they create
    users. A relative path in a RUN whose WORKDIR is not known here is left out."""
    made: list[str] = []
    removed: list[str] = []
    users = False
    for run in ctx.facts.runs.of(stage):
        for c in run.commands:
            name = c.name.rsplit("/", 1)[-1]
            args = [a for a in c.argv[1:] if not a.startswith("-")]
            if name == "mkdir":
                made += [p for a in args if "$" not in a and (p := run.path(a)) is not None]
            elif name in {"mv", "cp", "ln"} and len(args) >= 2 and "$" not in args[-1]:
                made += [p for p in [run.path(args[-1])] if p is not None]
            elif name in _ETC_BY_COMMAND:
                made.append(_ETC_BY_COMMAND[name])
            elif name in {"sed", "tee"} or c.redirects:
                for w in [*c.argv[1:], *(r.target.text for r in c.redirects if r.target is not None and ">" in r.op)]:
                    m = re.match(r"^/etc/[A-Za-z0-9._-]+", str(w))
                    if m and not m.group(0).startswith(("/etc/apt", "/etc/passwd", "/etc/group", "/etc/shadow")):
                        made.append(m.group(0))
            if name in {"rm", "mv"}:
                gone = c.argv[1:] if name == "rm" else c.argv[1:-1]
                removed += [p for a in gone if not a.startswith("-") and (p := run.path(a)) is not None]
            if name in _USER_TOOLS:
                users = True
    return made, removed, users
