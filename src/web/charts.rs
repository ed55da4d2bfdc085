//! Charts drawn on the server as SVG (no script, no CDN), each with the same numbers in a
//! table beneath it in the page: bars "before" and "after" for each row.

/// Escapes text for SVG and XML (the charts, the Atom feed).
pub fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars, two per row (before in grey, after in the brand colour), scaled to the
/// largest value; `format` writes a value.
pub fn before_after(
    title: &str,
    rows: &[(String, f64, f64)],
    format: &dyn Fn(f64) -> String,
) -> String {
    let rows: Vec<(String, Vec<f64>)> = rows
        .iter()
        .map(|(label, before, after)| (label.clone(), vec![*before, *after]))
        .collect();
    bars(title, &["avant", "après"], &rows, format)
}

/// The colours of the series, in order.
const COLOURS: [&str; 3] = ["#9aa5b1", "#1f5fa8", "#2e7d32"];

/// Horizontal bars, one per series in each row (up to three series, with a legend when there
/// are several), scaled to the largest value; `format` writes a value.
pub fn bars(
    title: &str,
    series: &[&str],
    rows: &[(String, Vec<f64>)],
    format: &dyn Fn(f64) -> String,
) -> String {
    const WIDTH: f64 = 560.0;
    const LABEL: f64 = 210.0;
    const BAR: f64 = 16.0;
    let per_row = series.len().clamp(1, COLOURS.len());
    let row_height = per_row as f64 * (BAR + 2.0) + 12.0;
    let max = rows
        .iter()
        .flat_map(|(_, values)| values.iter().map(|v| v.abs()))
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let height = 34.0 + row_height * rows.len() as f64;
    let span = WIDTH - LABEL - 110.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        xml(title),
        xml(title)
    );
    svg.push_str("<g font-family=\"sans-serif\" font-size=\"14\">");
    if per_row > 1 {
        for (k, name) in series.iter().take(per_row).enumerate() {
            let x = LABEL + 110.0 * k as f64;
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"16\">{}</text>",
                COLOURS[k],
                x + 16.0,
                xml(name)
            ));
        }
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = 30.0 + row_height * i as f64;
        // Long labels are cut (the table beneath has them whole, and the tooltip).
        let short: String = match label.chars().count() > 26 {
            true => label.chars().take(25).collect::<String>() + "…",
            false => label.clone(),
        };
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            LABEL - 8.0,
            y + BAR + 4.0,
            xml(label),
            xml(&short)
        ));
        for (k, value) in values.iter().take(per_row).enumerate() {
            let colour = match per_row {
                1 => COLOURS[1],
                _ => COLOURS[k],
            };
            let top = y + k as f64 * (BAR + 2.0);
            let width = (value.abs() / max * span).max(1.0);
            svg.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{top}\" width=\"{width:.1}\" height=\"{BAR}\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL + width + 6.0,
                top + BAR - 3.0,
                xml(&format(*value))
            ));
        }
    }
    svg.push_str("</g></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_and_labels_escaped() {
        let svg = before_after(
            "Lots <avant> & après",
            &[("Lots".into(), 10.0, 5.0), ("A < B".into(), 0.0, 2.0)],
            &|v| format!("{v}"),
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Lots &lt;avant&gt; &amp; après"));
        assert!(svg.contains("A &lt; B") && !svg.contains("A < B"));
        assert!(
            svg.contains("width=\"240.0\""),
            "the largest bar spans the width: {svg}"
        );
        assert!(
            svg.contains("width=\"120.0\""),
            "half of it for half the value"
        );
    }
}
