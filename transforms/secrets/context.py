"""The build context for the secrets codemod: ``COPY .`` while secret-looking files in the context are
not excluded adds them to ``.dockerignore`` (created if needed), shown in the diff as a second file.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.facts import Context
from transforms.secrets.shared import ID, content_confirms, file_row


def context_leak(ctx: Context, table: dict, moved: set[int] | None = None) -> Iterator[Fix | Note]:
    """``COPY . .`` with secret-looking files in the context that .dockerignore does not exclude.

    A file that another COPY names and keeps (``COPY .env .``: the app reads it at run time; ``moved``
    lists the COPYs this round's fixes take out) stays in the context: excluding it would break that
    COPY's build."""
    if ctx.context_dir is None:
        return
    copies_all = [i for i in ctx.tree.instructions if i.keyword in {"COPY", "ADD"} and not i.flag("from")
                  and any(w.text.strip("\"'") in {".", "./"} for w in i.words[:-1])]
    if not copies_all:
        return
    from rewriter.sidefiles import dockerignore

    def wanted(rel: str) -> bool:
        row = file_row(rel, table)
        if row is None:
            return False
        return content_confirms(ctx, rel, row) is not False

    key = f"{ID}:context-secrets"
    if key not in ctx.memo:  # the walk of the build context is the same in every round
        ctx.memo[key] = dockerignore.find_files(ctx.context_dir, wanted)
    found: list[str] = ctx.memo[key]  # type: ignore[assignment]
    original = ctx.read_side(".dockerignore")
    patterns = dockerignore.parse(original or "")
    missing = [p for p in found if not dockerignore.is_excluded(p, patterns)]
    named = {src.strip("\"'").removeprefix("./").rstrip("/") for copy in ctx.facts.context_copies(ctx.tree.stages)
             if copy.inst.start not in (moved or set())
             for src in copy.sources if src.strip("\"'") not in {".", "./"}}
    missing = [p for p in missing if not any(p == n or p.startswith(n + "/") for n in named if n)]
    if not missing:
        return
    new = dockerignore.extend(original, missing, "\r\n" if original and "\r\n" in original else "\n")
    if new == (original or ""):
        return
    edit = Edit(0, len(original or ""), new, ".dockerignore") if original is None else _append_edit(original, new)
    names = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    yield Fix(ID, f"`COPY .` would send {names} into the image: excluded in "
                  ".dockerignore (unsafe: a RUN after the COPY, or the app at run time, may read it from the "
                  "copied tree; give a build step a secret mount, and the app the file from the orchestrator, e.g. "
                  "`docker run --env-file`)", (edit,), Applicability.UNSAFE, copies_all[0].start_line)


def _append_edit(original: str, new: str) -> Edit:
    if new.startswith(original):
        return Edit.insert(len(original), new[len(original):], ".dockerignore")
    return Edit(0, len(original), new, ".dockerignore")
