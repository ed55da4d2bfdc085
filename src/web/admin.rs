//! Admin pages: organisations, users and roles, invitations, the audit log, the procurement
//! settings (territory, thresholds, periods) with their dates of effect.

use super::auth::{see_other, MaybeViewer, Posted};
use super::blocking;
use super::form_errors::{self, Field, FormErrors};
use super::templates::Page;
use crate::db::Pool;
use crate::error::{AppError, Problems};
use crate::services::admin::{self, Invitation, OrganisationForm, UserChange, ORGANISATION_KINDS};
use crate::services::audit::{self, AuditFilter};
use crate::services::settings::{self, SettingsForm};
use crate::web::nav::{Role, Viewer};
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

fn admin_of(viewer: Option<Viewer>) -> Result<Viewer, AppError> {
    let viewer = viewer.ok_or(AppError::Forbidden)?;
    viewer.require_admin()?;
    Ok(viewer)
}

/// The fields of the admin's forms (problem name, input, label).
const ORGANISATION_FIELDS: &[Field] = &[
    Field {
        problem: "code",
        input: "code",
        label: "Code",
    },
    Field {
        problem: "nom",
        input: "name",
        label: "Nom",
    },
    Field {
        problem: "SIRET",
        input: "siret",
        label: "SIRET",
    },
    Field {
        problem: "nature",
        input: "kind",
        label: "Nature",
    },
    Field {
        problem: "classe",
        input: "buyer_class",
        label: "Classe pour les seuils de procédure",
    },
    Field {
        problem: "adresse",
        input: "street",
        label: "Adresse",
    },
    Field {
        problem: "code postal",
        input: "postcode",
        label: "Code postal",
    },
    Field {
        problem: "commune",
        input: "city",
        label: "Commune",
    },
    Field {
        problem: "téléphone",
        input: "phone",
        label: "Téléphone",
    },
    Field {
        problem: "e-mail",
        input: "email",
        label: "E-mail",
    },
    Field {
        problem: "site internet",
        input: "website",
        label: "Site internet",
    },
    Field {
        problem: "instance de recours",
        input: "review_body_id",
        label: "SIRET du tribunal administratif",
    },
];

const INVITATION_FIELDS: &[Field] = &[
    Field {
        problem: "adresse e-mail",
        input: "inv-email",
        label: "Adresse e-mail",
    },
    Field {
        problem: "nom",
        input: "inv-name",
        label: "Nom et prénom",
    },
    Field {
        problem: "rôle",
        input: "inv-role",
        label: "Rôle",
    },
    Field {
        problem: "organisation",
        input: "inv-org",
        label: "Organisation",
    },
];

const AUDIT_FIELDS: &[Field] = &[
    Field {
        problem: "du",
        input: "f-from",
        label: "Du",
    },
    Field {
        problem: "au",
        input: "f-to",
        label: "Au",
    },
];

async fn organisations_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    form: OrganisationForm,
    (error, problems): (Option<String>, Problems),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let (rows, review_body_id) = blocking(&pool, |p| {
        let rows = admin::organisations(p)?;
        let mut conn = p.get()?;
        let id = admin::review_body_id(&mut conn)?;
        Ok::<_, AppError>((rows, id))
    })
    .await?;
    let kinds = kind_choices(&form.kind);
    Page::new(
        "pages/admin/organisations",
        "Organisations — Groupement",
        "/admin/organisations",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        OrganisationsPage {
            organisations: rows,
            review_body_id,
            kinds,
            central: form.buyer_class == "central",
            form,
            error,
            errors: FormErrors::of(&problems, ORGANISATION_FIELDS),
        },
    )
}

pub async fn organisations(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    organisations_page(
        pool,
        &hb,
        &viewer,
        OrganisationForm::default(),
        (None, Problems::default()),
        StatusCode::OK,
    )
    .await
}

pub async fn create_organisation(
    posted: Posted<OrganisationForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (p, who, form) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.clone(),
    );
    match blocking(&p, move |p| admin::create_organisation(p, &who, &form)).await {
        Ok(_) => Ok(see_other("/admin/organisations")),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            let refused = (message, problems);
            organisations_page(pool, &hb, &viewer, posted.form, refused, status).await
        }
    }
}

/// The kinds of organisation for a select, `selected` chosen.
fn kind_choices(selected: &str) -> Vec<Choice> {
    ORGANISATION_KINDS
        .iter()
        .map(|&(code, label)| Choice {
            code,
            label,
            selected: code == selected,
        })
        .collect()
}

