//! Insertion sort for short lists: an inspector's fields, a layer's axes, a benchmark's
//! samples. The standard library's `sort` and `sort_unstable` bring driftsort and ipnsort,
//! compiled anew for each element type and comparison: about 20 kB of the page's wasm for
//! lists of a dozen items. Stable, like `sort_by`.

/// Sort `v` so that no element is `less` than the one before it; equal elements keep their
/// order. Quadratic: for lists of at most a few hundred items.
pub fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Sort in ascending order.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_standard_stable_sort() {
        // A fixed pseudo-random sequence (LCG), many lengths, many duplicates.
        let mut state = 12_345u64;
        for len in 0..60 {
            let v: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    (u8::try_from(state >> 60).unwrap(), i)
                })
                .collect();
            let mut ours = v.clone();
            sort_by(&mut ours, |a, b| a.0 < b.0);
            let mut std_sorted = v.clone();
            std_sorted.sort_by_key(|x| x.0);
            assert_eq!(ours, std_sorted, "len {len}");
            let mut keys: Vec<u8> = v.iter().map(|x| x.0).collect();
            sort(&mut keys);
            assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
