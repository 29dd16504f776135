//! The Train panel's `.npz` weight files, written in the on-demand tools module: what
//! `np.savez(path, *model.get_weights())` writes (members `arr_0.npy`, `arr_1.npy`, …,
//! stored), so `model.set_weights` can load them. The library's reader and writer
//! (`codec::npy`, on `ndarray-npy` and `zip`) are native only: those crates turn on features
//! of crates the page's first module shares (`num-traits/std`, `memchr/std`), which changed
//! that module. This writer is tested byte for byte against that one.

use ndarray::ArrayD;

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
    }
}
