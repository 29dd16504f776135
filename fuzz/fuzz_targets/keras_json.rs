//! Arbitrary bytes → `codec::read_model` (our JSON, Keras 3 / Keras 2 / TF.js JSON, Keras
//! code), then `analyze` + `summary_text` + per-layer explanations of a model that reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    flatland_fuzz::harness::keras_json(bytes);
});
