//! NumPy `.npy` read/write and `.npz` read, for `np.save`, `np.savez` and
//! `np.savez_compressed` files (the CLI's `forward --input/--weights/--output`, the Keras
//! fixtures of tests/ and the fuzz target `forward_weights`).
//!
//! Crates: `ndarray-npy` parses and writes the `.npy` format (its header dict goes through
//! `py_literal`, a real Python-literal parser); `zip` (the one `ndarray-npy` uses for its own
//! `NpzReader`) opens the `.npz` archive. Only three things are ours, each because the
//! crate's default would let a hostile file take the process down, which the fuzz target
//! would report:
//! - the element type `AsF32`: `ndarray-npy`'s own `f32` reader allocates `vec![0; len]`
//!   from the header's shape before reading any data, so a 100-byte file claiming shape
//!   `(1000000000000,)` aborts the process (SIGABRT, tried); ours reads at most what the
//!   file holds and then checks the count. It also converts the integer, bool and float64
//!   dtypes to f32, as the hand-written reader did;
//! - a bounds check before the header reaches `ndarray-npy`: the header length must fit in
//!   the file (`ndarray-npy` allocates the header buffer from the 4-byte length of a
//!   version 2/3 header, up to 4 GiB, before reading it). Deeply nested headers need no
//!   check: `py_literal`'s parser (pest, with its native stack guard) fails with a syntax
//!   error at about 530 levels (measured with 30 000 `(`);
//! - `.npz` members are read into memory (at most 2 GiB each) and then parsed like a
//!   `.npy` file, so the same checks apply (`NpzReader` streams members straight into the
//!   crate's reader).
//!
//! Native only (Cargo.toml, codec/mod.rs): the web app reads no NumPy files. With these
//! crates as plain dependencies (in the wasm32 graph too) the cold load grew by 1 189 bytes
//! gzip (453 224 against 452 035 with qrcodegen alone; `trunk build --release --offline &&
//! bash scripts/size-budget dist`) although none of their code was in the module: feature
//! unification (`num-bigint` turns on `num-integer/i128`) and the changed crate graph move
//! LTO's layout. Native only, the main wasm module is byte-identical to the qrcodegen-only
//! build. `tests/forward_web.rs`, which reads the fixtures in the browser, compiles this file
//! into itself with `#[path]`.

use std::io::{Cursor, Read};

use ndarray::ArrayD;
use ndarray_npy::{ReadDataError, ReadNpyError, ReadNpyExt, ReadableElement, WriteNpyExt};
use py_literal::Value as PyValue;

use super::{CodecError, NpyError};

fn err(e: NpyError) -> CodecError {
    CodecError::Npy(e)
}

/// Largest `.npz` member read (uncompressed).
const MAX_MEMBER: u64 = 1 << 31;

/// An array element read from any supported dtype, converted to f32.
#[derive(Debug, Clone, Copy)]
struct AsF32(f32);

/// Bytes per value and the conversion for a dtype descriptor (`'<f4'`...).
type Conv = (usize, fn(&[u8]) -> f32);

fn dtype(descr: &str) -> Option<Conv> {
    let conv: Conv = match descr {
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
        _ => return None,
    };
    Some(conv)
}

impl ReadableElement for AsF32 {
    fn read_to_end_exact_vec<R: Read>(
        reader: R,
        type_desc: &PyValue,
        len: usize,
    ) -> Result<Vec<Self>, ReadDataError> {
        let Some((size, conv)) = (match type_desc {
            PyValue::String(s) => dtype(s),
            _ => None,
        }) else {
            return Err(ReadDataError::WrongDescriptor(type_desc.clone()));
        };
        let need = len
            .checked_mul(size)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or(ReadDataError::MissingData)?;
        // Read what is there (never more than `need`), then count: no allocation from the
        // header's claim. Bytes after the data are ignored, as NumPy does.
        let mut data = Vec::new();
        reader.take(need).read_to_end(&mut data)?;
        if (data.len() as u64) < need {
            return Err(ReadDataError::ParseData(
                format!(
                    "data is truncated: {} bytes for {len} values of {size} bytes",
                    data.len()
                )
                .into(),
            ));
        }
        Ok(data.chunks_exact(size).map(|b| AsF32(conv(b))).collect())
    }
}

