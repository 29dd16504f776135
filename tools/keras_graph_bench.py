#!/usr/bin/env python3
"""Keras reference times for Flatland's graph benchmarks (benches/engine.rs, `graph/*`).

1. resnet50: `keras.models.model_from_json` of tests/fixtures/graph/app_resnet50/model.json, then
   `count_params()` and every layer's output shape: what `flatland summary` computes from the same
   JSON (median of --runs).
2. chainN: a Functional chain of N ReLU layers on a (4,) input (the same JSON the 20,000-layer bench
   builds), read the same way, for N in --chains (Keras is too slow for 20,000: the times show how it
   grows).

Prints one line per case; not used by tests. Usage:
  python tools/keras_graph_bench.py [--runs 5] [--chains 500,1000,2000]
"""
import argparse
import json
import os
import statistics
import time

os.environ["KERAS_BACKEND"] = "jax"
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import keras  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chain_json(n):
    t = lambda f: {"class_name": "__keras_tensor__",  # noqa: E731
                   "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [f, 0, 0]}}
    layers = [{"module": "keras.layers", "class_name": "InputLayer", "name": "x",
               "config": {"batch_shape": [None, 4], "name": "x"}, "inbound_nodes": []}]
    prev = "x"
    for i in range(n):
        name = f"re_lu_{i}"
        layers.append({"module": "keras.layers", "class_name": "ReLU", "name": name, "config": {"name": name},
                       "inbound_nodes": [{"args": [t(prev)], "kwargs": {}}]})
        prev = name
    return json.dumps({"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "chain", "layers": layers,
                       "input_layers": [["x", 0, 0]], "output_layers": [[prev, 0, 0]]}})


def read(text):
    keras.backend.clear_session()
    m = keras.models.model_from_json(text)
    m.count_params()
    for layer in m.layers:
        _ = layer.output.shape
    return m


def timed(text, runs):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        read(text)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chains", default="500,1000,2000")
    a = ap.parse_args()
    text = open(os.path.join(ROOT, "tests", "fixtures", "graph", "app_resnet50", "model.json")).read()
    read(text)  # warm-up
    print(f"keras {keras.__version__}: resnet50 model_from_json + shapes: "
          f"median {timed(text, a.runs) * 1e3:.1f} ms over {a.runs} runs")
    for n in [int(x) for x in a.chains.split(",") if x]:
        try:
            t = timed(chain_json(n), max(1, a.runs // 2))
            print(f"keras: chain{n} model_from_json + shapes: median {t:.2f} s", flush=True)
        except RecursionError:
            print(f"keras: chain{n} model_from_json: RecursionError (Python's recursion limit)", flush=True)


if __name__ == "__main__":
    main()
