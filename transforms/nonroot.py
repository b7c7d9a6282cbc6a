"""nonroot — the final stage runs as a numeric, non-root user that exists and can do its job.

What it changes
    * When the final stage would run as root (no ``USER``, or a trailing ``USER root``/``USER 0``),
      it adds ``USER <uid>:<gid>`` (default ``10001:10001``, configurable) after the last
      instruction that needs root and before ``CMD``/``ENTRYPOINT``. A trailing ``USER root`` that
      nothing after it needs is replaced in place.
    * The user is created the way the base image family does it (``transforms/data/users.yaml``):
      Debian/Ubuntu ``groupadd --system``/``useradd --system --no-create-home``, Alpine/BusyBox
      ``addgroup -S``/``adduser -S -D -H``, RHEL/UBI/Fedora/Amazon Linux ``useradd``. Images that
      have no user tools (ubi-minimal, ubi-micro, scratch) get the numeric ``USER`` alone, which
      the kernel accepts without a passwd entry. Images that already have an unprivileged user
      use it numerically (``node`` 1000, distroless/Chainguard 65532, .NET 1654). A user the
      Dockerfile already creates with a fixed uid (``useradd -u 1001 app``) is reused.
    * The user gets ownership of what the app writes: its ``WORKDIR`` (the folder itself, not
      recursively), declared ``VOLUME`` folders, the folders and files the Dockerfile makes for the app
      (``mkdir``/``touch`` under WORKDIR or in log, state, cache and data places: recursively), and what
      the start writes (:mod:`rewriter.facts.startuse`: the start line, the scripts and package scripts
      it runs): the folder of each file it writes, the file itself when the image has it, the folders
      it fills (``collectstatic``'s ``STATIC_ROOT``, ``cp`` targets; recursively); a folder the start
      makes itself (``mkdir X``, ``git clone``) is not made before it, its parent is owned. All in the
      same ``RUN`` that creates the user.
    * The user has a real home it owns (``/home/app``; the image's own user's home). Settings the build
      wrote into root's home (``git config --global``, ``npm config set``, ``bundle config``, ``pip
      config``, ``pip install --user``, ``mix local.hex``, a COPY into /root; ``home_state`` in
      ``transforms/data/users.yaml``; credentials never) are copied there, each only if it exists.
    * An image that already runs as its unprivileged user (distroless ``:nonroot``, Chainguard,
      chiseled .NET) gets that user's numeric ``USER`` written out.
    * The official nginx image whose configuration the Dockerfile replaces with one that listens
      only on ports >= 1024 runs as its own user 101 (nginxinc/nginx-unprivileged's recipe: no
      ``user`` directive, the pid file in /tmp, /var/cache/nginx owned by the user;
      ``transforms/data/users.yaml`` ``unprivileged``).

When it refuses (a note, file unchanged)
    * Windows stages; a ``USER`` set from a variable; ONBUILD bases.
    * The final stage sets no ``CMD``/``ENTRYPOINT``: its start command comes from the base image, or
      it is an image to build upon, whose children's ``RUN apt-get`` would fail as non-root.
    * The start command needs root, found in ``CMD``/``ENTRYPOINT`` and in every script of the build
      context they run (followed through the COPY/ADD that put it there, three deep): a privilege
      dropper (gosu, su-exec, setpriv, runuser, su, chpst, s6-setuidgid: root at start is intended),
      ``chown``/``useradd`` at start, services (``service``, cron, supervisord, sshd, syslog) and
      servers whose master needs root-owned run/pid/temp paths (nginx, Apache/httpd) —
      ``transforms/data/users.yaml`` ``root_commands``.
    * The start writes a system file (``sed -i`` on /etc/…, a redirection into /usr/…) that the
      Dockerfile did not make for the app; an ``ENV`` of the start points into /root (``PATH=/root/.local/
      bin:$PATH``), which a user cannot enter.
    * The base image's own start needs root (``root_images``: nginx, httpd, ``php:*-apache``, the
      database images whose entry points drop privileges) and the Dockerfile sets no ENTRYPOINT.
    * The app binds a port below 1024 (``EXPOSE 80``, ``--port 443``): a non-root process could not
      bind it. Use an unprivileged port or image (e.g. ``nginxinc/nginx-unprivileged`` on 8080).
    * The base image's family is unknown and the stage uses no package manager that tells it.
    * The stage creates a user without a fixed uid: its uid is unknown until build time.

Fix safety
    Adding ``USER`` is **unsafe**: it changes who runs the app, and only running it shows that the
    app writes nowhere else and needs no root-only resource (a socket, a low port, a file owned by
    root that it rewrites). The end-to-end suite's real-world apps show the refusals above keep such
    apps running. Writing out the numeric id of the user an image already runs as is **safe** (the
    same user). A named ``USER`` at the end only gets a suggestion to use the numeric id. Builder
    stages are never changed.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context, ImageRef, inside, parse_image
from rewriter.facts.commands import Run
from rewriter.facts.homestate import root_home_state
from rewriter.facts.scope import env_written, expand
from rewriter.facts.startuse import context_source, settings_files
from transforms._base import Codemod
from transforms._data import first_match, merged

ID = "nonroot"
_ROOT_NAMES = {"root", "0"}
#: useradd/adduser options that take a value (so the value is not the user name)
_VALUE_OPTIONS = {"-u", "--uid", "-g", "--gid", "-G", "--groups", "--ingroup", "-s", "--shell", "-h", "--home",
                  "-d", "--home-dir", "-c", "--comment", "--gecos", "-k", "--skel", "-K", "-e", "-f", "-p"}
_PORT_FLAG = re.compile(r"^(?:--?(?:port|p|listen|bind|b|http-port|server\.port)(?:=|$))", re.IGNORECASE)
_PORT_IN_WORD = re.compile(r"(?:^|[:=])(\d{1,5})$")


@dataclass(frozen=True)
class _User:
    uid: int
    gid: int | None
    name: str


class NonrootTransform(Codemod):
    id = ID
    description = "Run the final stage as a numeric non-root user that exists and owns what the app writes."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        stage = ctx.final_stage
        if stage is None:
            return
        if ctx.is_windows(stage):
            yield Note(ID, "Windows image: users work differently there (ContainerUser); left unchanged",
                       stage.start_line)
            return
        chain = ctx.facts.chain(stage)
        users = [i for st in chain for i in st.instructions if i.keyword == "USER"]
        last_user = users[-1] if users else None
        image = parse_image(ctx.resolved_base(stage))
        table = merged("users", ctx.config.tables.get("users"))
        existing = ctx.base_image(stage).existing_user
        if last_user is not None:
            values = {**((existing or {}).get("env") or {}), **ctx.facts.before(last_user).values}
            spec = expand(last_user.arguments.strip(), values, ctx.tree.escape)
            if spec is None:
                yield Note(ID, f"USER is set from a variable ({last_user.arguments.strip()}); cannot tell whether "
                               "it is root", last_user.start_line)
                return
            name = spec.split(":", 1)[0]
            if name not in _ROOT_NAMES:
                if not name.isdigit():
                    known = _created_users(ctx, chain).get(name)
                    hint = f"USER {known.uid}" + (f":{known.gid}" if known.gid is not None else "") if known else \
                        "its numeric uid"
                    yield Fix(ID, f"USER {name} is a name: use {hint} so Kubernetes runAsNonRoot can verify it",
                              (Edit(last_user.start + last_user.args_start, last_user.start + last_user.args_end,
                                    hint.removeprefix("USER ")),) if known else (),
                              Applicability.DISPLAY_ONLY, last_user.start_line)
                return
        elif existing and existing.get("default"):
            yield from _pin_default_user(ctx, stage, existing)
            return
        if image.name == "scratch" and not stage.instructions[1:]:
            return
        triggers = [i for i in stage.instructions if i.keyword == "ONBUILD"]
        if triggers:
            yield Note(ID, "this is a base image with ONBUILD triggers that run as its user in every image built "
                           "from it; set the non-root USER in those images instead", triggers[0].start_line)
            return
        texts = ctx.facts.start(stage).texts()
        root_image = first_match(table["root_images"], image)
        start = ctx.facts.start(stage)
        if root_image and root_image.get("unprivileged") and start.entrypoint is None:
            fix = _unprivileged(ctx, stage, chain, table["unprivileged"][root_image["unprivileged"]],
                                root_image["unprivileged"])
            if fix is not None:
                yield fix
                return
        if texts is None or (root_image and start.entrypoint is None):
            why = (root_image["reason"] if root_image else "the final stage sets no CMD or ENTRYPOINT: its start "
                   "command comes from the base image, or it is an image to build upon (a child image's RUN "
                   "apt-get would fail as non-root)")
            yield Note(ID, f"left as root: {why}; set the non-root USER where the start command is known",
                       stage.start_line, refusal=bool(root_image))
            return
        needs_root = _needs_root_at_start(ctx, stage)
        if needs_root:
            yield Note(ID, f"left as root: {needs_root[0]}", stage.start_line, refusal=needs_root[1])
            return
        system = _system_write(ctx, stage, chain) or _env_into_root(ctx, stage)
        if system:
            yield Note(ID, f"left as root: {system}", stage.start_line, refusal=True)
            return
        port = _privileged_port(stage, image.name, table)
        env_port = _privileged_env_port(ctx, stage)
        if port is None and env_port is not None:
            yield Note(ID, f"the app is told to bind port {env_port[1]} by ENV {env_port[0]} (< 1024), which a "
                           "non-root user cannot bind under Kubernetes' defaults; move it to 8080 (and its "
                           "EXPOSE) and run again", stage.start_line, refusal=True)
            return
        if port is not None:
            yield Note(ID, f"the app binds port {port} (< 1024), which a non-root user cannot bind; switch to an "
                           "unprivileged port or image and run again", stage.start_line, refusal=True)
            return
        yield from _add_user(ctx, stage, chain, image, existing, last_user)


def _run_commands(ctx: Context, stages: list[Stage]) -> Iterator[tuple[Run, list[str]]]:
    for st in stages:
        for run in ctx.facts.runs.of(st):
            for cmd in run.commands:
                yield run, list(cmd.argv)


def _created_users(ctx: Context, stages: list[Stage]) -> dict[str, _User]:
    """Users created with a fixed uid by ``useradd``/``adduser`` in these stages."""
    out: dict[str, _User] = {}
    for _run, argv in _run_commands(ctx, stages):
        if not argv or argv[0].rsplit("/", 1)[-1] not in {"useradd", "adduser"}:
            continue
        uid = gid = None
        name = None
        i = 1
        while i < len(argv):
            a = argv[i]
            val = argv[i + 1] if i + 1 < len(argv) else ""
            if a in {"-u", "--uid"}:
                uid, i = val, i + 2
                continue
            if a.startswith("--uid="):
                uid = a.split("=", 1)[1]
            elif a in {"-g", "--gid", "-G", "--ingroup"}:
                gid, i = val, i + 2
                continue
            elif a in {"-s", "--shell", "-h", "--home", "-d", "--home-dir", "-c", "--comment", "--gecos", "-k"}:
                i += 2
                continue
            elif not a.startswith("-"):
                name = a
            i += 1
        if name and uid and uid.isdigit():
            out[name] = _User(int(uid), int(gid) if gid and gid.isdigit() else None, name)
    return out


_WRAPPERS = {"exec", "tini", "dumb-init", "env", "nohup", "nice", "stdbuf", "command", "--"}


def _base(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _needs_root_at_start(ctx: Context, stage: Stage) -> tuple[str, bool] | None:
    """Why the start needs root: a privilege dropper, a root-only service or command, found in the start
    command or in any script or package script it runs (:mod:`rewriter.facts.startuse`)."""
    table = merged("users", ctx.config.tables.get("users"))
    droppers = set(table["privilege_droppers"])
    root_commands: dict[str, str] = table["root_commands"]
    use = ctx.start_use(stage)
    for cmd in use.commands if use is not None else ():
        prog = cmd.program
        if prog in droppers:
            return f"{cmd.where} drops privileges itself ({prog}); starting as root is intended", False
        if prog in root_commands:
            return f"{cmd.where} runs `{prog}`, which needs root: {root_commands[prog]}", True
    return None


#: where a file belongs to the system (its packages, root's home): the start cannot write there as a user
_SYSTEM_PATHS = ("/etc/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/boot/", "/root/", "/var/lib/dpkg/",
                 "/var/lib/apt/", "/var/lib/rpm/", "/var/spool/cron/")


def _system_write(ctx: Context, stage: Stage, chain: list[Stage]) -> str | None:
    """The first system file the start writes (``sed -i`` on /etc/apache2/ports.conf), as a reason;
    None when it writes none. Folders the Dockerfile makes itself (``mkdir /etc/myapp``) are the app's."""
    use = ctx.start_use(stage)
    made, _files = _made_paths(ctx, chain, None, anywhere=True)
    workdir = ctx.facts.app_workdir(stage)
    if workdir and workdir != "/":
        made.append(workdir)  # the app's own folder, even in a system place (WORKDIR /root): the user owns it
    for w in use.writes if use is not None else ():
        path = w.path.rstrip("/")
        shared_run = posixpath.dirname(path) in {"/run", "/var/run"}  # a pid file beside the system's
        if not (path + "/").startswith(_SYSTEM_PATHS) and not shared_run:
            continue
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in made):
            continue
        return (f"{w.where} writes {w.path} ({w.how}), a system file a non-root user cannot change; "
                "write it at build time, or to a folder the app owns")
    return None


