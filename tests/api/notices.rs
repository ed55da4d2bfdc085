//! The EU notices of a tender in the portal (#25): a formal tender's publication writes its
//! eForms contract notice, or is refused with the rules its data breaks, in French, nothing
//! written; the members download it; the coordinator's lead marks it sent and records its TED
//! number; a change of the published tender writes a change notice pointing at it; a tender
//! under the EU thresholds has none and its page says why; `groupement export eforms` prints it.
//! (That every notice passes the SDK's schemas and rules is `eforms.rs`'s.)

use crate::bids::{consultation_file, user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, TestApp};
use crate::sealing::organisation;
use diesel::prelude::*;
use groupement::db::schema::{eforms_notices, tenders};
use groupement::services::{admin, needs, notices, pooling};
use groupement::services::{tenders as tender_service, tenders::Publication};
use groupement::web::nav::Viewer;

struct Formal {
    reference: String,
    tender: i32,
    ub: Viewer,
    chu: Viewer,
    admin: Viewer,
}

/// A joint tender of UB and CHU worth €360,000 (a formal procedure), approved, its file ready.
fn approved(app: &TestApp, quantities: (&str, &str)) -> Formal {
    let ub_id = organisation(app, "UB");
    let chu_id = organisation(app, "CHU");
    let ub = user(app, "lead.ub@example.fr", "lead", Some(ub_id), None);
    let chu = user(app, "lead.chu@example.fr", "lead", Some(chu_id), None);
    let admin = user(app, "admin@example.fr", "admin", None, None);
    for (lead, quantity) in [(&ub, quantities.0), (&chu, quantities.1)] {
        let raw = needs::RawNeed {
            cpv: "30192000".into(),
            title: "Fournitures de bureau".into(),
            quantity: quantity.into(),
            unit: "lot".into(),
            unit_price_eur: "20".into(),
            delivery_postcode: "21000".into(),
            window_start: "01/03/2027".into(),
            window_end: "30/06/2027".into(),
            poolable: "oui".into(),
            ..Default::default()
        };
        needs::create(&app.pool, lead, &raw, true).unwrap();
    }
    let run = pooling::start(&app.pool, &ub, &pooling::RunForm::defaults(2027)).unwrap();
    pooling::execute(&app.pool, run).unwrap();
    let reference = pooling::accept(&app.pool, &ub, run, &app.address)
        .unwrap()
        .remove(0);
    let tender: i32 = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    tender_service::decide(&app.pool, &ub, tender, true, "").unwrap();
    tender_service::decide(&app.pool, &chu, tender, true, "").unwrap();
    consultation_file(app, &ub, tender);
    Formal {
        reference,
        tender,
        ub,
        chu,
        admin,
    }
}

fn publication() -> Publication {
    Publication {
        weight_price: "60".into(),
        weight_quality: "30".into(),
        weight_environment: "10".into(),
        deadline: (chrono::Utc::now() + chrono::Duration::days(40))
            .format("%d/%m/%Y")
            .to_string(),
        ..Default::default()
    }
}

fn contact(code: &str, siret: &str) -> admin::OrganisationForm {
    admin::OrganisationForm {
        code: code.into(),
        name: format!("Membre {code}"),
        siret: siret.into(),
        kind: "university".into(),
        buyer_class: "central".into(),
        street: "Esplanade Érasme".into(),
        postcode: "21000".into(),
        city: "Dijon".into(),
        phone: "+33 3 53 01 00 09".into(),
        email: format!("achats.{}@example.fr", code.to_lowercase()),
        website: String::new(),
    }
}

