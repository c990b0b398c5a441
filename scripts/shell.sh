#!/usr/bin/env bash
# Start the action server in the background and open `rasa shell`; the
# action server stops when the shell ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mkdir -p var/log

SANIC_HOST=127.0.0.1 .venv/bin/rasa run actions --port 5055 >var/log/actions.log 2>&1 &
actions_pid=$!
trap 'kill "$actions_pid" 2>/dev/null || true' EXIT
scripts/wait-for-http.sh http://127.0.0.1:5055/health 120 "The action server"

.venv/bin/rasa shell --model models --endpoints endpoints.yml
