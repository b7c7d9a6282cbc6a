"""Lossless Dockerfile syntax tree.

``parse(source)`` turns Dockerfile text into an immutable :class:`Dockerfile` whose ``code`` is the
source, byte for byte. Every character belongs to exactly one node: a parser :class:`Directive`, a
:class:`Comment`, a :class:`Blank` line or an :class:`Instruction` (which owns its continuation
lines, the comment and blank lines inside them, and its heredoc bodies).

Instruction boundaries follow BuildKit's parser (``frontend/dockerfile/parser/parser.go``); tests
compare every span with BuildKit's own parser (PyPI ``dockerfile``). Those rules are what
dockerfile-parse gets wrong, so the scan is done here rather than on top of its ``structure``:

* lines end at ``\\n`` only (``\\r\\n`` is one ending; a lone ``\\r`` or ``\\x0c`` is not a break);
* a UTF-8 BOM belongs to the file, not to the first keyword;
* parser directives (``syntax``, ``escape``, ``check``) are only read before anything else, and
  ``# escape=`` changes the continuation character;
* comment lines and blank lines inside a continuation belong to the instruction;
* a continuation at end of file, or a keyword alone on the last line, is still an instruction;
* heredoc bodies (``RUN <<EOF``, ``COPY <<-"EOF" /x``) belong to the instruction that opens them.

Nodes are frozen dataclasses; ``node.with_changes(**fields)`` returns a modified copy (derived
fields such as ``keyword`` and ``flags`` are recomputed from ``raw``). Positions: ``start``/``end``
are character offsets into ``Dockerfile.code``; lines are 1-based and inclusive, as BuildKit reports.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

BOM = "\ufeff"

#: Instructions BuildKit knows (``instructions/parse.go``), upper case.
KNOWN_INSTRUCTIONS = frozenset(
    {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
     "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)
#: Instructions whose arguments may open heredocs.
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
#: Parser directives BuildKit reads at the top of a file.
DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})

_DIRECTIVE_RE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")


class DockerfileSyntaxError(ValueError):
    """The text cannot be read as a Dockerfile; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line


def split_lines(text: str) -> list[str]:
    """Split at ``\\n`` only, keeping the endings (``"a\\r\\nb"`` -> ``["a\\r\\n", "b"]``)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _strip_newline(line: str) -> str:
    return line.rstrip("\r\n")


#: Go's unicode.IsSpace, which BuildKit uses to trim the start of lines (Python's set differs)
_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


#: what BuildKit's flag and word scanner (byte by byte) takes for whitespace: ASCII only
_ASCII_SPACE = "\t\n\v\f\r "


def _lstrip(line: str) -> str:
    return line.lstrip(_SPACE)


def _is_comment(line: str) -> bool:
    return _lstrip(line).startswith("#")


def _is_empty(line: str) -> bool:
    return not _lstrip(_strip_newline(line))


def _continuation_split(body: str, escape: str) -> tuple[str, bool]:
    """BuildKit's ``trimContinuationCharacter``: (text before the escape, True if line ends).

    The escape continues the line only when it is not itself escaped (``C:\\`` ends a line).
    """
    stripped = body.rstrip(" \t")
    if stripped.endswith(escape) and (len(stripped) == 1 or stripped[-2] != escape):
        return stripped[:-1], False
    return body, True


# --------------------------------------------------------------------------- nodes


class _Node:
    """Shared behaviour: ``with_changes`` and ``code``."""

    raw: str

    def with_changes(self, **changes: Any) -> Any:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @property
    def code(self) -> str:
        """The exact source text of this node."""
        return self.raw


@dataclass(frozen=True)
class Directive(_Node):
    """A parser directive line such as ``# syntax=docker/dockerfile:1``."""

    raw: str
    start: int = 0
    start_line: int = 1

    @property
    def name(self) -> str:
        m = _DIRECTIVE_RE.match(_strip_newline(self.raw).strip(" \t"))
        return m.group(1).lower() if m else ""

    @property
    def value(self) -> str:
        m = _DIRECTIVE_RE.match(_strip_newline(self.raw).strip(" \t"))
        return m.group(2) if m else ""

    @property
    def end(self) -> int:
        return self.start + len(self.raw)


