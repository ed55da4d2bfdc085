//! The purchase programme (#24, first part): what the members plan to buy in the next 18
//! months, public (page and Atom feed) without any buyer-internal detail, following the needs
//! as they change; the suppliers whose CPV interests match hear of each planned purchase once,
//! by e-mail through the outbox, under the opt-in and unsubscription of notices.

use crate::bids::{supplier, user};
use crate::both_backends;
use crate::helpers::TestApp;
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewSupplierCpv};
use groupement::db::schema::{notifications, organisations, supplier_cpv, suppliers};
use groupement::services::{needs, pooling, programme};
use groupement::web::nav::Viewer;

pub(crate) fn organisation(app: &TestApp, code: &str, name: &str) -> i32 {
    diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code,
            name,
            siret: None,
            kind: "hospital",
            buyer_class: "sub_central",
        })
        .returning(organisations::id)
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

pub(crate) fn need(app: &TestApp, buyer: &Viewer, cpv: &str, title: &str, quantity: &str) -> i32 {
    let raw = needs::RawNeed {
        cpv: cpv.into(),
        title: title.into(),
        quantity: quantity.into(),
        unit: "boîte".into(),
        unit_price_eur: "10".into(),
        delivery_postcode: "21000".into(),
        window_start: "01/06/2027".into(),
        window_end: "31/12/2027".into(),
        poolable: "oui".into(),
        ..Default::default()
    };
    needs::create(&app.pool, buyer, &raw, true).unwrap().id
}

pub(crate) fn interested(app: &TestApp, siret: &str, name: &str, prefix: &str) -> i32 {
    let id = supplier(app, siret, name);
    diesel::insert_into(supplier_cpv::table)
        .values(NewSupplierCpv {
            supplier_id: id,
            cpv_prefix: prefix,
        })
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    id
}

/// A page's text with the apostrophes and ampersands handlebars escapes put back.
fn unescaped(body: &str) -> String {
    body.replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&amp;", "&")
}

/// The `purchase_planned` e-mails written, to whom, with what.
fn alerts(app: &TestApp) -> Vec<(String, serde_json::Value)> {
    notifications::table
        .filter(notifications::template.eq("purchase_planned"))
        .order(notifications::id)
        .select((notifications::recipient, notifications::data))
        .load::<(String, String)>(&mut app.pool.get().unwrap())
        .unwrap()
        .into_iter()
        .map(|(to, data)| (to, serde_json::from_str(&data).unwrap()))
        .collect()
}

