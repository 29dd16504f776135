//! Numbers behind the teaching visuals, computed by the engine so the browser never redoes
//! shape or parameter arithmetic of its own:
//! - [`dense_story`]: a Dense layer seen as one shared kernel applied at every position, and
//!   the same layer after a hypothetical `Flatten` ([`with_flatten_before`], analysed for real);
//! - [`window_story`]: the sliding-window geometry of a convolution or pooling layer
//!   (out lengths, padding and formulas from [`Window::geometry`]);
//! - [`align`]: two stacks matched row by row for the A/B compare view (its pairs are the
//!   seed presets, `codec::presets::compare_pairs`);
//! - example inputs (counting, seeded random, nested-list JSON) and 2-D views of outputs.

use ndarray::{ArrayD, Axis, IxDyn};
use serde_json::Value;

use super::forward::Limits;
use super::layers::activation::Activation;
use super::layers::args::{expand, Padding, Rank};
use super::layers::conv::Conv;
use super::layers::core::positions_and_features;
use super::layers::reshaping::Flatten;
use super::layers::window::{Window, WindowGeometry};
use super::layers::LayerSpec;
use super::model::{analyze, Analysis, Layer, Model, Status};
use super::rng::Rng;
use super::shape::Shape;

/// `13698` → `13,698` (the summary's formatting).
pub use super::summary::commas as thousands;

/// A signed difference with thousands separators: `+64`, `−64`, `0`.
pub fn signed_thousands(d: i128) -> String {
    let mag = thousands(u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX));
    match d.signum() {
        1 => format!("+{mag}"),
        -1 => format!("−{mag}"),
        _ => mag,
    }
}

/// `b − a` as a signed number.
pub fn diff(a: u64, b: u64) -> i128 {
    i128::from(b) - i128::from(a)
}

/// `[1, 15, 32]` → `1 × 15 × 32`.
pub fn dims_product_text(d: &[usize]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" × ")
}

/// The same model with a `Flatten` inserted just before layer `index` (at the end when
/// `index` is past the last layer). The new layer gets a fresh Keras-style name.
pub fn with_flatten_before(model: &Model, index: usize) -> Model {
    let mut m = model.clone();
    let name = m.fresh_name("flatten");
    let at = index.min(m.layers.len());
    m.layers
        .insert(at, Layer::new(name, LayerSpec::Flatten(Flatten {})));
    m
}

/// Indices of the model's Dense layers.
pub fn dense_indices(model: &Model) -> Vec<usize> {
    model
        .layers
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l.spec, LayerSpec::Dense(_)))
        .map(|(i, _)| i)
        .collect()
}

/// A Dense layer as the visuals tell it: `positions` rows of `features` values, one kernel
/// `features × units` (+ bias) applied to each row; and the same layer after a `Flatten`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseStory {
    pub index: usize,
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    /// Product of all input dims but the last.
    pub positions: u64,
    /// Last input dim.
    pub features: usize,
    pub units: usize,
    pub use_bias: bool,
    pub activation: Activation,
    /// From the layer's [`LayerReport`](super::model::LayerReport).
    pub params: u64,
    pub macs: u64,
    /// Features of the flattened input, from analysing [`with_flatten_before`].
    pub flat_features: u64,
    pub flat_output: Shape,
    pub flat_params: u64,
    pub flat_macs: u64,
    /// Whole-model totals (None when that model has an error somewhere).
    pub model_total: Option<u64>,
    pub flat_model_total: Option<u64>,
}

