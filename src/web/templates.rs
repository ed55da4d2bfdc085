//! Handlebars templates, embedded in the binary and registered in strict mode: a missing
//! variable is an error, not an empty string. Templates only display; view models come ready.

use crate::error::AppError;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use handlebars::Handlebars;
use serde::Serialize;

use super::nav::{nav_for, NavItem, Viewer};

#[derive(rust_embed::RustEmbed)]
#[folder = "templates/"]
#[include = "*.hbs"]
#[exclude = "email/*"]
struct TemplateFiles;

/// Registers every `templates/**/*.hbs` under its path without the extension
/// (`pages/home`, `layouts/base`, `partials/nav`).
pub fn registry() -> Result<Handlebars<'static>, String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_dev_mode(false);
    hb.register_helper("field_error", Box::new(field_error));
    hb.register_helper("invalid", Box::new(invalid));
    for path in TemplateFiles::iter() {
        let file = TemplateFiles::get(&path).ok_or_else(|| format!("{path}: not embedded"))?;
        let text = std::str::from_utf8(&file.data).map_err(|e| format!("{path}: {e}"))?;
        let name = path.trim_end_matches(".hbs");
        hb.register_template_string(name, text)
            .map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(hb)
}

/// The message of a field of a form's errors ([`super::form_errors::FormErrors`]), if any.
fn message_of<'h>(
    h: &'h handlebars::Helper<'_>,
    name: &'static str,
) -> Result<(Option<&'h str>, &'h str), handlebars::RenderError> {
    let errors = h
        .param(0)
        .ok_or(handlebars::RenderErrorReason::ParamNotFoundForIndex(
            name, 0,
        ))?
        .value();
    let id = h.param(1).and_then(|p| p.value().as_str()).ok_or(
        handlebars::RenderErrorReason::ParamNotFoundForIndex(name, 1),
    )?;
    let message = errors
        .get("fields")
        .and_then(|fields| fields.get(id))
        .and_then(|m| m.as_str());
    Ok((message, id))
}

/// `{{field_error data.errors "siret"}}`: the field's message above it, for eyes and screen
/// readers (`<id>-erreur`, which the input's `aria-describedby` names), or nothing.
fn field_error(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    if let (Some(message), id) = message_of(h, "field_error")? {
        out.write(&format!(
            "<p class=\"field-error\" id=\"{}-erreur\"><span class=\"sr\">Erreur : </span>{}</p>",
            handlebars::html_escape(id),
            handlebars::html_escape(message)
        ))?;
    }
    Ok(())
}

/// `<input …{{invalid data.errors "siret"}}>`: marks a field in error and links its message.
fn invalid(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    _: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    if let (Some(_), id) = message_of(h, "invalid")? {
        out.write(&format!(
            " aria-invalid=\"true\" aria-describedby=\"{}-erreur\"",
            handlebars::html_escape(id)
        ))?;
    }
    Ok(())
}

/// What every page gets besides its own data.
#[derive(Serialize)]
struct PageContext<'a, T: Serialize> {
    title: &'a str,
    nav: Vec<NavItem>,
    viewer: Option<&'a Viewer>,
    data: T,
}

/// A page to render inside the layout: its template, title, the navigation's current path and
/// its HTTP status (200 unless said). Every page of the portal goes through [`Page::render`].
pub struct Page<'a> {
    template: &'a str,
    title: String,
    path: &'a str,
    status: StatusCode,
}

impl<'a> Page<'a> {
    pub fn new(template: &'a str, title: impl Into<String>, path: &'a str) -> Self {
        Page {
            template,
            title: title.into(),
            path,
            status: StatusCode::OK,
        }
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The page with its view (a typed view struct, serialised for the template).
    pub fn render<T: Serialize>(
        self,
        hb: &Handlebars<'static>,
        viewer: Option<&Viewer>,
        data: T,
    ) -> Result<HttpResponse, AppError> {
        let context = PageContext {
            title: &self.title,
            nav: nav_for(viewer.map(|v| v.role), self.path),
            viewer,
            data,
        };
        let html = hb
            .render(self.template, &context)
            .map_err(AppError::internal)?;
        Ok(HttpResponse::build(self.status)
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

/// What the error page shows.
#[derive(Serialize)]
struct ErrorView {
    status: u16,
    message: String,
}

/// The error page: status, a title for people, and the public message only.
pub fn render_error(
    hb: &Handlebars<'static>,
    status: StatusCode,
    message: Option<String>,
    viewer: Option<&Viewer>,
) -> Result<String, handlebars::RenderError> {
    let (title, default_message) = match status.as_u16() {
        404 => (
            "Page introuvable",
            "Cette page n'existe pas ou n'est pas accessible.",
        ),
        403 => ("Accès refusé", "Vous n'avez pas accès à cette page."),
        400..=499 => ("Requête refusée", "La requête n'a pas pu être traitée."),
        _ => (
            "Erreur du serveur",
            "Une erreur inattendue s'est produite. Elle a été consignée ; réessayez dans un instant.",
        ),
    };
    // The detailed message is kept for client errors only: a server error says nothing more.
    let message = match status.is_server_error() {
        true => default_message.to_string(),
        false => message.unwrap_or_else(|| default_message.to_string()),
    };
    // A signed-in person keeps their header and navigation on an error page.
    let context = PageContext {
        title,
        nav: nav_for(viewer.map(|v| v.role), ""),
        viewer,
        data: ErrorView {
            status: status.as_u16(),
            message,
        },
    };
    hb.render("pages/error", &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_error_page_hides_details() {
        let hb = registry().unwrap();
        assert!(hb.has_template("layouts/base"));
        let html = render_error(
            &hb,
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("SQL: relation needs".into()),
            None,
        )
        .unwrap();
        assert!(html.contains("Erreur du serveur"));
        assert!(!html.contains("relation needs"));
        let html = render_error(&hb, StatusCode::NOT_FOUND, None, None).unwrap();
        assert!(html.contains("Page introuvable"));
    }
}
