"""GitHub Actions workflows: ``docker/build-push-action`` steps and build commands in ``run:`` steps.

The workflow is read with ruamel.yaml (round trip) for the positions of steps and values; the edits
are made on the text, line by line, in the step's own indentation and line ending, and the result
must load again. Steps run in the repository root (the folder holding ``.github``) unless a
``working-directory`` says otherwise; build-push-action's ``context`` defaults to the repository
and its ``file`` to ``{context}/Dockerfile``.

build-push-action inputs: a file secret becomes ``secret-files: "id=path"``, an SSH agent ``ssh:
default``, and a ``build-args`` line ``NAME=${{ … }}`` becomes ``secrets: "id=${{ … }}"`` (the line
removed, and ``build-args`` with it when it was the only one). Inputs that already hold lines get
one more line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from rewriter.core.buildsecret import BuildSecret
from rewriter.sidefiles.callsites import Target, apply, line_of
from rewriter.sidefiles.callsites.scripts import is_folded, line_starts, scalar_span
from rewriter.sidefiles.callsites.shellcmd import rewrite_commands, templated

Found = list[tuple[int, str, str]]
Edit3 = tuple[int, int, str]


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    return y


def _steps(data: Any) -> list[tuple[CommentedMap, CommentedMap]]:
    """(job, step) pairs."""
    out: list[tuple[CommentedMap, CommentedMap]] = []
    jobs = data.get("jobs") if isinstance(data, CommentedMap) else None
    if not isinstance(jobs, CommentedMap):
        return out
    for job in jobs.values():
        if isinstance(job, CommentedMap) and isinstance(job.get("steps"), CommentedSeq):
            out += [(job, s) for s in job["steps"] if isinstance(s, CommentedMap)]
    return out


def _workdir(data: Any, job: CommentedMap, step: CommentedMap) -> str | None:
    """The step's working directory (``.`` by default); None when templated."""
    wd = step.get("working-directory")
    for holder in (job, data):
        if wd is None and isinstance(holder, CommentedMap):
            defaults = holder.get("defaults")
            run = defaults.get("run") if isinstance(defaults, CommentedMap) else None
            wd = run.get("working-directory") if isinstance(run, CommentedMap) else None
    wd = "." if wd is None else str(wd)
    return None if templated(wd) else wd


