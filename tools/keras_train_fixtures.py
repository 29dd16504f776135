#!/usr/bin/env python3
"""Keras training fixtures for Flatland's `fit` (issue 15).

Writes tests/fixtures/train/<case>/ (see tools/README.md):
  model.json              the Sequential model, `model.to_json()`
  train.npz, val.npz      arrays `x` and `y`
  weights.npz             the initial weights, `get_weights()` order (arr_0, arr_1, ...)
  args.json               loss, optimizer, lr (null: Keras default), momentum, epochs, batch_size, metrics
  expected_history.json   `model.fit(..., shuffle=False).history`
  expected_weights.npz    the weights after training
  VERSIONS.txt (in train/)

The same layout as ../shared/examples/train_* (checked by ../shared/checks/check_train.py), so
`tests/train_fixtures.rs` and the contract read both the same way.

Fully seeded (--seed, default 0): one random.Random(seed) picks the settings, every case calls
keras.backend.clear_session() and keras.utils.set_random_seed(case seed), data come from a
per-case np.random.default_rng, and the .npz files have fixed zip timestamps, so rerunning with the
same versions gives the same cases up to float32 rounding (tools/README.md). The script re-executes itself with PYTHONHASHSEED=0.
Usage:  /tmp/kvenv/bin/python tools/keras_train_fixtures.py [--seed 0] [--out tests/fixtures/train]
"""
import argparse
import io
import json
import os
import platform
import random
import shutil
import sys
import zipfile

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def savez(path, named):
    """np.savez's format with fixed zip timestamps; `named` is a list of (key, array)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, a in named:
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def savez_list(path, arrays):
    savez(path, [(f"arr_{i}", a) for i, a in enumerate(arrays)])


# ----------------------------------------------------------------------------------------------
# the layer stacks of the slice: (tag, input shape, hidden layers); the output layer is added per
# task (Dense(2) linear for regression, Dense(1, sigmoid) binary, Dense(3, softmax) categorical)
# ----------------------------------------------------------------------------------------------
def stacks():
    act = lambda a: [L.Dense(6), L.Activation(a)]  # noqa: E731
    return [
        ("mlp_relu", (4,), lambda: [L.Dense(8, activation="relu")]),
        ("mlp_tanh2", (4,), lambda: [L.Dense(6, activation="tanh"), L.Dense(5, activation="sigmoid")]),
        ("perpos_flatten", (3, 2), lambda: [L.Dense(6, activation="relu"), L.Flatten()]),
        ("perpos_gap", (3, 2), lambda: [L.Dense(6, activation="relu"), L.GlobalAveragePooling1D()]),
        ("perpos_gmp", (4, 2), lambda: [L.Dense(5, activation="tanh"), L.GlobalMaxPooling1D()]),
        ("act_sigmoid", (5,), lambda: act("sigmoid")),
        ("act_elu", (5,), lambda: act("elu")),
        ("act_selu", (5,), lambda: act("selu")),
        ("act_gelu", (5,), lambda: act("gelu")),
        ("act_silu", (5,), lambda: act("silu")),
        ("act_softplus", (5,), lambda: act("softplus")),
        ("act_softsign", (5,), lambda: act("softsign")),
        ("act_mish", (5,), lambda: act("mish")),
        ("act_leaky", (5,), lambda: act("leaky_relu")),
        ("act_relu6", (5,), lambda: act("relu6")),
        ("act_hard_sigmoid", (5,), lambda: act("hard_sigmoid")),
        ("act_hard_silu", (5,), lambda: act("hard_silu")),
        ("act_log_softmax", (5,), lambda: act("log_softmax")),
        ("layers_relu", (5,), lambda: [L.Dense(6), L.ReLU(max_value=1.5, negative_slope=0.1)]),
        ("layers_leaky_elu", (5,), lambda: [L.Dense(6), L.LeakyReLU(negative_slope=0.2), L.Dense(4), L.ELU(alpha=0.7)]),
        ("layers_prelu", (5,), lambda: [L.Dense(6), L.PReLU()]),
        ("reshape", (6,), lambda: [L.Reshape((3, 2)), L.Dense(4, activation="tanh"), L.Flatten()]),
        ("permute", (3, 2), lambda: [L.Permute((2, 1)), L.Dense(4, activation="tanh"), L.Flatten()]),
        ("conv1d_same_maxpool", (8, 2), lambda: [L.Conv1D(3, 3, padding="same", activation="relu"), L.MaxPooling1D(2), L.Flatten()]),
        ("conv1d_dilated", (8, 2), lambda: [L.Conv1D(4, 2, dilation_rate=2, activation="tanh"), L.GlobalAveragePooling1D()]),
        ("conv1d_strided_avgpool", (9, 3), lambda: [L.Conv1D(4, 3, strides=2), L.AveragePooling1D(2, padding="same"), L.Flatten()]),
        ("conv2d_avgpool", (6, 6, 1), lambda: [L.Conv2D(3, (3, 3), activation="relu"), L.AveragePooling2D(2), L.Flatten()]),
        ("conv2d_strided_same", (6, 6, 2), lambda: [L.Conv2D(4, 3, strides=2, padding="same", activation="tanh"), L.GlobalAveragePooling2D()]),
        ("conv2d_groups", (5, 5, 4), lambda: [L.Conv2D(4, 3, groups=2), L.GlobalMaxPooling2D()]),
        ("conv2d_maxpool_same", (5, 5, 1), lambda: [L.Conv2D(2, 2, activation="sigmoid"), L.MaxPooling2D(2, padding="same"), L.Flatten()]),
        # No bias before BatchNormalization: its gradient is zero up to rounding, which Adam
        # would scale up to full steps of noise (no two implementations agree on it).
        ("batchnorm_dense", (6,), lambda: [L.Dense(8, use_bias=False), L.BatchNormalization(), L.Activation("relu")]),
        ("batchnorm_cnn", (6, 6, 1), lambda: [L.Conv2D(3, 3, activation="relu"), L.BatchNormalization(momentum=0.9), L.MaxPooling2D(2), L.Flatten()]),
        ("batchnorm_noscale", (3, 4), lambda: [L.BatchNormalization(center=False, scale=False, epsilon=0.01), L.Flatten()]),
        ("simplernn", (5, 3), lambda: [L.SimpleRNN(4)]),
        ("simplernn_seq", (4, 2), lambda: [L.SimpleRNN(3, return_sequences=True), L.Flatten()]),
        ("lstm", (5, 3), lambda: [L.LSTM(4)]),
        ("lstm_seq_back", (4, 2), lambda: [L.LSTM(3, return_sequences=True, go_backwards=True), L.Flatten()]),
        ("gru", (5, 3), lambda: [L.GRU(4)]),
        ("gru_reset_before", (4, 3), lambda: [L.GRU(3, reset_after=False)]),
        ("gru_seq", (4, 2), lambda: [L.GRU(3, return_sequences=True), L.GlobalAveragePooling1D()]),
        ("dropout0_identity", (4,), lambda: [L.Dense(6, activation="tanh"), L.Dropout(0.0)]),
        # Added later; appended so every case above stays byte-identical.
        ("layernorm", (3, 4), lambda: [L.Dense(5), L.LayerNormalization(), L.Flatten()]),
        ("layernorm_rms", (6,), lambda: [L.Dense(6), L.LayerNormalization(rms_scaling=True)]),
        ("unitnorm", (5,), lambda: [L.Dense(4), L.UnitNormalization()]),
        ("embedding", (5,), lambda: [L.Embedding(10, 4), L.Flatten()]),
        ("repeat_vector", (3,), lambda: [L.Dense(4, activation="tanh"), L.RepeatVector(2), L.Flatten()]),
        ("pad_crop_1d", (6, 2), lambda: [L.ZeroPadding1D((1, 2)), L.Conv1D(2, 3), L.Cropping1D((1, 0)), L.Flatten()]),
        ("pad_crop_2d", (5, 5, 1), lambda: [L.ZeroPadding2D(1), L.Conv2D(2, 3), L.Cropping2D(((1, 0), (0, 1))), L.Flatten()]),
        ("upsampling1d", (4, 2), lambda: [L.UpSampling1D(2), L.Conv1D(2, 3), L.Flatten()]),
        ("upsampling2d", (3, 3, 1), lambda: [L.UpSampling2D(2), L.Conv2D(2, 2, activation="tanh"), L.GlobalAveragePooling2D()]),
        ("conv1d_transpose", (4, 2), lambda: [L.Conv1DTranspose(3, 3, strides=2, activation="tanh"), L.Flatten()]),
        ("conv2d_transpose_same", (3, 3, 2), lambda: [L.Conv2DTranspose(2, 3, strides=2, padding="same"), L.GlobalAveragePooling2D()]),
        ("depthwise", (5, 5, 2), lambda: [L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"), L.Flatten()]),
        ("separable", (6, 6, 2), lambda: [L.SeparableConv2D(3, 3, padding="same", activation="tanh"), L.GlobalMaxPooling2D()]),
        ("groupnorm", (4, 6), lambda: [L.Dense(6), L.GroupNormalization(groups=3), L.Flatten()]),
        # No conv bias before instance normalisation (its gradient is rounding noise, as above).
        ("groupnorm_instance", (4, 4, 2), lambda: [L.Conv2D(4, 3, padding="same", use_bias=False), L.GroupNormalization(groups=-1), L.GlobalAveragePooling2D()]),
        ("groupnorm_axis1", (4, 3), lambda: [L.GroupNormalization(groups=2, axis=1, center=False), L.Flatten()]),
    ]


# Stacks whose input is vocabulary indices (below this bound) rather than floats.
VOCAB = {"embedding": 10}


LOSSES = {
    "mse": "regression",
    "mae": "regression",
    "huber": "regression",
    "binary_crossentropy": "binary",
    "categorical_crossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse",
}

# (name, lr or None for the Keras default, momentum or None)
OPTIMIZERS = [
    ("sgd", 0.05, 0.0),
    ("sgd", 0.02, 0.9),
    ("adam", None, None),
    ("adam", 0.01, None),
    ("adamw", 0.01, None),
    ("rmsprop", None, None),
    ("rmsprop", 0.005, 0.5),
]


def make_optimizer(name, lr, momentum):
    kw = {} if lr is None else {"learning_rate": lr}
    if name == "sgd":
        return keras.optimizers.SGD(momentum=momentum or 0.0, **kw)
    if name == "adam":
        return keras.optimizers.Adam(**kw)
    if name == "adamw":
        return keras.optimizers.AdamW(**kw)
    return keras.optimizers.RMSprop(momentum=momentum or 0.0, **kw)


def make_data(rng, in_shape, task, n, vocab=None):
    if vocab:
        x = rng.integers(0, vocab, size=(n,) + tuple(in_shape)).astype("int32")
    else:
        x = rng.normal(size=(n,) + tuple(in_shape)).astype("float32")
    flat = x.reshape(n, -1).astype("float32")
    if vocab:
        flat = flat - (vocab - 1) / 2
    w = np.asarray(np.random.default_rng(12345).normal(size=(flat.shape[1], 3)), dtype="float32")
    s = flat @ w
    if task == "regression":
        y = np.tanh(s[:, :2]).astype("float32")
    elif task == "binary":
        y = (s[:, 0] > 0).astype("float32").reshape(n, 1)
    else:
        labels = np.argmax(s, axis=1)
        y = np.eye(3, dtype="float32")[labels] if task == "categorical" else labels.astype("int32")
    return x, y


def head(task):
    if task == "regression":
        return L.Dense(2)
    if task == "binary":
        return L.Dense(1, activation="sigmoid")
    return L.Dense(3, activation="softmax")


def run_case(out, name, seed, in_shape, hidden, loss, opt, epochs, batch_size, with_acc, vocab=None):
    task = LOSSES[loss]
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = keras.Input(shape=in_shape, dtype="int32" if vocab else "float32")
    model = keras.Sequential([inp] + hidden() + [head(task)])
    x, y = make_data(rng, in_shape, task, 40, vocab)
    xv, yv = make_data(rng, in_shape, task, 16, vocab)
    metrics = ["accuracy"] if with_acc else []
    oname, lr, mom = opt
    model.compile(optimizer=make_optimizer(oname, lr, mom), loss=loss, metrics=metrics)
    w0 = [np.asarray(w) for w in model.get_weights()]
    h = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(xv, yv),
                  shuffle=False, verbose=0)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.json"), "w") as f:
        f.write(model.to_json())
    savez(os.path.join(d, "train.npz"), [("x", x), ("y", y)])
    savez(os.path.join(d, "val.npz"), [("x", xv), ("y", yv)])
    savez_list(os.path.join(d, "weights.npz"), w0)
    savez_list(os.path.join(d, "expected_weights.npz"), [np.asarray(w) for w in model.get_weights()])
    write_json(os.path.join(d, "args.json"), {
        "loss": loss, "optimizer": oname, "lr": lr, "momentum": mom, "epochs": epochs,
        "batch_size": batch_size, "metrics": metrics,
    })
    write_json(os.path.join(d, "expected_history.json"),
               {k: [float(v) for v in vals] for k, vals in sorted(h.history.items())})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fixtures/train"))
    args = ap.parse_args()
    R = random.Random(args.seed)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    losses = list(LOSSES)
    n = 0
    for si, (tag, in_shape, hidden) in enumerate(stacks()):
        # Two runs per stack; losses and optimizers cycle so every pair of the two lists is met
        # across the stacks, with a random shift.
        for k in range(2):
            loss = losses[(2 * si + k + R.randrange(2)) % len(losses)]
            opt = OPTIMIZERS[(3 * si + 2 * k + R.randrange(3)) % len(OPTIMIZERS)]
            batch_size = R.choice([8, 16, 32])
            epochs = R.choice([2, 3])
            with_acc = LOSSES[loss] != "regression" or R.random() < 0.3
            name = f"t{n:03d}_{tag}_{loss.replace('_crossentropy', '_ce')}_{opt[0]}"
            run_case(args.out, name, 1000 + n, in_shape, hidden, loss, opt, epochs, batch_size, with_acc,
                     VOCAB.get(tag))
            n += 1
    with open(os.path.join(args.out, "VERSIONS.txt"), "w") as f:
        f.write(f"keras {keras.__version__}\njax {__import__('jax').__version__}\n"
                f"numpy {np.__version__}\npython {platform.python_version()}\nbackend jax\nseed {args.seed}\n")
    print(f"{n} training cases written to {args.out}")


if __name__ == "__main__":
    main()
