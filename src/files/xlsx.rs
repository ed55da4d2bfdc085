//! The first worksheet of an `.xlsx` workbook, as text cells.
//!
//! An `.xlsx` is a zip of XML parts, and what those parts claim cannot be trusted: a 1.5 KB
//! workbook can declare a sheet of 17 billion cells, a 10 MB one can unpack to gigabytes, a
//! shared-strings part can announce a trillion strings that a reader would reserve room for.
//! So before any part is parsed, the archive is walked once, unpacking each part into nothing
//! and counting what really comes out (parts, bytes of each, bytes in all), and the
//! shared-strings counts are read; then the sheet is read as a stream of cells, refused at the
//! first cell past the limits. Nothing is ever allocated from a size the file states.

use super::{Limits, RowError};
use calamine::{DataRef, Reader, Xlsx};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

fn file_error(message: String) -> Vec<RowError> {
    vec![RowError::new(1, "file", message)]
}

pub fn records(bytes: &[u8], limits: &Limits) -> Result<Vec<(usize, Vec<String>)>, Vec<RowError>> {
    check_archive(bytes, limits).map_err(file_error)?;
    let unreadable = |e: String| file_error(format!("unreadable .xlsx workbook: {e}"));
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let Some(first) = workbook.sheet_names().into_iter().next() else {
        return Err(vec![RowError::new(
            1,
            "header",
            "the workbook has no worksheet",
        )]);
    };
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(|e| unreadable(e.to_string()))?;
    let declared = cells.dimensions();
    if declared.end.0 as usize >= limits.rows || declared.end.1 >= limits.columns {
        return Err(file_error(format!(
            "the sheet declares {} rows and {} columns, more than the {} rows and {} columns accepted",
            u64::from(declared.end.0) + 1,
            u64::from(declared.end.1) + 1,
            limits.rows,
            limits.columns
        )));
    }
    // Only cells with a value are kept, by row; a row's cells are laid out once all are read.
    let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let (mut count, mut text_bytes) = (0usize, 0usize);
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(e.to_string()))? {
        let (row, column) = cell.get_position();
        if row as usize >= limits.rows || column >= limits.columns {
            return Err(vec![RowError::new(
                row as usize + 1,
                "file",
                format!(
                    "a cell lies at row {} column {}, beyond the {} rows and {} columns accepted",
                    u64::from(row) + 1,
                    u64::from(column) + 1,
                    limits.rows,
                    limits.columns
                ),
            )]);
        }
        let Some(text) = cell_text(cell.get_value()) else {
            continue;
        };
        count += 1;
        text_bytes += text.len();
        if count > limits.cells || text_bytes > limits.text_bytes {
            return Err(file_error(format!(
                "the sheet holds more than {} filled cells or {} MB of text, the most accepted",
                limits.cells,
                limits.text_bytes >> 20
            )));
        }
        rows.entry(row).or_default().push((column, text));
    }
    Ok(rows
        .into_iter()
        .map(|(row, mut cells)| {
            cells.sort_by_key(|(column, _)| *column);
            let width = cells.last().map_or(0, |(column, _)| *column as usize + 1);
            let mut line = vec![String::new(); width];
            for (column, text) in cells {
                line[column as usize] = text;
            }
            (row as usize + 1, line)
        })
        .collect())
}

