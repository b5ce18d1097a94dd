#!/usr/bin/env bash
# Formats the whole tree once (after the branches that set up the linter and formatter are merged):
# Prettier rewrites layout, then ESLint applies its safe fixes (unneeded type assertions and the like),
# then Prettier again in case a fix changed a line's length. Ends with the same check as `npm run lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
npx prettier --write --log-level warn .
npx eslint --fix .
npx prettier --write --log-level warn .
npm run --silent lint
echo 'format-all: tree formatted and lint-clean; review `git diff --stat`, run `npm run typecheck`, and commit.'
