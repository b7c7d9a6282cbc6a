"""One settings resolver for every command (:func:`rewriter.engine.settings.resolve`).

First the precedence of :func:`resolve` itself (configuration found upward from the Dockerfile,
command-line overrides, the build context: ``--context`` > the file's ``context:`` > the Dockerfile's
folder), then one test per command that used to resolve settings on its own (``suggest``, ``lsp``,
``verify``, ``migrate``): a Dockerfile in a subfolder whose ``.dockerfix.yaml`` says ``context: ..``
copies ``.npmrc`` from the parent folder, and the command must see that folder as the build context.
Those four failed before the commands shared the resolver (they used the Dockerfile's folder).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pygls.uris import from_fs_path

from rewriter.engine.config import Config, ConfigError
from rewriter.engine.settings import Overrides, Settings, resolve
from rewriter.faces.lsp import analyse
from rewriter.faces.migrate_cli import run_migrate
from rewriter.faces.suggest import run_suggest
from rewriter.proof.containers import HttpResult, ImageInfo, Proc, RunResult
from rewriter.proof.migrate import Options, migrate_file
from rewriter.proof.verify import run_verify
from transforms import OPT_IN, UnknownTransform, ids

TOKEN = "npm_Sup3rSecretTokenValue"

#: a Node app whose .npmrc (with a token) is copied, used by ``npm install``, then stays in the image
DOCKERFILE = (
    "FROM node:22\n"
    "WORKDIR /app\n"
    "COPY .npmrc /root/.npmrc\n"
    "COPY package.json .\n"
    "RUN npm install\n"
    "COPY . .\n"
    'CMD ["node", "app.js"]\n'
)
#: what the secrets codemod says when the file it mounts is not in the build context it was given
NOT_IN_CONTEXT = ".npmrc is not in the build context"
#: what it says about ``COPY .`` when the context holds the .npmrc (it adds it to .dockerignore)
COPY_DOT = "would send .npmrc into the image"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """``repo/.npmrc``, ``repo/package.json``; ``repo/docker/Dockerfile`` with ``context: ..``."""
    root = tmp_path / "repo"
    (root / "docker").mkdir(parents=True)
    (root / ".npmrc").write_text(f"registry=https://npm.example.com/\n//npm.example.com/:_authToken={TOKEN}\n")
    (root / "package.json").write_text("{}\n")
    (root / "app.js").write_text("console.log('hi')\n")
    (root / "docker" / "Dockerfile").write_text(DOCKERFILE)
    (root / "docker" / ".dockerfix.yaml").write_text("context: ..\nselect: [secrets]\n")
    return root


# --------------------------------------------------------------------------- resolve


def _ids_of(settings: Settings) -> list[str]:
    return [t.id for t in settings.transforms]


def test_defaults_without_a_configuration_file(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    s = resolve(tmp_path / "Dockerfile", Overrides())
    assert s.config == Config()
    assert _ids_of(s) == [t for t in ids() if t not in OPT_IN]  # opt-in codemods run only when selected
    assert s.context == tmp_path  # the Dockerfile's folder, as given


def test_the_dockerfile_folder_is_kept_as_given_relative_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docker").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve(Path("docker/Dockerfile"), Overrides()).context == Path("docker")
    assert resolve(Path("Dockerfile"), Overrides()).context == Path(".")  # stdin without --stdin-filename


def test_context_precedence(repo: Path, tmp_path: Path) -> None:
    dockerfile = repo / "docker" / "Dockerfile"
    # the file's context, relative to the file, made absolute
    assert resolve(dockerfile, Overrides()).context == repo.resolve()
    # --context beats the file, and is kept as given
    other = tmp_path / "other"
    other.mkdir()
    assert resolve(dockerfile, Overrides(context=other)).context == other
    assert resolve(dockerfile, Overrides(context=Path("rel"))).context == Path("rel")
    # without a context in the file: the Dockerfile's folder
    (repo / "docker" / ".dockerfix.yaml").write_text("select: [secrets]\n")
    assert resolve(dockerfile, Overrides()).context == repo / "docker"


def test_configuration_is_found_upward_from_the_dockerfile(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.dockerfix]\nselect = ['signals']\nuid = 2000\n")
    s = resolve(deep / "Dockerfile", Overrides())
    assert s.config.source == tmp_path / "pyproject.toml"
    assert s.config.uid == 2000 and _ids_of(s) == ["signals"]
    # .dockerfix.yaml in a nearer folder wins
    (deep / ".dockerfix.yaml").write_text("ignore: [signals]\n")
    s = resolve(deep / "Dockerfile", Overrides())
    assert s.config.uid == 10001 and "signals" not in _ids_of(s)


def test_select_ignore_and_unsafe_overrides(tmp_path: Path) -> None:
    (tmp_path / ".dockerfix.yaml").write_text("select: [signals, logs]\nignore: [logs]\nunsafe-fixes: true\n")
    path = tmp_path / "Dockerfile"
    s = resolve(path, Overrides())
    assert _ids_of(s) == ["signals"] and s.config.unsafe_fixes is True
    # a command-line selection replaces the file's, its ignore list included
    s = resolve(path, Overrides(select=("logs", "minimal")))
    assert _ids_of(s) == ["logs", "minimal"] and s.config.ignore == ()
    s = resolve(path, Overrides(select=["logs", "minimal"], ignore=["minimal"]))
    assert _ids_of(s) == ["logs"]
    # an empty selection is no selection; --unsafe-fixes absent keeps the file's value
    s = resolve(path, Overrides(select=(), ignore=(), unsafe_fixes=False))
    assert _ids_of(s) == ["signals"] and s.config.unsafe_fixes is True
    (tmp_path / ".dockerfix.yaml").write_text("uid: 4242\n")
    assert resolve(path, Overrides()).config.unsafe_fixes is False
    assert resolve(path, Overrides(unsafe_fixes=True)).config.unsafe_fixes is True
    assert resolve(path, Overrides()).config.uid == 4242


def test_no_file_on_disk(tmp_path: Path) -> None:
    """An editor's unsaved buffer: defaults, no context unless one is given."""
    s = resolve(None, Overrides())
    assert s.config == Config() and s.context is None and _ids_of(s) == [t for t in ids() if t not in OPT_IN]
    s = resolve(None, Overrides(select=["signals"], unsafe_fixes=True, context=tmp_path))
    assert _ids_of(s) == ["signals"] and s.config.unsafe_fixes and s.context == tmp_path


