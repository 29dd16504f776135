//! `GroupNormalization`: everything Flatland knows about the layer (settings, shape rule
//! with Keras's refusals, weights, forward and backward pass, explanation) in one file.

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use super::code::{py_float, KerasArgs, KerasTable, LayerCode, Torch};
use super::{Explanation, Init, LayerRules, WeightSpec};
use crate::engine::error::Problem;
use crate::engine::shape::Shape;
use crate::engine::train::grad::{check_same_shape, Grads};

/// `keras.layers.GroupNormalization(groups=32, axis=-1, epsilon=0.001, center=True,
/// scale=True)`: splits the channels on `axis` into `groups` equal groups and normalises
/// each group of each sample over its channels and every other (non-batch) position.
/// `groups=-1` means one group per channel (instance normalisation). The
/// `beta_*`/`gamma_*` initializer, regularizer and constraint settings are read and ignored,
/// as for the other layers (inference only; weights are ones/zeros until loaded).
///
/// # Shapes
/// `(None, ..., C, ...)` → the same shape. `C` (the size of `axis`) must be at least
/// `groups` and a multiple of it. Weights `gamma (C,)` if `scale`, then `beta (C,)` if
/// `center` (Keras `get_weights()` order), all trainable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupNormalization {
    pub groups: i64,
    pub axis: i64,
    pub epsilon: f32,
    pub center: bool,
    pub scale: bool,
}

impl Default for GroupNormalization {
    fn default() -> Self {
        GroupNormalization {
            groups: 32,
            axis: -1,
            epsilon: 1e-3,
            center: true,
            scale: true,
        }
    }
}

/// The grouping of one input: the channel axis (index into the dims *with* the batch axis),
/// channels, groups and channels per group.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Grouping {
    axis: usize,
    channels: usize,
    groups: usize,
    per_group: usize,
}

impl GroupNormalization {
    /// Keras's checks, in Keras's order: `groups` (constructor), the axis (`build`: the
    /// batch axis has no defined size, beyond the rank is an `IndexError`), then the
    /// groups against the channels.
    ///
    /// `dims` are the non-batch dimensions.
    fn grouping(&self, dims: &[usize]) -> Result<Grouping, Problem> {
        if self.groups <= 0 && self.groups != -1 {
            return Err(Problem::config(
                "groups",
                format!(
                    "must be a positive integer (or -1 for instance normalization), got {}",
                    self.groups
                ),
            ));
        }
        let ndim = dims.len() as i64 + 1;
        let shown = Shape::new(dims.to_vec());
        if self.axis >= ndim || self.axis < -ndim {
            return Err(Problem::config(
                "axis",
                format!("{} is out of range for input {shown}", self.axis),
            ));
        }
        let a = if self.axis < 0 {
            self.axis + ndim
        } else {
            self.axis
        };
        if a == 0 {
            return Err(Problem::config(
                "axis",
                format!(
                    "{} is the batch axis of input {shown}, which has no defined size",
                    self.axis
                ),
            ));
        }
        let axis = a as usize;
        let channels = dims[axis - 1];
        let groups = if self.groups == -1 {
            channels
        } else {
            usize::try_from(self.groups).map_err(|_| Problem::Overflow { what: "groups" })?
        };
        if groups == 0 {
            // Keras: `dim % groups` with groups=-1 → 0 channels raises ZeroDivisionError.
            return Err(Problem::config(
                "groups",
                format!(
                    "= -1 means one group per channel, but axis {} has 0 channels",
                    self.axis
                ),
            ));
        }
        if channels < groups {
            return Err(Problem::config(
                "groups",
                format!(
                    "= {groups} cannot be more than the number of channels ({channels}) on axis {}",
                    self.axis
                ),
            ));
        }
        if channels % groups != 0 {
            return Err(Problem::config(
                "groups",
                format!(
                    "= {groups} must divide the number of channels ({channels}) on axis {} evenly",
                    self.axis
                ),
            ));
        }
        Ok(Grouping {
            axis,
            channels,
            groups,
            per_group: channels / groups,
        })
    }

