//! A buyer's pages for the needs of their organisation: list with filters and totals, create
//! (or copy last year's), edit, withdraw, submit in bulk, import a spreadsheet, download the
//! template, export; and the CPV search the form's picker calls.

use super::auth::{check_csrf, check_origin, see_other, MaybeViewer, Posted};
use super::blocking;
use super::form_errors::{self, Field, FormErrors};
use super::pooling::euros;
use super::templates::Page;
use crate::db::Pool;
use crate::domain::CpvCatalog;
use crate::error::{AppError, Problems};
use crate::files::write::{self, Cell};
use crate::files::Table;
use crate::services::needs::{
    self, ImportError, ListCache, NeedFilter, NeedView, RawNeed, NEED_COLUMNS, STATUSES,
};
use crate::web::nav::Viewer;
use crate::Settings;
use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Largest spreadsheet accepted by the import page (said on the page before upload).
pub const MAX_UPLOAD_BYTES: usize = 10 << 20;

fn buyer(viewer: Option<Viewer>) -> Result<Viewer, AppError> {
    let viewer = viewer.ok_or(AppError::Forbidden)?;
    viewer.require_member()?;
    Ok(viewer)
}

pub fn status_label(status: &str) -> &'static str {
    crate::domain::NeedStatus::parse(status).map_or("inconnu", crate::domain::NeedStatus::label_fr)
}

/// A need as a line of the list.
#[derive(Serialize)]
struct NeedLine {
    id: i32,
    need_id: Option<String>,
    cpv: String,
    cpv_label: String,
    title: String,
    quantity: String,
    unit: String,
    value: String,
    window: String,
    status: &'static str,
    draft: bool,
    editable: bool,
    poolable: bool,
}

fn row_of(need: &NeedView) -> NeedLine {
    NeedLine {
        id: need.id,
        need_id: need.need_id.clone(),
        cpv: need.cpv.clone(),
        cpv_label: need.cpv_label.clone(),
        title: need.title.clone(),
        quantity: needs::french_number(need.quantity),
        unit: need.unit.clone(),
        value: euros(need.value_eur),
        window: format!(
            "{} → {}",
            need.window_start.format("%d/%m/%Y"),
            need.window_end.format("%d/%m/%Y")
        ),
        status: status_label(&need.status),
        draft: need.status == "draft",
        editable: need.editable,
        poolable: need.poolable,
    }
}

/// The needs list: a page of needs, totals by status and division, the filters.
#[derive(Serialize)]
struct ListPage<'a> {
    list: ListView,
    filter: FilterView<'a>,
    statuses: Vec<StatusChoice>,
    export: String,
    notice: Option<String>,
    error: Option<String>,
    errors: FormErrors,
}

#[derive(Serialize, Default)]
struct ListView {
    needs: Vec<NeedLine>,
    total: i64,
    total_value: String,
    by_status: Vec<StatusLine>,
    by_division: Vec<DivisionLine>,
    page: i64,
    pages: i64,
    previous: Option<String>,
    next: Option<String>,
    any_draft: bool,
}

#[derive(Serialize)]
struct StatusLine {
    status: &'static str,
    count: i64,
    value: String,
}

#[derive(Serialize)]
struct DivisionLine {
    division: String,
    label: String,
    count: i64,
    value: String,
}

/// The filters as typed, shown again in their fields.
#[derive(Serialize)]
struct FilterView<'a> {
    cpv: &'a str,
    year: &'a str,
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct StatusChoice {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

/// The filter as a query string (for pagination and export links).
fn query_of(filter: &NeedFilter, page: Option<i64>) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("status", &filter.status)
        .append_pair("cpv", &filter.cpv)
        .append_pair(
            "year",
            &filter.year.map(|y| y.to_string()).unwrap_or_default(),
        )
        .append_pair("from", &filter.from)
        .append_pair("to", &filter.to);
    if let Some(page) = page {
        url.append_pair("page", &page.to_string());
    }
    url.finish()
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    cpv: String,
    /// Text, so that an empty field means "any year".
    #[serde(default)]
    year: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> Result<NeedFilter, AppError> {
        let year = match self.year.trim() {
            "" => None,
            text => Some(text.parse::<i32>().map_err(|_| {
                AppError::validation("year", format!("« {text} » n'est pas une année"))
            })?),
        };
        Ok(NeedFilter {
            status: self.status.clone(),
            cpv: self.cpv.clone(),
            year,
            from: self.from.clone(),
            to: self.to.clone(),
            page: self.page,
            per_page: Some(50),
        })
    }
}

