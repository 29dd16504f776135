#!/usr/bin/env python3
"""Where the bytes of the web build go, by crate and by Flatland module.

Reads `twiggy top --format csv` of the pre-wasm-bindgen, pre-wasm-opt module
(target/wasm32-unknown-unknown/web/flatland-web.wasm, which still has function names) and
groups the code bytes. Custom sections (names, wasm-bindgen's metadata) are not shipped, so
they are left out; the shares carry over approximately to the shipped, optimised module.

Usage: python3 bench/wasm_size.py [WASM] [--top N]
"""
import csv
import io
import re
import subprocess
import sys
from collections import defaultdict

wasm = next((a for a in sys.argv[1:] if not a.startswith("--") and not a.isdigit()),
            "target/wasm32-unknown-unknown/web/flatland-web.wasm")
top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 25

out = subprocess.run(["twiggy", "top", "--format", "csv", wasm], check=True,
                     capture_output=True, text=True).stdout
rows = list(csv.DictReader(io.StringIO(out)))


def owner(name):
    """(crate, flatland module) of a twiggy item name."""
    if name.startswith("custom section") or "subsection" in name:
        return "custom sections (not shipped)", None
    if name.startswith("data segment") or name.startswith("data["):
        return "data (.rodata: strings, tables)", None
    if name.startswith(("type[", "import ", "export ", "table[", "elem[", "global[", "memory[")) or \
            name in ("wasm magic bytes", "code section headers"):
        return "wasm headers / imports / exports / tables", None
    # `<a::b as c::d>::f` names the implementing type first; `a::b::f` the path.
    m = re.match(r"<?&?(?:mut )?(?:dyn )?([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
    if not m:
        return "other (unnamed / shims)", None
    crate = m.group(1)
    if crate in ("flatland", "flatland_web"):
        parts = re.match(r"<?flatland::([a-z_]+)(?:::([a-z_]+))?(?:::([a-z_]+))?", name)
        if parts:
            p = [x for x in parts.groups() if x]
            # engine::layers::conv, codec::keras_code, app::visuals::dense, app::components::card
            mod = "::".join(p[:3] if p[0] == "app" or p[:2] == ["engine", "layers"] else p[:2])
            return "flatland", mod
    return crate, None


by_crate = defaultdict(int)
by_mod = defaultdict(int)
total = 0
for r in rows:
    name = r["Name"]
    if name.startswith("Σ") or name.startswith("..."):
        continue
    size = int(r["ShallowSize"])
    crate, mod = owner(name)
    by_crate[crate] += size
    if mod:
        by_mod[mod] += size
    if crate != "custom sections (not shipped)":
        total += size

print(f"{wasm}: {total} bytes without custom sections")
print(f"\n{'crate':<44} {'bytes':>9} {'share':>6}")
for k, v in sorted(by_crate.items(), key=lambda kv: -kv[1]):
    share = "" if k.startswith("custom") else f"{100 * v / total:5.1f}%"
    print(f"{k:<44} {v:>9} {share:>6}")
print(f"\n{'flatland module':<44} {'bytes':>9} {'share':>6}")
for k, v in sorted(by_mod.items(), key=lambda kv: -kv[1])[:top]:
    print(f"{k:<44} {v:>9} {100 * v / total:5.1f}%")
