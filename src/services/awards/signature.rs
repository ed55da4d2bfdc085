//! Contracts signed, not assumed: `pending` until the member's lead records the signature,
//! then `active` (`domain::ContractStatus`, through `move_contract`).

#[allow(unused_imports)]
use super::*;

/// The one way a contract's status changes: a conditional update on the statuses that may
/// move to `to`, so that two signatures at once leave one, and the other is told.
pub fn move_contract(
    conn: &mut AnyConnection,
    contract_id: i32,
    to: ContractStatus,
) -> Result<(), AppError> {
    let moved = diesel::update(
        contracts::table
            .find(contract_id)
            .filter(contracts::status.eq_any(ContractStatus::predecessors(to))),
    )
    .set(contracts::status.eq(to))
    .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let (uid, now): (String, ContractStatus) = contracts::table
        .find(contract_id)
        .select((contracts::uid, contracts::status))
        .first(conn)?;
    Err(AppError::Conflict(format!(
        "le marché {uid} est « {} » : il ne peut pas devenir « {} »",
        now.label_fr(),
        to.label_fr()
    )))
}

/// What the member's lead records when a contract is signed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Signature {
    /// `JJ/MM/AAAA` or `AAAA-MM-JJ`.
    #[serde(default)]
    pub signed_on: String,
    #[serde(default)]
    pub signatory: String,
}

/// The member's lead records the signature of one of its organisation's contracts: the day
/// (not before the standstill's end, not in the future) and who signed. The contract becomes
/// `active` (a conditional update: a contract is signed once); open data follows.
pub fn sign_contract(
    pool: &Pool,
    actor: &Actor,
    tender_id: i32,
    uid: &str,
    form: &Signature,
) -> Result<(), AppError> {
    let organisation_id = actor.require_lead()?;
    let mut conn = pool.get()?;
    // Another organisation's contract, or none: "not found", before anything is checked.
    let owned: i64 = contracts::table
        .filter(contracts::uid.eq(uid))
        .filter(contracts::tender_id.eq(tender_id))
        .filter(contracts::organisation_id.eq(organisation_id))
        .count()
        .get_result(&mut conn)?;
    if owned == 0 {
        return Err(AppError::NotFound);
    }
    let mut problems = crate::error::Problems::default();
    let day = problems.check(
        "date de signature",
        crate::domain::parse_date(&form.signed_on).map_err(|e| e.0),
    );
    let signatory = form.signatory.trim();
    if signatory.is_empty() || signatory.chars().count() > 200 {
        problems.add(
            "signataire",
            "le nom et la qualité de qui a signé, 200 caractères au plus",
        );
    }
    problems.finish()?;
    let day = day.ok_or_else(|| AppError::internal("date checked without value"))?;
    write_transaction(&mut conn, |conn| {
        let (id, earliest, status): (i32, NaiveDate, ContractStatus) = contracts::table
            .filter(contracts::uid.eq(uid))
            .filter(contracts::tender_id.eq(tender_id))
            .filter(contracts::organisation_id.eq(organisation_id))
            .select((contracts::id, contracts::notified_on, contracts::status))
            .first(conn)?;
        if status != ContractStatus::Pending {
            return Err(AppError::Conflict(format!(
                "le marché {uid} est déjà signé"
            )));
        }
        let today = crate::domain::to_paris(Utc::now().naive_utc()).0.date();
        if day < earliest {
            return Err(AppError::validation(
                "date de signature",
                format!(
                    "pas avant le {} : la fin du délai de suspension (R2182-1)",
                    earliest.format("%d/%m/%Y")
                ),
            ));
        }
        if day > today {
            return Err(AppError::validation(
                "date de signature",
                "une signature se constate : pas de date à venir",
            ));
        }
        // The signature first: a contract is active only with it (the migrations' checks).
        diesel::update(contracts::table.find(id))
            .set((
                contracts::signed_on.eq(Some(day)),
                contracts::signatory.eq(Some(signatory)),
            ))
            .execute(conn)?;
        move_contract(conn, id, ContractStatus::Active)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("contract.signed", "contract", uid)
                .after(format!("{} par {signatory}", day.format("%d/%m/%Y"))),
        )?;
        // The award notice, not yet sent, says the contracts as signed.
        crate::services::notices::record_award_notice(conn, tender_id, Utc::now().naive_utc())?;
        Ok(())
    })
}
