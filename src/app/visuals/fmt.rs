//! Display helpers shared by the visuals: number formatting and colour scales. No arithmetic
//! on shapes or parameters happens here; values come from the engine's forward pass.

/// Short cell text: `3`, `0.53`, `−1.2`, `1.5e4`.
pub fn short(v: f32) -> String {
    let s = if !v.is_finite() {
        format!("{v}")
    } else if v.fract() == 0.0 && v.abs() < 1000.0 {
        format!("{}", v as i64)
    } else if v.abs() < 10.0 {
        format!("{v:.2}")
    } else if v.abs() < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.1e}")
    };
    let s = if s == "-0.00" || s == "-0" {
        s[1..].to_string()
    } else {
        s
    };
    s.replacen('-', "−", 1)
}

/// Longer text for tooltips and screen readers: four significant-ish decimals.
pub fn long(v: f32) -> String {
    let s = if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{}", v as i64)
    } else if v.is_finite() && v.abs() < 1e5 {
        format!("{v:.4}")
    } else {
        format!("{v:.4e}")
    };
    s.replacen('-', "−", 1)
}

/// A number with its sign in parentheses when negative, for products: `(−0.33)`.
pub fn term(v: f32) -> String {
    if v < 0.0 {
        format!("({})", short(v))
    } else {
        short(v)
    }
}

/// Largest absolute value (at least a tiny positive number).
pub fn max_abs<'a>(it: impl IntoIterator<Item = &'a f32>) -> f32 {
    it.into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-12)
}

/// Colour families of the visuals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Hue {
    Input,
    Kernel,
    Output,
}

impl Hue {
    fn rgb(self, negative: bool) -> (u8, u8, u8) {
        match (self, negative) {
            (Hue::Input, false) => (37, 99, 235),
            (Hue::Input, true) => (14, 165, 233),
            (Hue::Kernel, false) => (234, 88, 12),
            (Hue::Kernel, true) => (190, 24, 93),
            (Hue::Output, false) => (22, 163, 74),
            (Hue::Output, true) => (147, 51, 234),
        }
    }
    /// Fill for a value scaled by `max`: the family colour, stronger for larger |v|;
    /// negatives use the family's second colour.
    pub fn fill(self, v: f32, max: f32) -> String {
        let t = if v.is_finite() {
            (v.abs() / max).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let (r, g, b) = self.rgb(v < 0.0);
        format!("rgba({r}, {g}, {b}, {:.3})", 0.08 + 0.72 * t)
    }
    /// Whether text on a cell of this strength should be light.
    pub fn light_text(v: f32, max: f32) -> bool {
        v.is_finite() && v.abs() / max > 0.6
    }
}

/// A phone-sized viewport (drawings show fewer cells). Read once and again after each
/// `resize`, not per render: `innerWidth` makes the browser finish a pending layout, which
/// in the middle of an update costs a whole extra layout pass.
pub fn narrow() -> bool {
    use std::cell::Cell;
    thread_local! {
        static NARROW: Cell<Option<bool>> = const { Cell::new(None) };
    }
    fn read() -> bool {
        gloo::utils::window()
            .inner_width()
            .ok()
            .and_then(|v| v.as_f64())
            .is_some_and(|w| w < 640.0)
    }
    NARROW.with(|n| {
        if let Some(v) = n.get() {
            v
        } else {
            let v = read();
            n.set(Some(v));
            gloo::events::EventListener::new(&gloo::utils::window(), "resize", |_| {
                NARROW.with(|n| n.set(Some(read())));
            })
            .forget();
            v
        }
    })
}

/// Inline style keeping an SVG readable: it shrinks with its container down to this width,
/// then the wrapper scrolls.
pub fn min_width(natural: usize) -> String {
    format!("min-width: {}px", natural.min(400))
}
