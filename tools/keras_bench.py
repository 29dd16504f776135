#!/usr/bin/env python3
"""Keras reference timings for Flatland's benchmarks.

1. stack100: Input(32,) -> 100 layers cycling Dense(32) / Activation / Dropout / BatchNormalization
   (+ a few ReLU / LayerNormalization). Times keras.models.model_from_json + count_params + every
   layer's output shape (median of 20 runs, in microseconds).
2. mnist_cnn: 28x28x1 -> Conv2D(32,3,relu) -> MaxPooling2D -> Conv2D(64,3,relu) -> MaxPooling2D ->
   Flatten -> Dense(10,softmax). Times model.predict on one image (median of 200 after warm-up), and
   also a direct jitted call for comparison.

Writes tests/fixtures/bench/{stack100,mnist_cnn}.json (+ .expected.json summaries).
Usage:  python tools/keras_bench.py [--runs 20] [--predict-runs 200] [--seed 0]
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ["KERAS_BACKEND"] = "jax"
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "tests", "fixtures", "bench")


def summarize(model):
    rows = []
    for layer in model.layers:
        t = sum(int(np.prod(v.shape)) for v in layer.trainable_weights)
        n = sum(int(np.prod(v.shape)) for v in layer.non_trainable_weights)
        rows.append({"name": layer.name, "class_name": layer.__class__.__name__,
                     "output_shape": [None if d is None else int(d) for d in layer.output.shape],
                     "params": t + n, "trainable_params": t, "non_trainable_params": n,
                     "weight_shapes": [[int(d) for d in v.shape] for v in layer.weights]})
    return {"valid": True, "input_shape": [None if d is None else int(d) for d in model.inputs[0].shape],
            "layers": rows, "total_params": sum(r["params"] for r in rows),
            "trainable_params": sum(r["trainable_params"] for r in rows),
            "non_trainable_params": sum(r["non_trainable_params"] for r in rows)}


def stack100():
    layers = []
    cycle = ["Dense", "Activation", "Dropout", "BatchNormalization"]
    acts = ["relu", "tanh", "sigmoid", "gelu", "elu"]
    for i in range(100):
        kind = cycle[i % 4]
        if kind == "Dense":
            layers.append(L.Dense(32))
        elif kind == "Activation":
            layers.append(L.ReLU() if i % 20 == 9 else L.Activation(acts[(i // 4) % len(acts)]))
        elif kind == "Dropout":
            layers.append(L.Dropout(0.1))
        else:
            layers.append(L.LayerNormalization() if i % 20 == 19 else L.BatchNormalization())
    return keras.Sequential([keras.Input((32,))] + layers, name="stack100")


def mnist_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    ], name="mnist_cnn")


def med_us(samples):
    return statistics.median(samples) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--predict-runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    keras.utils.set_random_seed(args.seed)
    os.makedirs(BENCH, exist_ok=True)

    # ---- 1. 100-layer stack: parse + count + shapes
    keras.backend.clear_session()
    m = stack100()
    text = m.to_json()
    with open(os.path.join(BENCH, "stack100.json"), "w") as f:
        f.write(text)
    with open(os.path.join(BENCH, "stack100.expected.json"), "w") as f:
        json.dump(summarize(m), f, indent=1)
        f.write("\n")
    assert len(m.layers) == 100
    times = []
    for _ in range(args.runs):
        keras.backend.clear_session()
        t = time.perf_counter()
        mm = keras.models.model_from_json(text)
        total = mm.count_params()
        shapes = [tuple(layer.output.shape) for layer in mm.layers]
        times.append(time.perf_counter() - t)
    assert len(shapes) == 100
    print(f"stack100: model_from_json + count_params + 100 output shapes: median {med_us(times):.0f} us "
          f"over {args.runs} runs (total params {total})")

    # ---- 2. MNIST CNN: one-image predict
    keras.backend.clear_session()
    keras.utils.set_random_seed(args.seed)
    cnn = mnist_cnn()
    with open(os.path.join(BENCH, "mnist_cnn.json"), "w") as f:
        f.write(cnn.to_json())
    with open(os.path.join(BENCH, "mnist_cnn.expected.json"), "w") as f:
        json.dump(summarize(cnn), f, indent=1)
        f.write("\n")
    x = np.random.default_rng(args.seed).normal(size=(1, 28, 28, 1)).astype("float32")
    for _ in range(10):
        cnn.predict(x, verbose=0)
    times = []
    for _ in range(args.predict_runs):
        t = time.perf_counter()
        cnn.predict(x, verbose=0)
        times.append(time.perf_counter() - t)
    print(f"mnist_cnn: model.predict(1 image): median {med_us(times):.0f} us over {args.predict_runs} runs "
          f"(params {cnn.count_params()})")
    # for comparison: the jitted forward pass without predict()'s per-call overhead
    import jax
    fwd = jax.jit(lambda tv, ntv, xx: cnn.stateless_call(tv, ntv, xx, training=False)[0])
    tv = [v.value for v in cnn.trainable_variables]
    ntv = [v.value for v in cnn.non_trainable_variables]
    for _ in range(10):
        fwd(tv, ntv, x).block_until_ready()
    times = []
    for _ in range(args.predict_runs):
        t = time.perf_counter()
        fwd(tv, ntv, x).block_until_ready()
        times.append(time.perf_counter() - t)
    print(f"mnist_cnn: jitted stateless_call(1 image): median {med_us(times):.0f} us over {args.predict_runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
