//! The Dense diagram: input as positions × features, the kernel drawn once (features ×
//! units, plus bias), output as positions × units, laid out like a matrix product so each
//! output row sits beside its input row and under the one shared kernel. "What if Flatten?"
//! redraws it for the same model with a Flatten inserted (analysed and run by the engine).

use std::rc::Rc;

use ndarray::{ArrayD, Axis};
use yew::prelude::*;

use super::fmt::{long, max_abs, short, term, Hue};
use super::stepper::{use_stepper, StepControls};
use super::{Example, Run, RunRef};
use crate::engine::layers::activation::Activation;
use crate::engine::model::analyze;
use crate::engine::teach::{self, signed_thousands, thousands, DenseStory};
use crate::engine::Model;

/// Drawing caps.
const MAX_POS: usize = 8;
const MAX_FEAT: usize = 8;
const MAX_UNITS: usize = 12;
const CW: usize = 50;
const CH: usize = 32;

#[derive(Properties, PartialEq)]
pub struct DenseProps {
    pub story: Rc<DenseStory>,
    pub model: Rc<Model>,
    pub run: RunRef,
    pub example: Example,
    pub seed: u64,
    /// Dense layers of the model (index, name).
    pub choices: Vec<(usize, String)>,
    pub on_pick: Callback<usize>,
    /// An exercise hides parameter counts: no formulas.
    #[prop_or_default]
    pub hide_params: bool,
}

/// Values of one Dense application: `x` rows × feats, kernel feats × units, bias, `y`.
#[derive(Debug, Clone, PartialEq, Default)]
struct Mats {
    x: Vec<f32>,
    k: Vec<f32>,
    b: Option<Vec<f32>>,
    y: Vec<f32>,
}

fn first_item(a: &ArrayD<f32>) -> Vec<f32> {
    if a.ndim() == 0 {
        return Vec::new();
    }
    a.index_axis(Axis(0), 0).iter().copied().collect()
}

fn mats(run: &Run, index: usize, use_bias: bool) -> Option<Mats> {
    let w = run.layer_weights(index)?;
    Some(Mats {
        x: first_item(run.layer_input(index)?),
        k: w.first()?.iter().copied().collect(),
        b: if use_bias {
            w.get(1).map(|b| b.iter().copied().collect())
        } else {
            None
        },
        y: first_item(run.layer_output(index)?),
    })
}

/// Run the model with a Flatten inserted before the Dense, as far as that Dense.
fn flat_mats(
    model: &Model,
    index: usize,
    example: &Example,
    seed: u64,
    use_bias: bool,
) -> Result<Mats, String> {
    let hyp = teach::truncated(&teach::with_flatten_before(model, index), index + 1);
    let a = analyze(&hyp);
    let run = Run::compute(&hyp, &a, example, seed);
    if let Err(e) = &run.outputs {
        return Err(e.clone());
    }
    mats(&run, index + 1, use_bias).ok_or_else(|| "no values".to_string())
}

