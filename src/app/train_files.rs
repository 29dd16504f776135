//! The Train panel's `.npz` weight files, written in the on-demand tools module: what
//! `np.savez(path, *model.get_weights())` writes (members `arr_0.npy`, `arr_1.npy`, …,
//! stored), so `model.set_weights` can load them. The library's reader and writer
//! (`codec::npy`, on `ndarray-npy` and `zip`) are native only: those crates turn on features
//! of crates the page's first module shares (`num-traits/std`, `memchr/std`), which changed
//! that module. This writer is tested byte for byte against that one.

use ndarray::{ArrayD, IxDyn};

/// An f32 array as `.npy` version 1.0 (little-endian, C order), the header padded with
/// spaces to a multiple of 64 bytes as NumPy writes it.
pub fn npy(a: &ArrayD<f32>) -> Vec<u8> {
    let shape = match a.shape() {
        [] => String::new(),
        [n] => format!("{n},"),
        dims => dims
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape})}}");
    // magic (6) + version (2) + length (2) + header + '\n', then 1 to 64 spaces before
    // the '\n' up to a multiple of 64 (as ndarray-npy pads it).
    let unpadded = 10 + header.len() + 1;
    let total = unpadded + (64 - unpadded % 64);
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    let mut out = Vec::with_capacity(total + a.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in &a.as_standard_layout() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// CRC-32 (IEEE 802.3, as zip uses it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Weights (per layer, `get_weights()` order) as an `.npz` archive: a zip of stored
/// members `arr_0.npy`, … dated 1980-01-01, laid out as the `zip` crate lays them out for
/// `codec::npy::write_npz` (the test compares the bytes).
///
/// # Errors
/// An archive too large for a plain zip (4 GiB, 65,535 members).
pub fn weights_npz(layers: &[Vec<ArrayD<f32>>]) -> Result<Vec<u8>, String> {
    let too_big = || "the weights are too large for one .npz file".to_string();
    let (mut out, mut central) = (Vec::new(), Vec::new());
    let mut count = 0u16;
    for (i, a) in layers.iter().flatten().enumerate() {
        let name = format!("arr_{i}.npy");
        let data = npy(a);
        let offset = u32::try_from(out.len()).map_err(|_| too_big())?;
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        // version 1.0, no flags, stored, time 00:00, date 1980-01-01, crc, sizes, name.
        let mut common = Vec::with_capacity(26);
        for v in [10u16, 0, 0, 0, 0x21] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc32(&data), size, size] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&data);
        // Made by Unix 1.0; no comment, disk 0, no internal attributes, mode 0o100644.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&0x030au16.to_le_bytes());
        central.extend_from_slice(&common);
        for v in [0u16, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0x81a4_0000u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        count = count.checked_add(1).ok_or_else(too_big)?;
    }
    let cd_offset = u32::try_from(out.len()).map_err(|_| too_big())?;
    let cd_size = u32::try_from(central.len()).map_err(|_| too_big())?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, count, count] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

/// The most bytes one `.npy` (or a member of an `.npz`) may unpack to.
pub const MAX_ARRAY_BYTES: usize = 200 << 20;

fn le_u16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    )))
}

fn le_u32(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
    .ok()
}

