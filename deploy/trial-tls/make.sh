#!/bin/sh
# Regenerates the PUBLIC, INSECURE trial certificates of deploy/trial-tls (README.md): a trial CA, one
# server-and-client certificate per service and one client certificate for a trial operator. Every key
# is committed to the repository, so these protect nothing: trials and development only.
#   deploy/trial-tls/make.sh            (from anywhere; writes next to this script)
# Then re-apply the dev overlay (the Secrets' names change, so the pods roll) or restart compose.
set -eu

cd "$(dirname "$0")"
DAYS=36500                   # a hundred years: a trial should never stop on an expired certificate
SERVICES="intake signing receipt reporting"
# The namespace of the dev overlay, for the services' fully qualified Service names.
NAMESPACE=motcua-dev

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ECDSA P-256 keys, PKCS#8 PEM (what rustls and grpcurl read).
new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

# The CA. Its key is thrown away: the set is regenerated whole rather than extended.
new_key "$work/ca.key"
openssl req -x509 -new -key "$work/ca.key" -sha256 -days "$DAYS" \
  -subj "/O=motcua TRIAL - INSECURE/CN=motcua TRIAL CA - public key, do not trust" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out ca.crt

# issue <name> <common name> <extended key usages> <subjectAltName>
issue() {
  new_key "$1.key"
  openssl req -new -key "$1.key" -subj "/O=motcua TRIAL - INSECURE/CN=$2" -out "$work/$1.csr"
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=$3" \
    "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid" \
    "subjectAltName=$4" >"$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA ca.crt -CAkey "$work/ca.key" -CAcreateserial \
    -CAserial "$work/ca.srl" -sha256 -days "$DAYS" -extfile "$work/$1.ext" -out "$1.crt"
  chmod 0644 "$1.key" "$1.crt"
}

# Each service serves under its Kubernetes Service name (motcua-<service>), its compose service name
# (<service>) and loopback (port-forward, compose's published ports), and calls its peers as
# spiffe://motcua/service/<service>.
for service in $SERVICES; do
  issue "$service" "motcua-$service (TRIAL)" "serverAuth,clientAuth" \
    "URI:spiffe://motcua/service/$service,DNS:motcua-$service,DNS:motcua-$service.$NAMESPACE.svc,DNS:motcua-$service.$NAMESPACE.svc.cluster.local,DNS:$service,DNS:localhost,IP:127.0.0.1"
done

# The trial operator, for grpcurl: granted read-only RPCs by policy.yaml, nothing in production.
issue trial-client "motcua TRIAL operator - agency trial" "clientAuth" "URI:spiffe://motcua/agency/trial"

for name in $SERVICES trial-client; do
  openssl verify -CAfile ca.crt "$name.crt" >/dev/null
done
echo "deploy/trial-tls: regenerated ca.crt and the certificates of: $SERVICES trial-client"
