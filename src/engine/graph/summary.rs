//! Keras's Functional `model.summary()` text: Keras's columns with "Connected to" (each
//! input as `name[0][0]`), then a MACs column.

use super::{Graph, GraphAnalysis};
use crate::engine::summary::{commas, table, totals};

/// The summary of a graph model as text.
pub fn graph_summary_text(g: &Graph, a: &GraphAnalysis) -> String {
    let rows: Vec<[String; 5]> = a
        .layers
        .iter()
        .zip(&g.layers)
        .filter(|(_, n)| !n.operation)
        .map(|(l, n)| {
            let connected: Vec<String> = n
                .inbound
                .iter()
                .map(|&s| format!("{}[0][0]", g.source_name(s)))
                .collect();
            [
                format!("{} ({})", l.name, l.class_name),
                l.shape_text(),
                commas(l.params()),
                connected.join(", "),
                commas(l.macs),
            ]
        })
        .collect();
    let inputs: Vec<[String; 5]> = g
        .inputs
        .iter()
        .zip(&a.inputs)
        .map(|(i, s)| {
            [
                format!("{} (InputLayer)", i.name),
                s.to_string(),
                "0".into(),
                "-".into(),
                "0".into(),
            ]
        })
        .collect();
    let all: Vec<[String; 5]> = inputs.into_iter().chain(rows).collect();
    let mut out = table(
        &g.name,
        [
            "Layer (type)",
            "Output Shape",
            "Param #",
            "Connected to",
            "MACs",
        ],
        [31, 22, 11, 20, 13],
        2,
        &all,
    );
    out += &totals(a.total(), a.trainable, a.non_trainable, a.macs);
    if let Some(e) = a.first_error() {
        out += &format!(" Error: {e}\n");
    }
    out
}
