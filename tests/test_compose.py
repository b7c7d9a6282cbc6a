"""Tests for rewriter.sidefiles.compose: finding services that build a Dockerfile, adding build secrets,
narrow edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

import rewriter.sidefiles.compose as compose
from rewriter.core.edits import apply_edits
from rewriter.sidefiles.compose import (
    COMPOSE_NAMES,
    BuildSecret,
    ComposeEditError,
    ServiceRef,
    add_build_secrets,
    find_services,
    narrow_edit,
)

NPM = BuildSecret("npm_token", file="./secrets/npm_token.txt")
GH = BuildSecret("gh_token", environment="GH_TOKEN")


def load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def assert_lines_kept(old: str, new: str, replaced: dict[str, str] | None = None) -> None:
    """Every line of ``old`` (with its line end) is still in ``new``, in order; ``replaced`` maps a changed line."""
    replaced = replaced or {}
    new_lines = new.splitlines(keepends=True)
    pos = 0
    for line in old.splitlines(keepends=True):
        want = replaced.get(line, line)
        try:
            pos = new_lines.index(want, pos) + 1
        except ValueError:
            pytest.fail(f"line {want!r} lost or moved in:\n{new}")


# --- find_services ---------------------------------------------------------------------------


def test_find_services_string_and_mapping_builds(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "sub" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  root:\n    build: .\n"
        "  root_slash:\n    build: ./\n"
        "  root_map:\n    build:\n      context: .\n      dockerfile: Dockerfile\n"
        "  root_default_ctx:\n    build:\n      dockerfile: Dockerfile\n"
        "  other_name:\n    build:\n      context: .\n      dockerfile: Dockerfile.prod\n"
        "  sub:\n    build: ./sub\n"
        "  sub_map:\n    build:\n      context: sub\n"
        "  sub_via_dockerfile:\n    build:\n      context: .\n      dockerfile: sub/Dockerfile\n"
        "  image_only:\n    image: nginx\n"
        "  inline:\n    build:\n      context: .\n      dockerfile_inline: FROM scratch\n"
        "  remote:\n    build: https://github.com/x/y.git\n"
    )
    root = find_services(tmp_path, tmp_path / "Dockerfile")
    assert root == [
        ServiceRef("compose.yaml", "root"),
        ServiceRef("compose.yaml", "root_slash"),
        ServiceRef("compose.yaml", "root_map"),
        ServiceRef("compose.yaml", "root_default_ctx"),
    ]
    sub = find_services(tmp_path, tmp_path / "sub" / "Dockerfile")
    assert [r.service for r in sub] == ["sub", "sub_map", "sub_via_dockerfile"]
    assert find_services(tmp_path, tmp_path / "Dockerfile.other") == []


def test_find_services_context_relative_to_compose_folder(tmp_path: Path) -> None:
    app = tmp_path / "app"
    deploy = tmp_path / "deploy"
    app.mkdir()
    deploy.mkdir()
    (deploy / "docker-compose.yml").write_text("services:\n  api:\n    build:\n      context: ../app\n")
    assert find_services(deploy, app / "Dockerfile") == [ServiceRef("docker-compose.yml", "api")]
    assert find_services(tmp_path, app / "Dockerfile") == []  # no compose file there


def test_find_services_skips_unparsable_and_odd_files(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n  bad: [unclosed\n")
    (tmp_path / "compose.yml").write_text("- just\n- a list\n")
    (tmp_path / "docker-compose.yaml").write_text("services:\n  web: nginx\n  api:\n    build: .\n")
    (tmp_path / "docker-compose.yml").write_bytes(b"\xff\xfe not utf-8")
    assert find_services(tmp_path, tmp_path / "Dockerfile") == [ServiceRef("docker-compose.yaml", "api")]
    assert COMPOSE_NAMES[0] == "compose.yaml"


# --- add_build_secrets -----------------------------------------------------------------------

REALISTIC = """\
# Development stack.
# Run with: docker compose up
services:
  web:
    build: .   # the app itself
    image: "registry.example.com/web:latest"
    ports:
      - "8000:5000"  # http
    environment:
      - DEBUG=1
    depends_on: [db]

  # the database
  db:
    image: 'postgres:16'
    volumes:
      - data:/var/lib/postgresql/data

