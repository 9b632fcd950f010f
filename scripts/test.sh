#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test (unit, property, integration against
# real services, end to end). Integration tests start the real services they need through
# scripts/services; those not running before are stopped again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
services=(kafka influxdb opensearch)
declare -A was_up
for s in "${services[@]}"; do
  was_up[$s]=no
  scripts/services/$s.sh status >/dev/null 2>&1 && was_up[$s]=yes
done
cleanup() {
  for s in "${services[@]}"; do
    if [ "${was_up[$s]}" = no ]; then scripts/services/$s.sh stop >/dev/null 2>&1 || true; fi
  done
}
trap cleanup EXIT
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint --max-warnings 0 .
echo "== tests"; npx vitest run "$@"
# The outage tests stop and start private server instances (own ports and data dirs) for 60 s
# each, so they run as a phase of their own; skipped when the caller filters tests.
if [ "$#" -eq 0 ]; then
  cleanup # the shared services are no longer needed: free their CPU and memory
  echo "== outage tests (private servers stopped for 60 s)"
  npx vitest run --config packages/engine/src/sinks/vitest.outage.config.ts
fi
