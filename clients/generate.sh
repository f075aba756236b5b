#!/usr/bin/env bash
# Regenerates the Python client's generated layer (clients/python/rusk_client/generated) from
# openapi/openapi.json with openapi-python-client. Everything else under clients/python is
# written by hand and never touched here.
#
#   clients/generate.sh            regenerate in place
#   clients/generate.sh --check    regenerate into a temp dir and diff against the committed
#                                  tree; exits 1 when the committed client is stale
#   clients/generate.sh --strict   also fail when the generator warns (a schema it skipped)
#
# Environment: RUSK_PYTHON, a Python with openapi-python-client and ruff at the versions
# pinned below (default: python3). The generator's output depends on both, so other versions
# are refused rather than producing a diff that is not about the API.
set -euo pipefail

GENERATOR_VERSION=0.29.1
RUFF_VERSION=0.17.6

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
spec="$root/openapi/openapi.json"
config="$here/python-config.yaml"
target="$here/python/rusk_client/generated"
py="${RUSK_PYTHON:-python3}"

check=false
strict=()
for arg in "$@"; do
    case "$arg" in
        --check) check=true ;;
        --strict) strict=(--fail-on-warning) ;;
        *) echo "generate.sh: unknown argument $arg (expected --check or --strict)" >&2; exit 2 ;;
    esac
done

installed="$("$py" -c 'import importlib.metadata as m; print(m.version("openapi-python-client"), m.version("ruff"))' 2>/dev/null)" || {
    echo "generate.sh: $py lacks openapi-python-client or ruff;" \
         "pip install openapi-python-client==$GENERATOR_VERSION ruff==$RUFF_VERSION (or set RUSK_PYTHON)" >&2
    exit 2
}
if [ "$installed" != "$GENERATOR_VERSION $RUFF_VERSION" ]; then
    echo "generate.sh: need openapi-python-client $GENERATOR_VERSION and ruff $RUFF_VERSION," \
         "found $installed in $py" >&2
    exit 2
fi
# The generator runs its post hooks (ruff) from PATH.
ruff_bin="$("$py" -c 'from ruff.__main__ import find_ruff_bin; print(find_ruff_bin())')"
export PATH="$(dirname "$ruff_bin"):$PATH"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/generated"

log="$tmp/generator.log"
status=0
(cd "$tmp" && "$py" -m openapi_python_client generate --path "$spec" --config "$config" \
    --meta none --output-path "$out" "${strict[@]}") >"$log" 2>&1 || status=$?
# Show every warning: a schema the generator could not process is missing from the client.
grep -v '^$' "$log" || true
if [ "$status" -ne 0 ]; then
    echo "generate.sh: openapi-python-client failed (exit $status)" >&2
    exit 1
fi
if grep -q 'Warning(s) encountered' "$log"; then
    echo "generate.sh: the generator warned (above): those schemas are missing or broken in the" \
         "generated client until openapi/openapi.json is fixed (see clients/README.md)" >&2
fi

if $check; then
    if diff -ru -x __pycache__ "$target" "$out" >"$tmp/diff"; then
        echo "generate.sh: clients/python/rusk_client/generated is up to date with openapi/openapi.json"
        exit 0
    fi
    cat "$tmp/diff"
    echo "generate.sh: clients/python/rusk_client/generated is STALE: it differs from what" \
         "openapi/openapi.json generates (diff above). Run clients/generate.sh and commit the result." >&2
    exit 1
fi

rm -rf "$target"
mv "$out" "$target"
echo "generate.sh: wrote clients/python/rusk_client/generated"
