#!/usr/bin/env bash
# Build the seed corpora for Flatland's fuzz targets from the test fixtures.
# Run from the repository root: `fuzz/seed.sh`. Writes fuzz/corpus/<target>/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
C=fuzz/corpus
mkdir -p $C/link_decode $C/keras_json $C/keras_code $C/engine_spec $C/forward_weights

cargo build --quiet --bin flatland
FL=target/debug/flatland

# keras_json: every model JSON the tests read (summary, import, forward), plus the snippets
# (read_model auto-detects Keras code).
for f in tests/fixtures/summary/*/model.json; do
  cp "$f" "$C/keras_json/summary_$(basename "$(dirname "$f")").json"
done
for f in tests/fixtures/import/*.json; do
  case "$f" in *.expected.json) continue ;; esac
  cp "$f" "$C/keras_json/import_$(basename "$f")"
done
for f in tests/fixtures/forward/*/model.json; do
  cp "$f" "$C/keras_json/forward_$(basename "$(dirname "$f")").json"
done
cp tests/fixtures/snippets/*.py "$C/keras_json/"

# keras_code: the snippets, plus `flatland export --keras` of every forward fixture.
cp tests/fixtures/snippets/*.py "$C/keras_code/"
for f in tests/fixtures/forward/*/model.json; do
  "$FL" export "$f" --keras > "$C/keras_code/export_$(basename "$(dirname "$f")").py" || true
done

# link_decode: `flatland link` of every forward fixture and every 10th summary fixture.
for f in tests/fixtures/forward/*/model.json $(ls tests/fixtures/summary/*/model.json | awk 'NR % 10 == 1'); do
  "$FL" link "$f" > "$C/link_decode/$(basename "$(dirname "$f")").txt" || true
done

# forward_weights: [fixture index, mode] + payload, fixtures in sorted order (as build.rs).
i=0
for d in $(ls -d tests/fixtures/forward/*/ | LC_ALL=C sort); do
  n=$(basename "$d")
  b=$(printf '\\x%02x' $((i % 256)))
  { printf "$b\\x00"; cat "$d/weights.npz"; } > "$C/forward_weights/${n}_npz"
  { printf "$b\\x02"; cat "$d/input.npy"; } > "$C/forward_weights/${n}_input"
  { printf "$b\\x01"; cat "$d/expected.npy"; } > "$C/forward_weights/${n}_npyweight"
  i=$((i + 1))
done

for t in link_decode keras_json keras_code engine_spec forward_weights; do
  echo "$t: $(ls $C/$t | wc -l) seeds"
done
