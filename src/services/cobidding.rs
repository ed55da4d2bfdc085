//! The co-bidding exchange (#24): on a planned purchase of the programme or a published lot, a
//! company offers its part (a share of the value, within what it can deliver, in the
//! departments it serves) or looks for partners for the rest. The exchange proposes
//! complementary companies whose parts together reach the purchase (the matching model of
//! `groupement_solver::teams`), and companies ask each other, through the platform, to answer
//! together: the request goes by e-mail through the outbox, without the sender's address; when
//! the other accepts, both see each other's address. Companies linked by accepted requests on
//! a target form a **team**, which the pooling engine may count as one bidder with their
//! combined capacity (`Params::count_sourcing`).

use crate::auth::Actor;
use crate::db::schema::{cobidding_contacts, cobidding_posts, lots, needs, suppliers, tenders};
use crate::db::{write_transaction, AnyConnection, Pool};
use crate::domain::Cents;
use crate::error::{AppError, Problems};
use crate::services::audit::{self, Change};
use crate::services::programme::{self, PlannedPurchase};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use groupement_solver::teams::{self, Partner, Target};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The longest part, note and message, in characters.
pub const PART_CHARS: usize = 200;
pub const NOTE_CHARS: usize = 1000;
pub const MESSAGE_CHARS: usize = 2000;
/// The most companies a proposed team has, and how many proposals a page shows.
pub const TEAM_SIZE: usize = 4;
pub const PROPOSALS: usize = 5;

/// What a team answers: a planned purchase or a published lot.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeTarget {
    pub key: String,
    pub label: String,
    /// `achat prévu` or `lot publié`.
    pub kind: &'static str,
    pub cpv: String,
    /// The value as it is public: a band for a planned purchase, the estimate of a published
    /// lot.
    pub value: String,
    /// The value teams must reach, in cents: a published lot's estimate; for a planned
    /// purchase the lower edge of its band (the upper one for the lowest band).
    #[serde(skip)]
    pub reach_cents: i64,
    /// Delivery departments, when known (a published lot's).
    pub departments: Vec<String>,
    /// Where the target is described.
    pub link: String,
    pub members: String,
}

fn planned(p: &PlannedPurchase) -> ExchangeTarget {
    ExchangeTarget {
        key: p.key.clone(),
        label: format!("{} ({})", p.label, p.unit),
        kind: "achat prévu",
        cpv: p.cpv.clone(),
        value: p.value_band.clone(),
        reach_cents: p.reach_cents,
        departments: Vec::new(),
        link: format!("/programme-achats#{}", programme::anchor(&p.key)),
        members: p.members.join(", "),
    }
}

/// The target of a key: a purchase still on the programme, or `lot:<reference>:<number>` of a
/// tender published and still open to bids. Anything else: not found.
pub fn target(pool: &Pool, key: &str) -> Result<ExchangeTarget, AppError> {
    if key.is_empty() || key.len() > 300 {
        return Err(AppError::NotFound);
    }
    if let Some(rest) = key.strip_prefix("lot:") {
        let (reference, number) = rest.rsplit_once(':').ok_or(AppError::NotFound)?;
        let number: i32 = number.parse().map_err(|_| AppError::NotFound)?;
        let mut conn = pool.get()?;
        return published_lot(&mut conn, reference, number)?.ok_or(AppError::NotFound);
    }
    programme::current(pool)?
        .iter()
        .find(|p| p.key == key)
        .map(planned)
        .ok_or(AppError::NotFound)
}

