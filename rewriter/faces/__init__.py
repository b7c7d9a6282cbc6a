"""The faces, kept thin: the command line, the language server, the interactive suggest loop,
reports (text, JSON, SARIF, GitHub) and the pre-commit entry."""
