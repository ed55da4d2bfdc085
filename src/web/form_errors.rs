//! The errors of a refused form, the GOV.UK way: a summary at the top saying how many things to
//! correct and linking to each field, and each message beside its field, which is marked
//! `aria-invalid` and described by the message (`templates/partials/error_summary.hbs`). Fields
//! are named by their French labels, never by the code a service uses for them.

use crate::error::{AppError, Problems};
use serde::Serialize;
use std::collections::BTreeMap;

/// A field of a form: the name a service gives its problems, the id of its input, its label.
pub struct Field {
    pub problem: &'static str,
    pub input: &'static str,
    pub label: &'static str,
}

/// What a form's template needs to show its errors.
#[derive(Debug, Default, Serialize)]
pub struct FormErrors {
    /// Every input of the form with its message, or `null` (each key is there, for strict
    /// templates).
    pub fields: BTreeMap<&'static str, Option<String>>,
    /// The problems in the order of the form, each linking to its field.
    pub summary: Vec<SummaryLine>,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct SummaryLine {
    /// `#<input id>`, or empty for a problem of no field of the form.
    pub href: String,
    pub label: String,
    pub message: String,
}

impl FormErrors {
    /// A form with nothing to correct.
    pub fn none(fields: &[Field]) -> Self {
        FormErrors {
            fields: fields.iter().map(|f| (f.input, None)).collect(),
            ..FormErrors::default()
        }
    }

    /// The problems of a refused form, beside their fields and in the summary; a problem of
    /// no field of the form (`row 2: …` of another tool) is in the summary only, as it is.
    pub fn of(problems: &Problems, fields: &[Field]) -> Self {
        let mut errors = FormErrors::none(fields);
        for field in fields {
            let messages: Vec<&str> = problems
                .iter()
                .filter(|p| p.field == field.problem)
                .map(|p| p.message.as_str())
                .collect();
            if messages.is_empty() {
                continue;
            }
            let message = messages.join(" ; ");
            // Two problems may point at one input (a group's own problem at its first field).
            let shown = match errors.fields.get(field.input) {
                Some(Some(before)) => format!("{before} ; {message}"),
                _ => message.clone(),
            };
            errors.fields.insert(field.input, Some(shown));
            errors.summary.push(SummaryLine {
                href: format!("#{}", field.input),
                label: field.label.to_string(),
                message,
            });
        }
        for problem in problems.iter() {
            if !fields.iter().any(|f| f.problem == problem.field) {
                errors.summary.push(SummaryLine {
                    href: String::new(),
                    label: problem.field.clone(),
                    message: problem.message.clone(),
                });
            }
        }
        errors.count = errors.summary.len();
        errors
    }
}

/// Why a form was refused: its problems, to show field by field, or one message (a conflict,
/// too many attempts); any other error goes on as an error.
pub fn refused(
    error: AppError,
) -> Result<(Option<String>, Problems, actix_web::http::StatusCode), AppError> {
    match error {
        AppError::Validation(problems) => Ok((
            None,
            problems,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        )),
        other => {
            let (message, status) = super::refused(other)?;
            Ok((Some(message), Problems::default(), status))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[Field] = &[
        Field {
            problem: "cpv",
            input: "cpv",
            label: "Code CPV",
        },
        Field {
            problem: "unit_price_eur",
            input: "unit_price_eur",
            label: "Prix unitaire estimé",
        },
        Field {
            problem: "title",
            input: "title",
            label: "Intitulé",
        },
    ];

    #[test]
    fn each_problem_goes_beside_its_field_and_in_the_summary_in_the_forms_order() {
        let mut problems = Problems::default();
        problems.add("title", "l'intitulé est vide");
        problems.add("cpv", "le code CPV 99999999 n'existe pas");
        problems.add("other", "un problème d'ailleurs");
        let errors = FormErrors::of(&problems, FIELDS);
        assert_eq!(errors.count, 3);
        assert_eq!(errors.summary[0].label, "Code CPV", "the form's order");
        assert_eq!(errors.summary[0].href, "#cpv");
        assert_eq!(errors.summary[1].label, "Intitulé");
        assert_eq!(errors.summary[2].href, "", "no field: no link");
        assert_eq!(
            errors.fields["title"].as_deref(),
            Some("l'intitulé est vide")
        );
        assert_eq!(
            errors.fields["unit_price_eur"], None,
            "every input is there"
        );
        assert_eq!(FormErrors::none(FIELDS).count, 0);
    }
}
