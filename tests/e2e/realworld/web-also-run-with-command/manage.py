"""The project's management command, run from the same image by CI and by a Kubernetes Job
(`docker run IMAGE python3 manage.py check`)."""

import sys

import yaml

command = sys.argv[1] if len(sys.argv) > 1 else "help"
if command == "check":
    config = yaml.safe_load("database: orders\n")
    print(f"System check identified no issues ({config['database']}).")
else:
    print(f"unknown command {command}", file=sys.stderr)
    sys.exit(2)