/// The value of `'key':` in an `.npy` header (a Python dict literal), as written.
fn header_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else if let Some(q) = rest.strip_prefix('\'') {
        q.find('\'')? + 2
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

/// An `.npy` file as f32, in C order: float, integer and bool arrays, little-endian, either
/// memory order.
///
/// # Errors
/// Not an `.npy`, a type that is not a number, big-endian, or data that do not fill the shape.
pub fn read_npy(b: &[u8]) -> Result<ArrayD<f32>, String> {
    if !b.starts_with(b"\x93NUMPY") {
        return Err("not a .npy file".into());
    }
    let (len, start) = match b.get(6) {
        Some(1) => (le_u16(b, 8), 10usize),
        Some(2 | 3) => (le_u32(b, 8), 12),
        _ => return Err("a .npy version this page does not read".into()),
    };
    let len = len.ok_or("a truncated .npy header")?;
    let header = b
        .get(start..start.saturating_add(len))
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("a truncated .npy header")?;
    let descr = header_value(header, "descr").ok_or("a .npy header without descr")?;
    let fortran = header_value(header, "fortran_order") == Some("True");
    let shape_text = header_value(header, "shape").ok_or("a .npy header without shape")?;
    let shape = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<usize>()
                .map_err(|_| format!("a .npy shape that is not whole numbers: {shape_text}"))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let kind = descr.trim_matches('\'');
    let (order, code) = kind.split_at(kind.len().min(1));
    if order == ">" && !code.ends_with('1') {
        return Err(format!(
            "big-endian data ({kind}): save it little-endian (the NumPy default)"
        ));
    }
    let size: usize = code
        .get(1..)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("an unknown .npy type {kind}"))?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n.checked_mul(size).is_some_and(|b| b <= MAX_ARRAY_BYTES))
        .ok_or("the array is larger than the 200 MB the page reads")?;
    let data = b.get(start.saturating_add(len)..).unwrap_or_default();
    if data.len() < count * size {
        return Err(format!(
            "the .npy data are shorter than its shape {shape_text} says"
        ));
    }
    let cell = |c: &[u8]| -> Option<f32> {
        Some(match (code.as_bytes().first()?, size) {
            (b'f', 4) => f32::from_le_bytes(c.try_into().ok()?),
            (b'f', 8) => f64::from_le_bytes(c.try_into().ok()?) as f32,
            (b'i', 1) => f32::from(i8::from_le_bytes(c.try_into().ok()?)),
            (b'i', 2) => f32::from(i16::from_le_bytes(c.try_into().ok()?)),
            (b'i', 4) => i32::from_le_bytes(c.try_into().ok()?) as f32,
            (b'i', 8) => i64::from_le_bytes(c.try_into().ok()?) as f32,
            (b'u' | b'b', 1) => f32::from(c[0]),
            (b'u', 2) => f32::from(u16::from_le_bytes(c.try_into().ok()?)),
            (b'u', 4) => u32::from_le_bytes(c.try_into().ok()?) as f32,
            (b'u', 8) => u64::from_le_bytes(c.try_into().ok()?) as f32,
            _ => return None,
        })
    };
    let values = data[..count * size]
        .chunks_exact(size.max(1))
        .map(cell)
        .collect::<Option<Vec<f32>>>()
        .ok_or_else(|| format!("a .npy type that is not a number: {kind}"))?;
    let a = if fortran {
        let rev: Vec<usize> = shape.iter().rev().copied().collect();
        ArrayD::from_shape_vec(IxDyn(&rev), values)
            .map(|a| a.reversed_axes().as_standard_layout().into_owned())
    } else {
        ArrayD::from_shape_vec(IxDyn(&shape), values)
    };
    a.map_err(|e| format!("the .npy data do not fit its shape: {e}"))
}

