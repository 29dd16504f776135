//! Keras 3 optimizers with their defaults and update rules, in Keras's order of operations
//! (`keras/src/optimizers/{sgd,adam,adamw,rmsprop}.py` and `base_optimizer.py`): `AdamW`'s
//! decoupled weight decay `w ← w − w·wd·lr` comes before the Adam step, and `iterations`
//! counts steps from 0 (Adam's bias correction uses `iterations + 1`). Arithmetic is f32,
//! as Keras's float32 variables.

use ndarray::{ArrayD, Zip};

use super::TrainError;

/// An optimizer and its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    /// `keras.optimizers.SGD(learning_rate=0.01, momentum=0.0, nesterov=False)`.
    Sgd { momentum: f32, nesterov: bool },
    /// `keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)`.
    Adam,
    /// `keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004, …)`.
    AdamW { weight_decay: f32 },
    /// `keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7)`.
    RmsProp { momentum: f32 },
}

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-7;
const RHO: f32 = 0.9;

impl OptimizerKind {
    /// From a CLI name and an optional momentum (SGD and `RMSprop` only).
    ///
    /// # Errors
    /// Unknown name, a momentum for an optimizer without one, or a momentum outside [0, 1].
    pub fn parse(name: &str, momentum: Option<f32>) -> Result<OptimizerKind, TrainError> {
        if let Some(m) = momentum {
            if !(0.0..=1.0).contains(&m) {
                return Err(TrainError::setting(
                    "--momentum",
                    format!("must be between 0 and 1, got {m}"),
                ));
            }
        }
        let m = momentum.unwrap_or(0.0);
        let kind = match name.to_ascii_lowercase().as_str() {
            "sgd" => OptimizerKind::Sgd {
                momentum: m,
                nesterov: false,
            },
            "adam" => OptimizerKind::Adam,
            "adamw" => OptimizerKind::AdamW {
                weight_decay: 0.004,
            },
            "rmsprop" => OptimizerKind::RmsProp { momentum: m },
            _ => return Err(TrainError::UnknownOptimizer(name.to_string())),
        };
        if m != 0.0 && matches!(kind, OptimizerKind::Adam | OptimizerKind::AdamW { .. }) {
            return Err(TrainError::setting(
                "--momentum",
                format!("applies to sgd and rmsprop, not {name}"),
            ));
        }
        Ok(kind)
    }

    /// Keras's default learning rate.
    pub fn default_lr(self) -> f32 {
        match self {
            OptimizerKind::Sgd { .. } => 0.01,
            _ => 0.001,
        }
    }
}

/// One variable's slots: momentum / first moment, and velocity / second moment.
type Slots = (Option<ArrayD<f32>>, Option<ArrayD<f32>>);

/// An optimizer's state over a fixed list of variables.
#[derive(Debug, Clone)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub lr: f32,
    /// Steps taken (Keras's `optimizer.iterations`).
    pub iterations: u64,
    /// Per variable.
    slots: Vec<Slots>,
}

impl Optimizer {
    /// A fresh optimizer.
    ///
    /// # Errors
    /// A negative or non-finite learning rate.
    pub fn new(kind: OptimizerKind, lr: Option<f32>) -> Result<Optimizer, TrainError> {
        let lr = lr.unwrap_or_else(|| kind.default_lr());
        if !lr.is_finite() || lr < 0.0 {
            return Err(TrainError::setting(
                "--lr",
                format!("must be a non-negative number, got {lr}"),
            ));
        }
        Ok(Optimizer {
            kind,
            lr,
            iterations: 0,
            slots: Vec::new(),
        })
    }