fn organisation_page(
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    form: OrganisationForm,
    (error, problems): (Option<String>, Problems),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let kinds = kind_choices(&form.kind);
    Page::new(
        "pages/admin/organisation",
        format!("{} — Organisations — Groupement", form.code),
        "/admin/organisations",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        OrganisationPage {
            kinds,
            central: form.buyer_class == "central",
            form,
            error,
            errors: FormErrors::of(&problems, ORGANISATION_FIELDS),
        },
    )
}

/// `GET /admin/organisations/{code}`: an organisation's form.
pub async fn organisation(
    code: Path<String>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    let code = code.into_inner();
    let form = blocking(&pool, move |p| admin::organisation_form(p, &code)).await?;
    organisation_page(
        &hb,
        &viewer,
        form,
        (None, Problems::default()),
        StatusCode::OK,
    )
}

/// `POST /admin/organisations/{code}`: its name, SIRET, nature, class and contact details.
pub async fn update_organisation(
    code: Path<String>,
    posted: Posted<OrganisationForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let code = code.into_inner();
    let (who, form, c) = (viewer.clone(), posted.form.clone(), code.clone());
    match blocking(&pool, move |p| {
        admin::update_organisation(p, &who, &c, &form)
    })
    .await
    {
        Ok(()) => Ok(see_other("/admin/organisations")),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            let mut form = posted.form;
            form.code = code;
            organisation_page(&hb, &viewer, form, (message, problems), status)
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ReviewBodyForm {
    #[serde(default)]
    review_body_id: String,
}

/// `POST /admin/instance-de-recours`: the review body's legal identifier.
pub async fn review_body(
    posted: Posted<ReviewBodyForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (p, who, text) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.review_body_id.clone(),
    );
    match blocking(&p, move |p| admin::set_review_body_id(p, &who, &text)).await {
        Ok(_) => Ok(see_other("/admin/organisations#instance-de-recours")),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            organisations_page(
                pool,
                &hb,
                &viewer,
                OrganisationForm::default(),
                (message, problems),
                status,
            )
            .await
        }
    }
}

/// The search of the accounts list and its page.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct UserQuery {
    /// Words of the name, the address or the organisation / company.
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
}

/// Accounts a page of the list shows.
const USERS_PER_PAGE: usize = 50;

#[allow(clippy::too_many_arguments)]
async fn users_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    query: UserQuery,
    invitation: Invitation,
    (message, problems): (Option<(String, bool)>, Problems),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let (all, organisations) = blocking(&pool, move |pool| {
        Ok::<_, AppError>((admin::users(pool)?, admin::organisations(pool)?))
    })
    .await?;
    // Every word of the search in the name, the address or the attachment.
    let words: Vec<String> = query.q.split_whitespace().map(str::to_lowercase).collect();
    let found: Vec<admin::UserRow> = all
        .into_iter()
        .filter(|u| {
            let text = format!("{} {} {}", u.display_name, u.email, u.attached_to).to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect();
    let total = found.len();
    let pages = total.div_ceil(USERS_PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let rows: Vec<admin::UserRow> = found
        .into_iter()
        .skip((page - 1) * USERS_PER_PAGE)
        .take(USERS_PER_PAGE)
        .collect();
    let link = |page: usize| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("q", &query.q)
            .append_pair("page", &page.to_string());
        format!("/admin/utilisateurs?{}", url.finish())
    };
    let (previous, next) = (
        (page > 1).then(|| link(page - 1)),
        (page < pages).then(|| link(page + 1)),
    );
    let codes: Vec<String> = organisations.into_iter().map(|o| o.code).collect();
    let roles = [Role::Buyer, Role::Lead, Role::Admin, Role::Supplier]
        .into_iter()
        .map(|role| Choice {
            code: role.code(),
            label: role.label_fr(),
            selected: false,
        })
        .collect();
    let (error, done) = match message {
        Some((text, true)) => (None, Some(text)),
        Some((text, false)) => (Some(text), None),
        None => (None, None),
    };
    Page::new(
        "pages/admin/users",
        "Utilisateurs — Groupement",
        "/admin/utilisateurs",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        UsersPage {
            users: rows,
            organisations: codes,
            roles,
            invitation,
            error,
            errors: FormErrors::of(&problems, INVITATION_FIELDS),
            done,
            total,
            page,
            pages,
            previous,
            next,
            q: query.q.clone(),
        },
    )
}

pub async fn users(
    query: Query<UserQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    users_page(
        pool,
        &hb,
        &viewer,
        query.into_inner(),
        Invitation::default(),
        (None, Problems::default()),
        StatusCode::OK,
    )
    .await
}

pub async fn change_user(
    posted: Posted<UserChange>,
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (p, who, change, id) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form,
        id.into_inner(),
    );
    match blocking(&p, move |p| admin::change_user(p, &who, id, &change)).await {
        Ok(()) => Ok(see_other("/admin/utilisateurs")),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            users_page(
                pool,
                &hb,
                &viewer,
                UserQuery::default(),
                Invitation::default(),
                (Some((message, false)), Problems::default()),
                status,
            )
            .await
        }
    }
}

