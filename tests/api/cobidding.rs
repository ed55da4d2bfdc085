//! The co-bidding exchange and the engine that counts it (#24): two companies post their parts
//! on a planned purchase, the exchange proposes them as a team, one asks the other through the
//! platform (e-mail without its address), the other accepts (both now see each other's
//! address); with the lead's parameter, the pooling engine counts the team and a company's
//! declared capacity, and the lot they make accessible says so.

use crate::bids::{user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, TestApp};
use diesel::prelude::*;
use groupement::db::schema::{notifications, pooling_runs, suppliers};
use groupement::services::{pooling, sourcing};
use groupement_solver::pooling::Plan;

const KEY: &str = "needs:2027:3314:boîte";
const PAGE: &str = "/co-traitance?cible=needs%3A2027%3A3314%3Abo%C3%AEte";

fn unescaped(body: &str) -> String {
    body.replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&amp;", "&")
}

pub(crate) fn company(
    app: &TestApp,
    siret: &str,
    name: &str,
    capacity_eur: i64,
) -> groupement::web::nav::Viewer {
    let id = crate::programme::interested(app, siret, name, "3314");
    diesel::update(suppliers::table.find(id))
        .set(suppliers::annual_capacity_cents.eq(capacity_eur * 100))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    user(
        app,
        &format!("vente@{}.fr", name.to_lowercase()),
        "supplier",
        None,
        Some(id),
    )
}

fn mails(app: &TestApp, template: &str) -> Vec<(String, serde_json::Value)> {
    notifications::table
        .filter(notifications::template.eq(template))
        .order(notifications::id)
        .select((notifications::recipient, notifications::data))
        .load::<(String, String)>(&mut app.pool.get().unwrap())
        .unwrap()
        .into_iter()
        .map(|(to, data)| (to, serde_json::from_str(&data).unwrap()))
        .collect()
}

/// The only lot of a run's plan: whether it is local-accessible, and its explanation.
fn only_lot(app: &TestApp, run: i32) -> (bool, String) {
    let text: Option<String> = pooling_runs::table
        .find(run)
        .select(pooling_runs::plan)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let plan: Plan = serde_json::from_str(&text.unwrap()).unwrap();
    let lot = &plan.tenders[0].lots[0];
    (lot.local_accessible, lot.explanation.clone())
}