fn notice_count(app: &TestApp) -> i64 {
    eforms_notices::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

both_backends!(
    a_formal_tender_is_published_with_its_eforms_notice_and_not_without,
    |app| {
        let t = approved(&app, ("10000", "8000"));
        let procedure: String = tenders::table
            .find(t.tender)
            .select(tenders::procedure)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(procedure, "formal");
        // The members' data the notice needs is missing: refused, every rule said in French.
        let refused =
            tender_service::publish(&app.pool, &t.ub, &app.address, t.tender, &publication())
                .unwrap_err()
                .detailed();
        for expected in [
            "BT-501 (identifiant légal : SIRET) manquant pour l'acheteur UB (UB)",
            "BT-503 (téléphone de contact) manquant pour l'acheteur CHU (CHU)",
            "BT-506 (adresse e-mail de contact) manquant",
            "BT-501 (identifiant légal) manquant pour l'instance de recours",
        ] {
            assert!(refused.contains(expected), "{expected} in {refused}");
        }
        // Nothing written: the tender still approved, no notice.
        let status: String = tenders::table
            .find(t.tender)
            .select(tenders::status)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(status, "approved");
        assert_eq!(notice_count(&app), 0);
        // The admin completes the members and the review body; bad data refused, said where.
        let mut bad = contact("UB", "123");
        bad.phone = "téléphone".into();
        bad.email = "achats".into();
        let text = admin::update_organisation(&app.pool, &t.admin, "UB", &bad)
            .unwrap_err()
            .detailed();
        for field in ["SIRET", "téléphone", "e-mail"] {
            assert!(text.contains(field), "{field} in {text}");
        }
        admin::update_organisation(&app.pool, &t.admin, "UB", &contact("UB", "19210000200018"))
            .unwrap();
        admin::update_organisation(
            &app.pool,
            &t.admin,
            "CHU",
            &contact("CHU", "26210000100011"),
        )
        .unwrap();
        assert!(admin::set_review_body_id(&app.pool, &t.admin, "1234").is_err());
        admin::set_review_body_id(&app.pool, &t.admin, "172 100 004 00016").unwrap();
        // Published, with the contract notice to send.
        tender_service::publish(&app.pool, &t.ub, &app.address, t.tender, &publication()).unwrap();
        let listed = notices::notices_for(&app.pool, &t.chu, t.tender).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].kind, "contract");
        assert_eq!(listed[0].status, "to_send");
        assert_eq!(
            listed[0].notice_id,
            groupement::services::eforms::notice_id(&t.reference, None)
        );
        // The members download it; the page lists it; others get nothing.
        let ub = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let xml = get_with(
            &app,
            &format!("/consultations/{}/avis-ue.xml", t.tender),
            &ub.cookie(),
        )
        .await;
        assert_eq!(xml.status, 200);
        assert!(
            xml.content_type.starts_with("application/xml"),
            "{}",
            xml.content_type
        );
        for expected in [
            "<cbc:SubTypeCode listName=\"notice-subtype\">16</cbc:SubTypeCode>",
            "<cbc:CompanyID>19210000200018</cbc:CompanyID>",
            "<cbc:CompanyID>17210000400016</cbc:CompanyID>",
            "<cbc:Telephone>+33 3 53 01 00 09</cbc:Telephone>",
            "<efbc:GroupLeadIndicator>true</efbc:GroupLeadIndicator>",
            "<cbc:ItemClassificationCode listName=\"cpv\">30190000</cbc:ItemClassificationCode>",
            "<cbc:CountrySubentityCode listName=\"nuts\">FRC11</cbc:CountrySubentityCode>",
            "<efbc:ParameterNumeric>10</efbc:ParameterNumeric>",
        ] {
            assert!(xml.body.contains(expected), "{expected} in {}", xml.body);
        }
        assert!(xml
            .body
            .contains(&format!("/appels-d-offres/{}", t.reference)));
        let page = get_with(&app, &format!("/consultations/{}", t.tender), &ub.cookie()).await;
        assert!(
            page.body.contains("Avis de marché (eForms 16)"),
            "{}",
            page.body
        );
        assert!(page.body.contains("à envoyer"));
        assert!(page.body.contains("Marquer comme envoyé"));
        let chu = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
        let page = get_with(&app, &format!("/consultations/{}", t.tender), &chu.cookie()).await;
        assert!(page.body.contains("Avis de marché (eForms 16)"));
        assert!(
            !page.body.contains("Marquer comme envoyé"),
            "only the coordinator's lead sends"
        );
        let id = listed[0].id;
        // A member that does not coordinate cannot send it.
        let forbidden = post_form(
            &app,
            &format!("/consultations/{}/avis-ue/{id}/envoi", t.tender),
            &chu.cookie(),
            None,
            &[("csrf_token", chu.csrf.as_str())],
        )
        .await;
        assert_eq!(forbidden.status, 403);
        // A TED number before sending is refused; sent, then a bad number, then the right one.
        let early = notices::record_publication(&app.pool, &t.ub, t.tender, id, "123456-2027");
        assert!(early
            .unwrap_err()
            .detailed()
            .contains("seul un avis envoyé"));
        let sent = post_form(
            &app,
            &format!("/consultations/{}/avis-ue/{id}/envoi", t.tender),
            &ub.cookie(),
            None,
            &[("csrf_token", ub.csrf.as_str())],
        )
        .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let bad = post_form(
            &app,
            &format!("/consultations/{}/avis-ue/{id}/publication", t.tender),
            &ub.cookie(),
            None,
            &[("csrf_token", ub.csrf.as_str()), ("ted_number", "12-27")],
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(
            bad.body
                .contains("n&#x27;est pas un numéro de publication TED"),
            "{}",
            bad.body
        );
        let published = post_form(
            &app,
            &format!("/consultations/{}/avis-ue/{id}/publication", t.tender),
            &ub.cookie(),
            None,
            &[
                ("csrf_token", ub.csrf.as_str()),
                ("ted_number", "654321-2027"),
            ],
        )
        .await;
        assert_eq!(published.status, 303, "{}", published.body);
        let listed = notices::notices_for(&app.pool, &t.ub, t.tender).unwrap();
        assert_eq!(listed[0].status, "published");
        assert_eq!(listed[0].ted_number.as_deref(), Some("00654321-2027"));
        assert_eq!(listed[0].channel.as_deref(), Some("manuel"));
        // The companies read it on the public notice, with its link on TED.
        let public = get_with(&app, &format!("/appels-d-offres/{}", t.reference), "").await;
        assert!(
            public.body.contains("n° 00654321-2027 sur TED"),
            "{}",
            public.body
        );
        assert!(public
            .body
            .contains("https://ted.europa.eu/fr/notice/-/detail/654321-2027"));
        // A change of the published tender: its change notice, pointing at the first.
        let form = tender_service::ChangeForm {
            summary: "La date limite est reportée.".into(),
            deadline: (chrono::Utc::now() + chrono::Duration::days(50))
                .format("%d/%m/%Y")
                .to_string(),
            ..Default::default()
        };
        tender_service::change(&app.pool, &t.ub, &app.address, t.tender, &form, None).unwrap();
        let listed = notices::notices_for(&app.pool, &t.ub, t.tender).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].kind, "change");
        let change = notices::notice_file(&app.pool, &t.ub, t.tender, Some(listed[1].id))
            .unwrap()
            .1;
        assert!(change.contains(&format!(
            "<efbc:ChangedNoticeIdentifier>{}-01</efbc:ChangedNoticeIdentifier>",
            listed[0].notice_id
        )));
        assert!(change.contains("La date limite est reportée."));
        // The journal says it.
        let journal = tender_service::journal(&app.pool, &t.ub, t.tender).unwrap();
        let text = format!("{journal:?}");
        assert!(text.contains("avis européen eForms"), "{text}");
        assert!(
            text.contains("publié au JOUE sous le n° 00654321-2027"),
            "{text}"
        );
        // `groupement export eforms --tender REF` prints the latest.
        let cli = std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
            .args(["export", "eforms", "--tender", &t.reference])
            .env("GROUPEMENT_DATABASE_URL", app.database_url())
            .output()
            .unwrap();
        assert!(
            cli.status.success(),
            "{:?}: {}{}",
            cli.status,
            String::from_utf8_lossy(&cli.stderr),
            String::from_utf8_lossy(&cli.stdout)
        );
        assert_eq!(
            String::from_utf8_lossy(&cli.stdout).trim_end(),
            change.trim_end()
        );
        let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
            .args(["export", "eforms", "--tender", "GRP-1999-999"])
            .env("GROUPEMENT_DATABASE_URL", app.database_url())
            .output()
            .unwrap();
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no EU notice for GRP-1999-999"));
    }
);

both_backends!(
    a_tender_under_the_eu_thresholds_has_no_notice_and_says_why,
    |app| {
        let t = approved(&app, ("3000", "2000"));
        tender_service::publish(&app.pool, &t.ub, &app.address, t.tender, &publication()).unwrap();
        assert_eq!(notice_count(&app), 0);
        let ub = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let page = get_with(&app, &format!("/consultations/{}", t.tender), &ub.cookie()).await;
        assert!(
            page.body.contains("sous les seuils européens"),
            "{}",
            page.body
        );
        let none = get_with(
            &app,
            &format!("/consultations/{}/avis-ue.xml", t.tender),
            &ub.cookie(),
        )
        .await;
        assert_eq!(none.status, 404);
        let _ = (&t.chu, &t.admin);
    }
);
