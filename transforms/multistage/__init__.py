"""multistage — a build-and-run image becomes a builder stage plus a minimal runtime stage.

What it changes
    The final stage, when it builds with a full toolchain image, is kept as the builder (named
    ``build`` when it has no name) and a runtime stage is appended that receives only what runs:
    * Go (``go build -o BIN``): ``CGO_ENABLED=0`` is set on the build when nothing needs cgo, and
      the binary runs on ``gcr.io/distroless/static-debian13:nonroot`` (cgo: ``cc-debian13``; cgo is
      read from ``CGO_ENABLED``, ``-dev`` packages, ``import "C"`` and the cgo modules of go.mod/go.sum
      in ``data/cgo.yaml``; a linked system library gets ``debian:trixie-slim`` with its package, an
      Alpine builder ``alpine:3.x``: see ``transforms/multistage/cgo.py``).
    * Rust (``cargo build --release``): the binary named by the start command, on ``cc-debian13``.
    * Python (``pip install``): the installed packages (site-packages, and those of a virtualenv the
      builder makes: ``python -m venv``, ``virtualenv``, ``uv venv``, ``ENV VIRTUAL_ENV``) and the app folder, on
      ``python3-debian13`` for Python 3.13, else the same version's ``-slim`` image (plus the runtime
      libraries of the ``-dev`` packages the builder installed). Console scripts run as
      ``python3 -m gunicorn …`` (their shebangs name the builder's interpreter).
    * Node (``npm ci``/``npm install``/``yarn install``): the app folder with production
      ``node_modules`` (``npm prune --omit=dev`` is added to the builder when it installed dev
      dependencies) on ``nodejs22|24|26-debian13``; ``npm start`` is resolved through
      ``package.json`` to the real ``node …`` command.
    * Java (a jar named by ``java -jar PATH``): the jar on ``java17|21|25-debian13``; JVM flags and
      program arguments are kept exactly.
    * .NET (``dotnet publish -o DIR``): the published folder on the chiseled
      ``aspnet:<ver>-noble-chiseled`` image.
    * A prebuilt static binary copied from the build context into an OS image (no RUN): the base
      becomes ``static-debian13:nonroot`` (the binary is checked: ELF without a program interpreter).
    The runtime stage gets the builder's ENV, EXPOSE, WORKDIR, LABEL, VOLUME and STOPSIGNAL, the
    files the builder COPYs into places the app reads at run time (``/etc/…``, ``/usr/share/…``,
    ``/opt/…``, ``/srv/…``, ``/var/lib/…``), and an exec-form ENTRYPOINT (distroless has no shell; with
    an exec-form ENTRYPOINT the CMD stays a CMD). Always the ``:nonroot`` variant; USER is left to
    the ``nonroot`` codemod (a USER after the builder's last RUN is dropped from the builder).
    Images come from ``data/runtimes.yaml`` with their end-of-life dates: an image past its date
    is never emitted.

    When distroless cannot run the app — an entry-point script or a shell-form start, an Alpine
    builder, Ruby (``bundle install``) or PHP (``composer``, ``docker-php-ext-install``), a package
    distroless lacks — the runtime is the same version's smaller image of the same family
    (``python:3.12-slim``, ``node:22-alpine``, ``ruby:3.3-slim``, ``eclipse-temurin:8-jre-alpine``, the
    ``php:*`` image itself) and the start lines move as they are: see ``transforms/multistage/samefamily.py``
    (dependencies, context files, folders the build made, users, every non-compiler package with
    ``-dev`` → runtime library). The language version never moves: a version past end of life stays
    (same-family runtime of that version, with a note recommending the opt-in ``upgrade`` codemod, a
    separate fix); a moving tag (``python:3``, ``node:lts``) is pinned to the release it names today.

When it refuses (a note, file unchanged)
    Windows images; an unknown stack or a build output it cannot locate (``go build`` without ``-o``, a jar
    found only by wildcard); Rust or .NET on Alpine (musl); a library a cgo binary links whose package is
    unknown; a compiled stack (Go, Rust, Java, .NET) started by a script; no CMD/ENTRYPOINT (an image to
    build upon; PHP keeps its base image's start); a second service installed beside the app (nginx,
    supervisor, cron); package sources of the builder's own; a ``-dev`` package whose runtime library is not
    known; no WORKDIR; a builder that is already its family's smallest image and installs no build tools; a
    builder whose glibc is newer than the runtime's; a final stage that is already a runtime (distroless,
    chiseled, scratch, ``-jre``) or already fed by a build stage. A ``HEALTHCHECK CMD curl -f URL`` (or
    ``wget``) of a Python or Node app on distroless becomes an exec-form probe run by the runtime's own
    interpreter (urllib / http.get, failing on HTTP errors like ``curl -f``); any other HEALTHCHECK that
    needs curl/wget/a shell is left out of a distroless runtime, with a note (a same-family runtime keeps it
    when it has the tool).

Fix safety
    **Unsafe**: the app now runs from a different image, without a shell, package manager or the
    builder's other files; anything it reads at run time outside the copied folders is gone. Verify
    with ``dockerfix verify``. Applied alone in its round, after ``secrets`` (so no secret is
    copied into the runtime stage).
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Fix, Note
from rewriter.facts import Context
from transforms._base import Codemod
from transforms.multistage.emit import _fix
from transforms.multistage.plan import ID, Refuse, runtimes_of
from transforms.multistage.planner import _plan


class MultistageTransform(Codemod):
    id = ID
    description = "Split a build-and-run image into a builder stage and a distroless (or slim) runtime stage."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        stage = ctx.final_stage
        if stage is None:
            return
        result: Fix | Note | None
        with runtimes_of(ctx):  # the configuration's `tables: runtimes` additions count
            try:
                plan = _plan(ctx, stage)
                result = _fix(ctx, stage, plan) if plan is not None else None
            except Refuse as exc:
                result = Note(ID, exc.message, stage.start_line, refusal=True)
        if result is not None:
            yield result


TRANSFORM = MultistageTransform()
