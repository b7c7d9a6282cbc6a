"""secrets — build-time secrets reach RUN as BuildKit mounts and never land in a layer.

What it changes
    * ``COPY``/``ADD`` of a secret file (``.npmrc``, ``.netrc``, ``pip.conf`` with credentials,
      maven ``settings.xml`` with passwords, composer ``auth.json``, … — ``data/secrets.yaml``):
      the COPY (or just that source) is removed, so is its cleanup (``rm``/``shred`` of the copied
      path), and each RUN between them that runs a program reading the file gets
      ``--mount=type=secret,id=<id>,target=<where it was copied>,required=true``.
    * ``ARG``/``ENV`` whose name holds a secret (``*TOKEN*``, ``*PASSWORD*``, ``*SECRET*`` …) or
      whose value interpolates one: the declaration is removed and the RUNs that use the variable
      (by name, or by running a tool that reads it from the environment) get
      ``--mount=type=secret,id=<id>`` (``,required=true`` unless it was an ARG without a default, which
      was empty when the build did not pass it) and ``export NAME="$(cat /run/secrets/<id>)" &&``
      in front of their command. (BuildKit's ``env=`` mount option is not used: buildah and
      BuildKit before dockerfile 1.10 do not know it; the ``export`` form builds with all.)
    * A copied private SSH key: the COPY, its ``chmod`` and its cleanup are removed; RUNs that
      fetch over SSH (``git`` with ``git@``/``ssh://`` URLs, ``go mod download``, ``bundle``,
      ``composer`` …) get ``--mount=type=ssh``. ``ssh-keyscan`` lines stay.
    * No ``# syntax=`` line is added: the frontend built into BuildKit 0.10 and later (dockerfile 1.4)
      and buildah 1.28 know secret and ssh mounts, and a ``# syntax`` line makes BuildKit pull a
      frontend image, which air-gapped builders cannot. A ``# syntax`` older than mounts gets a note.
    * ``COPY . .`` while secret-looking files in the build context are not excluded: they are
      added to ``.dockerignore`` (created if needed), shown in the diff as a second file (unsafe).
    * Compose files in the build context that build this Dockerfile get ``build.secrets`` and a
      top-level ``secrets`` entry for each new secret (round trip: comments and order survive).
    * The messages say how to build now (``docker build --secret id=npmrc,src=.npmrc .``).

When it refuses (a note, file unchanged)
    * The secret is read by the application at run time (a runtime-kind file left in the final
      stage, a secret variable used by CMD/ENTRYPOINT or by no RUN): runtime secrets belong to the
      orchestrator, so only a suggestion is given.
    * A generic key/certificate name (``*.pem``, ``*.key``, ``*.json``) whose content cannot be
      checked because the file is not in the build context; a file that is in the context and
      holds no credential marker is not a secret at all.
    * The secret is used in a way that cannot be mounted: exec-form or heredoc RUNs, cleanup
      inside a pipeline or ``||``, variables used outside RUN (``LABEL``, ``FROM``), JSON-form COPY.
    * A RUN writes a secret variable into a file that outlives that RUN.

Fix safety
    **Unsafe**, always: a mount needs a new build command (``--secret``/``--ssh``), and the CI that
    builds with the original one (``docker build .``, ``--build-arg NPM_TOKEN=…``) would fail, so a
    safe run never applies it; ``check`` reports it with the command it will need. What the rewrite
    keeps, when every use is found and mounted: the build reads the same bytes at the same
    path; only the layers stop holding them. A copied file's uses are every RUN between the COPY and
    its cleanup that runs a program that reads it, or anything that might (a script from the build
    context, ``make``, an interpreter: only known file and package utilities are passed over), so a
    consumer hidden in ``sh install-deps.sh`` still gets the mount. A COPY whose file no RUN reads is
    never removed, and the folder it created (``/root/.ssh``) is kept with ``RUN mkdir -p`` when a
    later step may write into it. **Unsafe**: a file whose content could not be checked, a secret
    copied into a final stage without a cleanup (the app may read it at run time) and the
    ``.dockerignore`` exclusion (a RUN after ``COPY .`` or the app may read the file from the tree).
    The build now needs ``--secret``/``--ssh`` flags, which every message and the compose wiring
    spell out. Never prints a secret's value: messages
    name files and variables only.
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Fix, Note
from rewriter.facts import Context
from transforms._base import Codemod
from transforms._data import merged
from transforms.secrets.context import context_leak
from transforms.secrets.files import file_secrets
from transforms.secrets.shared import ID, Runs
from transforms.secrets.variables import variable_secrets


class SecretsTransform(Codemod):
    id = ID
    description = "Move build secrets (files, ARG/ENV, SSH keys) into BuildKit secret/ssh mounts."

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        table = merged("secrets", ctx.config.tables.get("secrets"))
        moved: set[int] = set()  # COPY instructions a fix here takes out (their file goes to a mount)
        for stage in ctx.tree.stages:
            if ctx.is_windows(stage):
                continue
            runs = Runs(ctx, stage)
            for found in file_secrets(ctx, stage, runs, table):
                if isinstance(found, Fix):
                    moved.update(i.start for i in stage.instructions if i.keyword in {"COPY", "ADD"}
                                 and any(e.start <= i.start < e.end for e in found.edits if e.path is None))
                yield found
            yield from variable_secrets(ctx, stage, runs, table)
        yield from context_leak(ctx, table, moved)


TRANSFORM = SecretsTransform()
