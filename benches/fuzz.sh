#!/usr/bin/env bash
# Fuzzes every parser that takes outside input for a bounded time each (default 60 s), with
# cargo-fuzz (libFuzzer). The stable toolchain builds it with RUSTC_BOOTSTRAP=1, as cargo-fuzz
# needs nightly flags. A crash is copied into fuzz/regressions/<target>/, which the unit tests
# replay (`cargo test -p hazewarn-response -p hazewarn-ingest -p hazewarn-scheduler regressions`).
#   benches/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(observations_csv reduction_list_csv reduction_list_xlsx cap_alert)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
  echo "== $t for ${seconds} s"
  # -s none: no sanitizer (safe Rust; a panic is what we look for), so the build stays small.
  if ! cargo fuzz run -s none "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 \
      2>&1 | tail -n 4; then
    echo "!! $t found a crash"
  fi
  for crash in fuzz/artifacts/"$t"/crash-* ; do
    if [ -e "$crash" ]; then
      cp "$crash" "fuzz/regressions/$t/"
      echo "   kept $(basename "$crash")"
    fi
  done
done
