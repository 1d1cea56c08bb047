#!/usr/bin/env bash
# Makes what docker-compose.yml mounts as secrets, in ./secrets (or $1):
#   ca.crt            the CA that signs the services' certificate (give it to clients: --tls-ca-file)
#   server.crt/.key   one certificate for embedder, searcher, indexer, localhost and 127.0.0.1
#   tokens.txt        the servers' token file: sha256 digests only
#   service.token     the write token the Indexer and Searcher send to the others
#   write.token       a write token for you (videosearch --token-file secrets/write.token)
#   read.token        a read token, e.g. for the web page
# Keep the folder private (mode 700); the CA key is deleted once the certificate is signed.
set -euo pipefail
out="${1:-secrets}"
mkdir -p "$out" && chmod 700 "$out" && cd "$out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=videosearch CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=videosearch" \
  -keyout server.key -out server.csr 2>/dev/null
printf "subjectAltName=DNS:embedder,DNS:searcher,DNS:indexer,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile san.ext \
  -out server.crt 2>/dev/null
rm -f ca.key ca.srl server.csr san.ext
: > tokens.txt
for who in service write read; do
  token="$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')"
  printf '%s\n' "$token" > "$who.token"
  role=write; [ "$who" = read ] && role=read
  printf '%s sha256:%s  # %s\n' "$role" "$(printf '%s' "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)" "$who" >> tokens.txt
done
chmod 600 ./*
echo "wrote $(pwd): ca.crt server.crt server.key tokens.txt service.token write.token read.token"