@dataclass(frozen=True)
class Comment(_Node):
    """A comment line outside any instruction."""

    raw: str
    start: int = 0
    start_line: int = 1

    @property
    def text(self) -> str:
        return _strip_newline(self.raw).lstrip(" \t")[1:].strip()

    @property
    def end(self) -> int:
        return self.start + len(self.raw)


@dataclass(frozen=True)
class Blank(_Node):
    """An empty or whitespace-only line outside any instruction."""

    raw: str
    start: int = 0
    start_line: int = 1

    @property
    def end(self) -> int:
        return self.start + len(self.raw)


@dataclass(frozen=True)
class Flag:
    """An instruction flag such as ``--mount=type=secret,id=npmrc``; offsets relative to ``raw``."""

    name: str
    value: str | None
    raw: str
    start: int
    end: int

    def options(self) -> dict[str, str]:
        """Comma-separated ``key=value`` options (``--mount``); bare keys map to ``""``."""
        out: dict[str, str] = {}
        for part in _split_csv(self.value or ""):
            key, _, val = part.partition("=")
            out[key.strip().lower()] = val.strip()
        return out


def _split_csv(value: str) -> list[str]:
    parts, buf, quote = [], [], ""
    for ch in value:
        if quote:
            if ch == quote:
                quote = ""
            else:
                buf.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ",":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if buf or parts:
        parts.append("".join(buf))
    return [p for p in parts if p]


@dataclass(frozen=True)
class Heredoc:
    """A heredoc opened by RUN/COPY/ADD; ``start``/``end`` bound the body inside ``raw``."""

    name: str
    chomp: bool
    expand: bool
    fd: int
    content: str
    start: int
    end: int


@dataclass(frozen=True)
class Word:
    """A whitespace-separated argument word of the logical line (quotes kept, offsets into raw)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Instruction(_Node):
    """One Dockerfile instruction with everything it owns.

    ``raw`` is the exact text (continuations, inner comments and blank lines, heredoc bodies, final
    line ending). Derived fields are computed from ``raw`` and ``escape``.
    """

    raw: str
    start: int = 0
    start_line: int = 1
    escape: str = "\\"
    keyword: str = field(init=False)
    end_line: int = field(init=False)
    logical: str = field(init=False, repr=False)
    flags: tuple[Flag, ...] = field(init=False)
    arguments: str = field(init=False)
    args_start: int = field(init=False)
    args_end: int = field(init=False)
    is_json: bool = field(init=False)
    exec_args: tuple[str, ...] | None = field(init=False)
    heredocs: tuple[Heredoc, ...] = field(init=False)
    _map: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _head_end: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _analyse(self)

    # -- positions
    @property
    def end(self) -> int:
        """Offset just past this instruction (including its last line ending)."""
        return self.start + len(self.raw)

    @property
    def head_end(self) -> int:
        """Offset into ``raw`` where the instruction's own lines end (heredoc bodies follow)."""
        return self._head_end

    def raw_offset(self, logical_index: int) -> int:
        """Offset into ``raw`` of a character of ``logical``; ``len(logical)`` maps past its end."""
        if logical_index >= len(self._map):
            return self._map[-1] + 1 if self._map else 0
        return self._map[logical_index]

    @property
    def keyword_span(self) -> tuple[int, int] | None:
        """Offsets into ``raw`` of the keyword when it is written in one piece; None when a line
        continuation splits it (``R\\`` + newline + ``UN``): an edit that rewrites the keyword needs it whole."""
        at = self.raw_offset(0)
        end = at + len(self.keyword)
        return (at, end) if self.raw[at:end].upper() == self.keyword else None

    @property
    def after_keyword(self) -> int:
        """Offset into ``raw`` just past the keyword's last character (also when a continuation splits it)."""
        return self.raw_offset(len(self.keyword) - 1) + 1

    # -- questions
    @property
    def words(self) -> tuple[Word, ...]:
        """Argument words after the flags, split on unquoted whitespace (quotes kept)."""
        kept = self._derived
        if kept.words is None:
            kept.words = tuple(
                Word(t, self.raw_offset(s), self.raw_offset(e - 1) + 1)
                for t, s, e in _split_words(self.logical, self._args_logical_start())
            )
        return kept.words

    @property
    def argv(self) -> tuple[str, ...]:
        """The arguments as the builder sees them: exec-form list, or words with quotes removed."""
        if self.exec_args is not None:
            return self.exec_args
        kept = self._derived
        if kept.argv is None:
            kept.argv = tuple(_shell_unquote(w.text)[0] for w in self.words)
        return kept.argv

    def _args_logical_start(self) -> int:
        for i, off in enumerate(self._map):
            if off >= self.args_start:
                return i
        return len(self._map)

    def flag(self, name: str) -> Flag | None:
        """The last flag called ``name`` (without dashes), as BuildKit keeps the last one."""
        found = [f for f in self.flags if f.name == name]
        return found[-1] if found else None

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @property
    def mounts(self) -> list[dict[str, str]]:
        """Options of each ``--mount`` flag of a RUN."""
        return [f.options() for f in self.flags if f.name == "mount"]

    @property
    def is_shell_form(self) -> bool:
        return not self.is_json

    def shell_text(self) -> tuple[str, int]:
        """The shell command of a shell-form RUN/CMD/ENTRYPOINT for :mod:`rewriter.core.shell`.

        Returns ``(text, offset)``: ``text`` has the same length as ``raw[offset:]`` so positions
        map one to one; Dockerfile-only syntax is neutralised (comment and blank lines inside the
        continuation become spaces, the continuation escape becomes a backslash right before the
        newline, CR before LF becomes a space).
        """
        kept = self._derived
        if kept.shell_view is None:
            kept.shell_view = _shell_view(self)
        return kept.shell_view, self.args_start