def rewrite(text: str, *, path: Path, level: Path, target: Target,
            secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    data = _yaml().load(text.replace("\r\n", "\n"))
    root = path.parent.parent.parent  # .github/workflows/x.yml -> the repository
    starts = line_starts(text)
    eol = "\r\n" if "\r\n" in text else "\n"
    edits: list[Edit3] = []
    found: Found = []
    for job, step in _steps(data):
        line = step.lc.line + 1
        uses = step.get("uses")
        if isinstance(uses, str) and uses.split("@")[0].rstrip("/") == "docker/build-push-action":
            status, reason, mine = _action(text, starts, step, root, target, secrets, eol)
            if status != "other":
                found.append((line, status, reason))
            edits += mine
        elif isinstance(step.get("run"), str):
            wd = _workdir(data, job, step)
            vline, vcol = step.lc.value("run")
            span = scalar_span(text, starts, vline, vcol, step.lc.key("run")[1])
            if wd is None:
                if re.search(r"\b(?:docker|podman|buildah)\b", text[span[0]:span[1]]):
                    found.append((line, "left", "its working-directory is templated"))
                continue

            def matches(ctx: str, file: str | None, wd: str = wd) -> bool:
                return target.builds(root / wd, ctx, file)

            mine, cmds = rewrite_commands(text, [span], secrets, matches, folded=[is_folded(text, span[0])])
            edits += mine
            found += [(line_of(text, f.offset), f.status, f.reason) for f in cmds]
    new = apply(text, edits)
    if new != text:
        _yaml().load(new.replace("\r\n", "\n"))  # must still load (raises otherwise)
    return new, found


def _rows(text: str, starts: list[int]) -> list[str]:
    return [text[s:(starts[i + 1] if i + 1 < len(starts) else len(text))].rstrip("\r\n")
            for i, s in enumerate(starts)]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _block(rows: list[str], line: int, floor: int) -> int:
    """The last line of the value that starts on ``line``: deeper than ``floor`` below it."""
    last = line
    for i in range(line + 1, len(rows)):
        r = rows[i]
        if not r.strip():
            continue
        if len(r) - len(r.lstrip(" ")) <= floor:
            break
        last = i
    return last


def _action(text: str, starts: list[int], step: CommentedMap, root: Path, target: Target,
            secrets: Sequence[BuildSecret], eol: str) -> tuple[str, str, list[Edit3]]:
    """(status, reason, edits) for a build-push-action step."""
    with_ = step.get("with")
    if with_ is None:
        with_ = CommentedMap()
    if not isinstance(with_, CommentedMap) or (with_ and with_.fa.flow_style()):
        return "left", "its with: is not a block mapping", []
    context = str(with_.get("context", "."))
    file = with_.get("file")
    if templated(context) or (file is not None and templated(str(file))):
        return "left", "the Dockerfile it builds is templated", []
    if "://" in context:
        return "other", "", []
    if not target.builds(root, context, None if file is None else str(file)):
        return "other", "", []
    if not with_:
        return "left", "it has no with: to add the inputs to", []
    rows = _rows(text, starts)
    w_line, w_col = step.lc.key("with")
    key_col = with_.lc.key(next(iter(with_)))[1]
    ind = " " * key_col
    edits: list[Edit3] = []
    add: dict[str, list[str]] = {}
    for s in secrets:
        if s.kind == "ssh":
            if "ssh" not in with_:
                add.setdefault("ssh", []).append(s.id)
            args = with_.get("build-args")
            if s.replaces and isinstance(args, str):  # the key is no longer passed as a build-arg
                a_line = with_.lc.key("build-args")[0]
                last = _block(rows, a_line, key_col)
                hits = [i for i in range(a_line, last + 1)
                        if re.match(rf"\s*(?:build-args\s*:\s*)?[\"']?{re.escape(s.replaces)}=", rows[i])]
                if len(hits) == 1:
                    edits.append(_arg_line_removal(rows, starts, text, a_line, last, hits[0]))
            continue
        if s.file is not None:
            have = str(with_.get("secret-files", ""))
            if not re.search(rf"(?m)^\s*{re.escape(s.id)}=", have):
                src = posixpath.normpath(posixpath.join(context, s.file))
                add.setdefault("secret-files", []).append(f"{s.id}={src}")
            continue
        name = str(s.environment)
        if re.search(rf"(?m)^\s*{re.escape(s.id)}=", str(with_.get("secrets", ""))):
            continue
        args = with_.get("build-args")
        if not isinstance(args, str):
            return "left", f"it passes no build-arg {name}, so there is no source for secret {s.id}", []
        a_line = with_.lc.key("build-args")[0]
        last = _block(rows, a_line, key_col)
        hits = [i for i in range(a_line, last + 1)
                if re.match(rf"\s*(?:build-args\s*:\s*)?[\"']?{re.escape(name)}=", rows[i])]
        if len(hits) != 1:
            return "left", f"its build-args do not pass {name} on a line of its own", []
        value = re.sub(rf"^\s*(?:build-args\s*:\s*)?[\"']?{re.escape(name)}=", "", rows[hits[0]]).rstrip()
        value = value[:-1] if value.endswith(("'", '"')) and rows[hits[0]].count(value[-1]) % 2 == 0 else value
        if "${{" not in value:
            return "left", f"it passes {name} as a literal value; move that value into a secret first", []
        add.setdefault("secrets", []).append(f"{s.id}={value}")
        edits.append(_arg_line_removal(rows, starts, text, a_line, last, hits[0]))
    if not add and not edits:
        return "unchanged", "", []
    end_line = _block(rows, w_line, w_col)
    at = starts[end_line + 1] if end_line + 1 < len(starts) else len(text)
    new_rows: list[str] = []
    for key, values in add.items():
        if key in with_ and isinstance(with_[key], str):  # lines appended to an existing input
            k_line = with_.lc.key(key)[0]
            k_last = _block(rows, k_line, key_col)
            if k_last == k_line:
                return "left", f"its {key}: is one line; make it a block (|) to add {values}", []
            inner = rows[k_line + 1]
            pad = inner[: len(inner) - len(inner.lstrip(" "))]
            pos = starts[k_last + 1] if k_last + 1 < len(starts) else len(text)
            edits.append((pos, pos, "".join(f"{pad}{v}{eol}" for v in values)))
            continue
        if len(values) == 1:
            new_rows.append(f"{ind}{key}: {_quoted(values[0]) if key != 'ssh' else values[0]}")
        else:
            new_rows += [f"{ind}{key}: |", *(f"{ind}  {v}" for v in values)]
    if new_rows:
        prefix = eol if at == len(text) and not text.endswith("\n") else ""
        edits.append((at, at, prefix + "".join(r + eol for r in new_rows)))
    return "changed", "", edits


def _arg_line_removal(rows: list[str], starts: list[int], text: str, a_line: int, last: int, hit: int) -> Edit3:
    """The edit removing the build-args line ``hit`` (the whole ``build-args`` input when it was the only one)."""
    others = [i for i in range(a_line + 1, last + 1) if rows[i].strip() and i != hit
              and not rows[i].lstrip().startswith("#")]
    if hit == a_line or not others:
        lo, hi = starts[a_line], starts[last + 1] if last + 1 < len(starts) else len(text)
    else:
        lo, hi = starts[hit], starts[hit + 1] if hit + 1 < len(starts) else len(text)
    return (lo, hi, "")
