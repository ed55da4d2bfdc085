//! Every form of the portal says each problem beside its field, in French, linked from a
//! summary at the top (`aria-invalid`, `aria-describedby`), and gives back what was typed.

use crate::bids::{supplier, user, PASSWORD};
use crate::both_backends;
use crate::helpers::{anonymous_csrf, get_with, post_form, session_of, Answer};

/// The marks of a field in error: the summary's link, the message and the field pointing at
/// it.
fn assert_field_error(page: &Answer, input: &str, message: &str) {
    for expected in [
        "class=\"error-summary\"".to_string(),
        format!("href=\"#{input}\""),
        format!("id=\"{input}-erreur\""),
        format!("aria-describedby=\"{input}-erreur\""),
        message.to_string(),
    ] {
        assert!(
            page.body.contains(&expected),
            "{expected} missing for {input}: {}",
            page.body
        );
    }
}

both_backends!(each_form_says_its_problems_beside_their_fields, |app| {
    // Registration: a wrong SIRET and two passwords that differ; the company's name stays.
    let (cookie, csrf) = anonymous_csrf(&app).await;
    let page = post_form(
        &app,
        "/inscription",
        &cookie,
        None,
        &[
            ("csrf_token", csrf.as_str()),
            ("siret", "123"),
            ("company", "Menuiserie Bourguignonne"),
            ("postcode", "21000"),
            ("commune", ""),
            ("contact_name", "Jeanne Martin"),
            ("email", "jeanne@example.fr"),
            ("password", "un mot de passe assez long"),
            ("password_confirmation", "un autre mot de passe long"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_field_error(&page, "siret", "SIRET");
    assert_field_error(
        &page,
        "password_confirmation",
        "les deux mots de passe diffèrent",
    );
    assert!(page.body.contains("value=\"Menuiserie Bourguignonne\""));

    // The pooling run's parameters: a cost that is not a number, a weight kept.
    let (ub, _) = crate::life_cycle::ub_lead(&app);
    let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    let page = post_form(
        &app,
        "/mutualisation",
        &lead.cookie(),
        None,
        &[
            ("csrf_token", lead.csrf.as_str()),
            ("budget_year", "2027"),
            ("divisions", ""),
            ("launch_date", ""),
            ("territory", ""),
            ("family_digits", "4"),
            ("lot_cost", "trois mille"),
            ("local_weight", "0,05"),
            ("max_lot_value", ""),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_field_error(&page, "lot_cost", "Coût de gestion d&#x27;un lot");
    assert!(page.body.contains("value=\"0,05\""));

    // An API token with a name too long: refused beside its field, the name given back.
    let long = "logiciel ".repeat(10);
    let page = post_form(
        &app,
        "/compte/jetons",
        &lead.cookie(),
        None,
        &[("csrf_token", lead.csrf.as_str()), ("name", long.as_str())],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_field_error(&page, "token-name", "donnez au jeton un nom");
    assert!(page.body.contains(&format!("value=\"{long}\"")));
    let _ = ub;

    // A company's profile: a postcode of no commune; what was typed comes back, not what is
    // stored.
    let id = supplier(&app, "24210041000123", "Alpha");
    user(&app, "alpha@example.fr", "supplier", None, Some(id));
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let page = post_form(
        &app,
        "/entreprise",
        &alpha.cookie(),
        None,
        &[
            ("csrf_token", alpha.csrf.as_str()),
            ("interests", "3314 99999999"),
            ("postcode", "00000"),
            ("commune", ""),
            ("annual_capacity_eur", "250 000"),
            ("notification_email", "offres@alpha.example.fr"),
            ("digest", "daily"),
            ("locale", "fr"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_field_error(&page, "interests", "« 99999999 » n&#x27;est pas un code");
    assert!(
        page.body.contains("id=\"postcode-erreur\""),
        "{}",
        page.body
    );
    for typed in [
        "value=\"250 000\"",
        "value=\"offres@alpha.example.fr\"",
        "value=\"daily\" selected",
    ] {
        assert!(page.body.contains(typed), "{typed}: {}", page.body);
    }
    // Nothing was stored.
    let stored = get_with(&app, "/entreprise", &alpha.cookie()).await;
    assert!(!stored.body.contains("offres@alpha.example.fr"));

    // The admin's forms: an invitation with a wrong address and no name keeps the role and
    // organisation chosen; an organisation with a wrong code keeps its name.
    user(&app, "admin@example.fr", "admin", None, None);
    let admin = session_of(&app, "admin@example.fr", PASSWORD).await;
    let page = post_form(
        &app,
        "/admin/invitations",
        &admin.cookie(),
        None,
        &[
            ("csrf_token", admin.csrf.as_str()),
            ("email", "pas-une-adresse"),
            ("display_name", ""),
            ("role", "lead"),
            ("organisation", "UB"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_field_error(&page, "inv-email", "« pas-une-adresse »");
    assert_field_error(&page, "inv-name", "de 1 à 120 caractères");
    assert!(page.body.contains("value=\"lead\" selected"));
    assert!(page.body.contains("value=\"UB\" selected"));
    let page = post_form(
        &app,
        "/admin/organisations",
        &admin.cookie(),
        None,
        &[
            ("csrf_token", admin.csrf.as_str()),
            ("code", "C H U"),
            ("name", "Centre hospitalier"),
            ("siret", ""),
            ("kind", "hospital"),
            ("buyer_class", "sub_central"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_field_error(&page, "code", "de 2 à 12 lettres ou chiffres");
    assert!(page.body.contains("value=\"Centre hospitalier\""));
});
