//! Shared argument types and helpers: Keras's int-or-tuple arguments, padding modes,
//! class-name aliases, and the per-axis window arithmetic used by convolution and pooling
//! (one function computes both the length and the explanation, so they cannot disagree).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::engine::error::Problem;

/// Keras `padding` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    #[default]
    Valid,
    Same,
    Causal,
}

impl Padding {
    pub fn as_str(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
            Padding::Causal => "causal",
        }
    }
}

/// Keras aliases of class names (Keras 3 accepts these when deserialising).
pub fn canonical_class(class_name: &str) -> &str {
    match class_name {
        "Convolution1D" => "Conv1D",
        "Convolution2D" => "Conv2D",
        "Convolution1DTranspose" => "Conv1DTranspose",
        "Convolution2DTranspose" | "Deconvolution2D" | "Deconv2D" => "Conv2DTranspose",
        "SeparableConvolution2D" => "SeparableConv2D",
        "MaxPool1D" => "MaxPooling1D",
        "MaxPool2D" => "MaxPooling2D",
        "AvgPool1D" => "AveragePooling1D",
        "AvgPool2D" => "AveragePooling2D",
        "GlobalAvgPool1D" => "GlobalAveragePooling1D",
        "GlobalAvgPool2D" => "GlobalAveragePooling2D",
        "GlobalMaxPool1D" => "GlobalMaxPooling1D",
        "GlobalMaxPool2D" => "GlobalMaxPooling2D",
        other => other,
    }
}

fn as_usize<E: serde::de::Error>(v: &Value) -> Result<usize, E> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|u| usize::try_from(u).ok())
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                    .map(|f| f as usize)
            })
            .ok_or_else(|| E::custom(format!("expected a non-negative integer, got {n}"))),
        other => Err(E::custom(format!(
            "expected a non-negative integer, got {other}"
        ))),
    }
}

/// An int or a list/tuple of ints (Keras `kernel_size=3` or `kernel_size=(3, 3)`).
/// An int is kept as a one-element list; [`expand`] broadcasts it to the rank.
pub fn de_ints<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Array(items) => items.iter().map(as_usize::<D::Error>).collect(),
        _ => Ok(vec![as_usize::<D::Error>(&v)?]),
    }
}

/// Like [`de_ints`] but `null` means "not given".
pub fn de_opt_ints<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<usize>>, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(as_usize::<D::Error>)
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Ok(Some(vec![as_usize::<D::Error>(&v)?])),
    }
}

/// Symmetric or asymmetric padding/cropping per spatial axis: `1`, `(1, 2)`, or
/// `((1, 2), (3, 4))`. Returns `[before, after]` per axis.
pub fn pairs_from_value<E: serde::de::Error>(v: &Value, axes: usize) -> Result<Vec<[usize; 2]>, E> {
    match v {
        Value::Number(_) => {
            let n = as_usize::<E>(v)?;
            Ok(vec![[n, n]; axes])
        }
        Value::Array(items) if axes == 1 => match items.as_slice() {
            [a] => {
                let n = as_usize::<E>(a)?;
                Ok(vec![[n, n]])
            }
            [a, b] => Ok(vec![[as_usize::<E>(a)?, as_usize::<E>(b)?]]),
            _ => Err(E::custom("expected an int or a pair of ints")),
        },
        Value::Array(items) if items.len() == axes => items
            .iter()
            .map(|it| match it {
                Value::Array(p) if p.len() == 2 => {
                    Ok([as_usize::<E>(&p[0])?, as_usize::<E>(&p[1])?])
                }
                Value::Number(_) => {
                    let n = as_usize::<E>(it)?;
                    Ok([n, n])
                }
                _ => Err(E::custom("expected an int or a pair of ints per axis")),
            })
            .collect(),
        _ => Err(E::custom(format!(
            "expected an int, {axes} ints or {axes} pairs"
        ))),
    }
}

pub fn de_pairs1<'de, D: Deserializer<'de>>(d: D) -> Result<[usize; 2], D::Error> {
    let v = Value::deserialize(d)?;
    let p = pairs_from_value::<D::Error>(&v, 1)?;
    p.first().copied().ok_or_else(|| D::Error::custom("empty"))
}

pub fn de_pairs2<'de, D: Deserializer<'de>>(d: D) -> Result<[[usize; 2]; 2], D::Error> {
    let v = Value::deserialize(d)?;
    let p = pairs_from_value::<D::Error>(&v, 2)?;
    match p.as_slice() {
        [a, b] => Ok([*a, *b]),
        _ => Err(D::Error::custom("expected 2 axes")),
    }
}

