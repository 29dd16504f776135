#![cfg(not(target_arch = "wasm32"))]
//! Gradient checks: every layer kind with a backward pass, on random small shapes and
//! settings, against central finite differences of its training-mode forward pass. The
//! objective is `L = Σ r·y` for a random `r` (so `dL/dy = r`), summed in f64; the layer's
//! `backward(dy = r)` must give `dL/dx` and `dL/dw` for every trainable weight.
//!
//! The layers compute in f32, so the step is 1e-3 and the tolerance 2e-3 absolute plus 1 %
//! relative. Inputs stay at least 0.05 away from 0, where ReLU-like activations have their
//! kink (the others are ±3 and 6, outside the inputs' range); kinked activations are not
//! put inside layers whose pre-activations cannot be controlled; max-pooling inputs are
//! distinct values 0.01 apart, so no two window cells are within a step of each other.
//! Random layers (Dropout) draw the same mask in every evaluation (same seed).
//! A whole-model check covers the chain through `loss_and_grads`, loss included.

use flatland::engine::forward::{init_weights, Limits};
use flatland::engine::rng::Rng;
use flatland::engine::train::fit::loss_and_grads;
use flatland::engine::train::graph_step;
use flatland::engine::train::loss::Loss;
use flatland::engine::{analyze, Layer, LayerSpec, Model};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{json, Value};

const H: f32 = 1e-3;

fn close(num: f64, got: f64) -> bool {
    (num - got).abs() <= 2e-3 + 1e-2 * num.abs()
}

/// How a check draws its inputs.
#[derive(Clone, Copy)]
enum Draw {
    /// ±[0.05, 1.5].
    Spread,
    /// Distinct values 0.01 apart, shuffled (max pooling).
    Ladder,
    /// Vocabulary indices `k + 0.5` below this bound (Embedding truncates them to `k`; a
    /// step never crosses an integer).
    Indices(usize),
}

/// Values in ±[0.05, 1.5], or (distinct) a shuffled ladder 0.01 apart.
fn input(rng: &mut Rng, shape: &[usize], ladder: bool) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    let vals: Vec<f32> = if ladder {
        let mut v: Vec<f32> = (0..n)
            .map(|i| (i as f32 - n as f32 / 2.0) * 0.01 + 0.005)
            .collect();
        for i in (1..n).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
        v
    } else {
        (0..n)
            .map(|_| {
                let m = rng.uniform(0.05, 1.5);
                if rng.unit() < 0.5 {
                    -m
                } else {
                    m
                }
            })
            .collect()
    };
    ArrayD::from_shape_vec(IxDyn(shape), vals).unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

/// Add `d` to element `i` (row-major).
fn nudge(a: &mut ArrayD<f32>, i: usize, d: f32) {
    if let Some(v) = a.iter_mut().nth(i) {
        *v += d;
    }
}

fn objective(y: &ArrayD<f32>, r: &ArrayD<f32>) -> f64 {
    y.iter()
        .zip(r.iter())
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum()
}

/// Check one layer (random settings that make no valid layer are rejected).
fn check(
    class: &str,
    config: &Value,
    dims: &[usize],
    seed: u64,
    ladder: bool,
) -> Result<(), TestCaseError> {
    let draw = if ladder { Draw::Ladder } else { Draw::Spread };
    check_with(class, config, dims, seed, draw)
}

/// [`check`] with the inputs drawn as `draw` says.
fn check_with(
    class: &str,
    config: &Value,
    dims: &[usize],
    seed: u64,
    draw: Draw,
) -> Result<(), TestCaseError> {
    let spec = LayerSpec::from_config(class, config);
    let model = Model {
        name: "g".into(),
        input_shape: dims.to_vec(),
        layers: vec![Layer::new("layer", spec.clone())],
    };
    let a = analyze(&model);
    prop_assume!(a.valid(), "invalid settings");
    let mut rng = Rng::new(seed);
    let mut weights = init_weights(&a, seed, Limits::default())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    // Move every weight off its initial value (zero biases, unit gammas).
    for w in &mut weights[0] {
        w.mapv_inplace(|v| v + 0.3 * (rng.uniform(-1.0, 1.0)));
    }
    let specs = a.layers[0].weights.clone();
    let mut shape = vec![2usize];
    shape.extend_from_slice(dims);
    let x = match draw {
        Draw::Indices(vocab) => ArrayD::from_shape_simple_fn(IxDyn(&shape), || {
            (rng.next_u64() % vocab as u64) as f32 + 0.5
        }),
        other => input(&mut rng, &shape, matches!(other, Draw::Ladder)),
    };
    let rules = spec.grad();
    let run = |x: &ArrayD<f32>, w: &[ArrayD<f32>]| rules.train_forward(x, w, &mut Rng::new(99));
    let t = run(&x, &weights[0]).map_err(|e| TestCaseError::fail(format!("{class}: {e}")))?;
    let r = input(&mut rng, t.y.shape(), false);
    let g = rules
        .backward(&x, &weights[0], &t, &r)
        .map_err(|e| TestCaseError::fail(format!("{class}: {e}")))?;
    prop_assert_eq!(g.dx.shape(), x.shape());
    prop_assert_eq!(g.dw.len(), weights[0].len());
    let fd = |x: &ArrayD<f32>, w: &[ArrayD<f32>]| -> Result<f64, TestCaseError> {
        Ok(objective(
            &run(x, w).map_err(|e| TestCaseError::fail(e.to_string()))?.y,
            &r,
        ))
    };
    for i in 0..x.len() {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        nudge(&mut xp, i, H);
        nudge(&mut xm, i, -H);
        let num = (fd(&xp, &weights[0])? - fd(&xm, &weights[0])?) / (2.0 * f64::from(H));
        let got = f64::from(g.dx.as_slice().map_or(0.0, |s| s[i]));
        prop_assert!(
            close(num, got),
            "{} {} dx[{}]: backward {} vs finite differences {}",
            class,
            config,
            i,
            got,
            num
        );
    }
    for (wi, spec_w) in specs.iter().enumerate() {
        if !spec_w.trainable {
            continue;
        }
        prop_assert_eq!(g.dw[wi].shape(), weights[0][wi].shape());
        for i in 0..weights[0][wi].len() {
            let (mut wp, mut wm) = (weights[0].clone(), weights[0].clone());
            nudge(&mut wp[wi], i, H);
            nudge(&mut wm[wi], i, -H);
            let num = (fd(&x, &wp)? - fd(&x, &wm)?) / (2.0 * f64::from(H));
            let got = f64::from(g.dw[wi].as_slice().map_or(0.0, |s| s[i]));
            prop_assert!(
                close(num, got),
                "{} {} d{}[{}]: backward {} vs finite differences {}",
                class,
                config,
                spec_w.name,
                i,
                got,
                num
            );
        }
    }
    Ok(())
}