pub async fn invite(
    posted: Posted<Invitation>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (p, who, form, base) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.clone(),
        settings.base_url.clone(),
    );
    match blocking(&p, move |p| admin::invite(p, &who, &base, &form)).await {
        Ok(email) => {
            let done = format!("Invitation envoyée à {email}.");
            users_page(
                pool,
                &hb,
                &viewer,
                UserQuery::default(),
                Invitation::default(),
                (Some((done, true)), Problems::default()),
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            users_page(
                pool,
                &hb,
                &viewer,
                UserQuery::default(),
                posted.form,
                (message.map(|m| (m, false)), problems),
                status,
            )
            .await
        }
    }
}

pub async fn audit_log(
    query: Query<AuditFilter>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    let filter = query.into_inner();
    let (pool, wanted) = (pool.into_inner(), filter.clone());
    let (found, error, problems, status) =
        match blocking(&pool, move |pool| audit::search(pool, &wanted)).await {
            Ok(found) => (Some(found), None, Problems::default(), StatusCode::OK),
            Err(error) => {
                let (message, problems, status) = form_errors::refused(error)?;
                (None, message, problems, status)
            }
        };
    // Links to the neighbouring pages keep the filters.
    let link = |page: i64| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("action", &filter.action)
            .append_pair("actor", &filter.actor)
            .append_pair("object_type", &filter.object_type)
            .append_pair("from", &filter.from)
            .append_pair("to", &filter.to)
            .append_pair("page", &page.to_string());
        format!("/admin/journal?{}", url.finish())
    };
    let (previous, next) = match &found {
        Some(f) => (
            (f.page > 1).then(|| link(f.page - 1)),
            (f.page < f.pages).then(|| link(f.page + 1)),
        ),
        None => (None, None),
    };
    Page::new(
        "pages/admin/audit",
        "Journal d'audit — Groupement",
        "/admin/journal",
    )
    .status(status)
    .render(
        &hb,
        Some(&viewer),
        AuditLogPage {
            log: found,
            filter,
            error,
            errors: FormErrors::of(&problems, AUDIT_FIELDS),
            previous,
            next,
        },
    )
}

pub async fn outbox(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    let pool = pool.into_inner();
    let (rows, counts) = blocking(&pool, admin::outbox).await?;
    let label = |status: &str| match status {
        "pending" => "en attente",
        "sending" => "en cours d'envoi",
        "sent" => "envoyé",
        "failed" => "en échec",
        _ => "inconnu",
    };
    let rows = rows
        .into_iter()
        .map(|r| OutboxLine {
            status: label(&r.status),
            failed: r.status == "failed",
            id: r.id,
            recipient: r.recipient,
            template: r.template,
            attempts: r.attempts,
            next: r.next_attempt_at,
            error: r.last_error,
            created: r.created_at,
        })
        .collect();
    let counts = counts
        .iter()
        .map(|(status, count)| StatusCount {
            status: label(status),
            count: *count,
        })
        .collect();
    Page::new(
        "pages/admin/outbox",
        "Courriels — Groupement",
        "/admin/courriels",
    )
    .render(&hb, Some(&viewer), OutboxPage { rows, counts })
}

pub async fn retry(
    posted: Posted<super::auth::NoFields>,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    blocking(&pool, move |pool| admin::retry(pool, &viewer, id)).await?;
    Ok(see_other("/admin/courriels"))
}

