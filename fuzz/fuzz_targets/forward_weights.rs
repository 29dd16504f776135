//! A valid small model (byte 0 picks one of `tests/fixtures/forward/*`, sorted) and the rest
//! of the input as a NumPy file (byte 1 picks how: `.npz` weight list, one `.npy` weight, or
//! an `.npy` input batch) → `read_weight_list` / `read_npy` → `split_weights` or
//! `init_weights` → `forward`. Must end in `Ok` with the inferred shapes or a typed error.
#![no_main]

use flatland_fuzz::harness::{forward_weights, WeightsMode};
use flatland_fuzz::FORWARD_FIXTURES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [pick, mode, payload @ ..] = data else {
        return;
    };
    let (_name, model_json, input_npy) =
        FORWARD_FIXTURES[usize::from(*pick) % FORWARD_FIXTURES.len()];
    forward_weights(
        model_json,
        input_npy,
        WeightsMode::from_byte(*mode),
        payload,
    );
});
