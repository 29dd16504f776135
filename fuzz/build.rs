//! Embeds the forward fixtures (`../tests/fixtures/forward/*/{model.json,input.npy}`) into
//! the fuzz crate so `forward_weights` picks a small valid model by index, in sorted
//! directory order (the order `FUZZING.md`'s seeding script uses).

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = root.join("../tests/fixtures/forward");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("model.json").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from("pub static FORWARD_FIXTURES: &[(&str, &str, &[u8])] = &[\n");
    for n in &names {
        let d = dir.join(n).canonicalize().unwrap();
        writeln!(
            out,
            "    ({n:?}, include_str!({:?}), include_bytes!({:?})),",
            d.join("model.json").display().to_string(),
            d.join("input.npy").display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("forward_fixtures.rs");
    std::fs::write(dest, out).unwrap();
}
