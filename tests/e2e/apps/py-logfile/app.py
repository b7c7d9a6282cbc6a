"""Writes one log line per second to stdout (the rewritten image shows them in `podman logs`)."""

import sys
import time

print("app started: log line 1", flush=True)
for i in range(2, 600):
    time.sleep(1)
    print(f"app running: log line {i}", file=sys.stdout, flush=True)
