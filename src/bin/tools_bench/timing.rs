//! Timing shared by the page's benchmark hooks (`src/bin/flatland-web/bench.rs`) and the tools
//! module's (`src/bin/tools_bench/mod.rs`): `performance.now()` in milliseconds, and the median
//! per-call time over batches long enough (≥ 2 ms) for its resolution not to matter.

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    flatland::engine::small_sort::sort_by(&mut v, |a, b| a.total_cmp(b).is_lt());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// Median milliseconds per call of `f` over `samples` batches (after one warm-up batch). The
/// batch size doubles until a batch takes at least 2 ms (at most 65 536 calls).
pub fn per_call(samples: u32, mut f: impl FnMut()) -> f64 {
    let mut batch = 1u32;
    loop {
        let t = now();
        for _ in 0..batch {
            f();
        }
        if now() - t >= 2.0 || batch >= 65_536 {
            break;
        }
        batch *= 2;
    }
    let times = (0..samples.max(1))
        .map(|_| {
            let t = now();
            for _ in 0..batch {
                f();
            }
            (now() - t) / f64::from(batch)
        })
        .collect();
    median(times)
}
