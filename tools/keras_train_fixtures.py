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
and tests/fixtures/train/refusals/<case>/: the same inputs (no results) for targets Keras's fit
raises on, with its message in expected_error.txt.

Cases: t* two runs per layer stack, tx* a third run per stack (another loss and optimizer,
batches of 6 or 12), tb* Keras's target broadcasting (y (N, 1) and (N,) against an output
(N, T, 1)), refusals/r* (tools/README.md), tg* graph (Functional) models: merges, residual blocks, Dot,
MultiHeadAttention (self- and cross-attention), Normalization, two and three inputs (train.npz /
val.npz hold x0, x1, ... for those), tm* graph models with several outputs (a loss per output,
accuracy per output name; y0, y1, ... in model output order; args.json adds `outputs`).

The same layout as ../shared/examples/train_* (checked by ../shared/checks/check_train.py), so
`tests/train_fixtures.rs` and the contract read both the same way.

Fully seeded (--seed, default 0): one random.Random(seed) picks the settings, every case calls
keras.backend.clear_session() and keras.utils.set_random_seed(case seed), data come from a
per-case np.random.default_rng, and the .npz files have fixed zip timestamps, so rerunning with the
same versions gives the same cases up to float32 rounding (tools/README.md). The script re-executes itself with PYTHONHASHSEED=0.
Usage:  /tmp/kvenv/bin/python tools/keras_train_fixtures.py [--seed 0] [--out tests/fixtures/train]
            [--only-missing] [--match SUBSTRING] [--only-multiout]
