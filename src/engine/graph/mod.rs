//! Graph models (Keras Functional): several inputs, layers with one or more inbound
//! tensors, several outputs. [`analyze`] runs shape inference, parameter and MAC counting in
//! topological order: a layer that fails gets a typed [`GraphError`], only the layers that
//! depend on it are not computed, the rest keep their numbers. A chain ([`Model`]) is the
//! simplest graph ([`Graph::from_chain`]). Linear in layers + edges.

pub mod forward;
pub mod problem;
pub mod summary;

use serde::Serialize;

use super::layers::multi::MultiSpec;
use super::layers::{Explanation, LayerSpec, WeightSpec};
use super::model::Model;
use super::shape::{checked_product, checked_sum, Shape};
use problem::{GraphError, GraphProblem};

/// A model input (`keras.Input`).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphInput {
    pub name: String,
    /// Shape without the batch axis.
    pub shape: Vec<usize>,
}

/// Where a layer's input comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Model input `i`.
    Input(usize),
    /// The output of layer `i` (model order).
    Layer(usize),
}

/// What a layer computes: a chain kind, or a kind that exists only in graphs.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Single(LayerSpec),
    Multi(MultiSpec),
    /// A layer that could not be read (its reason), kept so the rest still shows.
    Invalid {
        class_name: String,
        reason: String,
    },
}

impl Op {
    pub fn class_name(&self) -> &str {
        match self {
            Op::Single(s) => s.class_name(),
            Op::Multi(m) => m.class_name(),
            Op::Invalid { class_name, .. } => class_name,
        }
    }
}

/// One layer of a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: Op,
    /// Inputs in argument order (a merge's list; attention's query, value, key).
    pub inbound: Vec<Source>,
}

/// A Functional model.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub name: String,
    pub inputs: Vec<GraphInput>,
    /// Every non-input layer, in Keras's `model.layers` order.
    pub layers: Vec<Node>,
    pub outputs: Vec<Source>,
}

impl Graph {
    /// A chain as a graph: one input, each layer fed by the one before.
    pub fn from_chain(m: &Model) -> Graph {
        #[allow(clippy::maybe_infinite_iter)] // a model has finitely many names: one is free
        let input = (0..)
            .map(|i| {
                if i == 0 {
                    "input_layer".to_string()
                } else {
                    format!("input_layer_{i}")
                }
            })
            .find(|n| m.layers.iter().all(|l| l.name != *n))
            .unwrap_or_default();
        let layers = m
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| Node {
                name: l.name.clone(),
                op: Op::Single(l.spec.clone()),
                inbound: vec![if i == 0 {
                    Source::Input(0)
                } else {
                    Source::Layer(i - 1)
                }],
            })
            .collect();
        Graph {
            name: m.name.clone(),
            inputs: vec![GraphInput {
                name: input,
                shape: m.input_shape.clone(),
            }],
            outputs: vec![if m.layers.is_empty() {
                Source::Input(0)
            } else {
                Source::Layer(m.layers.len() - 1)
            }],
            layers,
        }
    }

    /// The name of a source (an input's or a layer's).
    pub fn source_name(&self, s: Source) -> &str {
        match s {
            Source::Input(i) => self.inputs.get(i).map_or("", |x| x.name.as_str()),
            Source::Layer(i) => self.layers.get(i).map_or("", |x| x.name.as_str()),
        }
    }

    /// Layers in an order where every layer comes after its inputs (model order where it
    /// allows), and the layers on a cycle, if any. Linear in layers + edges.
    pub fn topological(&self) -> (Vec<usize>, Vec<usize>) {
        let n = self.layers.len();
        let mut indegree = vec![0usize; n];
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, l) in self.layers.iter().enumerate() {
            for s in &l.inbound {
                if let Source::Layer(j) = *s {
                    if j < n {
                        indegree[i] += 1;
                        consumers[j].push(i);
                    }
                }
            }
        }
        // A min-heap on the model index keeps model order among the ready layers.
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..n)
            .filter(|&i| indegree[i] == 0)
            .map(std::cmp::Reverse)
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse(i)) = ready.pop() {
            order.push(i);
            for &c in &consumers[i] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.push(std::cmp::Reverse(c));
                }
            }
        }
        let cyclic = (0..n).filter(|&i| indegree[i] > 0).collect();
        (order, cyclic)
    }
}

