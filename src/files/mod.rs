//! Reading the tables people bring: CSV as French spreadsheets write it (`;` or `,`, decimal
//! comma, UTF-8 with or without BOM, or Windows-1252) and `.xlsx`. Every problem is reported as
//! `row N: field: message`, N being the row number a spreadsheet shows (the header is row 1).

pub mod cells;
mod decode;
pub mod write;
mod xlsx;

use std::collections::HashMap;
use std::fmt;

/// A problem in a file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    pub fn new(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: {}: {}", self.row, self.field, self.message)
    }
}

/// One data row: its spreadsheet row number and its cells.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: usize,
    cells: Vec<String>,
}

/// How much a file may hold. A file past a limit is refused with one `row 1: file: …` error
/// saying which, before anything is read from what the file claims (README, "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the file itself.
    pub file_bytes: u64,
    /// Rows of a sheet or lines of a CSV file, the header included.
    pub rows: usize,
    /// Columns of a sheet or fields of a CSV line.
    pub columns: u32,
    /// Filled cells of a sheet.
    pub cells: usize,
    /// Bytes of text in all the cells of a sheet.
    pub text_bytes: usize,
    /// Parts (zip entries) of an `.xlsx` workbook.
    pub zip_entries: usize,
    /// Bytes one part of a workbook unpacks to.
    pub entry_bytes: u64,
    /// Bytes all the parts of a workbook unpack to.
    pub unpacked_bytes: u64,
}

impl Limits {
    /// Files sent to the portal and the API (the needs import).
    pub const UPLOAD: Limits = Limits {
        file_bytes: 10 << 20,
        rows: 100_000,
        columns: 64,
        cells: 2_000_000,
        text_bytes: 64 << 20,
        zip_entries: 256,
        entry_bytes: 64 << 20,
        unpacked_bytes: 128 << 20,
    };

    /// Files given to the command line (`import`, `pool`, `award`): larger, still bounded.
    pub const COMMAND_LINE: Limits = Limits {
        file_bytes: 512 << 20,
        rows: 2_000_000,
        columns: 64,
        cells: 40_000_000,
        text_bytes: 1 << 30,
        zip_entries: 1024,
        entry_bytes: 2 << 30,
        unpacked_bytes: 4 << 30,
    };
}

/// At most this many problems of a file are listed; the rest are counted
/// (`… and N more rows with errors`).
pub const REPORTED_ERRORS: usize = 100;

/// The problems of a file as lines, in row order: the first [`REPORTED_ERRORS`], then how many
/// more rows have problems.
pub fn report(errors: &[RowError]) -> Vec<String> {
    let mut sorted: Vec<&RowError> = errors.iter().collect();
    sorted.sort_by_key(|e| e.row);
    let mut lines: Vec<String> = sorted
        .iter()
        .take(REPORTED_ERRORS)
        .map(|e| e.to_string())
        .collect();
    if sorted.len() > REPORTED_ERRORS {
        let last_shown = sorted[REPORTED_ERRORS - 1].row;
        let mut more: Vec<usize> = sorted[REPORTED_ERRORS..]
            .iter()
            .map(|e| e.row)
            .filter(|&row| row != last_shown)
            .collect();
        more.dedup();
        let extra_errors = sorted.len() - REPORTED_ERRORS;
        lines.push(match more.len() {
            0 => format!("… and {extra_errors} more errors on row {last_shown}"),
            n => format!("… and {n} more rows with errors"),
        });
    }
    lines
}

/// A table with named columns.
#[derive(Debug, Clone)]
pub struct Table {
    columns: HashMap<String, usize>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Reads CSV or, when the bytes are a zip archive (`.xlsx`), the first worksheet, within
    /// the limits of uploads.
    pub fn read(bytes: &[u8], required: &[&str]) -> Result<Table, Vec<RowError>> {
        Table::read_within(bytes, required, &Limits::UPLOAD)
    }

    /// Reads CSV or `.xlsx` within `limits`.
    pub fn read_within(
        bytes: &[u8],
        required: &[&str],
        limits: &Limits,
    ) -> Result<Table, Vec<RowError>> {
        if bytes.len() as u64 > limits.file_bytes {
            return Err(vec![RowError::new(
                1,
                "file",
                format!(
                    "the file is larger than {} MB, the most accepted",
                    limits.file_bytes >> 20
                ),
            )]);
        }
        let records = if bytes.starts_with(b"PK\x03\x04") {
            xlsx::records(bytes, limits)?
        } else {
            csv_records(&decode::to_utf8(bytes), limits)?
        };
        Table::from_records(records, required)
    }

    fn from_records(
        records: Vec<(usize, Vec<String>)>,
        required: &[&str],
    ) -> Result<Table, Vec<RowError>> {
        let mut records = records
            .into_iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
        let Some((header_row, header)) = records.next() else {
            return Err(vec![RowError::new(1, "header", "the file is empty")]);
        };
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, name)| (normalise_header(name), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|name| !columns.contains_key(*name))
            .collect();
        if !missing.is_empty() {
            return Err(vec![RowError::new(
                header_row,
                "header",
                format!(
                    "missing column(s) {}; expected {}",
                    missing.join(", "),
                    required.join(",")
                ),
            )]);
        }
        let rows: Vec<Row> = records
            .map(|(number, cells)| Row { number, cells })
            .collect();
        if rows.is_empty() {
            return Err(vec![RowError::new(
                header_row + 1,
                "file",
                "no data row after the header",
            )]);
        }
        Ok(Table { columns, rows })
    }

    /// The trimmed cell of `column` in `row` ("" when the row is short), without the `'` an
    /// export put before a formula-like text (`write::neutralised`).
    pub fn cell<'a>(&self, row: &'a Row, column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.cells.get(i))
            .map(|c| write::restored(c.trim()).trim())
            .unwrap_or("")
    }
}

