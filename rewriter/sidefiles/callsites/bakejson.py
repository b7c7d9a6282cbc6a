"""``docker-bake.json`` targets: ``secret``, ``ssh`` and the ``args`` a secret replaces (as in HCL).

JSON has no comments, so the file is rewritten by loading it and writing it back -- but only when
writing back the unchanged document gives the file byte for byte (its indentation, key order, spacing,
newlines and final newline detected first). A file in any other layout is left alone with a note, never
reformatted. The rules are those of :mod:`.bake`: the context relative to the bake file, the
dockerfile to the context (``.`` and ``Dockerfile`` by default); ``"NAME": "${VAR}"`` in ``args``
becomes ``"id=<id>,env=VAR"``; a literal value leaves the target alone.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewriter.core.buildsecret import BuildSecret
from rewriter.sidefiles.callsites import Target

Found = list[tuple[int, str, str]]


def _layout(text: str) -> tuple[str | int | None, str, bool] | None:
    """(indent, newline, final newline) with which ``json.dumps`` writes ``text`` back exactly, or None."""
    eol = "\r\n" if "\r\n" in text else "\n"
    body = text.replace("\r\n", "\n")
    final = body.endswith("\n")
    doc = json.loads(body)
    m = re.search(r"\n([ \t]+)\S", body)
    candidates: list[str | int | None] = [m.group(1)] if m else [None]
    for indent in candidates:
        out = json.dumps(doc, indent=indent, ensure_ascii=False) + ("\n" if final else "")
        if out == body:
            return indent, eol, final
    return None


def _line(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def rewrite(text: str, *, path: Path, level: Path, target: Target,
            secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    doc = json.loads(text)
    targets = doc.get("target") if isinstance(doc, dict) else None
    if not isinstance(targets, dict):
        return text, []
    found: Found = []
    changed = False
    for name, spec in targets.items():
        if not isinstance(spec, dict):
            continue
        status, reason = _target(spec, path.parent, target, secrets)
        if status == "other":
            continue
        found.append((_line(text, f'"{name}"'), status, reason))
        changed = changed or status == "changed"
    if not changed:
        return text, found
    layout = _layout(text)
    if layout is None:
        return text, [(ln, "left" if st == "changed" else st,
                       "the file is not laid out as JSON tools write it; it is left as it is rather than reformatted"
                       if st == "changed" else why) for ln, st, why in found]
    indent, eol, final = layout
    out = json.dumps(doc, indent=indent, ensure_ascii=False) + ("\n" if final else "")
    return out.replace("\n", eol), found


def _target(spec: dict[str, Any], folder: Path, target: Target, secrets: Sequence[BuildSecret]) -> tuple[str, str]:
    """Edit one target in place; (status, reason) as :mod:`.bake` reports them."""
    context = spec.get("context", ".")
    dockerfile = spec.get("dockerfile", "Dockerfile")
    if not isinstance(context, str) or not isinstance(dockerfile, str) or "${" in context + dockerfile:
        return "left", "the Dockerfile it builds is not a plain string"
    if "inherits" in spec and ("context" not in spec or "dockerfile" not in spec):
        return "left", "it inherits its context or dockerfile from another target"
    if "://" in context or not target.builds(folder, context, dockerfile, file_in_context=True):
        return "other", ""
    add: dict[str, list[str]] = {}
    drop: list[str] = []
    have = " ".join(x for x in spec.get("secret", []) if isinstance(x, str))
    for s in secrets:
        if s.kind == "ssh":
            if "ssh" not in spec:
                add.setdefault("ssh", []).append(s.id)
            if s.replaces and isinstance(spec.get("args"), dict) and s.replaces in spec["args"]:
                drop.append(s.replaces)  # the key is no longer passed as a build argument
            continue
        if f"id={s.id}," in have or have.endswith(f"id={s.id}") or f"id={s.id} " in have:
            continue
        if s.file is not None:
            add.setdefault("secret", []).append(f"id={s.id},src={posixpath.normpath(posixpath.join(context, s.file))}")
            continue
        name = str(s.environment)
        args = spec.get("args")
        if not isinstance(args, dict) or name not in args:
            return "left", f"it passes no args {name}, so there is no source for secret {s.id}"
        var = re.fullmatch(r"\$\{(\w+)\}", str(args[name]))
        if var is None:
            return "left", f"it passes {name} as a literal value; move that value into a variable first"
        add.setdefault("secret", []).append(f"id={s.id},env={var.group(1)}")
        drop.append(name)
    if not add and not drop:
        return "unchanged", ""
    for key in add:
        if key in spec and not isinstance(spec[key], list):
            return "left", f"its {key} is not a list"
    for name in drop:
        del spec["args"][name]
    for key, values in add.items():
        spec[key] = [*spec.get(key, []), *values]
    return "changed", ""
