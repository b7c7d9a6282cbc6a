"""``dockerfix verify`` without a container engine: a fake :class:`rewriter.proof.containers.Builder` records what
verify asks for (build flags, the build context it sees, runs) and answers from a script.

Covered here: builder detection and the command lines of :class:`CliBuilder`, the secret flags (a
``src=`` file resolved to the user's file, ``env=`` secrets by name, ``--build-arg`` for the original,
missing sources -> exit 2), the table and the exit codes (0 / 1 / 2, ``nothing to verify``), the
temporary copy of the build context (the user's tree is never written), cleanup, and that no secret
value reaches stdout or stderr. The real builders are exercised in ``tests/e2e/test_verify_e2e.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rewriter.core.buildsecret import BuildSecret
from rewriter.proof import buildsecrets, containers
from rewriter.proof.buildsecrets import Secret, plan_secrets, scan_archive, scan_metadata
from rewriter.proof.containers import (
    CliBuilder,
    HttpResult,
    ImageInfo,
    Proc,
    RunResult,
    VerifyError,
    detect_builder,
    execute,
    http_get,
)
from rewriter.proof.verify import copy_context, format_table, run_verify

APPS = Path(__file__).resolve().parent / "e2e" / "apps"
SECRET = "VERIFY_UNIT_SECRET_7f3a9c1e5b"


# --------------------------------------------------------------------------- the fake builder


def _layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def write_archive(dest: Path, blobs: list[bytes]) -> None:
    """An oci-archive look-alike: ``blobs/sha256/<n>`` files plus ``index.json``."""
    with tarfile.open(dest, "w") as tar:
        for i, data in enumerate([*blobs, b'{"schemaVersion": 2}']):
            info = tarfile.TarInfo(f"blobs/sha256/{i:064x}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@dataclass
class Built:
    kind: str
    dockerfile: str
    files: dict[str, bytes]
    flags: list[str]
    env: dict[str, str]
    context: Path


@dataclass
class FakeBuilder:
    """Answers from ``builds`` / ``runs`` / ``layers`` keyed by ``original`` / ``rewritten``."""

    name: str = "fake"
    builds: dict[str, Proc] = field(default_factory=dict)
    runs: dict[str, RunResult] = field(default_factory=dict)
    http: dict[str, HttpResult] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=lambda: {"original": "", "rewritten": "10001:10001"})
    sizes: dict[str, int] = field(default_factory=lambda: {"original": 200_000_000, "rewritten": 150_000_000})
    layers: dict[str, list[dict[str, bytes]]] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    built: list[Built] = field(default_factory=list)
    run_calls: list[dict] = field(default_factory=list)
    cleaned: list[dict] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)

    @staticmethod
    def kind(tag: str) -> str:
        return tag.rsplit(":", 1)[1]

    def build(self, *, context, dockerfile, tag, flags, label, env, timeout):
        files = {
            str(p.relative_to(context)): p.read_bytes()
            for p in sorted(context.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        self.built.append(Built(self.kind(tag), dockerfile.read_text(), files, list(flags), dict(env), context))
        return self.builds.get(self.kind(tag), Proc(0, "STEP 1/1: done\n"))

    def run(self, tag, *, name, run_args, cmd, timeout, want_uid):
        self.run_calls.append({"tag": tag, "name": name, "run_args": run_args, "cmd": cmd, "want_uid": want_uid})
        return self.runs.get(self.kind(tag), RunResult(0, "hello\n", ""))

    def serve(self, tag, *, name, run_args, cmd, port, timeout):
        self.run_calls.append({"tag": tag, "name": name, "port": port, "cmd": cmd})
        return self.http.get(self.kind(tag), HttpResult(200, b"ok"))

    def inspect(self, tag):
        k = self.kind(tag)
        return ImageInfo(self.users[k], self.sizes[k], self.metadata.get(k, "[]"))

    def export(self, tag, dest):
        self.exports.append(tag)
        write_archive(dest, [_layer(files) for files in self.layers.get(self.kind(tag), [{"app/app.py": b"x"}])])
        return None

    def cleanup(self, *, containers, tags, label, keep):
        self.cleaned.append({"containers": list(containers), "tags": list(tags), "label": label, "keep": keep})


class Boom(FakeBuilder):
    def run(self, *args, **kwargs):
        raise RuntimeError("the engine fell over")


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)}\0{oct(st.st_mode)}\0".encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def secret_app(tmp_path: Path) -> Path:
    """The secret-file app (COPY .netrc) with a .netrc holding :data:`SECRET`."""
    ctx = tmp_path / "user" / "secret-file"
    shutil.copytree(APPS / "secret-file", ctx)
    (ctx / ".netrc").write_text(f"machine pypi.example.com login unit password {SECRET}\n")
    return ctx


@pytest.fixture
def arg_app(tmp_path: Path) -> Path:
    ctx = tmp_path / "user" / "secret-arg"
    shutil.copytree(APPS / "secret-arg", ctx)
    return ctx


def verify_with(fake: FakeBuilder, dockerfile: Path, capsys: pytest.CaptureFixture[str], **kwargs):
    kwargs.setdefault("env", {"PATH": os.environ.get("PATH", "")})
    code = run_verify(dockerfile, engine=fake, **kwargs)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def row(table: str, check: str) -> list[str]:
    for line in table.splitlines():
        if line.startswith(check + "  ") or line == check:
            return line[len(check):].split()
    raise AssertionError(f"no {check!r} row in:\n{table}")


# --------------------------------------------------------------------------- the whole command


def test_secret_file_verified_and_user_tree_untouched(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_hash(secret_app.parent)
    fake = FakeBuilder(layers={"original": [{"root/.netrc": (secret_app / ".netrc").read_bytes()}]})
    code, out, err = verify_with(fake, secret_app / "Dockerfile", capsys, unsafe_fixes=True)
    assert code == 0, err
    assert tree_hash(secret_app.parent) == before
    assert SECRET not in out + err
    assert row(out, "builds")[0::2] == ["yes", "yes", "ok"]
    assert row(out, "user") == ["0", "10001:10001", "changed"]
    assert row(out, "secrets") == ["found:", "netrc", "none", "ok"]
    assert row(out, "exit code") == ["0", "0", "same"]
    assert row(out, "image size") == ["200.0", "MB", "150.0", "MB", "-25.0%"]
    assert "verified with fake" in err
    # both builds ran in one temporary copy, never in the user's folder
    orig, new = fake.built
    assert (orig.kind, new.kind) == ("original", "rewritten")
    assert orig.context == new.context and secret_app not in orig.context.parents
    assert "COPY .netrc" in orig.dockerfile and "--mount=type=secret,id=netrc" in new.dockerfile
    # the rewritten build reads the USER's file (absolute), the original needs no flag
    assert new.flags == ["--secret", f"id=netrc,src={(secret_app / '.netrc').absolute()}"]
    assert orig.flags == []
    assert not orig.context.exists()  # the copy is removed
    assert fake.cleaned and fake.cleaned[0]["keep"] is False
    assert len(fake.cleaned[0]["tags"]) == 2 and set(fake.cleaned[0]["containers"]) == {
        c["name"] for c in fake.run_calls
    }


def test_secret_in_rewritten_layer_fails_without_printing_it(
    secret_app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leak = {"app/creds": (secret_app / ".netrc").read_bytes()}
    fake = FakeBuilder(layers={"original": [leak], "rewritten": [{"a": b"x"}, leak]})
    code, out, err = verify_with(fake, secret_app / "Dockerfile", capsys, unsafe_fixes=True)
    assert code == 1
    assert row(out, "secrets")[-1] == "FAIL"
    assert "a secret is in the rewritten image" in err
    assert SECRET not in out + err


def test_secret_only_in_history_is_found(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = json.dumps([{"CreatedBy": f"/bin/sh -c echo {(secret_app / '.netrc').read_text().strip()}"}])
    fake = FakeBuilder(metadata={"rewritten": history})
    code, out, err = verify_with(fake, secret_app / "Dockerfile", capsys, unsafe_fixes=True)
    assert code == 1 and row(out, "secrets")[-1] == "FAIL"
    assert SECRET not in out + err


def test_env_secret_by_name_and_build_arg_for_the_original(arg_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeBuilder()
    env = {"PATH": "/usr/bin", "API_TOKEN": SECRET}
    code, out, err = verify_with(fake, arg_app / "Dockerfile", capsys, env=env, unsafe_fixes=True)
    assert code == 0, err
    orig, new = fake.built
    assert orig.flags == ["--build-arg", "API_TOKEN"]  # the value comes from the environment
    assert new.flags == ["--secret", "id=api_token,env=API_TOKEN"]
    assert SECRET not in json.dumps([orig.flags, new.flags, orig.env, new.env])
    assert SECRET not in out + err


def test_missing_env_secret_is_exit_2(arg_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeBuilder()
    code, out, err = verify_with(fake, arg_app / "Dockerfile", capsys, env={"PATH": "/usr/bin"}, unsafe_fixes=True)
    assert code == 2 and out == ""
    assert "API_TOKEN" in err and "not set" in err
    assert len(err.strip().splitlines()) == 1
    assert fake.built == []


def test_missing_secret_file_is_exit_2(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (secret_app / ".netrc").unlink()
    code, out, err = verify_with(FakeBuilder(), secret_app / "Dockerfile", capsys, unsafe_fixes=True)
    assert code == 2 and out == "" and ".netrc" in err and "does not exist" in err


def test_files_the_rewrite_excludes_are_searched_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = tmp_path / "user" / "app"
    ctx.mkdir(parents=True)
    (ctx / "Dockerfile").write_text('FROM python:3.13-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n')
    (ctx / "app.py").write_text("print('hi')\n")
    (ctx / ".netrc").write_text(f"machine a login b password {SECRET}\n")
    before = tree_hash(ctx)
    fake = FakeBuilder(layers={"original": [{"app/.netrc": (ctx / ".netrc").read_bytes()}]})
    code, out, err = verify_with(fake, ctx / "Dockerfile", capsys, unsafe_fixes=True)  # .dockerignore: unsafe
    assert code == 0, err
    assert row(out, "secrets") == ["found:", ".netrc", "none", "ok"]
    orig, new = fake.built
    assert ".dockerignore" not in orig.files and b".netrc" in new.files[".dockerignore"]
    assert new.flags == []  # nothing to mount: the file is only kept out of the context
    assert tree_hash(ctx) == before and SECRET not in out + err


def test_excluded_secret_files_only_reads_the_dockerfix_block(tmp_path: Path) -> None:
    from rewriter.sidefiles.dockerignore import extend

    (tmp_path / ".npmrc").write_text("//registry/:_authToken=abcdef\n")
    (tmp_path / "notes.txt").write_text("nothing\n")
    new = extend("notes.txt\n", [".npmrc"])
    found = buildsecrets.excluded_secret_files("notes.txt\n", new, tmp_path)
    assert [(s.id, s.scan_only) for s in found] == [(".npmrc", True)]
    assert buildsecrets.excluded_secret_files(None, "notes.txt\n", tmp_path) == []


def test_user_secret_option_replaces_the_source(
    secret_app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "elsewhere.netrc"
    other.write_text(f"machine x login y password {SECRET}-2\n")
    fake = FakeBuilder()
    code, _out, err = verify_with(fake, secret_app / "Dockerfile", capsys, secrets=[f"id=netrc,src={other}"])
    assert code == 0, err
    assert fake.built[1].flags == ["--secret", f"id=netrc,src={other}"]


def test_original_does_not_build_is_exit_2(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    netrc_line = (secret_app / ".netrc").read_text().strip()
    fake = FakeBuilder(builds={"original": Proc(1, "", f"Error: {netrc_line}\nError: building at STEP 3\n")})
    code, out, err = verify_with(fake, secret_app / "Dockerfile", capsys)
    assert code == 2 and out == ""
    assert "original Dockerfile does not build" in err and "nothing to compare" in err
    assert "exit 1" in err and "STEP 3" in err
    assert SECRET not in err
    assert [b.kind for b in fake.built] == ["original"]
    assert fake.cleaned  # its leftovers are cleaned up all the same


def test_rewritten_does_not_build_is_exit_1(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeBuilder(builds={"rewritten": Proc(1, f"echo {SECRET}\n", "Error: RUN failed\n")})
    code, out, err = verify_with(fake, secret_app / "Dockerfile", capsys, unsafe_fixes=True)
    assert code == 1
    assert row(out, "builds")[0] == "yes" and row(out, "builds")[2] == "no" and row(out, "builds")[-1] == "FAIL"
    assert "the rewritten Dockerfile does not build" in err and "Error: RUN failed" in err
    assert SECRET not in out + err
    assert len(fake.run_calls) == 1  # only the original ran


def test_output_difference_is_exit_1_with_a_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = tmp_path / "py-web"
    shutil.copytree(APPS / "py-web", ctx)
    fake = FakeBuilder(runs={"original": RunResult(0, "wrote /root/x\n", "", uid=0),
                             "rewritten": RunResult(1, "", "Permission denied\n", uid=10001)})  # fmt: skip
    code, out, err = verify_with(fake, ctx / "Dockerfile", capsys, smoke_cmd="sh -c 'touch /root/x'")
    assert code == 1
    assert row(out, "exit code") == ["0", "1", "FAIL"]
    assert row(out, "stdout") == ["1", "line", "empty", "FAIL"]
    assert row(out, "process uid") == ["0", "10001", "changed"]
    assert "NOT verified: exit codes differ; stdout differs; stderr differs" in err
    assert "-wrote /root/x" in err
    assert fake.run_calls[0]["cmd"] == ["sh", "-c", "touch /root/x"] and fake.run_calls[0]["want_uid"] is True


def test_port_mode_compares_status_and_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = tmp_path / "py-web"
    shutil.copytree(APPS / "py-web", ctx)
    same = FakeBuilder(http={"original": HttpResult(200, b"hi", uid=0), "rewritten": HttpResult(200, b"hi", uid=10001)})
    code, out, err = verify_with(same, ctx / "Dockerfile", capsys, port=8080, run_args="-e A=1 --network=bridge")
    assert code == 0, err
    assert row(out, "GET / (8080)") == ["200", "200", "same"]
    assert same.run_calls[0]["port"] == 8080
    other = FakeBuilder(http={"original": HttpResult(200, b"hi"), "rewritten": HttpResult(500, b"boom")})
    code, out, err = verify_with(other, ctx / "Dockerfile", capsys, port=8080)
    assert code == 1 and row(out, "GET / (8080)") == ["200", "500", "FAIL"]
    silent = FakeBuilder(http={"original": HttpResult(200, b"hi"),
                               "rewritten": HttpResult(error="the container exited (code 1) before answering",
                                                       logs="Traceback: PermissionError\n")})  # fmt: skip
    code, out, err = verify_with(silent, ctx / "Dockerfile", capsys, port=8080)
    assert code == 1 and "no HTTP answer" in err and "PermissionError" in err


def test_nothing_to_rewrite_needs_no_builder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = tmp_path / "go-hello"
    shutil.copytree(APPS / "go-hello", ctx)
    # already migrated: its runtime's user written out by number (what nonroot would add)
    text = (ctx / "Dockerfile").read_text()
    (ctx / "Dockerfile").write_text(text.replace("\nENTRYPOINT", "\nUSER 65532:65532\nENTRYPOINT"))
    code = run_verify(ctx / "Dockerfile", env={"PATH": str(tmp_path / "nowhere")})
    cap = capsys.readouterr()
    assert code == 0 and cap.out == ""
    assert "nothing to verify" in cap.err


def test_no_builder_is_exit_2(secret_app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_verify(secret_app / "Dockerfile", env={"PATH": str(tmp_path / "nowhere")})
    cap = capsys.readouterr()
    assert code == 2 and cap.out == ""
    assert "no usable container builder" in cap.err and len(cap.err.strip().splitlines()) == 1


def test_keep_keeps_the_copy_and_says_so(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeBuilder()
    code, _out, err = verify_with(fake, secret_app / "Dockerfile", capsys, keep=True)
    assert code == 0
    assert fake.cleaned[0]["keep"] is True
    copy = fake.built[0].context
    assert copy.is_dir() and "kept images" in err and str(copy.parent) in err
    shutil.rmtree(copy.parent)


def test_side_files_reach_only_the_rewritten_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = tmp_path / "app"
    shutil.copytree(APPS / "py-signal-entrypoint", ctx)
    before = tree_hash(ctx)
    fake = FakeBuilder()
    code, _out, err = verify_with(fake, ctx / "Dockerfile", capsys)
    assert code == 0, err
    orig, new = fake.built
    assert b"exec python" not in orig.files["start.sh"]
    assert b"exec python /app/app.py" in new.files["start.sh"]
    assert tree_hash(ctx) == before


def test_internal_error_is_exit_2_without_traceback(secret_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = Boom()
    code, _out, err = verify_with(fake, secret_app / "Dockerfile", capsys)
    assert code == 2 and "internal error: RuntimeError: the engine fell over" in err
    assert "Traceback" not in err
    assert fake.cleaned  # cleaned up all the same


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run_args": "'unclosed"}, "--run-args"),
        ({"port": 0}, "--port"),
        ({"select": "nosuch"}, "unknown transform id"),
        ({"secrets": ["netrc"]}, "expected id=ID,src=PATH"),
    ],
)
def test_bad_options_are_exit_2(secret_app: Path, capsys: pytest.CaptureFixture[str], kwargs, message) -> None:
    code, out, err = verify_with(FakeBuilder(), secret_app / "Dockerfile", capsys, **kwargs)
    assert code == 2 and out == "" and message in err


def test_stdin_and_missing_file_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_verify(Path("-"), engine=FakeBuilder()) == 2
    assert run_verify(tmp_path / "nope", engine=FakeBuilder()) == 2
    assert "no such file" in capsys.readouterr().err


# --------------------------------------------------------------------------- secrets mapping


def test_plan_secrets_resolves_src_against_the_user_context(secret_app: Path, tmp_path: Path) -> None:
    needs = [BuildSecret("netrc", file=".netrc"), BuildSecret("tok", environment="TOK")]
    plan = plan_secrets(needs, context=secret_app,
                        original_text="FROM x\nARG TOK\n", env={"TOK": "tokenvalue"}, cwd=tmp_path)  # fmt: skip
    assert plan.rewritten_flags == [
        "--secret", f"id=netrc,src={(secret_app / '.netrc').absolute()}",
        "--secret", "id=tok,env=TOK",
    ]  # fmt: skip
    assert plan.original_flags == ["--build-arg", "TOK"] and plan.original_env == {}
    assert [s.id for s in plan.secrets] == ["netrc", "tok"]
    assert "tokenvalue" not in " ".join(plan.rewritten_flags + plan.original_flags)


def test_plan_secrets_without_arg_in_original_passes_no_build_arg(tmp_path: Path) -> None:
    tok = [BuildSecret("tok", environment="TOK")]
    plan = plan_secrets(tok, context=tmp_path, original_text="FROM x\nENV TOK=abc\n", env={"TOK": "tokenvalue"})
    assert plan.original_flags == []


def test_plan_secrets_ssh_needs_an_agent(tmp_path: Path) -> None:
    with pytest.raises(VerifyError, match="SSH_AUTH_SOCK"):
        plan_secrets([BuildSecret.ssh()], context=tmp_path, original_text="FROM x\n", env={})
    plan = plan_secrets([BuildSecret.ssh()], context=tmp_path, original_text="FROM x\n", env={"SSH_AUTH_SOCK": "/s"})
    assert plan.rewritten_flags == ["--ssh", "default"] and plan.secrets == []


def test_user_file_secret_for_an_arg_feeds_the_original_through_the_environment(tmp_path: Path) -> None:
    f = tmp_path / "tok.txt"
    f.write_text("filetoken123\n")
    plan = plan_secrets([BuildSecret("tok", environment="TOK")], context=tmp_path, original_text="FROM x\nARG TOK\n",
                        env={},
                        user_secrets=["id=tok,src=tok.txt"], cwd=tmp_path)  # fmt: skip
    assert plan.rewritten_flags == ["--secret", f"id=tok,src={f}"]
    assert plan.original_flags == ["--build-arg", "TOK"]
    assert plan.original_env == {"TOK": "filetoken123"}


def test_needles_and_redactions() -> None:
    s = Secret("netrc", value=b'machine h login u password p"w\\d12345\n')
    needles = s.needles()
    assert b'machine h login u password p"w\\d12345' in needles
    assert rb'machine h login u password p\"w\\d12345' in needles  # as it appears inside JSON
    text = buildsecrets.redact('got p"w\\d12345 here', s.redactions())
    assert "12345" not in text
    assert Secret("short", value=b"ab").needles() == []


# --------------------------------------------------------------------------- scanning


def test_scan_archive_finds_gzipped_and_plain_bytes(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    needle = SECRET.encode()
    big = b"\0" * (3 << 20)  # the needle straddles a 1 MiB chunk boundary
    write_archive(archive, [_layer({"a": b"nothing"}), big[: (1 << 20) - 5] + needle + big])
    assert scan_archive(archive, {"s": [needle], "other": [b"not-there-xyz"]}) == {"s"}
    write_archive(archive, [_layer({"a": b"x" + needle})])
    assert scan_archive(archive, {"s": [needle]}) == {"s"}
    write_archive(archive, [_layer({"a": b"clean"})])
    assert scan_archive(archive, {"s": [needle]}) == set()
    write_archive(archive, [b"\x28\xb5\x2f\xfd" + b"zstd"])
    with pytest.raises(VerifyError, match="zstd"):
        scan_archive(archive, {"s": [needle]})


def test_scan_metadata_reads_json_strings() -> None:
    s = Secret("tok", env="TOK", value=b"multi\nline-secret")
    text = json.dumps([{"CreatedBy": "RUN echo multi\nline-secret"}])
    assert scan_metadata(text, [s]) == {"tok"}
    assert scan_metadata(json.dumps([{"CreatedBy": "RUN true"}]), [s]) == set()


# --------------------------------------------------------------------------- the context copy


def test_copy_context_skips_special_files_and_ignored_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "node_modules" / "x").mkdir(parents=True)
    (src / "node_modules" / "x" / "big.js").write_text("x")
    (src / "app").mkdir()
    (src / "app" / "a.py").write_text("a")
    (src / "link").symlink_to("app/a.py")
    os.mkfifo(src / "fifo")
    copy_context(src, tmp_path / "c1", ["node_modules\n"])
    assert sorted(str(p.relative_to(tmp_path / "c1")) for p in (tmp_path / "c1").rglob("*")) == [
        "app", "app/a.py", "link",
    ]  # fmt: skip
    assert (tmp_path / "c1" / "link").is_symlink()
    # an exception pattern may re-include something below: then nothing is pruned
    copy_context(src, tmp_path / "c2", ["node_modules\n!node_modules/x/big.js\n"])
    assert (tmp_path / "c2" / "node_modules" / "x" / "big.js").is_file()
    copy_context(src, tmp_path / "c3", [])
    assert (tmp_path / "c3" / "node_modules" / "x" / "big.js").is_file()
    # a context that holds the temporary folder is not copied into itself
    copy_context(src, src / "tmp-verify" / "context", [])
    assert not (src / "tmp-verify" / "context" / "tmp-verify").exists()
    assert (src / "tmp-verify" / "context" / "app" / "a.py").is_file()


# --------------------------------------------------------------------------- the table


def test_format_table_aligns_columns() -> None:
    text = format_table([("builds", "yes (3s)", "yes (4s)", "ok"), ("exit code", "0", "0", "same")])
    lines = text.splitlines()
    assert lines[0].split() == ["check", "original", "rewritten", "result"]
    starts = {ln.index("yes") for ln in lines[1:2]} | {lines[0].index("original")}
    assert len(starts) == 1
    assert all(ln == ln.rstrip() for ln in lines)


# --------------------------------------------------------------------------- builder detection and command lines


@dataclass
class Recorder:
    """A fake :func:`execute`: records argv, answers ``info`` per tool and anything else from ``answers``."""

    ok_info: set[str] = field(default_factory=set)
    answers: dict[str, Proc] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)

    def __call__(self, argv, *, env, timeout):
        self.calls.append(list(argv))
        if argv[1:] == ["info"]:
            return Proc(0) if argv[0] in self.ok_info else Proc(1, "", "Cannot connect to the daemon\n")
        key = " ".join(argv[:2])
        return self.answers.get(key, Proc(0))


def which_of(*installed: str):
    return lambda tool, path=None: f"/usr/bin/{tool}" if tool in installed else None


@pytest.mark.parametrize(
    ("installed", "ok", "preferred", "expected"),
    [
        (("docker", "podman", "buildah"), {"docker", "podman", "buildah"}, None, "docker"),
        (("docker", "podman", "buildah"), {"podman", "buildah"}, None, "podman"),  # docker info fails
        (("podman", "buildah"), {"podman", "buildah"}, None, "podman"),
        (("docker", "podman", "buildah"), {"docker", "podman", "buildah"}, "buildah", "buildah"),
        (("docker", "podman"), {"docker", "podman"}, "podman", "podman"),
    ],
)
def test_detect_builder(installed, ok, preferred, expected) -> None:
    rec = Recorder(ok_info=set(ok))
    b = detect_builder(preferred, {"PATH": "/usr/bin"}, which=which_of(*installed), execute=rec)
    assert b.name == expected


@pytest.mark.parametrize(
    ("installed", "ok", "preferred", "message"),
    [
        ((), set(), None, "no usable container builder (docker: not installed; podman: not installed; buildah: not"),
        (("docker",), set(), None, "docker: `docker info` failed (exit 1: Cannot connect to the daemon)"),
        (("buildah",), {"buildah"}, None, "buildah: podman is needed to run the images it builds: not installed"),
        (("podman",), set(), "podman", "--builder podman is not usable: `podman info` failed"),
        (("podman",), {"podman"}, "kaniko", "--builder kaniko: unknown builder"),
    ],
)
def test_detect_builder_errors(installed, ok, preferred, message) -> None:
    with pytest.raises(VerifyError) as exc:
        detect_builder(preferred, {}, which=which_of(*installed), execute=Recorder(ok_info=set(ok)))
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_cli_builder_command_lines(tmp_path: Path) -> None:
    kw = {"context": tmp_path, "dockerfile": tmp_path / "Dockerfile", "tag": "t:1", "flags": ["--build-arg", "A"],
          "label": "run1"}  # fmt: skip
    podman = CliBuilder("podman", {}).build_argv(**kw)
    assert podman[:6] == ["podman", "build", "--layers", "--force-rm", "--format", "docker"]
    assert podman[6:] == ["--label", "dockerfix.verify=run1", "-t", "t:1", "--build-arg", "A",
                          "-f", str(tmp_path / "Dockerfile"), str(tmp_path)]  # fmt: skip
    assert CliBuilder("buildah", {}).build_argv(**kw)[:2] == ["buildah", "bud"]
    assert CliBuilder("docker", {}).build_argv(**kw)[:3] == ["docker", "build", "--label"]
    b = CliBuilder("podman", {})
    assert b.create_argv("t:1", "c1", ["-e", "X=1"], ["sh", "-c", "id -u"], publish="127.0.0.1:5000:80") == [
        "podman", "create", "--name", "c1", "-p", "127.0.0.1:5000:80", "-e", "X=1", "--entrypoint", "sh", "t:1",
        "-c", "id -u",
    ]  # fmt: skip
    assert CliBuilder("docker", {}).create_argv("t:1", "c1", [], None) == ["docker", "create", "--name", "c1", "t:1"]


def test_cli_builder_run_and_cleanup_command_lines() -> None:
    rec = Recorder(answers={"podman start": Proc(3, "out\n", "err\n"),
                            "buildah images": Proc(0, "abc\nabc\ndef\n")})  # fmt: skip
    b = CliBuilder("buildah", {"PATH": "/usr/bin"}, execute=rec)
    res = b.run("t:1", name="c1", run_args=[], cmd=["true"], timeout=5, want_uid=True)
    assert (res.exit_code, res.stdout, res.stderr) == (3, "out\n", "err\n")
    assert [c[:2] for c in rec.calls] == [["podman", "create"], ["podman", "init"], ["podman", "inspect"],
                                          ["podman", "start"]]  # fmt: skip
    rec.calls.clear()
    b.cleanup(containers=["c1"], tags=["t:1", "t:2"], label="run1", keep=False)
    assert rec.calls == [
        ["podman", "rm", "-f", "-t", "0", "c1"],
        ["buildah", "rmi", "t:1"],
        ["buildah", "rmi", "t:2"],
        ["buildah", "images", "-a", "-q", "--filter", "label=dockerfix.verify=run1"],
        ["buildah", "rmi", "-f", "abc", "def"],
    ]
    rec.calls.clear()
    b.cleanup(containers=["c1"], tags=["t:1"], label="run1", keep=True)
    assert rec.calls == []


def test_cli_builder_run_timeout_kills_the_container() -> None:
    rec = Recorder(answers={"podman start": Proc(None, "partial\n", "", timed_out=True)})
    res = CliBuilder("podman", {}, execute=rec).run("t", name="c", run_args=[], cmd=None, timeout=1, want_uid=False)
    assert res.timed_out and res.stdout == "partial\n"
    assert ["podman", "kill", "c"] in rec.calls
    assert ["podman", "init", "c"] not in rec.calls


def test_execute_catches_timeouts_and_missing_programs(tmp_path: Path) -> None:
    slow = execute(["sleep", "5"], env=dict(os.environ), timeout=0.2)
    assert slow.timed_out and slow.returncode is None and slow.reason() == "timed out"
    missing = execute([str(tmp_path / "no-such-tool")], env={}, timeout=5)
    assert missing.returncode is None and "cannot run" in (missing.error or "")


# --------------------------------------------------------------------------- HTTP polling


@pytest.fixture
def web() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"hello web"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_get_answers(web: int) -> None:
    res = http_get(web, time.monotonic() + 10, lambda: None)
    assert (res.status, res.body, res.error) == (200, b"hello web", None)


def test_http_get_stops_when_the_container_exits() -> None:
    port = containers.free_port()  # nothing listens there
    res = http_get(port, time.monotonic() + 10, lambda: 3, sleep=lambda s: None)
    assert res.status is None and res.error == "the container exited (code 3) before answering"


def test_http_get_gives_up_at_the_deadline() -> None:
    port = containers.free_port()
    t0 = time.monotonic()
    res = http_get(port, t0 + 0.6, lambda: None)
    assert res.status is None and "deadline" in (res.error or "")
    assert time.monotonic() - t0 < 5


def test_a_split_whose_runtime_lost_a_library_is_not_verified(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Both images answer alike (the module that links libpq is imported on a later request), but the
    split's runtime lacks libpq.so.5: verify says so, as migrate does, and exits 1."""
    from test_libraries import BASE, EXT, FULL, make_elf, save_archive

    ctx = tmp_path / "app"
    shutil.copytree(APPS.parent.parent.parent / "golden" / "multistage" / "python-full-image-psycopg2", ctx,
                    ignore=shutil.ignore_patterns("expected.*", "case.yaml"))
    ext = make_elf(["libpq.so.5", "libc.so.6"])

    class Saving(FakeBuilder):
        def export(self, tag, dest):
            self.exports.append(tag)
            layers = [BASE, FULL, {EXT: ext}] if self.kind(tag) == "original" else [BASE, {EXT: ext}]
            save_archive(dest, layers, oci=True)
            return None

    same = {"original": HttpResult(200, b"hi"), "rewritten": HttpResult(200, b"hi")}
    fake = Saving(http=same)
    code, out, err = verify_with(fake, ctx / "Dockerfile", capsys, port=8000, unsafe_fixes=True)
    assert code == 1, err
    assert row(out, "shared libraries") == ["found", "1", "missing", "FAIL"]
    assert "libpq.so.5" in err and "libpq5" in err and "NOT verified" in err
    # a rewrite with nothing missing passes the check
    class Whole(Saving):
        def export(self, tag, dest):
            save_archive(dest, [BASE, FULL, {EXT: ext}], oci=True)
            return None

    code, out, err = verify_with(Whole(http=same), ctx / "Dockerfile", capsys, port=8000, unsafe_fixes=True)
    assert code == 0, err
    assert row(out, "shared libraries") == ["-", "all", "found", "ok"]
