#!/bin/sh
set -eu
# build from the repository root
docker buildx build --secret id=npmrc,src=.npmrc --load -t acme/app . && echo built