--only-missing keeps every case already written (the committed bytes) and runs the others.
--only-multiout deletes and rewrites only the tm* cases and leaves every other file alone.
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
        # Added for the catalogue sweep (appended: every case above keeps its settings).
        # The activation strings not met above, as an Activation layer and inside Dense.
        ("act_linear", (5,), lambda: act("linear")),
        ("act_relu", (5,), lambda: act("relu")),
        ("act_tanh", (5,), lambda: act("tanh")),
        ("act_softmax", (5,), lambda: act("softmax")),
        ("act_exponential", (5,), lambda: act("exponential")),
        ("act_swish", (5,), lambda: act("swish")),
        ("act_hard_swish", (5,), lambda: act("hard_swish")),
        ("dense_selu_gelu", (5,), lambda: [L.Dense(6, activation="selu"), L.Dense(5, activation="gelu")]),
        ("dense_softsign_relu6", (5,), lambda: [L.Dense(6, activation="softsign"), L.Dense(5, activation="relu6")]),
        ("dense_leaky_logsoftmax", (5,), lambda: [L.Dense(6, activation="leaky_relu"), L.Dense(5, activation="log_softmax")]),
        ("dense_silu_hardsilu", (5,), lambda: [L.Dense(6, activation="silu"), L.Dense(5, activation="hard_silu")]),
        ("dense_elu_softplus", (5,), lambda: [L.Dense(6, activation="elu"), L.Dense(5, activation="softplus")]),
        ("dense_mish_hardsigmoid", (5,), lambda: [L.Dense(6, activation="mish"), L.Dense(5, activation="hard_sigmoid")]),
        ("dense_softmax_exponential", (5,), lambda: [L.Dense(6, activation="softmax"), L.Dense(5, activation="exponential")]),
        # The activation layers with their other settings.
        ("layers_softmax", (5,), lambda: [L.Dense(6), L.Softmax()]),
        # No bias before a softmax over the positions: it shifts every position alike, so its
        # gradient is zero up to rounding (Adam's noise again).
        ("layers_softmax_axis1", (3, 4), lambda: [L.Dense(4, use_bias=False), L.Softmax(axis=1), L.Flatten()]),
        ("layers_relu_default", (5,), lambda: [L.Dense(6), L.ReLU()]),
        ("layers_relu_threshold", (5,), lambda: [L.Dense(6), L.ReLU(threshold=0.2, negative_slope=0.05)]),
        ("layers_leaky_elu_default", (5,), lambda: [L.Dense(6), L.LeakyReLU(), L.Dense(4), L.ELU()]),
        ("layers_prelu_shared", (3, 4), lambda: [L.Dense(4), L.PReLU(shared_axes=[1]), L.Flatten()]),
        ("identity", (5,), lambda: [L.Dense(6, activation="tanh"), L.Identity()]),
        ("rescaling", (5,), lambda: [L.Rescaling(0.5, offset=0.25), L.Dense(6, activation="tanh")]),
        # Reshaping.
        ("flatten_3d", (3, 3, 2), lambda: [L.Flatten(), L.Dense(5, activation="relu")]),
        ("reshape_image", (12,), lambda: [L.Reshape((2, 3, 2)), L.Conv2D(2, 2), L.Flatten()]),
        ("permute_3d", (3, 4, 2), lambda: [L.Permute((3, 1, 2)), L.Dense(3, activation="tanh"), L.Flatten()]),
        ("repeat_vector_lstm", (3,), lambda: [L.Dense(4, activation="tanh"), L.RepeatVector(3), L.LSTM(3)]),
        ("zeropad1d_int", (5, 2), lambda: [L.ZeroPadding1D(2), L.Conv1D(2, 3, activation="relu"), L.GlobalMaxPooling1D()]),
        ("zeropad2d_asym", (4, 4, 1), lambda: [L.ZeroPadding2D(((1, 0), (2, 1))), L.Conv2D(2, 3), L.Flatten()]),
        ("crop1d_int", (7, 2), lambda: [L.Conv1D(3, 2), L.Cropping1D(1), L.Flatten()]),
        ("crop2d_int", (6, 6, 1), lambda: [L.Conv2D(2, 2), L.Cropping2D(1), L.Flatten()]),
        ("upsampling1d_3", (3, 2), lambda: [L.UpSampling1D(3), L.Conv1D(2, 2, strides=2), L.Flatten()]),
        ("upsampling2d_rect", (3, 3, 1), lambda: [L.UpSampling2D((2, 1)), L.Conv2D(2, 2), L.Flatten()]),
        # Pooling.
        ("maxpool1d_strided_same", (8, 2), lambda: [L.Conv1D(3, 2, padding="same"), L.MaxPooling1D(3, strides=1, padding="same"), L.Flatten()]),
        ("avgpool1d_strided", (9, 2), lambda: [L.Dense(3), L.AveragePooling1D(3, strides=2), L.Flatten()]),
        ("maxpool2d_strided", (7, 7, 1), lambda: [L.Conv2D(2, 2), L.MaxPooling2D(3, strides=2), L.Flatten()]),
        ("avgpool2d_same_strided", (5, 5, 2), lambda: [L.AveragePooling2D(3, strides=2, padding="same"), L.Flatten()]),
        ("gap1d_keepdims", (4, 3), lambda: [L.Dense(4), L.GlobalAveragePooling1D(keepdims=True), L.Flatten()]),
        ("gmp2d_keepdims", (4, 4, 2), lambda: [L.Conv2D(3, 2), L.GlobalMaxPooling2D(keepdims=True), L.Flatten()]),
        # Convolutions.
        ("conv1d_causal_dilated", (6, 2), lambda: [L.Conv1D(3, 3, padding="causal", dilation_rate=2), L.Flatten()]),
        ("conv1d_groups", (6, 4), lambda: [L.Conv1D(4, 3, groups=2, activation="relu"), L.Flatten()]),
        ("conv1d_strided_same", (9, 2), lambda: [L.Conv1D(3, 3, strides=2, padding="same"), L.Flatten()]),
        ("conv2d_dilated", (7, 7, 1), lambda: [L.Conv2D(2, 3, dilation_rate=2, activation="tanh"), L.Flatten()]),
        ("conv2d_rect_strides", (6, 7, 2), lambda: [L.Conv2D(3, (2, 3), strides=(2, 1)), L.GlobalAveragePooling2D()]),
        ("conv2d_groups_same", (4, 4, 6), lambda: [L.Conv2D(6, 2, padding="same", groups=3), L.GlobalAveragePooling2D()]),
        ("conv1d_transpose_same", (4, 3), lambda: [L.Conv1DTranspose(2, 3, padding="same"), L.Flatten()]),
        ("conv1d_transpose_outpad", (3, 2), lambda: [L.Conv1DTranspose(2, 3, strides=2, output_padding=1), L.Flatten()]),
        ("conv2d_transpose_valid", (3, 3, 1), lambda: [L.Conv2DTranspose(2, 2, activation="relu"), L.Flatten()]),
        ("conv2d_transpose_rect", (2, 3, 2), lambda: [L.Conv2DTranspose(2, 3, strides=(2, 1)), L.Flatten()]),
        ("depthwise_strided_same", (6, 6, 2), lambda: [L.DepthwiseConv2D(3, strides=2, padding="same"), L.Flatten()]),
        ("depthwise_dilated_nobias", (7, 7, 1), lambda: [L.DepthwiseConv2D(3, dilation_rate=2, depth_multiplier=3, use_bias=False), L.GlobalAveragePooling2D()]),
        ("separable_strided", (7, 7, 2), lambda: [L.SeparableConv2D(3, 3, strides=2, depth_multiplier=2, activation="relu"), L.Flatten()]),
        ("separable_dilated", (6, 6, 1), lambda: [L.SeparableConv2D(2, 2, dilation_rate=2), L.Flatten()]),
        # Normalization (no bias before BatchNormalization, as above).
        ("batchnorm_momentum_half", (5,), lambda: [L.Dense(6, use_bias=False), L.BatchNormalization(momentum=0.5), L.Activation("tanh")]),
        ("batchnorm_momentum0", (3, 4), lambda: [L.Dense(4, use_bias=False), L.BatchNormalization(momentum=0.0, epsilon=0.01), L.Flatten()]),
        ("batchnorm_axis1", (3, 4), lambda: [L.BatchNormalization(axis=1, momentum=0.8), L.Flatten()]),
        ("batchnorm_nocenter", (6,), lambda: [L.BatchNormalization(center=False, momentum=0.7)]),
        ("layernorm_plain", (3, 4), lambda: [L.Dense(4), L.LayerNormalization(center=False, scale=False, epsilon=0.01), L.Flatten()]),
        # No bias before a normalisation over the positions (its gradient is rounding noise).
        ("layernorm_axis1", (3, 4), lambda: [L.Dense(4, use_bias=False), L.LayerNormalization(axis=1), L.Flatten()]),
        ("groupnorm_one", (3, 6), lambda: [L.Dense(6), L.GroupNormalization(groups=1), L.Flatten()]),
        ("groupnorm_2d", (3, 3, 4), lambda: [L.GroupNormalization(groups=2, scale=False), L.Flatten()]),
        ("unitnorm_axis1", (3, 4), lambda: [L.Dense(4), L.UnitNormalization(axis=1), L.Flatten()]),
        # Embedding (integer inputs) and recurrent layers.
        ("embedding_gap", (6,), lambda: [L.Embedding(8, 3), L.GlobalAveragePooling1D()]),
        ("embedding_lstm", (4,), lambda: [L.Embedding(6, 3), L.LSTM(3)]),
        ("simplernn_back_relu", (5, 2), lambda: [L.SimpleRNN(3, activation="relu", go_backwards=True)]),
        ("lstm_seq_gmp", (4, 3), lambda: [L.LSTM(3, return_sequences=True), L.GlobalMaxPooling1D()]),
        ("gru_reset_before_seq", (4, 2), lambda: [L.GRU(3, reset_after=False, return_sequences=True), L.Flatten()]),
        ("gru_back", (5, 2), lambda: [L.GRU(3, go_backwards=True)]),
        ("lstm_gru_stacked", (4, 2), lambda: [L.LSTM(3, return_sequences=True), L.GRU(2)]),
        # Dropout-type layers at rate 0 only: Keras returns the input (`training and rate > 0`),
        # so they are comparable; at other rates the masks come from different generators.
        ("noise_rate0", (5,), lambda: [L.Dense(6, activation="relu"), L.GaussianNoise(0.0), L.GaussianDropout(0.0), L.AlphaDropout(0.0)]),
        ("spatial_dropout_rate0", (4, 3), lambda: [L.SpatialDropout1D(0.0), L.Dense(3), L.Flatten()]),
        # Outputs per position (the head is a Dense per position; targets per position).
        ("perpos_out", (4, 3), lambda: [L.Dense(5, activation="relu")]),
        ("conv1d_out", (6, 2), lambda: [L.Conv1D(3, 3, padding="same", activation="tanh")]),
        ("simplernn_out", (4, 3), lambda: [L.SimpleRNN(4, return_sequences=True)]),
        ("lstm_out", (4, 2), lambda: [L.LSTM(3, return_sequences=True)]),
        ("gru_reset_before_out", (4, 2), lambda: [L.GRU(3, return_sequences=True, reset_after=False)]),
        ("conv2d_map_out", (4, 4, 1), lambda: [L.Conv2D(2, 3, padding="same", activation="relu")]),
    ]


