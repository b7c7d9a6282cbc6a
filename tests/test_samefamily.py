"""Same-family runtimes of ``multistage`` (transforms/multistage/samefamily.py): which image, which packages,
which paths — the decisions a build could get wrong, checked one by one."""

from __future__ import annotations

import pytest

from rewriter import parse
from rewriter.engine.pipeline import process_text
from rewriter.facts import Facts, parse_image
from transforms import load
from transforms.multistage.samefamily import _installed, _runtime_ref, version_of

MULTISTAGE = load("multistage")


def _split(text: str) -> str:
    r = process_text(text, transforms=[MULTISTAGE], unsafe_fixes=True)
    assert r.changed, [n.message for n in r.notes]
    return r.new_text


def _runtime(text: str) -> list[str]:
    final = parse(_split(text)).final_stage
    assert final is not None
    return [i.raw.strip() for i in final.instructions]


@pytest.mark.parametrize(("ref", "stack", "version", "moving"), [
    ("python:3.11-slim-bookworm", "python", "3.11", None),
    ("python:3", "python", "3.15", "3"),
    ("python:3-slim", "python", "3.15", "3"),
    ("node:lts-buster-slim", "node", "26", "lts"),
    ("node:alpine", "node", "26", "alpine"),
    ("node:14.17.3-alpine3.14", "node", "14", None),
    ("ruby:3.3.6-slim", "ruby", "3.3", None),
    ("php:7-apache", "php", "7.4", "7"),
    ("openjdk:8-jdk-alpine", "java", "8", None),
])
def test_versions_and_moving_tags(ref: str, stack: str, version: str, moving: str | None) -> None:
    assert version_of(stack, parse_image(ref)) == (version, moving)


@pytest.mark.parametrize(("builder", "stack", "alpine", "want"), [
    ("python:3.11", "python", False, "python:3.11-slim"),
    ("python:3.11-bookworm", "python", False, "python:3.11-slim-bookworm"),
    ("python:3.11.9-slim", "python", False, "python:3.11.9-slim"),
    ("registry.example.com/python:3.12", "python", False, "registry.example.com/python:3.12-slim"),
    ("python:3.12-alpine3.20", "python", True, "python:3.12-alpine3.20"),
    ("php:8.3-fpm", "php", False, "php:8.3-fpm"),
    ("ruby:3.3", "ruby", False, "ruby:3.3-slim"),
])
def test_the_runtime_is_the_same_version_of_the_same_family(builder: str, stack: str, alpine: bool,
                                                             want: str) -> None:
    image = parse_image(builder)
    version, _ = version_of(stack, image)
    assert version is not None
    assert _runtime_ref(stack, image, version, alpine) == want


def test_virtual_build_groups_and_purged_packages_are_not_reinstalled() -> None:
    tree = parse("FROM python:3.12-alpine\nRUN apk add --no-cache --virtual .build gcc musl-dev postgresql-dev "
                 "&& apk add libpq tzdata && pip install psycopg2 && apk del .build\n"
                 "RUN apt-get install -y curl make && apt-get purge -y make\n")
    stage = tree.final_stage
    assert stage is not None
    kept, no_recommends = _installed(Facts(tree).runs.commands(stage), alpine=True)
    assert kept == ["libpq", "tzdata", "curl"]
    assert not no_recommends


def test_entry_script_packages_folders_and_users_reach_the_runtime() -> None:
    runtime = _runtime(
        "FROM python:3.12\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev gosu git \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "RUN useradd -m app && mkdir -p /var/lib/app && mv /tmp/x /opt/tool\n"
        "WORKDIR /srv/app\nCOPY requirements.txt /tmp/requirements.txt\nRUN pip install -r /tmp/requirements.txt\n"
        "COPY entrypoint.sh /entrypoint.sh\nCOPY conf/app.ini /etc/app/app.ini\nCOPY . .\n"
        "USER app\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD [\"gunicorn\", \"app:app\"]\n")
    text = "\n".join(runtime)
    assert runtime[0] == "FROM python:3.12-slim"
    # compilers and build helpers stay behind; the runtime library of libpq-dev and gosu come along
    assert "apt-get install -y --no-install-recommends libpq5 gosu" in text
    assert "gcc" not in text and " git" not in text
    for path in ("/entrypoint.sh", "/etc/app/app.ini", "/var/lib/app", "/opt/tool", "/srv/app"):
        assert f"COPY --from=build {path} {path}" in text, path
    assert "/tmp/requirements.txt" not in text  # scratch paths are not carried
    assert "COPY --from=build /etc/passwd /etc/group /etc/" in text
    assert runtime[-3:] == ["USER app", 'ENTRYPOINT ["/entrypoint.sh"]', 'CMD ["gunicorn", "app:app"]']


