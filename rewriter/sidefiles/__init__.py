"""Editors of the files beside a Dockerfile that a fix changes with it (compose files,
.dockerignore), byte for byte outside their edits."""
