"""``docker-bake.hcl`` targets: ``secret``, ``ssh`` and the ``args`` a secret replaces.

Only the small part of HCL a bake target needs is read, by hand, with exact spans: ``target "name"
{ … }`` blocks (strings, ``#``/``//``/``/* */`` comments and nested braces skipped), their one-line
attributes ``context``/``dockerfile``/``inherits`` and the ``args = { … }`` and ``secret = [ … ]``
blocks. The context is relative to the bake file, the dockerfile to the context (bake's defaults:
``.`` and ``Dockerfile``). An argument ``NAME = "${VAR}"`` (a bake variable, read from the
environment) becomes ``"id=<id>,env=VAR"``; a literal value leaves the target alone.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from rewriter.core.buildsecret import BuildSecret
from rewriter.sidefiles.callsites import Target, apply, line_of

Found = list[tuple[int, str, str]]
_TARGET = re.compile(r'(?m)^[ \t]*target[ \t]+"([^"]+)"[ \t]*\{')
_ATTR = re.compile(r'(?m)^([ \t]*)"?([\w-]+)"?[ \t]*=[ \t]*(.*?)[ \t]*(?:(?:#|//).*)?\r?$')


def _close(text: str, i: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one just before ``i`` (-1 when unbalanced)."""
    depth = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                return -1
        elif text.startswith("/*", i):
            i = text.find("*/", i)
            if i < 0:
                return -1
            i += 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _string(value: str) -> str | None:
    m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', value)
    return m.group(1) if m else None


def rewrite(text: str, *, path: Path, level: Path, target: Target,
            secrets: Sequence[BuildSecret]) -> tuple[str, Found]:
    edits: list[tuple[int, int, str]] = []
    found: Found = []
    for m in _TARGET.finditer(text):
        end = _close(text, m.end(), "{", "}")
        if end < 0:
            continue
        line = line_of(text, m.start())
        status, reason, mine = _target(text, m.end(), end, path.parent, target, secrets)
        if status != "other":
            found.append((line, status, reason))
        edits += mine
    return apply(text, edits), found


def _target(text: str, lo: int, hi: int, folder: Path, target: Target,
            secrets: Sequence[BuildSecret]) -> tuple[str, str, list[tuple[int, int, str]]]:
    # attributes at the target's own level: skip nested blocks
    attrs: dict[str, re.Match[str]] = {}
    i = lo
    for a in _ATTR.finditer(text, lo, hi):
        if a.start() < i:
            continue
        attrs.setdefault(a.group(2), a)
        opener = a.group(3)[:1]
        if opener in "{[" and opener:
            close = _close(text, a.start(3) + 1, opener, "}" if opener == "{" else "]")
            i = close if close > 0 else hi
    raw = {k: a.group(3) for k, a in attrs.items()}
    context = _string(raw.get("context", '"."'))
    dockerfile = _string(raw.get("dockerfile", '"Dockerfile"'))
    if context is None or dockerfile is None or "${" in context + dockerfile:
        return "left", "the Dockerfile it builds is not a plain string", []
    if "inherits" in raw and ("context" not in raw or "dockerfile" not in raw):
        return "left", "it inherits its context or dockerfile from another target", []
    if "://" in context or not target.builds(folder, context, dockerfile, file_in_context=True):
        return "other", "", []
    eol = "\r\n" if "\r\n" in text else "\n"
    ind = attrs[next(iter(attrs))].group(1) if attrs else "  "
    edits: list[tuple[int, int, str]] = []
    items: dict[str, list[str]] = {}
    for s in secrets:
        if s.kind == "ssh":
            if "ssh" not in raw:
                items.setdefault("ssh", []).append(s.id)
            args = attrs.get("args")
            if s.replaces and args is not None and args.group(3).startswith("{"):  # the key's arg goes
                a_end = _close(text, args.start(3) + 1, "{", "}")
                arg = next((x for x in _ATTR.finditer(text, args.start(3), a_end) if x.group(2) == s.replaces), None)
                if arg is not None and text.find("\n", args.start(3), a_end) >= 0:
                    nl = text.find("\n", arg.end())
                    edits.append((arg.start(), nl + 1 if nl >= 0 else arg.end(), ""))
            continue
        if f'"id={s.id},' in raw.get("secret", "") or f'"id={s.id}"' in raw.get("secret", ""):
            continue
        if s.file is not None:
            src = posixpath.normpath(posixpath.join(context, s.file))
            items.setdefault("secret", []).append(f"id={s.id},src={src}")
            continue
        name = str(s.environment)
        args = attrs.get("args")
        if args is None or not args.group(3).startswith("{"):
            return "left", f"it passes no args {name}, so there is no source for secret {s.id}", []
        a_end = _close(text, args.start(3) + 1, "{", "}")
        arg = next((x for x in _ATTR.finditer(text, args.end(3) if "\n" not in text[args.start(3):args.end(3)]
                                              else args.start(3), a_end) if x.group(2) == name), None)
        if arg is None or text.find("\n", args.start(3), a_end) < 0:
            return "left", f"its args do not pass {name} on a line of its own", []
        value = _string(arg.group(3).rstrip(","))
        var = re.fullmatch(r"\$\{(\w+)\}", value or "")
        if var is None:
            return "left", f"it passes {name} as a literal value; move that value into a variable first", []
        items.setdefault("secret", []).append(f"id={s.id},env={var.group(1)}")
        nl = text.find("\n", arg.end())
        edits.append((arg.start(), nl + 1 if nl >= 0 else arg.end(), ""))
    if not items:
        return ("changed", "", edits) if edits else ("unchanged", "", [])
    close_line = text.rfind("\n", 0, hi) + 1
    for key, values in items.items():
        quoted = ", ".join(f'"{v}"' for v in values)
        if key in attrs:  # append to the list
            a = attrs[key]
            close = _close(text, a.start(3) + 1, "[", "]")
            before = text[a.start(3) + 1:close].rstrip()
            sep = "" if not before.strip("[ \t\r\n") or before.endswith(",") else ","
            if "\n" in text[a.start(3):close]:
                at = text.rfind("\n", 0, close) + 1  # the line holding "]"
                if text[at:close].strip():
                    return "left", f"its {key} list does not end on a line of its own", []
                prev = text[text.rfind("\n", 0, at - 1) + 1:at].rstrip("\r\n")
                if sep:
                    p = a.start(3) + 1 + len(before)
                    edits.append((p, p, ","))
                edits.append((at, at, f"{prev[:len(prev) - len(prev.lstrip())]}{quoted},{eol}"))
            else:
                p = a.start(3) + 1 + len(before)
                edits.append((p, p, f"{sep} {quoted}" if before.strip("[ ") else quoted))
            continue
        edits.append((close_line, close_line, f"{ind}{key} = [{quoted}]{eol}"))
    return "changed", "", edits
