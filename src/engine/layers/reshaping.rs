//! Reshaping layers: `Flatten`, `Reshape`, `Permute`, `RepeatVector`, `ZeroPadding1D/2D`,
//! `UpSampling1D/2D`, `Cropping1D/2D`. No weights.

use ndarray::{ArrayD, Axis, IxDyn, Slice};
use serde::{Deserialize, Serialize};

use super::args::{de_ints, de_pairs1, de_pairs2, expand, positive};
use super::code::{ints, KerasArgs, KerasTable, LayerCode, Torch};
use super::{Explanation, LayerRules};
use crate::engine::error::{Problem, RankNeed};
use crate::engine::shape::{checked_product, Shape};
use crate::engine::train::grad::{reshape_to, Grads, Trace};

fn batch_reshape(x: &ArrayD<f32>, dims: &[usize]) -> Result<ArrayD<f32>, Problem> {
    let mut shape = vec![x.shape().first().copied().unwrap_or(1)];
    shape.extend_from_slice(dims);
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|_| Problem::Reshape {
            from: x.shape().to_vec(),
            to: shape,
        })
}

fn dims_text(d: &[usize]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" × ")
}

/// `keras.layers.Flatten()`: `(None, d1, ..., dn)` → `(None, d1·…·dn)`.
///
/// # Shapes
/// `(None, d1, ..., dn)` → `(None, d1·…·dn)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Flatten {}

impl LayerRules for Flatten {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        let n = input.elements()?;
        let n = usize::try_from(n).map_err(|_| Problem::Overflow {
            what: "flattened size",
        })?;
        Ok(Shape::new(vec![n]))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let per: usize = x.shape().iter().skip(1).product();
        batch_reshape(x, &[per])
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        let d = input.dims();
        let mut e = Explanation::new(
            "Flatten lays every non-batch value out in one vector (row-major); nothing is learned.",
        );
        e = if d.len() > 1 {
            e.step(format!(
                "{} = {}",
                dims_text(d),
                output.dims().first().copied().unwrap_or(0)
            ))
        } else {
            e.step("the input is already a vector, so nothing changes")
        };
        e.step(format!("{input} → {output}"))
    }
    fn settings(&self) -> String {
        "to a vector".into()
    }
}
plain_grad!(Flatten, |_, x, _w, _t, dy| {
    Ok(Grads::input(reshape_to(dy, x.shape())?))
});

/// `keras.layers.Reshape(target_shape)`; one entry may be `-1`.
///
/// # Shapes
/// `(None, d1, ..., dn)` → `(None, *target_shape)` with the same element count; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reshape {
    pub target_shape: Vec<i64>,
}

impl Default for Reshape {
    fn default() -> Self {
        Reshape {
            target_shape: vec![-1],
        }
    }
}

impl Reshape {
    fn resolve(&self, input: &Shape) -> Result<(Vec<usize>, Option<usize>), Problem> {
        let total = input.elements()?;
        let unknown: Vec<usize> = self
            .target_shape
            .iter()
            .enumerate()
            .filter(|(_, &d)| d == -1)
            .map(|(i, _)| i)
            .collect();
        if unknown.len() > 1 {
            return Err(Problem::config(
                "target_shape",
                format!("{:?} has more than one -1", self.target_shape),
            ));
        }
        if let Some(bad) = self.target_shape.iter().find(|&&d| d < -1 || d == 0) {
            return Err(Problem::config(
                "target_shape",
                format!("has an invalid dimension {bad}"),
            ));
        }
        let known = checked_product(
            self.target_shape
                .iter()
                .filter(|&&d| d > 0)
                .map(|&d| d as u64),
            "target size",
        )?;
        let mut out: Vec<usize> = self
            .target_shape
            .iter()
            .map(|&d| d.max(0) as usize)
            .collect();
        if let Some(&i) = unknown.first() {
            if known == 0 || total % known != 0 {
                return Err(Problem::ReshapeSize {
                    input: input.clone(),
                    values: total,
                    target: self.target_shape.clone(),
                    known,
                    with_unknown: true,
                });
            }
            out[i] = (total / known) as usize;
            Ok((out, Some(i)))
        } else {
            if known != total {
                return Err(Problem::ReshapeSize {
                    input: input.clone(),
                    values: total,
                    target: self.target_shape.clone(),
                    known,
                    with_unknown: false,
                });
            }
            Ok((out, None))
        }
    }
}