_INTO_ROOT = re.compile(r"(?:^|:)/root(?:/|:|$)")


def _env_into_root(ctx: Context, stage: Stage) -> str | None:
    """An ENV of the start that points into root's home (``PATH=/root/.local/bin:…``, ``HOME=/root``):
    /root is mode 700, so a user could not reach it (unless /root is the app's own WORKDIR)."""
    workdir = ctx.facts.app_workdir(stage) or ""
    if workdir == "/root" or workdir.startswith("/root/"):
        return None
    # as written: ``/root/.local/bin:$PATH`` has no known value here
    raw = {name: value for st in ctx.facts.chain(stage) for inst in st.instructions if inst.keyword == "ENV"
           for name, value in env_written(inst)}
    env = ctx.facts.final(stage).env
    for name, value in sorted(raw.items()):
        value = env.get(name) or value
        if name in env and _INTO_ROOT.search(value):
            return (f"ENV {name} points into /root ({value}), root's home, which a non-root user cannot enter; "
                    "install there no more (pip without --user, a virtualenv in /opt) and run again")
    return None


def _start_writes(ctx: Context, stage: Stage, chain: list[Stage], workdir: str | None,
                  made_dirs: list[str]) -> tuple[list[str], list[str], list[str]]:
    """What the start writes that the user must own: (folders owned themselves, folders owned with what
    is in them, files the image has), system places left out (see :func:`_system_write`). A folder the
    start makes itself (``mkdir X``, ``git clone``) is not made before it: its parent is owned."""
    use = ctx.start_use(stage)
    parents: list[str] = []
    trees: list[str] = []
    files: list[str] = []

    def in_image(path: str) -> bool:
        return path == workdir or path in made_dirs or context_source(ctx, chain, path, workdir or "/") is not None

    for w in use.writes if use is not None else ():
        path = w.path.rstrip("/") or "/"
        if (path + "/").startswith((*_SYSTEM_PATHS, "/tmp/", "/dev/", "/proc/", "/home/")) or path == "/":
            continue
        parent = posixpath.dirname(path) or "/"
        if w.is_dir and (w.precreate or in_image(path)):
            trees.append(path)
            continue
        if parent != "/":
            parents.append(parent)
        if not w.is_dir and in_image(path):
            files.append(path)  # the image has it (a COPY from the context): the user rewrites it
    return parents, trees, files


