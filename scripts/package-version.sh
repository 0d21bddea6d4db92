#!/usr/bin/env bash
# Creates a version of the unlocked package "Didomi Consent Sync" (force-app in sfdx-project.json; the
# External Client App in connect/ is never packaged) and, with -P, promotes it to released so that
# production orgs can install it. Versions are created with --code-coverage: Salesforce promotes only
# validated versions with code coverage computed, and installs unpromoted (beta) versions only in
# scratch orgs and sandboxes (Salesforce DX Developer Guide, "Code Coverage for Unlocked Packages",
# "Release an Unlocked Package").
# Usage: scripts/package-version.sh -v <dev-hub-alias> [-k installation-key] [-P]
#        scripts/package-version.sh -v <dev-hub-alias> -r <04t id>     promote an existing version
set -euo pipefail

hub="" key="" promote="" release=""
usage() { echo "usage: $0 -v <dev-hub-alias> [-k installation-key] [-P]  |  $0 -v <dev-hub-alias> -r <04t package version id>" >&2; exit 2; }
while getopts "v:k:Pr:h" opt; do
  case "$opt" in
    v) hub="$OPTARG" ;;
    k) key="$OPTARG" ;;
    P) promote=1 ;;
    r) release="$OPTARG" ;;
    *) usage ;;
  esac
done
[[ -n "$hub" ]] || usage
[[ -z "$release" || "$release" =~ ^04t[0-9A-Za-z]{12,15}$ ]] || { echo "error: -r takes a package version id (04t...), got '$release'" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# SF_CLI: another Salesforce CLI executable (the tests use a recording stand-in); default: the pinned one.
if [[ -n "${SF_CLI:-}" ]]; then sf() { "$SF_CLI" "$@"; }; else sf() { npx --no-install sf "$@"; }; fi
sf --version >/dev/null 2>&1 || { echo "error: the Salesforce CLI is missing: run npm ci first" >&2; exit 1; }

promote_version() {
  echo "==> Promoting $1 to released (production orgs can install it; its metadata can no longer change)"
  sf package version promote --package "$1" --target-dev-hub "$hub" --no-prompt
}
if [[ -n "$release" ]]; then
  promote_version "$release"
  exit 0
fi

npm run --silent build:lwc
if ! grep -q '"Didomi Consent Sync": "0Ho' sfdx-project.json; then
  echo "==> Creating the package (first time only)"
  sf package create --name "Didomi Consent Sync" --package-type Unlocked --path force-app --no-namespace --target-dev-hub "$hub"
fi
echo "==> Creating a package version (validated, with code coverage)"
if [[ -n "$key" ]]; then
  out="$(sf package version create --package "Didomi Consent Sync" --target-dev-hub "$hub" --code-coverage --installation-key "$key" --wait 60 --json)" || true
else
  out="$(sf package version create --package "Didomi Consent Sync" --target-dev-hub "$hub" --code-coverage --installation-key-bypass --wait 60 --json)" || true
fi
version="$(node -pe 'JSON.parse(require("fs").readFileSync(0)).result?.SubscriberPackageVersionId ?? ""' <<<"$out")"
[[ "$version" == 04t* ]] || { echo "error: no package version was created:" >&2; echo "$out" >&2; exit 1; }
echo "Package version: $version"
if [[ -n "$promote" ]]; then promote_version "$version"; else echo "Beta: installs in scratch orgs and sandboxes only; promote it with: $0 -v $hub -r $version"; fi
echo "Install it with: npx sf package install --package $version --target-org <org> --security-type AdminsOnly --wait 20"
echo "Then connect the org: scripts/connect-org.sh -o <org> -u <integration-username>"
