//! A heat map of one tensor (first batch item), drawn into one `<canvas>`: a 50-layer model
//! repaints its maps with ~50 draw calls instead of ~7,000 SVG node updates per edit.
//!
//! Reading values: pointer hover or a tap, or focus the map and move with the arrow keys (Home / End
//! jump to the ends); the cell's index and value appear in the readout below the map, which
//! screen readers hear (`aria-live`). The canvas itself is an image labelled with the tensor's
//! size and value range.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::js_sys::Array;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, IntersectionObserver, IntersectionObserverEntry,
};
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

/// One drawn cell: its tensor index and where it is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub r: usize,
    pub c: usize,
    /// Column and line in the drawing (vectors wrap).
    pub x: usize,
    pub y: usize,
    pub v: f32,
}

/// Where everything of a heat map goes, in CSS pixels.
#[derive(Debug, PartialEq)]
pub struct Layout {
    pub cells: Vec<Cell>,
    pub vector: bool,
    /// Index text as `[c]` (one row) or `[r, c]`.
    pub one_row: bool,
    pub lines: usize,
    pub per_line: usize,
    pub more_rows: usize,
    pub more_cols: usize,
    pub with_text: bool,
    pub cw: usize,
    pub ch: usize,
    pub gx: usize,
    pub gy: usize,
    pub width: usize,
    pub height: usize,
    pub max: f32,
}

impl Layout {
    pub fn of(g: &Grid) -> Layout {
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
        let (cw, ch) = if with_text { (46, 30) } else { (20, 20) };
        let (gx, gy) = (40, 20);
        let extra_w = if more_cols > 0 && !vector { 90 } else { 0 };
        let extra_h = if more_rows > 0 || (vector && more_cols > 0) {
            24
        } else {
            0
        };
        let max = max_abs(cells.iter().map(|c| &c.v));
        Layout {
            vector,
            one_row: vector || g.rows == 1,
            lines,
            per_line,
            more_rows,
            more_cols,
            with_text,
            cw,
            ch,
            gx,
            gy,
            width: gx + per_line * cw + extra_w + 4,
            height: gy + lines * ch + extra_h + 4,
            max,
            cells,
        }
    }

    /// `[r, c]` or `[c]`.
    pub fn index_text(&self, cell: &Cell) -> String {
        if self.one_row {
            format!("[{}]", cell.c)
        } else {
            format!("[{}, {}]", cell.r, cell.c)
        }
    }

    /// Top-left corner of a cell.
    pub fn origin(&self, cell: &Cell) -> (usize, usize) {
        (self.gx + cell.x * self.cw, self.gy + cell.y * self.ch)
    }

    /// The cell under a point (CSS pixels of the drawing), if any.
    pub fn hit(&self, x: f64, y: f64) -> Option<usize> {
        if x < self.gx as f64 || y < self.gy as f64 {
            return None;
        }
        let col = ((x - self.gx as f64) / self.cw as f64) as usize;
        let line = ((y - self.gy as f64) / self.ch as f64) as usize;
        if col >= self.per_line {
            return None;
        }
        self.cells.iter().position(|c| c.x == col && c.y == line)
    }

    /// The cell reached from `from` by a key, if the key moves.
    pub fn step(&self, from: Option<usize>, key: &str) -> Option<usize> {
        let n = self.cells.len();
        if n == 0 {
            return None;
        }
        let Some(i) = from else {
            return matches!(
                key,
                "ArrowRight" | "ArrowLeft" | "ArrowUp" | "ArrowDown" | "Home" | "End"
            )
            .then(|| if key == "End" { n - 1 } else { 0 });
        };
        let cell = self.cells[i.min(n - 1)];
        let at = |x: usize, y: usize| self.cells.iter().position(|c| c.x == x && c.y == y);
        match key {
            "ArrowRight" => Some((i + 1).min(n - 1)),
            "ArrowLeft" => Some(i.saturating_sub(1)),
            "ArrowDown" => at(cell.x, cell.y + 1).or(Some(i)),
            "ArrowUp" => cell
                .y
                .checked_sub(1)
                .and_then(|y| at(cell.x, y))
                .or(Some(i)),
            "Home" => Some(0),
            "End" => Some(n - 1),
            _ => None,
        }
    }
}

/// Colours of the drawing (the CSS variables of `.vz`, light or dark).
#[allow(clippy::struct_field_names)] // `ink` is the CSS variable --vz-ink
struct Ink {
    line: &'static str,
    ink: &'static str,
    muted: &'static str,
    focus: &'static str,
}

fn ink() -> Ink {
    let dark = gloo::utils::window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches());
    if dark {
        Ink {
            line: "#24324d",
            ink: "#e2e8f0",
            muted: "#94a3b8",
            focus: "#c4b5fd",
        }
    } else {
        Ink {
            line: "#e2e8f0",
            ink: "#0f172a",
            muted: "#475569",
            focus: "#7c3aed",
        }
    }
}

