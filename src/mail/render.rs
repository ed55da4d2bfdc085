//! E-mails rendered from `templates/email/<name>/{subject.txt,body.txt,body.html}.hbs` (French)
//! and `templates/email/<name>/en/…` (English, for recipients who chose it). Text parts are
//! rendered without HTML escaping, the HTML part with it; strict mode, as for pages.

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

    /// Renders `template` in the recipient's language: the English templates
    /// (`<name>/en/…`) when the data says `"locale": "en"`, the French ones otherwise.
    pub fn render(&self, template: &str, data: &Value) -> Result<Rendered, String> {
        let english = format!("{template}/en");
        let template = match data.get("locale").and_then(Value::as_str) {
            Some("en") if self.has(&english) => english.as_str(),
            _ => template,
        };
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

    /// Every e-mail, with its three parts, in French and in English.
    const TEMPLATES: [&str; 17] = [
        "address_confirmation",
        "approval_request",
        "password_reset",
        "email_verification",
        "invitation",
        "tender_published",
        "bid_receipt",
        "daily_digest",
        "award_result",
        "justification_request",
        "question_answered",
        "tender_changed",
        "purchase_planned",
        "cobidding_request",
        "cobidding_accepted",
        "sourcing_answered",
        "group_invitation",
    ];

    fn sample(locale: &str) -> Value {
        let mut sample = json!({ "locale": locale, "name": "Dupont & <Fils>", "link": "http://x/y?jeton=1&a=2",
                "organisation": "UB", "role": "acheteur", "hours": 1, "days": 7,
                "supplier": "S", "reference": "R", "title": "T", "deadline": "D",
                "unsubscribe": "http://x/u", "company": "C",
                "lot": 1, "bid": 2, "at": "A", "revised": false, "price": "1 €", "form_sha256": "F",
                "day": "01/01/2027", "count": 1, "question": "Q ?", "answer": "R.",
                "tenders": [{ "reference": "R", "title": "T", "deadline": "D", "link": "L" }],
                "standstill": "S", "coordinator": "DM",
                "lots": [{ "number": 3, "value": "1 €", "within": true, "heading": "Lot 3 — T", "won": false,
                           "score": "50.00", "rank": 2, "bidders": 3, "winner": "W",
                           "winner_score": "60.00", "lost_to_cap": false }] });
        // (A second object: one literal this long passes the json! macro's recursion limit.)
        let more = json!({ "summary": "S", "document": "RC-v2.pdf", "moved": true, "before": "B",
                           "bidder": true, "late": false, "message": "M", "email": "e@x.fr",
                           "purchases": [{ "label": "L", "unit": "boîte", "quarter": "T1 2027",
                                           "procedure": "P", "band": "B", "members": "UB",
                                           "lots": "à définir", "link": "http://x/p" }] });
        if let (Some(sample), Some(more)) = (sample.as_object_mut(), more.as_object()) {
            sample.extend(more.clone());
        }
        sample
    }

    #[test]
    fn every_template_has_its_three_parts_in_both_languages_and_escapes_only_html() {
        let templates = MailTemplates::load().unwrap();
        for name in TEMPLATES {
            assert!(templates.has(name), "{name}");
            assert!(templates.has(&format!("{name}/en")), "{name} in English");
            let french = templates.render(name, &sample("fr")).unwrap();
            let english = templates.render(name, &sample("en")).unwrap();
            assert_ne!(french.subject, english.subject, "{name}");
            assert!(french.html.contains("lang=\"fr\""), "{name}");
            assert!(english.html.contains("lang=\"en\""), "{name}");
        }
        // Embedded files that are not one of the six would never be sent: a typo in a name.
        let files = EmailFiles::iter().count();
        assert_eq!(
            files,
            TEMPLATES.len() * 6,
            "three parts, two languages each"
        );

        let notice = templates.render("tender_published", &sample("en")).unwrap();
        assert!(notice
            .text
            .contains("lot 3 (1 €), within your annual capacity"));
        let mail = templates.render("password_reset", &sample("fr")).unwrap();
        assert!(mail.text.contains("Dupont & <Fils>"));
        assert!(mail.text.contains("http://x/y?jeton=1&a=2"));
        assert!(mail.html.contains("Dupont &amp; &lt;Fils&gt;"));
        assert!(!mail.subject.contains('\n'));
        // No locale, or one without templates: French.
        let plain = templates.render(
            "password_reset",
            &json!({ "name": "N", "link": "L", "hours": 1 }),
        );
        assert!(plain.unwrap().subject.contains("réinitialisation"));
        let german = templates.render(
            "password_reset",
            &json!({ "locale": "de", "name": "N", "link": "L", "hours": 1 }),
        );
        assert!(german.unwrap().subject.contains("réinitialisation"));
    }

    /// Each e-mail as its reader gets it, with realistic values, in both languages: a change of
    /// wording or layout shows as a snapshot diff in review (`src/mail/snapshots/`).
    #[test]
    fn every_email_as_its_reader_sees_it() {
        let templates = MailTemplates::load().unwrap();
        let data = |locale: &str, won: bool| {
            json!({ "locale": locale, "name": "Camille Martin", "company": "Imprimerie Darantière",
                    "supplier": "Imprimerie Darantière",
                    "link": "https://groupement.example/lien?jeton=JETON", "hours": 1, "days": 7,
                    "organisation": "CHU Dijon Bourgogne", "role": "acheteur", "coordinator": "UB",
                    "reference": "GRP-2027-004", "title": "Papier de reprographie",
                    "deadline": "15/01/2027 12:00", "at": "02/12/2026 10:41",
                    "unsubscribe": "https://groupement.example/desabonnement?jeton=JETON",
                    "lot": 2, "bid": "K7Q-42D", "revised": false, "price": "12 480,00 €",
                    "form_sha256": "3f0a9c41d2e87b65a0c4e19f2b7d8c6e5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d",
                    "day": "03/12/2026", "count": 2, "standstill": "14/02/2027",
                    "question": "Les échantillons sont-ils à fournir avec l'offre ?",
                    "answer": "Non : ils seront demandés au seul attributaire pressenti.",
                    "tenders": [
                        { "reference": "GRP-2027-004", "title": "Papier de reprographie",
                          "deadline": "15/01/2027 12:00", "link": "https://groupement.example/appels-d-offres/GRP-2027-004" },
                        { "reference": "GRP-2027-007", "title": "Enveloppes", "deadline": "20/01/2027 12:00",
                          "link": "https://groupement.example/appels-d-offres/GRP-2027-007" }],
                    "lots": [
                        { "number": 1, "value": "38 400,00 €", "within": true,
                          "heading": "Lot 1 — Papier A4", "won": won, "score": "82.50", "rank": 1,
                          "bidders": 3, "winner": "Imprimerie Darantière", "winner_score": "82.50",
                          "lost_to_cap": false },
                        { "number": 2, "value": "212 000,00 €", "within": false,
                          "heading": "Lot 2 — Papier A3", "won": false, "score": "61.00", "rank": 2,
                          "bidders": 4, "winner": "Papeteries de Bourgogne", "winner_score": "74.25",
                          "lost_to_cap": true }] })
        };
        // (A second object: one literal this long passes the json! macro's recursion limit.)
        let more = json!({ "summary": "Quantités du lot 2 doublées ; règlement mis à jour.",
                           "document": "reglement-v2.pdf", "moved": true,
                           "before": "08/01/2027 12:00", "bidder": true, "late": false, "message": "M", "email": "e@x.fr",
                           "purchases": [{ "label": "Consommables médicaux", "unit": "boîte",
                                           "quarter": "T2 2027",
                                           "procedure": "Procédure adaptée (MAPA)",
                                           "band": "90 000 € à 216 000 €",
                                           "members": "Centre hospitalier universitaire Dijon Bourgogne",
                                           "lots": "à définir à la mutualisation",
                                           "link": "https://groupement.example/programme-achats#needs-2027-3314-boite" }] });
        let data = |locale: &str, won: bool| {
            let mut data = data(locale, won);
            if let (Some(data), Some(more)) = (data.as_object_mut(), more.as_object()) {
                data.extend(more.clone());
            }
            data
        };
        for name in TEMPLATES {
            for locale in ["fr", "en"] {
                let mail = templates.render(name, &data(locale, true)).unwrap();
                insta::assert_snapshot!(
                    format!("{name}.{locale}"),
                    format!(
                        "Subject: {}\n\n--- text/plain\n{}\n--- text/html\n{}",
                        mail.subject,
                        mail.text.trim_end(),
                        mail.html.trim_end()
                    )
                );
            }
        }
    }
}
