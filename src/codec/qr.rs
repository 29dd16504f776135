//! QR Codes for the share panel, drawn as SVG. The symbol comes from the `qrcodegen` crate
//! (Nayuki's ISO/IEC 18004 encoder): byte mode, error correction level M at the smallest
//! version that fits, level L when only L fits, mask chosen by the standard penalty rules.
//! [`qr_svg`] draws it as one compact SVG `<path>` with a quiet zone of 4 modules.
//!
//! Why the crate, measured (`trunk build --release --offline && bash scripts/size-budget
//! dist`, gzip -9 bytes of the cold load / of the main wasm module, 2026-12-01):
//! - hand-written encoder (ISO 18004 tables, Reed–Solomon, masks; 780 lines): 451 672 /
//!   430 547;
//! - hand-written encoder with `qrcodegen` added as an unused dependency: 452 023 /
//!   430 895. Any new dependency moves the layout (the crate's symbol hashes change, LTO
//!   orders code differently): the tools worker, which has no QR code, moved by the same
//!   +1 265 raw bytes;
//! - `qrcodegen` in use: 452 035 / 430 909, i.e. +12 / +14 bytes for the swap itself,
//!   +363 / +362 in all (0.08 %).
//!
//! Symbols (tests/qr_golden.rs, 60 share links and lengths up to the 2 953-byte limit): the
//! same version and level as the hand-written encoder everywhere, the same modules under
//! the same mask; `qrcodegen` picks another mask in 12 of the 60 (its finder-pattern
//! penalty counts runs at every scale and the quiet zone, the old one only the literal
//! 11-module pattern inside the symbol). All decode with `rqrr`.

use qrcodegen::{QrCodeEcc, QrSegment, Version};

use super::CodecError;

/// Error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecc {
    /// About 7% recovery.
    L,
    /// About 15% recovery.
    M,
}

/// The largest byte-mode payload of a QR Code (version 40, level L).
pub const MAX_BYTES: usize = 2953;

/// A QR Code symbol: `size × size` modules.
#[derive(Clone, PartialEq, Eq)]
pub struct QrCode {
    pub version: usize,
    pub size: usize,
    pub ecc: Ecc,
    pub mask: u8,
    code: qrcodegen::QrCode,
}

impl std::fmt::Debug for QrCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrCode")
            .field("version", &self.version)
            .field("size", &self.size)
            .field("ecc", &self.ecc)
            .field("mask", &self.mask)
            .finish_non_exhaustive()
    }
}

impl QrCode {
    /// Module at column `x`, row `y`, `true` = dark (false outside the symbol).
    pub fn get(&self, x: usize, y: usize) -> bool {
        match (i32::try_from(x), i32::try_from(y)) {
            (Ok(x), Ok(y)) => self.code.get_module(x, y),
            _ => false,
        }
    }
}

/// Encode bytes at the smallest version that fits, level M (L if only L fits).
///
/// # Errors
/// [`CodecError::Link`] when the text is longer than a version-40 symbol holds.
pub fn encode(data: &[u8]) -> Result<QrCode, CodecError> {
    let segments = [QrSegment::make_bytes(data)];
    [(Ecc::M, QrCodeEcc::Medium), (Ecc::L, QrCodeEcc::Low)]
        .into_iter()
        .find_map(|(ecc, level)| {
            // No ECC boost: `encode_binary` would raise the level when it fits.
            qrcodegen::QrCode::encode_segments_advanced(
                &segments,
                level,
                Version::MIN,
                Version::MAX,
                None,
                false,
            )
            .ok()
            .map(|code| QrCode {
                version: usize::from(code.version().value()),
                size: usize::try_from(code.size()).unwrap_or(0),
                ecc,
                mask: code.mask().value(),
                code,
            })
        })
        .ok_or_else(|| {
            CodecError::Link(format!(
                "{} bytes do not fit in a QR code (at most {MAX_BYTES} at level L)",
                data.len()
            ))
        })
}

/// The symbol as a compact SVG: one `<path>` of unit squares, quiet zone 4, black on white.
pub fn to_svg(qr: &QrCode) -> String {
    let border = 4;
    let dim = qr.size + 2 * border;
    let mut path = String::new();
    for y in 0..qr.size {
        let mut x = 0;
        while x < qr.size {
            if qr.get(x, y) {
                let start = x;
                while x < qr.size && qr.get(x, y) {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{},{}h{}v1h-{}z",
                    start + border,
                    y + border,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    )
}

/// A QR code of `text` (UTF-8 bytes) as SVG.
///
/// # Errors
/// [`CodecError::Link`] when the text is too long for a QR code.
pub fn qr_svg(text: &str) -> Result<String, CodecError> {
    encode(text.as_bytes()).map(|q| to_svg(&q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finders_and_svg() {
        let qr = encode(b"flatland").unwrap();
        assert_eq!(qr.version, 1);
        assert_eq!(qr.size, 21);
        // Finder pattern rows: 1111111 / 1000001 / 1011101.
        let row = |y: usize, x0: usize| {
            (x0..x0 + 7)
                .map(|x| if qr.get(x, y) { '1' } else { '0' })
                .collect::<String>()
        };
        for x0 in [0, 14] {
            assert_eq!(row(0, x0), "1111111");
            assert_eq!(row(1, x0), "1000001");
            assert_eq!(row(2, x0), "1011101");
            assert_eq!(row(6, x0), "1111111");
        }
        assert_eq!(row(14, 0), "1111111");
        assert!(qr.get(8, 13), "dark module");
        let svg = qr_svg("flatland").unwrap();
        assert!(
            svg.starts_with("<svg")
                && svg.matches("<path").count() == 1
                && svg.contains("viewBox=\"0 0 29 29\"")
        );
        assert!(qr_svg(&"x".repeat(3000)).is_err());
        assert!(qr_svg(&"x".repeat(MAX_BYTES)).is_ok());
        assert!(qr_svg(&"x".repeat(MAX_BYTES + 1)).is_err());
    }
}
