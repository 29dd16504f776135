//! Arbitrary text → `codec::keras_code::parse_keras_code`, then `analyze` of the import.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    flatland_fuzz::harness::keras_code(text);
});
