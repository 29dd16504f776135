#!/usr/bin/env python3
"""Keras golden-fixture generator for Flatland.

Writes, under tests/fixtures/ (see tools/README.md):
  summary/<case>/{model.json, expected.json}              valid + invalid Sequential stacks
  forward/<case>/{model.json, weights.npz, input.npy, expected.npy, expected.json}
  import/<name>.json + <name>.expected.json              VGG16, Functional chains, Keras-2 and TF.js dialects
  VERSIONS.txt

Fully seeded (--seed, default 0): rerunning with the same versions gives byte-identical files.
Usage:  python tools/keras_fixtures.py [--seed 0] [--out tests/fixtures]   (sets KERAS_BACKEND=jax itself)
        python tools/keras_fixtures.py --verify     (reload every fixture with Keras and re-check it)
"""
import argparse
import io
import json
import os
import platform
import random
import re
import shutil
import sys
import time
import zipfile
from collections import Counter

# Keras prints Python sets in some error messages ({'same', 'valid'}); pin the hash seed so the
# recorded keras_error strings are identical from run to run.
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

CATALOGUE = [
    "InputLayer", "Dense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Flatten",
    "Reshape", "Permute", "RepeatVector", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity", "Rescaling", "UnitNormalization",
    "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization",
    "LayerNormalization", "Embedding", "SimpleRNN", "LSTM", "GRU", "ZeroPadding1D", "ZeroPadding2D",
    "UpSampling1D", "UpSampling2D", "Cropping1D", "Cropping2D",
]
LAYER_CLASSES = [c for c in CATALOGUE if c != "InputLayer"]

ACTIVATIONS = [
    "linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus",
    "softsign", "elu", "selu", "gelu", "silu", "swish", "hard_silu", "hard_swish", "mish", "exponential",
    "leaky_relu",
]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def S(cls, **kw):
    """A layer spec: (class name, constructor kwargs)."""
    return (cls, kw)


def mk(spec):
    cls, kw = spec
    return getattr(L, cls)(**kw)


def snake(name):
    """Short lower-case tag for case names: Conv2DTranspose -> conv2dtranspose."""
    return name.lower()


def shape_list(shape):
    return [None if d is None else int(d) for d in shape]


def write_json(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def savez_deterministic(path, arrays):
    """Same file format and keys (arr_0, arr_1, ...) as np.savez(path, *arrays), but with fixed zip
    timestamps so reruns are byte-identical."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(f"arr_{i}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def clean_error(e):
    msg = ANSI.sub("", str(e)).strip()
    return msg[:300]


def summarize(layers, input_shape):
    """The expected.json body for a built model (layers excludes the InputLayer)."""
    rows = []
    tot = tr = ntr = 0
    for layer in layers:
        t = sum(int(np.prod(v.shape)) for v in layer.trainable_weights)
        n = sum(int(np.prod(v.shape)) for v in layer.non_trainable_weights)
        p = int(layer.count_params()) if layer.weights else 0
        assert p == t + n, (layer.name, p, t, n)
        rows.append({
            "name": layer.name,
            "class_name": layer.__class__.__name__,
            "output_shape": shape_list(layer.output.shape),
            "params": p,
            "trainable_params": t,
            "non_trainable_params": n,
            "weight_shapes": [[int(d) for d in v.shape] for v in layer.weights],  # == get_weights() order
        })
        tot += p
        tr += t
        ntr += n
    return {
        "valid": True,
        "input_shape": shape_list(input_shape),
        "layers": rows,
        "total_params": tot,
        "trainable_params": tr,
        "non_trainable_params": ntr,
    }


def clear():
    # free_memory=False skips a gc.collect() per call (it dominated the run time)
    keras.backend.clear_session(free_memory=False)


_INIT_RNG = [np.random.default_rng(0)]


def install_fast_init():
    """Draw initial weights with numpy instead of jax.random. jax compiles a random kernel for every new
    weight shape (~0.25 s each on 2 cores), which dominated the run. Initial values never reach a
    fixture: summary cases only use shapes, forward cases overwrite every weight with seeded values."""
    import jax.numpy as jnp
    import keras.src.backend.jax.random as jr

    def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        v = _INIT_RNG[0].standard_normal(tuple(shape)) * stddev + mean
        return jnp.asarray(v.astype(dtype or keras.config.floatx()))

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        v = _INIT_RNG[0].uniform(minval, maxval, size=tuple(shape))
        return jnp.asarray(v.astype(dtype or keras.config.floatx()))

    def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        v = np.clip(_INIT_RNG[0].standard_normal(tuple(shape)), -2.0, 2.0) * stddev + mean
        return jnp.asarray(v.astype(dtype or keras.config.floatx()))

    jr.normal, jr.uniform, jr.truncated_normal = normal, uniform, truncated_normal


def fresh(seed):
    clear()
    keras.utils.set_random_seed(seed)
    _INIT_RNG[0] = np.random.default_rng(seed)


def build_sequential(name, input_shape, specs):
    inp = keras.Input(tuple(input_shape))
    model = keras.Sequential([inp] + [mk(s) for s in specs], name=name)
    return model


def probe_stack(input_shape, specs):
    """Build layer by layer. Returns None if Keras accepts the stack, else a dict describing where and
    how it refused it."""
    x = keras.Input(tuple(input_shape))
    inp_layer = x._keras_history[0]
    built = []
    for i, spec in enumerate(specs):
        try:
            layer = mk(spec)
        except Exception as e:  # noqa: BLE001
            return {"raises_in": "constructor", "index": i, "error": e, "built": built, "input_layer": inp_layer}
        try:
            x = layer(x)
        except Exception as e:  # noqa: BLE001
            return {"raises_in": "call", "index": i, "error": e, "built": built, "bad": layer,
                    "input_layer": inp_layer}
        built.append(layer)
    return None


def ser(layer, drop_build=False):
    d = keras.saving.serialize_keras_object(layer)
    d = json.loads(json.dumps(d))  # tuples -> lists
    if drop_build:
        d.pop("build_config", None)
    return d


def normalize_like(tried, proxy_val):
    """Write a constructor argument the way Keras' get_config() would (ints expanded to lists)."""
    if isinstance(tried, (tuple, list)):
        return [normalize_like(t, None) for t in tried]
    if isinstance(proxy_val, list) and isinstance(tried, int) and not isinstance(tried, bool):
        if proxy_val and isinstance(proxy_val[0], list):
            return [[tried, tried] for _ in proxy_val]
        return [tried] * len(proxy_val)
    return tried


DTYPE_POLICY = None


def sequential_json_by_hand(name, input_layer, layer_dicts):
    global DTYPE_POLICY
    if DTYPE_POLICY is None:
        DTYPE_POLICY = json.loads(json.dumps(keras.saving.serialize_keras_object(keras.DTypePolicy("float32"))))
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": DTYPE_POLICY,
            "layers": [ser(input_layer)] + layer_dicts,
        },
        "registered_name": None,
    }


# ----------------------------------------------------------------------------------------------
# random layer generators: gen(shape_without_batch, rng) -> kwargs or None (not applicable)
# ----------------------------------------------------------------------------------------------
def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def prod(s):
    p = 1
    for d in s:
        p *= d
    return p


def rnd_act(R, p_linear=0.5):
    return "linear" if R.random() < p_linear else R.choice(ACTIVATIONS)


def rnd_float(R, lo, hi, nd=2):
    return round(R.uniform(lo, hi), nd)


def conv_geom(R, spatial, ndim, allow_causal=False, transpose=False, max_k=5):
    """kernel_size/strides/dilation/padding for a conv over `spatial` dims (returns None if impossible)."""
    pads = ["valid", "same"] + (["causal"] if allow_causal else [])
    pad = R.choice(pads)
    s = [R.choice([1, 1, 1, 2, 2, 3]) for _ in range(ndim)]
    if R.random() < 0.6:
        s = [s[0]] * ndim
    if transpose and max(spatial) > 6:
        s = [1] * ndim
    d = [1] * ndim
    if max(s) == 1 and R.random() < 0.3:
        d = [2] * ndim if R.random() < 0.7 else [R.choice([1, 2]) for _ in range(ndim)]
    k = []
    for n, di in zip(spatial, d):
        if pad == "valid" and not transpose:
            mk_ = (n - 1) // di + 1
        else:
            mk_ = max_k
        mk_ = min(mk_, max_k)
        if mk_ < 1:
            return None
        k.append(R.randint(1, mk_))
    if R.random() < 0.6 and len(set(k)) > 1:
        k = [min(k)] * ndim
    kk = k[0] if (ndim == 1 or (len(set(k)) == 1 and R.random() < 0.6)) else tuple(k)
    ss = s[0] if (ndim == 1 or (len(set(s)) == 1 and R.random() < 0.6)) else tuple(s)
    dd = d[0] if (ndim == 1 or len(set(d)) == 1) else tuple(d)
    return kk, ss, dd, pad, s


def g_dense(S_, R):
    if len(S_) < 1:
        return None
    kw = {"units": R.randint(1, 16)}
    a = rnd_act(R)
    if a != "linear":
        kw["activation"] = a
    if R.random() < 0.15:
        kw["use_bias"] = False
    return kw


def g_activation(S_, R):
    return {"activation": R.choice(ACTIVATIONS)}


def g_relu(S_, R):
    kw = {}
    if R.random() < 0.4:
        kw["max_value"] = R.choice([1.0, 6.0, 0.5])
    if R.random() < 0.3:
        kw["negative_slope"] = R.choice([0.1, 0.2, 0.05])
    if R.random() < 0.3:
        kw["threshold"] = R.choice([0.1, 0.5, 0.3])
    return kw


def g_leaky(S_, R):
    return {} if R.random() < 0.3 else {"negative_slope": R.choice([0.01, 0.1, 0.2, 0.5])}


def g_prelu(S_, R):
    r = len(S_)
    if r >= 2 and R.random() < 0.5:
        axes = sorted(R.sample(range(1, r), R.randint(1, r - 1)))
        return {"shared_axes": axes}
    return {}


def g_elu(S_, R):
    return {} if R.random() < 0.4 else {"alpha": R.choice([0.5, 1.5, 2.0])}


def g_softmax(S_, R):
    return {}


def g_flatten(S_, R):
    return {} if len(S_) >= 2 or R.random() < 0.1 else None


def rnd_factorization(R, total, rank):
    dims = []
    rem = total
    for _ in range(rank - 1):
        d = R.choice(divisors(rem))
        dims.append(d)
        rem //= d
    dims.append(rem)
    R.shuffle(dims)
    return dims


def g_reshape(S_, R):
    total = prod(S_)
    rank = R.choice([1, 2, 2, 3])
    dims = rnd_factorization(R, total, rank)
    if R.random() < 0.4:
        dims[R.randrange(rank)] = -1
    return {"target_shape": tuple(dims)}


def g_permute(S_, R):
    r = len(S_)
    if r < 2:
        return None
    while True:
        p = list(range(1, r + 1))
        R.shuffle(p)
        if p != sorted(p):
            return {"dims": tuple(p)}


def g_repeat(S_, R):
    return {"n": R.randint(2, 6)} if len(S_) == 1 and S_[0] <= 64 else None


def g_rate(S_, R):
    return {"rate": rnd_float(R, 0.05, 0.5)}


def g_sd1(S_, R):
    return g_rate(S_, R) if len(S_) == 2 else None


def g_sd2(S_, R):
    return g_rate(S_, R) if len(S_) == 3 else None


def g_gnoise(S_, R):
    return {"stddev": rnd_float(R, 0.05, 0.5)}