/// Where a layer stands after analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeStatus {
    Ok,
    Error(GraphError),
    /// A layer it depends on failed.
    NotComputed,
}

/// Everything known about one layer of a graph after analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeReport {
    pub name: String,
    pub class_name: String,
    pub inputs: Vec<Shape>,
    pub output: Option<Shape>,
    pub weights: Vec<WeightSpec>,
    pub trainable: u64,
    pub non_trainable: u64,
    pub macs: u64,
    pub output_bytes: u64,
    pub status: NodeStatus,
}

impl NodeReport {
    pub fn params(&self) -> u64 {
        self.trainable.saturating_add(self.non_trainable)
    }
    pub fn error(&self) -> Option<&GraphError> {
        match &self.status {
            NodeStatus::Error(e) => Some(e),
            _ => None,
        }
    }
    pub fn shape_text(&self) -> String {
        match (&self.output, &self.status) {
            (Some(s), _) => s.to_string(),
            (None, NodeStatus::Error(_)) => "error".into(),
            (None, _) => "not computed".into(),
        }
    }
}

/// The result of analysing a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphAnalysis {
    pub inputs: Vec<Shape>,
    /// Per layer, model order.
    pub layers: Vec<NodeReport>,
    /// Evaluation order (layer indices).
    pub order: Vec<usize>,
    pub trainable: u64,
    pub non_trainable: u64,
    pub macs: u64,
}

impl GraphAnalysis {
    pub fn total(&self) -> u64 {
        self.trainable.saturating_add(self.non_trainable)
    }
    pub fn valid(&self) -> bool {
        self.layers.iter().all(|l| l.status == NodeStatus::Ok)
    }
    /// The first error in evaluation order.
    pub fn first_error(&self) -> Option<&GraphError> {
        self.order
            .iter()
            .find_map(|&i| self.layers[i].error())
            .or_else(|| self.layers.iter().find_map(NodeReport::error))
    }
    /// The shape a source carries, when computed.
    pub fn shape_of(&self, s: Source) -> Option<&Shape> {
        match s {
            Source::Input(i) => self.inputs.get(i),
            Source::Layer(i) => self.layers.get(i).and_then(|l| l.output.as_ref()),
        }
    }
}

struct Counted {
    output: Shape,
    weights: Vec<WeightSpec>,
    macs: u64,
}

fn count(op: &Op, inputs: &[Shape]) -> Result<Counted, GraphProblem> {
    match op {
        Op::Single(spec) => {
            let [input] = inputs else {
                return Err(GraphProblem::Arity {
                    expected: problem::Arity::Exactly(1),
                    got: inputs.len(),
                });
            };
            let rules = spec.rules();
            let output = rules.output_shape(input)?;
            let weights = rules.weights(input)?;
            let macs = rules.macs(input, &output)?;
            Ok(Counted {
                output,
                weights,
                macs,
            })
        }
        Op::Multi(m) => {
            let rules = m.rules();
            let output = rules.output_shape(inputs)?;
            if !rules.arity().fits(inputs.len()) {
                return Err(GraphProblem::Arity {
                    expected: rules.arity(),
                    got: inputs.len(),
                });
            }
            let weights = rules.weights(inputs)?;
            let macs = rules.macs(inputs, &output)?;
            Ok(Counted {
                output,
                weights,
                macs,
            })
        }
        Op::Invalid { reason, .. } => Err(GraphProblem::config("config", reason.clone())),
    }
}

