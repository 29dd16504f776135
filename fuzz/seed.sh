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

# ...and one valid zip64 .npz (offsets in the zip64 end record and extra field), so the
# mutator reaches the zip64 code paths (with -dict=dict/numpy.dict).
python3 - "$C/forward_weights/zip64_f001_npz" <<'PY'
import struct, sys
npy = open("tests/fixtures/forward/f001_conv1d_valid/input.npy", "rb").read()
name = b"arr_0.npy"
local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, 0, len(npy), len(npy), len(name), 0) + name + npy
extra = struct.pack("<HHQ", 1, 8, 0)
central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, 0, len(npy), len(npy),
                      len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra
rec = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(central), len(local))
loc = struct.pack("<IIQI", 0x07064B50, 0, len(local) + len(central), 1)
eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
open(sys.argv[1], "wb").write(b"\x00\x00" + local + central + rec + loc + eocd)
PY

for t in link_decode keras_json keras_code engine_spec forward_weights; do
  echo "$t: $(ls $C/$t | wc -l) seeds"
done
