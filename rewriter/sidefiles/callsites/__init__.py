"""The places that build a Dockerfile (call sites), found and rewritten when the build command changes.

When the ``secrets`` codemod moves a secret into a BuildKit mount, the commands that build the image
need ``--secret``/``--ssh`` and no longer the ``--build-arg`` it replaced. :func:`plan` finds the call
sites in the build context and in its parents up to the top of the git work tree, resolves the
Dockerfile each one builds, and rewrites those that build *this* Dockerfile as span edits (every other
byte, comments, quoting, indentation and CRLF included, stays):

* GitHub Actions workflows (``.github/workflows/*.yml``): ``docker/build-push-action`` steps
  (``secrets:``, ``secret-files:``, ``ssh:``; the replaced ``build-args:`` line removed) and build
  commands in ``run:`` steps (:mod:`.workflows`);
* GitLab CI ``script:`` lines, shell scripts, Makefiles and Jenkinsfiles (:mod:`.scripts`,
  :mod:`.shellcmd`);
* ``docker-bake.hcl`` targets (:mod:`.bake`), ``docker-bake.json`` ones (:mod:`.bakejson`) and skaffold
  artifacts (:mod:`.skaffold`).

A call site that builds this Dockerfile but cannot be rewritten (templated, a literal secret value,
outside the build context, which dockerfix never writes) is left alone and listed with the reason
(:class:`Site`). A secret's value is never written: the new flags name files and variables, and a
value the old ``--build-arg`` took from a CI expression is passed the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rewriter.core.buildsecret import BuildSecret

__all__ = ["Site", "Target", "find_files", "git_root", "plan"]

Reader = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Site:
    """One call site: ``path`` relative to the build context (``../…`` above it), 1-based ``line``."""

    path: str
    line: int
    kind: str
    status: str  #: "changed" or "left"
    reason: str = ""

    def describe(self) -> str:
        where = f"{self.path}:{self.line} ({self.kind})"
        if self.status == "changed":
            return f"call site {where} now passes the new build flags"
        return f"call site {where} left alone: {self.reason}"


@dataclass(frozen=True)
class Target:
    """The Dockerfile being rewritten, as an absolute path."""

    dockerfile: Path

    def builds(self, cwd: Path, context: str, file: str | None, *, file_in_context: bool = False) -> bool:
        """Whether a build run in ``cwd`` with ``context`` and ``file`` builds this Dockerfile.

        ``file`` is relative to ``cwd`` (``docker build -f``) or, with ``file_in_context``, to the
        context (bake, skaffold); without it, ``Dockerfile`` (or ``Containerfile``) in the context.
        """
        try:
            ctx = (cwd / context).resolve()
            if file is None:
                names = [ctx / "Dockerfile", ctx / "Containerfile"]
            else:
                names = [(ctx if file_in_context else cwd) / file]
            return any(n.resolve() == self.dockerfile for n in names)
        except (OSError, RuntimeError, ValueError):
            return False


def git_root(start: Path) -> Path | None:
    """The top of the git work tree holding ``start`` (None outside one)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


#: files looked for in each folder from the build context up to the git root, with their kind
NAMES = (
    (".gitlab-ci.yml", "gitlab-ci"), ("Makefile", "makefile"), ("makefile", "makefile"),
    ("GNUmakefile", "makefile"), ("Jenkinsfile", "jenkinsfile"), ("docker-bake.hcl", "bake"),
    ("docker-bake.override.hcl", "bake"), ("docker-bake.json", "bake-json"),
    ("docker-bake.override.json", "bake-json"), ("skaffold.yaml", "skaffold"), ("skaffold.yml", "skaffold"),
)  # fmt: skip
SCRIPT_FOLDERS = (".", "scripts", "script", "ci", "bin")


