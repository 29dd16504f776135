//! The window view of a convolution or pooling layer: the (padded) input grid with the
//! kernel window sliding over it (padding cells and stride visible), and the output grid
//! with the current cell. Geometry from [`crate::engine::teach::window_story`], values from
//! the forward pass (input channel 0, output channel 0).

use std::rc::Rc;

use ndarray::{ArrayD, IxDyn};
use yew::prelude::*;

use super::fmt::{long, max_abs, short, Hue};
use super::stepper::{use_stepper, StepControls};
use super::RunRef;
use crate::engine::layers::window::WindowGeometry;
use crate::engine::teach::{thousands, WindowStory};

/// Drawing caps (padded input cells per axis).
const MAX_ROWS: usize = 14;
const MAX_COLS: usize = 22;
const C: usize = 34;

#[derive(Properties, PartialEq)]
pub struct WindowProps {
    pub story: Rc<WindowStory>,
    pub run: RunRef,
}

/// Output cells along an axis whose whole window fits in the first `cap` padded cells.
fn visible_out(ax: &WindowGeometry, cap: usize) -> usize {
    (0..ax.out)
        .take_while(|&o| ax.taps(o).last().is_some_and(|&t| t < cap))
        .count()
}

fn value(a: Option<&ArrayD<f32>>, two_d: bool, i: usize, j: usize) -> Option<f32> {
    let a = a?;
    if two_d {
        a.get(IxDyn(&[0, i, j, 0])).copied()
    } else {
        a.get(IxDyn(&[0, j, 0])).copied()
    }
}

