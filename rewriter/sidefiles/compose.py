"""Docker compose files: find the services that build a Dockerfile, and wire build secrets into them.

:func:`add_build_secrets` must leave everything it does not change byte-identical (comments, key
order, quoting, indentation, blank lines, line endings), so it works in two layers:

1. The file is loaded with ruamel.yaml in round-trip mode (``preserve_quotes``) and the change is
   made on that model; the model gives the expected data and the positions of the nodes.
2. The new lines are spliced into the original text at those positions, written in the file's own
   indentation (mapping indent, sequence offset and the gap after ``-``, detected from the text),
   with the file's line ending. The spliced text is re-parsed and must load to exactly the
   expected data; when it does not, or when the spot cannot be edited line-wise (flow-style
   ``{...}``/``[...]`` nodes, a value on a continuation line, odd line breaks), the model itself is
   dumped by ruamel.yaml with the detected indentation instead.

A new entry goes after the last line of its block and after comment lines directly below it that
are indented at least as deep as the entry (commented-out siblings); blank lines and shallower
comments (which introduce what follows) stay after the new lines.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.tokens import CommentToken

from rewriter.core.buildsecret import BuildSecret  # the one typed build-secret value
from rewriter.core.edits import narrow_edit
from rewriter.facts import COMPOSE_NAMES  # the file names compose looks for, in its order of preference

__all__ = [
    "COMPOSE_NAMES",
    "BuildSecret",
    "ComposeEditError",
    "ServiceRef",
    "add_build_secrets",
    "find_services",
    "narrow_edit",
]


class ComposeEditError(ValueError):
    """The compose text cannot be edited as asked (unparsable, no such service, no build, shared node...)."""


@dataclass(frozen=True)
class ServiceRef:
    """A service of a compose file; ``file`` is relative to the folder searched."""

    file: str
    service: str


# --- finding services ------------------------------------------------------------------------------


def find_services(folder: Path, dockerfile: Path) -> list[ServiceRef]:
    """The services of the compose files in ``folder`` whose ``build`` builds ``dockerfile``.

    ``build: <context>`` and ``build: {context: ..., dockerfile: ...}`` are understood; the context
    is resolved against the compose file's folder, the dockerfile (default ``Dockerfile``) against
    the context. Files are taken in :data:`COMPOSE_NAMES` order, services in file order; a file
    that cannot be read or parsed contributes nothing.
    """
    target = Path(dockerfile).resolve()
    folder = Path(folder)
    found: list[ServiceRef] = []
    for name in COMPOSE_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = _yaml().load(path.read_text(encoding="utf-8"))
        except Exception:  # unreadable or unparsable: ruamel raises many unrelated types
            continue
        services = data.get("services") if isinstance(data, Mapping) else None
        if not isinstance(services, Mapping):
            continue
        for service, spec in services.items():
            if not isinstance(spec, Mapping):
                continue
            where = _build_location(spec.get("build"))
            if where is None:
                continue
            context, dockerfile_name = where
            try:
                if (folder / context / dockerfile_name).resolve() == target:
                    found.append(ServiceRef(name, str(service)))
            except (OSError, RuntimeError, ValueError):
                continue
    return found


def _build_location(build: Any) -> tuple[str, str] | None:
    """(context, dockerfile) of a ``build`` value, or None when it builds no local Dockerfile."""
    if isinstance(build, str):
        context, dockerfile = build, "Dockerfile"
    elif isinstance(build, Mapping):
        if "dockerfile_inline" in build:
            return None
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
    else:
        return None
    if not isinstance(context, str) or not isinstance(dockerfile, str) or not context or not dockerfile:
        return None
    if "://" in context or context.startswith("git@"):
        return None  # a remote context
    return context, dockerfile


# --- adding build secrets ------------------------------------------------------------------------


class _Fallback(Exception):
    """The line-wise splice does not apply here: dump the model instead."""


@dataclass(frozen=True)
class _Style:
    """The file's indentation style."""

    mapping: int = 2  #: indent of a nested mapping
    offset: int = 2  #: column of ``-`` relative to the parent key
    gap: int = 1  #: spaces between ``-`` and the item


@dataclass
class _Splice:
    """New lines for the original text."""

    at: int  #: line index the new lines go before
    remove: int  #: original lines replaced (0: pure insertion)
    rows: list[str]  #: new lines, without line ends
    order: int  #: tie-break for equal ``at``


