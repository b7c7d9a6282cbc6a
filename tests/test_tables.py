"""The codemods' data tables (transforms/data/*.yaml): their schemas, checked when a table is loaded
and when a configuration adds to one, and one end-of-life date per runtime version."""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import transforms._data as data_module
from rewriter.engine.config import Config, ConfigError, load_file
from rewriter.engine.pipeline import process_text
from transforms._data import TableError, check_additions, checked_date, load, merged, validate
from transforms._schema import CONFIGURABLE, EOL_FROM_FAMILIES, SCHEMAS
from transforms.nonroot import TRANSFORM as NONROOT

DATA = Path(resources.files("transforms").joinpath("data"))  # type: ignore[arg-type]


def _raw(name: str) -> Any:
    """A fresh parse of the shipped table (safe to damage)."""
    return YAML(typ="safe").load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))


# --- every shipped table validates ----------------------------------------------------------------

def test_every_shipped_table_has_a_schema() -> None:
    assert {p.stem for p in DATA.glob("*.yaml")} == set(SCHEMAS)
    assert set(CONFIGURABLE) <= set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_shipped_table_validates(name: str) -> None:
    table = load(name)
    assert validate(name, _raw(name)) == table
    assert isinstance(checked_date(name), datetime.date)


def test_load_is_cached_and_merged_without_additions_is_the_table_itself() -> None:
    for name in CONFIGURABLE:
        assert load(name) is load(name)
        assert merged(name, None) is load(name) and merged(name, {}) is load(name)


# --- a damaged copy fails with the table and the key path -------------------------------------------

def _set(*path_and_value: Any) -> Callable[[Any], None]:
    """Set the value at a key path (the last argument is the value)."""
    *path, value = path_and_value

    def damage(table: Any) -> None:
        for key in path[:-1]:
            table = table[key]
        table[path[-1]] = value
    return damage


def _delete(*path: Any) -> Callable[[Any], None]:
    """Delete the key at a key path."""

    def damage(table: Any) -> None:
        for key in path[:-1]:
            table = table[key]
        del table[path[-1]]
    return damage


