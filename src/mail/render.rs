//! E-mails rendered from `templates/email/<name>/{subject.txt,body.txt,body.html}.hbs`. Text
//! parts are rendered without HTML escaping, the HTML part with it; strict mode, as for pages.

use handlebars::Handlebars;
use serde_json::Value;

#[derive(rust_embed::RustEmbed)]
#[folder = "templates/email/"]
#[include = "*.hbs"]
struct EmailFiles;

/// A rendered message, ready to be put into an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct MailTemplates {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl MailTemplates {
    /// Registers every e-mail template (`password_reset/subject.txt`, …).
    pub fn load() -> Result<Self, String> {
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        for path in EmailFiles::iter() {
            let file = EmailFiles::get(&path).ok_or_else(|| format!("{path}: not embedded"))?;
            let source = std::str::from_utf8(&file.data).map_err(|e| format!("{path}: {e}"))?;
            let name = path.trim_end_matches(".hbs");
            let registry = match name.ends_with(".html") {
                true => &mut html,
                false => &mut text,
            };
            registry
                .register_template_string(name, source)
                .map_err(|e| format!("email/{path}: {e}"))?;
        }
        Ok(Self { text, html })
    }

    pub fn has(&self, template: &str) -> bool {
        self.text.has_template(&format!("{template}/subject.txt"))
            && self.text.has_template(&format!("{template}/body.txt"))
            && self.html.has_template(&format!("{template}/body.html"))
    }

    pub fn render(&self, template: &str, data: &Value) -> Result<Rendered, String> {
        let part = |hb: &Handlebars<'static>, name: &str| {
            hb.render(&format!("{template}/{name}"), data)
                .map_err(|e| format!("{template}/{name}: {e}"))
        };
        Ok(Rendered {
            subject: part(&self.text, "subject.txt")?.trim().to_string(),
            text: part(&self.text, "body.txt")?,
            html: part(&self.html, "body.html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_has_its_three_parts_and_escapes_only_html() {
        let templates = MailTemplates::load().unwrap();
        for name in [
            "password_reset",
            "email_verification",
            "invitation",
            "tender_published",
        ] {
            assert!(templates.has(name), "{name}");
        }
        let data = json!({ "name": "Dupont & <Fils>", "link": "http://x/y?jeton=1&a=2",
                           "organisation": "UB", "role": "acheteur", "hours": 1, "days": 7,
                           "supplier": "S", "reference": "R", "title": "T", "deadline": "D",
                           "lots": ["lot 1"], "unsubscribe": "http://x/u", "company": "C",
                           "lot": 1, "bid": 2, "at": "A", "revised": false, "price": "1 €",
                           "day": "01/01/2027", "count": 1,
                           "tenders": [{ "reference": "R", "title": "T", "deadline": "D", "link": "L" }] });
        for name in [
            "email_verification",
            "invitation",
            "tender_published",
            "bid_receipt",
        ] {
            templates.render(name, &data).unwrap();
        }
        let mail = templates.render("password_reset", &data).unwrap();
        assert!(mail.text.contains("Dupont & <Fils>"));
        assert!(mail.text.contains("http://x/y?jeton=1&a=2"));
        assert!(mail.html.contains("Dupont &amp; &lt;Fils&gt;"));
        assert!(!mail.subject.contains('\n'));
    }
}
