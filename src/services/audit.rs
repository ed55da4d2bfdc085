//! The audit log: who did what to which object, written in the transaction of the change
//! itself, and read back (filtered, a page at a time) by admins.

use crate::db::models::NewAuditEntry;
use crate::db::schema::audit_log;
use crate::db::{AnyConnection, Pool};
use crate::error::AppError;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// Who acts: a signed-in person, or the system / an anonymous visitor named by a label.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub user_id: Option<i32>,
    pub label: &'a str,
}

impl<'a> From<&'a crate::auth::Actor> for Author<'a> {
    fn from(actor: &'a crate::auth::Actor) -> Self {
        Author {
            user_id: Some(actor.user_id),
            label: &actor.email,
        }
    }
}

impl<'a> From<&'a crate::auth::Viewer> for Author<'a> {
    fn from(viewer: &'a crate::auth::Viewer) -> Self {
        Author::from(&viewer.actor)
    }
}

impl<'a> Author<'a> {
    /// A user acting on their own account (signing in, using a link of theirs).
    pub fn user(user: &'a crate::db::models::User) -> Self {
        Author {
            user_id: Some(user.id),
            label: &user.email,
        }
    }
}

/// One change: `action` is `area.verb` (`auth.sign_in`, `admin.role_changed`, …).
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, object_type: &'a str, object_id: impl ToString) -> Self {
        Change {
            action,
            object_type,
            object_id: object_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn before_after(mut self, before: impl Into<String>, after: impl Into<String>) -> Self {
        self.before = Some(before.into());
        self.after = Some(after.into());
        self
    }

    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }
}

/// Appends an entry; call it inside the transaction of the change.
pub fn record(conn: &mut AnyConnection, actor: Author<'_>, change: Change<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            actor_user_id: actor.user_id,
            actor_label: actor.label,
            action: change.action,
            object_type: change.object_type,
            object_id: &change.object_id,
            before_summary: change.before.as_deref(),
            after_summary: change.after.as_deref(),
        })
        .execute(conn)
        .map(|_| ())
}

/// Filters of the admin's audit page; every field optional.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AuditFilter {
    /// Start of the action (`auth.` matches every sign-in event).
    #[serde(default)]
    pub action: String,
    /// Part of the actor's label (e-mail address).
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub object_type: String,
    /// `AAAA-MM-JJ`, inclusive.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct AuditRow {
    /// Paris time.
    pub at: String,
    pub actor: String,
    /// The action's code (what the filter takes), and what it means in French.
    pub action: String,
    pub label: String,
    pub object: String,
    pub before: String,
    pub after: String,
}

/// What an action of the journal means, in French (its code for an action not listed here).
pub fn action_label(action: &str) -> &str {
    match action {
        "admin.organisation_created" => "organisation ajoutée",
        "admin.user_changed" => "compte modifié (rôle, rattachement, accès)",
        "admin.user_invited" => "personne invitée",
        "api_token.created" => "jeton d'API créé",
        "api_token.revoked" => "jeton d'API révoqué",
        "auth.email_verified" => "adresse e-mail confirmée",
        "auth.invitation_accepted" => "invitation acceptée",
        "auth.password_reset" => "mot de passe changé par lien",
        "auth.reset_requested" => "lien de nouveau mot de passe demandé",
        "auth.sign_in" => "connexion",
        "auth.sign_in_failed" => "connexion refusée",
        "auth.sign_out" => "déconnexion",
        "auth.sign_out_everywhere" => "déconnexion de tous les appareils",
        "bid.document_added" => "document joint à une offre",
        "bid.document_removed" => "document retiré d'une offre",
        "bid.justification_requested" => "justification d'une offre anormalement basse demandée",
        "bid.late" => "offre reçue hors délai",
        "bid.revised" => "offre modifiée",
        "bid.submitted" => "offre remise",
        "bid.withdrawn" => "offre retirée",
        "contract.signed" => "marché signé",
        "mail.retried" => "courriel renvoyé",
        "need.created" => "besoin créé",
        "need.imported" => "besoins importés",
        "need.status_changed" => "besoin changé d'état",
        "need.updated" => "besoin modifié",
        "pooling.accepted" => "proposition de mutualisation acceptée",
        "pooling.adjusted" => "proposition ajustée",
        "pooling.discarded" => "proposition abandonnée",
        "pooling.started" => "mutualisation lancée",
        "settings.recorded" => "paramètres des achats enregistrés",
        "settings.replaced" => "paramètres à venir remplacés",
        "supplier.address_confirmed" => "adresse des avis confirmée",
        "supplier.profile_changed" => "profil d'entreprise modifié",
        "supplier.registered" => "entreprise inscrite",
        "supplier.unsubscribed" => "entreprise désabonnée des avis",
        "tender.awarded" => "attribution approuvée",
        "tender.backup_declared" => "copie de sauvegarde déclarée",
        "tender.backup_opened" => "copie de sauvegarde ouverte",
        "tender.backup_received" => "copie de sauvegarde reçue",
        "tender.bids_marked" => "offres notées",
        "tender.changed" => "consultation modifiée (rectificatif)",
        "tender.created" => "consultation créée",
        "tender.document_added" => "document ajouté à une consultation",
        "tender.opened" => "offres ouvertes",
        "tender.published" => "consultation publiée",
        "tender.question_answered" => "réponse à une question publiée",
        "tender.question_asked" => "question posée",
        "tender.share_decided" => "part d'un membre décidée",
        "tender.status_changed" => "consultation changée d'état",
        "user.locale_changed" => "langue changée",
        "demo.seeded" => "démonstration chargée",
        other => other,
    }
}