def find_files(context_dir: Path) -> list[tuple[Path, str, Path]]:
    """``(file, kind, level)`` for every call-site file from ``context_dir`` up to the git root.

    ``level`` is the folder the file was found for (the repository root of a workflow, the folder
    a Makefile runs in). Without a git work tree only the build context is searched.
    """
    start = context_dir.resolve()
    root = git_root(start)
    levels = [start]
    if root is not None and root != start:
        levels += [p for p in start.parents if p == root or root in p.parents]
    out: list[tuple[Path, str, Path]] = []
    seen: set[Path] = set()

    def add(path: Path, kind: str, level: Path) -> None:
        if path.is_file() and path not in seen:
            seen.add(path)
            out.append((path, kind, level))

    for level in levels:
        wf = level / ".github" / "workflows"
        if wf.is_dir():
            for p in sorted(wf.iterdir()):
                if p.suffix in (".yml", ".yaml"):
                    add(p, "workflow", level)
        for name, kind in NAMES:
            add(level / name, kind, level)
        for sub in SCRIPT_FOLDERS:
            folder = level / sub
            if folder.is_dir():
                for p in sorted(folder.glob("*.sh")):
                    add(p, "script", level)
    return out


def plan(
    context_dir: Path, dockerfile: Path, secrets: Sequence[BuildSecret], read: Reader
) -> tuple[dict[str, str], list[Site]]:
    """New texts of the call-site files (relative to ``context_dir``) and every call site of ``dockerfile``.

    ``read`` gives the current text of a file inside the build context; files above it are read
    from disk only to name their call sites.
    """
    target = Target(dockerfile.resolve())
    base = context_dir.resolve()
    texts: dict[str, str] = {}
    sites: list[Site] = []
    for path, kind, level in find_files(base):
        rel = Path(os.path.relpath(path, base)).as_posix()
        inside = not rel.startswith("../")
        try:
            old = read(rel) if inside else path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            old = None
        if old is None:
            continue
        try:
            new, found = _handler(kind)(old, path=path, level=level, target=target, secrets=secrets)
        except Exception as exc:  # a file we cannot read as its kind: leave it, and say so
            sites.append(Site(rel, 1, kind, "left", f"it could not be read as a {kind} file ({type(exc).__name__})"))
            continue
        if not inside:
            sites += [Site(rel, line, kind, "left", "it is outside the build context, which dockerfix never "
                           "writes; add the new flags by hand") for line, status, reason in found
                      if status != "other" and not _unresolved(reason)]
            continue
        for line, status, reason in found:
            if status in ("changed", "left"):
                sites.append(Site(rel, line, kind, status, reason))
        if new != old:
            texts[rel] = new
    return texts, sites


#: the rewriter of each kind of call-site file: (module in this package, function), imported when a
#: file of that kind is found (most repositories have few kinds; the YAML ones load ruamel.yaml)
HANDLERS = {
    "workflow": ("workflows", "rewrite"), "gitlab-ci": ("scripts", "rewrite_gitlab"),
    "makefile": ("scripts", "rewrite_make"), "script": ("scripts", "rewrite_script"),
    "jenkinsfile": ("scripts", "rewrite_jenkinsfile"), "bake": ("bake", "rewrite"),
    "bake-json": ("bakejson", "rewrite"), "skaffold": ("skaffold", "rewrite"),
}  # fmt: skip


def _handler(kind: str) -> Callable[..., tuple[str, list[tuple[int, str, str]]]]:
    import importlib

    module, name = HANDLERS[kind]
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def _unresolved(reason: str) -> bool:
    """Whether a call site was left because it could not be matched to a Dockerfile at all (above the
    build context such a site is most likely another Dockerfile's, so it is not named)."""
    return any(w in reason for w in ("templated", "cannot tell", "no build context", "cannot be read",
                                     "inherits", "not a plain string"))


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def apply(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    """``text`` with non-overlapping ``(start, end, content)`` edits applied."""
    out: list[str] = []
    pos = 0
    for start, end, content in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError("overlapping call-site edits")
        out += [text[pos:start], content]
        pos = end
    out.append(text[pos:])
    return "".join(out)
