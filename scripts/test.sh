#!/usr/bin/env bash
# The whole test suite: type check, lint, then every test (unit, property, integration).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint --max-warnings 0 .
echo "== tests"; npx vitest run "$@"
