//! Joint tenders after pooling: made from an accepted plan, approved by every member with needs
//! in them, and published by the coordinator's lead with the award criteria (an environmental
//! criterion is required), which writes the e-mails to the territorial suppliers concerned.

use crate::auth::Actor;
use crate::db::models::{NewLot, NewLotNeed, NewTender, NewTenderApproval};
use crate::db::schema::{
    lot_needs, lots, needs, organisations, suppliers, tender_approvals, tenders,
};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::{ApprovalStatus, Cents, CpvCatalog, Locale, TenderStatus};
use crate::error::AppError;
use crate::mail;
use crate::services::audit::{self, Change};
use crate::services::documents;
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::pooling::plan;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// The next free reference of a budget year: `GRP-2027-001`, `GRP-2027-002`, …
pub fn next_reference(conn: &mut AnyConnection, year: i32) -> QueryResult<String> {
    let prefix = format!("GRP-{year}-");
    let taken: Vec<String> = tenders::table
        .filter(tenders::reference.like(format!("{prefix}%")))
        .select(tenders::reference)
        .load(conn)?;
    let next = taken
        .iter()
        .filter_map(|r| r.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    Ok(format!("{prefix}{next:03}"))
}

/// The French label of a family (its CPV code padded to 8 digits), or `CPV 3314`.
pub fn family_label(family: &str) -> String {
    CpvCatalog::embedded()
        .get(&format!("{family:0<8}"))
        .map(|e| e.label_fr.clone())
        .unwrap_or_else(|| format!("CPV {family}"))
}

/// Writes a tender of a plan with its lots and their needs, in `approving` with one pending
/// approval per member organisation with needs in it; returns the tender's id and its needs.
pub fn create_from_plan(
    conn: &mut AnyConnection,
    run_id: i32,
    reference: &str,
    year: i32,
    tender: &plan::Tender,
    organisation_ids: &BTreeMap<String, i32>,
) -> Result<(i32, Vec<i32>), AppError> {
    let catalog = CpvCatalog::embedded();
    let family_code = format!("{:0<8}", tender.family);
    let label = family_label(&tender.family);
    let coordinator = *organisation_ids.get(&tender.coordinator).ok_or_else(|| {
        AppError::internal(format!(
            "coordinator {} is not an organisation",
            tender.coordinator
        ))
    })?;
    let tender_id: i32 = diesel::insert_into(tenders::table)
        .values(NewTender {
            reference,
            title: &format!("Groupement {year} — {label}"),
            coordinator_id: coordinator,
            pooling_run_id: Some(run_id),
            cpv_family: &tender.family,
            unit: &tender.unit,
            procedure: &tender.procedure,
            status: "approving",
            total_value_cents: Cents::from_euros_f64(tender.total_value_eur).get(),
            weight_price: None,
            weight_quality: None,
            weight_environment: None,
            max_lots_per_supplier: None,
            cap_rule: None,
            published_at: None,
            deadline: None,
        })
        .returning(tenders::id)
        .get_result(conn)?;
    let members: std::collections::BTreeSet<i32> = tender
        .lots
        .iter()
        .flat_map(|l| &l.buyers)
        .filter_map(|code| organisation_ids.get(code).copied())
        .collect();
    for organisation_id in members {
        diesel::insert_into(tender_approvals::table)
            .values(NewTenderApproval {
                tender_id,
                organisation_id,
                status: "pending",
                decided_by: None,
                decided_at: None,
            })
            .execute(conn)?;
    }
    let mut all_needs = Vec::new();
    for lot in &tender.lots {
        let ids: Vec<i32> = lot
            .need_ids
            .iter()
            .filter_map(|id| id.parse().ok())
            .collect();
        // The family's own code when the vocabulary has it, else the code of a need of the lot.
        let cpv = match catalog.get(&family_code) {
            Some(_) => family_code.clone(),
            None => needs::table
                .filter(needs::id.eq_any(&ids))
                .order(needs::id)
                .select(needs::cpv_code)
                .first(conn)
                .optional()?
                .unwrap_or_else(|| family_code.clone()),
        };
        let lot_id: i32 = diesel::insert_into(lots::table)
            .values(NewLot {
                tender_id,
                number: lot.lot as i32,
                title: &format!("Lot {} — {label} ({})", lot.lot, lot.buyers.join(", ")),
                cpv_code: &cpv,
                value_cents: Cents::from_euros_f64(lot.value_eur).get(),
                expected_savings_cents: Cents::from_euros_f64(lot.savings_eur).get(),
                local_accessible: lot.local_accessible,
                eligible_local_suppliers: lot.eligible_local_suppliers as i32,
                small_lot: lot.small_lot,
                status: "open",
            })
            .returning(lots::id)
            .get_result(conn)?;
        for &need_id in &ids {
            diesel::insert_into(lot_needs::table)
                .values(NewLotNeed { lot_id, need_id })
                .execute(conn)?;
        }
        all_needs.extend(ids);
    }
    Ok((tender_id, all_needs))
}

/// The tender's status and coordinator, when the actor's organisation takes part in it (any
/// other is "not found").
pub(crate) fn tender_of_member(
    conn: &mut AnyConnection,
    organisation_id: i32,
    tender_id: i32,
) -> Result<(String, i32), AppError> {
    let member: i64 = tender_approvals::table
        .filter(tender_approvals::tender_id.eq(tender_id))
        .filter(tender_approvals::organisation_id.eq(organisation_id))
        .count()
        .get_result(conn)?;
    if member == 0 {
        return Err(AppError::NotFound);
    }
    Ok(tenders::table
        .find(tender_id)
        .select((tenders::status, tenders::coordinator_id))
        .first(conn)?)
}

/// The status of a tender the actor's organisation coordinates; 403 for a member that does
/// not coordinate it, 404 for anyone else.
pub(crate) fn coordinated_status(
    conn: &mut AnyConnection,
    organisation_id: i32,
    tender_id: i32,
) -> Result<String, AppError> {
    let (status, coordinator) = tender_of_member(conn, organisation_id, tender_id)?;
    match coordinator == organisation_id {
        true => Ok(status),
        false => Err(AppError::Forbidden),
    }
}

/// A member's lead approves its share of a tender, or refuses it with a comment (the tender
/// then goes back to the coordinator's lead, as a draft). When every member has approved, the
/// tender is `approved` and its needs `tendered` (read-only to their buyers).
pub fn decide(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    approve: bool,
    comment: &str,
) -> Result<String, AppError> {
    let organisation_id = actor.require_lead()?;
    let comment = comment.trim();
    if !approve && comment.is_empty() {
        return Err(AppError::validation(
            "commentaire",
            "dites pourquoi vous refusez : le coordinateur en a besoin pour revoir les lots",
        ));
    }
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (status, _) = tender_of_member(conn, organisation_id, tender_id)?;
        if status != "approving" {
            return Err(AppError::Conflict(format!(
                "la consultation est « {status} » : elle n'attend pas d'approbation"
            )));
        }
        let now = Utc::now().naive_utc();
        let decision = match approve {
            true => ApprovalStatus::Approved,
            false => ApprovalStatus::Refused,
        };
        // A share is decided once (a conditional update on `pending`): a second decision, or
        // two at once, is refused with the first one.
        let from: Vec<ApprovalStatus> = ApprovalStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(decision))
            .collect();
        let decided = diesel::update(
            tender_approvals::table
                .filter(tender_approvals::tender_id.eq(tender_id))
                .filter(tender_approvals::organisation_id.eq(organisation_id))
                .filter(tender_approvals::status.eq_any(&from)),
        )
        .set((
            tender_approvals::status.eq(decision),
            tender_approvals::comment.eq(Some(comment).filter(|c| !c.is_empty())),
            tender_approvals::decided_by.eq(actor.user_id),
            tender_approvals::decided_at.eq(now),
        ))
        .execute(conn)?;
        if decided != 1 {
            let before: Option<String> = tender_approvals::table
                .filter(tender_approvals::tender_id.eq(tender_id))
                .filter(tender_approvals::organisation_id.eq(organisation_id))
                .select(tender_approvals::status)
                .first(conn)
                .optional()?;
            return Err(match before.as_deref().and_then(ApprovalStatus::parse) {
                Some(status) => AppError::Conflict(format!(
                    "votre part est déjà « {} » : elle ne se décide qu'une fois (le \
                     coordinateur peut la redemander en renvoyant la consultation)",
                    status.label_fr()
                )),
                None => AppError::NotFound,
            });
        }
        let decision = decision.code();
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.share_decided", "tender", tender_id)
                .after(format!("{decision} {comment}")),
        )?;
        let pending: i64 = tender_approvals::table
            .filter(tender_approvals::tender_id.eq(tender_id))
            .filter(tender_approvals::status.ne(ApprovalStatus::Approved))
            .count()
            .get_result(conn)?;
        let new_status = match (approve, pending) {
            (false, _) => "draft",
            (true, 0) => "approved",
            (true, _) => "approving",
        };
        if new_status != "approving" {
            let to = crate::domain::TenderStatus::parse(new_status)
                .ok_or_else(|| AppError::internal(format!("unknown status {new_status}")))?;
            move_tender(conn, tender_id, to)?;
            audit::record(
                conn,
                actor.into(),
                Change::new("tender.status_changed", "tender", tender_id)
                    .before_after("approving", new_status),
            )?;
        }
        if new_status == "approved" {
            // Only the needs still pooled become tendered: one withdrawn meanwhile stays
            // withdrawn.
            let ids = need_ids(conn, tender_id)?;
            super::needs::move_needs_together(conn, &ids, crate::domain::NeedStatus::Tendered)?;
        }
        Ok(new_status.to_string())
    })
}

