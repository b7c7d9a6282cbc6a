#!/bin/sh
# Builds the service image; CI runs this with IMAGE set (a local build gets a dev tag).
set -eu
IMAGE="${IMAGE:-acme/service:dev}"
buildah bud --pull=never --layers -t "$IMAGE" .