impl LayerRules for Reshape {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        Ok(Shape::new(self.resolve(input)?.0))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let input = Shape::new(x.shape().iter().skip(1).copied().collect());
        let (dims, _) = self.resolve(&input)?;
        batch_reshape(x, &dims)
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        let total = input.elements().unwrap_or(0);
        let mut e = Explanation::new("Reshape keeps every value and its order, and changes only how they are grouped; the element count must stay the same.")
            .step(format!("{} = {total} values", dims_text(input.dims())));
        if let Ok((d, Some(i))) = self.resolve(input) {
            let known: usize = d
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v)
                .product();
            e = e.step(format!("-1 becomes {total} / {known} = {}", d[i]));
        }
        e.step(format!("{input} → {output}"))
    }
    fn settings(&self) -> String {
        format!("to {:?}", self.target_shape)
    }
}
plain_grad!(Reshape, |_, x, _w, _t, dy| {
    Ok(Grads::input(reshape_to(dy, x.shape())?))
});

/// `keras.layers.Permute(dims)`; dims are 1-based and exclude the batch axis.
///
/// # Shapes
/// `(None, d1, ..., dn)` → `(None, d[dims[0]], ..., d[dims[n-1]])`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Permute {
    #[serde(deserialize_with = "de_ints")]
    pub dims: Vec<usize>,
}

impl Default for Permute {
    fn default() -> Self {
        Permute { dims: vec![2, 1] }
    }
}

impl LayerRules for Permute {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        let mut sorted = self.dims.clone();
        crate::engine::small_sort::sort(&mut sorted);
        if sorted != (1..=self.dims.len()).collect::<Vec<_>>() {
            return Err(Problem::config(
                "dims",
                format!(
                    "{:?} must be a permutation of 1..{}",
                    self.dims,
                    self.dims.len()
                ),
            ));
        }
        if self.dims.len() != input.rank() {
            return Err(Problem::PermuteRank {
                dims: self.dims.clone(),
                got: input.clone(),
            });
        }
        Ok(Shape::new(
            self.dims.iter().map(|&d| input.dims()[d - 1]).collect(),
        ))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let mut axes = vec![0];
        axes.extend(self.dims.iter().copied());
        if axes.len() != x.ndim() {
            return Err(Problem::layout("Permute dims do not match the input rank"));
        }
        Ok(x.clone()
            .permuted_axes(IxDyn(&axes))
            .as_standard_layout()
            .into_owned())
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        Explanation::new(
            "Permute reorders the non-batch axes (1-based): output axis i is input axis dims[i].",
        )
        .step(format!("dims {:?}: {input} → {output}", self.dims))
    }
    fn settings(&self) -> String {
        format!("dims {:?}", self.dims)
    }
}
plain_grad!(Permute, |layer, x, _w, _t, dy| {
    let mut axes = vec![0];
    axes.extend(layer.dims.iter().copied());
    if axes.len() != dy.ndim() || axes.iter().any(|&a| a >= axes.len()) {
        return Err(Problem::layout(
            "Permute dims do not match the gradient rank",
        ));
    }
    let mut inverse = vec![0; axes.len()];
    for (i, &a) in axes.iter().enumerate() {
        inverse[a] = i;
    }
    let dx = dy
        .clone()
        .permuted_axes(IxDyn(&inverse))
        .as_standard_layout()
        .into_owned();
    Ok(Grads::input(reshape_to(&dx, x.shape())?))
});

/// `keras.layers.RepeatVector(n)`: `(None, F)` → `(None, n, F)`.
///
/// # Shapes
/// `(None, F)` → `(None, n, F)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepeatVector {
    pub n: usize,
}

impl Default for RepeatVector {
    fn default() -> Self {
        RepeatVector { n: 3 }
    }
}

