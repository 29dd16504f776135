#!/usr/bin/env python3
"""Keras golden fixtures for Functional graph models (see tools/README.md, "Graph fixtures").

Writes, under tests/fixtures/graph/ (default --out):
  app_<name>/     every keras.applications constructor, weights=None, defaults: model.json, expected.json
  dag_<nnn>/      random DAGs Keras builds (about half with forward files), a few hand-made extras
  bad_<nnn>/      graphs Keras refuses: model.json (hand-edited from a valid sibling's to_json()), expected.json
  mha_<nnn>/      MultiHeadAttention forward cases
  merge_<nnn>/    merge-layer forward cases (broadcasting rules, Concatenate/Dot axes)
  mha_weights_order.txt, INDEX.json
Forward cases also hold input_<i>.npy, weights.npz (arr_0.. = model.get_weights()), expected_<i>.npy.
About 15 dag_/merge_ cases also hold model.py: Keras code that rebuilds the same model (checked with exec()).

Fully seeded (--seed, default 0): rerunning with the same versions gives byte-identical files.
Usage:  /tmp/kvenv/bin/python tools/keras_graph_fixtures.py [--seed 0] [--out tests/fixtures/graph] [--skip-apps]
The script sets KERAS_BACKEND=jax itself (and re-executes itself with PYTHONHASHSEED=0).
"""
import argparse
import copy
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
import zlib

# Keras prints Python sets in some messages; pin the hash seed so recorded errors never change.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jaxlib  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import keras.src.backend.jax.core as _jcore  # noqa: E402
from keras.src.layers.layer import Layer as _KLayer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BOLD = re.compile(r"\x1b\[1m(.*?)\x1b\[0m", re.S)
GROUPS = ("app", "dag", "bad", "mha", "merge", "ops")
EW = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
SURPRISES = []


def note(msg):
    SURPRISES.append(msg)
    print("  NOTE:", msg, flush=True)


# ----------------------------------------------------------------------------------------------
# small helpers (copied from keras_fixtures.py's conventions; this script is standalone)
# ----------------------------------------------------------------------------------------------
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
    """Same format and keys (arr_0, arr_1, ...) as np.savez(path, *arrays), fixed zip timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(f"arr_{i}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def clean_error(e):
    """Keras's message without colour codes. Errors raised inside a layer's call() come wrapped in
    "Exception encountered when calling X.call(). <msg> Arguments received by ..."; keep <msg>."""
    raw = str(e)
    if "Exception encountered when calling" in raw:
        m = BOLD.search(raw)
        if m:
            raw = m.group(1)
    msg = " ".join(ANSI.sub("", raw).split())
    return msg[:300]


def case_seed(seed, case):
    return zlib.crc32(f"{seed}:{case}".encode()) & 0x7FFFFFFF


_ZERO_INIT = {"raw": False}


def install_zero_init():
    """Initial weights are zeros written with numpy instead of Keras's jax.random initialisers: jax
    compiles a kernel for every new weight shape (~0.2 s each, 40 s for one EfficientNet). Initial
    values never reach a fixture: summaries use shapes only, forward cases overwrite every weight."""

    def init(self, initializer):
        v = np.zeros(tuple(self._shape), dtype=self._dtype)
        self._initialize(v if _ZERO_INIT["raw"] else jnp.asarray(v))

    _jcore.JaxVariable._initialize_with_initializer = init


def fresh(seed, free=False):
    keras.backend.clear_session(free_memory=free)
    keras.utils.set_random_seed(seed)


def snake(cls):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls).lower()


# ----------------------------------------------------------------------------------------------
# summaries
# ----------------------------------------------------------------------------------------------
def layer_row(layer):
    node = layer._inbound_nodes[0]
    outs = node.output_tensors
    osh = shape_list(outs[0].shape) if len(outs) == 1 else [shape_list(o.shape) for o in outs]
    t = sum(int(np.prod(v.shape)) for v in layer.trainable_weights)
    n = sum(int(np.prod(v.shape)) for v in layer.non_trainable_weights)
    p = int(layer.count_params()) if layer.weights else 0
    assert p == t + n, (layer.name, p, t, n)
    return {
        "name": layer.name,
        "class_name": layer.__class__.__name__,
        "output_shape": osh,
        "params": p,
        "trainable_params": t,
        "non_trainable_params": n,
        "inbound": [kt._keras_history[0].name for kt in node.arguments.keras_tensors],
    }


def graph_summary(model):
    rows = [layer_row(l) for l in model.layers if l.__class__.__name__ != "InputLayer"]
    return {
        "valid": True,
        "inputs": [shape_list(t.shape) for t in model.inputs],
        "outputs": [shape_list(t.shape) for t in model.outputs],
        "layers": rows,
        "total_params": sum(r["params"] for r in rows),
        "trainable_params": sum(r["trainable_params"] for r in rows),
        "non_trainable_params": sum(r["non_trainable_params"] for r in rows),
    }


# ----------------------------------------------------------------------------------------------
# graph specs: {"inputs": [{shape, name, dtype, batch_size, high}], "nodes": [{cls, kw, args, call}],
# "outputs": [ref]}; a ref numbers the tensors: inputs first, then one output per node.
# call: "one" layer(x), "list" layer([a, b, ..]), "bare" layer(a) for a merge, "mha" layer(q, v[, k]).
# ----------------------------------------------------------------------------------------------
def make_input(inp, name=None):
    return keras.Input(shape=tuple(inp["shape"]), name=name or inp.get("name"), dtype=inp.get("dtype", "float32"),
                       batch_size=inp.get("batch_size"))


def make_layer(nd, name=None):
    kw = dict(nd["kw"])
    if name is not None:
        kw["name"] = name
    return getattr(L, nd["cls"])(**kw)


def call_layer(layer, nd, ins):
    c = nd["call"]
    if c in ("one", "bare"):
        return layer(ins[0])
    if c == "list":
        return layer(list(ins))
    if c == "mha":
        return layer(*ins)
    raise ValueError(c)


def apply_op(nd, ins):
    """Python arithmetic on Keras tensors (a Keras operation node, not a layer)."""
    kw = nd["kw"]
    a = ins[0]
    b = ins[1] if len(ins) > 1 else kw["c"]
    if kw.get("first"):
        a, b = b, a
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[kw["op"]]()


def build_spec(spec, model_name):
    kts = [make_input(inp) for inp in spec["inputs"]]
    lays = []
    for nd in spec["nodes"]:
        if nd["cls"] == "OP":
            kts.append(apply_op(nd, [kts[a] for a in nd["args"]]))
            lays.append(None)
            continue
        layer = make_layer(nd)
        kts.append(call_layer(layer, nd, [kts[a] for a in nd["args"]]))
        lays.append(layer)
    ins = kts[:len(spec["inputs"])]
    outs = [kts[o] for o in spec["outputs"]]
    model = keras.Model(inputs=ins[0] if len(ins) == 1 else ins, outputs=outs[0] if len(outs) == 1 else outs,
                        name=model_name)
    return model, lays, kts


class SB:
    """Hand-written spec builder (no Keras involved)."""

    def __init__(self):
        self.inputs, self.nodes, self.outputs = [], [], []

    def inp(self, shape, name=None, dtype="float32", batch_size=None, high=None):
        assert not self.nodes, "declare inputs first"
        self.inputs.append({"shape": list(shape), "name": name, "dtype": dtype, "batch_size": batch_size,
                            "high": high})
        return len(self.inputs) - 1

    def __call__(self, cls, args, call=None, **kw):
        if cls == "OP":
            self.nodes.append({"cls": cls, "kw": kw, "args": list(args), "call": "op"})
            return len(self.inputs) + len(self.nodes) - 1
        if isinstance(args, int):
            args, call = [args], call or "one"
        else:
            call = call or "list"
        self.nodes.append({"cls": cls, "kw": kw, "args": list(args), "call": call})
        return len(self.inputs) + len(self.nodes) - 1

    def idx(self, ref):
        return ref - len(self.inputs)

    def out(self, *refs):
        self.outputs = list(refs)
        return self.spec()

    def spec(self):
        return {"inputs": self.inputs, "nodes": self.nodes, "outputs": self.outputs}


def bshape(a, b):
    """Keras's merge broadcasting of two per-sample shapes (right-aligned, 1 stretches); None if refused."""
    a, b = tuple(a), tuple(b)
    if len(a) < len(b):
        a, b = b, a
    out = list(a[:len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b):], b):
        if i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            return None
    return tuple(out)


def either(x, y):
    return y if x is None else x


def prod(s):
    p = 1
    for d in s:
        p *= int(d)
    return p


# ----------------------------------------------------------------------------------------------
# random DAG generator: grows a spec, every layer call checked by Keras on symbolic tensors
# ----------------------------------------------------------------------------------------------
ACTS = ["relu", "tanh", "sigmoid", "gelu", "elu", "swish", "softmax", "linear"]
IN_NAMES = ["x", "aux", "side", "seq", "feat", "meta", "img"]