DAMAGES = [
    # runtimes
    ("runtimes", _set("distroless", "static", "eol", "soon"), "distroless.static.eol: expected a date"),
    ("runtimes", _set("dotnet", "9.0", "eol", "2026-02-30"), "dotnet.'9.0'.eol: expected a date"),
    ("runtimes", _set("families", "python", "versions", "3.13", "someday"),
     "families.python.versions.'3.13': expected a date"),
    ("runtimes", _set("python", "3.13", "eol", "never"), "python.'3.13'.eol: expected a date"),
    ("runtimes", _set("python", "3.13", "distroless", "yes"), "python.'3.13'.distroless: expected true or false"),
    ("runtimes", _delete("python", "3.12", "site"), "python.'3.12'.site: missing"),
    ("runtimes", _set("node", "22", "nodejs", "/nodejs/bin/node"), "node.'22'.nodejs: unknown key"),
    ("runtimes", _set("python", 3.1, {"image": "python:3.1-slim", "python": "/p", "site": "/s"}),
     "python.'3.1': the key 3.1 must be a string"),
    ("runtimes", _set("moving_tags", "python", "latest", 3.15), "moving_tags.python.latest: expected a string"),
    ("runtimes", _set("compilers", "apk", "gcc"), "compilers.apk: expected a list of strings"),
    ("runtimes", _delete("glibc"), "glibc: missing"),
    ("runtimes", _set("checked", "last week"), "checked: expected a date"),
    # logs
    ("logs", _set("flags", 1, "to", "stdout"), r"flags\[1\]\.to: expected one of '-', 'drop'"),
    ("logs", _set("config_directives", 0, "stream", "stdlog"), r"config_directives\[0\]\.stream: expected one of"),
    ("logs", _set("env_names", 2, ["*_LOG"]), r"env_names\[2\]: expected a string"),
    ("logs", _set("foreground", "nginx", "nginx -g 'daemon off;'"), "foreground.nginx: expected a list of strings"),
    ("logs", _set("unbuffered", 0, "env", {"PYTHONUNBUFFERED": 1}), r"unbuffered\[0\]\.env\.PYTHONUNBUFFERED: "
                                                                    "expected a string"),
    # secrets
    ("secrets", _delete("files", 0, "id"), r"files\[0\]\.id: missing"),
    ("secrets", _set("files", 4, "used_by", "git"), r"files\[4\]\.used_by: expected a list of strings"),
    ("secrets", _set("files", 20, "ssh", "true"), r"files\[20\]\.ssh: expected true or false"),
    ("secrets", _set("ssh_users", "sometimes", ["ssh"]), "ssh_users.sometimes: unknown key"),
    ("secrets", _set("env_prefix_consumers", 0, "prefix", ["X_"]), r"env_prefix_consumers\[0\]\.prefix: unknown key"),
    # users
    ("users", _set("existing_users", 6, "uid", "1000"), r"existing_users\[6\]\.uid: expected an integer"),
    ("users", _set("existing_users", 0, "default", "yes"), r"existing_users\[0\]\.default: expected true or false"),
    ("users", _set("families", "alpine", "create", ["adduser"]), "families.alpine.create: expected a string or null"),
    ("users", _set("images", 3, "family", "rhel-minimal"), r"images\[3\]\.family: unknown family 'rhel-minimal'"),
    ("users", _set("root_images", 0, "unprivileged", "nginx-unprivileged"),
     r"root_images\[0\]\.unprivileged: no recipe"),
    ("users", _set("unprivileged", "nginx", "listen", "listen (\\d+"),
     "unprivileged.nginx.listen: expected a regular expression"),
    ("users", _set("privileged_servers", 0, "port", "80"), r"privileged_servers\[0\]\.port: expected an integer"),
    # entrypoints
    ("entrypoints", _delete("images", 0, "does"), r"images\[0\]\.does: missing"),
    # cgo (issue 23 item 3)
    ("cgo", _delete("modules", "github.com/mattn/go-sqlite3", "source"),
     "modules.'github.com/mattn/go-sqlite3'.source: missing"),
    ("cgo", _set("modules", "github.com/mattn/go-sqlite3", "tags", "libsqlite3", "sqlite3"),
     "modules.'github.com/mattn/go-sqlite3'.tags.libsqlite3: expected a list of strings"),
    ("cgo", _set("libraries", "sqlite3", "yum", ["sqlite-libs"]), "libraries.sqlite3.yum: unknown key"),
    ("cgo", _delete("runtimes", "alpine"), "runtimes.alpine: missing"),
    ("cgo", _set("runtimes", "debian", "eol", "trixie"), "runtimes.debian.eol: expected a date"),
]


@pytest.mark.parametrize(("name", "damage", "message"), DAMAGES)
def test_a_damaged_table_fails_naming_the_table_and_the_key_path(
        name: str, damage: Callable[[Any], None], message: str) -> None:
    table = _raw(name)
    damage(table)
    with pytest.raises(TableError) as info:
        validate(name, table)
    assert re.match(rf"{name}\.yaml: {message}", str(info.value)), str(info.value)


def test_each_configurable_table_has_damages_tested() -> None:
    assert {name for name, _d, _m in DAMAGES} >= set(CONFIGURABLE)


def tables_reading_as(text: str) -> Any:
    """A stand-in for the shipped tables' reader: every data file reads as ``text``."""
    return lambda _name: text


