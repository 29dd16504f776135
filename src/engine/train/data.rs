//! The Train panel's datasets: seeded built-in generators ([`builtin`], listed in [`BUILTIN`]),
//! the 8 × 8 handwritten digits compiled into the binary (`data/digits8x8.bin`, see
//! `data/README.md`), and the user's own data: a CSV table ([`parse_csv`] then
//! [`from_columns`]) or uploaded `NumPy` arrays ([`from_arrays`]). [`split`] holds out the last
//! part of a dataset for validation, as Keras's `validation_split` does.
//!
//! Every `x` is laid out as `(n, ...sample dims)`, where the sample dims are the model's input
//! shape without the batch axis. Class targets are integer labels `0..k` of shape `(n,)`
//! (what `sparse_categorical_crossentropy` takes); regression targets have shape `(n, 1)`.
//!
//! Pure Rust and panic-free on any input: the only randomness is [`Rng`], sizes are guarded
//! before anything is allocated, and every problem is a [`DataError`] that names the shapes
//! and what was expected.

use std::borrow::Cow;
use std::f64::consts::PI;

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::engine::rng::Rng;

/// At most this many samples from a generator.
pub const MAX_SAMPLES: usize = 100_000;
/// At most this many values per sample (the product of the sample dims) for a generator.
pub const MAX_SAMPLE_VALUES: usize = 100_000;
/// At most this many values in a generated `x` (samples × values per sample), and in a CSV table.
pub const MAX_VALUES: usize = 20_000_000;
/// At most this many data rows in a CSV file.
pub const MAX_CSV_ROWS: usize = 200_000;
/// At most this many columns in a CSV file.
pub const MAX_CSV_COLUMNS: usize = 1_000;
/// At most this many classes (labels `0..=999`).
pub const MAX_CLASSES: usize = 1_000;
/// The number of images in the built-in digits.
pub const DIGITS_COUNT: usize = 1_797;

/// What a dataset's targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `k` classes: integer labels `0..k` in a `y` of shape `(n,)`.
    Classes(usize),
    /// Numbers to predict: a `y` of shape `(n, 1)`.
    Regression,
}

/// Samples and their targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Shown to the learner (a built-in id, a file name).
    pub name: String,
    /// The inputs, `(n, ...sample dims)`.
    pub x: ArrayD<f32>,
    /// The targets: `(n,)` labels for [`Task::Classes`], `(n, 1)` for [`Task::Regression`].
    pub y: ArrayD<f32>,
    /// What `y` holds.
    pub task: Task,
}

/// A parsed CSV table, column-major.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csv {
    /// Column names: the header row's cells, or `column 1`, `column 2`, … when the file has no
    /// header row (or a header cell is empty).
    pub header: Vec<String>,
    /// One vector per column, all of the same length (the data rows).
    pub columns: Vec<Vec<f32>>,
}

/// Why a dataset could not be made, read or split.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// An id that is not in [`BUILTIN`].
    #[error("unknown dataset `{0}`; the built-in ones are {ids}", ids = builtin_ids())]
    Unknown(String),
    /// A generator asked for 0 or too many samples.
    #[error("a dataset needs between 1 and {MAX_SAMPLES} samples, got {n}")]
    SampleCount {
        /// Samples asked for.
        n: usize,
    },
    /// A generator asked for more values than the size guard allows.
    #[error(
        "{n} samples of input shape {} ({per_sample} values each) are too many for a dataset: \
         at most {MAX_SAMPLE_VALUES} values per sample and {MAX_VALUES} in all; use fewer \
         samples or a smaller input shape",
        shape_str(.sample_dims)
    )]
    TooLarge {
        /// Samples asked for.
        n: usize,
        /// The model's input shape (without the batch axis).
        sample_dims: Vec<usize>,
        /// Values per sample (saturated when it overflows).
        per_sample: u128,
    },
    /// `positions` or `per_position` with an input that is not positions × features.
    #[error(
        "`{id}` needs inputs like (3, 2): positions × features, with at least 2 positions; \
         got {}: set the model's input shape to (positions, features)",
        shape_str(.got)
    )]
    NeedsPositions {
        /// The dataset.
        id: &'static str,
        /// The model's input shape.
        got: Vec<usize>,
    },
    /// A dataset whose samples have a fixed size the model's input does not take.
    #[error(
        "`{id}` needs {needs}; the model's input shape is {} ({} values per sample)",
        shape_str(.got),
        product_str(.got)
    )]
    SampleSize {
        /// The dataset.
        id: &'static str,
        /// What it needs, e.g. `2 values per sample, like (2,) or (1, 2)`.
        needs: &'static str,
        /// The model's input shape.
        got: Vec<usize>,
    },
    /// An input shape with a 0 in it.
    #[error(
        "the model's input shape {} has a 0 in it: every dimension must be at least 1",
        shape_str(.0)
    )]
    ZeroDim(Vec<usize>),
    /// A validation fraction outside (0, 1).
    #[error("the validation fraction must be between 0 and 1 (both excluded), got {0}")]
    ValFraction(f64),
    /// A split that would leave the training or the validation part empty.
    #[error(
        "{n} samples with validation fraction {val_fraction} leave {train} for training and \
         {val} for validation; both need at least 1: use more samples or another fraction"
    )]
    SplitEmpty {
        /// Samples in the dataset.
        n: usize,
        /// The fraction asked for.
        val_fraction: f64,
        /// Training samples it would give.
        train: usize,
        /// Validation samples it would give.
        val: usize,
    },
    /// `x` or `y` without a sample axis (a single number).
    #[error("{0} is a single number; expected an array whose first axis is the samples")]
    NoSampleAxis(&'static str),
    /// `x` and `y` with different numbers of samples.
    #[error("x has {x_len} samples but y has {y_len}: they must have the same first dimension")]
    LengthMismatch {
        /// Samples in `x` (its first dimension).
        x_len: usize,
        /// Samples in `y`.
        y_len: usize,
    },
    /// No samples at all.
    #[error("the data have no samples")]
    Empty,
    /// NaN or infinity in the data.
    #[error(
        "{what} holds NaN or infinity at sample {sample}: remove or fill in missing values first"
    )]
    NotFinite {
        /// `x`, `y` or `column 3`.
        what: String,
        /// The sample, 1-based.
        sample: usize,
    },
    /// `x` whose per-sample size is not the model's.
    #[error(
        "x has shape {} ({} values per sample), but the model's input shape {} takes {} values \
         per sample: change the model's input shape or the data",
        shape_str(.x_shape),
        product_str(.x_shape.get(1..).unwrap_or_default()),
        shape_str(.sample_dims),
        product_str(.sample_dims)
    )]
    XShape {
        /// The array's shape.
        x_shape: Vec<usize>,
        /// The model's input shape.
        sample_dims: Vec<usize>,
    },
    /// `y` of shape `(n, k)`, k > 1: one-hot or several outputs.
    #[error(
        "y has shape {}: one-hot targets are not supported here; use integer labels of shape \
         (n,) instead (for example y.argmax(axis=1))",
        shape_str(.0)
    )]
    OneHot(Vec<usize>),
    /// `y` of any other unusable shape.
    #[error(
        "y has shape {}; expected integer labels of shape (n,) or numbers of shape (n,) or (n, 1)",
        shape_str(.0)
    )]
    YShape(Vec<usize>),
    /// A class label that is not a whole number ≥ 0.
    #[error(
        "class labels must be whole numbers 0, 1, 2, …, but sample {sample} has {value}; \
         treat the target as a number to predict (regression) instead"
    )]
    NotALabel {
        /// The sample, 1-based.
        sample: usize,
        /// Its label.
        value: f32,
    },
    /// A label too large.
    #[error(
        "the largest label is {largest}, which makes more than {MAX_CLASSES} classes; at most \
         {MAX_CLASSES} are supported (labels 0 to 999)"
    )]
    TooManyClasses {
        /// The largest label.
        largest: f32,
    },
    /// A table without columns.
    #[error("the table has no columns")]
    NoColumns,
    /// Table columns of different lengths.
    #[error("column {column} has {len} values but column 1 has {expected}: all columns must have the same length")]
    ColumnLengths {
        /// The column, 1-based.
        column: usize,
        /// Its length.
        len: usize,
        /// The first column's length.
        expected: usize,
    },
    /// A column index past the table.
    #[error("there is no column {} (index {index}): the table has {count} columns", index + 1)]
    ColumnIndex {
        /// The 0-based index asked for.
        index: usize,
        /// Columns in the table.
        count: usize,
    },
    /// No input columns chosen.
    #[error("choose at least one input (x) column")]
    NoInputColumns,
    /// The target column also chosen as an input.
    #[error(
        "column {} is both the target (y) and an input (x): the model would see the answer; \
         leave it out of the inputs",
        .0 + 1
    )]
    TargetIsInput(usize),
    /// Input columns that do not fill the model's input.
    #[error(
        "{count} input columns cannot fill the model's input shape {}, which takes {} values \
         per sample: choose {} columns or change the input shape",
        shape_str(.sample_dims),
        product_str(.sample_dims),
        product_str(.sample_dims)
    )]
    XColumnCount {
        /// Input columns chosen.
        count: usize,
        /// The model's input shape.
        sample_dims: Vec<usize>,
    },
    /// A CSV file without data rows.
    #[error("the CSV file has no data rows")]
    CsvEmpty,
    /// A CSV file with too many data rows.
    #[error("the CSV file has more than {max} data rows; use a smaller file")]
    CsvTooManyRows {
        /// The limit.
        max: usize,
    },
    /// A CSV file with too many columns.
    #[error("the CSV file has {columns} columns; at most {max} are supported")]
    CsvTooManyColumns {
        /// Columns in the first row.
        columns: usize,
        /// The limit.
        max: usize,
    },
    /// A CSV file with too many cells.
    #[error("the CSV file has more than {max} numbers (rows × columns); use a smaller file")]
    CsvTooManyCells {
        /// The limit.
        max: usize,
    },
    /// A CSV row with a different number of cells than the first.
    #[error("row {row} has {cells} cells but the first row has {expected}: every row needs the same number of cells")]
    CsvRagged {
        /// The row, 1-based as in the file.
        row: usize,
        /// Its cells.
        cells: usize,
        /// The first row's cells.
        expected: usize,
    },
    /// A CSV data cell that is not a number.
    #[error("row {row}, column {column}: `{cell}` is not a number")]
    CsvNotNumeric {
        /// The row, 1-based as in the file.
        row: usize,
        /// The column, 1-based.
        column: usize,
        /// The cell (at most 40 characters of it).
        cell: String,
    },
    /// An empty CSV data cell.
    #[error("row {row}, column {column} is empty: fill in or remove missing values")]
    CsvEmptyCell {
        /// The row, 1-based as in the file.
        row: usize,
        /// The column, 1-based.
        column: usize,
    },
    /// A CSV data cell that is NaN, infinite or too large for a 32-bit float.
    #[error("row {row}, column {column}: `{cell}` is NaN, infinite or too large; fill in or remove missing values")]
    CsvNotFinite {
        /// The row, 1-based as in the file.
        row: usize,
        /// The column, 1-based.
        column: usize,
        /// The cell (at most 40 characters of it).
        cell: String,
    },
    /// A quoted CSV cell without its closing quote.
    #[error("row {row}, column {column}: a quoted cell is never closed (a \" is missing)")]
    CsvUnclosedQuote {
        /// The row, 1-based as in the file.
        row: usize,
        /// The column, 1-based.
        column: usize,
    },
    /// Text after a quoted CSV cell's closing quote.
    #[error("row {row}, column {column}: unexpected text after a closing quote (write \"\" for a quote inside a quoted cell)")]
    CsvAfterQuote {
        /// The row, 1-based as in the file.
        row: usize,
        /// The column, 1-based.
        column: usize,
    },
    /// The built-in digits file is damaged (a build problem, never the learner's).
    #[error("the built-in digits data are damaged: {0}")]
    Digits(&'static str),
    /// The samples could not be laid out in the asked shape.
    #[error("could not lay out the data as {}: {message}", shape_str(.shape))]
    Layout {
        /// The shape asked for.
        shape: Vec<usize>,
        /// Why.
        message: String,
    },
}