impl LayerRules for RepeatVector {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        if self.n == 0 {
            return Err(Problem::config("n", "must be a positive integer, got 0"));
        }
        if input.rank() != 1 {
            return Err(Problem::rank(
                RankNeed::exactly(2, "(batch, features)"),
                input,
            ));
        }
        Ok(Shape::new(vec![self.n, input.dims()[0]]))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let x1 = x.clone().insert_axis(Axis(1));
        let mut shape = x1.shape().to_vec();
        shape[1] = self.n;
        x1.broadcast(IxDyn(&shape))
            .map(|v| v.to_owned())
            .ok_or_else(|| Problem::layout("RepeatVector broadcast"))
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        Explanation::new("RepeatVector copies the vector n times along a new time axis.")
            .step(format!("{input} → {output}"))
    }
    fn settings(&self) -> String {
        format!("× {}", self.n)
    }
}

fn need_rank(input: &Shape, rank: usize, what: &'static str) -> Result<(), Problem> {
    if input.rank() == rank {
        Ok(())
    } else {
        Err(Problem::rank(RankNeed::exactly(rank + 1, what), input))
    }
}

const SEQ: &str = "(batch, steps, channels)";
const IMG: &str = "(batch, height, width, channels)";

/// Pad spatial axes `1..=pads.len()` (after batch) with zeros.
fn zero_pad(x: &ArrayD<f32>, pads: &[[usize; 2]]) -> ArrayD<f32> {
    let mut shape = x.shape().to_vec();
    for (i, p) in pads.iter().enumerate() {
        shape[i + 1] += p[0] + p[1];
    }
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    let mut view = out.view_mut();
    for (i, p) in pads.iter().enumerate() {
        let n = x.shape()[i + 1];
        view.slice_axis_inplace(Axis(i + 1), Slice::from(p[0]..p[0] + n));
    }
    view.assign(x);
    out
}

fn crop(x: &ArrayD<f32>, crops: &[[usize; 2]]) -> ArrayD<f32> {
    let mut v = x.view();
    for (i, c) in crops.iter().enumerate() {
        let n = x.shape()[i + 1];
        v.slice_axis_inplace(
            Axis(i + 1),
            Slice::from(c[0]..n.saturating_sub(c[1]).max(c[0])),
        );
    }
    v.to_owned()
}

/// `n + before + after`, or [`Problem::Overflow`] (padding comes straight from the config).
fn padded(n: usize, p: [usize; 2]) -> Result<usize, Problem> {
    n.checked_add(p[0])
        .and_then(|v| v.checked_add(p[1]))
        .ok_or(Problem::Overflow {
            what: "padded length",
        })
}

/// One step per axis with borders: `axis: before + size + after = out` when they are
/// added (`grow`), `axis: size − before − after = out` when they are cut off.
fn border_steps(
    mut e: Explanation,
    names: &[&str],
    sides: &[[usize; 2]],
    (input, output): (&Shape, &Shape),
    grow: bool,
) -> Explanation {
    for (i, (name, [a, b])) in names.iter().zip(sides).enumerate() {
        let n = input.dims().get(i).copied().unwrap_or(0);
        let out = output.dims().get(i).copied().unwrap_or(0);
        e = e.step(if grow {
            format!("{name}: {a} + {n} + {b} = {out}")
        } else {
            format!("{name}: {n} − {a} − {b} = {out}")
        });
    }
    e
}

/// The borders of each spatial axis, `[before, after]`: one pair for the 1-D kinds, one per
/// axis for the 2-D ones.
trait Sides {
    fn sides(&self) -> &[[usize; 2]];
}

impl Sides for [usize; 2] {
    fn sides(&self) -> &[[usize; 2]] {
        std::slice::from_ref(self)
    }
}

impl Sides for [[usize; 2]; 2] {
    fn sides(&self) -> &[[usize; 2]] {
        self
    }
}

/// The spatial axes' names of a border layer over `rank` spatial axes.
fn border_names(rank: usize) -> &'static [&'static str] {
    if rank == 1 {
        &["steps"]
    } else {
        &["height", "width"]
    }
}

/// A border layer's output shape: zeros added on each side (`grow`) or cells cut off.
fn border_shape(input: &Shape, sides: &[[usize; 2]], grow: bool) -> Result<Shape, Problem> {
    let rank = sides.len();
    need_rank(input, rank + 1, if rank == 1 { SEQ } else { IMG })?;
    let d = input.dims();
    let names = border_names(rank);
    let mut out = Vec::with_capacity(rank + 1);
    for (i, &side) in sides.iter().enumerate() {
        // Checked: a config may give any u64 padding (fuzz: zero_padding1d_huge_padding).
        out.push(if grow {
            padded(d[i], side)?
        } else {
            cropped(d[i], side, names[i])?
        });
    }
    out.push(d[rank]);
    Ok(Shape::new(out))
}