def _split_words(text: str, start: int, space: str = _ASCII_SPACE) -> Iterator[tuple[str, int, int]]:
    i, n = start, len(text)
    while i < n:
        while i < n and text[i] in space:
            i += 1
        if i >= n:
            break
        j, quote = i, ""
        while j < n:
            ch = text[j]
            if quote:
                if ch == "\\" and quote == '"' and j + 1 < n:
                    j += 2
                    continue
                if ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch in space:
                break
            j += 1
        yield text[i:j], i, j
        i = j


def _logical_line(lines: list[str], escape: str) -> tuple[str, list[int], int]:
    """Join an instruction's lines as BuildKit does; returns (logical, map, head_end).

    ``map[i]`` is the offset in the joined raw lines of ``logical[i]``; ``head_end`` is the offset
    just past the last line that belongs to the instruction itself (heredoc bodies follow).
    """
    chars: list[str] = []
    cmap: list[int] = []
    pos = 0
    first = True
    for line in lines:
        body = _strip_newline(line)
        offset = pos
        if first:
            lead = len(body) - len(_lstrip(body))
            body, offset = body[lead:], pos + lead
            first = False
        elif _is_comment(line) or _is_empty(line):
            pos += len(line)
            continue
        text, ended = _continuation_split(body, escape)
        chars.append(text)
        cmap.extend(range(offset, offset + len(text)))
        pos += len(line)
        if ended:
            break
    return "".join(chars), cmap, pos


_NO_FLAGS = frozenset({"ENV", "LABEL", "ARG"})


