//! Publication by the coordinator's lead: award criteria and deadline (the minimum period of
//! the tender's own procedure, from the settings in force), then the suppliers told — the
//! territory's first — one by one or in their daily digest.

#[allow(unused_imports)]
use super::*;

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
    /// Urgency declared (non-empty when ticked): answers to questions are due four days before
    /// the deadline instead of six (R2132-6).
    #[serde(default)]
    pub urgent: String,
    /// How many keys open the bids (empty: two for a joint tender, one for a single member).
    #[serde(default)]
    pub opening_threshold: String,
}

/// What a tender lacks to be published, in a sentence.
pub fn missing_text(missing: &[&str]) -> String {
    format!(
        "le dossier de consultation doit comprendre : {} — ajoutez ces pièces dans « Documents de \
         la consultation » en choisissant leur nature",
        missing.join(" ; ")
    )
}

/// A weight as the journal writes it (`—` when absent).
fn shown<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or("—".to_string(), |v| v.to_string())
}

/// Publishes an approved tender: announced weights (an environmental criterion is required:
/// L2152-7 from 21 August 2026), optional cap and its rule, a deadline no earlier than the
/// procedure's minimum period; writes the e-mails to the opted-in territorial suppliers whose
/// interests match a lot, in the same transaction. Returns how many were notified.
/// A publication form read: weights, cap and its rule, the deadline (12:00 Paris time).
pub struct CheckedPublication {
    pub price: Option<i32>,
    pub quality: Option<i32>,
    pub environment: Option<i32>,
    pub cap: Option<i32>,
    pub rule: Option<String>,
    pub deadline: chrono::NaiveDateTime,
    pub urgent: bool,
    pub opening_threshold: Option<u8>,
}

/// What the form says, every problem named by its field; the minimum period, which depends on
/// the tender and the settings of the day, is checked by [`publish`].
pub fn check_publication(form: &Publication) -> Result<CheckedPublication, AppError> {
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
    let opening_threshold = problems
        .check(
            "clés pour ouvrir",
            super::parse_threshold(&form.opening_threshold),
        )
        .flatten();
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
    Ok(CheckedPublication {
        price,
        quality,
        environment,
        cap,
        rule,
        deadline,
        urgent: !form.urgent.trim().is_empty(),
        opening_threshold,
    })
}

pub fn publish(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    tender_id: i32,
    form: &Publication,
) -> Result<usize, AppError> {
    let organisation_id = actor.require_lead()?;
    let CheckedPublication {
        price,
        quality,
        environment,
        cap,
        rule,
        deadline,
        urgent,
        opening_threshold,
    } = check_publication(form)?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if status != "approved" {
            return Err(AppError::Conflict(format!(
                "la consultation est « {status} » : seule une consultation approuvée par tous ses membres se publie"
            )));
        }
        // No consultation without its file: the rules and a price schedule at least.
        let missing = missing_documents(conn, tender_id)?;
        if !missing.is_empty() {
            return Err(AppError::validation("documents", missing_text(&missing)));
        }
        let (reference, title, procedure): (String, String, String) = tenders::table
            .find(tender_id)
            .select((tenders::reference, tenders::title, tenders::procedure))
            .first(conn)?;
        let in_force = crate::services::settings::today(conn)?;
        let min_days = minimum_days(conn, tender_id, &in_force)?;
        let now = Utc::now().naive_utc();
        let earliest = now + Duration::days(i64::from(min_days));
        if deadline < earliest {
            return Err(AppError::validation(
                "date limite",
                format!(
                    "la procédure ({}) impose au moins {min_days} jours après la publication : pas avant le {}",
                    crate::services::public::procedure_label(&procedure),
                    (earliest + Duration::days(1)).format("%d/%m/%Y")
                ),
            ));
        }
        // The bids' key, shared between the members (refused when one has no opening key).
        let sealing = super::seal_tender(conn, tender_id, opening_threshold)?;
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
                tenders::urgent.eq(urgent),
            ))
            .execute(conn)?;
        // A formal procedure is announced in the Official Journal: its eForms contract notice,
        // or the publication refused with the rules the notice would break.
        let notice =
            crate::services::notices::record_contract_notice(conn, tender_id, base_url, now)?;
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
                "{reference} : prix {} %, qualité {} %, environnement {} %, {} ; date limite {}{} ; {notified} entreprise(s) prévenue(s)",
                shown(price),
                shown(quality),
                shown(environment),
                cap.map_or("sans plafond de lots".to_string(), |c| format!("{c} lot(s) au plus par entreprise")),
                crate::domain::paris_text(deadline),
                if urgent { " ; urgence déclarée" } else { "" }
            ) + &format!(
                " ; offres chiffrées, ouvertes par {} clé(s) sur {} ({})",
                sealing.threshold,
                sealing.holders.len(),
                sealing.holders.join(", ")
            ) + &notice.map_or(String::new(), |id| format!(" ; avis européen eForms {id} à envoyer"))),
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
pub(super) fn minimum_days(
    conn: &mut AnyConnection,
    tender_id: i32,
    in_force: &crate::services::settings::ProcurementSettings,
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
pub(super) fn notify_suppliers(
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
pub(crate) fn unsubscribe_link(
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
pub(super) type DigestTender = (String, String, Option<NaiveDateTime>, Vec<String>);

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
        let territory = crate::services::settings::in_force(conn, day)?.territory;
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
