#!/bin/sh
set -eu
# build from the repository root
docker buildx build --load -t acme/app . && echo built
