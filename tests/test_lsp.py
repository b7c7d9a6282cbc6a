"""The language server end to end, with pytest-lsp as the client (the server runs as a subprocess)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from rewriter.engine.pipeline import process_text
from rewriter.faces.lsp import LineIndex, analyse, is_dockerfile
from transforms import load

TOKEN = "npm_Sup3rSecretTokenValue"
SERVER = [sys.executable, "-m", "rewriter.faces.cli", "lsp"]


def _capabilities(document_changes: bool) -> types.ClientCapabilities:
    workspace = types.WorkspaceClientCapabilities(
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=document_changes,
            resource_operations=[types.ResourceOperationKind.Create] if document_changes else None,
        )
    )
    return types.ClientCapabilities(workspace=workspace)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=_capabilities(False)))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "rewriter.faces.lsp"]))
async def rich_client(lsp_client: LanguageClient):
    """A client that takes ``documentChanges`` with file creation (started as ``python -m rewriter.faces.lsp``)."""
    await lsp_client.initialize_session(types.InitializeParams(capabilities=_capabilities(True)))
    yield
    await lsp_client.shutdown_session()


# ---- client side: applying text edits, independently of the server's code ----------------------


def _offset(text: str, pos: types.Position) -> int:
    """Offset of an LSP position: lines end at \\r\\n, \\r or \\n; characters are UTF-16 code units."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    start = starts[pos.line]
    line = re.split(r"\r\n|\r|\n", text[start:], maxsplit=1)[0]
    prefix = line.encode("utf-16-le")[: 2 * pos.character].decode("utf-16-le")
    return start + len(prefix)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    spans = [(_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


async def _open(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="dockerfile", version=1, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[path.as_uri()])


async def _change(client: LanguageClient, path: Path, text: str, version: int) -> list[types.Diagnostic]:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[path.as_uri()])


async def _actions(client: LanguageClient, path: Path, rng: types.Range, diags: list[types.Diagnostic],
                   only: list[str] | None = None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()), range=rng,
        context=types.CodeActionContext(diagnostics=diags, only=only)))
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def _npm_project(tmp_path: Path, newline: str) -> tuple[Path, str]:
    """A Dockerfile (never saved: the editor's buffer only) next to a real .npmrc holding a token."""
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={TOKEN}\n")
    text = newline.join([
        "FROM node:22-slim",
        'LABEL description="café 🐳 naïve"',
        "WORKDIR /app",
        "COPY package.json \\",
        "     .npmrc ./",
        'RUN echo "🐳 ü" && apt-get update && apt-get install -y curl',
        "RUN npm ci && rm -f .npmrc",
        'CMD ["node", "server.js"]',
        "",
    ])
    return tmp_path / "Dockerfile", text


@pytest.mark.asyncio
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
async def test_secrets_diagnostic_fixed_by_code_action(client: LanguageClient, tmp_path: Path, newline: str):
    path, text = _npm_project(tmp_path, newline)
    assert not path.exists()  # an unsaved buffer; .npmrc is read from the document's folder
    diags = await _open(client, path, text)
    secrets = [d for d in diags if d.code == "secrets"]
    assert len(secrets) == 1, [d.message for d in diags]
    diag = secrets[0]
    assert diag.source == "dockerfix"
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert ".npmrc" in diag.message and TOKEN not in diag.message
    # the range is the COPY instruction's two lines
    assert (diag.range.start.line, diag.range.start.character) == (3, 0)
    assert (diag.range.end.line, diag.range.end.character) == (4, len("     .npmrc ./"))
    assert all(TOKEN not in d.message for d in diags)

    # a secret mount changes the build command: an unsafe fix, offered as a quick fix marked so
    assert diag.message.endswith(" (unsafe fix)")
    title = f"dockerfix: {diag.message.removesuffix(' (unsafe fix)')} (unsafe)"
    actions = await _actions(client, path, diag.range, [diag])
    titles = [a.title for a in actions]
    assert title in titles
    assert "dockerfix: fix all" in titles
    action = actions[titles.index(title)]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None and action.edit.changes is not None
    assert set(action.edit.changes) == {path.as_uri()}
    new_text = apply_edits(text, list(action.edit.changes[path.as_uri()]))

    expected = process_text(text, context_dir=tmp_path, transforms=[load("secrets")], unsafe_fixes=True).new_text
    assert new_text == expected
    assert "--mount=type=secret,id=npmrc" in new_text and "COPY package.json" in new_text
    assert ".npmrc ./" not in new_text

    diags = await _change(client, path, new_text, 2)
    assert not [d for d in diags if d.code == "secrets"]
    assert [d for d in diags if d.code == "minimal"]  # the other diagnostics stay


