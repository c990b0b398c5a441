#!/usr/bin/env bash
# Start one process of the assistant: `rasa` (the default), `actions` or
# `escalation` (the delivery worker; the actions process migrates the schema).
set -euo pipefail
cd /app

case "${1:-rasa}" in
  rasa)
    exec rasa run --model models --endpoints docker/endpoints.yml \
      --credentials credentials.yml --port "${PORT:-5005}"
    ;;
  actions)
    python -m actions.db.migrate
    exec rasa run actions --port "${ACTIONS_PORT:-5055}"
    ;;
  escalation)
    exec python -m actions.escalation.worker \
      --endpoints "${ESCALATION_ENDPOINTS:-endpoints.yml}"
    ;;
  *)
    exec "$@"
    ;;
esac
