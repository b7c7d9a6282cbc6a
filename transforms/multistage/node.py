"""The Node stack of ``multistage``: the app folder with production ``node_modules`` moves to
distroless ``nodejs`` (``npm prune --omit=dev`` is added to the builder when it installed dev
dependencies), and ``npm start``/``npm run`` is resolved through ``package.json`` to the ``node …``
command it runs. Its install and prune helpers also serve the planner's checks of a same-family Node
split.
"""

from __future__ import annotations

import json

from rewriter.core.edits import Edit
from rewriter.core.shell import Command
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts import Context, ImageRef
from rewriter.facts.start import exec_argv
from transforms.multistage.plan import (
    Plan,
    Refuse,
    _NotDistroless,
    _override,
    _stage_value,
    _version,
    _workdir,
    end_of_life_note,
    runtimes,
)


def _node(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> Plan:
    version = _version(image.tag, r"(\d+)")
    if version is None:
        raise _NotDistroless(f"cannot tell the Node version of {image.raw}; pin a version tag (node:22)")
    installs = _node_installs(runs)
    if not installs:
        raise Refuse("node image without `npm ci`/`npm install`/`yarn install`: nothing to split")
    row = runtimes()["node"].get(version)
    if row is None:
        raise _NotDistroless(f"distroless publishes no Node {version} image (the split keeps the version)")
    runtime_image = _override(ctx, f"node-{version}", row["image"])
    plan = Plan("node", runtime_image, notes=end_of_life_note("node", version))
    workdir = _workdir(ctx, stage)
    if workdir == "/":
        raise Refuse("the app has no WORKDIR: cannot tell which files are the application")
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


def _node_installs(runs: list) -> list[Command]:
    """The ``npm ci``/``npm install``/``yarn install``/``pnpm install`` commands of the stage."""
    return [c for _i, c in runs if c.name in {"npm", "yarn", "pnpm"} and len(c.argv) > 1
            and c.argv[1] in {"ci", "install", "i"}]


def _production_install(ctx: Context, stage: Stage, installs: list[Command]) -> bool:
    """Do the installs leave dev dependencies out (``--omit=dev``/``--production``, or ``NODE_ENV=production``
    set by an ENV or an ARG default of the stage)?"""
    return any("--omit=dev" in c.argv or "--production" in c.argv or "--prod" in c.argv for c in installs) or \
        _stage_value(ctx, stage, "NODE_ENV") == "production"


def _prune_edit(ctx: Context, stage: Stage) -> Edit:
    """``RUN npm prune --omit=dev`` after the builder's last RUN (in the file's own newline style)."""
    last = [i for i in stage.instructions if i.keyword == "RUN"][-1]
    return Edit.insert(last.end, _line("RUN npm prune --omit=dev", ctx, last))


def _line(text: str, ctx: Context, after: Instruction) -> str:
    nl = ctx.tree.newline
    return text + nl if after.raw.endswith("\n") else nl + text