@pytest.mark.asyncio
async def test_utf16_positions_after_non_ascii(client: LanguageClient, tmp_path: Path):
    path, text = _npm_project(tmp_path, "\r\n")
    diags = await _open(client, path, text)
    apt = next(d for d in diags if d.code == "minimal" and "no-install-recommends" in d.message)
    actions = await _actions(client, path, apt.range, [apt])
    action = next(a for a in actions if a.diagnostics and a.diagnostics[0].message == apt.message)
    # curl recommends ca-certificates: an unsafe fix, offered as such
    assert apt.message.endswith("(unsafe fix)") and action.title.endswith("(unsafe)")
    assert not action.is_preferred
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[path.as_uri()]
    line = 'RUN echo "🐳 ü" && apt-get update && apt-get install'
    assert edit.range.start.line == 5
    assert edit.range.start.character == len(line.encode("utf-16-le")) // 2 == len(line) + 1
    new_text = apply_edits(text, [edit])
    # the recommended package known to be needed is named (node:22-slim ships no CA certificates)
    assert ('RUN echo "🐳 ü" && apt-get update && apt-get install --no-install-recommends ca-certificates -y curl\r\n'
            in new_text)


@pytest.mark.asyncio
async def test_fix_all(client: LanguageClient, tmp_path: Path):
    path, text = _npm_project(tmp_path, "\n")
    diags = await _open(client, path, text)
    start = types.Position(line=0, character=0)
    actions = await _actions(client, path, types.Range(start=start, end=start), diags,
                             only=[types.CodeActionKind.SourceFixAll])
    assert [a.title for a in actions] == ["dockerfix: fix all"]
    assert actions[0].kind == "source.fixAll.dockerfix"
    whole = types.Range(start=start, end=types.Position(line=20, character=0))
    quick = await _actions(client, path, whole, diags, only=[types.CodeActionKind.QuickFix])
    assert quick and all(a.kind == types.CodeActionKind.QuickFix for a in quick)
    edit = actions[0].edit
    assert edit is not None and edit.changes is not None
    new_text = apply_edits(text, list(edit.changes[path.as_uri()]))
    assert new_text == process_text(text, context_dir=tmp_path).new_text
    diags = await _change(client, path, new_text, 2)
    # what is left is the unsafe fix, which `dockerfix fix` (and so fix all) applies only when configured
    left = [d.data["safety"] for d in diags if d.severity == types.DiagnosticSeverity.Warning]
    assert left and set(left) == {"unsafe"}


@pytest.mark.asyncio
async def test_new_side_file_needs_create_support(client: LanguageClient, tmp_path: Path):
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={TOKEN}\n")
    path = tmp_path / "Dockerfile"
    text = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    diags = await _open(client, path, text)
    ignore = next(d for d in diags if d.code == "secrets" and ".dockerignore" in d.message)
    actions = await _actions(client, path, ignore.range, [ignore])
    # this client cannot create files: no quick fix writes half of the change
    assert f"dockerfix: {ignore.message}" not in [a.title for a in actions]