# Stacks whose output is the same for every sample up to rounding (GlobalAveragePooling2D of an
# instance normalisation is its beta): argmax and > 0.5 ties are decided by float32 noise, so
# their third run reports no accuracy (the loss and the weights are still compared).
TIES = {"groupnorm_instance"}

# Stacks whose input is vocabulary indices (below this bound) rather than floats.
VOCAB = {"embedding": 10, "embedding_gap": 8, "embedding_lstm": 6}


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


def make_data(rng, in_shape, task, n, vocab=None, pos=()):
    """`pos`: the output's axes between the samples and the features (a per-position head):
    targets per position, from their own fixed projection of the whole input."""
    if vocab:
        x = rng.integers(0, vocab, size=(n,) + tuple(in_shape)).astype("int32")
    else:
        x = rng.normal(size=(n,) + tuple(in_shape)).astype("float32")
    flat = x.reshape(n, -1).astype("float32")
    if vocab:
        flat = flat - (vocab - 1) / 2
    if pos:
        cells = int(np.prod(pos))
        w = np.asarray(np.random.default_rng(54321).normal(size=(flat.shape[1], 3 * cells)), dtype="float32")
        s = (flat @ w / np.float32(np.sqrt(flat.shape[1]))).reshape((n,) + tuple(pos) + (3,))
        if task == "regression":
            return x, np.tanh(s[..., :2]).astype("float32")
        if task == "binary":
            return x, (s[..., :1] > 0).astype("float32")
        labels = np.argmax(s, axis=-1)
        return x, (np.eye(3, dtype="float32")[labels] if task == "categorical" else labels.astype("int32"))
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


def xs_named(x):
    """`x` for one input; `x0`, `x1`, ... for a list of inputs."""
    if isinstance(x, list):
        return [("x", x[0])] if len(x) == 1 else [(f"x{i}", a) for i, a in enumerate(x)]
    return [("x", x)]


def ys_named(y):
    """`y` for one output; `y0`, `y1`, ... for a list of targets (a model with several outputs)."""
    if isinstance(y, list):
        return [(f"y{i}", a) for i, a in enumerate(y)]
    return [("y", y)]


def write_case(d, model, x, y, xv, yv, w0, args, history=None, error=None):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.json"), "w") as f:
        f.write(model.to_json())
    savez(os.path.join(d, "train.npz"), xs_named(x) + ys_named(y))
    savez(os.path.join(d, "val.npz"), xs_named(xv) + ys_named(yv))
    savez_list(os.path.join(d, "weights.npz"), w0)
    if error is None:
        savez_list(os.path.join(d, "expected_weights.npz"), [np.asarray(w) for w in model.get_weights()])
    write_json(os.path.join(d, "args.json"), args)
    if error is None:
        write_json(os.path.join(d, "expected_history.json"),
                   {k: [float(v) for v in vals] for k, vals in sorted(history.items())})
    else:
        with open(os.path.join(d, "expected_error.txt"), "w") as f:
            f.write(error + "\n")


def fit_and_write(d, model, x, y, xv, yv, loss, opt, epochs, batch_size, metrics, refusal=False):
    """compile + fit(shuffle=False, validation_data) and the case's files; with `refusal`,
    Keras must raise, and its message is written instead of the results."""
    oname, lr, mom = opt
    model.compile(optimizer=make_optimizer(oname, lr, mom), loss=loss, metrics=metrics)
    w0 = [np.asarray(w) for w in model.get_weights()]
    args = {
        "loss": loss, "optimizer": oname, "lr": lr, "momentum": mom, "epochs": epochs,
        "batch_size": batch_size, "metrics": metrics,
    }
    try:
        h = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(xv, yv),
                      shuffle=False, verbose=0)
    except ValueError as e:
        if not refusal:
            raise
        write_case(d, model, x, y, xv, yv, w0, args, error=str(e).strip().splitlines()[0])
        return
    if refusal:
        raise SystemExit(f"{d}: Keras trained a case meant to be refused")
    write_case(d, model, x, y, xv, yv, w0, args, history=h.history)


