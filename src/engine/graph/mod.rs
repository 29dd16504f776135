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
use super::model::{JsonLayer, Model};
use super::shape::{checked_product, checked_sum, Shape};
use problem::{GraphError, GraphProblem};

/// A model input (`keras.Input`).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphInput {
    pub name: String,
    /// Shape without the batch axis.
    pub shape: Vec<usize>,
    /// A fixed batch size (`batch_shape=(2, …)`); `None` for any.
    pub batch: Option<usize>,
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
    /// A model used as a layer (`Sequential` or `Functional`), shown as one block.
    Nested {
        class_name: String,
        graph: Box<Graph>,
    },
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
            Op::Nested { class_name, .. } | Op::Invalid { class_name, .. } => class_name,
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
    /// A Keras operation rather than a layer (`x + y` on Keras tensors is the `Add` of
    /// `keras.src.ops`): part of the graph, but not of Keras's `model.layers`, so not listed
    /// in summaries.
    pub operation: bool,
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
                operation: false,
            })
            .collect();
        Graph {
            name: m.name.clone(),
            inputs: vec![GraphInput {
                name: input,
                shape: m.input_shape.clone(),
                batch: None,
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

    /// The layers the outputs depend on, in Keras's `model.layers` order: by depth from the
    /// outputs (deepest first), ties in the order a depth-first walk from the outputs first
    /// meets them (`keras/src/ops/function.py`, `map_graph`). Iterative: no recursion limit.
    pub fn keras_layer_order(&self) -> Vec<usize> {
        let n = self.layers.len();
        let mut seen = vec![None::<usize>; n];
        let mut done = vec![false; n];
        let mut post: Vec<usize> = Vec::with_capacity(n);
        let mut next = 0usize;
        for &out in &self.outputs {
            let Source::Layer(o) = out else { continue };
            if o >= n || done[o] || seen[o].is_some() {
                continue;
            }
            seen[o] = Some(next);
            next += 1;
            let mut stack: Vec<(usize, usize)> = vec![(o, 0)];
            while let Some(&mut (l, ref mut k)) = stack.last_mut() {
                if let Some(&s) = self.layers[l].inbound.get(*k) {
                    *k += 1;
                    if let Source::Layer(p) = s {
                        if p < n && !done[p] && seen[p].is_none() {
                            seen[p] = Some(next);
                            next += 1;
                            stack.push((p, 0));
                        }
                    }
                } else {
                    done[l] = true;
                    post.push(l);
                    stack.pop();
                }
            }
        }
        let mut depth = vec![0usize; n];
        for &l in post.iter().rev() {
            for s in &self.layers[l].inbound {
                if let Source::Layer(p) = *s {
                    if p < n {
                        depth[p] = depth[p].max(depth[l] + 1);
                    }
                }
            }
        }
        post.sort_by_key(|&l| (std::cmp::Reverse(depth[l]), seen[l]));
        post
    }

    /// The graph with its layers in `order` (indices into `layers`; others dropped).
    #[must_use]
    pub fn reordered(&self, order: &[usize]) -> Graph {
        let mut new_index = vec![None; self.layers.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = Some(new);
        }
        let map = |s: Source| match s {
            Source::Layer(i) => new_index.get(i).copied().flatten().map(Source::Layer),
            input @ Source::Input(_) => Some(input),
        };
        Graph {
            name: self.name.clone(),
            inputs: self.inputs.clone(),
            layers: order
                .iter()
                .map(|&i| {
                    let l = &self.layers[i];
                    Node {
                        name: l.name.clone(),
                        op: l.op.clone(),
                        inbound: l.inbound.iter().filter_map(|&s| map(s)).collect(),
                        operation: l.operation,
                    }
                })
                .collect(),
            outputs: self.outputs.iter().filter_map(|&s| map(s)).collect(),
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
    /// The output's fixed batch size, when an input fixes one.
    pub batch: Option<usize>,
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
        Op::Nested { graph, .. } => {
            let (inner, a) = nested(graph, inputs)?;
            let output = inner
                .outputs
                .first()
                .and_then(|&s| a.shape_of(s))
                .cloned()
                .ok_or_else(|| GraphProblem::Unreadable("the nested model has no output".into()))?;
            if inner.outputs.len() > 1 {
                return Err(GraphProblem::Unreadable(
                    "a nested model with several outputs is not supported yet".into(),
                ));
            }
            Ok(Counted {
                output,
                weights: a.layers.into_iter().flat_map(|l| l.weights).collect(),
                macs: a.macs,
            })
        }
        Op::Invalid { reason, .. } => Err(GraphProblem::Unreadable(reason.clone())),
    }
}

/// A nested model called on `inputs`: its graph with those input shapes, analysed.
///
/// # Errors
/// Another number of inputs than the nested model takes, or its first error.
pub fn nested(graph: &Graph, inputs: &[Shape]) -> Result<(Graph, GraphAnalysis), GraphProblem> {
    if inputs.len() != graph.inputs.len() {
        return Err(GraphProblem::Arity {
            expected: problem::Arity::Exactly(graph.inputs.len()),
            got: inputs.len(),
        });
    }
    let mut inner = graph.clone();
    for (i, s) in inner.inputs.iter_mut().zip(inputs) {
        i.shape = s.dims().to_vec();
    }
    let a = analyze(&inner);
    if let Some(e) = a.first_error() {
        return Err(GraphProblem::Unreadable(format!(
            "inside the nested model: {e}"
        )));
    }
    Ok((inner, a))
}

fn report(node: &Node, inputs: Vec<Shape>, counted: Result<Counted, GraphError>) -> NodeReport {
    let class_name = node.op.class_name().to_string();
    let mut r = NodeReport {
        name: node.name.clone(),
        class_name,
        inputs,
        output: None,
        batch: None,
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
        let mut batches: Vec<usize> = Vec::new();
        let mut missing = false;
        for &s in &node.inbound {
            let b = match s {
                Source::Input(k) => g.inputs.get(k).and_then(|x| x.batch),
                Source::Layer(k) => layers.get(k).and_then(Option::as_ref).and_then(|r| r.batch),
            };
            if let Some(b) = b {
                if !batches.contains(&b) {
                    batches.push(b);
                }
            }
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
            let counted = if batches.len() > 1 {
                Err(GraphProblem::Batch {
                    batches: batches.clone(),
                })
            } else {
                count(&node.op, &shapes)
            };
            let counted = counted.map_err(|problem| GraphError {
                index: i,
                name: node.name.clone(),
                class_name: node.op.class_name().to_string(),
                inputs: shapes.clone(),
                problem,
            });
            report(node, shapes, counted)
        };
        r.batch = batches.first().copied();
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
        (Some(o), _, Op::Nested { graph, .. }) => Explanation::new(format!(
            "A model used as a layer: its {} layers run as one block, {} → {o}.",
            graph.layers.len(),
            r.inputs
                .first()
                .map_or_else(String::new, ToString::to_string)
        )),
        (_, NodeStatus::Error(e), _) => Explanation::new(e.to_string()),
        _ => Explanation::new("Not computed: a layer it depends on has an error."),
    })
}

/// One layer of `flatland summary --json` for a graph: the chain's fields and `inbound`.
#[derive(Debug, Clone, Serialize)]
pub struct JsonNode {
    #[serde(flatten)]
    pub layer: JsonLayer,
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

/// A shape as Keras lists it, with a fixed batch size in front when there is one.
fn with_batch(s: &Shape, batch: Option<usize>) -> Vec<Option<usize>> {
    let mut v = s.keras_list();
    if let Some(first) = v.first_mut() {
        *first = batch;
    }
    v
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
            inputs: self
                .inputs
                .iter()
                .zip(&g.inputs)
                .map(|(s, i)| with_batch(s, i.batch))
                .collect(),
            outputs: g
                .outputs
                .iter()
                .map(|&s| {
                    let b = match s {
                        Source::Input(k) => g.inputs.get(k).and_then(|i| i.batch),
                        Source::Layer(k) => self.layers.get(k).and_then(|l| l.batch),
                    };
                    self.shape_of(s).map(|x| with_batch(x, b))
                })
                .collect(),
            layers: self
                .layers
                .iter()
                .zip(&g.layers)
                .filter(|(_, n)| !n.operation)
                .map(|(l, n)| JsonNode {
                    layer: JsonLayer {
                        name: l.name.clone(),
                        class_name: l.class_name.clone(),
                        output_shape: l.output.as_ref().map(|s| with_batch(s, l.batch)),
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