def add_build_secrets(text: str, service: str, secrets: list[BuildSecret]) -> str:
    """The compose text with ``secrets`` wired into ``services.<service>.build``.

    Each id is listed under ``build.secrets`` (a string ``build: <context>`` becomes a block
    mapping with ``context:``) and defined in the top-level ``secrets:`` mapping as
    ``<id>: {file: ...}`` or ``<id>: {environment: ...}``. Ids already listed are not repeated and
    existing top-level definitions are left alone, so a second call returns the text unchanged.
    Line endings (CRLF) and the final-newline state are kept. Raises :class:`ComposeEditError`
    when the text does not parse, the service is missing or has no build, or its build is shared
    through an anchor/merge key (editing it would change other services too).
    """
    wanted: list[BuildSecret] = []
    for secret in secrets:
        if all(s.id != secret.id for s in wanted):
            wanted.append(secret)
    if not wanted:
        return text
    lf = text.replace("\r\n", "\n")
    eol = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    try:
        data = _yaml().load(lf)
    except Exception as exc:
        raise ComposeEditError(f"the compose file does not parse: {exc}") from exc
    spec, build, listed, top = _locate(data, service)
    add_ids = [s.id for s in wanted if s.id not in listed]
    add_defs = [s for s in wanted if not (isinstance(top, Mapping) and s.id in top)]
    if not add_ids and not add_defs:
        return text
    style = _detect_style(lf.split("\n"))
    try:
        splices = _plan_splices(text, data, spec, build, add_ids, add_defs, style)
    except _Fallback:
        splices = None
    _apply_to_model(data, spec, build, add_ids, add_defs)
    expected = _plain(data)
    if splices is not None:
        candidate = _splice(text, splices, eol)
        try:
            if _plain(_yaml().load(candidate.replace("\r\n", "\n"))) == expected:
                return candidate
        except Exception:
            pass
    return _dump(data, lf, text, eol, style)


def _locate(data: Any, service: str) -> tuple[CommentedMap, Any, set[str], Any]:
    """The service mapping, its build value, the ids its build already lists and the top-level secrets value."""
    if not isinstance(data, CommentedMap):
        raise ComposeEditError("the compose file is not a mapping")
    services = data.get("services")
    if not isinstance(services, CommentedMap) or service not in services:
        raise ComposeEditError(f"no service {service!r}")
    spec = services[service]
    if not isinstance(spec, CommentedMap):
        raise ComposeEditError(f"service {service!r} is not a mapping")
    if "build" not in dict(spec.non_merged_items()):
        raise ComposeEditError(f"service {service!r} has no build section of its own")
    build = spec["build"]
    if _anchored(spec) or _anchored(build):
        raise ComposeEditError(f"the build of service {service!r} is shared through an anchor")
    listed: set[str] = set()
    if isinstance(build, CommentedMap):
        current = build.get("secrets")
        if isinstance(current, CommentedSeq):
            if _anchored(current):
                raise ComposeEditError(f"build.secrets of service {service!r} is shared through an anchor")
            for item in current:
                if isinstance(item, str):
                    listed.add(str(item))
                elif isinstance(item, Mapping) and isinstance(item.get("source"), str):
                    listed.add(str(item["source"]))
        elif current is not None:
            raise ComposeEditError(f"build.secrets of service {service!r} is not a list")
    elif not isinstance(build, str):
        raise ComposeEditError(f"the build of service {service!r} is neither a path nor a mapping")
    top = data.get("secrets")
    if top is not None and not isinstance(top, CommentedMap):
        raise ComposeEditError("the top-level secrets is not a mapping")
    return spec, build, listed, top


def _anchored(node: Any) -> bool:
    """Whether ``node`` carries an anchor (so aliases elsewhere share it)."""
    anchor = getattr(node, "anchor", None)
    return bool(getattr(anchor, "value", None))


def _apply_to_model(
    data: CommentedMap, spec: CommentedMap, build: Any, add_ids: list[str], add_defs: list[BuildSecret]
) -> None:
    """Make the change on the round-trip model (gives the expected data and the dump fallback)."""
    if add_ids:
        if isinstance(build, str):
            new = CommentedMap()
            new["context"] = build
            new["secrets"] = CommentedSeq(add_ids)
            _move_trailing_comment(spec, new["secrets"])
            spec["build"] = new
        elif build.get("secrets") is None:
            build["secrets"] = CommentedSeq(add_ids)
        else:
            build["secrets"].extend(add_ids)
    if add_defs:
        if data.get("secrets") is None:
            data["secrets"] = CommentedMap()
        for secret in add_defs:
            entry = CommentedMap()
            if secret.file is not None:
                entry["file"] = secret.file
            else:
                entry["environment"] = secret.environment
            data["secrets"][secret.id] = entry


