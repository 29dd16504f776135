#![cfg(not(target_arch = "wasm32"))]
//! Property tests of the one window-geometry function ([`Window::geometry`]) against a naive
//! enumerator that lists the windows one by one: start positions over the padded input,
//! each covering a dilated span, stopping where a window would run past the padded end.
//! The enumerator knows only what each padding mode means, not the formulas:
//! - valid: no padding;
//! - causal: `d·(k − 1)` cells before, none after;
//! - same: one window per stride step that starts inside the input, and the least total
//!   padding that lets that many windows fit, split with the extra cell after.

use flatland::engine::layers::args::Padding;
use flatland::engine::layers::window::Window;
use flatland::engine::Problem;
use proptest::prelude::*;

/// Padded start positions of the windows over `len` cells: `0, s, 2s, …` while a window of
/// `span` cells still fits.
fn enumerate(len: usize, span: usize, s: usize) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut start = 0;
    while start + span <= len {
        starts.push(start);
        start += s;
    }
    starts
}

/// What the enumerator finds: window starts (padded coordinates) and the pads.
struct Naive {
    starts: Vec<usize>,
    before: usize,
    after: usize,
}

fn naive(n: usize, k: usize, s: usize, d: usize, padding: Padding) -> Naive {
    let span = d * (k - 1) + 1;
    match padding {
        Padding::Valid => Naive {
            starts: enumerate(n, span, s),
            before: 0,
            after: 0,
        },
        Padding::Causal => {
            let before = d * (k - 1);
            Naive {
                starts: enumerate(before + n, span, s),
                before,
                after: 0,
            }
        }
        Padding::Same => {
            // One window per stride step starting inside the input.
            let want = (0..n).step_by(s).count();
            let mut total = 0;
            loop {
                let starts = enumerate(n + total, span, s);
                if starts.len() == want {
                    return Naive {
                        starts,
                        before: total / 2,
                        after: total - total / 2,
                    };
                }
                total += 1;
            }
        }
    }
}

/// Kernel size, stride and dilation.
fn ksd() -> impl Strategy<Value = (usize, usize, usize)> {
    (1usize..9, 1usize..7, 1usize..5)
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![
        Just(Padding::Valid),
        Just(Padding::Same),
        Just(Padding::Causal)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn geometry_matches_the_naive_enumerator(
        n in 0usize..48,
        (k, s, d) in ksd(),
        padding in padding(),
    ) {
        let w = Window::new(n, k, s, d, padding);
        let nv = naive(n, k, s, d, padding);
        let span = d * (k - 1) + 1;
        match w.geometry() {
            Ok(g) => {
                prop_assert_eq!(g.out, nv.starts.len());
                prop_assert_eq!(g.pads(), (nv.before, nv.after));
                prop_assert_eq!(g.span, span);
                prop_assert_eq!(g.padded_len(), nv.before + n + nv.after);
                let tail = format!("= {}", g.out);
                prop_assert!(g.formula().ends_with(&tail), "{}", g.formula());
                for (o, &start) in nv.starts.iter().enumerate() {
                    prop_assert_eq!(g.start(o), start);
                    let taps: Vec<usize> = (0..k).map(|t| start + t * d).collect();
                    prop_assert_eq!(g.taps(o), taps);
                    // The input cells under the window's span, as the enumerator sees them.
                    let cells: Vec<usize> = (start..start + span)
                        .filter(|&p| p >= nv.before && p < nv.before + n)
                        .map(|p| p - nv.before)
                        .collect();
                    prop_assert_eq!(g.cells(o).collect::<Vec<_>>(), cells);
                }
                for p in 0..g.padded_len() + 2 {
                    let inside = p >= nv.before && p < nv.before + n;
                    prop_assert_eq!(g.source(p), inside.then(|| p - nv.before));
                    prop_assert_eq!(g.is_pad(p), !inside);
                }
                // Keras's lengths: same and causal keep ⌈n/s⌉ windows.
                if padding != Padding::Valid {
                    prop_assert_eq!(g.out, n.div_ceil(s));
                }
            }
            Err(e) => {
                // Only "valid" refuses, exactly when no window fits.
                prop_assert_eq!(padding, Padding::Valid);
                prop_assert!(nv.starts.is_empty());
                match e {
                    Problem::WindowTooLarge { axis, span: es, n: en, would } => {
                        prop_assert_eq!((axis, es, en), (None, span, n));
                        prop_assert!(would <= 0);
                    }
                    other => prop_assert!(false, "unexpected error {other:?}"),
                }
            }
        }
        if padding == Padding::Valid {
            prop_assert_eq!(w.geometry().is_err(), nv.starts.is_empty());
        }
    }

    /// A transposed convolution undoes the forward length: the windows of the same kernel
    /// over its output give back the input length (no output_padding, non-empty input).
    #[test]
    fn transposed_length_inverts_the_window(
        n in 1usize..48,
        (k, s, d) in ksd(),
        same in any::<bool>(),
    ) {
        let padding = if same { Padding::Same } else { Padding::Valid };
        let t = Window::new(n, k, s, d, padding).transposed(None);
        prop_assert!(t.is_ok());
        if let Ok(t) = t {
            prop_assert!(t.crop_before < t.span);
            let tail = format!("= {}", t.out);
            prop_assert!(t.formula().ends_with(&tail), "{}", t.formula());
            let back = Window::new(t.out, k, s, d, padding).geometry().map(|g| g.out);
            prop_assert_eq!(back, Ok(n));
        }
    }
}