/// The built-in datasets: id, label for a `<select>`, one-sentence description.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "positions",
        "Compare positions: is position 0 above position 2?",
        "Inputs are positions × features, like (3, 2), drawn uniformly from [-1, 1]; the label \
         is 1 when the mean of position 0's features is above the mean of position 2's (of the \
         last position when there are only 2), else 0, so a per-position Dense followed by \
         pooling cannot solve it while Flatten then Dense can.",
    ),
    (
        "per_position",
        "Any position high: is some position's first feature above t?",
        "Inputs are positions × features, like (3, 2), drawn uniformly from [-1, 1]; the label \
         is 1 when any position's first feature is above t = 2 · 0.5^(1/T) − 1 for T positions \
         (0.587 for 3 positions, which makes the two classes equally likely), else 0, so a \
         per-position Dense followed by max pooling can solve it.",
    ),
    (
        "noisy_sum",
        "Noisy sum of all positions (regression, few samples)",
        "Inputs are positions × features, like (20, 10), drawn uniformly from [-1, 1]; y is 2 \
         plus the sum of every value divided by the square root of their count, plus Gaussian \
         noise of standard deviation 0.5 (so y is almost always positive, which a ReLU output \
         such as seed 000's can reach). With a few hundred samples a large model can learn the \
         noise of the training part: its training loss falls while its validation loss does \
         not.",
    ),
    (
        "spiral",
        "Two spirals (2-D points)",
        "Two interleaved spirals of 1.75 turns in [-1, 1]², one per class, with a little \
         noise; needs 2 values per sample, like (2,).",
    ),
    (
        "xor",
        "XOR: which quadrant? (2-D points)",
        "Points uniform in [-1, 1]², kept 0.05 away from the axes, labelled 1 when x · y > 0 \
         (first and third quadrants) and 0 otherwise, with a little noise; needs 2 values per \
         sample, like (2,).",
    ),
    (
        "circles",
        "Circle inside a ring (2-D points)",
        "Class 1 lies in a disc of radius 0.45 around the origin and class 0 in a ring from \
         radius 0.6 to 0.9, with a little noise; needs 2 values per sample, like (2,).",
    ),
    (
        "gaussians",
        "Two Gaussian blobs (2-D points)",
        "Points from two Gaussian blobs of standard deviation 0.18, centred at (0.4, 0.4) for \
         class 1 and (-0.4, -0.4) for class 0; needs 2 values per sample, like (2,).",
    ),
    (
        "sine",
        "Sine wave (regression)",
        "Regression: x uniform in [-1, 1] and y = sin(π · x) plus Gaussian noise of standard \
         deviation 0.05; needs 1 value per sample, like (1,).",
    ),
    (
        "digits",
        "Handwritten digits, 8 × 8 (10 classes)",
        "The 1,797 handwritten digits of scikit-learn's load_digits (UCI, CC BY 4.0): 8 × 8 \
         pixels scaled to [0, 1], labels 0 to 9, at most 1,797 samples; needs 64 values per \
         sample, like (64,), (8, 8) or (8, 8, 1).",
    ),
];

/// The ids of [`BUILTIN`], for messages.
fn builtin_ids() -> String {
    BUILTIN
        .iter()
        .map(|(id, _, _)| *id)
        .collect::<Vec<_>>()
        .join(", ")
}

use crate::engine::shape::tuple_text as shape_str;

/// The product of `dims` as text (never overflows).
fn product_str(dims: &[usize]) -> String {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .map_or_else(|| "too many".to_string(), |p| p.to_string())
}

/// The number of values per sample, saturated (for messages).
fn saturated_product(dims: &[usize]) -> u128 {
    dims.iter().fold(1u128, |a, &d| a.saturating_mul(d as u128))
}

/// The generators' size guard; returns the values per sample.
fn check_size(sample_dims: &[usize], n: usize) -> Result<usize, DataError> {
    if n == 0 || n > MAX_SAMPLES {
        return Err(DataError::SampleCount { n });
    }
    let per = sample_dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d));
    match per {
        Some(p) if p <= MAX_SAMPLE_VALUES && p.checked_mul(n).is_some_and(|t| t <= MAX_VALUES) => {
            Ok(p)
        }
        _ => Err(DataError::TooLarge {
            n,
            sample_dims: sample_dims.to_vec(),
            per_sample: saturated_product(sample_dims),
        }),
    }
}

/// The values per sample of a user's input shape: no zeros, no overflow.
fn sample_size(sample_dims: &[usize]) -> Result<usize, DataError> {
    if sample_dims.contains(&0) {
        return Err(DataError::ZeroDim(sample_dims.to_vec()));
    }
    sample_dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| DataError::Layout {
            shape: sample_dims.to_vec(),
            message: "the shape has too many values".to_string(),
        })
}

/// `values` as an array of shape `(n, ...dims)`.
fn with_samples(n: usize, dims: &[usize], values: Vec<f32>) -> Result<ArrayD<f32>, DataError> {
    let mut shape = Vec::with_capacity(dims.len() + 1);
    shape.push(n);
    shape.extend_from_slice(dims);
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| DataError::Layout {
        shape,
        message: e.to_string(),
    })
}

/// `(n,)` class labels.
fn label_array(labels: Vec<f32>) -> Result<ArrayD<f32>, DataError> {
    let n = labels.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), labels).map_err(|e| DataError::Layout {
        shape: vec![n],
        message: e.to_string(),
    })
}

/// `(n, 1)` regression targets.
fn target_array(values: Vec<f32>) -> Result<ArrayD<f32>, DataError> {
    let n = values.len();
    ArrayD::from_shape_vec(IxDyn(&[n, 1]), values).map_err(|e| DataError::Layout {
        shape: vec![n, 1],
        message: e.to_string(),
    })
}

/// A built-in dataset (see [`BUILTIN`]) of `n` samples laid out as `(n, ...sample_dims)`,
/// the same for the same `seed` on every platform. `digits` ignores the seed and gives its
/// first `min(n, 1797)` images in the file's order.
///
/// # Errors
/// [`DataError::Unknown`] for an id not in [`BUILTIN`]; [`DataError::SampleCount`] unless
/// `1 <= n <= 100_000`; [`DataError::TooLarge`] past the size guard (100,000 values per sample,
/// 20,000,000 in all); [`DataError::NeedsPositions`] or [`DataError::SampleSize`] when the
/// input shape does not fit the dataset.
pub fn builtin(id: &str, sample_dims: &[usize], n: usize, seed: u64) -> Result<Dataset, DataError> {
    let Some(&(id, _, _)) = BUILTIN.iter().find(|entry| entry.0 == id) else {
        return Err(DataError::Unknown(id.to_string()));
    };
    let per = check_size(sample_dims, n)?;
    let mut rng = Rng::new(seed);
    let needs = |needs: &'static str| DataError::SampleSize {
        id,
        needs,
        got: sample_dims.to_vec(),
    };
    const TWO: &str = "2 values per sample, like (2,), (1, 2) or (2, 1)";
    let (n, x, y, task) = match id {
        "positions" | "per_position" => {
            let (t, f) = positions_shape(id, sample_dims)?;
            let (x, y) = gen_positions(&mut rng, n, t, f, id == "per_position");
            (n, x, label_array(y)?, Task::Classes(2))
        }
        "noisy_sum" => {
            let (t, f) = positions_shape(id, sample_dims)?;
            let (x, y) = gen_noisy_sum(&mut rng, n, t * f);
            (n, x, target_array(y)?, Task::Regression)
        }
        "spiral" | "xor" | "circles" | "gaussians" => {
            if per != 2 {
                return Err(needs(TWO));
            }
            let (x, y) = gen_2d(&mut rng, n, id);
            (n, x, label_array(y)?, Task::Classes(2))
        }
        "sine" => {
            if per != 1 {
                return Err(needs("1 value per sample, like (1,)"));
            }
            let (x, y) = gen_sine(&mut rng, n);
            (n, x, target_array(y)?, Task::Regression)
        }
        _ => {
            if per != 64 {
                return Err(needs(
                    "64 values per sample (8 × 8 pixels), like (64,), (8, 8) or (8, 8, 1)",
                ));
            }
            let (labels, pixels) = decode_digits(DIGITS)?;
            let n = n.min(labels.len());
            let x = pixels
                .iter()
                .take(n * 64)
                .map(|&p| f32::from(p) / 16.0)
                .collect();
            let y = labels.iter().take(n).map(|&l| f32::from(l)).collect();
            (n, x, label_array(y)?, Task::Classes(10))
        }
    };
    Ok(Dataset {
        name: id.to_string(),
        x: with_samples(n, sample_dims, x)?,
        y,
        task,
    })
}

