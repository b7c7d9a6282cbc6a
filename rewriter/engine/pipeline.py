"""Run the transforms on one Dockerfile and return a closed set of results; never raises.

``process_text`` / ``process_file`` give a :class:`FileResult` whose ``status`` is one of
changed / unchanged / refused / error. Errors carry one line naming the problem; the file itself
is never touched here (writing is the caller's decision, see :mod:`rewriter.core.source`).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rewriter.core.buildsecret import BuildSecret
from rewriter.core.diff import unified_diff
from rewriter.core.edits import Applicability, Edit, Fix, NotConverged, Note, apply_fixes
from rewriter.core.source import SourceError, read_text
from rewriter.core.syntax import DockerfileSyntaxError, parse
from rewriter.engine.config import Config
from rewriter.engine.workbench import SideFiles, validate_text
from rewriter.engine.workbench import propose as propose_fixes


class Status(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    ERROR = "error"


@dataclass
class FileResult:
    """The outcome for one Dockerfile (and the side files its fixes edit)."""

    path: str
    status: Status
    original: str = ""
    new_text: str = ""
    fixes: list[Fix] = field(default_factory=list)
    suggestions: list[Fix] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    error: str | None = None
    context_dir: Path | None = None
    #: side files: relative path -> (original text, new text, net edits)
    side_files: dict[str, tuple[str, str, list[Edit]]] = field(default_factory=dict)
    net_edits: list[Edit] = field(default_factory=list)
    #: side files that did not exist before this run
    created: set[str] = field(default_factory=set)
    internal_errors: list[str] = field(default_factory=list)

    @property
    def build_secrets(self) -> list[BuildSecret]:
        """What the rewritten Dockerfile needs from the build command (secrets, ssh), in first-use order."""
        return list(dict.fromkeys(s for fix in self.fixes for s in fix.build_secrets))

    @property
    def build_flags(self) -> list[str]:
        """``docker build`` flags the rewritten Dockerfile needs, in first-use order."""
        return [s.flag for s in self.build_secrets]

    @property
    def changed(self) -> bool:
        return self.status == Status.CHANGED

    def side_display_path(self, rel: str) -> str:
        base = self.context_dir or Path(".")
        return _display(base / rel)

    def diff(self) -> str:
        """Unified diff of the Dockerfile and every side file this run changed."""
        if self.status != Status.CHANGED:
            return ""
        parts = [unified_diff(self.path, self.original, self.net_edits)]
        for rel, (old, _new, edits) in sorted(self.side_files.items()):
            parts.append(unified_diff(self.side_display_path(rel), old, edits, new_file=rel in self.created))
        return "".join(parts)


def _display(p: Path) -> str:
    try:
        return os.path.relpath(p)
    except ValueError:
        return str(p)


def process_text(
    text: str,
    *,
    path: str = "Dockerfile",
    context_dir: Path | None = None,
    config: Config | None = None,
    transforms: Sequence[object] | None = None,
    unsafe_fixes: bool | None = None,
    max_rounds: int = 10,
    dockerfile_path: Path | None = None,
    unsafe_for: Collection[str] | None = None,
) -> FileResult:
    """Run ``transforms`` (default: the configured selection) over Dockerfile ``text``.

    ``unsafe_for`` limits the unsafe fixes applied (with ``unsafe_fixes``) to those transform ids;
    ``dockerfix migrate`` uses it to keep the unsafe fixes of the codemods whose rewrite was verified."""
    cfg = config or Config()
    try:
        validate_text(text)
    except DockerfileSyntaxError as exc:
        return FileResult(path, Status.ERROR, original=text, error=f"not a valid Dockerfile: {exc}")
    if transforms is None:
        from transforms import selected

        transforms = selected(cfg.select, cfg.ignore)
    unsafe = cfg.unsafe_fixes if unsafe_fixes is None else unsafe_fixes
    disk = SideFiles(context_dir)
    read_original = disk.original

    memo: dict[str, object] = {}
    created: set[str] = set()

    def propose(texts: dict[str | None, str]) -> list[Fix | Note]:
        tree = parse(texts[None])

        def reader(rel: str) -> str | None:
            return texts[rel] if rel in texts else read_original(rel)

        out = propose_fixes(tree, transforms, path=path, context_dir=context_dir, config=cfg, side_reader=reader,
                            dockerfile_path=dockerfile_path, memo=memo)
        # fixes to side files need the side file's original text registered
        for f in out:
            if isinstance(f, Fix):
                for e in f.edits:
                    if e.path is not None and e.path not in texts:
                        existing = read_original(e.path)
                        texts_orig[e.path] = existing or ""
                        if existing is None:
                            created.add(e.path)
        return out

    def accept(f: Fix) -> bool:
        if f.applicability == Applicability.SAFE:
            return True
        return (unsafe and f.applicability == Applicability.UNSAFE
                and (unsafe_for is None or f.transform in unsafe_for))

    texts_orig: dict[str | None, str] = {None: text}
    try:
        order = {getattr(t, "id", ""): i for i, t in enumerate(transforms)}
        res = apply_fixes(texts_orig, propose, validate_text, accept=accept, max_rounds=max_rounds, order=order)
    except NotConverged as exc:
        return FileResult(path, Status.ERROR, original=text, error=f"internal error: {exc}")
    except Exception as exc:
        return FileResult(path, Status.ERROR, original=text, error=f"internal error: {type(exc).__name__}: {exc}")
    new_text = res.texts.get(None, text)
    suggestions = res.remaining
    side: dict[str, tuple[str, str, list[Edit]]] = {}
    for key, new in res.texts.items():
        if key is None:
            continue
        old = texts_orig.get(key) or ""
        if new != old:
            side[key] = (old, new, res.net_edits.get(key, []))
    changed = new_text != text or bool(side)
    if changed:
        status = Status.CHANGED
    elif any(n.refusal for n in res.notes):
        status = Status.REFUSED
    else:
        status = Status.UNCHANGED
    return FileResult(
        path,
        status,
        original=text,
        new_text=new_text,
        fixes=res.applied,
        suggestions=suggestions,
        notes=res.notes,
        context_dir=context_dir,
        side_files=side,
        net_edits=res.net_edits.get(None, []),
        created={p for p in created if p in side},
        internal_errors=res.internal_errors,
    )


def process_file(
    path: Path,
    *,
    context_dir: Path | None = None,
    config: Config | None = None,
    transforms: Sequence[object] | None = None,
    unsafe_fixes: bool | None = None,
    display: str | None = None,
    unsafe_for: Collection[str] | None = None,
) -> FileResult:
    """Read ``path`` and run :func:`process_text`; read problems become an error result."""
    name = display or _display(path)
    try:
        text = read_text(path)
    except SourceError as exc:
        return FileResult(name, Status.ERROR, error=str(exc))
    return process_text(
        text,
        path=name,
        context_dir=context_dir if context_dir is not None else path.parent,
        config=config,
        transforms=transforms,
        unsafe_fixes=unsafe_fixes,
        dockerfile_path=path,
        unsafe_for=unsafe_for,
    )
