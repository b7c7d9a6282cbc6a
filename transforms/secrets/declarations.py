"""The ARG/ENV declarations of a stage as the secrets codemod reads them: each declared name with its
word and value (``Decl``), whether a text expands a variable, the edit removing one declaration, and
the file a RUN writes a variable into and leaves behind (by a redirect, or by a tool's ``config``
command that stores its arguments: ``PERSISTING``). Used by both the variable and the SSH-key rewrites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewriter.core.edits import Edit
from rewriter.core.syntax import Instruction
from rewriter.facts.commands import Run
from transforms.secrets.shared import REMOVERS

#: commands that store their arguments in a file that outlives the RUN
PERSISTING = {
    ("git", "config"): "~/.gitconfig",
    ("npm", "config"): "~/.npmrc",
    ("yarn", "config"): "~/.yarnrc",
    ("pip", "config"): "pip.conf",
    ("pip3", "config"): "pip.conf",
    ("poetry", "config"): "poetry's config.toml",
    ("composer", "config"): "composer's config.json",
    ("dotnet", "nuget"): "NuGet.Config",
    ("nuget", "sources"): "NuGet.Config",
    ("docker", "login"): "~/.docker/config.json",
    ("helm", "registry"): "helm's registry config",
    ("gh", "auth"): "gh's hosts.yml",
}


@dataclass
class Decl:
    inst: Instruction
    name: str
    word_start: int  # offsets in raw of the declaring word
    word_end: int
    n_words: int
    value: str | None


def declarations(inst: Instruction) -> list[Decl]:
    out = []
    words = inst.words
    if inst.keyword == "ENV" and len(words) >= 2 and "=" not in words[0].text:
        # legacy `ENV NAME value with spaces`
        return [Decl(inst, words[0].text, words[0].start, words[-1].end, 1, " ".join(w.text for w in words[1:]))]
    for w in words:
        name, eq, value = w.text.partition("=")
        out.append(Decl(inst, name, w.start, w.end, len(words), value if eq else None))
    return out


def references(text: str, name: str) -> bool:
    """Does ``text`` expand variable ``name`` (``$NAME`` or ``${NAME...}``)?"""
    return re.search(r"\$(?:\{" + re.escape(name) + r"\b|" + re.escape(name) + r"(?![A-Za-z0-9_]))", text) is not None


def remove_decl(d: Decl) -> Edit:
    """Delete one declaration: the whole ARG/ENV, or its word and the space up to the next one."""
    if d.n_words <= 1:
        return Edit.delete(d.inst.start, d.inst.end)
    words = d.inst.words
    i = next(k for k, w in enumerate(words) if w.start == d.word_start)
    if i + 1 < len(words):
        return Edit.delete(d.inst.start + d.word_start, d.inst.start + words[i + 1].start)
    return Edit.delete(d.inst.start + words[i - 1].end, d.inst.start + d.word_end)


def written_to_file(run: Run, name: str) -> str | None:
    """A file a RUN writes the variable into and does not remove in the same RUN."""
    assert run.script is not None
    written = []
    for cmd in run.script.commands:
        if any(references(w.raw, name) for w in cmd.words):
            for r in cmd.redirects:
                if r.op in {">", ">>"} and r.target is not None:
                    written.append(r.target.text)
        if any(references(w.raw, name) for w in cmd.words) and tuple(cmd.argv[:2]) in PERSISTING:
            written.append(PERSISTING[tuple(cmd.argv[:2])])
    removed = {w.text for c in run.script.commands if c.name in REMOVERS for w in c.args}
    leaks = [f for f in written if f not in removed and not f.startswith("/dev/")]
    return leaks[0] if leaks else None
