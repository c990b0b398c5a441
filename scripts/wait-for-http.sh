#!/usr/bin/env bash
# Wait until a URL answers with HTTP 200: wait-for-http.sh URL SECONDS NAME
set -euo pipefail
url=$1
seconds=$2
name=$3
for ((i = 0; i < seconds; i++)); do
  if curl -fsS -o /dev/null "$url" 2>/dev/null; then
    exit 0
  fi
  sleep 1
done
echo "$name did not answer at $url within ${seconds}s; see its log above or in var/log/." >&2
exit 1