def _move_trailing_comment(spec: CommentedMap, seq: CommentedSeq) -> None:
    """Keep blank lines/comments that followed ``build: <scalar>`` after the new block (dump path only).

    ruamel stores them in the comment after the scalar; once the value is a mapping they would
    be written between ``build:`` and ``context:``.
    """
    slots = spec.ca.items.get("build")
    if not slots or len(slots) < 3 or slots[2] is None:
        return
    token = slots[2]
    head, _, rest = token.value.partition("\n")
    if not rest:
        return
    slots[2] = CommentToken(head + "\n", token.start_mark, None) if head.strip() else None
    seq.ca.items[len(seq) - 1] = [CommentToken("\n" + rest, token.start_mark, None), None]


# --- the line-wise splice ------------------------------------------------------------------------

_DASH = re.compile(r"(?:-(?: +|$))+")
_OPENS_BLOCK = re.compile(r"""^(?:"[^"]*"|'[^']*'|[^\s#'"][^#]*?)\s*:(?:\s+&\S+)?\s*(?:#.*)?$""")
_BLOCK_SCALAR = re.compile(r"(?:^|:\s|^-\s)\s*[|>][-+0-9]*\s*(?:#.*)?$")
_ODD_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _rows(text: str) -> list[str]:
    """Lines without their line ends (``\\n`` or ``\\r\\n``)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _indent(row: str) -> int:
    """Number of leading spaces."""
    return len(row) - len(row.lstrip(" "))


def _significant(row: str) -> bool:
    """Whether the line holds YAML content (not blank, not a comment)."""
    stripped = row.strip()
    return bool(stripped) and not stripped.startswith("#")


def _is_dash(body: str) -> bool:
    """Whether an unindented line body starts a block sequence item."""
    return body == "-" or body.startswith("- ")


def _detect_style(rows: list[str]) -> _Style:
    """The file's mapping indent, sequence offset and ``-`` gap (most frequent), defaulting to 2/mapping/1."""
    maps: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    gaps: Counter[int] = Counter()
    opener: int | None = None  # column of a key ending the previous significant line with ":"
    scalar_floor: int | None = None  # inside a block scalar: skip lines indented deeper than this
    for row in rows:
        if not _significant(row):
            continue
        ind = _indent(row)
        if scalar_floor is not None:
            if ind > scalar_floor:
                continue
            scalar_floor = None
        body = row[ind:]
        dash = _DASH.match(body) if _is_dash(body) else None
        if opener is not None:
            if dash and ind >= opener:
                offsets[ind - opener] += 1
                first = re.match(r"- +", body)
                if first and first.end() < len(body):
                    gaps[first.end() - 1] += 1
            elif not dash and ind > opener:
                maps[ind - opener] += 1
        col = ind + (dash.end() if dash else 0)
        content = row[col:]
        opener = col if _OPENS_BLOCK.match(content) else None
        if _BLOCK_SCALAR.search(content) or (dash and _BLOCK_SCALAR.search(body)):
            scalar_floor = col if not content.startswith(("|", ">")) else ind
    mapping = maps.most_common(1)[0][0] if maps else 2
    offset = offsets.most_common(1)[0][0] if offsets else mapping
    gap = gaps.most_common(1)[0][0] if gaps else 1
    return _Style(mapping, offset, gap)


def _block_last(rows: list[str], line: int, col: int) -> int:
    """Index of the last content line of the node whose key is at (``line``, ``col``)."""
    last = line
    for i in range(line + 1, len(rows)):
        row = rows[i]
        if not _significant(row):
            continue
        ind = _indent(row)
        if ind < col or (ind == col and not _is_dash(row[ind:])):
            break
        last = i
    return last


def _insertion_point(rows: list[str], last: int, col: int) -> int:
    """After ``last`` and the comment lines directly below it indented at least ``col``."""
    i = last + 1
    while i < len(rows) and rows[i].lstrip().startswith("#") and _indent(rows[i]) >= col:
        i += 1
    return i