both_backends!(
    the_programme_shows_planned_purchases_and_tells_the_matching_suppliers_once,
    |app| {
        let chu = organisation(&app, "CHU", "Centre hospitalier universitaire");
        let ub = organisation(&app, "UB", "Université de Bourgogne");
        let chu_buyer = user(&app, "buyer.chu@example.fr", "buyer", Some(chu), None);
        let ub_lead = user(&app, "lead.ub@example.fr", "lead", Some(ub), None);
        need(
            &app,
            &chu_buyer,
            "33141000",
            "Compresses SECRET-INTERNE",
            "20000",
        );
        need(
            &app,
            &ub_lead,
            "33141000",
            "Pansements du service de santé",
            "5000",
        );
        let pens = need(&app, &ub_lead, "30192000", "Stylos", "300");

        // The public page: the family, its band, both members, the quarter, the procedure.
        let (status, _, body) = app.get("/programme-achats").await;
        assert_eq!(status, 200);
        let text = unescaped(&body);
        for expected in [
            "Consommables médicaux",
            "Centre hospitalier universitaire, Université de Bourgogne",
            "Publication prévue au T1 2027",
            "Appel d'offres ouvert (procédure formalisée)",
            "2 achat(s) prévu(s)",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        // No buyer-internal detail: no need title, no exact amount.
        assert!(!body.contains("SECRET-INTERNE"));
        assert!(!body.contains("Pansements du service"));
        // A title its member chooses to publish is shown, on the page and in the feed; the
        // others stay internal. Another organisation may not publish it.
        let pansements: i32 = groupement::db::schema::needs::table
            .filter(groupement::db::schema::needs::title.like("Pansements%"))
            .select(groupement::db::schema::needs::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(matches!(
            needs::publish_title(&app.pool, &chu_buyer, pansements, "oui"),
            Err(groupement::error::AppError::NotFound)
        ));
        // The member's lead publishes it from the need's page.
        let lead_session =
            crate::helpers::session_of(&app, "lead.ub@example.fr", crate::bids::PASSWORD).await;
        let page = crate::helpers::get_with(
            &app,
            &format!("/besoins/{pansements}"),
            &lead_session.cookie(),
        )
        .await;
        assert!(
            unescaped(&page.body).contains("Publier l'intitulé sur le programme"),
            "{}",
            page.body
        );
        let published = crate::helpers::post_form(
            &app,
            &format!("/besoins/{pansements}/programme"),
            &lead_session.cookie(),
            None,
            &[
                ("csrf_token", lead_session.csrf.as_str()),
                ("publier", "oui"),
            ],
        )
        .await;
        assert_eq!(published.status, 303, "{}", published.body);
        let (_, _, shown) = app.get("/programme-achats").await;
        assert!(
            unescaped(&shown).contains("<dt>Besoins</dt><dd>Pansements du service de santé</dd>"),
            "{shown}"
        );
        assert!(!shown.contains("SECRET-INTERNE"));
        let (_, _, feed) = app.get("/programme-achats.atom").await;
        assert!(
            feed.contains("besoins : Pansements du service de santé"),
            "{feed}"
        );
        needs::publish_title(&app.pool, &ub_lead, pansements, "non").unwrap();
        let (_, _, hidden) = app.get("/programme-achats").await;
        assert!(!hidden.contains("Pansements du service"));
        assert!(!body.contains("250 000,00"), "the exact total is not said");
        // Narrowed by CPV; a filter that does not read is said in French.
        let (_, _, narrowed) = app.get("/programme-achats?cpv=3019").await;
        assert!(unescaped(&narrowed)
            .contains("1 achat(s) prévu(s) dans les codes CPV commençant par 3019, sur 2"));
        let (bad, _, refused) = app.get("/programme-achats?cpv=abc").await;
        assert_eq!(bad, 422);
        assert!(unescaped(&refused).contains("tapez de 1 à 8 chiffres d'un code CPV"));
        // The Atom feed: one entry a purchase, the same facts.
        let (status, content_type, feed) = app.get("/programme-achats.atom").await;
        assert_eq!(status, 200);
        assert!(
            content_type.starts_with("application/atom+xml"),
            "{content_type}"
        );
        assert_eq!(feed.matches("<entry>").count(), 2);
        assert!(feed.contains("<category term=\"33140000\""), "{feed}");
        assert!(!feed.contains("SECRET-INTERNE"));

        // Suppliers: medical supplies (told), office supplies (told of the pens), one not
        // opted in, one with no matching interest.
        let medical = interested(&app, "24210041000123", "Medical", "3314");
        interested(&app, "21210231500017", "Bureau", "30");
        let quiet = interested(&app, "44386207300014", "Quiet", "33");
        diesel::update(suppliers::table.find(quiet))
            .set(suppliers::opt_in.eq(false))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        interested(&app, "34889929500300", "Travaux", "45");
        let now = chrono::Utc::now().naive_utc();
        // (The portal's daily job may have told some of them already: what counts is who was told.)
        programme::enqueue_alerts(&app.pool, &app.address, now).unwrap();
        let mut written = alerts(&app);
        written.sort_by(|a, b| b.0.cmp(&a.0));
        let to: Vec<&str> = written.iter().map(|(to, _)| to.as_str()).collect();
        assert_eq!(to, ["medical@example.fr", "bureau@example.fr"]);
        let medical_mail = &written[0].1;
        assert_eq!(medical_mail["purchases"].as_array().unwrap().len(), 1);
        assert_eq!(
            medical_mail["purchases"][0]["label"],
            "Consommables médicaux"
        );
        assert!(medical_mail["unsubscribe"]
            .as_str()
            .unwrap()
            .contains("/desabonnement?jeton="));
        // Once: nothing new, nothing written.
        assert_eq!(
            programme::enqueue_alerts(&app.pool, &app.address, now).unwrap(),
            0
        );
        // The programme follows the needs: the pens withdrawn leave it; a new family comes in
        // and only it is told.
        needs::withdraw(&app.pool, &ub_lead, pens).unwrap();
        let (_, _, body) = app.get("/programme-achats").await;
        assert!(!unescaped(&body).contains("Stylos"));
        assert!(!body.contains("30190000"));
        // (The same codes in another unit: another purchase.)
        let raw = needs::RawNeed {
            cpv: "33141000".into(),
            title: "Compresses en carton".into(),
            quantity: "100".into(),
            unit: "carton".into(),
            unit_price_eur: "80".into(),
            delivery_postcode: "21000".into(),
            window_start: "01/09/2027".into(),
            window_end: "31/12/2027".into(),
            poolable: "oui".into(),
            ..Default::default()
        };
        needs::create(&app.pool, &chu_buyer, &raw, true).unwrap();
        assert_eq!(
            programme::enqueue_alerts(&app.pool, &app.address, now).unwrap(),
            1
        );
        let last = alerts(&app).pop().unwrap();
        assert_eq!(last.0, "medical@example.fr");
        assert_eq!(last.1["purchases"].as_array().unwrap().len(), 1);
        assert_eq!(last.1["purchases"][0]["unit"], "carton");
        let _ = medical;

        // Pooled and accepted, the medical supplies become a tender in preparation, with lots.
        let run = pooling::start(&app.pool, &ub_lead, &pooling::RunForm::defaults(2027)).unwrap();
        pooling::execute(&app.pool, run).unwrap();
        pooling::accept(&app.pool, &ub_lead, run, &app.address).unwrap();
        let (_, _, body) = app.get("/programme-achats").await;
        let text = unescaped(&body);
        assert!(
            text.contains("consultation en préparation (mutualisation acceptée)"),
            "{text}"
        );
        assert!(text.contains("1 lot"), "{text}");
    }
);

both_backends!(
    a_company_declares_its_interest_and_the_leads_read_it,
    |app| {
        use crate::helpers::{get_with, post_form, session_of};
        let chu = organisation(&app, "CHU", "Centre hospitalier universitaire");
        let chu_lead = user(&app, "lead.chu@example.fr", "lead", Some(chu), None);
        user(&app, "buyer.chu@example.fr", "buyer", Some(chu), None);
        need(&app, &chu_lead, "33141000", "Compresses", "20000");
        let company = interested(&app, "24210041000123", "Medical", "3314");
        user(&app, "vente@medical.fr", "supplier", None, Some(company));
        let seller = session_of(&app, "vente@medical.fr", crate::bids::PASSWORD).await;
        let key = "needs:2027:3314:boîte";
        let form_path = "/programme-achats/declaration?achat=needs%3A2027%3A3314%3Abo%C3%AEte";

        // The programme offers the company to declare; the form says what it is for.
        let page = get_with(&app, "/programme-achats", &seller.cookie()).await;
        assert!(unescaped(&page.body).contains(form_path), "{}", page.body);
        let form = get_with(&app, form_path, &seller.cookie()).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(
            unescaped(&form.body).contains("ne vous donne aucun avantage lors de l'attribution")
        );
        // Refused, said beside each field, nothing stored.
        let refused = post_form(
            &app,
            "/programme-achats/declaration",
            &seller.cookie(),
            None,
            &[
                ("csrf_token", seller.csrf.as_str()),
                ("achat", key),
                ("capacity", "beaucoup"),
                ("sites", &"x".repeat(501)),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(
            refused.body.contains("id=\"capacity-erreur\""),
            "{}",
            refused.body
        );
        assert!(refused.body.contains("500 caractères au plus"));
        // Declared; declared again replaces it.
        for capacity in ["50 000", "80 000,50"] {
            let saved = post_form(
                &app,
                "/programme-achats/declaration",
                &seller.cookie(),
                None,
                &[
                    ("csrf_token", seller.csrf.as_str()),
                    ("achat", key),
                    ("capacity", capacity),
                    ("sites", "Dijon, Beaune"),
                    ("certifications", "ISO 13485"),
                    ("question", "Livraison hebdomadaire possible ?"),
                ],
            )
            .await;
            assert_eq!(saved.status, 303, "{}", saved.body);
        }
        let again = get_with(&app, form_path, &seller.cookie()).await;
        assert!(again.body.contains("value=\"80000,5\""), "{}", again.body);
        // The programme tells the company its declaration is there.
        let page = get_with(&app, "/programme-achats", &seller.cookie()).await;
        assert!(
            page.body.contains("Modifier notre déclaration"),
            "{}",
            page.body
        );
        // An unknown purchase is not found.
        let unknown = post_form(
            &app,
            "/programme-achats/declaration",
            &seller.cookie(),
            None,
            &[
                ("csrf_token", seller.csrf.as_str()),
                ("achat", "needs:2027:9999:kg"),
                ("capacity", "1000"),
            ],
        )
        .await;
        assert_eq!(unknown.status, 404);
        // The public programme counts it; the leads read it; a buyer may not.
        let (_, _, public) = app.get("/programme-achats").await;
        assert!(unescaped(&public).contains("Entreprises intéressées</dt><dd>1</dd>"));
        assert!(!public.contains("Medical"), "who declared is not public");
        let lead = session_of(&app, "lead.chu@example.fr", crate::bids::PASSWORD).await;
        let read = get_with(&app, "/programme-achats/declarations", &lead.cookie()).await;
        assert_eq!(read.status, 200);
        let text = unescaped(&read.body);
        for expected in [
            "Medical",
            "80\u{202f}000,50\u{a0}€",
            "Dijon, Beaune",
            "ISO 13485",
            "Livraison hebdomadaire possible ?",
            "du territoire",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        let buyer = session_of(&app, "buyer.chu@example.fr", crate::bids::PASSWORD).await;
        let denied = get_with(&app, "/programme-achats/declarations", &buyer.cookie()).await;
        assert_eq!(denied.status, 403);

        // The lead answers the question: an empty answer is refused beside its field; the
        // answer goes to the company by e-mail and onto the programme for everyone, without
        // the company's name.
        let declaration: i32 = groupement::db::schema::sourcing_declarations::table
            .select(groupement::db::schema::sourcing_declarations::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let declaration = declaration.to_string();
        let empty = post_form(
            &app,
            "/programme-achats/reponse",
            &lead.cookie(),
            None,
            &[
                ("csrf_token", lead.csrf.as_str()),
                ("declaration", declaration.as_str()),
                ("answer", "  "),
            ],
        )
        .await;
        assert_eq!(empty.status, 422, "{}", empty.body);
        assert!(
            unescaped(&empty.body).contains("Réponse : à renseigner"),
            "{}",
            empty.body
        );
        // The summary links to the answer field of that question, which is there.
        let field = format!("answer-{declaration}");
        assert!(
            empty.body.contains(&format!("href=\"#{field}\""))
                && empty.body.contains(&format!("id=\"{field}\"")),
            "{}",
            empty.body
        );
        let answered = post_form(
            &app,
            "/programme-achats/reponse",
            &lead.cookie(),
            None,
            &[
                ("csrf_token", lead.csrf.as_str()),
                ("declaration", declaration.as_str()),
                ("answer", "Oui, chaque lundi sur les trois sites du CHU."),
            ],
        )
        .await;
        assert_eq!(answered.status, 303, "{}", answered.body);
        let mails: Vec<(String, String)> = notifications::table
            .filter(notifications::template.eq("sourcing_answered"))
            .select((notifications::recipient, notifications::data))
            .load(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].0, "medical@example.fr");
        assert!(mails[0].1.contains("chaque lundi"));
        let (_, _, public) = app.get("/programme-achats").await;
        let text = unescaped(&public);
        assert!(text.contains("Livraison hebdomadaire possible ?"), "{text}");
        assert!(text.contains("Oui, chaque lundi sur les trois sites du CHU."));
        assert!(!public.contains("Medical"), "who asked is not public");
        // A buyer may not answer; the company's declaration made again keeps its answer.
        let denied = post_form(
            &app,
            "/programme-achats/reponse",
            &buyer.cookie(),
            None,
            &[
                ("csrf_token", buyer.csrf.as_str()),
                ("declaration", declaration.as_str()),
                ("answer", "non"),
            ],
        )
        .await;
        assert_eq!(denied.status, 403);
    }
);
