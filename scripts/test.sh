#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test (unit, property, integration against
# real services, end to end). Services that the tests start are stopped again at the end unless
# they were already running before.
set -euo pipefail
cd "$(dirname "$0")/.."
kafka_was_up=no
scripts/services/kafka.sh status >/dev/null 2>&1 && kafka_was_up=yes
cleanup() {
  if [ "$kafka_was_up" = no ]; then scripts/services/kafka.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint --max-warnings 0 .
echo "== tests"; npx vitest run "$@"
