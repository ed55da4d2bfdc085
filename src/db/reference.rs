//! The reference tables `cpv_codes` and `communes`, loaded from the files in `data/` (copied
//! from the shared open data, provenance in `data/README.md`) the first time a database is
//! opened.

use super::schema::{communes, cpv_codes};
use super::AnyConnection;
use crate::domain::CpvCatalog;
use diesel::prelude::*;

const COMMUNES_CSV: &str = include_str!("../../data/communes.csv");
const CHUNK: usize = 500;

#[derive(Insertable)]
#[diesel(table_name = cpv_codes)]
struct NewCpvCode<'a> {
    code8: &'a str,
    check_digit: i32,
    parent_code8: Option<&'a str>,
    division: &'a str,
    level: &'a str,
    significant_digits: i32,
    kind: &'a str,
    label_en: &'a str,
    label_fr: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = communes)]
struct NewCommune {
    insee_code: String,
    name: String,
    postcode: String,
    department_code: String,
    department_name: String,
    region_name: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// Loads both tables when they are empty, in one transaction.
pub fn load_if_empty(conn: &mut AnyConnection) -> QueryResult<()> {
    let present: i64 = cpv_codes::table.count().get_result(conn)?;
    if present > 0 {
        return Ok(());
    }
    super::write_transaction(conn, |conn| {
        load_cpv(conn)?;
        load_communes(conn)
    })
}

fn load_cpv(conn: &mut AnyConnection) -> QueryResult<()> {
    let rows: Vec<NewCpvCode> = CpvCatalog::embedded()
        .entries()
        .iter()
        .map(|e| NewCpvCode {
            code8: &e.code8,
            check_digit: i32::from(e.check_digit),
            parent_code8: e.parent_code8.as_deref(),
            division: &e.division,
            level: &e.level,
            significant_digits: i32::from(e.significant_digits),
            kind: &e.kind,
            label_en: &e.label_en,
            label_fr: &e.label_fr,
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        crate::per_backend!(conn, c => diesel::insert_into(cpv_codes::table).values(chunk).execute(c))?;
    }
    Ok(())
}

fn load_communes(conn: &mut AnyConnection) -> QueryResult<()> {
    let rows = parse_communes(COMMUNES_CSV);
    for chunk in rows.chunks(CHUNK) {
        crate::per_backend!(conn, c => diesel::insert_into(communes::table).values(chunk).execute(c))?;
    }
    Ok(())
}

fn parse_communes(text: &str) -> Vec<NewCommune> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let field = |i: usize| r.get(i).map(str::to_string);
            Some(NewCommune {
                insee_code: field(0)?,
                name: field(1)?,
                postcode: field(2)?,
                department_code: field(7)?,
                department_name: field(8)?,
                region_name: field(9)?,
                latitude: r.get(5).and_then(|v| v.parse().ok()),
                longitude: r.get(6).and_then(|v| v.parse().ok()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commune_row_parses() {
        let rows = parse_communes(COMMUNES_CSV);
        assert_eq!(rows.len(), 39_192);
        let dijon = rows.iter().find(|c| c.postcode == "21000").unwrap();
        assert_eq!(dijon.department_code, "21");
        assert!(dijon
            .latitude
            .is_some_and(|lat| (47.0..47.5).contains(&lat)));
    }
}
