//! A tender from its creation out of an accepted proposal to its approval by every member:
//! each member decides its share once (`decide`), a refusal sends it back to the coordinator
//! (`resubmit`), and every change of status goes through `move_tender`.

#[allow(unused_imports)]
use super::*;

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
            "dites pourquoi vous refusez : le coordonnateur en a besoin pour revoir les lots",
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
        move_approval(conn, tender_id, organisation_id, decision)?;
        diesel::update(
            tender_approvals::table
                .filter(tender_approvals::tender_id.eq(tender_id))
                .filter(tender_approvals::organisation_id.eq(organisation_id)),
        )
        .set((
            tender_approvals::comment.eq(Some(comment).filter(|c| !c.is_empty())),
            tender_approvals::decided_by.eq(actor.user_id),
            tender_approvals::decided_at.eq(now),
        ))
        .execute(conn)?;
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
            crate::services::needs::move_needs_together(
                conn,
                &ids,
                crate::domain::NeedStatus::Tendered,
            )?;
        }
        Ok(new_status.to_string())
    })
}

/// The one way a member's share of a tender changes status (`domain::ApprovalStatus`): a
/// conditional update on the statuses that may move to `to`, so that a share is decided once
/// and two decisions at once leave one; the other is told what the share already is.
pub fn move_approval(
    conn: &mut AnyConnection,
    tender_id: i32,
    organisation_id: i32,
    to: ApprovalStatus,
) -> Result<(), AppError> {
    let moved = diesel::update(
        tender_approvals::table
            .filter(tender_approvals::tender_id.eq(tender_id))
            .filter(tender_approvals::organisation_id.eq(organisation_id))
            .filter(tender_approvals::status.eq_any(ApprovalStatus::predecessors(to))),
    )
    .set(tender_approvals::status.eq(to))
    .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let before: Option<ApprovalStatus> = tender_approvals::table
        .filter(tender_approvals::tender_id.eq(tender_id))
        .filter(tender_approvals::organisation_id.eq(organisation_id))
        .select(tender_approvals::status)
        .first(conn)
        .optional()?;
    let Some(before) = before else {
        return Err(AppError::NotFound);
    };
    Err(AppError::Conflict(match to {
        ApprovalStatus::Pending => format!(
            "la part est « {} » : elle ne peut pas devenir « {} »",
            before.label_fr(),
            to.label_fr()
        ),
        _ => format!(
            "votre part est déjà « {} » : elle ne se décide qu'une fois (le coordonnateur peut \
             la redemander en renvoyant la consultation)",
            before.label_fr()
        ),
    }))
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

pub(super) fn need_ids(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<i32>> {
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
        // Every decided share is asked again (one still pending stays so).
        diesel::update(
            tender_approvals::table
                .filter(tender_approvals::tender_id.eq(tender_id))
                .filter(
                    tender_approvals::status
                        .eq_any(ApprovalStatus::predecessors(ApprovalStatus::Pending)),
                ),
        )
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

/// An organisation's code → id, for the tenders of a plan.
pub fn organisation_ids(conn: &mut AnyConnection) -> QueryResult<BTreeMap<String, i32>> {
    Ok(organisations::table
        .select((organisations::code, organisations::id))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect())
}