/// What kind of object an entry is about, in French.
fn object_label(object_type: &str) -> &str {
    match object_type {
        "user" => "compte",
        "need" => "besoin",
        "tender" => "consultation",
        "lot" => "lot",
        "pooling_run" => "calcul",
        "contract" => "marché",
        "supplier" => "entreprise",
        "organisation" => "organisation",
        "procurement_settings" => "paramètres du",
        "notification" => "courriel",
        "api_token" => "jeton",
        "bid" => "offre",
        "database" => "base de données",
        other => other,
    }
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

pub const AUDIT_PAGE_SIZE: i64 = 50;

/// Escapes `%`, `_` and `\` so that a filter text matches itself only.
pub fn like_pattern(text: &str, prefix_only: bool) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    match prefix_only {
        true => format!("{escaped}%"),
        false => format!("%{escaped}%"),
    }
}

fn day(field: &str, text: &str) -> Result<Option<NaiveDate>, AppError> {
    match text.trim() {
        "" => Ok(None),
        value => crate::domain::parse_date(value)
            .map(Some)
            .map_err(|e| AppError::validation(field, e.0)),
    }
}

/// One page of the log, newest first.
pub fn search(pool: &Pool, filter: &AuditFilter) -> Result<AuditPage, AppError> {
    let from = day("du", &filter.from)?;
    let to = day("au", &filter.to)?;
    let mut conn = pool.get()?;
    // Bids on tenders still sealed are nobody's business but their supplier's.
    let (_, sealed_lots) = crate::services::bids::sealed_tenders(&mut conn)?;
    let sealed: Vec<String> = sealed_lots.iter().map(ToString::to_string).collect();
    let query = || {
        let mut query = audit_log::table.into_boxed();
        if !sealed.is_empty() {
            query = query.filter(diesel::dsl::not(
                audit_log::action
                    .like("bid.%")
                    .and(audit_log::object_type.eq("lot"))
                    .and(audit_log::object_id.eq_any(sealed.clone())),
            ));
        }
        if !filter.action.trim().is_empty() {
            query = query.filter(
                audit_log::action
                    .like(like_pattern(&filter.action, true))
                    .escape('\\'),
            );
        }
        if !filter.actor.trim().is_empty() {
            query = query.filter(
                audit_log::actor_label
                    .like(like_pattern(&filter.actor, false))
                    .escape('\\'),
            );
        }
        if !filter.object_type.trim().is_empty() {
            query = query.filter(audit_log::object_type.eq(filter.object_type.trim().to_string()));
        }
        if let Some(from) = from {
            query = query.filter(audit_log::at.ge(from.and_time(chrono::NaiveTime::MIN)));
        }
        if let Some(to) = to.and_then(|d| d.succ_opt()) {
            query = query.filter(audit_log::at.lt(to.and_time(chrono::NaiveTime::MIN)));
        }
        query
    };
    let total: i64 = query().count().get_result(&mut conn)?;
    let pages = ((total + AUDIT_PAGE_SIZE - 1) / AUDIT_PAGE_SIZE).max(1);
    let page = filter.page.unwrap_or(1).clamp(1, pages);
    type Row = (
        NaiveDateTime,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = query()
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
        .select((
            audit_log::at,
            audit_log::actor_label,
            audit_log::action,
            audit_log::object_type,
            audit_log::object_id,
            audit_log::before_summary,
            audit_log::after_summary,
        ))
        .load(&mut conn)?;
    Ok(AuditPage {
        rows: rows
            .into_iter()
            .map(
                |(at, actor, action, object_type, object_id, before, after)| AuditRow {
                    at: crate::domain::paris_text(at),
                    actor: match actor.as_str() {
                        "system" => "le système".to_string(),
                        _ => actor,
                    },
                    label: action_label(&action).to_string(),
                    action,
                    object: format!("{} {object_id}", object_label(&object_type)),
                    before: before.unwrap_or_default(),
                    after: after.unwrap_or_default(),
                },
            )
            .collect(),
        total,
        page,
        pages,
    })
}