/// Zeros added around the spatial axes (`grow`), or the borders cut off.
fn border_apply(x: &ArrayD<f32>, sides: &[[usize; 2]], grow: bool) -> ArrayD<f32> {
    if grow {
        zero_pad(x, sides)
    } else {
        crop(x, sides)
    }
}

/// `LayerRules` and `LayerGrad` for a padding (`grow`) or cropping kind whose borders are
/// the field `$sides`; the gradient runs through the opposite border operation.
macro_rules! border_layer {
    ($kind:ident, $sides:ident, $grow:expr, $intro:expr) => {
        impl LayerRules for $kind {
            fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
                border_shape(input, self.$sides.sides(), $grow)
            }
            fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
                Ok(border_apply(x, self.$sides.sides(), $grow))
            }
            fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
                let sides = self.$sides.sides();
                let names = border_names(sides.len());
                let e = Explanation::new($intro);
                border_steps(e, names, sides, (input, output), $grow)
            }
            fn settings(&self) -> String {
                let verb = if $grow { "pad" } else { "crop" };
                format!("{verb} {:?}", self.$sides)
            }
        }
        plain_grad!($kind, |layer, x, _w, _t, dy| {
            let dx = border_apply(dy, layer.$sides.sides(), !$grow);
            Ok(Grads::input(reshape_to(&dx, x.shape())?))
        });
    };
}

/// `keras.layers.ZeroPadding1D(padding=1)`.
///
/// # Shapes
/// `(None, steps, C)` → `(None, before + steps + after, C)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZeroPadding1D {
    #[serde(deserialize_with = "de_pairs1")]
    pub padding: [usize; 2],
}

impl Default for ZeroPadding1D {
    fn default() -> Self {
        ZeroPadding1D { padding: [1, 1] }
    }
}

border_layer!(
    ZeroPadding1D,
    padding,
    true,
    "ZeroPadding1D adds zeros before and after the steps axis."
);

/// `keras.layers.ZeroPadding2D(padding=(1, 1))`.
///
/// # Shapes
/// `(None, H, W, C)` → `(None, top + H + bottom, left + W + right, C)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZeroPadding2D {
    #[serde(deserialize_with = "de_pairs2")]
    pub padding: [[usize; 2]; 2],
}

impl Default for ZeroPadding2D {
    fn default() -> Self {
        ZeroPadding2D {
            padding: [[1, 1], [1, 1]],
        }
    }
}

border_layer!(
    ZeroPadding2D,
    padding,
    true,
    "ZeroPadding2D adds rows and columns of zeros around each image."
);

/// `keras.layers.Cropping1D(cropping=(1, 1))`.
///
/// # Shapes
/// `(None, steps, C)` → `(None, steps − before − after, C)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cropping1D {
    #[serde(deserialize_with = "de_pairs1")]
    pub cropping: [usize; 2],
}

impl Default for Cropping1D {
    fn default() -> Self {
        Cropping1D { cropping: [1, 1] }
    }
}

fn cropped(n: usize, c: [usize; 2], axis: &'static str) -> Result<usize, Problem> {
    let total = c[0].saturating_add(c[1]);
    if total >= n {
        return Err(Problem::Cropped {
            axis,
            before: c[0],
            after: c[1],
            n,
        });
    }
    Ok(n - total)
}

border_layer!(
    Cropping1D,
    cropping,
    false,
    "Cropping1D removes steps from the start and the end."
);

/// `keras.layers.Cropping2D(cropping=((0, 0), (0, 0)))`.
///
/// # Shapes
/// `(None, H, W, C)` → `(None, H − top − bottom, W − left − right, C)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Cropping2D {
    #[serde(deserialize_with = "de_pairs2")]
    pub cropping: [[usize; 2]; 2],
}

border_layer!(
    Cropping2D,
    cropping,
    false,
    "Cropping2D removes rows and columns at the borders of each image."
);