/// The fields of the settings form: input name, label (as the service names its problems),
/// hint.
const SETTINGS_FIELDS: &[(&str, &str, &str)] = &[
    (
        "effective_from",
        "date d'effet",
        "JJ/MM/AAAA, demain ou plus tard",
    ),
    (
        "territory",
        "territoire",
        "départements dont les entreprises sont locales, séparés par des espaces (ex. 21 71 89)",
    ),
    (
        "adapted_min_days",
        "délai minimal en procédure adaptée",
        "jours entre la publication et la date limite, 7 au moins",
    ),
    (
        "formal_min_days",
        "délai minimal en procédure formalisée",
        "jours (30 pour un appel d'offres ouvert)",
    ),
    (
        "standstill_days",
        "délai de suspension",
        "jours entre l'avis d'attribution et la signature (11 au moins)",
    ),
    (
        "no_competition_supplies",
        "dispense de publicité (fournitures et services)",
        "€ HT : en dessous, ni publicité ni mise en concurrence",
    ),
    (
        "no_competition_works",
        "dispense de publicité (travaux)",
        "€ HT",
    ),
    (
        "boamp",
        "publicité au BOAMP",
        "€ HT : au-delà, BOAMP ou journal d'annonces légales",
    ),
    (
        "formal_central",
        "procédure formalisée (acheteurs centraux)",
        "€ HT : État et ses établissements, universités",
    ),
    (
        "formal_sub_central",
        "procédure formalisée (autres acheteurs)",
        "€ HT : collectivités, hôpitaux, offices HLM",
    ),
    ("formal_works", "procédure formalisée (travaux)", "€ HT"),
    (
        "small_lot_supplies",
        "petit lot (fournitures et services)",
        "€ HT : un lot sous ce montant peut suivre une procédure adaptée",
    ),
    ("small_lot_works", "petit lot (travaux)", "€ HT"),
    (
        "small_lots_max_share",
        "part des petits lots",
        "% de la valeur totale que ces petits lots peuvent prendre",
    ),
];

async fn settings_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    form: Option<SettingsForm>,
    problems: crate::error::Problems,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let (sets, in_force) = blocking(&pool, move |pool| {
        let mut conn = pool.get()?;
        Ok::<_, AppError>((settings::all(&mut conn)?, settings::today(&mut conn)?))
    })
    .await?;
    let form = form.unwrap_or_else(|| SettingsForm::from_settings(&in_force));
    let values = serde_json::to_value(&form).map_err(AppError::internal)?;
    let euros = |v: f64| crate::domain::Locale::Fr.euros(crate::domain::Cents::from_euros_f64(v));
    let rows = sets
        .iter()
        .map(|s| {
            let t = &s.thresholds;
            SettingsLine {
                from: s.effective_from.format("%d/%m/%Y").to_string(),
                current: s.effective_from == in_force.effective_from,
                future: s.effective_from > in_force.effective_from,
                territory: s.territory.join(" "),
                adapted_min_days: s.adapted_min_days,
                formal_min_days: t.formal_min_days,
                no_competition: euros(t.no_competition_supplies),
                boamp: euros(t.boamp),
                formal_central: euros(t.formal_central),
                formal_sub_central: euros(t.formal_sub_central),
                formal_works: euros(t.formal_works),
            }
        })
        .collect();
    let fields = SETTINGS_FIELDS
        .iter()
        .map(|&(name, label, hint)| {
            let error: Vec<&str> = problems
                .iter()
                .filter(|p| p.field == label)
                .map(|p| p.message.as_str())
                .collect();
            FieldView {
                name,
                label,
                hint,
                value: values[name].as_str().unwrap_or_default().to_string(),
                error: (!error.is_empty()).then(|| error.join(" ; ")),
            }
        })
        .collect();
    // The summary links each problem to its field (a problem of several fields to the first).
    let summary: Vec<SummaryLine> = problems
        .iter()
        .map(|p| {
            let name = SETTINGS_FIELDS
                .iter()
                .find(|(_, label, _)| *label == p.field)
                .map_or("no_competition_supplies", |(name, _, _)| *name);
            SummaryLine {
                href: format!("#{name}"),
                field: p.field.clone(),
                message: p.message.clone(),
            }
        })
        .collect();
    Page::new(
        "pages/admin/settings",
        "Paramètres des achats — Groupement",
        "/admin/parametres",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        SettingsPage {
            sets: rows,
            fields,
            count: summary.len(),
            summary,
            notice,
        },
    )
}

