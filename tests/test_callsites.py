"""Call sites (:mod:`rewriter.sidefiles.callsites`): the places that build a Dockerfile, rewritten when
the ``secrets`` codemod changes the build command, byte for byte elsewhere; and those left alone.

The golden cases ``golden/secrets/callsite-*`` show one kind each; these tests check what a golden
file cannot: YAML outputs still load with ruamel and keep their comments, notes name what is left,
a file above the build context is never edited, a second run changes nothing, and the report lists
every call site.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rewriter.core.buildsecret import BuildSecret
from rewriter.core.syntax import parse
from rewriter.facts import Context
from rewriter.sidefiles.callsites import plan
from transforms.secrets.shared import compose_edits

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "secrets"
NPM = BuildSecret("npm_token", environment="NPM_TOKEN")
NPMRC = BuildSecret("npmrc", file=".npmrc")


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        with open(root / rel, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)


def _plan(root: Path, secret: BuildSecret, dockerfile: str = "Dockerfile"):
    def read(rel: str) -> str | None:
        p = root / rel
        return p.read_text(encoding="utf-8") if p.is_file() else None

    return plan(root, root / dockerfile, [secret], read)


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.glob("callsite-*")))
def test_yaml_outputs_load_and_keep_comments(case: str) -> None:
    folder = GOLDEN / case
    for expected in folder.glob("expected.*"):
        if not expected.name.endswith((".yml", ".yaml")):
            continue
        original = folder / expected.name.removeprefix("expected.").replace("__", "/")
        old, new = original.read_bytes().decode(), expected.read_bytes().decode()
        assert YAML().load(new) is not None
        comments = [line.split("#", 1)[1] for line in old.splitlines() if "#" in line and "${{" not in line]
        for c in comments:
            assert c in new, f"{expected.name}: comment {c!r} lost"
        if "\r\n" in old:
            assert new.count("\n") == new.count("\r\n"), f"{expected.name}: CRLF not kept"


def test_build_push_action_moves_the_build_arg_to_secrets(tmp_path: Path) -> None:
    _write(tmp_path, {
        "Dockerfile": "FROM x\n",
        ".github/workflows/ci.yml": (
            "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n"
            "          build-args: |\n            A=1\n            NPM_TOKEN=${{ secrets.NPM_TOKEN }}\n"
            "          tags: app   # keep\n"),
    })
    texts, sites = _plan(tmp_path, NPM)
    new = texts[".github/workflows/ci.yml"]
    assert "NPM_TOKEN=${{" not in new.split("secrets:")[0]
    assert 'secrets: "npm_token=${{ secrets.NPM_TOKEN }}"' in new
    assert "            A=1\n" in new and "tags: app   # keep" in new
    with_ = YAML().load(new)["jobs"]["b"]["steps"][0]["with"]
    assert with_["build-args"] == "A=1\n" and with_["secrets"] == "npm_token=${{ secrets.NPM_TOKEN }}"
    assert [s.status for s in sites] == ["changed"]


def test_run_step_sets_the_variable_from_the_same_expression(tmp_path: Path) -> None:
    _write(tmp_path, {
        "Dockerfile": "FROM x\n",
        ".github/workflows/ci.yml": (
            "jobs:\n  b:\n    steps:\n      - run: docker build --build-arg NPM_TOKEN=${{ secrets.NPM_TOKEN }} .\n"),
    })
    texts, _ = _plan(tmp_path, NPM)
    run = YAML().load(texts[".github/workflows/ci.yml"])["jobs"]["b"]["steps"][0]["run"]
    assert run == 'NPM_TOKEN="${{ secrets.NPM_TOKEN }}" docker build --secret id=npm_token,env=NPM_TOKEN .'


@pytest.mark.parametrize(("command", "expected"), [
    ("docker build --build-arg NPM_TOKEN .", "docker build --secret id=npm_token,env=NPM_TOKEN ."),
    ('docker build --build-arg NPM_TOKEN="$TOKEN" .', "docker build --secret id=npm_token,env=TOKEN ."),
    ("podman build --build-arg=NPM_TOKEN=${NPM_TOKEN} -f Dockerfile .",
     "podman build --secret id=npm_token,env=NPM_TOKEN -f Dockerfile ."),
    ("buildah bud --build-arg NPM_TOKEN=$NPM_TOKEN -t x .", "buildah bud --secret id=npm_token,env=NPM_TOKEN -t x ."),
])
def test_shell_commands(tmp_path: Path, command: str, expected: str) -> None:
    _write(tmp_path, {"Dockerfile": "FROM x\n", "build.sh": f"#!/bin/sh\n{command}  # build\n"})
    texts, sites = _plan(tmp_path, NPM)
    assert texts["build.sh"] == f"#!/bin/sh\n{expected}  # build\n"
    assert [s.status for s in sites] == ["changed"]


def test_literal_values_templated_files_and_other_dockerfiles_are_left(tmp_path: Path) -> None:
    _write(tmp_path, {
        "Dockerfile": "FROM x\n",
        "docs/Dockerfile": "FROM x\n",
        "build.sh": ("docker build --build-arg NPM_TOKEN=abc123 .\n"
                     "docker build -f \"$DOCKERFILE\" --build-arg NPM_TOKEN .\n"
                     "docker build --build-arg NPM_TOKEN docs\n"),
    })
    texts, sites = _plan(tmp_path, NPM)
    assert texts == {}
    assert [(s.line, s.status) for s in sites] == [(1, "left"), (2, "left")]
    assert "literal value" in sites[0].reason and "templated" in sites[1].reason
    assert "abc123" not in " ".join(s.describe() for s in sites)


def test_jenkinsfile_and_makefile(tmp_path: Path) -> None:
    _write(tmp_path, {
        "Dockerfile": "FROM x\n",
        "Jenkinsfile": "pipeline {\n  stages { stage('b') { steps { sh 'docker build -t app .' } } }\n}\n",
        "Makefile": "image:\n\tdocker build \\\n\t\t-t app .\n",
    })
    texts, _ = _plan(tmp_path, NPMRC)
    assert "sh 'docker build --secret id=npmrc,src=.npmrc -t app .'" in texts["Jenkinsfile"]
    assert texts["Makefile"] == "image:\n\tdocker build --secret id=npmrc,src=.npmrc \\\n\t\t-t app .\n"


def test_ssh_agent(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "FROM x\n", "build.sh": "docker build -t app .\n"})
    texts, _ = _plan(tmp_path, BuildSecret.ssh())
    assert texts["build.sh"] == "docker build --ssh default -t app .\n"


def test_a_call_site_above_the_build_context_is_named_not_edited(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, {"app/Dockerfile": "FROM x\n", "Makefile": "image:\n\tdocker build -t app app\n"})
    texts, sites = plan(tmp_path / "app", tmp_path / "app" / "Dockerfile", [NPMRC],
                        lambda rel: None)
    assert texts == {}
    assert [(s.path, s.status) for s in sites] == [("../Makefile", "left")]
    assert "outside the build context" in sites[0].reason


def test_compose_edits_carries_the_call_site_edits_and_notes() -> None:
    folder = GOLDEN / "callsite-left-alone"
    text = (folder / "Dockerfile").read_text()
    ctx = Context(parse(text), Path("Dockerfile"), folder,
                  side_reader=lambda rel: (folder / rel).read_text() if (folder / rel).is_file() else None,
                  dockerfile=folder / "Dockerfile")
    edits = compose_edits(ctx, NPM)
    assert list(edits) == []
    assert [n.message for n in edits.notes] == [
        "call site .github/workflows/build.yml:7 (workflow) left alone: it passes NPM_TOKEN as a literal value; "
        "move that value into a CI secret first",
        "call site .github/workflows/build.yml:8 (workflow) left alone: the Dockerfile it builds is templated",
    ]


def test_the_json_report_lists_every_call_site(tmp_path: Path) -> None:
    from rewriter.engine.pipeline import process_file
    from rewriter.faces.report import file_record
    from transforms import load

    folder = GOLDEN / "callsite-makefile"
    result = process_file(folder / "Dockerfile", transforms=[load("secrets")], unsafe_fixes=True)
    record = file_record(result)
    sites = record["build_secrets"][0]["call_sites"]
    assert "Makefile:6 changed" in sites and "scripts/build.sh:4 changed" in sites
    assert "Makefile:9 left (the Dockerfile it builds is templated" in sites
    assert any("call site Makefile:9 (makefile) left alone" in n["message"] for n in record["notes"])
    json.dumps(record)


def test_bake_json_is_rewritten_only_when_it_writes_back_byte_for_byte(tmp_path: Path) -> None:
    doc = {"target": {"app": {"args": {"NPM_TOKEN": "${NPM_TOKEN}"}}, "lit": {"context": "lit",
                                                                             "args": {"NPM_TOKEN": "abc123"}}}}
    _write(tmp_path, {"Dockerfile": "FROM x\n", "lit/Dockerfile": "FROM x\n",
                      "docker-bake.json": json.dumps(doc, indent=4) + "\n"})
    texts, sites = _plan(tmp_path, NPM)
    app = json.loads(texts["docker-bake.json"])["target"]["app"]
    assert app == {"args": {}, "secret": ["id=npm_token,env=NPM_TOKEN"]}
    assert texts["docker-bake.json"].startswith('{\n    "target"')  # its own indentation kept
    assert [s.status for s in sites] == ["changed"]
    # a file laid out by hand (two keys on a line) is never reformatted: left, with the reason
    _write(tmp_path, {"docker-bake.json": '{"target": {"app": {"args": {"NPM_TOKEN": "${NPM_TOKEN}"},\n'
                                          '  "tags": ["a"]}}}\n'})
    texts, sites = _plan(tmp_path, NPM)
    assert texts == {} and [s.status for s in sites] == ["left"] and "reformatted" in sites[0].reason
    # a literal value in the target that builds another Dockerfile is not ours; in ours, it is left
    _write(tmp_path, {"docker-bake.json": json.dumps({"target": {"app": {"args": {"NPM_TOKEN": "abc123"}}}}) + "\n"})
    texts, sites = _plan(tmp_path, NPM)
    assert texts == {} and "literal value" in sites[0].reason and "abc123" not in sites[0].describe()


def test_the_build_arg_an_ssh_agent_replaces_goes_from_every_kind_of_call_site(tmp_path: Path) -> None:
    key = BuildSecret.ssh(replaces="SSH_PRIVATE_KEY")
    _write(tmp_path, {
        "Dockerfile": "FROM x\n",
        "Makefile": 'image:\n\tdocker build \\\n\t\t--build-arg SSH_PRIVATE_KEY="$$(cat id_rsa)" \\\n\t\t-t app .\n',
        "build.sh": 'docker build --build-arg SSH_PRIVATE_KEY="$(cat ~/.ssh/id_rsa)" --build-arg V=1 .\n',
        "docker-bake.hcl": ('target "app" {\n  args = {\n    SSH_PRIVATE_KEY = "${SSH_PRIVATE_KEY}"\n'
                            '    V = "1"\n  }\n}\n'),
        ".github/workflows/ci.yml": ("on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
                                     "      - uses: docker/build-push-action@v6\n        with:\n"
                                     "          context: .\n          build-args: |\n"
                                     "            SSH_PRIVATE_KEY=${{ secrets.DEPLOY_KEY }}\n"
                                     "            V=1\n"),
    })
    (tmp_path / ".git").mkdir()
    texts, _sites = _plan(tmp_path, key)
    assert texts["Makefile"] == "image:\n\tdocker build --ssh default \\\n\t\t-t app .\n"
    assert texts["build.sh"] == "docker build --ssh default --build-arg V=1 .\n"
    assert "SSH_PRIVATE_KEY" not in texts["docker-bake.hcl"] and 'ssh = ["default"]' in texts["docker-bake.hcl"]
    wf = texts[".github/workflows/ci.yml"]
    assert "SSH_PRIVATE_KEY" not in wf and "ssh: default" in wf and "V=1" in wf
    _write(tmp_path, {"docker-bake.hcl": "", "docker-bake.json": json.dumps(
        {"target": {"app": {"args": {"SSH_PRIVATE_KEY": "${SSH_PRIVATE_KEY}"}}}}, indent=2) + "\n"})
    texts, _sites = _plan(tmp_path, key)
    assert json.loads(texts["docker-bake.json"])["target"]["app"] == {"args": {}, "ssh": ["default"]}