/// `keras.layers.UpSampling1D(size=2)`: repeats each step.
///
/// # Shapes
/// `(None, steps, C)` → `(None, steps·size, C)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpSampling1D {
    pub size: usize,
}

impl Default for UpSampling1D {
    fn default() -> Self {
        UpSampling1D { size: 2 }
    }
}

fn repeat_axis(x: &ArrayD<f32>, axis: usize, k: usize) -> ArrayD<f32> {
    let mut shape = x.shape().to_vec();
    let n = shape[axis];
    shape[axis] = n * k;
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    for i in 0..n * k {
        out.index_axis_mut(Axis(axis), i)
            .assign(&x.index_axis(Axis(axis), i / k));
    }
    out
}

impl LayerRules for UpSampling1D {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        need_rank(input, 2, SEQ)?;
        if self.size == 0 {
            return Err(Problem::config("size", "must be a positive integer, got 0"));
        }
        let d = input.dims();
        let n = d[0].checked_mul(self.size).ok_or(Problem::Overflow {
            what: "upsampled length",
        })?;
        Ok(Shape::new(vec![n, d[1]]))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        Ok(repeat_axis(x, 1, self.size))
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        Explanation::new("UpSampling1D repeats every step `size` times.").step(format!(
            "steps: {} × {} = {}",
            input.dims().first().unwrap_or(&0),
            self.size,
            output.dims().first().unwrap_or(&0)
        ))
    }
    fn settings(&self) -> String {
        format!("× {}", self.size)
    }
}

/// `UpSampling2D` interpolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    #[default]
    Nearest,
    Bilinear,
}

/// `keras.layers.UpSampling2D(size=(2, 2), interpolation="nearest")`.
///
/// # Shapes
/// `(None, H, W, C)` → `(None, H·size[0], W·size[1], C)`; no weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpSampling2D {
    #[serde(deserialize_with = "de_ints")]
    pub size: Vec<usize>,
    pub interpolation: Interpolation,
}

impl Default for UpSampling2D {
    fn default() -> Self {
        UpSampling2D {
            size: vec![2, 2],
            interpolation: Interpolation::Nearest,
        }
    }
}

/// Half-pixel-centre linear resize along one axis (jax.image.resize "linear" when
/// upsampling).
fn linear_axis(x: &ArrayD<f32>, axis: usize, k: usize) -> ArrayD<f32> {
    let mut shape = x.shape().to_vec();
    let n = shape[axis];
    shape[axis] = n * k;
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    for i in 0..n * k {
        let src = ((i as f64 + 0.5) / k as f64 - 0.5).clamp(0.0, (n.max(1) - 1) as f64);
        let i0 = src.floor() as usize;
        let i1 = (i0 + 1).min(n - 1);
        let t = (src - i0 as f64) as f32;
        let a = x.index_axis(Axis(axis), i0);
        let b = x.index_axis(Axis(axis), i1);
        let mut o = out.index_axis_mut(Axis(axis), i);
        ndarray::Zip::from(&mut o)
            .and(&a)
            .and(&b)
            .for_each(|o, &a, &b| *o = a * (1.0 - t) + b * t);
    }
    out
}

impl LayerRules for UpSampling2D {
    fn output_shape(&self, input: &Shape) -> Result<Shape, Problem> {
        need_rank(input, 3, IMG)?;
        let s = expand(&self.size, 2, "size")?;
        positive(&s, "size")?;
        let d = input.dims();
        let ovf = Problem::Overflow {
            what: "upsampled size",
        };
        Ok(Shape::new(vec![
            d[0].checked_mul(s[0]).ok_or(ovf.clone())?,
            d[1].checked_mul(s[1]).ok_or(ovf)?,
            d[2],
        ]))
    }
    fn forward(&self, x: &ArrayD<f32>, _w: &[ArrayD<f32>]) -> Result<ArrayD<f32>, Problem> {
        let s = expand(&self.size, 2, "size")?;
        Ok(match self.interpolation {
            Interpolation::Nearest => repeat_axis(&repeat_axis(x, 1, s[0]), 2, s[1]),
            Interpolation::Bilinear => linear_axis(&linear_axis(x, 1, s[0]), 2, s[1]),
        })
    }
    fn explain(&self, input: &Shape, output: &Shape) -> Explanation {
        let s = expand(&self.size, 2, "size").unwrap_or_default();
        let (i, o) = (input.dims(), output.dims());
        Explanation::new("UpSampling2D enlarges each image by an integer factor per axis.")
            .step(format!(
                "height: {} × {} = {}",
                i.first().unwrap_or(&0),
                s.first().unwrap_or(&0),
                o.first().unwrap_or(&0)
            ))
            .step(format!(
                "width: {} × {} = {}",
                i.get(1).unwrap_or(&0),
                s.get(1).unwrap_or(&0),
                o.get(1).unwrap_or(&0)
            ))
    }
    fn settings(&self) -> String {
        format!("× {:?}", self.size)
    }
}