def run_case(out, name, seed, in_shape, hidden, loss, opt, epochs, batch_size, with_acc, vocab=None):
    task = LOSSES[loss]
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = keras.Input(shape=in_shape, dtype="int32" if vocab else "float32")
    model = keras.Sequential([inp] + hidden() + [head(task)])
    pos = tuple(model.output_shape[1:-1])
    x, y = make_data(rng, in_shape, task, 40, vocab, pos)
    xv, yv = make_data(rng, in_shape, task, 16, vocab, pos)
    metrics = ["accuracy"] if with_acc else []
    fit_and_write(os.path.join(out, name), model, x, y, xv, yv, loss, opt, epochs, batch_size, metrics)


# ----------------------------------------------------------------------------------------------
# Keras's target broadcasting: an output per position ((N, T, 1), a last Dense(1)) trained on one
# number per sample, y of shape (N, 1) or (N,), as the page's seed-000 model A is. The losses call
# squeeze_or_expand_to_same_rank(y_true, y_pred) (keras/src/losses/loss.py): ranks 2 and 3 with a
# trailing 1 squeeze y_pred to (N, T), and y_true (N, 1) broadcasts along T; ranks 1 and 3 are
# left alone, so y_true (N,) broadcasts against (N, T, 1) to (N, T, N): every prediction of the
# batch meets every target of the batch. Then the mean over the last axis and over the rest.
# ----------------------------------------------------------------------------------------------
BROADCAST_MODELS = [
    ("seq20", (20, 10), lambda: [L.Dense(16, activation="relu"), L.Dense(1)]),
    ("seq5", (5, 3), lambda: [L.Dense(6, activation="tanh"), L.Dense(1)]),
]

# (loss, optimizer, y's shape after the samples)
BROADCAST_RUNS = [(loss, opt, ys) for loss in ("mse", "mae", "huber")
                  for opt in (("sgd", 0.05, 0.0), ("adam", 0.01, None)) for ys in ((1,), ())] + [
    ("mse", ("rmsprop", 0.005, 0.5), (1,)),
    ("huber", ("adamw", 0.01, None), ()),
    ("mae", ("sgd", 0.02, 0.9), (1,)),
    ("mse", ("rmsprop", None, None), ()),
    ("mse", ("adam", None, None), "T"),  # y (N, T) against (N, T, 1): the trailing 1 only
]


def broadcast_data(rng, in_shape, n, ys, t):
    x = rng.normal(size=(n,) + tuple(in_shape)).astype("float32")
    flat = x.reshape(n, -1)
    w = np.asarray(np.random.default_rng(777).normal(size=(flat.shape[1], t)), dtype="float32")
    s = np.tanh(flat @ w / np.float32(np.sqrt(flat.shape[1]))).astype("float32")
    if ys == "T":
        return x, s
    return x, s[:, 0].reshape((n,) + ys)


def run_broadcast(out, name, seed, model_def, loss, opt, ys, batch_size, epochs):
    _, in_shape, hidden = model_def
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input(shape=in_shape)] + hidden())
    x, y = broadcast_data(rng, in_shape, 40, ys, in_shape[0])
    xv, yv = broadcast_data(rng, in_shape, 16, ys, in_shape[0])
    fit_and_write(os.path.join(out, name), model, x, y, xv, yv, loss, opt, epochs, batch_size, [])


# ----------------------------------------------------------------------------------------------
# Targets Keras refuses (fit raises ValueError): tests/fixtures/train/refusals/<case>/ holds the
# inputs and Keras's message (expected_error.txt) instead of results; Flatland must refuse too.
# (name, input shape, layers, loss, y of the samples)
# ----------------------------------------------------------------------------------------------
def refusals():
    lab = lambda shape: lambda r, n: r.integers(0, 4, size=(n,) + shape).astype("int32")  # noqa: E731
    num = lambda shape: lambda r, n: r.normal(size=(n,) + shape).astype("float32")  # noqa: E731
    bit = lambda shape: lambda r, n: (r.normal(size=(n,) + shape) > 0).astype("float32")  # noqa: E731

    def onehot(r, n):
        return np.eye(3, dtype="float32")[r.integers(0, 3, size=n)]
    return [
        # keras/src/backend/jax/nn.py sparse_categorical_crossentropy: target.shape must be
        # output.shape[:-1] (after dropping a trailing 1 of a target of the output's rank).
        ("sparse_perpos_y_n", (3, 2), lambda: [L.Dense(4, activation="softmax")], "sparse_categorical_crossentropy", lab(())),
        ("sparse_perpos_y_n1", (3, 2), lambda: [L.Dense(4, activation="softmax")], "sparse_categorical_crossentropy", lab((1,))),
        # binary_crossentropy / categorical_crossentropy: target.shape must equal output.shape
        # (after squeeze_or_expand_to_same_rank); no broadcasting.
        ("bce_perpos_y_n1", (20, 10), lambda: [L.Dense(4, activation="relu"), L.Dense(1, activation="sigmoid")], "binary_crossentropy", bit((1,))),
        ("bce_perpos_y_n", (20, 10), lambda: [L.Dense(4, activation="relu"), L.Dense(1, activation="sigmoid")], "binary_crossentropy", bit(())),
        ("cce_perpos_y_n3", (5, 3), lambda: [L.Dense(3, activation="softmax")], "categorical_crossentropy", onehot),
        # Broadcasting that pairs the sample axis with another axis: batch 8 against 4 or 3.
        ("mse_map_y_n1", (4, 4, 1), lambda: [L.Conv2D(2, 3, padding="same"), L.Dense(1)], "mse", num((1,))),
        ("mse_dense3_y_n", (5,), lambda: [L.Dense(3)], "mse", num(())),
    ]


