//! The first worksheet of an `.xlsx` workbook, as text cells.

use super::RowError;
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

pub fn records(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, Vec<RowError>> {
    let unreadable = |e: String| {
        vec![RowError::new(
            1,
            "file",
            format!("unreadable .xlsx workbook: {e}"),
        )]
    };
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => return Err(unreadable(e.to_string())),
        None => {
            return Err(vec![RowError::new(
                1,
                "header",
                "the workbook has no worksheet",
            )])
        }
    };
    // Row numbers as the spreadsheet shows them, even when the used range starts lower.
    let first_row = range.start().map(|(row, _)| row as usize).unwrap_or(0);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| (first_row + i + 1, row.iter().map(cell_text).collect()))
        .collect())
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_float(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => {
                d.date().format("%Y-%m-%d").to_string()
            }
            Some(d) => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => format_float(dt.as_f64()),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Integers without a trailing `.0`, other numbers in full.
fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}