#: environment variables that apps read as the port to listen on (PORT: Heroku, Cloud Run, Express,
#: Flask/gunicorn examples; the others by the same convention)
_PORT_ENV = re.compile(r"^(?:PORT|HTTP_PORT|HTTPS_PORT|SERVER_PORT|APP_PORT|LISTEN_PORT|WEB_PORT)$")


def _privileged_env_port(ctx: Context, stage: Stage) -> tuple[str, int] | None:
    """``ENV PORT=80`` (or another port variable) in force at the start, with a value below 1024."""
    start = stage.last("CMD") or stage.last("ENTRYPOINT") or stage.instructions[-1]
    env = ctx.facts.before(start).env
    for name, value in sorted(env.items()):
        if _PORT_ENV.match(name) and value and value.strip().isdigit() and 0 < int(value) < 1024:
            return name, int(value)
    return None


def _privileged_port(stage: Stage, image_name: str, table: dict) -> int | None:
    ports: list[int] = []
    for inst in stage.instructions:
        if inst.keyword == "EXPOSE":
            for w in inst.arguments.split():
                num = w.split("/", 1)[0]
                if num.isdigit():
                    ports.append(int(num))
        elif inst.keyword in {"CMD", "ENTRYPOINT"}:
            words = list(inst.exec_args or ()) or inst.arguments.split()
            for i, w in enumerate(words):
                if _PORT_FLAG.match(w):
                    val = w.split("=", 1)[1] if "=" in w else (words[i + 1] if i + 1 < len(words) else "")
                    m = _PORT_IN_WORD.search(val)
                    if m:
                        ports.append(int(m.group(1)))
    low = [p for p in ports if 0 < p < 1024]
    if low:
        return low[0]
    ref = parse_image(image_name)
    server = first_match(table["privileged_servers"], ref)
    if server and not ports:
        return int(server["port"])
    return None


