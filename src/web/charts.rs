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
    const WIDTH: f64 = 520.0;
    const LABEL: f64 = 170.0;
    const BAR: f64 = 16.0;
    const ROW: f64 = 48.0;
    let max = rows
        .iter()
        .flat_map(|(_, a, b)| [a.abs(), b.abs()])
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let height = 34.0 + ROW * rows.len() as f64;
    let span = WIDTH - LABEL - 110.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        xml(title),
        xml(title)
    );
    svg.push_str("<g font-family=\"sans-serif\" font-size=\"14\">");
    svg.push_str(&format!(
        "<rect x=\"{LABEL}\" y=\"6\" width=\"12\" height=\"10\" fill=\"#9aa5b1\"/><text x=\"{}\" y=\"16\">avant</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"10\" fill=\"#1f5fa8\"/><text x=\"{}\" y=\"16\">après</text>",
        LABEL + 16.0,
        LABEL + 80.0,
        LABEL + 96.0
    ));
    for (i, (label, before, after)) in rows.iter().enumerate() {
        let y = 30.0 + ROW * i as f64;
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL - 8.0,
            y + BAR + 4.0,
            xml(label)
        ));
        for (k, (value, colour)) in [(*before, "#9aa5b1"), (*after, "#1f5fa8")]
            .into_iter()
            .enumerate()
        {
            let top = y + k as f64 * (BAR + 2.0);
            let width = (value.abs() / max * span).max(1.0);
            svg.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{top}\" width=\"{width:.1}\" height=\"{BAR}\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL + width + 6.0,
                top + BAR - 3.0,
                xml(&format(value))
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
