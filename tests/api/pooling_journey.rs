//! The pooling journey in the portal: two members' buyers submit needs, a lead runs the
//! pooling in the background and reads the proposal, accepts it, each member's lead approves
//! its share (after a refusal and a resubmission), and the coordinator publishes — refused
//! without an environmental criterion or with too short a deadline, accepted with them, which
//! e-mails the territorial suppliers concerned and only them.

use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, wait_for_mails, Session, TestApp};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewSupplier, NewSupplierCpv, NewUser};
use groupement::db::schema::{
    needs, notifications, organisations, pooling_run_progress, pooling_runs, supplier_cpv,
    suppliers, tenders, users,
};
use groupement::domain::hash_password;
use serde_json::json;

pub const PASSWORD: &str = "mot de passe du parcours";

/// UB (central) and CHU (sub-central), each with a buyer and a lead (`buyer.ub@example.fr`, …).
pub fn members(app: &TestApp) {
    members_in(&app.pool);
    // Their leads' opening keys (the browser journey makes them on the account page).
    for email in ["lead.ub@example.fr", "lead.chu@example.fr"] {
        let session =
            groupement::services::auth::sign_in(&app.pool, email, PASSWORD, None).unwrap();
        let lead = groupement::services::auth::viewer(&app.pool, &session)
            .unwrap()
            .unwrap();
        groupement::services::keys::create(
            &app.pool,
            &lead,
            crate::bids::OPENING,
            crate::bids::OPENING,
        )
        .unwrap();
    }
}

/// [`members`] in the database of `pool`.
pub fn members_in(pool: &groupement::db::Pool) {
    let mut conn = pool.get().unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    for (code, class) in [("UB", "central"), ("CHU", "sub_central")] {
        let org: i32 = diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                code,
                name: code,
                siret: None,
                kind: "university",
                buyer_class: class,
            })
            .returning(organisations::id)
            .get_result(&mut conn)
            .unwrap();
        for role in ["buyer", "lead"] {
            diesel::insert_into(users::table)
                .values(NewUser {
                    email: &format!("{role}.{}@example.fr", code.to_lowercase()),
                    password_hash: &hash,
                    display_name: role,
                    role,
                    organisation_id: Some(org),
                    supplier_id: None,
                    email_verified_at: None,
                })
                .execute(&mut conn)
                .unwrap();
        }
    }
    drop(conn);
    crate::helpers::complete_for_eu_notices(pool);
}

/// Two territorial suppliers of medical supplies, one of office supplies, one from Lyon.
pub(crate) fn suppliers(app: &TestApp) {
    let mut conn = app.pool.get().unwrap();
    for (siret, name, postcode, department, interest, capacity) in [
        (
            "24210041000123",
            "Pharma Dijon",
            "21000",
            "21",
            "3314",
            50_000_000_i64,
        ),
        (
            "21210231500017",
            "Soins Beaune",
            "21200",
            "21",
            "33140000",
            30_000_000,
        ),
        (
            "24210041000131",
            "Bureau Plus",
            "21000",
            "21",
            "3019",
            10_000_000,
        ),
        (
            "21690123100011",
            "Lyon Médical",
            "69001",
            "69",
            "3314",
            90_000_000,
        ),
    ] {
        let id: i32 = diesel::insert_into(suppliers::table)
            .values(NewSupplier {
                siret,
                name,
                postcode,
                commune: "X",
                department_code: department,
                latitude: None,
                longitude: None,
                sme: true,
                annual_capacity_cents: capacity,
                notification_email: &format!(
                    "{}@example.fr",
                    name.to_lowercase().replace(' ', ".")
                ),
                opt_in: true,
                provenance: None,
            })
            .returning(suppliers::id)
            .get_result(&mut conn)
            .unwrap();
        diesel::insert_into(supplier_cpv::table)
            .values(NewSupplierCpv {
                supplier_id: id,
                cpv_prefix: interest,
            })
            .execute(&mut conn)
            .unwrap();
    }
}

