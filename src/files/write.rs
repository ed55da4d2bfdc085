//! Tables written for people: CSV the way French spreadsheets read it (UTF-8 with BOM, `;`,
//! decimal comma) and `.xlsx`. What is exported can be imported back unchanged.

use rust_xlsxwriter::{Format, Workbook};

/// A cell to write.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Text(t) => neutralised(t),
            Cell::Number(n) => crate::services::needs::french_number(*n),
        }
    }
}

/// Characters that make a spreadsheet read a cell as a formula (CSV injection, OWASP).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell a spreadsheet will not run: one starting like a formula gets a leading `'`, which
/// spreadsheets show as text ([`restored`] takes it off on import).
pub fn neutralised(text: &str) -> String {
    match text.starts_with(FORMULA_STARTS) {
        true => format!("'{text}"),
        false => text.to_string(),
    }
}

/// A cell as imported: the `'` that [`neutralised`] put before a formula-like text is removed.
pub fn restored(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => text,
    }
}

/// CSV with a BOM (so that spreadsheets take it as UTF-8), `;` and decimal commas.
pub fn csv(header: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, String> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        writer.write_record(header).map_err(|e| e.to_string())?;
        for row in rows {
            writer
                .write_record(row.iter().map(Cell::csv))
                .map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// One worksheet, header in bold.
pub fn xlsx(sheet_name: &str, header: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, String> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    for (col, name) in header.iter().enumerate() {
        let col = u16::try_from(col).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, *name, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|e| e.to_string())?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            match cell {
                Cell::Text(t) => sheet.write_string(r, c, t),
                Cell::Number(n) => sheet.write_number(r, c, *n),
            }
            .map_err(|e| e.to_string())?;
        }
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_read_back_as_typed() {
        let header = ["title"];
        let hostile = [
            "=HYPERLINK(\"http://evil\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
        ];
        let rows: Vec<Vec<Cell>> = hostile
            .iter()
            .map(|t| vec![Cell::Text(t.to_string())])
            .collect();
        let bytes = csv(&header, &rows).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        for line in text.lines().skip(1) {
            let cell = line.trim_matches('"');
            assert!(cell.starts_with('\''), "{line}");
        }
        let table = crate::files::Table::read(&bytes, &header).unwrap();
        for (row, typed) in table.rows.iter().zip(hostile) {
            assert_eq!(table.cell(row, "title"), typed.trim());
        }
        assert_eq!(neutralised("Gants"), "Gants");
        assert_eq!(restored("'bonjour"), "'bonjour");
    }

    #[test]
    fn what_is_written_reads_back() {
        let header = ["need_id", "title", "quantity"];
        let rows = vec![vec![
            Cell::Text("A-1".into()),
            Cell::Text("Gants « nitrile »; taille M".into()),
            Cell::Number(1200.5),
        ]];
        for bytes in [
            csv(&header, &rows).unwrap(),
            xlsx("Besoins", &header, &rows).unwrap(),
        ] {
            let table = crate::files::Table::read(&bytes, &header).unwrap();
            let row = &table.rows[0];
            assert_eq!(table.cell(row, "title"), "Gants « nitrile »; taille M");
            assert_eq!(
                crate::files::parse_decimal(table.cell(row, "quantity")).unwrap(),
                1200.5
            );
        }
    }
}
