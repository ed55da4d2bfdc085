//! Buyers' needs: validation of what people type or import, the life cycle of DESIGN §2, and
//! the rule that matters most here — a buyer or lead reads and changes only the needs of its own
//! organisation (anyone else's answer 404, as if they did not exist).

use crate::auth::Actor;
use crate::db::models::{Need, NewNeed};
use crate::db::schema::{needs, organisations};
use crate::db::{write_transaction, AnyConnection, MultiBackend, Pool};
use crate::domain::{parse_date, CpvCatalog, CpvCode, DeliveryWindow, NeedStatus, Postcode};
use crate::error::{AppError, Problems};
use crate::files::{parse_decimal, RowError, Table};
use crate::services::audit::{self, Change};
use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The needs columns of DESIGN §6, in order (the import's header, the export's).
pub const NEED_COLUMNS: [&str; 11] = [
    "need_id",
    "buyer",
    "cpv",
    "title",
    "quantity",
    "unit",
    "unit_price_eur",
    "delivery_postcode",
    "window_start",
    "window_end",
    "poolable",
];

/// Statuses in which a buyer may still change a need (`NeedStatus::editable`): before it is in
/// an accepted proposal, and after its lot found no winner (the need is back with its buyer, to
/// buy again). A pooled need is locked: its tender's values and procedure were computed with it.
pub const EDITABLE: [&str; 3] = ["draft", "submitted", "unsuccessful"];

/// The largest estimated value of one need: 10 billion euros, ten times what the four members
/// spend in a year. Above it a quantity or a price was mistyped (a price in cents, a quantity in
/// grams); it also keeps the sums of values that the database makes within 64 bits.
pub const MAX_NEED_VALUE_CENTS: i64 = 1_000_000_000_000;

/// A need as typed in a form, a spreadsheet row or an API body: text, checked by [`validate`].
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct RawNeed {
    #[serde(default)]
    pub need_id: String,
    #[serde(default)]
    pub cpv: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub unit_price_eur: String,
    #[serde(default)]
    pub delivery_postcode: String,
    #[serde(default)]
    pub window_start: String,
    #[serde(default)]
    pub window_end: String,
    /// `oui/non`, `true/false`, `yes/no`, `1/0`; a form's checkbox sends `on`.
    #[serde(default)]
    pub poolable: String,
}

/// A need that passed every check, in storage units.
#[derive(Debug, Clone)]
pub struct ValidNeed {
    pub external_ref: Option<String>,
    pub cpv: CpvCode,
    pub title: String,
    pub description: String,
    pub quantity_milli: i64,
    pub unit: String,
    pub unit_price_cents: i64,
    pub postcode: Postcode,
    pub window: DeliveryWindow,
    pub poolable: bool,
}

