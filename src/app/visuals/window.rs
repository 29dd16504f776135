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

/// The drawing's layout, values and current step: what the cells, frames and labels read.
struct Grid<'a> {
    /// Row and column axes (rows are a unit axis in 1D).
    ra: WindowGeometry,
    ca: WindowGeometry,
    two_d: bool,
    pooling: bool,
    /// Padded input cells drawn per axis, output cells drawn, the current output cell.
    dr: usize,
    dc: usize,
    oh: usize,
    ow: usize,
    oi: usize,
    oj: usize,
    /// Padded rows and columns under the current window.
    taps_r: Vec<usize>,
    taps_c: Vec<usize>,
    x: Option<&'a ArrayD<f32>>,
    y: Option<&'a ArrayD<f32>>,
    xmax: f32,
    ymax: f32,
    /// Top of the output grid.
    y_out: usize,
}

/// Left margin and top of the input grid.
const LM: usize = 56;
const TOP: usize = 46;

impl Grid<'_> {
    /// Whether padded cell (r, c) is under the current window.
    fn in_window(&self, r: usize, c: usize) -> bool {
        self.taps_r.contains(&r) && self.taps_c.contains(&c)
    }

    /// Whether either axis is padded.
    fn padded(&self) -> bool {
        self.ra.pad_before + self.ra.pad_after + self.ca.pad_before + self.ca.pad_after > 0
    }

    /// `[i, j]` or `[j]`.
    fn idx(&self, i: usize, j: usize) -> String {
        if self.two_d {
            format!("[{i}, {j}]")
        } else {
            format!("[{j}]")
        }
    }
}