def test_a_file_the_build_removed_is_not_copied() -> None:
    text = "\n".join(_runtime(
        "FROM node:22\nWORKDIR /app\nCOPY seed.sql /docker/seed.sql\nCOPY . .\nRUN npm ci && rm /docker/seed.sql\n"
        "CMD ./start.sh\n"))
    assert "/docker/seed.sql" not in text


def test_args_the_runtime_lines_use_are_declared_there() -> None:
    text = "\n".join(_runtime(
        "FROM ruby:3.3\nARG PORT=3000\nENV PORT=$PORT\nRUN apt-get update && apt-get install -y build-essential\n"
        "WORKDIR /app\nCOPY . .\nRUN bundle install\nCMD bundle exec puma -p $PORT\n"))
    assert text.index("ARG PORT=3000") < text.index("ENV PORT=$PORT")


@pytest.mark.parametrize(("dockerfile", "reason"), [
    ("FROM python:3.12\nRUN apt-get update && apt-get install -y nginx gcc\nWORKDIR /app\nCOPY . .\n"
     "RUN pip install -r r.txt\nCMD ./start.sh\n", "second service"),
    ("FROM python:3.12\nRUN apt-get update && apt-get install -y libfoo-dev\nWORKDIR /app\nCOPY . .\n"
     "RUN pip install -r r.txt\nCMD ./start.sh\n", "libfoo-dev"),
    ("FROM python:3.12\nRUN add-apt-repository ppa:x/y && apt-get install -y foo\nWORKDIR /app\nCOPY . .\n"
     "RUN pip install -r r.txt\nCMD ./start.sh\n", "own package sources"),
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r r.txt\nCMD ./start.sh\n",
     "leave nothing behind"),
])
def test_refusals_say_why(dockerfile: str, reason: str) -> None:
    r = process_text(dockerfile, transforms=[MULTISTAGE], unsafe_fixes=True)
    assert not r.changed
    assert any(reason in n.message for n in r.notes), [n.message for n in r.notes]


def test_the_prune_step_keeps_the_file_newline_style() -> None:
    """A same-family Node split adds ``npm prune --omit=dev`` like the distroless one: CRLF files get CRLF."""
    text = ("FROM node:22-alpine\r\nRUN apk add --no-cache make g++\r\nWORKDIR /app\r\nCOPY . .\r\n"
            "RUN npm install\r\nCMD [\"node\", \"server.js\"]\r\n")
    out = _split(text)
    assert "RUN npm install\r\nRUN npm prune --omit=dev\r\n" in out
    assert "\n" not in out.replace("\r\n", "")


@pytest.mark.parametrize("env", ["ENV NODE_ENV=production", "ENV NODE_ENV production"])
def test_a_production_install_is_not_pruned(env: str) -> None:
    for base in ("node:22", "node:22-alpine"):  # distroless and same-family splits read it the same way
        out = _split(f"FROM {base}\n{env}\nRUN apk add --no-cache make g++\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
                     "CMD [\"node\", \"server.js\"]\n" if "alpine" in base else
                     f"FROM {base}\n{env}\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"node\", \"server.js\"]\n")
        assert "npm prune" not in out, (base, env)


def test_a_final_stage_fed_by_a_build_stage_is_left_alone_without_a_note() -> None:
    text = ("FROM python:3.12 AS build\nWORKDIR /app\nCOPY . .\nRUN pip install --target /deps -r r.txt\n"
            "FROM python:3.12-alpine\nCOPY --from=build /deps /deps\nCMD [\"python\", \"-m\", \"app\"]\n")
    r = process_text(text, transforms=[MULTISTAGE], unsafe_fixes=True)
    assert not r.changed and not r.notes


def test_a_package_distroless_lacks_sends_a_plain_start_to_the_same_family() -> None:
    """An exec-form Python start would go to distroless, but the build installs ffmpeg (no runtime
    library table row): the runtime becomes python:3.12-slim with ffmpeg installed."""
    runtime = _runtime("FROM python:3.12\nRUN apt-get update && apt-get install -y --no-install-recommends ffmpeg gcc\n"
                       "WORKDIR /app\nCOPY . .\nRUN pip install -r r.txt\nCMD [\"python\", \"app.py\"]\n")
    assert runtime[0] == "FROM python:3.12-slim"
    assert any("install -y --no-install-recommends ffmpeg &&" in line for line in runtime)
    assert runtime[-1] == 'CMD ["python", "app.py"]'