fn published_lot(
    conn: &mut AnyConnection,
    reference: &str,
    number: i32,
) -> QueryResult<Option<ExchangeTarget>> {
    let now = Utc::now().naive_utc();
    let found: Option<(i32, String, String, String, i64, Option<NaiveDateTime>)> = lots::table
        .inner_join(tenders::table)
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq("published"))
        .filter(lots::number.eq(number))
        .select((
            lots::id,
            tenders::title,
            lots::title,
            lots::cpv_code,
            lots::value_cents,
            tenders::deadline,
        ))
        .first(conn)
        .optional()?;
    let Some((lot_id, tender_title, lot_title, cpv, value, deadline)) = found else {
        return Ok(None);
    };
    if deadline.is_some_and(|d| d <= now) {
        return Ok(None);
    }
    let postcodes: Vec<String> = crate::db::schema::lot_needs::table
        .inner_join(needs::table)
        .filter(crate::db::schema::lot_needs::lot_id.eq(lot_id))
        .select(needs::delivery_postcode)
        .load(conn)?;
    let departments: BTreeSet<String> = postcodes
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| groupement_solver::pooling::family::department_of(p))
        .collect();
    Ok(Some(ExchangeTarget {
        key: format!("lot:{reference}:{number}"),
        label: format!("{tender_title} — lot {number} : {lot_title}"),
        kind: "lot publié",
        cpv,
        value: Cents::new(value).to_string(),
        reach_cents: value,
        departments: departments.into_iter().collect(),
        link: format!("/appels-d-offres/{reference}"),
        members: String::new(),
    }))
}

/// A company's entry on the exchange, as it types it.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct PostForm {
    #[serde(default)]
    pub cible: String,
    /// `offer` or `search`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub part: String,
    /// The CPV code of its part (by default the target's).
    #[serde(default)]
    pub part_cpv: String,
    /// Percent of the value, `1` to `100`.
    #[serde(default)]
    pub share: String,
    /// Euros excluding VAT.
    #[serde(default)]
    pub capacity: String,
    /// Department codes (`21 71`).
    #[serde(default)]
    pub departments: String,
    #[serde(default)]
    pub note: String,
}

/// Department codes of a text: `21`, `2A`, `971`; every other word named.
fn departments_of(p: &mut Problems, text: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for word in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        let ok = match word.len() {
            2 => word.bytes().all(|b| b.is_ascii_digit()) || word == "2A" || word == "2B",
            3 => word.starts_with("97") && word.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        if ok {
            out.insert(word.to_string());
        } else {
            p.add(
                "départements",
                format!(
                    "« {} » n'est pas un numéro de département (ex. 21 71)",
                    word.chars().take(20).collect::<String>()
                ),
            );
        }
    }
    if out.is_empty() && text.trim().is_empty() {
        p.add("départements", "au moins un département (ex. 21)");
    }
    out.into_iter().collect()
}

/// Records (or replaces) the company's entry on a target; every problem named by its field.
pub fn post(pool: &Pool, actor: &Actor, form: &PostForm) -> Result<(), AppError> {
    let supplier_id = actor.require_supplier()?;
    let target = target(pool, &form.cible)?;
    let mut problems = Problems::default();
    let kind = match form.kind.as_str() {
        "offer" | "search" => form.kind.clone(),
        _ => {
            problems.add(
                "annonce",
                "choisissez « je propose ma part » ou « je cherche des partenaires »",
            );
            String::new()
        }
    };
    let part = problems.text("part", &form.part, 1, PART_CHARS);
    let part_cpv = match form.part_cpv.trim() {
        "" => Some(target.cpv.clone()),
        code => problems.check(
            "code CPV de la part",
            crate::domain::CpvCode::parse(code, crate::domain::CpvCatalog::embedded())
                .map(|c| c.as_str().to_string())
                .map_err(|e| e.0),
        ),
    };
    let share = problems.check(
        "part de la valeur",
        form.share
            .trim()
            .trim_end_matches('%')
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|s| (1..=100).contains(s))
            .ok_or("un pourcentage entier de 1 à 100"),
    );
    let capacity = problems.check("capacité", Cents::parse_positive_euros(&form.capacity));
    let departments = departments_of(&mut problems, &form.departments);
    let note = problems.text("note", &form.note, 0, NOTE_CHARS);
    problems.finish()?;
    let (Some(share), Some(capacity)) = (share, capacity) else {
        return Err(AppError::internal("post checked without values"));
    };
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        diesel::delete(
            cobidding_posts::table
                .filter(cobidding_posts::target.eq(&target.key))
                .filter(cobidding_posts::supplier_id.eq(supplier_id)),
        )
        .execute(conn)?;
        diesel::insert_into(cobidding_posts::table)
            .values((
                cobidding_posts::target.eq(&target.key),
                cobidding_posts::supplier_id.eq(supplier_id),
                cobidding_posts::kind.eq(&kind),
                cobidding_posts::part.eq(&part),
                cobidding_posts::part_cpv.eq(part_cpv.as_deref().unwrap_or_default()),
                cobidding_posts::share_pct.eq(share),
                cobidding_posts::capacity_cents.eq(capacity.get()),
                cobidding_posts::departments.eq(departments.join(" ")),
                cobidding_posts::note.eq(&note),
                cobidding_posts::posted_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("cobidding.posted", "cobidding_target", &target.key).after(format!(
                "{kind} : {part} (CPV {}) ; {share} % ; capacité {capacity} ; départements {}",
                part_cpv.as_deref().unwrap_or_default(),
                departments.join(" ")
            )),
        )?;
        Ok(())
    })
}