def _add_user(
    ctx: Context,
    stage: Stage,
    chain: list[Stage],
    image: ImageRef,
    existing: dict | None,
    last_user: Instruction | None,
) -> Iterator[Fix | Note]:
    table = merged("users", ctx.config.tables.get("users"))
    family = ctx.base_image(stage).family
    if family is None:
        yield Note(ID, f"cannot tell how to create a user in {image.raw!r} (unknown base image family); "
                       "add a USER with a numeric uid yourself, or configure the image's family",
                   stage.start_line, refusal=True)
        return
    created = _created_users(ctx, chain)
    unpinned = _unpinned_users(ctx, chain)
    chowns = [f.value or "" for st in chain for i in st.instructions if i.keyword in {"COPY", "ADD"}
              for f in i.flags if f.name == "chown"]
    named = [c.split(":", 1)[0] for c in chowns if c and not c.split(":", 1)[0].isdigit() and "$" not in c]
    foreign = [n for n in named if n not in created and n not in _ROOT_NAMES and n not in unpinned]
    if foreign and not created:
        yield Note(ID, f"files are owned by user {foreign[-1]}, which the base image provides with a uid this "
                       f"Dockerfile does not show; add `USER <uid of {foreign[-1]}>`", stage.start_line,
                   refusal=True)
        return
    numeric = [c for c in chowns if c.split(":", 1)[0].isdigit() and c.split(":", 1)[0] != "0"]
    nl = ctx.tree.newline
    create_cmd = None
    home: str | None = None  #: the user's home, when known (where root's settings are carried)
    if created:
        user = list(created.values())[-1]
        uid, gid = user.uid, user.gid
    elif unpinned:
        yield Note(ID, f"the stage creates user {unpinned[-1]} without a fixed uid; add `-u <uid>` to it and "
                       "`USER <uid>`", stage.start_line, refusal=True)
        return
    elif numeric:
        # the Dockerfile already hands its files to this uid: run as it
        uid_s, _, gid_s = numeric[-1].partition(":")
        uid, gid = int(uid_s), int(gid_s) if gid_s.isdigit() else None
    elif existing is not None:
        uid, gid = int(existing["uid"]), int(existing["gid"])
        home = existing.get("home")
    else:
        uid, gid = ctx.config.uid, ctx.config.gid
        template = table["families"].get(family, {}).get("create") if family in table["families"] else None
        if template:
            create_cmd = template.format(uid=uid, gid=gid, name="app")
            home = "/home/app"  # the family templates make it (--create-home, adduser -h)
    has_shell = family not in {"distroless", "scratch"}
    workdir = ctx.facts.app_workdir(stage)
    volumes = _volumes(stage)
    made_dirs, made_files = _made_paths(ctx, chain, workdir)
    start_parents, start_trees, start_files = _start_writes(ctx, stage, chain, workdir, made_dirs)
    databases = _sqlite_databases(ctx, chain, workdir)
    owned = [d for d in [workdir, *volumes, *start_parents, *(posixpath.dirname(f) for f in databases)]
             if d and d != "/"]
    made_files += [*start_files, *databases]
    # folders a build stage made for the app and the final stage copies from it (a split's runtime)
    for inst in stage.instructions:
        source = ctx.facts.copy_source(inst) if inst.keyword == "COPY" else None
        if source is not None and len(inst.argv) == 2:
            built = ctx.facts.chain(source)
            built_dirs, _files = _made_paths(ctx, built, ctx.facts.app_workdir(source))
            if inst.argv[0].rstrip("/") in built_dirs and inst.argv[1].rstrip("/") == inst.argv[0].rstrip("/"):
                made_dirs.append(inst.argv[0].rstrip("/"))
    framework = [*(_framework_dirs(ctx, stage, workdir, table["writable_dirs"]) if workdir else []), *made_dirs]
    framework = [d for d in dict.fromkeys(framework) if d not in owned]
    # folders the start writes into with what is in them: owned recursively, not twice
    framework += [d for d in dict.fromkeys(start_trees) if d not in framework]
    owned = [d for d in owned if d not in start_trees]
    files = [f for f in made_files if not any(f.startswith(d.rstrip("/") + "/") for d in framework)]
    if (owned or framework or files) and has_shell:
        grp = f":{gid}" if gid is not None else ""
        own = []
        if owned:
            dirs = " ".join(shlex.quote(d) for d in dict.fromkeys(owned))
            own.append(f"mkdir -p {dirs} && chown {uid}{grp} {dirs}")
        if framework:
            dirs = " ".join(shlex.quote(d) for d in framework)
            own.append(f"mkdir -p {dirs} && chown -R {uid}{grp} {dirs}")
            owned += framework
        if files:
            own.append(f"chown {uid}{grp} {' '.join(shlex.quote(f) for f in files)}")
            owned += files
        create_cmd = " && ".join([*([create_cmd] if create_cmd else []), *own])
    state = [h.path for h in root_home_state(ctx, chain)]
    carried: list[str] = []
    if state and has_shell and home:
        grp = f":{gid}" if gid is not None else ""
        carry = [f"mkdir -p {shlex.quote(posixpath.join(home, d))}"
                 for d in dict.fromkeys(posixpath.dirname(p) for p in state) if d]
        for p in state:
            dest = posixpath.join(home, posixpath.dirname(p)).rstrip("/") + "/"
            carry.append(f"if [ -e /root/{shlex.quote(p)} ]; then cp -a /root/{shlex.quote(p)} {shlex.quote(dest)}; fi")
        carry.append(f"chown -R {uid}{grp} {shlex.quote(home)}")
        create_cmd = " && ".join([*([create_cmd] if create_cmd else []), *carry])
        carried = [f"~/{p}" for p in state]
    user_spec = f"{uid}:{gid}" if gid is not None else str(uid)
    run = _run_lines(ctx, create_cmd) if create_cmd else ""
    text = f"{run}USER {user_spec}{nl}"
    anchor = _anchor(stage)
    if last_user is not None and last_user in stage.instructions and last_user.start > anchor.start:
        # a trailing USER root that nothing after it needs: replace it
        edit = Edit(last_user.start, last_user.end, _with_ending(text, last_user.raw, nl))
    else:
        edit = _insert_after(ctx, anchor, text)
    if created:
        who = "the user the Dockerfile creates"
    elif existing:
        who = f"the existing user of {image.raw}"
    elif numeric:
        who = "the uid the Dockerfile's COPY --chown uses"
    elif create_cmd and family in table["families"] and table["families"][family].get("create"):
        who = f"created with the {family} family's tools"
    else:
        who = "numeric only: the image has no user tools, and the kernel needs no passwd entry"
    msg = f"run the final stage as non-root {user_spec} ({who})"
    if owned and has_shell:
        msg += f"; it owns {', '.join(dict.fromkeys(owned))}"
    if carried:
        msg += f"; root's settings made by the build ({', '.join(carried)}) are copied to its home {home}"
    msg += "; unsafe: check that the app writes nowhere else and needs no root-only resource"
    yield Fix(ID, msg, (edit,), Applicability.UNSAFE, anchor.start_line)
    if state and not carried:
        yield Note(ID, f"the build writes settings into root's home ({', '.join('~/' + p for p in state)}), which "
                       f"user {user_spec} will not read (its HOME is not /root); make them system-wide if the app "
                       "needs them at run time", anchor.start_line)


