"""secrets, end to end: the rewritten image builds with ``--secret``, the build step can read the
secret, and no layer of the image contains the secret's bytes.

Each case builds the ORIGINAL Dockerfile with buildah, one layer per instruction like ``docker build``
(``--layers``), and shows the problem is real: the secret's bytes are in a layer blob (a copied
``.netrc``) or in the image history (a build ``ARG``). Then ``dockerfix fix --select secrets`` rewrites
a copy; its JSON report's ``build_secrets`` says how to pass the secret; the REWRITTEN Dockerfile is
built with ``buildah bud --secret`` and must (a) fail without the secret, (b) succeed with it, its
RUN step proving it read the secret by writing a proof file, and (c) leave the secret nowhere: not in
any blob of the image pushed to an oci-archive (layers gunzipped, config, manifest), not as a
``root/.netrc`` entry, not in ``podman image inspect`` or ``podman history --no-trunc``.

The secret values are made per test (``E2E_SECRET_<uuid>``) and never appear in an assertion
message, in argv (``ARG``/``env=`` values go through the builder's environment only) or in test
output; failure messages name files, layers and variables only.

The ``.netrc`` of the ``secret-file`` app is written by the test (it is not in apps/).
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import (
    APPS,
    Engine,
    Secret,
    base_images,
    build_with,
    dockerfix,
    image_metadata_text,
    redact,
    scan_image_blobs,
)

pytestmark = pytest.mark.e2e

NETRC_TARGET = "root/.netrc"


def _report(path: Path) -> dict:
    """The one file entry of a dockerfix JSON report."""
    files = json.loads(path.read_text())["files"]
    assert len(files) == 1, files
    return files[0]


def _fix(ctx: Path, secrets: list[Secret]) -> tuple[str, dict]:
    """``dockerfix fix --select secrets --format json`` in ``ctx``: (new Dockerfile, report entry)."""
    original = (ctx / "Dockerfile").read_text()
    proc = dockerfix("fix", "--unsafe-fixes", "--select", "secrets", "--format", "json", "--output", "report.json",
                     "Dockerfile", cwd=ctx)
    report_text = (ctx / "report.json").read_text() if (ctx / "report.json").exists() else ""
    output = proc.stdout + proc.stderr + report_text
    printed = any(s in output for s in secrets)  # a bool: pytest must not show `output`
    assert not printed, "dockerfix printed a secret value in its output or report"
    assert proc.returncode == 0, redact(f"dockerfix exited {proc.returncode}:\n{proc.stderr}", secrets)
    entry = _report(ctx / "report.json")
    (ctx / "report.json").unlink()
    dockerfile = (ctx / "Dockerfile").read_text()
    changed = dockerfile != original
    assert changed, redact(
        "dockerfix left the Dockerfile unchanged, so the secret stays in the image "
        f"(notes: {entry['notes']}, refusals: {entry['refusals']}):\n{dockerfile}",
        secrets,
    )
    again = dockerfix("check", "--unsafe-fixes", "--select", "secrets", "Dockerfile", cwd=ctx)
    assert again.returncode == 0, f"dockerfix is not idempotent here:\n{again.stdout}\n{again.stderr}"
    return dockerfile, entry


def _assert_not_in_image(engine: Engine, tag: str, secret: Secret, work: Path, paths: tuple[str, ...] = ()) -> None:
    scan = scan_image_blobs(engine, tag, work, secret, paths)
    assert scan.blobs >= 3, f"only {scan.blobs} blobs in the pushed image"
    assert not scan.with_needle, f"the secret's bytes are in image blob(s) {scan.with_needle}"
    assert not scan.with_path, f"secret file entries left in layers: {scan.with_path}"
    in_metadata = secret in image_metadata_text(engine, tag)  # a bool: pytest must not show the text
    assert not in_metadata, "the secret is in the image config or history"


# ---------------------------------------------------------------- a copied secret file (.netrc)


def test_copied_netrc_becomes_a_secret_mount(engine: Engine, tmp_path: Path) -> None:
    engine.images.require(*base_images(APPS / "secret-file" / "Dockerfile"))
    ctx = tmp_path / "secret-file"
    shutil.copytree(APPS / "secret-file", ctx)
    secret = Secret(f"E2E_SECRET_{uuid.uuid4().hex}")
    netrc = ctx / ".netrc"
    netrc.write_text(f"machine pypi.example.com login e2e password {secret}\n")
    netrc.chmod(0o600)

    # 1. the original: the build step reads the file, and the secret's bytes stay in the COPY layer
    legacy = engine.tag("legacy")
    build_with(engine, ctx, legacy, redacted=[secret])
    proof = engine.run(legacy, "cat", "/app/build-proof.txt")
    assert proof.stdout == "ok", proof
    scan = scan_image_blobs(engine, legacy, tmp_path / "scan-legacy", secret, (NETRC_TARGET,))
    assert scan.with_needle, "the legacy image holds no copy of the secret; the case proves nothing"
    assert scan.with_path, f"the legacy image has no {NETRC_TARGET} entry in any layer; the case proves nothing"

    # 2. dockerfix: the report says which secret to pass and from where, then the rewrite
    check = dockerfix("check", "--unsafe-fixes", "--select", "secrets", "--format", "json", "Dockerfile", cwd=ctx)
    assert check.returncode == 1, f"dockerfix check sees nothing to change:\n{check.stderr}"
    planned = json.loads(check.stdout)["files"][0]["build_secrets"]
    dockerfile, entry = _fix(ctx, [secret])
    assert entry["build_secrets"] == planned == [{"type": "secret", "id": "netrc", "src": ".netrc"}], planned
    assert "--mount=type=secret,id=netrc" in dockerfile, dockerfile
    assert "COPY .netrc" not in dockerfile, dockerfile
    src = ctx / entry["build_secrets"][0]["src"]  # relative to the build context
    assert src.resolve() == netrc.resolve()

    # 3. the rewrite needs the secret: without --secret the build step fails
    missing = build_with(engine, ctx, engine.tag("no-secret"), check=False, redacted=[secret])
    assert missing.returncode != 0, f"the rewritten build succeeded without the secret:\n{dockerfile}"

    # 4. with --secret it builds, the build step read the secret ...
    rewritten = engine.tag("rewritten")
    build_with(engine, ctx, rewritten, "--secret", f"id=netrc,src={src}", redacted=[secret])
    proof = engine.run(rewritten, "cat", "/app/build-proof.txt")
    assert proof.returncode == 0 and proof.stdout == "ok", f"no build proof in the rewritten image: {proof}"
    assert engine.run(rewritten).stdout.strip() == "build-proof: ok"  # and the app still runs

    # 5. ... and no layer, config or history holds it, nor a root/.netrc entry
    _assert_not_in_image(engine, rewritten, secret, tmp_path / "scan-rewritten", (NETRC_TARGET,))


# ---------------------------------------------------------------- a secret build ARG


@dataclass(frozen=True)
class ArgCase:
    id: str
    app: str
    note: str


ARG_CASES = [
    # the token is named on the RUN's command line (`test -n "$API_TOKEN"`) before python reads it
    ArgCase("arg-referenced", "secret-arg-ref", "RUN expands $API_TOKEN"),
    # python reads the token from its environment only (os.environ['API_TOKEN']); no `$API_TOKEN`
    ArgCase("arg-read-from-env", "secret-arg", "RUN reads API_TOKEN from the environment"),
]


@pytest.mark.parametrize("case", ARG_CASES, ids=[c.id for c in ARG_CASES])
def test_secret_build_arg_becomes_a_secret_mount(case: ArgCase, engine: Engine, tmp_path: Path) -> None:
    engine.images.require(*base_images(APPS / case.app / "Dockerfile"))
    ctx = tmp_path / case.id
    shutil.copytree(APPS / case.app, ctx)
    secret = Secret(f"E2E_SECRET_{uuid.uuid4().hex}")
    env = {"API_TOKEN": secret}  # the value reaches buildah through its environment, never argv

    # 1. the original: `--build-arg API_TOKEN` works, and the value is in the image history
    legacy = engine.tag("legacy")
    build_with(engine, ctx, legacy, "--build-arg", "API_TOKEN", env=env, redacted=[secret])
    proof = engine.run(legacy, "cat", "/app/token-proof.txt")
    assert proof.stdout == str(len(secret)), f"the legacy build step did not see the token: {proof}"
    in_history = secret in image_metadata_text(engine, legacy)  # a bool: pytest must not show the text
    assert in_history, "the legacy image config/history holds no token; the case proves nothing"

    # 2. dockerfix: the ARG becomes a secret mount read into the variable on the RUN that uses it
    dockerfile, entry = _fix(ctx, [secret])
    assert entry["build_secrets"] == [{"type": "secret", "id": "api_token", "env": "API_TOKEN"}], entry
    assert "--mount=type=secret,id=api_token" in dockerfile, dockerfile
    assert "ARG API_TOKEN" not in dockerfile, dockerfile

    # 3. without the secret the build step fails; with `--secret id=api_token,env=API_TOKEN` it builds
    missing = build_with(engine, ctx, engine.tag("no-secret"), check=False, redacted=[secret])
    assert missing.returncode != 0, f"the rewritten build succeeded without the secret:\n{dockerfile}"
    rewritten = engine.tag("rewritten")
    sid, var = entry["build_secrets"][0]["id"], entry["build_secrets"][0]["env"]
    build_with(engine, ctx, rewritten, "--secret", f"id={sid},env={var}", env=env, redacted=[secret])
    proof = engine.run(rewritten, "cat", "/app/token-proof.txt")
    assert proof.returncode == 0, f"no token proof in the rewritten image: {proof}"
    assert proof.stdout == str(len(secret)), "the rewritten build step did not read the whole token"

    # 4. the value is in no blob, not in the config, not in the history
    _assert_not_in_image(engine, rewritten, secret, tmp_path / "scan-rewritten")