/// Walks the archive: at most `zip_entries` parts, each unpacking to at most `entry_bytes`
/// and all to at most `unpacked_bytes` — counted as they unpack, whatever the headers say —
/// and shared-strings counts no larger than the cells accepted.
fn check_archive(bytes: &[u8], limits: &Limits) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("unreadable .xlsx workbook: {e}"))?;
    if archive.len() > limits.zip_entries {
        return Err(format!(
            "the workbook holds {} parts, more than the {} accepted",
            archive.len(),
            limits.zip_entries
        ));
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("unreadable .xlsx workbook: {e}"))?;
        let name = entry
            .name()
            .map_err(|e| format!("unreadable .xlsx workbook: {e}"))?
            .to_ascii_lowercase();
        let too_big = || {
            format!(
                "a part of the workbook ({}) unpacks to more than {} MB, the most accepted",
                name,
                limits.entry_bytes >> 20
            )
        };
        if entry.size() > limits.entry_bytes {
            return Err(too_big());
        }
        let mut bounded = (&mut entry).take(limits.entry_bytes + 1);
        let unpacked = if name.ends_with("sharedstrings.xml") {
            let mut text = Vec::new();
            bounded
                .read_to_end(&mut text)
                .map_err(|e| format!("unreadable .xlsx workbook: {e}"))?;
            if let Some(count) = largest_count(&text) {
                if count > limits.cells as u64 {
                    return Err(format!(
                        "the workbook announces {count} shared strings, more than the {} cells accepted",
                        limits.cells
                    ));
                }
            }
            text.len() as u64
        } else {
            std::io::copy(&mut bounded, &mut std::io::sink())
                .map_err(|e| format!("unreadable .xlsx workbook: {e}"))?
        };
        if unpacked > limits.entry_bytes {
            return Err(too_big());
        }
        total += unpacked;
        if total > limits.unpacked_bytes {
            return Err(format!(
                "the workbook unpacks to more than {} MB, the most accepted",
                limits.unpacked_bytes >> 20
            ));
        }
    }
    Ok(())
}

