//! The confirmation step of an action that cannot be undone (the GOV.UK pattern): a page that
//! says what will happen, with the one button that does it and a way back. The action's page
//! links here (a `GET` of the action's own path); the button posts the action. The action
//! itself does not depend on this page: an API or a test may post it directly.

use super::templates::Page;
use crate::error::AppError;
use crate::web::nav::Viewer;
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::Serialize;

/// What a confirmation page says and does.
#[derive(Debug, Serialize)]
pub struct Confirmation {
    pub heading: String,
    /// What will happen, a sentence each.
    pub consequences: Vec<String>,
    /// Where the button posts.
    pub action: String,
    /// Fields posted with it (besides the anti-forgery token).
    pub fields: Vec<HiddenField>,
    pub button: String,
    /// Whether the action destroys or withdraws something (a red button).
    pub danger: bool,
    /// Where "Annuler" leads: the page the person came from.
    pub back: String,
}

#[derive(Debug, Serialize)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

impl Confirmation {
    pub fn render(
        self,
        hb: &Handlebars<'static>,
        viewer: &Viewer,
        nav_path: &str,
    ) -> Result<HttpResponse, AppError> {
        Page::new(
            "pages/confirm",
            format!("{} — Groupement", self.heading),
            nav_path,
        )
        .render(hb, Some(viewer), self)
    }
}