/// Who the viewing company is to another company on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    None,
    /// We asked; they have not answered.
    Asked,
    /// They asked us; we have not answered.
    AskedUs,
    Partners,
    /// In our team through another partner, without an agreement with us.
    Team,
    Declined,
}

/// A company's entry as others read it.
#[derive(Debug, Clone, Serialize)]
pub struct PostRow {
    pub post_id: i32,
    pub supplier_id: i32,
    pub company: String,
    pub commune: String,
    pub sme: bool,
    pub local: bool,
    pub offer: bool,
    pub part: String,
    pub part_cpv: String,
    pub part_cpv_label: String,
    pub share_pct: i32,
    pub capacity: String,
    pub departments: String,
    pub note: String,
    pub ours: bool,
    pub relation: Relation,
    /// The pending request from this company to us, to answer.
    pub request: Option<Request>,
    /// Its address: only once both agreed.
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub id: i32,
    pub message: String,
}

/// A team proposed by the matching model.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub companies: Vec<String>,
    pub brings: String,
    pub local: usize,
    pub size: usize,
}

/// The exchange of one target, as a company sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub target: ExchangeTarget,
    pub posts: Vec<PostRow>,
    /// The viewing company's entry, to edit it.
    pub own: Option<PostForm>,
    pub proposals: Vec<ProposalView>,
    /// The viewing company's team on this target (its partners' names), when it has one.
    pub team: Vec<String>,
    /// The value teams must reach, as said to people.
    pub reach: String,
}

type PostData = (
    i32,
    i32,
    String,
    (String, String),
    i32,
    i64,
    String,
    String,
    (String, String, String, bool, String),
);

fn posts_of(conn: &mut AnyConnection, key: &str) -> QueryResult<Vec<PostData>> {
    cobidding_posts::table
        .inner_join(suppliers::table)
        .filter(cobidding_posts::target.eq(key))
        .order((cobidding_posts::posted_at, cobidding_posts::id))
        .select((
            cobidding_posts::id,
            cobidding_posts::supplier_id,
            cobidding_posts::kind,
            (cobidding_posts::part, cobidding_posts::part_cpv),
            cobidding_posts::share_pct,
            cobidding_posts::capacity_cents,
            cobidding_posts::departments,
            cobidding_posts::note,
            (
                suppliers::name,
                suppliers::commune,
                suppliers::department_code,
                suppliers::sme,
                suppliers::notification_email,
            ),
        ))
        .load(conn)
}

/// The accepted links on a target: who is partner with whom.
fn partner_links(conn: &mut AnyConnection, key: &str) -> QueryResult<Vec<(i32, i32)>> {
    cobidding_contacts::table
        .filter(cobidding_contacts::target.eq(key))
        .filter(cobidding_contacts::status.eq("accepted"))
        .select((
            cobidding_contacts::from_supplier,
            cobidding_contacts::to_supplier,
        ))
        .load(conn)
}