fn report(node: &Node, inputs: Vec<Shape>, counted: Result<Counted, GraphError>) -> NodeReport {
    let class_name = node.op.class_name().to_string();
    let mut r = NodeReport {
        name: node.name.clone(),
        class_name,
        inputs,
        output: None,
        weights: Vec::new(),
        trainable: 0,
        non_trainable: 0,
        macs: 0,
        output_bytes: 0,
        status: NodeStatus::Ok,
    };
    match counted {
        Ok(c) => {
            r.output = Some(c.output);
            r.weights = c.weights;
            r.macs = c.macs;
        }
        Err(e) => r.status = NodeStatus::Error(e),
    }
    r
}

/// Fill in the parameter counts and output size, or turn the report into an overflow error.
fn tally(r: &mut NodeReport, index: usize) {
    let res = (|| -> Result<(u64, u64, u64), GraphProblem> {
        let (mut t, mut nt) = (0u64, 0u64);
        for w in &r.weights {
            let n = checked_product(w.shape.iter().map(|&d| d as u64), "parameter count")?;
            let slot = if w.trainable { &mut t } else { &mut nt };
            *slot = checked_sum([*slot, n], "parameter count")?;
        }
        let bytes = match &r.output {
            Some(o) => checked_product([o.elements()?, 4], "output size")?,
            None => 0,
        };
        Ok((t, nt, bytes))
    })();
    match res {
        Ok((t, nt, b)) => {
            r.trainable = t;
            r.non_trainable = nt;
            r.output_bytes = b;
        }
        Err(problem) => {
            r.status = NodeStatus::Error(GraphError {
                index,
                name: r.name.clone(),
                class_name: r.class_name.clone(),
                inputs: r.inputs.clone(),
                problem,
            });
            r.output = None;
            r.weights.clear();
            r.macs = 0;
        }
    }
}

/// Shape inference and counting over the whole graph.
pub fn analyze(g: &Graph) -> GraphAnalysis {
    let inputs: Vec<Shape> = g
        .inputs
        .iter()
        .map(|i| Shape::new(i.shape.clone()))
        .collect();
    let (order, cyclic) = g.topological();
    let mut layers: Vec<Option<NodeReport>> = vec![None; g.layers.len()];
    for &i in &order {
        let node = &g.layers[i];
        let mut shapes = Vec::with_capacity(node.inbound.len());
        let mut missing = false;
        for &s in &node.inbound {
            let shape = match s {
                Source::Input(k) => inputs.get(k),
                Source::Layer(k) => layers
                    .get(k)
                    .and_then(Option::as_ref)
                    .and_then(|r| r.output.as_ref()),
            };
            match shape {
                Some(sh) => shapes.push(sh.clone()),
                None => missing = true,
            }
        }
        let mut r = if missing {
            let mut r = report(node, shapes, Err(not_computed(node, i)));
            r.status = NodeStatus::NotComputed;
            r
        } else {
            let counted = count(&node.op, &shapes).map_err(|problem| GraphError {
                index: i,
                name: node.name.clone(),
                class_name: node.op.class_name().to_string(),
                inputs: shapes.clone(),
                problem,
            });
            report(node, shapes, counted)
        };
        tally(&mut r, i);
        layers[i] = Some(r);
    }
    let cycle_path: Vec<String> = cyclic.iter().map(|&i| g.layers[i].name.clone()).collect();
    for &i in &cyclic {
        let node = &g.layers[i];
        layers[i] = Some(report(
            node,
            Vec::new(),
            Err(GraphError {
                index: i,
                name: node.name.clone(),
                class_name: node.op.class_name().to_string(),
                inputs: Vec::new(),
                problem: GraphProblem::Cycle {
                    path: cycle_path.clone(),
                },
            }),
        ));
    }
    let layers: Vec<NodeReport> = layers.into_iter().flatten().collect();
    let sum =
        |f: fn(&NodeReport) -> u64| checked_sum(layers.iter().map(f), "total").unwrap_or(u64::MAX);
    GraphAnalysis {
        trainable: sum(|l| l.trainable),
        non_trainable: sum(|l| l.non_trainable),
        macs: sum(|l| l.macs),
        inputs,
        layers,
        order,
    }
}