def _blank_before(rows: list[str], line: int) -> bool:
    """Whether a blank line precedes ``line`` (above any comment lines directly on top of it)."""
    i = line - 1
    while i >= 0 and rows[i].lstrip().startswith("#"):
        i -= 1
    return i >= 0 and not rows[i].strip()


def _render(value: str) -> str:
    """``value`` as a one-line YAML scalar (plain when safe, quoted otherwise)."""
    out = io.StringIO()
    YAML().dump({"k": value}, out)
    text = out.getvalue()
    if text.count("\n") != 1 or not text.startswith("k: "):
        raise ComposeEditError(f"cannot write {value!r} on one line")
    return text[3:-1]


def _items(ids: list[str], col: int, style: _Style) -> list[str]:
    """Block sequence item lines for ``ids`` with the dash at ``col``."""
    return [f"{' ' * col}-{' ' * style.gap}{_render(i)}" for i in ids]


def _definitions(defs: list[BuildSecret], col: int, style: _Style) -> list[str]:
    """Top-level ``secrets:`` entry lines for ``defs`` with the keys at ``col``."""
    rows: list[str] = []
    inner = " " * (col + style.mapping)
    for secret in defs:
        rows.append(f"{' ' * col}{_render(secret.id)}:")
        if secret.file is not None:
            rows.append(f"{inner}file: {_render(secret.file)}")
        else:
            rows.append(f"{inner}environment: {_render(str(secret.environment))}")
    return rows


def _flow(node: Any) -> bool:
    """Whether ``node`` is a flow-style (``{...}``/``[...]``) collection."""
    return isinstance(node, (CommentedMap, CommentedSeq)) and bool(node.fa.flow_style())


def _plan_splices(
    text: str,
    data: CommentedMap,
    spec: CommentedMap,
    build: Any,
    add_ids: list[str],
    add_defs: list[BuildSecret],
    style: _Style,
) -> list[_Splice]:
    """Where the new lines go in the original text (raises :class:`_Fallback` when it cannot tell)."""
    if _ODD_BREAKS.search(text) or _flow(data) or _flow(spec):
        raise _Fallback
    rows = _rows(text)
    splices: list[_Splice] = []
    if add_ids:
        splices.append(_plan_build(rows, spec, build, add_ids, style))
    if add_defs:
        splices.append(_plan_definitions(rows, data, add_defs, style))
    return splices


def _plan_build(rows: list[str], spec: CommentedMap, build: Any, ids: list[str], style: _Style) -> _Splice:
    """The splice for ``build`` (string to mapping, new ``secrets:`` key, or items appended)."""
    key_line, key_col = spec.lc.key("build")
    if isinstance(build, str):
        value_line, value_col = spec.lc.value("build")
        if value_line != key_line:
            raise _Fallback
        row = rows[key_line]
        end = _scalar_end(row, value_col)
        inner = key_col + style.mapping
        new = [
            row[:value_col].rstrip() + row[end:],
            f"{' ' * inner}context: {row[value_col:end]}",
            f"{' ' * inner}secrets:",
            *_items(ids, inner + style.offset, style),
        ]
        return _Splice(key_line, 1, new, 0)
    if _flow(build):
        raise _Fallback
    current = build.get("secrets")
    if current is None and "secrets" not in build:
        col = build.lc.key(next(iter(build)))[1]
        last = _block_last(rows, key_line, key_col)
        new = [f"{' ' * col}secrets:", *_items(ids, col + style.offset, style)]
        if _blank_before(rows, build.lc.key(list(build)[-1])[0]):
            new.insert(0, "")
        return _Splice(_insertion_point(rows, last, col), 0, new, 0)
    sec_line, sec_col = build.lc.key("secrets")
    if current is None:
        after = rows[sec_line][sec_col:]
        if not re.fullmatch(r"secrets\s*:\s*(#.*)?|(\"secrets\"|'secrets')\s*:\s*(#.*)?", after):
            raise _Fallback  # e.g. "secrets: null": items cannot simply follow
        col = sec_col + style.offset
        return _Splice(_insertion_point(rows, sec_line, col), 0, _items(ids, col, style), 0)
    if _flow(current) or not current:
        raise _Fallback
    item_line, item_col = current.lc.item(0)
    dash = rows[item_line].rfind("-", 0, item_col)
    if dash < 0:
        raise _Fallback
    gap = max(1, item_col - dash - 1)
    last = _block_last(rows, sec_line, sec_col)
    item_style = _Style(style.mapping, style.offset, gap)
    return _Splice(_insertion_point(rows, last, dash), 0, _items(ids, dash, item_style), 0)


