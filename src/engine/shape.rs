//! `Shape`: the non-batch dimensions of a tensor, displayed the way Keras prints
//! output shapes, with the batch axis as `None`: `(None, 3, 16)`.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::Problem;

/// Non-batch dimensions of a symbolic tensor. The batch axis is implicit (`None`).
///
/// ```
/// use flatland::engine::Shape;
/// assert_eq!(Shape::new(vec![3, 16]).to_string(), "(None, 3, 16)");
/// assert_eq!(Shape::new(vec![48]).to_string(), "(None, 48)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Shape(Vec<usize>);

impl Shape {
    pub fn new(dims: Vec<usize>) -> Self {
        Shape(dims)
    }
    /// Non-batch dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    /// Number of non-batch dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    /// Rank including the batch axis, as Keras counts `ndim`.
    pub fn ndim(&self) -> usize {
        self.0.len() + 1
    }
    pub fn last(&self) -> Option<usize> {
        self.0.last().copied()
    }
    /// Elements per sample, checked.
    ///
    /// # Errors
    /// [`Problem::Overflow`] when the product does not fit in `u64`.
    pub fn elements(&self) -> Result<u64, Problem> {
        checked_product(self.0.iter().map(|&d| d as u64), "elements per sample")
    }
    /// Same shape with the last dimension replaced.
    #[must_use]
    pub fn with_last(&self, last: usize) -> Shape {
        let mut d = self.0.clone();
        if let Some(l) = d.last_mut() {
            *l = last;
        }
        Shape(d)
    }
    /// Dims with a leading batch axis as JSON-ish values (`None` first).
    pub fn keras_list(&self) -> Vec<Option<usize>> {
        std::iter::once(None)
            .chain(self.0.iter().map(|&d| Some(d)))
            .collect()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(None")?;
        if self.0.is_empty() {
            return write!(f, ",)");
        }
        for d in &self.0 {
            write!(f, ", {d}")?;
        }
        write!(f, ")")
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape(v)
    }
}

/// `[3, 2]` → `(3, 2)`, `[784]` → `(784,)`: dimensions as a Python tuple (no batch axis).
pub fn tuple_text(dims: &[usize]) -> String {
    match dims {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            dims.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Product of `u64`s that reports overflow instead of wrapping.
///
/// # Errors
/// [`Problem::Overflow`] naming `what`.
pub fn checked_product(
    it: impl IntoIterator<Item = u64>,
    what: &'static str,
) -> Result<u64, Problem> {
    it.into_iter()
        .try_fold(1u64, u64::checked_mul)
        .ok_or(Problem::Overflow { what })
}

/// Sum of `u64`s that reports overflow instead of wrapping.
///
/// # Errors
/// [`Problem::Overflow`] naming `what`.
pub fn checked_sum(it: impl IntoIterator<Item = u64>, what: &'static str) -> Result<u64, Problem> {
    it.into_iter()
        .try_fold(0u64, u64::checked_add)
        .ok_or(Problem::Overflow { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_keras() {
        assert_eq!(Shape::new(vec![3, 16]).to_string(), "(None, 3, 16)");
        assert_eq!(Shape::new(vec![1, 15, 32]).to_string(), "(None, 1, 15, 32)");
        assert_eq!(Shape::new(vec![]).to_string(), "(None,)");
    }

    #[test]
    fn overflow_is_reported() {
        let s = Shape::new(vec![usize::MAX, 4]);
        assert!(matches!(s.elements(), Err(Problem::Overflow { .. })));
        assert_eq!(Shape::new(vec![3, 2]).elements(), Ok(6));
    }
}