def _parse_head(logical: str, cmap: list[int], raw: str) -> tuple[str, list[Flag], int, str, tuple[str, ...] | None]:
    """Keyword, flags, logical index of the arguments, arguments text, exec-form arguments."""
    keyword_text = logical.split(None, 1)[0] if logical.strip() else ""
    keyword = keyword_text.upper()
    i = len(keyword_text)
    n = len(logical)
    flags: list[Flag] = []
    while True:
        j = i
        while j < n and logical[j] in _ASCII_SPACE:
            j += 1
        if not logical.startswith("--", j) or keyword in _NO_FLAGS:
            i = j
            break
        text, s, e = next(_split_words(logical, j))
        if text == "--":
            i = e
            break
        name, eq, value = text[2:].partition("=")
        raw_s, raw_e = cmap[s], cmap[e - 1] + 1
        flags.append(Flag(name.lower(), _unquote(value) if eq else None, raw[raw_s:raw_e], raw_s, raw_e))
        i = e
    while i < n and logical[i] in _SPACE:  # the value is trimmed of any Unicode space (not the flags)
        i += 1
    arguments = logical[i:].rstrip(_SPACE)
    exec_args: tuple[str, ...] | None = None
    if arguments.lstrip(_SPACE).startswith("[") and keyword not in _NO_FLAGS:
        try:
            parsed = json.loads(arguments.lstrip(_SPACE))
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            exec_args = tuple(parsed)
    return keyword, flags, i, arguments, exec_args


def _heredoc_specs(logical: str, args_i: int) -> list[tuple[str, bool, bool, int]]:
    """(name, chomp, expand, fd) of each heredoc the logical line opens, in order."""
    specs = []
    for text, _s, _e in _split_words(logical, args_i, _SPACE):  # BuildKit's shell lexer: Unicode spaces
        m = _HEREDOC_RE.match(text)
        if m and m.group(3):
            name, quoted = _shell_unquote(m.group(3))
            if name:
                specs.append((name, m.group(2) == "-", not quoted, int(m.group(1) or 0)))
    return specs


def _opens_heredocs(keyword: str, arguments: str, exec_args: tuple[str, ...] | None, logical: str) -> bool:
    """Can this instruction open heredocs? (RUN/COPY/ADD in shell form, also under ONBUILD.)"""
    if "<<" not in logical:
        return False
    if keyword == "ONBUILD":
        parts = arguments.split(None, 1)
        return bool(parts) and parts[0].upper() in HEREDOC_INSTRUCTIONS and not (
            len(parts) > 1 and parts[1].lstrip().startswith("["))
    return keyword in HEREDOC_INSTRUCTIONS and exec_args is None


def _shell_unquote(word: str) -> tuple[str, bool]:
    """Remove shell quoting as BuildKit's lexer does for heredoc names: (text, was it quoted)."""
    out: list[str] = []
    quoted = False
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if ch == "\\" and i + 1 < n:
            out.append(word[i + 1])
            quoted, i = True, i + 2
        elif ch == "'":
            j = word.find("'", i + 1)
            j = n if j < 0 else j
            out.append(word[i + 1 : j])
            quoted, i = True, j + 1
        elif ch == '"':
            j = i + 1
            while j < n and word[j] != '"':
                if word[j] == "\\" and j + 1 < n:
                    j += 1
                out.append(word[j])
                j += 1
            quoted, i = True, j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), quoted


def _read_bodies(
    rest: list[str], specs: list[tuple[str, bool, bool, int]], pos: int
) -> tuple[list[Heredoc], int, str | None]:
    """Read heredoc bodies from ``rest``; returns (heredocs, lines used, unterminated name)."""
    docs: list[Heredoc] = []
    used = 0
    for name, chomp, expand, fd in specs:
        body_start = pos
        content: list[str] = []
        while used < len(rest):
            line = rest[used]
            used += 1
            candidate = _strip_newline(line)
            if chomp:
                candidate = candidate.lstrip("\t")
            if candidate == name:
                docs.append(Heredoc(name, chomp, expand, fd, "".join(content), body_start, pos))
                pos += len(line)
                break
            content.append(line)
            pos += len(line)
        else:
            return docs, used, name
    return docs, used, None