/// The arrays of an `.npz` (`np.savez` or `np.savez_compressed`), names without `.npy`.
///
/// # Errors
/// Not a zip, a member that is not stored or deflated, or a member that is not an `.npy`.
pub fn read_npz(b: &[u8]) -> Result<Vec<(String, ArrayD<f32>)>, String> {
    let bad = || "not an .npz file (a zip of .npy arrays)".to_string();
    // The end-of-central-directory record, at most 64 KiB of comment from the end.
    let from = b.len().saturating_sub(22 + 65_535);
    let eocd = (from..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))
        .ok_or_else(bad)?;
    let entries = le_u16(b, eocd.saturating_add(10)).ok_or_else(bad)?;
    let mut at = le_u32(b, eocd.saturating_add(16)).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(entries.min(1024));
    for _ in 0..entries {
        if !b
            .get(at..)
            .is_some_and(|r| r.starts_with(&[0x50, 0x4b, 0x01, 0x02]))
        {
            return Err(bad());
        }
        let method = le_u16(b, at.saturating_add(10)).ok_or_else(bad)?;
        let csize = le_u32(b, at.saturating_add(20)).ok_or_else(bad)?;
        let usize_ = le_u32(b, at.saturating_add(24)).ok_or_else(bad)?;
        let (nlen, elen, clen) = (
            le_u16(b, at.saturating_add(28)).ok_or_else(bad)?,
            le_u16(b, at.saturating_add(30)).ok_or_else(bad)?,
            le_u16(b, at.saturating_add(32)).ok_or_else(bad)?,
        );
        let local = le_u32(b, at.saturating_add(42)).ok_or_else(bad)?;
        let name = b
            .get(at.saturating_add(46)..at.saturating_add(46) + nlen)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .ok_or_else(bad)?;
        at = at.saturating_add(46 + nlen + elen + clen);
        if !b
            .get(local..)
            .is_some_and(|r| r.starts_with(&[0x50, 0x4b, 0x03, 0x04]))
        {
            return Err(bad());
        }
        let skip = 30
            + le_u16(b, local.saturating_add(26)).ok_or_else(bad)?
            + le_u16(b, local.saturating_add(28)).ok_or_else(bad)?;
        let raw = b
            .get(local.saturating_add(skip)..local.saturating_add(skip).saturating_add(csize))
            .ok_or_else(bad)?;
        let bytes = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, usize_.min(MAX_ARRAY_BYTES))
                .map_err(|_| format!("{name}: its compressed data could not be read"))?,
            m => return Err(format!("{name}: zip compression method {m} is not read here (np.savez and np.savez_compressed are)")),
        };
        let a = read_npy(&bytes).map_err(|e| format!("{name}: {e}"))?;
        out.push((name.trim_end_matches(".npy").to_string(), a));
    }
    Ok(out)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::codec::npy::{read_weight_list, write_npy, write_npz};
    use crate::engine::rng::Rng;
    use ndarray::IxDyn;

    #[test]
    fn the_same_bytes_as_the_ndarray_npy_writer() {
        let mut rng = Rng::new(5);
        for shape in [
            vec![],
            vec![1],
            vec![7],
            vec![2, 16],
            vec![3, 3, 2, 8],
            vec![0, 4],
        ] {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let a = ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap();
            assert_eq!(npy(&a), write_npy(&a), "{shape:?}");
        }
        let layers = vec![
            vec![
                ArrayD::from_elem(IxDyn(&[2, 16]), 0.5f32),
                ArrayD::from_elem(IxDyn(&[16]), -1.0f32),
            ],
            vec![],
            vec![ArrayD::from_elem(IxDyn(&[48, 4]), 2.0f32)],
        ];
        let flat: Vec<ArrayD<f32>> = layers.iter().flatten().cloned().collect();
        let ours = weights_npz(&layers).unwrap();
        assert_eq!(ours, write_npz(&flat).unwrap());
        assert_eq!(read_weight_list(&ours).unwrap(), flat);
        // And our reader reads what we and ndarray-npy write.
        let back: Vec<ArrayD<f32>> = read_npz(&ours).unwrap().into_iter().map(|p| p.1).collect();
        assert_eq!(back, flat);
    }

    #[test]
    fn reads_what_numpy_writes_in_every_type_and_order() {
        use ndarray_npy::WriteNpyExt;
        let base = ArrayD::from_shape_vec(
            IxDyn(&[2, 3, 4]),
            (0..24).map(|v| f64::from(v) - 5.0).collect(),
        )
        .unwrap();
        let want = base.mapv(|v| v as f32);
        let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut w = |name, f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = Vec::new();
            f(&mut b);
            files.push((name, b));
        };
        w("f8", &|b| base.write_npy(b).unwrap());
        w("f4", &|b| want.write_npy(b).unwrap());
        w("i8", &|b| base.mapv(|v| v as i64).write_npy(b).unwrap());
        w("i4", &|b| base.mapv(|v| v as i32).write_npy(b).unwrap());
        w("i2", &|b| base.mapv(|v| v as i16).write_npy(b).unwrap());
        w("i1", &|b| base.mapv(|v| v as i8).write_npy(b).unwrap());
        // Fortran order: the transpose of a C array is written as fortran_order True.
        w("fortran", &|b| want.t().write_npy(b).unwrap());
        for (name, bytes) in &files {
            let got = read_npy(bytes).unwrap();
            if *name == "fortran" {
                assert_eq!(got, want.t().as_standard_layout().into_owned(), "{name}");
            } else {
                assert_eq!(got, want, "{name}");
            }
        }
        let u8s = base.mapv(|v| (v + 5.0) as u8);
        let mut b = Vec::new();
        u8s.write_npy(&mut b).unwrap();
        assert_eq!(read_npy(&b).unwrap(), u8s.mapv(f32::from));
        // np.savez_compressed: deflated members.
        use std::io::Write;
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in &files[..2] {
            zw.start_file(format!("{name}.npy"), o).unwrap();
            zw.write_all(bytes).unwrap();
        }
        let npz = zw.finish().unwrap().into_inner();
        let got = read_npz(&npz).unwrap();
        assert_eq!(
            got.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["f8", "f4"]
        );
        assert!(got.iter().all(|p| p.1 == want));
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let good = weights_npz(&[vec![ArrayD::from_elem(IxDyn(&[3, 2]), 1.5f32)]]).unwrap();
        let one = npy(&ArrayD::from_elem(IxDyn(&[4]), 2.0f32));
        let mut rng = Rng::new(11);
        for i in 0..4000 {
            let mut b = if i % 2 == 0 {
                good.clone()
            } else {
                one.clone()
            };
            match i % 3 {
                0 => b.truncate((rng.next_u64() % (b.len() as u64 + 1)) as usize),
                1 => {
                    for _ in 0..=(rng.next_u64() % 4) {
                        let at = (rng.next_u64() % b.len() as u64) as usize;
                        b[at] = rng.next_u64() as u8;
                    }
                }
                _ => {
                    b = (0..rng.next_u64() % 200)
                        .map(|_| rng.next_u64() as u8)
                        .collect();
                }
            }
            let _ = read_npz(&b);
            let _ = read_npy(&b);
        }
        assert!(read_npy(b"\x93NUMPY\x01\x00\x10\x00{'descr': '>f4'}").is_err());
        let e = read_npy(&one[..one.len() - 1]).unwrap_err();
        assert!(e.contains("shorter"), "{e}");
    }
}
