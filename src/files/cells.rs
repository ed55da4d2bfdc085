//! Reading the cells of a table into typed values, with every bad cell of every row reported
//! (the command line's input files, the needs import).

use super::{parse_decimal, Limits, Row, RowError, Table};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::path::Path;

/// Reads a file and its columns, or says why not (`FILE: row N: field: message`).
pub fn read_table(path: &Path, required: &[&str]) -> Result<Table, Vec<String>> {
    let bytes = read_file(path, &Limits::COMMAND_LINE)
        .map_err(|e| vec![format!("{}: {e}", path.display())])?;
    Table::read_within(&bytes, required, &Limits::COMMAND_LINE)
        .map_err(|errors| located(path, &errors))
}

/// A whole file, refused before reading when it is larger than the limits allow.
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the file: {e}"))?
        .len();
    if size > limits.file_bytes {
        return Err(format!(
            "row 1: file: the file is larger than {} MB, the most accepted",
            limits.file_bytes >> 20
        ));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?,
            limits.file_bytes + 1,
        ),
        &mut bytes,
    )
    .map_err(|e| format!("cannot read the file: {e}"))?;
    Ok(bytes)
}

/// Prefixes errors with the file they are in: the first [`super::REPORTED_ERRORS`], then how
/// many more rows have problems.
pub fn located(path: &Path, errors: &[RowError]) -> Vec<String> {
    super::report(errors)
        .into_iter()
        .map(|line| format!("{}: {line}", path.display()))
        .collect()
}

/// Collects the problems of one row's cells.
pub struct Cells<'a> {
    pub table: &'a Table,
    pub row: &'a Row,
    pub errors: &'a mut Vec<RowError>,
}

impl Cells<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .push(RowError::new(self.row.number, field, message));
    }

    /// A non-empty text cell.
    pub fn text(&mut self, field: &str) -> Option<String> {
        let value = self.table.cell(self.row, field);
        if value.is_empty() {
            self.fail(field, "empty");
            return None;
        }
        Some(value.to_string())
    }

    /// A number within `range` (inclusive bounds written in the message).
    pub fn number(&mut self, field: &str, min: f64, max: f64, exclusive_min: bool) -> Option<f64> {
        let raw = self.table.cell(self.row, field);
        match parse_decimal(raw) {
            Err(message) => {
                self.fail(field, message);
                None
            }
            Ok(v) if (exclusive_min && v <= min) || v < min || v > max => {
                let lower = if exclusive_min { "above" } else { "at least" };
                let bound = if max.is_finite() {
                    format!(" and at most {max}")
                } else {
                    String::new()
                };
                self.fail(field, format!("{v} must be {lower} {min}{bound}"));
                None
            }
            Ok(v) => Some(v),
        }
    }

    /// A moment in ISO 8601 (with a zone, or taken as UTC) or `JJ/MM/AAAA HH:MM`, returned as
    /// `YYYY-MM-DDTHH:MM:SSZ` so that moments compare as text.
    pub fn moment(&mut self, field: &str) -> Option<String> {
        let raw = self.table.cell(self.row, field);
        match parse_moment(raw) {
            Some(m) => Some(m.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            None => {
                self.fail(
                    field,
                    format!("« {raw} » is not a date and time (AAAA-MM-JJTHH:MM:SSZ or JJ/MM/AAAA HH:MM)"),
                );
                None
            }
        }
    }
}

fn parse_moment(raw: &str) -> Option<NaiveDateTime> {
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_zone.with_timezone(&Utc).naive_utc());
    }
    const FORMATS: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .or_else(|| {
            crate::domain::parse_date(raw)
                .ok()
                .and_then(|d: NaiveDate| d.and_hms_opt(0, 0, 0))
        })
}

impl Cells<'_> {
    /// The trimmed cell, as written.
    pub fn raw(&self, field: &str) -> &str {
        self.table.cell(self.row, field)
    }

    /// A value parsed by a domain constructor, its French message recorded on failure.
    pub fn parsed<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, crate::domain::ParseError>,
    ) -> Option<T> {
        let result = parse(self.raw(field));
        result.map_err(|e| self.fail(field, e.0)).ok()
    }

    /// `oui/non`, `true/false`, `yes/no`, `1/0`.
    pub fn flag(&mut self, field: &str) -> Option<bool> {
        let raw = self.raw(field).to_string();
        let parsed = parse_flag(&raw);
        if parsed.is_none() {
            self.fail(
                field,
                format!("« {raw} » is not oui/non, true/false, yes/no or 1/0"),
            );
        }
        parsed
    }

    /// Records a problem of this row.
    pub fn reject(&mut self, field: &str, message: impl Into<String>) {
        self.fail(field, message);
    }
}

/// `oui/non`, `true/false`, `yes/no`, `1/0`, any case.
pub fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "oui" | "true" | "yes" | "1" | "o" | "vrai" => Some(true),
        "non" | "false" | "no" | "0" | "n" | "faux" => Some(false),
        _ => None,
    }
}

/// The rows of a file read as far as they go: a cell that did not parse is recorded in
/// `errors` and stands as a neutral value, so that the rest of the row is still checked.
pub struct Parsed<T> {
    pub items: Vec<T>,
    /// The spreadsheet row number of each item.
    pub rows: Vec<usize>,
    pub errors: Vec<RowError>,
}

/// Reads every data row of `table` with `read`.
pub fn parse_rows<T>(table: &Table, mut read: impl FnMut(&mut Cells) -> T) -> Parsed<T> {
    let mut parsed = Parsed {
        items: Vec::with_capacity(table.rows.len()),
        rows: Vec::with_capacity(table.rows.len()),
        errors: Vec::new(),
    };
    for row in &table.rows {
        let mut cells = Cells {
            table,
            row,
            errors: &mut parsed.errors,
        };
        let item = read(&mut cells);
        parsed.items.push(item);
        parsed.rows.push(row.number);
    }
    parsed
}

impl<T> Parsed<T> {
    /// Adds a problem the engine found with item `index`, unless that cell already has one.
    pub fn also(&mut self, index: usize, field: &str, message: &str) {
        let Some(&row) = self.rows.get(index) else {
            return;
        };
        if !self.errors.iter().any(|e| e.row == row && e.field == field) {
            self.errors.push(RowError::new(row, field, message));
        }
    }

    /// Every problem as `FILE: row N: field: message`, in row order.
    pub fn problems(&mut self, path: &Path) -> Vec<String> {
        self.errors.sort_by_key(|e| e.row);
        located(path, &self.errors)
    }
}
