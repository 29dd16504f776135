//! Arbitrary text → `codec::link::decode` (and `analyze` of a decoded model).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    flatland_fuzz::harness::link_decode(text);
});
