//! Each person's home after signing in (`/accueil`): what is waiting for them first, then
//! their own work — a buyer's needs and its organisation's tenders; a lead's approvals, runs and
//! tenders to act on; a company's bids with their receipts and results, and the open notices
//! that match what it sells; the administrator's failed e-mails and failed sign-ins.

use crate::auth::{Actor, Role};
use crate::db::schema::{
    audit_log, awards, bids, lots, needs, notifications, pooling_runs, supplier_cpv,
    tender_approvals, tenders,
};
use crate::db::Pool;
use crate::domain::{
    paris_text, ApprovalStatus, BidStatus, Cents, NeedStatus, RunStatus, TenderStatus,
};
use crate::error::AppError;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A thing to do, linking to where it is done.
#[derive(Debug, Serialize)]
pub struct Task {
    pub text: String,
    pub href: String,
}

/// A list of the home page: a heading, its lines, what it says when empty, a link to more.
#[derive(Debug, Serialize)]
pub struct Section {
    pub title: &'static str,
    pub lines: Vec<Line>,
    pub empty: &'static str,
    pub more: Option<Task>,
}

/// One line of a section: what (linked), then its state.
#[derive(Debug, Serialize)]
pub struct Line {
    pub label: String,
    pub href: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Home {
    pub heading: String,
    pub tasks: Vec<Task>,
    pub sections: Vec<Section>,
}

/// Lines shown in each section at most (the section links to the full list).
const SHOWN: i64 = 8;

pub fn home(pool: &Pool, actor: &Actor) -> Result<Home, AppError> {
    let mut conn = pool.get()?;
    let conn = &mut conn;
    match actor.role {
        Role::Buyer | Role::Lead => member_home(conn, actor),
        Role::Supplier => supplier_home(conn, actor),
        Role::Admin => admin_home(conn, actor),
    }
}

type Conn = crate::db::AnyConnection;

fn status_label<S: Copy>(
    code: &str,
    parse: fn(&str) -> Option<S>,
    label: fn(S) -> &'static str,
) -> String {
    parse(code).map_or_else(|| code.to_string(), |s| label(s).to_string())
}

fn member_home(conn: &mut Conn, actor: &Actor) -> Result<Home, AppError> {
    let organisation = actor.require_member()?;
    let code = actor.organisation.clone().unwrap_or_default();
    let lead = actor.role == Role::Lead;
    let mut tasks = Vec::new();

    // The organisation's needs by status.
    let counts: Vec<(String, i64)> = needs::table
        .filter(needs::organisation_id.eq(organisation))
        .group_by(needs::status)
        .select((needs::status, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: BTreeMap<String, i64> = counts.into_iter().collect();
    let drafts = counts.get(NeedStatus::Draft.code()).copied().unwrap_or(0);
    if drafts > 0 {
        tasks.push(Task {
            text: format!("{drafts} besoin(s) en brouillon à compléter et soumettre"),
            href: "/besoins".into(),
        });
    }
    let need_lines = NeedStatus::ALL
        .into_iter()
        .filter_map(|s| {
            let n = *counts.get(s.code())?;
            Some(Line {
                label: format!("{n} besoin(s) au statut « {} »", s.label_fr()),
                href: "/besoins".into(),
                detail: String::new(),
            })
        })
        .collect();

    // The tenders the organisation takes part in, newest first.
    let mine: Vec<i32> = tender_approvals::table
        .filter(tender_approvals::organisation_id.eq(organisation))
        .select(tender_approvals::tender_id)
        .load(conn)?;
    type TenderRow = (
        i32,
        String,
        String,
        String,
        i32,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<TenderRow> = tenders::table
        .filter(
            tenders::id
                .eq_any(&mine)
                .or(tenders::coordinator_id.eq(organisation)),
        )
        .order(tenders::id.desc())
        .select((
            tenders::id,
            tenders::reference,
            tenders::title,
            tenders::status,
            tenders::coordinator_id,
            tenders::deadline,
            tenders::opened_at,
        ))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let pending: BTreeSet<i32> = tender_approvals::table
        .filter(tender_approvals::organisation_id.eq(organisation))
        .filter(tender_approvals::tender_id.eq_any(&ids))
        .filter(tender_approvals::status.eq(ApprovalStatus::Pending.code()))
        .select(tender_approvals::tender_id)
        .load::<i32>(conn)?
        .into_iter()
        .collect();
    let awarded: BTreeSet<i32> = lots::table
        .inner_join(awards::table)
        .filter(lots::tender_id.eq_any(&ids))
        .select(lots::tender_id)
        .load::<i32>(conn)?
        .into_iter()
        .collect();
    let now = Utc::now().naive_utc();
    if lead {
        for (id, reference, title, status, coordinator, deadline, opened) in &rows {
            let href = format!("/consultations/{id}");
            let task = match status.as_str() {
                "approving" if pending.contains(id) => Some(format!(
                    "Approuver la part de {code} dans {reference} « {title} »"
                )),
                "draft" if *coordinator == organisation => Some(format!(
                    "Reprendre {reference} « {title} », renvoyée par un membre"
                )),
                "approved" if *coordinator == organisation => {
                    Some(format!("Publier {reference} « {title} »"))
                }
                "published" | "closed"
                    if *coordinator == organisation
                        && deadline.is_some_and(|d| d <= now)
                        && opened.is_none() =>
                {
                    Some(format!(
                        "Ouvrir les offres de {reference} « {title} » (date limite passée)"
                    ))
                }
                "published" | "closed"
                    if *coordinator == organisation
                        && opened.is_some()
                        && !awarded.contains(id) =>
                {
                    Some(format!(
                        "Comparer les offres de {reference} et approuver l'attribution"
                    ))
                }
                _ => None,
            };
            if let Some(text) = task {
                tasks.push(Task { text, href });
            }
        }
        let proposals: Vec<i32> = pooling_runs::table
            .filter(pooling_runs::status.eq(RunStatus::Proposed.code()))
            .order(pooling_runs::id.desc())
            .select(pooling_runs::id)
            .load(conn)?;
        for run in proposals {
            tasks.push(Task {
                text: format!("Examiner la proposition de mutualisation n° {run}"),
                href: format!("/mutualisation/{run}"),
            });
        }
    }
    let tender_lines = rows
        .iter()
        .take(SHOWN as usize)
        .map(|(id, reference, title, status, _, _, _)| Line {
            label: format!("{reference} — {title}"),
            href: format!("/consultations/{id}"),
            detail: status_label(status, TenderStatus::parse, TenderStatus::label_fr),
        })
        .collect();
    let mut sections = vec![
        Section {
            title: "Besoins de votre organisation",
            lines: need_lines,
            empty: "Aucun besoin saisi pour l'instant.",
            more: Some(Task {
                text: "Saisir ou importer des besoins".into(),
                href: "/besoins".into(),
            }),
        },
        Section {
            title: "Consultations de votre organisation",
            lines: tender_lines,
            empty: "Votre organisation ne participe encore à aucune consultation.",
            more: Some(Task {
                text: "Toutes les consultations".into(),
                href: "/consultations".into(),
            }),
        },
    ];
    if lead {
        let runs: Vec<(i32, i32, String, NaiveDateTime)> = pooling_runs::table
            .order(pooling_runs::id.desc())
            .limit(5)
            .select((
                pooling_runs::id,
                pooling_runs::budget_year,
                pooling_runs::status,
                pooling_runs::started_at,
            ))
            .load(conn)?;
        sections.push(Section {
            title: "Derniers calculs de mutualisation",
            lines: runs
                .into_iter()
                .map(|(id, year, status, started)| Line {
                    label: format!("n° {id} — année {year}"),
                    href: format!("/mutualisation/{id}"),
                    detail: format!(
                        "{}, lancé le {}",
                        status_label(&status, RunStatus::parse, RunStatus::label_fr),
                        paris_text(started)
                    ),
                })
                .collect(),
            empty: "Aucun calcul lancé.",
            more: Some(Task {
                text: "Lancer une mutualisation".into(),
                href: "/mutualisation".into(),
            }),
        });
    }
    Ok(Home {
        heading: format!(
            "{} — {}",
            code,
            match lead {
                true => "responsable achats",
                false => "acheteur",
            }
        ),
        tasks,
        sections,
    })
}

fn supplier_home(conn: &mut Conn, actor: &Actor) -> Result<Home, AppError> {
    let supplier = actor.require_supplier()?;
    let now = Utc::now().naive_utc();
    type BidRow = (
        i32,
        i64,
        String,
        String,
        Option<NaiveDateTime>,
        i32,
        i32,
        String,
        String,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let rows: Vec<BidRow> = bids::table
        .inner_join(lots::table.inner_join(tenders::table))
        .filter(bids::supplier_id.eq(supplier))
        .order(bids::id.desc())
        .select((
            bids::id,
            bids::price_cents,
            bids::status,
            bids::receipt,
            bids::justification_requested_at,
            lots::id,
            lots::number,
            tenders::reference,
            tenders::title,
            tenders::deadline,
            bids::seal_state,
        ))
        .load(conn)?;
    let lot_ids: Vec<i32> = rows.iter().map(|r| r.5).collect();
    let decided: BTreeMap<i32, Option<i32>> = awards::table
        .filter(awards::lot_id.eq_any(&lot_ids))
        .select((awards::lot_id, awards::winning_bid_id))
        .load::<(i32, Option<i32>)>(conn)?
        .into_iter()
        .collect();
    let mut tasks = Vec::new();
    let mut lines = Vec::new();
    for (
        id,
        price,
        status,
        receipt,
        justification,
        lot_id,
        lot,
        reference,
        title,
        deadline,
        seal_state,
    ) in rows
    {
        let href = format!("/appels-d-offres/{reference}/offre");
        let result = match (status.as_str(), decided.get(&lot_id)) {
            ("withdrawn", _) => "retirée".to_string(),
            (_, Some(Some(winner))) if *winner == id => "retenue : vous êtes attributaire".into(),
            (_, Some(_)) => "non retenue".into(),
            _ => match deadline {
                Some(d) if d > now => format!(
                    "{} ; modifiable jusqu'au {}",
                    status_label(&status, BidStatus::parse, BidStatus::label_fr),
                    paris_text(d)
                ),
                _ => "en cours d'examen".into(),
            },
        };
        if justification.is_some() && !decided.contains_key(&lot_id) && status == "submitted" {
            tasks.push(Task {
                text: format!(
                    "Justifier votre prix sur le lot {lot} de {reference} (offre jugée anormalement basse ?)"
                ),
                href: href.clone(),
            });
        }
        let short: String = receipt.chars().take(12).collect();
        lines.push(Line {
            label: format!("{reference} lot {lot} — {title}"),
            href,
            detail: format!(
                "{} ; {result}{}",
                // A bid still encrypted (or never opened) has no price anyone can read.
                match seal_state.as_deref() {
                    Some("sealed") | Some("tampered") => "offre chiffrée".to_string(),
                    _ => format!("{} HT", Cents::new(price)),
                },
                match short.is_empty() {
                    true => String::new(),
                    false => format!(" ; accusé de réception {short}…"),
                }
            ),
        });
    }
    // Open notices whose lots match what the company sells.
    let prefixes: Vec<String> = supplier_cpv::table
        .filter(supplier_cpv::supplier_id.eq(supplier))
        .select(supplier_cpv::cpv_prefix)
        .load(conn)?;
    let open: Vec<(String, String, String, Option<NaiveDateTime>)> = tenders::table
        .inner_join(lots::table)
        .filter(tenders::status.eq(TenderStatus::Published.code()))
        .filter(tenders::deadline.gt(now))
        .order(tenders::deadline.asc())
        .select((
            tenders::reference,
            tenders::title,
            lots::cpv_code,
            tenders::deadline,
        ))
        .load(conn)?;
    let mut seen = BTreeSet::new();
    let matching: Vec<Line> = open
        .into_iter()
        .filter(|(_, _, cpv, _)| prefixes.iter().any(|p| cpv.starts_with(p.as_str())))
        .filter(|(reference, _, _, _)| seen.insert(reference.clone()))
        .take(SHOWN as usize)
        .map(|(reference, title, _, deadline)| Line {
            label: format!("{reference} — {title}"),
            href: format!("/appels-d-offres/{reference}"),
            detail: deadline.map_or_else(
                || "date limite non fixée".into(),
                |d| format!("offres jusqu'au {}", paris_text(d)),
            ),
        })
        .collect();
    let name: String = crate::db::schema::suppliers::table
        .find(supplier)
        .select(crate::db::schema::suppliers::name)
        .first(conn)?;
    Ok(Home {
        heading: format!("{name} — espace entreprise"),
        tasks,
        sections: vec![
            Section {
                title: "Mes offres",
                lines,
                empty: "Vous n'avez encore déposé aucune offre.",
                more: Some(Task {
                    text: "Essayer un dépôt d'entraînement (il ne compte nulle part)".into(),
                    href: "/entrainement".into(),
                }),
            },
            Section {
                title: "Appels d'offres ouverts qui correspondent à ce que vous vendez",
                lines: matching,
                empty: match prefixes.is_empty() {
                    true => "Indiquez dans « Mon entreprise » les codes CPV de ce que vous vendez pour voir ici les appels d'offres qui vous concernent.",
                    false => "Aucun appel d'offres ouvert ne correspond à vos codes CPV en ce moment.",
                },
                more: Some(Task {
                    text: "Tous les appels d'offres publiés".into(),
                    href: "/appels-d-offres".into(),
                }),
            },
        ],
    })
}

/// What an e-mail of the outbox is, by its template, in French.
pub fn mail_label(template: &str) -> &'static str {
    match template {
        "address_confirmation" => "confirmation d'une nouvelle adresse",
        "approval_request" => "demande d'approbation",
        "award_result" => "résultat d'attribution",
        "bid_receipt" => "accusé de réception d'une offre",
        "daily_digest" => "récapitulatif quotidien des avis",
        "email_verification" => "vérification d'adresse",
        "invitation" => "invitation",
        "justification_request" => "demande de justification de prix",
        "password_reset" => "lien de nouveau mot de passe",
        "tender_published" => "avis d'appel d'offres",
        _ => "courriel",
    }
}

fn admin_home(conn: &mut Conn, actor: &Actor) -> Result<Home, AppError> {
    actor.require_admin()?;
    let failed: Vec<(i32, String, String, Option<String>, NaiveDateTime)> = notifications::table
        .filter(notifications::status.eq("failed"))
        .order(notifications::id.desc())
        .limit(SHOWN)
        .select((
            notifications::id,
            notifications::recipient,
            notifications::template,
            notifications::last_error,
            notifications::created_at,
        ))
        .load(conn)?;
    let failed_count: i64 = notifications::table
        .filter(notifications::status.eq("failed"))
        .count()
        .get_result(conn)?;
    let since = Utc::now().naive_utc() - chrono::Duration::days(7);
    let sign_ins: Vec<(String, NaiveDateTime)> = audit_log::table
        .filter(audit_log::action.eq("auth.sign_in_failed"))
        .filter(audit_log::at.ge(since))
        .order(audit_log::id.desc())
        .limit(SHOWN)
        .select((audit_log::actor_label, audit_log::at))
        .load(conn)?;
    let mut tasks = Vec::new();
    if failed_count > 0 {
        tasks.push(Task {
            text: format!("{failed_count} courriel(s) en échec à examiner ou renvoyer"),
            href: "/admin/courriels".into(),
        });
    }
    Ok(Home {
        heading: "Administration".into(),
        tasks,
        sections: vec![
            Section {
                title: "Courriels en échec",
                lines: failed
                    .into_iter()
                    .map(|(_, to, template, error, at)| Line {
                        label: format!("{to} — {}", mail_label(&template)),
                        href: "/admin/courriels".into(),
                        detail: format!(
                            "créé le {} ; {}",
                            paris_text(at),
                            error.unwrap_or_else(|| "sans message d'erreur".into())
                        ),
                    })
                    .collect(),
                empty: "Aucun courriel en échec.",
                more: Some(Task {
                    text: "Tous les courriels".into(),
                    href: "/admin/courriels".into(),
                }),
            },
            Section {
                title: "Connexions refusées ces 7 derniers jours",
                lines: sign_ins
                    .into_iter()
                    .map(|(who, at)| Line {
                        label: who,
                        href: "/admin/journal".into(),
                        detail: paris_text(at),
                    })
                    .collect(),
                empty: "Aucune connexion refusée.",
                more: Some(Task {
                    text: "Le journal d'audit".into(),
                    href: "/admin/journal".into(),
                }),
            },
        ],
    })
}