/// Moves a tender to `to` by a conditional update on the statuses its life cycle allows it from
/// (`domain::TenderStatus`); refused, with its present status, otherwise.
pub fn move_tender(
    conn: &mut AnyConnection,
    tender_id: i32,
    to: crate::domain::TenderStatus,
) -> Result<(), AppError> {
    let from = TenderStatus::predecessors(to);
    let moved = diesel::update(
        tenders::table
            .find(tender_id)
            .filter(tenders::status.eq_any(&from)),
    )
    .set(tenders::status.eq(to))
    .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let now: String = tenders::table
        .find(tender_id)
        .select(tenders::status)
        .first(conn)?;
    Err(AppError::Conflict(format!(
        "la consultation est « {} » : elle ne peut pas devenir « {} »",
        TenderStatus::parse(&now).map_or("inconnu", TenderStatus::label_fr),
        to.label_fr()
    )))
}

fn need_ids(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<i32>> {
    lot_needs::table
        .inner_join(lots::table)
        .filter(lots::tender_id.eq(tender_id))
        .select(lot_needs::need_id)
        .load(conn)
}

/// The coordinator's lead sends a refused tender back for approval (every share pending
/// again).
pub fn resubmit(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    base_url: &str,
) -> Result<(), AppError> {
    let organisation_id = actor.require_lead()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if status != "draft" {
            return Err(AppError::Conflict(format!(
                "la consultation est « {status} » : seule une consultation refusée se soumet à nouveau"
            )));
        }
        diesel::update(tender_approvals::table.filter(tender_approvals::tender_id.eq(tender_id)))
            .set((
                tender_approvals::status.eq(ApprovalStatus::Pending),
                tender_approvals::decided_by.eq(None::<i32>),
                tender_approvals::decided_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        move_tender(conn, tender_id, crate::domain::TenderStatus::Approving)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.status_changed", "tender", tender_id)
                .before_after("draft", "approving"),
        )?;
        request_approvals(conn, tender_id, base_url)?;
        Ok(())
    })
}

