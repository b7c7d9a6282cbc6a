"""Configuration: ``[tool.dockerfix]`` in pyproject.toml and ``.dockerfix.yaml``, found upward from
the Dockerfile; command-line options override the file; an invalid file is an error naming it.

End-to-end cases run the real ``dockerfix`` command in a subprocess; ``load_file`` / ``find_config``
are also tested directly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from linters import dockerfix_command

from rewriter.engine.config import Config, ConfigError, find_config, load_file

DOCKERFIX = dockerfix_command()

PENDING = "FROM python:3.12\nCMD python app.py\n"
FIXED = 'FROM python:3.12\nCMD ["python", "app.py"]\n'
UNSAFE = 'FROM python:3.12\nENTRYPOINT python manage.py\nCMD ["runserver"]\n'
UNSAFE_FIXED = 'FROM python:3.12\nENTRYPOINT ["python", "manage.py"]\nCMD ["runserver"]\n'


def run(*args: str | Path, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*DOCKERFIX, *map(str, args)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr, proc.stderr
    return proc


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def snapshot(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp_path/project with a pending Dockerfile in project/app/ (a subfolder)."""
    root = tmp_path / "project"
    write(root / "app" / "Dockerfile", PENDING)
    return root


# --------------------------------------------------------------------------------------------------
# end to end
#
# Other transforms are being written concurrently and may also change these Dockerfiles, so the
# assertions look at the ``signals`` change itself (is the CMD converted to exec form?).

CONVERTED = '+CMD ["python", "app.py"]\n'


