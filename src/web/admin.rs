//! Admin pages: organisations, users and roles, invitations, the audit log.

use super::auth::{see_other, MaybeViewer, Posted};
use super::templates::render_page;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::admin::{self, Invitation, OrganisationForm, UserChange, ORGANISATION_KINDS};
use crate::services::audit::{self, AuditFilter};
use crate::web::nav::Viewer;
use crate::Settings;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Path, Query};
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde_json::{json, Value};

fn admin_of(viewer: Option<Viewer>) -> Result<Viewer, AppError> {
    viewer
        .filter(|v| v.role == crate::web::nav::Role::Admin)
        .ok_or(AppError::Forbidden)
}

fn page(
    hb: &Handlebars<'static>,
    template: &str,
    title: &str,
    path: &str,
    viewer: &Viewer,
    data: Value,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut response = render_page(hb, template, title, path, Some(viewer), data)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn organisations_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    form: OrganisationForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let rows = web::block(move || admin::organisations(&pool)).await??;
    let kinds: Vec<Value> = ORGANISATION_KINDS
        .iter()
        .map(
            |(code, label)| json!({ "code": code, "label": label, "selected": *code == form.kind }),
        )
        .collect();
    page(
        hb,
        "pages/admin/organisations",
        "Organisations — Groupement",
        "/admin/organisations",
        viewer,
        json!({ "organisations": rows, "kinds": kinds, "form": form, "error": error,
                "central": form.buyer_class == "central" }),
        status,
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
        None,
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
    match web::block(move || admin::create_organisation(&p, &who, &form)).await? {
        Ok(_) => Ok(see_other("/admin/organisations")),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            organisations_page(pool, &hb, &viewer, posted.form, Some(message), status).await
        }
    }
}

async fn users_page(
    pool: Data<Pool>,
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    invitation: Invitation,
    message: Option<(String, bool)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let pool = pool.into_inner();
    let (rows, organisations) =
        web::block(move || Ok::<_, AppError>((admin::users(&pool)?, admin::organisations(&pool)?)))
            .await??;
    let codes: Vec<String> = organisations.into_iter().map(|o| o.code).collect();
    let roles: Vec<Value> = [
        ("buyer", "acheteur"),
        ("lead", "responsable achats"),
        ("admin", "administrateur"),
        ("supplier", "entreprise"),
    ]
    .iter()
    .map(|(code, label)| json!({ "code": code, "label": label }))
    .collect();
    let (error, done) = match message {
        Some((text, true)) => (None, Some(text)),
        Some((text, false)) => (Some(text), None),
        None => (None, None),
    };
    page(
        hb,
        "pages/admin/users",
        "Utilisateurs — Groupement",
        "/admin/utilisateurs",
        viewer,
        json!({ "users": rows, "organisations": codes, "roles": roles,
                "invitation": invitation, "error": error, "done": done }),
        status,
    )
}

pub async fn users(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    users_page(
        pool,
        &hb,
        &viewer,
        Invitation::default(),
        None,
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
    match web::block(move || admin::change_user(&p, &who, id, &change)).await? {
        Ok(()) => Ok(see_other("/admin/utilisateurs")),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            users_page(
                pool,
                &hb,
                &viewer,
                Invitation::default(),
                Some((message, false)),
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
    match web::block(move || admin::invite(&p, &who, &base, &form)).await? {
        Ok(email) => {
            let done = format!("Invitation envoyée à {email}.");
            users_page(
                pool,
                &hb,
                &viewer,
                Invitation::default(),
                Some((done, true)),
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => {
            let (message, status) = super::refused(error)?;
            users_page(
                pool,
                &hb,
                &viewer,
                posted.form,
                Some((message, false)),
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
    let (found, error, status) = match web::block(move || audit::search(&pool, &wanted)).await? {
        Ok(found) => (Some(found), None, StatusCode::OK),
        Err(error) => {
            let (message, status) = super::refused(error)?;
            (None, Some(message), status)
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
    page(
        &hb,
        "pages/admin/audit",
        "Journal d'audit — Groupement",
        "/admin/journal",
        &viewer,
        json!({ "log": found, "filter": filter, "error": error, "previous": previous, "next": next }),
        status,
    )
}

pub async fn outbox(
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(viewer.0)?;
    let pool = pool.into_inner();
    let (rows, counts) = web::block(move || admin::outbox(&pool)).await??;
    let label = |status: &str| match status {
        "pending" => "en attente",
        "sending" => "en cours d'envoi",
        "sent" => "envoyé",
        "failed" => "en échec",
        _ => "inconnu",
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "id": r.id, "recipient": r.recipient, "template": r.template,
                    "status": label(&r.status), "failed": r.status == "failed",
                    "attempts": r.attempts, "next": r.next_attempt_at, "error": r.last_error,
                    "created": r.created_at })
        })
        .collect();
    let counts: Vec<Value> = counts
        .iter()
        .map(|(status, n)| json!({ "status": label(status), "count": n }))
        .collect();
    page(
        &hb,
        "pages/admin/outbox",
        "Courriels — Groupement",
        "/admin/courriels",
        &viewer,
        json!({ "rows": rows, "counts": counts }),
        StatusCode::OK,
    )
}

pub async fn retry(
    posted: Posted<super::auth::NoFields>,
    id: Path<i32>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = admin_of(posted.viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    web::block(move || admin::retry(&pool, &viewer, id)).await??;
    Ok(see_other("/admin/courriels"))
}
