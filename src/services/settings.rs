//! The procurement settings of the groupement, stored in the database with the day each set
//! takes effect (`procurement_settings`): the territory whose suppliers are local, the shortest
//! period of an adapted procedure, the procurement thresholds. The set in force on a day is the
//! latest that took effect by then (the earliest for a day before all of them), so that a run,
//! a publication or a dashboard reads the rules of its own day, and a change of the law is
//! recorded ahead of time without touching what was decided before.

use crate::auth::Actor;
use crate::db::schema::procurement_settings;
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{parse_date, to_paris};
use crate::error::{AppError, Problems};
use crate::services::audit::{self, Change};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::procedure::{ThresholdTable, Thresholds};
use serde::{Deserialize, Serialize};

/// The shortest period of an adapted procedure an admin may set: the time for a question, its
/// answer to every candidate, and a bid after it.
pub const ADAPTED_MIN_DAYS_FLOOR: u32 = 7;

/// One set of settings and the day it takes effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcurementSettings {
    pub effective_from: NaiveDate,
    /// Department numbers (`21`, `2A`, `971`).
    pub territory: Vec<String>,
    pub adapted_min_days: u32,
    pub thresholds: Thresholds,
    pub recorded_at: NaiveDateTime,
}

impl ProcurementSettings {
    pub fn is_local(&self, department: &str) -> bool {
        self.territory.iter().any(|d| d == department)
    }
}

#[derive(Queryable)]
struct Row {
    effective_from: NaiveDate,
    territory: String,
    adapted_min_days: i32,
    thresholds: String,
    recorded_at: NaiveDateTime,
}

impl TryFrom<Row> for ProcurementSettings {
    type Error = AppError;

    fn try_from(row: Row) -> Result<Self, AppError> {
        // A stored set that does not read is said, never passed over: the rules of a day would
        // silently become another day's.
        let mut thresholds: Thresholds = serde_json::from_str(&row.thresholds).map_err(|e| {
            AppError::internal(format!(
                "the procurement settings in force from {} do not read: {e}",
                row.effective_from
            ))
        })?;
        thresholds.effective_from = row.effective_from.format("%Y-%m-%d").to_string();
        Ok(ProcurementSettings {
            effective_from: row.effective_from,
            territory: row
                .territory
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            adapted_min_days: u32::try_from(row.adapted_min_days).map_err(AppError::internal)?,
            thresholds,
            recorded_at: row.recorded_at,
        })
    }
}

/// Every set, the latest first.
pub fn all(conn: &mut AnyConnection) -> Result<Vec<ProcurementSettings>, AppError> {
    procurement_settings::table
        .order(procurement_settings::effective_from.desc())
        .select((
            procurement_settings::effective_from,
            procurement_settings::territory,
            procurement_settings::adapted_min_days,
            procurement_settings::thresholds,
            procurement_settings::recorded_at,
        ))
        .load::<Row>(conn)?
        .into_iter()
        .map(ProcurementSettings::try_from)
        .collect()
}

/// The set in force on `day`.
pub fn in_force(conn: &mut AnyConnection, day: NaiveDate) -> Result<ProcurementSettings, AppError> {
    let sets = all(conn)?;
    choose(&sets, day)
        .cloned()
        .ok_or_else(|| AppError::internal("no procurement settings are recorded"))
}

/// The set in force today (Paris).
pub fn today(conn: &mut AnyConnection) -> Result<ProcurementSettings, AppError> {
    in_force(conn, paris_today())
}

/// Every set of thresholds, as the engine reads them (it picks the set of the launch day).
pub fn threshold_table(conn: &mut AnyConnection) -> Result<ThresholdTable, AppError> {
    Ok(ThresholdTable(
        all(conn)?.into_iter().map(|s| s.thresholds).collect(),
    ))
}

fn choose(sets: &[ProcurementSettings], day: NaiveDate) -> Option<&ProcurementSettings> {
    sets.iter()
        .filter(|s| s.effective_from <= day)
        .max_by_key(|s| s.effective_from)
        .or_else(|| sets.iter().min_by_key(|s| s.effective_from))
}

fn paris_today() -> NaiveDate {
    to_paris(Utc::now().naive_utc()).0.date()
}

/// A new set as the admin types it: every amount in euros excluding VAT, French or plain
/// decimals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub effective_from: String,
    #[serde(default)]
    pub territory: String,
    #[serde(default)]
    pub adapted_min_days: String,
    #[serde(default)]
    pub no_competition_supplies: String,
    #[serde(default)]
    pub no_competition_works: String,
    #[serde(default)]
    pub boamp: String,
    #[serde(default)]
    pub formal_central: String,
    #[serde(default)]
    pub formal_sub_central: String,
    #[serde(default)]
    pub formal_works: String,
    #[serde(default)]
    pub small_lot_supplies: String,
    #[serde(default)]
    pub small_lot_works: String,
    /// Per cent of the total value that small lots may take out of a formal procedure.
    #[serde(default)]
    pub small_lots_max_share: String,
    #[serde(default)]
    pub formal_min_days: String,
    #[serde(default)]
    pub standstill_days: String,
}