/// Asks the leads of every member whose approval is pending to approve their share, by
/// e-mail, in the transaction that makes the tender wait for them (once per tender, lead and
/// round of approvals).
pub fn request_approvals(
    conn: &mut AnyConnection,
    tender_id: i32,
    base_url: &str,
) -> QueryResult<usize> {
    use crate::db::schema::users;
    let (reference, title, coordinator): (String, String, i32) = tenders::table
        .find(tender_id)
        .select((tenders::reference, tenders::title, tenders::coordinator_id))
        .first(conn)?;
    let coordinator: String = organisations::table
        .find(coordinator)
        .select(organisations::code)
        .first(conn)?;
    let leads: Vec<(i32, String, String, String, String)> = users::table
        .inner_join(
            tender_approvals::table.on(tender_approvals::organisation_id
                .nullable()
                .eq(users::organisation_id)),
        )
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .filter(tender_approvals::status.eq(ApprovalStatus::Pending))
        .filter(users::role.eq("lead"))
        .filter(users::active.eq(true))
        .order(users::id)
        .select((
            users::id,
            users::email,
            users::display_name,
            users::locale,
            organisations::code,
        ))
        .load(conn)?;
    // A resubmission is a new round: the count of approval requests already recorded.
    let round: i64 = crate::db::schema::audit_log::table
        .filter(crate::db::schema::audit_log::action.eq("tender.status_changed"))
        .filter(crate::db::schema::audit_log::object_id.eq(tender_id.to_string()))
        .count()
        .get_result(conn)?;
    let mut written = 0;
    for (user_id, email, name, locale, organisation) in leads {
        let locale = Locale::of(&locale);
        if mail::enqueue(
            conn,
            &email,
            "approval_request",
            &json!({
                "locale": locale.code(), "name": name, "organisation": organisation,
                "coordinator": coordinator, "reference": reference, "title": title,
                "link": format!("{base_url}/consultations/{tender_id}"),
            }),
            &format!("approval:{tender_id}:{user_id}:{round}"),
        )? {
            written += 1;
        }
    }
    Ok(written)
}

/// The publication form of the coordinator's lead.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Publication {
    #[serde(default)]
    pub weight_price: String,
    #[serde(default)]
    pub weight_quality: String,
    #[serde(default)]
    pub weight_environment: String,
    /// Most lots one supplier may win (empty: no cap).
    #[serde(default)]
    pub max_lots_per_supplier: String,
    /// `decreasing-importance` or `best-total`, when there is a cap.
    #[serde(default)]
    pub cap_rule: String,
    /// `AAAA-MM-JJ` or `JJ/MM/AAAA`, the deadline being at 12:00 Paris time that day.
    #[serde(default)]
    pub deadline: String,
}

