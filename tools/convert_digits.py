#!/usr/bin/env python3
"""Writes data/digits8x8.bin, the Train panel's built-in `digits` dataset
(src/engine/train/data.rs), from scikit-learn's copy of the UCI "Optical Recognition of
Handwritten Digits" test set (`sklearn.datasets.load_digits()`; the data ship inside the
scikit-learn package, nothing is downloaded). See data/README.md for the licence.

Format "FLD1" (lossless; little-endian):
    4 bytes   magic b"FLD1"
    2 bytes   u16 image count (1797)
    then, per image, in load_digits() order, 41 bytes:
      1 byte    the label, 0..9
      32 bytes  the 64 pixels (row-major 8x8), two per byte, high nibble first; a nibble holds
                min(value, 15)
      8 bytes   the "sixteen" mask: bit i (byte i // 8, least significant bit first) is set when
                pixel i is 16; such a pixel's nibble is 15, so pixel = nibble + bit

Pixels in load_digits() are whole numbers 0..16: seventeen values, one too many for a nibble
(10,456 pixels, in 1,765 of the 1,797 images, are 16), hence the mask.

Usage:
    python3 -m venv /tmp/dvenv && /tmp/dvenv/bin/pip install scikit-learn
    /tmp/dvenv/bin/python tools/convert_digits.py [--out data/digits8x8.bin]
The script decodes what it wrote and checks it against load_digits() before it finishes, and
prints the versions, the per-class counts, the file size and its SHA-256.
"""
import argparse
import hashlib
import os
import struct
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_digits

MAGIC = b"FLD1"


def encode(images, labels):
    out = bytearray(MAGIC)
    out += struct.pack("<H", len(images))
    for img, label in zip(images, labels):
        px = [int(v) for v in img]
        assert len(px) == 64 and all(0 <= v <= 16 for v in px), "pixels must be 0..16"
        assert 0 <= int(label) <= 9
        out.append(int(label))
        nib = [min(v, 15) for v in px]
        for i in range(0, 64, 2):
            out.append((nib[i] << 4) | nib[i + 1])
        mask = [0] * 8
        for i, v in enumerate(px):
            if v == 16:
                mask[i // 8] |= 1 << (i % 8)
        out += bytes(mask)
    return bytes(out)


def decode(data):
    assert data[:4] == MAGIC
    (count,) = struct.unpack("<H", data[4:6])
    assert len(data) == 6 + 41 * count
    images, labels = [], []
    for k in range(count):
        rec = data[6 + 41 * k : 6 + 41 * (k + 1)]
        labels.append(rec[0])
        px = []
        for b in rec[1:33]:
            px += [b >> 4, b & 15]
        for i in range(64):
            px[i] += (rec[33 + i // 8] >> (i % 8)) & 1
        images.append(px)
    return np.array(images), np.array(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "digits8x8.bin"))
    args = ap.parse_args()

    digits = load_digits()
    x, y = digits.data, digits.target
    if not np.array_equal(x, np.round(x)) or x.min() < 0 or x.max() > 16:
        sys.exit("load_digits() pixels are not whole numbers 0..16")
    data = encode(x.astype(np.int64), y.astype(np.int64))
    dx, dy = decode(data)
    if not (np.array_equal(dx, x.astype(np.int64)) and np.array_equal(dy, y)):
        sys.exit("round trip failed")
    with open(args.out, "wb") as f:
        f.write(data)

    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(f"images {len(y)}, pixels 0..{int(x.max())}, pixels equal to 16: {int((x == 16).sum())}")
    print("per class 0..9:", ",".join(str(int(c)) for c in np.bincount(y, minlength=10)))
    print(f"first labels: {list(map(int, y[:10]))}")
    print(f"wrote {os.path.normpath(args.out)}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