class _Derived:
    """Answers computed from an instruction's text on first use (``words``, ``argv``, the shell view),
    shared by every instruction with the same text and escape, as their analysis is (:func:`_analysis`).
    Each value depends on the text alone (offsets are relative to ``raw``), is immutable, and is
    written once."""

    __slots__ = ("argv", "shell_view", "words")

    def __init__(self) -> None:
        self.words: tuple[Word, ...] | None = None
        self.argv: tuple[str, ...] | None = None
        self.shell_view: str | None = None


class _UnterminatedHeredoc(Exception):
    """Raised by :func:`_analysis` (which has no line number); :func:`_analyse` names the line."""


def _analyse(inst: Instruction) -> None:
    try:
        (keyword, line_count, logical, flags, arguments, args_start, args_end, exec_args, heredocs, cmap,
         head_end, derived) = _analysis(inst.raw, inst.escape)
    except _UnterminatedHeredoc as exc:
        raise DockerfileSyntaxError(f"unterminated heredoc <<{exc.args[0]}", inst.start_line) from None
    set_ = object.__setattr__
    set_(inst, "keyword", keyword)
    set_(inst, "end_line", inst.start_line + line_count - 1)
    set_(inst, "logical", logical)
    set_(inst, "flags", flags)
    set_(inst, "arguments", arguments)
    set_(inst, "args_start", args_start)
    set_(inst, "args_end", args_end)
    set_(inst, "is_json", exec_args is not None)
    set_(inst, "exec_args", exec_args)
    set_(inst, "heredocs", heredocs)
    set_(inst, "_map", cmap)
    set_(inst, "_head_end", head_end)
    set_(inst, "_derived", derived)  # not a field: shared, compared and printed through what it answers


@functools.lru_cache(maxsize=4096)
def _analysis(raw: str, escape: str) -> tuple[Any, ...]:
    """What an instruction's text says (every offset relative to ``raw``), by its text and escape only.

    Kept per (text, escape): a file is parsed again after each round of fixes and each output before
    it is written, and most of its instructions are unchanged, so only the changed ones are analysed
    again (the values are immutable: tuples, strings and frozen flags and heredocs).
    """
    lines = split_lines(raw)
    logical, cmap, head_end = _logical_line(lines, escape)
    keyword, flags, i, arguments, exec_args = _parse_head(logical, cmap, raw)
    args_start = cmap[i] if i < len(cmap) else (cmap[-1] + 1 if cmap else 0)
    args_end = cmap[i + len(arguments) - 1] + 1 if arguments else args_start
    heredocs: list[Heredoc] = []
    if _opens_heredocs(keyword, arguments, exec_args, logical):
        head_lines = len(split_lines(raw[:head_end]))
        heredocs, _used, missing = _read_bodies(lines[head_lines:], _heredoc_specs(logical, i), head_end)
        if missing is not None:
            raise _UnterminatedHeredoc(missing)
    return (keyword, max(len(lines), 1), logical, tuple(flags), arguments, args_start, args_end, exec_args,
            tuple(heredocs), tuple(cmap), head_end, _Derived())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _shell_view(inst: Instruction) -> str:
    raw = inst.raw
    head = raw[: inst.head_end]
    out = list(head)
    lines = split_lines(head)
    pos = 0
    first = True
    esc = inst.escape
    for line in lines:
        body = _strip_newline(line)
        if not first and (_is_comment(line) or _is_empty(line)):
            for k in range(pos, pos + len(line)):
                out[k] = " "
        else:
            before, ended = _continuation_split(body, esc)
            if not ended and len(body) < len(line):
                e = pos + len(before)
                for k in range(e, pos + len(line) - 1):
                    out[k] = " "
                out[pos + len(line) - 2] = "\\"
            elif body != line.rstrip("\n"):  # CR before LF
                for k in range(pos + len(body), pos + len(line) - 1):
                    out[k] = " "
        first = False
        pos += len(line)
    return "".join(out)[inst.args_start:] + raw[inst.head_end:]


