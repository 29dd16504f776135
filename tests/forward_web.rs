//! The forward pass in the browser (wasm-bindgen-test in headless Chromium). In wasm32 the
//! products of convolutions and Dense run `engine::gemm`'s own kernel (f32x4 SIMD with
//! `+simd128`), which native tests cannot reach: here it is checked against a naive triple
//! loop on odd sizes, and whole models against Keras's `predict` (the golden fixtures of
//! tests/fixtures/forward/, embedded) at the native suite's tolerance.
#![cfg(target_arch = "wasm32")]

use flatland::codec::{self, NpyError};
use flatland::engine::analyze;
use flatland::engine::forward::split_weights;
use flatland::engine::gemm::gemm;
use flatland::engine::rng::Rng;
use ndarray::Array2;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/keras_match.rs"]
mod keras_match;

// The library's npy module is native only (its crates stay out of the web build); the same
// file is compiled in here, where `super::{CodecError, NpyError}` are this crate's imports:
// the library's CodecError has no Npy case on wasm32, so the test has its own.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum CodecError {
    #[error("NumPy file: {0}")]
    Npy(NpyError),
}
#[path = "../src/codec/npy.rs"]
#[allow(dead_code)]
mod npy;

/// (name, model.json, input.npy, weights.npz, expected.npy) of one forward fixture.
type Fixture = (
    &'static str,
    &'static str,
    &'static [u8],
    &'static [u8],
    &'static [u8],
);

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/forward/",
                $name,
                "/model.json"
            )),
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/forward/",
                $name,
                "/input.npy"
            )),
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/forward/",
                $name,
                "/weights.npz"
            )),
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/forward/",
                $name,
                "/expected.npy"
            )),
        )
    };
}

/// Every product path: im2col convolutions (1-D, 2-D, strided, dilated, grouped, "same"),
/// transposed convolutions, depthwise / separable, Dense on rank 2–3, small whole models, and
/// the recurrent layers (SimpleRNN, LSTM, GRU both ways).
const FIXTURES: &[Fixture] = &[
    fixture!("f001_conv1d_valid"),
    fixture!("f009_conv1d_groups2"),
    fixture!("f011_conv2d_valid"),
    fixture!("f012_conv2d_same"),
    fixture!("f014_conv2d_valid_stride2"),
    fixture!("f018_conv2d_dil2"),
    fixture!("f020_conv2d_groups2"),
    fixture!("f030_conv2dt_valid"),
    fixture!("f031_conv2dt_same_stride2"),
    fixture!("f038_depthwise_mult2_same"),
    fixture!("f042_separable_valid"),
    fixture!("f143_dense_rank3"),
    fixture!("f146_dense_nobias"),
    fixture!("f147_mini_cnn"),
    fixture!("f148_mini_text_cnn"),
    fixture!("f149_mini_autoenc"),
    fixture!("fr001_dense"),
    fixture!("fr050_conv2d_same_s"),
    fixture!("f079_simplernn_last"),
    fixture!("f082_lstm_seq"),
    fixture!("f086_gru_seq"),
    fixture!("f088_gru_reset_after_false_seq"),
];

#[wasm_bindgen_test]
fn built_with_simd() {
    // The point of this file is the SIMD kernel: .cargo/config.toml turns simd128 on (a
    // RUSTFLAGS in the environment replaces it, and then the scalar fallback runs here).
    let simd = std::hint::black_box(cfg!(target_feature = "simd128"));
    assert!(
        simd,
        "built without +simd128: the scalar fallback was tested, not the kernel"
    );
}

#[wasm_bindgen_test]
fn forward_fixtures_match_keras_predict() {
    let mut fails = Vec::new();
    for &(name, model, input, weights, expected) in FIXTURES {
        let model = codec::read_model(model).unwrap();
        let a = analyze(&model);
        let x = npy::read_npy(input).unwrap();
        let want = npy::read_npy(expected).unwrap();
        let w = split_weights(&a, npy::read_weight_list(weights).unwrap()).unwrap();
        if let Some(why) = keras_match::forward_mismatch(&model, &a, &w, x, &want) {
            fails.push(format!("{name}: {why}"));
        }
    }
    assert!(
        fails.is_empty(),
        "{} of {} forward fixtures differ from Keras in wasm:\n{}",
        fails.len(),
        FIXTURES.len(),
        fails.join("\n")
    );
}

fn random(rng: &mut Rng, r: usize, c: usize) -> Array2<f32> {
    Array2::from_shape_simple_fn((r, c), || rng.uniform(-1.0, 1.0))
}

#[wasm_bindgen_test]
fn gemm_matches_naive_triple_loop() {
    let mut rng = Rng::new(2024);
    let sizes = [
        (1, 1, 1),
        (3, 5, 7),
        (33, 17, 65),
        (4, 8, 8),
        (5, 1, 9),
        (2, 100, 15),
        (17, 33, 1),
        (9, 7, 16),
        (121, 288, 64), // the MNIST CNN's second convolution
        (676, 9, 32),   // … and its first
        (1, 1600, 10),  // … and its Dense
        (7, 0, 3),
        (0, 4, 5),
        (6, 4, 0),
    ];
    for &(m, k, n) in &sizes {
        for trial in 0..3 {
            let a = random(&mut rng, m, k);
            let b = random(&mut rng, k, n);
            let got = gemm(a.view(), b.view());
            assert_eq!(got.dim(), (m, n), "{m}×{k}·{k}×{n}");
            for i in 0..m {
                for j in 0..n {
                    let (mut want, mut scale) = (0.0f64, 0.0f64);
                    for t in 0..k {
                        let p = f64::from(a[[i, t]]) * f64::from(b[[t, j]]);
                        want += p;
                        scale += p.abs();
                    }
                    let g = f64::from(got[[i, j]]);
                    assert!(
                        (g - want).abs() <= 1e-5 * (1.0 + scale),
                        "{m}×{k}·{k}×{n} (trial {trial}) at ({i}, {j}): {g} vs {want}"
                    );
                }
            }
        }
    }
}

#[wasm_bindgen_test]
fn gemm_reads_strided_views() {
    let mut rng = Rng::new(5);
    let a = random(&mut rng, 10, 13);
    let b = random(&mut rng, 13, 21);
    // A transposed copy viewed back (column-major), B sliced (non-contiguous rows).
    let at = a.t().to_owned();
    let bs = b.slice(ndarray::s![.., 2..19]);
    let got = gemm(at.t(), bs);
    let want = a.dot(&bs);
    for (g, w) in got.iter().zip(want.iter()) {
        assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
    }
}
