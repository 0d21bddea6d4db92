#!/usr/bin/env bash
# Connects the middleware to one org (scratch, sandbox or production) once the package is installed:
# deploys the External Client App in connect/ as a Local app with this org's certificate, pre-authorises
# the Didomi_Sync_Integration permission set on it, assigns that permission set to the integration user,
# reads the consumer key Salesforce generated back from the org, and prints the middleware's SF_* values.
# Usage: scripts/connect-org.sh -o <org-alias> -u <integration-username> [-c certificate.crt] [-k keys-dir]
#   -c  the certificate whose private key the middleware holds; default: <keys-dir>/server.crt,
#       generated with scripts/generate-jwt-keys.sh when missing (keys-dir: default keys/ in the repository)
set -euo pipefail

org="" user="" cert="" keys=""
usage() { echo "usage: $0 -o <org-alias> -u <integration-username> [-c certificate.crt] [-k keys-dir]" >&2; exit 2; }
while getopts "o:u:c:k:h" opt; do
  case "$opt" in
    o) org="$OPTARG" ;;
    u) user="$OPTARG" ;;
    c) cert="$OPTARG" ;;
    k) keys="$OPTARG" ;;
    *) usage ;;
  esac
done
[[ -n "$org" && -n "$user" ]] || usage

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Paths given on the command line are relative to where the script is called from.
[[ -z "$cert" || "$cert" == /* ]] || cert="$PWD/$cert"
[[ -z "$keys" || "$keys" == /* ]] || keys="$PWD/$keys"
keys="${keys:-$root/keys}"
cd "$root"
# SF_CLI: another Salesforce CLI executable (the tests use a recording stand-in); default: the pinned one.
if [[ -n "${SF_CLI:-}" ]]; then sf() { "$SF_CLI" "$@"; }; else sf() { npx --prefix "$root" --no-install sf "$@"; }; fi
# json a.b.0.c: prints that value of the JSON on stdin (sf --json output); fails when it is missing.
json() { node -e 'const v=process.argv[1].split(".").reduce((o,k)=>o?.[k],JSON.parse(require("fs").readFileSync(0,"utf8")));if(v==null)process.exit(1);console.log(v)' "$1"; }
command -v openssl >/dev/null 2>&1 || { echo "error: openssl is required" >&2; exit 1; }
sf --version >/dev/null 2>&1 || { echo "error: the Salesforce CLI is missing: run npm ci first" >&2; exit 1; }

private_key="<the private key of $cert>"
if [[ -z "$cert" ]]; then
  cert="$keys/server.crt"
  [[ -f "$cert" ]] || scripts/generate-jwt-keys.sh "$keys"
  private_key="$(cd "$keys" && pwd)/server.key"
fi
openssl x509 -in "$cert" -noout 2>/dev/null || { echo "error: $cert is not a PEM certificate" >&2; exit 1; }

echo "==> Checking the org '$org' and the package in it"
instance="$(sf org display --target-org "$org" --json | json result.instanceUrl)" ||
  { echo "error: cannot reach org '$org': log in first (npx sf org login web --alias $org --instance-url https://<My Domain>)" >&2; exit 1; }
psid="$(sf data query --query "SELECT Id FROM PermissionSet WHERE Name = 'Didomi_Sync_Integration'" --target-org "$org" --json | json result.records.0.Id)" ||
  { echo "error: permission set Didomi_Sync_Integration not found in '$org': install the package first (README, Install into an org)" >&2; exit 1; }

license="$(sf data query --query "SELECT Profile.UserLicense.Name FROM User WHERE Username = '${user//\'/\\\'}'" --target-org "$org" --json |
  json result.records.0.Profile.UserLicense.Name)" ||
  { echo "error: no user '$user' in '$org': create it first (README, Install into an org, step 3)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
umask 077
cp -R connect "$tmp/connect"
# The Change Data Capture selection deploys on its own: it uses the org's CDC entity allowance, and a full
# allowance must not stop the connection (the middleware then polls: REVERSE_MODE=poll).
mv "$tmp/connect/cdc" "$tmp/cdc"
printf '{"packageDirectories":[{"path":"connect","default":true},{"path":"cdc"}],"sourceApiVersion":"66.0"}\n' > "$tmp/sfdx-project.json"
base="$tmp/connect/main/default"
# Global OAuth settings: this org's certificate turns on the JWT bearer flow; no consumerKey, so Salesforce
# generates one (Metadata API Developer Guide, ExtlClntAppGlobalOauthSettings: certificate, consumerKey).
mkdir -p "$base/extlClntAppGlobalOauthSets"
pem="$(sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' "$cert")"
cat > "$base/extlClntAppGlobalOauthSets/Didomi_Consent_Sync_glbloauth.ecaGlblOauth-meta.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppGlobalOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>
    <certificate>${pem}</certificate>
    <externalClientApplication>Didomi_Consent_Sync</externalClientApplication>
    <isConsumerSecretOptional>true</isConsumerSecretOptional>
    <isIntrospectAllTokens>false</isIntrospectAllTokens>
    <isPkceRequired>false</isPkceRequired>
    <isSecretRequiredForRefreshToken>false</isSecretRequiredForRefreshToken>
    <label>Didomi Consent Sync global OAuth</label>
</ExtlClntAppGlobalOauthSettings>
XML
# Policies: admin-approved users are pre-authorised through this org's Didomi_Sync_Integration permission set
# (ExtlClntAppOauthConfigurablePolicies: commaSeparatedPermissionSet holds permission set Ids).
policies="$base/extlClntAppOauthPolicies/Didomi_Consent_Sync_oauthPlcy.ecaOauthPlcy-meta.xml"
xml="$(<"$policies")"
printf '%s\n' "${xml/<\/ExtlClntAppOauthConfigurablePolicies>/    <commaSeparatedPermissionSet>${psid}</commaSeparatedPermissionSet>
</ExtlClntAppOauthConfigurablePolicies>}" > "$policies"

echo "==> Deploying the External Client App (Local) to '$org'"
(cd "$tmp" && sf project deploy start --source-dir connect --target-org "$org" --wait 20)

# Salesforce -> Didomi: select Lead, Contact and Account for Change Data Capture on the standard ChangeEvents channel
# (Metadata API Developer Guide, PlatformEventChannelMember), so refusals arrive as change events over the Pub/Sub API.
reverse_mode="cdc"
echo "==> Selecting Lead, Contact and Account for Change Data Capture in '$org'"
if ! (cd "$tmp" && sf project deploy start --source-dir cdc --target-org "$org" --wait 20); then
  reverse_mode="poll"
  echo "    (not selected, see the message above: the org's Change Data Capture entity allowance may be full;"
  echo "     the middleware then finds refusals by polling: REVERSE_MODE=poll)"
fi

# An API-only integration user (Salesforce Integration user license, Minimum Access - API Only Integrations
# profile) gets object permissions from permission sets only once it holds the Salesforce API Integration
# permission set license (help.salesforce.com, "Give Integration Users API Only Access", platform.integration_user.htm).
if [[ "$license" == "Salesforce Integration" ]]; then
  echo "==> Assigning the Salesforce API Integration permission set license to $user"
  sf org assign permsetlicense --name SalesforceAPIIntegrationPsl --on-behalf-of "$user" --target-org "$org" ||
    echo "    (already assigned, or see the message above: without it the permission set cannot grant object access)"
fi
echo "==> Assigning Didomi_Sync_Integration to $user"
sf org assign permset --name Didomi_Sync_Integration --on-behalf-of "$user" --target-org "$org" ||
  echo "    (already assigned, or see the message above)"

echo "==> Reading the consumer key back"
key=""
if (cd "$tmp" && sf project retrieve start --metadata "ExtlClntAppGlobalOauthSettings:Didomi_Consent_Sync_glbloauth" \
  --target-org "$org" --output-dir "$tmp/retrieved" --wait 10 >/dev/null 2>&1); then
  key="$(find "$tmp/retrieved" -name '*.ecaGlblOauth-meta.xml' -exec sed -n 's#.*<consumerKey>\(.*\)</consumerKey>.*#\1#p' {} + | head -n 1)"
fi
rm -rf "$tmp/retrieved" # it can hold the consumer secret: never kept

sandbox="$(sf data query --query "SELECT IsSandbox FROM Organization" --target-org "$org" --json | json result.records.0.IsSandbox)"
audience="https://login.salesforce.com"
[[ "$sandbox" == "true" ]] && audience="https://test.salesforce.com"

if [[ -z "$key" ]]; then
  cat <<MSG

The org did not return the consumer key through the Metadata API (that needs the org setting "Allow
access to OAuth consumer secrets via Metadata API" and the user permission "View External Client
Apps Consumer Secrets in Metadata"). Read it by hand, then use it as SF_CLIENT_ID below:
  Setup > External Client App Manager > Didomi Consent Sync > Settings tab > OAuth Settings > Consumer Key and Secret
(Salesforce asks you to verify your identity first.)
MSG
  key="<consumer key from Setup, see above>"
fi
cat <<ENV

Connected. Middleware environment (see config/middleware.env.example for the rest):
  SF_LOGIN_URL=${instance}
  SF_AUDIENCE=${audience}
  SF_CLIENT_ID=${key}
  SF_USERNAME=${user}
  SF_PRIVATE_KEY_FILE=${private_key}
  REVERSE_MODE=${reverse_mode}
ENV