def run_refusal(out, name, seed, in_shape, hidden, loss, make_y):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input(shape=in_shape)] + hidden())
    x = rng.normal(size=(40,) + tuple(in_shape)).astype("float32")
    y = make_y(rng, 40)
    xv = rng.normal(size=(16,) + tuple(in_shape)).astype("float32")
    yv = make_y(rng, 16)
    fit_and_write(os.path.join(out, name), model, x, y, xv, yv, loss, ("sgd", 0.05, 0.0), 1, 8, [],
                  refusal=True)


# ----------------------------------------------------------------------------------------------
# graph (Functional) models, tg*: merges, residual blocks, fan-out, two inputs (x0, x1). Each
# builder takes the task's head and returns (inputs, output); two runs per builder.
# ----------------------------------------------------------------------------------------------
def _one(shape, body):
    def build(task):
        x = keras.Input(shape=shape)
        return [x], head(task)(body(x))
    return build


def _two(body):
    def build(task):
        x0, x1 = keras.Input(shape=(4,)), keras.Input(shape=(3,))
        return [x0, x1], head(task)(body(x0, x1))
    return build


def _many(shapes, body):
    def build(task):
        xs = [keras.Input(shape=s) for s in shapes]
        return xs, head(task)(body(*xs))
    return build


def _mha(**kw):
    return L.MultiHeadAttention(**kw)


def _layer_scale(init_values, projection_dim):
    from keras.src.applications.convnext import LayerScale
    return LayerScale(init_values, projection_dim)


def _custom_scale(scale):
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer
    return CustomScaleLayer(scale)


GRAPHS = [
    ("res_dense", (6,), _one((6,), lambda x: L.Add()([x, L.Dense(6)(L.Dense(6, activation="relu")(x))]))),
    ("res_dense2", (5,), _one((5,), lambda x: (lambda h: L.Add()([h, L.Dense(5, activation="tanh")(h)]))(
        L.Add()([x, L.Dense(5, activation="relu")(x)])))),
    ("concat2", (5,), _one((5,), lambda x: L.Concatenate()([L.Dense(4, activation="relu")(x),
                                                         L.Dense(3, activation="tanh")(x)]))),
    ("multiply", (5,), _one((5,), lambda x: L.Multiply()([L.Dense(4, activation="tanh")(x),
                                                       L.Dense(4, activation="sigmoid")(x)]))),
    ("subtract", (5,), _one((5,), lambda x: L.Subtract()([L.Dense(4, activation="relu")(x), L.Dense(4)(x)]))),
    ("average3", (5,), _one((5,), lambda x: L.Average()([L.Dense(4, activation="relu")(x), L.Dense(4)(x),
                                                      L.Dense(4, activation="tanh")(x)]))),
    ("maximum", (5,), _one((5,), lambda x: L.Maximum()([L.Dense(4)(x), L.Dense(4)(x)]))),
    ("minimum", (5,), _one((5,), lambda x: L.Minimum()([L.Dense(4)(x), L.Dense(4, activation="tanh")(x)]))),
    ("concat_seq", (4, 3), _one((4, 3), lambda x: L.Flatten()(L.Concatenate(axis=1)([L.Dense(2)(x),
                                                                               L.Dense(2, activation="relu")(x)])))),
    ("conv1d_res", (8, 3), _one((8, 3), lambda x: L.Flatten()(L.Add()([x, L.Conv1D(3, 3, padding="same")(
        L.Conv1D(3, 3, padding="same", activation="relu")(x))])))),
    ("conv2d_res", (5, 5, 2), _one((5, 5, 2), lambda x: L.GlobalAveragePooling2D()(L.Add()([x, L.Conv2D(
        2, 3, padding="same")(L.Conv2D(2, 3, padding="same", activation="relu")(x))])))),
    ("two_in_concat", None, _two(lambda a, b: L.Concatenate()([L.Dense(5, activation="relu")(a),
                                                             L.Dense(3, activation="tanh")(b)]))),
    ("two_in_add", None, _two(lambda a, b: L.Dense(4, activation="relu")(
        L.Add()([L.Dense(4)(a), L.Dense(4)(b)])))),
    # Dot, MultiHeadAttention, Normalization (appended: the cases above keep their names and
    # seeds). MultiHeadAttention keeps value_dim == key_dim and dropout 0: Keras/jax's fused
    # attention refuses other head sizes at run time, and a dropout mask is not reproduced.
    # The key bias's gradient is zero in exact arithmetic (the softmax ignores a shift shared
    # by a row of scores), so Adam turns float rounding into steps of up to lr/100 that no
    # other implementation reproduces: mha_grid (many groups, adam lr 0.01) has no biases.
    ("dot_cos", None, _many([(5,), (4,)], lambda a, b: L.Dot(axes=-1, normalize=True)(
        [L.Dense(4)(a), L.Dense(4, activation="tanh")(b)]))),
    ("dot_seq", None, _one((4, 3), lambda x: L.Flatten()(L.Dot(axes=(2, 2))([L.Dense(3)(x), x])))),
    ("dot_time_norm", None, _many([(3, 4), (3, 2)], lambda a, b: L.Flatten()(
        L.Dot(axes=1, normalize=True)([a, L.Dense(2, activation="tanh")(b)])))),
    ("mha_block", None, _one((4, 6), lambda x: L.GlobalAveragePooling1D()(L.LayerNormalization()(
        L.Add()([x, _mha(num_heads=2, key_dim=4)(x, x)]))))),
    ("cross_attn", None, _many([(3, 4), (5, 3)], lambda q, v: L.GlobalAveragePooling1D()(
        _mha(num_heads=2, key_dim=3)(q, v)))),
    ("cross_attn_key", None, _many([(3, 4), (5, 3), (5, 2)], lambda q, v, k: L.Flatten()(
        _mha(num_heads=2, key_dim=2, use_bias=False, output_shape=(3,))(q, v, k)))),
    ("mha_out2", None, _one((3, 4), lambda x: L.Flatten()(
        _mha(num_heads=1, key_dim=3, output_shape=(2, 2))(x, x)))),
    ("mha_grid", None, _one((2, 3, 4), lambda x: L.Flatten()(
        _mha(num_heads=2, key_dim=2, use_bias=False, attention_axes=(2,))(x, x)))),
    ("norm_mid", None, _one((5,), lambda x: L.Dense(4, activation="tanh")(L.Normalization(
        mean=[0.5, -0.25, 0.0, 1.0], variance=[2.0, 0.5, 1.0, 4.0])(L.Dense(4)(x))))),
    ("norm_invert", None, _one((5,), lambda x: L.Dense(4, activation="relu")(L.Normalization(
        mean=0.25, variance=1.5, invert=True)(L.Dense(3)(x))))),
    # The applications' own layers (appended): ConvNeXt's LayerScale, on a residual branch and
    # on a 1-channel tensor it broadcasts to projection_dim channels; InceptionResNetV2's
    # CustomScaleLayer (shortcut + branch · scale).
    ("layer_scale", None, _one((4, 6), lambda x: L.GlobalAveragePooling1D()(L.Add()([
        x, _layer_scale(0.5, 6)(L.Dense(6, activation="relu")(x))])))),
    ("layer_scale_1ch", None, _one((5, 2), lambda x: L.Flatten()(
        _layer_scale(0.3, 4)(L.Dense(1, activation="tanh")(x))))),
    ("custom_scale", None, _one((6,), lambda x: L.Dense(4, activation="tanh")(
        _custom_scale(0.17)([x, L.Dense(6, activation="relu")(x)])))),
]

