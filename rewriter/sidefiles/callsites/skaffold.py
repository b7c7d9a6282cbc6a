"""skaffold ``build.artifacts[].docker``: ``secrets`` (``id`` + ``src``/``env``), ``ssh`` and ``buildArgs``.

An artifact's ``context`` (default ``.``) is relative to skaffold.yaml, ``docker.dockerfile``
(default ``Dockerfile``) to the context. A ``buildArgs`` entry ``NAME: "{{.VAR}}"`` (skaffold's
template of an environment variable) becomes a secret ``env: VAR`` and its line goes (the whole
``buildArgs`` when it was the only one); a literal value leaves the artifact alone. New lines are
appended to the ``docker`` block in its own indentation; the result must load again.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rewriter.core.buildsecret import BuildSecret
from rewriter.sidefiles.callsites import Target, apply
from rewriter.sidefiles.callsites.scripts import line_starts
from rewriter.sidefiles.callsites.workflows import _block, _rows

Found = list[tuple[int, str, str]]
_OTHER_BUILDERS = ("jib", "buildpacks", "kaniko", "bazel", "custom", "ko")


def rewrite(text: str, *, path: Path, level: Path, target: Target,
            secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    data = YAML().load(text.replace("\r\n", "\n"))
    build = data.get("build") if isinstance(data, CommentedMap) else None
    artifacts = build.get("artifacts") if isinstance(build, CommentedMap) else None
    if not isinstance(artifacts, CommentedSeq):
        return text, []
    starts = line_starts(text)
    rows = _rows(text, starts)
    eol = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []
    found: Found = []
    for art in artifacts:
        if not isinstance(art, CommentedMap) or any(k in art for k in _OTHER_BUILDERS):
            continue
        line = art.lc.line + 1
        docker = art.get("docker")
        context = str(art.get("context", "."))
        dockerfile = str(docker.get("dockerfile", "Dockerfile")) if isinstance(docker, CommentedMap) else "Dockerfile"
        if "{{" in context + dockerfile:
            found.append((line, "left", "the Dockerfile it builds is templated"))
            continue
        if not target.builds(path.parent, context, dockerfile, file_in_context=True):
            continue
        if not isinstance(docker, CommentedMap) or not docker or docker.fa.flow_style():
            found.append((line, "left", "it has no block docker: section to add the secrets to"))
            continue
        status, reason, mine = _artifact(text, starts, rows, docker, context, secrets, eol)
        found.append((line, status, reason))
        edits += mine
    new = apply(text, edits)
    if new != text:
        YAML().load(new.replace("\r\n", "\n"))
    return new, found


def _artifact(text: str, starts: list[int], rows: list[str], docker: CommentedMap, context: str,
              secrets: Sequence[BuildSecret], eol: str) -> tuple[str, str, list[tuple[int, int, str]]]:
    first = next(iter(docker))
    col = docker.lc.key(first)[1]
    ind = " " * col
    have = {str(e.get("id")) for e in docker.get("secrets") or [] if isinstance(e, CommentedMap)}
    edits: list[tuple[int, int, str]] = []
    entries: list[tuple[str, str, str]] = []
    ssh = False
    for s in secrets:
        if s.kind == "ssh":
            ssh = ssh or "ssh" not in docker
            continue
        if s.id in have:
            continue
        if s.file is not None:
            entries.append((s.id, "src", posixpath.normpath(posixpath.join(context, s.file))))
            continue
        name = str(s.environment)
        args = docker.get("buildArgs")
        if not isinstance(args, CommentedMap) or name not in args:
            return "left", f"it passes no buildArgs {name}, so there is no source for secret {s.id}", []
        var = re.fullmatch(r"\{\{\s*\.(\w+)\s*\}\}", str(args[name]).strip())
        if var is None:
            return "left", f"it passes {name} as a literal value; move that value into an environment variable", []
        if args.fa.flow_style():
            return "left", "its buildArgs is a flow mapping", []
        entries.append((s.id, "env", var.group(1)))
        a_line = docker.lc.key("buildArgs")[0]
        n_line = args.lc.key(name)[0]
        if len(args) == 1:
            lo, last = a_line, _block(rows, a_line, col)
        else:
            lo, last = n_line, n_line
        edits.append((starts[lo], starts[last + 1] if last + 1 < len(starts) else len(text), ""))
    new_rows: list[str] = []
    if entries:
        current = docker.get("secrets")
        lines = [r for i, k, v in entries for r in (f"- id: {i}", f"  {k}: {v}")]
        if isinstance(current, CommentedSeq) and current and not current.fa.flow_style():
            s_line, _ = docker.lc.key("secrets")
            last = _block(rows, s_line, col - 1)
            dash = rows[current.lc.item(0)[0]].index("-")
            pos = starts[last + 1] if last + 1 < len(starts) else len(text)
            edits.append((pos, pos, "".join(" " * dash + r + eol for r in lines)))
        elif current is None:
            new_rows += [f"{ind}secrets:", *(f"{ind}  {r}" for r in lines)]
        else:
            return "left", "its docker.secrets is not a block list", []
    if ssh:
        new_rows.append(f"{ind}ssh: default")
    if new_rows:
        d_last = _block(rows, docker.lc.key(first)[0] - 1, col - 1)
        pos = starts[d_last + 1] if d_last + 1 < len(starts) else len(text)
        edits.append((pos, pos, "".join(r + eol for r in new_rows)))
    return ("changed", "", edits) if edits else ("unchanged", "", [])