const FONT: &str = "ui-sans-serif, system-ui, sans-serif";

/// Canvas pixels per CSS pixel (1–4).
fn device_pixels() -> f64 {
    gloo::utils::window().device_pixel_ratio().clamp(1.0, 4.0)
}

/// Draw the map (and the cursor cell) into the canvas, whose size attributes the component
/// has rendered.
fn draw(canvas: &HtmlCanvasElement, l: &Layout, hue: Hue, cursor: Option<usize>) {
    let dpr = device_pixels();
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let ink = ink();
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, l.width as f64, l.height as f64);
    let (cw, ch) = (l.cw as f64, l.ch as f64);
    let (gx, gy) = (l.gx as f64, l.gy as f64);

    // Axis indices.
    ctx.set_font(&format!("11px {FONT}"));
    ctx.set_fill_style_str(ink.muted);
    ctx.set_text_baseline("alphabetic");
    if !l.vector {
        ctx.set_text_align("center");
        for i in (0..l.per_line).filter(|i| l.per_line <= 16 || i % 4 == 0) {
            let _ = ctx.fill_text(&i.to_string(), gx + i as f64 * cw + cw / 2.0, gy - 6.0);
        }
    }
    ctx.set_text_align("end");
    for i in (0..l.lines).filter(|i| l.lines <= 16 || i % 4 == 0) {
        let label = if l.vector { i * WRAP } else { i };
        let _ = ctx.fill_text(
            &label.to_string(),
            gx - 6.0,
            gy + i as f64 * ch + ch / 2.0 + 4.0,
        );
    }

    // Cells.
    ctx.set_line_width(1.0);
    ctx.set_stroke_style_str(ink.line);
    for c in &l.cells {
        let (x, y) = l.origin(c);
        let (x, y) = (x as f64, y as f64);
        ctx.set_fill_style_str(&hue.fill(c.v, l.max));
        ctx.fill_rect(x, y, cw - 2.0, ch - 2.0);
        ctx.stroke_rect(x + 0.5, y + 0.5, cw - 3.0, ch - 3.0);
    }
    if l.with_text {
        ctx.set_font(&format!("600 13px {FONT}"));
        ctx.set_text_align("center");
        for c in &l.cells {
            let (x, y) = l.origin(c);
            let light = Hue::light_text(c.v, l.max);
            ctx.set_fill_style_str(if light { "#ffffff" } else { ink.ink });
            let _ = ctx.fill_text(
                &short(c.v),
                (x + l.cw / 2) as f64 - 1.0,
                (y + l.ch / 2) as f64 + 4.0,
            );
        }
    }

    // What is not drawn.
    ctx.set_font(&format!("italic 13px {FONT}"));
    ctx.set_fill_style_str(ink.muted);
    ctx.set_text_align("start");
    if l.more_cols > 0 && !l.vector {
        let _ = ctx.fill_text(
            &format!("… {} more", thousands(l.more_cols as u64)),
            gx + l.per_line as f64 * cw + 6.0,
            gy + ch / 2.0 + 4.0,
        );
    }
    if l.more_rows > 0 || (l.vector && l.more_cols > 0) {
        let text = if l.vector {
            format!("… {} more values", thousands(l.more_cols as u64))
        } else {
            format!("… {} more rows", thousands(l.more_rows as u64))
        };
        let _ = ctx.fill_text(&text, gx, gy + l.lines as f64 * ch + 16.0);
    }

    // The cell being read.
    if let Some(c) = cursor.and_then(|i| l.cells.get(i)) {
        let (x, y) = l.origin(c);
        ctx.set_line_width(3.0);
        ctx.set_stroke_style_str(ink.focus);
        ctx.stroke_rect(x as f64 + 0.5, y as f64 + 0.5, cw - 3.0, ch - 3.0);
    }
}

/// The readout for a cell: `dense output [0, 3] = 0.1234`.
pub fn readout(name: &str, l: &Layout, i: usize) -> Option<String> {
    l.cells
        .get(i)
        .map(|c| format!("{name} {} = {}", l.index_text(c), long(c.v)))
}

/// What a canvas should show: the layout, colours and cursor.
type Picture = (Rc<Layout>, Hue, Option<usize>);

/// Draws a heat map's canvas when it is on screen: a map scrolled out of view is drawn once
/// it comes back (an `IntersectionObserver` says when), so an edit of a 50-layer model
/// draws only the few maps in view.
#[derive(Default)]
struct Painter {
    want: Option<Picture>,
    drawn: Option<Picture>,
    /// The canvas size (device pixels) when it was drawn.
    size: (u32, u32),
    visible: bool,
}

impl Painter {
    fn paint(&mut self, canvas: &NodeRef) {
        let Some(want) = &self.want else {
            return;
        };
        let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
            return;
        };
        // A new size (e.g. the zoom changed the pixel ratio) cleared the canvas.
        let size = (el.width(), el.height());
        let same = self
            .drawn
            .as_ref()
            .is_some_and(|d| Rc::ptr_eq(&d.0, &want.0) && d.1 == want.1 && d.2 == want.2)
            && self.size == size;
        if !self.visible || same {
            return;
        }
        draw(&el, &want.0, want.1, want.2);
        self.drawn = Some(want.clone());
        self.size = size;
    }
}

