#!/usr/bin/env bash
# Schemathesis (PyPI) against the served OpenAPI document, once per role and once without a
# token, on the demo city, bounded in examples per operation (default 30). It checks that no
# request gets a 5xx and that every response matches the document (status, content type, body).
#   benches/schemathesis.sh [EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
command -v schemathesis >/dev/null || pip install --quiet "schemathesis==4.*"
cargo build --release --quiet
bin="$PWD/target/release/hazewarn"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" demo --out "$work/demo" >/dev/null
cfg="$work/demo/city.toml"
code="$(sed -n 2p data/lists/luohe-illustrative.csv | cut -d, -f1)"
token() { "$bin" user add --config "$cfg" --name "st-$1" --role "$1" ${2:+--credit-code "$2"} | sed 's/.*: //'; }
declare -A tokens=([forecaster]="$(token forecaster)" [office]="$(token office)" [enterprise]="$(token enterprise "$code")")
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --config "$cfg" --addr "127.0.0.1:$port" --rate 100000 --failures-per-minute 1000000 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
status=0
for role in anonymous forecaster office enterprise; do
  auth=()
  [ "$role" != anonymous ] && auth=(-H "Authorization: Bearer ${tokens[$role]}")
  echo "== $role"
  schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" --url "http://127.0.0.1:$port" \
    "${auth[@]}" --checks "$checks" --max-examples "$examples" --phases examples,coverage,fuzzing \
    --request-timeout 30 --no-color 2>&1 | tail -n 25 || status=1
done
exit "$status"
