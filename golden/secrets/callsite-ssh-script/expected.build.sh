#!/bin/sh
# CI: build the image with the deploy key of the internal library
set -eu
docker build --ssh default -t acme/app .
