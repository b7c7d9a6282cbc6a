"""``dockerfix lsp``: a language server (pygls, LSP over stdio) for editors.

Diagnostics
    Published on open, change and save, computed on the editor's buffer (unsaved text included);
    the files the transforms look at in the build context (``.npmrc``, entry-point scripts,
    compose files) are read from disk, with the settings ``dockerfix`` uses
    (:func:`rewriter.engine.settings.resolve`): the configuration found upward from the document
    (``.dockerfix.yaml`` / ``pyproject.toml``), and its ``context`` as the build context (default:
    the folder of the document).
    Each proposal of the transforms on the current text becomes one diagnostic whose range is the
    whole instruction it is about, ``code`` is the transform id and ``source`` is ``dockerfix``.
    Severity follows the safety of the change:

    ==============================  ===========  ========================================
    proposal                        severity     message
    ==============================  ===========  ========================================
    safe fix                        Warning      the fix message
    unsafe fix                      Warning      the fix message + ``(unsafe fix)``
    suggestion (display only)       Hint         the fix message
    note, refusal                   Information  the note
    file that does not parse        Error        the parse error (nothing else is shown)
    ==============================  ===========  ========================================

    ``data`` holds ``{"safety": "safe" | "unsafe" | "suggestion" | "note" | "refused"}``.

Code actions
    ``dockerfix: <message>`` (kind ``quickfix``; `` (unsafe)`` appended to unsafe ones) applies one
    fix, for each fix whose instruction meets the requested range; ``dockerfix: fix all`` (kind
    ``source.fixAll.dockerfix``) applies what ``dockerfix fix`` would (unsafe fixes only when the
    configuration enables them). Both are a ``WorkspaceEdit``; its ``TextEdit`` positions are in
    the negotiated position encoding (UTF-16 code units unless the client offers UTF-8/UTF-32),
    with ``\\r\\n``, ``\\r`` and ``\\n`` all ending a line as LSP says. A fix that also edits a side
    file (``.dockerignore``, a script) edits that file too; if the side file does not exist yet
    the action is offered only to clients that accept ``documentChanges`` with ``create``.

Documents are analysed when their language id is ``dockerfile`` (or ``containerfile``) or their
name looks like a Dockerfile (``Dockerfile``, ``Containerfile``, ``*.Dockerfile``,
``Dockerfile.*``, ``*.dockerfile``); other documents get no diagnostics.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path, uri_scheme

from rewriter.core.edits import Applicability, Edit, Fix, Note
from rewriter.core.syntax import Dockerfile, split_lines
from rewriter.engine.workbench import FixNotApplicable, Workbench, instruction_at

SOURCE = "dockerfix"
FIX_ALL_KIND = "source.fixAll.dockerfix"
_BREAK = re.compile(r"\r\n|\r|\n")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("dockerfix")
    except Exception:
        return "0"


# ---- positions --------------------------------------------------------------------------------


def _value(kind: object) -> str:
    """The wire value of an lsprotocol string enum (``str()`` of one gives its name on 3.11)."""
    return kind.value if isinstance(kind, Enum) else str(kind)


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8.value:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32.value:
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


class LineIndex:
    """Character offsets of a text <-> LSP positions (``encoding``: utf-16 by default)."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.text = text
        self.encoding = _value(encoding)
        #: (start of the line, end of its content = where its line break starts)
        self.starts = [0]
        self.ends: list[int] = []
        for m in _BREAK.finditer(text):
            self.ends.append(m.start())
            self.starts.append(m.end())
        self.ends.append(len(text))

    def position(self, offset: int) -> types.Position:
        """The LSP position of character ``offset`` (inside a line break: the end of that line)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        col = _units(self.text[start : min(offset, self.ends[line])], self.encoding)
        return types.Position(line=line, character=col)

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def offset(self, pos: types.Position) -> int:
        """The character offset of an LSP position (clamped to the line, as LSP asks)."""
        if pos.line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[pos.line], self.ends[pos.line]
        units = 0
        for i in range(start, end):
            if units >= pos.character:
                return i
            units += _units(self.text[i], self.encoding)
        return end


def text_edits(text: str, edits: list[Edit], encoding: str) -> list[types.TextEdit]:
    """Edits on ``text`` (character offsets) as LSP text edits."""
    index = LineIndex(text, encoding)
    return [types.TextEdit(range=index.range(e.start, e.end), new_text=e.content) for e in sorted(edits)]


# ---- analysis ---------------------------------------------------------------------------------

DOCKERFILE_NAMES = re.compile(r"^(?:dockerfile|containerfile)(?:\..+)?$|^.+\.(?:dockerfile|containerfile)$", re.I)


def is_dockerfile(uri: str, language_id: str | None = None) -> bool:
    """Whether the document is a Dockerfile (by language id, else by name)."""
    if language_id and language_id.lower() in {"dockerfile", "containerfile"}:
        return True
    name = PurePosixPath(uri.split("?", 1)[0].split("#", 1)[0]).name
    return bool(DOCKERFILE_NAMES.match(name))


def document_path(uri: str) -> Path | None:
    """The file system path of a ``file:`` URI (``None`` for unsaved ``untitled:`` buffers)."""
    if uri_scheme(uri) != "file":
        return None
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


SEVERITY = {
    Applicability.SAFE: types.DiagnosticSeverity.Warning,
    Applicability.UNSAFE: types.DiagnosticSeverity.Warning,
    Applicability.DISPLAY_ONLY: types.DiagnosticSeverity.Hint,
}


@dataclass
class Analysis:
    """What the transforms make of one document's text."""

    uri: str
    text: str
    encoding: str
    wb: Workbench | None = None
    diagnostics: list[types.Diagnostic] = field(default_factory=list)
    #: applicable fixes with their diagnostic
    fixes: list[tuple[Fix, types.Diagnostic]] = field(default_factory=list)
    #: the "fix all" edit per (client edit support, document version), computed once per text
    fix_all: dict[tuple[EditSupport, int | None], types.WorkspaceEdit | None] = field(default_factory=dict)

    @property
    def index(self) -> LineIndex:
        return LineIndex(self.text, self.encoding)