/// `(positions, features per position)` for `positions` and `per_position`.
fn positions_shape(id: &'static str, sample_dims: &[usize]) -> Result<(usize, usize), DataError> {
    let err = || DataError::NeedsPositions {
        id,
        got: sample_dims.to_vec(),
    };
    let [t, rest @ ..] = sample_dims else {
        return Err(err());
    };
    let f: usize = rest.iter().product();
    if rest.is_empty() || *t < 2 || f == 0 {
        return Err(err());
    }
    Ok((*t, f))
}

/// `per_position`'s threshold for `t` positions: `2 · 0.5^(1/t) − 1`, so that the chance that
/// no position's first feature (uniform in [-1, 1]) is above it is exactly one half.
fn per_position_threshold(t: usize) -> f64 {
    2.0 * 0.5f64.powf(1.0 / t as f64) - 1.0
}

/// `positions`'s rule on one sample of `t` positions × `f` features: the mean of position 0
/// above the mean of position `min(2, t − 1)`.
fn positions_label(sample: &[f32], t: usize, f: usize) -> bool {
    let other = 2.min(t.saturating_sub(1));
    let mean = |p: usize| {
        sample
            .iter()
            .skip(p * f)
            .take(f)
            .map(|&v| f64::from(v))
            .sum::<f64>()
            / f as f64
    };
    mean(0) > mean(other)
}

/// `per_position`'s rule on one sample: any position's first feature above the threshold.
fn per_position_label(sample: &[f32], f: usize, threshold: f64) -> bool {
    sample
        .iter()
        .step_by(f.max(1))
        .any(|&v| f64::from(v) > threshold)
}

/// `positions` / `per_position`: x uniform in [-1, 1], labels by the rule.
fn gen_positions(
    rng: &mut Rng,
    n: usize,
    t: usize,
    f: usize,
    per_position: bool,
) -> (Vec<f32>, Vec<f32>) {
    let per = t * f;
    let threshold = per_position_threshold(t);
    let mut x = Vec::with_capacity(n * per);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let sample: Vec<f32> = (0..per).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let label = if per_position {
            per_position_label(&sample, f, threshold)
        } else {
            positions_label(&sample, t, f)
        };
        y.push(if label { 1.0 } else { 0.0 });
        x.extend_from_slice(&sample);
    }
    (x, y)
}

/// `noisy_sum`: x uniform in [-1, 1], y = 2 + Σx / √(values) + 0.5 · N(0, 1).
fn gen_noisy_sum(rng: &mut Rng, n: usize, per: usize) -> (Vec<f32>, Vec<f32>) {
    let scale = (per.max(1) as f64).sqrt();
    let mut x = Vec::with_capacity(n * per);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let start = x.len();
        x.extend((0..per).map(|_| rng.uniform(-1.0, 1.0)));
        let sum: f64 = x[start..].iter().map(|&v| f64::from(v)).sum();
        y.push((2.0 + sum / scale + 0.5 * rng.normal()) as f32);
    }
    (x, y)
}

/// The 2-D sets (TensorFlow-Playground style, scaled to about [-1, 1]²). Classes alternate
/// (sample `i` of spiral, circles and gaussians has class `i % 2`), so any tail of the samples
/// (the validation part) is balanced too.
fn gen_2d(rng: &mut Rng, n: usize, id: &str) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::with_capacity(n * 2);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        let (a, b, label) = match id {
            "spiral" => {
                let u = rng.unit();
                let r = 0.9 * u;
                let angle = 1.75 * 2.0 * PI * u + PI * class as f64;
                let a = r * angle.sin() + 0.02 * rng.normal();
                let b = r * angle.cos() + 0.02 * rng.normal();
                (a, b, class)
            }
            "xor" => {
                let away = |v: f64| v.signum() * (0.05 + 0.95 * v.abs());
                let a = away(2.0 * rng.unit() - 1.0);
                let b = away(2.0 * rng.unit() - 1.0);
                let label = usize::from(a * b > 0.0);
                (a + 0.02 * rng.normal(), b + 0.02 * rng.normal(), label)
            }
            "circles" => {
                let r = if class == 1 {
                    0.45 * rng.unit()
                } else {
                    0.6 + 0.3 * rng.unit()
                };
                let angle = 2.0 * PI * rng.unit();
                let a = r * angle.cos() + 0.02 * rng.normal();
                let b = r * angle.sin() + 0.02 * rng.normal();
                (a, b, class)
            }
            _ => {
                let centre = if class == 1 { 0.4 } else { -0.4 };
                let a = centre + 0.18 * rng.normal();
                let b = centre + 0.18 * rng.normal();
                (a, b, class)
            }
        };
        x.push(a as f32);
        x.push(b as f32);
        y.push(label as f32);
    }
    (x, y)
}

/// `sine`: x uniform in [-1, 1], y = sin(π x) + N(0, 0.05²).
fn gen_sine(rng: &mut Rng, n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let v = rng.uniform(-1.0, 1.0);
        x.push(v);
        y.push(((PI * f64::from(v)).sin() + 0.05 * rng.normal()) as f32);
    }
    (x, y)
}

/// The 8 × 8 digits (`data/README.md`: format "FLD1").
const DIGITS: &[u8] = include_bytes!("../../../data/digits8x8.bin");

/// Decodes the "FLD1" digits format: `(labels, pixels 0..=16, 64 per image)`.
fn decode_digits(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    const RECORD: usize = 1 + 32 + 8;
    let (Some(magic), Some(&[lo, hi])) = (bytes.get(..4), bytes.get(4..6)) else {
        return Err(DataError::Digits("too short"));
    };
    if magic != b"FLD1" {
        return Err(DataError::Digits("not an FLD1 file"));
    }
    let count = usize::from(u16::from_le_bytes([lo, hi]));
    let body = bytes.get(6..).unwrap_or_default();
    if body.len() != count * RECORD {
        return Err(DataError::Digits(
            "the length does not match the image count",
        ));
    }
    let mut labels = Vec::with_capacity(count);
    let mut pixels = Vec::with_capacity(count * 64);
    for record in body.chunks_exact(RECORD) {
        let (&label, rest) = record
            .split_first()
            .ok_or(DataError::Digits("empty record"))?;
        if label > 9 {
            return Err(DataError::Digits("a label is above 9"));
        }
        let (packed, mask) = rest.split_at(32.min(rest.len()));
        for (i, &byte) in packed.iter().enumerate() {
            for (k, nibble) in [byte >> 4, byte & 15].into_iter().enumerate() {
                let p = 2 * i + k;
                let sixteen = mask.get(p / 8).is_some_and(|&m| (m >> (p % 8)) & 1 == 1);
                if sixteen && nibble != 15 {
                    return Err(DataError::Digits(
                        "a pixel marked 16 has a nibble other than 15",
                    ));
                }
                pixels.push(nibble + u8::from(sixteen));
            }
        }
        labels.push(label);
    }
    Ok((labels, pixels))
}

/// The number of samples of `x` and `y`, which must agree.
fn sample_count(x: &ArrayD<f32>, y: &ArrayD<f32>) -> Result<usize, DataError> {
    let (Some(&x_len), Some(&y_len)) = (x.shape().first(), y.shape().first()) else {
        return Err(DataError::NoSampleAxis(if x.ndim() == 0 {
            "x"
        } else {
            "y"
        }));
    };
    if x_len != y_len {
        return Err(DataError::LengthMismatch { x_len, y_len });
    }
    Ok(x_len)
}

/// Splits off the last `val_fraction` of the samples for validation, exactly as Keras's
/// `validation_split` does: training gets the first `floor(n · (1 − val_fraction))`, no
/// shuffling (the generators' samples are already in random order).
///
/// # Errors
/// [`DataError::ValFraction`] unless `0 < val_fraction < 1`; [`DataError::SplitEmpty`] when a
/// part would be empty; [`DataError::NoSampleAxis`] or [`DataError::LengthMismatch`] for a
/// malformed dataset.
pub fn split(ds: &Dataset, val_fraction: f64) -> Result<(Dataset, Dataset), DataError> {
    if !(val_fraction > 0.0 && val_fraction < 1.0) {
        return Err(DataError::ValFraction(val_fraction));
    }
    let n = sample_count(&ds.x, &ds.y)?;
    let split_at = ((n as f64 * (1.0 - val_fraction)).floor() as usize).min(n);
    if split_at == 0 || split_at == n {
        return Err(DataError::SplitEmpty {
            n,
            val_fraction,
            train: split_at,
            val: n - split_at,
        });
    }
    let part = |from: usize, to: usize| Dataset {
        name: ds.name.clone(),
        x: ds.x.slice_axis(Axis(0), Slice::from(from..to)).to_owned(),
        y: ds.y.slice_axis(Axis(0), Slice::from(from..to)).to_owned(),
        task: ds.task,
    };
    Ok((part(0, split_at), part(split_at, n)))
}