def test_errors_are_the_configuration_s(tmp_path: Path) -> None:
    (tmp_path / ".dockerfix.yaml").write_text("uid: 0\n")
    with pytest.raises(ConfigError, match=r"\.dockerfix\.yaml: 'uid' must be a positive integer"):
        resolve(tmp_path / "Dockerfile", Overrides())
    (tmp_path / ".dockerfix.yaml").write_text("select: [nope]\n")
    with pytest.raises(UnknownTransform):
        resolve(tmp_path / "Dockerfile", Overrides())
    (tmp_path / ".dockerfix.yaml").write_text("select: [signals]\n")
    with pytest.raises(UnknownTransform):
        resolve(tmp_path / "Dockerfile", Overrides(ignore=["bogus"]))


def test_cached_resolution_answers_the_same(repo: Path) -> None:
    dockerfile = repo / "docker" / "Dockerfile"
    for overrides in (Overrides(), Overrides(select=["signals"], unsafe_fixes=True), Overrides(context=repo)):
        assert resolve(dockerfile, overrides, cached=True) == resolve(dockerfile, overrides)


# --------------------------------------------------------------------------- every command honours context:


class _Terminal(io.StringIO):
    """Answers for ``suggest`` that look like a terminal."""

    def isatty(self) -> bool:
        return True


