"""Shell analysis: a structured, offset-exact view of the shell text of RUN / shell-form CMD.

``parse_shell`` turns shell text into a ``Script``: the simple commands in source order (flattened
out of lists, pipelines and compound statements, with their nesting depth), their words with quotes
resolved, env prefixes, redirects, heredocs and the control operator following each command. All
offsets are ``str`` indices into the text given, so edits can be spliced back losslessly.

The parser is tree-sitter-bash, with local repairs for places where its tree is wrong:
heredocs are found by a small scanner of our own (tree-sitter nests whatever follows ``<<EOF`` on
the same line *inside* the heredoc node and fails on two heredocs on one line), and words it splits
at a backslash-newline (``cu\\<newline>rl``) or joins over whitespace (``} ] {``) are re-cut.
The text tree-sitter sees is also edited, keeping its length: comments inside ``$(...)`` and
backticks are blanked (tree-sitter runs the comment of ``a `# note` b`` past the closing backtick),
a substitution that is then empty (``$()``, ``` `# note` ```; tree-sitter rejects those) becomes a
same-length ``$___``, and a backslash-newline ending the text (a Dockerfile continuation running
to the end of the file) is blanked. An empty substitution therefore stays a word of its command,
kept verbatim like any expansion, with nothing in ``substitutions`` (unquoted, bash expands it to
no argument at all).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

_EXPANSIONS = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion", "process_substitution"}
)
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
_WORDISH = _EXPANSIONS | {
    "word", "string", "raw_string", "concatenation", "number", "ansi_c_string", "translated_string",
    "brace_expression", "test_operator", "extglob_pattern", "regex", "variable_assignment",
    "variable_name", "subscript",
}  # fmt: skip
_ATOM_COMMANDS = frozenset({"declaration_command", "unset_command", "test_command"})
_COMPOUND = frozenset(
    {"subshell", "compound_statement", "if_statement", "while_statement", "for_statement",
     "c_style_for_statement", "case_statement", "function_definition"}
)  # fmt: skip
_CONTAINERS = frozenset({"program", "list", "pipeline", "do_group", "elif_clause", "else_clause", "case_item", "ERROR"})
_STATEMENTS = _COMPOUND | _CONTAINERS | _ATOM_COMMANDS | {
    "command", "variable_assignment", "variable_assignments", "negated_command", "redirected_statement",
}  # fmt: skip
_OPERATORS = frozenset({"&&", "||", ";", "|", "|&", "&", ";;", ";&", ";;&"})
_CONTINUATION = re.compile(r"\\\r?\n")
_TOKEN = re.compile(r"(?:\\\r\n|\\[\s\S]|\S)+")
_OPENERS = ("$((", "$(", "<(", ">(", "${")
#: the characters _repair_substitutions acts on (every other one is stepped over)
_REPAIR_CHARS = frozenset("\\`$<>\"'}()#")
_REPAIR_NEXT = re.compile(r"[\\`$<>\"'}()#]")
_SUBSTITUTION_OPENERS = frozenset({"$(", "<(", ">(", "`"})
_CODE = frozenset({"", "(", "$(", "<(", ">(", "`"})
_ANSI_STRING = re.compile(r"\$'(?:\\[\s\S]|[^'\\])*'?")
#: per quoting state of :func:`_resolve`, the characters that stand for themselves there: unquoted,
#: all but quotes, backslashes and ``$`` (which may open ``$'...'``); in '...', all but its end; in
#: "...", all but its end and backslashes
_RUNS = {"": re.compile(r"[^'\"\\$]+"), "'": re.compile(r"[^']+"), '"': re.compile(r'[^"\\]+')}
_GLOB = re.compile(r"[*?]|\[.+\]|(?:^|[=:])~|\{[^{}]*(?:,|\.\.)[^{}]*\}")
#: what every expansion, substitution and brace expression node's text holds (the stand-ins the parser
#: is given keep these characters: ``$()`` becomes ``$___``, blanked text becomes spaces)
_MAY_EXPAND = re.compile(r"[$`{]|[<>]\(")
_UNSAFE = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")
_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
         "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip
_BUILTINS = frozenset(
    {".", ":", "alias", "break", "builtin", "cd", "command", "continue", "declare", "eval", "exec", "exit",
     "export", "getopts", "hash", "let", "local", "read", "readonly", "return", "set", "shift", "shopt",
     "source", "trap", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word: ``raw`` is ``text[start:end]``, ``text`` has quotes and escapes resolved.

    Expansions (``$VAR``, ``${VAR}``, ``$(...)``) are kept literally in ``text``; ``is_literal`` is
    False when the word contains one, or an unquoted glob, brace expansion or tilde.
    """

    text: str
    raw: str
    start: int
    end: int
    is_literal: bool = True