class G:
    def __init__(self, R):
        self.R = R
        self.inputs, self.nodes, self.kts, self.sh, self.isint, self.uses = [], [], [], [], [], []

    # --- bookkeeping
    def _push(self, kt, isint=False):
        self.kts.append(kt)
        self.sh.append(tuple(int(d) for d in kt.shape[1:]))
        self.isint.append(isint)
        self.uses.append(0)
        return len(self.kts) - 1

    def input(self, shape, name=None, dtype="float32", high=None):
        inp = {"shape": list(shape), "name": name, "dtype": dtype, "batch_size": None, "high": high}
        self.inputs.append(inp)
        return self._push(make_input(inp), dtype != "float32")

    def add(self, cls, kw, args, call="one"):
        kw = dict(kw)
        if self.R.random() < 0.08:
            kw["name"] = f"{snake(cls)}_b{len(self.nodes)}"
        nd = {"cls": cls, "kw": kw, "args": list(args), "call": call}
        try:
            out = call_layer(make_layer(nd), nd, [self.kts[a] for a in args])
        except Exception:  # noqa: BLE001 - Keras refused it; draw something else
            return None
        self.nodes.append(nd)
        for a in args:
            self.uses[a] += 1
        return self._push(out)

    def floats(self):
        return [r for r in range(len(self.kts)) if not self.isint[r]]

    def frontier(self):
        return [r for r in self.floats() if self.uses[r] == 0]

    def pick(self, pred=lambda s: True, avoid=()):
        R = self.R
        pools = [self.frontier(), self.floats()] if R.random() < 0.7 else [self.floats()]
        for pool in pools:
            c = [r for r in pool if pred(self.sh[r]) and r not in avoid]
            if c:
                return R.choice(c)
        return None

    # --- layer kwargs
    def dense_kw(self, units=None):
        R = self.R
        kw = {"units": units if units is not None else R.randint(1, 8)}
        if R.random() < 0.5:
            kw["activation"] = R.choice(ACTS[:-1])
        if R.random() < 0.15:
            kw["use_bias"] = False
        return kw

    def factor(self, n):
        R = self.R
        opts = []
        if n <= 64:
            opts.append((n,))
        for a in range(1, 9):
            if n % a == 0 and n // a <= 16:
                opts.append((a, n // a))
        for a in range(1, 7):
            for b in range(1, 7):
                if n % (a * b) == 0 and n // (a * b) <= 8:
                    opts.append((a, b, n // (a * b)))
        if not opts:
            return None
        t = list(R.choice(opts))
        if len(t) > 1 and R.random() < 0.12:
            t[R.randrange(len(t))] = -1
        return tuple(t)

    def kw_for(self, cls, s):
        R = self.R
        if cls == "Dense":
            return self.dense_kw()
        if cls == "Activation":
            return {"activation": R.choice(ACTS)}
        if cls == "ReLU":
            return R.choice([{}, {}, {"max_value": 6.0}, {"negative_slope": 0.1}, {"threshold": 0.2}])
        if cls == "BatchNormalization":
            return R.choice([{}, {}, {"momentum": 0.9, "epsilon": 0.01}, {"center": False}, {"scale": False}])
        if cls == "LayerNormalization":
            return R.choice([{}, {}, {"epsilon": 1e-5}, {"center": False}, {"scale": False}])
        if cls == "Dropout":
            return {"rate": R.choice([0.1, 0.25, 0.5])}
        if cls == "Flatten":
            return {}
        if cls == "Reshape":
            t = self.factor(prod(s))
            return None if t is None else {"target_shape": t}
        if cls in ("Conv1D", "Conv2D"):
            nd = 1 if cls == "Conv1D" else 2
            pad = R.choice(["same", "valid"])
            ks = []
            for d in s[:nd]:
                k = R.randint(1, 3)
                if pad == "valid" and k > d:
                    k = 1
                ks.append(k)
            kw = {"filters": R.randint(1, 6), "kernel_size": ks[0] if nd == 1 or R.random() < 0.5 and ks[0] == ks[1]
                  else tuple(ks), "padding": pad}
            if R.random() < 0.15:
                kw["strides"] = 2
            if R.random() < 0.5:
                kw["activation"] = R.choice(["relu", "tanh", "sigmoid"])
            return kw
        if cls in ("GlobalAveragePooling1D", "GlobalAveragePooling2D"):
            return {"keepdims": True} if R.random() < 0.25 else {}
        if cls == "MaxPooling1D":
            return {"pool_size": 2, "padding": "same" if s[0] < 2 or R.random() < 0.3 else "valid"}
        if cls == "MaxPooling2D":
            return {"pool_size": (2, 2), "padding": "same" if min(s[:2]) < 2 or R.random() < 0.3 else "valid"}
        if cls == "ZeroPadding1D":
            return {"padding": R.choice([1, (1, 2), (0, 1)])}
        if cls == "ZeroPadding2D":
            return {"padding": R.choice([1, ((1, 0), (0, 1)), (1, 2)])}
        raise ValueError(cls)

    # --- ops
    def single(self, r=None):
        R = self.R
        r = self.pick() if r is None else r
        if r is None:
            return None
        s = self.sh[r]
        k = len(s)
        opts = ["Dense"] * 4 + ["Activation", "ReLU", "BatchNormalization", "LayerNormalization", "Dropout", "Reshape"]
        if k >= 2:
            opts += ["Flatten"] * 2
        if k == 2:
            opts += ["Conv1D"] * 3 + ["GlobalAveragePooling1D", "MaxPooling1D", "ZeroPadding1D"]
        if k == 3:
            opts += ["Conv2D"] * 3 + ["GlobalAveragePooling2D", "MaxPooling2D", "ZeroPadding2D"]
        cls = R.choice(opts)
        kw = self.kw_for(cls, s)
        return None if kw is None else self.add(cls, kw, [r])

    def flat(self, r):
        if r is None or len(self.sh[r]) == 1:
            return r
        k = len(self.sh[r])
        if k in (2, 3) and self.R.random() < 0.3:
            return self.add(f"GlobalAveragePooling{k - 1}D", {}, [r])
        return self.add("Flatten", {}, [r])

    def bcast_partner(self, b, target):
        """A tensor made from b that broadcasts against per-sample shape `target`."""
        R = self.R
        sb = self.sh[b]
        units = R.choice([target[-1]] * 3 + [1])
        if len(sb) == len(target) and bshape(sb[:-1], target[:-1]) is not None:
            return self.add("Dense", self.dense_kw(units), [b])
        x = self.flat(b)
        if x is None:
            return None
        x = self.add("Dense", self.dense_kw(units), [x])
        if x is not None and len(target) >= 2 and R.random() < 0.4:
            m = R.randint(1, len(target) - 1)
            x = self.add("Reshape", {"target_shape": (1,) * m + (units,)}, [x])
        return x

    def elementwise(self, cls=None):
        R = self.R
        cls = cls or R.choice(EW)
        k = 2 if cls == "Subtract" else R.choices([1, 2, 3], [0.07, 0.73, 0.2])[0]
        a = self.pick()
        if a is None:
            return None
        refs, cur = [a], self.sh[a]
        for _ in range(k - 1):
            cands = [r for r in self.floats() if bshape(cur, self.sh[r]) is not None and r != a]
            if cands and R.random() < 0.55:
                b = R.choice(cands)
            else:
                b0 = either(self.pick(avoid=(a,)), a)
                b = self.bcast_partner(b0, cur)
            if b is None:
                return None
            refs.append(b)
            cur = bshape(cur, self.sh[b])
            if cur is None:
                return None
        if R.random() < 0.5:
            R.shuffle(refs)
        return self.add(cls, {}, refs, "list")

    def concat(self):
        R = self.R
        a = self.pick()
        if a is None:
            return None
        sa = self.sh[a]
        r = len(sa)
        pos = R.randint(1, r)  # Keras axis on the batched tensor
        axis = R.choice([pos, pos - (r + 1)])
        kw = {} if axis == -1 and R.random() < 0.5 else {"axis": axis}
        k = R.choices([1, 2, 3], [0.05, 0.75, 0.2])[0]

        def fits(s):
            return len(s) == r and all(x == y for i, (x, y) in enumerate(zip(s, sa)) if i != pos - 1)

        refs = [a]
        for _ in range(k - 1):
            cands = [t for t in self.floats() if fits(self.sh[t]) and t != a]
            if cands and R.random() < 0.6:
                b = R.choice(cands)
            elif pos == r:
                if r in (2, 3) and R.random() < 0.4:
                    b = self.add(f"Conv{r - 1}D", {"filters": R.randint(1, 5), "kernel_size": 1}, [a])
                else:
                    b = self.add("Dense", self.dense_kw(), [a])
            elif r == 2:
                b = self.add("ZeroPadding1D", {"padding": R.choice([1, (0, 2)])}, [a])
            elif r == 3:
                p = R.choice([(1, 1), (0, 1), (2, 0)])
                b = self.add("ZeroPadding2D", {"padding": (p, (0, 0)) if pos == 1 else ((0, 0), p)}, [a])
            else:
                b = a
            if b is None:
                return None
            refs.append(b)
        if R.random() < 0.4:
            R.shuffle(refs)
        return self.add("Concatenate", kw, refs, "list")

    def rank2(self):
        """A tensor of per-sample rank 2, reshaping a flat one if needed."""
        r = self.pick(lambda s: len(s) == 2)
        if r is not None:
            return r
        f = self.flat(self.pick())
        if f is None:
            return None
        n = self.sh[f][0]
        ds = [d for d in range(2, 9) if n % d == 0 and n // d <= 8]
        if not ds:
            f = self.add("Dense", {"units": self.R.choice([4, 6, 8])}, [f])
            if f is None:
                return None
            n = self.sh[f][0]
            ds = [d for d in range(2, 9) if n % d == 0]
        d = self.R.choice(ds)
        return self.add("Reshape", {"target_shape": (d, n // d)}, [f])

    def dot(self):
        R = self.R
        mode = R.choice(["r1", "r1", "r2_last", "r2_first", "mixed"])
        norm = {"normalize": True} if R.random() < 0.35 else {}
        if mode == "r1":
            a = self.flat(self.pick())
            if a is None:
                return None
            d = self.sh[a][0]
            cands = [t for t in self.floats() if self.sh[t] == (d,) and t != a]
            src = self.flat(either(self.pick(avoid=(a,)), a))
            b = R.choice(cands) if cands and R.random() < 0.5 else (
                None if src is None else self.add("Dense", self.dense_kw(d), [src]))
            axes = R.choice([1, -1, (1, 1), (-1, -1)])
        else:
            a = self.rank2()
            if a is None:
                return None
            n, d = self.sh[a]
            if mode == "r2_last":
                cands = [t for t in self.floats() if len(self.sh[t]) == 2 and self.sh[t][1] == d and t != a]
                b = R.choice(cands) if cands and R.random() < 0.5 else self.add(
                    "Dense", self.dense_kw(d), [either(self.pick(lambda s: len(s) == 2), a)])
                axes = R.choice([2, -1, (2, 2), (-1, -1), (2, -1)])
            elif mode == "r2_first":
                cands = [t for t in self.floats() if len(self.sh[t]) == 2 and self.sh[t][0] == n and t != a]
                b = R.choice(cands) if cands and R.random() < 0.5 else self.add("Dense", self.dense_kw(), [a])
                axes = R.choice([1, (1, 1), -2])
            else:
                src = self.flat(either(self.pick(avoid=(a,)), a))
                b = None if src is None else self.add("Dense", self.dense_kw(d), [src])
                axes = (2, 1)
                if R.random() < 0.5:
                    a, b, axes = b, a, (1, 2)
        if b is None:
            return None
        return self.add("Dot", dict({"axes": axes}, **norm), [a, b], "list")

    def mha(self):
        R = self.R
        q = self.rank2()
        if q is None:
            return None
        if R.random() < 0.4:
            v = q
        else:
            v = either(self.pick(lambda s: len(s) == 2, avoid=(q,)), q)
        args = [q, v]
        if R.random() < 0.3:
            kk = self.add("Dense", self.dense_kw(), [v])
            if kk is None:
                return None
            args.append(kk)
        kw = {"num_heads": R.randint(1, 3), "key_dim": R.randint(2, 6)}
        if R.random() < 0.5:
            kw["value_dim"] = R.randint(2, 6)
            if kw["value_dim"] != kw["key_dim"] and R.random() < 0.7:
                kw["dropout"] = 0.1  # dropout > 0 takes Keras's einsum path; the fused one needs value_dim == key_dim
        if R.random() < 0.2:
            kw["use_bias"] = False
        if R.random() < 0.25:
            kw["output_shape"] = R.randint(2, 8)
        return self.add("MultiHeadAttention", kw, args, "mha")

    # --- whole graph
    def generate(self):
        R = self.R
        n_in = R.choice([1, 1, 1, 2, 2, 3])
        emb = R.random() < 0.1
        for i in range(n_in):
            name = f"{R.choice(IN_NAMES)}_{i}" if R.random() < 0.3 else None
            if emb and i == 0:
                self.input((R.randint(3, 6),), name=name, dtype="int32", high=R.randint(4, 10))
                continue
            rank = R.choice([1, 1, 2, 2, 2, 3])
            if rank == 1:
                shape = (R.randint(2, 8),)
            elif rank == 2:
                shape = (R.randint(2, 6), R.randint(1, 6))
            else:
                shape = (R.randint(2, 5), R.randint(2, 5), R.randint(1, 4))
            shape = tuple(1 if R.random() < 0.08 else d for d in shape)
            self.input(shape, name=name)
        if emb:  # inputs come first in a spec; the int input feeds an Embedding only
            self.add("Embedding", {"input_dim": self.inputs[0]["high"], "output_dim": R.randint(2, 6)}, [0])
        target = R.randint(3, 10)
        tries = 0
        while len(self.nodes) < target and tries < 80:
            tries += 1
            if len(self.frontier()) > 2 and R.random() < 0.6:
                op = R.choice([self.elementwise, self.concat])
            else:
                op = R.choices([self.single, self.elementwise, self.concat, self.dot, self.mha],
                               [0.48, 0.22, 0.12, 0.08, 0.10])[0]
            op()
        return self.finish(2 if R.random() < 0.3 else 1)

    def finish(self, n_out):
        R = self.R
        for r in range(len(self.inputs)):
            if self.uses[r] == 0 and not self.isint[r]:
                if self.single(r) is None:
                    self.add("Dense", {"units": 4}, [r])
        guard = 0
        while len(self.frontier()) > n_out and guard < 20:
            guard += 1
            a, b = R.sample(self.frontier(), 2)
            if R.random() < 0.5:
                fa, fb = self.flat(a), self.flat(b)
                if fa is not None and fb is not None:
                    self.add("Concatenate", {}, [fa, fb], "list")
            else:
                b2 = self.bcast_partner(b, self.sh[a])
                if b2 is not None:
                    self.add(R.choice(["Add", "Add", "Multiply", "Average", "Maximum"]), {}, [a, b2], "list")
        if len(self.frontier()) < n_out:
            cands = [r for r in range(len(self.inputs), len(self.kts)) if self.uses[r] > 0]
            if cands:
                self.add("Dense", self.dense_kw(), [R.choice(cands)])
        outs = sorted(self.frontier())
        if not outs or len(outs) > 3 or any(r < len(self.inputs) for r in outs) or len(self.nodes) > 15:
            return None
        return {"inputs": self.inputs, "nodes": self.nodes, "outputs": outs}


# ----------------------------------------------------------------------------------------------
# the writer
# ----------------------------------------------------------------------------------------------
class Writer:
    def __init__(self, out, seed):
        self.out, self.seed = out, seed
        self.index = {}  # case -> metadata
        self.specs = {}  # case -> spec (for model.py)

    def d(self, case):
        return os.path.join(self.out, case)

    # --- forward files
    def forward(self, case, model, spec):
        rng = np.random.default_rng(case_seed(self.seed, case + "/fw"))
        for attempt in range(4):
            for v in model.weights:
                shp = tuple(v.shape)
                if v.path.endswith("moving_variance"):
                    val = rng.uniform(0.5, 1.5, size=shp)
                else:
                    val = rng.normal(size=shp) * 0.5
                v.assign(val.astype(v.dtype))
            xs = []
            for inp in spec["inputs"]:
                shp = (2,) + tuple(inp["shape"])
                if inp.get("dtype", "float32") == "int32":
                    xs.append(rng.integers(0, inp["high"], size=shp).astype("int32"))
                else:
                    xs.append(rng.normal(size=shp).astype("float32"))
            try:
                ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            except Exception as e:  # noqa: BLE001 - Keras builds it but cannot run it
                note(f"forward {case}: Keras's predict raises ({clean_error(e)[:120]}); summary only")
                return False
            ys = [np.asarray(y).astype("float32") for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
            if all(np.all(np.isfinite(y)) and np.max(np.abs(y)) < 1e6 for y in ys):
                break
            note(f"forward {case}: non-finite/huge output on try {attempt}, redrawing")
        else:
            note(f"forward {case}: dropped (non-finite)")
            return False
        d = self.d(case)
        for i, x in enumerate(xs):
            np.save(os.path.join(d, f"input_{i}.npy"), x)
        savez_deterministic(os.path.join(d, "weights.npz"), model.get_weights())
        for i, y in enumerate(ys):
            np.save(os.path.join(d, f"expected_{i}.npy"), y)
        return True

    def valid_case(self, case, group, spec, forward, what):
        fresh(case_seed(self.seed, case))
        model, _, _ = build_spec(spec, case)
        exp = graph_summary(model)
        d = self.d(case)
        os.makedirs(d, exist_ok=True)
        write_text(os.path.join(d, "model.json"), model.to_json())
        write_json(os.path.join(d, "expected.json"), exp)
        fw = self.forward(case, model, spec) if forward else False
        self.index[case] = {"group": group, "valid": True, "forward": fw, "what": what,
                            "layers": len(exp["layers"]), "inputs": len(exp["inputs"]),
                            "outputs": len(exp["outputs"])}
        self.specs[case] = spec
        return model

    # --- applications
    def apps(self):
        names = sorted(n for n in dir(keras.applications) if n[:1].isupper()
                       and callable(getattr(keras.applications, n)))
        total = 0
        t0 = time.time()
        _ZERO_INIT["raw"] = True  # numpy zeros (calloc): no memory touched for the big ones
        # MobileNetV3's default input is (None, None, 3): its spatial sizes stay symbolic,
        # which Flatland does not model. Each is also built at its documented 224×224.
        jobs = [(n, f"app_{n.lower()}", {}) for n in names]
        jobs += [(n, f"app_{n.lower()}_224", {"input_shape": (224, 224, 3)})
                 for n in names if n.startswith("MobileNetV3")]
        jobs.sort(key=lambda j: j[1])
        for i, (n, case, kwargs) in enumerate(jobs):
            try:
                fresh(case_seed(self.seed, case), free=True)
                m = getattr(keras.applications, n)(weights=None, **kwargs)
                text = m.to_json()
                exp = graph_summary(m)
            except Exception as e:  # noqa: BLE001
                note(f"application {n} skipped: {type(e).__name__}: {clean_error(e)}")
                continue
            d = self.d(case)
            write_text(os.path.join(d, "model.json"), text)
            write_json(os.path.join(d, "expected.json"), exp)
            total += len(text)
            self.index[case] = {"group": "app", "valid": True, "forward": False,
                                "what": f"keras.applications.{n}(weights=None{''.join(f', {k}={v}' for k, v in kwargs.items())})", "layers": len(exp["layers"]),
                                "inputs": 1, "outputs": 1}
            print(f"  {case}: {len(exp['layers'])} layers, {exp['total_params']} params, "
                  f"{len(text) / 1e6:.2f} MB json ({time.time() - t0:.0f} s)", flush=True)
            del m
        _ZERO_INIT["raw"] = False
        fresh(0, free=True)
        print(f"apps: {len(names)} constructors, model.json total {total / 1e6:.1f} MB")
        return total

    # --- Keras code (model.py)
    def code_for(self, case):
        spec = self.specs[case]
        fresh(case_seed(self.seed, case))
        model, lays, kts = build_spec(spec, case)
        n_in = len(spec["inputs"])
        var = [f"inp{i}" if n_in > 1 else "inp" for i in range(n_in)] + [f"x{j}" for j in range(len(lays))]
        lines = ["import keras", "from keras import layers", ""]
        for i, inp in enumerate(spec["inputs"]):
            extra = "" if inp.get("dtype", "float32") == "float32" else f', dtype="{inp["dtype"]}"'
            lines.append(f'{var[i]} = keras.Input(shape={lit(tuple(inp["shape"]))}, '
                         f'name="{kts[i]._keras_history[0].name}"{extra})')
        for j, (nd, layer) in enumerate(zip(spec["nodes"], lays)):
            kw = dict(nd["kw"])
            kw["name"] = layer.name
            pos = [kw.pop(k) for k in POSITIONAL.get(nd["cls"], []) if k in kw]
            argtxt = ", ".join([lit(p) for p in pos] + [f"{k}={lit(v)}" for k, v in kw.items()])
            ins = [var[a] for a in nd["args"]]
            call = f"[{', '.join(ins)}]" if nd["call"] == "list" else ", ".join(ins)
            lines.append(f"{var[n_in + j]} = layers.{nd['cls']}({argtxt})({call})")
        ins = [var[i] for i in range(n_in)]
        outs = [var[o] for o in spec["outputs"]]
        fmt = (lambda v: v[0] if len(v) == 1 else f"[{', '.join(v)}]")
        lines.append(f'model = keras.Model(inputs={fmt(ins)}, outputs={fmt(outs)}, name="{case}")')
        src = "\n".join(lines) + "\n"
        want_json = model.to_json()
        want = graph_summary(model)
        fresh(case_seed(self.seed, case))
        ns = {}
        exec(compile(src, f"{case}/model.py", "exec"), ns)
        got = ns["model"]
        if graph_summary(got) != want:
            note(f"model.py for {case} does not rebuild the same summary; not written")
            return False
        same_json = got.to_json() == want_json
        if not same_json:
            note(f"model.py for {case}: same summary, but to_json() differs")
        write_text(os.path.join(self.d(case), "model.py"), src)
        self.index[case]["model_py"] = True
        self.index[case]["model_py_same_json"] = same_json
        return True

    # --- invalid graphs
    def bad_case(self, case, spec_ok, edits, what):
        """spec_ok builds; edits turn it into the graph Keras refuses. model.json = spec_ok's to_json()
        with the edits applied and the tensor shapes / build_config of every layer Keras could still
        build brought up to date (the refused layer and everything downstream of it lose build_config;
        tensors downstream of it keep the valid sibling's shapes)."""
        sd = case_seed(self.seed, case)
        fresh(sd)
        try:
            model_ok, lays_ok, kts_ok = build_spec(spec_ok, case)
        except Exception as e:  # noqa: BLE001
            note(f"{case}: valid sibling does not build ({clean_error(e)}); skipped")
            return False
        J = json.loads(model_ok.to_json())
        n_in = len(spec_ok["inputs"])
        names = [kt._keras_history[0].name for kt in kts_ok[:n_in]] + [l.name for l in lays_ok]
        ref_of = {nm: r for r, nm in enumerate(names)}
        spec = copy.deepcopy(spec_ok)
        for i, inp in enumerate(spec["inputs"]):
            inp["name"] = names[i]
        for j, nd in enumerate(spec["nodes"]):
            nd["kw"]["name"] = names[n_in + j]
        entries = {e["name"]: e for e in J["config"]["layers"]}
        ok_tensor = {r: (shape_list(kts_ok[r].shape), kts_ok[r].dtype) for r in range(len(kts_ok))}

        def kt_json(r):
            shp, dt = ok_tensor[r]
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": shp, "dtype": dt, "keras_history": [names[r], 0, 0]}}

        for ed in edits:
            kind = ed[0]
            if kind == "kw":
                nd = spec["nodes"][ed[1]]
                nd["kw"].update(ed[2])
                for k in [k for k, v in ed[2].items() if v is None]:
                    nd["kw"].pop(k)
                entries[names[n_in + ed[1]]]["config"] = keras.saving.serialize_keras_object(make_layer(nd))["config"]
            elif kind == "args":
                nd = spec["nodes"][ed[1]]
                nd["args"], nd["call"] = list(ed[2]), ed[3]
                e = entries[names[n_in + ed[1]]]
                ts = [kt_json(a) for a in nd["args"]]
                e["inbound_nodes"][0]["args"] = [ts] if nd["call"] == "list" else ts
            elif kind == "input":
                inp = spec["inputs"][ed[1]]
                inp.update(ed[2])
                cfg = entries[names[ed[1]]]["config"]
                cfg["batch_shape"] = [inp.get("batch_size")] + list(inp["shape"])
                cfg["dtype"] = inp.get("dtype", "float32")
            else:
                raise ValueError(kind)

        # an edited call may now read a layer listed after it: move producers first (stable
        # topological order, the sibling's order wherever it is still valid)
        J["config"]["layers"] = stable_topo(J["config"]["layers"])

        # probe: rebuild the edited graph the way model_from_json does (passes over the JSON layer
        # order, each layer once its inputs exist), keeping every layer that still builds
        fresh(sd)
        kts = {}
        for i, inp in enumerate(spec["inputs"]):
            kts[i] = make_input(inp)
        built, first_bad = {}, None
        pending = [e["name"] for e in J["config"]["layers"] if ref_of[e["name"]] >= n_in]
        progress = True
        while pending and progress:
            progress = False
            for nm in list(pending):
                nd = spec["nodes"][ref_of[nm] - n_in]
                if any(a not in kts for a in nd["args"]):
                    continue
                pending.remove(nm)
                progress = True
                layer = make_layer(nd)
                try:
                    kts[ref_of[nm]] = call_layer(layer, nd, [kts[a] for a in nd["args"]])
                    built[nm] = layer
                except Exception as e:  # noqa: BLE001
                    if first_bad is None:
                        first_bad = (nm, e)
        if first_bad is None:
            note(f"{case}: Keras builds the edited graph ({what}); skipped")
            return False

        def fix(o):
            if isinstance(o, dict):
                if o.get("class_name") == "__keras_tensor__":
                    r = ref_of[o["config"]["keras_history"][0]]
                    if r in kts:
                        o["config"]["shape"] = shape_list(kts[r].shape)
                        o["config"]["dtype"] = kts[r].dtype
                    return
                for v in o.values():
                    fix(v)
            elif isinstance(o, list):
                for v in o:
                    fix(v)

        for e in J["config"]["layers"]:
            fix(e["inbound_nodes"])
            if e["name"] in built:
                ser = json.loads(json.dumps(keras.saving.serialize_keras_object(built[e["name"]])))
                e["config"] = ser["config"]
                if "build_config" in ser:
                    e["build_config"] = ser["build_config"]
            elif ref_of[e["name"]] >= n_in:
                e.pop("build_config", None)
        text = json.dumps(J)

        # what Keras says about the JSON
        fresh(sd)
        failed = []
        orig = _KLayer.__call__

        def spy(self, *a, **k):
            try:
                return orig(self, *a, **k)
            except Exception:
                failed.append(self.name)
                raise

        _KLayer.__call__ = spy
        err = None
        try:
            keras.models.model_from_json(text)
        except Exception as e:  # noqa: BLE001
            err = e
        finally:
            _KLayer.__call__ = orig
        if err is None:
            note(f"{case}: model_from_json accepts the edited JSON ({what}); skipped")
            return False
        top = [n for n in failed if n in ref_of]
        bad = top[0] if top else None
        if bad != first_bad[0]:
            note(f"{case}: model_from_json fails at {bad}, probe at {first_bad[0]}")
        if bad is None:
            note(f"{case}: model_from_json raised outside a layer call: {clean_error(err)}; skipped")
            return False
        exp = {"valid": False, "bad_layer": bad, "keras_error": clean_error(err)}
        bad_cls = spec["nodes"][ref_of[bad] - n_in]["cls"]
        if bad_cls not in what:
            what += f" (Keras refuses {bad_cls} {bad} first)"
        call_err = clean_error(first_bad[1])
        if call_err != exp["keras_error"]:
            exp["layer_error"] = call_err
            note(f"{case}: model_from_json says '{exp['keras_error'][:90]}...', the layer call said '{call_err}'")
        d = self.d(case)
        write_text(os.path.join(d, "model.json"), text)
        write_json(os.path.join(d, "expected.json"), exp)
        self.index[case] = {"group": "bad", "valid": False, "forward": False, "what": what, "bad_layer": bad,
                            "bad_class": bad_cls}
        return True


def tensor_refs(o, acc):
    if isinstance(o, dict):
        if o.get("class_name") == "__keras_tensor__":
            acc.append(o["config"]["keras_history"][0])
        else:
            for v in o.values():
                tensor_refs(v, acc)
    elif isinstance(o, list):
        for v in o:
            tensor_refs(v, acc)
    return acc


def stable_topo(entries):
    done, out, rest = set(), [], list(entries)
    while rest:
        for e in rest:
            if all(n in done for n in tensor_refs(e["inbound_nodes"], [])):
                break
        else:
            raise ValueError("cycle in edited graph")
        rest.remove(e)
        out.append(e)
        done.add(e["name"])
    return out


POSITIONAL = {"Dense": ["units"], "Conv1D": ["filters", "kernel_size"], "Conv2D": ["filters", "kernel_size"],
              "Activation": ["activation"], "Reshape": ["target_shape"], "Dropout": ["rate"],
              "Embedding": ["input_dim", "output_dim"]}


def lit(v):
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(lit(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(lit(x) for x in v) + "]"
    raise TypeError(type(v))


# ----------------------------------------------------------------------------------------------
# hand-made groups
# ----------------------------------------------------------------------------------------------
def D(R, lo=2, hi=6, avoid=()):
    while True:
        d = R.randint(lo, hi)
        if d not in avoid:
            return d


def merge_cases(R):
    """(what, spec) pairs; all are forward cases."""
    out = []

    def add(what, spec):
        out.append((what, spec))

    T, C, A = D(R, 2, 5), D(R, 2, 6), D(R, 2, 4)
    b = SB(); x = b.inp((T, C)); y = b.inp((T, C))
    add("Add of equal shapes", b.out(b("Add", [x, y])))
    b = SB(); x = b.inp((T, C)); y = b.inp((C,))
    add("Add (T,C)+(C,): lower rank broadcasts", b.out(b("Add", [x, y])))
    b = SB(); y = b.inp((C,)); x = b.inp((T, C))
    add("Add (C,)+(T,C): lower rank first", b.out(b("Add", [y, x])))
    b = SB(); x = b.inp((T, C)); y = b.inp((1, C))
    add("Add (T,C)+(1,C)", b.out(b("Add", [x, y])))
    b = SB(); x = b.inp((T, C)); h = b("Dense", x, units=1)
    add("Add (T,C)+Dense(1) -> (T,1)", b.out(b("Add", [x, h])))
    b = SB(); y = b.inp((1, C)); z = b.inp((T, 1))
    add("Multiply (1,C)*(T,1) -> (T,C): both stretch", b.out(b("Multiply", [y, z])))
    b = SB(); x = b.inp((A, T, C)); y = b.inp((T, 1)); z = b.inp((C,))
    add("Add of 3: (A,T,C)+(T,1)+(C,)", b.out(b("Add", [x, y, z])))
    b = SB(); x = b.inp((T, C)); y = b.inp((C,))
    add("Subtract (T,C)-(C,)", b.out(b("Subtract", [x, y])))
    b = SB(); x = b.inp((T, C)); y = b.inp((C,))
    add("Subtract (C,)-(T,C): order kept", b.out(b("Subtract", [y, x])))
    b = SB(); x = b.inp((T, C)); s = b.inp((1,)); h = b("Dense", x, units=C, activation="tanh")
    add("Multiply of 3 with a (1,) scale", b.out(b("Multiply", [h, x, s])))
    b = SB(); x = b.inp((A, T, C)); h1 = b("Dense", x, units=1); h2 = b("GlobalAveragePooling2D", x, keepdims=True)
    add("Average of 3: (A,T,C),(A,T,1),(1,1,C)", b.out(b("Average", [x, h1, h2])))
    b = SB(); x = b.inp((T, C)); y = b.inp((1, C))
    add("Maximum (T,C),(1,C)", b.out(b("Maximum", [x, y])))
    b = SB(); x = b.inp((A, T, C)); y = b.inp((T, C))
    add("Minimum (A,T,C),(T,C)", b.out(b("Minimum", [x, y])))
    b = SB(); x = b.inp((C,)); h = b("Dense", x, units=4, activation="relu"); a1 = b("Add", [h])
    m1 = b("Maximum", [a1]); c1 = b("Concatenate", [m1]); mi = b("Minimum", [c1]); av = b("Average", [mi])
    add("1-input merges: Add, Maximum, Concatenate, Minimum, Average of [x]", b.out(b("Multiply", [av])))
    C2 = D(R, 1, 6)
    b = SB(); x = b.inp((T, C)); y = b.inp((T, C2))
    add("Concatenate default axis", b.out(b("Concatenate", [x, y])))
    T2 = D(R, 1, 5)
    b = SB(); x = b.inp((T, C)); y = b.inp((T2, C))
    add("Concatenate axis=1", b.out(b("Concatenate", [x, y], axis=1)))
    b = SB(); x = b.inp((A, T, C)); y = b.inp((A, T2, C))
    add("Concatenate axis=-2 on rank 4", b.out(b("Concatenate", [x, y], axis=-2)))
    A2 = D(R, 1, 4)
    b = SB(); x = b.inp((A, T, C)); y = b.inp((A2, T, C)); z = b("ZeroPadding2D", y, padding=((1, 0), (0, 0)))
    add("Concatenate axis=1 of 3 on rank 4", b.out(b("Concatenate", [x, y, z], axis=1)))
    b = SB(); x = b.inp((C,)); y = b.inp((C2,)); h = b("Dense", x, units=3)
    add("Concatenate axis=-1 of 3 rank-1, an input used twice", b.out(b("Concatenate", [x, y, h], axis=-1)))
    b = SB(); x = b.inp((C,)); y = b.inp((T,)); u = D(R, 2, 6)
    hx = b("Dense", x, units=u); hy = b("Dense", y, units=u)
    add("Dot axes=1 of rank-1", b.out(b("Dot", [hx, hy], axes=1)))
    b = SB(); x = b.inp((C,)); y = b.inp((T,)); hx = b("Dense", x, units=u); hy = b("Dense", y, units=u)
    add("Dot axes=1 normalize=True", b.out(b("Dot", [hx, hy], axes=1, normalize=True)))
    S = D(R, 2, 5)
    b = SB(); x = b.inp((T, C)); y = b.inp((S, C))
    add("Dot axes=2: (T,C).(S,C) -> (T,S)", b.out(b("Dot", [x, y], axes=2)))
    b = SB(); x = b.inp((T, C)); y = b.inp((T, C2))
    add("Dot axes=1 normalize: (T,C).(T,C2) -> (C,C2)", b.out(b("Dot", [x, y], axes=1, normalize=True)))
    b = SB(); x = b.inp((T, C)); y = b.inp((C,))
    add("Dot axes=(2,1): (T,C).(C,) -> (T,)", b.out(b("Dot", [x, y], axes=(2, 1))))
    b = SB(); x = b.inp((T, C)); y = b.inp((C,))
    add("Dot axes=(1,2): (C,).(T,C) -> (T,)", b.out(b("Dot", [y, x], axes=(1, 2))))
    b = SB(); x = b.inp((T, C)); y = b.inp((S, C))
    add("Dot axes=(-1,-1) normalize", b.out(b("Dot", [x, y], axes=(-1, -1), normalize=True)))
    b = SB(); x = b.inp((T, C), name="tokens"); s = b.inp((C,), name="bias_in")
    h = b("Dense", x, units=C, activation="relu"); a = b("Add", [h, s]); r = b("Reshape", s, target_shape=(1, C))
    c = b("Concatenate", [a, r], axis=1); dd = b("Dot", [c, x], axes=(2, 2)); f = b("Flatten", dd)
    o1 = b("Dense", f, units=2); o2 = b("Subtract", [r, c])
    add("mixed: Add broadcast, Concatenate axis=1, Dot, Subtract broadcast; 2 outputs", b.out(o1, o2))
    return out


def ops_cases(R):
    """Arithmetic on Keras tensors (`x + 3.0`, `x * y`): Keras operation nodes, which Keras
    lists in the JSON but not in `model.layers` (MobileNetV3's hard sigmoid, ConvNeXt's
    residual `inputs + x`). All forward cases."""
    out = []
    T, C = D(R, 2, 5), D(R, 2, 6)
    b = SB(); x = b.inp((T, C))
    d = b("Dense", x, units=C)
    p = b("OP", [d], call="op", op="+", c=3.0)
    r = b("ReLU", p, max_value=6.0)
    h = b("OP", [r], call="op", op="*", c=1.0 / 6.0)
    out.append(("hard swish: Dense, x + 3.0, ReLU(6), * (1/6), Multiply", b.out(b("Multiply", [d, h]))))
    b = SB(); x = b.inp((T, C))
    d = b("Dense", x, units=C)
    s = b("OP", [x, d], call="op", op="+")
    t = b("OP", [s], call="op", op="-", c=2.0, first=True)
    out.append(("residual by operator: x + Dense(x), 2.0 - t, t / 4.0", b.out(b("OP", [t], call="op", op="/", c=4.0))))
    b = SB(); x = b.inp((T, C)); y = b.inp((C,))
    m = b("OP", [x, y], call="op", op="*")
    out.append(("x * y and x - y with broadcasting", b.out(b("OP", [m, x], call="op", op="-"))))
    return out


def mha_cases(R):
    out = []

    def add(what, spec):
        out.append((what, spec))

    T, S, C, Dv = D(R, 2, 5), D(R, 2, 6), D(R, 2, 6), D(R, 2, 6)
    b = SB(); x = b.inp((T, C))
    add("self-attention mha(x, x)", b.out(b("MultiHeadAttention", [x, x], "mha", num_heads=2, key_dim=3)))
    S2 = D(R, 2, 6, avoid=(T,))
    b = SB(); q = b.inp((T, C), name="query_in"); v = b.inp((S2, Dv), name="memory")
    add("cross-attention, different lengths and widths",
        b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=1, key_dim=4)))
    b = SB(); q = b.inp((T, C)); v = b.inp((S, Dv)); k = b.inp((S, D(R, 2, 6)))
    add("separate key input mha(q, v, k)", b.out(b("MultiHeadAttention", [q, v, k], "mha", num_heads=2, key_dim=2)))
    A = D(R, 2, 3)
    b = SB(); q = b.inp((A, T, C)); v = b.inp((A, S, Dv))
    add("rank-4 query and value, default attention_axes",
        b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=2, key_dim=3)))
    b = SB(); q = b.inp((A, T, C)); v = b.inp((A + 1, S, Dv))
    add("rank-4, query and value differ in both attended axes",
        b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=1, key_dim=2)))
    b = SB(); x = b.inp((T, C))
    add("use_bias=False", b.out(b("MultiHeadAttention", [x, x], "mha", num_heads=3, key_dim=2, use_bias=False)))
    b = SB(); q = b.inp((T, C)); v = b.inp((S, Dv))
    add("output_shape int", b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=2, key_dim=3, output_shape=5)))
    b = SB(); q = b.inp((T, C)); v = b.inp((S, Dv))
    add("output_shape tuple (2, 3)",
        b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=2, key_dim=2, output_shape=(2, 3))))
    b = SB(); q = b.inp((T, C)); v = b.inp((S, Dv))
    add("value_dim != key_dim (dropout=0.1 so that Keras/jax takes the einsum path)",
        b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=2, key_dim=2, value_dim=5, dropout=0.1)))
    E, V = D(R, 4, 8), D(R, 5, 10)
    b = SB(); t = b.inp((D(R, 4, 6),), dtype="int32", high=V, name="tokens"); e = b("Embedding", t, input_dim=V, output_dim=E)
    m = b("MultiHeadAttention", [e, e], "mha", num_heads=2, key_dim=E // 2); a = b("Add", [e, m])
    n1 = b("LayerNormalization", a); f1 = b("Dense", n1, units=2 * E, activation="relu"); f2 = b("Dense", f1, units=E)
    a2 = b("Add", [n1, f2]); n2 = b("LayerNormalization", a2); g = b("GlobalAveragePooling1D", n2)
    add("transformer encoder block on Embedding", b.out(b("Dense", g, units=3)))
    b = SB(); enc = b.inp((S, C), name="encoder_in"); dec = b.inp((T, C), name="decoder_in")
    sa = b("MultiHeadAttention", [dec, dec], "mha", num_heads=2, key_dim=2); r1 = b("Add", [dec, sa])
    ca = b("MultiHeadAttention", [r1, enc], "mha", num_heads=1, key_dim=3, value_dim=2, dropout=0.1)
    r2 = b("Add", [r1, ca])
    n = b("LayerNormalization", r2); p = b("Dense", n, units=2)
    add("decoder: self-attention then cross-attention; 2 outputs", b.out(p, ca))
    b = SB(); q = b.inp((T, C)); v = b.inp((S, Dv)); k = b("Dense", v, units=3)
    add("3 heads, dropout, key from Dense(value), use_bias=False, value_dim, output_shape",
        b.out(b("MultiHeadAttention", [q, v, k], "mha", num_heads=3, key_dim=2, value_dim=3, dropout=0.1,
                use_bias=False, output_shape=4)))
    b = SB(); q = b.inp((A, T, C)); v = b.inp((A, S, Dv)); k = b.inp((A, S, 3))
    add("rank-4 with separate key, value_dim",
        b.out(b("MultiHeadAttention", [q, v, k], "mha", num_heads=2, key_dim=2, value_dim=3)))
    return out


def dag_extras(R):
    """Hand-made dag_ cases: 1-input merges Keras accepts, and summary-only quirks."""
    out = []
    T, C = D(R, 2, 5), D(R, 2, 6)
    b = SB(); x = b.inp((T, C)); h = b("Dense", x, units=4); a = b("Add", [h]); f = b("Flatten", a)
    out.append(("Add([x]) with one input is accepted", b.out(b("Dense", f, units=2)), True))
    b = SB(); x = b.inp((C,)); y = b.inp((C,)); c = b("Concatenate", [x]); m = b("Maximum", [y])
    out.append(("Concatenate([x]) and Maximum([y]) with one input", b.out(b("Multiply", [c, m])), True))
    b = SB(); x = b.inp((T, C)); a = b("Average", [x]); m = b("Minimum", [a]); p = b("Multiply", [m])
    out.append(("Average/Minimum/Multiply of one input chained", b.out(b("Dense", p, units=3)), True))
    b = SB(); x = b.inp((T, C)); y = b.inp((T, C))
    out.append(("QUIRK Concatenate(axis=0) (batch axis) builds: output (None,T,C); summary only",
                b.out(b("Concatenate", [x, y], axis=0)), False))
    b = SB(); x = b.inp((T, C)); y = b.inp((T, C)); h = b("Dense", y, units=C)
    out.append(("QUIRK Concatenate(axis=-3) on rank 3 (batch axis); summary only",
                b.out(b("Dense", b("Concatenate", [x, h], axis=-3), units=2)), False))
    b = SB(); x = b.inp((C,)); y = b.inp((C,))
    out.append(("QUIRK Dot(axes=0) builds with output shape (C, 1), no batch dim; summary only",
                b.out(b("Dot", [x, y], axes=0)), False))
    b = SB(); q = b.inp((T, C)); v = b.inp((D(R, 2, 6), C))
    out.append(("QUIRK MultiHeadAttention value_dim != key_dim, dropout=0: builds, but Keras/jax predict raises "
                "(fused dot_product_attention needs equal head dims); summary only",
                b.out(b("MultiHeadAttention", [q, v], "mha", num_heads=2, key_dim=2, value_dim=4)), False))
    b = SB(); x = b.inp((C,)); y = b.inp((C,))
    out.append(("QUIRK MultiHeadAttention on rank-2 query/value (batch, C) builds",
                b.out(b("MultiHeadAttention", [x, y], "mha", num_heads=2, key_dim=2)), False))
    return out


def bad_cases(R, dag_specs):
    """(what, spec_ok, edits) triples."""
    out = []

    def add(what, spec, edits):
        out.append((what, spec, edits))

    # elementwise merges of mismatched widths (a Dense's units edited), every class
    for cls in EW:
        b = SB(); rank = R.choice([1, 2, 3]); T, C = D(R, 2, 5), D(R, 2, 6)
        shape = {1: (C,), 2: (T, C), 3: (T, T, C)}[rank]
        x = b.inp(shape)
        src = b.inp(shape) if R.random() < 0.5 else x
        u = D(R, 2, 6)
        h1 = b("Dense", x, units=u, activation="relu"); h2 = b("Dense", src, units=u)
        m = b(cls, [h1, h2]); f = b("Flatten", m) if rank > 1 else m
        u2 = D(R, 2, 7, avoid=(u,))
        add(f"{cls} of Dense({u}) and Dense({u2})", b.out(b("Dense", f, units=2)), [("kw", b.idx(h2), {"units": u2})])
    # lower-rank operand that does not line up with the trailing dims
    for cls in ["Add", "Multiply"]:
        b = SB(); T, u = D(R, 2, 5), D(R, 2, 6)
        T = D(R, 2, 6, avoid=(u,))
        x = b.inp((T, D(R, 2, 5))); y = b.inp((D(R, 2, 5),))
        h1 = b("Dense", x, units=u); h2 = b("Dense", y, units=u); m = b(cls, [h1, h2])
        add(f"{cls} (T,{u})+({T},): right-aligned dims differ", b.out(b("GlobalAveragePooling1D", m)),
            [("kw", b.idx(h2), {"units": T})])
    # middle dims differ (input edited)
    for cls in ["Maximum", "Minimum"]:
        b = SB(); T, C = D(R, 2, 5), D(R, 2, 5)
        x = b.inp((T, C)); y = b.inp((T, C)); h = b("Dense", y, units=C); m = b(cls, [x, h])
        T2 = D(R, 2, 6, avoid=(T,))
        add(f"{cls} of (T,C) and ({T2},C)", b.out(b("Flatten", m)), [("input", 1, {"shape": [T2, C]})])
    # third operand of three mismatched
    b = SB(); C = D(R, 2, 6); x = b.inp((C,)); h1 = b("Dense", x, units=C); h2 = b("Dense", x, units=1)
    h3 = b("Dense", x, units=C); m = b("Average", [h1, h2, h3])
    add("Average of 3, the third mismatched", b.out(m), [("kw", b.idx(h3), {"units": D(R, 2, 7, avoid=(C,))})])
    # Subtract needs exactly two
    for k in (3, 1, 3):
        b = SB(); T, C = D(R, 2, 5), D(R, 2, 6); x = b.inp((T, C)); h1 = b("Dense", x, units=C)
        h2 = b("Dense", x, units=C); h3 = b("Dense", x, units=C); s = b("Subtract", [h1, h2]); a = b("Add", [s, h3])
        args = [h1, h2, h3][:k]
        add(f"Subtract with {k} input(s)", b.out(a), [("args", b.idx(s), args, "list")])
    # merges called on a bare tensor instead of a list
    for cls in ["Add", "Concatenate", "Dot"]:
        b = SB(); C = D(R, 2, 6); x = b.inp((C,)); h = b("Dense", x, units=C)
        args = [h, x] if cls == "Dot" else [h]
        m = b(cls, args, **({"axes": 1} if cls == "Dot" else {}))
        add(f"{cls} called on a bare tensor, not a list", b.out(b("Dense", m, units=2)),
            [("args", b.idx(m), [h], "bare")])
    # Concatenate: non-axis dims differ, rank differs
    for axis in (1, -2):
        b = SB(); T, C = D(R, 2, 5), D(R, 2, 6); x = b.inp((T, C)); u = D(R, 2, 6)
        h1 = b("Dense", x, units=u); h2 = b("Conv1D", x, filters=u, kernel_size=2, padding="same")
        c = b("Concatenate", [h1, h2], axis=axis)
        add(f"Concatenate axis={axis} of widths {u} and another", b.out(b("Flatten", c)),
            [("kw", b.idx(h2), {"filters": D(R, 2, 7, avoid=(u,))})])
    b = SB(); T, C1, C2 = D(R, 2, 5), D(R, 2, 5), D(R, 2, 5); x = b.inp((T, C1)); y = b.inp((T, C2))
    c = b("Concatenate", [x, y])
    add("Concatenate axis=-1 of (T,C1),(T2,C2)", b.out(c), [("input", 1, {"shape": [D(R, 2, 6, avoid=(T,)), C2]})])
    b = SB(); T, u = D(R, 2, 4), D(R, 2, 4); x = b.inp((T, 3)); y = b.inp((5,))
    h1 = b("Dense", x, units=u); h2 = b("Dense", y, units=T * u); r = b("Reshape", h2, target_shape=(T, u))
    c = b("Concatenate", [h1, r], axis=1)
    add("Concatenate of rank 3 and rank 2 (Reshape target edited)", b.out(b("Flatten", c)),
        [("kw", b.idx(r), {"target_shape": (T * u,)})])
    for axis, shape in ((3, (3, 4)), (-4, (3, 4)), (5, (2, 3)), (2, (4,))):
        b = SB(); x = b.inp(shape); h = b("Dense", x, units=shape[-1]); c = b("Concatenate", [x, h], axis=-1)
        add(f"Concatenate axis={axis} on rank {len(shape) + 1}", b.out(c), [("kw", b.idx(c), {"axis": axis})])
    # Dot
    b = SB(); x = b.inp((D(R, 2, 6),)); y = b.inp((D(R, 2, 6),)); u = D(R, 2, 6)
    h1 = b("Dense", x, units=u); h2 = b("Dense", y, units=u); dd = b("Dot", [h1, h2], axes=1)
    add("Dot axes=1 of different widths", b.out(b("Dense", dd, units=2)), [("kw", b.idx(h2), {"units": D(R, 2, 7, avoid=(u,))})])
    b = SB(); T, S, C = D(R, 2, 5), D(R, 2, 5), D(R, 2, 5); x = b.inp((T, C)); y = b.inp((S, 4))
    h = b("Dense", y, units=C); dd = b("Dot", [x, h], axes=2)
    add("Dot axes=2 of (T,C),(S,C')", b.out(b("Flatten", dd)), [("kw", b.idx(h), {"units": D(R, 2, 6, avoid=(C,))})])
    T = D(R, 2, 5); S = D(R, 2, 6, avoid=(T,)); C = D(R, 2, 6, avoid=(T, S))
    b = SB(); x = b.inp((T, C)); y = b.inp((S, C)); dd = b("Dot", [x, y], axes=(2, 2))
    add("Dot axes edited (2,2)->(1,2)", b.out(dd), [("kw", b.idx(dd), {"axes": (1, 2)})])
    b = SB(); x = b.inp((T, C)); y = b.inp((S, C)); dd = b("Dot", [x, y], axes=-1)
    add("Dot axes edited -1->1 (sequence lengths differ)", b.out(dd), [("kw", b.idx(dd), {"axes": 1})])
    for k in (3, 1):
        b = SB(); C = D(R, 2, 6); x = b.inp((C,)); y = b.inp((C,)); dd = b("Dot", [x, y], axes=1)
        add(f"Dot with {k} input(s)", b.out(dd), [("args", b.idx(dd), [x, y, x][:k], "list")])
    # MultiHeadAttention: key and value must agree on every dim but the last
    T, C = D(R, 2, 5), D(R, 2, 6)
    S = D(R, 2, 5, avoid=(T,))
    b = SB(); q = b.inp((T, C)); v = b.inp((S, C)); k = b.inp((S, 3))
    m = b("MultiHeadAttention", [q, v, k], "mha", num_heads=2, key_dim=2)
    add("MultiHeadAttention key length != value length", b.out(m), [("input", 2, {"shape": [D(R, 2, 6, avoid=(S,)), 3]})])
    b = SB(); q = b.inp((T, C)); v = b.inp((S, C)); k = b("Dense", v, units=3); o = b("Dense", q, units=3)
    m = b("MultiHeadAttention", [q, v, k], "mha", num_heads=1, key_dim=3)
    add("MultiHeadAttention key taken from the query branch (other length)", b.out(m, o),
        [("args", b.idx(m), [q, v, o], "mha")])
    b = SB(); q = b.inp((T, C)); v = b.inp((S, C)); k = b("Dense", v, units=3); g = b("GlobalAveragePooling1D", k)
    m = b("MultiHeadAttention", [q, v, k], "mha", num_heads=1, key_dim=2)
    add("MultiHeadAttention key of rank 2", b.out(m, g), [("args", b.idx(m), [q, v, g], "mha")])
    # single-input layers on a wrong rank / too small
    h, w, c = D(R, 2, 4), D(R, 2, 4), D(R, 1, 3)
    b = SB(); x = b.inp((5,)); d1 = b("Dense", x, units=h * w * c); r = b("Reshape", d1, target_shape=(h, w, c))
    cv = b("Conv2D", r, filters=2, kernel_size=1)
    add("Conv2D on a rank-3 tensor (Reshape target edited)", b.out(b("Flatten", cv)),
        [("kw", b.idx(r), {"target_shape": (h * w, c)})])
    b = SB(); x = b.inp((h, w, c)); cv = b("Dense", x, units=3); g = b("GlobalAveragePooling2D", cv)
    add("GlobalAveragePooling2D on rank 3 (input edited)", b.out(g), [("input", 0, {"shape": [h * w, c]})])
    b = SB(); x = b.inp((1,)); d1 = b("Dense", x, units=3)
    add("Dense on a (batch,) tensor (input shape edited to ())", b.out(d1), [("input", 0, {"shape": []})])
    u = D(R, 2, 4)
    b = SB(); x = b.inp((4,)); d1 = b("Dense", x, units=2 * u); r = b("Reshape", d1, target_shape=(2, u))
    add("Reshape of the wrong total size (Dense units edited)", b.out(b("Flatten", r)),
        [("kw", b.idx(d1), {"units": 2 * u + 1})])
    L1 = D(R, 2, 4)
    b = SB(); x = b.inp((L1, 3)); cv = b("Conv1D", x, filters=2, kernel_size=2, padding="valid")
    add("Conv1D valid with kernel longer than the sequence", b.out(b("Flatten", cv)),
        [("kw", b.idx(cv), {"kernel_size": L1 + 1})])
    b = SB(); x = b.inp((4, 4, 2)); p = b("MaxPooling2D", x, pool_size=(2, 2))
    add("MaxPooling2D on a 1x4 input (input edited)", b.out(b("Flatten", p)), [("input", 0, {"shape": [1, 4, 2]})])
    # batch sizes that disagree
    for cls in ["Add", "Concatenate"]:
        b = SB(); C = D(R, 2, 5); x = b.inp((C,)); y = b.inp((C,)); h = b("Dense", y, units=C); m = b(cls, [x, h])
        add(f"{cls} of batch_size 2 and 3 inputs", b.out(m),
            [("input", 0, {"batch_size": 2}), ("input", 1, {"batch_size": 3})])
    # random DAGs from the dag_ group, one Dense feeding an elementwise merge / Concatenate edited
    picked = 0
    for spec in dag_specs:
        if picked >= 10:
            break
        n_in = len(spec["inputs"])
        for j, nd in enumerate(spec["nodes"]):
            if nd["cls"] not in EW or len(nd["args"]) < 2 or nd["call"] != "list":
                continue
            for a in nd["args"]:
                if a < n_in:
                    continue
                src = spec["nodes"][a - n_in]
                if src["cls"] != "Dense" or src["kw"]["units"] == 1:
                    continue
                u2 = src["kw"]["units"] + 1 + (R.random() < 0.5)
                add(f"random DAG: Dense units {src['kw']['units']}->{u2} before {nd['cls']}", spec,
                    [("kw", a - n_in, {"units": u2})])
                picked += 1
                break
            else:
                continue
            break
    return out


# ----------------------------------------------------------------------------------------------
def mha_weight_order(path):
    lines = ["Keras MultiHeadAttention: model.get_weights() / layer.weights order and shapes",
             f"(keras {keras.__version__}, backend jax). Query (B, *q_axes, q_dim), value (B, *v_axes, v_dim),",
             "key (B, *v_axes, k_dim) (key defaults to value). Printed by tools/keras_graph_fixtures.py.", ""]
    cfgs = [
        ("MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_shape=7)  called as mha(q, v, k)",
         dict(num_heads=2, key_dim=3, value_dim=5, output_shape=7), [(4, 6), (5, 4), (5, 3)]),
        ("MultiHeadAttention(num_heads=2, key_dim=3, use_bias=False)  called as mha(q, v)",
         dict(num_heads=2, key_dim=3, use_bias=False), [(4, 6), (5, 4)]),
        ("MultiHeadAttention(num_heads=2, key_dim=3, output_shape=(2, 3))  rank-4 query/value mha(q, v)",
         dict(num_heads=2, key_dim=3, output_shape=(2, 3)), [(2, 4, 6), (2, 5, 4)]),
    ]
    for title, kw, shapes in cfgs:
        fresh(1)
        ins = [keras.Input(s) for s in shapes]
        m = L.MultiHeadAttention(**kw)
        o = m(*ins)
        lines.append(title)
        lines.append("  inputs " + ", ".join(str(tuple(t.shape)) for t in ins) + f" -> output {tuple(o.shape)}")
        for i, v in enumerate(m.weights):
            lines.append(f"  arr_{i}  {v.path:45s} {tuple(v.shape)}")
        lines.append("")
    lines += ["kernels: query/kernel (q_dim, num_heads, key_dim), key/kernel (k_dim, num_heads, key_dim),",
              "value/kernel (v_dim, num_heads, value_dim), attention_output/kernel (num_heads, value_dim, *out),",
              "where out = output_shape (int or tuple) or q_dim; biases drop the first kernel axis.",
              "Order: query, key, value, attention_output; kernel before bias in each."]
    write_text(path, "\n".join(lines) + "\n")
    print("\n".join(lines))


def check_export(cli, out, skip_apps=False, only=None):
    """`flatland export --keras` of every valid fixture, run by real Keras: the rebuilt model
    must have Keras's layers (names, classes, output shapes, params) and totals."""
    import subprocess
    ok, bad = 0, []
    for c in sorted(os.listdir(out)):
        d = os.path.join(out, c)
        e = os.path.join(d, "expected.json")
        if not os.path.exists(e) or (skip_apps and c.startswith("app_")) or (only and c not in only):
            continue
        exp = json.load(open(e))
        if not exp.get("valid"):
            continue
        p = subprocess.run([cli, "export", os.path.join(d, "model.json"), "--keras"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            bad.append((c, f"export exit {p.returncode}: {p.stderr.strip()[:120]}"))
            continue
        keras.backend.clear_session()
        ns = {}
        why = None
        try:
            exec(p.stdout.replace("model.summary()", ""), ns)  # noqa: S102 - our own export
            got = {r["name"]: r for r in graph_summary(ns["model"])["layers"]}
            for r in exp["layers"]:
                g = got.get(r["name"])
                keys = ("class_name", "output_shape", "params", "trainable_params", "non_trainable_params")
                if g is None or any(g[k] != r[k] for k in keys):
                    why = f"{r['name']}: {g and {k: g[k] for k in keys}} vs Keras {({k: r[k] for k in keys})}"
                    break
            if why is None and len(got) != len(exp["layers"]):
                why = f"{len(got)} layers vs {len(exp['layers'])}"
        except Exception as ex:  # noqa: BLE001
            why = f"{type(ex).__name__}: {clean_error(ex)[:160]}"
        if why:
            bad.append((c, why))
        else:
            ok += 1
    for c, w in bad[:20]:
        print(f"  {c}: {w}")
    print(f"exported Functional code rebuilt by Keras identically: {ok}/{ok + len(bad)}")
    return not bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "graph"))
    ap.add_argument("--skip-apps", action="store_true")
    ap.add_argument("--check-export", metavar="FLATLAND",
                    help="only check: run FLATLAND export --keras on every valid fixture in Keras")
    ap.add_argument("--cases", help="with --check-export: only these cases (comma-separated)")
    args = ap.parse_args()
    if args.check_export:
        only = set(args.cases.split(",")) if args.cases else None
        sys.exit(0 if check_export(args.check_export, os.path.abspath(args.out), args.skip_apps, only) else 1)
    t_start = time.time()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    groups = [g for g in GROUPS if not (g == "app" and args.skip_apps)]
    for c in sorted(os.listdir(out)):
        if os.path.isdir(os.path.join(out, c)) and c.split("_")[0] in groups:
            shutil.rmtree(os.path.join(out, c))
    install_zero_init()
    W = Writer(out, args.seed)
    timing = {}

    if not args.skip_apps:
        t = time.time()
        W.apps()
        timing["app"] = time.time() - t

    t = time.time()
    R = random.Random(f"{args.seed}:mha")
    for i, (what, spec) in enumerate(mha_cases(R)):
        W.valid_case(f"mha_{i:03d}", "mha", spec, True, what)
    mha_weight_order(os.path.join(out, "mha_weights_order.txt"))
    R = random.Random(f"{args.seed}:merge")
    merge_names = []
    for i, (what, spec) in enumerate(merge_cases(R)):
        W.valid_case(f"merge_{i:03d}", "merge", spec, True, what)
        merge_names.append(f"merge_{i:03d}")
    R = random.Random(f"{args.seed}:ops")
    for i, (what, spec) in enumerate(ops_cases(R)):
        W.valid_case(f"ops_{i:03d}", "ops", spec, True, what)
    timing["mha+merge"] = time.time() - t

    t = time.time()
    dag_specs, i, attempt = [], 0, 0
    while i < 120:
        case = f"dag_{i:03d}"
        fresh(case_seed(args.seed, case))
        spec = G(random.Random(f"{args.seed}:dag:{i}:{attempt}")).generate()
        if spec is None:
            attempt += 1
            continue
        try:
            W.valid_case(case, "dag", spec, i % 2 == 0, "random DAG")
        except Exception as e:  # noqa: BLE001 - should not happen: every call was checked
            note(f"{case} attempt {attempt}: final build failed: {clean_error(e)}")
            shutil.rmtree(W.d(case), ignore_errors=True)
            W.index.pop(case, None)
            attempt += 1
            continue
        dag_specs.append(spec)
        i += 1
        attempt = 0
    R = random.Random(f"{args.seed}:dagx")
    for what, spec, fw in dag_extras(R):
        case = f"dag_{i:03d}"
        try:
            W.valid_case(case, "dag", spec, fw, what)
        except Exception as e:  # noqa: BLE001
            note(f"{case} ({what}): Keras refuses it: {clean_error(e)}")
            shutil.rmtree(W.d(case), ignore_errors=True)
            W.index.pop(case, None)
            continue
        i += 1
    timing["dag"] = time.time() - t

    t = time.time()
    R = random.Random(f"{args.seed}:bad")
    n = 0
    for what, spec, edits in bad_cases(R, dag_specs):
        if W.bad_case(f"bad_{n:03d}", spec, edits, what):
            n += 1
    timing["bad"] = time.time() - t

    t = time.time()
    fw_dags = [c for c in sorted(W.index) if c.startswith("dag_") and W.index[c]["forward"]][:10]
    for c in fw_dags + merge_names[::5]:
        W.code_for(c)
    timing["model.py"] = time.time() - t

    # INDEX from what is on disk (so --skip-apps keeps the app entries of an earlier run)
    ctor = {n.lower(): n for n in dir(keras.applications) if n[:1].isupper()}
    cases = []
    for c in sorted(os.listdir(out)):
        d = os.path.join(out, c)
        if not os.path.isdir(d) or c.split("_")[0] not in GROUPS:
            continue
        meta = W.index.get(c)
        if meta is None:  # an app case kept from an earlier run
            exp = json.load(open(os.path.join(d, "expected.json")))
            meta = {"group": "app", "valid": True, "forward": False,
                    "what": f"keras.applications.{ctor.get(c[4:], c[4:])}(weights=None)",
                    "layers": len(exp["layers"]), "inputs": 1, "outputs": 1}
        row = {"name": c}
        row.update(meta)
        row["forward"] = os.path.exists(os.path.join(d, "expected_0.npy"))
        row["model_py"] = os.path.exists(os.path.join(d, "model.py"))
        cases.append(row)
    counts = {}
    for r in cases:
        s = counts.setdefault(r["group"], {"cases": 0, "forward": 0, "model_py": 0})
        s["cases"] += 1
        s["forward"] += int(r["forward"])
        s["model_py"] += int(r["model_py"])
    index = {
        "generator": "tools/keras_graph_fixtures.py",
        "seed": args.seed,
        "versions": {"keras": keras.__version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__,
                     "numpy": np.__version__, "python": platform.python_version(), "backend": "jax"},
        "groups": counts,
        "cases": cases,
    }
    write_json(os.path.join(out, "INDEX.json"), index)
    total = time.time() - t_start
    print("\ngroups:", json.dumps(counts))
    print("timing (s):", {k: round(v, 1) for k, v in timing.items()}, "total", round(total, 1))
    print(f"{len(SURPRISES)} notes")
    for s in SURPRISES:
        print("  -", s)


if __name__ == "__main__":
    main()