def _config_copies(ctx: Context, chain: list[Stage], config_dir: str) -> dict[str, str | None]:
    """Files the stages COPY/ADD from the build context into ``config_dir``: their path there ->
    their text (None when it cannot be read: a folder's files are listed one by one)."""
    out: dict[str, str | None] = {}
    for copy in ctx.facts.context_copies(chain):
        dest_abs = copy.dest
        if dest_abs != config_dir and not dest_abs.startswith(config_dir + "/"):
            continue
        for src in copy.sources:
            folder = inside(ctx.context_dir, src)
            if folder is not None and folder.is_dir():
                for f in sorted(p for p in folder.rglob("*") if p.is_file()):
                    rel = f.relative_to(folder).as_posix()
                    out[f"{dest_abs}/{rel}"] = ctx.read_side(f"{src.rstrip('/')}/{rel}")
            else:
                target = posixpath.join(dest_abs, posixpath.basename(src)) if copy.into_dir else dest_abs
                out[target] = ctx.read_side(src.removeprefix("./"))
    return out


def _unprivileged(ctx: Context, stage: Stage, chain: list[Stage], recipe: dict, server: str) -> Fix | None:
    """The server image made to run as its own unprivileged user (the publisher's recipe), when the
    Dockerfile replaces the configuration that listens on 80 and every port it sets is >= 1024."""
    ports = [p for inst in stage.instructions if inst.keyword == "EXPOSE"
             for p in (w.split("/", 1)[0] for w in inst.arguments.split()) if p.isdigit()]
    if any(int(p) < 1024 for p in ports):
        return None
    config_dir = recipe["config_dir"]
    copies = _config_copies(ctx, chain, config_dir)
    replaced = [f"{config_dir}/{r}" for r in recipe["replaces"] if f"{config_dir}/{r}" in copies]
    if not replaced or any(text is None for text in copies.values()):
        return None
    listen = re.compile(recipe["listen"], re.MULTILINE)
    found = [int(m) for text in copies.values() for m in listen.findall(text or "")]
    if not found or any(p < 1024 for p in found):
        return None
    uid, gid = int(recipe["uid"]), int(recipe["gid"])
    anchor = _anchor(stage)
    text = f"{_run_lines(ctx, recipe['run'].format(uid=uid, gid=gid))}USER {uid}:{gid}{ctx.tree.newline}"
    edit = _insert_after(ctx, anchor, text)
    return Fix(ID, f"{server} runs unprivileged as its own user {uid}:{gid} (the publisher's recipe: no `user` "
                   f"directive, the pid file in /tmp, its cache owned by the user); every port it listens on "
                   f"({', '.join(map(str, sorted(set(found))))}) is >= 1024; unsafe: check that nothing else "
                   "it runs at start needs root", (edit,), Applicability.UNSAFE, anchor.start_line)