/// Checks every field; returns every problem with its field (DESIGN's column names).
pub fn validate(raw: &RawNeed) -> Result<ValidNeed, Vec<(&'static str, String)>> {
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    let mut check = |field: &'static str, result: Result<(), String>| {
        if let Err(message) = result {
            problems.push((field, message));
        }
    };
    let external_ref = Some(raw.need_id.trim().to_string()).filter(|r| !r.is_empty());
    check(
        "need_id",
        match &external_ref {
            Some(r) if r.chars().count() > 64 => Err("au plus 64 caractères".into()),
            _ => Ok(()),
        },
    );
    let cpv = CpvCode::parse(&raw.cpv, CpvCatalog::embedded()).map_err(|e| e.0);
    let title = raw.title.trim().to_string();
    check(
        "title",
        match title.chars().count() {
            0 => Err("l'intitulé est vide".into()),
            n if n > 200 => Err("au plus 200 caractères".into()),
            _ => Ok(()),
        },
    );
    let description = raw.description.trim().to_string();
    check(
        "description",
        match description.chars().count() > 4000 {
            true => Err("au plus 4 000 caractères".into()),
            false => Ok(()),
        },
    );
    let quantity = parse_decimal(&raw.quantity).and_then(|q| {
        let milli = (q * 1000.0).round();
        match q > 0.0 && (1.0..1e15).contains(&milli) {
            true => Ok(milli as i64),
            false => Err(format!(
                "la quantité doit être positive (au millième près), pas {q}"
            )),
        }
    });
    let unit = raw.unit.trim().to_string();
    check(
        "unit",
        match unit.chars().count() {
            0 => Err("l'unité est vide (ex. unité, kg, heure, forfait)".into()),
            n if n > 40 => Err("au plus 40 caractères".into()),
            _ => Ok(()),
        },
    );
    let price = parse_decimal(&raw.unit_price_eur).and_then(|p| {
        let cents = (p * 100.0).round();
        match p >= 0.0 && cents < 1e15 {
            true => Ok(cents as i64),
            false => Err(format!(
                "le prix unitaire estimé est un montant positif en euros HT, pas {p}"
            )),
        }
    });
    if let (Ok(q), Ok(p)) = (&quantity, &price) {
        let value = value_cents(*q, *p);
        check(
            "unit_price_eur",
            match value > MAX_NEED_VALUE_CENTS {
                true => Err(format!(
                    "la valeur estimée (quantité × prix unitaire) dépasse 10 milliards d'euros : {} — vérifiez la quantité et le prix",
                    crate::domain::Cents::new(value)
                )),
                false => Ok(()),
            },
        );
    }
    let postcode = Postcode::parse(&raw.delivery_postcode).map_err(|e| e.0);
    let start = parse_date(&raw.window_start).map_err(|e| e.0);
    let end = parse_date(&raw.window_end).map_err(|e| e.0);
    let poolable = match raw.poolable.trim().to_lowercase().as_str() {
        "" => Ok(true),
        "on" => Ok(true),
        other => crate::files::cells::parse_flag(other)
            .ok_or_else(|| format!("« {other} » n'est pas oui/non, true/false, yes/no ou 1/0")),
    };
    let window = match (&start, &end) {
        (Ok(s), Ok(e)) => DeliveryWindow::new(*s, *e).map_err(|e| e.0).map(Some),
        _ => Ok(None),
    };
    check("cpv", cpv.as_ref().map(|_| ()).map_err(Clone::clone));
    check(
        "quantity",
        quantity.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    check(
        "unit_price_eur",
        price.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    check(
        "delivery_postcode",
        postcode.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    check(
        "window_start",
        start.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    check("window_end", end.as_ref().map(|_| ()).map_err(Clone::clone));
    check(
        "window_end",
        window.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    check(
        "poolable",
        poolable.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    match (cpv, quantity, price, postcode, window, poolable) {
        (
            Ok(cpv),
            Ok(quantity_milli),
            Ok(unit_price_cents),
            Ok(postcode),
            Ok(Some(window)),
            Ok(poolable),
        ) if problems.is_empty() => Ok(ValidNeed {
            external_ref,
            cpv,
            title,
            description,
            quantity_milli,
            unit,
            unit_price_cents,
            postcode,
            window,
            poolable,
        }),
        _ => Err(problems),
    }
}

/// Problems of a form or an API body as one validation error, every field kept.
fn invalid(found: Vec<(&'static str, String)>) -> AppError {
    let mut problems = Problems::default();
    for (field, message) in found {
        problems.add(field, message);
    }
    match problems.is_empty() {
        true => AppError::validation("need", "invalid"),
        false => AppError::Validation(problems),
    }
}

/// A need as pages and the API show it (DESIGN's column names, plus its life).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    pub id: i32,
    pub need_id: Option<String>,
    pub buyer: String,
    pub cpv: String,
    pub cpv_label: String,
    pub title: String,
    pub description: String,
    pub quantity: f64,
    pub unit: String,
    pub unit_price_eur: f64,
    pub value_eur: f64,
    pub delivery_postcode: String,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub budget_year: i32,
    pub poolable: bool,
    pub status: String,
    pub editable: bool,
}

fn view(need: Need, buyer: &str) -> NeedView {
    let cpv_label = CpvCatalog::embedded()
        .get(&need.cpv_code)
        .map(|e| e.label_fr.clone())
        .unwrap_or_default();
    let value_cents = value_cents(need.quantity_milli, need.unit_price_cents);
    NeedView {
        id: need.id,
        need_id: need.external_ref,
        buyer: buyer.to_string(),
        cpv: need.cpv_code,
        cpv_label,
        title: need.title,
        description: need.description,
        quantity: need.quantity_milli as f64 / 1000.0,
        unit: need.unit,
        unit_price_eur: need.unit_price_cents as f64 / 100.0,
        value_eur: value_cents as f64 / 100.0,
        delivery_postcode: need.delivery_postcode,
        window_start: need.window_start,
        window_end: need.window_end,
        budget_year: need.budget_year,
        poolable: need.poolable,
        editable: EDITABLE.contains(&need.status.as_str()),
        status: need.status,
    }
}

/// Value of a need in cents: quantity (thousandths) × unit price (cents), rounded.
pub fn value_cents(quantity_milli: i64, unit_price_cents: i64) -> i64 {
    ((i128::from(quantity_milli) * i128::from(unit_price_cents) + 500) / 1000) as i64
}

fn code_of(conn: &mut AnyConnection, organisation_id: i32) -> QueryResult<String> {
    organisations::table
        .find(organisation_id)
        .select(organisations::code)
        .first(conn)
}

fn insertable<'a>(
    need: &'a ValidNeed,
    organisation_id: i32,
    status: &'a str,
    provenance: Option<&'a str>,
    created_by: Option<i32>,
) -> NewNeed<'a> {
    NewNeed {
        organisation_id,
        external_ref: need.external_ref.as_deref(),
        cpv_code: need.cpv.as_str(),
        title: &need.title,
        description: &need.description,
        quantity_milli: need.quantity_milli,
        unit: &need.unit,
        unit_price_cents: need.unit_price_cents,
        delivery_postcode: need.postcode.as_str(),
        window_start: need.window.start(),
        window_end: need.window.end(),
        budget_year: need.window.start().year(),
        poolable: need.poolable,
        status,
        provenance,
        created_by,
    }
}

fn reference_taken(
    conn: &mut AnyConnection,
    organisation_id: i32,
    external_ref: &str,
    except: Option<i32>,
) -> QueryResult<bool> {
    let mut query = needs::table
        .filter(needs::organisation_id.eq(organisation_id))
        .filter(needs::external_ref.eq(external_ref))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(needs::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// A client's idempotency key and the digest of its request body.
pub struct Idempotency<'a> {
    pub key: &'a str,
    pub request_hash: &'a str,
}

/// Creates a need of the actor's organisation, as a draft or submitted at once.
pub fn create(
    pool: &Pool,
    actor: &Actor,
    raw: &RawNeed,
    submit: bool,
) -> Result<NeedView, AppError> {
    create_once(pool, actor, raw, submit, None).map(|(need, _)| need)
}

/// Creates a need, once per idempotency key: a retry with the same key and body returns the
/// need the first call made (`true`: replayed), with another body it is refused.
pub fn create_once(
    pool: &Pool,
    actor: &Actor,
    raw: &RawNeed,
    submit: bool,
    idempotency: Option<Idempotency<'_>>,
) -> Result<(NeedView, bool), AppError> {
    use crate::db::schema::idempotency_keys as keys;
    let organisation_id = actor.require_member()?;
    if let Some(i) = &idempotency {
        if i.key.is_empty() || i.key.len() > 200 {
            return Err(AppError::validation(
                "Idempotency-Key",
                "une clé de 1 à 200 caractères",
            ));
        }
        let mut conn = pool.get()?;
        let earlier: Option<(String, i32)> = keys::table
            .find((actor.user_id, i.key))
            .select((keys::request_hash, keys::object_id))
            .first(&mut conn)
            .optional()?;
        if let Some((hash, id)) = earlier {
            if hash != i.request_hash {
                return Err(AppError::Conflict(
                    "Idempotency-Key : cette clé a déjà servi pour une autre requête".into(),
                ));
            }
            return load(&mut conn, organisation_id, id).map(|need| (need, true));
        }
    }
    let need = validate(raw).map_err(invalid)?;
    let status = if submit { "submitted" } else { "draft" };
    let mut conn = pool.get()?;
    let created = write_transaction(&mut conn, |conn| {
        if let Some(r) = &need.external_ref {
            if reference_taken(conn, organisation_id, r, None)? {
                return Err(AppError::Conflict(format!(
                    "need_id : votre organisation a déjà un besoin de référence « {r} »"
                )));
            }
        }
        let id: i32 = diesel::insert_into(needs::table)
            .values(insertable(
                &need,
                organisation_id,
                status,
                None,
                Some(actor.user_id),
            ))
            .returning(needs::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("need.created", "need", id).after(format!("{status} {}", need.title)),
        )?;
        if let Some(i) = &idempotency {
            // A concurrent twin inserts the same key: one of the two transactions fails on
            // the primary key and creates nothing.
            diesel::insert_into(keys::table)
                .values((
                    keys::user_id.eq(actor.user_id),
                    keys::key.eq(i.key),
                    keys::request_hash.eq(i.request_hash),
                    keys::object_type.eq("need"),
                    keys::object_id.eq(id),
                ))
                .execute(conn)
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => AppError::Conflict(
                        "Idempotency-Key : une requête avec cette clé est en cours ; réessayez"
                            .into(),
                    ),
                    other => other.into(),
                })?;
        }
        load(conn, organisation_id, id)
    });
    created.map(|need| (need, false))
}

fn load(conn: &mut AnyConnection, organisation_id: i32, id: i32) -> Result<NeedView, AppError> {
    let need: Need = needs::table
        .find(id)
        .filter(needs::organisation_id.eq(organisation_id))
        .select(Need::as_select())
        .first(conn)?;
    let code = code_of(conn, organisation_id)?;
    Ok(view(need, &code))
}

/// One need of the actor's organisation (404 for any other).
pub fn get(pool: &Pool, actor: &Actor, id: i32) -> Result<NeedView, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    load(&mut conn, organisation_id, id)
}

/// The need, locked for a change, when the actor's organisation owns it and it can still be
/// changed.
fn editable(conn: &mut AnyConnection, organisation_id: i32, id: i32) -> Result<Need, AppError> {
    let need: Need = needs::table
        .find(id)
        .filter(needs::organisation_id.eq(organisation_id))
        .select(Need::as_select())
        .first(conn)?;
    match NeedStatus::parse(&need.status) {
        Some(status) if status.editable() => Ok(need),
        Some(NeedStatus::Pooled) => Err(AppError::Conflict(
            "ce besoin est « mutualisé » : il fait partie d'une consultation que les membres \
             approuvent, calculée avec ses quantités et ses prix ; il ne peut plus être modifié — \
             demandez au responsable achats qui la coordonne de la renvoyer"
                .into(),
        )),
        status => Err(AppError::Conflict(format!(
            "ce besoin est « {} » : il fait partie d'un lot approuvé ou n'est plus actif, il ne \
             peut plus être modifié",
            status.map_or("inconnu", NeedStatus::label_fr)
        ))),
    }
}

/// Replaces a need's fields (its status stays).
pub fn update(pool: &Pool, actor: &Actor, id: i32, raw: &RawNeed) -> Result<NeedView, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        // Someone else's need is "not found" whatever the body says.
        let before = editable(conn, organisation_id, id)?;
        let need = validate(raw).map_err(invalid)?;
        if let Some(r) = &need.external_ref {
            if reference_taken(conn, organisation_id, r, Some(id))? {
                return Err(AppError::Conflict(format!(
                    "need_id : votre organisation a déjà un besoin de référence « {r} »"
                )));
            }
        }
        let row = insertable(
            &need,
            organisation_id,
            &before.status,
            None,
            before.created_by,
        );
        diesel::update(needs::table.find(id))
            .set((
                needs::external_ref.eq(row.external_ref),
                needs::cpv_code.eq(row.cpv_code),
                needs::title.eq(row.title),
                needs::description.eq(row.description),
                needs::quantity_milli.eq(row.quantity_milli),
                needs::unit.eq(row.unit),
                needs::unit_price_cents.eq(row.unit_price_cents),
                needs::delivery_postcode.eq(row.delivery_postcode),
                needs::window_start.eq(row.window_start),
                needs::window_end.eq(row.window_end),
                needs::budget_year.eq(row.budget_year),
                needs::poolable.eq(row.poolable),
                needs::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("need.updated", "need", id).before_after(
                format!(
                    "{} {} × {}",
                    before.cpv_code, before.quantity_milli, before.unit_price_cents
                ),
                format!(
                    "{} {} × {}",
                    need.cpv.as_str(),
                    need.quantity_milli,
                    need.unit_price_cents
                ),
            ),
        )?;
        load(conn, organisation_id, id)
    })
}