def test_loading_a_damaged_file_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema is checked on the way in: what the codemods read from disk, not only validate()."""
    text = (DATA / "users.yaml").read_text(encoding="utf-8").replace("uid: 1654", "uid: app", 1)
    monkeypatch.setattr(data_module, "_table_text", tables_reading_as(text))
    with pytest.raises(TableError, match=r"^users\.yaml: existing_users\[3\]\.uid: expected an integer"):
        data_module._raw.__wrapped__("users")


# --- the configuration's tables: are checked with the same schemas ----------------------------------

BAD_TABLES = [
    ("tables: {entrypoints: {images: []}}\n", "tables.entrypoints: no such table"),
    ("tables: {users: {groups: [app]}}\n", "tables.users.groups: unknown key"),
    ("tables: {users: {images: [{name: corp/base}]}}\n", r"tables.users.images\[0\].family: missing"),
    ("tables: {users: {images: [{name: corp/base, family: debain}]}}\n",
     r"tables.users.images\[0\].family: unknown family 'debain'"),
    ("tables: {users: {existing_users: [{name: corp/base, uid: '5000', gid: 5000, default: true}]}}\n",
     r"tables.users.existing_users\[0\].uid: expected an integer"),
    ("tables: {users: {privilege_droppers: gosu}}\n", "tables.users.privilege_droppers: expected a list of strings"),
    ("tables: {logs: {env_names: [1]}}\n", r"tables.logs.env_names\[0\]: expected a string"),
    ("tables: {secrets: {files: [{pattern: .mytoolrc}]}}\n", r"tables.secrets.files\[0\].id: missing"),
    ("tables: {secrets: {ssh_users: {always: ssh}}}\n", "tables.secrets.ssh_users.always: expected a list"),
    ("tables: {runtimes: {checked: 2030-01-01}}\n", "tables.runtimes.checked: "),
    ("tables: {runtimes: {python: {'3.16': {image: 'python:3.16-slim', python: /p, site: /s, eol: tomorrow}}}}\n",
     r"tables.runtimes.python.'3.16'.eol: expected a date"),
    ("tables: {runtimes: {python: {'3.16': {image: 'python:3.16-slim', python: /p, site: /s}}}}\n",
     r"tables.runtimes.python.'3.16': no end of life"),
    ("tables: {runtimes: {python: {'3.13': {image: x, python: /p, site: /s, eol: 2031-01-01}}}}\n",
     r"tables.runtimes.python.'3.13'.eol: the end of life of python 3.13 is already stated"),
    ("tables: {runtimes: {families: {php: {versions: {'8.6': 2030-12-31}}}}}\n",
     "tables.runtimes.families.php.slim: missing"),
]


@pytest.mark.parametrize(("content", "message"), BAD_TABLES)
def test_a_bad_tables_entry_is_a_config_error_naming_the_file_and_key(
        tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / ".dockerfix.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_file(path)
    assert re.match(rf"{re.escape(str(path))}: {message}", str(info.value)), str(info.value)
    assert "\n" not in str(info.value)


def test_a_bad_tables_entry_in_pyproject_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.dockerfix.tables.users]\nexisting_users = [{name = "corp/base", uid = 5000}]\n')
    with pytest.raises(ConfigError, match=r"tables\.users\.existing_users\[0\]\.gid: missing") as info:
        load_file(path)
    assert str(info.value).startswith(f"{path}: ")


def test_good_tables_entries_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / ".dockerfix.yaml"
    path.write_text("tables:\n"
                    "  users: {images: [{name: corp/base, family: debian}], privilege_droppers: [my-drop]}\n"
                    "  runtimes:\n"
                    "    python: {'3.16': {image: 'python:3.16-slim', python: /p, site: /s, eol: 2032-10-31}}\n"
                    "    compilers: {apt: [gfortran]}\n"
                    "  secrets: {ssh_users: {always: [ssh, autossh]}}\n")
    cfg = load_file(path)
    assert cfg is not None and set(cfg.tables) == {"users", "runtimes", "secrets"}
    runtimes = merged("runtimes", cfg.tables["runtimes"])
    assert runtimes["python"]["3.16"]["eol"] == datetime.date(2032, 10, 31)
    assert runtimes["python"]["3.13"]["eol"] == load("runtimes")["python"]["3.13"]["eol"]
    assert runtimes["compilers"] == {"apt": ["gfortran"], "apk": load("runtimes")["compilers"]["apk"]}


def test_additions_made_in_code_are_checked_too() -> None:
    with pytest.raises(TableError, match=r"users\.yaml: images\[0\]\.family: missing"):
        merged("users", {"images": [{"name": "corp/base"}]})
    with pytest.raises(TableError, match="no such table"):
        check_additions("nowhere", {})


# --- the configuration's users table reaches nonroot ------------------------------------------------

_APP = 'FROM registry.example.com/corp/base:1\nWORKDIR /app\nCOPY . .\nCMD ["./server"]\n'


def test_a_users_images_row_in_configuration_tells_nonroot_the_family(tmp_path: Path) -> None:
    plain = process_text(_APP, transforms=[NONROOT], unsafe_fixes=True)
    assert "unknown base image family" in " ".join(n.message for n in plain.notes)
    assert not plain.changed
    path = tmp_path / ".dockerfix.yaml"
    path.write_text("tables:\n  users:\n    images: [{name: registry.example.com/corp/base, family: alpine}]\n")
    cfg = load_file(path)
    assert cfg is not None
    r = process_text(_APP, transforms=[NONROOT], config=cfg, unsafe_fixes=True)
    assert "adduser -S -D -h /home/app -s /sbin/nologin -u 10001 -G app app" in r.new_text
    assert "USER 10001:10001" in r.new_text


def test_an_existing_users_row_in_configuration_is_used(tmp_path: Path) -> None:
    cfg = Config(tables={"users": {"existing_users": [{"name": "registry.example.com/corp/*", "uid": 5000,
                                                       "gid": 5000, "default": True}]}})
    r = process_text(_APP, transforms=[NONROOT], config=cfg, unsafe_fixes=True)
    assert "USER 5000:5000" in r.new_text
    assert "groupadd" not in r.new_text and "adduser" not in r.new_text


def test_a_privilege_dropper_in_configuration_leaves_the_image_as_root() -> None:
    text = 'FROM debian:trixie-slim\nCOPY app /app\nCMD ["my-drop", "app", "/app"]\n'
    assert "USER 10001" in process_text(text, transforms=[NONROOT], unsafe_fixes=True).new_text
    cfg = Config(tables={"users": {"privilege_droppers": ["my-drop"]}})
    r = process_text(text, transforms=[NONROOT], config=cfg, unsafe_fixes=True)
    assert not r.changed
    assert "drops privileges itself (my-drop)" in " ".join(n.message for n in r.notes)


# --- one end of life per version ---------------------------------------------------------------------

def test_language_rows_state_no_end_of_life_of_their_own() -> None:
    """families.<stack>.versions is the only place a python/node/java version's end of life is written."""
    raw = _raw("runtimes")
    for stack in EOL_FROM_FAMILIES:
        for version, row in raw[stack].items():
            assert "eol" not in row, f"{stack} {version}: state the end of life in families.{stack}.versions"
            assert version in raw["families"][stack]["versions"], (stack, version)