@dataclass(frozen=True, slots=True)
class Assignment:
    """``name=value`` (env prefix or bare assignment); ``value`` is None for ``name=``."""

    name: str
    value: Word | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document; ``body`` is the raw ``text[body_start:body_end]`` (up to the delimiter line)."""

    delimiter: str
    quoted: bool
    strip_tabs: bool
    body: str
    body_start: int
    body_end: int

    @property
    def content(self) -> str:
        """The body as the command sees it before expansion (leading tabs removed for ``<<-``)."""
        return re.sub(r"(?m)^\t+", "", self.body) if self.strip_tabs else self.body


@dataclass(frozen=True, slots=True)
class Redirect:
    """A redirection such as ``> f``, ``2>&1`` (op ``>&``, fd 2, target ``1``) or ``<<EOF``."""

    op: str
    fd: int | None
    target: Word | None
    start: int
    end: int
    heredoc: Heredoc | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A simple command; ``start``/``end`` cover env prefix, words and redirects (not heredoc bodies).

    ``operator`` is the control operator following the command at its own level (``&&``, ``||``,
    ``;``, ``|``, ``&``, ``"\\n"``) or None. ``depth`` is 0 at top level and grows inside subshells,
    groups, compound statements and functions. Commands inside ``$(...)``/``<(...)`` of this
    command's words are in ``substitutions`` (with depths relative to the substitution).
    """

    words: tuple[Word, ...]
    env: tuple[Assignment, ...]
    redirects: tuple[Redirect, ...]
    start: int
    end: int
    operator: str | None = None
    depth: int = 0
    in_pipeline: bool = False
    negated: bool = False
    substitutions: tuple[Command, ...] = ()
    #: :attr:`argv`, kept once asked for (the codemods ask ~6 times a command); not part of equality
    _argv: tuple[str, ...] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        """Resolved text of the first word, or "" for a bare assignment / redirect."""
        return self.words[0].text if self.words else ""

    @property
    def args(self) -> tuple[Word, ...]:
        """The words after the command name."""
        return self.words[1:]

    @property
    def argv(self) -> tuple[str, ...]:
        """Resolved texts of all words."""
        argv = self._argv
        if argv is None:
            argv = tuple(w.text for w in self.words)
            object.__setattr__(self, "_argv", argv)
        return argv


@dataclass(frozen=True, slots=True)
class Script:
    """The parsed shell text: commands in source order and all heredocs."""

    text: str
    commands: tuple[Command, ...]
    heredocs: tuple[Heredoc, ...]
    has_error: bool
    has_compound: bool = False

    def find(self, name: str) -> list[Command]:
        """Commands (any depth) named ``name`` or ``.../name`` such as ``/usr/bin/apt-get``."""
        return [c for c in self.commands if c.name == name or c.name.endswith("/" + name)]

    def is_simple_chain(self) -> bool:
        """True when all commands are top level and joined only by ``&&``, ``;`` or newlines."""
        if self.has_error or self.has_compound:
            return False
        last = len(self.commands) - 1
        for i, cmd in enumerate(self.commands):
            allowed = (None, ";", "\n") if i == last else ("&&", ";", "\n")
            if cmd.depth or cmd.negated or cmd.operator not in allowed:
                return False
        return True

    def last_top_level(self) -> Command | None:
        """The last command at depth 0, if any."""
        return next((c for c in reversed(self.commands) if c.depth == 0), None)