/// Publishes an approved tender: announced weights (an environmental criterion is required:
/// L2152-7 from 21 August 2026), optional cap and its rule, a deadline no earlier than the
/// procedure's minimum period; writes the e-mails to the opted-in territorial suppliers whose
/// interests match a lot, in the same transaction. Returns how many were notified.
pub fn publish(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    tender_id: i32,
    form: &Publication,
) -> Result<usize, AppError> {
    let organisation_id = actor.require_lead()?;
    let mut problems = crate::error::Problems::default();
    let weight = |p: &mut crate::error::Problems, field: &'static str, text: &str| {
        p.check(
            field,
            text.trim()
                .parse::<i32>()
                .map_err(|_| format!("« {} » n'est pas un nombre entier de 0 à 100", text.trim()))
                .and_then(|w| match (0..=100).contains(&w) {
                    true => Ok(w),
                    false => Err(format!("{w} n'est pas entre 0 et 100")),
                }),
        )
    };
    let price = weight(&mut problems, "pondération prix", &form.weight_price);
    let quality = weight(&mut problems, "pondération qualité", &form.weight_quality);
    let environment = weight(
        &mut problems,
        "pondération environnement",
        &form.weight_environment,
    );
    if let (Some(p), Some(q), Some(e)) = (price, quality, environment) {
        if p + q + e != 100 {
            problems.add(
                "pondérations",
                format!("leur somme fait {} au lieu de 100", p + q + e),
            );
        }
        if e == 0 {
            problems.add(
                "pondération environnement",
                "un critère environnemental est obligatoire (article L2152-7, depuis le 21 août 2026)",
            );
        }
    }
    let cap = match form.max_lots_per_supplier.trim() {
        "" => None,
        text => problems.check(
            "lots par fournisseur",
            text.parse::<i32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("« {text} » n'est pas un nombre de lots positif")),
        ),
    };
    let rule = match (cap, form.cap_rule.as_str()) {
        (None, _) => None,
        (Some(_), r @ ("decreasing-importance" | "best-total")) => Some(r.to_string()),
        (Some(_), _) => {
            problems.add(
                "règle de plafonnement",
                "avec un plafond, annoncez la règle : ordre d'importance décroissant ou meilleur total",
            );
            None
        }
    };
    let day = problems.check(
        "date limite",
        crate::domain::parse_date(&form.deadline).map_err(|e| e.0),
    );
    problems.finish()?;
    let deadline = crate::domain::from_paris(
        day.unwrap_or_default()
            .and_hms_opt(12, 0, 0)
            .unwrap_or_default(),
    );
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if status != "approved" {
            return Err(AppError::Conflict(format!(
                "la consultation est « {status} » : seule une consultation approuvée par tous ses membres se publie"
            )));
        }
        let (reference, title, procedure): (String, String, String) = tenders::table
            .find(tender_id)
            .select((tenders::reference, tenders::title, tenders::procedure))
            .first(conn)?;
        let in_force = super::settings::today(conn)?;
        let min_days = minimum_days(conn, tender_id, &in_force)?;
        let now = Utc::now().naive_utc();
        let earliest = now + Duration::days(i64::from(min_days));
        if deadline < earliest {
            return Err(AppError::validation(
                "date limite",
                format!(
                    "la procédure ({}) impose au moins {min_days} jours après la publication : pas avant le {}",
                    super::public::procedure_label(&procedure),
                    (earliest + Duration::days(1)).format("%d/%m/%Y")
                ),
            ));
        }
        move_tender(conn, tender_id, crate::domain::TenderStatus::Published)?;
        diesel::update(tenders::table.find(tender_id))
            .set((
                tenders::weight_price.eq(price),
                tenders::weight_quality.eq(quality),
                tenders::weight_environment.eq(environment),
                tenders::max_lots_per_supplier.eq(cap),
                tenders::cap_rule.eq(&rule),
                tenders::published_at.eq(now),
                tenders::deadline.eq(deadline),
            ))
            .execute(conn)?;
        let notified = notify_suppliers(
            conn,
            base_url,
            tender_id,
            &reference,
            &title,
            deadline,
            &in_force.territory,
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.published", "tender", tender_id).after(format!(
                "{reference} prix {price:?} qualité {quality:?} environnement {environment:?} plafond {cap:?} date limite {deadline} ; {notified} fournisseurs prévenus"
            )),
        )?;
        Ok(notified)
    })
}

/// The minimum period of a tender in days, from its own procedure, with the settings in force
/// on the day of publication: the formal period (30 days) for a formal procedure, the adapted
/// floor for an adapted one (15 days by default: the law asks for a "reasonable" period, long
/// enough for a small company to read the documents, ask its questions and answer; the admin
/// sets it, never under 7), none without competition. (It was read from the run's plan by CPV
/// family: two tenders of one family could take each other's period, and an adapted procedure
/// got none at all.)
fn minimum_days(
    conn: &mut AnyConnection,
    tender_id: i32,
    in_force: &super::settings::ProcurementSettings,
) -> Result<u32, AppError> {
    let procedure: String = tenders::table
        .find(tender_id)
        .select(tenders::procedure)
        .first(conn)?;
    match procedure.as_str() {
        "formal" => Ok(in_force.thresholds.formal_min_days),
        "adapted" => Ok(in_force.adapted_min_days),
        "no_competition" => Ok(0),
        other => Err(AppError::internal(format!(
            "tender {tender_id}: unknown procedure {other}"
        ))),
    }
}

/// How many days after the territory's suppliers the others hear of a tender (lawful
/// sourcing: the notice itself is public from publication).
pub const EARLY_NOTICE_DAYS: i64 = 2;

