#!/usr/bin/env bash
# Runs the Dockerfile's build steps as a script, for machines without a Docker engine: a copy of
# the repository (what COPY . . sends, minus node_modules) in a scratch dir, `npm ci` of the deps
# stage and the build stage's checks, then the runtime entry point. Leaves nothing in the repo.
#   bash deploy/dockerfile-steps.sh [--keep]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/retimuad-docker-steps.XXXXXX)"
[ "${1:-}" = "--keep" ] || trap 'rm -rf "$work"' EXIT INT TERM
t0=$(date +%s)
echo "== context copy → $work" >&2
tar -C "$repo" --exclude=node_modules --exclude=data --exclude=.git -cf - . | tar -C "$work" -xf -
cd "$work"
echo "== deps: npm ci --omit=dev" >&2
npm_config_onnxruntime_node_install=skip npm ci --omit=dev --no-audit --no-fund --silent
mv node_modules node_modules.prod
echo "== build: npm ci; tsc; retimuad --help" >&2
npm ci --no-audit --no-fund --silent
npx tsc --noEmit -p .
node bin/retimuad.mjs --help >/dev/null
echo "== runtime: prod node_modules only" >&2
rm -rf node_modules && mv node_modules.prod node_modules
NODE_ENV=production node bin/retimuad.mjs --help >/dev/null
echo "== all Dockerfile steps passed in $(( $(date +%s) - t0 )) s" >&2