def _pin_default_user(ctx: Context, stage: Stage, existing: dict) -> Iterator[Fix]:
    """The image already runs as its unprivileged user: say so with its numeric id (safe: same user),
    so that linters and Kubernetes' runAsNonRoot can see it in the Dockerfile."""
    user_spec = f"{existing['uid']}:{existing['gid']}"
    anchor = _anchor(stage)
    edit = _insert_after(ctx, anchor, f"USER {user_spec}{ctx.tree.newline}")
    yield Fix(ID, f"USER {user_spec}: the image's own unprivileged user, by number (it already runs as it)",
              (edit,), Applicability.SAFE, anchor.start_line)


def _run_lines(ctx: Context, command: str) -> str:
    """``RUN a && b`` as the file writes it: one ``&& b`` per continuation line, the file's newline."""
    nl = ctx.tree.newline
    return "RUN " + f" {ctx.tree.escape}{nl} && ".join(command.split(" && ")) + nl


def _insert_after(ctx: Context, anchor: Instruction, text: str) -> Edit:
    """Insert ``text`` (whole lines) after ``anchor``; an anchor on the last line without a newline
    keeps the file without a final newline."""
    nl = ctx.tree.newline
    if ctx.text.endswith("\n") or anchor.end < len(ctx.text):
        return Edit.insert(anchor.end, text)
    return Edit.insert(anchor.end, nl + text[: -len(nl)])