/// Moves needs of the actor's organisation from `from` to `to` (withdraw, submit); every one
/// must be movable, or nothing moves.
fn transition(pool: &Pool, actor: &Actor, ids: &[i32], to: NeedStatus) -> Result<usize, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        move_needs(conn, actor.into(), organisation_id, ids, to)
    })
}

/// Moves needs of an organisation to `to`, each by a conditional update on the statuses the
/// life cycle allows it from (`NeedStatus::can_move_to`), audited; the first need that may not
/// move refuses the whole (the caller's transaction is undone), with a message saying why.
pub fn move_needs(
    conn: &mut AnyConnection,
    actor: audit::Author<'_>,
    organisation_id: i32,
    ids: &[i32],
    to: NeedStatus,
) -> Result<usize, AppError> {
    let from = NeedStatus::predecessors(to);
    for &id in ids {
        let before: String = needs::table
            .find(id)
            .filter(needs::organisation_id.eq(organisation_id))
            .select(needs::status)
            .first(conn)?;
        let moved = diesel::update(
            needs::table
                .find(id)
                .filter(needs::organisation_id.eq(organisation_id))
                .filter(needs::status.eq_any(&from)),
        )
        .set((
            needs::status.eq(to),
            needs::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
        if moved != 1 {
            let label = NeedStatus::parse(&before).map_or("inconnu", NeedStatus::label_fr);
            let why = match NeedStatus::parse(&before) {
                Some(NeedStatus::Pooled) => {
                    " : il fait partie d'une consultation que les membres approuvent ; demandez au \
                     responsable achats qui la coordonne de la renvoyer"
                }
                _ => "",
            };
            return Err(AppError::Conflict(format!(
                "le besoin {id} est « {label} » : il ne peut pas devenir « {} »{why}",
                to.label_fr()
            )));
        }
        audit::record(
            conn,
            actor,
            Change::new("need.status_changed", "need", id).before_after(before, to.code()),
        )?;
    }
    Ok(ids.len())
}

/// Moves the needs of a tender or a lot together (pooling, approval, award), whatever their
/// organisations: only those whose status may move to `to` move, in one conditional update;
/// the caller says what a shorter count means. Returns how many moved.
pub fn move_needs_together(
    conn: &mut AnyConnection,
    ids: &[i32],
    to: NeedStatus,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        needs::table
            .filter(needs::id.eq_any(ids))
            .filter(needs::status.eq_any(NeedStatus::predecessors(to))),
    )
    .set(needs::status.eq(to))
    .execute(conn)?)
}

