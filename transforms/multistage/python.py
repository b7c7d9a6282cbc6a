"""The Python stack of ``multistage``: the site-packages of a ``pip``/``poetry`` install (and of the
virtualenvs the builder makes) and the app folder move to distroless ``python3`` for the version
distroless publishes, else to the same version's ``-slim`` image with the runtime libraries of the
``-dev`` packages the builder installed; a console script starts as ``python3 -m MODULE``. It raises
``_NotDistroless`` when only a same-family runtime can take the app.
"""

from __future__ import annotations

import re

from rewriter.core.shell import Command
from rewriter.core.syntax import Stage
from rewriter.facts import Context, ImageRef
from rewriter.facts.commands import package_call
from transforms.multistage.native import app_libraries
from transforms.multistage.plan import (
    Plan,
    Refuse,
    _distroless,
    _glibc_ok,
    _NotDistroless,
    _option,
    _override,
    _stage_value,
    _version,
    _workdir,
    end_of_life_note,
    runtimes,
    virtualenvs,
)


def _python(ctx: Context, stage: Stage, image: ImageRef, runs: list, entry: list[str]) -> Plan:
    version = _version(image.tag, r"(\d+\.\d+)")
    if version is None:
        raise _NotDistroless(f"cannot tell the Python version of {image.raw}; pin a version tag (python:3.13-slim)")
    installs = [c for _i, c in runs if _is_pip_install(c)]
    poetry = [c for _i, c in runs if c.name == "poetry" and "install" in c.argv]
    if poetry and not _poetry_system(ctx, stage, runs):
        raise Refuse("poetry installs into a virtualenv whose interpreter path is the builder's; set "
                      "POETRY_VIRTUALENVS_CREATE=false (or export requirements) and run again")
    if not installs and not poetry:
        raise Refuse("python image without `pip install`/`poetry install`: nothing to split")
    if any(_option(c.argv, "--target") or _option(c.argv, "--prefix") or "--user" in c.argv for c in installs):
        raise Refuse("pip installs to a custom location (--target/--prefix/--user); move it by hand")
    row = runtimes()["python"].get(version)
    if row is None:
        raise _NotDistroless(f"distroless publishes no Python {version} image (the split keeps the version)")
    if not row.get("distroless") and image.short_name == "python" and (image.tag or "").endswith("-slim") and \
            row["image"].split(":")[1] == image.tag:
        raise _NotDistroless(f"{image.raw} is already the slim runtime that would be used (distroless needs "
                             "Python 3.13)")
    runtime_image = _override(ctx, f"python-{version}", row["image"])
    plan = Plan("python", runtime_image, notes=end_of_life_note("python", version))
    if not _glibc_ok(image, _distroless("base")["glibc"]):
        raise _NotDistroless(f"the builder {image.raw} has a newer glibc than the runtime")
    libs = _runtime_libraries(runs, bool(row.get("distroless")))
    for dep, lib in app_libraries(ctx, "python", runs, "apt"):
        if row.get("distroless") and lib not in runtimes()["distroless_libraries"]:
            raise _NotDistroless(f"the app's {dep} links {lib}, which distroless images do not have")
        if not row.get("distroless") and lib not in libs:
            libs.append(lib)
            plan.notes.append(f"the app's {dep} links {lib}: the runtime installs it")
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
        raise Refuse("the app has no WORKDIR: cannot tell which files are the application")
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