/// Broadcast an int-or-tuple argument to `rank` values.
///
/// # Errors
/// [`Problem::Config`] when the tuple has the wrong length.
pub fn expand(v: &[usize], rank: usize, field: &'static str) -> Result<Vec<usize>, Problem> {
    match v.len() {
        1 => Ok(vec![v[0]; rank]),
        n if n == rank => Ok(v.to_vec()),
        n => Err(Problem::config(
            field,
            format!("should have {rank} value(s) but has {n}"),
        )),
    }
}

/// Require every value positive.
///
/// # Errors
/// [`Problem::Config`].
pub fn positive(v: &[usize], field: &'static str) -> Result<(), Problem> {
    if v.contains(&0) {
        Err(Problem::config(
            field,
            format!("must be positive, got {v:?}"),
        ))
    } else {
        Ok(())
    }
}

/// Result of the per-axis window arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisCalc {
    pub out: usize,
    /// e.g. `⌊(15 − 1)/1⌋ + 1 = 15`
    pub formula: String,
}

/// Output length of a sliding window (convolution or pooling) along one axis, Keras 3's
/// `compute_conv_output_shape` / `compute_pooling_output_shape`: valid
/// `⌊(n − d(k−1) − 1)/s⌋ + 1` (refused when zero or negative, as the backend does); same/causal `⌊(n − 1)/s⌋ + 1`.
///
/// # Errors
/// [`Problem::Geometry`] when the window does not fit (negative length).
pub fn window_len(
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    padding: Padding,
) -> Result<AxisCalc, Problem> {
    let out = window_fit(n, k, s, d, padding);
    let s = s.max(1);
    match padding {
        Padding::Valid => {
            let span = dilated_span(k, d);
            let Some(out) = out else {
                let would = (n as i128 - span as i128).div_euclid(s as i128) + 1;
                return Err(Problem::geometry(format!(
                    "window {span} is larger than the input {n} (valid padding): the output length would be {would}"
                )));
            };
            let dil = if d > 1 {
                format!("{d}·({k} − 1) + 1 = {span}")
            } else {
                format!("{k}")
            };
            Ok(AxisCalc {
                out,
                formula: format!("⌊({n} − {dil})/{s}⌋ + 1 = {out}"),
            })
        }
        Padding::Same | Padding::Causal => {
            let out = out.unwrap_or(0);
            Ok(AxisCalc {
                out,
                formula: format!("⌈{n}/{s}⌉ = {out}"),
            })
        }
    }
}

/// The dilated window extent `d·(k − 1) + 1` (saturating).
fn dilated_span(k: usize, d: usize) -> usize {
    d.saturating_mul(k.saturating_sub(1)).saturating_add(1)
}

/// [`window_len`]'s output length, `None` when a valid window does not fit: the one place
/// the arithmetic lives.
fn window_fit(n: usize, k: usize, s: usize, d: usize, padding: Padding) -> Option<usize> {
    let s = s.max(1);
    match padding {
        Padding::Valid => {
            let span = dilated_span(k, d);
            (span <= n).then(|| (n - span) / s + 1)
        }
        Padding::Same | Padding::Causal => Some(if n == 0 { 0 } else { (n - 1) / s + 1 }),
    }
}

/// [`window_len`]'s output length without building its formula text: the forward pass runs
/// this on every call (convolutions and pooling), where formatting the formula was ~1.5% of
/// a small CNN's forward time in wasm (BENCHMARKS.md §2.4). A refusal carries
/// `window_len`'s message.
///
/// # Errors
/// As [`window_len`].
pub fn window_out(
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    padding: Padding,
) -> Result<usize, Problem> {
    match window_fit(n, k, s, d, padding) {
        Some(out) => Ok(out),
        None => window_len(n, k, s, d, padding).map(|a| a.out),
    }
}

/// Pooling window length: valid `⌊(n − p)/s⌋ + 1`, same `⌈n/s⌉`.
///
/// # Errors
/// [`Problem::Geometry`] when the pool does not fit.
pub fn pool_len(n: usize, p: usize, s: usize, padding: Padding) -> Result<AxisCalc, Problem> {
    window_len(n, p, s, 1, padding)
}