/// The largest `count="N"` or `uniqueCount="N"` of a part (a number too long to read counts
/// as the largest possible).
fn largest_count(xml: &[u8]) -> Option<u64> {
    let mut largest = None;
    let needle = b"ount=";
    let mut at = 0;
    while let Some(found) = xml[at..].windows(needle.len()).position(|w| w == needle) {
        let mut i = at + found + needle.len();
        at = i;
        if matches!(xml.get(i), Some(b'"' | b'\'')) {
            i += 1;
        }
        let digits: Vec<u8> = xml[i..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .take(21)
            .copied()
            .collect();
        if digits.is_empty() {
            continue;
        }
        let value = std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        largest = largest.max(Some(value));
    }
    largest
}

/// The text of a cell with a value, `None` for an empty one.
fn cell_text(cell: &DataRef<'_>) -> Option<String> {
    let text = match cell {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => format_float(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => {
                d.date().format("%Y-%m-%d").to_string()
            }
            Some(d) => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => format_float(dt.as_f64()),
        },
        DataRef::Error(e) => format!("#{e:?}"),
    };
    Some(text)
}

/// Integers without a trailing `.0`, other numbers in full.
fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::write::{xlsx, Cell};
    use crate::files::Table;
    use std::io::Write;

    fn workbook() -> Vec<u8> {
        xlsx(
            "Besoins",
            &["need_id", "title"],
            &[vec![Cell::Text("A-1".into()), Cell::Text("Gants".into())]],
        )
        .unwrap()
    }

    /// `base` with the part `name` replaced (or added) and `extra` empty parts added.
    fn with_part(base: &[u8], name: &str, content: &[u8], extra: usize) -> Vec<u8> {
        let mut source = zip::ZipArchive::new(Cursor::new(base)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for i in 0..source.len() {
            let mut entry = source.by_index(i).unwrap();
            let entry_name = entry.name().unwrap().to_string();
            if entry_name == name {
                continue;
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            out.start_file(entry_name, options).unwrap();
            out.write_all(&bytes).unwrap();
        }
        out.start_file(name, options).unwrap();
        out.write_all(content).unwrap();
        for i in 0..extra {
            out.start_file(format!("docProps/extra{i}.xml"), options)
                .unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn refused(bytes: &[u8], limits: &Limits) -> String {
        let errors = Table::read_within(bytes, &["need_id"], limits).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].to_string()
    }

    const SHEET: &str = "xl/worksheets/sheet1.xml";

    fn sheet(dimension: &str, cells: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>"#
        )
        .into_bytes()
    }

    #[test]
    fn a_workbook_still_reads() {
        let table = Table::read(&workbook(), &["need_id", "title"]).unwrap();
        assert_eq!(table.cell(&table.rows[0], "title"), "Gants");
    }

    #[test]
    fn a_sheet_declaring_the_whole_grid_is_refused_before_reading() {
        // The 1.5 KB bomb: A1 and XFD1048576 only; the grid's reader allocated 17 billion cells.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "need_id").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let bomb = book.save_to_buffer().unwrap();
        assert!(bomb.len() < 8_000, "{} bytes", bomb.len());
        let message = refused(&bomb, &Limits::UPLOAD);
        assert!(
            message.starts_with("row 1: file: the sheet declares 1048576 rows and 16384 columns"),
            "{message}"
        );
        // The command line's limits refuse it too.
        assert!(refused(&bomb, &Limits::COMMAND_LINE).contains("declares"));
    }

    #[test]
    fn a_cell_beyond_the_limits_is_refused_whatever_the_sheet_declares() {
        let cells = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>need_id</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#;
        let bomb = with_part(&workbook(), SHEET, &sheet("A1:B2", cells), 0);
        let message = refused(&bomb, &Limits::UPLOAD);
        assert!(
            message.starts_with("row 1048576: file: a cell lies at row 1048576 column 16384"),
            "{message}"
        );
    }

    #[test]
    fn announced_shared_strings_are_checked_before_anything_is_reserved() {
        let strings = br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4000000000000"><si><t>need_id</t></si></sst>"#;
        let bomb = with_part(&workbook(), "xl/sharedStrings.xml", strings, 0);
        let message = refused(&bomb, &Limits::UPLOAD);
        assert!(
            message.contains("announces 4000000000000 shared strings"),
            "{message}"
        );
    }

    #[test]
    fn a_part_that_unpacks_past_the_limit_is_refused_as_it_unpacks() {
        // 80 MB of blanks deflate to about 80 KB.
        let mut blanks = sheet("A1:A1", "");
        blanks.splice(40..40, std::iter::repeat_n(b' ', 80 << 20));
        let bomb = with_part(&workbook(), SHEET, &blanks, 0);
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let message = refused(&bomb, &Limits::UPLOAD);
        assert!(message.contains("unpacks to more than 64 MB"), "{message}");
        let tight = Limits {
            entry_bytes: 100 << 20,
            unpacked_bytes: 50 << 20,
            ..Limits::UPLOAD
        };
        assert!(refused(&bomb, &tight).contains("the workbook unpacks to more than 50 MB"));
    }

    #[test]
    fn too_many_parts_or_too_much_text_are_refused() {
        let crowded = with_part(&workbook(), SHEET, &sheet("A1:A1", ""), 300);
        assert!(refused(&crowded, &Limits::UPLOAD).contains("parts, more than the 256 accepted"));
        // One shared string of 100 KB in 1,000 cells: 100 MB of text from a small file.
        let strings = format!(
            r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>need_id</t></si><si><t>{}</t></si></sst>"#,
            "x".repeat(100_000)
        );
        let cells: String = (2..1002)
            .map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>1</v></c></row>"#))
            .collect();
        let base = with_part(&workbook(), "xl/sharedStrings.xml", strings.as_bytes(), 0);
        let bomb = with_part(
            &base,
            SHEET,
            &sheet(
                "A1:A1001",
                &format!(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>{cells}"#),
            ),
            0,
        );
        assert!(refused(&bomb, &Limits::UPLOAD).contains("MB of text"));
    }

    #[test]
    fn the_largest_announced_count_is_found() {
        assert_eq!(
            largest_count(br#"<sst count="12" uniqueCount="7">"#),
            Some(12)
        );
        assert_eq!(
            largest_count(b"<sst uniqueCount='99999999999999999999999'>"),
            Some(u64::MAX)
        );
        assert_eq!(largest_count(b"<sst>"), None);
    }
}