impl DenseStory {
    /// The input already is a vector: Flatten changes nothing.
    pub fn already_flat(&self) -> bool {
        self.input.rank() <= 1
    }
    fn bias_text(&self) -> &'static str {
        if self.use_bias {
            " + 1"
        } else {
            ""
        }
    }
    /// `params = (features + 1) × units = params`, for either input.
    fn params_formula_for(&self, features: u64, params: u64) -> String {
        let f = thousands(features);
        let inner = if self.use_bias {
            format!("({f}{})", self.bias_text())
        } else {
            f
        };
        format!(
            "params = {inner} × {} = {}",
            thousands(self.units as u64),
            thousands(params)
        )
    }
    /// `params = (2 + 1) × 16 = 48`.
    pub fn params_formula(&self) -> String {
        self.params_formula_for(self.features as u64, self.params)
    }
    /// `params = (6 + 1) × 16 = 112`.
    pub fn flat_params_formula(&self) -> String {
        self.params_formula_for(self.flat_features, self.flat_params)
    }
    /// `multiply-adds = 3 × 2 × 16 = 96` (positions × features × units).
    pub fn macs_formula(&self) -> String {
        format!(
            "multiply-adds = {} × {} × {} = {}",
            thousands(self.positions),
            thousands(self.features as u64),
            thousands(self.units as u64),
            thousands(self.macs)
        )
    }
    /// `multiply-adds = 6 × 16 = 96`.
    pub fn flat_macs_formula(&self) -> String {
        format!(
            "multiply-adds = {} × {} = {}",
            thousands(self.flat_features),
            thousands(self.units as u64),
            thousands(self.flat_macs)
        )
    }
    /// `3 × 2 = 6`.
    pub fn flatten_formula(&self) -> String {
        format!(
            "{} = {}",
            dims_product_text(self.input.dims()),
            thousands(self.flat_features)
        )
    }
    /// `2 × 16`.
    pub fn kernel_label(&self) -> String {
        format!("{} × {}", self.features, self.units)
    }
    /// `6 × 16`.
    pub fn flat_kernel_label(&self) -> String {
        format!("{} × {}", self.flat_features, self.units)
    }
    /// Flattened minus per-position parameters of this layer (`+64`).
    pub fn param_diff(&self) -> i128 {
        diff(self.params, self.flat_params)
    }
}

/// The Dense story of layer `index`, when it is a Dense layer with a computed shape.
pub fn dense_story(model: &Model, analysis: &Analysis, index: usize) -> Option<DenseStory> {
    let LayerSpec::Dense(d) = &model.layers.get(index)?.spec else {
        return None;
    };
    let report = analysis.layers.get(index)?;
    if report.status != Status::Ok {
        return None;
    }
    let input = report.input.clone()?;
    let output = report.output.clone()?;
    let (positions, features) = positions_and_features(&input).ok()?;
    let hyp = with_flatten_before(model, index);
    let ha = analyze(&hyp);
    let flat = ha.layers.get(index + 1)?;
    if flat.status != Status::Ok {
        return None;
    }
    let flat_features = flat.input.as_ref().and_then(Shape::last)? as u64;
    Some(DenseStory {
        index,
        name: report.name.clone(),
        input,
        output,
        positions,
        features,
        units: d.units,
        use_bias: d.use_bias,
        activation: d.activation,
        params: report.params(),
        macs: report.macs,
        flat_features,
        flat_output: flat.output.clone()?,
        flat_params: flat.params(),
        flat_macs: flat.macs,
        model_total: analysis.valid().then(|| analysis.total()),
        flat_model_total: ha.valid().then(|| ha.total()),
    })
}

/// The model cut after layer `last` (inclusive), for running a hypothetical model only as far
/// as the visuals need.
pub fn truncated(model: &Model, last: usize) -> Model {
    let mut m = model.clone();
    m.layers.truncate(last.saturating_add(1));
    m
}

/// Unravel a position index over `dims` (row-major): `7` over `[3, 4]` → `[1, 3]`.
pub fn unravel(mut i: u64, dims: &[usize]) -> Vec<usize> {
    let mut out = vec![0usize; dims.len()];
    for (k, &d) in dims.iter().enumerate().rev() {
        let d = d.max(1) as u64;
        out[k] = (i % d) as usize;
        i /= d;
    }
    out
}

/// One spatial axis of a sliding window: its geometry, axis name and formula.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowAxis {
    pub name: &'static str,
    pub geometry: WindowGeometry,
    /// The engine's formula, e.g. `⌊(15 − 1)/1⌋ + 1 = 15`.
    pub formula: String,
}

