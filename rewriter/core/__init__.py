"""The core: the lossless syntax tree, shell analysis, edits and fixes, diffs, reading and writing
files. It knows nothing about any codemod."""