# --------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class Stage:
    """A build stage: its FROM and the instructions up to the next FROM."""

    index: int
    name: str | None
    base: str
    platform: str | None
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]

    @property
    def copies_from(self) -> tuple[str, ...]:
        """Sources named by ``COPY --from`` and ``RUN --mount=from=`` in this stage."""
        out: list[str] = []
        for inst in self.instructions:
            if inst.keyword in {"COPY", "ADD"}:
                out.extend(inst.flag_values("from"))
            elif inst.keyword == "RUN":
                out.extend(m["from"] for m in inst.mounts if m.get("from"))
        return tuple(out)

    @property
    def start_line(self) -> int:
        return self.from_instruction.start_line

    @property
    def end_line(self) -> int:
        return self.instructions[-1].end_line

    def last(self, keyword: str) -> Instruction | None:
        found = [i for i in self.instructions if i.keyword == keyword]
        return found[-1] if found else None


Node = Directive | Comment | Blank | Instruction


@dataclass(frozen=True)
class Dockerfile:
    """The whole file: optional BOM plus nodes; ``code`` gives the source back exactly."""

    nodes: tuple[Node, ...]
    bom: str = ""

    def with_changes(self, **changes: Any) -> Dockerfile:
        return dataclasses.replace(self, **changes)

    @functools.cached_property  # the nodes are immutable: asked for ~5 times a tree (newline, text)
    def code(self) -> str:
        return self.bom + "".join(n.raw for n in self.nodes)

    @property
    def escape(self) -> str:
        for d in self.directives:
            if d.name == "escape":
                return d.value
        return "\\"

    @functools.cached_property
    def newline(self) -> str:
        """The file's dominant line ending (``\\r\\n`` or ``\\n``)."""
        code = self.code
        crlf = code.count("\r\n")
        return "\r\n" if crlf and crlf * 2 >= code.count("\n") else "\n"

    @functools.cached_property
    def directives(self) -> tuple[Directive, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Directive))

    @functools.cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Instruction))

    @functools.cached_property
    def stages(self) -> tuple[Stage, ...]:
        stages: list[Stage] = []
        current: list[Instruction] = []
        for inst in self.instructions:
            if inst.keyword == "FROM":
                if current and current[0].keyword == "FROM":
                    stages.append(_make_stage(len(stages), current))
                current = [inst]
            elif current and current[0].keyword == "FROM":
                current.append(inst)
        if current and current[0].keyword == "FROM":
            stages.append(_make_stage(len(stages), current))
        return tuple(stages)

    @functools.cached_property
    def final_stage(self) -> Stage | None:
        stages = self.stages
        return stages[-1] if stages else None

    def stage_named(self, ref: str) -> Stage | None:
        """The stage a ``--from``/``FROM`` reference names (by name or index), if any: the first stage
        whose name is ``ref`` (case aside) or whose index ``ref`` spells."""
        by_name, by_index = self._stage_refs
        named, numbered = by_name.get(ref.lower()), by_index.get(ref)
        if named is None or numbered is None:
            return numbered if named is None else named
        return named if named.index < numbered.index else numbered

    @functools.cached_property
    def _stage_refs(self) -> tuple[dict[str, Stage], dict[str, Stage]]:
        by_name: dict[str, Stage] = {}
        for st in self.stages:
            if st.name:
                by_name.setdefault(st.name.lower(), st)
        return by_name, {str(st.index): st for st in self.stages}

    def node_at_line(self, line: int) -> Node | None:
        for n in self.nodes:
            end = n.end_line if isinstance(n, Instruction) else n.start_line
            if n.start_line <= line <= end:
                return n
        return None

    def validate(self) -> None:
        """Raise :class:`DockerfileSyntaxError` unless this is a usable Dockerfile.

        Checks what BuildKit's dispatcher rejects before building: unknown instructions, no FROM,
        instructions other than ARG before the first FROM.
        """
        insts = self.instructions
        if not insts:
            raise DockerfileSyntaxError("file contains no instructions")
        for inst in insts:
            if inst.keyword not in KNOWN_INSTRUCTIONS:
                raise DockerfileSyntaxError(f"unknown instruction {inst.keyword or '(empty)'!r}", inst.start_line)
        for inst in insts:
            if inst.keyword == "FROM":
                if not inst.arguments:
                    raise DockerfileSyntaxError("FROM requires an image", inst.start_line)
                break
            if inst.keyword != "ARG":
                raise DockerfileSyntaxError(f"{inst.keyword} before the first FROM", inst.start_line)
        else:
            raise DockerfileSyntaxError("no FROM instruction")


