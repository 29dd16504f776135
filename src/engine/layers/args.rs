//! Shared argument types and helpers: Keras's int-or-tuple arguments, padding modes and
//! class-name aliases. The per-axis window arithmetic is in [`super::window`].

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
///
/// # Errors
/// The deserializer's error for a negative, fractional or non-number value.
pub fn de_ints<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::Array(items) => items.iter().map(as_usize::<D::Error>).collect(),
        _ => Ok(vec![as_usize::<D::Error>(&v)?]),
    }
}

/// Like [`de_ints`] but `null` means "not given".
///
/// # Errors
/// As [`de_ints`].
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
///
/// # Errors
/// `E::custom` for a value of another form or the wrong number of axes.
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

/// One axis of [`pairs_from_value`] (`ZeroPadding1D`, `Cropping1D`).
///
/// # Errors
/// As [`pairs_from_value`].
pub fn de_pairs1<'de, D: Deserializer<'de>>(d: D) -> Result<[usize; 2], D::Error> {
    let v = Value::deserialize(d)?;
    let p = pairs_from_value::<D::Error>(&v, 1)?;
    p.first().copied().ok_or_else(|| D::Error::custom("empty"))
}

/// Two axes of [`pairs_from_value`] (`ZeroPadding2D`, `Cropping2D`).
///
/// # Errors
/// As [`pairs_from_value`].
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

#[cfg(test)]
mod tests {
    use super::*;

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