def g_identity(S_, R):
    return {}


def g_rescaling(S_, R):
    return R.choice([{"scale": 1.0 / 255}, {"scale": 0.5}, {"scale": 2.0, "offset": -1.0},
                     {"scale": 1.0 / 127.5, "offset": -1.0}, {"scale": -0.5, "offset": 0.25}])


def g_unitnorm(S_, R):
    return {}


def g_conv(ndim):
    def g(S_, R):
        if len(S_) != ndim + 1:
            return None
        C = S_[-1]
        geo = conv_geom(R, list(S_[:-1]), ndim, allow_causal=ndim == 1)
        if geo is None:
            return None
        k, s, d, pad, _ = geo
        groups = 1
        if C > 1 and R.random() < 0.2:
            groups = R.choice([g for g in divisors(C) if g > 1])
        kw = {"filters": groups * R.randint(1, max(1, 12 // groups)), "kernel_size": k, "strides": s,
              "padding": pad, "dilation_rate": d}
        if groups > 1:
            kw["groups"] = groups
        a = rnd_act(R)
        if a != "linear":
            kw["activation"] = a
        if R.random() < 0.15:
            kw["use_bias"] = False
        return kw
    return g


def g_conv_t(ndim):
    def g(S_, R):
        if len(S_) != ndim + 1 or max(S_[:-1]) > 8:
            return None
        geo = conv_geom(R, list(S_[:-1]), ndim, transpose=True, max_k=4)
        if geo is None:
            return None
        k, s, d, pad, slist = geo
        kw = {"filters": R.randint(1, 8), "kernel_size": k, "strides": s, "padding": pad, "dilation_rate": d}
        if max(slist) > 1 and R.random() < 0.5:
            op = [R.randrange(si) for si in slist]
            kw["output_padding"] = op[0] if (ndim == 1 or len(set(op)) == 1) else tuple(op)
        a = rnd_act(R)
        if a != "linear":
            kw["activation"] = a
        if R.random() < 0.15:
            kw["use_bias"] = False
        return kw
    return g


def g_depthwise(S_, R):
    if len(S_) != 3:
        return None
    geo = conv_geom(R, list(S_[:2]), 2)
    if geo is None:
        return None
    k, s, d, pad, _ = geo
    kw = {"kernel_size": k, "strides": s, "padding": pad, "dilation_rate": d}
    if R.random() < 0.5:
        kw["depth_multiplier"] = R.randint(1, 3)
    a = rnd_act(R)
    if a != "linear":
        kw["activation"] = a
    if R.random() < 0.15:
        kw["use_bias"] = False
    return kw


def g_separable(S_, R):
    kw = g_depthwise(S_, R)
    if kw is None:
        return None
    kw = {"filters": R.randint(1, 12), **kw}
    return kw


def g_pool(ndim):
    def g(S_, R):
        if len(S_) != ndim + 1:
            return None
        sp = S_[:-1]
        pad = R.choice(["valid", "same"])
        p = []
        for n in sp:
            hi = min(4, n) if pad == "valid" else 4
            p.append(R.randint(1 if hi < 2 else 2, max(hi, 1)))
        if ndim == 1 or (R.random() < 0.7):
            p = [min(p)] * ndim
        kw = {"pool_size": p[0] if (ndim == 1 or len(set(p)) == 1) else tuple(p), "padding": pad}
        r = R.random()
        if r < 0.4:
            pass  # strides default to pool_size
        elif r < 0.8:
            kw["strides"] = R.randint(1, 3)
        else:
            kw["strides"] = R.randint(1, 3) if ndim == 1 else (R.randint(1, 3), R.randint(1, 3))
        return kw
    return g


def g_global(ndim):
    def g(S_, R):
        if len(S_) != ndim + 1:
            return None
        return {"keepdims": True} if R.random() < 0.3 else {}
    return g


def g_bn(S_, R):
    kw = {}
    if R.random() < 0.25:
        kw["center"] = False
    if R.random() < 0.25:
        kw["scale"] = False
    if R.random() < 0.3:
        kw["epsilon"] = R.choice([1e-5, 0.01])
    if R.random() < 0.2:
        kw["momentum"] = 0.9
    return kw


def g_ln(S_, R):
    kw = {}
    if R.random() < 0.2:
        kw["center"] = False
    if R.random() < 0.2:
        kw["scale"] = False
    if R.random() < 0.3:
        kw["epsilon"] = R.choice([1e-5, 1e-6, 0.01])
    return kw


def g_rnn(cls):
    def g(S_, R):
        if len(S_) != 2:
            return None
        kw = {"units": R.randint(1, 8)}
        if R.random() < 0.5:
            kw["return_sequences"] = True
        if R.random() < 0.2:
            kw["activation"] = R.choice(["relu", "sigmoid", "linear"])
        if cls != "SimpleRNN" and R.random() < 0.2:
            kw["recurrent_activation"] = R.choice(["hard_sigmoid", "tanh"])
        if R.random() < 0.15:
            kw["use_bias"] = False
        if cls == "GRU" and R.random() < 0.4:
            kw["reset_after"] = False
        return kw
    return g


def g_zp1(S_, R):
    if len(S_) != 2 or S_[0] > 16:
        return None
    return R.choice([{}, {"padding": R.randint(1, 3)}, {"padding": (R.randint(0, 3), R.randint(0, 3))}])


def g_zp2(S_, R):
    if len(S_) != 3 or max(S_[:2]) > 14:
        return None
    return R.choice([{}, {"padding": R.randint(1, 2)}, {"padding": (R.randint(0, 2), R.randint(0, 2))},
                     {"padding": ((R.randint(0, 2), R.randint(0, 2)), (R.randint(0, 2), R.randint(0, 2)))}])


def g_up1(S_, R):
    if len(S_) != 2 or S_[0] > 8:
        return None
    return R.choice([{}, {"size": R.randint(2, 3)}, {"size": 1}])


def g_up2(S_, R):
    if len(S_) != 3 or max(S_[:2]) > 6:
        return None
    kw = R.choice([{}, {"size": R.randint(2, 3)}, {"size": (R.randint(1, 3), R.randint(1, 3))}])
    if R.random() < 0.5:
        kw["interpolation"] = "bilinear"
    return kw


def g_crop1(S_, R):
    if len(S_) != 2 or S_[0] < 2:
        return None
    n = S_[0]
    a = R.randint(0, (n - 1) // 2)
    b = R.randint(0, n - 1 - 2 * a) if R.random() < 0.5 else None
    if b is None:
        return {"cropping": a} if (a > 0 or n < 3) else {}
    return {"cropping": (a, min(b, n - 1 - a))}


def g_crop2(S_, R):
    if len(S_) != 3 or min(S_[:2]) < 2:
        return None
    h, w = S_[:2]
    form = R.randint(0, 2)
    if form == 0:
        c = R.randint(0, (min(h, w) - 1) // 2)
        return {"cropping": c}
    if form == 1:
        return {"cropping": (R.randint(0, (h - 1) // 2), R.randint(0, (w - 1) // 2))}
    t = R.randint(0, h - 1)
    b = R.randint(0, h - 1 - t)
    le = R.randint(0, w - 1)
    ri = R.randint(0, w - 1 - le)
    return {"cropping": ((t, b), (le, ri))}


def g_embedding(S_, R):
    return None  # only as a first layer (see random_case)


GEN = {
    "Dense": g_dense, "Activation": g_activation, "ReLU": g_relu, "LeakyReLU": g_leaky, "PReLU": g_prelu,
    "ELU": g_elu, "Softmax": g_softmax, "Flatten": g_flatten, "Reshape": g_reshape, "Permute": g_permute,
    "RepeatVector": g_repeat, "Dropout": g_rate, "SpatialDropout1D": g_sd1, "SpatialDropout2D": g_sd2,
    "GaussianNoise": g_gnoise, "GaussianDropout": g_rate, "AlphaDropout": g_rate, "Identity": g_identity,
    "Rescaling": g_rescaling, "UnitNormalization": g_unitnorm, "Conv1D": g_conv(1), "Conv2D": g_conv(2),
    "Conv1DTranspose": g_conv_t(1), "Conv2DTranspose": g_conv_t(2), "DepthwiseConv2D": g_depthwise,
    "SeparableConv2D": g_separable, "MaxPooling1D": g_pool(1), "MaxPooling2D": g_pool(2),
    "AveragePooling1D": g_pool(1), "AveragePooling2D": g_pool(2), "GlobalAveragePooling1D": g_global(1),
    "GlobalAveragePooling2D": g_global(2), "GlobalMaxPooling1D": g_global(1),
    "GlobalMaxPooling2D": g_global(2), "BatchNormalization": g_bn, "LayerNormalization": g_ln,
    "Embedding": g_embedding, "SimpleRNN": g_rnn("SimpleRNN"), "LSTM": g_rnn("LSTM"), "GRU": g_rnn("GRU"),
    "ZeroPadding1D": g_zp1, "ZeroPadding2D": g_zp2, "UpSampling1D": g_up1, "UpSampling2D": g_up2,
    "Cropping1D": g_crop1, "Cropping2D": g_crop2,
}
assert set(GEN) == set(LAYER_CLASSES)

# layers that keep the rank (used before the focus layer)
RANK_KEEPING = ["Dense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout",
                "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity", "Rescaling",
                "UnitNormalization", "BatchNormalization", "LayerNormalization"]
RANK1_ONLY = {"RepeatVector"}
RANK2_ONLY = {"SpatialDropout1D", "Conv1D", "Conv1DTranspose", "MaxPooling1D", "AveragePooling1D",
              "GlobalAveragePooling1D", "GlobalMaxPooling1D", "SimpleRNN", "LSTM", "GRU", "ZeroPadding1D",
              "UpSampling1D", "Cropping1D"}
RANK3_ONLY = {"SpatialDropout2D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
              "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
              "ZeroPadding2D", "UpSampling2D", "Cropping2D"}


def focus_ranks(cls):
    if cls in RANK1_ONLY:
        return [1]
    if cls in RANK2_ONLY:
        return [2]
    if cls in RANK3_ONLY:
        return [3]
    if cls in ("Flatten", "Permute"):
        return [2, 3]
    return [1, 2, 2, 3, 3]


def class_weight(cls, r):
    if cls in RANK1_ONLY or cls in RANK2_ONLY or cls in RANK3_ONLY:
        return 3.0
    if cls == "Dense":
        return 3.0
    if cls in ("Flatten",):
        return 2.0
    return 1.0


def rnd_input_shape(R, rank, small=False):
    if rank == 1:
        return [R.randint(2, 12 if small else 16)]
    if rank == 2:
        return [R.randint(2, 8), R.randint(1, 6 if small else 12)]
    hw = 8 if small else 12
    return [R.randint(3, hw), R.randint(3, hw), R.randint(1, 3 if small else 4)]


def custom_name(R, cls, used):
    if R.random() < 0.08:
        base = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cls).lower()
        n = f"{base}_blk{R.randint(1, 99)}"
        if n not in used:
            used.add(n)
            return n
    return None


class RandomStackGen:
    """Draws plausible random stacks, using Keras itself as the oracle at each step."""

    def __init__(self, R, failures):
        self.R = R
        self.failures = failures

    def try_layer(self, x, input_shape, specs, spec):
        try:
            layer = mk(spec)
            y = layer(x)
            return y
        except Exception as e:  # noqa: BLE001
            self.failures.append((list(input_shape), list(specs) + [spec], spec[0], clean_error(e)))
            return None

    def stack(self, focus, max_layers=6, small=False, max_elems=6000):
        R = self.R
        used = set()
        for _ in range(50):
            clear()
            n_layers = R.randint(1, max_layers)
            specs = []
            if focus == "Embedding":
                T = R.randint(2, 8)
                input_shape = [T]
                x = keras.Input((T,))
                spec = S("Embedding", input_dim=R.randint(3, 20), output_dim=R.randint(2, 8 if small else 12))
                x = self.try_layer(x, input_shape, specs, spec)
                if x is None:
                    continue
                specs.append(spec)
                placed = True
            else:
                rank = R.choice(focus_ranks(focus))
                input_shape = rnd_input_shape(R, rank, small)
                x = keras.Input(tuple(input_shape))
                placed = False
                n_before = R.randint(0, min(2, n_layers - 1)) if R.random() < 0.5 else 0
                for _i in range(n_before):
                    cls = R.choice(RANK_KEEPING)
                    kw = GEN[cls](tuple(x.shape[1:]), R)
                    if kw is None:
                        continue
                    spec = (cls, kw)
                    y = self.try_layer(x, input_shape, specs, spec)
                    if y is not None:
                        x = y
                        specs.append(spec)
                kw = GEN[focus](tuple(x.shape[1:]), R)
                if kw is None:
                    continue
                spec = (focus, kw)
                y = self.try_layer(x, input_shape, specs, spec)
                if y is None:
                    continue
                x = y
                specs.append(spec)
                placed = True
            guard = 0
            while len(specs) < n_layers and guard < 30:
                guard += 1
                shp = tuple(x.shape[1:])
                cands = []
                for cls in LAYER_CLASSES:
                    if cls == "Embedding":
                        continue
                    if small and cls in ("Reshape",) and R.random() < 0.5:
                        continue
                    cands.append(cls)
                weights = [class_weight(c, len(shp)) for c in cands]
                cls = R.choices(cands, weights)[0]
                kw = GEN[cls](shp, R)
                if kw is None:
                    continue
                spec = (cls, kw)
                y = self.try_layer(x, input_shape, specs, spec)
                if y is None:
                    continue
                if prod(y.shape[1:]) > max_elems:
                    continue
                x = y
                specs.append(spec)
            if not placed or prod(x.shape[1:]) > max_elems:
                continue
            # sprinkle a few custom layer names
            named = []
            for cls, kw in specs:
                nm = custom_name(R, cls, used)
                named.append((cls, dict(kw, name=nm) if nm else kw))
            return input_shape, named
        raise RuntimeError(f"could not draw a stack for {focus}")


def case_detail(spec):
    cls, kw = spec
    bits = []
    if "padding" in kw and isinstance(kw["padding"], str):
        bits.append(kw["padding"])
    if cls in ("LSTM", "GRU", "SimpleRNN"):
        bits.append("seq" if kw.get("return_sequences") else "last")
        if cls == "GRU" and kw.get("reset_after") is False:
            bits.append("ra0")
    if cls == "Activation":
        bits.append(kw["activation"])
    if cls == "UpSampling2D":
        bits.append(kw.get("interpolation", "nearest"))
    if isinstance(kw.get("strides"), (int, tuple)) and kw.get("strides") not in (1, (1, 1)):
        bits.append("s")
    return "_".join([snake(cls)] + bits)


# ----------------------------------------------------------------------------------------------
# fixed cases
# ----------------------------------------------------------------------------------------------
def seed_models():
    d1 = [S("Dense", units=300, activation="relu")]
    d2 = [S("Dense", units=16), S("Activation", activation="relu")]
    c4 = [S("Conv2D", filters=32, kernel_size=(2, 1), activation="relu")]
    tail4 = [S("Dense", units=100, activation="relu"), S("Dropout", rate=0.2), S("Dense", units=100, activation="relu"),
             S("Dropout", rate=0.2), S("Dense", units=2, activation="softmax")]
    return [
        ("seed000_flatten", [20, 10], d1 + [S("Flatten"), S("Dense", units=1, activation="relu")]),
        ("seed000_noflatten", [20, 10], d1 + [S("Dense", units=1, activation="relu")]),
        ("seed001_flatten", [3, 2], d2 + [S("Flatten"), S("Dense", units=4)]),
        ("seed001_noflatten", [3, 2], d2 + [S("Dense", units=4)]),
        ("seed004_model1", [2, 15, 1], c4 + [S("Flatten")] + tail4),
        ("seed004_model2", [2, 15, 1], c4 + tail4),
    ]


def edge_cases():
    """Deliberate valid edge cases (small enough for forward fixtures as well)."""
    E = []

    def e(name, shape, *specs):
        E.append((name, list(shape), list(specs)))

    # Conv1D
    e("conv1d_valid", (8, 3), S("Conv1D", filters=4, kernel_size=3))
    e("conv1d_same", (7, 3), S("Conv1D", filters=4, kernel_size=4, padding="same"))
    e("conv1d_causal", (8, 2), S("Conv1D", filters=3, kernel_size=3, padding="causal"))
    e("conv1d_causal_dil2", (8, 2), S("Conv1D", filters=3, kernel_size=3, padding="causal", dilation_rate=2))
    e("conv1d_causal_stride2", (8, 2), S("Conv1D", filters=3, kernel_size=2, padding="causal", strides=2))
    e("conv1d_same_stride2", (7, 3), S("Conv1D", filters=2, kernel_size=3, strides=2, padding="same"))
    e("conv1d_valid_stride3", (8, 3), S("Conv1D", filters=2, kernel_size=2, strides=3))
    e("conv1d_dil2_valid", (8, 2), S("Conv1D", filters=2, kernel_size=3, dilation_rate=2))
    e("conv1d_groups2", (6, 4), S("Conv1D", filters=6, kernel_size=2, groups=2, activation="relu"))
    e("conv1d_nobias_tanh", (6, 3), S("Conv1D", filters=5, kernel_size=1, use_bias=False, activation="tanh"))
    # Conv2D
    e("conv2d_valid", (6, 6, 2), S("Conv2D", filters=4, kernel_size=3))
    e("conv2d_same", (5, 6, 2), S("Conv2D", filters=3, kernel_size=3, padding="same"))
    e("conv2d_same_even_kernel", (5, 5, 1), S("Conv2D", filters=2, kernel_size=4, padding="same"))
    e("conv2d_valid_stride2", (7, 7, 2), S("Conv2D", filters=3, kernel_size=3, strides=2))
    e("conv2d_same_stride2", (7, 6, 2), S("Conv2D", filters=3, kernel_size=3, strides=2, padding="same"))
    e("conv2d_asym_kernel_stride", (8, 9, 1), S("Conv2D", filters=2, kernel_size=(3, 2), strides=(1, 3)))
    e("conv2d_same_asym_stride", (7, 8, 2), S("Conv2D", filters=2, kernel_size=(2, 3), strides=(2, 3), padding="same"))
    e("conv2d_dil2", (8, 8, 2), S("Conv2D", filters=2, kernel_size=3, dilation_rate=2))
    e("conv2d_dil_asym_same", (7, 7, 2), S("Conv2D", filters=2, kernel_size=3, dilation_rate=(1, 2), padding="same"))
    e("conv2d_groups2", (5, 5, 4), S("Conv2D", filters=4, kernel_size=2, groups=2))
    e("conv2d_groups4", (5, 5, 4), S("Conv2D", filters=8, kernel_size=3, groups=4, padding="same"))
    e("conv2d_nobias_relu", (5, 5, 3), S("Conv2D", filters=3, kernel_size=1, use_bias=False, activation="relu"))
    e("conv2d_kernel_eq_input", (4, 4, 1), S("Conv2D", filters=2, kernel_size=4))
    # transposed
    e("conv1dt_valid", (5, 2), S("Conv1DTranspose", filters=3, kernel_size=3))
    e("conv1dt_same_stride2", (5, 2), S("Conv1DTranspose", filters=3, kernel_size=3, strides=2, padding="same"))
    e("conv1dt_valid_stride2_outpad1", (4, 2), S("Conv1DTranspose", filters=2, kernel_size=3, strides=2, output_padding=1))
    e("conv1dt_same_stride3_outpad2", (4, 2), S("Conv1DTranspose", filters=2, kernel_size=2, strides=3, padding="same", output_padding=2))
    e("conv1dt_dil2", (5, 2), S("Conv1DTranspose", filters=2, kernel_size=3, dilation_rate=2))
    e("conv1dt_kernel_lt_stride", (4, 2), S("Conv1DTranspose", filters=2, kernel_size=2, strides=3))
    e("conv2dt_valid", (4, 4, 2), S("Conv2DTranspose", filters=3, kernel_size=3))
    e("conv2dt_same_stride2", (4, 3, 2), S("Conv2DTranspose", filters=2, kernel_size=3, strides=2, padding="same"))
    e("conv2dt_valid_stride2_outpad1", (3, 4, 2), S("Conv2DTranspose", filters=2, kernel_size=3, strides=2, output_padding=1))
    e("conv2dt_asym_stride_outpad", (3, 3, 1), S("Conv2DTranspose", filters=2, kernel_size=(3, 2), strides=(2, 3), output_padding=(1, 2)))
    e("conv2dt_same_stride2_outpad1", (3, 3, 2), S("Conv2DTranspose", filters=2, kernel_size=4, strides=2, padding="same", output_padding=1))
    e("conv2dt_dil2_same", (4, 4, 1), S("Conv2DTranspose", filters=2, kernel_size=3, dilation_rate=2, padding="same"))
    e("conv2dt_kernel_lt_stride", (3, 3, 2), S("Conv2DTranspose", filters=2, kernel_size=2, strides=3, activation="relu"))
    # depthwise / separable
    e("depthwise_valid", (6, 6, 3), S("DepthwiseConv2D", kernel_size=3))
    e("depthwise_mult2_same", (5, 5, 2), S("DepthwiseConv2D", kernel_size=3, depth_multiplier=2, padding="same"))
    e("depthwise_mult3_stride2", (7, 7, 2), S("DepthwiseConv2D", kernel_size=2, depth_multiplier=3, strides=2))
    e("depthwise_dil2", (7, 7, 2), S("DepthwiseConv2D", kernel_size=3, dilation_rate=2, use_bias=False))
    e("depthwise_stride2_dil2", (9, 9, 2), S("DepthwiseConv2D", kernel_size=3, strides=2, dilation_rate=2))
    e("separable_valid", (6, 6, 2), S("SeparableConv2D", filters=4, kernel_size=3))
    e("separable_mult2_same_stride2", (7, 6, 3), S("SeparableConv2D", filters=3, kernel_size=3, depth_multiplier=2, strides=2, padding="same"))
    e("separable_dil2_relu", (8, 8, 2), S("SeparableConv2D", filters=2, kernel_size=2, dilation_rate=2, activation="relu"))
    e("separable_nobias", (5, 5, 2), S("SeparableConv2D", filters=3, kernel_size=(2, 3), use_bias=False))
    # pooling
    e("maxpool1d_default", (7, 3), S("MaxPooling1D"))
    e("maxpool1d_pool3_stride1", (7, 2), S("MaxPooling1D", pool_size=3, strides=1))
    e("maxpool1d_same_stride2_pool3", (7, 2), S("MaxPooling1D", pool_size=3, strides=2, padding="same"))
    e("avgpool1d_same_stride1", (6, 2), S("AveragePooling1D", pool_size=3, strides=1, padding="same"))
    e("avgpool1d_valid_stride_gt_pool", (8, 2), S("AveragePooling1D", pool_size=2, strides=3))
    e("maxpool2d_default_odd", (7, 5, 2), S("MaxPooling2D"))
    e("maxpool2d_same_stride1", (5, 5, 2), S("MaxPooling2D", pool_size=2, strides=1, padding="same"))
    e("maxpool2d_pool3_stride2", (7, 7, 1), S("MaxPooling2D", pool_size=3, strides=2))
    e("maxpool2d_asym", (6, 7, 2), S("MaxPooling2D", pool_size=(2, 3), strides=(1, 2)))
    e("avgpool2d_same_stride3", (7, 7, 2), S("AveragePooling2D", pool_size=2, strides=3, padding="same"))
    e("avgpool2d_same_pool3", (5, 4, 2), S("AveragePooling2D", pool_size=3, strides=2, padding="same"))
    e("avgpool2d_valid", (6, 6, 3), S("AveragePooling2D", pool_size=2))
    e("gap1d", (5, 3), S("GlobalAveragePooling1D"))
    e("gap1d_keepdims", (5, 3), S("GlobalAveragePooling1D", keepdims=True))
    e("gmp1d", (5, 3), S("GlobalMaxPooling1D"))
    e("gmp1d_keepdims", (5, 3), S("GlobalMaxPooling1D", keepdims=True))
    e("gap2d", (4, 5, 3), S("GlobalAveragePooling2D"))
    e("gap2d_keepdims", (4, 5, 3), S("GlobalAveragePooling2D", keepdims=True))
    e("gmp2d", (4, 5, 3), S("GlobalMaxPooling2D"))
    e("gmp2d_keepdims_dense", (4, 5, 3), S("GlobalMaxPooling2D", keepdims=True), S("Dense", units=2))
    # normalization
    e("bn_rank2", (6,), S("BatchNormalization"))
    e("bn_center_false", (6,), S("BatchNormalization", center=False))
    e("bn_scale_false", (5, 4), S("BatchNormalization", scale=False))
    e("bn_both_false", (5,), S("BatchNormalization", center=False, scale=False))
    e("bn_after_conv2d", (5, 5, 2), S("Conv2D", filters=3, kernel_size=3), S("BatchNormalization", epsilon=1e-5))
    e("ln_default", (4, 6), S("LayerNormalization"))
    e("ln_center_false", (6,), S("LayerNormalization", center=False))
    e("ln_scale_false_eps", (3, 3, 4), S("LayerNormalization", scale=False, epsilon=1e-6))
    e("unitnorm_rank3", (4, 5), S("UnitNormalization"))
    e("unitnorm_rank2", (6,), S("UnitNormalization"))
    # embedding
    e("embedding_flatten_dense", (5,), S("Embedding", input_dim=10, output_dim=4), S("Flatten"), S("Dense", units=3))
    e("embedding_lstm", (6,), S("Embedding", input_dim=12, output_dim=3), S("LSTM", units=4))
    e("embedding_gap1d", (4,), S("Embedding", input_dim=7, output_dim=5), S("GlobalAveragePooling1D"))
    # RNNs
    e("simplernn_last", (5, 3), S("SimpleRNN", units=4))
    e("simplernn_seq", (5, 3), S("SimpleRNN", units=4, return_sequences=True))
    e("lstm_last", (5, 3), S("LSTM", units=4))
    e("lstm_seq", (5, 3), S("LSTM", units=3, return_sequences=True))
    e("lstm_nobias", (4, 2), S("LSTM", units=3, use_bias=False))
    e("lstm_stacked", (6, 2), S("LSTM", units=4, return_sequences=True), S("LSTM", units=2))
    e("gru_last", (5, 3), S("GRU", units=4))
    e("gru_seq", (5, 3), S("GRU", units=3, return_sequences=True))
    e("gru_reset_after_false_last", (5, 3), S("GRU", units=4, reset_after=False))
    e("gru_reset_after_false_seq", (5, 3), S("GRU", units=3, reset_after=False, return_sequences=True))
    e("gru_nobias", (4, 2), S("GRU", units=3, use_bias=False))
    e("gru_ra0_nobias_seq", (4, 2), S("GRU", units=2, use_bias=False, reset_after=False, return_sequences=True))
    e("rnn_relu_hardsig", (4, 3), S("LSTM", units=3, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True))
    e("repeatvector_lstm", (5,), S("RepeatVector", n=3), S("LSTM", units=2, return_sequences=True))
    # reshaping
    e("reshape_neg1_last", (4, 6), S("Reshape", target_shape=(8, -1)))
    e("reshape_neg1_first", (4, 6), S("Reshape", target_shape=(-1, 2, 3)))
    e("reshape_neg1_middle", (12,), S("Reshape", target_shape=(2, -1, 2)))
    e("reshape_to_image", (16,), S("Reshape", target_shape=(4, 4, 1)), S("Conv2D", filters=2, kernel_size=2))
    e("reshape_flat", (3, 4, 2), S("Reshape", target_shape=(24,)))
    e("permute_21", (4, 3), S("Permute", dims=(2, 1)))
    e("permute_312", (4, 3, 2), S("Permute", dims=(3, 1, 2)))
    e("permute_231_dense", (4, 3, 2), S("Permute", dims=(2, 3, 1)), S("Dense", units=2))
    e("flatten_rank2", (7,), S("Flatten"))
    e("flatten_rank4", (3, 4, 2), S("Flatten"), S("Dense", units=3))
    e("zeropad1d_int", (5, 2), S("ZeroPadding1D", padding=2))
    e("zeropad1d_tuple", (5, 2), S("ZeroPadding1D", padding=(1, 3)))
    e("zeropad2d_int", (3, 4, 2), S("ZeroPadding2D", padding=1))
    e("zeropad2d_pair", (3, 4, 2), S("ZeroPadding2D", padding=(2, 1)))
    e("zeropad2d_nested", (3, 4, 2), S("ZeroPadding2D", padding=((1, 0), (2, 3))))
    e("cropping1d_int", (6, 2), S("Cropping1D", cropping=2))
    e("cropping1d_tuple", (6, 2), S("Cropping1D", cropping=(0, 3)))
    e("cropping2d_int", (6, 6, 2), S("Cropping2D", cropping=2))
    e("cropping2d_pair", (6, 7, 2), S("Cropping2D", cropping=(1, 2)))
    e("cropping2d_nested", (6, 7, 2), S("Cropping2D", cropping=((0, 2), (3, 1))))
    e("upsampling1d_2", (4, 2), S("UpSampling1D"))
    e("upsampling1d_3", (4, 2), S("UpSampling1D", size=3))
    e("upsampling2d_nearest", (3, 3, 2), S("UpSampling2D"))
    e("upsampling2d_nearest_23", (3, 4, 2), S("UpSampling2D", size=(2, 3)))
    e("upsampling2d_bilinear", (3, 3, 2), S("UpSampling2D", interpolation="bilinear"))
    e("upsampling2d_bilinear_32", (4, 3, 1), S("UpSampling2D", size=(3, 2), interpolation="bilinear"))
    e("repeatvector", (4,), S("RepeatVector", n=3))
    # activation layers
    e("relu_default", (6,), S("ReLU"))
    e("relu_max_value", (6,), S("ReLU", max_value=1.0))
    e("relu_negative_slope", (6,), S("ReLU", negative_slope=0.1))
    e("relu_threshold", (6,), S("ReLU", threshold=0.5))
    e("relu_all_three", (3, 4), S("ReLU", max_value=0.8, negative_slope=0.2, threshold=0.3))
    e("leakyrelu_default", (6,), S("LeakyReLU"))
    e("leakyrelu_01", (3, 4), S("LeakyReLU", negative_slope=0.1))
    e("prelu_rank2", (6,), S("PReLU"))
    e("prelu_rank3", (4, 3), S("PReLU"))
    e("prelu_rank4_shared12", (3, 4, 2), S("PReLU", shared_axes=[1, 2]))
    e("prelu_shared1", (4, 3), S("PReLU", shared_axes=[1]))
    e("elu_default", (6,), S("ELU"))
    e("elu_alpha05", (6,), S("ELU", alpha=0.5))
    e("softmax_layer", (3, 5), S("Softmax"))
    e("rescaling_255", (3, 3, 2), S("Rescaling", scale=1.0 / 255))
    e("rescaling_offset", (5,), S("Rescaling", scale=0.5, offset=-1.0))
    # regularization / identity
    e("dropout", (6,), S("Dropout", rate=0.3))
    e("spatialdropout1d", (5, 3), S("SpatialDropout1D", rate=0.2))
    e("spatialdropout2d", (4, 4, 2), S("SpatialDropout2D", rate=0.2))
    e("gaussiannoise", (6,), S("GaussianNoise", stddev=0.1))
    e("gaussiandropout", (6,), S("GaussianDropout", rate=0.2))
    e("alphadropout", (6,), S("AlphaDropout", rate=0.2))
    e("identity", (3, 4), S("Identity"))
    # dense on higher rank
    e("dense_rank3", (4, 5), S("Dense", units=3))
    e("dense_rank4", (3, 4, 2), S("Dense", units=3, activation="relu"))
    e("dense_rank5", (2, 3, 2, 2), S("Dense", units=2))
    e("dense_nobias", (5,), S("Dense", units=4, use_bias=False))
    # small realistic models
    e("mini_cnn", (8, 8, 1), S("Conv2D", filters=4, kernel_size=3, activation="relu"), S("MaxPooling2D"),
      S("Flatten"), S("Dense", units=3, activation="softmax"))
    e("mini_text_cnn", (8,), S("Embedding", input_dim=20, output_dim=4), S("Conv1D", filters=3, kernel_size=3, activation="relu"),
      S("GlobalMaxPooling1D"), S("Dense", units=1, activation="sigmoid"))
    e("mini_autoenc", (4, 4, 2), S("Conv2D", filters=3, kernel_size=3, strides=2, padding="same"),
      S("Conv2DTranspose", filters=2, kernel_size=3, strides=2, padding="same"))
    for a in ACTIVATIONS:
        e(f"act_{a}", (3, 5), S("Dense", units=4), S("Activation", activation=a))
    return E


def bad_cases():
    """Deliberately invalid stacks. Each: (name, input_shape, specs, fix) where `fix` (for constructor
    failures) gives valid replacement kwargs used to serialize a proxy of the refused layer."""
    B = []

    def b(name, shape, specs, fix=None):
        B.append((name, list(shape), specs, fix or {}))

    d = S("Dense", units=4)
    b("conv2d_on_rank2", (8,), [S("Conv2D", filters=2, kernel_size=3)])
    b("conv2d_on_rank3_after_dense", (6, 4), [d, S("Conv2D", filters=2, kernel_size=3)])
    b("conv2d_kernel_too_big", (4, 4, 1), [S("Conv2D", filters=2, kernel_size=5)])
    b("conv2d_kernel_too_big_one_axis", (4, 9, 1), [S("Conv2D", filters=2, kernel_size=(5, 3))])
    b("conv2d_too_small_after_pool", (6, 6, 1), [S("MaxPooling2D", pool_size=2), S("Conv2D", filters=2, kernel_size=4)])
    b("conv1d_kernel_too_big", (4, 3), [S("Conv1D", filters=2, kernel_size=5)])
    b("conv1d_dilated_too_big", (6, 3), [S("Conv1D", filters=2, kernel_size=3, dilation_rate=3)])
    b("conv1d_too_small_after_stride", (8, 2), [S("Conv1D", filters=2, kernel_size=2, strides=3), S("Conv1D", filters=2, kernel_size=4)])
    b("conv1d_on_rank2", (8,), [S("Conv1D", filters=2, kernel_size=3)])
    b("conv1d_on_rank4", (5, 5, 2), [S("Conv1D", filters=2, kernel_size=3)])
    b("conv2d_groups_not_dividing_channels", (6, 6, 3), [S("Conv2D", filters=4, kernel_size=3, groups=2)])
    b("conv1d_groups_not_dividing_channels", (6, 3), [S("Conv1D", filters=4, kernel_size=3, groups=2)])
    b("conv2dt_on_rank3", (4, 2), [S("Conv2DTranspose", filters=2, kernel_size=3)])
    b("conv1dt_on_rank4", (4, 4, 2), [S("Conv1DTranspose", filters=2, kernel_size=3)])
    b("depthwise_kernel_too_big", (3, 3, 2), [S("DepthwiseConv2D", kernel_size=4)])
    b("depthwise_on_rank3", (5, 2), [S("DepthwiseConv2D", kernel_size=2)])
    b("separable_kernel_too_big", (3, 3, 2), [S("SeparableConv2D", filters=2, kernel_size=4)])
    b("separable_on_rank2", (9,), [S("SeparableConv2D", filters=2, kernel_size=2)])
    b("maxpool2d_too_big", (3, 3, 2), [S("MaxPooling2D", pool_size=4)])
    b("avgpool2d_too_big_after_conv", (5, 5, 1), [S("Conv2D", filters=2, kernel_size=3), S("AveragePooling2D", pool_size=4)])
    b("maxpool1d_too_big", (3, 2), [S("MaxPooling1D", pool_size=4)])
    b("avgpool1d_too_big", (3, 2), [S("AveragePooling1D", pool_size=4)])
    b("maxpool2d_on_rank3", (3, 2), [S("MaxPooling2D", pool_size=2)])
    b("maxpool1d_on_rank4", (4, 4, 2), [S("MaxPooling1D", pool_size=2)])
    b("avgpool2d_strides0", (4, 4, 2), [S("AveragePooling2D", pool_size=2, strides=0)])
    b("maxpool1d_causal_padding", (4, 2), [S("MaxPooling1D", pool_size=2, padding="causal")])
    b("gap2d_on_rank3", (4, 2), [S("GlobalAveragePooling2D")])
    b("gap1d_on_rank4", (4, 4, 2), [S("GlobalAveragePooling1D")])
    b("gmp1d_on_rank2_after_flatten", (4, 3), [S("Flatten"), S("GlobalMaxPooling1D")])
    b("gmp2d_on_rank2", (6,), [S("GlobalMaxPooling2D")])
    b("reshape_mismatch", (4, 3), [S("Reshape", target_shape=(5,))])
    b("reshape_mismatch_after_dense", (4,), [S("Dense", units=6), S("Reshape", target_shape=(4, 2))])
    b("reshape_neg1_not_divisible", (4, 3), [S("Reshape", target_shape=(5, -1))])
    b("reshape_zero_dim", (4, 3), [S("Reshape", target_shape=(0, 12))])
    b("permute_wrong_rank", (4, 3, 2), [S("Permute", dims=(2, 1))])
    b("lstm_on_rank2", (4,), [S("LSTM", units=3)])
    b("gru_on_rank4", (4, 3, 2), [S("GRU", units=3)])
    b("simplernn_on_rank2_after_flatten", (4, 3), [S("Flatten"), S("SimpleRNN", units=3)])
    b("lstm_after_lstm_last", (5, 3), [S("LSTM", units=3), S("LSTM", units=2)])
    b("cropping1d_too_much", (4, 3), [S("Cropping1D", cropping=(2, 2))])
    b("cropping2d_too_much_rows", (4, 4, 3), [S("Cropping2D", cropping=((2, 2), (0, 0)))])
    b("cropping2d_int_too_much", (4, 4, 3), [S("Cropping2D", cropping=3)])
    b("cropping2d_pair_too_much_cols", (6, 3, 1), [S("Cropping2D", cropping=(1, 2))])
    b("cropping1d_on_rank4", (4, 4, 3), [S("Cropping1D", cropping=1)])
    b("zeropad2d_on_rank3", (4, 3), [S("ZeroPadding2D", padding=1)])
    b("zeropad1d_on_rank2", (4,), [S("ZeroPadding1D", padding=1)])
    b("upsampling2d_on_rank3", (4, 3), [S("UpSampling2D", size=2)])
    b("upsampling1d_on_rank4", (2, 2, 3), [S("UpSampling1D", size=2)])
    b("repeatvector_on_rank3", (4, 3), [S("RepeatVector", n=2)])
    b("spatialdropout1d_on_rank2", (4,), [S("SpatialDropout1D", rate=0.1)])
    b("spatialdropout2d_on_rank3", (4, 3), [S("SpatialDropout2D", rate=0.1)])
    b("prelu_shared_axis_out_of_range", (4, 3), [S("PReLU", shared_axes=[3])])
    b("bn_axis_out_of_range", (4, 3), [S("BatchNormalization", axis=3)])
    b("ln_axis_out_of_range", (4, 3), [S("LayerNormalization", axis=3)])
    b("unitnorm_axis_out_of_range", (4, 3), [S("UnitNormalization", axis=3)])
    b("dense_on_rank1", (), [S("Dense", units=3)])
    # constructor-time refusals
    b("conv2d_causal_padding", (6, 6, 1), [S("Conv2D", filters=2, kernel_size=3, padding="causal")], {"padding": "valid"})
    b("conv2d_unknown_padding", (6, 6, 1), [S("Conv2D", filters=2, kernel_size=3, padding="full")], {"padding": "valid"})
    b("conv2d_strides_and_dilation", (8, 8, 1), [S("Conv2D", filters=2, kernel_size=3, strides=2, dilation_rate=2)], {"dilation_rate": 1})
    b("conv1d_strides_and_dilation", (8, 2), [S("Conv1D", filters=2, kernel_size=3, strides=2, dilation_rate=2)], {"dilation_rate": 1})
    b("conv2dt_strides_and_dilation", (4, 4, 2), [S("Conv2DTranspose", filters=2, kernel_size=3, strides=2, dilation_rate=2)], {"dilation_rate": 1})
    b("conv2d_filters_not_divisible_by_groups", (6, 6, 4), [S("Conv2D", filters=3, kernel_size=3, groups=2)], {"filters": 4})
    b("conv2d_filters0", (6, 6, 4), [S("Conv2D", filters=0, kernel_size=3)], {"filters": 1})
    b("conv1d_kernel0", (6, 4), [S("Conv1D", filters=2, kernel_size=0)], {"kernel_size": 1})
    b("conv2d_strides0", (6, 6, 4), [d, S("Conv2D", filters=2, kernel_size=3, strides=0)], {"strides": 1})
    b("conv2dt_output_padding_ge_strides", (4, 4, 2), [S("Conv2DTranspose", filters=2, kernel_size=3, strides=2, output_padding=2)], {"output_padding": 1})
    b("conv1dt_output_padding_ge_strides", (4, 2), [S("Conv1DTranspose", filters=2, kernel_size=3, strides=2, output_padding=3)], {"output_padding": 1})
    b("conv1dt_causal_padding", (4, 2), [S("Conv1DTranspose", filters=2, kernel_size=3, padding="causal")], {"padding": "valid"})
    b("depthwise_multiplier0", (4, 4, 2), [S("DepthwiseConv2D", kernel_size=2, depth_multiplier=0)], {"depth_multiplier": 1})
    b("separable_multiplier0", (4, 4, 2), [S("SeparableConv2D", filters=2, kernel_size=2, depth_multiplier=0)], {"depth_multiplier": 1})
    b("depthwise_causal_padding", (4, 4, 2), [S("DepthwiseConv2D", kernel_size=2, padding="causal")], {"padding": "valid"})
    b("maxpool2d_pool0", (4, 4, 2), [S("MaxPooling2D", pool_size=0)], {"pool_size": 2})
    b("reshape_two_unknown", (4, 3), [S("Reshape", target_shape=(-1, -1))], {"target_shape": (-1, 1)})
    b("reshape_negative_dim", (4, 3), [S("Reshape", target_shape=(-2, -6))], {"target_shape": (2, 6)})
    b("permute_not_consecutive", (4, 3), [S("Permute", dims=(1, 3))], {"dims": (2, 1)})
    b("permute_duplicate", (4, 3), [S("Permute", dims=(1, 1))], {"dims": (2, 1)})
    b("permute_zero_based", (4, 3), [S("Permute", dims=(0, 1))], {"dims": (2, 1)})
    b("dense_units0", (4,), [S("Dense", units=0)], {"units": 1})
    b("dense_units_negative", (4,), [d, S("Dense", units=-1)], {"units": 1})
    b("lstm_units0", (4, 3), [S("LSTM", units=0)], {"units": 1})
    b("gru_units0", (4, 3), [S("GRU", units=0)], {"units": 1})
    b("simplernn_units0", (4, 3), [S("SimpleRNN", units=0)], {"units": 1})
    b("cropping1d_negative", (4, 3), [S("Cropping1D", cropping=-1)], {"cropping": 1})
    b("zeropad1d_negative", (4, 3), [S("ZeroPadding1D", padding=-1)], {"padding": 1})
    b("zeropad2d_negative", (4, 4, 3), [S("ZeroPadding2D", padding=((1, 1), (0, -1)))], {"padding": 1})
    b("upsampling1d_size0", (4, 3), [S("UpSampling1D", size=0)], {"size": 2})
    b("upsampling2d_size0", (4, 4, 3), [S("UpSampling2D", size=0)], {"size": 2})
    b("repeatvector_n0", (4,), [S("RepeatVector", n=0)], {"n": 1})
    b("dropout_rate_negative", (4,), [S("Dropout", rate=-0.1)], {"rate": 0.1})
    b("dropout_rate_2", (4,), [d, S("Dropout", rate=2.0)], {"rate": 0.1})
    b("gaussiandropout_rate_negative", (4,), [S("GaussianDropout", rate=-0.1)], {"rate": 0.1})
    b("gaussiannoise_stddev_negative", (4,), [S("GaussianNoise", stddev=-0.1)], {"stddev": 0.1})
    b("embedding_input_dim0", (4,), [S("Embedding", input_dim=0, output_dim=3)], {"input_dim": 1})
    b("embedding_output_dim0", (4,), [S("Embedding", input_dim=5, output_dim=0)], {"output_dim": 1})
    b("activation_unknown", (4,), [d, S("Activation", activation="nope")], {"activation": "relu"})
    b("dense_activation_unknown", (4,), [S("Dense", units=2, activation="swishy")], {"activation": "relu"})
    b("relu_negative_max_value", (4,), [S("ReLU", max_value=-1.0)], {"max_value": 1.0})
    b("relu_negative_threshold", (4,), [S("ReLU", threshold=-0.5)], {"threshold": 0.5})
    b("relu_negative_slope_negative", (4,), [S("ReLU", negative_slope=-1.0)], {"negative_slope": 0.1})
    b("leakyrelu_negative_slope_negative", (4,), [S("LeakyReLU", negative_slope=-1.0)], {"negative_slope": 0.1})
    # the refused layer is followed by more layers
    b("conv2d_on_rank2_then_more", (8,), [d, S("Conv2D", filters=2, kernel_size=1), S("Flatten"), S("Dense", units=2)])
    b("pool_too_big_mid_stack", (6, 6, 1), [S("Conv2D", filters=2, kernel_size=3), S("ReLU"), S("MaxPooling2D", pool_size=5),
                                            S("Flatten"), S("Dense", units=2)])
    return B


# ----------------------------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------------------------
class Gen:
    def __init__(self, out, seed):
        self.out = out
        self.seed = seed
        self.R = random.Random(seed)
        self.counter = 0
        self.stats = Counter()
        self.class_counts = {"summary": Counter(), "forward": Counter(), "import": Counter()}
        self.surprises = []
        self.rand_failures = []

    def next_seed(self):
        self.counter += 1
        return self.seed * 1_000_003 + self.counter

    # --- valid summary case
    def summary_valid(self, name, input_shape, specs):
        fresh(self.next_seed())
        model = build_sequential(name, input_shape, specs)
        exp = summarize(model.layers, [None] + list(input_shape))
        d = os.path.join(self.out, "summary", name)
        write_text(os.path.join(d, "model.json"), model.to_json())
        write_json(os.path.join(d, "expected.json"), exp)
        self.stats["summary_valid"] += 1
        for row in exp["layers"]:
            self.class_counts["summary"][row["class_name"]] += 1
        return model

    # --- invalid summary case
    def summary_invalid(self, name, input_shape, specs, fix):
        fresh(self.next_seed())
        res = probe_stack(input_shape, specs)
        if res is None:
            self.surprises.append(f"accepted (dropped from invalid set): {name}: {specs}")
            return False
        i = res["index"]
        e = res["error"]
        dicts = [ser(layer) for layer in res["built"]]
        cls, kw = specs[i]
        if res["raises_in"] == "call":
            dicts.append(ser(res["bad"], drop_build=True))
        else:
            if not fix:
                self.surprises.append(f"constructor failure without proxy (skipped): {name}: {clean_error(e)}")
                return False
            proxy_kw = dict(kw)
            proxy_kw.update(fix)
            proxy = getattr(L, cls)(**proxy_kw)
            pd = ser(proxy)
            for k in fix:
                tried = kw[k]
                key = k
                if cls == "LeakyReLU" and k == "alpha":
                    key = "negative_slope"
                pd["config"][key] = normalize_like(tried, pd["config"].get(key))
            dicts.append(pd)
        for spec in specs[i + 1:]:
            dicts.append(ser(mk(spec)))
        mj = sequential_json_by_hand(name, res["input_layer"], dicts)
        # does Keras also refuse the JSON itself?
        clear()
        try:
            keras.models.model_from_json(json.dumps(mj))
            from_json_raises = False
            self.surprises.append(f"model_from_json accepts invalid {name}")
        except Exception:  # noqa: BLE001
            from_json_raises = True
        exp = {
            "valid": False,
            "input_shape": [None] + list(input_shape),
            "bad_layer_index": i,
            "bad_layer": cls,
            "keras_error": clean_error(e),
            "keras_error_type": type(e).__name__,
            "raises_in": res["raises_in"],
            "model_from_json_raises": from_json_raises,
        }
        d = os.path.join(self.out, "summary", name)
        write_text(os.path.join(d, "model.json"), json.dumps(mj))
        write_json(os.path.join(d, "expected.json"), exp)
        self.stats["summary_invalid"] += 1
        self.stats[f"invalid_{res['raises_in']}"] += 1
        return True

    # --- forward case
    def forward(self, name, input_shape, specs, max_tries=3):
        for attempt in range(max_tries):
            s = self.next_seed()
            fresh(s)
            rng = np.random.default_rng(s)
            model = build_sequential(name, input_shape, specs)
            for v in model.weights:
                shp = tuple(v.shape)
                if v.path.endswith("moving_variance"):
                    val = rng.uniform(0.5, 1.5, size=shp)
                else:
                    val = rng.normal(size=shp) * 0.5
                v.assign(val.astype("float32"))
            if specs[0][0] == "Embedding":
                x = rng.integers(0, specs[0][1]["input_dim"], size=(2,) + tuple(input_shape)).astype("float32")
            else:
                x = rng.normal(size=(2,) + tuple(input_shape)).astype("float32")
            y = np.asarray(model.predict(x, verbose=0)).astype("float32")
            if np.all(np.isfinite(y)) and np.max(np.abs(y)) < 1e6:
                break
            self.surprises.append(f"forward {name}: non-finite/huge output on try {attempt}, reseeding")
        else:
            self.surprises.append(f"forward {name}: dropped (non-finite)")
            return False
        exp = summarize(model.layers, [None] + list(input_shape))
        d = os.path.join(self.out, "forward", name)
        os.makedirs(d, exist_ok=True)
        write_text(os.path.join(d, "model.json"), model.to_json())
        savez_deterministic(os.path.join(d, "weights.npz"), model.get_weights())
        np.save(os.path.join(d, "input.npy"), x)
        np.save(os.path.join(d, "expected.npy"), y)
        write_json(os.path.join(d, "expected.json"), exp)
        self.stats["forward"] += 1
        for row in exp["layers"]:
            self.class_counts["forward"][row["class_name"]] += 1
        return True


# ----------------------------------------------------------------------------------------------
# Keras 2 / TF.js dialects
# ----------------------------------------------------------------------------------------------
K2_ACT = {"silu": "swish"}
K2_DROP_KEYS = {"quantization_config", "optional", "rms_scaling"}


def k2_obj(o):
    if isinstance(o, list):
        return [k2_obj(v) for v in o]
    if not isinstance(o, dict):
        return o
    if "class_name" in o and "config" in o and ("module" in o or "registered_name" in o):
        cn = o["class_name"]
        if cn in ("DTypePolicy", "FloatDTypePolicy"):
            return o["config"]["name"]
        cfg = {k: k2_obj(v) for k, v in (o["config"] or {}).items()}
        if cn in ("GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
                  "VarianceScaling"):
            cfg.pop("input_axes", None)
            cfg.pop("output_axes", None)
        return {"class_name": cn, "config": cfg}
    return {k: k2_obj(v) for k, v in o.items()}


def k2_layer(ld, input_length=None):
    cn = ld["class_name"]
    cfg = k2_obj(ld["config"])
    for k in K2_DROP_KEYS:
        cfg.pop(k, None)
    if cn == "InputLayer":
        cfg = {"batch_input_shape": cfg["batch_shape"], "dtype": cfg.get("dtype", "float32"),
               "sparse": cfg.get("sparse", False), "ragged": cfg.get("ragged", False), "name": cfg["name"]}
    if "activation" in cfg and isinstance(cfg["activation"], str):
        cfg["activation"] = K2_ACT.get(cfg["activation"], cfg["activation"])
    if cn == "LeakyReLU":
        cfg["alpha"] = cfg.pop("negative_slope")
    if cn in ("LSTM", "GRU", "SimpleRNN"):
        cfg.pop("seed", None)
        cfg["time_major"] = False
        if cn != "SimpleRNN":
            cfg["implementation"] = 2
    if cn == "Embedding":
        cfg["input_length"] = input_length
    if cn == "Dense" and "activity_regularizer" not in cfg:  # tf.keras 2 Dense wrote it; Keras 3 does not
        items = list(cfg.items())
        at = [k for k, _ in items].index("bias_regularizer") + 1
        cfg = dict(items[:at] + [("activity_regularizer", None)] + items[at:])
    return {"class_name": cn, "config": cfg}


def to_keras2(mj, with_input_layer=True):
    """Convert Keras 3 model JSON (dict) to the classic tf.keras 2 dialect."""
    cfg = mj["config"]
    if mj["class_name"] == "Sequential":
        lays = cfg["layers"]
        inp = lays[0]
        assert inp["class_name"] == "InputLayer"
        bshape = inp["config"]["batch_shape"]
        il = bshape[1] if len(bshape) == 2 else None
        out_layers = [k2_layer(ld, il) for ld in lays[1:]]
        if with_input_layer:
            out_layers = [k2_layer(inp)] + out_layers
        else:
            first = out_layers[0]["config"]
            new = {}
            for k, v in first.items():
                new[k] = v
                if k == "trainable":
                    new["batch_input_shape"] = bshape
            first.clear()
            first.update(new)
        model = {"class_name": "Sequential", "config": {"name": cfg["name"], "layers": out_layers}}
    else:  # Functional
        out_layers = []
        for ld in cfg["layers"]:
            k2 = k2_layer(ld)
            k2["name"] = ld["name"]
            nodes = []
            for node in ld.get("inbound_nodes", []):
                hist = node["args"][0]["config"]["keras_history"]
                nodes.append([[hist[0], hist[1], hist[2], {}]])
            k2["inbound_nodes"] = nodes
            out_layers.append(k2)

        def wrap(x):
            return [x] if x and not isinstance(x[0], list) else x
        model = {"class_name": "Functional", "config": {"name": cfg["name"], "trainable": True, "layers": out_layers,
                                                        "input_layers": wrap(cfg["input_layers"]),
                                                        "output_layers": wrap(cfg["output_layers"])}}
    model["keras_version"] = "2.15.0"
    model["backend"] = "tensorflow"
    return model


def tfjs_json(model, k2):
    prefix = model.name + "/"
    weights = []
    for v in model.weights:
        p = v.path[len(prefix):] if v.path.startswith(prefix) else v.path
        weights.append({"name": p, "shape": [int(d) for d in v.shape], "dtype": "float32"})
    topo = {k: v for k, v in k2.items() if k not in ("keras_version", "backend")}
    return {
        "format": "layers-model",
        "generatedBy": "keras v2.15.0",
        "convertedBy": "TensorFlow.js Converter v4.22.0",
        "modelTopology": {"keras_version": "2.15.0", "backend": "tensorflow", "model_config": topo},
        "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": weights}],
    }


def legacy_load_matches(k2, exp):
    """Does Keras 3's legacy (h5-era) config loader read the Keras-2 dialect back to the same summary?"""
    try:
        from keras.src.legacy.saving import saving_utils
        clear()
        m = saving_utils.model_from_config(json.loads(json.dumps(k2)))
        layers = [layer for layer in m.layers if layer.__class__.__name__ != "InputLayer"]
        got = summarize(layers, exp["input_shape"])
        same = [(r["output_shape"], r["params"]) for r in got["layers"]] == \
            [(r["output_shape"], r["params"]) for r in exp["layers"]]
        return same, None
    except Exception as e:  # noqa: BLE001
        return False, clean_error(e)[:160]


# ----------------------------------------------------------------------------------------------
# --verify: reload what was written and check it against Keras again
# ----------------------------------------------------------------------------------------------
def same_summary(got, exp):
    keys = ("name", "class_name", "output_shape", "params", "trainable_params", "non_trainable_params",
            "weight_shapes")
    if len(got["layers"]) != len(exp["layers"]):
        return f"{len(got['layers'])} layers vs {len(exp['layers'])}"
    for a, b in zip(got["layers"], exp["layers"]):
        for k in keys:
            if a[k] != b[k]:
                return f"{b['name']} {k}: {a[k]} vs {b[k]}"
    for k in ("total_params", "trainable_params", "non_trainable_params", "input_shape"):
        if got[k] != exp[k]:
            return f"{k}: {got[k]} vs {exp[k]}"
    return None


def verify(out):
    bad = []
    n = Counter()
    for sub in ("summary", "forward"):
        root = os.path.join(out, sub)
        for case in sorted(os.listdir(root)):
            d = os.path.join(root, case)
            exp = json.load(open(os.path.join(d, "expected.json")))
            text = open(os.path.join(d, "model.json")).read()
            clear()
            if not exp["valid"]:
                try:
                    keras.models.model_from_json(text)
                    if exp.get("model_from_json_raises", True):
                        bad.append((sub, case, "model_from_json accepted an invalid model"))
                except Exception:  # noqa: BLE001
                    pass
                n[sub + "_invalid"] += 1
                continue
            m = keras.models.model_from_json(text)
            why = same_summary(summarize(m.layers, exp["input_shape"]), exp)
            if why:
                bad.append((sub, case, why))
            if sub == "forward":
                w = np.load(os.path.join(d, "weights.npz"))
                m.set_weights([w[f"arr_{i}"] for i in range(len(w.files))])
                x = np.load(os.path.join(d, "input.npy"))
                y = np.load(os.path.join(d, "expected.npy"))
                got = np.asarray(m.predict(x, verbose=0))
                if got.shape != y.shape or not np.allclose(got, y, rtol=1e-5, atol=1e-6):
                    bad.append((sub, case, "predict differs after reload"))
            n[sub + "_valid"] += 1
    imp = os.path.join(out, "import")
    for f in sorted(os.listdir(imp)):
        if f.endswith(".expected.json") or not (f.startswith("fn") or f.startswith("vgg")):
            continue
        exp = json.load(open(os.path.join(imp, f[:-5] + ".expected.json")))
        clear()
        m = keras.models.model_from_json(open(os.path.join(imp, f)).read())
        lays = [layer for layer in m.layers if layer.__class__.__name__ != "InputLayer"]
        why = same_summary(summarize(lays, exp["input_shape"]), exp)
        if why:
            bad.append(("import", f, why))
        n["import_keras3"] += 1
    print("verify:", dict(n))
    for b in bad:
        print("  MISMATCH", *b)
    print("verify:", "OK" if not bad else f"{len(bad)} problems")
    return 1 if bad else 0


# ----------------------------------------------------------------------------------------------
# GroupNormalization (added later): its own section, generated after everything else with its own
# seeds and RNG stream, so adding it left every earlier fixture byte-identical
# ----------------------------------------------------------------------------------------------
GN = "GroupNormalization"
GN_SEED_OFFSET = 700_000  # Gen.next_seed() counter start for this section (earlier cases use < 2000)


def gn(**kw):
    return S(GN, **kw)


def gn_detail(kw, shape):
    bits = [f"r{len(shape) + 1}"]
    g = kw.get("groups", 32)
    bits.append("gm1" if g == -1 else f"g{g}")
    if "axis" in kw:
        bits.append(f"ax{kw['axis']}".replace("-", "m"))
    if kw.get("center") is False:
        bits.append("nocenter")
    if kw.get("scale") is False:
        bits.append("noscale")
    if "epsilon" in kw:
        bits.append("eps")
    return "_".join(bits)


def gn_valid_cases():
    """(name, input_shape, specs): fixed cases over ranks 2-5, groups 1 / some / C / -1, axes, center/scale off."""
    V = []

    def v(shape, specs, extra=""):
        kw = next(k for c, k in specs if c == GN)
        V.append((gn_detail(kw, shape) + (f"_{extra}" if extra else ""), list(shape), specs))

    v((8,), [gn(groups=1)])
    v((8,), [gn(groups=2)])
    v((8,), [gn(groups=8)])
    v((8,), [gn(groups=-1)])
    v((64,), [gn()], "default")
    v((6,), [gn(groups=3, center=False)])
    v((6,), [gn(groups=3, scale=False)])
    v((6,), [gn(groups=3, center=False, scale=False)])
    v((6,), [gn(groups=2, epsilon=0.1)])
    v((5, 6), [gn(groups=1)])
    v((5, 6), [gn(groups=2)])
    v((5, 6), [gn(groups=3, epsilon=1e-5)])
    v((5, 6), [gn(groups=6)])
    v((5, 6), [gn(groups=-1, center=False)])
    v((5, 6), [gn(groups=5, axis=1)])
    v((4, 6), [gn(groups=2, axis=-2)])
    v((4, 6), [gn(groups=-1, axis=-2, scale=False)])
    v((4, 4, 6), [gn(groups=1)])
    v((4, 4, 6), [gn(groups=2)])
    v((4, 4, 6), [gn(groups=3, center=False, scale=False)])
    v((4, 4, 6), [gn(groups=6)])
    v((4, 4, 6), [gn(groups=-1)])
    v((4, 3, 6), [gn(groups=2, axis=1)])
    v((4, 3, 6), [gn(groups=3, axis=-2)])
    v((4, 3, 6), [gn(groups=2, axis=-3, epsilon=0.1)])
    v((3, 4, 2), [gn(groups=2, axis=2)])
    v((2, 3, 2, 4), [gn(groups=2)])
    v((2, 3, 2, 4), [gn(groups=3, axis=2)])
    # in a stack
    v((6, 6, 2), [S("Conv2D", filters=8, kernel_size=3), gn(groups=4), S("ReLU"), S("Flatten"), S("Dense", units=3)], "cnn")
    v((7, 3), [S("Conv1D", filters=6, kernel_size=2), gn(groups=-1), S("GlobalAveragePooling1D")], "conv1d")
    v((10,), [S("Dense", units=12), gn(groups=3), S("Dense", units=2)], "mlp")
    v((5, 4), [S("LSTM", units=6, return_sequences=True), gn(groups=2, center=False), S("Flatten")], "lstm")
    return V


def gn_random_case(R, small):
    """A random valid GroupNormalization case from R: (input_shape, specs)."""
    rank = R.choice([1, 2, 2, 3, 3, 4]) if not small else R.choice([1, 2, 3])
    lim = 6 if small else 9
    shape = [R.randint(1, lim) for _ in range(rank)]
    ndim = rank + 1
    axis_i = R.choice([ndim - 1] * 3 + list(range(1, ndim)))  # mostly the last axis
    shape[axis_i - 1] = R.choice([c for c in (1, 2, 3, 4, 6, 8, 12) if not small or c <= 8])
    c = shape[axis_i - 1]
    kw = {"groups": R.choice(divisors(c) + [-1])}
    r = R.random()
    if axis_i != ndim - 1 or r < 0.15:
        kw["axis"] = axis_i if R.random() < 0.5 else axis_i - ndim
    if R.random() < 0.25:
        kw["center"] = False
    if R.random() < 0.25:
        kw["scale"] = False
    if R.random() < 0.3:
        kw["epsilon"] = R.choice([1e-5, 1e-2, 0.1, 0.5])
    specs = [gn(**kw)]
    if R.random() < 0.3:
        specs.append(S("Dense", units=R.randint(1, 4)))
    return shape, specs


def gn_bad_cases():
    """(name, input_shape, specs, fix) as in bad_cases()."""
    B = []

    def b(name, shape, specs, fix=None):
        B.append((name, list(shape), specs, fix or {}))

    b("default_32_groups_on_8", (8,), [gn()])
    b("groups_not_dividing", (6,), [gn(groups=4)])
    b("groups_not_dividing_rank4", (4, 4, 6), [gn(groups=4)])
    b("groups_more_than_channels", (6,), [gn(groups=12)])
    b("groups_more_than_channels_axis1", (3, 8), [gn(groups=4, axis=1)])
    b("groups_not_dividing_after_conv", (6, 6, 1), [S("Conv2D", filters=6, kernel_size=3), gn(groups=4)])
    b("groups_not_dividing_mid_stack", (5,), [S("Dense", units=6), gn(groups=4), S("Dense", units=2)])
    b("axis_out_of_range", (4, 6), [gn(groups=2, axis=3)])
    b("axis_negative_out_of_range", (4, 6), [gn(groups=2, axis=-4)])
    b("axis_batch", (4, 6), [gn(groups=2, axis=0)])
    b("axis_batch_negative", (4, 6), [gn(groups=2, axis=-3)])
    b("axis_list", (4, 6), [gn(groups=2, axis=[-1])])
    # constructor-time refusals
    b("groups0", (6,), [gn(groups=0)], {"groups": 1})
    b("groups_negative", (6,), [gn(groups=-2)], {"groups": 1})
    b("groups_float", (6,), [gn(groups=2.0)], {"groups": 2})
    return B


def gn_section(out, seed):
    """Write the GroupNormalization fixtures: gn###_* / gnbad###_* under summary/, fgn###_* under forward/."""
    g = Gen(out, seed)
    g.counter = GN_SEED_OFFSET
    R = random.Random(seed * 7919 + 1234)  # this section's own stream
    valid = gn_valid_cases()
    n = 0
    for name, shp, specs in valid:
        n += 1
        g.summary_valid(f"gn{n:03d}_{name}", shp, specs)
    for _ in range(24):
        shp, specs = gn_random_case(R, small=False)
        n += 1
        g.summary_valid(f"gn{n:03d}_rand_{gn_detail(specs[0][1], shp)}", shp, specs)
    nbad = 0
    for name, shp, specs, fix in gn_bad_cases():
        if g.summary_invalid(f"gnbad{nbad + 1:03d}_{name}", shp, specs, fix):
            nbad += 1
    nf = 0
    for name, shp, specs in valid:
        if g.forward(f"fgn{nf + 1:03d}_{name}", shp, specs):
            nf += 1
    for _ in range(16):
        shp, specs = gn_random_case(R, small=True)
        if g.forward(f"fgn{nf + 1:03d}_rand_{gn_detail(specs[0][1], shp)}", shp, specs):
            nf += 1
    print(f"groupnorm: summary {g.stats['summary_valid']} valid + {g.stats['summary_invalid']} invalid "
          f"({g.stats['invalid_call']} at call, {g.stats['invalid_constructor']} in constructor), "
          f"forward {g.stats['forward']}; GroupNormalization layers: summary {g.class_counts['summary'][GN]}, "
          f"forward {g.class_counts['forward'][GN]}", flush=True)
    for sp in g.surprises:
        print("  note:", sp)
    return g


def gn_only(out, seed):
    """--only-groupnorm: rewrite just this section's case directories, leave every other fixture alone."""
    for sub in ("summary", "forward"):
        root = os.path.join(out, sub)
        os.makedirs(root, exist_ok=True)
        for case in os.listdir(root):
            if re.match(r"^(gn|gnbad|fgn)\d{3}_", case):
                shutil.rmtree(os.path.join(root, case))
    gn_section(out, seed)
    return 0


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures"))
    ap.add_argument("--random-summary", type=int, default=300, help="random valid summary stacks")
    ap.add_argument("--random-forward", type=int, default=50, help="random valid forward stacks")
    ap.add_argument("--skip-vgg", action="store_true")
    ap.add_argument("--jax-init", action="store_true",
                    help="keep jax.random weight initialisation (slow; fixtures are identical either way)")
    ap.add_argument("--verify", action="store_true",
                    help="do not generate: reload every fixture under --out with Keras and check it")
    ap.add_argument("--only-groupnorm", action="store_true",
                    help="regenerate only the GroupNormalization cases (gn*/gnbad* summary, fgn* forward)")
    args = ap.parse_args()
    if args.only_groupnorm:
        if not args.jax_init:
            install_fast_init()
        return gn_only(os.path.abspath(args.out), args.seed)
    if args.verify:
        install_fast_init()
        return verify(os.path.abspath(args.out))

    t0 = time.time()
    if not args.jax_init:
        install_fast_init()
    random.seed(args.seed)
    np.random.seed(args.seed)
    keras.utils.set_random_seed(args.seed)
    out = os.path.abspath(args.out)
    for sub in ("summary", "forward", "import"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    g = Gen(out, args.seed)

    # ---------------- 1. summary
    for name, shp, specs in seed_models():
        g.summary_valid(name, shp, specs)
    edges = edge_cases()
    for i, (name, shp, specs) in enumerate(edges, 1):
        g.summary_valid(f"e{i:03d}_{name}", shp, specs)
    rg = RandomStackGen(g.R, g.rand_failures)
    for i in range(args.random_summary):
        focus = LAYER_CLASSES[i % len(LAYER_CLASSES)]
        shp, specs = rg.stack(focus, max_layers=6)
        fi = next(j for j, s in enumerate(specs) if s[0] == focus)
        g.summary_valid(f"r{i + 1:04d}_{case_detail(specs[fi])}", shp, specs)
    nbad = 0
    for name, shp, specs, fix in bad_cases():
        if g.summary_invalid(f"bad{nbad + 1:03d}_{name}", shp, specs, fix):
            nbad += 1
    # a few of the stacks Keras refused while drawing random ones (all deterministic)
    seen_cls = Counter()
    for shp, specs, cls, _err in g.rand_failures:
        if seen_cls[cls] >= 2 or nbad >= 200:
            continue
        if g.summary_invalid(f"bad{nbad + 1:03d}_random_{snake(cls)}", shp, specs, {}):
            nbad += 1
            seen_cls[cls] += 1
    t_summary = time.time() - t0
    print(f"summary: {g.stats['summary_valid']} valid, {g.stats['summary_invalid']} invalid "
          f"({g.stats['invalid_call']} at call, {g.stats['invalid_constructor']} in constructor) [{t_summary:.0f}s]",
          flush=True)

    # ---------------- 2. forward
    for name, shp, specs in seed_models():
        g.forward(name, shp, specs)
    for i, (name, shp, specs) in enumerate(edges, 1):
        g.forward(f"f{i:03d}_{name}", shp, specs)
    rgf = RandomStackGen(random.Random(args.seed + 7), [])
    for i in range(args.random_forward):
        focus = LAYER_CLASSES[(i * 7) % len(LAYER_CLASSES)]
        shp, specs = rgf.stack(focus, max_layers=4, small=True, max_elems=800)
        fi = next(j for j, s in enumerate(specs) if s[0] == focus)
        g.forward(f"fr{i + 1:03d}_{case_detail(specs[fi])}", shp, specs)
    t_forward = time.time() - t0 - t_summary
    print(f"forward: {g.stats['forward']} cases [{t_forward:.0f}s]", flush=True)

    # ---------------- 3. import
    imp = os.path.join(out, "import")

    def write_import(name, mj_obj_or_str, exp):
        txt = mj_obj_or_str if isinstance(mj_obj_or_str, str) else json.dumps(mj_obj_or_str)
        write_text(os.path.join(imp, f"{name}.json"), txt)
        write_json(os.path.join(imp, f"{name}.expected.json"), exp)
        g.stats["import"] += 1
        for row in exp["layers"]:
            g.class_counts["import"][row["class_name"]] += 1

    if not args.skip_vgg:
        fresh(g.next_seed())
        vgg = keras.applications.VGG16(weights=None)
        lays = [layer for layer in vgg.layers if layer.__class__.__name__ != "InputLayer"]
        exp = summarize(lays, vgg.inputs[0].shape)
        assert exp["total_params"] == 138_357_544, exp["total_params"]
        write_import("vgg16", vgg.to_json(), exp)
        del vgg, lays

    functional = [
        ("fn01_mlp", [12], [S("Dense", units=16, activation="relu"), S("Dropout", rate=0.2), S("Dense", units=8, activation="relu"),
                            S("Dense", units=3, activation="softmax")]),
        ("fn02_cnn", [12, 12, 1], [S("Conv2D", filters=8, kernel_size=3, activation="relu"), S("MaxPooling2D"),
                                   S("Conv2D", filters=16, kernel_size=3, activation="relu"), S("MaxPooling2D"), S("Flatten"),
                                   S("Dense", units=10, activation="softmax")]),
        ("fn03_lstm", [8, 4], [S("LSTM", units=8, return_sequences=True), S("LSTM", units=4), S("Dense", units=1)]),
        ("fn04_gru_embed", [8], [S("Embedding", input_dim=50, output_dim=8), S("GRU", units=6, reset_after=False), S("Dense", units=2, activation="sigmoid")]),
        ("fn05_separable", [10, 10, 3], [S("SeparableConv2D", filters=8, kernel_size=3, padding="same", depth_multiplier=2),
                                         S("BatchNormalization"), S("ReLU", max_value=6.0), S("DepthwiseConv2D", kernel_size=3, strides=2),
                                         S("GlobalAveragePooling2D"), S("Dense", units=4)]),
        ("fn06_conv1d", [8, 3], [S("Conv1D", filters=8, kernel_size=3, padding="causal", dilation_rate=2), S("LayerNormalization"),
                                 S("Conv1D", filters=4, kernel_size=2, strides=2), S("GlobalMaxPooling1D"), S("Dense", units=2)]),
        ("fn07_autoencoder", [8, 8, 1], [S("Conv2D", filters=4, kernel_size=3, strides=2, padding="same", activation="relu"),
                                         S("Conv2DTranspose", filters=4, kernel_size=3, strides=2, padding="same", activation="relu"),
                                         S("Conv2D", filters=1, kernel_size=3, padding="same", activation="sigmoid")]),
        ("fn08_reshape_permute", [6, 4], [S("Permute", dims=(2, 1)), S("Reshape", target_shape=(4, 3, 2)), S("ZeroPadding2D", padding=1),
                                          S("Cropping2D", cropping=((1, 0), (0, 1))), S("UpSampling2D", size=2), S("Flatten")]),
        ("fn09_simplernn", [6, 2], [S("SimpleRNN", units=5, return_sequences=True), S("PReLU"), S("UpSampling1D", size=2),
                                    S("AveragePooling1D", pool_size=3, strides=2), S("Flatten"), S("Dense", units=1)]),
        ("fn10_misc", [10], [S("Rescaling", scale=0.1), S("Dense", units=8), S("LeakyReLU"), S("UnitNormalization"),
                             S("RepeatVector", n=3), S("Dense", units=2, activation="gelu")]),
    ]
    fn_models = {}
    for name, shp, specs in functional:
        fresh(g.next_seed())
        inp = keras.Input(tuple(shp), name="inputs")
        x = inp
        for s in specs:
            x = mk(s)(x)
        m = keras.Model(inp, x, name=name)
        lays = [layer for layer in m.layers if layer.__class__.__name__ != "InputLayer"]
        exp = summarize(lays, [None] + shp)
        write_import(name, m.to_json(), exp)
        fn_models[name] = (json.loads(m.to_json()), exp)

    # Keras-2 dialect: 8 Sequential (half without an InputLayer) + 2 Functional
    k2_seq = [
        ("k2_01_mlp", [16], [S("Dense", units=12, activation="relu"), S("Dropout", rate=0.5), S("Dense", units=4, activation="softmax")], True),
        ("k2_02_mlp_noinput", [16], [S("Dense", units=12, activation="relu"), S("Dropout", rate=0.5), S("Dense", units=4, activation="softmax")], False),
        ("k2_03_cnn", [12, 12, 1], [S("Conv2D", filters=8, kernel_size=3, activation="relu"), S("MaxPooling2D"), S("Flatten"),
                                    S("Dense", units=10, activation="softmax")], True),
        ("k2_04_cnn_noinput", [12, 12, 3], [S("Conv2D", filters=4, kernel_size=(3, 3), padding="same", activation="relu"),
                                            S("BatchNormalization"), S("AveragePooling2D", pool_size=2), S("GlobalAveragePooling2D"),
                                            S("Dense", units=2)], False),
        ("k2_05_lstm", [8, 3], [S("LSTM", units=6, return_sequences=True), S("GRU", units=4), S("Dense", units=1, activation="sigmoid")], True),
        ("k2_06_embedding_noinput", [8], [S("Embedding", input_dim=30, output_dim=6), S("SimpleRNN", units=4), S("Dense", units=2)], False),
        ("k2_07_leaky_swish", [10], [S("Dense", units=8), S("LeakyReLU", negative_slope=0.1), S("Dense", units=8, activation="swish"),
                                     S("ELU"), S("Dense", units=1)], True),
        ("k2_08_conv1d_noinput", [8, 2], [S("Conv1D", filters=4, kernel_size=3, padding="causal"), S("MaxPooling1D"),
                                          S("ZeroPadding1D", padding=1), S("Flatten"), S("Dense", units=3)], False),
    ]
    k2_models = {}
    for name, shp, specs, with_inp in k2_seq:
        fresh(g.next_seed())
        m = build_sequential(name, shp, specs)
        exp = summarize(m.layers, [None] + shp)
        k2 = to_keras2(json.loads(m.to_json()), with_input_layer=with_inp)
        ok, err = legacy_load_matches(k2, exp)
        exp["keras3_legacy_loader_matches"] = ok
        if not ok:
            g.surprises.append(f"keras 3 legacy loader on {name}: {'mismatch' if err is None else err}")
        write_import(name, k2, exp)
        k2_models[name] = (m, k2, exp)
    for src, name in (("fn01_mlp", "k2_09_functional_mlp"), ("fn02_cnn", "k2_10_functional_cnn")):
        mj, exp = fn_models[src]
        k2 = to_keras2(mj)
        k2["config"]["name"] = name
        exp = dict(exp)
        ok, err = legacy_load_matches(k2, exp)
        exp["keras3_legacy_loader_matches"] = ok
        if not ok:
            g.surprises.append(f"keras 3 legacy loader on {name}: {'mismatch' if err is None else err}")
        write_import(name, k2, exp)

    # TF.js layers-model
    for src, name in (("k2_01_mlp", "tfjs_01_mlp"), ("k2_03_cnn", "tfjs_02_cnn"), ("k2_05_lstm", "tfjs_03_lstm"),
                      ("k2_06_embedding_noinput", "tfjs_04_embedding"), ("k2_04_cnn_noinput", "tfjs_05_cnn_bn")):
        m, k2, exp = k2_models[src]
        write_import(name, tfjs_json(m, k2), dict(exp))

    # ---------------- 4. GroupNormalization (own seeds and RNG stream; see gn_section)
    gn_section(out, args.seed)

    # ---------------- versions + report
    from importlib.metadata import version
    write_text(os.path.join(out, "VERSIONS.txt"),
               f"keras {keras.__version__}\njax {version('jax')}\njaxlib {version('jaxlib')}\n"
               f"numpy {np.__version__}\npython {platform.python_version()}\nbackend {keras.backend.backend()}\n"
               f"seed {args.seed}\n")

    dt = time.time() - t0
    print(f"import: {g.stats['import']} cases")
    print("\nper-class layer counts (summary / forward / import):")
    for c in LAYER_CLASSES:
        print(f"  {c:24s} {g.class_counts['summary'][c]:5d} {g.class_counts['forward'][c]:5d} {g.class_counts['import'][c]:5d}")
    missing_s = [c for c in LAYER_CLASSES if g.class_counts["summary"][c] == 0]
    missing_f = [c for c in LAYER_CLASSES if g.class_counts["forward"][c] == 0]
    print(f"missing from summary: {missing_s or 'none'}; missing from forward: {missing_f or 'none'}")
    print(f"random-stack oracle refusals seen while drawing: {len(g.rand_failures)}")
    for s in g.surprises:
        print("  note:", s)
    print(f"\ntotals: summary {g.stats['summary_valid']} valid + {g.stats['summary_invalid']} invalid, "
          f"forward {g.stats['forward']}, import {g.stats['import']}; {dt:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