/// The teams of a target: companies linked by accepted requests (connected components of two
/// companies or more), each sorted, the teams by their first company.
pub fn teams_of(links: &[(i32, i32)]) -> Vec<Vec<i32>> {
    let mut parent: BTreeMap<i32, i32> = BTreeMap::new();
    fn root(parent: &mut BTreeMap<i32, i32>, x: i32) -> i32 {
        let mut r = x;
        while let Some(&p) = parent.get(&r) {
            if p == r {
                break;
            }
            r = p;
        }
        parent.insert(x, r);
        r
    }
    for &(a, b) in links {
        parent.entry(a).or_insert(a);
        parent.entry(b).or_insert(b);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent.insert(ra.max(rb), ra.min(rb));
        }
    }
    let ids: Vec<i32> = parent.keys().copied().collect();
    let mut by_root: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for id in ids {
        let r = root(&mut parent, id);
        by_root.entry(r).or_default().push(id);
    }
    by_root.into_values().filter(|t| t.len() > 1).collect()
}

/// The exchange of a target for a company: the entries, the relation of each to it, the
/// proposals of the matching model for it, its team.
pub fn exchange(pool: &Pool, actor: &Actor, key: &str) -> Result<Exchange, AppError> {
    let me = actor.require_supplier()?;
    let target = target(pool, key)?;
    let mut conn = pool.get()?;
    let territory = crate::services::settings::today(&mut conn)?;
    let rows = posts_of(&mut conn, &target.key)?;
    let contacts: Vec<(i32, i32, i32, String, String)> = cobidding_contacts::table
        .filter(cobidding_contacts::target.eq(&target.key))
        .filter(
            cobidding_contacts::from_supplier
                .eq(me)
                .or(cobidding_contacts::to_supplier.eq(me)),
        )
        .select((
            cobidding_contacts::id,
            cobidding_contacts::from_supplier,
            cobidding_contacts::to_supplier,
            cobidding_contacts::status,
            cobidding_contacts::message,
        ))
        .load(&mut conn)?;
    let links = partner_links(&mut conn, &target.key)?;
    let my_team: BTreeSet<i32> = teams_of(&links)
        .into_iter()
        .find(|t| t.contains(&me))
        .map(|t| t.into_iter().collect())
        .unwrap_or_default();
    let mut own = None;
    let mut posts = Vec::new();
    let mut partners = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let catalog = crate::domain::CpvCatalog::embedded();
    for (
        post_id,
        supplier_id,
        kind,
        (part, part_cpv),
        share,
        capacity,
        departments,
        note,
        company,
    ) in rows
    {
        let part_cpv_label = catalog
            .get(&part_cpv)
            .map(|e| e.label_fr.clone())
            .unwrap_or_default();
        let (name, commune, department, sme, email) = company;
        let local = territory.is_local(&department);
        partners.push(Partner {
            id: supplier_id.to_string(),
            capacity_cents: capacity,
            share_pct: share as u32,
            departments: departments.split(' ').map(str::to_string).collect(),
            local,
        });
        names.insert(supplier_id.to_string(), name.clone());
        if supplier_id == me {
            own = Some(PostForm {
                cible: target.key.clone(),
                kind: kind.clone(),
                part: part.clone(),
                part_cpv: part_cpv.clone(),
                share: share.to_string(),
                capacity: crate::services::needs::french_number(capacity as f64 / 100.0),
                departments: departments.clone(),
                note: note.clone(),
            });
        }
        let with = |c: &&(i32, i32, i32, String, String)| {
            (c.1 == me && c.2 == supplier_id) || (c.1 == supplier_id && c.2 == me)
        };
        let mine: Vec<&(i32, i32, i32, String, String)> = contacts.iter().filter(with).collect();
        // Only a direct agreement shows an address: a partner's partner is in the team but
        // has agreed nothing with us.
        let relation = if mine.iter().any(|c| c.3 == "accepted") {
            Relation::Partners
        } else if mine.iter().any(|c| c.3 == "pending" && c.2 == me) {
            Relation::AskedUs
        } else if mine.iter().any(|c| c.3 == "pending") {
            Relation::Asked
        } else if mine.iter().any(|c| c.3 == "declined") {
            Relation::Declined
        } else if my_team.contains(&supplier_id) && supplier_id != me {
            Relation::Team
        } else {
            Relation::None
        };
        let request = mine
            .iter()
            .find(|c| c.3 == "pending" && c.2 == me)
            .map(|c| Request {
                id: c.0,
                message: c.4.clone(),
            });
        posts.push(PostRow {
            post_id,
            supplier_id,
            company: name,
            commune,
            sme,
            local,
            offer: kind == "offer",
            part,
            part_cpv,
            part_cpv_label,
            share_pct: share,
            capacity: Cents::new(capacity).to_string(),
            departments,
            note,
            ours: supplier_id == me,
            email: (relation == Relation::Partners).then_some(email),
            relation,
            request,
        });
    }
    let spec = Target {
        value_cents: target.reach_cents,
        departments: target.departments.clone(),
    };
    let proposals = teams::propose(&me.to_string(), &spec, &partners, TEAM_SIZE, PROPOSALS)
        .into_iter()
        .filter(|p| p.members.len() > 1)
        .map(|p| ProposalView {
            size: p.members.len(),
            companies: p
                .members
                .iter()
                .map(|id| names.get(id).cloned().unwrap_or_default())
                .collect(),
            brings: Cents::new(p.brings_cents).to_string(),
            local: p.local,
        })
        .collect();
    let team = posts
        .iter()
        .filter(|p| my_team.contains(&p.supplier_id) && p.supplier_id != me)
        .map(|p| p.company.clone())
        .collect();
    Ok(Exchange {
        reach: Cents::new(target.reach_cents).to_string(),
        target,
        posts,
        own,
        proposals,
        team,
    })
}

