//! A supplier keeps its own profile: CPV interests at any level (checked against the
//! vocabulary), postcode and commune (territorial or not), capacity, SME, notification
//! preferences; bad input names its field and changes nothing.

use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, Session, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewSupplier, NewUser};
use groupement::db::schema::{supplier_cpv, suppliers, users};
use groupement::domain::hash_password;

const PASSWORD: &str = "mot de passe de l'entreprise";

async fn company(app: &TestApp) -> Session {
    let mut conn = app.pool.get().unwrap();
    let id: i32 = diesel::insert_into(suppliers::table)
        .values(NewSupplier {
            siret: "24210041000123",
            name: "Menuiserie Dijonnaise",
            postcode: "21000",
            commune: "DIJON",
            department_code: "21",
            latitude: None,
            longitude: None,
            sme: true,
            annual_capacity_cents: 0,
            notification_email: "contact@example.fr",
            opt_in: true,
            provenance: None,
        })
        .returning(suppliers::id)
        .get_result(&mut conn)
        .unwrap();
    diesel::insert_into(users::table)
        .values(NewUser {
            email: "alex@example.fr",
            password_hash: &hash_password(PASSWORD).unwrap(),
            display_name: "Alex",
            role: "supplier",
            organisation_id: None,
            supplier_id: Some(id),
            email_verified_at: None,
        })
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    session_of(app, "alex@example.fr", PASSWORD).await
}

both_backends!(a_supplier_keeps_its_profile, |app| {
    let session = company(&app).await;
    let page = get_with(&app, "/entreprise", &session.cookie()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("du territoire") && page.body.contains("24210041000123"));
    let save = |fields: Vec<(&'static str, &'static str)>| {
        let (app, session) = (&app, session.clone());
        async move {
            let mut form = vec![("csrf_token", session.csrf.as_str())];
            form.extend(fields);
            post_form(app, "/entreprise", &session.cookie(), None, &form).await
        }
    };
    let bad = save(vec![
        ("interests", "45 12 3314 99999999"),
        ("add_interest", ""),
        ("postcode", "21000"),
        ("commune", "BEAUNE"),
        ("annual_capacity_eur", "beaucoup"),
        ("notification_email", "x"),
        ("digest", "weekly"),
    ])
    .await;
    assert_eq!(bad.status, 422);
    for expected in [
        "« 12 » n&#x27;est pas un code",
        "« 99999999 »",
        "Commune :",
        "Capacité annuelle :",
        "Adresse qui reçoit les avis :",
        "Fréquence :",
        "aria-describedby=\"annual_capacity_eur-erreur\"",
    ] {
        assert!(
            bad.body.contains(expected),
            "{expected} missing: {}",
            bad.body
        );
    }
    let stored: i64 = supplier_cpv::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(stored, 0, "nothing changed");

    let saved = save(vec![
        ("interests", "45, 33140000"),
        ("add_interest", "39830000-9"),
        ("postcode", "21200"),
        ("commune", "beaune"),
        ("annual_capacity_eur", "250 000"),
        ("sme", "on"),
        ("notification_email", "Offres@Example.fr"),
        ("opt_in", "on"),
        ("digest", "daily"),
    ])
    .await;
    assert_eq!(
        (saved.status, saved.location.as_str()),
        (303, "/entreprise?enregistre=1"),
        "{}",
        saved.body
    );
    let prefixes: Vec<String> = supplier_cpv::table
        .order(supplier_cpv::cpv_prefix)
        .select(supplier_cpv::cpv_prefix)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(
        prefixes,
        ["3314", "3983", "45"],
        "full codes stand for their significant prefix"
    );
    let (commune, capacity, email, digest): (String, i64, String, String) = suppliers::table
        .select((
            suppliers::commune,
            suppliers::annual_capacity_cents,
            suppliers::notification_email,
            suppliers::digest,
        ))
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    // The new notice address waits for its confirmation: notices still go to the old one.
    assert_eq!(
        (commune.as_str(), capacity, email.as_str(), digest.as_str()),
        ("BEAUNE", 25_000_000, "contact@example.fr", "daily")
    );
    let page = get_with(&app, "/entreprise?enregistre=1", &session.cookie()).await;
    assert!(
        page.body.contains("Profil enregistré") && page.body.contains("Travaux de construction")
    );
    assert!(page
        .body
        .contains("En attente de confirmation : un lien a été envoyé à offres@example.fr"));
    let mail = crate::helpers::wait_for_mail_to(&app, "offres@example.fr", "").await;
    let link = crate::helpers::path_of(
        &app,
        &mail.link(&format!("{}/entreprise/adresse", app.address)),
    );
    let confirmed = get_with(&app, &link, "").await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed
        .body
        .contains("seront désormais envoyés à offres@example.fr"));
    assert_eq!(
        get_with(&app, &link, "").await.status,
        400,
        "a link works once"
    );
    let (email, pending): (String, Option<String>) = suppliers::table
        .select((
            suppliers::notification_email,
            suppliers::pending_notification_email,
        ))
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!((email.as_str(), pending), ("offres@example.fr", None));
    // Once sent, the outbox keeps no usable link.
    let stored: Vec<String> = groupement::db::schema::notifications::table
        .filter(groupement::db::schema::notifications::status.eq("sent"))
        .select(groupement::db::schema::notifications::data)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    let token = link.split("jeton=").nth(1).unwrap();
    assert!(stored.iter().all(|d| !d.contains(token)), "{stored:?}");

    // Moving out of the territory says so.
    let moved = save(vec![
        ("interests", "45"),
        ("postcode", "69001"),
        ("commune", ""),
        ("annual_capacity_eur", "1000"),
        ("notification_email", "offres@example.fr"),
        ("opt_in", "on"),
        ("digest", "immediate"),
    ])
    .await;
    assert_eq!(moved.status, 303);
    assert!(get_with(&app, "/entreprise", &session.cookie())
        .await
        .body
        .contains("hors du territoire"));
});
