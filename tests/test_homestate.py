"""Settings the build leaves in root's home (rewriter.facts.homestate)."""

from __future__ import annotations

import pytest

from rewriter.core.syntax import parse
from rewriter.facts.context import Context
from rewriter.facts.homestate import root_home_state


def _state(dockerfile: str) -> dict[str, bool]:
    ctx = Context(parse(dockerfile), None, None)
    assert ctx.final_stage is not None
    return {h.path: h.sure for h in root_home_state(ctx, ctx.facts.chain(ctx.final_stage))}


@pytest.mark.parametrize(("run", "expected"), [
    ("git config --global url.https://github.com/.insteadOf git@github.com:", {".gitconfig": True}),
    ("git config --global url.https://x:${GH_PAT}@github.com/.insteadOf https://github.com/", {}),  # a credential
    ("git config --global credential.helper store", {}),
    ("git config user.name ci", {}),  # the repository's own config
    ("npm config set registry https://npm.example.org/", {".npmrc": True}),
    ("npm config set //npm.example.org/:_authToken ${NPM_TOKEN}", {}),  # a token: the secrets codemod's
    ("npm config set --location=global fund false", {}),  # $PREFIX/etc/npmrc
    ("bundle config set --global without 'development test'", {".bundle": True}),
    ("bundle config set without development", {".bundle": False}),  # local when a Gemfile is there
    ("bundle config set --local deployment true", {}),
    ("python3 -m pip config set global.index-url https://pypi.example.org/simple", {".config/pip": True}),
    ("pip3 install --user --no-cache-dir flask", {".local": True}),
    ("pip install flask", {}),
    ("mix local.hex --force && mix local.rebar --force", {".mix": True}),
])
def test_commands_that_write_root_settings(run: str, expected: dict[str, bool]) -> None:
    assert _state(f"FROM debian:13\nRUN {run}\nCMD [\"app\"]\n") == expected


def test_copies_into_root_count_and_credentials_never() -> None:
    state = _state("FROM debian:13\nCOPY pip.conf /root/.config/pip/pip.conf\nCOPY .gitconfig .bashrc /root/\n"
                   "COPY id_rsa /root/.ssh/id_rsa\nCOPY .npmrc /root/.npmrc\nCOPY --from=build /root/.mix /root/.mix\n"
                   "CMD [\"app\"]\n")
    assert state == {".config/pip/pip.conf": True, ".gitconfig": True, ".bashrc": True, ".mix": True}


def test_only_the_stages_the_final_one_is_built_from() -> None:
    state = _state("FROM debian:13 AS tools\nRUN git config --global a.b c\n"
                   "FROM debian:13 AS base\nRUN npm config set fund false\n"
                   "FROM base\nCMD [\"app\"]\n")
    assert state == {".npmrc": True}
