#!/usr/bin/env python3
"""Epoch time of `flatland train` vs Keras 3 `fit` (jax) on the same model, data and weights.

For every case directory given (the layout of tests/fixtures/train and ../shared/examples/train_*),
both run the case's settings for `--epochs` epochs (default 20, shuffle off, validation on):
- Keras: model.fit with a callback timing each epoch; the median of epochs 2.. (the first one
  compiles);
- Flatland: the release CLI run with 1 and with 1 + max(E, 200) epochs, the difference divided by
  the extra epochs
  (process start, file reading and the first epoch cancel out), the median of 5 such pairs
  (a median as Keras's, not a best-of, so neither side gets the luckier statistic).
Usage: /tmp/kvenv/bin/python tools/keras_train_bench.py CLI CASE_DIR... [--epochs 20]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import keras  # noqa: E402


def keras_epoch(d, a, epochs):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)  # the dropout/noise layers draw the same masks every run
    model = keras.models.model_from_json(open(os.path.join(d, "model.json")).read())
    w = np.load(os.path.join(d, "weights.npz"))
    model.set_weights([w[k] for k in sorted(w.files, key=lambda s: int(s.split("_")[1]))])
    opt = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
           "rmsprop": keras.optimizers.RMSprop}[a["optimizer"]]
    kw = {} if a["lr"] is None else {"learning_rate": a["lr"]}
    if a.get("momentum"):
        kw["momentum"] = a["momentum"]
    model.compile(optimizer=opt(**kw), loss=a["loss"], metrics=a["metrics"])
    tr, va = np.load(os.path.join(d, "train.npz")), np.load(os.path.join(d, "val.npz"))
    times = []

    class T(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(tr["x"], tr["y"], batch_size=a["batch_size"], epochs=epochs, validation_data=(va["x"], va["y"]),
              shuffle=False, verbose=0, callbacks=[T()])
    return statistics.median(times[1:]), len(tr["y"])


def flatland_epoch(cli, d, a, epochs):
    tmp = tempfile.mkdtemp()

    def run(n):
        cmd = [cli, "train", os.path.join(d, "model.json"), "--data", os.path.join(d, "train.npz"),
               "--validation", os.path.join(d, "val.npz"), "--weights", os.path.join(d, "weights.npz"),
               "--loss", a["loss"], "--optimizer", a["optimizer"], "--epochs", str(n),
               "--batch-size", str(a["batch_size"]), "--history", os.path.join(tmp, "h.json")]
        if a["lr"] is not None:
            cmd += ["--lr", str(a["lr"])]
        if a.get("momentum"):
            cmd += ["--momentum", str(a["momentum"])]
        for m in a["metrics"]:
            cmd += ["--metrics", m]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - t

    # Flatland runs many more epochs than Keras so the difference is well above the noise of a
    # process start.
    long = max(epochs, 200)
    mid = statistics.median(run(1 + long) - run(1) for _ in range(5))
    return max(mid, 1e-9) / long


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("cases", nargs="+")
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    # Every Flatland run first, then Keras, so no CLI run shares this machine's 2 cores with what a
    # fit leaves running (XLA's CPU worker threads): in one session, CLI runs right after a fit
    # took 0.69-0.72 ms/epoch on train_lstm_sgd_momentum, against 0.47-0.50 run alone.
    cases = [(d, json.load(open(os.path.join(d, "args.json")))) for d in args.cases]
    flat = [flatland_epoch(args.cli, d, a, args.epochs) for d, a in cases]
    print(f"{'case':<40} {'samples':>7} {'Keras ms/epoch':>14} {'Flatland ms/epoch':>17} {'speed-up':>8}")
    for (d, a), f in zip(cases, flat):
        k, n = keras_epoch(d, a, args.epochs)
        print(f"{os.path.basename(d.rstrip('/')):<40} {n:>7} {k * 1e3:>14.2f} {f * 1e3:>17.3f} {k / f:>7.0f}×")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