/// Activations without kinks inside the inputs' range, for layers whose pre-activations
/// the test does not control. Not `selu`: its slope jumps at 0 (scale·alpha ≈ 1.76 against
/// scale ≈ 1.05), so a pre-activation within a step of 0 fails the finite differences
/// (seen: Dense selu dkernel 3 % off); `activation_backward` checks it away from 0.
const SMOOTH: &[&str] = &[
    "linear",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "softsign",
    "elu",
    "gelu",
    "silu",
    "mish",
    "exponential",
];

const ALL_ACTIVATIONS: &[&str] = &[
    "linear",
    "relu",
    "relu6",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "softsign",
    "elu",
    "selu",
    "gelu",
    "silu",
    "hard_silu",
    "mish",
    "exponential",
    "leaky_relu",
];

fn dims(max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..4, 1..=max_rank)
}

proptest! {
    // A fixed seed: the same 64 cases a test on every run, so a finite-difference check that
    // lands on a kink or an f32 cancellation cannot fail CI at random (three such cases were
    // found with random seeds and fixed at their cause above); set PROPTEST_CASES higher, or
    // change the seed, to explore more.
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed),
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn dense_backward(units in 1usize..5, act in 0..SMOOTH.len(), bias: bool, d in dims(3), seed: u64) {
        check("Dense", &json!({"units": units, "activation": SMOOTH[act], "use_bias": bias}), &d, seed, false)?;
    }

    #[test]
    fn activation_backward(act in 0..ALL_ACTIVATIONS.len(), d in dims(3), seed: u64) {
        check("Activation", &json!({"activation": ALL_ACTIVATIONS[act]}), &d, seed, false)?;
    }

    #[test]
    fn activation_layers_backward(kind in 0usize..6, slope in 0.0f32..0.5, axis in 0usize..2, d in dims(3), seed: u64) {
        // ReLU's kink at max_value: ladder inputs sit at 0.005 + 0.01·k, and max_value on
        // the 0.01 grid is 0.005 from every input, so no finite difference straddles it
        // (random inputs up to 1.5 against a max_value in 1.07..1.57 sometimes did).
        let capped = f64::from((slope * 10.0).round()).mul_add(0.01, 0.02);
        let (class, cfg, ladder) = match kind {
            0 => ("ReLU", json!({}), false),
            1 => ("ReLU", json!({"negative_slope": slope, "max_value": capped}), true),
            2 => ("LeakyReLU", json!({"negative_slope": slope}), false),
            3 => ("ELU", json!({"alpha": 0.5 + slope}), false),
            4 => ("Softmax", json!({"axis": if axis == 0 { -1 } else { 1 }}), false),
            _ => ("PReLU", json!({"shared_axes": if axis == 0 { Value::Null } else { json!([1]) }}), false),
        };
        check(class, &cfg, &d, seed, ladder)?;
    }

    #[test]
    fn reshaping_backward(kind in 0usize..4, d in dims(3), seed: u64) {
        let n: usize = d.iter().product();
        let (class, cfg) = match kind {
            0 => ("Flatten", json!({})),
            1 => ("Reshape", json!({"target_shape": [n]})),
            2 => ("Reshape", json!({"target_shape": [-1, 1]})),
            _ => {
                let dims: Vec<usize> = (1..=d.len()).rev().collect();
                ("Permute", json!({"dims": dims}))
            }
        };
        check(class, &cfg, &d, seed, false)?;
    }

    #[test]
    fn dropout_family_backward(kind in 0usize..5, rate in 0.0f32..0.9, d in dims(3), seed: u64) {
        let (class, cfg) = match kind {
            0 => ("Dropout", json!({"rate": rate})),
            1 => ("GaussianNoise", json!({"stddev": rate})),
            2 => ("GaussianDropout", json!({"rate": rate})),
            3 => ("AlphaDropout", json!({"rate": rate})),
            _ => ("SpatialDropout1D", json!({"rate": rate})),
        };
        let d = if kind == 4 { vec![d[0], d.get(1).copied().unwrap_or(2)] } else { d };
        check(class, &cfg, &d, seed, false)?;
    }

    #[test]
    fn pooling_backward(two_d: bool, max: bool, global: bool, pool in 1usize..4, stride in 1usize..3, same: bool, h in 1usize..6, w in 1usize..6, c in 1usize..3, seed: u64) {
        let rank = if two_d { 2 } else { 1 };
        let kind = if max { "Max" } else { "Average" };
        let d = if two_d { vec![h, w, c] } else { vec![h, c] };
        if global {
            check(&format!("Global{kind}Pooling{rank}D"), &json!({}), &d, seed, true)?;
        } else {
            let cfg = json!({"pool_size": vec![pool; rank], "strides": vec![stride; rank], "padding": if same { "same" } else { "valid" }});
            check(&format!("{kind}Pooling{rank}D"), &cfg, &d, seed, true)?;
        }
    }

    #[test]
    fn conv_backward(two_d: bool, filters in 1usize..4, k in 1usize..4, stride in 1usize..3, dilation in 1usize..3, same: bool, groups in 1usize..3, act in 0usize..3, h in 2usize..7, w in 2usize..6, cg in 1usize..3, bias: bool, seed: u64) {
        let rank = if two_d { 2 } else { 1 };
        let (stride, dilation) = if stride > 1 { (stride, 1) } else { (1, dilation) };
        let c = cg * groups;
        let d = if two_d { vec![h, w, c] } else { vec![h, c] };
        let activation = ["linear", "tanh", "sigmoid"][act];
        let cfg = json!({
            "filters": filters * groups, "kernel_size": vec![k; rank], "strides": vec![stride; rank],
            "dilation_rate": vec![dilation; rank], "padding": if same { "same" } else { "valid" },
            "groups": groups, "activation": activation, "use_bias": bias,
        });
        check(&format!("Conv{rank}D"), &cfg, &d, seed, false)?;
    }

    #[test]
    fn other_conv_backward(kind in 0usize..3, two_d: bool, filters in 1usize..4, k in 1usize..4, stride in 1usize..3, dilation in 1usize..3, same: bool, mult in 1usize..3, act in 0usize..3, h in 2usize..6, w in 2usize..6, c in 1usize..3, bias: bool, seed: u64) {
        let activation = ["linear", "tanh", "sigmoid"][act];
        let padding = if same { "same" } else { "valid" };
        let (class, cfg, d) = match kind {
            0 => {
                let rank = if two_d { 2 } else { 1 };
                let (stride, dilation) = if stride > 1 { (stride, 1) } else { (1, dilation) };
                let cfg = json!({
                    "filters": filters, "kernel_size": vec![k; rank], "strides": vec![stride; rank],
                    "dilation_rate": vec![dilation; rank], "padding": padding,
                    "activation": activation, "use_bias": bias,
                });
                let d = if two_d { vec![h, w, c] } else { vec![h, c] };
                (format!("Conv{rank}DTranspose"), cfg, d)
            }
            1 => {
                let cfg = json!({
                    "kernel_size": [k, k], "strides": [stride, stride], "dilation_rate": [dilation, dilation],
                    "padding": padding, "depth_multiplier": mult, "activation": activation, "use_bias": bias,
                });
                ("DepthwiseConv2D".to_string(), cfg, vec![h, w, c])
            }
            _ => {
                let (stride, dilation) = if stride > 1 { (stride, 1) } else { (1, dilation) };
                let cfg = json!({
                    "filters": filters, "kernel_size": [k, k], "strides": [stride, stride],
                    "dilation_rate": [dilation, dilation], "padding": padding, "depth_multiplier": mult,
                    "activation": activation, "use_bias": bias,
                });
                ("SeparableConv2D".to_string(), cfg, vec![h, w, c])
            }
        };
        check(&class, &cfg, &d, seed, false)?;
    }

    #[test]
    fn batch_normalization_backward(scale: bool, center: bool, first_axis: bool, d in dims(3), seed: u64) {
        let axis = if first_axis { 1 } else { -1 };
        check("BatchNormalization", &json!({"scale": scale, "center": center, "axis": axis}), &d, seed, false)?;
    }

    #[test]
    fn recurrent_backward(kind in 0usize..3, units in 1usize..4, t in 1usize..5, f in 1usize..4, seq: bool, back: bool, bias: bool, reset_after: bool, seed: u64) {
        let class = ["SimpleRNN", "LSTM", "GRU"][kind];
        let cfg = json!({"units": units, "return_sequences": seq, "go_backwards": back, "use_bias": bias, "reset_after": reset_after});
        check(class, &cfg, &[t, f], seed, false)?;
    }

    #[test]
    fn more_reshaping_backward(kind in 0usize..7, a in 0usize..3, b in 0usize..3, h in 4usize..7, w in 4usize..7, c in 1usize..3, seed: u64) {
        let (class, cfg, d) = match kind {
            0 => ("RepeatVector", json!({"n": a + 1}), vec![c + 1]),
            1 => ("ZeroPadding1D", json!({"padding": [a, b]}), vec![h, c]),
            2 => ("ZeroPadding2D", json!({"padding": [[a, b], [b, a]]}), vec![h, w, c]),
            3 => ("Cropping1D", json!({"cropping": [a, b]}), vec![h, c]),
            4 => ("Cropping2D", json!({"cropping": [[a, b], [b, a]]}), vec![h, w, c]),
            5 => ("UpSampling1D", json!({"size": a + 1}), vec![h, c]),
            _ => ("UpSampling2D", json!({"size": [a + 1, b + 1]}), vec![h, w, c]),
        };
        check(class, &cfg, &d, seed, false)?;
    }

    #[test]
    fn more_normalization_backward(kind in 0usize..3, scale: bool, center: bool, first_axis: bool, d in dims(3), seed: u64) {
        let axis = if first_axis { 1 } else { -1 };
        let (class, cfg) = match kind {
            0 => ("LayerNormalization", json!({"axis": axis, "scale": scale, "center": center})),
            1 => ("LayerNormalization", json!({"axis": axis, "scale": scale, "rms_scaling": true})),
            _ => ("UnitNormalization", json!({"axis": axis})),
        };
        check(class, &cfg, &d, seed, false)?;
    }

    #[test]
    fn group_normalization_backward(per_group in 1usize..4, groups in 1usize..4, instance: bool, scale: bool, center: bool, first_axis: bool, d in dims(2), seed: u64) {
        // The channel axis (first or last non-batch axis) gets `groups × per_group` channels.
        let mut d = d;
        let (axis, at) = if first_axis { (1, 0) } else { (-1, d.len() - 1) };
        d[at] = groups * per_group;
        let groups = if instance { -1 } else { groups as i64 };
        let cfg = json!({"groups": groups, "axis": axis, "scale": scale, "center": center});
        // Ladder inputs (small, distinct values): the forward pass computes `x·r − mean·r` as
        // Keras does, and with inputs near ±1.5 in a group of two close values (r ≈ 31) that
        // f32 cancellation alone moves the finite differences by ~5 % (seen: per_group 2,
        // groups 3, d [1]); the backward pass itself is the exact formula.
        check("GroupNormalization", &cfg, &d, seed, true)?;
    }

    #[test]
    fn embedding_backward(vocab in 1usize..6, dim in 1usize..4, d in dims(2), seed: u64) {
        check_with("Embedding", &json!({"input_dim": vocab, "output_dim": dim}), &d, seed, Draw::Indices(vocab))?;
    }

    /// The whole chain: forward, loss, backward through every layer, against finite
    /// differences of the loss in every weight.
    #[test]
    fn model_backward(units in 1usize..5, t in 1usize..4, classes in 2usize..4, seed: u64) {
        let layers = vec![
            Layer::new("d", LayerSpec::from_config("Dense", &json!({"units": units, "activation": "tanh"}))),
            Layer::new("f", LayerSpec::from_config("Flatten", &json!({}))),
            Layer::new("o", LayerSpec::from_config("Dense", &json!({"units": classes, "activation": "softmax"}))),
        ];
        let model = Model { name: "m".into(), input_shape: vec![t, 2], layers };
        let a = analyze(&model);
        prop_assert!(a.valid());
        let mut weights = init_weights(&a, seed, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut rng = Rng::new(seed);
        let x = input(&mut rng, &[3, t, 2], false);
        let y = ArrayD::from_shape_simple_fn(IxDyn(&[3]), || (rng.next_u64() % classes as u64) as f32);
        let loss = Loss::SparseCategoricalCrossentropy;
        let g = loss_and_grads(&model, &a, &weights, &x, &y, loss, &mut Rng::new(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for li in 0..weights.len() {
            for wi in 0..weights[li].len() {
                for i in 0..weights[li][wi].len() {
                    let orig = weights[li][wi].as_slice().map_or(0.0, |s| s[i]);
                    let mut at = |v: f32| -> Result<f64, TestCaseError> {
                        if let Some(e) = weights[li][wi].iter_mut().nth(i) { *e = v; }
                        let s = loss_and_grads(&model, &a, &weights, &x, &y, loss, &mut Rng::new(1)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                        Ok(f64::from(s.loss))
                    };
                    let num = (at(orig + H)? - at(orig - H)?) / (2.0 * f64::from(H));
                    at(orig)?;
                    let got = f64::from(g.grads[li][wi].as_slice().map_or(0.0, |s| s[i]));
                    prop_assert!((num - got).abs() <= 3e-3 + 3e-2 * num.abs(), "layer {} weight {} [{}]: {} vs {}", li, wi, i, got, num);
                }
            }
        }
    }
}

/// A kind without a backward pass (bilinear upsampling) refuses with a typed error naming
/// the layer.
#[test]
fn untrainable_kind_is_named() {
    use flatland::engine::train::fit::check_trainable;
    let config = json!({"size": [2, 2], "interpolation": "bilinear"});
    let model = Model {
        name: "m".into(),
        input_shape: vec![4, 4, 3],
        layers: vec![
            Layer::new(
                "dense",
                LayerSpec::from_config("Dense", &json!({"units": 2})),
            ),
            Layer::new("x", LayerSpec::from_config("UpSampling2D", &config)),
        ],
    };
    let a = analyze(&model);
    assert!(a.valid());
    let e = check_trainable(&model, &a)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("training UpSampling2D (`x`, layer 2) is not supported yet"),
        "{e}"
    );
}

/// Shuffled distinct values 0.01 apart, split into arrays of these shapes (so Maximum and
/// Minimum never meet a tie within a step).
fn ladder_inputs(rng: &mut Rng, shapes: &[Vec<usize>]) -> Vec<ArrayD<f32>> {
    let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
    let all = input(rng, &[sizes.iter().sum()], true);
    let mut at = 0;
    shapes
        .iter()
        .zip(&sizes)
        .map(|(s, &n)| {
            let part: Vec<f32> = all.iter().skip(at).take(n).copied().collect();
            at += n;
            ArrayD::from_shape_vec(IxDyn(s), part).unwrap_or_else(|_| ArrayD::zeros(IxDyn(s)))
        })
        .collect()
}

/// A merge layer's `backward_multi` against finite differences of its forward pass, for
/// every input (distinct inputs: no ties for Maximum and Minimum).
fn check_merge(
    class: &str,
    config: &Value,
    shapes: &[Vec<usize>],
    seed: u64,
) -> Result<(), TestCaseError> {
    check_multi(class, config, shapes, seed, true)
}

/// A graph-only layer's `backward_multi` against finite differences of its forward pass,
/// for every input and every trainable weight (random values in ±0.6; a variance in
/// [0.2, 2]).
fn check_multi(
    class: &str,
    config: &Value,
    shapes: &[Vec<usize>],
    seed: u64,
    ladder: bool,
) -> Result<(), TestCaseError> {
    use flatland::engine::layers::multi::MultiSpec;
    use flatland::engine::shape::Shape;
    let spec = MultiSpec::from_config(class, config)
        .ok_or_else(|| TestCaseError::fail("not a graph-only kind"))?
        .map_err(TestCaseError::fail)?;
    let mut rng = Rng::new(seed);
    let mut xs = if ladder {
        ladder_inputs(&mut rng, shapes)
    } else {
        shapes.iter().map(|s| input(&mut rng, s, false)).collect()
    };
    let dims: Vec<Shape> = shapes.iter().map(|s| Shape::new(s[1..].to_vec())).collect();
    let specs = spec.rules().weights(&dims);
    prop_assume!(specs.is_ok(), "settings do not fit the inputs");
    let specs = specs.map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut w: Vec<ArrayD<f32>> = specs
        .iter()
        .map(|s| {
            ArrayD::from_shape_simple_fn(IxDyn(&s.shape), || {
                if s.name == "variance" {
                    rng.uniform(0.2, 2.0)
                } else {
                    rng.uniform(-0.6, 0.6)
                }
            })
        })
        .collect();
    let fwd = |xs: &[ArrayD<f32>], w: &[ArrayD<f32>]| {
        let refs: Vec<&ArrayD<f32>> = xs.iter().collect();
        spec.rules().forward(&refs, w)
    };
    let y = fwd(&xs, &w);
    prop_assume!(y.is_ok(), "shapes do not merge");
    let y = y.map_err(|e| TestCaseError::fail(e.to_string()))?;
    let r = input(&mut rng, y.shape(), false);
    let refs: Vec<&ArrayD<f32>> = xs.iter().collect();
    let g = spec
        .grad()
        .backward_multi(&refs, &w, &r)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(g.dxs.len(), xs.len());
    prop_assert_eq!(g.dw.len(), w.len());
    let at = |xs: &[ArrayD<f32>], w: &[ArrayD<f32>]| -> Result<f64, TestCaseError> {
        Ok(objective(
            &fwd(xs, w).map_err(|e| TestCaseError::fail(e.to_string()))?,
            &r,
        ))
    };
    for k in 0..xs.len() {
        prop_assert_eq!(g.dxs[k].shape(), xs[k].shape());
        for i in 0..xs[k].len() {
            nudge(&mut xs[k], i, H);
            let up = at(&xs, &w)?;
            nudge(&mut xs[k], i, -2.0 * H);
            let down = at(&xs, &w)?;
            nudge(&mut xs[k], i, H);
            let num = (up - down) / (2.0 * f64::from(H));
            let got = f64::from(g.dxs[k].iter().nth(i).copied().unwrap_or(f32::NAN));
            prop_assert!(
                close(num, got),
                "{} {} input {} [{}]: {} vs {}",
                class,
                config,
                k,
                i,
                got,
                num
            );
        }
    }
    for (wi, s) in specs.iter().enumerate() {
        prop_assert_eq!(g.dw[wi].shape(), &s.shape[..]);
        if !s.trainable {
            prop_assert!(g.dw[wi].iter().all(|&v| v == 0.0));
            continue;
        }
        for i in 0..w[wi].len() {
            nudge(&mut w[wi], i, H);
            let up = at(&xs, &w)?;
            nudge(&mut w[wi], i, -2.0 * H);
            let down = at(&xs, &w)?;
            nudge(&mut w[wi], i, H);
            let num = (up - down) / (2.0 * f64::from(H));
            let got = f64::from(g.dw[wi].iter().nth(i).copied().unwrap_or(f32::NAN));
            prop_assert!(
                close(num, got),
                "{} {} {} [{}]: {} vs {}",
                class,
                config,
                s.name,
                i,
                got,
                num
            );
        }
    }
    Ok(())
}

const MERGES: [&str; 6] = [
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
];

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed),
        ..ProptestConfig::with_cases(64)
    })]

    /// The elementwise merges with Keras's broadcasting: some axes of some inputs are 1, so
    /// their gradient is summed over the axis they were stretched along.
    #[test]
    fn elementwise_merge_backward(op in 0..MERGES.len(), n in 2usize..4, d in dims(3), ones in prop::collection::vec(prop::collection::vec(any::<bool>(), 3), 3), seed: u64) {
        let n = if MERGES[op] == "Subtract" { 2 } else { n };
        let shapes: Vec<Vec<usize>> = (0..n)
            .map(|k| {
                let mut s = vec![2usize];
                s.extend(d.iter().enumerate().map(|(j, &v)| if ones[k][j] { 1 } else { v }));
                s
            })
            .collect();
        check_merge(MERGES[op], &json!({}), &shapes, seed)?;
    }

    /// Concatenate along any axis (batch axis counted, negative from the end).
    #[test]
    fn concatenate_backward(n in 1usize..4, d in dims(3), axis_pick in 0usize..3, neg: bool, sizes in prop::collection::vec(1usize..4, 3), seed: u64) {
        let axis = 1 + axis_pick % d.len();
        let shapes: Vec<Vec<usize>> = (0..n)
            .map(|k| {
                let mut s = vec![2usize];
                s.extend(d.iter().copied());
                s[axis] = sizes[k];
                s
            })
            .collect();
        let a = if neg { axis as i64 - (d.len() as i64 + 1) } else { axis as i64 };
        check_merge("Concatenate", &json!({"axis": a}), &shapes, seed)?;
    }

    /// ConvNeXt's `LayerScale` (a 1-channel input broadcasts against `gamma`) and
    /// InceptionResNetV2's `CustomScaleLayer` (`a + b · scale`; size-1 axes of either input
    /// broadcast).
    #[test]
    fn application_layers_backward(c in 1usize..4, one_channel: bool, d in dims(2), ones in prop::collection::vec(prop::collection::vec(any::<bool>(), 2), 2), scale in -1.5f64..1.5, seed: u64) {
        let mut s = vec![2usize];
        s.extend(d.iter().copied());
        s.push(if one_channel { 1 } else { c });
        check_multi("LayerScale", &json!({"init_values": 0.1, "projection_dim": c}), &[s], seed, false)?;
        let shapes: Vec<Vec<usize>> = (0..2)
            .map(|k| {
                let mut s = vec![2usize];
                s.extend(d.iter().enumerate().map(|(j, &v)| if ones[k][j] { 1 } else { v }));
                s
            })
            .collect();
        check_multi("CustomScaleLayer", &json!({"scale": scale}), &shapes, seed, false)?;
    }

    /// A whole graph: a residual Add whose input feeds two layers, a Concatenate of two
    /// branches and a second input, through the loss, against finite differences of the
    /// loss in every weight.
    #[test]
    fn graph_backward(units in 1usize..4, classes in 2usize..4, seed: u64) {
        use flatland::engine::graph::{self, Graph, GraphInput, Node, Op, Source};
        use flatland::engine::layers::multi::MultiSpec;
        let single = |name: &str, class: &str, cfg: Value, inbound: Vec<Source>| Node {
            name: name.into(),
            op: Op::Single(LayerSpec::from_config(class, &cfg)),
            inbound,
            operation: false,
        };
        let multi = |name: &str, class: &str, inbound: Vec<Source>| -> Result<Node, TestCaseError> {
            Ok(Node {
                name: name.into(),
                op: Op::Multi(MultiSpec::from_config(class, &json!({})).ok_or_else(|| TestCaseError::fail("merge"))?.map_err(TestCaseError::fail)?),
                inbound,
                operation: false,
            })
        };
        let g = Graph {
            name: "g".into(),
            inputs: vec![
                GraphInput { name: "a".into(), shape: vec![3], batch: None },
                GraphInput { name: "b".into(), shape: vec![2], batch: None },
            ],
            layers: vec![
                single("d0", "Dense", json!({"units": 3, "activation": "tanh"}), vec![Source::Input(0)]),
                single("d1", "Dense", json!({"units": 3}), vec![Source::Layer(0)]),
                multi("add", "Add", vec![Source::Layer(0), Source::Layer(1)])?,
                single("d2", "Dense", json!({"units": units, "activation": "tanh"}), vec![Source::Input(1)]),
                multi("cat", "Concatenate", vec![Source::Layer(2), Source::Layer(3), Source::Input(1)])?,
                single("o", "Dense", json!({"units": classes, "activation": "softmax"}), vec![Source::Layer(4)]),
            ],
            outputs: vec![Source::Layer(5)],
        };
        let a = graph::analyze(&g);
        prop_assert!(a.valid());
        let mut weights = graph::forward::init_weights(&a, seed, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut rng = Rng::new(seed);
        let xs = vec![input(&mut rng, &[3, 3], false), input(&mut rng, &[3, 2], false)];
        let y = ArrayD::from_shape_simple_fn(IxDyn(&[3]), || (rng.next_u64() % classes as u64) as f32);
        let loss = Loss::SparseCategoricalCrossentropy;
        let step = |w: &Vec<Vec<ArrayD<f32>>>| graph_step::loss_and_grads(&g, &a, w, &xs, &y, loss, &mut Rng::new(1)).map_err(|e| TestCaseError::fail(e.to_string()));
        let gr = step(&weights)?;
        for li in 0..weights.len() {
            for wi in 0..weights[li].len() {
                for i in 0..weights[li][wi].len() {
                    let orig = weights[li][wi].iter().nth(i).copied().unwrap_or(0.0);
                    let mut at = |v: f32| -> Result<f64, TestCaseError> {
                        if let Some(e) = weights[li][wi].iter_mut().nth(i) { *e = v; }
                        Ok(f64::from(step(&weights)?.loss))
                    };
                    let num = (at(orig + H)? - at(orig - H)?) / (2.0 * f64::from(H));
                    at(orig)?;
                    let got = f64::from(gr.grads[li][wi].iter().nth(i).copied().unwrap_or(f32::NAN));
                    prop_assert!((num - got).abs() <= 3e-3 + 3e-2 * num.abs(), "layer {} weight {} [{}]: {} vs {}", li, wi, i, got, num);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed),
        ..ProptestConfig::with_cases(48)
    })]

    /// Dot on inputs of rank 2 to 4 (batch counted), over any pair of non-batch axes given
    /// as a positive pair, a negative pair or one shared `-1`, with and without
    /// `normalize`.
    #[test]
    fn dot_backward(dx in dims(3), dy in dims(3), ax in 0usize..3, ay in 0usize..3, mode in 0usize..3, normalize: bool, seed: u64) {
        let (mut ax, mut ay) = (ax % dx.len(), ay % dy.len());
        if mode == 2 {
            (ax, ay) = (dx.len() - 1, dy.len() - 1);
        }
        let mut sx = vec![2usize];
        sx.extend(&dx);
        let mut sy = vec![2usize];
        sy.extend(&dy);
        sy[ay + 1] = sx[ax + 1];
        let (nx, ny) = (sx.len() as i64, sy.len() as i64);
        let axes = match mode {
            0 => json!([ax + 1, ay + 1]),
            1 => json!([ax as i64 + 1 - nx, ay as i64 + 1 - ny]),
            _ => json!(-1),
        };
        check_multi("Dot", &json!({"axes": axes, "normalize": normalize}), &[sx, sy], seed, false)?;
    }

    /// MultiHeadAttention: self-attention (query = value, the same values), cross-attention
    /// with a separate value and an optional separate key of other widths and lengths; with
    /// and without biases, `value_dim` apart from `key_dim`, `output_shape` of one or two
    /// sizes; sequences, or 2-D grids attending over both axes or over the last only.
    #[test]
    fn multi_head_attention_backward(heads in 1usize..3, key_dim in 1usize..4, value_dim in 1usize..4, bias: bool, kind in 0usize..3, out in 0usize..3, grid in 0usize..3, t in 1usize..4, s in 1usize..4, dq in 1usize..4, dv in 1usize..4, dk in 1usize..4, seed: u64) {
        let mut config = json!({"num_heads": heads, "key_dim": key_dim, "value_dim": value_dim, "use_bias": bias});
        match out {
            1 => config["output_shape"] = json!([2]),
            2 => config["output_shape"] = json!([2, 2]),
            _ => {}
        }
        if grid == 2 {
            config["attention_axes"] = json!([2]);
        }
        let shape = |len: usize, d: usize| if grid == 0 { vec![2, len, d] } else { vec![2, 2, len, d] };
        let shapes = match kind {
            0 => vec![shape(t, dq), shape(t, dq)],
            1 => vec![shape(t, dq), shape(s, dv)],
            _ => vec![shape(t, dq), shape(s, dv), shape(s, dk)],
        };
        check_multi("MultiHeadAttention", &config, &shapes, seed, false)?;
    }

    /// Normalization with a given mean and variance (one per feature, or one for all) or
    /// with them as (non-trainable) weights, either way round (`invert`).
    #[test]
    fn normalization_backward(d in dims(2), given: bool, one: bool, invert: bool, seed: u64) {
        let mut shape = vec![2usize];
        shape.extend(&d);
        let f = *d.last().unwrap_or(&1);
        let mut config = json!({"axis": -1, "invert": invert});
        if given {
            let n = if one { 1 } else { f };
            config["mean"] = json!((0..n).map(|i| 0.1 * i as f64 - 0.2).collect::<Vec<_>>());
            config["variance"] = json!((0..n).map(|i| 0.5 + 0.3 * i as f64).collect::<Vec<_>>());
        }
        check_multi("Normalization", &config, &[shape], seed, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed),
        ..ProptestConfig::with_cases(12)
    })]

    /// A tiny transformer block as a graph: the input feeds the query and value of a
    /// self-attention and the residual Add, then LayerNormalization, average pooling over
    /// the positions and a softmax head, through the loss, against finite differences of
    /// the loss in every weight.
    #[test]
    fn transformer_graph_backward(heads in 1usize..3, key_dim in 1usize..4, bias: bool, t in 1usize..4, seed: u64) {
        use flatland::engine::graph::{self, Graph, GraphInput, Node, Op, Source};
        use flatland::engine::layers::multi::MultiSpec;
        let single = |name: &str, class: &str, cfg: Value, inbound: Vec<Source>| Node {
            name: name.into(),
            op: Op::Single(LayerSpec::from_config(class, &cfg)),
            inbound,
            operation: false,
        };
        let multi = |name: &str, class: &str, cfg: Value, inbound: Vec<Source>| -> Result<Node, TestCaseError> {
            Ok(Node {
                name: name.into(),
                op: Op::Multi(MultiSpec::from_config(class, &cfg).ok_or_else(|| TestCaseError::fail("multi"))?.map_err(TestCaseError::fail)?),
                inbound,
                operation: false,
            })
        };
        let c = 3usize;
        let g = Graph {
            name: "g".into(),
            inputs: vec![GraphInput { name: "x".into(), shape: vec![t, c], batch: None }],
            layers: vec![
                multi("mha", "MultiHeadAttention", json!({"num_heads": heads, "key_dim": key_dim, "use_bias": bias}), vec![Source::Input(0), Source::Input(0)])?,
                multi("add", "Add", json!({}), vec![Source::Input(0), Source::Layer(0)])?,
                single("ln", "LayerNormalization", json!({}), vec![Source::Layer(1)]),
                single("gap", "GlobalAveragePooling1D", json!({}), vec![Source::Layer(2)]),
                single("o", "Dense", json!({"units": 3, "activation": "softmax"}), vec![Source::Layer(3)]),
            ],
            outputs: vec![Source::Layer(4)],
        };
        let a = graph::analyze(&g);
        prop_assert!(a.valid());
        let mut weights = graph::forward::init_weights(&a, seed, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut rng = Rng::new(seed);
        // Biases and the LayerNormalization gamma/beta off their initial zeros and ones.
        for w in weights.iter_mut().flatten() {
            w.mapv_inplace(|v| v + 0.2 * rng.uniform(-1.0, 1.0));
        }
        let xs = vec![input(&mut rng, &[3, t, c], false)];
        let y = ArrayD::from_shape_simple_fn(IxDyn(&[3]), || (rng.next_u64() % 3) as f32);
        let loss = Loss::SparseCategoricalCrossentropy;
        let step = |w: &Vec<Vec<ArrayD<f32>>>| graph_step::loss_and_grads(&g, &a, w, &xs, &y, loss, &mut Rng::new(1)).map_err(|e| TestCaseError::fail(e.to_string()));
        let gr = step(&weights)?;
        for li in 0..weights.len() {
            for wi in 0..weights[li].len() {
                for i in 0..weights[li][wi].len() {
                    let orig = weights[li][wi].iter().nth(i).copied().unwrap_or(0.0);
                    let mut at = |v: f32| -> Result<f64, TestCaseError> {
                        if let Some(e) = weights[li][wi].iter_mut().nth(i) { *e = v; }
                        Ok(f64::from(step(&weights)?.loss))
                    };
                    let num = (at(orig + H)? - at(orig - H)?) / (2.0 * f64::from(H));
                    at(orig)?;
                    let got = f64::from(gr.grads[li][wi].iter().nth(i).copied().unwrap_or(f32::NAN));
                    prop_assert!((num - got).abs() <= 3e-3 + 3e-2 * num.abs(), "layer {} weight {} [{}]: {} vs {}", li, wi, i, got, num);
                }
            }
        }
    }
}