/// The magic string, and the header's length checked against the file. The rest of the
/// header is `ndarray-npy`'s.
fn check_preamble(bytes: &[u8]) -> Result<(), NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::BadMagic);
    }
    let (hlen, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            let b = bytes.get(8..12).ok_or(NpyError::TruncatedHeader)?;
            let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (usize::try_from(n).unwrap_or(usize::MAX), 12)
        }
        v => return Err(NpyError::Version(v)),
    };
    start
        .checked_add(hlen)
        .filter(|&end| end <= bytes.len())
        .ok_or(NpyError::TruncatedHeader)?;
    Ok(())
}

/// A crate message on one line and at most 100 characters (the CLI prints it on one line).
fn one_line(s: &str) -> String {
    let s: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(100)
        .collect();
    s
}

fn npy_error(e: ReadNpyError) -> NpyError {
    match e {
        ReadNpyError::Io(_) => NpyError::TruncatedHeader,
        ReadNpyError::ParseHeader(e) => NpyError::Header(one_line(&e.to_string())),
        ReadNpyError::WrongDescriptor(PyValue::String(s)) if s == "<f2" => NpyError::Float16,
        ReadNpyError::WrongDescriptor(PyValue::String(s)) => NpyError::Dtype(one_line(&s)),
        ReadNpyError::WrongDescriptor(d) => NpyError::Dtype(one_line(&d.to_string())),
        ReadNpyError::LengthOverflow => NpyError::ShapeOverflow,
        ReadNpyError::MissingData => NpyError::Truncated,
        ReadNpyError::ParseData(e) => NpyError::Data(one_line(&e.to_string())),
        other => NpyError::Data(one_line(&other.to_string())),
    }
}

/// Parse `.npy` bytes into an f32 array (float, int, uint and bool dtypes are converted).
///
/// # Errors
/// Not an npy file, unsupported dtype, or truncated data.
pub fn read_npy(bytes: &[u8]) -> Result<ArrayD<f32>, CodecError> {
    read_array(bytes).map_err(err)
}

fn read_array(bytes: &[u8]) -> Result<ArrayD<f32>, NpyError> {
    check_preamble(bytes)?;
    let a = ArrayD::<AsF32>::read_npy(Cursor::new(bytes)).map_err(npy_error)?;
    // Fortran-order files come back in Fortran layout: callers expect standard layout.
    Ok(a.as_standard_layout().mapv(|v| v.0))
}

/// Serialise an f32 array as `.npy` (version 1.0, little-endian, C order).
pub fn write_npy(a: &ArrayD<f32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + a.len() * 4);
    // Writing f32 into a Vec<u8> fails only for a header over 4 GiB (ndim in the hundreds
    // of millions), which no array here has.
    if a.as_standard_layout().write_npy(&mut out).is_err() {
        out.clear();
    }
    out
}

/// Read an `.npz` archive: `(name, array)` pairs in archive order, `.npy` stripped from
/// the names.
///
/// # Errors
/// Not a zip, unsupported compression, or a bad member.
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, ArrayD<f32>)>, CodecError> {
    let zip_err = |e: zip::result::ZipError| err(NpyError::Zip(e.to_string()));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(zip_err)?;
        let name = member.name().to_string();
        let mut raw = Vec::new();
        (&mut member)
            .take(MAX_MEMBER + 1)
            .read_to_end(&mut raw)
            .map_err(|e| {
                err(NpyError::MemberRead {
                    name: name.clone(),
                    reason: one_line(&e.to_string()),
                })
            })?;
        if raw.len() as u64 > MAX_MEMBER {
            return Err(err(NpyError::MemberTooLarge(name)));
        }
        let arr = read_array(&raw).map_err(|problem| {
            err(NpyError::Member {
                name: name.clone(),
                problem: Box::new(problem),
            })
        })?;
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        out.push((key, arr));
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

/// Write arrays as an uncompressed `.npz` archive with members `arr_0.npy, arr_1.npy, …`
/// (what `np.savez(path, *arrays)` writes, so `np.load(path)["arr_0"]` reads it, and
/// [`read_weight_list`] reads it back in order).
///
/// # Errors
/// As [`write_npz_named`].
pub fn write_npz(arrays: &[ArrayD<f32>]) -> Result<Vec<u8>, CodecError> {
    let named: Vec<(String, &ArrayD<f32>)> = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("arr_{i}"), a))
        .collect();
    write_npz_named(&named)
}