/// Transposed convolution output length (Keras `_get_output_shape_given_tf_padding`).
pub fn transpose_len(
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> Result<AxisCalc, Problem> {
    let kd = k
        .checked_sub(1)
        .and_then(|x| x.checked_mul(d))
        .and_then(|x| x.checked_add(1))
        .ok_or(Problem::Overflow {
            what: "dilated kernel",
        })?;
    let ovf = Problem::Overflow {
        what: "output length",
    };
    let nm1 = n.saturating_sub(1);
    let (out, formula) = match (padding, output_padding) {
        (Padding::Same, None) => {
            let out = n.checked_mul(s).ok_or(ovf)?;
            (out, format!("{n} × {s} = {out}"))
        }
        (Padding::Same, Some(op)) => {
            let out = nm1
                .checked_mul(s)
                .and_then(|x| x.checked_add(kd))
                .and_then(|x| x.checked_add(op))
                .and_then(|x| x.checked_sub(2 * (kd / 2)))
                .ok_or(ovf)?;
            (
                out,
                format!("({n} − 1) × {s} + {kd} − 2·⌊{kd}/2⌋ + {op} = {out}"),
            )
        }
        (_, op) => {
            let op = op.unwrap_or(kd.max(s) - kd);
            let out = nm1
                .checked_mul(s)
                .and_then(|x| x.checked_add(kd))
                .and_then(|x| x.checked_add(op))
                .ok_or(ovf)?;
            (out, format!("({n} − 1) × {s} + {kd} + {op} = {out}"))
        }
    };
    Ok(AxisCalc { out, formula })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_table() {
        // (n, k, s, d, padding) -> out
        let table = [
            (15, 1, 1, 1, Padding::Valid, 15),
            (2, 2, 1, 1, Padding::Valid, 1),
            (28, 3, 1, 1, Padding::Valid, 26),
            (26, 2, 2, 1, Padding::Valid, 13),
            (10, 3, 1, 2, Padding::Valid, 6),
            (7, 3, 2, 1, Padding::Same, 4),
            (7, 3, 1, 1, Padding::Causal, 7),
        ];
        for (n, k, s, d, p, out) in table {
            assert_eq!(
                window_len(n, k, s, d, p).map(|a| a.out),
                Ok(out),
                "{n} {k} {s} {d} {p:?}"
            );
        }
        assert!(window_len(1, 3, 1, 1, Padding::Valid).is_err());
        // Keras refuses a zero-length output too.
        assert!(window_len(2, 3, 1, 1, Padding::Valid).is_err());
    }

    #[test]
    fn formula_shows_numbers() {
        assert_eq!(
            window_len(15, 1, 1, 1, Padding::Valid).map(|a| a.formula),
            Ok("⌊(15 − 1)/1⌋ + 1 = 15".to_string())
        );
    }

    #[test]
    fn transpose_table() {
        assert_eq!(
            transpose_len(5, 3, 2, 1, Padding::Valid, None).map(|a| a.out),
            Ok(11)
        );
        assert_eq!(
            transpose_len(5, 3, 2, 1, Padding::Same, None).map(|a| a.out),
            Ok(10)
        );
        assert_eq!(
            transpose_len(5, 3, 1, 1, Padding::Valid, None).map(|a| a.out),
            Ok(7)
        );
        assert_eq!(
            transpose_len(5, 3, 2, 1, Padding::Valid, Some(1)).map(|a| a.out),
            Ok(12)
        );
    }

    #[test]
    fn pairs_forms() {
        let v: Value = serde_json::json!([[1, 2], [3, 4]]);
        assert_eq!(
            pairs_from_value::<serde_json::Error>(&v, 2).ok(),
            Some(vec![[1, 2], [3, 4]])
        );
        let v: Value = serde_json::json!([1, 2]);
        assert_eq!(
            pairs_from_value::<serde_json::Error>(&v, 2).ok(),
            Some(vec![[1, 1], [2, 2]])
        );
        assert_eq!(
            pairs_from_value::<serde_json::Error>(&v, 1).ok(),
            Some(vec![[1, 2]])
        );
    }
}

/// Spatial rank as a type (serde's derive does not support const generics).
pub trait Rank: Clone + Copy + std::fmt::Debug + PartialEq + Default + 'static {
    const N: usize;
}
/// One spatial axis (steps).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct R1;
/// Two spatial axes (height, width).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct R2;
impl Rank for R1 {
    const N: usize = 1;
}
impl Rank for R2 {
    const N: usize = 2;
}

/// Pooling reduction as a type.
pub trait Reduce: Clone + Copy + std::fmt::Debug + PartialEq + Default + 'static {
    const MAX: bool;
}
/// Max pooling.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MaxOp;
/// Average pooling.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AvgOp;
impl Reduce for MaxOp {
    const MAX: bool = true;
}
impl Reduce for AvgOp {
    const MAX: bool = false;
}