fn pos_label(p: usize, lead: &[usize]) -> String {
    if lead.len() <= 1 {
        format!("pos {p}")
    } else {
        let idx = teach::unravel(p as u64, lead);
        format!(
            "({})",
            idx.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn list(v: &[f32], max: usize) -> String {
    let mut s = v
        .iter()
        .take(max)
        .map(|x| short(*x))
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > max {
        s.push_str(", …");
    }
    format!("[{s}]")
}

/// Layout of the matrix-product drawing (cells drawn, totals, SVG coordinates).
#[derive(Clone, Copy)]
struct Geom {
    /// Positions, features and units drawn.
    pr: usize,
    fc: usize,
    uc: usize,
    /// Features and units in full (row strides of the values).
    feats: usize,
    units: usize,
    rows_total: u64,
    feats_total: u64,
    more_feats: bool,
    more_rows: bool,
    more_units: bool,
    x_in: usize,
    x_out: usize,
    in_w: usize,
    y_k: usize,
    bias_y: usize,
    k_h: usize,
    y_out: usize,
    width: usize,
    height: usize,
}

/// The drawing's layout for the story, as the plain or the flattened layer.
fn geom(s: &DenseStory, flat: bool) -> Geom {
    let rows_total: u64 = if flat { 1 } else { s.positions };
    let feats_total: u64 = if flat {
        s.flat_features
    } else {
        s.features as u64
    };
    let units = s.units;
    // Fewer cells on a phone so the numbers stay readable.
    let small = super::fmt::narrow();
    let (max_pos, max_feat, max_units) = if small {
        (6, 4, 4)
    } else {
        (MAX_POS, MAX_FEAT, MAX_UNITS)
    };
    let pr = rows_total.min(max_pos as u64) as usize;
    let fc = feats_total.min(max_feat as u64) as usize;
    let uc = units.min(max_units);
    let more_feats = feats_total > fc as u64;
    let more_rows = rows_total > pr as u64;
    let more_units = units > uc;
    let lm = if small { 62 } else { 84 };
    let top = 52;
    let in_w = fc * CW + if more_feats { CW } else { 0 };
    let x_in = lm;
    let x_out = x_in + in_w + 64;
    let k_rows_h = fc * CH + if more_feats { CH } else { 0 };
    let y_k = top;
    let bias_y = y_k + k_rows_h + 10;
    let k_h = k_rows_h + if s.use_bias { 10 + CH } else { 0 };
    let y_out = y_k + k_h + 64;
    let out_h = pr * CH + if more_rows { CH } else { 0 };
    let out_w = uc * CW + if more_units { 96 } else { 0 };
    Geom {
        pr,
        fc,
        uc,
        feats: feats_total as usize,
        units,
        rows_total,
        feats_total,
        more_feats,
        more_rows,
        more_units,
        x_in,
        x_out,
        in_w,
        y_k,
        bias_y,
        k_h,
        y_out,
        width: x_out + out_w + 16,
        height: y_out + out_h + 20,
    }
}

/// Everything the drawing and the step text read: story, layout, values and the current position.
struct View<'a> {
    s: &'a DenseStory,
    g: Geom,
    flat: bool,
    pos: usize,
    lead: &'a [usize],
    has_values: bool,
    xv: &'a [f32],
    kv: &'a [f32],
    bv: Option<&'a [f32]>,
    yv: &'a [f32],
    xmax: f32,
    kmax: f32,
    ymax: f32,
}

impl<'a> View<'a> {
    /// Bundles the values (empty when not computed) with their colour scales.
    fn new(
        s: &'a DenseStory,
        g: Geom,
        values: Option<&'a Mats>,
        flat: bool,
        pos: usize,
        lead: &'a [usize],
    ) -> Self {
        let (xv, kv, bv, yv) = match values {
            Some(m) => (
                m.x.as_slice(),
                m.k.as_slice(),
                m.b.as_deref(),
                m.y.as_slice(),
            ),
            None => (&[][..], &[][..], None, &[][..]),
        };
        View {
            s,
            g,
            flat,
            pos,
            lead,
            has_values: values.is_some(),
            xv,
            kv,
            bv,
            yv,
            xmax: max_abs(xv.iter()),
            kmax: max_abs(kv.iter().chain(bv.unwrap_or(&[]).iter())),
            ymax: max_abs(yv.iter()),
        }
    }

    /// Row `r` of `v` when rows are `n` long.
    fn row(v: &[f32], r: usize, n: usize) -> Vec<f32> {
        v.iter().skip(r * n).take(n).copied().collect()
    }
}

/// One value cell (blank when the value is unknown) with its hover title.
fn cell(x: usize, y: usize, v: Option<f32>, hue: Hue, max: f32, title: String) -> Html {
    let fill = v.map_or_else(|| "transparent".into(), |v| hue.fill(v, max));
    let light = v.is_some_and(|v| Hue::light_text(v, max));
    html! {
        <g>
            <rect class="vz-cell" x={x.to_string()} y={y.to_string()} width={(CW - 3).to_string()} height={(CH - 3).to_string()} rx="4" fill={fill}>
                <title>{match v { Some(v) => format!("{title} = {}", long(v)), None => title }}</title>
            </rect>
            { v.map(|v| html! {
                <text class={classes!("vz-val", light.then_some("vz-light"))} x={(x + CW / 2 - 1).to_string()} y={(y + CH / 2 + 4).to_string()} text-anchor="middle" aria-hidden="true">{short(v)}</text>
            }).unwrap_or_default() }
        </g>
    }
}

/// The "more cells" marker beside a truncated row or column.
fn ellipsis(x: usize, y: usize, text: String, title: String) -> Html {
    html! { <text class="vz-more" x={x.to_string()} y={y.to_string()}><title>{title}</title>{text}</text> }
}

/// The input rows (one per drawn position), the current one highlighted.
fn input_rows(v: &View) -> Vec<Html> {
    let (g, flat, lead) = (&v.g, v.flat, v.lead);
    (0..g.pr)
        .map(|r| {
            let y = g.y_out + r * CH;
            let cls = classes!("vz-row-g", (r == v.pos).then_some("vz-current"));
            html! {
                <g class={cls} data-testid="dense-input-row">
                    <text class="vz-rowlabel" x={(g.x_in - 10).to_string()} y={(y + CH / 2 + 4).to_string()} text-anchor="end">
                        { if flat { "vector".to_string() } else { pos_label(r, lead) } }
                    </text>
                    { for (0..g.fc).map(|f| cell(g.x_in + f * CW, y, v.xv.get(r * g.feats + f).copied(), Hue::Input, v.xmax,
                        if flat { format!("flattened input [{f}]") } else { format!("input {} feature {f}", pos_label(r, lead)) })) }
                    { if g.more_feats { ellipsis(g.x_in + g.fc * CW + 8, y + CH / 2 + 4, "…".into(), format!("{} more features", thousands(g.feats_total - g.fc as u64))) } else { html!{} } }
                </g>
            }
        })
        .collect()
}

/// The kernel's rows (one per drawn feature).
fn kernel_rows(v: &View) -> Vec<Html> {
    let g = &v.g;
    (0..g.fc)
        .map(|f| {
            let y = g.y_k + f * CH;
            html! {
                <g class="vz-krow">
                    <text class="vz-rowlabel" x={(g.x_out - 10).to_string()} y={(y + CH / 2 + 4).to_string()} text-anchor="end">{format!("f{f}")}</text>
                    { for (0..g.uc).map(|u| cell(g.x_out + u * CW, y, v.kv.get(f * g.units + u).copied(), Hue::Kernel, v.kmax, format!("kernel [feature {f}, unit {u}]"))) }
                    { if g.more_units { ellipsis(g.x_out + g.uc * CW + 8, y + CH / 2 + 4, "…".into(), format!("{} more units", g.units - g.uc)) } else { html!{} } }
                </g>
            }
        })
        .collect()
}

/// The output rows, all but the current one dimmed.
fn output_rows(v: &View) -> Vec<Html> {
    let (g, flat, lead) = (&v.g, v.flat, v.lead);
    (0..g.pr)
        .map(|r| {
            let y = g.y_out + r * CH;
            let cls = classes!("vz-row-g", if r == v.pos { "vz-current" } else { "vz-dim" });
            html! {
                <g class={cls} data-testid="dense-output-row">
                    { for (0..g.uc).map(|u| cell(g.x_out + u * CW, y, v.yv.get(r * g.units + u).copied(), Hue::Output, v.ymax,
                        if flat { format!("output [unit {u}]") } else { format!("output {} unit {u}", pos_label(r, lead)) })) }
                    { if g.more_units { ellipsis(g.x_out + g.uc * CW + 8, y + CH / 2 + 4, format!("… {} more", g.units - g.uc), format!("{} more units", g.units - g.uc)) } else { html!{} } }
                </g>
            }
        })
        .collect()
}

/// The kernel block: its rows, the bias row and the frame around both.
fn kernel_block(v: &View) -> Html {
    let g = &v.g;
    html! {
        <g data-testid="dense-kernel" class="vz-kernel">
            { for kernel_rows(v) }
            { if g.more_feats { ellipsis(g.x_out, g.y_k + g.fc * CH + CH / 2 + 4, format!("… {} more rows", thousands(g.feats_total - g.fc as u64)), "more kernel rows".into()) } else { html!{} } }
            { if v.s.use_bias { html! {
                <g class="vz-bias" data-testid="dense-bias">
                    <text class="vz-rowlabel" x={(g.x_out - 10).to_string()} y={(g.bias_y + CH / 2 + 4).to_string()} text-anchor="end">{"bias"}</text>
                    { for (0..g.uc).map(|u| cell(g.x_out + u * CW, g.bias_y, v.bv.and_then(|b| b.get(u)).copied(), Hue::Kernel, v.kmax, format!("bias [unit {u}]"))) }
                </g>
            } } else { html!{} } }
            <rect class="vz-frame vz-frame-k" x={(g.x_out - 4).to_string()} y={(g.y_k - 4).to_string()} width={(g.uc * CW + 5).to_string()} height={(g.k_h + 5).to_string()} rx="8" />
        </g>
    }
}

/// Frames around the current input and output rows and the arrows into the output.
fn highlight(g: &Geom, pos: usize) -> Html {
    if g.pr == 0 {
        return html! {};
    }
    let cur_y = g.y_out + pos * CH;
    html! {
        <g class="vz-highlight" aria-hidden="true">
            <rect class="vz-frame vz-frame-in" x={(g.x_in - 4).to_string()} y={(cur_y - 4).to_string()} width={(g.fc * CW + 5).to_string()} height={(CH + 5).to_string()} rx="7" />
            <rect class="vz-frame vz-frame-out" x={(g.x_out - 4).to_string()} y={(cur_y - 4).to_string()} width={(g.uc * CW + 5).to_string()} height={(CH + 5).to_string()} rx="7" />
            <line class="vz-arrow vz-arrow-in" x1={(g.x_in + g.in_w + 4).to_string()} y1={(cur_y + CH / 2).to_string()} x2={(g.x_out - 10).to_string()} y2={(cur_y + CH / 2).to_string()} marker-end="url(#vz-arrow)" />
            <line class="vz-arrow vz-arrow-k" x1={(g.x_out + (g.uc * CW * 3) / 4).to_string()} y1={(g.y_k + g.k_h + 6).to_string()} x2={(g.x_out + (g.uc * CW * 3) / 4).to_string()} y2={(cur_y - 10).to_string()} marker-end="url(#vz-arrow)" />
        </g>
    }
}

/// The diagram's captions: kernel, input, output, how the kernel is shared, and the SVG's label.
struct Labels {
    kernel: String,
    input: String,
    output: String,
    shared: String,
    svg: String,
}

/// Captions for the plain or the flattened layer.
fn labels(s: &DenseStory, flat: bool) -> Labels {
    let units = s.units;
    let kernel = if flat {
        s.flat_kernel_label()
    } else {
        s.kernel_label()
    };
    let input = if flat {
        format!("input 1 × {}", thousands(s.flat_features))
    } else {
        format!("input {} × {}", thousands(s.positions), s.features)
    };
    let output = if flat {
        format!("output 1 × {units}")
    } else {
        format!("output {} × {units}", thousands(s.positions))
    };
    let shared = if flat {
        "one big kernel, used once".to_string()
    } else if s.positions == 1 {
        "used at the single position".to_string()
    } else {
        format!(
            "one kernel, shared by all {} positions",
            thousands(s.positions)
        )
    };
    let svg = format!(
        "{input}; kernel {kernel}{}; {output}",
        if s.use_bias { " plus bias" } else { "" }
    );
    Labels {
        kernel,
        input,
        output,
        shared,
        svg,
    }
}

/// The matrix-product SVG: kernel on top, input and output rows below it.
fn diagram_svg(v: &View, l: &Labels) -> Html {
    let g = &v.g;
    let (width, height) = (g.width, g.height);
    html! {
        <svg class="vz-dense-svg" viewBox={format!("0 0 {width} {height}")} width={width.to_string()} style={super::fmt::min_width(width)} role="img" aria-label={l.svg.clone()}>
            <defs>
                <marker id="vz-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" class="vz-arrowhead" />
                </marker>
            </defs>
            <text class="vz-title vz-kernel-t" x={g.x_out.to_string()} y={(g.y_k - 16).to_string()} data-testid="dense-kernel-label">
                {format!("kernel {}", l.kernel)}
                <tspan class="vz-sub">{format!("  {}", l.shared)}</tspan>
            </text>
            { kernel_block(v) }
            <text class="vz-title vz-input-t" x={g.x_in.to_string()} y={(g.y_out - 16).to_string()}>{l.input.clone()}</text>
            <text class="vz-title vz-output-t" x={g.x_out.to_string()} y={(g.y_out - 16).to_string()}>{l.output.clone()}</text>
            { for input_rows(v) }
            { for output_rows(v) }
            { if g.more_rows { html! {
                <text class="vz-more" x={g.x_in.to_string()} y={(g.y_out + g.pr * CH + CH / 2 + 4).to_string()}>
                    {format!("… {} more positions, same kernel", thousands(g.rows_total - g.pr as u64))}
                </text>
            } } else { html!{} } }
            { highlight(g, v.pos) }
        </svg>
    }
}

/// The step text with real numbers (input row · kernel → output row) and unit 0's sum.
fn step_texts(v: &View, kernel_label: &str) -> (String, Option<String>) {
    let (s, g) = (v.s, &v.g);
    let (feats, units) = (g.feats, g.units);
    let x_row = View::row(v.xv, v.pos, feats);
    let y_row = View::row(v.yv, v.pos, units);
    let act = s.activation;
    let unit0 = if v.has_values && !x_row.is_empty() && !y_row.is_empty() {
        let terms: Vec<String> = x_row
            .iter()
            .take(4)
            .enumerate()
            .map(|(f, x)| {
                format!(
                    "{} × {}",
                    term(*x),
                    term(v.kv.get(f * units).copied().unwrap_or(f32::NAN))
                )
            })
            .collect();
        let mut sum = terms.join(" + ");
        if feats > 4 {
            sum.push_str(&format!(
                " + … ({} more terms)",
                thousands(feats as u64 - 4)
            ));
        }
        if let Some(b) = v.bv.and_then(|b| b.first()) {
            sum.push_str(&format!(" + {}", term(*b)));
        }
        let expr = if act == Activation::Linear {
            sum
        } else {
            format!("{}({sum})", act.name())
        };
        Some(format!("unit 0: {expr} = {}", short(y_row[0])))
    } else {
        None
    };
    let where_ = if v.flat {
        "the whole flattened vector".to_string()
    } else {
        format!("position {} of {}", v.pos + 1, thousands(s.positions))
    };
    let step_text = format!(
        "{where_}: {} · kernel {kernel_label}{} → {}{}",
        if v.has_values {
            list(&x_row, 6)
        } else {
            "input row".into()
        },
        if s.use_bias { " + bias" } else { "" },
        if v.has_values {
            list(&y_row, 4)
        } else {
            "output row".into()
        },
        if act == Activation::Linear {
            String::new()
        } else {
            format!(" (then {})", act.name())
        },
    );
    (step_text, unit0)
}

/// The heading row: title, the Dense-layer picker (when there are several) and the Flatten toggle.
fn head(p: &DenseProps, flat: bool, toggle: Callback<MouseEvent>) -> Html {
    let s = &p.story;
    let on_pick = {
        let cb = p.on_pick.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Ok(i) = el.value().parse::<usize>() {
                cb.emit(i);
            }
        })
    };
    let title = if flat {
        format!("{}: after Flatten, one vector and one big kernel", s.name)
    } else if s.already_flat() {
        format!("{}: Dense on one vector, one kernel", s.name)
    } else {
        format!("{}: Dense applies one kernel at every position", s.name)
    };
    html! {
        <div class="vz-head">
            <h2 id="vz-dense-h">{title}</h2>
            <div class="vz-row">
                { if p.choices.len() > 1 { html! {
                    <label class="vz-pick">{"Dense layer "}
                        <select onchange={on_pick} aria-label="Dense layer to draw">
                            { for p.choices.iter().map(|(i, n)| html! { <option value={i.to_string()} selected={*i == s.index}>{n.clone()}</option> }) }
                        </select>
                    </label>
                } } else { html!{} } }
                <button type="button" class={classes!("vz-btn", "vz-toggle", flat.then_some("vz-on"))} data-testid="flatten-toggle"
                    aria-pressed={flat.to_string()} onclick={toggle} disabled={s.already_flat()}
                    title={if s.already_flat() { "The input is already a vector" } else { "Insert a Flatten before this layer" }}>
                    { if flat { "✓ What if Flatten? (on)" } else { "What if Flatten?" } }
                </button>
            </div>
        </div>
    }
}

