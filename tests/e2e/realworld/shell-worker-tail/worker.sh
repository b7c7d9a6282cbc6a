#!/bin/sh
# poor man's queue worker
echo "$(date -u +%T) worker started (pid $$)" >> /var/log/worker.log
n=0
while true; do
    n=$((n + 1))
    echo "$(date -u +%T) processed batch $n" >> /var/log/worker.log
    sleep 1
done
