#!/usr/bin/env bash
# The two socket examples against each other: echo_server on a free port with a certificate made
# here, echo_client verifying it and checking the echo. Usage: echo_pair_test.sh SERVER CLIENT
set -euo pipefail
server=$1
client=$2
dir=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost 2>/dev/null
"$server" "$dir/cert.pem" "$dir/key.pem" >"$dir/server.out" 2>"$dir/server.err" &
pid=$!
for _ in $(seq 100); do
    grep -q '^listening on port ' "$dir/server.out" && break
    sleep 0.1
done
port=$(sed -n 's/^listening on port //p' "$dir/server.out")
[[ -n $port ]] || { echo "echo_server did not start:"; cat "$dir/server.err"; exit 1; }
reply=$("$client" "127.0.0.1:$port" localhost "$dir/cert.pem" "hello, echo")
echo "$reply"
[[ $reply == "hello, echo (TLSv1.3, TLS_"* ]]
# A client that does not trust the server is refused with the cause named.
if "$client" "127.0.0.1:$port" localhost /etc/ssl/certs/ca-certificates.crt x 2>"$dir/refused"; then
    echo "a client without the server's CA connected"
    exit 1
fi
cat "$dir/refused"
grep -q 'certificate' "$dir/refused"