pub fn withdraw(pool: &Pool, actor: &Actor, id: i32) -> Result<NeedView, AppError> {
    transition(pool, actor, &[id], NeedStatus::Withdrawn)?;
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    load(&mut conn, organisation_id, id)
}

/// Submits drafts for pooling, all or none.
pub fn submit(pool: &Pool, actor: &Actor, ids: &[i32]) -> Result<usize, AppError> {
    transition(pool, actor, ids, NeedStatus::Submitted)
}

/// Filters of a list of needs; every field optional.
#[derive(
    Debug, Default, Clone, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::IntoParams,
)]
#[into_params(parameter_in = Query)]
pub struct NeedFilter {
    #[serde(default)]
    pub status: String,
    /// Start of the CPV code (`33`, `3314`, …).
    #[serde(default)]
    pub cpv: String,
    #[serde(default)]
    pub year: Option<i32>,
    /// Needs whose delivery window meets `[from, to]`.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusTotal {
    pub status: String,
    pub count: i64,
    pub value_eur: f64,
}

/// Count and value of needs of one CPV division (the dashboard card).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DivisionTotal {
    pub division: String,
    pub label: String,
    pub count: i64,
    pub value_eur: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NeedList {
    pub needs: Vec<NeedView>,
    pub total: i64,
    pub total_value_eur: f64,
    pub by_status: Vec<StatusTotal>,
    pub by_division: Vec<DivisionTotal>,
    pub page: i64,
    pub pages: i64,
    pub per_page: i64,
}

