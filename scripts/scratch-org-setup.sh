#!/usr/bin/env bash
# Sets up a scratch org end to end: create it, install a package version (-p 04t...) or deploy the
# package source, assign the admin permission set, then connect it with scripts/connect-org.sh (the
# External Client App with your certificate, the integration permission set, the SF_* values).
# Usage: scripts/scratch-org-setup.sh -v <dev-hub-alias> [-a <scratch-alias>] [-p <04t package version id>] [-k keys-dir] [-d days]
set -euo pipefail

hub="" alias="didomi-sync" version="" keys="keys" days="7"
usage() { echo "usage: $0 -v <dev-hub-alias> [-a scratch-alias] [-p 04t-package-version-id] [-k keys-dir] [-d days]" >&2; exit 2; }
while getopts "v:a:p:k:d:h" opt; do
  case "$opt" in
    v) hub="$OPTARG" ;;
    a) alias="$OPTARG" ;;
    p) version="$OPTARG" ;;
    k) keys="$OPTARG" ;;
    d) days="$OPTARG" ;;
    *) usage ;;
  esac
done
[[ -n "$hub" ]] || usage
[[ -z "$version" || "$version" =~ ^04t[0-9A-Za-z]{12,15}$ ]] || { echo "error: -p takes a package version id (04t...), got '$version'" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# SF_CLI: another Salesforce CLI executable (the tests use a recording stand-in); default: the pinned one.
if [[ -n "${SF_CLI:-}" ]]; then sf() { "$SF_CLI" "$@"; }; else sf() { npx --no-install sf "$@"; }; fi
need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required" >&2; exit 1; }; }
need node
need npx
need openssl
sf --version >/dev/null 2>&1 || { echo "error: the Salesforce CLI is missing: run npm ci first" >&2; exit 1; }

echo "==> Creating scratch org '$alias' from Dev Hub '$hub'"
sf org create scratch --target-dev-hub "$hub" --definition-file config/project-scratch-def.json --alias "$alias" --duration-days "$days" --set-default --wait 15

if [[ -n "$version" ]]; then
  echo "==> Installing package version $version"
  sf package install --package "$version" --target-org "$alias" --security-type AdminsOnly --no-prompt --wait 20
else
  echo "==> Building the admin tab (TypeScript -> JavaScript) and deploying force-app"
  npm run --silent build:lwc
  sf project deploy start --source-dir force-app --target-org "$alias" --wait 20
fi

echo "==> Assigning Didomi_Sync_Admin to the scratch org's admin"
sf org assign permset --name Didomi_Sync_Admin --target-org "$alias"
username="$(sf org display --target-org "$alias" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).result.username')"

# The scratch org's admin doubles as the integration user here; in production use a dedicated
# API-only user (README, "The integration user").
scripts/connect-org.sh -o "$alias" -u "$username" -k "$keys"

echo "Open the admin tab:  npx sf org open --target-org ${alias} --path lightning/n/Didomi_Consent_Sync_Admin"