@functools.cache
def _parser() -> Parser:
    from tree_sitter import Language, Parser

    return Parser(Language(_bash_language()))


def _bash_language() -> object:
    """``tree_sitter_bash.language()``, loaded from the package's compiled binding alone.

    The package's ``__init__`` imports :mod:`importlib.resources` for a query file we never read,
    and with it ``tempfile``, ``shutil``, ``bz2``, ``lzma`` and ``random`` (~5 ms, in every batch
    worker). Anything unexpected in how the package is installed falls back to the plain import.
    """
    name = "tree_sitter_bash._binding"
    binding = sys.modules.get(name)
    if binding is None:
        try:
            import importlib.util
            from importlib.machinery import PathFinder

            package = PathFinder.find_spec("tree_sitter_bash")
            spec = PathFinder.find_spec(name, package.submodule_search_locations) if package else None
            if spec is None or spec.loader is None:
                raise ImportError(name)
            binding = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(binding)
            sys.modules[name] = binding  # a later ``import tree_sitter_bash`` uses this one
        except Exception:
            import tree_sitter_bash

            return tree_sitter_bash.language()
    return binding.language()


def _resolve(raw: str, spans: Sequence[tuple[int, int]] = ()) -> tuple[str, bool]:
    """Resolve quotes/escapes in ``raw``; ``spans`` (relative) are copied verbatim. Returns (text, globby)."""
    if not spans and "'" not in raw and '"' not in raw and "\\" not in raw:
        return raw, bool(_GLOB.search(raw))  # nothing to resolve (most words): the loop below would copy it
    out: list[str] = []
    unquoted: list[str] = []
    verbatim = dict(spans)
    starts = sorted(verbatim)
    upcoming = 0  # index in ``starts`` of the next verbatim span at or after i
    i, n, quote = 0, len(raw), ""
    while i < n:
        if i in verbatim:
            out.append(raw[i : verbatim[i]])
            unquoted.append("\0")
            i = verbatim[i]
            continue
        run = _RUNS.get(quote)
        if run is not None:  # a stretch of characters that each stand for themselves, in one step
            while upcoming < len(starts) and starts[upcoming] <= i:
                upcoming += 1
            m = run.match(raw, i, starts[upcoming] if upcoming < len(starts) else n)
            if m:
                out.append(m[0])
                unquoted.append(m[0] if not quote else "\0" * len(m[0]))
                i = m.end()
                continue
        c, nxt = raw[i], raw[i + 1 : i + 2]
        step, emit, plain = 1, c, False
        if quote == "'":
            quote, emit = ("", "") if c == "'" else (quote, c)
        elif c == "\\" and nxt and quote != "$'":
            if cont := _CONTINUATION.match(raw, i):
                step, emit = len(cont[0]), ""
            elif not quote or nxt in '"\\$`':
                step, emit = 2, nxt
        elif quote == "$'":
            if c == "'":
                quote, emit = "", ""
            elif c == "\\" and nxt:
                hexa = re.match(r"x([0-9a-fA-F]{1,2})", raw[i + 1 :])
                step = 2 + (len(hexa[0]) - 1 if hexa else 0)
                emit = chr(int(hexa[1], 16)) if hexa else _ANSI.get(nxt, "\\" + nxt)
        elif quote == '"':
            quote, emit = ("", "") if c == '"' else (quote, c)
        elif c in "'\"":
            quote, emit = c, ""
        elif c == "$" and nxt and nxt in "'\"":
            quote, step, emit = "$" + nxt if nxt == "'" else nxt, 2, ""
        else:
            plain = True
        out.append(emit)
        unquoted.append(c if plain else "\0" * len(emit))
        i += step
    return "".join(out), bool(_GLOB.search("".join(unquoted)))


@dataclass(slots=True)
class _HeredocScan:
    op_start: int
    strip_tabs: bool
    delimiter: str
    quoted: bool
    delim_end: int
    body_start: int = 0
    body_end: int = 0
    close_end: int = 0
    terminated: bool = True


