#!/usr/bin/env bash
# Generates the RSA key pair and self-signed certificate for the OAuth 2.0 JWT bearer flow.
# The certificate goes into the External Client App; the private key stays with the middleware.
# Usage: scripts/generate-jwt-keys.sh [output-dir] [days]
set -euo pipefail

out="${1:-keys}"
days="${2:-730}"

command -v openssl >/dev/null 2>&1 || { echo "error: openssl is required (apt-get install openssl)" >&2; exit 1; }
[[ "$days" =~ ^[0-9]+$ ]] || { echo "error: days must be a number, got '$days'" >&2; exit 1; }
if [[ -e "$out/server.key" ]]; then
  echo "error: $out/server.key already exists; remove it first if you really want a new key" >&2
  exit 1
fi

mkdir -p "$out"
umask 077
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/server.key" 2>/dev/null
openssl req -new -x509 -key "$out/server.key" -out "$out/server.crt" -days "$days" \
  -subj "/CN=didomi-consent-sync/O=Didomi Consent Sync" 2>/dev/null
chmod 600 "$out/server.key"
chmod 644 "$out/server.crt"
echo "Private key:  $out/server.key  (give it to the middleware as SF_PRIVATE_KEY_FILE; never commit it)"
echo "Certificate:  $out/server.crt  (the External Client App's certificate; scripts/connect-org.sh uploads it)"