fn normalise_header(name: &str) -> String {
    name.trim().trim_start_matches('\u{feff}').to_lowercase()
}

/// Splits CSV text, choosing `;` or `,` from the header line.
fn csv_records(text: &str, limits: &Limits) -> Result<Vec<(usize, Vec<String>)>, Vec<RowError>> {
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The reader's own line count skips blank lines, and a record's position is where the
    // blank lines before it begin: the line a spreadsheet shows is found by counting the line
    // breaks up to the record's first character, incrementally (records come in order).
    let bytes = text.as_bytes();
    let (mut cursor, mut line) = (0usize, 1usize);
    let mut line_at = |byte: u64| {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= cursor {
            line += bytes[cursor..start].iter().filter(|&&b| b == b'\n').count();
            cursor = start;
        }
        line
    };
    let mut records = Vec::new();
    for result in reader.records() {
        match result {
            Ok(record) => {
                let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
                if line > limits.rows {
                    return Err(vec![RowError::new(
                        line,
                        "file",
                        format!(
                            "the file has more than {} lines, the most accepted",
                            limits.rows
                        ),
                    )]);
                }
                if record.len() > limits.columns as usize {
                    return Err(vec![RowError::new(
                        line,
                        "file",
                        format!(
                            "this line has {} fields, more than the {} columns accepted",
                            record.len(),
                            limits.columns
                        ),
                    )]);
                }
                records.push((line, record.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                return Err(vec![RowError::new(
                    line,
                    "file",
                    format!("unreadable CSV: {e}"),
                )]);
            }
        }
    }
    Ok(records)
}

/// A decimal number as spreadsheets write it: `1234.5`, `1234,5`, `1 234,5`, `1.234,5`.
pub fn parse_decimal(text: &str) -> Result<f64, String> {
    let compact: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}')
        .collect();
    if compact.is_empty() {
        return Err("vide : un nombre est attendu".into());
    }
    let normalised = match (compact.rfind('.'), compact.rfind(',')) {
        (Some(dot), Some(comma)) if comma > dot => compact.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => compact.replace(',', ""),
        (None, Some(_)) => compact.replace(',', "."),
        _ => compact,
    };
    match normalised.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("« {} » n'est pas un nombre", text.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_csv_with_semicolons_and_decimal_commas() {
        let text = "lot_id;value_eur\nL1;12 500,50\n\nL2;3000\n";
        let table = Table::read(text.as_bytes(), &["lot_id", "value_eur"]).unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].number, 2);
        assert_eq!(
            table.rows[1].number, 4,
            "blank lines keep the row numbers true"
        );
        let value = parse_decimal(table.cell(&table.rows[0], "value_eur")).unwrap();
        assert!((value - 12_500.5).abs() < 1e-9);
    }

    #[test]
    fn header_problems_are_reported_on_row_one() {
        let err = Table::read(b"lot;value\nL1;3\n", &["lot_id", "value_eur"]).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "row 1: header: missing column(s) lot_id, value_eur; expected lot_id,value_eur"
        );
        let err = Table::read(b"", &["lot_id"]).unwrap_err();
        assert_eq!(err[0].to_string(), "row 1: header: the file is empty");
        let err = Table::read(b"lot_id\n", &["lot_id"]).unwrap_err();
        assert!(err[0].to_string().contains("no data row"));
    }

    #[test]
    fn a_csv_file_past_its_lines_or_columns_is_refused_where_it_passes() {
        let limits = Limits {
            rows: 1_000,
            columns: 4,
            ..Limits::UPLOAD
        };
        let many = format!("lot_id\n{}", "L\n".repeat(5_000));
        let err = Table::read_within(many.as_bytes(), &["lot_id"], &limits).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "row 1001: file: the file has more than 1000 lines, the most accepted"
        );
        let wide = format!("lot_id\nL{}\n", ",x".repeat(10));
        let err = Table::read_within(wide.as_bytes(), &["lot_id"], &limits).unwrap_err();
        assert!(err[0]
            .to_string()
            .starts_with("row 2: file: this line has 11 fields"));
        let big = vec![b'a'; (10 << 20) + 1];
        let err = Table::read(&big, &["lot_id"]).unwrap_err();
        assert!(err[0].to_string().contains("larger than 10 MB"));
    }

    #[test]
    fn a_report_lists_the_first_problems_and_counts_the_rest() {
        let errors: Vec<RowError> = (2..5_000_002)
            .map(|row| RowError::new(row, "quantity", "empty"))
            .collect();
        let lines = report(&errors);
        assert_eq!(lines.len(), REPORTED_ERRORS + 1);
        assert_eq!(lines[0], "row 2: quantity: empty");
        assert_eq!(
            lines[REPORTED_ERRORS],
            "… and 4999900 more rows with errors"
        );
        let few: Vec<RowError> = (2..5).map(|row| RowError::new(row, "a", "b")).collect();
        assert_eq!(report(&few).len(), 3);
    }

    #[test]
    fn decimals_in_every_writing() {
        for (text, value) in [
            ("1234.5", 1234.5),
            ("1234,5", 1234.5),
            ("1 234,5", 1234.5),
            ("1.234,5", 1234.5),
            ("1,234.5", 1234.5),
            ("-3", -3.0),
        ] {
            assert_eq!(parse_decimal(text), Ok(value), "{text}");
        }
        assert!(parse_decimal("douze").is_err());
        assert!(parse_decimal("").is_err());
        assert!(parse_decimal("inf").is_err());
    }
}