def _scan_heredocs(text: str) -> list[_HeredocScan]:
    """Find heredoc operators (outside quotes, comments and arithmetic) and their bodies."""
    if "<<" not in text:
        return []  # no operator at all (most RUNs): nothing to scan
    found: list[_HeredocScan] = []
    pending: list[_HeredocScan] = []
    i, n, quote = 0, len(text), ""
    while i < n:
        c = text[i]
        if quote == "'":
            quote = "" if c == "'" else quote
        elif c == "\\":
            i += 2
            continue
        elif quote:
            quote = "" if c == quote[-1] else quote
        elif c in "'\"":
            quote = c
        elif text.startswith("$'", i):
            quote, i = "$'", i + 2
            continue
        elif c == "#" and (i == 0 or text[i - 1] in " \t\r\n;&|()"):
            i = n if (j := text.find("\n", i)) < 0 else j
            continue
        elif text.startswith("((", i) or text.startswith("$((", i):
            i = _skip_parens(text, text.index("(", i))
            continue
        elif text.startswith("<<<", i):
            i += 3
            continue
        elif text.startswith("<<", i):
            hd = _heredoc_operator(text, i)
            i = hd.delim_end if hd else i + 2
            if hd:
                found.append(hd)
                pending.append(hd)
            continue
        elif c == "\n" and pending:
            i = _read_bodies(text, i + 1, pending)
            pending.clear()
            continue
        i += 1
    _read_bodies(text, n + 1, pending)
    return found


def _skip_parens(text: str, i: int) -> int:
    depth = 0
    for j in range(i, len(text)):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    return len(text)


def _heredoc_operator(text: str, i: int) -> _HeredocScan | None:
    j, n = i + 2, len(text)
    strip = text.startswith("-", j)
    j += strip
    while j < n and text[j] in " \t":
        j += 1
    start, quoted = j, False
    while j < n and text[j] not in " \t\r\n;&|<>()":
        if text[j] in "'\"":
            k = text.find(text[j], j + 1)
            j, quoted = (n if k < 0 else k + 1), True
        else:
            quoted |= text[j] == "\\"
            j += 2 if text[j] == "\\" else 1
    j = min(j, n)
    if j == start:
        return None
    return _HeredocScan(i, strip, _resolve(text[start:j])[0], quoted, j)


def _read_bodies(text: str, pos: int, pending: list[_HeredocScan]) -> int:
    """Consume the bodies of ``pending`` heredocs starting at ``pos``; return the last close end."""
    n, end = len(text), pos - 1
    for hd in pending:
        hd.body_start = pos = min(pos, n)
        while True:
            if pos >= n:
                hd.body_end = hd.close_end = n
                hd.terminated = False
                break
            line_end = n if (k := text.find("\n", pos)) < 0 else k
            line = text[pos:line_end].removesuffix("\r")
            if (line.lstrip("\t") if hd.strip_tabs else line) == hd.delimiter:
                hd.body_end, hd.close_end, pos = pos, line_end, line_end + 1
                break
            pos = line_end + 1
        end = hd.close_end
    return end