    /// A weight of `channels` values, as a flat slice.
    fn channel_weight(
        w: &[ArrayD<f32>],
        i: usize,
        name: &'static str,
        channels: usize,
    ) -> Result<Vec<f32>, Problem> {
        let a = w.get(i).ok_or(Problem::MissingWeights {
            expected: i + 1,
            got: w.len(),
        })?;
        if a.len() != channels || a.ndim() != 1 {
            return Err(Problem::WeightShape {
                index: i,
                weight: name,
                expected: vec![channels],
                got: a.shape().to_vec(),
            });
        }
        Ok(a.iter().copied().collect())
    }
}

impl LayerRules for GroupNormalization {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        self.grouping(input.dims())?;
        Ok(input.clone())
    }

    fn weights(&self, input: &Shape) -> Result<Vec<WeightSpec>, Problem> {
        let c = self.grouping(input.dims())?.channels;
        let mut w = Vec::new();
        if self.scale {
            w.push(WeightSpec::new("gamma", vec![c], Init::Ones));
        }
        if self.center {
            w.push(WeightSpec::new("beta", vec![c], Init::Zeros));
        }
        Ok(w)
    }

    /// Keras's `call` in inference: per sample and group, `mean` and the biased variance
    /// over the group's channels and all other positions; `inv = rsqrt(var + ε) · γ`,
    /// `y = x · inv + (β − mean · inv)`.
    fn forward(&self, x: &ArrayD<f32>, w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let shape = x.shape();
        let (&batch, dims) = shape
            .split_first()
            .ok_or_else(|| Problem::layout("GroupNormalization input has no axes"))?;
        let g = self.grouping(dims)?;
        let mut i = 0;
        let gamma = if self.scale {
            i += 1;
            Some(Self::channel_weight(w, i - 1, "gamma", g.channels)?)
        } else {
            None
        };
        let beta = if self.center {
            Some(Self::channel_weight(w, i, "beta", g.channels)?)
        } else {
            None
        };
        // (batch, outer, channels, inner): the channel axis in the middle.
        let outer: usize = dims[..g.axis - 1].iter().product();
        let inner: usize = dims[g.axis..].iter().product();
        let xs = x.as_standard_layout();
        let data = xs
            .as_slice()
            .ok_or_else(|| Problem::layout("GroupNormalization input layout"))?;
        let mut out = vec![0.0f32; data.len()];
        let sample = outer * g.channels * inner;
        let count = (outer * g.per_group * inner) as f64;
        let mut inv = vec![0.0f32; g.per_group];
        let mut res = vec![0.0f32; g.per_group];
        for b in 0..batch {
            let base = b * sample;
            for grp in 0..g.groups {
                let c0 = grp * g.per_group;
                let each = |f: &mut dyn FnMut(usize, usize)| {
                    for o in 0..outer {
                        for c in c0..c0 + g.per_group {
                            let start = base + (o * g.channels + c) * inner;
                            for k in start..start + inner {
                                f(k, c);
                            }
                        }
                    }
                };
                let mut sum = 0.0f64;
                each(&mut |k, _| sum += f64::from(data[k]));
                let mean = (sum / count) as f32;
                let mut sq = 0.0f64;
                each(&mut |k, _| {
                    let d = f64::from(data[k] - mean);
                    sq += d * d;
                });
                let var = (sq / count) as f32;
                let r = 1.0 / (var + self.epsilon).sqrt();
                for (j, c) in (c0..c0 + g.per_group).enumerate() {
                    let s = gamma.as_ref().map_or(r, |gm| r * gm[c]);
                    inv[j] = s;
                    res[j] = beta.as_ref().map_or(0.0, |bt| bt[c]) - mean * s;
                }
                each(&mut |k, c| out[k] = data[k] * inv[c - c0] + res[c - c0]);
            }
        }
        ArrayD::from_shape_vec(IxDyn(shape), out)
            .map_err(|_| Problem::layout("GroupNormalization output shape"))
    }

    fn explain(&self, input: &Shape, _output: &Shape) -> Explanation {
        let g = match self.grouping(input.dims()) {
            Ok(g) => g,
            Err(e) => return Explanation::new(e.to_string()),
        };
        let others: Vec<String> = input
            .dims()
            .iter()
            .enumerate()
            .filter(|&(i, _)| i + 1 != g.axis)
            .map(|(_, d)| d.to_string())
            .collect();
        let positions: usize = input
            .dims()
            .iter()
            .enumerate()
            .filter(|&(i, _)| i + 1 != g.axis)
            .map(|(_, d)| *d)
            .product();
        let per = g.per_group.saturating_mul(positions);
        let groups_text = if self.groups == -1 {
            format!("groups = -1: one group per channel, {} groups", g.groups)
        } else {
            format!("{} groups", g.groups)
        };
        let mut e = Explanation::new(
            "GroupNormalization splits the channels into groups and normalises each group of each sample over its channels and all positions; the shape is unchanged.",
        )
        .step(format!(
            "{} channels on axis {}, {groups_text}: {} / {} = {} channels per group",
            g.channels, self.axis, g.channels, g.groups, g.per_group
        ))
        .step(if others.is_empty() {
            format!("each group's mean and variance use {per} values")
        } else {
            format!(
                "each group's mean and variance use {} channels × {} positions ({}) = {per} values",
                g.per_group,
                positions,
                others.join(" × ")
            )
        })
        .step(format!(
            "y = (x − mean) / √(variance + {}){}{}",
            self.epsilon,
            if self.scale { " · gamma" } else { "" },
            if self.center { " + beta" } else { "" }
        ));
        let c = g.channels;
        let n = c.saturating_mul(usize::from(self.scale) + usize::from(self.center));
        let mut parts = Vec::new();
        if self.scale {
            parts.push(format!("gamma {c}"));
        }
        if self.center {
            parts.push(format!("beta {c}"));
        }
        e = e.step(if parts.is_empty() {
            "no weights (center and scale are off)".to_string()
        } else {
            format!("params = {} = {n} (all trainable)", parts.join(" + "))
        });
        e.step(format!("output = input = {input}"))
    }

    /// Keras's constructor order.
    fn field_order(&self) -> &'static [&'static str] {
        &["groups", "axis", "epsilon", "center", "scale"]
    }
    fn settings(&self) -> String {
        if self.groups == -1 {
            format!("1 group per channel, axis {}", self.axis)
        } else {
            format!("{} groups, axis {}", self.groups, self.axis)
        }
    }
}