GRAPH_RUNS = [("mse", ("sgd", 0.05, 0.0)), ("sparse_categorical_crossentropy", ("adam", 0.01, None)),
              ("binary_crossentropy", ("rmsprop", None, None)), ("mse", ("adam", None, None)),
              ("sparse_categorical_crossentropy", ("sgd", 0.02, 0.9)),
              ("binary_crossentropy", ("adam", 0.01, None))]


def run_graph(out, name, seed, build, loss, opt, epochs, batch_size, with_acc):
    task = LOSSES[loss]
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inputs, output = build(task)
    model = keras.Model(inputs, output)
    widths = [int(np.prod(i.shape[1:])) for i in inputs]
    shapes = [tuple(i.shape[1:]) for i in inputs]
    x, y = make_data(rng, (sum(widths),), task, 40)
    xv, yv = make_data(rng, (sum(widths),), task, 16)

    def split(a):
        cuts = np.cumsum(widths)[:-1]
        return [p.reshape((a.shape[0],) + s) for p, s in zip(np.split(a, cuts, axis=1), shapes)]

    metrics = ["accuracy"] if with_acc else []
    d = os.path.join(out, name)
    oname, lr, mom = opt
    model.compile(optimizer=make_optimizer(oname, lr, mom), loss=loss, metrics=metrics)
    w0 = [np.asarray(w) for w in model.get_weights()]
    args = {"loss": loss, "optimizer": oname, "lr": lr, "momentum": mom, "epochs": epochs,
            "batch_size": batch_size, "metrics": metrics}
    xs, xvs = split(x), split(xv)
    h = model.fit(xs if len(xs) > 1 else xs[0], y, batch_size=batch_size, epochs=epochs,
                  validation_data=(xvs if len(xvs) > 1 else xvs[0], yv), shuffle=False, verbose=0)
    write_case(d, model, xs, y, xvs, yv, w0, args, history=h.history)


# ----------------------------------------------------------------------------------------------
# graph models with several outputs, tm*: a loss per output (Keras sums them: loss_weights
# default 1), accuracy per output as `metrics={"<output>": ["accuracy"]}` (Keras refuses a flat
# `metrics=["accuracy"]` for several outputs), History keys `loss`, `<output>_loss`,
# `<output>_accuracy` and their `val_` twins. train.npz / val.npz hold y0, y1, ... (model output
# order) and x or x0, x1, ... Each builder takes nothing and returns (inputs, outputs); the task
# of each output is listed with it. Output names are given for some heads and left to Keras
# (`dense_3`) for others.
# ----------------------------------------------------------------------------------------------
def _mo_trunk():
    x = keras.Input(shape=(5,))
    h = L.Dense(6, activation="relu")(x)
    return [x], [L.Dense(2, name="reg")(h), L.Dense(3, activation="softmax", name="cls")(h)]


def _mo_feed():
    # `aux` is an output and feeds the other head too: its gradient is its own loss's plus
    # what `main` sends back.
    x = keras.Input(shape=(5,))
    h = L.Dense(6, activation="tanh")(x)
    aux = L.Dense(3, activation="softmax", name="aux")(h)
    return [x], [aux, L.Dense(2, name="main")(L.Concatenate()([h, aux]))]


def _mo_chain_out():
    x = keras.Input(shape=(4,))
    first = L.Dense(4, name="first")(x)
    second = L.Dense(3, activation="softmax", name="second")(L.Dense(5, activation="relu")(first))
    return [x], [first, second]


def _mo_two_in():
    x0, x1 = keras.Input(shape=(4,)), keras.Input(shape=(3,))
    b = L.Dense(4)(x1)
    m = L.Add()([L.Dense(4, activation="relu")(x0), b])
    return [x0, x1], [L.Dense(2)(m), L.Dense(1, activation="sigmoid")(b)]


