#!/usr/bin/env bash
# Run every test: data validation, a model trained on the current data, and
# the pytest suite. Actions run on SQLite, and on PostgreSQL when
# TEST_DATABASE_URL is set; whole conversations run through real servers.
# Then the test stories.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

.venv/bin/rasa data validate
.venv/bin/rasa train --fixed-model-name chatcun --out models
.venv/bin/python -m pytest tests "$@"
.venv/bin/rasa test core --model models --stories tests/stories \
  --fail-on-prediction-errors --out var/results/core
