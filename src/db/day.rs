//! Days read from either backend. SQLite stores a `DATE` as `AAAA-MM-JJ` text, which diesel
//! parses with chrono's `parse_from_str("%F")` — a format string read again at every value, a
//! visible cost when a page lists fifty needs with two days each. [`Day`] reads that exact
//! shape directly and leaves anything else (and PostgreSQL's binary dates) to diesel.

use super::MultiBackend;
use chrono::NaiveDate;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Date;
use diesel::sqlite::Sqlite;

/// A `DATE` column, read as [`NaiveDate`] (`#[diesel(deserialize_as = Day)]`).
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub struct Day(NaiveDate);

impl From<Day> for NaiveDate {
    fn from(day: Day) -> NaiveDate {
        day.0
    }
}

/// `AAAA-MM-JJ` exactly, or `None`.
fn iso_day(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..])?)
}

impl FromSql<Date, Sqlite> for Day {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        match iso_day(value.read_text()) {
            Some(day) => Ok(Day(day)),
            None => <NaiveDate as FromSql<Date, Sqlite>>::from_sql(value).map(Day),
        }
    }
}

impl FromSql<Date, Pg> for Day {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDate as FromSql<Date, Pg>>::from_sql(value).map(Day)
    }
}

impl FromSql<Date, MultiBackend> for Day {
    fn from_sql(
        value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Day, Date>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iso_days_and_nothing_else() {
        assert_eq!(iso_day("2027-03-01"), NaiveDate::from_ymd_opt(2027, 3, 1));
        assert_eq!(iso_day("2028-02-29"), NaiveDate::from_ymd_opt(2028, 2, 29));
        for other in [
            "2027-02-29",
            "2027-13-01",
            "2027-3-01",
            "27-03-01x",
            "2027/03/01",
            "2027-03-0a",
            "",
            "2027-03-01 ",
        ] {
            assert_eq!(iso_day(other), None, "{other}");
        }
    }
}
