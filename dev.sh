#!/usr/bin/env bash
# The single validation gate: formatting, vet, lint, all tests (browser tests too) and fuzzing.
set -euo pipefail
cd "$(dirname "$0")"
exec make check "$@"