pub(crate) async fn submit_needs(app: &TestApp, buyer: &Session, rows: &[(&str, &str)]) {
    for (title, quantity) in rows {
        let answer = post_form(
            app,
            "/besoins/nouveau",
            &buyer.cookie(),
            None,
            &[
                ("csrf_token", buyer.csrf.as_str()),
                ("cpv", "33141000"),
                ("title", title),
                ("quantity", quantity),
                ("unit", "boîte"),
                ("unit_price_eur", "5"),
                ("delivery_postcode", "21000"),
                ("window_start", "01/03/2027"),
                ("window_end", "31/12/2027"),
                ("poolable", "oui"),
                ("action", "submit"),
            ],
        )
        .await;
        assert_eq!(answer.status, 303, "{}", answer.body);
    }
}

pub(crate) async fn post(
    app: &TestApp,
    session: &Session,
    path: &str,
    fields: &[(&str, &str)],
) -> crate::helpers::Answer {
    let mut all = vec![("csrf_token", session.csrf.as_str())];
    all.extend_from_slice(fields);
    post_form(app, path, &session.cookie(), None, &all).await
}

/// Starts a run and waits for its proposal; returns the run's page path.
pub(crate) async fn pool_needs(app: &TestApp, lead: &Session) -> String {
    let started = post(
        app,
        lead,
        "/mutualisation",
        &[
            ("budget_year", "2027"),
            ("divisions", "33"),
            ("territory", "21"),
            ("family_digits", "4"),
            ("lot_cost", "3000"),
            ("local_weight", "0,03"),
            ("max_lot_value", ""),
        ],
    )
    .await;
    assert_eq!(started.status, 303, "{}", started.body);
    for _ in 0..200 {
        let page = get_with(app, &started.location, &lead.cookie()).await;
        if page.body.contains("proposition à examiner") {
            // Progress was recorded by families and by needs, to the end.
            let id: i32 = started
                .location
                .rsplit('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let (families_done, families, needs_done, needs, left) =
                groupement::services::pooling::progress(&mut app.pool.get().unwrap(), id)
                    .unwrap()
                    .expect("a progress row");
            assert!(
                families > 0 && families_done == families,
                "{families_done}/{families}"
            );
            assert!(
                needs >= families && needs_done == needs,
                "{needs_done}/{needs}"
            );
            assert_eq!(left, Some(0));
            return started.location;
        }
        assert!(!page.body.contains("a échoué"), "{}", page.body);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the run did not finish");
}

fn plan_of(app: &TestApp, path: &str) -> serde_json::Value {
    let id: i32 = path.rsplit('/').next().unwrap().parse().unwrap();
    let text: Option<String> = pooling_runs::table
        .find(id)
        .select(pooling_runs::plan)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text.unwrap()).unwrap();
    // Timings differ from run to run; everything else must not.
    plan["solver"]["seconds"] = json!(0);
    for family in plan["solver"]["families"].as_array_mut().unwrap() {
        family["seconds"] = json!(0);
    }
    plan
}

both_backends!(members_pool_approve_and_publish_a_joint_tender, |app| {
    members(&app);
    suppliers(&app);
    let ub_buyer = session_of(&app, "buyer.ub@example.fr", PASSWORD).await;
    let chu_buyer = session_of(&app, "buyer.chu@example.fr", PASSWORD).await;
    submit_needs(
        &app,
        &ub_buyer,
        &[("Compresses", "40000"), ("Bandes", "20000")],
    )
    .await;
    submit_needs(&app, &chu_buyer, &[("Pansements", "9000")]).await;
    let ub_lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    let chu_lead = session_of(&app, "lead.chu@example.fr", PASSWORD).await;

    // Buyers cannot pool; the lead's page shows the parameters with DESIGN's defaults.
    assert_eq!(
        get_with(&app, "/mutualisation", &ub_buyer.cookie())
            .await
            .status,
        403
    );
    let form = get_with(&app, "/mutualisation", &ub_lead.cookie()).await;
    assert!(form.body.contains("value=\"3000\"") && form.body.contains("value=\"0,03\""));

    let first = pool_needs(&app, &ub_lead).await;
    let page = get_with(&app, &first, &ub_lead.cookie()).await;
    // The proposal leads with its summary: the gain taken apart, then one line a tender,
    // joint ones first, each leading to its own page.
    for expected in [
        "Gain de la mutualisation",
        "D'où vient le gain",
        "Bonus d'accès local",
        "<svg",
        "Procédures par type",
        "CHU, UB",
        "Accepter la proposition…",
    ] {
        assert!(
            page.body.contains(expected),
            "{expected} missing from the proposal: {}",
            page.body
        );
    }
    let focused = format!("{first}/consultations/3314");
    assert!(page.body.contains(&format!("href=\"{focused}\"")));
    let tender_page = get_with(&app, &focused, &ub_lead.cookie()).await;
    assert_eq!(tender_page.status, 200);
    for expected in [
        "Compresses",
        "Pansements",
        "coordonnateur : <strong>UB</strong>",
        "Déplacer un besoin",
    ] {
        assert!(
            tender_page.body.contains(expected),
            "{expected} missing from the tender's page: {}",
            tender_page.body
        );
    }
    assert_eq!(
        get_with(
            &app,
            &format!("{first}/consultations/9999"),
            &ub_lead.cookie()
        )
        .await
        .status,
        404
    );
    // Filters: the joint tender is kept with "plusieurs", gone with "un"; a value the page
    // does not know is said in French, and everything shown.
    let joint = get_with(
        &app,
        &format!("{first}?membres=plusieurs"),
        &ub_lead.cookie(),
    )
    .await;
    assert!(joint.body.contains(&focused));
    let alone = get_with(&app, &format!("{first}?membres=un"), &ub_lead.cookie()).await;
    assert!(!alone.body.contains(&focused));
    assert!(alone
        .body
        .contains("Aucune consultation ne répond à ces filtres"));
    let odd = get_with(
        &app,
        &format!("{first}?procedure=magique"),
        &ub_lead.cookie(),
    )
    .await;
    assert!(odd.body.contains(&focused));
    assert!(
        odd.body
            .contains("« magique » n&#x27;est pas une procédure"),
        "{}",
        odd.body
    );
    // The same needs give the same proposal.
    let second = pool_needs(&app, &ub_lead).await;
    assert_eq!(plan_of(&app, &first), plan_of(&app, &second));
    assert_eq!(
        post(&app, &ub_lead, &format!("{second}/abandonner"), &[])
            .await
            .status,
        303
    );

    // Before: the proposal waits on the lead's home.
    let home = get_with(&app, "/accueil", &ub_lead.cookie()).await;
    assert!(
        home.body.contains(&format!("href=\"{first}\"")),
        "{}",
        home.body
    );
    let accepted = post(&app, &ub_lead, &format!("{first}/accepter"), &[]).await;
    assert_eq!(
        (accepted.status, accepted.location.as_str()),
        (303, "/consultations")
    );
    // After: each member's lead finds its share to approve on its home.
    let home = get_with(&app, "/accueil", &chu_lead.cookie()).await;
    assert!(
        home.body.contains("Approuver la part de CHU"),
        "{}",
        home.body
    );
    let statuses: Vec<String> = needs::table
        .select(needs::status)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(statuses.iter().all(|s| s == "pooled"), "{statuses:?}");
    let tender: i32 = tenders::table
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let path = format!("/consultations/{tender}");
    // Each member's lead is asked, by e-mail, to approve its share.
    let requests = wait_for_mails(&app, 2).await;
    let mut asked: Vec<&str> = requests.iter().map(|m| m.to.as_str()).collect();
    asked.sort_unstable();
    assert_eq!(asked, ["lead.chu@example.fr", "lead.ub@example.fr"]);
    let chu_request = requests
        .iter()
        .find(|m| m.to == "lead.chu@example.fr")
        .unwrap();
    assert_eq!(
        chu_request.subject,
        "GRP-2027-001 attend l'approbation de CHU"
    );
    assert!(chu_request.text.contains(&format!("{}{path}", app.address)));
    let chu_view = get_with(&app, &path, &chu_buyer.cookie()).await;
    assert!(
        chu_view.body.contains("Pansements") && !chu_view.body.contains(">n° 1</a> Compresses"),
        "each member sees its share"
    );

    // A refusal needs a reason, and sends the tender back to the coordinator.
    let silent = post(
        &app,
        &chu_lead,
        &format!("{path}/decision"),
        &[("decision", "refuse"), ("comment", " ")],
    )
    .await;
    assert_eq!(silent.status, 422);
    let refused = post(
        &app,
        &chu_lead,
        &format!("{path}/decision"),
        &[
            ("decision", "refuse"),
            ("comment", "Livraison trop tardive pour nous"),
        ],
    )
    .await;
    assert_eq!(refused.status, 303);
    let back = get_with(&app, &path, &ub_lead.cookie()).await;
    assert!(
        back.body.contains("renvoyée au coordonnateur")
            && back.body.contains("Livraison trop tardive")
    );
    assert_eq!(
        post(&app, &chu_lead, &format!("{path}/resoumettre"), &[])
            .await
            .status,
        403,
        "only the coordinator resubmits"
    );
    assert_eq!(
        post(&app, &ub_lead, &format!("{path}/resoumettre"), &[])
            .await
            .status,
        303
    );
    // A new round of approvals: both leads are asked again.
    assert_eq!(wait_for_mails(&app, 4).await.len(), 4);
    for lead in [&ub_lead, &chu_lead] {
        let approved = post(
            &app,
            lead,
            &format!("{path}/decision"),
            &[("decision", "approve"), ("comment", "")],
        )
        .await;
        assert_eq!(approved.status, 303);
    }
    let statuses: Vec<String> = needs::table
        .select(needs::status)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(statuses.iter().all(|s| s == "tendered"), "{statuses:?}");

    // Documents: the format and the size are checked, and what the name says is checked too.
    let docs = format!("{path}/documents");
    let exe = crate::helpers::upload_file(&app, &ub_lead, &docs, "outil.exe", b"MZ\x90\x00").await;
    assert_eq!(exe.status, 422);
    assert!(
        exe.body.contains("formats acceptés pdf, docx"),
        "{}",
        exe.body
    );
    let fake = crate::helpers::upload_file(&app, &ub_lead, &docs, "faux.pdf", b"<html>").await;
    assert_eq!(fake.status, 422);
    assert!(fake.body.contains("n&#x27;est pas un vrai fichier pdf"));
    let rules = b"%PDF-1.7\n% Reglement de la consultation\n%%EOF\n";
    let added =
        crate::helpers::upload_file(&app, &ub_lead, &docs, "reglement-consultation.pdf", rules)
            .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(
        crate::helpers::upload_file(&app, &chu_lead, &docs, "autre.pdf", rules)
            .await
            .status,
        403
    );
    // Without a price schedule the tender is not published: said before the confirmation,
    // linked to the upload.
    let later = (chrono::Utc::now() + chrono::Duration::days(60))
        .format("%d/%m/%Y")
        .to_string();
    let lacking = post(
        &app,
        &ub_lead,
        &format!("{path}/publier/verifier"),
        &[
            ("weight_price", "60"),
            ("weight_quality", "30"),
            ("weight_environment", "10"),
            ("deadline", &later),
        ],
    )
    .await;
    assert_eq!(lacking.status, 422, "{}", lacking.body);
    assert!(
        lacking.body.contains("bordereau des prix") && lacking.body.contains("href=\"#fichier\""),
        "{}",
        lacking.body
    );
    let schedule =
        crate::helpers::upload_file(&app, &ub_lead, &docs, "DPGF-lot-1.pdf", rules).await;
    assert_eq!(schedule.status, 303, "{}", schedule.body);

    // Publication: an environmental criterion is required; the deadline respects the minimum.
    let far = (chrono::Utc::now() + chrono::Duration::days(60))
        .format("%d/%m/%Y")
        .to_string();
    let near = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%d/%m/%Y")
        .to_string();
    let no_environment = post(
        &app,
        &ub_lead,
        &format!("{path}/publier"),
        &[
            ("weight_price", "70"),
            ("weight_quality", "30"),
            ("weight_environment", "0"),
            ("deadline", &far),
        ],
    )
    .await;
    assert_eq!(no_environment.status, 422);
    assert!(no_environment
        .body
        .contains("critère environnemental est obligatoire"));
    // The check before the confirmation says each problem beside its field and keeps what
    // was typed (the weights, the deadline, the rule chosen).
    let checked = post(
        &app,
        &ub_lead,
        &format!("{path}/publier/verifier"),
        &[
            ("weight_price", "70"),
            ("weight_quality", "abc"),
            ("weight_environment", "10"),
            ("max_lots_per_supplier", "2"),
            ("cap_rule", "best-total"),
            ("deadline", &far),
        ],
    )
    .await;
    assert_eq!(checked.status, 422, "{}", checked.body);
    for expected in [
        "class=\"error-summary\"",
        "href=\"#weight_quality\"",
        "id=\"weight_quality-erreur\"",
        "aria-describedby=\"weight_quality-erreur\"",
        "« abc » n&#x27;est pas un nombre entier",
        "value=\"best-total\" selected",
        "value=\"70\"",
    ] {
        assert!(
            checked.body.contains(expected),
            "{expected}: {}",
            checked.body
        );
    }
    assert!(checked.body.contains(&format!("value=\"{far}\"")));
    let procedure: String = tenders::table
        .select(tenders::procedure)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    if procedure == "formal" {
        let too_soon = post(
            &app,
            &ub_lead,
            &format!("{path}/publier"),
            &[
                ("weight_price", "60"),
                ("weight_quality", "30"),
                ("weight_environment", "10"),
                ("deadline", &near),
            ],
        )
        .await;
        assert_eq!(too_soon.status, 422, "{}", too_soon.body);
    }
    assert_eq!(
        post(
            &app,
            &chu_lead,
            &format!("{path}/publier"),
            &[
                ("weight_price", "60"),
                ("weight_quality", "30"),
                ("weight_environment", "10"),
                ("deadline", &far),
            ]
        )
        .await
        .status,
        403,
        "only the coordinator publishes"
    );
    let published = post(
        &app,
        &ub_lead,
        &format!("{path}/publier"),
        &[
            ("weight_price", "60"),
            ("weight_quality", "30"),
            ("weight_environment", "10"),
            ("max_lots_per_supplier", ""),
            ("cap_rule", ""),
            ("deadline", &far),
        ],
    )
    .await;
    assert_eq!(published.status, 303, "{}", published.body);

    // The suppliers of medical supplies are written to, once: the territory's at once, the
    // one from Lyon two days later; the office-supplies one not at all.
    let rows: Vec<(String, chrono::NaiveDateTime)> = notifications::table
        .filter(notifications::template.eq("tender_published"))
        .order(notifications::recipient)
        .select((notifications::recipient, notifications::next_attempt_at))
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    let recipients: Vec<&str> = rows.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        recipients,
        [
            "lyon.médical@example.fr",
            "pharma.dijon@example.fr",
            "soins.beaune@example.fr"
        ]
    );
    let later = rows[0].1 - chrono::Utc::now().naive_utc();
    assert!(later > chrono::Duration::hours(47), "{later}");
    let notices = || -> Vec<crate::helpers::Mail> {
        crate::helpers::outbox(&app)
            .into_iter()
            .filter(|m| m.subject.starts_with("Appel d'offres"))
            .collect()
    };
    wait_for_mails(&app, 6).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails = notices();
    assert_eq!(mails.len(), 2, "Lyon's notice waits");
    let pharma = mails
        .iter()
        .find(|m| m.to == "pharma.dijon@example.fr")
        .unwrap();
    assert!(pharma.subject.contains("GRP-2027-001"));
    assert!(
        pharma.text.contains("lot 1") && pharma.text.contains("heure de Paris"),
        "{}",
        pharma.text
    );
    let notice = get_with(&app, "/appels-d-offres/GRP-2027-001", "").await;
    assert_eq!(notice.status, 200);
    assert!(notice.body.contains("performance environnementale 10 %"));
    // Who buys, for how long, whom to ask.
    for expected in [
        "Membres du groupement",
        "Durée d'exécution (livraisons)",
        "lead.ub@example.fr",
    ] {
        assert!(
            notice.body.contains(expected),
            "{expected}: {}",
            notice.body
        );
    }
    assert!(notice.body.contains("reglement-consultation.pdf"));
    let href = notice
        .body
        .split("href=\"/appels-d-offres/GRP-2027-001/documents/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let mut download = app
        .client
        .get(format!(
            "{}/appels-d-offres/GRP-2027-001/documents/{href}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(download.body().await.unwrap().as_ref(), rules);
    // The whole file as one zip, free and anonymous; a signed-in download is registered.
    let zip_path = "/appels-d-offres/GRP-2027-001/dce.zip";
    let mut zip = app
        .client
        .get(format!("{}{zip_path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status().as_u16(), 200);
    let bytes = zip.body().await.unwrap().to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["DPGF-lot-1.pdf", "reglement-consultation.pdf"]);
    let count = || {
        groupement::db::schema::document_downloads::table
            .count()
            .get_result::<i64>(&mut app.pool.get().unwrap())
            .unwrap()
    };
    assert_eq!(count(), 0, "anonymous downloads are not registered");
    let signed = get_with(&app, zip_path, &ub_lead.cookie()).await;
    assert_eq!(signed.status, 200);
    assert_eq!(count(), 1, "a signed-in download is registered");
    assert!(get_with(&app, "/", "").await.body.contains("GRP-2027-001"));
    // The public list, filtered, and the Atom feed.
    let listed = get_with(
        &app,
        "/appels-d-offres?cpv=3314&buyer=chu&procedure=formal",
        "",
    )
    .await;
    assert!(listed.body.contains("GRP-2027-001"), "{}", listed.body);
    // Words, whatever their case and accents, in the title, reference, coordinator or label.
    let found = get_with(&app, "/appels-d-offres?q=CONSOMMABLES+medicaux", "").await;
    assert!(found.body.contains("GRP-2027-001"), "{}", found.body);
    let none = get_with(&app, "/appels-d-offres?q=charpente", "").await;
    assert!(!none.body.contains("href=\"/appels-d-offres/GRP-2027-001\""));
    assert!(none.body.contains("value=\"charpente\""));
    assert!(!get_with(&app, "/appels-d-offres?cpv=45", "")
        .await
        .body
        .contains("GRP-2027-001"));
    assert!(!get_with(&app, "/appels-d-offres?buyer=DM", "")
        .await
        .body
        .contains("GRP-2027-001"));
    for (before, listed) in [("2099-12-31", true), ("01/01/2000", false)] {
        let page = get_with(&app, &format!("/appels-d-offres?before={before}"), "").await;
        assert_eq!(
            page.body.contains("GRP-2027-001"),
            listed,
            "before {before}"
        );
    }
    let refused = get_with(&app, "/appels-d-offres?before=hier", "").await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("<a href=\"#before\">Date limite au plus tard le : "),
        "the filter named by its label: {}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let feed = get_with(&app, "/appels-d-offres.atom", "").await;
    assert!(feed.content_type.starts_with("application/atom+xml"));
    assert!(
        feed.body.contains("<entry>") && feed.body.contains("/appels-d-offres/GRP-2027-001</id>")
    );
});

async fn submit_windowed(
    app: &TestApp,
    buyer: &Session,
    title: &str,
    quantity: &str,
    start: &str,
    end: &str,
) {
    let answer = post_form(
        app,
        "/besoins/nouveau",
        &buyer.cookie(),
        None,
        &[
            ("csrf_token", buyer.csrf.as_str()),
            ("cpv", "33141000"),
            ("title", title),
            ("quantity", quantity),
            ("unit", "boîte"),
            ("unit_price_eur", "5"),
            ("delivery_postcode", "21000"),
            ("window_start", start),
            ("window_end", end),
            ("poolable", "oui"),
            ("action", "submit"),
        ],
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
}

fn lots_after(app: &TestApp, path: &str) -> i64 {
    plan_of(app, path)["kpis"]["lots_after"].as_i64().unwrap()
}

both_backends!(
    a_lead_adjusts_a_proposal_and_is_told_what_it_breaks,
    |app| {
        members(&app);
        suppliers(&app);
        let ub_buyer = session_of(&app, "buyer.ub@example.fr", PASSWORD).await;
        let chu_buyer = session_of(&app, "buyer.chu@example.fr", PASSWORD).await;
        submit_windowed(
            &app,
            &ub_buyer,
            "Compresses",
            "20000",
            "01/03/2027",
            "30/06/2027",
        )
        .await;
        submit_windowed(
            &app,
            &chu_buyer,
            "Pansements",
            "12000",
            "01/03/2027",
            "30/06/2027",
        )
        .await;
        submit_windowed(
            &app,
            &chu_buyer,
            "Sparadrap",
            "1000",
            "01/11/2027",
            "30/11/2027",
        )
        .await;
        let ub_lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let path = pool_needs(&app, &ub_lead).await;
        let ids: std::collections::BTreeMap<String, String> = needs::table
            .select((needs::title, needs::id))
            .load::<(String, i32)>(&mut app.pool.get().unwrap())
            .unwrap()
            .into_iter()
            .map(|(t, id)| (t, id.to_string()))
            .collect();
        let engine_lots = lots_after(&app, &path);
        let adjust = |fields: Vec<(&'static str, String)>| {
            let (app, lead, path) = (&app, ub_lead.clone(), path.clone());
            async move {
                let borrowed: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                post(app, &lead, &format!("{path}/ajuster"), &borrowed).await
            }
        };

        // Split: a need to a new lot; the KPIs follow, the loss is said.
        let split = adjust(vec![
            ("action", "move".into()),
            ("need", ids["Pansements"].clone()),
            ("target", "new:3314".into()),
        ])
        .await;
        assert_eq!(split.status, 200, "{}", split.body);
        assert_eq!(lots_after(&app, &path), engine_lots + 1);
        assert!(
            split.body.contains("l&#x27;objectif baisse"),
            "{}",
            split.body
        );

        // Merge the two spring lots back (lots are numbered by decreasing value).
        let plan = plan_of(&app, &path);
        let lots = plan["tenders"][0]["lots"].as_array().unwrap();
        let spring: Vec<String> = lots
            .iter()
            .filter(|l| {
                l["need_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|id| *id != json!(ids["Sparadrap"]))
            })
            .map(|l| l["lot"].to_string())
            .collect();
        let merged = adjust(vec![
            ("action", "merge".into()),
            ("family", "3314".into()),
            ("lot_a", spring[0].clone()),
            ("lot_b", spring[1].clone()),
        ])
        .await;
        assert_eq!(merged.status, 200, "{}", merged.body);
        assert_eq!(lots_after(&app, &path), engine_lots);

        // A lot that does not exist is refused and nothing changes.
        let refused = adjust(vec![
            ("action", "merge".into()),
            ("family", "3314".into()),
            ("lot_a", "1".into()),
            ("lot_b", "9".into()),
        ])
        .await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("n&#x27;a pas de lot 9"));
        assert_eq!(lots_after(&app, &path), engine_lots);

        // Taking the UB need out so that it is bought alone: anti-splitting is said.
        let out = adjust(vec![
            ("action", "move".into()),
            ("need", ids["Compresses"].clone()),
            ("target", "out".into()),
        ])
        .await;
        assert_eq!(out.status, 200);
        assert!(out.body.contains("R2121-1"), "{}", out.body);
        // The rule stays said after a reload, and blocks the acceptance.
        let reloaded = get_with(&app, &path, &ub_lead.cookie()).await;
        assert!(
            reloaded
                .body
                .contains("ne peut pas être acceptée telle quelle")
                && reloaded.body.contains("R2121-1"),
            "{}",
            reloaded.body
        );
        let accept = post(&app, &ub_lead, &format!("{path}/accepter"), &[]).await;
        assert_eq!(accept.status, 409);
        assert!(accept.body.contains("R2121-1"), "{}", accept.body);
        let back = adjust(vec![
            ("action", "move".into()),
            ("need", ids["Compresses"].clone()),
            ("target", "lot:3314:1".into()),
        ])
        .await;
        assert_eq!(back.status, 200);

        // The November need with the spring lot: windows share no day — warned, and the proposal
        // cannot be accepted until it is put right.
        let plan = plan_of(&app, &path);
        let spring_lot = plan["tenders"][0]["lots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| {
                l["need_ids"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(ids["Compresses"]))
            })
            .unwrap()["lot"]
            .to_string();
        let wrong = adjust(vec![
            ("action", "move".into()),
            ("need", ids["Sparadrap"].clone()),
            ("target", format!("lot:3314:{spring_lot}")),
        ])
        .await;
        assert!(wrong.body.contains("sans jour commun"), "{}", wrong.body);
        let accept = post(&app, &ub_lead, &format!("{path}/accepter"), &[]).await;
        assert_eq!(accept.status, 409);
        let fixed = adjust(vec![
            ("action", "move".into()),
            ("need", ids["Sparadrap"].clone()),
            ("target", "new:3314".into()),
        ])
        .await;
        assert!(!fixed.body.contains("sans jour commun"));
        assert_eq!(
            post(&app, &ub_lead, &format!("{path}/accepter"), &[])
                .await
                .status,
            303
        );
        let adjusted: i64 = groupement::db::schema::audit_log::table
            .filter(groupement::db::schema::audit_log::action.eq("pooling.adjusted"))
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(adjusted, 6);
    }
);

// While the engine works, the run page says how far it is, by families and needs, and how long
// it expects to take still.
both_backends!(
    a_run_in_progress_shows_families_needs_and_time_left,
    |app| {
        members(&app);
        suppliers(&app);
        let ub_buyer = session_of(&app, "buyer.ub@example.fr", PASSWORD).await;
        submit_needs(&app, &ub_buyer, &[("Compresses", "40000")]).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let path = pool_needs(&app, &lead).await;
        let id: i32 = path.rsplit('/').next().unwrap().parse().unwrap();
        // The same run, as it was half-way through a large year.
        let mut conn = app.pool.get().unwrap();
        diesel::update(pooling_runs::table.find(id))
            .set((
                pooling_runs::status.eq("running"),
                pooling_runs::plan.eq(None::<String>),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::update(pooling_run_progress::table.find(id))
            .set((
                pooling_run_progress::families_done.eq(120),
                pooling_run_progress::families_total.eq(1821),
                pooling_run_progress::needs_done.eq(1402),
                pooling_run_progress::needs_total.eq(18000),
                pooling_run_progress::seconds_left.eq(Some(95)),
                pooling_run_progress::phase.eq("plan"),
            ))
            .execute(&mut conn)
            .unwrap();
        let page = get_with(&app, &path, &lead.cookie()).await;
        assert!(
            page.body.contains(r#"max="18000" value="1402""#),
            "{}",
            page.body
        );
        assert!(
            page.body.contains(
                "Calcul en cours : 120 famille(s) sur 1\u{202f}821, 1\u{202f}402 besoin(s) sur \
             18\u{202f}000 ; temps restant estimé : environ 2 min."
            ),
            "{}",
            page.body
        );
        // Then the frontier of plans, by families again.
        diesel::update(pooling_run_progress::table.find(id))
            .set(pooling_run_progress::phase.eq("frontier"))
            .execute(&mut conn)
            .unwrap();
        let page = get_with(&app, &path, &lead.cookie()).await;
        assert!(
            page.body.contains(
                "Proposition calculée ; calcul de la frontière des plans (économie et accès local) : \
                 120 famille(s) sur 1\u{202f}821"
            ),
            "{}",
            page.body
        );
    }
);