def test_suggest_honours_the_configured_context(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    code = run_suggest(repo / "docker" / "Dockerfile", unsafe_fixes=True, stdin=_Terminal("a\n"), stdout=out)
    assert code == 0, capsys.readouterr().err
    shown = out.getvalue()
    assert COPY_DOT in shown and NOT_IN_CONTEXT not in shown
    assert "--mount=type=secret,id=npmrc" in (repo / "docker" / "Dockerfile").read_text()
    # the side file lands in the build context (the parent folder), not next to the Dockerfile
    assert ".npmrc" in (repo / ".dockerignore").read_text()
    assert not (repo / "docker" / ".dockerignore").exists()


def test_lsp_honours_the_configured_context(repo: Path) -> None:
    dockerfile = repo / "docker" / "Dockerfile"
    analysis = analyse(from_fs_path(str(dockerfile)) or "", DOCKERFILE)
    messages = [d.message for d in analysis.diagnostics]
    assert any(COPY_DOT in m for m in messages), messages
    assert not any(NOT_IN_CONTEXT in m for m in messages)
    assert analysis.wb is not None and analysis.wb.context_dir == repo.resolve()


def test_lsp_honours_unsafe_fixes_and_select_from_the_file(repo: Path) -> None:
    (repo / "docker" / ".dockerfix.yaml").write_text("context: ..\nselect: [signals]\n")
    shell_form = "FROM node:22\nCMD node app.js\n"
    analysis = analyse(from_fs_path(str(repo / "docker" / "Dockerfile")) or "", shell_form)
    assert {d.code for d in analysis.diagnostics} == {"signals"}


@dataclass
class _Builder:
    """Records each build's context; everything builds, runs and answers alike."""

    name: str = "fake"
    contexts: list[Path] = field(default_factory=list)
    files: list[set[str]] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)

    def build(self, *, context: Path, dockerfile: Path, tag: str, flags: list[str], label: str,
              env: dict[str, str], timeout: float) -> Proc:
        self.contexts.append(context)
        self.files.append({p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()})
        self.flags.append(list(flags))
        return Proc(0, "done\n")

    def run(self, tag: str, *, name: str, run_args: list[str], cmd: list[str] | None, timeout: float,
            want_uid: bool) -> RunResult:
        return RunResult(None, "listening\n", "", timed_out=True)

    def serve(self, tag: str, *, name: str, run_args: list[str], cmd: list[str] | None, port: int,
              timeout: float, path: str = "/") -> HttpResult:
        return HttpResult(200, b"ok")

    def inspect(self, tag: str) -> ImageInfo:
        return ImageInfo("", 1000, "[]")

    def export(self, tag: str, dest: Path) -> str | None:
        return "export is not supported by the fake builder"

    def cleanup(self, *, containers: list[str], tags: list[str], label: str, keep: bool) -> None:
        return None


def test_verify_honours_the_configured_context(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = _Builder()
    run_verify(repo / "docker" / "Dockerfile", unsafe_fixes=True, engine=fake,
               env={"PATH": os.environ.get("PATH", "")})
    err = capsys.readouterr().err
    # before: the Dockerfile's folder was the context, so .npmrc was "missing" and nothing was built
    assert len(fake.files) == 2, err
    for files in fake.files:  # both builds see the parent folder, the Dockerfile in its place
        assert {".npmrc", "package.json", "app.js", "docker/Dockerfile"} <= files
    assert f"--secret id=npmrc,src={(repo / '.npmrc').resolve()}" in " ".join(fake.flags[1])


def test_verify_context_option_still_beats_the_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = _Builder()
    code = run_verify(repo / "docker" / "Dockerfile", unsafe_fixes=True, engine=fake, context=repo / "docker",
                      env={"PATH": os.environ.get("PATH", "")})
    assert code == 2 and not fake.files  # the secret's source is not in that context
    assert "npmrc" in capsys.readouterr().err


def test_migrate_honours_the_configured_context(repo: Path) -> None:
    fake = _Builder()
    o = migrate_file(repo / "docker" / "Dockerfile", Options(env=dict(os.environ)), lambda: fake)
    assert "secrets" not in o.dropped, o.dropped  # before: "a build secret's source is missing"
    assert o.result is not None and o.result.context_dir == repo.resolve()
    assert fake.files and all({".npmrc", "docker/Dockerfile"} <= files for files in fake.files)


def test_migrate_command_writes_side_files_in_the_configured_context(repo: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_migrate([str(repo / "docker" / "Dockerfile")], no_verify=True, engine=_Builder(), out=out, err=err)
    assert code == 0, err.getvalue()
    assert "--mount=type=secret,id=npmrc" in (repo / "docker" / "Dockerfile").read_text()
    assert ".npmrc" in (repo / ".dockerignore").read_text()
    assert not (repo / "docker" / ".dockerignore").exists()