/// Class labels from `values`: whole numbers ≥ 0, fewer than [`MAX_CLASSES`]; `k = max + 1`.
fn class_labels(values: &[f32]) -> Result<usize, DataError> {
    let mut largest = 0.0f32;
    for (i, &v) in values.iter().enumerate() {
        if !(v >= 0.0 && v.fract() == 0.0) {
            return Err(DataError::NotALabel {
                sample: i + 1,
                value: v,
            });
        }
        largest = largest.max(v);
    }
    if largest >= MAX_CLASSES as f32 {
        return Err(DataError::TooManyClasses { largest });
    }
    Ok(largest as usize + 1)
}

/// A dataset from a table's columns (column-major, e.g. [`Csv::columns`]): the `x_cols`, in
/// that order, laid out as `(n, ...sample_dims)`, and `y_col` as the target. With
/// `classification`, the targets are class labels (whole numbers ≥ 0, `k = max + 1` ≤ 1000
/// classes, `y` of shape `(n,)`); otherwise numbers to predict (`y` of shape `(n, 1)`).
///
/// # Errors
/// [`DataError::NoColumns`], [`DataError::ColumnLengths`], [`DataError::Empty`],
/// [`DataError::ColumnIndex`], [`DataError::NoInputColumns`], [`DataError::TargetIsInput`],
/// [`DataError::ZeroDim`], [`DataError::XColumnCount`] (the number of input columns is not the
/// product of `sample_dims`), [`DataError::NotFinite`], [`DataError::NotALabel`],
/// [`DataError::TooManyClasses`].
pub fn from_columns(
    name: &str,
    columns: &[Vec<f32>],
    x_cols: &[usize],
    y_col: usize,
    classification: bool,
    sample_dims: &[usize],
) -> Result<Dataset, DataError> {
    let n = columns.first().ok_or(DataError::NoColumns)?.len();
    for (j, column) in columns.iter().enumerate() {
        if column.len() != n {
            return Err(DataError::ColumnLengths {
                column: j + 1,
                len: column.len(),
                expected: n,
            });
        }
    }
    if n == 0 {
        return Err(DataError::Empty);
    }
    let column = |index: usize| {
        columns.get(index).ok_or(DataError::ColumnIndex {
            index,
            count: columns.len(),
        })
    };
    let target = column(y_col)?;
    let inputs = x_cols
        .iter()
        .map(|&c| column(c))
        .collect::<Result<Vec<_>, _>>()?;
    if x_cols.is_empty() {
        return Err(DataError::NoInputColumns);
    }
    if x_cols.contains(&y_col) {
        return Err(DataError::TargetIsInput(y_col));
    }
    if x_cols.len() != sample_size(sample_dims)? {
        return Err(DataError::XColumnCount {
            count: x_cols.len(),
            sample_dims: sample_dims.to_vec(),
        });
    }
    for (&c, values) in x_cols
        .iter()
        .chain([&y_col])
        .zip(inputs.iter().chain([&target]))
    {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NotFinite {
                what: format!("column {}", c + 1),
                sample: i + 1,
            });
        }
    }
    let mut x = Vec::with_capacity(n.saturating_mul(x_cols.len()).min(MAX_VALUES));
    for i in 0..n {
        x.extend(inputs.iter().map(|values| values[i]));
    }
    let (y, task) = if classification {
        let k = class_labels(target)?;
        (label_array(target.clone())?, Task::Classes(k))
    } else {
        (target_array(target.clone())?, Task::Regression)
    };
    Ok(Dataset {
        name: name.to_string(),
        x: with_samples(n, sample_dims, x)?,
        y,
        task,
    })
}

/// A dataset from uploaded arrays (`.npy` / `.npz`). `x` is reshaped to `(n, ...sample_dims)`
/// when its values per sample match (so `(n, 8, 8)` fits an input of `(64,)`). `y` of shape
/// `(n,)` holding whole numbers `0..1000` becomes [`Task::Classes`] (`k = max + 1`); any other
/// `(n,)` and every `(n, 1)` becomes [`Task::Regression`] with `y` of shape `(n, 1)` (so save
/// integer labels as `(n,)` to get classes).
///
/// # Errors
/// [`DataError::NoSampleAxis`], [`DataError::LengthMismatch`] (naming both lengths),
/// [`DataError::Empty`], [`DataError::NotFinite`] (NaN or infinity anywhere),
/// [`DataError::ZeroDim`], [`DataError::XShape`], [`DataError::OneHot`] for `y` of shape
/// `(n, k)` with `k > 1`, [`DataError::YShape`] for any other `y`.
pub fn from_arrays(
    name: &str,
    x: ArrayD<f32>,
    y: ArrayD<f32>,
    sample_dims: &[usize],
) -> Result<Dataset, DataError> {
    let n = sample_count(&x, &y)?;
    if n == 0 {
        return Err(DataError::Empty);
    }
    for (what, a) in [("x", &x), ("y", &y)] {
        if let Some(i) = a.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NotFinite {
                what: what.to_string(),
                sample: i / (a.len() / n).max(1) + 1,
            });
        }
    }
    let per = sample_size(sample_dims)?;
    if x.len() / n != per {
        return Err(DataError::XShape {
            x_shape: x.shape().to_vec(),
            sample_dims: sample_dims.to_vec(),
        });
    }
    let y_shape = y.shape().to_vec();
    let (y_values, task) = match y_shape.as_slice() {
        [_] => {
            let values: Vec<f32> = y.into_iter().collect();
            let task = class_labels(&values).map_or(Task::Regression, Task::Classes);
            (values, task)
        }
        [_, 1] => (y.into_iter().collect(), Task::Regression),
        [_, k] if *k > 1 => return Err(DataError::OneHot(y_shape)),
        _ => return Err(DataError::YShape(y_shape)),
    };
    let y = match task {
        Task::Classes(_) => label_array(y_values)?,
        Task::Regression => target_array(y_values)?,
    };
    let mut shape = vec![n];
    shape.extend_from_slice(sample_dims);
    let x = x
        .into_shape_clone(IxDyn(&shape))
        .map_err(|e| DataError::Layout {
            shape,
            message: e.to_string(),
        })?;
    Ok(Dataset {
        name: name.to_string(),
        x,
        y,
        task,
    })
}

/// [`parse_csv`]'s limits (smaller in tests).
#[derive(Debug, Clone, Copy)]
struct Limits {
    rows: usize,
    columns: usize,
    cells: usize,
}

const LIMITS: Limits = Limits {
    rows: MAX_CSV_ROWS,
    columns: MAX_CSV_COLUMNS,
    cells: MAX_VALUES,
};

/// A cell read as a number.
enum Num {
    Value(f32),
    Empty,
    NotFinite,
    Text,
}

/// Reads a cell as a finite `f32`; with `decimal_comma` (semicolon files), `1,5` is 1.5.
fn number(cell: &str, decimal_comma: bool) -> Num {
    let s = cell.trim();
    if s.is_empty() {
        return Num::Empty;
    }
    let parsed = if decimal_comma && s.matches(',').count() == 1 && !s.contains('.') {
        s.replacen(',', ".", 1).parse::<f32>()
    } else {
        s.parse::<f32>()
    };
    match parsed {
        Ok(v) if v.is_finite() => Num::Value(v),
        Ok(_) => Num::NotFinite,
        Err(_) => Num::Text,
    }
}

/// At most 40 characters of a cell, for messages.
fn excerpt(cell: &str) -> String {
    let cell = cell.trim();
    let mut out: String = cell.chars().take(40).collect();
    if out.len() < cell.len() {
        out.push('…');
    }
    out
}

/// The separator, from the first non-blank line: a tab if it has one outside quotes, else a
/// semicolon, else a comma.
fn detect_separator(text: &str) -> u8 {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut quoted = false;
    let (mut tab, mut semicolon) = (false, false);
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\t' if !quoted => tab = true,
            b';' if !quoted => semicolon = true,
            _ => {}
        }
    }
    if tab {
        b'\t'
    } else if semicolon {
        b';'
    } else {
        b','
    }
}

