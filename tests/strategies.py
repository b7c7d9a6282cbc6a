"""Hypothesis strategies shared by the syntax and edit/diff tests.

``dockerfiles()`` builds Dockerfile texts from pieces: parser directives at the top (``syntax``,
``escape`` with a backslash or a backtick), comments, blank lines, instructions in shell and JSON
form with flags and continuations (using the file's escape character, with comment and blank
lines inside), heredocs (RUN/COPY, ``<<EOF``, ``<<-EOF``, quoted names, two in one line), LF or
CRLF line endings (per file, sometimes mixed per line), an optional BOM and an optional missing
final newline.

It also covers the BuildKit rules that tests found the tree getting wrong at first (each has its
own test in ``test_syntax.py`` too): a word ending in an escaped escape character at the end of a
line, heredocs under ONBUILD, shell-quoted heredoc names (``<<E"O"F``, ``<<\\EOF``) and Unicode
whitespace at the start of lines. It emits no ``# check=`` directive, which the reference parser
(BuildKit v0.12.5 inside the PyPI ``dockerfile`` package) predates.
"""

from __future__ import annotations

from hypothesis import strategies as st

BOM = "\ufeff"

_WORD_CHARS = "abcdefgxyz0123456789_./:=-$"
#: a plain word (never starts with ``-``, so it is not taken for a flag)
words = st.builds(
    str.__add__, st.sampled_from(_WORD_CHARS.replace("-", "")), st.text(alphabet=_WORD_CHARS, max_size=7)
)
#: a balanced double-quoted string with spaces inside
quoted = st.lists(words, min_size=1, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"')
arg_words = st.one_of(words, words, words, quoted)
spaces = st.sampled_from([" ", " ", "  ", "\t", " \t"])
#: indentation before a keyword or a continued part (BuildKit trims any Unicode space from a
#: value, but its flag scanner only skips ASCII spaces)
indent = st.sampled_from(["", " ", "  ", "    ", "\t", "\x0c", "\xa0", "\u3000 "])
comment_lines = st.builds(lambda ind, body: f"{ind}#{body}", indent, st.sampled_from(["", " comment", " RUN x", "#"]))
blank_lines = st.sampled_from(["", " ", "\t", "  \t ", "\x0c", "\xa0\t"])

SHELL_KEYWORDS = ["RUN", "CMD", "ENTRYPOINT"]
OTHER_KEYWORDS = ["FROM", "WORKDIR", "USER", "EXPOSE", "ENV", "LABEL", "ARG", "VOLUME", "STOPSIGNAL", "MAINTAINER"]
FLAGS = {
    "RUN": ["--mount=type=cache,target=/root/.cache", "--mount=type=secret,id=npmrc", "--network=none"],
    "COPY": ["--from=builder", "--chown=10001:10001", "--link"],
    "ADD": ["--chown=1:1", "--checksum=sha256:abc"],
}


def _keyword(draw: st.DrawFn, name: str) -> str:
    return draw(st.sampled_from([name, name, name.lower(), name.capitalize()]))


@st.composite
def _continued(draw: st.DrawFn, head: str, parts: list[str], escape: str) -> list[str]:
    """``head`` followed by ``parts``, breaking lines with continuations between some parts.

    Between two physical lines of the instruction, zero or more comment and blank lines may sit.
    """
    lines: list[str] = []
    cur = head
    for part in parts:
        if draw(st.integers(0, 3)) == 0:
            trail = draw(st.sampled_from(["", "", " ", "\t", "  "]))
            lines.append(cur + draw(spaces) + escape + trail)
            lines.extend(draw(st.lists(st.one_of(comment_lines, blank_lines), max_size=2)))
            cur = draw(indent) + part
        else:
            cur = cur + draw(spaces) + part
    lines.append(cur)
    return lines


@st.composite
def shell_instruction(draw: st.DrawFn, escape: str) -> list[str]:
    name = draw(st.sampled_from(SHELL_KEYWORDS + OTHER_KEYWORDS + ["COPY", "ADD"]))
    head = draw(indent) + _keyword(draw, name)
    parts = list(draw(st.lists(st.sampled_from(FLAGS.get(name, ["--x=y"])), max_size=2))) if name in FLAGS else []
    if name in {"ENV", "LABEL"}:
        pairs = st.builds("{}={}".format, st.sampled_from(["A", "b_1", "C"]), st.one_of(words, quoted))
        parts += draw(st.lists(pairs, min_size=1, max_size=3))
    else:
        parts += draw(st.lists(arg_words, min_size=1, max_size=5))
    if draw(st.integers(0, 5)) == 0:  # a path ending in an escaped escape: not a continuation
        parts.append("dir" + escape * 2)
    return draw(_continued(head, parts, escape))


@st.composite
def json_instruction(draw: st.DrawFn, escape: str) -> list[str]:
    name = draw(st.sampled_from(["CMD", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"]))
    items = draw(st.lists(st.lists(words, min_size=1, max_size=2).map(" ".join), min_size=1, max_size=3))
    sep = draw(st.sampled_from([", ", ",", " , "]))
    parts = ["[" + sep.join(f'"{i}"' for i in items) + "]"]
    return draw(_continued(_keyword(draw, name), parts, escape))


@st.composite
def heredoc_instruction(draw: st.DrawFn, escape: str) -> list[str]:
    name = draw(st.sampled_from(["RUN", "COPY", "ONBUILD RUN", "ONBUILD COPY"]))
    count = draw(st.integers(1, 2))
    doc_names = st.sampled_from(["EOF", "END", "SCRIPT", "A", "B"])
    names = draw(st.lists(doc_names, min_size=count, max_size=count, unique=True))
    specs = []
    for doc in names:
        chomp = draw(st.booleans())
        quote = draw(st.sampled_from(["", "", '"', "'", "partial", "backslash"]))
        spelled = {"partial": f'{doc[0]}"{doc[1:]}"', "backslash": "\\" + doc}.get(quote, f"{quote}{doc}{quote}")
        specs.append((doc, chomp, f"<<{'-' if chomp else ''}{spelled}"))
    if name.endswith("RUN"):
        parts = [specs[0][2], *(w for s in specs[1:] for w in ("cat", "-", s[2]))]
        parts += draw(st.lists(words, max_size=2))
    else:
        parts = [s[2] for s in specs] + ["/dst/"]
    head = " ".join(_keyword(draw, n) for n in name.split())
    lines = draw(_continued(head, parts, escape))
    for doc, chomp, _ in specs:
        body_line = st.one_of(
            st.lists(words, max_size=3).map(" ".join),
            st.sampled_from(["FROM scratch", "# not a comment", "RUN x " + escape, "", "\tindented", escape]),
        )
        body = draw(st.lists(body_line, max_size=3))
        body = [b for b in body if b.lstrip("\t") != doc]
        lines.extend(body)
        lines.append(("\t" * draw(st.integers(0, 2)) if chomp else "") + doc)
    return lines


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    """A Dockerfile text built from the pieces described in the module docstring."""
    escape = draw(st.sampled_from(["\\", "`"]))
    lines: list[str] = []
    directives: list[str] = []
    if escape == "`" or draw(st.booleans()):
        directives.append(draw(st.sampled_from(["# escape={}", "#escape={}", "# escape = {}  "])).format(escape))
    if draw(st.booleans()):
        directives.append(draw(st.sampled_from(["# syntax=docker/dockerfile:1", "#syntax = docker/dockerfile:1.7"])))
    lines.extend(draw(st.permutations(directives)))
    items = st.one_of(
        comment_lines.map(lambda c: [c]),
        blank_lines.map(lambda b: [b]),
        shell_instruction(escape),
        shell_instruction(escape),
        json_instruction(escape),
        heredoc_instruction(escape),
    )
    if draw(st.integers(0, 3)):
        lines.append(draw(indent) + _keyword(draw, "FROM") + " base")
    for item in draw(st.lists(items, max_size=8)):
        lines.extend(item)
    mode = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    out = []
    for line in lines:
        nl = draw(st.sampled_from(["\n", "\r\n"])) if mode == "mixed" else "\n" if mode == "lf" else "\r\n"
        out.append(line + nl)
    text = "".join(out)
    if draw(st.booleans()):
        text = text.removesuffix("\n").removesuffix("\r")
    if draw(st.integers(0, 4)) == 0:
        text = BOM + text
    return text


# --------------------------------------------------------------------------- texts and edits

_LINE_CHARS = "ab \t#x\r"
text_lines = st.text(alphabet=_LINE_CHARS, max_size=6).map(lambda s: s.rstrip("\r"))


@st.composite
def plain_texts(draw: st.DrawFn) -> str:
    """Line-based texts: LF, CRLF or mixed endings, empty lines, maybe no final newline."""
    lines = draw(st.lists(text_lines, max_size=25))
    mode = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    out = []
    for line in lines:
        nl = {"lf": "\n", "crlf": "\r\n"}.get(mode) or draw(st.sampled_from(["\n", "\r\n"]))
        out.append(line + nl)
    text = "".join(out)
    if text and draw(st.booleans()):
        text = text[: -len("\r\n")] if text.endswith("\r\n") else text[:-1]
    return text


edit_contents = st.one_of(
    st.just(""),
    st.text(alphabet="XY \n", max_size=8),
    st.lists(st.sampled_from(["new", "", "Z\t"]), max_size=3).map(lambda ls: "".join(s + "\n" for s in ls)),
    st.lists(st.sampled_from(["crlf", ""]), max_size=2).map(lambda ls: "".join(s + "\r\n" for s in ls)),
)


@st.composite
def edit_spans(draw: st.DrawFn, text: str, max_edits: int = 4) -> list[tuple[int, int, str]]:
    """Sorted, non-overlapping (start, end, content) spans on ``text``.

    Never two insertions at one point (their order would be ambiguous); an insertion may touch a
    neighbouring replacement, and spans may start or end anywhere (inside a ``\\r\\n`` too).
    """
    n = len(text)
    k = draw(st.integers(0, max_edits))
    points = sorted(draw(st.lists(st.integers(0, n), min_size=2 * k, max_size=2 * k)))
    spans: list[tuple[int, int, str]] = []
    last_end = -1
    for i in range(k):
        s, e = points[2 * i], points[2 * i + 1]
        content = draw(edit_contents)
        if s == e and not content:
            continue
        if s == e == last_end and spans and spans[-1][0] == spans[-1][1]:
            continue  # two insertions at one point: ambiguous order
        spans.append((s, e, content))
        last_end = e
    return spans