def _plan_definitions(rows: list[str], data: CommentedMap, defs: list[BuildSecret], style: _Style) -> _Splice:
    """The splice for the top-level ``secrets:`` mapping (created at the end of the file, or extended)."""
    keys = list(data)
    top_col = data.lc.key(keys[0])[1]
    if "secrets" not in data:
        last = max((i for i, r in enumerate(rows) if _significant(r)), default=-1)
        if last < 0 or rows[last].startswith(("---", "...")):
            raise _Fallback
        new = [f"{' ' * top_col}secrets:", *_definitions(defs, top_col + style.mapping, style)]
        if _blank_before(rows, data.lc.key(keys[-1])[0]):
            new.insert(0, "")
        return _Splice(_insertion_point(rows, last, top_col), 0, new, 1)
    top = data["secrets"]
    sec_line, sec_col = data.lc.key("secrets")
    if top is None:
        if not re.fullmatch(r"""(secrets|"secrets"|'secrets')\s*:\s*(#.*)?""", rows[sec_line][sec_col:]):
            raise _Fallback
        col = sec_col + style.mapping
        return _Splice(_insertion_point(rows, sec_line, col), 0, _definitions(defs, col, style), 1)
    if _flow(top) or not top:
        raise _Fallback
    col = top.lc.key(next(iter(top)))[1]
    last = _block_last(rows, sec_line, sec_col)
    return _Splice(_insertion_point(rows, last, col), 0, _definitions(defs, col, style), 1)


def _scalar_end(row: str, start: int) -> int:
    """End index of the one-line scalar starting at ``row[start]`` (raises :class:`_Fallback` otherwise)."""
    if start >= len(row) or row[start] in "&*!|>[{":
        raise _Fallback  # anchors, aliases, tags, block scalars, flow nodes
    quote = row[start]
    if quote == "'":
        i = start + 1
        while i < len(row):
            if row[i] == "'":
                if row[i + 1 : i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        raise _Fallback
    if quote == '"':
        i = start + 1
        while i < len(row):
            if row[i] == "\\":
                i += 2
                continue
            if row[i] == '"':
                return i + 1
            i += 1
        raise _Fallback
    comment = re.search(r"\s#", row[start:])
    end = start + comment.start() if comment else len(row)
    return start + len(row[start:end].rstrip())


def _splice(text: str, splices: list[_Splice], eol: str) -> str:
    """Apply the splices to ``text``, keeping every untouched line (and its line end) as it was."""
    missing_final = not text.endswith("\n")
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1] + eol] if lines[-1] else [])
    out: list[str] = []
    pos = 0
    for s in sorted(splices, key=lambda s: (s.at, s.order)):
        if s.at < pos:
            raise _Fallback
        out.extend(lines[pos : s.at])
        out.extend(row + eol for row in s.rows)
        pos = s.at + s.remove
    out.extend(lines[pos:])
    result = "".join(out)
    if missing_final and result.endswith(eol):
        result = result[: -len(eol)]
    return result


# --- the ruamel.yaml dump fallback ----------------------------------------------------------------


def _yaml() -> YAML:
    """A round-trip loader/dumper that keeps quotes and never folds lines."""
    y = YAML()  # round-trip
    y.preserve_quotes = True
    y.width = 4096  # never fold long lines
    return y


def _dump(data: CommentedMap, lf: str, text: str, eol: str, style: _Style) -> str:
    """The whole model dumped by ruamel.yaml in the detected style, with the original line ends."""
    y = _yaml()
    y.indent(mapping=style.mapping, sequence=style.offset + 1 + style.gap, offset=style.offset)
    y.explicit_start = lf.lstrip("\ufeff").startswith("---")
    out = io.StringIO()
    y.dump(data, out)
    result = out.getvalue()
    if not text.endswith("\n"):
        result = result.rstrip("\n")
    return result.replace("\n", eol) if eol != "\n" else result


def _plain(node: Any) -> Any:
    """Plain Python data (dicts, lists, scalars) for comparing two loads."""
    if isinstance(node, Mapping):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, TaggedScalar):
        return ("!tag", str(node.tag), node.value)
    return node
