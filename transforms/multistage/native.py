"""Runtime libraries of the app's own native dependencies, for ``multistage``'s Python, Ruby and Node
runtimes: a package such as ``psycopg2``, ``mysqlclient``, ``pg`` or ``mysql2`` compiles against a system
library when it is installed, which the full language images (``python:3.x``, ``ruby:3.x``, ``node:x``)
ship without any ``apt-get install …-dev`` in the Dockerfile — the slim or distroless runtime then lacks
it. The app's dependencies are read from what the build installs: ``pip install NAME`` arguments and the
requirement files it names, ``pyproject.toml``, ``Pipfile``, ``setup.py``; ``Gemfile``/``Gemfile.lock``;
``package.json`` ``dependencies`` and ``npm install NAME`` arguments. The table is
``data/native.yaml`` (dated). A dependency file that is absent from the build context adds nothing.
"""

from __future__ import annotations

import contextlib
import json
import re

from rewriter.core.shell import Command
from rewriter.facts import Context
from transforms._data import load

_MANAGER = {"python": "pip", "ruby": "gem", "node": "npm"}


def _normal(name: str) -> str:
    """A package name as the table keys it (PEP 503 for pip: lower case, runs of ``-_.`` as ``-``)."""
    return re.sub(r"[-_.]+", "-", name.strip().lower())


def _requirement_name(line: str) -> str | None:
    line = re.split(r"(?:^|\s)#(?!egg=)", line, maxsplit=1)[0].strip()
    if not line or line.startswith("-"):
        return None
    egg = re.search(r"#egg=([A-Za-z0-9._-]+)", line)
    if egg:
        return egg.group(1)
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return m.group(1) if m and "://" not in line else None


def _pip_names(ctx: Context, runs: list[tuple[object, Command]]) -> set[str]:
    names: set[str] = set()
    files: list[str] = []
    for _i, c in runs:
        argv = list(c.argv)
        if c.name.rsplit("/", 1)[-1].startswith("python") and argv[1:3] == ["-m", "pip"]:
            argv = argv[2:]
        if not argv or argv[0].rsplit("/", 1)[-1] not in {"pip", "pip3"} or "install" not in argv:
            continue
        args = argv[argv.index("install") + 1:]
        skip = False
        for i, a in enumerate(args):
            if skip:
                skip = False
                continue
            if a in {"-r", "--requirement", "-c", "--constraint"} and i + 1 < len(args):
                files.append(args[i + 1])
                skip = True
            elif a.startswith(("-r", "--requirement=")):
                files.append(a.split("=", 1)[1] if "=" in a else a[2:])
            elif a in {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--target", "--prefix"}:
                skip = True
            elif not a.startswith("-") and "$" not in a and a not in {".", "./"}:
                name = _requirement_name(a)
                if name:
                    names.add(name)
    for rel in dict.fromkeys(files):
        for candidate in (rel.lstrip("./"), rel.rsplit("/", 1)[-1]):
            text = ctx.read_side(candidate)
            if text is not None:
                names |= {n for line in text.splitlines() if (n := _requirement_name(line))}
                break
    import tomllib  # here, not at start-up: only a Python split reads TOML (a few ms)

    text = ctx.read_side("pyproject.toml")
    if text:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            data = {}
        deps = data.get("project", {}).get("dependencies", [])
        names |= {n for d in deps if isinstance(d, str) and (n := _requirement_name(d))}
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
        names |= {k for k in poetry if isinstance(k, str) and k != "python"}
    text = ctx.read_side("Pipfile")
    if text:
        with contextlib.suppress(tomllib.TOMLDecodeError):
            names |= set(tomllib.loads(text).get("packages", {}))
    text = ctx.read_side("setup.py")
    m = re.search(r"install_requires\s*=\s*\[([^\]]*)\]", text or "")
    if m:
        names |= {n for s in re.findall(r"['\"]([^'\"]+)['\"]", m.group(1)) if (n := _requirement_name(s))}
    return names


def _gem_names(ctx: Context) -> set[str]:
    names = set(re.findall(r"(?m)^\s*gem\s+['\"]([A-Za-z0-9._-]+)['\"]", ctx.read_side("Gemfile") or ""))
    lock = ctx.read_side("Gemfile.lock") or ""
    names |= set(re.findall(r"(?m)^    ([A-Za-z0-9._-]+) \(", lock))
    return names


def _npm_names(ctx: Context, runs: list[tuple[object, Command]]) -> set[str]:
    names: set[str] = set()
    try:
        deps = json.loads(ctx.read_side("package.json") or "{}").get("dependencies") or {}
    except (ValueError, AttributeError):
        deps = {}
    if isinstance(deps, dict):
        names |= set(deps)
    for _i, c in runs:
        if c.name in {"npm", "yarn", "pnpm"} and len(c.argv) > 2 and c.argv[1] in {"install", "i", "add"}:
            names |= {re.sub(r"(?<=.)@.*$", "", a) for a in c.argv[2:] if not a.startswith("-") and "$" not in a}
    return names


def app_libraries(ctx: Context, stack: str, runs: list[tuple[object, Command]], installer: str) -> \
        list[tuple[str, str]]:
    """(dependency, runtime library package) pairs the app's native dependencies need on a runtime whose
    package manager is ``installer`` (``apt`` or ``apk``), in the table's order."""
    manager = _MANAGER.get(stack)
    if manager is None:
        return []
    table = load("native")[manager]
    if manager == "pip":
        names = {_normal(n) for n in _pip_names(ctx, runs)}
    elif manager == "gem":
        names = _gem_names(ctx)
    else:
        names = _npm_names(ctx, runs)
    found = [(dep, lib) for dep, row in table.items() if (_normal(dep) if manager == "pip" else dep) in names
             for lib in row[installer]]
    # packages the configuration (or migrate, from the libraries the app's files link) adds
    found += [("native code (runtime-packages)", lib) for lib in ctx.config.runtime_packages.get(installer, ())
              if lib not in {x for _d, x in found}]
    return found