/// The lead sentence: what Dense (or Flatten then Dense) does to this input.
fn lead_text(s: &DenseStory, flat: bool) -> Html {
    html! {
        <p class="vz-lead">
            { format!("{} → {}: ", s.input, if flat { s.flat_output.to_string() } else { s.output.to_string() }) }
            { if flat {
                format!("Flatten first turns {} into one vector of {}, so the kernel becomes {}.", s.input, thousands(s.flat_features), s.flat_kernel_label())
            } else if s.already_flat() {
                "the input is already one vector, so there is a single position.".to_string()
            } else {
                format!("Dense only looks at the last axis ({} features). The same {} kernel turns each of the {} positions into {} units.",
                    s.features, s.kernel_label(), thousands(s.positions), s.units)
            } }
        </p>
    }
}

/// The parameter and MAC formulas, for the flattened layer (with the whole-model totals) or the plain one.
fn formulas(s: &DenseStory, flat: bool) -> Html {
    if flat {
        let totals = match (s.model_total, s.flat_model_total) {
            (Some(a), Some(b)) => format!(
                "whole model: {} → {} params ({}{})",
                thousands(a),
                thousands(b),
                signed_thousands(teach::diff(a, b)),
                if (b > a) == (s.flat_params > s.params) {
                    ""
                } else {
                    ": the layers after this one change too, as they now see another shape"
                }
            ),
            (Some(a), None) => format!(
                "whole model: {} params now; with the Flatten a later layer no longer fits",
                thousands(a)
            ),
            _ => String::new(),
        };
        html! {
            <ul class="vz-formulas">
                <li class="vz-hint" data-testid="flatten-preview">{"Preview only: your model is unchanged (add a Flatten card to keep it)."}</li>
                <li>{format!("Flatten: {} features", s.flatten_formula())}</li>
                <li>{format!("kernel {} (+ bias {})", s.flat_kernel_label(), s.units)}</li>
                <li class="vz-big"><code>{s.flat_params_formula()}</code></li>
                <li class="vz-diff">{format!("this layer: {} → {} params ({})", thousands(s.params), thousands(s.flat_params), signed_thousands(s.param_diff()))}</li>
                { if totals.is_empty() { html!{} } else { html!{ <li>{totals}</li> } } }
                <li><code>{s.flat_macs_formula()}</code></li>
            </ul>
        }
    } else {
        html! {
            <ul class="vz-formulas">
                <li class="vz-big"><code>{s.params_formula()}</code></li>
                <li>{ if s.positions > 1 {
                    format!("The same {} numbers are used at all {} positions: positions do not add parameters.", thousands(s.params), thousands(s.positions))
                } else {
                    format!("{} parameters: (features{}) × units.", thousands(s.params), if s.use_bias { " + 1 bias" } else { "" })
                } }</li>
                <li><code>{s.macs_formula()}</code>{" (positions × features × units)"}</li>
                { if s.already_flat() { html!{} } else { html! {
                    <li class="vz-hint">{"Press “What if Flatten?” to see this layer fed one flattened vector instead."}</li>
                } } }
            </ul>
        }
    }
}