/// Writes one e-mail per opted-in supplier whose CPV interests match a lot of the tender,
/// naming the lots and saying which its capacity can take: due at once for the territory's
/// suppliers, [`EARLY_NOTICE_DAYS`] later for the others. Once per tender and supplier.
fn notify_suppliers(
    conn: &mut AnyConnection,
    base_url: &str,
    tender_id: i32,
    reference: &str,
    title: &str,
    deadline: NaiveDateTime,
    territory: &[String],
) -> Result<usize, AppError> {
    let tender_lots: Vec<(i32, i32, String, i64)> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select((lots::id, lots::number, lots::cpv_code, lots::value_cents))
        .load(conn)?;
    // Those who chose a daily digest hear of it in the next one (`enqueue_digests`).
    let candidates: Vec<(i32, String, String, String, i64, String)> = suppliers::table
        .filter(suppliers::opt_in.eq(true))
        .filter(suppliers::digest.eq("immediate"))
        .order(suppliers::id)
        .select((
            suppliers::id,
            suppliers::name,
            suppliers::notification_email,
            suppliers::department_code,
            suppliers::annual_capacity_cents,
            suppliers::locale,
        ))
        .load(conn)?;
    let interests_of = crate::services::suppliers::interests_by_supplier(conn)?;
    let mut notified = 0;
    let now = Utc::now().naive_utc();
    for (supplier_id, name, email, department, capacity, locale) in candidates {
        let locale = Locale::of(&locale);
        // The territory's suppliers hear first; the others, EARLY_NOTICE_DAYS later.
        let due = match territory.contains(&department) {
            true => None,
            false => Some(now + Duration::days(EARLY_NOTICE_DAYS)),
        };
        let interests = interests_of
            .get(&supplier_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let matching: Vec<&(i32, i32, String, i64)> = tender_lots
            .iter()
            .filter(|(_, _, cpv, _)| interests.iter().any(|i| interest_matches(i, cpv)))
            .collect();
        if matching.is_empty() {
            continue;
        }
        // Each lot with its value, and whether it fits the supplier's annual capacity.
        let lots_data: Vec<serde_json::Value> = matching
            .iter()
            .map(|(_, number, _, value)| {
                json!({ "number": number, "value": locale.euros(Cents::new(*value)),
                        "within": capacity >= *value })
            })
            .collect();
        let unsubscribe = unsubscribe_link(conn, base_url, supplier_id)?;
        let data = json!({
            "locale": locale.code(), "supplier": name, "reference": reference, "title": title,
            "deadline": locale.moment(deadline),
            "lots": lots_data, "link": format!("{base_url}/appels-d-offres/{reference}"),
            "unsubscribe": unsubscribe,
        });
        if mail::enqueue_at(
            conn,
            &email,
            "tender_published",
            &data,
            &format!("publication:{tender_id}:{supplier_id}"),
            due,
        )? {
            notified += 1;
        }
    }
    Ok(notified)
}

/// A one-click unsubscription link for a supplier's notice (its token stored hashed).
fn unsubscribe_link(
    conn: &mut AnyConnection,
    base_url: &str,
    supplier_id: i32,
) -> QueryResult<String> {
    use crate::db::schema::unsubscribe_tokens as tokens;
    let token = crate::services::auth::random_token();
    diesel::insert_into(tokens::table)
        .values((
            tokens::token_hash.eq(crate::services::auth::hash_token(&token)),
            tokens::supplier_id.eq(supplier_id),
        ))
        .execute(conn)?;
    Ok(format!("{base_url}/desabonnement?jeton={token}"))
}

/// A tender of a digest: reference, title, deadline and its lots' CPV codes.
type DigestTender = (String, String, Option<NaiveDateTime>, Vec<String>);

/// The hour, Paris time, at which the daily digests are written.
pub const DIGEST_HOUR: u32 = 7;

/// Writes the daily digest of `day` for every opted-in supplier who chose it: the tenders
/// published between 07:00 (Paris) the day before and 07:00 that day whose lots match its
/// interests — two days later for suppliers outside the territory, as for single notices.
/// Once per supplier and day, however often it is called.
pub fn enqueue_digests(
    pool: &Pool,
    base_url: &str,
    day: chrono::NaiveDate,
) -> Result<usize, AppError> {
    let at_seven = |d: chrono::NaiveDate| {
        crate::domain::from_paris(d.and_hms_opt(DIGEST_HOUR, 0, 0).unwrap_or_default())
    };
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let territory = super::settings::in_force(conn, day)?.territory;
        let territory = territory.as_slice();
        let readers: Vec<(i32, String, String, String, String)> = suppliers::table
            .filter(suppliers::opt_in.eq(true))
            .filter(suppliers::digest.eq("daily"))
            .order(suppliers::id)
            .select((
                suppliers::id,
                suppliers::name,
                suppliers::notification_email,
                suppliers::department_code,
                suppliers::locale,
            ))
            .load(conn)?;
        let interests_of = crate::services::suppliers::interests_by_supplier(conn)?;
        // The tenders of each window (the territory's, and two days earlier for the others),
        // with their lots' codes, read once.
        let mut windows: HashMap<i64, Vec<DigestTender>> = HashMap::new();
        for shift in [0, EARLY_NOTICE_DAYS] {
            let end = day - Duration::days(shift);
            let published: Vec<(i32, String, String, Option<NaiveDateTime>)> = tenders::table
                .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
                .filter(tenders::published_at.ge(at_seven(end - Duration::days(1))))
                .filter(tenders::published_at.lt(at_seven(end)))
                .order(tenders::published_at)
                .select((
                    tenders::id,
                    tenders::reference,
                    tenders::title,
                    tenders::deadline,
                ))
                .load(conn)?;
            let mut with_codes = Vec::with_capacity(published.len());
            for (tender_id, reference, title, deadline) in published {
                let codes: Vec<String> = lots::table
                    .filter(lots::tender_id.eq(tender_id))
                    .select(lots::cpv_code)
                    .load(conn)?;
                with_codes.push((reference, title, deadline, codes));
            }
            windows.insert(shift, with_codes);
        }
        let mut written = 0;
        for (supplier_id, name, email, department, locale) in readers {
            let locale = Locale::of(&locale);
            let shift = match territory.contains(&department) {
                true => 0,
                false => EARLY_NOTICE_DAYS,
            };
            let interests = interests_of
                .get(&supplier_id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let items: Vec<serde_json::Value> = windows[&shift]
                .iter()
                .filter(|(_, _, _, codes)| {
                    codes
                        .iter()
                        .any(|c| interests.iter().any(|i| interest_matches(i, c)))
                })
                .map(|(reference, title, deadline, _)| {
                    json!({
                        "reference": reference, "title": title,
                        "deadline": deadline.map(|d| locale.moment(d)).unwrap_or_default(),
                        "link": format!("{base_url}/appels-d-offres/{reference}"),
                    })
                })
                .collect();
            if items.is_empty() {
                continue;
            }
            let data = json!({
                "locale": locale.code(), "supplier": name, "day": locale.date(day),
                "count": items.len(),
                "tenders": items, "unsubscribe": unsubscribe_link(conn, base_url, supplier_id)?,
            });
            if mail::enqueue(
                conn,
                &email,
                "daily_digest",
                &data,
                &format!("digest:{supplier_id}:{day}"),
            )? {
                written += 1;
            }
        }
        Ok(written)
    })
}