def converts(cwd: Path, *args: str, path: str = "app/Dockerfile") -> bool:
    """Whether ``dockerfix diff ARGS PATH`` converts the CMD (signals ran); nothing is written."""
    proc = run("diff", *args, path, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return CONVERTED in proc.stdout


def test_without_config_signals_runs(project: Path) -> None:
    assert converts(project)


def test_pyproject_found_upward_with_ignore_stops_the_change(project: Path) -> None:
    write(project / "pyproject.toml", '[project]\nname = "x"\n\n[tool.dockerfix]\nignore = ["signals"]\n')
    df = project / "app" / "Dockerfile"
    assert not converts(project)
    assert run("fix", "app/Dockerfile", cwd=project).returncode == 0
    assert "CMD python app.py\n" in df.read_text()
    # also found when the command runs from the Dockerfile's own folder, or from elsewhere
    assert not converts(project / "app", path="Dockerfile")
    assert not converts(project.parent, path=str(df))


def test_pyproject_ignore_signals_with_select_signals_in_same_file_writes_nothing(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.dockerfix]\nselect = ["signals"]\nignore = ["signals"]\n')
    df = project / "app" / "Dockerfile"
    before = snapshot(df)
    assert run("check", "app/Dockerfile", cwd=project).returncode == 0
    assert run("fix", "app/Dockerfile", cwd=project).returncode == 0
    assert snapshot(df) == before


def test_dockerfix_yaml_select(project: Path) -> None:
    cfg = write(project / ".dockerfix.yaml", "select: [signals]\n")
    assert run("check", "app/Dockerfile", cwd=project).returncode == 1
    write(cfg, "select: [minimal]\n")
    assert not converts(project)
    write(cfg, "select: [signals]\n")
    assert run("fix", "app/Dockerfile", cwd=project).returncode == 0
    assert (project / "app" / "Dockerfile").read_text() == FIXED  # only signals ran


def test_dockerfix_yml_spelling_is_found(project: Path) -> None:
    write(project / ".dockerfix.yml", "ignore: [signals]\n")
    assert not converts(project)


def test_yaml_wins_over_pyproject_in_the_same_folder(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.dockerfix]\nignore = ["signals"]\n')
    yaml = write(project / ".dockerfix.yaml", "select: [signals]\n")
    assert converts(project)
    # and the other way round
    write(project / "pyproject.toml", '[tool.dockerfix]\nselect = ["signals"]\n')
    write(yaml, "ignore: [signals]\n")
    assert not converts(project)


def test_nearest_config_wins(project: Path) -> None:
    write(project / ".dockerfix.yaml", "ignore: [signals]\n")
    write(project / "app" / "pyproject.toml", '[tool.dockerfix]\nselect = ["signals"]\n')
    assert converts(project)


def test_pyproject_without_dockerfix_section_is_skipped(project: Path) -> None:
    write(project / "app" / "pyproject.toml", '[project]\nname = "app"\n\n[tool.ruff]\nline-length = 100\n')
    write(project / "pyproject.toml", '[tool.dockerfix]\nignore = ["signals"]\n')
    assert not converts(project)


def test_unsafe_fixes_from_config(tmp_path: Path) -> None:
    df = write(tmp_path / "app" / "Dockerfile", UNSAFE)
    cfg = write(tmp_path / "pyproject.toml", '[tool.dockerfix]\nselect = ["signals"]\n')
    assert run("check", "app/Dockerfile", cwd=tmp_path).returncode == 0
    write(cfg, '[tool.dockerfix]\nselect = ["signals"]\nunsafe-fixes = true\n')
    assert run("check", "app/Dockerfile", cwd=tmp_path).returncode == 1
    assert run("fix", "app/Dockerfile", cwd=tmp_path).returncode == 0
    assert df.read_text() == UNSAFE_FIXED


def test_stdin_filename_is_used_to_find_the_config(project: Path) -> None:
    write(project / "app" / ".dockerfix.yaml", "ignore: [signals]\n")
    with_name = run("fix", "--stdin-filename", "app/Dockerfile", "-", cwd=project, stdin=PENDING)
    assert with_name.returncode == 0
    assert "CMD python app.py\n" in with_name.stdout
    without = run("fix", "-", cwd=project, stdin=PENDING)
    assert without.returncode == 0
    assert 'CMD ["python", "app.py"]\n' in without.stdout


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        pytest.param(".dockerfix.yaml", "select: [signals\n", ["invalid YAML"], id="invalid-yaml"),
        pytest.param(".dockerfix.yaml", b"ignore: [sign\xe9ls]\n", ["invalid YAML"], id="yaml-not-utf8"),
        pytest.param("pyproject.toml", "[tool.dockerfix\nignore = 1\n", ["invalid TOML"], id="invalid-toml"),
        pytest.param("pyproject.toml", '[tool.dockerfix]\nbogus = "x"\n', ["unknown setting", "bogus"], id="toml-key"),
        pytest.param(".dockerfix.yaml", "bogus: 1\n", ["unknown setting", "bogus"], id="yaml-unknown-key"),
        pytest.param(".dockerfix.yaml", "uid: 0\n", ["uid"], id="uid-0"),
        pytest.param("pyproject.toml", "[tool.dockerfix]\ngid = 0\n", ["gid"], id="gid-0"),
        pytest.param(".dockerfix.yaml", "- signals\n", ["mapping"], id="yaml-list"),
    ],
)
def test_invalid_config_is_an_error_naming_the_file(
    tmp_path: Path, name: str, content: str | bytes, words: list[str]
) -> None:
    df = write(tmp_path / "broken" / "app" / "Dockerfile", PENDING)
    cfg = write(tmp_path / "broken" / name, content)
    other = write(tmp_path / "fine" / "Dockerfile", PENDING)
    before = snapshot(df)

    proc = run("fix", "broken/app/Dockerfile", "fine/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    naming = [ln for ln in proc.stderr.splitlines() if str(cfg.resolve()) in ln]
    assert len(naming) == 1, proc.stderr
    for word in words:
        assert word in naming[0]
    assert naming[0].startswith("broken/app/Dockerfile: ")
    assert snapshot(df) == before
    # a config error for one Dockerfile does not stop the others
    assert 'CMD ["python", "app.py"]\n' in other.read_text()


def test_invalid_config_check_quiet_is_exactly_one_line(tmp_path: Path) -> None:
    write(tmp_path / "app" / "Dockerfile", PENDING)
    cfg = write(tmp_path / ".dockerfix.yaml", "uid: 0\n")
    proc = run("check", "--quiet", "app/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert str(cfg.resolve()) in lines[0]
    assert proc.stdout == ""


def test_cli_select_overrides_file_select(project: Path) -> None:
    write(project / ".dockerfix.yaml", "select: [minimal]\n")
    assert not converts(project)
    assert converts(project, "--select", "signals")


def test_cli_ignore_overrides_file_select(project: Path) -> None:
    write(project / ".dockerfix.yaml", "select: [signals]\n")
    assert not converts(project, "--ignore", "signals")


def test_cli_ignore_replaces_file_ignore(project: Path) -> None:
    write(project / ".dockerfix.yaml", "ignore: [signals]\n")
    # --ignore minimal replaces the file's ignore list, so signals runs again
    assert converts(project, "--ignore", "minimal")


def test_cli_unsafe_fixes_overrides_file(tmp_path: Path) -> None:
    write(tmp_path / "app" / "Dockerfile", UNSAFE)
    write(tmp_path / ".dockerfix.yaml", "select: [signals]\nunsafe-fixes: false\n")
    assert run("check", "app/Dockerfile", cwd=tmp_path).returncode == 0
    assert run("check", "--unsafe-fixes", "app/Dockerfile", cwd=tmp_path).returncode == 1


def test_cli_select_overrides_file_ignore(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.dockerfix]\nignore = ["signals"]\n')
    assert converts(project, "--select", "signals")


def test_config_is_found_from_the_dockerfile_even_with_context(tmp_path: Path) -> None:
    write(tmp_path / "docker" / "Dockerfile", PENDING)
    write(tmp_path / "docker" / ".dockerfix.yaml", "ignore: [signals]\n")
    (tmp_path / "ctx").mkdir()
    assert not converts(tmp_path, path="docker/Dockerfile")  # passes
    assert not converts(tmp_path, "--context", "ctx", path="docker/Dockerfile")  # fails: signals ran


def test_unknown_transform_id_in_config_names_the_file_and_others_still_run(tmp_path: Path) -> None:
    write(tmp_path / "broken" / "Dockerfile", PENDING)
    cfg = write(tmp_path / "broken" / ".dockerfix.yaml", "ignore: [nope]\n")
    other = write(tmp_path / "fine" / "Dockerfile", PENDING)
    proc = run("fix", "broken/Dockerfile", "fine/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert str(cfg.resolve()) in proc.stderr
    assert 'CMD ["python", "app.py"]\n' in other.read_text()


def test_pyproject_with_non_table_tool_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "broken" / "Dockerfile", PENDING)
    cfg = write(tmp_path / "broken" / "pyproject.toml", 'tool = "x"\n')
    other = write(tmp_path / "fine" / "Dockerfile", PENDING)
    proc = run("fix", "broken/Dockerfile", "fine/Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert str(cfg.resolve()) in proc.stderr
    assert 'CMD ["python", "app.py"]\n' in other.read_text()


# --------------------------------------------------------------------------------------------------
# load_file / find_config / merged


def test_load_file_yaml_values(tmp_path: Path) -> None:
    path = write(
        tmp_path / ".dockerfix.yaml",
        "select: [Signals, minimal]\n"
        "ignore: [minimal]\n"
        "unsafe-fixes: true\n"
        "uid: 2000\n"
        "gid: 3000\n"
        "images:\n"
        "  python: gcr.io/distroless/python3-debian12:nonroot\n"
        "  node: gcr.io/distroless/nodejs22-debian12\n",
    )
    cfg = load_file(path)
    assert cfg == Config(
        select=("signals", "minimal"),
        ignore=("minimal",),
        unsafe_fixes=True,
        uid=2000,
        gid=3000,
        images={
            "python": "gcr.io/distroless/python3-debian12:nonroot",
            "node": "gcr.io/distroless/nodejs22-debian12",
        },
        source=path,
    )


def test_load_file_toml_values(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n'
        "[tool.dockerfix]\n"
        'ignore = "signals, minimal"\n'
        "unsafe_fixes = false\n"
        "uid = 10002\n"
        "gid = 10003\n"
        "[tool.dockerfix.images]\n"
        'python = "python:3.12-slim"\n',
    )
    cfg = load_file(path)
    assert cfg is not None
    assert cfg.select is None
    assert cfg.ignore == ("signals", "minimal")
    assert cfg.unsafe_fixes is False
    assert (cfg.uid, cfg.gid) == (10002, 10003)
    assert cfg.images == {"python": "python:3.12-slim"}
    assert cfg.source == path


def test_load_file_defaults(tmp_path: Path) -> None:
    empty_yaml = write(tmp_path / "a" / ".dockerfix.yaml", "")
    assert load_file(empty_yaml) == Config(source=empty_yaml)
    empty_section = write(tmp_path / "b" / "pyproject.toml", "[tool.dockerfix]\n")
    cfg = load_file(empty_section)
    assert cfg == Config(source=empty_section)
    assert (cfg.uid, cfg.gid, cfg.images, cfg.select, cfg.ignore, cfg.unsafe_fixes) == (
        10001,
        10001,
        {},
        None,
        (),
        False,
    )


def test_load_file_pyproject_without_section_is_none(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.black]\nline-length = 88\n')
    assert load_file(path) is None


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("uid: 0\n", "uid"),
        ("gid: 0\n", "gid"),
        ("uid: -1\n", "uid"),
        ("uid: 2147483648\n", "uid"),
        ("uid: '1000'\n", "uid"),
        ("gid: 1.5\n", "gid"),
        ("gid: false\n", "gid"),
        ("images: {python: 3}\n", "images"),
        ("images: python\n", "images"),
        ("select: [1, 2]\n", "select"),
        ("ignore: {a: b}\n", "ignore"),
        ("unsafe-fixes: yes please\n", "unsafe-fixes"),
        ("surprise: true\n", "surprise"),
        ("tables: {users: {images: [{name: corp/base}]}}\n", "tables.users.images[0].family"),
        ("tables: {runtimes: {moving_tags: {python: 3}}}\n", "tables.runtimes.moving_tags.python"),
        ("tables: {nonroot: {}}\n", "tables.nonroot"),
        ("[a, b]\n", "mapping"),
        ("select: [a\n", "invalid YAML"),
    ],
)
def test_load_file_rejects_bad_values_naming_the_file(tmp_path: Path, content: str, needle: str) -> None:
    path = write(tmp_path / ".dockerfix.yaml", content)
    with pytest.raises(ConfigError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message
    assert needle in message
    assert "\n" not in message


def test_load_file_accepts_largest_uid(tmp_path: Path) -> None:
    cfg = load_file(write(tmp_path / ".dockerfix.yaml", f"uid: {2**31 - 1}\ngid: 1\n"))
    assert cfg is not None
    assert (cfg.uid, cfg.gid) == (2**31 - 1, 1)


def test_load_file_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.dockerfix\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_load_file_unreadable_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_file(tmp_path / "missing" / ".dockerfix.yaml")
    assert "cannot read" in str(info.value)


def test_find_config_walks_up_and_prefers_yaml(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    deep = root / "services" / "api" / "docker"
    deep.mkdir(parents=True)
    write(root / "pyproject.toml", "[tool.dockerfix]\nuid = 4000\n")
    cfg = find_config(deep)
    assert cfg.uid == 4000
    assert cfg.source == (root / "pyproject.toml").resolve()

    write(root / ".dockerfix.yaml", "uid: 5000\n")
    assert find_config(deep).uid == 5000
    assert find_config(deep).source == (root / ".dockerfix.yaml").resolve()

    # a nearer pyproject without the section is skipped; a nearer one with it wins
    write(root / "services" / "pyproject.toml", '[project]\nname = "svc"\n')
    assert find_config(deep).uid == 5000
    write(root / "services" / "api" / "pyproject.toml", "[tool.dockerfix]\ngid = 6000\n")
    nearest = find_config(deep)
    assert (nearest.uid, nearest.gid) == (10001, 6000)  # nearest file wins whole, no merging with parents


def test_find_config_images(tmp_path: Path) -> None:
    write(tmp_path / ".dockerfix.yaml", "images: {python: 'cgr.dev/chainguard/python:latest'}\n")
    (tmp_path / "sub").mkdir()
    assert find_config(tmp_path / "sub").images == {"python": "cgr.dev/chainguard/python:latest"}


def test_find_config_propagates_errors(tmp_path: Path) -> None:
    write(tmp_path / ".dockerfix.yaml", "uid: 0\n")
    with pytest.raises(ConfigError, match="uid"):
        find_config(tmp_path)


def test_find_config_defaults_when_nothing_found(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    cfg = find_config(tmp_path / "a")
    if cfg.source is not None:  # a config somewhere above tmp_path (outside our control)
        pytest.skip(f"a dockerfix config exists above tmp_path: {cfg.source}")
    assert cfg == Config()


def test_merged_overrides_only_given_values() -> None:
    base = Config(select=("minimal",), ignore=("signals",), unsafe_fixes=True, uid=2000)
    assert base.merged(select=None, ignore=None, unsafe_fixes=None) == base
    merged = base.merged(select=("signals",), ignore=None, unsafe_fixes=None)
    assert merged.select == ("signals",)
    assert merged.ignore == ()  # a command-line select replaces the file's whole selection
    assert merged.uid == 2000 and merged.unsafe_fixes is True
    assert base.select == ("minimal",)  # the original is not modified


def test_runtime_packages_are_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / ".dockerfix.yaml"
    good.write_text("runtime-packages:\n  apt: [libyaml-0-2, libpq5]\n  apk: [yaml]\n")
    cfg = load_file(good)
    assert cfg is not None and cfg.runtime_packages == {"apt": ("libyaml-0-2", "libpq5"), "apk": ("yaml",)}
    for bad in ("runtime-packages: [libpq5]\n", "runtime-packages:\n  yum: [x]\n",
                "runtime-packages:\n  apt: ['libpq5; rm -rf /']\n"):
        good.write_text(bad)
        with pytest.raises(ConfigError, match="runtime-packages"):
            load_file(good)
