//! A heat map of one tensor (first batch item) as an SVG grid: every cell has its value in
//! a `<title>` (hover) and an `aria-label` (keyboard focus).

use std::rc::Rc;

use yew::prelude::*;

use super::fmt::{long, max_abs, short, Hue};
use crate::engine::teach::{thousands, Grid};

/// Most rows / columns drawn; the rest is summarised as "… N more".
pub const MAX_ROWS: usize = 12;
pub const MAX_COLS: usize = 24;
/// Vectors longer than this wrap onto several lines.
pub const WRAP: usize = 16;
/// Most values of a vector drawn.
pub const MAX_VECTOR: usize = 256;

#[derive(Properties, PartialEq)]
pub struct HeatProps {
    pub grid: Rc<Grid>,
    pub hue: Hue,
    /// Name used in labels, e.g. `dense output`.
    pub label: AttrValue,
}

struct Cell {
    r: usize,
    c: usize,
    /// Where it is drawn.
    x: usize,
    y: usize,
    v: f32,
}

#[function_component(HeatMap)]
pub fn heat_map(p: &HeatProps) -> Html {
    let g = &p.grid;
    let vector = g.rows == 1 && g.cols > WRAP;
    let (cells, lines, per_line, more_rows, more_cols) = if vector {
        let shown = g.cols.min(MAX_VECTOR);
        let cells: Vec<Cell> = (0..shown)
            .map(|c| Cell {
                r: 0,
                c,
                x: c % WRAP,
                y: c / WRAP,
                v: g.get(0, c).unwrap_or(f32::NAN),
            })
            .collect();
        (cells, shown.div_ceil(WRAP), WRAP, 0, g.cols - shown)
    } else {
        let (rs, cs) = (g.rows.min(MAX_ROWS), g.cols.min(MAX_COLS));
        let mut cells = Vec::with_capacity(rs * cs);
        for r in 0..rs {
            for c in 0..cs {
                cells.push(Cell {
                    r,
                    c,
                    x: c,
                    y: r,
                    v: g.get(r, c).unwrap_or(f32::NAN),
                });
            }
        }
        (cells, rs, cs, g.rows - rs, g.cols - cs)
    };
    let with_text = cells.len() <= 64 && per_line <= WRAP;
    let (cw, ch) = if with_text {
        (46usize, 30usize)
    } else {
        (20, 20)
    };
    let (gx, gy) = (40usize, 20usize);
    let extra_w = if more_cols > 0 && !vector { 90 } else { 0 };
    let extra_h = if more_rows > 0 || (vector && more_cols > 0) {
        24
    } else {
        0
    };
    let width = gx + per_line * cw + extra_w + 4;
    let height = gy + lines * ch + extra_h + 4;
    let max = max_abs(cells.iter().map(|c| &c.v));
    let name = p.label.clone();
    let view = format!("0 0 {width} {height}");
    let index = |c: &Cell| {
        if vector || g.rows == 1 {
            format!("[{}]", c.c)
        } else {
            format!("[{}, {}]", c.r, c.c)
        }
    };
    let col_labels = (0..per_line).filter(|i| per_line <= 16 || i % 4 == 0).map(|i| {
        html! { <text class="vz-idx" x={(gx + i * cw + cw / 2).to_string()} y={(gy - 6).to_string()} text-anchor="middle">{i}</text> }
    });
    let row_labels = (0..lines).filter(|i| lines <= 16 || i % 4 == 0).map(|i| {
        let label = if vector { i * WRAP } else { i };
        html! { <text class="vz-idx" x={(gx - 6).to_string()} y={(gy + i * ch + ch / 2 + 4).to_string()} text-anchor="end">{label}</text> }
    });
    html! {
        <div class={classes!("vz-heat", (width > 420).then_some("vz-heat-wide"))}>
            <svg viewBox={view} width={width.to_string()} style={super::fmt::min_width(width.min(420))} role="group" aria-label={format!("{name}: heat map of {} × {} values", g.rows, g.cols)}>
                { if vector { html!{} } else { html!{ for col_labels } } }
                { for row_labels }
                { for cells.iter().map(|c| {
                    let (x, y) = (gx + c.x * cw, gy + c.y * ch);
                    let label = format!("{name} {} = {}", index(c), long(c.v));
                    html! {
                        <g class="vz-cellg">
                            <rect class="vz-cell" x={x.to_string()} y={y.to_string()} width={(cw - 2).to_string()} height={(ch - 2).to_string()} rx="3"
                                fill={p.hue.fill(c.v, max)} tabindex="0" role="img" aria-label={label.clone()}>
                                <title>{label}</title>
                            </rect>
                            { if with_text { html! {
                                <text class={classes!("vz-val", Hue::light_text(c.v, max).then_some("vz-light"))} x={(x + cw / 2 - 1).to_string()} y={(y + ch / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{short(c.v)}</text>
                            } } else { html!{} } }
                        </g>
                    }
                }) }
                { if more_cols > 0 && !vector { html! {
                    <text class="vz-more" x={(gx + per_line * cw + 6).to_string()} y={(gy + ch / 2 + 4).to_string()}>{format!("… {} more", thousands(more_cols as u64))}</text>
                } } else { html!{} } }
                { if more_rows > 0 || (vector && more_cols > 0) { html! {
                    <text class="vz-more" x={gx.to_string()} y={(gy + lines * ch + 16).to_string()}>
                        { if vector { format!("… {} more values", thousands(more_cols as u64)) } else { format!("… {} more rows", thousands(more_rows as u64)) } }
                    </text>
                } } else { html!{} } }
            </svg>
            { if vector { html!{ <p class="vz-note">{format!("vector of {}: {WRAP} values per line", thousands(g.cols as u64))}</p> } } else { html!{} } }
            { g.note.as_ref().map(|n| html!{ <p class="vz-note">{n.clone()}</p> }).unwrap_or_default() }
        </div>
    }
}