def _line_span(text: str, line: int) -> tuple[int, int]:
    """Character span of 1-based Dockerfile ``line`` without its line break (line 1 for 0)."""
    lines = split_lines(text)
    if not lines:
        return 0, 0
    n = min(max(line, 1), len(lines)) - 1
    start = sum(len(ln) for ln in lines[:n])
    return start, start + len(lines[n].rstrip("\r\n"))


def item_span(text: str, tree: Dockerfile, line: int) -> tuple[int, int]:
    """The span a diagnostic covers: the instruction at ``line`` (its lines), else that line."""
    inst = instruction_at(tree, line)
    if inst is None:
        return _line_span(text, line)
    return inst.start, inst.start + len(inst.raw.rstrip("\r\n"))


def analyse(
    uri: str,
    text: str,
    encoding: str = types.PositionEncodingKind.Utf16,
) -> Analysis:
    """Run the configured transforms on ``text`` (the buffer of ``uri``) and build diagnostics."""
    from rewriter.core.syntax import DockerfileSyntaxError
    from rewriter.engine.config import ConfigError
    from rewriter.engine.settings import Overrides, UnknownId, resolve
    from rewriter.engine.workbench import validate_text

    out = Analysis(uri, text, _value(encoding))
    index = out.index

    def error(message: str, line: int = 0) -> Analysis:
        span = _line_span(text, line)
        out.diagnostics.append(types.Diagnostic(range=index.range(*span), message=message, source=SOURCE,
                                                severity=types.DiagnosticSeverity.Error))
        return out

    path = document_path(uri)
    try:
        resolved = resolve(path, Overrides())  # an unsaved buffer: defaults, no build context
    except ConfigError as exc:
        return error(f"dockerfix configuration: {exc}")
    except UnknownId as exc:
        return error(f"{exc.source}: unknown transform id {exc.args[0]!r}")
    try:
        validate_text(text)
    except DockerfileSyntaxError as exc:
        return error(f"not a valid Dockerfile: {exc}", exc.line)
    display = path.name if path is not None else "Dockerfile"
    wb = Workbench(text, path=display, context_dir=resolved.context, config=resolved.config,
                   transforms=resolved.transforms, dockerfile_path=path)
    out.wb = wb
    try:
        items = wb.propose()
    except Exception as exc:
        return error(f"dockerfix internal error: {type(exc).__name__}: {exc}")
    tree = wb.tree()
    for item in items:
        span = item_span(text, tree, item.line)
        data: dict[str, Any]
        if isinstance(item, Note):
            severity = types.DiagnosticSeverity.Information
            message = item.message
            data = {"safety": "refused" if item.refusal else "note"}
        else:
            applicable = bool(item.edits) and item.applicability != Applicability.DISPLAY_ONLY
            severity = SEVERITY[item.applicability] if applicable else types.DiagnosticSeverity.Hint
            message = item.message + (" (unsafe fix)" if applicable and item.applicability == Applicability.UNSAFE
                                       else "")
            data = {"safety": item.applicability.label if applicable else "suggestion"}
        diag = types.Diagnostic(range=index.range(*span), message=message, severity=severity, code=item.transform,
                                source=SOURCE, data=data)
        out.diagnostics.append(diag)
        if isinstance(item, Fix) and data["safety"] in {"safe", "unsafe"}:
            out.fixes.append((item, diag))
    return out