volumes:
  data: {}

# end of file
"""


def test_realistic_file_string_build() -> None:
    new = add_build_secrets(REALISTIC, "web", [NPM, GH])
    assert_lines_kept(REALISTIC, new, {"    build: .   # the app itself\n": "    build:   # the app itself\n"})
    data = load(new)
    assert data["services"]["web"]["build"] == {"context": ".", "secrets": ["npm_token", "gh_token"]}
    assert data["secrets"] == {
        "npm_token": {"file": "./secrets/npm_token.txt"},
        "gh_token": {"environment": "GH_TOKEN"},
    }
    # nothing else changed
    old = load(REALISTIC)
    old["services"]["web"]["build"] = data["services"]["web"]["build"]
    old["secrets"] = data["secrets"]
    assert data == old
    # block style, the file's indentation, new lines next to what they belong to
    assert (
        "    build:   # the app itself\n"
        "      context: .\n"
        "      secrets:\n"
        "        - npm_token\n"
        "        - gh_token\n"
        '    image: "registry.example.com/web:latest"\n'
    ) in new
    # a blank line before it like the other top-level keys; the final comment stays last
    assert new.endswith(
        "  data: {}\n\nsecrets:\n  npm_token:\n    file: ./secrets/npm_token.txt\n"
        "  gh_token:\n    environment: GH_TOKEN\n\n# end of file\n"
    )
    # the quoting and the flow sequence survive
    assert "    image: 'postgres:16'\n" in new and "    depends_on: [db]\n" in new


def test_idempotent() -> None:
    once = add_build_secrets(REALISTIC, "web", [NPM, GH])
    assert add_build_secrets(once, "web", [NPM, GH]) == once
    assert add_build_secrets(once, "web", [GH]) is once
    # duplicates in one call are written once
    dup = add_build_secrets(REALISTIC, "web", [NPM, NPM])
    assert load(dup)["services"]["web"]["build"]["secrets"] == ["npm_token"]


def test_quoted_string_build_keeps_quotes() -> None:
    text = 'services:\n  web:\n    build: "./app"\n'
    new = add_build_secrets(text, "web", [NPM])
    assert '      context: "./app"\n' in new
    assert load(new)["services"]["web"]["build"]["context"] == "./app"


FOUR_SPACES = """\
services:
    api:
        build:
            context: ./api
            dockerfile: Dockerfile
            # target: dev
        ports:
        - "80:80"
    worker:
        image: worker
"""


def test_four_spaces_not_indented_sequences() -> None:
    new = add_build_secrets(FOUR_SPACES, "api", [NPM])
    assert_lines_kept(FOUR_SPACES, new)
    assert (
        "            # target: dev\n"
        "            secrets:\n"
        "            - npm_token\n"
        "        ports:\n"
    ) in new
    assert new.endswith("secrets:\n    npm_token:\n        file: ./secrets/npm_token.txt\n")
    assert load(new)["services"]["api"]["build"]["secrets"] == ["npm_token"]


FOUR_SPACES_INDENTED = """\
services:
    api:
        build: .
        command:
            - run
            - --fast
"""


def test_four_spaces_indented_sequences() -> None:
    new = add_build_secrets(FOUR_SPACES_INDENTED, "api", [GH])
    assert_lines_kept(FOUR_SPACES_INDENTED, new, {"        build: .\n": "        build:\n"})
    assert (
        "        build:\n"
        "            context: .\n"
        "            secrets:\n"
        "                - gh_token\n"
        "        command:\n"
    ) in new
    assert new.endswith("secrets:\n    gh_token:\n        environment: GH_TOKEN\n")


TWO_SPACES_FLAT = """\
services:
  api:
    build: ./api
    command:
    - run