pub async fn procurement_settings(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    settings_page(
        pool,
        &hb,
        &viewer,
        None,
        crate::error::Problems::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn record_settings(
    posted: Posted<SettingsForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (p, who, form) = (
        pool.clone().into_inner(),
        viewer.clone(),
        posted.form.clone(),
    );
    match blocking(&p, move |p| settings::record(p, &who, &form)).await {
        Ok(day) => {
            let notice = format!(
                "Paramètres enregistrés : ils prendront effet le {}.",
                day.format("%d/%m/%Y")
            );
            settings_page(
                pool,
                &hb,
                &viewer,
                None,
                crate::error::Problems::default(),
                Some(notice),
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Validation(problems)) => {
            settings_page(
                pool,
                &hb,
                &viewer,
                Some(posted.form),
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

/// A choice of a select (a kind of organisation, a role).
#[derive(Serialize)]
struct Choice {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct OrganisationsPage {
    organisations: Vec<admin::OrganisationRow>,
    review_body_id: String,
    kinds: Vec<Choice>,
    form: OrganisationForm,
    error: Option<String>,
    errors: FormErrors,
    central: bool,
}

#[derive(Serialize)]
struct OrganisationPage {
    form: OrganisationForm,
    kinds: Vec<Choice>,
    central: bool,
    error: Option<String>,
    errors: FormErrors,
}

#[derive(Serialize)]
struct UsersPage {
    users: Vec<admin::UserRow>,
    organisations: Vec<String>,
    roles: Vec<Choice>,
    invitation: Invitation,
    error: Option<String>,
    errors: FormErrors,
    done: Option<String>,
    /// Accounts found, the page shown and how many pages.
    total: usize,
    page: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
    q: String,
}

#[derive(Serialize)]
struct AuditLogPage {
    log: Option<audit::AuditPage>,
    filter: AuditFilter,
    error: Option<String>,
    errors: FormErrors,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct OutboxPage {
    rows: Vec<OutboxLine>,
    counts: Vec<StatusCount>,
}

#[derive(Serialize)]
struct OutboxLine {
    id: i32,
    recipient: String,
    template: String,
    status: &'static str,
    failed: bool,
    attempts: i32,
    next: String,
    error: String,
    created: String,
}

#[derive(Serialize)]
struct StatusCount {
    status: &'static str,
    count: i64,
}

/// The procurement settings: every set, and the form of a new one with its problems beside
/// each field and in a summary at the top.
#[derive(Serialize)]
struct SettingsPage {
    sets: Vec<SettingsLine>,
    fields: Vec<FieldView>,
    count: usize,
    summary: Vec<SummaryLine>,
    notice: Option<String>,
}

#[derive(Serialize)]
struct SettingsLine {
    from: String,
    current: bool,
    future: bool,
    territory: String,
    adapted_min_days: u32,
    formal_min_days: u32,
    no_competition: String,
    boamp: String,
    formal_central: String,
    formal_sub_central: String,
    formal_works: String,
}

/// A field of a form: its label, hint, value, and what is wrong with it.
#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    error: Option<String>,
}

/// A line of the error summary, linking to its field.
#[derive(Serialize)]
struct SummaryLine {
    href: String,
    field: String,
    message: String,
}

/// The recovery key's page: its public half when it exists; its secret only once, just made.
#[derive(Serialize)]
struct RecoveryPage {
    recipient: Option<String>,
    created_at: Option<String>,
    /// The secret, shown this once for printing.
    secret: Option<String>,
    error: Option<String>,
}

async fn recovery_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    secret: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (p, who) = (pool.into_inner(), viewer.clone());
    let current = blocking(&p, move |p| {
        crate::services::keys::current_recovery(p, &who)
    })
    .await?;
    let mut response = Page::new(
        "pages/admin/recovery",
        "Clé de secours — Groupement",
        "/admin/cle-de-secours",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        RecoveryPage {
            recipient: current.as_ref().map(|k| k.recipient.clone()),
            created_at: current.map(|k| crate::domain::paris_text(k.created_at)),
            secret,
            error,
        },
    )?;
    // A page that may carry a secret is kept by no cache.
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `GET /admin/cle-de-secours`.
pub async fn recovery_key(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    recovery_page(pool, &hb, &viewer, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RecoveryForm {
    /// Non-empty to replace a lost key.
    #[serde(default)]
    replace: String,
}

/// `POST /admin/cle-de-secours`: makes the recovery key and shows its secret once.
pub async fn create_recovery_key(
    posted: Posted<RecoveryForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let replace = !posted.form.replace.trim().is_empty();
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    match blocking(&p, move |p| {
        crate::services::keys::create_recovery(p, &who, replace)
    })
    .await
    {
        Ok((_, secret)) => {
            recovery_page(
                pool,
                &hb,
                &viewer,
                Some(secret.to_string()),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => {
            let (message, status) = super::refused(error)?;
            recovery_page(pool, &hb, &viewer, None, Some(message), status).await
        }
    }
}
