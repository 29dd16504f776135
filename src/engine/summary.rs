//! Keras 3-style `model.summary()` text, with a MACs column after Keras's columns.

use super::model::Analysis;

/// Keras's `readable_memory_size`: 1024-based units with two decimals.
pub fn readable_memory_size(bytes: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut size = bytes as f64;
    for unit in units {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} PB")
}

/// `1234567` → `1,234,567` (Keras prints counts with thousands separators).
pub fn commas(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn pad_left(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(s.chars().count())))
}

fn pad_right(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())))
}

/// The summary table as text (what `flatland summary` prints and "copy as text" copies).
pub fn summary_text(model_name: &str, a: &Analysis) -> String {
    let rows: Vec<[String; 4]> = a
        .layers
        .iter()
        .map(|l| {
            let shape = l.shape_text();
            [
                format!("{} ({})", l.name, l.class_name),
                shape,
                commas(l.params()),
                commas(l.macs),
            ]
        })
        .collect();
    let headers = ["Layer (type)", "Output Shape", "Param #", "MACs"];
    let mut out = table(model_name, headers, [31, 22, 13, 13], 2, &rows);
    out += &totals(a.total(), a.trainable, a.non_trainable, a.macs);
    if let Some(e) = a.first_error() {
        out += &format!(" Error: {e}\n");
    }
    out
}

/// Keras's box-drawn table (chain and graph summaries): a title, headers, one row per layer;
/// the column `right_from` and the last are aligned right (the numbers).
pub fn table<const N: usize>(
    model_name: &str,
    headers: [&str; N],
    mins: [usize; N],
    right_from: usize,
    rows: &[[String; N]],
) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([headers[c].chars().count(), mins[c]])
                .max()
                .unwrap_or(mins[c])
        })
        .collect();
    let line = |l: &str, m: &str, r: &str, f: &str| {
        let parts: Vec<String> = widths.iter().map(|w| f.repeat(w + 2)).collect();
        format!("{l}{}{r}\n", parts.join(m))
    };
    let cells = |r: &[String; N], edge: &str| {
        let c: Vec<String> = (0..N)
            .map(|i| {
                if i == right_from || i + 1 == N {
                    format!(" {} ", pad_left(&r[i], widths[i]))
                } else {
                    format!(" {} ", pad_right(&r[i], widths[i]))
                }
            })
            .collect();
        format!("{edge}{}{edge}\n", c.join(edge))
    };
    let mut out = format!("Model: \"{model_name}\"\n");
    out += &line("┏", "┳", "┓", "━");
    out += &cells(&headers.map(String::from), "┃");
    out += &line("┡", "╇", "┩", "━");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out += &line("├", "┼", "┤", "─");
        }
        out += &cells(r, "│");
    }
    out += &line("└", "┴", "┘", "─");
    out
}

/// The totals under the table, as Keras prints them, and the MACs.
pub fn totals(total: u64, trainable: u64, non_trainable: u64, macs: u64) -> String {
    let mem = |n: u64| readable_memory_size(n.saturating_mul(4));
    let mut out = format!(" Total params: {} ({})\n", commas(total), mem(total));
    out += &format!(
        " Trainable params: {} ({})\n",
        commas(trainable),
        mem(trainable)
    );
    out += &format!(
        " Non-trainable params: {} ({})\n",
        commas(non_trainable),
        mem(non_trainable)
    );
    out += &format!(" Total MACs: {}\n", commas(macs));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::{analyze, Model};

    #[test]
    fn keras_number_formats() {
        assert_eq!(commas(138_357_544), "138,357,544");
        assert_eq!(commas(48), "48");
        assert_eq!(readable_memory_size(976), "976.00 B");
        assert_eq!(readable_memory_size(9301 * 4), "36.33 KB");
    }

    #[test]
    fn seed_summary_has_rows_and_totals() {
        let t = summary_text("seed", &analyze(&Model::seed()));
        assert!(t.contains("│ dense (Dense)"), "{t}");
        assert!(t.contains("(None, 3, 16)"));
        assert!(t.contains(" Total params: 244 (976.00 B)"));
        assert!(t.contains(" Non-trainable params: 0 (0.00 B)"));
    }
}