def _repair_substitutions(text: str) -> str:
    """Blank comments inside ``$(...)`` and backticks and stand in ``$___`` for empty ones.

    The result has the length of ``text``. A comment there ends at the newline (bash does not let a
    ``)`` in it close the substitution) or, inside backticks, at the closing backtick; tree-sitter
    runs it past the backtick, and fails on a substitution without a command. Comments outside
    substitutions are left alone: tree-sitter handles them.
    """
    if "`" not in text and "$(" not in text and "<(" not in text and ">(" not in text:
        return text  # no substitution: nothing to repair (most RUNs)
    chars = list(text)
    stack: list[tuple[str, int]] = []  # open contexts: (opener, index of the opener)
    i, n, glued = 0, len(text), -1  # glued: just after a substitution closed inside a word
    while i < n:
        if text[i] not in _REPAIR_CHARS:  # a character no branch below acts on: on to the next one
            found = _REPAIR_NEXT.search(text, i)
            if found is None:
                break
            i = found.start()
        c, kind = text[i], stack[-1][0] if stack else ""
        opener = next((o for o in _OPENERS if text.startswith(o, i)), "") if c in "$<>" else ""
        if kind == '"' or kind == "${" or kind == "$((":
            opener = opener if opener.startswith("$") else ""
        step = 1
        if c == "\\":
            step = 2
        elif c == "`":
            if any(k == "`" for k, _ in stack):
                while stack[-1][0] != "`":
                    stack.pop()
                _stand_in(chars, stack.pop()[1], i + 1)
            else:
                stack.append(("`", i))
        elif opener:
            stack.append((opener, i))
            step = len(opener)
        elif kind == '"':
            if c == '"':
                stack.pop()
        elif c == "'" and kind != "$((" and not (kind == "${" and any(k == '"' for k, _ in stack)):
            step = (n if (j := text.find("'", i + 1)) < 0 else j + 1) - i
        elif text.startswith("$'", i) and kind != "$((":
            step = (m.end() if (m := _ANSI_STRING.match(text, i)) else n) - i
        elif c == '"':
            stack.append(('"', i))
        elif kind == "${":
            if c == "}":
                stack.pop()
        elif c == "(":
            stack.append(("(", i))
        elif c == ")" and kind not in ("", "`"):
            at = stack.pop()[1]
            if kind == "$(":
                _stand_in(chars, at, i + 1)
            elif kind == "$((" and text.startswith("))", i):
                step = 2
            glued = -1 if kind == "(" else i + step
        elif (
            c == "#"
            and kind in _CODE
            and i != glued
            and _starts_word(text, i, stack[-1][1] + len(kind) if stack else 0)
        ):
            end = n if (j := text.find("\n", i)) < 0 else j
            if any(k == "`" for k, _ in stack):
                end = min(end, _closing_backtick(text, i, end))
            if any(k in _SUBSTITUTION_OPENERS for k, _ in stack):
                chars[i:end] = " " * (end - i)
            step = end - i
        i += step
    return "".join(chars)


def _stand_in(chars: list[str], start: int, end: int) -> None:
    """Replace the substitution ``chars[start:end]`` by ``$___`` when it holds no command."""
    opener = "`" if chars[start] == "`" else "$("
    inner = "".join(chars[start + len(opener) : end - 1])
    if not _CONTINUATION.sub("", inner).strip():
        chars[start:end] = "$" + "_" * (end - start - 1)


def _starts_word(text: str, i: int, context_start: int) -> bool:
    """True when ``text[i]`` begins a word (bash starts a comment only there)."""
    while i - 2 >= context_start and text[i - 1] == "\n":  # step back over backslash-newlines
        j = i - 2 - (text[i - 2] == "\r")
        if j < context_start or text[j] != "\\":
            break
        i = j
    return i <= context_start or text[i - 1] in " \t\r\n;&|()<>"


def _closing_backtick(text: str, i: int, end: int) -> int:
    """Index of the first unescaped backtick in ``text[i:end]``, or ``end``."""
    while i < end and text[i] != "`":
        i += 2 if text[i] == "\\" else 1
    return min(i, end)


def _blank_final_continuations(text: str) -> str:
    """Blank the backslash of backslash-newlines followed by nothing but whitespace (bash accepts them)."""
    end = len(text)
    while True:
        stripped = text[:end].rstrip(" \t\r\n")
        j = len(stripped)
        backslashes = j - len(stripped.rstrip("\\"))
        if not (backslashes % 2 and _CONTINUATION.match(text, j - 1)):
            return text
        text, end = text[: j - 1] + " " + text[j:], j - 1


