#!/usr/bin/env bash
# `npm test`: bring up the real infrastructure (tools/infra: PostgreSQL, Kafka, MinIO,
# Chromium), check types and lint (incl. module boundaries), then run the unit tests and the
# integration tests against that infrastructure. Prints one summary line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true

node tools/infra/infra.mjs up

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
npx tsc -p tools/infra/tsconfig.json # the plain-JS infra scripts, checked through JSDoc
echo "== lint"
npx nx show projects >/dev/null # the project graph @nx/enforce-module-boundaries reads
npx eslint .

results=$(mktemp -d)
status=0
echo "== unit tests"
npx jest -c jest.unit.config.js --ci --json --outputFile="$results/unit.json" || status=$?
echo "== integration tests (real PostgreSQL, Kafka, MinIO)"
PAPKA_SKIP_INFRA_UP=true npx jest -c jest.integration.config.js --ci --runInBand --json --outputFile="$results/int.json" || status=$?

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed++; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results/unit.json" "$results/int.json"
exit "$status"