# ---- workspace edits --------------------------------------------------------------------------


@dataclass(frozen=True)
class EditSupport:
    """What the client accepts in a ``WorkspaceEdit``."""

    document_changes: bool = False
    create: bool = False

    @staticmethod
    def of(caps: types.ClientCapabilities | None) -> EditSupport:
        we = caps.workspace.workspace_edit if caps and caps.workspace else None
        if we is None:
            return EditSupport()
        ops = we.resource_operations or []
        return EditSupport(bool(we.document_changes), types.ResourceOperationKind.Create in ops)


def workspace_edit(
    analysis: Analysis,
    own: list[Edit],
    sides: dict[str, tuple[str | None, list[Edit]]],
    support: EditSupport,
    version: int | None = None,
) -> types.WorkspaceEdit | None:
    """A ``WorkspaceEdit`` for edits on the document and on side files (rel -> (text or None, edits)).

    ``None`` when a side file must be created and the client cannot create files.
    """
    needs_create = any(old is None for old, _ in sides.values())
    if needs_create and not (support.document_changes and support.create):
        return None
    wb = analysis.wb
    side_uris: dict[str, str] = {}
    for rel in sides:
        if wb is None or wb.context_dir is None:
            return None
        side_uris[rel] = from_fs_path(str((wb.context_dir / rel).resolve())) or ""
    doc_edits = text_edits(analysis.text, own, analysis.encoding)
    if not support.document_changes:
        changes: dict[str, list[types.TextEdit]] = {}
        if doc_edits:
            changes[analysis.uri] = doc_edits
        for rel, (old, eds) in sorted(sides.items()):
            changes[side_uris[rel]] = text_edits(old or "", eds, analysis.encoding)
        return types.WorkspaceEdit(changes=changes)
    doc_changes: list[Any] = []
    if doc_edits:
        doc_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=analysis.uri, version=version),
            edits=doc_edits))
    for rel, (old, eds) in sorted(sides.items()):
        if old is None:
            doc_changes.append(types.CreateFile(uri=side_uris[rel],
                                                options=types.CreateFileOptions(ignore_if_exists=True)))
        doc_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=side_uris[rel], version=None),
            edits=text_edits(old or "", eds, analysis.encoding)))
    return types.WorkspaceEdit(document_changes=doc_changes)


def fix_edit(analysis: Analysis, fix: Fix, support: EditSupport, version: int | None = None
             ) -> types.WorkspaceEdit | None:
    """The edit for one fix proposed on the analysed text (``None`` if it cannot be applied)."""
    wb = analysis.wb
    if wb is None:
        return None
    try:
        wb.trial(fix)
    except FixNotApplicable:
        return None
    own = [e for e in fix.edits if e.path is None]
    sides: dict[str, tuple[str | None, list[Edit]]] = {}
    for e in fix.edits:
        if e.path is not None:
            sides.setdefault(e.path, (wb.read_side(e.path), []))[1].append(Edit(e.start, e.end, e.content))
    return workspace_edit(analysis, own, sides, support, version)