def _make_stage(index: int, insts: list[Instruction]) -> Stage:
    frm = insts[0]
    words = [w.text for w in frm.words]
    name = None
    if len(words) >= 3 and words[1].lower() == "as":
        name = words[2]
    base = words[0] if words else ""
    plat = frm.flag("platform")
    return Stage(index, name, base, plat.value if plat else None, frm, tuple(insts))


# --------------------------------------------------------------------------- parser


@functools.lru_cache(maxsize=8)  # a run re-parses the same text (validate, then every transform)
def parse(source: str) -> Dockerfile:
    """Parse Dockerfile text into a lossless tree (``parse(s).code == s``).

    Raises :class:`DockerfileSyntaxError` for what BuildKit's parser rejects: an unterminated
    heredoc, a repeated parser directive, an invalid escape character.
    """
    bom = BOM if source.startswith(BOM) else ""
    text = source[len(bom):]
    lines = split_lines(text)
    nodes: list[Node] = []
    escape = "\\"
    pos = 0
    idx = 0
    directives_done = False
    seen: set[str] = set()
    n = len(lines)
    while idx < n:
        line = lines[idx]
        lineno = idx + 1
        body = line.rstrip("\r\n").lstrip(_SPACE)  # _lstrip(_strip_newline(line)), inlined: every line
        if not directives_done:
            m = _DIRECTIVE_RE.match(body)
            if m and m.group(1).lower() in DIRECTIVE_NAMES:
                key = m.group(1).lower()
                if key in seen:
                    raise DockerfileSyntaxError(f"only one {key} parser directive can be used", lineno)
                seen.add(key)
                if key == "escape":
                    if m.group(2) not in {"\\", "`"}:
                        raise DockerfileSyntaxError(f"invalid escape token {m.group(2)!r}", lineno)
                    escape = m.group(2)
                nodes.append(Directive(line, pos + len(bom), lineno))
                pos += len(line)
                idx += 1
                continue
            directives_done = True
        if body.startswith("#"):  # _is_comment(line)
            nodes.append(Comment(line, pos + len(bom), lineno))
        elif not body:  # _is_empty(line)
            nodes.append(Blank(line, pos + len(bom), lineno))
        else:
            # the instruction's own lines: first line, then continuation lines
            j = idx
            _, ended = _continuation_split(body, escape)
            j += 1
            while not ended and j < n:
                nxt = lines[j].rstrip("\r\n")
                j += 1
                rest = nxt.lstrip(_SPACE)
                if not rest or rest[0] == "#":  # a blank or comment line inside the continuation
                    continue
                _, ended = _continuation_split(nxt, escape)
            head = lines[idx:j]
            raw = "".join(head)
            if "<<" in raw:  # may open heredocs: their bodies belong to the instruction
                logical, cmap, _head_end = _logical_line(head, escape)
                keyword, _f, args_i, _a, exec_args = _parse_head(logical, cmap, raw)
                if _opens_heredocs(keyword, _a, exec_args, logical):
                    _docs, used, missing = _read_bodies(lines[j:], _heredoc_specs(logical, args_i), 0)
                    if missing is not None:
                        raise DockerfileSyntaxError(f"unterminated heredoc <<{missing}", lineno)
                    j += used
                    raw = "".join(lines[idx:j])
            inst = Instruction(raw, pos + len(bom), lineno, escape)
            nodes.append(inst)
            pos += len(raw)
            idx = j
            continue
        pos += len(line)
        idx += 1
    return Dockerfile(tuple(nodes), bom)