@pytest.mark.asyncio
async def test_new_side_file_created_with_document_changes(rich_client: LanguageClient, tmp_path: Path):
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={TOKEN}\n")
    path = tmp_path / "Dockerfile"
    text = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    diags = await _open(rich_client, path, text)
    ignore = next(d for d in diags if d.code == "secrets" and ".dockerignore" in d.message)
    actions = await _actions(rich_client, path, ignore.range, [ignore])
    # the .dockerignore exclusion is an unsafe fix (a RUN after COPY . may read the file): offered as such
    action = next(a for a in actions if a.diagnostics and a.diagnostics[0].message == ignore.message)
    assert action.title.endswith("(unsafe)")
    assert action.edit is not None and action.edit.document_changes is not None
    create, edit = action.edit.document_changes
    side = (tmp_path / ".dockerignore").resolve().as_uri()
    assert isinstance(create, types.CreateFile) and create.uri == side
    assert isinstance(edit, types.TextDocumentEdit) and edit.text_document.uri == side
    content = apply_edits("", [e for e in edit.edits if isinstance(e, types.TextEdit)])
    assert ".npmrc" in content.splitlines() and TOKEN not in content


@pytest.mark.asyncio
async def test_invalid_dockerfile_and_other_files(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "Dockerfile"
    diags = await _open(client, path, "RUN echo before FROM\n")
    assert len(diags) == 1 and diags[0].severity == types.DiagnosticSeverity.Error
    diags = await _change(client, path, "FROM alpine:3.20\nCMD echo hi\n", 2)
    assert {d.code for d in diags} >= {"signals"}


# ---- pieces, in process -----------------------------------------------------------------------


def test_line_index_encodings() -> None:
    text = "a🐳b\r\nc\rd\n"
    idx = LineIndex(text)
    assert idx.position(text.index("b")) == types.Position(line=0, character=3)
    assert idx.position(text.index("\r")) == types.Position(line=0, character=4)
    assert idx.position(text.index("\n")) == types.Position(line=0, character=4)  # inside \r\n
    assert idx.position(text.index("d")) == types.Position(line=2, character=0)
    assert idx.offset(types.Position(line=0, character=3)) == text.index("b")
    assert LineIndex(text, types.PositionEncodingKind.Utf8).position(text.index("b")).character == 5
    assert LineIndex(text, types.PositionEncodingKind.Utf32).position(text.index("b")).character == 2


def test_is_dockerfile() -> None:
    assert is_dockerfile("file:///x/Dockerfile")
    assert is_dockerfile("file:///x/Dockerfile.prod")
    assert is_dockerfile("file:///x/api.Dockerfile")
    assert is_dockerfile("file:///x/Containerfile")
    assert is_dockerfile("file:///x/build.txt", "dockerfile")
    assert not is_dockerfile("file:///x/app.py", "python")


def test_analyse_severities(tmp_path: Path) -> None:
    uri = (tmp_path / "Dockerfile").as_uri()
    a = analyse(uri, "FROM python:3.12-slim\nUSER root\nCMD python app.py\n")
    by_code = {(d.code, d.data["safety"]): d.severity for d in a.diagnostics if d.data}
    assert by_code[("signals", "safe")] == types.DiagnosticSeverity.Warning
    for (_code, safety), severity in by_code.items():
        expected = {"safe": types.DiagnosticSeverity.Warning, "unsafe": types.DiagnosticSeverity.Warning,
                    "suggestion": types.DiagnosticSeverity.Hint, "note": types.DiagnosticSeverity.Information,
                    "refused": types.DiagnosticSeverity.Information}[safety]
        assert severity == expected


def test_untitled_buffer_has_no_folder() -> None:
    assert is_dockerfile("untitled:Untitled-1", "dockerfile")
    a = analyse("untitled:Untitled-1", "FROM alpine:3.20\nCMD echo hi\n")
    assert a.wb is not None and a.wb.context_dir is None
    assert any(d.code == "signals" for d in a.diagnostics)


def test_lsp_without_the_extra_says_how_to_install_it() -> None:
    """Without pygls/lsprotocol: one line naming the extra, exit 2, no traceback."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['pygls'] = None; sys.modules['lsprotocol'] = None\n"
            "sys.argv = ['dockerfix', 'lsp']\nfrom rewriter.faces.cli import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'dockerfix[lsp]'" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