impl SettingsForm {
    /// The form filled with a set's values, to start a new one from (tomorrow by default).
    pub fn from_settings(s: &ProcurementSettings) -> Self {
        let n = crate::services::needs::french_number;
        let t = &s.thresholds;
        SettingsForm {
            effective_from: (paris_today() + chrono::Duration::days(1))
                .format("%d/%m/%Y")
                .to_string(),
            territory: s.territory.join(" "),
            adapted_min_days: s.adapted_min_days.to_string(),
            no_competition_supplies: n(t.no_competition_supplies),
            no_competition_works: n(t.no_competition_works),
            boamp: n(t.boamp),
            formal_central: n(t.formal_central),
            formal_sub_central: n(t.formal_sub_central),
            formal_works: n(t.formal_works),
            small_lot_supplies: n(t.small_lot_supplies),
            small_lot_works: n(t.small_lot_works),
            small_lots_max_share: n(t.small_lots_max_share * 100.0),
            formal_min_days: t.formal_min_days.to_string(),
            standstill_days: t.standstill_days.to_string(),
        }
    }
}

/// A department number: two digits, `2A`/`2B`, or three digits for overseas (971–976).
fn is_department(code: &str) -> bool {
    match code.as_bytes() {
        [b'2', b'A' | b'B'] => true,
        [a, b] => a.is_ascii_digit() && b.is_ascii_digit() && code != "00" && code != "20",
        [b'9', b'7', c] => (b'1'..=b'6').contains(c),
        _ => false,
    }
}

/// Reads and checks a form, every problem named.
fn read(form: &SettingsForm, today: NaiveDate) -> Result<ProcurementSettings, AppError> {
    let mut problems = Problems::default();
    let effective_from = problems.check(
        "date d'effet",
        parse_date(&form.effective_from)
            .map_err(|e| e.0)
            .and_then(|day| match day > today {
                true => Ok(day),
                false => Err(format!(
                    "le {} n'est pas à venir : un jeu en vigueur ne se réécrit pas, ajoutez-en un \
                     qui prend effet demain ou plus tard",
                    day.format("%d/%m/%Y")
                )),
            }),
    );
    let territory: Vec<String> = form
        .territory
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_uppercase())
        .collect();
    if territory.is_empty() || territory.len() > 20 || !territory.iter().all(|d| is_department(d)) {
        problems.add(
            "territoire",
            "de 1 à 20 numéros de département séparés par des espaces (ex. 21 71 89)",
        );
    }
    let days = |p: &mut Problems, field: &'static str, text: &str, low: u32, high: u32| {
        p.check(
            field,
            text.trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (low..=high).contains(d))
                .ok_or_else(|| format!("un nombre de jours de {low} à {high}")),
        )
    };
    let adapted_min_days = days(
        &mut problems,
        "délai minimal en procédure adaptée",
        &form.adapted_min_days,
        ADAPTED_MIN_DAYS_FLOOR,
        365,
    );
    let formal_min_days = days(
        &mut problems,
        "délai minimal en procédure formalisée",
        &form.formal_min_days,
        15,
        365,
    );
    let standstill_days = days(
        &mut problems,
        "délai de suspension",
        &form.standstill_days,
        11,
        60,
    );
    let mut euros = |field: &'static str, text: &str| {
        problems.check(
            field,
            crate::files::parse_decimal(text).and_then(|v| match v > 0.0 && v < 1e11 {
                true => Ok(v),
                false => Err(format!(
                    "« {} » : un montant positif en euros HT",
                    text.trim()
                )),
            }),
        )
    };
    let no_competition_supplies = euros(
        "dispense de publicité (fournitures et services)",
        &form.no_competition_supplies,
    );
    let no_competition_works = euros(
        "dispense de publicité (travaux)",
        &form.no_competition_works,
    );
    let boamp = euros("publicité au BOAMP", &form.boamp);
    let formal_central = euros(
        "procédure formalisée (acheteurs centraux)",
        &form.formal_central,
    );
    let formal_sub_central = euros(
        "procédure formalisée (autres acheteurs)",
        &form.formal_sub_central,
    );
    let formal_works = euros("procédure formalisée (travaux)", &form.formal_works);
    let small_lot_supplies = euros(
        "petit lot (fournitures et services)",
        &form.small_lot_supplies,
    );
    let small_lot_works = euros("petit lot (travaux)", &form.small_lot_works);
    let share = problems.check(
        "part des petits lots",
        crate::files::parse_decimal(&form.small_lots_max_share).and_then(|v| {
            match (0.0..=100.0).contains(&v) {
                true => Ok(v / 100.0),
                false => Err("un pourcentage de 0 à 100".to_string()),
            }
        }),
    );
    if let (Some(a), Some(b), Some(c), Some(d)) = (
        no_competition_supplies,
        boamp,
        formal_central,
        formal_sub_central,
    ) {
        if a.max(b) > c.min(d) {
            problems.add(
                "seuils",
                "la dispense et la publicité au BOAMP ne dépassent pas les seuils des procédures \
                 formalisées",
            );
        }
    }
    problems.finish()?;
    let missing = || AppError::internal("a checked value is missing");
    let effective_from = effective_from.ok_or_else(missing)?;
    Ok(ProcurementSettings {
        effective_from,
        territory,
        adapted_min_days: adapted_min_days.ok_or_else(missing)?,
        thresholds: Thresholds {
            effective_from: effective_from.format("%Y-%m-%d").to_string(),
            no_competition_supplies: no_competition_supplies.ok_or_else(missing)?,
            no_competition_works: no_competition_works.ok_or_else(missing)?,
            boamp: boamp.ok_or_else(missing)?,
            formal_central: formal_central.ok_or_else(missing)?,
            formal_sub_central: formal_sub_central.ok_or_else(missing)?,
            formal_works: formal_works.ok_or_else(missing)?,
            small_lot_supplies: small_lot_supplies.ok_or_else(missing)?,
            small_lot_works: small_lot_works.ok_or_else(missing)?,
            small_lots_max_share: share.ok_or_else(missing)?,
            formal_min_days: formal_min_days.ok_or_else(missing)?,
            standstill_days: standstill_days.ok_or_else(missing)?,
        },
        recorded_at: Utc::now().naive_utc(),
    })
}

