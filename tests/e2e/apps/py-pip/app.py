"""Prints a greeting computed with a module from the app folder, and the uid it runs as."""

import os
import sys

from greeting import greet

print(greet("multistage"), f"python {sys.version_info.major}.{sys.version_info.minor}")
print("uid", os.getuid(), file=sys.stderr)