// ---------------------------------------------------------------------------------------
// As code
// ---------------------------------------------------------------------------------------

impl KerasTable for Flatten {
    const ARGS: KerasArgs = KerasArgs::positional(&["data_format"]);
}

impl LayerCode for Flatten {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        t.push("nn.Flatten(),");
    }
}

impl KerasTable for Reshape {
    const ARGS: KerasArgs = KerasArgs::with_required(&["target_shape"], &["target_shape"]);
}

impl LayerCode for Reshape {
    fn torch(&self, t: &mut Torch, _inp: &[usize], out: &[usize]) {
        t.make_channels_last();
        let dims = out
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        t.lambda(&format!("x.reshape(x.shape[0], {dims})"), "Reshape");
    }
}

impl KerasTable for Permute {
    const ARGS: KerasArgs = KerasArgs::with_required(&["dims"], &["dims"]);
}

impl LayerCode for Permute {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        t.permute(&self.dims, "Permute (Keras dims are 1-based)");
    }
}

impl KerasTable for RepeatVector {
    const ARGS: KerasArgs = KerasArgs::with_required(&["n"], &["n"]);
}

impl LayerCode for RepeatVector {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_last();
        t.lambda(
            &format!("x.unsqueeze(1).expand(-1, {}, -1)", self.n),
            "RepeatVector",
        );
    }
}

impl KerasTable for ZeroPadding1D {
    const ARGS: KerasArgs = KerasArgs::positional(&["padding"]);
}

impl LayerCode for ZeroPadding1D {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        let [a, b] = self.padding;
        t.push(format!("nn.ConstantPad1d(({a}, {b}), 0.0),"));
    }
}

impl KerasTable for ZeroPadding2D {
    const ARGS: KerasArgs = KerasArgs::positional(&["padding", "data_format"]);
}

impl LayerCode for ZeroPadding2D {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        let [[top, bottom], [left, right]] = self.padding;
        t.push(format!("nn.ZeroPad2d(({left}, {right}, {top}, {bottom})),"));
    }
}

impl KerasTable for Cropping1D {
    const ARGS: KerasArgs = KerasArgs::positional(&["cropping"]);
}

impl LayerCode for Cropping1D {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        let [a, b] = self.cropping;
        let n = inp.first().copied().unwrap_or(0);
        t.lambda(
            &format!("x[:, :, {a}:{}]", n.saturating_sub(b)),
            "Cropping1D",
        );
    }
}

impl KerasTable for Cropping2D {
    const ARGS: KerasArgs = KerasArgs::positional(&["cropping", "data_format"]);
}

impl LayerCode for Cropping2D {
    fn torch(&self, t: &mut Torch, inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        let [[top, bottom], [left, right]] = self.cropping;
        let (h, w) = (
            inp.first().copied().unwrap_or(0),
            inp.get(1).copied().unwrap_or(0),
        );
        t.lambda(
            &format!(
                "x[:, :, {top}:{}, {left}:{}]",
                h.saturating_sub(bottom),
                w.saturating_sub(right)
            ),
            "Cropping2D",
        );
    }
}

impl KerasTable for UpSampling1D {
    const ARGS: KerasArgs = KerasArgs::positional(&["size"]);
}

impl LayerCode for UpSampling1D {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        t.push(format!(
            "nn.Upsample(scale_factor={}, mode=\"nearest\"),",
            self.size
        ));
    }
}

impl KerasTable for UpSampling2D {
    const ARGS: KerasArgs = KerasArgs::positional(&["size", "data_format", "interpolation"]);
}