/// A request to answer together, as typed.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ContactForm {
    #[serde(default)]
    pub cible: String,
    /// The entry (post id) of the company asked.
    #[serde(default)]
    pub annonce: String,
    #[serde(default)]
    pub message: String,
}

/// Asks the company of an entry to answer together: recorded, and told by e-mail (without our
/// address). The asking company must have its own entry on the target.
pub fn contact(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    form: &ContactForm,
) -> Result<(), AppError> {
    let me = actor.require_supplier()?;
    let target = target(pool, &form.cible)?;
    let post_id: i32 = form
        .annonce
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let mut problems = Problems::default();
    let message = problems.text("message", &form.message, 1, MESSAGE_CHARS);
    problems.finish()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let other: i32 = cobidding_posts::table
            .filter(cobidding_posts::id.eq(post_id))
            .filter(cobidding_posts::target.eq(&target.key))
            .select(cobidding_posts::supplier_id)
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound)?;
        if other == me {
            return Err(AppError::validation(
                "annonce",
                "c'est votre propre annonce : choisissez celle d'une autre entreprise",
            ));
        }
        let mine: i64 = cobidding_posts::table
            .filter(cobidding_posts::target.eq(&target.key))
            .filter(cobidding_posts::supplier_id.eq(me))
            .count()
            .get_result(conn)?;
        if mine == 0 {
            return Err(AppError::validation(
                "annonce",
                "publiez d'abord votre propre annonce sur cette bourse : l'autre entreprise saura ce que vous apportez",
            ));
        }
        let existing: Option<String> = cobidding_contacts::table
            .filter(cobidding_contacts::target.eq(&target.key))
            .filter(
                (cobidding_contacts::from_supplier
                    .eq(me)
                    .and(cobidding_contacts::to_supplier.eq(other)))
                .or(cobidding_contacts::from_supplier
                    .eq(other)
                    .and(cobidding_contacts::to_supplier.eq(me))),
            )
            .select(cobidding_contacts::status)
            .first(conn)
            .optional()?;
        if let Some(status) = existing {
            return Err(AppError::Conflict(match status.as_str() {
                "accepted" => "vous êtes déjà partenaires sur cet achat".into(),
                "declined" => "cette entreprise a décliné : une seule demande par achat".into(),
                _ => "une demande est déjà en attente de réponse entre vos deux entreprises".into(),
            }));
        }
        let now = Utc::now().naive_utc();
        let id: i32 = diesel::insert_into(cobidding_contacts::table)
            .values((
                cobidding_contacts::target.eq(&target.key),
                cobidding_contacts::from_supplier.eq(me),
                cobidding_contacts::to_supplier.eq(other),
                cobidding_contacts::message.eq(&message),
                cobidding_contacts::status.eq("pending"),
                cobidding_contacts::asked_at.eq(now),
            ))
            .returning(cobidding_contacts::id)
            .get_result(conn)?;
        let (from_name, _, _) = crate::services::suppliers::mail_contact(conn, me)?;
        let (to_name, to_email, locale) = crate::services::suppliers::mail_contact(conn, other)?;
        crate::mail::enqueue(
            conn,
            &to_email,
            "cobidding_request",
            &json!({
                "locale": crate::domain::Locale::of(&locale).code(),
                "supplier": to_name,
                "company": from_name,
                "title": target.label,
                "message": message,
                "link": format!("{base_url}/co-traitance?cible={}", crate::web::programme::query_value(&target.key)),
            }),
            &format!("cobidding:{id}:request"),
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("cobidding.asked", "cobidding_target", &target.key)
                .after(format!("demande n° {id} à l'entreprise {other}")),
        )?;
        Ok(())
    })
}