pub const STATUSES: [&str; 7] = [
    "draft",
    "submitted",
    "pooled",
    "tendered",
    "awarded",
    "withdrawn",
    "unsuccessful",
];

/// One page of the actor's organisation's needs, newest first, with the count and value of
/// every matching need by status; served again from `cache` while the organisation's needs
/// are unchanged.
pub fn list(
    pool: &Pool,
    cache: &ListCache,
    actor: &Actor,
    filter: &NeedFilter,
) -> Result<Arc<NeedList>, AppError> {
    let organisation = actor.require_member()?;
    let Some(version) = actor.needs_version else {
        return list_at_most(pool, actor, filter, 500).map(Arc::new);
    };
    let key = (organisation, filter.clone());
    if let Some(list) = cache.get(&key, version) {
        return Ok(list);
    }
    let list = Arc::new(list_at_most(pool, actor, filter, 500)?);
    if list.needs.len() <= ListCache::MOST_ROWS {
        cache.put(key, version, list.clone());
    }
    Ok(list)
}

/// The needs lists computed lately, by organisation and filter, each with the version of the
/// organisation's needs it was computed at. That version (`organisations.needs_version`) is
/// raised by the database itself whenever one of the organisation's needs changes, in the
/// transaction that changes it, and is read with the credential of each request
/// ([`Actor::needs_version`]): a list is served again only if the version is still the same,
/// so every instance of the portal, each with its own cache, shows every committed change at
/// once. A list is computed after its actor's version was read: it is at least that recent.
#[derive(Debug, Default)]
pub struct ListCache {
    lists: Mutex<HashMap<ListKey, (i64, Arc<NeedList>)>>,
}

type ListKey = (i32, NeedFilter);

impl ListCache {
    /// How many lists are kept (about 30 KB each for a page of 50): beyond, all are dropped.
    const CAPACITY: usize = 256;
    /// Longer pages (up to 500) are not kept: at most about 15 MB in all.
    const MOST_ROWS: usize = 100;