#[function_component(HeatMap)]
pub fn heat_map(p: &HeatProps) -> Html {
    let layout = use_memo(p.grid.clone(), |g| Layout::of(g));
    let canvas = use_node_ref();
    let cursor = use_state_eq(|| None::<usize>);
    let painter: Rc<RefCell<Painter>> = use_mut_ref(Painter::default);
    // Watch whether the canvas is on screen.
    {
        let canvas = canvas.clone();
        let painter = painter.clone();
        use_effect_with((), move |()| {
            let observer = canvas.cast::<web_sys::Element>().and_then(|el| {
                let node = canvas.clone();
                let on_change = Closure::<dyn FnMut(Array)>::new(move |entries: Array| {
                    let seen = entries
                        .iter()
                        .filter_map(|e| e.dyn_into::<IntersectionObserverEntry>().ok())
                        .next_back()
                        .map(|e| e.is_intersecting());
                    if let Some(seen) = seen {
                        let mut p = painter.borrow_mut();
                        p.visible = seen;
                        p.paint(&node);
                    }
                });
                let io = IntersectionObserver::new(on_change.as_ref().unchecked_ref()).ok()?;
                io.observe(&el);
                Some((io, on_change))
            });
            move || {
                if let Some((io, _)) = observer {
                    io.disconnect();
                }
            }
        });
    }
    // A new tensor of another size starts without a cursor.
    {
        let cursor = cursor.clone();
        use_effect_with((layout.cells.len(), layout.per_line), move |_| {
            cursor.set(None);
        });
    }
    {
        let canvas = canvas.clone();
        let painter = painter.clone();
        use_effect_with((layout.clone(), p.hue, *cursor), move |(l, hue, cur)| {
            let mut p = painter.borrow_mut();
            p.want = Some((l.clone(), *hue, *cur));
            p.paint(&canvas);
        });
    }
    let l = &*layout;
    let g = &p.grid;
    let name = p.label.clone();

    let on_move = {
        let cursor = cursor.clone();
        let layout = layout.clone();
        Callback::from(move |e: PointerEvent| {
            let Some(el) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let rect = el.get_bounding_client_rect();
            if rect.width() <= 0.0 {
                return;
            }
            let scale = layout.width as f64 / rect.width();
            let x = (f64::from(e.client_x()) - rect.left()) * scale;
            let y = (f64::from(e.client_y()) - rect.top()) * scale;
            if let Some(i) = layout.hit(x, y) {
                cursor.set(Some(i));
            }
        })
    };
    let on_key = {
        let cursor = cursor.clone();
        let layout = layout.clone();
        Callback::from(move |e: KeyboardEvent| {
            if let Some(i) = layout.step(*cursor, &e.key()) {
                e.prevent_default();
                cursor.set(Some(i));
            }
        })
    };
    let on_focus = {
        let cursor = cursor.clone();
        Callback::from(move |_: FocusEvent| {
            if cursor.is_none() {
                cursor.set(Some(0));
            }
        })
    };
    let text = cursor
        .and_then(|i| readout(&name, l, i))
        .unwrap_or_else(|| "Hover, or focus and use the arrow keys, to read a value".into());
    let range = {
        let finite = || l.cells.iter().map(|c| c.v).filter(|v| v.is_finite());
        match (finite().reduce(f32::min), finite().reduce(f32::max)) {
            (Some(lo), Some(hi)) => format!(", from {} to {}", long(lo), long(hi)),
            _ => String::new(),
        }
    };
    let shown = l.width.min(420);
    let dpr = device_pixels();
    html! {
        <div class={classes!("vz-heat", (l.width > 420).then_some("vz-heat-wide"))}>
            <canvas ref={canvas} class="vz-heat-canvas" data-testid="heat-canvas"
                width={((l.width as f64 * dpr) as u32).to_string()}
                height={((l.height as f64 * dpr) as u32).to_string()}
                style={format!("width: {}px; min-width: {}px", l.width, shown.min(400))}
                tabindex="0" role="img"
                aria-label={format!("{name}: heat map of {} × {} values{range}", g.rows, g.cols)}
                onpointermove={on_move.clone()} onpointerdown={on_move} onkeydown={on_key} onfocus={on_focus} />
            <p class={classes!("vz-readout", cursor.is_none().then_some("vz-readout-idle"))}
                data-testid="heat-readout" aria-live="polite">{text}</p>
            { if l.vector { html!{ <p class="vz-note">{format!("vector of {}: {WRAP} values per line", thousands(g.cols as u64))}</p> } } else { html!{} } }
            { g.note.as_ref().map(|n| html!{ <p class="vz-note">{n.clone()}</p> }).unwrap_or_default() }
        </div>
    }
}