#[function_component(DenseDiagram)]
pub fn dense_diagram(p: &DenseProps) -> Html {
    let s = &p.story;
    let flat_state = use_state_eq(|| false);
    let flat = *flat_state && !s.already_flat();
    let flat_values = use_memo(
        (
            p.model.clone(),
            s.index,
            p.example.clone(),
            p.seed,
            flat,
            s.use_bias,
        ),
        |(m, i, e, seed, flat, bias)| flat.then(|| flat_mats(m, *i, e, *seed, *bias)),
    );
    let values: Option<Mats> = if flat {
        flat_values
            .as_ref()
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned())
    } else {
        mats(&p.run.0, s.index, s.use_bias)
    };
    let flat_error = if flat {
        flat_values
            .as_ref()
            .as_ref()
            .and_then(|r| r.as_ref().err().cloned())
    } else {
        None
    };

    let g = geom(s, flat);
    let stepper = use_stepper(g.pr);
    let pos = stepper.pos;
    let lead: Vec<usize> = s
        .input
        .dims()
        .split_last()
        .map(|(_, r)| r.to_vec())
        .unwrap_or_default();
    let view = View::new(s, g, values.as_ref(), flat, pos, &lead);
    let l = labels(s, flat);
    let (step_text, unit0) = step_texts(&view, &l.kernel);
    let toggle = {
        let flat_state = flat_state.clone();
        Callback::from(move |_| flat_state.set(!*flat_state))
    };
    let (pr, more_rows) = (g.pr, g.more_rows);

    html! {
        <section class={classes!("vz-card", "vz-dense", flat.then_some("vz-flat"))} data-testid="dense-diagram" aria-labelledby="vz-dense-h">
            { head(p, flat, toggle) }
            { lead_text(s, flat) }
            <div class="vz-svgwrap">
                { diagram_svg(&view, &l) }
            </div>
            { if !flat && pr > 1 { html! {
                <StepControls label="Step through positions" status={if more_rows { format!("position {} of {} (first {pr} drawn)", pos + 1, thousands(g.rows_total)) } else { format!("position {} of {pr}", pos + 1) }} playing={stepper.playing}
                    disabled={false} prev={stepper.prev.clone()} next={stepper.next.clone()} toggle={stepper.toggle.clone()} testid="dense-step" />
            } } else { html!{} } }
            { flat_error.map(|e| html!{ <p class="vz-error" role="alert">{e}</p> }).unwrap_or_default() }
            <div class="vz-math" data-testid="dense-math">
                <p class="vz-step-detail" data-testid="dense-step-text">{step_text}</p>
                { unit0.map(|u| html!{ <p class="vz-unit"><code>{u}</code></p> }).unwrap_or_default() }
                { if p.hide_params { html! { <p class="vz-note" data-testid="formulas-hidden">{"The parameter formulas are hidden in this exercise."}</p> } } else { formulas(s, flat) } }
            </div>
        </section>
    }
}