    fn get(&self, key: &ListKey, version: i64) -> Option<Arc<NeedList>> {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        match lists.get(key) {
            Some((at, list)) if *at == version => Some(list.clone()),
            _ => None,
        }
    }

    fn put(&self, key: ListKey, version: i64, list: Arc<NeedList>) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        // (A request that read an older version and finished later does not replace a newer list.)
        if lists.get(&key).is_some_and(|(at, _)| *at > version) {
            return;
        }
        if lists.len() >= Self::CAPACITY && !lists.contains_key(&key) {
            lists.clear();
        }
        lists.insert(key, (version, list));
    }
}

/// [`list`], with pages of up to `most` needs.
fn list_at_most(
    pool: &Pool,
    actor: &Actor,
    filter: &NeedFilter,
    most: i64,
) -> Result<NeedList, AppError> {
    let organisation_id = actor.require_member()?;
    let status = filter.status.trim();
    if !status.is_empty() && !STATUSES.contains(&status) {
        return Err(AppError::validation(
            "status",
            format!("« {status} » n'est pas un statut ({})", STATUSES.join(", ")),
        ));
    }
    let cpv = filter.cpv.trim();
    if !cpv.bytes().all(|b| b.is_ascii_digit()) || cpv.len() > 8 {
        return Err(AppError::validation(
            "cpv",
            "un début de code CPV : de 1 à 8 chiffres",
        ));
    }
    let day = |field: &'static str, text: &str| match text.trim() {
        "" => Ok(None),
        t => parse_date(t)
            .map(Some)
            .map_err(|e| AppError::validation(field, e.0)),
    };
    let (from, to) = (day("from", &filter.from)?, day("to", &filter.to)?);
    let per_page = filter.per_page.unwrap_or(50).clamp(1, most);
    // The filter, once for the totals and once for the page.
    type Predicate<'a> =
        Box<dyn BoxableExpression<needs::table, MultiBackend, SqlType = Bool> + 'a>;
    let matching = || -> Predicate<'_> {
        let mut p: Predicate<'_> = Box::new(needs::organisation_id.eq(organisation_id));
        if !status.is_empty() {
            p = Box::new(p.and(needs::status.eq(status.to_string())));
        }
        if !cpv.is_empty() {
            p = Box::new(p.and(needs::cpv_code.like(format!("{cpv}%"))));
        }
        if let Some(year) = filter.year {
            p = Box::new(p.and(needs::budget_year.eq(year)));
        }
        if let Some(from) = from {
            p = Box::new(p.and(needs::window_end.ge(from)));
        }
        if let Some(to) = to {
            p = Box::new(p.and(needs::window_start.le(to)));
        }
        p
    };
    let mut conn = pool.get()?;
    // Count and value by status and CPV code over every matching need, summed by the database
    // (from the index `needs_org_totals` alone when unfiltered).
    let groups: Vec<(String, String, i64, i64)> = needs::table
        .filter(matching())
        .group_by((needs::status, needs::cpv_code))
        .select((
            needs::status,
            needs::cpv_code,
            diesel::dsl::count_star(),
            SumOfValues,
        ))
        .load(&mut conn)?;
    let mut divisions: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for (_, code, count, cents) in &groups {
        let entry = divisions.entry(code.get(..2).unwrap_or("")).or_default();
        entry.0 += count;
        entry.1 += cents;
    }
    let catalog = CpvCatalog::embedded();
    let mut by_division: Vec<DivisionTotal> = divisions
        .into_iter()
        .map(|(division, (count, cents))| DivisionTotal {
            label: catalog
                .get(&format!("{division}000000"))
                .map(|e| e.label_fr.clone())
                .unwrap_or_default(),
            division: division.to_string(),
            count,
            value_eur: cents as f64 / 100.0,
        })
        .collect();
    by_division.sort_by(|a, b| b.value_eur.total_cmp(&a.value_eur));
    let mut by_status: Vec<StatusTotal> = Vec::new();
    let total: i64 = groups.iter().map(|(_, _, count, _)| count).sum();
    let mut total_cents = 0i64;
    for status in STATUSES {
        let (count, cents) = groups
            .iter()
            .filter(|(s, _, _, _)| s == status)
            .fold((0, 0), |(n, c), (_, _, count, cents)| {
                (n + count, c + cents)
            });
        total_cents += cents;
        if count > 0 {
            by_status.push(StatusTotal {
                status: status.to_string(),
                count,
                value_eur: cents as f64 / 100.0,
            });
        }
    }
    let pages = match total {
        0 => 1,
        n => (n - 1) / per_page + 1,
    };
    let page = filter.page.unwrap_or(1).clamp(1, pages);
    let rows: Vec<Need> = needs::table
        .filter(matching())
        .order(needs::id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select(Need::as_select())
        .load(&mut conn)?;
    // (The actor carries its organisation's code: no query for it.)
    let code = match &actor.organisation {
        Some(code) => code.clone(),
        None => code_of(&mut conn, organisation_id)?,
    };
    Ok(NeedList {
        needs: rows.into_iter().map(|n| view(n, &code)).collect(),
        total,
        total_value_eur: total_cents as f64 / 100.0,
        by_status,
        by_division,
        page,
        pages,
        per_page,
    })
}

