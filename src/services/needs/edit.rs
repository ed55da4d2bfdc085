//! A need as a buyer types it: validation (every problem named), creation (once per
//! idempotency key or reference), reading, and change while it is still editable.

#[allow(unused_imports)]
use super::*;

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
pub(super) fn invalid(found: Vec<(&'static str, String)>) -> AppError {
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
    /// Its title is shown on the public purchase programme (the member's choice).
    pub title_public: bool,
}

pub(super) fn view(need: Need, buyer: &str) -> NeedView {
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
        title_public: need.title_public,
    }
}

/// Value of a need in cents: quantity (thousandths) × unit price (cents), rounded.
pub fn value_cents(quantity_milli: i64, unit_price_cents: i64) -> i64 {
    ((i128::from(quantity_milli) * i128::from(unit_price_cents) + 500) / 1000) as i64
}

pub(super) fn code_of(conn: &mut AnyConnection, organisation_id: i32) -> QueryResult<String> {
    organisations::table
        .find(organisation_id)
        .select(organisations::code)
        .first(conn)
}

pub(super) fn insertable<'a>(
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

pub(super) fn reference_taken(
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

pub(super) fn load(
    conn: &mut AnyConnection,
    organisation_id: i32,
    id: i32,
) -> Result<NeedView, AppError> {
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
pub(super) fn editable(
    conn: &mut AnyConnection,
    organisation_id: i32,
    id: i32,
) -> Result<Need, AppError> {
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