/// The list's filters (the API's names of their problems, their inputs, their labels).
const FILTER_FIELDS: &[Field] = &[
    Field {
        problem: "status",
        input: "f-status",
        label: "Statut",
    },
    Field {
        problem: "cpv",
        input: "f-cpv",
        label: "Code CPV commençant par",
    },
    Field {
        problem: "year",
        input: "f-year",
        label: "Année budgétaire",
    },
    Field {
        problem: "from",
        input: "f-from",
        label: "Livraison entre le",
    },
    Field {
        problem: "to",
        input: "f-to",
        label: "et le",
    },
];

#[allow(clippy::too_many_arguments)]
async fn list_page(
    pool: Data<Pool>,
    cache: Data<ListCache>,
    hb: &Handlebars<'static>,
    viewer: Viewer,
    query: &ListQuery,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (pool, who) = (pool.into_inner(), viewer.clone());
    let (filter, found) = match query.filter() {
        Ok(wanted) => {
            let asked = wanted.clone();
            let found = blocking(&pool, move |pool| needs::list(pool, &cache, &who, &asked)).await;
            (wanted, found)
        }
        Err(e) => (NeedFilter::default(), Err(e)),
    };
    // A filter that does not read: each problem beside its field of the filters.
    let (list, error, problems, status) = match found {
        Ok(list) => (Some(list), error, Problems::default(), status),
        Err(AppError::Validation(problems)) => (
            None,
            error,
            problems,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(other),
    };
    let page_link = |page: i64| format!("/besoins?{}", query_of(&filter, Some(page)));
    let data = match &list {
        Some(list) => ListView {
            needs: list.needs.iter().map(row_of).collect(),
            total: list.total,
            total_value: euros(list.total_value_eur),
            by_status: list
                .by_status
                .iter()
                .map(|s| StatusLine {
                    status: status_label(&s.status),
                    count: s.count,
                    value: euros(s.value_eur),
                })
                .collect(),
            by_division: list
                .by_division
                .iter()
                .take(8)
                .map(|d| DivisionLine {
                    division: d.division.clone(),
                    label: d.label.clone(),
                    count: d.count,
                    value: euros(d.value_eur),
                })
                .collect(),
            page: list.page,
            pages: list.pages,
            previous: (list.page > 1).then(|| page_link(list.page - 1)),
            next: (list.page < list.pages).then(|| page_link(list.page + 1)),
            any_draft: list.needs.iter().any(|n| n.status == "draft"),
        },
        None => ListView {
            total_value: euros(0.0),
            page: 1,
            pages: 1,
            ..ListView::default()
        },
    };
    let statuses = STATUSES
        .iter()
        .map(|&code| StatusChoice {
            code,
            label: status_label(code),
            selected: filter.status == code,
        })
        .collect();
    let view = ListPage {
        list: data,
        filter: FilterView {
            cpv: &query.cpv,
            year: &query.year,
            from: &query.from,
            to: &query.to,
        },
        statuses,
        export: query_of(&filter, None),
        notice,
        error,
        errors: FormErrors::of(&problems, FILTER_FIELDS),
    };
    Page::new("pages/needs/list", "Besoins — Groupement", "/besoins")
        .status(status)
        .render(hb, Some(&viewer), view)
}

pub async fn list(
    query: Query<ListQuery>,
    pool: Data<Pool>,
    cache: Data<ListCache>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    list_page(pool, cache, &hb, viewer, &query, None, None, StatusCode::OK).await
}

/// The fields of the need form: the service's name of each (the API's), its input, its label.
const NEED_FIELDS: &[Field] = &[
    Field {
        problem: "cpv",
        input: "cpv",
        label: "Code CPV",
    },
    Field {
        problem: "title",
        input: "title",
        label: "Intitulé",
    },
    Field {
        problem: "description",
        input: "description",
        label: "Description",
    },
    Field {
        problem: "need_id",
        input: "need_id",
        label: "Votre référence",
    },
    Field {
        problem: "quantity",
        input: "quantity",
        label: "Quantité",
    },
    Field {
        problem: "unit",
        input: "unit",
        label: "Unité",
    },
    Field {
        problem: "unit_price_eur",
        input: "unit_price_eur",
        label: "Prix unitaire estimé",
    },
    Field {
        problem: "delivery_postcode",
        input: "delivery_postcode",
        label: "Code postal de livraison",
    },
    Field {
        problem: "window_start",
        input: "window_start",
        label: "Livraison à partir du",
    },
    Field {
        problem: "window_end",
        input: "window_end",
        label: "Livraison au plus tard le",
    },
    Field {
        problem: "poolable",
        input: "poolable",
        label: "Mutualisable",
    },
];

/// What the need form shows.
struct FormPage<'a> {
    title: &'a str,
    action: &'a str,
    need: &'a RawNeed,
    existing: Option<&'a NeedView>,
    /// A refusal of no field (a conflict).
    error: Option<String>,
    /// The problems of the fields, each shown beside its field.
    problems: Problems,
    notice: Option<&'a str>,
    status: StatusCode,
}