/// `SUM` of the needs' values in cents, each rounded to the cent first as [`value_cents`] does
/// (values are never negative, so SQL's integer division rounds as Rust's does); within 64 bits
/// thanks to [`MAX_NEED_VALUE_CENTS`]. A typed expression rather than `sql()` text so that the
/// statement is prepared once per connection (diesel never caches `sql()`), and `CAST` because
/// PostgreSQL's `SUM` of a `BIGINT` is a `NUMERIC`.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct SumOfValues;

impl Expression for SumOfValues {
    type SqlType = BigInt;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for SumOfValues {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("CAST(SUM((quantity_milli * unit_price_cents + 500) / 1000) AS BIGINT)");
        Ok(())
    }
}

impl diesel::expression::AppearsOnTable<needs::table> for SumOfValues {}
impl diesel::expression::SelectableExpression<needs::table> for SumOfValues {}
impl<GroupBy> diesel::expression::ValidGrouping<GroupBy> for SumOfValues {
    type IsAggregate = diesel::expression::is_aggregate::Yes;
}

/// Every need matching the filter (for exports), newest first.
pub fn all_matching(
    pool: &Pool,
    actor: &Actor,
    filter: &NeedFilter,
) -> Result<Vec<NeedView>, AppError> {
    // (Every one: `list` pages by 500 at most, and an export is not a page.)
    let mut everything = filter.clone();
    everything.page = Some(1);
    everything.per_page = Some(i64::MAX);
    list_at_most(pool, actor, &everything, i64::MAX).map(|l| l.needs)
}

/// A new need's fields copied from one of the organisation's needs, a year later (the same
/// purchase for next year): no reference, delivery window moved by a year.
pub fn copy_for_next_year(pool: &Pool, actor: &Actor, id: i32) -> Result<RawNeed, AppError> {
    let need = get(pool, actor, id)?;
    let next = |d: NaiveDate| {
        d.with_year(d.year() + 1)
            .or_else(|| d.pred_opt().and_then(|p| p.with_year(p.year() + 1)))
            .unwrap_or(d)
    };
    Ok(RawNeed {
        need_id: String::new(),
        cpv: need.cpv,
        title: need.title,
        description: need.description,
        quantity: french_number(need.quantity),
        unit: need.unit,
        unit_price_eur: french_number(need.unit_price_eur),
        delivery_postcode: need.delivery_postcode,
        window_start: next(need.window_start).format("%d/%m/%Y").to_string(),
        window_end: next(need.window_end).format("%d/%m/%Y").to_string(),
        poolable: if need.poolable { "oui" } else { "non" }.into(),
    })
}

/// A number as French spreadsheets write it (decimal comma, no needless zeros).
pub fn french_number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.replace('.', ",")
}

/// The form fields of an existing need.
pub fn raw_of(need: &NeedView) -> RawNeed {
    RawNeed {
        need_id: need.need_id.clone().unwrap_or_default(),
        cpv: need.cpv.clone(),
        title: need.title.clone(),
        description: need.description.clone(),
        quantity: french_number(need.quantity),
        unit: need.unit.clone(),
        unit_price_eur: french_number(need.unit_price_eur),
        delivery_postcode: need.delivery_postcode.clone(),
        window_start: need.window_start.format("%d/%m/%Y").to_string(),
        window_end: need.window_end.format("%d/%m/%Y").to_string(),
        poolable: if need.poolable { "oui" } else { "non" }.into(),
    }
}

/// Why an import stored nothing.
#[derive(Debug)]
pub enum ImportError {
    /// Every bad row, `row N: field: message`.
    Rows(Vec<RowError>),
    Other(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Other(e)
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Other(e.into())
    }
}