def fix_all_edit(analysis: Analysis, support: EditSupport, version: int | None = None
                 ) -> types.WorkspaceEdit | None:
    """The edit applying everything ``dockerfix fix`` would (``None`` if nothing changes)."""
    from rewriter.engine.pipeline import process_text

    wb = analysis.wb
    if wb is None:
        return None
    if (support, version) in analysis.fix_all:
        return analysis.fix_all[(support, version)]
    result = process_text(analysis.text, path=wb.path, context_dir=wb.context_dir, config=wb.config,
                          transforms=wb.transforms, dockerfile_path=wb.dockerfile_path)
    edit = None
    if result.changed:
        sides: dict[str, tuple[str | None, list[Edit]]] = {
            rel: (None if rel in result.created else old, [Edit(e.start, e.end, e.content) for e in eds])
            for rel, (old, _new, eds) in result.side_files.items()
        }
        edit = workspace_edit(analysis, list(result.net_edits), sides, support, version)
    analysis.fix_all[(support, version)] = edit
    return edit


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _meets(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def code_actions(
    analysis: Analysis,
    rng: types.Range,
    only: list[str] | None,
    support: EditSupport,
    version: int | None = None,
) -> list[types.CodeAction]:
    """The quick fixes for the fixes meeting ``rng``, then ``dockerfix: fix all``."""
    actions: list[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix.value, only):
        for fix, diag in analysis.fixes:
            if not _meets(diag.range, rng):
                continue
            edit = fix_edit(analysis, fix, support, version)
            if edit is None:
                continue
            unsafe = fix.applicability == Applicability.UNSAFE
            actions.append(types.CodeAction(
                title=f"dockerfix: {fix.message}" + (" (unsafe)" if unsafe else ""),
                kind=types.CodeActionKind.QuickFix, diagnostics=[diag], edit=edit, is_preferred=not unsafe))
    if _wanted(FIX_ALL_KIND, only) and analysis.fixes:
        edit = fix_all_edit(analysis, support, version)
        if edit is not None:
            actions.append(types.CodeAction(title="dockerfix: fix all", kind=FIX_ALL_KIND, edit=edit))
    return actions


# ---- the server -------------------------------------------------------------------------------


class DockerfixServer(LanguageServer):
    """The language server: keeps the last analysis of each open Dockerfile."""

    def __init__(self) -> None:
        super().__init__("dockerfix", _version(), text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.analyses: dict[str, Analysis] = {}

    def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the current buffer of ``uri`` (recomputed when the text changed)."""
        doc = self.workspace.get_text_document(uri)
        if not is_dockerfile(uri, doc.language_id):
            return None
        text = doc.source
        encoding = _value(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)
        cached = self.analyses.get(uri)
        if cached is None or cached.text != text or cached.encoding != encoding:
            cached = self.analyses[uri] = analyse(uri, text, encoding)
        return cached

    def refresh(self, uri: str) -> None:
        analysis = self.analysis(uri)
        if analysis is None:
            return
        doc = self.workspace.get_text_document(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=analysis.diagnostics, version=doc.version))


server = DockerfixServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DockerfixServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DockerfixServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: DockerfixServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.analyses.pop(params.text_document.uri, None)  # files in the build context may have changed
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DockerfixServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.analyses.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                        diagnostics=[]))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]),
)
def code_action(ls: DockerfixServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    analysis = ls.analysis(uri)
    if analysis is None:
        return None
    only = [_value(k) for k in params.context.only] if params.context.only else None
    version = ls.workspace.get_text_document(uri).version
    return code_actions(analysis, params.range, only, EditSupport.of(ls.client_capabilities), version)


def serve() -> None:
    """Run the language server over stdin/stdout until the client ends the session."""
    server.start_io()


if __name__ == "__main__":
    serve()
