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
    let feats = feats_total as usize;
    let stepper = use_stepper(pr);
    let pos = stepper.pos;
    let lead: Vec<usize> = s
        .input
        .dims()
        .split_last()
        .map(|(_, r)| r.to_vec())
        .unwrap_or_default();

    // Geometry (matrix-product layout).
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
    let width = x_out + out_w + 16;
    let height = y_out + out_h + 20;

    let (xv, kv, bv, yv) = match &values {
        Some(m) => (
            m.x.as_slice(),
            m.k.as_slice(),
            m.b.as_deref(),
            m.y.as_slice(),
        ),
        None => (&[][..], &[][..], None, &[][..]),
    };
    let xmax = max_abs(xv.iter());
    let kmax = max_abs(kv.iter().chain(bv.unwrap_or(&[]).iter()));
    let ymax = max_abs(yv.iter());
    let cell = |x: usize, y: usize, v: Option<f32>, hue: Hue, max: f32, title: String| -> Html {
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
    };
    let ellipsis = |x: usize, y: usize, text: String, title: String| -> Html {
        html! { <text class="vz-more" x={x.to_string()} y={y.to_string()}><title>{title}</title>{text}</text> }
    };

    let input_rows = (0..pr).map(|r| {
        let y = y_out + r * CH;
        let cls = classes!("vz-row-g", (r == pos).then_some("vz-current"));
        html! {
            <g class={cls} data-testid="dense-input-row">
                <text class="vz-rowlabel" x={(x_in - 10).to_string()} y={(y + CH / 2 + 4).to_string()} text-anchor="end">
                    { if flat { "vector".to_string() } else { pos_label(r, &lead) } }
                </text>
                { for (0..fc).map(|f| cell(x_in + f * CW, y, xv.get(r * feats + f).copied(), Hue::Input, xmax,
                    if flat { format!("flattened input [{f}]") } else { format!("input {} feature {f}", pos_label(r, &lead)) })) }
                { if more_feats { ellipsis(x_in + fc * CW + 8, y + CH / 2 + 4, "…".into(), format!("{} more features", thousands(feats_total - fc as u64))) } else { html!{} } }
            </g>
        }
    });
    let kernel_rows = (0..fc).map(|f| {
        let y = y_k + f * CH;
        html! {
            <g class="vz-krow">
                <text class="vz-rowlabel" x={(x_out - 10).to_string()} y={(y + CH / 2 + 4).to_string()} text-anchor="end">{format!("f{f}")}</text>
                { for (0..uc).map(|u| cell(x_out + u * CW, y, kv.get(f * units + u).copied(), Hue::Kernel, kmax, format!("kernel [feature {f}, unit {u}]"))) }
                { if more_units { ellipsis(x_out + uc * CW + 8, y + CH / 2 + 4, "…".into(), format!("{} more units", units - uc)) } else { html!{} } }
            </g>
        }
    });
    let output_rows = (0..pr).map(|r| {
        let y = y_out + r * CH;
        let cls = classes!("vz-row-g", if r == pos { "vz-current" } else { "vz-dim" });
        html! {
            <g class={cls} data-testid="dense-output-row">
                { for (0..uc).map(|u| cell(x_out + u * CW, y, yv.get(r * units + u).copied(), Hue::Output, ymax,
                    if flat { format!("output [unit {u}]") } else { format!("output {} unit {u}", pos_label(r, &lead)) })) }
                { if more_units { ellipsis(x_out + uc * CW + 8, y + CH / 2 + 4, format!("… {} more", units - uc), format!("{} more units", units - uc)) } else { html!{} } }
            </g>
        }
    });

    let kernel_label = if flat {
        s.flat_kernel_label()
    } else {
        s.kernel_label()
    };
    let input_label = if flat {
        format!("input 1 × {}", thousands(s.flat_features))
    } else {
        format!("input {} × {}", thousands(s.positions), s.features)
    };
    let output_label = if flat {
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
    let cur_y = y_out + pos * CH;
    let svg_label = format!(
        "{input_label}; kernel {kernel_label}{}; {output_label}",
        if s.use_bias { " plus bias" } else { "" }
    );

    // Step text with real numbers.
    let row = |v: &[f32], r: usize, n: usize| -> Vec<f32> {
        v.iter().skip(r * n).take(n).copied().collect()
    };
    let x_row = row(xv, pos, feats);
    let y_row = row(yv, pos, units);
    let act = s.activation;
    let unit0 = if values.is_some() && !x_row.is_empty() && !y_row.is_empty() {
        let terms: Vec<String> = x_row
            .iter()
            .take(4)
            .enumerate()
            .map(|(f, x)| {
                format!(
                    "{} × {}",
                    term(*x),
                    term(kv.get(f * units).copied().unwrap_or(f32::NAN))
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
        if let Some(b) = bv.and_then(|b| b.first()) {
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
    let where_ = if flat {
        "the whole flattened vector".to_string()
    } else {
        format!("position {} of {}", pos + 1, thousands(s.positions))
    };
    let step_text = format!(
        "{where_}: {} · kernel {kernel_label}{} → {}{}",
        if values.is_some() {
            list(&x_row, 6)
        } else {
            "input row".into()
        },
        if s.use_bias { " + bias" } else { "" },
        if values.is_some() {
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

    let toggle = {
        let flat_state = flat_state.clone();
        Callback::from(move |_| flat_state.set(!*flat_state))
    };
    let on_pick = {
        let cb = p.on_pick.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Ok(i) = el.value().parse::<usize>() {
                cb.emit(i);
            }
        })
    };
    let totals = match (s.model_total, s.flat_model_total) {
        (Some(a), Some(b)) => format!(
            "whole model: {} → {} params ({})",
            thousands(a),
            thousands(b),
            signed_thousands(teach::diff(a, b))
        ),
        (Some(a), None) => format!(
            "whole model: {} params now; with the Flatten a later layer no longer fits",
            thousands(a)
        ),
        _ => String::new(),
    };
    let title = if flat {
        format!("{}: after Flatten, one vector and one big kernel", s.name)
    } else {
        format!("{}: Dense applies one kernel at every position", s.name)
    };

    html! {
        <section class={classes!("vz-card", "vz-dense", flat.then_some("vz-flat"))} data-testid="dense-diagram" aria-labelledby="vz-dense-h">
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
            <p class="vz-lead">
                { format!("{} → {}: ", s.input, if flat { s.flat_output.to_string() } else { s.output.to_string() }) }
                { if flat {
                    format!("Flatten first turns {} into one vector of {}, so the kernel becomes {}.", s.input, thousands(s.flat_features), s.flat_kernel_label())
                } else if s.already_flat() {
                    "the input is already one vector, so there is a single position.".to_string()
                } else {
                    format!("Dense only looks at the last axis ({} features). The same {} kernel turns each of the {} positions into {} units.",
                        s.features, s.kernel_label(), thousands(s.positions), units)
                } }
            </p>
            <div class="vz-svgwrap">
                <svg class="vz-dense-svg" viewBox={format!("0 0 {width} {height}")} width={width.to_string()} style={super::fmt::min_width(width)} role="img" aria-label={svg_label}>
                    <defs>
                        <marker id="vz-arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M0,0 L10,5 L0,10 z" class="vz-arrowhead" />
                        </marker>
                    </defs>
                    <text class="vz-title vz-kernel-t" x={x_out.to_string()} y={(y_k - 16).to_string()} data-testid="dense-kernel-label">
                        {format!("kernel {kernel_label}")}
                        <tspan class="vz-sub">{format!("  {shared}")}</tspan>
                    </text>
                    <g data-testid="dense-kernel" class="vz-kernel">
                        { for kernel_rows }
                        { if more_feats { ellipsis(x_out, y_k + fc * CH + CH / 2 + 4, format!("… {} more rows", thousands(feats_total - fc as u64)), "more kernel rows".into()) } else { html!{} } }
                        { if s.use_bias { html! {
                            <g class="vz-bias" data-testid="dense-bias">
                                <text class="vz-rowlabel" x={(x_out - 10).to_string()} y={(bias_y + CH / 2 + 4).to_string()} text-anchor="end">{"bias"}</text>
                                { for (0..uc).map(|u| cell(x_out + u * CW, bias_y, bv.and_then(|b| b.get(u)).copied(), Hue::Kernel, kmax, format!("bias [unit {u}]"))) }
                            </g>
                        } } else { html!{} } }
                        <rect class="vz-frame vz-frame-k" x={(x_out - 4).to_string()} y={(y_k - 4).to_string()} width={(uc * CW + 5).to_string()} height={(k_h + 5).to_string()} rx="8" />
                    </g>
                    <text class="vz-title vz-input-t" x={x_in.to_string()} y={(y_out - 16).to_string()}>{input_label}</text>
                    <text class="vz-title vz-output-t" x={x_out.to_string()} y={(y_out - 16).to_string()}>{output_label}</text>
                    { for input_rows }
                    { for output_rows }
                    { if more_rows { html! {
                        <text class="vz-more" x={x_in.to_string()} y={(y_out + pr * CH + CH / 2 + 4).to_string()}>
                            {format!("… {} more positions, same kernel", thousands(rows_total - pr as u64))}
                        </text>
                    } } else { html!{} } }
                    { if pr > 0 { html! {
                        <g class="vz-highlight" aria-hidden="true">
                            <rect class="vz-frame vz-frame-in" x={(x_in - 4).to_string()} y={(cur_y - 4).to_string()} width={(fc * CW + 5).to_string()} height={(CH + 5).to_string()} rx="7" />
                            <rect class="vz-frame vz-frame-out" x={(x_out - 4).to_string()} y={(cur_y - 4).to_string()} width={(uc * CW + 5).to_string()} height={(CH + 5).to_string()} rx="7" />
                            <line class="vz-arrow vz-arrow-in" x1={(x_in + in_w + 4).to_string()} y1={(cur_y + CH / 2).to_string()} x2={(x_out - 10).to_string()} y2={(cur_y + CH / 2).to_string()} marker-end="url(#vz-arrow)" />
                            <line class="vz-arrow vz-arrow-k" x1={(x_out + (uc * CW * 3) / 4).to_string()} y1={(y_k + k_h + 6).to_string()} x2={(x_out + (uc * CW * 3) / 4).to_string()} y2={(cur_y - 10).to_string()} marker-end="url(#vz-arrow)" />
                        </g>
                    } } else { html!{} } }
                </svg>
            </div>
            { if !flat && pr > 1 { html! {
                <StepControls label="Step through positions" status={if more_rows { format!("position {} of {} (first {pr} drawn)", pos + 1, thousands(rows_total)) } else { format!("position {} of {pr}", pos + 1) }} playing={stepper.playing}
                    disabled={false} prev={stepper.prev.clone()} next={stepper.next.clone()} toggle={stepper.toggle.clone()} testid="dense-step" />
            } } else { html!{} } }
            { flat_error.map(|e| html!{ <p class="vz-error" role="alert">{e}</p> }).unwrap_or_default() }
            <div class="vz-math" data-testid="dense-math">
                <p class="vz-step-detail" data-testid="dense-step-text">{step_text}</p>
                { unit0.map(|u| html!{ <p class="vz-unit"><code>{u}</code></p> }).unwrap_or_default() }
                { if flat { html! {
                    <ul class="vz-formulas">
                        <li>{format!("Flatten: {} features", s.flatten_formula())}</li>
                        <li>{format!("kernel {} (+ bias {units})", s.flat_kernel_label())}</li>
                        <li class="vz-big"><code>{s.flat_params_formula()}</code></li>
                        <li class="vz-diff">{format!("this layer: {} → {} params ({})", thousands(s.params), thousands(s.flat_params), signed_thousands(s.param_diff()))}</li>
                        { if totals.is_empty() { html!{} } else { html!{ <li>{totals.clone()}</li> } } }
                        <li><code>{s.flat_macs_formula()}</code></li>
                    </ul>
                } } else { html! {
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
                } } }
            </div>
        </section>
    }
}