/// The padded input grid: values, or padding cells.
fn input_cells(g: &Grid) -> Vec<Html> {
    let pad_text = if g.pooling { "·" } else { "0" };
    (0..g.dr).flat_map(|r| (0..g.dc).map(move |c| (r, c))).map(|(r, c)| {
        let (cx, cy) = (LM + c * C, TOP + r * C);
        let src = (g.ra.source(r), g.ca.source(c));
        let win = g.in_window(r, c);
        match src {
            (Some(i), Some(j)) => {
                let v = value(g.x, g.two_d, i, j);
                let idx = g.idx(i, j);
                let label = match v {
                    Some(v) => format!("input {idx} channel 0 = {}", long(v)),
                    None => format!("input {idx}"),
                };
                html! {
                    <g class={classes!("vz-wcell", win.then_some("vz-in-win"))}>
                        <rect class="vz-cell" x={cx.to_string()} y={cy.to_string()} width={(C - 3).to_string()} height={(C - 3).to_string()} rx="4"
                            fill={v.map_or_else(|| "transparent".into(), |v| Hue::Input.fill(v, g.xmax))}>
                            <title>{label}</title>
                        </rect>
                        { v.map(|v| html!{ <text class={classes!("vz-val", "vz-small", Hue::light_text(v, g.xmax).then_some("vz-light"))} x={(cx + C / 2 - 1).to_string()} y={(cy + C / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{short(v)}</text> }).unwrap_or_default() }
                    </g>
                }
            }
            _ => html! {
                <g class={classes!("vz-wcell", "vz-pad", win.then_some("vz-in-win"))}>
                    <rect class="vz-cell vz-pad-cell" x={cx.to_string()} y={cy.to_string()} width={(C - 3).to_string()} height={(C - 3).to_string()} rx="4">
                        <title>{if g.pooling { "padding (ignored by pooling)" } else { "zero padding" }}</title>
                    </rect>
                    <text class="vz-val vz-small vz-pad-t" x={(cx + C / 2 - 1).to_string()} y={(cy + C / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{pad_text}</text>
                </g>
            },
        }
    }).collect()
}

/// The cells under the current window.
fn window_taps(g: &Grid) -> Vec<Html> {
    g.taps_r
        .iter()
        .flat_map(|&r| g.taps_c.iter().map(move |&c| (r, c)))
        .filter(|&(r, c)| r < g.dr && c < g.dc)
        .map(|(r, c)| {
            html! { <rect class="vz-tap" x={(LM + c * C - 1).to_string()} y={(TOP + r * C - 1).to_string()} width={(C - 1).to_string()} height={(C - 1).to_string()} rx="5" /> }
        })
        .collect()
}

/// The frame around the window of output cell (`o_r`, `o_c`).
fn frame(g: &Grid, o_r: usize, o_c: usize, class: &'static str) -> Html {
    let (tr, tc) = (g.ra.taps(o_r), g.ca.taps(o_c));
    let (r0, r1) = (
        tr.first().copied().unwrap_or(0),
        tr.last().copied().unwrap_or(0),
    );
    let (c0, c1) = (
        tc.first().copied().unwrap_or(0),
        tc.last().copied().unwrap_or(0),
    );
    html! {
        <rect class={classes!("vz-frame", class)} x={(LM + c0 * C - 5).to_string()} y={(TOP + r0 * C - 5).to_string()}
            width={((c1 - c0 + 1) * C + 7).to_string()} height={((r1 - r0 + 1) * C + 7).to_string()} rx="8" />
    }
}

/// The output grid, the current cell highlighted.
fn output_cells(g: &Grid) -> Vec<Html> {
    (0..g.oh).flat_map(|i| (0..g.ow).map(move |j| (i, j))).map(|(i, j)| {
        let (cx, cy) = (LM + j * C, g.y_out + i * C);
        let v = value(g.y, g.two_d, i, j);
        let idx = g.idx(i, j);
        let cur = i == g.oi && j == g.oj;
        html! {
            <g class={classes!("vz-wcell", cur.then_some("vz-current"))}>
                <rect class="vz-cell" x={cx.to_string()} y={cy.to_string()} width={(C - 3).to_string()} height={(C - 3).to_string()} rx="4"
                    fill={v.map_or_else(|| "transparent".into(), |v| Hue::Output.fill(v, g.ymax))}>
                    <title>{match v { Some(v) => format!("output {idx} channel 0 = {}", long(v)), None => format!("output {idx}") }}</title>
                </rect>
                { v.map(|v| html!{ <text class={classes!("vz-val", "vz-small", Hue::light_text(v, g.ymax).then_some("vz-light"))} x={(cx + C / 2 - 1).to_string()} y={(cy + C / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{short(v)}</text> }).unwrap_or_default() }
            </g>
        }
    }).collect()
}

/// Input indices above the columns and (2D) beside the rows; "pad" for padding.
fn axis_labels(g: &Grid) -> Html {
    let (ra, ca) = (&g.ra, &g.ca);
    let col_labels = (0..g.dc).map(|c| {
        let t = ca.source(c).map_or_else(|| "pad".into(), |j| j.to_string());
        html! { <text class={classes!("vz-idx", ca.is_pad(c).then_some("vz-pad-t"))} x={(LM + c * C + C / 2 - 1).to_string()} y={(TOP - 8).to_string()} text-anchor="middle">{t}</text> }
    });
    let row_labels = (0..g.dr).filter(|_| g.two_d).map(|r| {
        let t = ra.source(r).map_or_else(|| "pad".into(), |i| i.to_string());
        html! { <text class={classes!("vz-idx", ra.is_pad(r).then_some("vz-pad-t"))} x={(LM - 8).to_string()} y={(TOP + r * C + C / 2 + 4).to_string()} text-anchor="end">{t}</text> }
    });
    html! {
        <>
            { for col_labels }
            { for row_labels }
        </>
    }
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

/// What the current output cell reads.
fn current_text(g: &Grid) -> String {
    let (oi, oj) = (g.oi, g.oj);
    if g.two_d {
        format!(
            "output [{oi}, {oj}] ← input rows {}, columns {}",
            range(&g.ra, oi),
            range(&g.ca, oj)
        )
    } else {
        format!("output [{oj}] ← input steps {}", range(&g.ca, oj))
    }
}

/// The lead sentence: the layer's window settings and what each output cell does.
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

/// The SVG: input grid with the window, its frame and the stride, then the output grid.
fn window_svg(g: &Grid, s: &WindowStory, current: &str) -> Html {
    let (oi, oj, dr, ca, y_out) = (g.oi, g.oj, g.dr, &g.ca, g.y_out);
    let width = LM + g.dc.max(g.ow) * C + 24;
    let height = y_out + g.oh.max(1) * C + 24;
    html! {
        <svg class="vz-window-svg" viewBox={format!("0 0 {width} {height}")} width={width.to_string()} style={super::fmt::min_width(width)} role="img"
            aria-label={format!("Sliding window over the {}input; {current}", if g.padded() { "padded " } else { "" })}>
            <text class="vz-title vz-input-t" x={LM.to_string()} y="18">{format!("input{} (channel 0)", if g.padded() { ", padded" } else { "" })}</text>
            { axis_labels(g) }
            { for input_cells(g) }
            { if oj > 0 { frame(g, oi, oj - 1, "vz-frame-ghost") } else { html!{} } }
            { for window_taps(g) }
            { frame(g, oi, oj, "vz-frame-k") }
            { if oj > 0 && ca.window.stride() > 0 { html! {
                <text class="vz-stride" x={(LM + ca.taps(oj).first().copied().unwrap_or(0) * C).to_string()} y={(TOP + dr * C + 22).to_string()}>
                    {format!("stride {} →", ca.window.stride())}
                </text>
            } } else { html!{} } }
            <text class="vz-title vz-output-t" x={LM.to_string()} y={(y_out - 14).to_string()}>{format!("output {} (channel 0)", s.output)}</text>
            { for output_cells(g) }
        </svg>
    }
}

/// The output-size formula of each axis, and a note when the drawing is cropped.
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
    let xs: Vec<f32> = (0..dr)
        .flat_map(|r| (0..dc).map(move |c| (r, c)))
        .filter_map(|(r, c)| match (ra.source(r), ca.source(c)) {
            (Some(i), Some(j)) => value(x, two_d, i, j),
            _ => None,
        })
        .collect();
    let ys: Vec<f32> = (0..oh)
        .flat_map(|i| (0..ow).map(move |j| (i, j)))
        .filter_map(|(i, j)| value(y, two_d, i, j))
        .collect();
    let g = Grid {
        ra,
        ca,
        two_d,
        pooling: s.pooling,
        dr,
        dc,
        oh,
        ow,
        oi,
        oj,
        taps_r: ra.taps(oi),
        taps_c: ca.taps(oj),
        x,
        y,
        xmax: max_abs(xs.iter()),
        ymax: max_abs(ys.iter()),
        y_out: TOP + dr * C + 74,
    };
    let current = current_text(&g);

    html! {
        <section class="vz-card vz-window" data-testid="window-view" aria-labelledby="vz-window-h">
            <h2 id="vz-window-h">{format!("{}: the window slides", s.name)}</h2>
            { lead_text(s) }
            <div class="vz-svgwrap">
                { window_svg(&g, s, &current) }
            </div>
            <StepControls label="Slide the window" status={format!("{current} (step {} of {})", pos + 1, thousands((oh * ow) as u64))}
                playing={stepper.playing} disabled={oh * ow <= 1} prev={stepper.prev.clone()} next={stepper.next.clone()} toggle={stepper.toggle.clone()} testid="window-step" />
            { formulas(s, cropped, dr, dc) }
        </section>
    }
}
