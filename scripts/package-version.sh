#!/usr/bin/env bash
# Creates a version of the unlocked package "Didomi Consent Sync" (sfdx-project.json).
# Usage: scripts/package-version.sh -v <dev-hub-alias> [-k installation-key]
set -euo pipefail

hub="" key=""
while getopts "v:k:h" opt; do
  case "$opt" in
    v) hub="$OPTARG" ;;
    k) key="$OPTARG" ;;
    *) echo "usage: $0 -v <dev-hub-alias> [-k installation-key]" >&2; exit 2 ;;
  esac
done
[[ -n "$hub" ]] || { echo "usage: $0 -v <dev-hub-alias> [-k installation-key]" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
npx --no-install sf --version >/dev/null 2>&1 || { echo "error: the Salesforce CLI is missing: run npm ci first" >&2; exit 1; }

npm run --silent build:lwc
if ! grep -q '"Didomi Consent Sync": "0Ho' sfdx-project.json; then
  echo "==> Creating the package (first time only)"
  npx --no-install sf package create --name "Didomi Consent Sync" --package-type Unlocked --path force-app --no-namespace --target-dev-hub "$hub"
fi
args=(--package "Didomi Consent Sync" --target-dev-hub "$hub" --wait 30)
if [[ -n "$key" ]]; then args+=(--installation-key "$key"); else args+=(--installation-key-bypass); fi
npx --no-install sf package version create "${args[@]}"
echo "Install it with: npx sf package install --package <04t id> --target-org <org> --wait 10"