    /// One step over every variable (`vars[i]` with gradient `grads[i]`), then
    /// `iterations += 1`.
    ///
    /// # Errors
    /// A gradient whose shape differs from its variable's.
    pub fn step(
        &mut self,
        vars: &mut [&mut ArrayD<f32>],
        grads: &[&ArrayD<f32>],
    ) -> Result<(), TrainError> {
        if self.slots.len() < vars.len() {
            self.slots.resize(vars.len(), (None, None));
        }
        let lr = self.lr;
        let step = (self.iterations + 1) as f32;
        for (i, (v, g)) in vars.iter_mut().zip(grads).enumerate() {
            if v.shape() != g.shape() {
                return Err(TrainError::Data(format!(
                    "gradient shape {:?} differs from its weight's {:?}",
                    g.shape(),
                    v.shape()
                )));
            }
            let dim = v.raw_dim();
            let zeros = || ArrayD::<f32>::zeros(dim.clone());
            let (m, s) = &mut self.slots[i];
            match self.kind {
                OptimizerKind::Sgd { momentum, nesterov } => {
                    if momentum == 0.0 {
                        Zip::from(&mut **v).and(*g).for_each(|w, &g| *w -= g * lr);
                    } else {
                        let m = m.get_or_insert_with(zeros);
                        Zip::from(&mut **v)
                            .and(&mut *m)
                            .and(*g)
                            .for_each(|w, m, &g| {
                                *m = *m * momentum - g * lr;
                                if nesterov {
                                    *w += *m * momentum - g * lr;
                                } else {
                                    *w += *m;
                                }
                            });
                    }
                }
                OptimizerKind::Adam | OptimizerKind::AdamW { .. } => {
                    if let OptimizerKind::AdamW { weight_decay } = self.kind {
                        v.mapv_inplace(|w| w - w * weight_decay * lr);
                    }
                    let b1p = BETA_1.powf(step);
                    let b2p = BETA_2.powf(step);
                    let alpha = lr * (1.0 - b2p).sqrt() / (1.0 - b1p);
                    let m = m.get_or_insert_with(zeros);
                    let s = s.get_or_insert_with(zeros);
                    Zip::from(&mut **v)
                        .and(&mut *m)
                        .and(&mut *s)
                        .and(*g)
                        .for_each(|w, m, s, &g| {
                            *m += (g - *m) * (1.0 - BETA_1);
                            *s += (g * g - *s) * (1.0 - BETA_2);
                            *w -= (*m * alpha) / (s.sqrt() + EPSILON);
                        });
                }
                OptimizerKind::RmsProp { momentum } => {
                    let s = s.get_or_insert_with(zeros);
                    if momentum > 0.0 {
                        let m = m.get_or_insert_with(zeros);
                        Zip::from(&mut **v)
                            .and(&mut *m)
                            .and(&mut *s)
                            .and(*g)
                            .for_each(|w, m, s, &g| {
                                *s = RHO * *s + (1.0 - RHO) * (g * g);
                                let inc = (lr * g) / (*s + EPSILON).sqrt();
                                *m = momentum * *m + inc;
                                *w -= *m;
                            });
                    } else {
                        Zip::from(&mut **v)
                            .and(&mut *s)
                            .and(*g)
                            .for_each(|w, s, &g| {
                                *s = RHO * *s + (1.0 - RHO) * (g * g);
                                *w -= (lr * g) / (*s + EPSILON).sqrt();
                            });
                    }
                }
            }
        }
        self.iterations += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn run(kind: OptimizerKind, steps: usize) -> f32 {
        // Minimise (w - 3)^2 from w = 0: every optimizer must approach 3.
        let mut opt = Optimizer::new(kind, Some(0.05)).unwrap();
        let mut w = ArrayD::<f32>::zeros(IxDyn(&[1]));
        for _ in 0..steps {
            let g = w.mapv(|v| 2.0 * (v - 3.0));
            opt.step(&mut [&mut w], &[&g]).unwrap();
        }
        w[[0]]
    }

    #[test]
    fn every_optimizer_descends() {
        for kind in [
            OptimizerKind::parse("sgd", None).unwrap(),
            OptimizerKind::parse("sgd", Some(0.9)).unwrap(),
            OptimizerKind::Sgd {
                momentum: 0.9,
                nesterov: true,
            },
            OptimizerKind::parse("adam", None).unwrap(),
            OptimizerKind::parse("adamw", None).unwrap(),
            OptimizerKind::parse("rmsprop", None).unwrap(),
            OptimizerKind::parse("rmsprop", Some(0.5)).unwrap(),
        ] {
            let w = run(kind, 400);
            assert!((w - 3.0).abs() < 0.2, "{kind:?}: {w}");
        }
    }

    #[test]
    fn plain_sgd_is_one_gradient_step() {
        let mut opt = Optimizer::new(OptimizerKind::parse("sgd", None).unwrap(), None).unwrap();
        let mut w = ArrayD::<f32>::from_elem(IxDyn(&[2]), 1.5);
        let g = ArrayD::<f32>::from_elem(IxDyn(&[2]), 0.25);
        let before = w.clone();
        opt.step(&mut [&mut w], &[&g]).unwrap();
        let want = &before - &(&g * opt.kind.default_lr());
        assert_eq!(w, want);
        assert_eq!(opt.iterations, 1);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(OptimizerKind::parse("lion", None).is_err());
        assert!(OptimizerKind::parse("adam", Some(0.9)).is_err());
        assert!(OptimizerKind::parse("sgd", Some(1.5)).is_err());
        assert!(Optimizer::new(OptimizerKind::Adam, Some(-1.0)).is_err());
    }
}
