//! NumPy `.npy` read/write and `.npz` read (stored or deflated zip members, zip64 aware),
//! enough for `np.save`, `np.savez` and `np.savez_compressed`.

use ndarray::{ArrayD, IxDyn};

use super::CodecError;

fn err(m: impl Into<String>) -> CodecError {
    CodecError::Npy(m.into())
}

fn header_field<'a>(h: &'a str, key: &str) -> Option<&'a str> {
    let i = h.find(&format!("'{key}'"))?;
    let rest = h[i + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    Some(rest)
}

/// Parse `.npy` bytes into an f32 array (float, int, uint and bool dtypes are converted).
///
/// # Errors
/// Not an npy file, unsupported dtype, or truncated data.
pub fn read_npy(bytes: &[u8]) -> Result<ArrayD<f32>, CodecError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(err("not a .npy file (bad magic)"));
    }
    let major = bytes[6];
    let (hlen, start) = if major == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize)
    } else {
        if bytes.len() < 12 {
            return Err(err("truncated header"));
        }
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| err("truncated header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| err("header is not text"))?;
    let descr = header_field(header, "descr").ok_or_else(|| err("header has no descr"))?;
    let descr = descr.trim_start_matches(['\'', '"']);
    let descr: String = descr
        .chars()
        .take_while(|c| *c != '\'' && *c != '"')
        .collect();
    let fortran = header_field(header, "fortran_order").is_some_and(|v| v.starts_with("True"));
    let shape_s = header_field(header, "shape").ok_or_else(|| err("header has no shape"))?;
    // The tuple must open with `(`: slicing from byte 1 panicked on `)...` and on a
    // multi-byte first character (fuzz regression: npy_shape_starts_with_close_paren).
    let inner = shape_s.strip_prefix('(').ok_or_else(|| err("bad shape"))?;
    let close = inner.find(')').ok_or_else(|| err("bad shape"))?;
    let shape: Vec<usize> = inner[..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| err(format!("bad dimension {s}")))
        })
        .collect::<Result<_, _>>()?;
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| err("shape overflows"))?;
    let data = &bytes[end..];
    let (size, conv): (usize, fn(&[u8]) -> f32) = match descr.as_str() {
        "<f4" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "<f8" => (8, |b| {
            f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }),
        "<i4" => (4, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32),
        "<i8" => (8, |b| {
            i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }),
        "<i2" => (2, |b| f32::from(i16::from_le_bytes([b[0], b[1]]))),
        "|i1" => (1, |b| f32::from(b[0] as i8)),
        "|u1" => (1, |b| f32::from(b[0])),
        "|b1" => (1, |b| f32::from(u8::from(b[0] != 0))),
        "<u4" => (4, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32),
        "<f2" => return Err(err("float16 arrays are not supported; save as float32")),
        other => return Err(err(format!("dtype {other} is not supported"))),
    };
    let need = n.checked_mul(size).ok_or_else(|| err("size overflows"))?;
    if data.len() < need {
        return Err(err(format!(
            "data is truncated: {} bytes for {n} values of {size} bytes",
            data.len()
        )));
    }
    let vals: Vec<f32> = data[..need].chunks_exact(size).map(conv).collect();
    if fortran {
        let rev: Vec<usize> = shape.iter().rev().copied().collect();
        let a = ArrayD::from_shape_vec(IxDyn(&rev), vals).map_err(|e| err(e.to_string()))?;
        Ok(a.reversed_axes().as_standard_layout().into_owned())
    } else {
        ArrayD::from_shape_vec(IxDyn(&shape), vals).map_err(|e| err(e.to_string()))
    }
}

