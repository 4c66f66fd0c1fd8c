#!/bin/sh
# certs.sh DIR: test certificates made with the openssl CLI (never committed). EC P-256 keys.
#   ca          the cluster CA: signs every node's certificate (node.pem, IP 127.0.0.1)
#   client-ca   signs client certificates: client.pem (good), expired.pem (expired yesterday)
#   other-ca    trusted by nobody: signs wrong.pem (a client certificate from the wrong CA)
#   client-ca also signs fake-node.pem: a certificate a client has, from the wrong CA for peers
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=kvstore test $1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
# cert NAME CA DAYS EXT
cert() {
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=kvstore test $1" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$3" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca
ca client-ca
ca other-ca
both='extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost'
client='extendedKeyUsage=clientAuth'
cert node ca 30 "$both"
cert client client-ca 30 "$client"
cert expired client-ca -1 "$client"
cert wrong other-ca 30 "$client"
cert fake-node client-ca 30 "$both"