/// The geometry of a convolution or pooling layer for the window view.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStory {
    pub index: usize,
    pub name: String,
    pub class_name: String,
    pub padding: Padding,
    pub pooling: bool,
    /// 1 axis (steps) or 2 (height, width).
    pub axes: Vec<WindowAxis>,
    pub in_channels: usize,
    pub out_channels: usize,
    pub input: Shape,
    pub output: Shape,
}

/// The window settings of a convolution or pooling layer, broadcast to its rank.
#[derive(Debug, Clone, PartialEq)]
struct LayerWindow {
    rank: usize,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilation: Vec<usize>,
    padding: Padding,
    pooling: bool,
}

impl LayerWindow {
    fn conv(
        rank: usize,
        kernel: &[usize],
        strides: &[usize],
        dilation: &[usize],
        padding: Padding,
    ) -> Option<Self> {
        Some(LayerWindow {
            rank,
            kernel: expand(kernel, rank, "kernel_size").ok()?,
            strides: expand(strides, rank, "strides").ok()?,
            dilation: expand(dilation, rank, "dilation_rate").ok()?,
            padding,
            pooling: false,
        })
    }
    fn pool(
        rank: usize,
        pool: &[usize],
        strides: Option<&Vec<usize>>,
        padding: Padding,
    ) -> Option<Self> {
        let kernel = expand(pool, rank, "pool_size").ok()?;
        let strides = match strides {
            Some(s) => expand(s, rank, "strides").ok()?,
            None => kernel.clone(),
        };
        Some(LayerWindow {
            rank,
            kernel,
            strides,
            dilation: vec![1; rank],
            padding,
            pooling: true,
        })
    }
    fn of(spec: &LayerSpec) -> Option<Self> {
        fn conv<R: Rank>(c: &Conv<R>) -> Option<LayerWindow> {
            LayerWindow::conv(
                R::N,
                &c.kernel_size,
                &c.strides,
                &c.dilation_rate,
                c.padding,
            )
        }
        match spec {
            LayerSpec::Conv1D(c) => conv(c),
            LayerSpec::Conv2D(c) => conv(c),
            LayerSpec::DepthwiseConv2D(c) => {
                Self::conv(2, &c.kernel_size, &c.strides, &c.dilation_rate, c.padding)
            }
            LayerSpec::SeparableConv2D(c) => {
                Self::conv(2, &c.kernel_size, &c.strides, &c.dilation_rate, c.padding)
            }
            LayerSpec::MaxPooling1D(p) => {
                Self::pool(1, &p.pool_size, p.strides.as_ref(), p.padding)
            }
            LayerSpec::AveragePooling1D(p) => {
                Self::pool(1, &p.pool_size, p.strides.as_ref(), p.padding)
            }
            LayerSpec::MaxPooling2D(p) => {
                Self::pool(2, &p.pool_size, p.strides.as_ref(), p.padding)
            }
            LayerSpec::AveragePooling2D(p) => {
                Self::pool(2, &p.pool_size, p.strides.as_ref(), p.padding)
            }
            _ => None,
        }
    }
    /// Axis `i` over an input of length `n`.
    fn axis(&self, i: usize, n: usize) -> Option<Window> {
        Some(Window::new(
            n,
            *self.kernel.get(i)?,
            *self.strides.get(i)?,
            *self.dilation.get(i)?,
            self.padding,
        ))
    }
}

/// Whether the layer kind has a window view.
pub fn has_window(spec: &LayerSpec) -> bool {
    LayerWindow::of(spec).is_some()
}