"""


def test_two_spaces_not_indented_sequences() -> None:
    new = add_build_secrets(TWO_SPACES_FLAT, "api", [NPM])
    assert "    build:\n      context: ./api\n      secrets:\n      - npm_token\n    command:\n" in new
    assert_lines_kept(TWO_SPACES_FLAT, new, {"    build: ./api\n": "    build:\n"})


EXISTING = """\
services:
  web:
    build:
      context: .
      secrets:
        - existing   # already there
    # about db
  db:
    image: x

secrets:
  existing:
    file: ./existing.txt   # keep me
  npm_token:
    environment: SOMETHING_ELSE
  # more to come
"""


def test_existing_build_secrets_and_top_level_secrets() -> None:
    new = add_build_secrets(EXISTING, "web", [BuildSecret("existing", file="other"), NPM, GH])
    assert_lines_kept(EXISTING, new)
    data = load(new)
    assert data["services"]["web"]["build"]["secrets"] == ["existing", "npm_token", "gh_token"]
    # existing definitions are left as they are; only the missing one is added
    assert data["secrets"] == {
        "existing": {"file": "./existing.txt"},
        "npm_token": {"environment": "SOMETHING_ELSE"},
        "gh_token": {"environment": "GH_TOKEN"},
    }
    assert "        - existing   # already there\n        - npm_token\n        - gh_token\n    # about db\n" in new
    assert new.endswith("  # more to come\n  gh_token:\n    environment: GH_TOKEN\n")
    assert add_build_secrets(new, "web", [NPM, GH]) == new


def test_long_syntax_build_secret_counts_as_listed() -> None:
    text = (
        "services:\n  web:\n    build:\n      context: .\n"
        "      secrets:\n        - source: npm_token\n          target: npm\n"
    )
    new = add_build_secrets(text, "web", [NPM])
    assert load(new)["services"]["web"]["build"]["secrets"] == [{"source": "npm_token", "target": "npm"}]
    assert new == text + "secrets:\n  npm_token:\n    file: ./secrets/npm_token.txt\n"


def test_empty_secrets_keys() -> None:
    text = "services:\n  web:\n    build:\n      context: .\n      secrets:\nsecrets:\n"
    new = add_build_secrets(text, "web", [NPM])
    assert new == (
        "services:\n  web:\n    build:\n      context: .\n      secrets:\n        - npm_token\n"
        "secrets:\n  npm_token:\n    file: ./secrets/npm_token.txt\n"
    )


def test_blank_line_after_build_stays_after_new_block() -> None:
    text = "services:\n  web:\n    build: .\n\n  db:\n    image: postgres"
    new = add_build_secrets(text, "web", [NPM])
    assert new == (
        "services:\n  web:\n    build:\n      context: .\n      secrets:\n        - npm_token\n\n"
        "  db:\n    image: postgres\n"
        "secrets:\n  npm_token:\n    file: ./secrets/npm_token.txt"
    )  # and still no final newline


def test_crlf_file() -> None:
    crlf = REALISTIC.replace("\n", "\r\n")
    new = add_build_secrets(crlf, "web", [NPM])
    assert "\n" not in new.replace("\r\n", "")
    assert new == add_build_secrets(REALISTIC, "web", [NPM]).replace("\n", "\r\n")
    assert_lines_kept(crlf, new, {"    build: .   # the app itself\r\n": "    build:   # the app itself\r\n"})
    assert add_build_secrets(new, "web", [NPM]) == new


def test_no_final_newline_kept() -> None:
    text = REALISTIC.rstrip("\n")
    new = add_build_secrets(text, "web", [NPM])
    assert not new.endswith("\n")
    assert new == add_build_secrets(REALISTIC, "web", [NPM]).rstrip("\n")


def test_fallback_dump_for_flow_style() -> None:
    text = "services: {web: {build: ., image: x}}\n"
    new = add_build_secrets(text, "web", [NPM])
    data = load(new)
    assert data["services"]["web"] == {"build": {"context": ".", "secrets": ["npm_token"]}, "image": "x"}
    assert data["secrets"] == {"npm_token": {"file": "./secrets/npm_token.txt"}}
    assert add_build_secrets(new, "web", [NPM]) == new


def test_fallback_dump_keeps_comments_and_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_splice(*args: object, **kwargs: object) -> None:
        raise compose._Fallback

    spliced = add_build_secrets(REALISTIC, "web", [NPM])
    monkeypatch.setattr(compose, "_plan_splices", no_splice)
    new = add_build_secrets(REALISTIC, "web", [NPM])
    assert new != spliced  # the fallback really ran
    assert load(new) == load(spliced)
    assert "# Development stack.\n" in new and "  # the database\n" in new and "# end of file\n" in new
    assert load(new)["services"]["web"]["build"] == {"context": ".", "secrets": ["npm_token"]}
    # ruamel would write the blank line after "build: ." between "build:" and "context:"; it is moved
    text = "services:\n  web:\n    build: .   # here\n\n  # db\n  db:\n    image: x\n"
    new = add_build_secrets(text, "web", [NPM])
    assert new.startswith(
        "services:\n  web:\n    build:     # here\n      context: .\n      secrets:\n        - npm_token\n\n  # db\n"
    )


def test_errors() -> None:
    with pytest.raises(ComposeEditError):
        add_build_secrets("services: [unclosed\n", "web", [NPM])
    with pytest.raises(ComposeEditError):
        add_build_secrets("services:\n  db:\n    image: x\n", "web", [NPM])
    with pytest.raises(ComposeEditError):
        add_build_secrets("services:\n  web:\n    image: x\n", "web", [NPM])
    shared = "x-build: &b\n  context: .\nservices:\n  web:\n    build: *b\n  api:\n    build: *b\n"
    with pytest.raises(ComposeEditError):
        add_build_secrets(shared, "web", [NPM])
    with pytest.raises(ValueError):
        BuildSecret("x")
    with pytest.raises(ValueError):
        BuildSecret("x", file="a", environment="B")
    assert add_build_secrets("anything", "web", []) == "anything"


# --- narrow_edit ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [REALISTIC, FOUR_SPACES, FOUR_SPACES_INDENTED, EXISTING, REALISTIC.replace("\n", "\r\n"), REALISTIC.rstrip()],
)
def test_narrow_edit_applies(text: str) -> None:
    service = "api" if "api:" in text else "web"
    new = add_build_secrets(text, service, [NPM, GH])
    edit = narrow_edit(text, new, "compose.yaml")
    assert edit is not None
    assert edit.path == "compose.yaml"
    assert apply_edits(text, [edit]) == new
    # whole lines only, and nothing but the changed middle
    assert edit.start == 0 or text[edit.start - 1] == "\n"
    assert edit.end == len(text) or text[edit.end - 1] == "\n"
    assert edit.end - edit.start < len(text)


def test_narrow_edit_examples() -> None:
    assert narrow_edit("a\nb\n", "a\nb\n", "f") is None
    e = narrow_edit("a\nb\nc\n", "a\nB\nc\n", "f")
    assert e is not None and (e.start, e.end, e.content) == (2, 4, "B\n")
    e = narrow_edit("a\nc\n", "a\nb\nc\n", "f")
    assert e is not None and (e.start, e.end, e.content) == (2, 2, "b\n")
    e = narrow_edit("abc", "abd", "f")  # no newline at all: the single line
    assert e is not None and (e.start, e.end, e.content) == (0, 3, "abd")


@given(
    st.lists(st.sampled_from(["a", "b", "", "a b", "x"]), max_size=6),
    st.lists(st.sampled_from(["a", "b", "", "a c", "y"]), max_size=6),
    st.booleans(),
)
def test_narrow_edit_property(old_lines: list[str], new_lines: list[str], final_newline: bool) -> None:
    end = "\n" if final_newline else ""
    old = "\n".join(old_lines) + end
    new = "\n".join(new_lines) + end
    edit = narrow_edit(old, new, "p")
    if old == new:
        assert edit is None
        return
    assert edit is not None
    assert apply_edits(old, [edit]) == new
    assert edit.start == 0 or old[edit.start - 1] == "\n"
    assert edit.end in (0, len(old)) or old[edit.end - 1] == "\n"