def test_loaded_language_rows_take_the_families_date() -> None:
    table = load("runtimes")
    for stack in EOL_FROM_FAMILIES:
        for version, row in table[stack].items():
            assert row["eol"] == table["families"][stack]["versions"][version]
    assert all("eol" in row for row in table["dotnet"].values())
    assert all("eol" in row for row in table["distroless"].values())


def test_every_version_has_exactly_one_end_of_life_in_the_file() -> None:
    """No version's date appears twice anywhere in runtimes.yaml (rows and families alike)."""
    raw = _raw("runtimes")
    seen: dict[tuple[str, str], str] = {}
    for stack, family in raw["families"].items():
        for version in family["versions"]:
            seen[(stack, version)] = f"families.{stack}.versions"
    for stack in (*EOL_FROM_FAMILIES, "dotnet"):
        for version, row in raw[stack].items():
            if "eol" in row:
                assert (stack, version) not in seen, (stack, version, seen.get((stack, version)))
                seen[(stack, version)] = stack


def test_an_end_of_life_stated_twice_is_refused() -> None:
    table = _raw("runtimes")
    table["node"]["22"]["eol"] = table["families"]["node"]["versions"]["22"]
    with pytest.raises(TableError, match=r"^runtimes\.yaml: node\.'22'\.eol: .*already stated in "
                                         r"families\.node\.versions\.'22'"):
        validate("runtimes", table)