class _Builder:
    """Walks the tree-sitter tree (of the heredoc-blanked text) and builds ``Command`` objects."""

    def __init__(self, text: str, sub: str, heredocs: dict[int, Heredoc]) -> None:
        self.text, self.sub, self.heredocs = text, sub, heredocs
        self.compound = False
        self.subs: list[Command] = []
        encoded = sub.encode("utf-8")
        self.map: list[int] | None = None
        if len(encoded) != len(sub):
            sizes = (1 if ch < "\x80" else 2 if ch < "\u0800" else 3 for ch in sub)  # no astral chars here
            self.map = [i for i, size in enumerate(sizes) for _ in range(size)] + [len(sub)]
        self.tree = _parser().parse(encoded)

    def pos(self, byte: int) -> int:
        return byte if self.map is None else self.map[min(byte, len(self.map) - 1)]

    def span(self, node: Node) -> tuple[int, int]:
        if self.map is None:  # ASCII text (most): bytes are characters
            return node.start_byte, node.end_byte
        return self.pos(node.start_byte), self.pos(node.end_byte)

    def seq(self, node: Node, depth: int, pipe: bool, neg: bool, out: list[Command]) -> None:
        kids = [k for k in node.children if k.type != "comment"]
        for i, kid in enumerate(kids):
            if not (kid.is_named and kid.type in _STATEMENTS):
                continue
            count = len(out)
            self.stmt(kid, depth, pipe, neg, out)
            if len(out) == count or out[-1].depth != depth or i + 1 == len(kids):
                continue
            nxt, op = kids[i + 1], None
            if not nxt.is_named and nxt.type in _OPERATORS:
                op = nxt.type
            elif "\n" in _CONTINUATION.sub("", self.sub[self.pos(kid.end_byte) : self.pos(nxt.start_byte)]):
                op = "\n"
            if op:
                out[-1] = _with_operator(out[-1], op)

    def stmt(self, node: Node, depth: int, pipe: bool, neg: bool, out: list[Command]) -> None:
        kind = node.type
        if kind in ("command", "variable_assignment", "variable_assignments") or kind in _ATOM_COMMANDS:
            out.append(self.command(node, depth, pipe, neg, []))
        elif kind == "negated_command":
            self.seq(node, depth, pipe, True, out)
        elif kind == "redirected_statement":
            redirects = node.children_by_field_name("redirect")
            body, count = node.child_by_field_name("body"), len(out)
            if body is None:
                at = self.pos(node.start_byte)
                out.append(self.command(None, depth, pipe, neg, redirects, Command((), (), (), at, at)))
            elif body.type == "command" or body.type in _ATOM_COMMANDS:
                out.append(self.command(body, depth, pipe, neg, redirects))
            else:
                self.stmt(body, depth, pipe, neg, out)
                if body.type not in _COMPOUND and len(out) > count and out[-1].depth == depth:
                    out[-1] = self.command(None, depth, pipe, neg, redirects, out[-1])
        elif kind in _COMPOUND:
            self.compound = True
            self.seq(node, depth + 1, False, False, out)
        elif kind == "pipeline":  # tree-sitter binds `!` to the first command only, bash to the pipeline
            first = node.named_children[0] if node.named_child_count else None
            self.seq(node, depth, True, neg or (first is not None and first.type == "negated_command"), out)
        else:
            self.seq(node, depth, pipe, neg, out)

    def command(
        self, node: Node | None, depth: int, pipe: bool, neg: bool, redirs: list[Node], base: Command | None = None
    ) -> Command:
        """Build a command from ``node`` plus ``redirs``, extending ``base`` when given."""
        saved, self.subs = self.subs, []
        parts: list[tuple[int, int, Node | None]] = []
        env: list[Assignment] = []
        redirects: list[Redirect] = []
        kids = [] if node is None else [node] if node.type == "variable_assignment" else node.children
        start, end = self.span(node) if node is not None else (base.start, base.end) if base else (0, 0)
        atom = node is not None and node.type in _ATOM_COMMANDS
        for kid in kids + redirs:
            kind = kid.type
            kid_start, kid_end = self.span(kid)
            if kind == "variable_assignment" and not atom:
                env.append(self.assignment(kid))
            elif kind.endswith("_redirect"):
                redirects.append(self.redirect(kid, parts))
            elif atom:
                self.atoms(kid, parts)
            elif kid.is_named and kind not in ("comment", "ERROR"):
                parts.extend(self.pieces(kid))
            if kid_start < start:
                start = kid_start
            if kid_end > end:
                end = kid_end
        words = self.join(sorted(parts, key=_first))
        subs, self.subs = tuple(self.subs), saved
        if base is None:
            return Command(tuple(words), tuple(env), tuple(redirects), start, end, None, depth, pipe, neg, subs)
        return dataclasses.replace(
            base,
            words=tuple(sorted((*base.words, *words), key=lambda w: w.start)),
            env=(*base.env, *env),
            redirects=(*base.redirects, *redirects),
            start=start,
            end=end,
            substitutions=base.substitutions + subs,
        )

    def pieces(self, node: Node) -> list[tuple[int, int, Node | None]]:
        kind = node.type
        if kind == "command_name" and node.named_child_count == 1:
            node = node.named_children[0]
            kind = node.type
        start, end = self.span(node)
        if kind == "word" and not _TOKEN.fullmatch(self.text[start:end]):
            return [(start + m.start(), start + m.end(), None) for m in _TOKEN.finditer(self.text[start:end])]
        return [(start, end, node)]

    def atoms(self, node: Node, parts: list[tuple[int, int, Node | None]]) -> None:
        if node.type in _WORDISH or node.child_count == 0:
            if node.type not in ("comment", "ERROR"):
                parts.append((*self.span(node), node))
            return
        for kid in node.children:
            self.atoms(kid, parts)

    def join(self, parts: list[tuple[int, int, Node | None]]) -> list[Word]:
        """Merge pieces separated by nothing or only by backslash-newlines, then build words."""
        groups: list[list[tuple[int, int, Node | None]]] = []
        for part in parts:
            gap = self.text[groups[-1][-1][1] : part[0]] if groups else " "
            # nothing but backslash-newlines between them (a gap without a backslash is checked by eye)
            if not gap or ("\\" in gap and not _CONTINUATION.sub("", gap)):
                groups[-1].append(part)
            else:
                groups.append([part])
        return [self.word(g[0][0], g[-1][1], [n for _, _, n in g if n is not None]) for g in groups]

    def word(self, start: int, end: int, nodes: list[Node]) -> Word:
        raw = self.text[start:end]
        if not _MAY_EXPAND.search(raw):  # no expansion, substitution or brace node can be inside: no walk
            text, globby = _resolve(raw)
            return Word(text, raw, start, end, not globby)
        spans: list[tuple[int, int]] = []
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if node.type in _EXPANSIONS:
                a, b = self.span(node)
                spans.append((a - start, b - start))
                if node.type in _SUBSTITUTIONS:
                    saved = self.compound
                    self.seq(node, 0, False, False, self.subs)
                    self.compound = saved
            else:
                stack.extend(node.children)
        expanded = bool(spans) or any(_has_type(n, "brace_expression") for n in nodes)
        text, globby = _resolve(self.text[start:end], spans)
        return Word(text, self.text[start:end], start, end, not (expanded or globby))

    def assignment(self, node: Node) -> Assignment:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        start, end = self.span(node)
        word = self.word(*self.span(value), [value]) if value is not None else None
        return Assignment(self.text[slice(*self.span(name))] if name else "", word, start, end)

    def redirect(self, node: Node, parts: list[tuple[int, int, Node | None]]) -> Redirect:
        fd, op, op_start, targets = None, "", -1, []
        for kid in node.children:
            if kid.type == "file_descriptor":
                digits = self.text[slice(*self.span(kid))]
                fd = int(digits) if digits.isdigit() else None
            elif not kid.is_named:
                op, op_start = (kid.type, self.pos(kid.start_byte)) if not op else (op, op_start)
            elif kid.type not in ("comment", "ERROR", "heredoc_body", "heredoc_end", "file_redirect"):
                targets.append(kid)
        if node.type == "heredoc_redirect":
            targets = targets[:1]
        for extra in targets[1:]:  # tree-sitter puts the words after `> f` into the redirect
            parts.extend(self.pieces(extra))
        heredoc = self.heredocs.get(op_start)
        if heredoc is not None:
            op = "<<-" if heredoc.strip_tabs else "<<"
        target = self.word(*self.span(targets[0]), [targets[0]]) if targets else None
        start, end = self.span(node)
        return Redirect(op, fd, target, start, target.end if target else end, heredoc)