def _with_ending(text: str, replaced_raw: str, nl: str) -> str:
    """Keep the replaced line's ending state (no newline at end of file stays that way)."""
    if replaced_raw.endswith("\n"):
        return text
    return text[: -len(nl)] if text.endswith(nl) else text


def _unpinned_users(ctx: Context, stages: list[Stage]) -> list[str]:
    out = []
    pinned = _created_users(ctx, stages)
    for _run, argv in _run_commands(ctx, stages):
        if argv and argv[0].rsplit("/", 1)[-1] in {"useradd", "adduser"}:
            names = [a for i, a in enumerate(argv[1:], 1) if not a.startswith("-")
                     and not (argv[i - 1].startswith("-") and argv[i - 1] in _VALUE_OPTIONS)]
            if names and names[-1] not in pinned:
                out.append(names[-1])
    return out


def _framework_dirs(ctx: Context, stage: Stage, workdir: str, rows: list[dict]) -> list[str]:
    """Folders under WORKDIR that the stage's framework writes at run time (data table)."""
    words: set[str] = set()
    use = ctx.start_use(stage)
    for cmd in use.commands if use is not None else ():
        for w in cmd.argv:
            words.update(w.replace("/", " ").split())
    words.update(ctx.facts.final(stage).env)  # ENV names in force
    out: list[str] = []
    for row in rows:
        if words & set(row["markers"]):
            out += [workdir.rstrip("/") + "/" + d for d in row["dirs"]]
    return list(dict.fromkeys(out))


#: where a folder or file the Dockerfile makes (mkdir, touch) is the app's to write: handed to the user
_APP_PLACES = ("/var/log/", "/var/lib/", "/var/cache/", "/var/run/", "/run/", "/data", "/srv/", "/app", "/opt/",
               "/home/", "/tmp/", "/var/www/")
#: system places under those that belong to the system (package manager state)
_SYSTEM_PLACES = ("/var/lib/apt", "/var/lib/dpkg", "/var/cache/apt", "/var/cache/debconf", "/var/lib/rpm",
                  "/var/cache/apk", "/var/lib/dnf", "/var/cache/dnf", "/var/cache/yum")


