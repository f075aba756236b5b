#!/usr/bin/env bash
# TypeScript types for the Rusk API: schema.d.ts is generated from openapi/openapi.json by
# openapi-typescript (pinned in package.json / package-lock.json).
#
#   clients/typescript/check.sh           fail if schema.d.ts is stale, then compile example.ts
#                                         against it with tsc --noEmit --strict
#   clients/typescript/check.sh --write   regenerate schema.d.ts first
#
# Needs node and npm; runs `npm ci` when node_modules is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

write=false
case "${1:-}" in
    "") ;;
    --write) write=true ;;
    *) echo "check.sh: unknown argument $1 (expected --write)" >&2; exit 2 ;;
esac

if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi

# Defaults make a field required only in answers (JobView), not in what callers send (JobSpec).
generate=(npx --no-install openapi-typescript ../../openapi/openapi.json
          --default-non-nullable false --root-types --root-types-no-schema-prefix)

if $write; then
    "${generate[@]}" --output schema.d.ts
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "${generate[@]}" --output "$tmp/schema.d.ts" >/dev/null
    if ! diff -u schema.d.ts "$tmp/schema.d.ts" >"$tmp/diff"; then
        head -100 "$tmp/diff"
        echo "check.sh: clients/typescript/schema.d.ts is STALE against openapi/openapi.json" \
             "(diff above). Run clients/typescript/check.sh --write and commit it." >&2
        exit 1
    fi
fi

npx --no-install tsc --noEmit --strict -p tsconfig.json
echo "check.sh: schema.d.ts is current and example.ts compiles (tsc --strict)"
