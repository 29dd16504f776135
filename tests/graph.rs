//! Graph models: the Keras Functional reader, analysis in topological order, error isolation
//! and the refusals of bad graphs. (Keras parity of real models: `tests/graph_fixtures.rs`.)
#![cfg(not(target_arch = "wasm32"))]

use flatland::codec::keras_graph::{read_graph, GraphReadError};
use flatland::engine::graph::forward::{forward, init_weights};
use flatland::engine::graph::problem::GraphProblem;
use flatland::engine::graph::{analyze, Graph, NodeStatus};
use flatland::engine::{forward::Limits, Model};
use serde_json::{json, Value};

fn tensor(from: &str) -> Value {
    json!({"class_name": "__keras_tensor__", "config": {"shape": [], "dtype": "float32", "keras_history": [from, 0, 0]}})
}

/// A Keras 3 layer entry called on `inputs` (a list call when `list`).
fn layer(class: &str, name: &str, config: Value, inputs: &[&str], list: bool) -> Value {
    let mut c = config;
    c["name"] = json!(name);
    let ts: Vec<Value> = inputs.iter().map(|i| tensor(i)).collect();
    let args = if list { json!([ts]) } else { Value::Array(ts) };
    json!({"class_name": class, "name": name, "config": c,
           "inbound_nodes": [{"args": args, "kwargs": {}}]})
}

fn input(name: &str, shape: &[usize]) -> Value {
    let mut s = vec![Value::Null];
    s.extend(shape.iter().map(|&d| json!(d)));
    json!({"class_name": "InputLayer", "name": name,
           "config": {"batch_shape": s, "name": name}, "inbound_nodes": []})
}

#[allow(clippy::needless_pass_by_value)] // the cases read best with an owned vec![...]
fn model(layers: Vec<Value>, ins: &[&str], outs: &[&str]) -> String {
    let ep = |v: &[&str]| Value::Array(v.iter().map(|n| json!([n, 0, 0])).collect());
    json!({"class_name": "Functional", "config": {"name": "m", "layers": Value::Array(layers),
           "input_layers": ep(ins), "output_layers": ep(outs)}})
    .to_string()
}

fn read(text: &str) -> Graph {
    read_graph(text).unwrap().unwrap()
}

fn residual(extra_filters: usize) -> String {
    model(
        vec![
            input("in", &[8, 8, 4]),
            layer(
                "Conv2D",
                "a",
                json!({"filters": 4, "kernel_size": 3, "padding": "same"}),
                &["in"],
                false,
            ),
            layer(
                "Conv2D",
                "b",
                json!({"filters": extra_filters, "kernel_size": 3, "padding": "same"}),
                &["a"],
                false,
            ),
            layer("Add", "add", json!({}), &["in", "b"], true),
            layer("GlobalAveragePooling2D", "gap", json!({}), &["add"], false),
            layer("Dense", "side", json!({"units": 3}), &["a"], false),
            layer("Dense", "head", json!({"units": 2}), &["gap"], false),
        ],
        &["in"],
        &["head", "side"],
    )
}

#[test]
fn residual_block_shapes_params_and_inbound() {
    let g = read(&residual(4));
    let a = analyze(&g);
    assert!(a.valid(), "{:?}", a.first_error());
    let j = a.to_json(&g);
    let add = &j.layers[2];
    assert_eq!(add.layer.name, "add");
    assert_eq!(add.inbound, vec!["in".to_string(), "b".to_string()]);
    assert_eq!(
        add.layer.output_shape,
        Some(vec![None, Some(8), Some(8), Some(4)])
    );
    // Conv 3×3×4→4: (36 + 1)·4 = 148 each; Dense 4→3 = 15, 4→2 = 10.
    assert_eq!(j.total_params, 148 + 148 + 15 + 10);
    // `side` is a Dense on a 3-D tensor: applied at each of the 8×8 positions.
    assert_eq!(
        j.outputs,
        vec![
            Some(vec![None, Some(2)]),
            Some(vec![None, Some(8), Some(8), Some(3)])
        ]
    );
}

/// One failing branch marks only its dependents; the other branch keeps its numbers.
#[test]
fn an_error_marks_only_the_layers_that_depend_on_it() {
    let g = read(&residual(6));
    let a = analyze(&g);
    let status: Vec<&str> = a
        .layers
        .iter()
        .map(|l| match l.status {
            NodeStatus::Ok => "ok",
            NodeStatus::Error(_) => "error",
            NodeStatus::NotComputed => "not computed",
        })
        .collect();
    assert_eq!(
        status,
        ["ok", "ok", "error", "not computed", "ok", "not computed"]
    );
    let e = a.first_error().map(ToString::to_string).unwrap_or_default();
    assert!(
        e.contains("Add `add`") && e.contains("(8, 8, 4) and (8, 8, 6)"),
        "{e}"
    );
    assert_eq!(a.layers[4].params(), 15, "the side branch keeps its count");
}

#[test]
fn merge_broadcasting_follows_keras() {
    let m = |a: &[usize], b: &[usize], class: &str| {
        let g = read(&model(
            vec![
                input("x", a),
                input("y", b),
                layer(class, "m", json!({}), &["x", "y"], true),
            ],
            &["x", "y"],
            &["m"],
        ));
        let a = analyze(&g);
        a.layers[0].output.as_ref().map(|s| s.dims().to_vec())
    };
    assert_eq!(m(&[4, 8], &[8], "Add"), Some(vec![4, 8]));
    assert_eq!(m(&[4, 1], &[1, 8], "Multiply"), Some(vec![4, 8]));
    assert_eq!(m(&[8], &[4, 8], "Maximum"), Some(vec![4, 8]));
    assert_eq!(m(&[3], &[4], "Average"), None);
}

