#!/usr/bin/env bash
# Sets up a scratch org end to end: create it, deploy the package source, configure the External
# Client App for the JWT bearer flow with your certificate, assign the permission sets, prepare
# the integration user, and print the middleware's environment variables.
# Usage: scripts/scratch-org-setup.sh -v <dev-hub-alias> [-a <scratch-alias>] [-k keys-dir] [-d days]
set -euo pipefail

hub="" alias="didomi-sync" keys="keys" days="7"
usage() { echo "usage: $0 -v <dev-hub-alias> [-a scratch-alias] [-k keys-dir] [-d days]" >&2; exit 2; }
while getopts "v:a:k:d:h" opt; do
  case "$opt" in
    v) hub="$OPTARG" ;;
    a) alias="$OPTARG" ;;
    k) keys="$OPTARG" ;;
    d) days="$OPTARG" ;;
    *) usage ;;
  esac
done
[[ -n "$hub" ]] || usage

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sf() { npx --no-install sf "$@"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required" >&2; exit 1; }; }
need node
need npx
need openssl
npx --no-install sf --version >/dev/null 2>&1 || { echo "error: the Salesforce CLI is missing: run npm ci first" >&2; exit 1; }

[[ -f "$keys/server.crt" ]] || scripts/generate-jwt-keys.sh "$keys"

echo "==> Creating scratch org '$alias' from Dev Hub '$hub'"
sf org create scratch --target-dev-hub "$hub" --definition-file config/project-scratch-def.json --alias "$alias" --duration-days "$days" --set-default --wait 15

echo "==> Building the admin tab (TypeScript -> JavaScript)"
npm run --silent build:lwc

echo "==> Deploying force-app"
sf project deploy start --source-dir force-app --target-org "$alias" --wait 20

echo "==> Configuring the External Client App for the JWT bearer flow"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
consumer_key="DidomiSync$(openssl rand -hex 16)"
mkdir -p "$tmp/force-app/main/default/extlClntAppGlobalOauthSets"
# Global OAuth settings hold the certificate and consumer key: org-specific, never in source control.
cert="$(sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' "$keys/server.crt")"
cat > "$tmp/force-app/main/default/extlClntAppGlobalOauthSets/Didomi_Consent_Sync_glbloauth.ecaGlblOauth-meta.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppGlobalOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>
    <certificate>${cert}</certificate>
    <consumerKey>${consumer_key}</consumerKey>
    <externalClientApplication>Didomi_Consent_Sync</externalClientApplication>
    <isConsumerSecretOptional>true</isConsumerSecretOptional>
    <isIntrospectAllTokens>false</isIntrospectAllTokens>
    <isPkceRequired>false</isPkceRequired>
    <isSecretRequiredForRefreshToken>false</isSecretRequiredForRefreshToken>
    <label>Didomi Consent Sync global OAuth</label>
</ExtlClntAppGlobalOauthSettings>
XML
printf '{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"66.0"}\n' > "$tmp/sfdx-project.json"
(cd "$tmp" && npx --prefix "$root" --no-install sf project deploy start --source-dir force-app --target-org "$alias" --wait 20)

echo "==> Assigning permission sets"
sf org assign permset --name Didomi_Sync_Admin --target-org "$alias"
username="$(sf org display --target-org "$alias" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).result.username')"
sf org assign permset --name Didomi_Sync_Integration --target-org "$alias"

echo "==> Pre-authorizing the integration permission set on the External Client App"
psid="$(sf data query --query "SELECT Id FROM PermissionSet WHERE Name = 'Didomi_Sync_Integration'" --target-org "$alias" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).result.records[0].Id')"
mkdir -p "$tmp/force-app/main/default/extlClntAppOauthPolicies"
sed "s#</ExtlClntAppOauthConfigurablePolicies>#    <commaSeparatedPermissionSet>${psid}</commaSeparatedPermissionSet>\n</ExtlClntAppOauthConfigurablePolicies>#" \
  force-app/main/default/extlClntAppOauthPolicies/Didomi_Consent_Sync_oauthPlcy.ecaOauthPlcy-meta.xml \
  > "$tmp/force-app/main/default/extlClntAppOauthPolicies/Didomi_Consent_Sync_oauthPlcy.ecaOauthPlcy-meta.xml"
rm -rf "$tmp/force-app/main/default/extlClntAppGlobalOauthSets"
(cd "$tmp" && npx --prefix "$root" --no-install sf project deploy start --source-dir force-app --target-org "$alias" --wait 20)

instance="$(sf org display --target-org "$alias" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).result.instanceUrl')"
cat <<ENV

Scratch org ready. Middleware environment (see config/middleware.env.example for the rest):
  SF_LOGIN_URL=https://test.salesforce.com
  SF_AUDIENCE=https://test.salesforce.com
  SF_CLIENT_ID=${consumer_key}
  SF_USERNAME=${username}
  SF_PRIVATE_KEY_FILE=${root}/${keys}/server.key
  # instance: ${instance}
Open the admin tab:  npx sf org open --target-org ${alias} --path lightning/n/Didomi_Consent_Sync
ENV