/// An answer to a request.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AnswerForm {
    #[serde(default)]
    pub cible: String,
    #[serde(default)]
    pub demande: String,
    /// `oui` or `non`.
    #[serde(default)]
    pub accepter: String,
}

/// Accepts or declines a request made to the company: on acceptance both are told the other's
/// address by e-mail. Returns the request's target.
pub fn answer(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    form: &AnswerForm,
) -> Result<String, AppError> {
    let me = actor.require_supplier()?;
    let id: i32 = form
        .demande
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let accept = match form.accepter.as_str() {
        "oui" => true,
        "non" => false,
        _ => {
            return Err(AppError::validation(
                "réponse",
                "acceptez (oui) ou déclinez (non)",
            ))
        }
    };
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let found: Option<(String, i32, String)> = cobidding_contacts::table
            .filter(cobidding_contacts::id.eq(id))
            .filter(cobidding_contacts::to_supplier.eq(me))
            .select((
                cobidding_contacts::target,
                cobidding_contacts::from_supplier,
                cobidding_contacts::status,
            ))
            .first(conn)
            .optional()?;
        let (key, other, status) = found.ok_or(AppError::NotFound)?;
        if status != "pending" {
            return Err(AppError::Conflict(
                "cette demande a déjà reçu une réponse".into(),
            ));
        }
        diesel::update(cobidding_contacts::table.find(id))
            .set((
                cobidding_contacts::status.eq(if accept { "accepted" } else { "declined" }),
                cobidding_contacts::answered_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        if accept {
            let (my_name, my_email, my_locale) =
                crate::services::suppliers::mail_contact(conn, me)?;
            let (their_name, their_email, their_locale) =
                crate::services::suppliers::mail_contact(conn, other)?;
            let label = match published_lot_key(conn, &key)? {
                Some(label) => label,
                None => key.clone(),
            };
            let link = format!(
                "{base_url}/co-traitance?cible={}",
                crate::web::programme::query_value(&key)
            );
            for (to, locale, name, partner, email, side) in [
                (
                    &their_email,
                    &their_locale,
                    &their_name,
                    &my_name,
                    &my_email,
                    "a",
                ),
                (
                    &my_email,
                    &my_locale,
                    &my_name,
                    &their_name,
                    &their_email,
                    "b",
                ),
            ] {
                crate::mail::enqueue(
                    conn,
                    to,
                    "cobidding_accepted",
                    &json!({
                        "locale": crate::domain::Locale::of(locale).code(),
                        "supplier": name,
                        "company": partner,
                        "email": email,
                        "title": label,
                        "link": link,
                    }),
                    &format!("cobidding:{id}:accepted:{side}"),
                )?;
            }
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("cobidding.answered", "cobidding_target", &key).after(format!(
                "demande n° {id} {}",
                if accept { "acceptée" } else { "déclinée" }
            )),
        )?;
        Ok(key)
    })
}