/// A lot's heading: its title when it names the lot already (`Lot 2 — …`, as the engine writes
/// them), else `Lot 2 — <title>`.
pub fn lot_heading(number: i32, title: &str) -> String {
    match title.starts_with(&format!("Lot {number} ")) {
        true => title.to_string(),
        false => format!("Lot {number} — {title}"),
    }
}

/// A supplier's interest (a prefix; a full code stands for its significant prefix) matches a
/// lot's code when one is a prefix of the other.
pub fn interest_matches(interest: &str, lot_cpv: &str) -> bool {
    let interest = groupement_solver::pooling::family::significant_prefix(interest);
    let lot = groupement_solver::pooling::family::significant_prefix(lot_cpv);
    lot.starts_with(interest) || interest.starts_with(lot)
}

/// An organisation's code → id, for the tenders of a plan.
pub fn organisation_ids(conn: &mut AnyConnection) -> QueryResult<BTreeMap<String, i32>> {
    Ok(organisations::table
        .select((organisations::code, organisations::id))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect())
}

/// A tender as a member's pages list it.
#[derive(Debug, Serialize)]
pub struct TenderRow {
    pub id: i32,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub coordinator: String,
    pub procedure: String,
    pub total_value_cents: i64,
    /// The actor's organisation's part of the tender's value.
    pub share_cents: i64,
    /// The actor's organisation's decision: `pending`, `approved`, `refused`.
    pub decision: String,
}

/// The tenders the actor's organisation takes part in, newest first.
pub fn of_organisation(pool: &Pool, actor: &Actor) -> Result<Vec<TenderRow>, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    type Row = (i32, String, String, String, String, String, i64, String);
    let rows: Vec<Row> = tenders::table
        .inner_join(tender_approvals::table)
        .inner_join(organisations::table.on(organisations::id.eq(tenders::coordinator_id)))
        .filter(tender_approvals::organisation_id.eq(organisation_id))
        .order(tenders::id.desc())
        .select((
            tenders::id,
            tenders::reference,
            tenders::title,
            tenders::status,
            organisations::code,
            tenders::procedure,
            tenders::total_value_cents,
            tender_approvals::status,
        ))
        .load(&mut conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, reference, title, status, coordinator, procedure, total, decision) in rows {
        let share = share_of(&mut conn, id, organisation_id)?;
        out.push(TenderRow {
            id,
            reference,
            title,
            status,
            coordinator,
            procedure,
            total_value_cents: total,
            share_cents: share.iter().map(|n| n.value_cents).sum(),
            decision,
        });
    }
    Ok(out)
}

/// A need of a tender, with its lot.
#[derive(Debug, Clone, Serialize)]
pub struct ShareNeed {
    pub lot: i32,
    pub need_id: i32,
    pub title: String,
    pub buyer: String,
    pub value_cents: i64,
}