#[test]
fn merge_forward_broadcasts_like_keras() {
    let g = read(&model(
        vec![
            input("x", &[2, 3]),
            input("y", &[3]),
            layer("Subtract", "s", json!({}), &["x", "y"], true),
        ],
        &["x", "y"],
        &["s"],
    ));
    let a = analyze(&g);
    let w = init_weights(&a, 0, Limits::default()).unwrap();
    let x = ndarray::ArrayD::from_shape_vec(vec![1, 2, 3], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])
        .unwrap();
    let y = ndarray::ArrayD::from_shape_vec(vec![1, 3], vec![1.0f32, 1.0, 2.0]).unwrap();
    let out = forward(&g, &a, &w, &[x, y], Limits::default()).unwrap();
    assert_eq!(
        out[0].iter().copied().collect::<Vec<_>>(),
        vec![0.0, 1.0, 1.0, 3.0, 4.0, 4.0]
    );
}

#[test]
fn subtract_takes_exactly_two_and_concatenate_checks_its_axis() {
    let g = read(&model(
        vec![
            input("x", &[3]),
            layer("Subtract", "s", json!({}), &["x", "x", "x"], true),
            layer("Concatenate", "c", json!({"axis": 1}), &["x", "x"], true),
            layer("Concatenate", "bad", json!({"axis": 3}), &["x", "x"], true),
        ],
        &["x"],
        &["s", "c", "bad"],
    ));
    let a = analyze(&g);
    assert!(matches!(
        a.layers[0].error().map(|e| &e.problem),
        Some(GraphProblem::Arity { got: 3, .. })
    ));
    assert_eq!(
        a.layers[1].output.as_ref().map(|s| s.dims().to_vec()),
        Some(vec![6])
    );
    assert!(a.layers[2].error().is_some());
}

#[test]
fn cycles_and_self_references_are_errors_not_hangs() {
    let g = read(&model(
        vec![
            input("x", &[3]),
            layer("Add", "p", json!({}), &["x", "q"], true),
            layer("Dense", "q", json!({"units": 3}), &["p"], false),
            layer("Dense", "me", json!({"units": 3}), &["me"], false),
        ],
        &["x"],
        &["q"],
    ));
    let a = analyze(&g);
    for l in &a.layers {
        let e = l.error().map(ToString::to_string).unwrap_or_default();
        assert!(e.contains("cycle"), "{}: {e}", l.name);
    }
}

#[test]
fn bad_connections_are_named() {
    let dup = model(
        vec![
            input("x", &[3]),
            layer("Dense", "d", json!({"units": 1}), &["x"], false),
            layer("Dense", "d", json!({"units": 1}), &["x"], false),
        ],
        &["x"],
        &["d"],
    );
    assert_eq!(
        read_graph(&dup),
        Err(GraphReadError::DuplicateName("d".into()))
    );
    let dangling = model(
        vec![
            input("x", &[3]),
            layer("Dense", "d", json!({"units": 1}), &["nowhere"], false),
        ],
        &["x"],
        &["d"],
    );
    assert!(matches!(
        read_graph(&dangling),
        Err(GraphReadError::Dangling { .. })
    ));
    let out = model(
        vec![
            input("x", &[3]),
            layer("Dense", "d", json!({"units": 1}), &["x"], false),
        ],
        &["x"],
        &["zz"],
    );
    assert!(matches!(
        read_graph(&out),
        Err(GraphReadError::Endpoint { .. })
    ));
    let zero_heads = model(
        vec![
            input("x", &[4, 8]),
            layer(
                "MultiHeadAttention",
                "mha",
                json!({"num_heads": 0, "key_dim": 2}),
                &["x", "x"],
                false,
            ),
        ],
        &["x"],
        &["mha"],
    );
    let g = read(&zero_heads);
    let e = analyze(&g)
        .first_error()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(e.contains("num_heads"), "{e}");
}

/// Import and analysis are linear: a 20,000-layer chain reads and analyses (the time is
/// measured in benches/, not here).
#[test]
fn a_long_chain_and_a_wide_concatenate_are_read() {
    let mut layers = vec![input("x", &[4])];
    let mut prev = "x".to_string();
    for i in 0..20_000 {
        let n = format!("d{i}");
        layers.push(layer("ReLU", &n, json!({}), &[&prev], false));
        prev = n;
    }
    let wide: Vec<&str> = vec!["x"; 3000];
    layers.push(layer("Concatenate", "wide", json!({}), &wide, true));
    let g = read(&model(layers, &["x"], &[&prev, "wide"]));
    let a = analyze(&g);
    assert!(a.valid());
    assert_eq!(
        a.layers
            .last()
            .and_then(|l| l.output.as_ref())
            .map(|s| s.dims().to_vec()),
        Some(vec![12_000])
    );
}

/// A chain read as a graph has the chain's shapes and counts.
#[test]
fn a_chain_is_the_simplest_graph() {
    let m = Model::seed();
    let chain = flatland::engine::analyze(&m);
    let g = Graph::from_chain(&m);
    let a = analyze(&g);
    for (c, n) in chain.layers.iter().zip(&a.layers) {
        assert_eq!(
            (c.output.as_ref(), c.params(), c.macs),
            (n.output.as_ref(), n.params(), n.macs)
        );
    }
    assert_eq!(
        a.to_json(&g).layers[0].inbound,
        vec!["input_layer".to_string()]
    );
}
