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

/// A point of a frontier chart: its number (shown beside it), its share (0–1, across) and its
/// savings (EUR, up).
pub struct FrontierDot {
    pub number: usize,
    pub share: f64,
    pub savings: f64,
}

/// The frontier of plans between savings and local access: one dot per plan, joined in order
/// (savings fall as the local share rises), the current plan ringed and said in words; `format`
/// writes an amount for the vertical axis. The table beneath it in the page has every figure.
pub fn frontier(
    title: &str,
    dots: &[FrontierDot],
    current: Option<usize>,
    format: &dyn Fn(f64) -> String,
) -> String {
    const WIDTH: f64 = 560.0;
    const HEIGHT: f64 = 330.0;
    const LEFT: f64 = 104.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 58.0;
    let span = |values: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        match (lo.is_finite(), hi - lo) {
            (false, _) => (0.0, 1.0),
            // One value: a band around it.
            (true, d) if d <= 1e-9 => (lo - lo.abs().max(1.0) * 0.1, hi + hi.abs().max(1.0) * 0.1),
            (true, d) => (lo - 0.08 * d, hi + 0.08 * d),
        }
    };
    let (x0, x1) = span(&mut dots.iter().map(|d| d.share * 100.0));
    let (x0, x1) = (x0.max(0.0), x1.min(100.0).max(x0.max(0.0) + 1e-6));
    let (y0, y1) = span(&mut dots.iter().map(|d| d.savings));
    // Savings that are all positive keep zero in view from below, not a negative tick.
    let y0 = match dots.iter().all(|d| d.savings >= 0.0) {
        true => y0.max(0.0),
        false => y0,
    };
    let x = |share: f64| LEFT + (share * 100.0 - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
    let y = |savings: f64| HEIGHT - BOTTOM - (savings - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        xml(title),
        xml(title)
    );
    svg.push_str("<g font-family=\"sans-serif\" font-size=\"15\">");
    // Axes with four ticks each.
    let (bottom, right) = (HEIGHT - BOTTOM, WIDTH - RIGHT);
    svg.push_str(&format!(
        "<path d=\"M{LEFT} {TOP}V{bottom}H{right}\" fill=\"none\" stroke=\"#5f6b7a\"/>"
    ));
    for k in 0..=3 {
        let share = x0 + (x1 - x0) * f64::from(k) / 3.0;
        let px = LEFT + (WIDTH - LEFT - RIGHT) * f64::from(k) / 3.0;
        svg.push_str(&format!(
            "<path d=\"M{px:.1} {bottom}v5\" stroke=\"#5f6b7a\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{} %</text>",
            bottom + 19.0,
            xml(&format!("{share:.1}").replace('.', ","))
        ));
        let savings = y0 + (y1 - y0) * f64::from(k) / 3.0;
        let py = bottom - (bottom - TOP) * f64::from(k) / 3.0;
        svg.push_str(&format!(
            "<path d=\"M{LEFT} {py:.1}h-5\" stroke=\"#5f6b7a\"/><path d=\"M{LEFT} {py:.1}H{right}\" stroke=\"#e3e7ec\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 8.0,
            py + 4.0,
            xml(&format(savings))
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Part de la valeur à la portée des PME locales</text>",
        (LEFT + right) / 2.0,
        HEIGHT - 12.0
    ));
    svg.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"12\" text-anchor=\"middle\">Économie attendue</text>"
    ));
    // The frontier: the dots joined in order.
    if dots.len() > 1 {
        let path: Vec<String> = dots
            .iter()
            .enumerate()
            .map(|(k, d)| {
                format!(
                    "{}{:.1} {:.1}",
                    if k == 0 { "M" } else { "L" },
                    x(d.share),
                    y(d.savings)
                )
            })
            .collect();
        svg.push_str(&format!(
            "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            path.join(""),
            COLOURS[0]
        ));
    }
    for (k, d) in dots.iter().enumerate() {
        let (px, py) = (x(d.share), y(d.savings));
        let chosen = current == Some(k);
        if chosen {
            svg.push_str(&format!(
                "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"11\" fill=\"none\" stroke=\"{}\" stroke-width=\"3\"/>",
                COLOURS[2]
            ));
        }
        // The number beside the dot, on the side with room.
        let (anchor, dx) = match px > (LEFT + right) / 2.0 {
            true => ("end", -14.0),
            false => ("start", 14.0),
        };
        svg.push_str(&format!(
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"6\" fill=\"{}\"><title>Plan {}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\"{}>{}{}</text>",
            COLOURS[1],
            d.number,
            px + dx,
            py - 8.0,
            if chosen { " font-weight=\"bold\"" } else { "" },
            d.number,
            if chosen { " (choix actuel)" } else { "" }
        ));
    }
    svg.push_str("</g></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frontier_chart_places_every_plan_and_rings_the_current_one() {
        let dots = [
            FrontierDot {
                number: 1,
                share: 0.10,
                savings: 50_000.0,
            },
            FrontierDot {
                number: 2,
                share: 0.40,
                savings: 20_000.0,
            },
        ];
        let svg = frontier("Frontière <des plans>", &dots, Some(1), &|v| {
            format!("{v:.0}")
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Frontière &lt;des plans&gt;"));
        // Two dots, one ring, the line joining them, the current one said.
        assert_eq!(svg.matches("r=\"6\"").count(), 2);
        assert_eq!(svg.matches("r=\"11\"").count(), 1);
        assert!(svg.contains("2 (choix actuel)"));
        // The savings-only plan is up and left of the more local one.
        let cx = |n: usize| -> (f64, f64) {
            let at = svg.match_indices("r=\"6\"").nth(n).unwrap().0;
            let head = &svg[..at];
            let cx = head.rfind("cx=\"").unwrap();
            let cy = head.rfind("cy=\"").unwrap();
            let num = |from: usize| -> f64 {
                let text = &svg[from + 4..];
                text[..text.find('"').unwrap()].parse().unwrap()
            };
            (num(cx), num(cy))
        };
        let (one, two) = (cx(0), cx(1));
        assert!(one.0 < two.0 && one.1 < two.1, "{one:?} {two:?}");
        // One plan alone still draws.
        let single = frontier("F", &dots[..1], Some(0), &|v| format!("{v:.0}"));
        assert!(single.contains("1 (choix actuel)") && !single.contains("NaN"));
    }

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