def _mo_three():
    x = keras.Input(shape=(6,))
    h = L.Dense(8, activation="relu")(x)
    return [x], [L.Dense(2, name="r")(h), L.Dense(1, activation="sigmoid", name="b")(h),
                 L.Dense(3, activation="softmax", name="s")(L.Dense(5, activation="tanh")(h))]


def _mo_conv():
    x = keras.Input(shape=(8, 2))
    c = L.Conv1D(3, 3, padding="same", activation="relu")(x)
    return [x], [L.Dense(3, activation="softmax", name="cat")(L.GlobalAveragePooling1D()(c)),
                 L.Dense(2, name="val")(L.Flatten()(c))]


def _mo_depth():
    x = keras.Input(shape=(5,))
    h1 = L.Dense(5, activation="relu")(x)
    h2 = L.Add()([h1, L.Dense(5, activation="tanh")(h1)])
    return [x], [L.Dense(2, name="early")(h1), L.Dense(2, name="late")(h2)]


def _mo_cross():
    x0, x1 = keras.Input(shape=(3, 4)), keras.Input(shape=(5,))
    a = L.GlobalAveragePooling1D()(L.Dense(4)(x0))
    b = L.Dense(4, activation="relu")(x1)
    return [x0, x1], [L.Dense(3, activation="softmax", name="left")(L.Concatenate()([a, b])),
                      L.Dense(2, name="right")(L.Multiply()([a, b]))]


# (tag, builder, the task of each output)
MULTI_OUT = [
    ("trunk", _mo_trunk, ("regression", "sparse")),
    ("feed", _mo_feed, ("sparse", "regression")),
    ("chain_out", _mo_chain_out, ("regression", "sparse")),
    ("two_in", _mo_two_in, ("regression", "binary")),
    ("three", _mo_three, ("regression", "binary", "sparse")),
    ("conv", _mo_conv, ("categorical", "regression")),
    ("depth", _mo_depth, ("regression", "regression")),
    ("cross", _mo_cross, ("sparse", "regression")),
]

MO_LOSS = {"binary": "binary_crossentropy", "categorical": "categorical_crossentropy",
           "sparse": "sparse_categorical_crossentropy"}
MO_OPTIMIZERS = [("sgd", 0.05, 0.0), ("adam", 0.01, None), ("rmsprop", None, None),
                 ("sgd", 0.02, 0.9), ("adam", None, None), ("rmsprop", 0.005, 0.5), ("adamw", 0.01, None)]


def head_target(flat, task, units, k):
    """One output's targets from its own fixed projection of the whole input."""
    w = np.asarray(np.random.default_rng(24680 + k).normal(size=(flat.shape[1], max(3, units))),
                   dtype="float32")
    s = flat @ w / np.float32(np.sqrt(flat.shape[1]))
    if task == "regression":
        return np.tanh(s[:, :units]).astype("float32")
    if task == "binary":
        return (s[:, :1] > 0).astype("float32")
    labels = np.argmax(s[:, :3], axis=1)
    return np.eye(3, dtype="float32")[labels] if task == "categorical" else labels.astype("int32")


def run_multiout(out, name, seed, build, tasks, losses, metrics, opt, epochs, batch_size):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inputs, outputs = build()
    model = keras.Model(inputs, outputs)
    units = [int(o.shape[-1]) for o in outputs]

    def data(n):
        xs = [rng.normal(size=(n,) + tuple(i.shape[1:])).astype("float32") for i in inputs]
        flat = np.concatenate([x.reshape(n, -1) for x in xs], axis=1)
        return xs, [head_target(flat, t, u, k) for k, (t, u) in enumerate(zip(tasks, units))]

    xs, ys = data(40)
    xvs, yvs = data(16)
    oname, lr, mom = opt
    model.compile(optimizer=make_optimizer(oname, lr, mom), loss=losses, metrics=metrics)
    w0 = [np.asarray(w) for w in model.get_weights()]
    args = {"loss": losses, "optimizer": oname, "lr": lr, "momentum": mom, "epochs": epochs,
            "batch_size": batch_size, "metrics": metrics, "outputs": list(model.output_names)}
    one = lambda a: a if len(a) > 1 else a[0]  # noqa: E731
    h = model.fit(one(xs), ys, batch_size=batch_size, epochs=epochs,
                  validation_data=(one(xvs), yvs), shuffle=False, verbose=0)
    write_case(os.path.join(out, name), model, xs, ys, xvs, yvs, w0, args, history=h.history)