/// Serialise an f32 array as `.npy` (version 1.0, little-endian, C order).
pub fn write_npy(a: &ArrayD<f32>) -> Vec<u8> {
    let shape = match a.shape() {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        s => format!(
            "({})",
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + a.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in a.as_standard_layout().iter() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The `n` bytes at offset `i`. Offsets come from the file (zip64 gives any u64), so
/// `i + n` is checked (regression: npz_zip64_offsets_near_u64_max).
fn bytes_at(b: &[u8], i: usize, n: usize) -> Option<&[u8]> {
    b.get(i..i.checked_add(n)?)
}

fn u16_at(b: &[u8], i: usize) -> Result<u16, CodecError> {
    bytes_at(b, i, 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| err("truncated zip"))
}
fn u32_at(b: &[u8], i: usize) -> Result<u32, CodecError> {
    bytes_at(b, i, 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| err("truncated zip"))
}
fn u64_at(b: &[u8], i: usize) -> Result<u64, CodecError> {
    bytes_at(b, i, 8)
        .map(|s| u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
        .ok_or_else(|| err("truncated zip"))
}

/// Read an `.npz` archive: `(name, array)` pairs in archive order.
///
/// # Errors
/// Not a zip, unsupported compression, or a bad member.
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, ArrayD<f32>)>, CodecError> {
    // Locate the end-of-central-directory record.
    let eocd = (0..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))
        .ok_or_else(|| err("not an .npz (zip) file"))?;
    let mut count = u64::from(u16_at(bytes, eocd + 10)?);
    let mut cd = u64::from(u32_at(bytes, eocd + 16)?);
    if (count == 0xFFFF || cd == 0xFFFF_FFFF)
        && eocd >= 20
        && bytes[eocd - 20..].starts_with(&[0x50, 0x4b, 0x06, 0x07])
    {
        let z64 = u64_at(bytes, eocd - 20 + 8)? as usize;
        if bytes
            .get(z64..)
            .is_some_and(|b| b.starts_with(&[0x50, 0x4b, 0x06, 0x06]))
        {
            count = u64_at(bytes, z64 + 32)?;
            cd = u64_at(bytes, z64 + 48)?;
        }
    }
    let mut out = Vec::new();
    let mut p = usize::try_from(cd).map_err(|_| err("bad central directory"))?;
    for _ in 0..count {
        if u32_at(bytes, p)? != 0x0201_4b50 {
            return Err(err("bad central directory entry"));
        }
        let method = u16_at(bytes, p + 10)?;
        let mut csize = u64::from(u32_at(bytes, p + 20)?);
        let mut usize_ = u64::from(u32_at(bytes, p + 24)?);
        let nlen = usize::from(u16_at(bytes, p + 28)?);
        let elen = usize::from(u16_at(bytes, p + 30)?);
        let clen = usize::from(u16_at(bytes, p + 32)?);
        let mut local = u64::from(u32_at(bytes, p + 42)?);
        let name = String::from_utf8_lossy(
            bytes
                .get(p + 46..p + 46 + nlen)
                .ok_or_else(|| err("truncated name"))?,
        )
        .to_string();
        // zip64 extra field
        let mut e = p + 46 + nlen;
        let eend = e + elen;
        while e + 4 <= eend {
            let id = u16_at(bytes, e)?;
            let sz = usize::from(u16_at(bytes, e + 2)?);
            if id == 1 {
                let mut q = e + 4;
                if usize_ == 0xFFFF_FFFF {
                    usize_ = u64_at(bytes, q)?;
                    q += 8;
                }
                if csize == 0xFFFF_FFFF {
                    csize = u64_at(bytes, q)?;
                    q += 8;
                }
                if local == 0xFFFF_FFFF {
                    local = u64_at(bytes, q)?;
                }
            }
            e += 4 + sz;
        }
        p = eend + clen;
        let lp = usize::try_from(local).map_err(|_| err("bad offset"))?;
        if u32_at(bytes, lp)? != 0x0403_4b50 {
            return Err(err("bad local header"));
        }
        let data_start =
            lp + 30 + usize::from(u16_at(bytes, lp + 26)?) + usize::from(u16_at(bytes, lp + 28)?);
        let data = usize::try_from(csize)
            .ok()
            .and_then(|c| bytes.get(data_start..data_start.checked_add(c)?))
            .ok_or_else(|| err(format!("member {name} is truncated")))?;
        let raw = match method {
            0 => data.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(
                data,
                usize::try_from(usize_).unwrap_or(usize::MAX).min(1 << 31),
            )
            .map_err(|_| err(format!("member {name} does not inflate")))?,
            m => {
                return Err(err(format!(
                    "member {name} uses zip method {m}, which is not supported"
                )))
            }
        };
        let arr = read_npy(&raw).map_err(|e| err(format!("{name}: {e}")))?;
        out.push((name.trim_end_matches(".npy").to_string(), arr));
    }
    Ok(out)
}

/// `.npz` members in Keras `get_weights()` order: `arr_0, arr_1, …` sorted numerically.
///
/// # Errors
/// As [`read_npz`].
pub fn read_weight_list(bytes: &[u8]) -> Result<Vec<ArrayD<f32>>, CodecError> {
    let mut items = read_npz(bytes)?;
    items.sort_by_key(|(n, _)| {
        n.strip_prefix("arr_")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(usize::MAX)
    });
    Ok(items.into_iter().map(|(_, a)| a).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip() {
        let a =
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let b = read_npy(&write_npy(&a)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(read_npy(b"hello").is_err());
        assert!(read_npz(b"hello world, not a zip at all").is_err());
        assert!(read_npy(b"\x93NUMPY\x01\x00\xff\xff").is_err());
    }
}