def _with_operator(cmd: Command, op: str) -> Command:
    """``dataclasses.replace(cmd, operator=op)``, without its introspection (once per joined command)."""
    return Command(cmd.words, cmd.env, cmd.redirects, cmd.start, cmd.end, op, cmd.depth, cmd.in_pipeline,
                   cmd.negated, cmd.substitutions)


_first = operator.itemgetter(0)


def _has_type(node: Node, kind: str) -> bool:
    return node.type == kind or any(_has_type(k, kind) for k in node.children)


@functools.lru_cache(maxsize=2048)
def parse_shell(text: str) -> Script:
    """Parse shell text (RUN / shell-form CMD) into a ``Script``; never raises on bad input.

    Results are immutable and cached: every codemod asks about the same RUNs in every round.
    """
    scans = _scan_heredocs(text)
    chars = list(text)
    heredocs: dict[int, Heredoc] = {}
    for hd in scans:
        chars[hd.op_start + 1 : hd.op_start + 2 + hd.strip_tabs] = " " * (1 + hd.strip_tabs)
        for k in range(hd.body_start, hd.close_end):
            chars[k] = chars[k] if chars[k] in "\r\n" else " "
        body = text[hd.body_start : hd.body_end]
        heredocs[hd.op_start] = Heredoc(hd.delimiter, hd.quoted, hd.strip_tabs, body, hd.body_start, hd.body_end)
    # tree-sitter-bash can segfault on `{` followed by a 4-byte UTF-8 character (tree-sitter-bash#337):
    # hand it U+FFFD instead of astral characters (and of lone surrogates, which are not UTF-8 at all).
    sub = _blank_final_continuations(_repair_substitutions("".join(chars)))
    builder = _Builder(text, _UNSAFE.sub("\ufffd", sub), heredocs)
    commands: list[Command] = []
    builder.seq(builder.tree.root_node, 0, False, False, commands)
    has_error = builder.tree.root_node.has_error or not all(hd.terminated for hd in scans)
    return Script(text, tuple(commands), tuple(heredocs.values()), has_error, builder.compound)