/// Attention dropout draws a random mask Flatland does not reproduce: a graph holding it
/// refuses to train, naming the layer.
#[test]
fn attention_with_dropout_is_refused() {
    use flatland::engine::graph::{self, Graph, GraphInput, Node, Op, Source};
    use flatland::engine::layers::multi::MultiSpec;
    let Some(Ok(mha)) = MultiSpec::from_config(
        "MultiHeadAttention",
        &json!({"num_heads": 2, "key_dim": 2, "dropout": 0.1}),
    ) else {
        panic!("MultiHeadAttention config");
    };
    let g = Graph {
        name: "g".into(),
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![3, 4],
            batch: None,
        }],
        layers: vec![
            Node {
                name: "att".into(),
                op: Op::Multi(mha),
                inbound: vec![Source::Input(0), Source::Input(0)],
                operation: false,
            },
            Node {
                name: "flat".into(),
                op: Op::Single(LayerSpec::from_config("Flatten", &json!({}))),
                inbound: vec![Source::Layer(0)],
                operation: false,
            },
        ],
        outputs: vec![Source::Layer(1)],
    };
    let a = graph::analyze(&g);
    assert!(a.valid());
    let e = graph_step::check_trainable(&g, &a)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("training MultiHeadAttention (`att`, layer 1) is not supported yet"),
        "{e}"
    );
}