impl<'a> FormPage<'a> {
    /// The form of a new need.
    fn new_need(need: &'a RawNeed) -> Self {
        FormPage {
            title: "Nouveau besoin",
            action: "/besoins/nouveau",
            need,
            existing: None,
            error: None,
            problems: Problems::default(),
            notice: None,
            status: StatusCode::OK,
        }
    }
}

fn form_page(
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    form: FormPage<'_>,
) -> Result<HttpResponse, AppError> {
    let FormPage {
        title,
        action,
        need,
        existing,
        error,
        problems,
        notice,
        status,
    } = form;
    let catalog = CpvCatalog::embedded();
    let cpv_code = need.cpv.split('-').next().unwrap_or("").trim().to_string();
    let hierarchy = catalog
        .get(&cpv_code)
        .map(|entry| {
            let mut path = catalog.ancestors(&entry.code8);
            path.push(entry);
            path.iter()
                .map(|e| CpvStep {
                    code: e.code8.clone(),
                    label: e.label_fr.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let view = NeedFormPage {
        heading: title,
        action,
        need,
        error,
        errors: FormErrors::of(&problems, NEED_FIELDS),
        notice,
        poolable: need.poolable.is_empty()
            || crate::files::cells::parse_flag(&need.poolable).unwrap_or(true)
            || need.poolable == "on",
        existing: existing.map(|n| ExistingNeed {
            id: n.id,
            status: status_label(&n.status),
            editable: n.editable,
            value: euros(n.value_eur),
            draft: n.status == "draft",
            title_public: n.title_public,
        }),
        readonly: existing.is_some_and(|n| !n.editable),
        hierarchy,
    };
    Page::new(
        "pages/needs/form",
        format!("{title} — Groupement"),
        "/besoins",
    )
    .status(status)
    .render(hb, Some(viewer), view)
}

/// The need form: what was typed (or stored), the need's life, the CPV code's place.
#[derive(Serialize)]
struct NeedFormPage<'a> {
    heading: &'a str,
    action: &'a str,
    need: &'a RawNeed,
    error: Option<String>,
    errors: FormErrors,
    notice: Option<&'a str>,
    poolable: bool,
    existing: Option<ExistingNeed>,
    readonly: bool,
    hierarchy: Vec<CpvStep>,
}

#[derive(Serialize)]
struct ExistingNeed {
    id: i32,
    status: &'static str,
    editable: bool,
    value: String,
    draft: bool,
    title_public: bool,
}

/// A level of the CPV code's hierarchy (division, group, class, category).
#[derive(Serialize)]
struct CpvStep {
    code: String,
    label: String,
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    /// A need to copy for next year.
    #[serde(default)]
    copie: Option<i32>,
}

pub async fn new_form(
    query: Query<NewQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    let need = match query.copie {
        Some(id) => {
            let (pool, who) = (pool.into_inner(), viewer.clone());
            blocking(&pool, move |pool| needs::copy_for_next_year(pool, &who, id)).await?
        }
        None => RawNeed::default(),
    };
    form_page(&hb, &viewer, FormPage::new_need(&need))
}

/// The form's fields and the button pressed (`draft` or `submit`).
#[derive(Debug, Deserialize)]
pub struct NeedForm {
    #[serde(flatten)]
    need: RawNeed,
    #[serde(default)]
    action: String,
}

pub async fn create(
    posted: Posted<NeedForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(posted.viewer)?;
    let NeedForm { mut need, action } = posted.form;
    if need.poolable.is_empty() {
        need.poolable = "non".into(); // an unticked checkbox sends nothing
    }
    let (p, who, raw) = (pool.into_inner(), viewer.clone(), need.clone());
    let submit = action == "submit";
    match blocking(&p, move |p| needs::create(p, &who, &raw, submit)).await {
        Ok(created) => Ok(see_other(&format!("/besoins/{}?enregistre=1", created.id))),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            form_page(
                &hb,
                &viewer,
                FormPage {
                    error: message,
                    problems,
                    status,
                    ..FormPage::new_need(&need)
                },
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    enregistre: Option<String>,
}

pub async fn show(
    id: Path<i32>,
    query: Query<ShowQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    let (p, who, id) = (pool.into_inner(), viewer.clone(), id.into_inner());
    let need = blocking(&p, move |p| needs::get(p, &who, id)).await?;
    let title = format!("Besoin n° {}", need.id);
    form_page(
        &hb,
        &viewer,
        FormPage {
            title: &title,
            action: &format!("/besoins/{}", need.id),
            need: &needs::raw_of(&need),
            existing: Some(&need),
            error: None,
            problems: Problems::default(),
            notice: query.enregistre.as_ref().map(|_| "Besoin enregistré."),
            status: StatusCode::OK,
        },
    )
}

pub async fn update(
    id: Path<i32>,
    posted: Posted<NeedForm>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(posted.viewer)?;
    let NeedForm { mut need, action } = posted.form;
    if need.poolable.is_empty() {
        need.poolable = "non".into();
    }
    let id = id.into_inner();
    let (p, who, raw) = (pool.clone().into_inner(), viewer.clone(), need.clone());
    let outcome = blocking(&p, move |p| {
        let updated = needs::update(p, &who, id, &raw)?;
        if action == "submit" && updated.status == "draft" {
            needs::submit(p, &who, &[id])?;
        }
        Ok::<_, AppError>(())
    })
    .await;
    match outcome {
        Ok(()) => Ok(see_other(&format!("/besoins/{id}?enregistre=1"))),
        Err(error) => {
            let (message, problems, status) = form_errors::refused(error)?;
            let (p, who) = (pool.into_inner(), viewer.clone());
            let existing = blocking(&p, move |p| needs::get(p, &who, id)).await?;
            form_page(
                &hb,
                &viewer,
                FormPage {
                    title: &format!("Besoin n° {id}"),
                    action: &format!("/besoins/{id}"),
                    need: &need,
                    existing: Some(&existing),
                    error: message,
                    problems,
                    notice: None,
                    status,
                },
            )
        }
    }
}

pub async fn withdraw(
    id: Path<i32>,
    posted: Posted<super::auth::NoFields>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(posted.viewer)?;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    blocking(&pool, move |pool| needs::withdraw(pool, &viewer, id)).await?;
    Ok(see_other(&format!("/besoins/{id}")))
}

/// `GET /besoins/{id}/retirer`: what withdrawing the need does, before it is done.
pub async fn confirm_withdraw(
    id: Path<i32>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    let (who, id) = (viewer.clone(), id.into_inner());
    let need = blocking(&pool, move |p| needs::get(p, &who, id)).await?;
    super::confirm::Confirmation {
        heading: format!("Retirer le besoin n° {} ?", need.id),
        consequences: vec![
            format!(
                "« {} » ({} {}, {} HT) ne sera plus proposé à la mutualisation ni acheté.",
                need.title,
                needs::french_number(need.quantity),
                need.unit,
                euros(need.value_eur)
            ),
            "Un besoin retiré ne revient pas : pour l'acheter plus tard, il faudra le saisir \
             à nouveau (« Reprendre pour l'année suivante » en garde les valeurs)."
                .into(),
        ],
        action: format!("/besoins/{}/retirer", need.id),
        fields: Vec::new(),
        button: "Retirer ce besoin".into(),
        danger: true,
        back: format!("/besoins/{}", need.id),
    }
    .render(&hb, &viewer, "/besoins")
}

/// Bulk submission: the list's checkboxes are named `besoin_<id>`.
pub async fn submit(
    posted: Posted<HashMap<String, String>>,
    pool: Data<Pool>,
    cache: Data<ListCache>,
    hb: Data<Handlebars<'static>>,
) -> Result<HttpResponse, AppError> {
    let mut viewer = buyer(posted.viewer)?;
    let ids: Vec<i32> = posted
        .form
        .keys()
        .filter_map(|k| k.strip_prefix("besoin_"))
        .filter_map(|id| id.parse().ok())
        .collect();
    if ids.is_empty() {
        return list_page(
            pool,
            cache,
            &hb,
            viewer,
            &ListQuery::default(),
            None,
            Some("Cochez les brouillons à soumettre.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (p, who) = (pool.clone().into_inner(), viewer.clone());
    let submitted = blocking(&p, move |p| needs::submit(p, &who, &ids)).await;
    // The version of the needs read with the session is from before this change: the list
    // shown next is read afresh.
    viewer.actor.needs_version = None;
    match submitted {
        Ok(count) => {
            list_page(
                pool,
                cache,
                &hb,
                viewer,
                &ListQuery::default(),
                Some(format!("{count} besoin(s) soumis à la mutualisation.")),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(error) => {
            let (message, status) = super::refused(error)?;
            list_page(
                pool,
                cache,
                &hb,
                viewer,
                &ListQuery::default(),
                None,
                Some(message),
                status,
            )
            .await
        }
    }
}

fn import_page(
    hb: &Handlebars<'static>,
    viewer: &Viewer,
    errors: &[String],
    imported: Option<&[ImportedLine]>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    Page::new(
        "pages/needs/import",
        "Importer des besoins — Groupement",
        "/besoins",
    )
    .status(status)
    .render(
        hb,
        Some(viewer),
        ImportPage {
            errors,
            imported,
            count: imported.map(<[ImportedLine]>::len),
            max_mb: MAX_UPLOAD_BYTES >> 20,
            columns: NEED_COLUMNS.join(", "),
        },
    )
}

/// The import page: the problems of a refused file, or what was imported.
#[derive(Serialize)]
struct ImportPage<'a> {
    errors: &'a [String],
    imported: Option<&'a [ImportedLine]>,
    count: Option<usize>,
    max_mb: usize,
    columns: String,
}

/// A need imported, by its row.
#[derive(Serialize)]
struct ImportedLine {
    row: usize,
    need_id: String,
    title: String,
    cpv: String,
}

pub async fn import_form(
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    import_page(&hb, &viewer, &[], None, StatusCode::OK)
}

pub async fn import(
    req: HttpRequest,
    form: Multipart,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    settings: Data<Settings>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    check_origin(&req, &settings)?;
    let super::uploads::Upload { token, file, .. } =
        super::uploads::read(form, MAX_UPLOAD_BYTES).await?;
    check_csrf(&req, viewer.0.as_ref(), &token)?;
    let viewer = buyer(viewer.0)?;
    let Some(file) = file else {
        return import_page(
            &hb,
            &viewer,
            &["fichier : choisissez un fichier CSV ou xlsx".into()],
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    // Reading a file is work for a blocking thread, not for the server's event loop.
    let read = web::block(move || {
        file.bytes()
            .map(|bytes| Table::read(&bytes, &NEED_COLUMNS).map(|t| needs::rows_of(&t)))
    });
    let rows = match read.await?? {
        Ok(rows) => rows,
        Err(errors) => {
            let lines = crate::files::report(&errors);
            return import_page(&hb, &viewer, &lines, None, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let shown: Vec<ImportedLine> = rows
        .iter()
        .map(|r| ImportedLine {
            row: r.number,
            need_id: r.need.need_id.clone(),
            title: r.need.title.clone(),
            cpv: r.need.cpv.clone(),
        })
        .collect();
    let (p, who) = (pool.into_inner(), viewer.clone());
    match blocking(&p, move |p| {
        needs::import(p, needs::Importer::Actor(&who), &rows)
    })
    .await
    {
        Ok(_) => import_page(&hb, &viewer, &[], Some(&shown), StatusCode::CREATED),
        Err(ImportError::Rows(errors)) => {
            let lines = crate::files::report(&errors);
            import_page(&hb, &viewer, &lines, None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(ImportError::Other(AppError::Validation(problems))) => import_page(
            &hb,
            &viewer,
            &problems.lines(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(ImportError::Other(other)) => Err(other),
    }
}

/// The columns of files: DESIGN's needs columns, then `description`.
fn file_columns() -> Vec<&'static str> {
    let mut columns = NEED_COLUMNS.to_vec();
    columns.push("description");
    columns
}

fn cells_of(need: &NeedView) -> Vec<Cell> {
    let text = |t: &str| Cell::Text(t.to_string());
    vec![
        text(need.need_id.as_deref().unwrap_or("")),
        text(&need.buyer),
        text(&need.cpv),
        text(&need.title),
        Cell::Number(need.quantity),
        text(&need.unit),
        Cell::Number(need.unit_price_eur),
        text(&need.delivery_postcode),
        text(&need.window_start.format("%d/%m/%Y").to_string()),
        text(&need.window_end.format("%d/%m/%Y").to_string()),
        text(if need.poolable { "oui" } else { "non" }),
        text(&need.description),
    ]
}

pub(crate) fn download(bytes: Vec<u8>, name: &str) -> HttpResponse {
    let content_type = match name.ends_with(".xlsx") {
        true => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        false => "text/csv; charset=utf-8",
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes)
}

/// `/besoins/modele.csv` and `.xlsx`: the header and one example row.
pub async fn template(req: HttpRequest, viewer: MaybeViewer) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    let text = |t: &str| Cell::Text(t.to_string());
    let example = vec![
        text("2027-001"),
        text(viewer.organisation.as_deref().unwrap_or("")),
        text("30192000"),
        text("Fournitures de bureau"),
        Cell::Number(1200.0),
        text("unité"),
        Cell::Number(2.5),
        text("21000"),
        text("01/03/2027"),
        text("30/06/2027"),
        text("oui"),
        text("Stylos, surligneurs, agrafes (exemple à remplacer)"),
    ];
    let columns = file_columns();
    let xlsx = req.path().ends_with(".xlsx");
    let bytes = match xlsx {
        true => write::xlsx("Besoins", &columns, &[example]),
        false => write::csv(&columns, &[example]),
    }
    .map_err(AppError::internal)?;
    Ok(download(
        bytes,
        if xlsx {
            "modele-besoins.xlsx"
        } else {
            "modele-besoins.csv"
        },
    ))
}

/// `/besoins/export.csv` and `.xlsx`: every need matching the list's filters.
pub async fn export(
    req: HttpRequest,
    query: Query<ListQuery>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(viewer.0)?;
    let filter = query.filter()?;
    let code = viewer.organisation.clone().unwrap_or_default();
    let pool = pool.into_inner();
    let found = blocking(&pool, move |pool| {
        needs::all_matching(pool, &viewer, &filter)
    })
    .await?;
    let rows: Vec<Vec<Cell>> = found.iter().map(cells_of).collect();
    let columns = file_columns();
    let xlsx = req.path().ends_with(".xlsx");
    let bytes = match xlsx {
        true => write::xlsx("Besoins", &columns, &rows),
        false => write::csv(&columns, &rows),
    }
    .map_err(AppError::internal)?;
    let name = format!(
        "besoins-{}.{}",
        code.to_lowercase(),
        if xlsx { "xlsx" } else { "csv" }
    );
    Ok(download(bytes, &name))
}

#[derive(Debug, Deserialize)]
pub struct CpvQuery {
    #[serde(default)]
    q: String,
}

/// `GET /cpv/recherche?q=`: the picker's search, by code or words (French or English), each
/// code with its hierarchy. Public: the vocabulary is.
pub async fn cpv_search(query: Query<CpvQuery>) -> HttpResponse {
    let catalog = CpvCatalog::embedded();
    let hits: Vec<CpvHit> = catalog
        .search(&query.q, 30)
        .into_iter()
        .map(|e| CpvHit {
            code: &e.code8,
            label: &e.label_fr,
            label_en: &e.label_en,
            path: catalog
                .ancestors(&e.code8)
                .iter()
                .map(|a| a.label_fr.as_str())
                .collect(),
        })
        .collect();
    HttpResponse::Ok().json(hits)
}

/// A code the CPV picker found, with its hierarchy.
#[derive(Serialize)]
struct CpvHit<'a> {
    code: &'a str,
    label: &'a str,
    label_en: &'a str,
    path: Vec<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TitleChoice {
    #[serde(default)]
    publier: String,
}

/// `POST /besoins/{id}/programme`: the need's title shown on the public purchase programme
/// (`publier=oui`) or not (`non`).
pub async fn publish_title(
    id: Path<i32>,
    posted: Posted<TitleChoice>,
    pool: Data<Pool>,
) -> Result<HttpResponse, AppError> {
    let viewer = buyer(posted.viewer)?;
    let choice = posted.form.publier;
    let (pool, id) = (pool.into_inner(), id.into_inner());
    blocking(&pool, move |pool| {
        needs::publish_title(pool, &viewer, id, &choice)
    })
    .await?;
    Ok(see_other(&format!("/besoins/{id}#programme")))
}