fn needs_of_tender(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<ShareNeed>> {
    let rows: Vec<(i32, i32, String, String, i64, i64)> = lot_needs::table
        .inner_join(lots::table)
        .inner_join(needs::table.inner_join(organisations::table))
        .filter(lots::tender_id.eq(tender_id))
        .order((lots::number, needs::id))
        .select((
            lots::number,
            needs::id,
            needs::title,
            organisations::code,
            needs::quantity_milli,
            needs::unit_price_cents,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(lot, need_id, title, buyer, q, p)| ShareNeed {
            lot,
            need_id,
            title,
            buyer,
            value_cents: crate::services::needs::value_cents(q, p),
        })
        .collect())
}

fn share_of(
    conn: &mut AnyConnection,
    tender_id: i32,
    organisation_id: i32,
) -> QueryResult<Vec<ShareNeed>> {
    let code: String = organisations::table
        .find(organisation_id)
        .select(organisations::code)
        .first(conn)?;
    Ok(needs_of_tender(conn, tender_id)?
        .into_iter()
        .filter(|n| n.buyer == code)
        .collect())
}

#[derive(Debug, Serialize)]
pub struct LotView {
    pub number: i32,
    pub title: String,
    pub cpv: String,
    pub value_cents: i64,
    pub expected_savings_cents: i64,
    pub local_accessible: bool,
    pub eligible_local_suppliers: i32,
    pub small_lot: bool,
}

impl From<crate::db::models::Lot> for LotView {
    fn from(l: crate::db::models::Lot) -> Self {
        LotView {
            number: l.number,
            title: l.title,
            cpv: l.cpv_code,
            value_cents: l.value_cents,
            expected_savings_cents: l.expected_savings_cents,
            local_accessible: l.local_accessible,
            eligible_local_suppliers: l.eligible_local_suppliers,
            small_lot: l.small_lot,
        }
    }
}

/// The announced weights, when all three are set.
fn weights_of(
    price: Option<i32>,
    quality: Option<i32>,
    environment: Option<i32>,
) -> Option<(i32, i32, i32)> {
    Some((price?, quality?, environment?))
}

#[derive(Debug, Serialize)]
pub struct ApprovalView {
    pub organisation: String,
    pub status: String,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TenderDetail {
    pub id: i32,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub coordinator: String,
    pub is_coordinator: bool,
    pub procedure: String,
    pub total_value_cents: i64,
    pub deadline: Option<NaiveDateTime>,
    pub weights: Option<(i32, i32, i32)>,
    pub min_days: u32,
    pub lots: Vec<LotView>,
    pub approvals: Vec<ApprovalView>,
    /// The actor's organisation's needs in the tender.
    pub share: Vec<ShareNeed>,
    /// The actor's organisation's expected saving: its share of each lot's savings, in
    /// proportion to its value in the lot.
    pub share_savings_cents: i64,
    pub my_decision: String,
    pub documents: Vec<DocumentRow>,
    pub opened_at: Option<NaiveDateTime>,
    pub standstill_until: Option<NaiveDateTime>,
    /// The actor's organisation's contracts, once the tender is awarded.
    pub contracts: Vec<ContractView>,
}

/// One of an organisation's contracts: the lot, the holder, the amount (read as the query of
/// `detail` selects it, field by field).
#[derive(Debug, Serialize, Queryable)]
pub struct ContractView {
    pub uid: String,
    pub lot: i32,
    pub supplier: String,
    pub amount_cents: i64,
    pub estimated_cents: i64,
    /// The earliest day it may be signed (the end of the standstill, or the award's day).
    pub notified_on: chrono::NaiveDate,
    /// `pending` until its signature is recorded, then `active`.
    pub status: String,
    pub signed_on: Option<chrono::NaiveDate>,
    pub signatory: Option<String>,
}

pub fn detail(pool: &Pool, actor: &Actor, tender_id: i32) -> Result<TenderDetail, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    let (status, coordinator_id) = tender_of_member(&mut conn, organisation_id, tender_id)?;
    type Row = (
        String,
        String,
        String,
        i64,
        Option<NaiveDateTime>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
    );
    let (reference, title, procedure, total, deadline, wp, wq, we): Row = tenders::table
        .find(tender_id)
        .select((
            tenders::reference,
            tenders::title,
            tenders::procedure,
            tenders::total_value_cents,
            tenders::deadline,
            tenders::weight_price,
            tenders::weight_quality,
            tenders::weight_environment,
        ))
        .first(&mut conn)?;
    let coordinator: String = organisations::table
        .find(coordinator_id)
        .select(organisations::code)
        .first(&mut conn)?;
    let lot_rows: Vec<crate::db::models::Lot> = lots::table
        .filter(lots::tender_id.eq(tender_id))
        .order(lots::number)
        .select(crate::db::models::Lot::as_select())
        .load(&mut conn)?;
    let approvals: Vec<(String, String, Option<String>)> = tender_approvals::table
        .inner_join(
            organisations::table.on(organisations::id.eq(tender_approvals::organisation_id)),
        )
        .filter(tender_approvals::tender_id.eq(tender_id))
        .order(organisations::code)
        .select((
            organisations::code,
            tender_approvals::status,
            tender_approvals::comment,
        ))
        .load(&mut conn)?;
    let share = share_of(&mut conn, tender_id, organisation_id)?;
    let share_savings_cents = lot_rows
        .iter()
        .map(|lot| {
            let mine: i64 = share
                .iter()
                .filter(|n| n.lot == lot.number)
                .map(|n| n.value_cents)
                .sum();
            match lot.value_cents {
                0 => 0,
                v => {
                    (i128::from(lot.expected_savings_cents) * i128::from(mine) / i128::from(v))
                        as i64
                }
            }
        })
        .sum();
    let my_code: String = organisations::table
        .find(organisation_id)
        .select(organisations::code)
        .first(&mut conn)?;
    let my_decision = approvals
        .iter()
        .find(|(code, _, _)| *code == my_code)
        .map(|(_, s, _)| s.clone())
        .unwrap_or_default();
    let in_force = super::settings::today(&mut conn)?;
    let min_days = minimum_days(&mut conn, tender_id, &in_force)?;
    let (opened_at, standstill_until): (Option<NaiveDateTime>, Option<NaiveDateTime>) =
        tenders::table
            .find(tender_id)
            .select((tenders::opened_at, tenders::standstill_until))
            .first(&mut conn)?;
    let contracts = {
        use crate::db::schema::{contracts, suppliers};
        contracts::table
            .inner_join(lots::table)
            .inner_join(suppliers::table)
            .filter(contracts::tender_id.eq(tender_id))
            .filter(contracts::organisation_id.eq(organisation_id))
            .order(lots::number)
            .select((
                contracts::uid,
                lots::number,
                suppliers::name,
                contracts::amount_cents,
                contracts::estimated_cents,
                contracts::notified_on,
                contracts::status,
                contracts::signed_on,
                contracts::signatory,
            ))
            .load::<ContractView>(&mut conn)?
    };
    Ok(TenderDetail {
        id: tender_id,
        reference,
        title,
        status,
        is_coordinator: coordinator_id == organisation_id,
        coordinator,
        procedure,
        total_value_cents: total,
        deadline,
        weights: weights_of(wp, wq, we),
        min_days,
        lots: lot_rows.into_iter().map(LotView::from).collect(),
        approvals: approvals
            .into_iter()
            .map(|(organisation, status, comment)| ApprovalView {
                organisation,
                status,
                comment,
            })
            .collect(),
        share,
        share_savings_cents,
        my_decision,
        documents: documents_of(&mut conn, tender_id)?,
        opened_at,
        standstill_until,
        contracts,
    })
}

/// What anyone may read of a published tender (its notice): lots, criteria, deadline.
#[derive(Debug, Serialize)]
pub struct Notice {
    pub reference: String,
    pub title: String,
    pub status: String,
    pub coordinator: String,
    pub procedure: String,
    pub deadline: Option<NaiveDateTime>,
    pub weights: Option<(i32, i32, i32)>,
    pub max_lots_per_supplier: Option<i32>,
    pub cap_rule: Option<String>,
    pub lots: Vec<LotView>,
    pub documents: Vec<DocumentRow>,
    /// Lot by lot, once the award is approved.
    pub results: Vec<crate::services::awards::PublicResult>,
}

/// Two queries whatever the number of lots: the tender with each lot and its approved award
/// (winner and price), then the documents.
pub fn notice(pool: &Pool, reference: &str) -> Result<Notice, AppError> {
    use crate::db::models::Lot;
    use crate::db::schema::{awards, bids, suppliers};
    let mut conn = pool.get()?;
    type Head = (
        i32,
        String,
        String,
        String,
        String,
        Option<NaiveDateTime>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<String>,
    );
    type Award = (Option<String>, Option<String>, Option<i64>, Option<String>);
    let rows: Vec<(Head, Lot, Award)> = tenders::table
        .inner_join(organisations::table.on(organisations::id.eq(tenders::coordinator_id)))
        .inner_join(lots::table.on(lots::tender_id.eq(tenders::id)))
        .left_join(
            awards::table.on(awards::lot_id
                .eq(lots::id)
                .and(awards::approved_at.is_not_null())),
        )
        .left_join(bids::table.on(awards::winning_bid_id.eq(bids::id.nullable())))
        .left_join(suppliers::table.on(suppliers::id.eq(bids::supplier_id)))
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .order(lots::number)
        .select((
            (
                tenders::id,
                tenders::title,
                tenders::status,
                organisations::name,
                tenders::procedure,
                tenders::deadline,
                tenders::weight_price,
                tenders::weight_quality,
                tenders::weight_environment,
                tenders::max_lots_per_supplier,
                tenders::cap_rule,
            ),
            Lot::as_select(),
            (
                awards::status.nullable(),
                suppliers::name.nullable(),
                bids::price_cents.nullable(),
                awards::scores.nullable(),
            ),
        ))
        .load(&mut conn)?;
    let mut rows = rows.into_iter();
    let Some((head, first_lot, first_award)) = rows.next() else {
        return Err(AppError::NotFound);
    };
    let mut lots = Vec::with_capacity(rows.len() + 1);
    let mut results = Vec::new();
    let each_lot = std::iter::once((first_lot, first_award)).chain(rows.map(|(_, l, a)| (l, a)));
    for (lot, (status, winner, amount_cents, scores)) in each_lot {
        if let (Some(status), Some(scores)) = (status, scores) {
            results.push(crate::services::awards::PublicResult::new(
                lot.number,
                lot.title.clone(),
                status,
                winner,
                amount_cents,
                &scores,
            ));
        }
        lots.push(LotView::from(lot));
    }
    Ok(Notice {
        reference: reference.to_string(),
        title: head.1,
        status: head.2,
        coordinator: head.3,
        procedure: head.4,
        deadline: head.5,
        weights: weights_of(head.6, head.7, head.8),
        max_lots_per_supplier: head.9,
        cap_rule: head.10,
        documents: documents_of(&mut conn, head.0)?,
        results,
        lots,
    })
}

#[derive(Debug, Serialize)]
pub struct DocumentRow {
    pub id: i32,
    pub name: String,
    pub size_bytes: i64,
}

pub fn documents_of(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<DocumentRow>> {
    use crate::db::schema::tender_documents as docs;
    Ok(docs::table
        .filter(docs::tender_id.eq(tender_id))
        .order(docs::id)
        .select((docs::id, docs::name, docs::size_bytes))
        .load::<(i32, String, i64)>(conn)?
        .into_iter()
        .map(|(id, name, size_bytes)| DocumentRow {
            id,
            name,
            size_bytes,
        })
        .collect())
}

/// Adds a document to a tender not yet published (the coordinator's lead), checked by
/// [`documents::checked`].
pub fn add_document(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    file_name: &str,
    bytes: &[u8],
) -> Result<i32, AppError> {
    use crate::db::schema::tender_documents as docs;
    let organisation_id = actor.require_lead()?;
    let (name, content_type) = documents::checked(file_name, bytes)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if !["draft", "approving", "approved"].contains(&status.as_str()) {
            return Err(AppError::Conflict(format!(
                "la consultation est « {status} » : ses documents ne changent plus après la publication"
            )));
        }
        let id: i32 = diesel::insert_into(docs::table)
            .values((
                docs::tender_id.eq(tender_id),
                docs::name.eq(name),
                docs::content_type.eq(content_type),
                docs::size_bytes.eq(bytes.len() as i64),
                docs::content.eq(bytes),
                docs::uploaded_by.eq(actor.user_id),
            ))
            .returning(docs::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.document_added", "tender", tender_id)
                .after(format!("{name} ({} octets)", bytes.len())),
        )?;
        Ok(id)
    })
}

/// A document of a published tender, for anyone: name, media type, content.
pub fn public_document(
    pool: &Pool,
    reference: &str,
    id: i32,
) -> Result<(String, String, Vec<u8>), AppError> {
    use crate::db::schema::tender_documents as docs;
    let mut conn = pool.get()?;
    Ok(docs::table
        .inner_join(tenders::table)
        .filter(docs::id.eq(id))
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq_any(TenderStatus::PUBLIC))
        .select((docs::name, docs::content_type, docs::content))
        .first(&mut conn)?)
}