/// Who imports: a signed-in buyer or lead (page, API), or the command line for an
/// organisation named by its code.
pub enum Importer<'a> {
    Actor(&'a Actor),
    CommandLine { organisation: &'a str },
}

/// A row to import: its number (spreadsheet row, or position in an API list), the buyer it
/// names (may be empty) and the need.
pub struct ImportRow {
    pub number: usize,
    pub buyer: String,
    pub need: RawNeed,
}

/// The rows of a needs table.
pub fn rows_of(table: &Table) -> Vec<ImportRow> {
    table
        .rows
        .iter()
        .map(|row| {
            let cell = |name: &str| table.cell(row, name).to_string();
            ImportRow {
                number: row.number,
                buyer: cell("buyer"),
                need: RawNeed {
                    need_id: cell("need_id"),
                    cpv: cell("cpv"),
                    title: cell("title"),
                    description: cell("description"),
                    quantity: cell("quantity"),
                    unit: cell("unit"),
                    unit_price_eur: cell("unit_price_eur"),
                    delivery_postcode: cell("delivery_postcode"),
                    window_start: cell("window_start"),
                    window_end: cell("window_end"),
                    poolable: cell("poolable"),
                },
            }
        })
        .collect()
}

/// Imports rows as submitted needs of one organisation, all or nothing.
pub fn import(
    pool: &Pool,
    importer: Importer<'_>,
    rows: &[ImportRow],
) -> Result<usize, ImportError> {
    let mut conn = pool.get().map_err(AppError::from)?;
    let (organisation_id, actor_id, label) = match importer {
        Importer::Actor(actor) => (
            actor.require_member()?,
            Some(actor.user_id),
            actor.email.clone(),
        ),
        Importer::CommandLine { organisation } => {
            let code = organisation.trim().to_uppercase();
            let id: Option<i32> = organisations::table
                .filter(organisations::code.eq(&code))
                .select(organisations::id)
                .first(&mut conn)
                .optional()?;
            let id = id.ok_or_else(|| {
                AppError::validation("--org", format!("aucune organisation n'a le code {code}"))
            })?;
            (id, None, "ligne de commande".to_string())
        }
    };
    let code = code_of(&mut conn, organisation_id)?;
    let mut errors: Vec<RowError> = Vec::new();
    let mut valid: Vec<ValidNeed> = Vec::with_capacity(rows.len());
    let mut seen = std::collections::HashMap::new();
    for row in rows {
        let (raw, buyer) = (&row.need, row.buyer.trim());
        if !buyer.is_empty() && !buyer.eq_ignore_ascii_case(&code) {
            errors.push(RowError::new(
                row.number,
                "buyer",
                format!("le fichier est importé pour {code}, cette ligne est pour {buyer}"),
            ));
        }
        if let Some(r) = Some(raw.need_id.trim()).filter(|r| !r.is_empty()) {
            if let Some(first) = seen.insert(r.to_string(), row.number) {
                errors.push(RowError::new(
                    row.number,
                    "need_id",
                    format!("« {r} » est déjà à la ligne {first}"),
                ));
            }
        }
        match validate(raw) {
            Ok(need) => valid.push(need),
            Err(problems) => errors.extend(
                problems
                    .into_iter()
                    .map(|(field, message)| RowError::new(row.number, field, message)),
            ),
        }
    }
    if rows.is_empty() {
        errors.push(RowError::new(
            1,
            "file",
            "le fichier ne contient aucune ligne de besoin",
        ));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ImportError::Rows(errors));
    }
    let provenance = format!("import du {}", Utc::now().format("%Y-%m-%d %H:%M UTC"));
    write_transaction(&mut conn, |conn| {
        // References already stored: checked inside the transaction, then inserted in batches.
        let mut taken: Vec<RowError> = Vec::new();
        for (need, row) in valid.iter().zip(rows) {
            if let Some(r) = &need.external_ref {
                if reference_taken(conn, organisation_id, r, None)? {
                    taken.push(RowError::new(
                        row.number,
                        "need_id",
                        format!("{code} a déjà un besoin de référence « {r} »"),
                    ));
                }
            }
        }
        if !taken.is_empty() {
            return Err(ImportError::Rows(taken));
        }
        for chunk in valid.chunks(500) {
            let rows: Vec<NewNeed> = chunk
                .iter()
                .map(|n| insertable(n, organisation_id, "submitted", Some(&provenance), actor_id))
                .collect();
            crate::per_backend!(conn, c => diesel::insert_into(needs::table).values(&rows).execute(c))?;
        }
        audit::record(
            conn,
            audit::Author {
                user_id: actor_id,
                label: &label,
            },
            Change::new("need.imported", "organisation", organisation_id)
                .after(format!("{} besoins", valid.len())),
        )?;
        Ok(valid.len())
    })
}