/// `LayerScale` on a 1-channel input: Keras's `inputs * gamma` broadcasts the channel (the
/// output has `projection_dim` channels), and the forward pass does the same (it used to
/// panic in ndarray's broadcast).
#[test]
fn layer_scale_broadcasts_one_channel() {
    use flatland::engine::layers::multi::MultiSpec;
    use flatland::engine::shape::Shape;
    let spec = MultiSpec::from_config(
        "LayerScale",
        &json!({"init_values": 0.5, "projection_dim": 3}),
    )
    .and_then(Result::ok)
    .expect("LayerScale reads");
    let out = spec.rules().output_shape(&[Shape::new(vec![2, 1])]);
    assert_eq!(out.map(|s| s.dims().to_vec()), Ok(vec![2, 3]));
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 2, 1]), vec![1.0, 2.0]).expect("x");
    let gamma = ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, 10.0, 100.0]).expect("gamma");
    let y = spec.rules().forward(&[&x], &[gamma]).expect("forward");
    assert_eq!(y.shape(), &[1, 2, 3]);
    let by_hand: Vec<f32> = [1.0f32, 2.0]
        .iter()
        .flat_map(|v| [1.0f32, 10.0, 100.0].map(|g| v * g))
        .collect();
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), by_hand);
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed),
        ..ProptestConfig::with_cases(16)
    })]

    /// A graph with two outputs, the first (`aux`, softmax) also feeding the second's branch
    /// (a regression head on a Concatenate): the gradient of the summed loss (sparse
    /// categorical crossentropy + MSE, Keras's `CompileLoss`) against finite differences of
    /// that sum in every weight; the sum is the two outputs' losses added.
    #[test]
    fn multi_output_graph_backward(units in 1usize..4, classes in 2usize..4, seed: u64) {
        use flatland::engine::graph::{self, Graph, GraphInput, Node, Op, Source};
        use flatland::engine::layers::multi::MultiSpec;
        let single = |name: &str, class: &str, cfg: Value, inbound: Vec<Source>| Node {
            name: name.into(),
            op: Op::Single(LayerSpec::from_config(class, &cfg)),
            inbound,
            operation: false,
        };
        let cat = Node {
            name: "cat".into(),
            op: Op::Multi(MultiSpec::from_config("Concatenate", &json!({})).ok_or_else(|| TestCaseError::fail("merge"))?.map_err(TestCaseError::fail)?),
            inbound: vec![Source::Layer(0), Source::Layer(1)],
            operation: false,
        };
        let g = Graph {
            name: "g".into(),
            inputs: vec![GraphInput { name: "x".into(), shape: vec![3], batch: None }],
            layers: vec![
                single("h", "Dense", json!({"units": units, "activation": "tanh"}), vec![Source::Input(0)]),
                single("aux", "Dense", json!({"units": classes, "activation": "softmax"}), vec![Source::Layer(0)]),
                cat,
                single("main", "Dense", json!({"units": 2}), vec![Source::Layer(2)]),
            ],
            outputs: vec![Source::Layer(1), Source::Layer(3)],
        };
        let a = graph::analyze(&g);
        prop_assert!(a.valid());
        let mut weights = graph::forward::init_weights(&a, seed, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut rng = Rng::new(seed);
        let xs = vec![input(&mut rng, &[3, 3], false)];
        let labels = ArrayD::from_shape_simple_fn(IxDyn(&[3]), || (rng.next_u64() % classes as u64) as f32);
        let ys = vec![labels, input(&mut rng, &[3, 2], false)];
        let losses = [Loss::SparseCategoricalCrossentropy, Loss::Mse];
        let step = |w: &Vec<Vec<ArrayD<f32>>>| graph_step::loss_and_grads_multi(&g, &a, w, &xs, &ys, &losses, &mut Rng::new(1)).map_err(|e| TestCaseError::fail(e.to_string()));
        let gr = step(&weights)?;
        prop_assert_eq!(gr.losses.len(), 2);
        prop_assert_eq!(gr.total, gr.losses[0] + gr.losses[1]);
        for li in 0..weights.len() {
            for wi in 0..weights[li].len() {
                for i in 0..weights[li][wi].len() {
                    let orig = weights[li][wi].iter().nth(i).copied().unwrap_or(0.0);
                    let mut at = |v: f32| -> Result<f64, TestCaseError> {
                        if let Some(e) = weights[li][wi].iter_mut().nth(i) { *e = v; }
                        Ok(f64::from(step(&weights)?.total))
                    };
                    let num = (at(orig + H)? - at(orig - H)?) / (2.0 * f64::from(H));
                    at(orig)?;
                    let got = f64::from(gr.grads[li][wi].iter().nth(i).copied().unwrap_or(f32::NAN));
                    prop_assert!((num - got).abs() <= 3e-3 + 3e-2 * num.abs(), "layer {} weight {} [{}]: {} vs {}", li, wi, i, got, num);
                }
            }
        }
    }
}