def _made_paths(ctx: Context, chain: list[Stage], workdir: str | None, anywhere: bool = False
                ) -> tuple[list[str], list[str]]:
    """Folders (``mkdir``) and files (``touch``) the stages make for the app (under the app's WORKDIR,
    or in a place apps write: logs, state, caches, data; ``anywhere``: every absolute one), each relative
    path taken in the WORKDIR of its own RUN: the user gets them (folders recursively)."""
    dirs: list[str] = []
    files: list[str] = []
    for run, argv in _run_commands(ctx, chain):
        if not argv or _base(argv[0]) not in {"mkdir", "touch"}:
            continue
        for arg in argv[1:]:
            if arg.startswith("-") or "$" in arg or "*" in arg or not arg:
                continue
            made = arg if arg.startswith("/") else run.path(arg) if run.workdir not in {None, "/"} else None
            path = (made or "").rstrip("/")
            if not path or path.startswith(_SYSTEM_PLACES):
                continue
            under_workdir = bool(workdir) and workdir != "/" and path.startswith(workdir.rstrip("/") + "/")
            if anywhere or under_workdir or path.startswith(_APP_PLACES):
                (dirs if _base(argv[0]) == "mkdir" else files).append(path)
    return dirs, list(dict.fromkeys(files))


#: SQLite database files: opened read-write by default, with a journal made beside them
_SQLITE = re.compile(r"\.(?:sqlite3?|db)$")
_DJANGO_SQLITE = re.compile(r"django\.db\.backends\.sqlite3")
_DJANGO_DEFAULT_DB = re.compile(r"""BASE_DIR\s*/\s*['"]([\w.-]+\.sqlite3)['"]|os\.path\.join\(\s*BASE_DIR\s*,\s*"""
                                r"""['"]([\w.-]+\.sqlite3)['"]\s*\)""")


def _sqlite_databases(ctx: Context, chain: list[Stage], workdir: str | None) -> list[str]:
    """SQLite databases the image holds for the app: made by a RUN (``sqlite3 FILE``, Django's ``manage.py
    migrate`` on its default ``BASE_DIR / "db.sqlite3"``) or copied from the build context (``*.db``,
    ``*.sqlite3``), under the app's WORKDIR or a place apps write. SQLite writes the file and a journal
    beside it: the user gets the file and its folder."""
    out: list[str] = []

    def app_place(path: str) -> bool:
        return bool(workdir and workdir != "/" and path.startswith(workdir.rstrip("/") + "/")) or \
            path.startswith(_APP_PLACES)

    settings = None
    for run, argv in _run_commands(ctx, chain):
        prog = _base(argv[0]) if argv else ""
        if prog == "sqlite3":
            target = next((a for a in argv[1:] if not a.startswith("-")), None)
            path = run.path(target) if target and _SQLITE.search(target) and "$" not in target else None
            if path and app_place(path):
                out.append(path)
        elif "manage.py" in {_base(a) for a in argv} and "migrate" in argv and run.workdir:
            if settings is None:
                settings = "\n".join(t for c in ctx.facts.context_copies(chain) for src in c.sources
                                     for rel in settings_files(ctx, src) if (t := ctx.read_side(rel)))
            m = _DJANGO_DEFAULT_DB.search(settings) if _DJANGO_SQLITE.search(settings) else None
            path = run.path(m.group(1) or m.group(2)) if m else None
            if path and app_place(path):
                out.append(path)
    for copy in ctx.facts.context_copies(chain):
        for src in copy.sources:
            if _SQLITE.search(src.rstrip("/")) and "*" not in src:
                dest = posixpath.join(copy.dest, _base(src)) if copy.into_dir else copy.dest
                if app_place(dest) and ctx.context_file(src.removeprefix("./")) is not None:
                    out.append(dest)
    return list(dict.fromkeys(out))


def _volumes(stage: Stage) -> list[str]:
    out: list[str] = []
    for inst in stage.instructions:
        if inst.keyword == "VOLUME":
            vals = list(inst.exec_args) if inst.exec_args is not None else inst.arguments.split()
            out.extend(v for v in vals if v.startswith("/") and "$" not in v)
    return out


def _anchor(stage: Stage) -> Instruction:
    """The last instruction that needs root (or builds the filesystem); USER goes right after it."""
    anchor = stage.from_instruction
    for inst in stage.instructions:
        if inst.keyword in {"RUN", "COPY", "ADD", "WORKDIR"}:
            anchor = inst
    return anchor


TRANSFORM = NonrootTransform()
