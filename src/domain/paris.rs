//! Europe/Paris time, for deadlines people read and type: UTC+1 in winter (CET), UTC+2 in
//! summer (CEST), summer time running from 01:00 UTC on the last Sunday of March to 01:00 UTC
//! on the last Sunday of October (the EU rule). Storage stays in UTC.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut day = NaiveDate::from_ymd_opt(year, month, 31).unwrap_or(NaiveDate::MIN);
    while day.weekday() != Weekday::Sun {
        day = day.pred_opt().unwrap_or(day);
    }
    day
}

/// Whether summer time is in force at this UTC moment.
fn summer(utc: NaiveDateTime) -> bool {
    let year = utc.year();
    let one_am = |d: NaiveDate| d.and_hms_opt(1, 0, 0).unwrap_or_default();
    utc >= one_am(last_sunday(year, 3)) && utc < one_am(last_sunday(year, 10))
}

/// The Paris wall-clock time of a UTC moment, and the zone's abbreviation.
pub fn to_paris(utc: NaiveDateTime) -> (NaiveDateTime, &'static str) {
    match summer(utc) {
        true => (utc + Duration::hours(2), "CEST"),
        false => (utc + Duration::hours(1), "CET"),
    }
}

/// A UTC moment as people in France read it: `15/03/2027 à 12:00 (heure de Paris, CET)`.
pub fn paris_text(utc: NaiveDateTime) -> String {
    super::Locale::Fr.moment(utc)
}

/// The UTC moment of a Paris wall-clock time (for the hour that does not exist in spring, the
/// winter offset; for the one that happens twice in autumn, the first).
pub fn from_paris(local: NaiveDateTime) -> NaiveDateTime {
    let summer_guess = local - Duration::hours(2);
    match summer(summer_guess) {
        true => summer_guess,
        false => local - Duration::hours(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn winter_and_summer_offsets_change_on_the_last_sundays() {
        assert_eq!(to_paris(at(2027, 1, 15, 11)), (at(2027, 1, 15, 12), "CET"));
        assert_eq!(to_paris(at(2027, 7, 1, 10)), (at(2027, 7, 1, 12), "CEST"));
        // 2027: summer time from Sunday 28 March, 01:00 UTC, to Sunday 31 October, 01:00 UTC.
        assert_eq!(to_paris(at(2027, 3, 28, 0)).1, "CET");
        assert_eq!(to_paris(at(2027, 3, 28, 1)).1, "CEST");
        assert_eq!(to_paris(at(2027, 10, 31, 0)).1, "CEST");
        assert_eq!(to_paris(at(2027, 10, 31, 1)).1, "CET");
        assert_eq!(from_paris(at(2027, 1, 15, 12)), at(2027, 1, 15, 11));
        assert_eq!(from_paris(at(2027, 7, 1, 12)), at(2027, 7, 1, 10));
        assert_eq!(
            paris_text(at(2027, 7, 1, 10)),
            "01/07/2027 à 12:00 (heure de Paris, CEST)"
        );
    }
}