def split_words(text: str) -> list[str]:
    """Split one plain command line into resolved words (for exec-form conversion).

    Raises ``ValueError`` when the text is more than plain words: operators, redirects, assignments,
    expansions, globs, substitutions, comments, compound syntax or a parse error.
    """
    script = parse_shell(text)
    if script.has_error or script.heredocs or script.has_compound or len(script.commands) > 1:
        raise ValueError(f"not a plain command: {text!r}")
    pos, words = 0, script.commands[0].words if script.commands else ()
    for cmd in script.commands:
        if cmd.env or cmd.redirects or cmd.operator or cmd.negated or cmd.substitutions:
            raise ValueError(f"not a plain command: {text!r}")
    for word in words:
        if not word.is_literal or not _is_blank(text[pos : word.start]):
            raise ValueError(f"not a plain word: {word.raw!r}")
        pos = word.end
    if not _is_blank(text[pos:]):
        raise ValueError(f"not a plain command: {text!r}")
    return [w.text for w in words]


def _is_blank(gap: str) -> bool:
    return not _CONTINUATION.sub("", gap).strip()


def needs_shell(text: str) -> bool:
    """True when running ``text`` as a JSON exec form would change its meaning.

    That is anything ``split_words`` rejects, an empty command, or a shell builtin such as ``exec``
    or ``cd`` that exists only inside a shell.
    """
    try:
        words = split_words(text)
    except ValueError:
        return True
    return not words or words[0] in _BUILTINS
