"""Build commands in shell text (``docker build``, ``docker buildx build``, ``podman build``, ``buildah bud``).

:func:`rewrite_commands` finds each build command inside the given spans of a text (a whole script, a
Makefile recipe, a workflow ``run:`` value, a GitLab ``script:`` item), works out which Dockerfile it
builds, and for the ones that build the target returns span edits that add ``--secret``/``--ssh``
flags and turn ``--build-arg NAME=…`` into ``--secret id=…,env=…``. Nothing else of the command moves:
the new flag goes right after the ``build`` word, a replaced build-arg keeps its place (and its line,
in a command continued over several lines).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rewriter.core.buildsecret import BuildSecret

#: the programs and sub-commands that build an image from a Dockerfile
BUILD = re.compile(
    r"(?<![\w./-])(?:docker(?:\s+buildx)?\s+(?:image\s+)?build|podman\s+(?:image\s+)?build|"
    r"buildah\s+(?:bud|build-using-dockerfile|build))(?![\w-])"
)
#: flags of these commands that take a value as the next word
VALUE_FLAGS = {
    "-f", "--file", "-t", "--tag", "--build-arg", "--target", "--platform", "--label", "--secret", "--ssh",
    "--network", "--cache-from", "--cache-to", "-o", "--output", "--progress", "--iidfile", "--build-context",
    "--add-host", "--allow", "--annotation", "--attest", "--builder", "--cgroup-parent", "--metadata-file",
    "--shm-size", "--ulimit", "--memory", "-m", "--memory-swap", "--cpu-shares", "-c", "--cpuset-cpus",
    "--isolation", "--sbom", "--provenance", "--call", "--format", "--jobs", "--authfile",
    "--creds", "--cert-dir", "--arch", "--os", "--variant", "--volume", "-v", "--env", "--from", "--manifest",
    "--timestamp", "--runtime", "--userns", "--ipc", "--pid", "--uts", "--logfile",
}  # fmt: skip
#: where a command ends (outside quotes)
_END = re.compile(r"&&|\|\||[;|)&`]|\n")
_VAR = re.compile(r"""^["']?\$(?:\{(\w+)\}|(\w+))["']?$""")
#: words before a command that keep it a plain command (a prefix assignment then still reaches it)
_PLAIN_BEFORE = re.compile(r"""(?:^|[\n;&|(]|\bthen|\bdo|\belse|^[\t ]*[@+-]+)[\t ]*$""")


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str

    @property
    def bare(self) -> str:
        """The word without one level of quotes."""
        t = self.text
        if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
            return t[1:-1]
        return t


@dataclass
class Command:
    """One build command: its words after the sub-command, and what they say."""

    start: int  #: offset of the program name
    head_end: int  #: end of the ``build`` word
    words: list[Word]
    context: Word | None = None
    file: Word | None = None
    build_args: list[tuple[Word, Word | None, Word | None]] = field(default_factory=list)  #: flag, value, end
    secrets: list[str] = field(default_factory=list)  #: ids of ``--secret`` flags
    ssh: bool = False


def words(text: str, start: int, stop: int, *, folded: bool = False) -> tuple[list[Word], int]:
    """The words of the command starting at ``start`` (up to ``stop``) and where it ends; in a
    ``folded`` text (a YAML plain or folded scalar) a line break is a space."""
    out: list[Word] = []
    i = start
    while i < stop:
        c = text[i]
        if c in " \t" or (folded and c in "\r\n"):
            i += 1
            continue
        if c == "\\" and text[i + 1 : i + 2] in ("\n", "\r"):
            i += 3 if text[i + 1 : i + 3] == "\r\n" else 2
            continue
        if c == "\r" and text[i + 1 : i + 2] == "\n":
            break
        if c == "#":
            break
        m = _END.match(text, i)
        if m:
            break
        j = i
        while j < stop:
            ch = text[j]
            if ch in " \t\r\n" or _END.match(text, j):
                break
            if ch == "\\":
                j += 2
                continue
            if ch in "'\"":
                close = text.find(ch, j + 1)
                if close < 0 or close >= stop:
                    return out, -1
                j = close + 1
                continue
            if text.startswith("${{", j):
                close = text.find("}}", j)
                if close < 0:
                    return out, -1
                j = close + 2
                continue
            if text.startswith("$(", j) or text.startswith("${", j):
                depth, k = 0, j + 1
                while k < stop:
                    if text[k] in "({":
                        depth += 1
                    elif text[k] in ")}":
                        depth -= 1
                        if depth == 0:
                            break
                    k += 1
                j = k + 1
                continue
            j += 1
        out.append(Word(i, j, text[i:j]))
        i = j
    return out, i


def parse(text: str, match: re.Match[str], stop: int, folded: bool = False) -> Command | None:
    """The command whose head ``match`` found; None when its words cannot be read."""
    found, _end = words(text, match.end(), stop, folded=folded)
    if _end < 0:
        return None
    cmd = Command(match.start(), match.end(), found)
    i = 0
    while i < len(found):
        w = found[i]
        t = w.text
        if t.startswith("-") and t != "-":
            name, eq, inline = t.partition("=")
            value: Word | None = None
            end = w
            if eq:
                value = Word(w.start + len(name) + 1, w.end, inline)
            elif name in VALUE_FLAGS and i + 1 < len(found):
                value = end = found[i + 1]
                i += 1
            if name in ("-f", "--file"):
                cmd.file = value
            elif name == "--build-arg":
                cmd.build_args.append((w, value, end))
            elif name == "--secret" and value is not None:
                spec = dict(p.partition("=")[::2] for p in value.bare.split(","))
                cmd.secrets.append(spec.get("id", ""))
            elif name == "--ssh":
                cmd.ssh = True
            i += 1
            continue
        if cmd.context is None:
            cmd.context = w
        i += 1
    return cmd


@dataclass(frozen=True)
class Found:
    """A build command and what became of it."""

    offset: int
    status: str  #: "changed", "left" (with a reason) or "other" (builds another Dockerfile)
    reason: str = ""


#: ``(cwd_candidates, context, file) -> True/False/None`` (None: cannot tell)
Resolver = Callable[[str | None, str | None], "bool | None"]


def templated(value: str) -> bool:
    return "$" in value or "{{" in value or "`" in value


def rewrite_commands(
    text: str,
    spans: Sequence[tuple[int, int]],
    secrets: Sequence[BuildSecret],
    matches: Resolver,
    *,
    folded: Sequence[bool] = (),
) -> tuple[list[tuple[int, int, str]], list[Found]]:
    """Edits ``(start, end, content)`` for the build commands in ``spans`` that build the target
    (``folded[i]``: line breaks in span ``i`` are spaces)."""
    edits: list[tuple[int, int, str]] = []
    found: list[Found] = []
    for n, (lo, hi) in enumerate(spans):
        for m in BUILD.finditer(text, lo, hi):
            cmd = parse(text, m, hi, folded=n < len(folded) and folded[n])
            if cmd is None:
                found.append(Found(m.start(), "left", "its words cannot be read (an unclosed quote)"))
                continue
            if cmd.context is None:
                found.append(Found(m.start(), "left", "no build context on the command line"))
                continue
            ctx, file = cmd.context.bare, cmd.file.bare if cmd.file else None
            if ctx == "-" or "://" in ctx or ctx.startswith("git@"):
                found.append(Found(m.start(), "other"))
                continue
            if templated(ctx) or (file is not None and templated(file)):
                found.append(Found(m.start(), "left", f"the Dockerfile it builds is templated ({cmd.context.text}"
                                   + (f", -f {cmd.file.text})" if cmd.file else ")")))
                continue
            hit = matches(ctx, file)
            if hit is None:
                found.append(Found(m.start(), "left", "cannot tell which Dockerfile it builds"))
                continue
            if not hit:
                found.append(Found(m.start(), "other"))
                continue
            mine, reason = _command_edits(text, cmd, ctx, secrets, lo)
            if reason:
                found.append(Found(m.start(), "left", reason))
                continue
            edits.extend(mine)
            found.append(Found(m.start(), "changed" if mine else "unchanged"))
    return edits, found


def _drop(text: str, start: int, end: int) -> tuple[int, int, str]:
    """The edit removing the words ``text[start:end]``: with the blanks before them, or with their whole
    line when they stand alone on a continued line (``  --build-arg KEY=… \\``)."""
    line = text.rfind("\n", 0, start) + 1
    rest = re.match(r"[ \t]*\\\r?\n", text[end:])
    if not text[line:start].strip() and rest:
        return line, end + rest.end(), ""
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return start, end, ""


def _command_edits(
    text: str, cmd: Command, ctx: str, secrets: Sequence[BuildSecret], lo: int
) -> tuple[list[tuple[int, int, str]], str]:
    """The edits of one command, or a reason to leave it alone."""
    flags: list[str] = []
    replace: list[tuple[int, int, str]] = []
    prefix: list[str] = []
    for s in secrets:
        if s.kind == "ssh":
            if not cmd.ssh:
                flags.append(f"--ssh {s.id}")
            gone = next(((f, e) for f, v, e in cmd.build_args
                         if v is not None and v.bare.split("=", 1)[0] == s.replaces), None) if s.replaces else None
            if gone is not None:  # the key is no longer passed: the argument goes (its whole line if alone)
                replace.append(_drop(text, gone[0].start, gone[1].end))
            continue
        if s.id in cmd.secrets:
            continue
        if s.file is not None:
            src = posixpath.normpath(posixpath.join(ctx, s.file))
            flags.append(f"--secret id={s.id},src={src}")
            continue
        name = str(s.environment)
        arg = next(((f, v, e) for f, v, e in cmd.build_args
                    if v is not None and v.bare.split("=", 1)[0] == name), None)
        if arg is None:
            return [], f"it passes no --build-arg {name}, so there is no source for secret {s.id}"
        flag, value, end = arg
        assert value is not None
        source = value.bare.split("=", 1)[1] if "=" in value.bare else None
        env = name
        if source is not None:
            var = _VAR.match(source)
            if var:
                env = var.group(1) or var.group(2)
            elif not templated(source):
                return [], f"it passes {name} as a literal value; move that value into a CI secret first"
            else:
                before = text[max(lo, text.rfind("\n", 0, cmd.start) + 1):cmd.start]
                if not _PLAIN_BEFORE.search(before):
                    return [], f"it passes {name} from {source}, and the command is not plain enough to set {name}"
                prefix.append(f"{name}={source} " if " " not in source or source[0] in "'\"" else f'{name}="{source}" ')
        replace.append((flag.start, end.end, f"--secret id={s.id},env={env}"))
    out = list(replace)
    if flags:
        out.append((cmd.head_end, cmd.head_end, "".join(" " + f for f in flags)))
    if prefix:
        out.append((cmd.start, cmd.start, "".join(prefix)))
    return out, ""
