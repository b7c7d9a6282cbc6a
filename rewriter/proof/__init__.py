"""Proof by building, shared by ``verify`` (report only) and ``migrate`` (keep what still behaves):

* :mod:`rewriter.proof.containers` — running commands, the :class:`~rewriter.proof.containers.Builder`
  protocol and the docker/podman/buildah command-line backend;
* :mod:`rewriter.proof.buildsecrets` — the secrets a rewritten build needs, and the search for their
  bytes in built images (values never printed).

Static codemods never import this package; it runs the pipeline's output, never the other way round.
"""