/// Write `(name, array)` pairs as an uncompressed `.npz` archive (`np.savez(path, name=array,
/// …)`; members `name.npy`). The archive is byte-for-byte the same for the same arrays (fixed
/// member times).
///
/// # Errors
/// The zip writer failing (it writes to memory, so only on an internal error).
pub fn write_npz_named(arrays: &[(String, &ArrayD<f32>)]) -> Result<Vec<u8>, CodecError> {
    use std::io::Write;
    let zip_err = |e: zip::result::ZipError| err(NpyError::Write(e.to_string()));
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    for (name, a) in arrays {
        zw.start_file(format!("{name}.npy"), options)
            .map_err(zip_err)?;
        zw.write_all(&write_npy(a))
            .map_err(|e| err(NpyError::Write(e.to_string())))?;
    }
    Ok(zw.finish().map_err(zip_err)?.into_inner())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn npy_round_trip() {
        let a =
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let b = read_npy(&write_npy(&a)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn npz_round_trip() {
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0f32, -2.0, 3.5, 4.0]).unwrap();
        let b = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0.5f32, 0.25, 0.125]).unwrap();
        let bytes = write_npz(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(
            read_weight_list(&bytes).unwrap(),
            vec![a.clone(), b.clone()]
        );
        assert_eq!(bytes, write_npz(&[a, b]).unwrap());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(read_npy(b"hello").is_err());
        assert!(read_npz(b"hello world, not a zip at all").is_err());
        assert!(read_npy(b"\x93NUMPY\x01\x00\xff\xff").is_err());
    }

    /// The header `np.save` writes (`NumPy` 1.x/2.x, `format.write_array_header_1_0`), which
    /// the hand-written writer copied: the dict with a trailing `, `, spaces up to a
    /// multiple of 64 bytes, `\n`.
    fn numpy_header(shape: &[usize]) -> Vec<u8> {
        let shape = match shape {
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
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out
    }

    /// `ndarray-npy` writes the dict without `NumPy`'s trailing `, ` (two more spaces of
    /// padding instead): same length, same data offset, same data bytes.
    #[test]
    fn written_files_are_numpy_layout() {
        for shape in [vec![], vec![5], vec![2, 3], vec![1, 2, 3, 4], vec![0, 7]] {
            let n: usize = shape.iter().product();
            let values = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
            let a = ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap();
            let numpy = String::from_utf8(numpy_header(&shape)[10..].to_vec()).unwrap();
            let mut want = numpy_header(&shape)[..10].to_vec();
            want.extend_from_slice(numpy.replacen(", }", "}  ", 1).as_bytes());
            for v in &a {
                want.extend_from_slice(&v.to_le_bytes());
            }
            assert_eq!(write_npy(&a), want, "{shape:?}");
            assert_eq!(read_npy(&want).unwrap(), a);
            // NumPy's own header reads too.
            let mut np = numpy_header(&shape);
            np.extend_from_slice(&want[np.len()..]);
            assert_eq!(read_npy(&np).unwrap(), a);
        }
    }

    /// An `.npy` file with the header dict `dict` (padded as `NumPy` pads) and `data`.
    fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.to_string();
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - total % 64) % 64));
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn dict(descr: &str, fortran: bool, shape: &str) -> String {
        let f = if fortran { "True" } else { "False" };
        format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}")
    }

    #[test]
    fn every_dtype_converts_to_f32() {
        let want = [-2.0f32, 0.0, 3.0];
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("<f4", want.iter().flat_map(|v| v.to_le_bytes()).collect()),
            (
                "<f8",
                want.iter()
                    .flat_map(|&v| f64::from(v).to_le_bytes())
                    .collect(),
            ),
            (
                "<i4",
                [-2i32, 0, 3].iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            (
                "<i8",
                [-2i64, 0, 3].iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            (
                "<i2",
                [-2i16, 0, 3].iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            ("|i1", vec![(-2i8) as u8, 0, 3]),
        ];
        for (descr, data) in cases.drain(..) {
            let a = read_npy(&npy(&dict(descr, false, "(3,)"), &data)).unwrap();
            assert_eq!(a.as_slice().unwrap(), want, "{descr}");
        }
        let u = read_npy(&npy(&dict("|u1", false, "(3,)"), &[0, 3, 255])).unwrap();
        assert_eq!(u.as_slice().unwrap(), [0.0, 3.0, 255.0]);
        let u4: Vec<u8> = [7u32, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let u = read_npy(&npy(&dict("<u4", false, "(2,)"), &u4)).unwrap();
        assert_eq!(u.as_slice().unwrap(), [7.0, 0.0]);
        let b = read_npy(&npy(&dict("|b1", false, "(3,)"), &[1, 0, 1])).unwrap();
        assert_eq!(b.as_slice().unwrap(), [1.0, 0.0, 1.0]);
        // A 0-d array and double quotes, as Python's repr may write them.
        let s = read_npy(&npy(
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": ()}",
            &1.5f32.to_le_bytes(),
        ))
        .unwrap();
        assert_eq!(s.shape(), [] as [usize; 0]);
        assert_eq!(s.first(), Some(&1.5));
    }

    #[test]
    fn fortran_order_comes_back_in_standard_layout() {
        // [[0, 1, 2], [3, 4, 5]] stored column by column.
        let data: Vec<u8> = [0f32, 3.0, 1.0, 4.0, 2.0, 5.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = read_npy(&npy(&dict("<f4", true, "(2, 3)"), &data)).unwrap();
        assert!(a.is_standard_layout());
        assert_eq!(a.shape(), [2, 3]);
        assert_eq!(a.as_slice().unwrap(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    fn message(r: Result<ArrayD<f32>, CodecError>) -> String {
        match r {
            Err(CodecError::Npy(m)) => m.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_files_are_typed_one_line_errors() {
        let f4 = |shape: &str, data: &[u8]| npy(&dict("<f4", false, shape), data);
        assert_eq!(
            message(read_npy(b"hello world")),
            "not a .npy file (bad magic)"
        );
        assert_eq!(
            message(read_npy(&npy(&dict("<f2", false, "(1,)"), &[0, 0]))),
            "float16 arrays are not supported; save as float32"
        );
        assert_eq!(
            message(read_npy(&npy(&dict(">c16", false, "(1,)"), &[0; 16]))),
            "dtype >c16 is not supported"
        );
        assert_eq!(
            message(read_npy(&f4("(3,)", &[0; 8]))),
            "data is truncated: 8 bytes for 3 values of 4 bytes"
        );
        // A shape claiming a terabyte, in a 100-byte file: an error, not an allocation.
        assert_eq!(
            message(read_npy(&f4("(1000000000000,)", &[0; 8]))),
            "data is truncated: 8 bytes for 1000000000000 values of 4 bytes"
        );
        assert_eq!(
            message(read_npy(&f4("(4611686018427387904, 8)", &[]))),
            "shape overflows"
        );
        // A version-2 header claiming 4 GiB: checked against the file before any read.
        let mut v2 = b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'".to_vec();
        v2.extend_from_slice(&[b' '; 50]);
        assert_eq!(message(read_npy(&v2)), "truncated header");
        // Thousands of nested brackets: a syntax error from the parser's stack guard.
        let deep = format!(
            "{{'descr': '<f4', 'fortran_order': False, 'shape': {}",
            "(".repeat(30_000)
        );
        let m = message(read_npy(&npy(&deep, &[])));
        assert!(m.starts_with("bad header: ") && !m.contains('\n'), "{m}");
        for bad in [
            "{'descr': '<f4', 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': )1,(}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 0}",
            "[1, 2]",
        ] {
            let m = message(read_npy(&npy(bad, &[0; 4])));
            assert!(
                m.starts_with("bad header: ") && !m.contains('\n') && m.len() < 120,
                "{m}"
            );
        }
    }

    fn zip_of(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for &(name, data, deflate) in members {
            let method = if deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn npz_stored_and_deflated_in_weight_order() {
        let arr = |v: f32| write_npy(&ArrayD::from_shape_vec(IxDyn(&[2]), vec![v, -v]).unwrap());
        let (a0, a1, a2, a10) = (arr(0.5), arr(1.5), arr(2.5), arr(10.5));
        let npz = zip_of(&[
            ("arr_10.npy", &a10, true),
            ("arr_0.npy", &a0, false),
            ("arr_2.npy", &a2, true),
            ("arr_1.npy", &a1, false),
        ]);
        let names: Vec<String> = read_npz(&npz)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["arr_10", "arr_0", "arr_2", "arr_1"]);
        let firsts: Vec<f32> = read_weight_list(&npz)
            .unwrap()
            .iter()
            .map(|a| a[[0]])
            .collect();
        assert_eq!(firsts, [0.5, 1.5, 2.5, 10.5]);
        let bad = zip_of(&[("arr_0.npy", b"not npy", false)]);
        // The member's problem is named once ("NumPy file: " is not repeated).
        let e = read_npz(&bad).unwrap_err();
        assert_eq!(
            e,
            err(NpyError::Member {
                name: "arr_0.npy".into(),
                problem: Box::new(NpyError::BadMagic)
            })
        );
        assert_eq!(
            e.to_string(),
            "NumPy file: arr_0.npy: not a .npy file (bad magic)"
        );
        assert!(read_npz(&zip_of(&[])).unwrap().is_empty());
    }
}