def multiout_section(seed, want, out):
    """tm*: two runs per MULTI_OUT graph. The first run gives accuracy to every
    classification output; the second to the first output only (any task: Keras resolves
    "accuracy" from the shapes), or to none. Regression heads cycle through mse / mae / huber;
    the `depth` graph's first run names one loss for both outputs (`loss="mse"`)."""
    RM = random.Random(seed + 32452843)
    regression = ["mse", "mae", "huber"]
    n = 0
    for gi, (tag, build, tasks) in enumerate(MULTI_OUT):
        names = None
        for k in range(2):
            losses = [MO_LOSS.get(t) or regression[(gi + k + j) % 3] for j, t in enumerate(tasks)]
            if tag == "depth" and k == 0:
                losses = "mse"
            opt = MO_OPTIMIZERS[(2 * gi + k) % len(MO_OPTIMIZERS)]
            batch_size = RM.choice([6, 8, 16])
            epochs = RM.choice([2, 3])
            pick = RM.random()
            name = f"tm{n:03d}_{tag}_{opt[0]}"
            if want(name):
                if names is None:
                    keras.backend.clear_session()
                    names = list(keras.Model(*build()).output_names)
                if k == 0:
                    metrics = {o: ["accuracy"] for o, t in zip(names, tasks) if t != "regression"}
                else:
                    metrics = {names[0]: ["accuracy"]} if pick < 0.6 else {}
                run_multiout(out, name, 20000 + n, build, tasks, losses, metrics or [], opt,
                             epochs, batch_size)
            n += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fixtures/train"))
    ap.add_argument("--only-missing", action="store_true",
                    help="keep the cases already written; run only those without a directory")
    ap.add_argument("--match", default="", help="run only the cases whose name contains this")
    ap.add_argument("--only-multiout", action="store_true",
                    help="rewrite only the tm* cases (several outputs); leave the rest alone")
    args = ap.parse_args()
    R = random.Random(args.seed)
    if args.only_multiout:
        os.makedirs(args.out, exist_ok=True)
        for d in os.listdir(args.out):
            if d.startswith("tm") and (args.match in d or not args.match):
                shutil.rmtree(os.path.join(args.out, d))
        count = [0]

        def want_mo(name):
            if args.match not in name:
                return False
            count[0] += 1
            print(name, flush=True)
            return True
        multiout_section(args.seed, want_mo, args.out)
        print(f"{count[0]} multi-output training cases written to {args.out}")
        return
    if os.path.isdir(args.out) and not args.only_missing:
        shutil.rmtree(args.out)
    os.makedirs(args.out, exist_ok=True)
    written = [0]

    def want(name, out=args.out):
        if args.match not in name or (args.only_missing and os.path.isdir(os.path.join(out, name))):
            return False
        written[0] += 1
        print(name, flush=True)
        return True

    losses = list(LOSSES)
    used = []
    n = 0
    for si, (tag, in_shape, hidden) in enumerate(stacks()):
        # Two runs per stack; losses and optimizers cycle so every pair of the two lists is met
        # across the stacks, with a random shift.
        used.append(([], []))
        for k in range(2):
            loss = losses[(2 * si + k + R.randrange(2)) % len(losses)]
            opt = OPTIMIZERS[(3 * si + 2 * k + R.randrange(3)) % len(OPTIMIZERS)]
            batch_size = R.choice([8, 16, 32])
            epochs = R.choice([2, 3])
            with_acc = LOSSES[loss] != "regression" or R.random() < 0.3
            name = f"t{n:03d}_{tag}_{loss.replace('_crossentropy', '_ce')}_{opt[0]}"
            if want(name):
                run_case(args.out, name, 1000 + n, in_shape, hidden, loss, opt, epochs, batch_size,
                         with_acc, VOCAB.get(tag))
            used[si][0].append(loss)
            used[si][1].append(opt)
            n += 1
    # A third run per stack (tx...): a loss and an optimizer setting the stack has not met yet,
    # batches of 6 or 12 (partial last batches in training and validation). Its own generator,
    # so appending a stack above changes none of these but adds its own at the end.
    RX = random.Random(args.seed + 7919)
    for si, (tag, in_shape, hidden) in enumerate(stacks()):
        loss = RX.choice([x for x in losses if x not in used[si][0]])
        opt = RX.choice([o for o in OPTIMIZERS if o not in used[si][1]])
        batch_size = RX.choice([6, 12])
        epochs = RX.choice([2, 3])
        with_acc = (LOSSES[loss] != "regression" or RX.random() < 0.3) and tag not in TIES
        name = f"tx{si:03d}_{tag}_{loss.replace('_crossentropy', '_ce')}_{opt[0]}"
        if want(name):
            run_case(args.out, name, 5000 + si, in_shape, hidden, loss, opt, epochs, batch_size,
                     with_acc, VOCAB.get(tag))
    RB = random.Random(args.seed + 104729)
    for i, (loss, opt, ys) in enumerate(BROADCAST_RUNS):
        model_def = BROADCAST_MODELS[(i // 2) % 2]
        batch_size = RB.choice([6, 12, 16])
        yname = {(1,): "yn1", (): "yn", "T": "ynt"}[ys]
        name = f"tb{i:03d}_{model_def[0]}_{yname}_{loss}_{opt[0]}"
        if want(name):
            run_broadcast(args.out, name, 9000 + i, model_def, loss, opt, ys, batch_size, 3)
    RG = random.Random(args.seed + 15485863)
    n = 0
    for gi, (tag, _, build) in enumerate(GRAPHS):
        for k in range(2):
            loss, opt = GRAPH_RUNS[(2 * gi + k) % len(GRAPH_RUNS)]
            batch_size = RG.choice([6, 8, 16])
            epochs = RG.choice([2, 3])
            with_acc = LOSSES[loss] != "regression"
            name = f"tg{n:03d}_{tag}_{loss.replace('_crossentropy', '_ce')}_{opt[0]}"
            if want(name):
                run_graph(args.out, name, 12000 + n, build, loss, opt, epochs, batch_size, with_acc)
            n += 1
    multiout_section(args.seed, want, args.out)
    rdir = os.path.join(args.out, "refusals")
    os.makedirs(rdir, exist_ok=True)
    for i, (tag, in_shape, hidden, loss, make_y) in enumerate(refusals()):
        name = f"r{i:03d}_{tag}"
        if want(name, rdir):
            run_refusal(rdir, name, 9500 + i, in_shape, hidden, loss, make_y)
    with open(os.path.join(args.out, "VERSIONS.txt"), "w") as f:
        f.write(f"keras {keras.__version__}\njax {__import__('jax').__version__}\n"
                f"numpy {np.__version__}\npython {platform.python_version()}\nbackend jax\nseed {args.seed}\n")
    print(f"{written[0]} training cases written to {args.out}")


if __name__ == "__main__":
    main()
