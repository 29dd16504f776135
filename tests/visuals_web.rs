//! Browser tests of the teaching visuals (wasm-bindgen-test in headless Chromium).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;
use std::time::Duration;

use flatland::app::state::{Action, State};
use flatland::app::visuals::Visuals;
use flatland::engine::{analyze, teach, Model};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

fn new_root() -> Element {
    let doc = gloo::utils::document();
    let div = doc.create_element("div").expect("div");
    doc.body()
        .expect("body")
        .append_child(&div)
        .expect("append");
    div
}

/// Let the app react, then wait until the visuals (one frame behind their props) show
/// the current props; up to 5 s.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
    for _ in 0..250 {
        if flatland::app::visuals::settled() {
            break;
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
    }
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

#[derive(Properties, PartialEq)]
struct HostProps {
    model: Model,
}

/// The visuals wired to a page state as the app wires them: A and B come from the state,
/// the compare view's buttons dispatch to it.
#[function_component(Host)]
fn host(p: &HostProps) -> Html {
    let store = use_reducer(|| State::new(p.model.clone()));
    let derived = use_memo(store.model.clone(), |m| {
        (Rc::new(m.clone()), Rc::new(analyze(m)))
    });
    let dispatch = {
        let d = store.dispatcher();
        Callback::from(move |a: Action| d.dispatch(a))
    };
    html! {
        <Visuals model={derived.0.clone()} analysis={derived.1.clone()} selected={store.selected_index()}
            compare={store.compare.clone()} {dispatch} />
    }
}

async fn mount(model: Model) -> Element {
    let root = new_root();
    yew::Renderer::<Host>::with_root_and_props(root.clone(), HostProps { model }).render();
    settle().await;
    root
}

fn q(root: &Element, testid: &str) -> Element {
    root.query_selector(&format!("[data-testid=\"{testid}\"]"))
        .expect("selector")
        .unwrap_or_else(|| panic!("no element with data-testid={testid}"))
}

fn count(root: &Element, testid: &str) -> u32 {
    root.query_selector_all(&format!("[data-testid=\"{testid}\"]"))
        .expect("selector")
        .length()
}

fn text(e: &Element) -> String {
    e.text_content().unwrap_or_default()
}

async fn click(root: &Element, testid: &str) {
    q(root, testid)
        .dyn_into::<HtmlElement>()
        .expect("html element")
        .click();
    settle().await;
}

#[wasm_bindgen_test]
async fn seed_dense_diagram_then_flatten() {
    let root = mount(Model::seed()).await;
    let d = q(&root, "dense-diagram");
    assert_eq!(count(&d, "dense-input-row"), 3);
    assert_eq!(count(&d, "dense-output-row"), 3);
    assert_eq!(
        text(&q(&d, "dense-kernel-label")).split("  ").next(),
        Some("kernel 2 × 16")
    );
    let t = text(&d);
    assert!(t.contains("params = (2 + 1) × 16 = 48"), "{t}");
    assert!(t.contains("multiply-adds = 3 × 2 × 16 = 96"), "{t}");
    assert!(!t.contains("(6 + 1)"), "{t}");
    // Real forward numbers: the counting input row [1, 2] is shown.
    assert!(text(&q(&d, "dense-step-text")).contains("[1, 2]"));

    click(&root, "flatten-toggle").await;
    let d = q(&root, "dense-diagram");
    let t = text(&d);
    assert!(t.contains("112"), "{t}");
    assert!(t.contains("6 × 16"), "{t}");
    assert!(t.contains("params = (6 + 1) × 16 = 112"), "{t}");
    assert!(t.contains("3 × 2 = 6"), "{t}");
    assert!(t.contains("+64"), "{t}");
    assert_eq!(count(&d, "dense-input-row"), 1);
    assert_eq!(
        q(&root, "flatten-toggle")
            .get_attribute("aria-pressed")
            .as_deref(),
        Some("true")
    );

    click(&root, "flatten-toggle").await;
    assert_eq!(count(&q(&root, "dense-diagram"), "dense-input-row"), 3);
}

#[wasm_bindgen_test]
async fn stepping_moves_through_positions() {
    let root = mount(Model::seed()).await;
    assert!(text(&q(&root, "dense-step-text")).starts_with("position 1 of 3"));
    click(&root, "dense-step-next").await;
    let t = text(&q(&root, "dense-step-text"));
    assert!(t.starts_with("position 2 of 3: [3, 4]"), "{t}");
    click(&root, "dense-step-prev").await;
    click(&root, "dense-step-prev").await;
    let t = text(&q(&root, "dense-step-text"));
    assert!(t.starts_with("position 3 of 3: [5, 6]"), "{t}");
}

#[wasm_bindgen_test]
async fn forward_why_and_compare_on_the_seed() {
    let root = mount(Model::seed()).await;
    assert_eq!(count(&root, "tensor-view"), 4);
    assert!(count(&root, "input-view") == 1);
    let why = text(&q(&root, "why-panel"));
    assert!(why.contains("(None, 3, 16)"), "{why}");
    assert!(why.contains("params = (2 + 1) × 16 = 48"), "{why}");
    q(&root, "compare-view");
    assert_eq!(text(&q(&root, "compare-total-a")), "244");
    assert_eq!(text(&q(&root, "compare-total-b")), "244");
    click(&root, "compare-flatten").await;
    // Flatten before the first Dense: 112 + 68 params.
    assert_eq!(text(&q(&root, "compare-total-b")), "180");
    assert_eq!(text(&q(&root, "compare-diff")), "−64");
    assert_eq!(count(&root, "compare-row"), 5);
    // The main stack's test ids are not used here.
    for id in ["output-shape", "param-count", "layer-card", "total-params"] {
        assert_eq!(count(&root, id), 0, "{id}");
    }
}

#[wasm_bindgen_test]
async fn new_weights_change_values() {
    let root = mount(Model::seed()).await;
    let before = text(&q(&root, "dense-step-text"));
    click(&root, "new-weights").await;
    let after = text(&q(&root, "dense-step-text"));
    assert!(before.starts_with("position 1 of 3: [1, 2]"));
    assert_ne!(before, after);
}

#[wasm_bindgen_test]
async fn compare_pairs_set_a_and_b_then_b_is_a_again() {
    let root = mount(Model::seed()).await;
    click(&root, "compare-preset-seed004").await;
    assert_eq!(text(&q(&root, "compare-total-a")), "13,698");
    assert_eq!(text(&q(&root, "compare-total-b")), "58,498");
    // A is now the seed-004 model: its first Dense sits after the Conv2D.
    assert_eq!(count(&root, "tensor-view"), 6);
    q(&root, "window-view");
    let d = text(&q(&root, "dense-diagram"));
    assert!(d.contains("params = (32 + 1) × 100 = 3,300"), "{d}");
    click(&root, "compare-preset-seed000").await;
    assert_eq!(text(&q(&root, "compare-total-a")), "3,601");
    assert_eq!(text(&q(&root, "compare-total-b")), "9,301");
    click(&root, "compare-reset").await;
    assert_eq!(text(&q(&root, "compare-total-b")), "3,601");
}

#[wasm_bindgen_test]
async fn invalid_and_empty_models_still_render() {
    use flatland::engine::{Layer, LayerSpec};
    let mut bad = Model::seed();
    bad.layers.insert(
        1,
        Layer::new("conv2d", LayerSpec::default_of("Conv2D").expect("Conv2D")),
    );
    let root = mount(bad).await;
    // The first Dense is fine and still explained; the forward pass reports the error.
    assert!(text(&q(&root, "dense-diagram")).contains("params = (2 + 1) × 16 = 48"));
    let e = text(&q(&root, "forward-error"));
    assert!(e.contains("needs a 3-D input"), "{e}");
    assert_eq!(text(&q(&root, "compare-total-a")), "error");

    let empty = Model {
        name: "empty".into(),
        input_shape: vec![3, 2],
        layers: vec![],
    };
    let root = mount(empty).await;
    assert_eq!(count(&root, "dense-diagram"), 0);
    assert!(text(&q(&root, "why-panel")).contains("Add a layer"));
    assert_eq!(count(&root, "tensor-view"), 0);
    assert_eq!(text(&q(&root, "compare-total-a")), "0");
}

/// The pixel (RGBA) of a canvas at CSS coordinates (x, y).
fn pixel(canvas: &web_sys::HtmlCanvasElement, x: f64, y: f64) -> Vec<f64> {
    use web_sys::js_sys::{Array, Function, Reflect, Uint8ClampedArray};
    let ctx = canvas.get_context("2d").expect("ctx").expect("2d");
    let dpr = gloo::utils::window().device_pixel_ratio().clamp(1.0, 4.0);
    let get = Reflect::get(&ctx, &"getImageData".into())
        .expect("getImageData")
        .dyn_into::<Function>()
        .expect("function");
    let args = Array::of4(
        &(x * dpr).floor().into(),
        &(y * dpr).floor().into(),
        &1.into(),
        &1.into(),
    );
    let img = Reflect::apply(&get, &ctx, &args).expect("image data");
    let data = Reflect::get(&img, &"data".into())
        .expect("data")
        .dyn_into::<Uint8ClampedArray>()
        .expect("bytes");
    data.to_vec().into_iter().map(f64::from).collect()
}

/// A bubbling `keydown` of `key`.
fn key_down(key: &str) -> web_sys::Event {
    use web_sys::js_sys::{Array, Function, Object, Reflect};
    let init = Object::new();
    Reflect::set(&init, &"key".into(), &key.into()).expect("key");
    Reflect::set(&init, &"bubbles".into(), &true.into()).expect("bubbles");
    let ctor = Reflect::get(&gloo::utils::window(), &"KeyboardEvent".into())
        .expect("KeyboardEvent")
        .dyn_into::<Function>()
        .expect("constructor");
    Reflect::construct(&ctor, &Array::of2(&"keydown".into(), &init))
        .expect("event")
        .dyn_into()
        .expect("Event")
}

/// `rgba(r, g, b, a)` → [r, g, b, 255·a].
fn rgba(fill: &str) -> Vec<f64> {
    let inner = fill
        .trim_start_matches("rgba(")
        .trim_end_matches(')')
        .split(',')
        .map(|s| s.trim().parse::<f64>().expect("number"))
        .collect::<Vec<_>>();
    vec![inner[0], inner[1], inner[2], inner[3] * 255.0]
}

#[wasm_bindgen_test]
async fn heat_maps_draw_the_engine_values_and_read_them_out() {
    use flatland::app::visuals::fmt::{long, Hue};
    use flatland::app::visuals::heat::{readout, Layout};
    use flatland::app::visuals::{default_example, Run};
    let model = Model::seed();
    let analysis = analyze(&model);
    let root = mount(model.clone()).await;
    // One canvas per tensor view, and no per-cell DOM.
    let views = root
        .query_selector_all("[data-testid=\"tensor-view\"]")
        .expect("views");
    assert_eq!(views.length(), 4);
    assert_eq!(count(&root, "heat-canvas"), 5); // input + 4 layers
    assert_eq!(
        root.query_selector_all(".vz-forward rect")
            .expect("q")
            .length(),
        0
    );

    // The seed's first layer output, computed here by the engine with the app's defaults.
    let run = Run::compute(&model, &analysis, &default_example(&model.input_shape), 1);
    let y0 = run.layer_output(0).expect("dense output");
    let grid = teach::first_item_grid(y0).expect("grid");
    let layout = Layout::of(&grid);
    let view = views
        .item(0)
        .expect("first view")
        .dyn_into::<Element>()
        .expect("el");
    let canvas = view
        .query_selector("[data-testid=\"heat-canvas\"]")
        .expect("q")
        .expect("canvas")
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .expect("canvas element");
    let dpr = gloo::utils::window().device_pixel_ratio().clamp(1.0, 4.0);
    assert_eq!(canvas.width(), (layout.width as f64 * dpr) as u32);

    // Maps are drawn once on screen (earlier tests' roots may push this one below).
    canvas.scroll_into_view();
    let (x0, y0) = layout.origin(&layout.cells[0]);
    for _ in 0..40 {
        if pixel(&canvas, x0 as f64 + 3.0, y0 as f64 + 3.0)[3] > 0.0 {
            break;
        }
        settle().await;
    }
    // Each cell's colour is the value's colour (sampled in a corner, away from the text).
    for cell in layout.cells.iter().take(6) {
        let (x, y) = layout.origin(cell);
        let got = pixel(&canvas, x as f64 + 3.0, y as f64 + 3.0);
        let want = rgba(&Hue::Output.fill(cell.v, layout.max));
        // Canvases store premultiplied colour: at low alpha the colour read back is coarse.
        let rgb_tol = (2.0 * 255.0 / want[3].max(1.0)).max(3.0);
        for k in 0..4 {
            let tol = if k == 3 { 3.0 } else { rgb_tol };
            assert!(
                (got[k] - want[k]).abs() <= tol,
                "cell {:?}: pixel {got:?}, want {want:?}",
                (cell.r, cell.c)
            );
        }
    }

    // Keyboard: focus shows the first cell, arrows move; the readout has the engine value.
    let el: HtmlElement = canvas.clone().dyn_into().expect("html");
    el.focus().expect("focus");
    settle().await;
    let out = view
        .query_selector("[data-testid=\"heat-readout\"]")
        .expect("q")
        .expect("readout");
    let name = format!("{} output", model.layers[0].name);
    assert_eq!(text(&out), readout(&name, &layout, 0).expect("cell 0"));
    for key in ["ArrowRight", "ArrowRight", "ArrowDown"] {
        canvas.dispatch_event(&key_down(key)).expect("dispatch");
        settle().await;
    }
    // Row 1, column 2 of the (3, 16) output.
    let want = layout
        .cells
        .iter()
        .position(|c| c.r == 1 && c.c == 2)
        .expect("cell [1, 2]");
    let t = text(&out);
    assert_eq!(t, readout(&name, &layout, want).expect("cell"));
    assert_eq!(t, format!("{name} [1, 2] = {}", long(grid.values[16 + 2])));
}