/// The window story of layer `index` (convolution or pooling with a computed shape).
pub fn window_story(model: &Model, analysis: &Analysis, index: usize) -> Option<WindowStory> {
    let layer = model.layers.get(index)?;
    let lw = LayerWindow::of(&layer.spec)?;
    let rank = lw.rank;
    let report = analysis.layers.get(index)?;
    if report.status != Status::Ok {
        return None;
    }
    let input = report.input.clone()?;
    let output = report.output.clone()?;
    let dims = input.dims();
    if dims.len() != rank + 1 {
        return None;
    }
    let names: &[&'static str] = if rank == 1 {
        &["steps"]
    } else {
        &["height", "width"]
    };
    let axes = (0..rank)
        .map(|i| {
            let geometry = lw.axis(i, dims[i])?.geometry().ok()?;
            Some(WindowAxis {
                name: names[i],
                formula: geometry.formula(),
                geometry,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(WindowStory {
        index,
        name: layer.name.clone(),
        class_name: layer.spec.class_name().to_string(),
        padding: lw.padding,
        pooling: lw.pooling,
        in_channels: dims[rank],
        out_channels: output.last().unwrap_or(0),
        axes,
        input,
        output,
    })
}

/// One row of the A/B compare view: the index of the layer in A and/or in B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompareRow {
    pub a: Option<usize>,
    pub b: Option<usize>,
}

/// Match the layers of two models row by row (longest common subsequence of
/// name + class), so an inserted Flatten shows as a row only B has.
pub fn align(a: &Model, b: &Model) -> Vec<CompareRow> {
    let key = |l: &Layer| (l.name.clone(), l.spec.class_name().to_string());
    let ka: Vec<_> = a.layers.iter().map(key).collect();
    let kb: Vec<_> = b.layers.iter().map(key).collect();
    let (n, m) = (ka.len(), kb.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if ka[i] == kb[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut rows = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && ka[i] == kb[j] {
            rows.push(CompareRow {
                a: Some(i),
                b: Some(j),
            });
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            rows.push(CompareRow {
                a: None,
                b: Some(j),
            });
            j += 1;
        } else {
            rows.push(CompareRow {
                a: Some(i),
                b: None,
            });
            i += 1;
        }
    }
    rows
}

/// Largest example input written out as counting numbers (`1, 2, 3, …`).
pub const COUNTING_MAX: u64 = 64;

/// `1, 2, …, n` in the input's shape (per sample, no batch axis) when it has at most
/// [`COUNTING_MAX`] values: for (3, 2) that is `[[1, 2], [3, 4], [5, 6]]`.
pub fn counting_example(dims: &[usize]) -> Option<ArrayD<f32>> {
    let n = Shape::new(dims.to_vec()).elements().ok()?;
    if n == 0 || n > COUNTING_MAX {
        return None;
    }
    ArrayD::from_shape_vec(IxDyn(dims), (1..=n).map(|v| v as f32).collect()).ok()
}

/// Seeded uniform values in [−1, 1), rounded to two decimals so they read well.
///
/// # Errors
/// A message when the input is larger than the forward size guard allows.
pub fn random_example(dims: &[usize], seed: u64) -> Result<ArrayD<f32>, String> {
    let limit = Limits::default().max_elements;
    let n = Shape::new(dims.to_vec())
        .elements()
        .map_err(|e| e.to_string())?;
    if n > limit {
        return Err(format!(
            "the input has {} values per sample, above the limit of {}",
            thousands(n),
            thousands(limit)
        ));
    }
    let mut rng = Rng::new(seed);
    Ok(ArrayD::from_shape_simple_fn(IxDyn(dims), || {
        (rng.uniform(-1.0, 1.0) * 100.0).round() / 100.0
    }))
}

/// A number the way a person would type it: `1`, `0.25`, `-0.5`.
pub fn plain_number(v: f32) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// Nested-list text of an array (per sample): `[[1, 2], [3, 4], [5, 6]]`.
pub fn to_nested_text(a: &ArrayD<f32>) -> String {
    #[allow(clippy::needless_pass_by_value)] // array views are passed by value
    fn go(v: ndarray::ArrayViewD<'_, f32>, out: &mut String) {
        if v.ndim() == 0 {
            out.push_str(&plain_number(v.iter().next().copied().unwrap_or(0.0)));
            return;
        }
        out.push('[');
        for (i, sub) in v.axis_iter(Axis(0)).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            go(sub, out);
        }
        out.push(']');
    }
    let mut s = String::new();
    go(a.view(), &mut s);
    s
}

/// Parse nested-list JSON text into an array of exactly `dims` (per sample).
///
/// # Errors
/// A message naming where the text does not fit the shape.
pub fn parse_example(text: &str, dims: &[usize]) -> Result<ArrayD<f32>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    fn go(
        v: &Value,
        dims: &[usize],
        path: &mut Vec<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), String> {
        let at = if path.is_empty() {
            "the top level".to_string()
        } else {
            format!(
                "[{}]",
                path.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("][")
            )
        };
        match dims.split_first() {
            None => match v.as_f64() {
                Some(x) => {
                    out.push(x as f32);
                    Ok(())
                }
                None => Err(format!("expected a number at {at}, found {v}")),
            },
            Some((&n, rest)) => {
                let items = v
                    .as_array()
                    .ok_or_else(|| format!("expected a list of {n} at {at}, found {v}"))?;
                if items.len() != n {
                    return Err(format!("expected {n} items at {at}, found {}", items.len()));
                }
                for (i, it) in items.iter().enumerate() {
                    path.push(i);
                    go(it, rest, path, out)?;
                    path.pop();
                }
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    go(&v, dims, &mut Vec::new(), &mut out)?;
    ArrayD::from_shape_vec(IxDyn(dims), out).map_err(|e| e.to_string())
}

/// A 2-D window onto a tensor for the heat maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
    /// Row-major values, `rows × cols`.
    pub values: Vec<f32>,
    /// What part of the tensor this is, when not all of it (rank ≥ 3).
    pub note: Option<String>,
}

impl Grid {
    pub fn get(&self, r: usize, c: usize) -> Option<f32> {
        if r < self.rows && c < self.cols {
            self.values.get(r * self.cols + c).copied()
        } else {
            None
        }
    }
}

/// The first batch item of a batched tensor as a grid: a row for vectors, the matrix for
/// rank 2, and the last two axes at index 0 of the others for rank ≥ 3 (said in `note`).
pub fn first_item_grid(t: &ArrayD<f32>) -> Option<Grid> {
    if t.ndim() == 0 || t.shape()[0] == 0 {
        return None;
    }
    let mut v = t.index_axis(Axis(0), 0);
    let mut lead = Vec::new();
    while v.ndim() > 2 {
        v = v.index_axis_move(Axis(0), 0);
        lead.push("0");
    }
    let (rows, cols) = match v.shape() {
        [] => (1, 1),
        [c] => (1, *c),
        [r, c] => (*r, *c),
        _ => return None,
    };
    let note = (!lead.is_empty()).then(|| {
        format!(
            "rank {} per sample: showing the last two axes at [{}, :, :]",
            t.ndim() - 1,
            lead.join(", ")
        )
    });
    Some(Grid {
        rows,
        cols,
        values: v.iter().copied().collect(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed question's compare pair (A, B), from the one preset source.
    struct Pair {
        a: Model,
        b: Model,
    }
    fn pair(id: &str) -> Pair {
        let p = crate::codec::presets::preset(id).unwrap();
        Pair {
            b: p.compare_with.unwrap(),
            a: p.model,
        }
    }
    use crate::engine::forward::{forward, init_weights};
    use crate::engine::model::explain;

    fn story(m: &Model, i: usize) -> DenseStory {
        let a = analyze(m);
        dense_story(m, &a, i).unwrap()
    }

    #[test]
    fn seed_dense_story_48_vs_112() {
        let s = story(&Model::seed(), 0);
        assert_eq!((s.positions, s.features, s.units), (3, 2, 16));
        assert_eq!(s.params, 48);
        assert_eq!(s.macs, 96);
        assert_eq!(s.flat_features, 6);
        assert_eq!(s.flat_params, 112);
        assert_eq!(s.flat_macs, 96);
        assert_eq!(s.param_diff(), 64);
        assert_eq!(s.params_formula(), "params = (2 + 1) × 16 = 48");
        assert_eq!(s.flat_params_formula(), "params = (6 + 1) × 16 = 112");
        assert_eq!(s.macs_formula(), "multiply-adds = 3 × 2 × 16 = 96");
        assert_eq!(s.flat_macs_formula(), "multiply-adds = 6 × 16 = 96");
        assert_eq!(s.flatten_formula(), "3 × 2 = 6");
        assert_eq!(s.kernel_label(), "2 × 16");
        assert_eq!(s.flat_kernel_label(), "6 × 16");
        assert_eq!(s.output.to_string(), "(None, 3, 16)");
        assert_eq!(s.flat_output.to_string(), "(None, 16)");
        assert_eq!(s.model_total, Some(244));
        assert!(!s.already_flat());
        assert_eq!(signed_thousands(s.param_diff()), "+64");
    }

    #[test]
    fn seed_second_dense_is_already_flat() {
        let s = story(&Model::seed(), 3);
        assert!(s.already_flat());
        assert_eq!(s.params, 196);
        assert_eq!(s.flat_params, 196);
        assert_eq!(s.param_diff(), 0);
        assert_eq!(s.params_formula(), "params = (48 + 1) × 4 = 196");
        assert!(dense_story(&Model::seed(), &analyze(&Model::seed()), 1).is_none());
    }

    #[test]
    fn seed000_pair_3601_vs_9301() {
        let p = pair("seed000");
        assert_eq!(analyze(&p.a).total(), 3_601);
        assert_eq!(analyze(&p.b).total(), 9_301);
        let s = story(&p.a, 1);
        assert_eq!(s.params, 301);
        assert_eq!(s.flat_features, 6_000);
        assert_eq!(s.flat_params, 6_001);
        assert_eq!(s.model_total, Some(3_601));
        assert_eq!(s.flat_model_total, Some(9_301));
        assert_eq!(s.flatten_formula(), "20 × 300 = 6,000");
        assert_eq!(thousands(3_601), "3,601");
    }

    #[test]
    fn seed004_pair_13698_vs_58498() {
        let p = pair("seed004");
        let a = analyze(&p.a);
        assert_eq!(a.total(), 13_698);
        assert_eq!(analyze(&p.b).total(), 58_498);
        let s = story(&p.a, 1);
        assert_eq!(s.input.to_string(), "(None, 1, 15, 32)");
        assert_eq!((s.positions, s.features), (15, 32));
        assert_eq!(s.flat_features, 480);
        assert_eq!(s.flatten_formula(), "1 × 15 × 32 = 480");
        assert_eq!(s.params_formula(), "params = (32 + 1) × 100 = 3,300");
        assert_eq!(s.flat_params_formula(), "params = (480 + 1) × 100 = 48,100");
        assert_eq!(s.flat_model_total, Some(58_498));
        assert_eq!(thousands(13_698), "13,698");
        assert_eq!(thousands(58_498), "58,498");
        assert_eq!(signed_thousands(diff(13_698, 58_498)), "+44,800");
        assert_eq!(signed_thousands(-1_234), "−1,234");
    }

    #[test]
    fn align_marks_the_inserted_flatten() {
        let p = pair("seed004");
        let rows = align(&p.a, &p.b);
        assert_eq!(rows.len(), 7);
        assert_eq!(
            rows[0],
            CompareRow {
                a: Some(0),
                b: Some(0)
            }
        );
        assert_eq!(
            rows[1],
            CompareRow {
                a: None,
                b: Some(1)
            }
        );
        assert_eq!(
            rows[2],
            CompareRow {
                a: Some(1),
                b: Some(2)
            }
        );
        assert_eq!(
            rows[6],
            CompareRow {
                a: Some(5),
                b: Some(6)
            }
        );
        let same = align(&p.a, &p.a);
        assert!(same.iter().all(|r| r.a == r.b));
        let m = Model::seed();
        let b = with_flatten_before(&m, 0);
        assert_eq!(b.layers[0].name, "flatten_1");
        let r = align(&m, &b);
        assert_eq!(
            r[0],
            CompareRow {
                a: None,
                b: Some(0)
            }
        );
        assert_eq!(r.len(), 5);
    }

    #[test]
    fn why_text_contains_the_output_shape() {
        let mut models = vec![
            Model::seed(),
            pair("seed000").a,
            pair("seed000").b,
            pair("seed004").a,
            pair("seed004").b,
        ];
        let mut pooled = pair("seed004").a;
        pooled.input_shape = vec![8, 15, 1];
        pooled.layers.insert(
            1,
            Layer::new(
                "max_pooling2d",
                LayerSpec::default_of("MaxPooling2D").unwrap(),
            ),
        );
        models.push(pooled);
        for m in &models {
            let a = analyze(m);
            assert!(a.valid(), "{}", m.name);
            for (i, l) in a.layers.iter().enumerate() {
                let e = explain(m, &a, i).unwrap();
                let text = std::iter::once(e.rule.clone())
                    .chain(e.steps.clone())
                    .collect::<Vec<_>>()
                    .join("\n");
                let shape = l.output.as_ref().unwrap().to_string();
                assert!(
                    text.contains(&shape),
                    "{} layer {i}: {shape} not in {text}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn window_story_of_the_seed004_conv() {
        let p = pair("seed004");
        let a = analyze(&p.a);
        let w = window_story(&p.a, &a, 0).unwrap();
        assert_eq!(w.axes.len(), 2);
        let (h, wd) = (&w.axes[0].geometry, &w.axes[1].geometry);
        assert_eq!(
            (h.window.n, h.window.k, h.out, h.pad_before, h.pad_after),
            (2, 2, 1, 0, 0)
        );
        assert_eq!((wd.window.n, wd.window.k, wd.out), (15, 1, 15));
        assert_eq!(w.axes[1].formula, "⌊(15 − 1)/1⌋ + 1 = 15");
        assert_eq!((w.in_channels, w.out_channels), (1, 32));
        assert!(!w.pooling);
        assert!(window_story(&p.a, &a, 1).is_none());
    }

    #[test]
    fn window_story_same_padding_and_stride() {
        use crate::engine::layers::pooling::Pool;
        let m = Model {
            name: "p".into(),
            input_shape: vec![5, 5, 1],
            layers: vec![Layer::new(
                "max_pooling2d",
                LayerSpec::MaxPooling2D(Pool {
                    padding: Padding::Same,
                    ..Pool::default()
                }),
            )],
        };
        let a = analyze(&m);
        let w = window_story(&m, &a, 0).unwrap();
        let ax = &w.axes[0].geometry;
        assert_eq!(
            (ax.out, ax.pad_before, ax.pad_after, ax.window.s),
            (3, 0, 1, 2)
        );
        assert_eq!(ax.padded_len(), 6);
        assert_eq!(ax.taps(2), vec![4, 5]);
        assert!(ax.is_pad(5));
        assert_eq!(ax.source(4), Some(4));
        assert!(w.pooling);
        assert_eq!(a.layers[0].output.as_ref().unwrap().dims(), &[3, 3, 1]);

        // Conv1D "same" with kernel 3: one cell of padding each side; causal pads 2 before.
        let mut c = Conv::<crate::engine::layers::args::R1> {
            padding: Padding::Same,
            filters: 4,
            ..Conv::default()
        };
        let m = Model {
            name: "c".into(),
            input_shape: vec![7, 2],
            layers: vec![Layer::new("conv1d", LayerSpec::Conv1D(c.clone()))],
        };
        let w = window_story(&m, &analyze(&m), 0).unwrap();
        let g = w.axes[0].geometry;
        assert_eq!((g.out, g.pad_before, g.pad_after), (7, 1, 1));
        c.padding = Padding::Causal;
        let m = Model {
            layers: vec![Layer::new("conv1d", LayerSpec::Conv1D(c))],
            ..m
        };
        let w = window_story(&m, &analyze(&m), 0).unwrap();
        let g = w.axes[0].geometry;
        assert_eq!((g.out, g.pad_before, g.pad_after), (7, 2, 0));
    }

    #[test]
    fn window_taps_match_the_forward_pass() {
        // Conv1D valid, stride 2, dilation 1 on counting input with an all-ones kernel:
        // each output equals the sum of its window's inputs.
        let c = Conv::<crate::engine::layers::args::R1> {
            filters: 1,
            kernel_size: vec![3],
            strides: vec![2],
            use_bias: false,
            ..Conv::default()
        };
        let m = Model {
            name: "c".into(),
            input_shape: vec![9, 1],
            layers: vec![Layer::new("conv1d", LayerSpec::Conv1D(c))],
        };
        let a = analyze(&m);
        let w = window_story(&m, &a, 0).unwrap();
        let x = counting_example(&[9, 1]).unwrap().insert_axis(Axis(0));
        let ones = vec![vec![ArrayD::<f32>::ones(IxDyn(&[3, 1, 1]))]];
        let y = forward(&m, &a, &ones, x, Limits::default()).unwrap();
        let ax = &w.axes[0].geometry;
        assert_eq!(ax.out, 4);
        for o in 0..ax.out {
            let sum: f32 = ax
                .taps(o)
                .iter()
                .filter_map(|&p| ax.source(p))
                .map(|i| (i + 1) as f32)
                .sum();
            assert_eq!(y[0][[0, o, 0]], sum);
        }
    }

    #[test]
    fn examples_and_parsing() {
        let x = counting_example(&[3, 2]).unwrap();
        assert_eq!(to_nested_text(&x), "[[1, 2], [3, 4], [5, 6]]");
        assert_eq!(
            parse_example("[[1, 2], [3, 4], [5, 6]]", &[3, 2]).unwrap(),
            x
        );
        assert_eq!(
            parse_example("[[1,2],[3,4]]", &[3, 2]).unwrap_err(),
            "expected 3 items at the top level, found 2"
        );
        assert_eq!(
            parse_example("[[1,2],[3,4],[5,\"a\"]]", &[3, 2]).unwrap_err(),
            "expected a number at [2][1], found \"a\""
        );
        assert!(parse_example("[[1,2],", &[3, 2])
            .unwrap_err()
            .starts_with("not valid JSON"));
        assert!(counting_example(&[20, 10]).is_none());
        let r = random_example(&[20, 10], 5).unwrap();
        assert_eq!(r.shape(), &[20, 10]);
        assert_eq!(r, random_example(&[20, 10], 5).unwrap());
        assert_ne!(r, random_example(&[20, 10], 6).unwrap());
        assert!(r.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert_eq!(parse_example(&to_nested_text(&r), &[20, 10]).unwrap(), r);
        assert!(random_example(&[100_000, 100_000], 1).is_err());
        assert_eq!(plain_number(-0.5), "-0.5");
        assert_eq!(plain_number(0.25), "0.25");
    }

    #[test]
    fn grids_of_forward_outputs() {
        let m = pair("seed004").a;
        let a = analyze(&m);
        let w = init_weights(&a, 1, Limits::default()).unwrap();
        let x = random_example(&[2, 15, 1], 1).unwrap().insert_axis(Axis(0));
        let outs = forward(&m, &a, &w, x, Limits::default()).unwrap();
        let g = first_item_grid(&outs[0]).unwrap();
        assert_eq!((g.rows, g.cols), (15, 32));
        assert!(g.note.as_deref().unwrap_or("").contains("[0, :, :]"));
        assert_eq!(g.get(3, 4), Some(outs[0][[0, 0, 3, 4]]));
        let g = first_item_grid(&outs[5]).unwrap();
        assert_eq!(
            (g.rows, g.cols, g.note.clone()),
            (
                15,
                2,
                Some("rank 3 per sample: showing the last two axes at [0, :, :]".to_string())
            )
        );
        let m = Model::seed();
        let a = analyze(&m);
        let w = init_weights(&a, 1, Limits::default()).unwrap();
        let x = counting_example(&[3, 2]).unwrap().insert_axis(Axis(0));
        let outs = forward(&m, &a, &w, x, Limits::default()).unwrap();
        let g = first_item_grid(&outs[0]).unwrap();
        assert_eq!((g.rows, g.cols, g.note.is_none()), (3, 16, true));
        let g = first_item_grid(&outs[2]).unwrap();
        assert_eq!((g.rows, g.cols), (1, 48));
    }

    #[test]
    fn unravel_positions() {
        assert_eq!(unravel(7, &[3, 4]), vec![1, 3]);
        assert_eq!(unravel(14, &[1, 15]), vec![0, 14]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
        assert_eq!(truncated(&Model::seed(), 1).layers.len(), 2);
    }
}