fn join(v: &[usize]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// The largest |value| of the input cells drawn (the first `dr` × `dc` padded cells).
fn input_max(
    x: Option<&ArrayD<f32>>,
    two_d: bool,
    ra: &WindowGeometry,
    ca: &WindowGeometry,
    dr: usize,
    dc: usize,
) -> f32 {
    let xs: Vec<f32> = (0..dr)
        .flat_map(|r| (0..dc).map(move |c| (r, c)))
        .filter_map(|(r, c)| match (ra.source(r), ca.source(c)) {
            (Some(i), Some(j)) => value(x, two_d, i, j),
            _ => None,
        })
        .collect();
    max_abs(xs.iter())
}

/// The largest |value| of the `oh` × `ow` output cells drawn.
fn output_max(y: Option<&ArrayD<f32>>, two_d: bool, oh: usize, ow: usize) -> f32 {
    let ys: Vec<f32> = (0..oh)
        .flat_map(|i| (0..ow).map(move |j| (i, j)))
        .filter_map(|(i, j)| value(y, two_d, i, j))
        .collect();
    max_abs(ys.iter())
}

/// The input cells output cell `o` reads along `ax`, e.g. `2–4 + 1 padding`.
fn range(ax: &WindowGeometry, o: usize) -> String {
    let src: Vec<usize> = ax.taps(o).iter().filter_map(|&t| ax.source(t)).collect();
    let pads = ax.window.k - src.len();
    let core = match (src.first(), src.last()) {
        (Some(a), Some(b)) if a == b => format!("{a}"),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "none".into(),
    };
    if pads > 0 {
        format!("{core} + {pads} padding")
    } else {
        core
    }
}

/// What output cell (`oi`, `oj`) reads.
fn current_text(
    two_d: bool,
    ra: &WindowGeometry,
    ca: &WindowGeometry,
    oi: usize,
    oj: usize,
) -> String {
    if two_d {
        format!(
            "output [{oi}, {oj}] ← input rows {}, columns {}",
            range(ra, oi),
            range(ca, oj)
        )
    } else {
        format!("output [{oj}] ← input steps {}", range(ca, oj))
    }
}

/// The lead sentence: the layer's window settings and what each output cell does.
// Inlined (as is `formulas`): called once, and as calls the two cost the cold load ~370 B gzip.
#[inline(always)]
fn lead_text(s: &WindowStory) -> Html {
    let ks: Vec<usize> = s.axes.iter().map(|a| a.geometry.window.k).collect();
    let ss: Vec<usize> = s.axes.iter().map(|a| a.geometry.window.stride()).collect();
    let ds: Vec<usize> = s.axes.iter().map(|a| a.geometry.window.d).collect();
    let channels = |n: usize| {
        if n == 1 {
            "1 channel".to_string()
        } else {
            format!("{} channels", thousands(n as u64))
        }
    };
    let what = if s.pooling {
        format!(
            "takes the {} of the window, channel by channel ({} in and out)",
            if s.class_name.starts_with("Max") {
                "maximum"
            } else {
                "mean"
            },
            channels(s.in_channels)
        )
    } else {
        format!(
            "weighs the window over its {} once per output channel ({} out)",
            channels(s.in_channels),
            thousands(s.out_channels as u64)
        )
    };
    html! {
        <p class="vz-lead">
            {format!("{} {} → {}: window {}, stride {}{}, padding \"{}\". Each output cell {what}.",
                s.class_name, s.input, s.output, join(&ks), join(&ss),
                if ds.iter().any(|&d| d > 1) { format!(", dilation {}", join(&ds)) } else { String::new() },
                s.padding.as_str())}
        </p>
    }
}

/// The output-size formula of each axis, and a note when the drawing is cropped.
#[inline(always)]
fn formulas(s: &WindowStory, cropped: bool, dr: usize, dc: usize) -> Html {
    html! {
        <ul class="vz-formulas">
            { for s.axes.iter().map(|a| html! {
                <li>
                    <b>{a.name}</b>{": out = "}<code>{a.formula.clone()}</code>
                    { if a.geometry.pad_before + a.geometry.pad_after > 0 {
                        format!("; padding {} before, {} after{}", a.geometry.pad_before, a.geometry.pad_after, if s.pooling { " (ignored by pooling)" } else { " (zeros)" })
                    } else { String::new() } }
                </li>
            }) }
            { if cropped { html!{ <li class="vz-note">{format!("Large input: drawing the first {dr} × {dc} padded cells.")}</li> } } else { html!{} } }
        </ul>
    }
}

#[function_component(WindowView)]
pub fn window_view(p: &WindowProps) -> Html {
    let s = &p.story;
    let two_d = s.axes.len() == 2;
    let (ra, ca) = match s.axes.as_slice() {
        [r, c] => (r.geometry, c.geometry),
        [c] => (WindowGeometry::UNIT, c.geometry),
        _ => return html! {},
    };
    let dr = ra.padded_len().min(MAX_ROWS);
    let dc = ca.padded_len().min(MAX_COLS);
    let (oh, ow) = (visible_out(&ra, dr), visible_out(&ca, dc));
    let cropped = dr < ra.padded_len() || dc < ca.padded_len();
    let stepper = use_stepper(oh * ow);
    let pos = stepper.pos;
    let (oi, oj) = (
        pos.checked_div(ow).unwrap_or(0),
        pos.checked_rem(ow).unwrap_or(0),
    );

    let run = &p.run.0;
    let x = run.layer_input(s.index);
    let y = run.layer_output(s.index);
    let xmax = input_max(x, two_d, &ra, &ca, dr, dc);
    let ymax = output_max(y, two_d, oh, ow);

    let lm = 56;
    let top = 46;
    let y_out = top + dr * C + 74;
    let width = lm + dc.max(ow) * C + 24;
    let height = y_out + oh.max(1) * C + 24;
    let taps_r = ra.taps(oi);
    let taps_c = ca.taps(oj);
    let in_window = |r: usize, c: usize| taps_r.contains(&r) && taps_c.contains(&c);
    let pad_text = if s.pooling { "·" } else { "0" };

    let input_cells = (0..dr).flat_map(|r| (0..dc).map(move |c| (r, c))).map(|(r, c)| {
        let (cx, cy) = (lm + c * C, top + r * C);
        let src = (ra.source(r), ca.source(c));
        let win = in_window(r, c);
        match src {
            (Some(i), Some(j)) => {
                let v = value(x, two_d, i, j);
                let idx = if two_d { format!("[{i}, {j}]") } else { format!("[{j}]") };
                let label = match v {
                    Some(v) => format!("input {idx} channel 0 = {}", long(v)),
                    None => format!("input {idx}"),
                };
                html! {
                    <g class={classes!("vz-wcell", win.then_some("vz-in-win"))}>
                        <rect class="vz-cell" x={cx.to_string()} y={cy.to_string()} width={(C - 3).to_string()} height={(C - 3).to_string()} rx="4"
                            fill={v.map_or_else(|| "transparent".into(), |v| Hue::Input.fill(v, xmax))}>
                            <title>{label}</title>
                        </rect>
                        { v.map(|v| html!{ <text class={classes!("vz-val", "vz-small", Hue::light_text(v, xmax).then_some("vz-light"))} x={(cx + C / 2 - 1).to_string()} y={(cy + C / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{short(v)}</text> }).unwrap_or_default() }
                    </g>
                }
            }
            _ => html! {
                <g class={classes!("vz-wcell", "vz-pad", win.then_some("vz-in-win"))}>
                    <rect class="vz-cell vz-pad-cell" x={cx.to_string()} y={cy.to_string()} width={(C - 3).to_string()} height={(C - 3).to_string()} rx="4">
                        <title>{if s.pooling { "padding (ignored by pooling)" } else { "zero padding" }}</title>
                    </rect>
                    <text class="vz-val vz-small vz-pad-t" x={(cx + C / 2 - 1).to_string()} y={(cy + C / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{pad_text}</text>
                </g>
            },
        }
    });
    let window_taps = taps_r
        .iter()
        .flat_map(|&r| taps_c.iter().map(move |&c| (r, c)))
        .filter(|&(r, c)| r < dr && c < dc)
        .map(|(r, c)| {
            html! { <rect class="vz-tap" x={(lm + c * C - 1).to_string()} y={(top + r * C - 1).to_string()} width={(C - 1).to_string()} height={(C - 1).to_string()} rx="5" /> }
        });
    let frame = |o_r: usize, o_c: usize, class: &'static str| -> Html {
        let (tr, tc) = (ra.taps(o_r), ca.taps(o_c));
        let (r0, r1) = (
            tr.first().copied().unwrap_or(0),
            tr.last().copied().unwrap_or(0),
        );
        let (c0, c1) = (
            tc.first().copied().unwrap_or(0),
            tc.last().copied().unwrap_or(0),
        );
        html! {
            <rect class={classes!("vz-frame", class)} x={(lm + c0 * C - 5).to_string()} y={(top + r0 * C - 5).to_string()}
                width={((c1 - c0 + 1) * C + 7).to_string()} height={((r1 - r0 + 1) * C + 7).to_string()} rx="8" />
        }
    };
    let output_cells = (0..oh).flat_map(|i| (0..ow).map(move |j| (i, j))).map(|(i, j)| {
        let (cx, cy) = (lm + j * C, y_out + i * C);
        let v = value(y, two_d, i, j);
        let idx = if two_d { format!("[{i}, {j}]") } else { format!("[{j}]") };
        let cur = i == oi && j == oj;
        html! {
            <g class={classes!("vz-wcell", cur.then_some("vz-current"))}>
                <rect class="vz-cell" x={cx.to_string()} y={cy.to_string()} width={(C - 3).to_string()} height={(C - 3).to_string()} rx="4"
                    fill={v.map_or_else(|| "transparent".into(), |v| Hue::Output.fill(v, ymax))}>
                    <title>{match v { Some(v) => format!("output {idx} channel 0 = {}", long(v)), None => format!("output {idx}") }}</title>
                </rect>
                { v.map(|v| html!{ <text class={classes!("vz-val", "vz-small", Hue::light_text(v, ymax).then_some("vz-light"))} x={(cx + C / 2 - 1).to_string()} y={(cy + C / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{short(v)}</text> }).unwrap_or_default() }
            </g>
        }
    });
    let col_labels = (0..dc).map(|c| {
        let t = ca.source(c).map_or_else(|| "pad".into(), |j| j.to_string());
        html! { <text class={classes!("vz-idx", ca.is_pad(c).then_some("vz-pad-t"))} x={(lm + c * C + C / 2 - 1).to_string()} y={(top - 8).to_string()} text-anchor="middle">{t}</text> }
    });
    let row_labels = (0..dr).filter(|_| two_d).map(|r| {
        let t = ra.source(r).map_or_else(|| "pad".into(), |i| i.to_string());
        html! { <text class={classes!("vz-idx", ra.is_pad(r).then_some("vz-pad-t"))} x={(lm - 8).to_string()} y={(top + r * C + C / 2 + 4).to_string()} text-anchor="end">{t}</text> }
    });

    let current = current_text(two_d, &ra, &ca, oi, oj);

    html! {
        <section class="vz-card vz-window" data-testid="window-view" aria-labelledby="vz-window-h">
            <h2 id="vz-window-h">{format!("{}: the window slides", s.name)}</h2>
            { lead_text(s) }
            <div class="vz-svgwrap">
                <svg class="vz-window-svg" viewBox={format!("0 0 {width} {height}")} width={width.to_string()} style={super::fmt::min_width(width)} role="img"
                    aria-label={format!("Sliding window over the {}input; {current}", if ra.pad_before + ra.pad_after + ca.pad_before + ca.pad_after > 0 { "padded " } else { "" })}>
                    <text class="vz-title vz-input-t" x={lm.to_string()} y="18">{format!("input{} (channel 0)", if ra.pad_before + ra.pad_after + ca.pad_before + ca.pad_after > 0 { ", padded" } else { "" })}</text>
                    { for col_labels }
                    { for row_labels }
                    { for input_cells }
                    { if oj > 0 { frame(oi, oj - 1, "vz-frame-ghost") } else { html!{} } }
                    { for window_taps }
                    { frame(oi, oj, "vz-frame-k") }
                    { if oj > 0 && ca.window.stride() > 0 { html! {
                        <text class="vz-stride" x={(lm + ca.taps(oj).first().copied().unwrap_or(0) * C).to_string()} y={(top + dr * C + 22).to_string()}>
                            {format!("stride {} →", ca.window.stride())}
                        </text>
                    } } else { html!{} } }
                    <text class="vz-title vz-output-t" x={lm.to_string()} y={(y_out - 14).to_string()}>{format!("output {} (channel 0)", s.output)}</text>
                    { for output_cells }
                </svg>
            </div>
            <StepControls label="Slide the window" status={format!("{current} (step {} of {})", pos + 1, thousands((oh * ow) as u64))}
                playing={stepper.playing} disabled={oh * ow <= 1} prev={stepper.prev.clone()} next={stepper.next.clone()} toggle={stepper.toggle.clone()} testid="window-step" />
            { formulas(s, cropped, dr, dc) }
        </section>
    }
}
