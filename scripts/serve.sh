#!/usr/bin/env bash
# Run the assistant for real traffic: the action server, the delivery worker
# (escalations and cases sent to bodies, see docs/escalation.md) and `rasa
# run` with the channels of credentials.yml on port 5005. All stop together.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mkdir -p var/log

# The action server listens on loopback: only Rasa on this machine calls it.
SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}" .venv/bin/rasa run actions --port 5055 &
actions_pid=$!
.venv/bin/python -m actions.escalation.worker --endpoints endpoints.yml \
  >>var/log/escalation.log 2>&1 &
worker_pid=$!
trap 'kill "$actions_pid" "$worker_pid" 2>/dev/null || true' EXIT
scripts/wait-for-http.sh http://127.0.0.1:5055/health 120 "The action server"

.venv/bin/rasa run --model models --endpoints endpoints.yml \
  --credentials credentials.yml --port "${PORT:-5005}"