def test_a_language_row_without_an_end_of_life_is_refused() -> None:
    table = _raw("runtimes")
    del table["families"]["java"]["versions"]["17"]
    with pytest.raises(TableError, match=r"^runtimes\.yaml: java\.'17': no end of life"):
        validate("runtimes", table)


def test_changing_the_families_date_changes_the_row() -> None:
    table = _raw("runtimes")
    table["families"]["python"]["versions"]["3.13"] = "2026-01-01"
    assert validate("runtimes", table)["python"]["3.13"]["eol"] == "2026-01-01"


def test_today_is_the_checked_date_of_the_runtimes_table() -> None:
    from transforms.multistage.plan import TODAY

    assert checked_date("runtimes") == TODAY == datetime.date(2026, 12, 1)
    assert checked_date(load("runtimes")) == TODAY
    assert checked_date({"checked": "2027-01-02"}) == datetime.date(2027, 1, 2)


def test_loading_does_not_change_the_shipped_values() -> None:
    """The derived table is what the file held before the end-of-life dates were stated once."""
    table = load("runtimes")
    assert table["python"]["3.13"] == {"image": "gcr.io/distroless/python3-debian13:nonroot", "eol": "2029-10-31",
                                       "python": "/usr/bin/python3", "site": "/usr/local/lib/python3.13/dist-packages",
                                       "distroless": True}
    assert table["node"]["20"]["eol"] == "2026-04-30" and table["java"]["11"]["eol"] == "2027-10-31"
    assert copy.deepcopy(table) == table


_GLOBBY = "aAbZ_*?[]!-.\\/"


@settings(max_examples=500, deadline=None)
@given(st.text(_GLOBBY, max_size=8), st.lists(st.text(_GLOBBY, max_size=6), max_size=5))
def test_matches_any_is_fnmatchcase_over_the_patterns(name: str, patterns: list[str]) -> None:
    """The patterns joined into one regular expression answer as fnmatchcase does one by one."""
    import fnmatch

    assert data_module.matches_any(name, patterns) == any(fnmatch.fnmatchcase(name, p) for p in patterns)


_GLOBS = st.sampled_from(["node", "node*", "*/node", "library/node", "python", "py*", "*", "?ode", "[np]ode",
                          "docker.io/library/node", "gcr.io/distroless/*", "22*", "*-slim", "latest", "3.1?"])
_REFS = st.sampled_from(["node", "node:22-slim", "library/node:20", "docker.io/library/node", "python:3.12",
                         "gcr.io/distroless/nodejs22", "pode:latest", "index.docker.io/library/python:3.13"])


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"name": _GLOBS}, optional={"tag": _GLOBS}), max_size=6), ref=_REFS)
def test_first_match_is_the_first_row_fnmatch_matches(rows: list[dict[str, Any]], ref: str) -> None:
    """first_match (rows compiled once per table) answers what fnmatch says row by row, every time."""
    import fnmatch

    from rewriter.facts.context import parse_image

    image = parse_image(ref)
    names = data_module._names(image.name)
    tag = image.tag or "latest"
    expected = next((r for r in rows if any(fnmatch.fnmatchcase(n, r["name"]) for n in names)
                     and ("tag" not in r or fnmatch.fnmatchcase(tag, r["tag"]))), None)
    assert data_module.first_match(rows, image) is expected
    assert data_module.first_match(rows, image) is expected  # remembered
    if rows:
        assert data_module.image_matches(rows[0], image) == (expected is rows[0])