both_backends!(
    two_smes_form_a_team_on_the_exchange_and_the_engine_counts_it,
    |app| {
        let chu = crate::programme::organisation(&app, "CHU", "Centre hospitalier universitaire");
        let lead = user(&app, "lead.chu@example.fr", "lead", Some(chu), None);
        // One need of 150 000 €: one lot, too big for any company of the territory alone.
        crate::programme::need(&app, &lead, "33141000", "Compresses", "15000");
        let alpha = company(&app, "24210041000123", "Alpha", 100_000);
        company(&app, "21210231500017", "Bravo", 80_000);
        company(&app, "44386207300014", "Charlie", 60_000);
        let bravo = session_of(&app, "vente@bravo.fr", PASSWORD).await;
        let charlie = session_of(&app, "vente@charlie.fr", PASSWORD).await;

        // The programme leads companies to the exchange; the exchange says what it is.
        let programme = get_with(&app, "/programme-achats", &bravo.cookie()).await;
        assert!(
            unescaped(&programme.body).contains(PAGE),
            "{}",
            programme.body
        );
        let empty = get_with(&app, PAGE, &bravo.cookie()).await;
        assert_eq!(empty.status, 200, "{}", empty.body);
        let text = unescaped(&empty.body);
        assert!(text.contains("Aucune annonce pour l'instant"), "{text}");
        assert!(text.contains("aucun avantage à l'attribution"));
        // Refused, each field said in French, nothing stored.
        let refused = post_form(
            &app,
            "/co-traitance/annonce",
            &bravo.cookie(),
            None,
            &[
                ("csrf_token", bravo.csrf.as_str()),
                ("cible", KEY),
                ("kind", "search"),
                ("part", ""),
                ("share", "150"),
                ("capacity", "beaucoup"),
                ("departments", "21 Dijon"),
                ("part_cpv", "99999999"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let text = unescaped(&refused.body);
        for expected in [
            "un pourcentage entier de 1 à 100",
            "« Dijon » n'est pas un numéro de département",
            "le code CPV 99999999 n'existe pas dans la nomenclature CPV 2008",
            "id=\"share-erreur\"",
            "id=\"part-erreur\"",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        assert!(
            unescaped(&get_with(&app, PAGE, &bravo.cookie()).await.body).contains("Aucune annonce")
        );
        // A company with no entry cannot write to others yet.
        let post = |session: &crate::helpers::Session, kind: &str, share: &str, capacity: &str| {
            let (cookie, csrf) = (session.cookie(), session.csrf.clone());
            let (kind, share, capacity) =
                (kind.to_string(), share.to_string(), capacity.to_string());
            let app = &app;
            async move {
                post_form(
                    app,
                    "/co-traitance/annonce",
                    &cookie,
                    None,
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("cible", KEY),
                        ("kind", kind.as_str()),
                        ("part", "Livraison des services de soins"),
                        ("share", share.as_str()),
                        ("capacity", capacity.as_str()),
                        ("departments", "21, 71"),
                        ("note", "Stock à Dijon"),
                    ],
                )
                .await
            }
        };
        assert_eq!(post(&bravo, "search", "60", "90 000").await.status, 303);
        let seen = get_with(&app, PAGE, &charlie.cookie()).await;
        assert!(
            unescaped(&seen.body).contains("Publiez votre annonce pour écrire à cette entreprise")
        );
        assert_eq!(post(&charlie, "offer", "50", "70 000").await.status, 303);

        // The exchange proposes Bravo + Charlie: their parts reach the purchase's band.
        let page = get_with(&app, PAGE, &bravo.cookie()).await;
        let text = unescaped(&page.body);
        assert!(text.contains("Bravo + Charlie — apportent"), "{text}");
        assert!(
            !text.contains("vente@charlie.fr"),
            "no address before both agree"
        );
        // A part without its own CPV code takes the purchase's.
        assert!(text.contains("<code>33140000</code>"), "{text}");
        assert!(!text.contains("charlie@example.fr"));
        // Bravo writes to Charlie through the platform.
        let charlie_post: i32 = groupement::db::schema::cobidding_posts::table
            .filter(groupement::db::schema::cobidding_posts::target.eq(KEY))
            .order(groupement::db::schema::cobidding_posts::id.desc())
            .select(groupement::db::schema::cobidding_posts::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let ask = |session: &crate::helpers::Session| {
            let (cookie, csrf) = (session.cookie(), session.csrf.clone());
            let app = &app;
            let post_id = charlie_post.to_string();
            async move {
                post_form(
                    app,
                    "/co-traitance/contact",
                    &cookie,
                    None,
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("cible", KEY),
                        ("annonce", post_id.as_str()),
                        ("message", "Nous prenons Dijon, vous la Saône-et-Loire ?"),
                    ],
                )
                .await
            }
        };
        assert_eq!(ask(&bravo).await.status, 303);
        let asked = mails(&app, "cobidding_request");
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].0, "charlie@example.fr");
        assert_eq!(asked[0].1["company"], "Bravo");
        assert!(!asked[0].1.to_string().contains("bravo@example.fr"));
        // Asked twice: refused, said.
        let twice = ask(&bravo).await;
        assert_eq!(twice.status, 409, "{}", twice.body);
        assert!(unescaped(&twice.body).contains("une demande est déjà en attente"));
        // Charlie sees the request, without Bravo's address, and accepts.
        let page = get_with(&app, PAGE, &charlie.cookie()).await;
        let text = unescaped(&page.body);
        assert!(text.contains("Cette entreprise vous propose de répondre ensemble"));
        assert!(!text.contains("bravo@example.fr"));
        let request: i32 = groupement::db::schema::cobidding_contacts::table
            .select(groupement::db::schema::cobidding_contacts::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let request = request.to_string();
        let accepted = post_form(
            &app,
            "/co-traitance/reponse",
            &charlie.cookie(),
            None,
            &[
                ("csrf_token", charlie.csrf.as_str()),
                ("cible", KEY),
                ("demande", request.as_str()),
                ("accepter", "oui"),
            ],
        )
        .await;
        assert_eq!(accepted.status, 303, "{}", accepted.body);
        let told = mails(&app, "cobidding_accepted");
        let mut to: Vec<(&str, &str)> = told
            .iter()
            .map(|(to, d)| (to.as_str(), d["email"].as_str().unwrap()))
            .collect();
        to.sort();
        assert_eq!(
            to,
            [
                ("bravo@example.fr", "charlie@example.fr"),
                ("charlie@example.fr", "bravo@example.fr")
            ]
        );
        let page = get_with(&app, PAGE, &bravo.cookie()).await;
        let text = unescaped(&page.body);
        assert!(text.contains("Votre équipe :</strong> Charlie"), "{text}");
        assert!(text.contains("mailto:charlie@example.fr"));
        // Answered once only; Bravo cannot answer its own request.
        let again = post_form(
            &app,
            "/co-traitance/reponse",
            &bravo.cookie(),
            None,
            &[
                ("csrf_token", bravo.csrf.as_str()),
                ("cible", KEY),
                ("demande", request.as_str()),
                ("accepter", "non"),
            ],
        )
        .await;
        assert_eq!(again.status, 404);

        // Alpha declares 200 000 € on the programme.
        sourcing::declare(
            &app.pool,
            &alpha,
            &sourcing::DeclarationForm {
                achat: KEY.into(),
                capacity: "200000".into(),
                ..Default::default()
            },
        )
        .unwrap();

        // The register alone: C_f is Bravo's 80 000 €, the lot of 150 000 € is not accessible.
        let plain = pooling::start(&app.pool, &lead, &pooling::RunForm::defaults(2027)).unwrap();
        pooling::execute(&app.pool, plain).unwrap();
        let (local, _) = only_lot(&app, plain);
        assert!(!local);
        // Counting sourcing: Alpha's declaration (200 000 €) and the team (90 000 + 70 000 €)
        // are two bidders able to take it.
        let counted = pooling::start(
            &app.pool,
            &lead,
            &pooling::RunForm {
                count_sourcing: "oui".into(),
                ..pooling::RunForm::defaults(2027)
            },
        )
        .unwrap();
        pooling::execute(&app.pool, counted).unwrap();
        let (local, explanation) = only_lot(&app, counted);
        assert!(local, "{explanation}");
        for expected in [
            "grâce aux capacités déclarées",
            "capacité déclarée par Alpha",
            "équipe Bravo + Charlie",
            "le registre seul ne le permettait pas",
        ] {
            assert!(
                explanation.contains(expected),
                "{expected} in {explanation}"
            );
        }
        // The lead sees the parameter on the run's page.
        let lead_session = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
        let run_page = get_with(
            &app,
            &format!("/mutualisation/{counted}"),
            &lead_session.cookie(),
        )
        .await;
        assert!(unescaped(&run_page.body).contains(
            "capacités déclarées sur le programme d'achats et équipes de co-traitance comptées"
        ));
        // A value that is not the checkbox's is refused in French.
        let refused = pooling::start(
            &app.pool,
            &lead,
            &pooling::RunForm {
                count_sourcing: "peut-être".into(),
                ..pooling::RunForm::defaults(2027)
            },
        );
        assert!(format!("{:?}", refused.unwrap_err()).contains("cochez la case"));
    }
);

both_backends!(a_published_lot_has_its_exchange_until_the_deadline, |app| {
    let (reference, _lead, _, _) = crate::bids::published(&app);
    company(&app, "21210231500017", "Bravo", 5_000);
    company(&app, "44386207300014", "Charlie", 15_000);
    let bravo = session_of(&app, "vente@bravo.fr", PASSWORD).await;
    let charlie = session_of(&app, "vente@charlie.fr", PASSWORD).await;
    // The notice leads a company to each lot's exchange.
    let notice = get_with(
        &app,
        &format!("/appels-d-offres/{reference}"),
        &bravo.cookie(),
    )
    .await;
    let page = format!("/co-traitance?cible=lot%3A{reference}%3A1");
    assert!(unescaped(&notice.body).contains(&page), "{}", notice.body);
    // The lot's value (20 000 €) and its delivery department are the target.
    let shown = get_with(&app, &page, &bravo.cookie()).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let text = unescaped(&shown.body);
    assert!(text.contains("lot publié"), "{text}");
    assert!(text.contains("départements 21"), "{text}");
    let key = format!("lot:{reference}:1");
    for (session, share, capacity, departments) in [
        (&bravo, "30", "6 000", "21"),
        (&charlie, "80", "15 000", "71"),
    ] {
        let saved = post_form(
            &app,
            "/co-traitance/annonce",
            &session.cookie(),
            None,
            &[
                ("csrf_token", session.csrf.as_str()),
                ("cible", key.as_str()),
                ("kind", "offer"),
                ("part", "Fournitures"),
                ("share", share),
                ("capacity", capacity),
                ("departments", departments),
            ],
        )
        .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
    }
    // Bravo (6 000 €) + Charlie (15 000 €) reach 20 000 € and Bravo covers Côte-d'Or.
    let text = unescaped(&get_with(&app, &page, &charlie.cookie()).await.body);
    assert!(text.contains("Charlie + Bravo — apportent 21"), "{text}");
    // Neither alone: Charlie does not deliver in 21.
    assert!(!text.contains("Aucune équipe"), "{text}");
    // A lot that does not exist, a tender not published: not found.
    for missing in [
        format!("/co-traitance?cible=lot%3A{reference}%3A9"),
        "/co-traitance?cible=lot%3AGRP-0000-000%3A1".to_string(),
        "/co-traitance?cible=needs%3A1999%3A0000%3Akg".to_string(),
    ] {
        assert_eq!(
            get_with(&app, &missing, &bravo.cookie()).await.status,
            404,
            "{missing}"
        );
    }
    // Anonymous people are not on the exchange.
    let (status, _, _) = app.get(&page).await;
    assert!(status == 303 || status == 401 || status == 403, "{status}");
});