impl LayerCode for UpSampling2D {
    fn torch(&self, t: &mut Torch, _inp: &[usize], _out: &[usize]) {
        t.make_channels_first();
        let s = ints(&self.size, 2, 2);
        let mode = match self.interpolation {
            Interpolation::Bilinear => "bilinear",
            Interpolation::Nearest => "nearest",
        };
        t.push(format!(
            "nn.Upsample(scale_factor=({}, {}), mode=\"{mode}\"),",
            s[0], s[1]
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Training: kinds without a backward pass yet
// ---------------------------------------------------------------------------------------

/// Sum each run of `k` consecutive entries along `axis` (the adjoint of [`repeat_axis`]).
fn fold_axis(dy: &ArrayD<f32>, axis: usize, k: usize) -> ArrayD<f32> {
    let mut shape = dy.shape().to_vec();
    let k = k.max(1);
    shape[axis] /= k;
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    for i in 0..shape[axis] * k {
        let mut o = out.index_axis_mut(Axis(axis), i / k);
        o += &dy.index_axis(Axis(axis), i);
    }
    out
}

plain_grad!(RepeatVector, |_, x, _w, _t, dy| {
    if dy.ndim() != 3 {
        return Err(Problem::layout(
            "RepeatVector gradient must be (batch, n, features)",
        ));
    }
    Ok(Grads::input(reshape_to(&dy.sum_axis(Axis(1)), x.shape())?))
});

plain_grad!(UpSampling1D, |layer, x, _w, _t, dy| {
    if dy.ndim() != 3 {
        return Err(Problem::layout(
            "UpSampling1D gradient must be (batch, steps, channels)",
        ));
    }
    Ok(Grads::input(reshape_to(
        &fold_axis(dy, 1, layer.size),
        x.shape(),
    )?))
});

// Nearest-neighbour upsampling only: bilinear has no backward pass yet.
layer_grad!(
    UpSampling2D,
    |layer, x, w, _rng| {
        match layer.interpolation {
            Interpolation::Nearest => Ok(Trace::plain(layer.forward(x, w)?)),
            Interpolation::Bilinear => Err(Problem::NotTrainable),
        }
    },
    |layer, x, _w, _t, dy| {
        if layer.interpolation != Interpolation::Nearest {
            return Err(Problem::NotTrainable);
        }
        let s = expand(&layer.size, 2, "size")?;
        if dy.ndim() != 4 {
            return Err(Problem::layout(
                "UpSampling2D gradient must be (batch, height, width, channels)",
            ));
        }
        Ok(Grads::input(reshape_to(
            &fold_axis(&fold_axis(dy, 1, s[0]), 2, s[1]),
            x.shape(),
        )?))
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_table() {
        let f = Flatten {};
        assert_eq!(
            f.output_shape(&Shape::new(vec![3, 16])),
            Ok(Shape::new(vec![48]))
        );
        assert_eq!(
            f.output_shape(&Shape::new(vec![10, 64])),
            Ok(Shape::new(vec![640]))
        );
        assert_eq!(
            f.output_shape(&Shape::new(vec![1, 15, 32])),
            Ok(Shape::new(vec![480]))
        );
    }

    #[test]
    fn reshape_rules() {
        let r = Reshape {
            target_shape: vec![-1, 4],
        };
        assert_eq!(
            r.output_shape(&Shape::new(vec![3, 8])),
            Ok(Shape::new(vec![6, 4]))
        );
        let r = Reshape {
            target_shape: vec![-1, -1],
        };
        assert!(r.output_shape(&Shape::new(vec![3, 8])).is_err());
        let r = Reshape {
            target_shape: vec![5],
        };
        assert!(r.output_shape(&Shape::new(vec![3, 8])).is_err());
    }

    #[test]
    fn bilinear_upsample_matches_half_pixel() {
        let x = ndarray::Array::from_shape_vec((1, 2, 1, 1), vec![0.0f32, 1.0])
            .unwrap()
            .into_dyn();
        let y = linear_axis(&x, 1, 2);
        let v: Vec<f32> = y.iter().copied().collect();
        assert_eq!(v, vec![0.0, 0.25, 0.75, 1.0]);
    }
}