/// A published lot's label from its key, for the e-mails; `None` for a planned purchase.
fn published_lot_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<String>> {
    let Some((reference, number)) = key
        .strip_prefix("lot:")
        .and_then(|r| r.rsplit_once(':'))
        .and_then(|(r, n)| n.parse::<i32>().ok().map(|n| (r, n)))
    else {
        return Ok(None);
    };
    Ok(published_lot(conn, reference, number)?.map(|t| t.label))
}

/// How many companies posted on each target's exchange.
pub fn counts(pool: &Pool) -> Result<BTreeMap<String, i64>, AppError> {
    let mut conn = pool.get()?;
    Ok(cobidding_posts::table
        .group_by(cobidding_posts::target)
        .select((cobidding_posts::target, diesel::dsl::count_star()))
        .load::<(String, i64)>(&mut conn)?
        .into_iter()
        .collect())
}

/// A team formed on the exchange for a planned purchase, as the engine counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub target: String,
    /// The 8-digit CPV of the purchase's family.
    pub cpv: String,
    /// Supplier ids, sorted.
    pub members: Vec<i32>,
    /// The members' capacities on their entries, summed, in cents.
    pub capacity_cents: i64,
}

/// The teams formed on the planned purchases whose key starts with `prefix` (`needs:2027:`).
pub fn teams(conn: &mut AnyConnection, prefix: &str) -> QueryResult<Vec<Team>> {
    // (The prefixes are the programme's keys: digits, letters and colons, no LIKE wildcard.)
    let pattern = format!("{prefix}%");
    let links: Vec<(String, i32, i32)> = cobidding_contacts::table
        .filter(cobidding_contacts::status.eq("accepted"))
        .filter(cobidding_contacts::target.like(&pattern))
        .order(cobidding_contacts::id)
        .select((
            cobidding_contacts::target,
            cobidding_contacts::from_supplier,
            cobidding_contacts::to_supplier,
        ))
        .load(conn)?;
    let capacities: BTreeMap<(String, i32), i64> = cobidding_posts::table
        .filter(cobidding_posts::target.like(&pattern))
        .select((
            cobidding_posts::target,
            cobidding_posts::supplier_id,
            cobidding_posts::capacity_cents,
        ))
        .load::<(String, i32, i64)>(conn)?
        .into_iter()
        .map(|(target, supplier, capacity)| ((target, supplier), capacity))
        .collect();
    let mut by_target: BTreeMap<String, Vec<(i32, i32)>> = BTreeMap::new();
    for (t, a, b) in links {
        by_target.entry(t).or_default().push((a, b));
    }
    let mut out = Vec::new();
    for (target, links) in by_target {
        // `needs:<year>:<family>:<unit>`: the family's CPV.
        let family = target.split(':').nth(2).unwrap_or_default();
        for members in teams_of(&links) {
            out.push(Team {
                target: target.clone(),
                cpv: format!("{family:0<8}"),
                capacity_cents: members
                    .iter()
                    .map(|m| capacities.get(&(target.clone(), *m)).copied().unwrap_or(0))
                    .sum(),
                members,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companies_linked_by_accepted_requests_form_one_team() {
        assert_eq!(
            teams_of(&[(3, 1), (5, 7), (1, 9), (7, 5)]),
            [vec![1, 3, 9], vec![5, 7]]
        );
        assert!(teams_of(&[]).is_empty());
        let mut p = Problems::default();
        assert_eq!(departments_of(&mut p, "21, 71 2A"), ["21", "2A", "71"]);
        assert!(p.is_empty());
        departments_of(&mut p, "21 Dijon");
        assert!(!p.is_empty());
    }
}