/// Records a new set, taking effect on a day to come; a set for that day not yet in force is
/// replaced. The admin only.
pub fn record(pool: &Pool, actor: &Actor, form: &SettingsForm) -> Result<NaiveDate, AppError> {
    actor.require_admin()?;
    let set = read(form, paris_today())?;
    let thresholds = serde_json::to_string(&set.thresholds).map_err(AppError::internal)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let replaced = diesel::delete(
            procurement_settings::table
                .filter(procurement_settings::effective_from.eq(set.effective_from)),
        )
        .execute(conn)?;
        diesel::insert_into(procurement_settings::table)
            .values((
                procurement_settings::effective_from.eq(set.effective_from),
                procurement_settings::territory.eq(set.territory.join(" ")),
                procurement_settings::adapted_min_days.eq(set.adapted_min_days as i32),
                procurement_settings::thresholds.eq(&thresholds),
                procurement_settings::recorded_by.eq(Some(actor.user_id)),
                procurement_settings::recorded_at.eq(set.recorded_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new(
                if replaced > 0 {
                    "settings.replaced"
                } else {
                    "settings.recorded"
                },
                "procurement_settings",
                set.effective_from.format("%Y-%m-%d").to_string(),
            )
            .after(format!(
                "territoire {} ; procédure adaptée {} j ; seuils {}",
                set.territory.join(" "),
                set.adapted_min_days,
                thresholds
            )),
        )?;
        Ok(set.effective_from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(day: &str) -> ProcurementSettings {
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        ProcurementSettings {
            effective_from: day,
            territory: vec!["21".into()],
            adapted_min_days: 15,
            thresholds: ThresholdTable::default().0[0].clone(),
            recorded_at: day.and_hms_opt(0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn the_set_in_force_is_the_latest_that_took_effect() {
        let sets = [set("2026-01-01"), set("2027-01-01"), set("2026-04-01")];
        let on = |d: &str| {
            choose(&sets, NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
                .unwrap()
                .effective_from
                .to_string()
        };
        assert_eq!(on("2026-03-31"), "2026-01-01");
        assert_eq!(on("2026-04-01"), "2026-04-01");
        assert_eq!(on("2026-12-31"), "2026-04-01");
        assert_eq!(on("2027-06-01"), "2027-01-01");
        assert_eq!(on("2020-01-01"), "2026-01-01", "before all: the earliest");
    }

    #[test]
    fn departments_are_checked() {
        for good in ["21", "71", "2A", "2B", "971", "976", "01", "95"] {
            assert!(is_department(good), "{good}");
        }
        for bad in ["2", "00", "20", "2C", "977", "970", "210", "ab", ""] {
            assert!(!is_department(bad), "{bad}");
        }
    }

    #[test]
    fn a_form_is_read_with_every_problem_named() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut form = SettingsForm::from_settings(&set("2026-04-01"));
        form.effective_from = "01/01/2027".into();
        let read_back = read(&form, today).unwrap();
        assert_eq!(read_back.thresholds.no_competition_supplies, 40_000.0);
        assert_eq!(read_back.thresholds.small_lots_max_share, 0.2);
        assert_eq!(read_back.thresholds.effective_from, "2027-01-01");
        form.effective_from = "30/11/2026".into();
        form.territory = "21 99x".into();
        form.formal_central = "10".into();
        form.adapted_min_days = "3".into();
        let refused = read(&form, today).unwrap_err().to_string();
        for said in [
            "date d'effet",
            "n'est pas à venir",
            "territoire",
            "délai minimal en procédure adaptée",
            "seuils",
        ] {
            assert!(refused.contains(said), "{said}: {refused}");
        }
    }
}
