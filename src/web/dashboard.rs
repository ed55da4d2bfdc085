//! `/tableau-de-bord`: the members' spend dashboard — SVG charts, each with its table beneath,
//! filters by year and organisation — and its export as CSV or `.xlsx`.

use super::auth::MaybeViewer;
use super::blocking;
use super::charts;
use super::templates::Page;
use crate::db::Pool;
use crate::domain::Cents;
use crate::error::AppError;
use crate::files::write::{self, Cell};
use crate::services::dashboard::{self, Dashboard, DashboardFilter};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

/// The filters as the form sends them (an empty year is "every year").
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    annee: String,
    #[serde(default)]
    organisation: String,
}

impl DashboardQuery {
    fn filter(&self) -> Result<DashboardFilter, AppError> {
        let year = match self.annee.trim() {
            "" => None,
            text => Some(
                text.parse::<i32>()
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or_else(|| {
                        AppError::validation("année", format!("« {text} » n'est pas une année"))
                    })?,
            ),
        };
        Ok(DashboardFilter {
            year,
            organisation: self.organisation.clone(),
        })
    }
}

fn value_text(money: bool, value: i64) -> String {
    match money {
        true => Cents::new(value).to_string(),
        false => value.to_string(),
    }
}

fn share(part: i64, whole: i64) -> String {
    match whole {
        0 => "—".into(),
        _ => format!("{:.1} %", 100.0 * part as f64 / whole as f64).replace('.', ","),
    }
}

pub async fn show(
    query: Query<DashboardQuery>,
    pool: Data<Pool>,
    hb: Data<Handlebars<'static>>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0.ok_or(AppError::Forbidden)?;
    let (filter, error) = match query.filter() {
        Ok(filter) => (filter, None),
        Err(e) => (DashboardFilter::default(), Some(super::refused(e)?)),
    };
    let p = pool.into_inner();
    let (board, error): (Option<Dashboard>, _) =
        match blocking(&p, move |p| dashboard::dashboard(p, &filter)).await {
            Ok(board) => (Some(board), error),
            Err(e) => (None, Some(super::refused(e)?)),
        };
    let sections: Vec<SectionView> = board
        .iter()
        .flat_map(|b| &b.sections)
        .map(|s| {
            let rows: Vec<(String, Vec<f64>)> = s
                .rows
                .iter()
                .map(|(label, values)| {
                    let values = values
                        .iter()
                        .map(|v| match s.money {
                            true => Cents::new(*v).to_euros_f64(),
                            false => *v as f64,
                        })
                        .collect();
                    (label.clone(), values)
                })
                .collect();
            let money = s.money;
            let format = move |v: f64| match money {
                true => super::pooling::euros(v),
                false => format!("{v:.0}"),
            };
            SectionView {
                key: s.key,
                title: s.title,
                series: s.series.clone(),
                svg: (!rows.is_empty()).then(|| charts::bars(s.title, &s.series, &rows, &format)),
                rows: s
                    .rows
                    .iter()
                    .map(|(label, values)| SectionRow {
                        label: label.clone(),
                        values: values.iter().map(|v| value_text(s.money, *v)).collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    Page::new(
        "pages/dashboard",
        "Tableau de bord — Groupement",
        "/tableau-de-bord",
    )
    .status(status)
    .render(
        &hb,
        Some(&viewer),
        DashboardPage {
            error: error.map(|(m, _)| m),
            years: board.as_ref().map(|b| b.years.clone()).unwrap_or_default(),
            organisations: board
                .as_ref()
                .map(|b| b.organisations.clone())
                .unwrap_or_default(),
            year: board.as_ref().and_then(|b| b.filter.year),
            organisation: board
                .as_ref()
                .map(|b| b.filter.organisation.clone())
                .unwrap_or_default(),
            awarded: board
                .as_ref()
                .map(|b| Cents::new(b.awarded_cents).to_string()),
            territorial: board
                .as_ref()
                .map(|b| share(b.territorial_cents, b.awarded_cents)),
            sme: board.as_ref().map(|b| share(b.sme_cents, b.awarded_cents)),
            average_bids: board
                .as_ref()
                .and_then(|b| b.average_bids_per_lot)
                .map(|a| format!("{a:.1}").replace('.', ",")),
            query: format!(
                "annee={}&organisation={}",
                query.annee.trim(),
                query.organisation.trim()
            ),
            sections,
        },
    )
}

/// `/tableau-de-bord/export.csv` and `.xlsx`: every table of the dashboard, one line per label
/// and series (indicator, label, series, value; amounts in euros).
pub async fn export(
    req: HttpRequest,
    query: Query<DashboardQuery>,
    pool: Data<Pool>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, AppError> {
    viewer.0.ok_or(AppError::Forbidden)?;
    let filter = query.filter()?;
    let p = pool.into_inner();
    let board = blocking(&p, move |p| dashboard::dashboard(p, &filter)).await?;
    let mut rows: Vec<Vec<Cell>> = vec![
        vec![
            Cell::Text("valeur attribuée".into()),
            Cell::Text("total".into()),
            Cell::Text("€ HT".into()),
            Cell::Number(Cents::new(board.awarded_cents).to_euros_f64()),
        ],
        vec![
            Cell::Text("valeur attribuée".into()),
            Cell::Text("entreprises du territoire".into()),
            Cell::Text("€ HT".into()),
            Cell::Number(Cents::new(board.territorial_cents).to_euros_f64()),
        ],
        vec![
            Cell::Text("valeur attribuée".into()),
            Cell::Text("PME".into()),
            Cell::Text("€ HT".into()),
            Cell::Number(Cents::new(board.sme_cents).to_euros_f64()),
        ],
    ];
    for section in &board.sections {
        for (label, values) in &section.rows {
            for (series, value) in section.series.iter().zip(values) {
                rows.push(vec![
                    Cell::Text(section.title.to_string()),
                    Cell::Text(label.clone()),
                    Cell::Text(series.to_string()),
                    Cell::Number(match section.money {
                        true => Cents::new(*value).to_euros_f64(),
                        false => *value as f64,
                    }),
                ]);
            }
        }
    }
    let columns = ["indicateur", "libellé", "série", "valeur"];
    let xlsx = req.path().ends_with(".xlsx");
    let bytes = match xlsx {
        true => write::xlsx("Tableau de bord", &columns, &rows),
        false => write::csv(&columns, &rows),
    }
    .map_err(AppError::internal)?;
    let name = format!(
        "tableau-de-bord{}.{}",
        board
            .filter
            .year
            .map(|y| format!("-{y}"))
            .unwrap_or_default(),
        if xlsx { "xlsx" } else { "csv" }
    );
    Ok(super::needs::download(bytes, &name))
}

/// The spend dashboard: headline figures, then each section as a chart and its table.
#[derive(Serialize)]
struct DashboardPage {
    error: Option<String>,
    years: Vec<i32>,
    organisations: Vec<String>,
    year: Option<i32>,
    organisation: String,
    awarded: Option<String>,
    territorial: Option<String>,
    sme: Option<String>,
    average_bids: Option<String>,
    /// The filters as a query string, for the CSV links.
    query: String,
    sections: Vec<SectionView>,
}

#[derive(Serialize)]
struct SectionView {
    key: &'static str,
    title: &'static str,
    series: Vec<&'static str>,
    svg: Option<String>,
    rows: Vec<SectionRow>,
}

#[derive(Serialize)]
struct SectionRow {
    label: String,
    values: Vec<String>,
}
