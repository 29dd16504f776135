//! Structured: a small input shape and a few `(catalogue class, arbitrary config)` layers →
//! `LayerSpec::from_config` → `analyze`; valid small models also run `init_weights` +
//! `forward` under `Limits { max_elements: 1 << 16, max_macs: 1 << 24 }`, and the outputs
//! must have the inferred shapes. `cargo fuzz fmt engine_spec ARTIFACT` prints a case as the
//! JSON `harness::engine_case_json` replays.
#![no_main]

use flatland_fuzz::SpecCase;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: SpecCase| {
    case.run();
});