impl KerasTable for GroupNormalization {
    const ARGS: KerasArgs = KerasArgs::positional(&[
        "groups",
        "axis",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
    ]);
}

impl LayerCode for GroupNormalization {
    /// `nn.GroupNorm(groups, C, eps)` on the channels-first tensor; `groups=-1` is one group
    /// per channel.
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        let c = inp.last().copied().unwrap_or(0);
        let axis = self.axis;
        if axis != -1 && i64::try_from(t.rank).ok() != Some(axis) {
            t.note(format!(
                "GroupNormalization(axis={axis}) is translated over the channel (last) axis only"
            ));
        }
        t.make_channels_first();
        let groups = match self.groups {
            -1 => c.to_string(),
            g => g.to_string(),
        };
        let eps = py_float(f64::from(self.epsilon));
        if self.center != self.scale {
            t.note("Keras learns only one of beta/gamma here (center/scale); PyTorch's affine=True learns both");
        }
        let affine = if !self.center && !self.scale {
            ", affine=False"
        } else {
            ""
        };
        t.push(format!("nn.GroupNorm({groups}, {c}, eps={eps}{affine}),"));
    }
}

// ---------------------------------------------------------------------------------------
// Training: no state, so the training forward pass is inference's
// ---------------------------------------------------------------------------------------