fn not_computed(node: &Node, index: usize) -> GraphError {
    GraphError {
        index,
        name: node.name.clone(),
        class_name: node.op.class_name().to_string(),
        inputs: Vec::new(),
        problem: GraphProblem::config("inputs", "not computed"),
    }
}

/// The "why this shape" explanation of layer `index`.
pub fn explain(g: &Graph, a: &GraphAnalysis, index: usize) -> Option<Explanation> {
    let node = g.layers.get(index)?;
    let r = a.layers.get(index)?;
    Some(match (&r.output, &r.status, &node.op) {
        (Some(o), _, Op::Single(spec)) => match r.inputs.as_slice() {
            [i] => spec.rules().explain(i, o),
            _ => Explanation::new(""),
        },
        (Some(o), _, Op::Multi(m)) => m.rules().explain(&r.inputs, o),
        (_, NodeStatus::Error(e), _) => Explanation::new(e.to_string()),
        _ => Explanation::new("Not computed: a layer it depends on has an error."),
    })
}

/// One layer of `flatland summary --json` for a graph.
#[derive(Debug, Clone, Serialize)]
pub struct JsonNode {
    pub name: String,
    pub class_name: String,
    pub output_shape: Option<Vec<Option<usize>>>,
    pub params: u64,
    pub trainable_params: u64,
    pub non_trainable_params: u64,
    pub macs: u64,
    pub output_bytes: u64,
    pub error: Option<String>,
    pub inbound: Vec<String>,
}

/// The `flatland summary --json` object: the chain's fields plus `inputs`, `outputs` and
/// each layer's `inbound`.
#[derive(Debug, Clone, Serialize)]
pub struct JsonGraph {
    pub valid: bool,
    /// The first input (the chain summary's field).
    pub input_shape: Vec<Option<usize>>,
    pub inputs: Vec<Vec<Option<usize>>>,
    pub outputs: Vec<Option<Vec<Option<usize>>>>,
    pub layers: Vec<JsonNode>,
    pub total_params: u64,
    pub trainable_params: u64,
    pub non_trainable_params: u64,
    pub total_macs: u64,
}

impl GraphAnalysis {
    pub fn to_json(&self, g: &Graph) -> JsonGraph {
        JsonGraph {
            valid: self.valid(),
            input_shape: self
                .inputs
                .first()
                .map(Shape::keras_list)
                .unwrap_or_default(),
            inputs: self.inputs.iter().map(Shape::keras_list).collect(),
            outputs: g
                .outputs
                .iter()
                .map(|&s| self.shape_of(s).map(Shape::keras_list))
                .collect(),
            layers: self
                .layers
                .iter()
                .zip(&g.layers)
                .map(|(l, n)| JsonNode {
                    name: l.name.clone(),
                    class_name: l.class_name.clone(),
                    output_shape: l.output.as_ref().map(Shape::keras_list),
                    params: l.params(),
                    trainable_params: l.trainable,
                    non_trainable_params: l.non_trainable,
                    macs: l.macs,
                    output_bytes: l.output_bytes,
                    error: match &l.status {
                        NodeStatus::Ok => None,
                        NodeStatus::Error(e) => Some(e.to_string()),
                        NodeStatus::NotComputed => {
                            Some("not computed: a layer it depends on has an error".into())
                        }
                    },
                    inbound: n
                        .inbound
                        .iter()
                        .map(|&s| g.source_name(s).to_string())
                        .collect(),
                })
                .collect(),
            total_params: self.total(),
            trainable_params: self.trainable,
            non_trainable_params: self.non_trainable,
            total_macs: self.macs,
        }
    }
}