/// A CSV record reader over the whole text (a quoted cell may span lines).
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// The current line, 1-based.
    line: usize,
    sep: u8,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, sep: u8) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            sep,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// `text[from..to]`; the bounds are always at ASCII bytes, so char boundaries.
    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }

    /// Consumes a line break (`\n`, `\r\n` or `\r`); false when there is none.
    fn eat_newline(&mut self) -> bool {
        match self.peek() {
            Some(b'\r') => {
                self.pos += 1;
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            Some(b'\n') => self.pos += 1,
            _ => return false,
        }
        self.line += 1;
        true
    }

    /// Skips lines holding only spaces and tabs; false at the end of the text.
    fn skip_blank_lines(&mut self) -> bool {
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            if rest.is_empty() {
                return false;
            }
            let end = rest
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .unwrap_or(rest.len());
            if !rest[..end].iter().all(|&b| b == b' ' || b == b'\t') {
                return true;
            }
            self.pos += end;
            if !self.eat_newline() {
                return false;
            }
        }
    }

    fn skip_spaces(&mut self) {
        while let Some(b) = self.peek() {
            if b == b' ' || (b == b'\t' && self.sep != b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// One cell, up to (not including) the separator or line break after it.
    fn cell(&mut self, row: usize, column: usize) -> Result<Cow<'a, str>, DataError> {
        self.skip_spaces();
        if self.peek() != Some(b'"') {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == self.sep || b == b'\n' || b == b'\r' {
                    break;
                }
                self.pos += 1;
            }
            return Ok(Cow::Borrowed(self.slice(start, self.pos).trim()));
        }
        self.pos += 1;
        let mut start = self.pos;
        let mut owned: Option<String> = None;
        loop {
            match self.peek() {
                None => return Err(DataError::CsvUnclosedQuote { row, column }),
                Some(b'"') if self.bytes.get(self.pos + 1) == Some(&b'"') => {
                    let piece = self.slice(start, self.pos + 1);
                    owned.get_or_insert_with(String::new).push_str(piece);
                    self.pos += 2;
                    start = self.pos;
                }
                Some(b'"') => break,
                Some(b) => {
                    let lone_cr = b == b'\r' && self.bytes.get(self.pos + 1) != Some(&b'\n');
                    if b == b'\n' || lone_cr {
                        self.line += 1;
                    }
                    self.pos += 1;
                }
            }
        }
        let last = self.slice(start, self.pos);
        self.pos += 1;
        self.skip_spaces();
        match self.peek() {
            Some(b) if b != self.sep && b != b'\n' && b != b'\r' => {
                Err(DataError::CsvAfterQuote { row, column })
            }
            _ => Ok(match owned {
                Some(mut s) => {
                    s.push_str(last);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(last),
            }),
        }
    }

    /// The next record: its row (the line it starts on) and its cell count; at most `keep` cells
    /// are kept in `cells`, so a huge row allocates nothing. `None` at the end of the text.
    fn record(
        &mut self,
        cells: &mut Vec<Cow<'a, str>>,
        keep: usize,
    ) -> Result<Option<(usize, usize)>, DataError> {
        cells.clear();
        if !self.skip_blank_lines() {
            return Ok(None);
        }
        let row = self.line;
        let mut count = 0;
        loop {
            let cell = self.cell(row, count + 1)?;
            count += 1;
            if cells.len() < keep {
                cells.push(cell);
            }
            if self.peek() == Some(self.sep) {
                self.pos += 1;
            } else {
                self.eat_newline();
                return Ok(Some((row, count)));
            }
        }
    }
}

/// Appends one data row's numbers to the columns.
fn push_row(
    columns: &mut [Vec<f32>],
    cells: &[Cow<'_, str>],
    row: usize,
    decimal_comma: bool,
) -> Result<(), DataError> {
    for (j, (column, cell)) in columns.iter_mut().zip(cells).enumerate() {
        match number(cell, decimal_comma) {
            Num::Value(v) => column.push(v),
            Num::Empty => return Err(DataError::CsvEmptyCell { row, column: j + 1 }),
            Num::NotFinite => {
                return Err(DataError::CsvNotFinite {
                    row,
                    column: j + 1,
                    cell: excerpt(cell),
                })
            }
            Num::Text => {
                return Err(DataError::CsvNotNumeric {
                    row,
                    column: j + 1,
                    cell: excerpt(cell),
                })
            }
        }
    }
    Ok(())
}

/// Parses a CSV table of numbers. The separator is a comma, a semicolon or a tab, detected
/// from the first line (a tab wins, then a semicolon; in semicolon files a decimal comma such
/// as `1,5` also reads as 1.5). Cells may be quoted (`"..."`, with `""` for a quote inside);
/// blank lines are skipped; a leading byte-order mark is ignored. The first row is a header
/// when any of its cells is not a number; every other cell must be a finite number.
///
/// # Errors
/// [`DataError::CsvEmpty`] without data rows; [`DataError::CsvRagged`],
/// [`DataError::CsvNotNumeric`], [`DataError::CsvEmptyCell`], [`DataError::CsvNotFinite`],
/// [`DataError::CsvUnclosedQuote`], [`DataError::CsvAfterQuote`] naming the row (1-based, as
/// in the file) and column; [`DataError::CsvTooManyRows`] past 200,000 data rows,
/// [`DataError::CsvTooManyColumns`] past 1,000 columns, [`DataError::CsvTooManyCells`] past
/// 20,000,000 numbers.
pub fn parse_csv(text: &str) -> Result<Csv, DataError> {
    parse_csv_with(text, LIMITS)
}

fn parse_csv_with(text: &str, limits: Limits) -> Result<Csv, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sep = detect_separator(text);
    let decimal_comma = sep == b';';
    let mut reader = Reader::new(text, sep);
    let mut cells = Vec::new();
    let Some((first_row, width)) = reader.record(&mut cells, limits.columns)? else {
        return Err(DataError::CsvEmpty);
    };
    if width > limits.columns {
        return Err(DataError::CsvTooManyColumns {
            columns: width,
            max: limits.columns,
        });
    }
    let has_header = cells
        .iter()
        .any(|c| !matches!(number(c, decimal_comma), Num::Value(_)));
    let header = (0..width)
        .map(|j| match cells.get(j) {
            Some(c) if has_header && !c.trim().is_empty() => c.trim().to_string(),
            _ => format!("column {}", j + 1),
        })
        .collect();
    let mut columns = vec![Vec::new(); width];
    let mut rows = 0usize;
    if !has_header {
        push_row(&mut columns, &cells, first_row, decimal_comma)?;
        rows = 1;
    }
    while let Some((row, count)) = reader.record(&mut cells, width + 1)? {
        if count != width {
            return Err(DataError::CsvRagged {
                row,
                cells: count,
                expected: width,
            });
        }
        if rows >= limits.rows {
            return Err(DataError::CsvTooManyRows { max: limits.rows });
        }
        if (rows + 1).saturating_mul(width) > limits.cells {
            return Err(DataError::CsvTooManyCells { max: limits.cells });
        }
        push_row(&mut columns, &cells, row, decimal_comma)?;
        rows += 1;
    }
    if rows == 0 {
        return Err(DataError::CsvEmpty);
    }
    Ok(Csv { header, columns })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(shape: &[usize], values: Vec<f32>) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(shape), values).unwrap()
    }

    fn ones_fraction(y: &ArrayD<f32>) -> f64 {
        y.iter().filter(|&&v| v == 1.0).count() as f64 / y.len() as f64
    }

    /// An input shape each built-in accepts.
    fn shape_for(id: &str) -> Vec<usize> {
        match id {
            "positions" | "per_position" | "noisy_sum" => vec![3, 2],
            "sine" => vec![1],
            "digits" => vec![8, 8, 1],
            _ => vec![2],
        }
    }

    #[test]
    fn builtin_list_is_in_order_and_described() {
        let ids: Vec<&str> = BUILTIN.iter().map(|e| e.0).collect();
        assert_eq!(
            ids,
            [
                "positions",
                "per_position",
                "noisy_sum",
                "spiral",
                "xor",
                "circles",
                "gaussians",
                "sine",
                "digits"
            ]
        );
        for (id, label, description) in BUILTIN {
            assert!(!label.is_empty() && description.ends_with('.'), "{id}");
        }
    }

    #[test]
    fn every_builtin_has_the_right_shapes_and_task() {
        for (id, _, _) in BUILTIN {
            let dims = shape_for(id);
            let ds = builtin(id, &dims, 50, 1).unwrap();
            let mut want = vec![50];
            want.extend_from_slice(&dims);
            assert_eq!(ds.x.shape(), want.as_slice(), "{id}");
            assert_eq!(ds.name, *id);
            match ds.task {
                Task::Classes(k) => {
                    assert_eq!(ds.y.shape(), [50], "{id}");
                    assert!(ds
                        .y
                        .iter()
                        .all(|&v| v >= 0.0 && v.fract() == 0.0 && (v as usize) < k));
                    assert_eq!(k, if *id == "digits" { 10 } else { 2 });
                }
                Task::Regression => {
                    assert!(["sine", "noisy_sum"].contains(id), "{id}");
                    assert_eq!(ds.y.shape(), [50, 1]);
                }
            }
            assert!(ds.x.iter().chain(ds.y.iter()).all(|v| v.is_finite()));
        }
    }

    #[test]
    fn builtins_are_deterministic_and_depend_on_the_seed() {
        for (id, _, _) in BUILTIN {
            let dims = shape_for(id);
            let a = builtin(id, &dims, 200, 7).unwrap();
            let b = builtin(id, &dims, 200, 7).unwrap();
            assert_eq!(a, b, "{id}");
            let c = builtin(id, &dims, 200, 8).unwrap();
            if *id == "digits" {
                assert_eq!(a, c, "digits ignores the seed");
            } else {
                assert_ne!(a.x, c.x, "{id}");
            }
        }
    }

    #[test]
    fn the_layout_follows_the_input_shape() {
        // The same seed gives the same values whatever the layout of the 2 values.
        let flat = builtin("spiral", &[2], 30, 3).unwrap();
        let row = builtin("spiral", &[1, 2], 30, 3).unwrap();
        let col = builtin("spiral", &[2, 1], 30, 3).unwrap();
        assert_eq!(row.x.shape(), [30, 1, 2]);
        assert_eq!(col.x.shape(), [30, 2, 1]);
        assert_eq!(
            flat.x.iter().collect::<Vec<_>>(),
            row.x.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            flat.x.iter().collect::<Vec<_>>(),
            col.x.iter().collect::<Vec<_>>()
        );
        let d = builtin("digits", &[64], 10, 0).unwrap();
        let d3 = builtin("digits", &[8, 8, 1], 10, 0).unwrap();
        assert_eq!(
            d.x.iter().collect::<Vec<_>>(),
            d3.x.iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn positions_and_per_position_are_balanced() {
        for id in ["positions", "per_position"] {
            for seed in [0, 1, 2] {
                let ds = builtin(id, &[3, 2], 2000, seed).unwrap();
                let p = ones_fraction(&ds.y);
                assert!((0.4..=0.6).contains(&p), "{id} seed {seed}: {p}");
            }
            // The threshold follows T, so other lengths are balanced too.
            let ds = builtin(id, &[8, 1], 2000, 5).unwrap();
            let p = ones_fraction(&ds.y);
            assert!((0.4..=0.6).contains(&p), "{id} (8, 1): {p}");
        }
        assert!((per_position_threshold(3) - 0.5874).abs() < 1e-4);
    }

    /// Recomputes the label rules from x, independently of the generator's helpers.
    #[test]
    fn positions_labels_follow_the_stated_rule() {
        for dims in [vec![3, 2], vec![2, 4], vec![5, 1], vec![4, 2, 3]] {
            let ds = builtin("positions", &dims, 500, 11).unwrap();
            let t = dims[0];
            let f: usize = dims[1..].iter().product();
            let x = ds.x.as_slice().unwrap();
            for i in 0..500 {
                let s = &x[i * t * f..(i + 1) * t * f];
                let other = if t >= 3 { 2 } else { t - 1 };
                let m0: f64 = s[..f].iter().map(|&v| f64::from(v)).sum::<f64>() / f as f64;
                let m2: f64 = s[other * f..(other + 1) * f]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum::<f64>()
                    / f as f64;
                assert_eq!(
                    ds.y[[i]],
                    if m0 > m2 { 1.0 } else { 0.0 },
                    "{dims:?} sample {i}"
                );
                assert!(s.iter().all(|v| (-1.0..=1.0).contains(v)));
            }
        }
    }

    #[test]
    fn per_position_labels_follow_the_stated_rule() {
        for dims in [vec![3, 2], vec![4, 1], vec![3, 2, 2]] {
            let ds = builtin("per_position", &dims, 500, 12).unwrap();
            let t = dims[0];
            let f: usize = dims[1..].iter().product();
            let threshold = 2.0 * 0.5f64.powf(1.0 / t as f64) - 1.0;
            let x = ds.x.as_slice().unwrap();
            for i in 0..500 {
                let any = (0..t).any(|p| f64::from(x[i * t * f + p * f]) > threshold);
                assert_eq!(
                    ds.y[[i]],
                    if any { 1.0 } else { 0.0 },
                    "{dims:?} sample {i}"
                );
            }
        }
    }

    #[test]
    fn two_d_sets_look_like_the_playground() {
        for id in ["spiral", "xor", "circles", "gaussians"] {
            let ds = builtin(id, &[2], 2000, 4).unwrap();
            let p = ones_fraction(&ds.y);
            assert!((0.45..=0.55).contains(&p), "{id}: {p}");
            // The validation tail is balanced too.
            let (_, val) = split(&ds, 0.2).unwrap();
            let q = ones_fraction(&val.y);
            assert!((0.4..=0.6).contains(&q), "{id} validation: {q}");
            assert!(ds.x.iter().all(|v| v.abs() < 1.5), "{id}");
        }
        let xor = builtin("xor", &[2], 2000, 4).unwrap();
        let agree = (0..2000)
            .filter(|&i| (xor.x[[i, 0]] * xor.x[[i, 1]] > 0.0) == (xor.y[[i]] == 1.0))
            .count();
        assert!(agree > 1950, "xor agrees with x·y > 0 on {agree} of 2000");
        let circles = builtin("circles", &[2], 2000, 4).unwrap();
        for i in 0..2000 {
            let r = circles.x[[i, 0]].hypot(circles.x[[i, 1]]);
            if circles.y[[i]] == 1.0 {
                assert!(r < 0.6, "inner point at radius {r}");
            } else {
                assert!(r > 0.45 && r < 1.05, "ring point at radius {r}");
            }
        }
        let g = builtin("gaussians", &[2], 2000, 4).unwrap();
        let mean = |class: f32| {
            let (s, c) = (0..2000)
                .filter(|&i| g.y[[i]] == class)
                .fold((0.0, 0), |(s, c), i| (s + f64::from(g.x[[i, 0]]), c + 1));
            s / f64::from(c)
        };
        assert!((mean(1.0) - 0.4).abs() < 0.03 && (mean(0.0) + 0.4).abs() < 0.03);
    }

    #[test]
    fn sine_is_a_noisy_sine() {
        let ds = builtin("sine", &[1], 2000, 9).unwrap();
        let mut sq = 0.0;
        for i in 0..2000 {
            let x = f64::from(ds.x[[i, 0]]);
            let err = f64::from(ds.y[[i, 0]]) - (PI * x).sin();
            assert!(err.abs() < 0.3);
            sq += err * err;
            assert!((-1.0..=1.0).contains(&x));
        }
        let sd = (sq / 2000.0).sqrt();
        assert!((sd - 0.05).abs() < 0.01, "noise sd {sd}");
        assert!(
            builtin("sine", &[], 5, 0).is_ok(),
            "a scalar input has 1 value"
        );
    }

    #[test]
    fn noisy_sum_is_the_scaled_sum_plus_noise() {
        let ds = builtin("noisy_sum", &[20, 10], 3000, 4).unwrap();
        assert_eq!(ds.x.shape(), &[3000, 20, 10]);
        assert_eq!((ds.y.shape(), ds.task), (&[3000, 1][..], Task::Regression));
        let mut sq = 0.0;
        for i in 0..3000 {
            let sum: f64 =
                ds.x.index_axis(Axis(0), i)
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum();
            let err = f64::from(ds.y[[i, 0]]) - 2.0 - sum / 200f64.sqrt();
            sq += err * err;
        }
        let sd = (sq / 3000.0).sqrt();
        assert!((sd - 0.5).abs() < 0.03, "noise sd {sd}");
        assert!(matches!(
            builtin("noisy_sum", &[6], 10, 0),
            Err(DataError::NeedsPositions { .. })
        ));
    }

    #[test]
    fn digits_file_matches_sklearn() {
        assert_eq!(DIGITS.len(), 6 + 41 * 1797);
        let (labels, pixels) = decode_digits(DIGITS).unwrap();
        assert_eq!(labels.len(), DIGITS_COUNT);
        assert_eq!(pixels.len(), DIGITS_COUNT * 64);
        let mut hist = [0usize; 10];
        for &l in &labels {
            hist[usize::from(l)] += 1;
        }
        // tools/convert_digits.py prints these from np.bincount(load_digits().target).
        assert_eq!(hist, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        assert_eq!(&labels[..10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(labels[1796], 8);
        assert!(pixels.iter().all(|&p| p <= 16));
        assert_eq!(
            pixels.iter().map(|&p| usize::from(p == 16)).sum::<usize>(),
            10456
        );
        assert_eq!(pixels.iter().map(|&p| u64::from(p)).sum::<u64>(), 561718);
        // load_digits().data[0] and [1796], as sklearn prints them.
        assert_eq!(
            &pixels[..16],
            &[0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
        );
        assert_eq!(
            &pixels[1796 * 64..1796 * 64 + 16],
            &[0, 0, 10, 14, 8, 1, 0, 0, 0, 2, 16, 14, 6, 1, 0, 0]
        );
    }

    #[test]
    fn digits_dataset_is_scaled_and_capped() {
        let ds = builtin("digits", &[8, 8], 5000, 0).unwrap();
        assert_eq!(ds.x.shape(), [1797, 8, 8]);
        assert_eq!(ds.y.shape(), [1797]);
        assert_eq!(ds.task, Task::Classes(10));
        assert_eq!(ds.x.iter().copied().fold(f32::MIN, f32::max), 1.0);
        assert_eq!(ds.x.iter().copied().fold(f32::MAX, f32::min), 0.0);
        assert_eq!(ds.x[[0, 0, 2]], 5.0 / 16.0);
        let small = builtin("digits", &[64], 3, 0).unwrap();
        assert_eq!(small.y.iter().copied().collect::<Vec<_>>(), [0.0, 1.0, 2.0]);
        assert_eq!(small.x.shape(), [3, 64]);
    }

    #[test]
    fn damaged_digits_files_are_errors() {
        let mut bad = DIGITS.to_vec();
        bad[0] = b'X';
        assert!(matches!(decode_digits(&bad), Err(DataError::Digits(_))));
        assert!(decode_digits(&DIGITS[..5]).is_err());
        assert!(decode_digits(&DIGITS[..DIGITS.len() - 1]).is_err());
        assert!(decode_digits(&[]).is_err());
        let mut label = DIGITS.to_vec();
        label[6] = 10;
        assert!(decode_digits(&label).is_err());
        // Image 0's pixel 0 is 0: marking it 16 without a 15 nibble is rejected.
        let mut mask = DIGITS.to_vec();
        mask[6 + 33] |= 1;
        assert!(decode_digits(&mask).is_err());
        assert_eq!(decode_digits(b"FLD1\0\0").unwrap().0.len(), 0);
    }

    #[test]
    fn builtin_shape_and_size_errors() {
        let msg =
            |id: &str, dims: &[usize], n: usize| builtin(id, dims, n, 0).unwrap_err().to_string();
        for dims in [&[6][..], &[1, 2], &[], &[3, 0]] {
            let m = msg("positions", dims, 10);
            assert!(m.contains("(3, 2): positions × features"), "{m}");
            assert!(m.contains(&shape_str(dims)), "{m}");
        }
        assert!(matches!(
            builtin("per_position", &[6], 10, 0),
            Err(DataError::NeedsPositions {
                id: "per_position",
                ..
            })
        ));
        let m = msg("spiral", &[3], 10);
        assert!(
            m.contains("(3,)") && m.contains("2 values per sample"),
            "{m}"
        );
        let m = msg("sine", &[2], 10);
        assert!(
            m.contains("(2,)") && m.contains("1 value per sample"),
            "{m}"
        );
        let m = msg("digits", &[8, 7], 10);
        assert!(
            m.contains("(8, 7)") && m.contains("56 values") && m.contains("64 values"),
            "{m}"
        );
        assert!(msg("mnist", &[2], 10).contains("positions, per_position, noisy_sum, spiral"));
        assert!(matches!(
            builtin("xor", &[2], 0, 0),
            Err(DataError::SampleCount { n: 0 })
        ));
        assert!(matches!(
            builtin("xor", &[2], 100_001, 0),
            Err(DataError::SampleCount { .. })
        ));
        assert!(builtin("xor", &[2], 100_000, 0).is_ok());
        // 1,000,000 values per sample; 200 × 100,001 total; overflowing shapes.
        assert!(matches!(
            builtin("positions", &[1000, 1000], 1, 0),
            Err(DataError::TooLarge { .. })
        ));
        assert!(matches!(
            builtin("positions", &[2, 50_000], 201, 0),
            Err(DataError::TooLarge { .. })
        ));
        assert!(builtin("positions", &[2, 50_000], 200, 0).is_ok());
        let m = msg("positions", &[usize::MAX, 4], 1);
        assert!(m.contains("too many for a dataset"), "{m}");
    }

    fn toy(n: usize) -> Dataset {
        Dataset {
            name: "toy".into(),
            x: arr(&[n, 2], (0..2 * n).map(|v| v as f32).collect()),
            y: arr(&[n], (0..n).map(|v| (v % 3) as f32).collect()),
            task: Task::Classes(3),
        }
    }

    #[test]
    fn split_keeps_the_last_part_for_validation() {
        let (train, val) = split(&toy(10), 0.2).unwrap();
        assert_eq!((train.x.shape(), val.x.shape()), (&[8, 2][..], &[2, 2][..]));
        assert_eq!(
            val.x.iter().copied().collect::<Vec<_>>(),
            [16.0, 17.0, 18.0, 19.0]
        );
        assert_eq!(val.y.iter().copied().collect::<Vec<_>>(), [2.0, 0.0]);
        assert_eq!(train.y.len(), 8);
        assert_eq!(train.task, Task::Classes(3));
        // Keras: split_at = floor(n · (1 − fraction)).
        for (n, f, t) in [
            (2000, 0.25, 1500),
            (5, 0.1, 4),
            (3, 0.5, 1),
            (10, 0.01, 9),
            (7, 0.3, 4),
        ] {
            let (train, val) = split(&toy(n), f).unwrap();
            assert_eq!(
                (train.y.len(), val.y.len()),
                (t, n - t),
                "n {n} fraction {f}"
            );
        }
        let ds = builtin("sine", &[1], 100, 0).unwrap();
        let (train, val) = split(&ds, 0.3).unwrap();
        assert_eq!(
            (train.y.shape(), val.y.shape()),
            (&[70, 1][..], &[30, 1][..])
        );
    }

    #[test]
    fn split_errors() {
        for f in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(split(&toy(10), f), Err(DataError::ValFraction(_))),
                "{f}"
            );
        }
        let e = split(&toy(1), 0.5).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::SplitEmpty {
                    n: 1,
                    train: 0,
                    val: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            split(&toy(10), 0.999),
            Err(DataError::SplitEmpty { train: 0, .. })
        ));
        let mut bad = toy(4);
        bad.y = arr(&[3], vec![0.0; 3]);
        assert_eq!(
            split(&bad, 0.5).unwrap_err(),
            DataError::LengthMismatch { x_len: 4, y_len: 3 }
        );
        bad.y = arr(&[], vec![1.0]);
        assert!(matches!(
            split(&bad, 0.5),
            Err(DataError::NoSampleAxis("y"))
        ));
    }

    #[test]
    fn csv_with_and_without_header() {
        let csv = parse_csv("a,b,label\n1,2,0\n3.5,-4e-1,1\n").unwrap();
        assert_eq!(csv.header, ["a", "b", "label"]);
        assert_eq!(
            csv.columns,
            vec![vec![1.0, 3.5], vec![2.0, -0.4], vec![0.0, 1.0]]
        );
        let csv = parse_csv("1,2\n3,4").unwrap();
        assert_eq!(csv.header, ["column 1", "column 2"]);
        assert_eq!(csv.columns, vec![vec![1.0, 3.0], vec![2.0, 4.0]]);
        // One non-numeric cell makes the first row a header; an empty header cell gets a name.
        let csv = parse_csv("x,,1\n1,2,3\n").unwrap();
        assert_eq!(csv.header, ["x", "column 2", "1"]);
        // A single column, CRLF, blank lines, a BOM.
        let csv = parse_csv("\u{feff}y\r\n\r\n1\r\n  \r\n2\r\n").unwrap();
        assert_eq!(csv.header, ["y"]);
        assert_eq!(csv.columns, vec![vec![1.0, 2.0]]);
    }

    #[test]
    fn csv_separators_and_quotes() {
        let csv = parse_csv("a;b\n1,5;2\n3;-0,25\n").unwrap();
        assert_eq!(csv.header, ["a", "b"]);
        assert_eq!(csv.columns, vec![vec![1.5, 3.0], vec![2.0, -0.25]]);
        let csv = parse_csv("a\tb c\n1\t2\n").unwrap();
        assert_eq!(csv.header, ["a", "b c"]);
        assert_eq!(csv.columns, vec![vec![1.0], vec![2.0]]);
        let csv = parse_csv("\"width, cm\",\"say \"\"hi\"\"\"\n\"1\", 2 \n").unwrap();
        assert_eq!(csv.header, ["width, cm", "say \"hi\""]);
        assert_eq!(csv.columns, vec![vec![1.0], vec![2.0]]);
        // A quoted header cell spanning two lines; rows keep their file numbers.
        let e = parse_csv("\"two\nlines\",b\n1,2\n3\n").unwrap_err();
        assert_eq!(
            e,
            DataError::CsvRagged {
                row: 4,
                cells: 1,
                expected: 2
            }
        );
        // Semicolons inside quotes do not make a semicolon file.
        let csv = parse_csv("\"a;b\",c\n1,2\n").unwrap();
        assert_eq!(csv.header, ["a;b", "c"]);
    }

    #[test]
    fn csv_errors_name_the_row_and_column() {
        let e = parse_csv("a,b\n1,2\n\n3\n").unwrap_err();
        assert_eq!(
            e,
            DataError::CsvRagged {
                row: 4,
                cells: 1,
                expected: 2
            }
        );
        assert!(
            e.to_string()
                .contains("row 4 has 1 cells but the first row has 2"),
            "{e}"
        );
        let e = parse_csv("a,b\n1,2\n3,4,5\n").unwrap_err();
        assert!(
            matches!(
                e,
                DataError::CsvRagged {
                    row: 3,
                    cells: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_csv("a,b\n1,2\n3,cat\n").unwrap_err();
        assert_eq!(e.to_string(), "row 3, column 2: `cat` is not a number");
        let e = parse_csv("1,2\n3,\n").unwrap_err();
        assert_eq!(e, DataError::CsvEmptyCell { row: 2, column: 2 });
        for cell in ["nan", "inf", "-Infinity", "1e39"] {
            let e = parse_csv(&format!("a\n1\n{cell}\n")).unwrap_err();
            assert!(
                matches!(
                    e,
                    DataError::CsvNotFinite {
                        row: 3,
                        column: 1,
                        ..
                    }
                ),
                "{cell}: {e}"
            );
        }
        let e = parse_csv("a,b\n1,\"2\n").unwrap_err();
        assert_eq!(e, DataError::CsvUnclosedQuote { row: 2, column: 2 });
        let e = parse_csv("a,b\n\"1\"x,2\n").unwrap_err();
        assert_eq!(e, DataError::CsvAfterQuote { row: 2, column: 1 });
        let long = "z".repeat(500);
        let m = parse_csv(&format!("a\n{long}\n")).unwrap_err().to_string();
        assert!(m.len() < 120, "{m}");
        for empty in ["", "\n\n", "  \r\n", "a,b\n", "a,b\n\n"] {
            assert_eq!(
                parse_csv(empty).unwrap_err(),
                DataError::CsvEmpty,
                "{empty:?}"
            );
        }
    }

    #[test]
    fn csv_size_limits() {
        let small = Limits {
            rows: 3,
            columns: 4,
            cells: 8,
        };
        assert!(parse_csv_with("1,2\n3,4\n5,6\n", small).is_ok());
        assert_eq!(
            parse_csv_with("1\n2\n3\n4\n", small).unwrap_err(),
            DataError::CsvTooManyRows { max: 3 }
        );
        assert_eq!(
            parse_csv_with("h\n1\n2\n3\n4\n", small).unwrap_err(),
            DataError::CsvTooManyRows { max: 3 }
        );
        assert_eq!(
            parse_csv_with("1,2,3,4,5\n", small).unwrap_err(),
            DataError::CsvTooManyColumns { columns: 5, max: 4 }
        );
        assert_eq!(
            parse_csv_with("1,2,3\n1,2,3\n1,2,3\n", small).unwrap_err(),
            DataError::CsvTooManyCells { max: 8 }
        );
        // The real limits.
        let rows = "1\n".repeat(MAX_CSV_ROWS + 1);
        assert!(matches!(
            parse_csv(&rows),
            Err(DataError::CsvTooManyRows { .. })
        ));
        assert_eq!(
            parse_csv(&rows[2..]).unwrap().columns[0].len(),
            MAX_CSV_ROWS
        );
        let wide = vec!["1"; MAX_CSV_COLUMNS + 1].join(",");
        assert!(matches!(
            parse_csv(&wide),
            Err(DataError::CsvTooManyColumns { columns: 1001, .. })
        ));
        // A huge ragged row is counted, not stored.
        let text = format!("1,2\n{}\n", vec!["1"; 100_000].join(","));
        assert_eq!(
            parse_csv(&text).unwrap_err(),
            DataError::CsvRagged {
                row: 2,
                cells: 100_000,
                expected: 2
            }
        );
    }

    /// Random bytes and CSV-like strings: never a panic, and every table is well formed.
    #[test]
    fn csv_never_panics_on_random_input() {
        let mut rng = Rng::new(2024);
        let alphabet: Vec<char> = "0123456789.-+eE,;\t\"\n\r abx\u{e9}\u{feff}nainf"
            .chars()
            .collect();
        let mut ok = 0;
        for case in 0..6000 {
            let len = (rng.next_u64() % 80) as usize;
            let text = if case % 2 == 0 {
                let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..len)
                    .map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize])
                    .collect()
            };
            if let Ok(csv) = parse_csv(&text) {
                ok += 1;
                assert_eq!(csv.header.len(), csv.columns.len(), "{text:?}");
                let n = csv.columns[0].len();
                assert!(n > 0, "{text:?}");
                assert!(csv
                    .columns
                    .iter()
                    .all(|c| c.len() == n && c.iter().all(|v| v.is_finite())));
            }
        }
        // Numeric-looking random text: many parse, and from_columns takes them without panics.
        let digits: Vec<char> = "0123456789,\n-. ".chars().collect();
        for _ in 0..3000 {
            let len = 1 + (rng.next_u64() % 40) as usize;
            let text: String = (0..len)
                .map(|_| digits[(rng.next_u64() % digits.len() as u64) as usize])
                .collect();
            if let Ok(csv) = parse_csv(&text) {
                ok += 1;
                let m = csv.columns.len();
                let y = (rng.next_u64() % (m as u64 + 1)) as usize;
                let x: Vec<usize> = (0..m).filter(|&c| c != y).collect();
                let _ = from_columns("r", &csv.columns, &x, y, rng.unit() < 0.5, &[x.len()]);
            }
        }
        assert!(
            ok > 300,
            "only {ok} random inputs parsed: the generator is too weak"
        );
    }

    #[test]
    fn from_columns_builds_classes_and_regression() {
        let cols = vec![
            vec![1.0, 2.0, 3.0],
            vec![4.0, 5.0, 6.0],
            vec![0.0, 2.0, 1.0],
            vec![0.5, 0.25, 7.0],
        ];
        let ds = from_columns("t", &cols, &[1, 0], 2, true, &[2]).unwrap();
        assert_eq!(ds.x, arr(&[3, 2], vec![4.0, 1.0, 5.0, 2.0, 6.0, 3.0]));
        assert_eq!(ds.y, arr(&[3], vec![0.0, 2.0, 1.0]));
        assert_eq!(ds.task, Task::Classes(3));
        let ds = from_columns("t", &cols, &[0, 1, 2, 0], 3, false, &[2, 2]).unwrap();
        assert_eq!(ds.x.shape(), [3, 2, 2]);
        assert_eq!(ds.x[[2, 1, 0]], 1.0);
        assert_eq!(ds.y, arr(&[3, 1], vec![0.5, 0.25, 7.0]));
        assert_eq!(ds.task, Task::Regression);
        let csv = parse_csv("a;b;y\n1;2;1\n3;4;0\n").unwrap();
        let ds = from_columns("c.csv", &csv.columns, &[0, 1], 2, true, &[1, 2]).unwrap();
        assert_eq!((ds.x.shape(), ds.task), (&[2, 1, 2][..], Task::Classes(2)));
    }

    #[test]
    fn from_columns_errors() {
        let cols = vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![0.0, 1.5]];
        let e = from_columns("t", &cols, &[0, 1], 2, true, &[2]).unwrap_err();
        assert_eq!(
            e,
            DataError::NotALabel {
                sample: 2,
                value: 1.5
            }
        );
        assert!(e.to_string().contains("sample 2 has 1.5"), "{e}");
        let neg = vec![vec![1.0], vec![-1.0]];
        assert!(matches!(
            from_columns("t", &neg, &[0], 1, true, &[1]),
            Err(DataError::NotALabel { sample: 1, .. })
        ));
        let big = vec![vec![1.0, 2.0], vec![0.0, 1000.0]];
        assert!(matches!(
            from_columns("t", &big, &[0], 1, true, &[1]),
            Err(DataError::TooManyClasses { .. })
        ));
        let ok = vec![vec![1.0, 2.0], vec![0.0, 999.0]];
        assert_eq!(
            from_columns("t", &ok, &[0], 1, true, &[1]).unwrap().task,
            Task::Classes(1000)
        );
        let e = from_columns("t", &cols, &[0, 1], 2, false, &[3]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "2 input columns cannot fill the model's input shape (3,), which takes 3 values per \
             sample: choose 3 columns or change the input shape"
        );
        let e = from_columns("t", &cols, &[0, 1, 0], 2, false, &[2, 2]).unwrap_err();
        assert!(e.to_string().contains("3 input columns") && e.to_string().contains("(2, 2)"));
        assert_eq!(
            from_columns("t", &cols, &[0, 5], 2, false, &[2]).unwrap_err(),
            DataError::ColumnIndex { index: 5, count: 3 }
        );
        assert!(matches!(
            from_columns("t", &cols, &[0], 3, false, &[1]),
            Err(DataError::ColumnIndex { index: 3, .. })
        ));
        assert_eq!(
            from_columns("t", &cols, &[], 2, false, &[1]).unwrap_err(),
            DataError::NoInputColumns
        );
        assert_eq!(
            from_columns("t", &cols, &[0, 2], 2, false, &[2]).unwrap_err(),
            DataError::TargetIsInput(2)
        );
        assert_eq!(
            from_columns("t", &[], &[0], 0, false, &[1]).unwrap_err(),
            DataError::NoColumns
        );
        let ragged = vec![vec![1.0, 2.0], vec![3.0]];
        assert_eq!(
            from_columns("t", &ragged, &[0], 1, false, &[1]).unwrap_err(),
            DataError::ColumnLengths {
                column: 2,
                len: 1,
                expected: 2
            }
        );
        let empty = vec![vec![], vec![]];
        assert_eq!(
            from_columns("t", &empty, &[0], 1, false, &[1]).unwrap_err(),
            DataError::Empty
        );
        let nan = vec![vec![1.0, f32::NAN], vec![0.0, 1.0]];
        let e = from_columns("t", &nan, &[0], 1, false, &[1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 1 holds NaN or infinity at sample 2: remove or fill in missing values first"
        );
        assert_eq!(
            from_columns("t", &cols, &[0], 2, false, &[1, 0]).unwrap_err(),
            DataError::ZeroDim(vec![1, 0])
        );
    }

    #[test]
    fn from_arrays_classes_regression_and_reshape() {
        let x = arr(&[3, 2, 2], (0..12).map(|v| v as f32).collect());
        let ds = from_arrays("up", x.clone(), arr(&[3], vec![0.0, 4.0, 1.0]), &[4]).unwrap();
        assert_eq!(ds.task, Task::Classes(5));
        assert_eq!(ds.x, arr(&[3, 4], (0..12).map(|v| v as f32).collect()));
        assert_eq!(ds.y.shape(), [3]);
        let ds = from_arrays("up", x.clone(), arr(&[3], vec![0.5, 4.0, 1.0]), &[2, 2]).unwrap();
        assert_eq!((ds.task, ds.y.shape()), (Task::Regression, &[3, 1][..]));
        let ds = from_arrays("up", x.clone(), arr(&[3], vec![0.0, -1.0, 1.0]), &[2, 2]).unwrap();
        assert_eq!(ds.task, Task::Regression);
        let ds = from_arrays("up", x.clone(), arr(&[3], vec![0.0, 5000.0, 1.0]), &[2, 2]).unwrap();
        assert_eq!(ds.task, Task::Regression, "labels past 999 are numbers");
        let ds = from_arrays(
            "up",
            x.clone(),
            arr(&[3, 1], vec![0.0, 1.0, 1.0]),
            &[2, 2, 1],
        )
        .unwrap();
        assert_eq!(
            (ds.task, ds.x.shape()),
            (Task::Regression, &[3, 2, 2, 1][..])
        );
        // A transposed (non-standard layout) x keeps its logical order.
        let t = arr(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).reversed_axes();
        let ds = from_arrays("up", t, arr(&[3], vec![0.0, 1.0, 0.0]), &[2]).unwrap();
        assert_eq!(ds.x, arr(&[3, 2], vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
    }

    #[test]
    fn from_arrays_errors() {
        let x = arr(&[3, 4], vec![0.0; 12]);
        let e = from_arrays("up", x.clone(), arr(&[3, 10], vec![0.0; 30]), &[4]).unwrap_err();
        assert_eq!(e, DataError::OneHot(vec![3, 10]));
        assert!(e
            .to_string()
            .contains("one-hot targets are not supported here; use integer labels"));
        let e = from_arrays("up", x.clone(), arr(&[5], vec![0.0; 5]), &[4]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x has 3 samples but y has 5: they must have the same first dimension"
        );
        let mut bad = x.clone();
        bad[[2, 1]] = f32::NAN;
        let e = from_arrays("up", bad, arr(&[3], vec![0.0; 3]), &[4]).unwrap_err();
        assert_eq!(
            e,
            DataError::NotFinite {
                what: "x".into(),
                sample: 3
            }
        );
        let e = from_arrays(
            "up",
            x.clone(),
            arr(&[3], vec![0.0, f32::INFINITY, 0.0]),
            &[4],
        )
        .unwrap_err();
        assert_eq!(
            e,
            DataError::NotFinite {
                what: "y".into(),
                sample: 2
            }
        );
        let e = from_arrays("up", x.clone(), arr(&[3], vec![0.0; 3]), &[2, 3]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x has shape (3, 4) (4 values per sample), but the model's input shape (2, 3) takes 6 \
             values per sample: change the model's input shape or the data"
        );
        assert_eq!(
            from_arrays("up", x.clone(), arr(&[3, 1, 1], vec![0.0; 3]), &[4]).unwrap_err(),
            DataError::YShape(vec![3, 1, 1])
        );
        assert_eq!(
            from_arrays("up", x.clone(), arr(&[3, 0], vec![]), &[4]).unwrap_err(),
            DataError::YShape(vec![3, 0])
        );
        assert_eq!(
            from_arrays("up", arr(&[], vec![1.0]), arr(&[1], vec![0.0]), &[1]).unwrap_err(),
            DataError::NoSampleAxis("x")
        );
        assert_eq!(
            from_arrays("up", arr(&[0, 4], vec![]), arr(&[0], vec![]), &[4]).unwrap_err(),
            DataError::Empty
        );
        assert_eq!(
            from_arrays("up", x, arr(&[3], vec![0.0; 3]), &[0]).unwrap_err(),
            DataError::ZeroDim(vec![0])
        );
    }
}