/// The flat indices (row-major, channel axis in the middle of `(batch, outer, channels,
/// inner)`) of group `grp` of the sample starting at `base`, each with its channel.
fn group_cells(
    g: Grouping,
    outer: usize,
    inner: usize,
    base: usize,
    grp: usize,
) -> impl Iterator<Item = (usize, usize)> {
    let c0 = grp * g.per_group;
    (0..outer).flat_map(move |o| {
        (c0..c0 + g.per_group).flat_map(move |c| {
            let start = base + (o * g.channels + c) * inner;
            (start..start + inner).map(move |k| (k, c))
        })
    })
}

// The backward pass: per sample and group of `n` values, with `x̂ = (x − mean)·r`,
// `r = (var + ε)^(−1/2)` and `dx̂ = dy·γ`: `dx = r/n · (n·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))`;
// `dγ = Σ dy·x̂` and `dβ = Σ dy` per channel over the batch and positions.
plain_grad!(GroupNormalization, |layer, x, w, _t, dy| {
    check_same_shape(dy, x)?;
    let shape = x.shape();
    let (&batch, dims) = shape
        .split_first()
        .ok_or_else(|| Problem::layout("GroupNormalization input has no axes"))?;
    let g = layer.grouping(dims)?;
    let gamma = if layer.scale {
        Some(GroupNormalization::channel_weight(
            w, 0, "gamma", g.channels,
        )?)
    } else {
        None
    };
    if layer.center {
        GroupNormalization::channel_weight(w, usize::from(layer.scale), "beta", g.channels)?;
    }
    let outer: usize = dims[..g.axis - 1].iter().product();
    let inner: usize = dims[g.axis..].iter().product();
    let (xs, dys) = (x.as_standard_layout(), dy.as_standard_layout());
    let layout = || Problem::layout("GroupNormalization input layout");
    let (data, grad) = (
        xs.as_slice().ok_or_else(layout)?,
        dys.as_slice().ok_or_else(layout)?,
    );
    let mut dx = vec![0.0f32; data.len()];
    let (mut dgamma, mut dbeta) = (vec![0.0f32; g.channels], vec![0.0f32; g.channels]);
    let n = (outer * g.per_group * inner) as f64;
    for b in 0..batch {
        let base = b * outer * g.channels * inner;
        for grp in 0..g.groups {
            let cells = || group_cells(g, outer, inner, base, grp);
            let mean = (cells().map(|(k, _)| f64::from(data[k])).sum::<f64>() / n) as f32;
            let var = (cells()
                .map(|(k, _)| f64::from(data[k] - mean).powi(2))
                .sum::<f64>()
                / n) as f32;
            let r = 1.0 / (var + layer.epsilon).sqrt();
            let at = |k: usize, c: usize| {
                let xhat = (data[k] - mean) * r;
                let dxhat = gamma.as_ref().map_or(grad[k], |gm| grad[k] * gm[c]);
                (xhat, dxhat)
            };
            let (mut s1, mut s2) = (0.0f64, 0.0f64);
            for (k, c) in cells() {
                let (xhat, dxhat) = at(k, c);
                s1 += f64::from(dxhat);
                s2 += f64::from(dxhat * xhat);
                dgamma[c] += grad[k] * xhat;
                dbeta[c] += grad[k];
            }
            let (s1, s2) = (s1 as f32, s2 as f32);
            let nf = n as f32;
            for (k, c) in cells() {
                let (xhat, dxhat) = at(k, c);
                dx[k] = r / nf * (nf * dxhat - s1 - xhat * s2);
            }
        }
    }
    let mut dw = Vec::new();
    if layer.scale {
        dw.push(ArrayD::from_shape_vec(IxDyn(&[g.channels]), dgamma).map_err(|_| layout())?);
    }
    if layer.center {
        dw.push(ArrayD::from_shape_vec(IxDyn(&[g.channels]), dbeta).map_err(|_| layout())?);
    }
    let dx = ArrayD::from_shape_vec(IxDyn(shape), dx).map_err(|_| layout())?;
    Ok(Grads { dx, dw })
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gn(cfg: serde_json::Value) -> GroupNormalization {
        serde_json::from_value(cfg).unwrap()
    }

    #[test]
    fn keras_defaults_and_config_names() {
        let d = GroupNormalization::default();
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"groups": 32, "axis": -1, "epsilon": 0.001f32, "center": true, "scale": true})
        );
        // Keras's own config carries initializers etc.; they are read and ignored.
        let k = gn(
            json!({"groups": 4, "axis": -2, "epsilon": 0.01, "center": false,
            "beta_initializer": {"class_name": "Zeros", "config": {}}, "gamma_regularizer": null}),
        );
        assert_eq!((k.groups, k.axis, k.center, k.scale), (4, -2, false, true));
    }

    #[test]
    fn shape_rule_matches_keras_refusals() {
        let s = |d: &[usize]| Shape::new(d.to_vec());
        let ok = |cfg, d: &[usize]| gn(cfg).output_shape(&s(d));
        assert_eq!(ok(json!({"groups": 2}), &[8]), Ok(s(&[8])));
        assert_eq!(ok(json!({"groups": -1}), &[6]), Ok(s(&[6])));
        assert_eq!(ok(json!({"groups": 2, "axis": 1}), &[4, 6]), Ok(s(&[4, 6])));
        assert_eq!(
            ok(json!({"groups": 2, "axis": -3}), &[4, 6, 3]),
            Ok(s(&[4, 6, 3]))
        );
        for (cfg, d) in [
            (json!({}), &[8][..]),                      // 32 groups > 8 channels
            (json!({"groups": 4}), &[6]),               // 4 does not divide 6
            (json!({"groups": 12}), &[6]),              // more groups than channels
            (json!({"groups": 0}), &[6]),               // constructor
            (json!({"groups": -2}), &[6]),              // constructor
            (json!({"groups": 2, "axis": 3}), &[4, 6]), // IndexError
            (json!({"groups": 2, "axis": -4}), &[4, 6]),
            (json!({"groups": 2, "axis": 0}), &[4, 6]), // batch axis
            (json!({"groups": 2, "axis": -3}), &[4, 6]),
            (json!({"groups": -1}), &[0]), // ZeroDivisionError in Keras
            (json!({"groups": 1}), &[0]),
            (json!({"groups": 1}), &[]),
        ] {
            assert!(ok(cfg.clone(), d).is_err(), "{cfg} on {d:?}");
        }
        let e = ok(json!({"groups": 4}), &[6]).unwrap_err().to_string();
        assert!(e.contains("(6)"), "{e}");
    }

    #[test]
    fn weights_in_keras_order() {
        let s = Shape::new(vec![5, 6]);
        let w = gn(json!({"groups": 3})).weights(&s).unwrap();
        let names: Vec<_> = w.iter().map(|w| (w.name, w.shape.clone())).collect();
        assert_eq!(names, vec![("gamma", vec![6]), ("beta", vec![6])]);
        let w = gn(json!({"groups": 3, "scale": false}))
            .weights(&s)
            .unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].name, "beta");
        assert!(gn(json!({"groups": 3, "scale": false, "center": false}))
            .weights(&s)
            .unwrap()
            .is_empty());
    }

    /// Hand-computed: one sample, 4 channels, 2 groups, no weights.
    #[test]
    fn forward_normalises_each_group() {
        let l = gn(json!({"groups": 2, "epsilon": 0.0, "center": false, "scale": false}));
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![1.0, 3.0, 10.0, 10.0]).unwrap();
        let y = l.forward(&x, &[]).unwrap();
        let got: Vec<f32> = y.iter().copied().collect();
        // group 0: mean 2, var 1 → -1, 1; group 1: var 0 → 0 · inf... ε = 0 gives NaN in
        // Keras too, so check only group 0 here.
        assert!(
            (got[0] + 1.0).abs() < 1e-6 && (got[1] - 1.0).abs() < 1e-6,
            "{got:?}"
        );
    }

    /// Channels on a middle axis, spatial positions before and after it, gamma and beta.
    #[test]
    fn forward_middle_axis_with_weights() {
        let l = gn(json!({"groups": 1, "axis": 2, "epsilon": 0.0}));
        // (batch 1, 2 rows, 2 channels, 1): group = all 4 values [0, 2, 4, 6], mean 3, var 5.
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2, 1]), vec![0.0, 2.0, 4.0, 6.0]).unwrap();
        let gamma = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0, 2.0]).unwrap();
        let beta = ArrayD::from_shape_vec(IxDyn(&[2]), vec![0.0, 10.0]).unwrap();
        let y = l.forward(&x, &[gamma, beta]).unwrap();
        let r = 1.0 / 5.0f32.sqrt();
        let want = [-3.0 * r, 10.0 + 2.0 * -r, r, 10.0 + 2.0 * 3.0 * r];
        for (g, w) in y.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{y:?}");
        }
        assert!(l.forward(&x, &[]).is_err());
    }

    #[test]
    fn explanation_has_the_numbers() {
        let l = gn(json!({"groups": 4}));
        let s = Shape::new(vec![5, 5, 8]);
        let e = l.explain(&s, &s);
        let text = e.steps.join("\n");
        assert!(text.contains("8 / 4 = 2"), "{text}");
        assert!(
            text.contains("2 channels × 25 positions (5 × 5) = 50 values"),
            "{text}"
        );
        assert!(text.contains("gamma 8 + beta 8 = 16"), "{text}");
        assert_eq!(l.settings(), "4 groups, axis -1");
    }

    /// The code paths outside this file: Keras code out and back in (positional `groups`),
    /// and the `PyTorch` translation (channels first, `nn.GroupNorm(groups, C, eps)`).
    #[test]
    fn keras_code_round_trip_and_pytorch() {
        use crate::codec::export::{to_keras_code, to_pytorch_code};
        use crate::codec::keras_code::parse_keras_code;
        use crate::engine::{Layer, LayerSpec, Model};
        let spec = LayerSpec::from_config(
            "GroupNormalization",
            &json!({"groups": 4, "epsilon": 0.01, "center": false}),
        );
        let m = Model {
            name: "m".into(),
            input_shape: vec![5, 5, 8],
            layers: vec![Layer::new("group_normalization", spec)],
        };
        let code = to_keras_code(&m);
        assert!(code.contains("layers.GroupNormalization("), "{code}");
        let back = parse_keras_code(&code).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.model.layers[0].spec, m.layers[0].spec);
        let pos = parse_keras_code(
            "import keras\nfrom keras import layers\nm = keras.Sequential([keras.Input((6,)), layers.GroupNormalization(3, -1, 0.5)])",
        )
        .unwrap();
        assert!(pos.warnings.is_empty(), "{:?}", pos.warnings);
        assert_eq!(
            pos.model.layers[0].spec.to_config(),
            json!({"groups": 3, "axis": -1, "epsilon": 0.5, "center": true, "scale": true})
        );
        let torch = to_pytorch_code(&m);
        assert!(torch.contains("nn.GroupNorm(4, 8, eps=0.01),"), "{torch}");
        assert!(torch.contains("x.permute(0, 3, 1, 2)"), "{torch}");
        assert!(
            torch.contains("NOTE: Keras learns only one of beta/gamma"),
            "{torch}"
        );
    }
}
