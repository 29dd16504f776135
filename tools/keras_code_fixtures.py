"""Keras-checked fixtures for code import and export (issue 7).

1. Every pasted-code snippet in tests/fixtures/snippets/*.py is executed by real Keras 3
   (with `tensorflow.keras` / `tf.keras` shimmed to `keras`) and Keras's summary is written to
   tests/fixtures/snippets/<name>.expected.json (or the error Keras raised).
2. Every preset (and compare partner) is exported by `flatland export --keras`; the exported
   code is committed as tests/fixtures/export/<id>.py, executed by real Keras, and Keras's
   summary written to tests/fixtures/export/<id>.expected.json.
The Rust test tests/code_fixtures.rs checks both against the engine without Python.

Usage: python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install keras jax
       cargo build --release --bin flatland
       KERAS_BACKEND=jax /tmp/kvenv/bin/python tools/keras_code_fixtures.py
"""
import json, os, subprocess, sys, types
os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "target", "release", "flatland")


def shim():
    tf = types.ModuleType("tensorflow")
    tf.keras = keras
    sys.modules["tensorflow"] = tf
    sys.modules["tensorflow.keras"] = keras
    sys.modules["tensorflow.keras.layers"] = keras.layers
    sys.modules["tensorflow.keras.models"] = keras.models
    sys.modules["keras.models"] = keras.models


def summary(model):
    layers = [l for l in model.layers if l.__class__.__name__ != "InputLayer"]
    out = []
    for l in layers:
        tw = sum(int(w.numpy().size) for w in l.trainable_weights)
        nw = sum(int(w.numpy().size) for w in l.non_trainable_weights)
        out.append({"name": l.name, "class_name": l.__class__.__name__,
                    "output_shape": list(l.output.shape), "params": l.count_params(),
                    "trainable_params": tw, "non_trainable_params": nw})
    t = sum(x["trainable_params"] for x in out)
    n = sum(x["non_trainable_params"] for x in out)
    return {"valid": True, "input_shape": list(model.inputs[0].shape), "layers": out,
            "total_params": t + n, "trainable_params": t, "non_trainable_params": n}


def run_code(src):
    shim()
    g = {"__name__": "__flatland__"}
    try:
        exec(compile(src, "<snippet>", "exec"), g)
    except Exception as e:  # Keras refused the code
        return {"valid": False, "keras_error": f"{type(e).__name__}: {str(e)[:300]}"}
    models = [v for v in g.values() if isinstance(v, keras.Model)]
    if not models:
        return {"valid": False, "keras_error": "no model built"}
    m = models[-1]
    if not m.built:
        return {"valid": False, "keras_error": "model not built (no input shape)"}
    return summary(m)


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    keras.utils.set_random_seed(0)
    snip = os.path.join(ROOT, "tests", "fixtures", "snippets")
    for name in sorted(os.listdir(snip)):
        if name.endswith(".py"):
            res = run_code(open(os.path.join(snip, name)).read())
            write(os.path.join(snip, name[:-3] + ".expected.json"), res)
            print(f"snippet {name}: {res.get('total_params', res.get('keras_error'))}")
    exp = os.path.join(ROOT, "tests", "fixtures", "export")
    os.makedirs(exp, exist_ok=True)
    ids = [l.split()[0] for l in subprocess.run([CLI, "presets"], capture_output=True, text=True, check=True).stdout.splitlines()]
    for pid in ids:
        for variant in ["", "--compare"]:
            r = subprocess.run([CLI, "presets", pid] + ([variant] if variant else []), capture_output=True, text=True)
            if r.returncode != 0:
                continue
            tag = pid + ("_compare" if variant else "")
            mpath = os.path.join("/tmp", f"flatland_{tag}.json")
            open(mpath, "w").write(r.stdout)
            code = subprocess.run([CLI, "export", mpath, "--keras"], capture_output=True, text=True).stdout
            open(os.path.join(exp, tag + ".py"), "w").write(code)
            res = run_code(code)
            write(os.path.join(exp, tag + ".expected.json"), res)
            print(f"export {tag}: {res.get('total_params', res.get('keras_error'))}")


if __name__ == "__main__":
    main()
