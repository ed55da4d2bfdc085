//! The DUME (ESPD, #22 part 8): each published tender offers its request; a company answers
//! with the simplified form or uploads a response; the lead reads them at the opening, not
//! before. The request and the responses the platform writes validate against the official
//! ESPD-EDM 4.1.0 schemas (UBL 2.3), checked by xmllint.

use crate::bids::{published, supplier, user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, upload_form};
use diesel::prelude::*;
use groupement::db::schema::tenders;
use groupement::services::espd;
use std::path::PathBuf;

/// The official schemas and examples (`../shared/data/espd`), when this machine has them.
fn espd_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/espd");
    match dir.join("xsd/maindoc").is_dir() {
        true => Some(dir),
        false if std::env::var("GROUPEMENT_TEST_REQUIRE_SCHEMAS").is_ok_and(|v| v == "1") => {
            panic!("the ESPD schemas are missing: {}", dir.display())
        }
        false => {
            eprintln!(
                "notice: no ESPD schemas at {}: XSD checks skipped",
                dir.display()
            );
            None
        }
    }
}

/// Whether `xml` validates against the ESPD `maindoc` schema (`Request` or `Response`).
fn validates(xml: &str, maindoc: &str) -> bool {
    let Some(dir) = espd_data() else {
        return true;
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), xml).unwrap();
    let schema = dir.join(format!(
        "xsd/maindoc/UBL-QualificationApplication{maindoc}-2.3.xsd"
    ));
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(file.path())
        .output()
        .expect("xmllint (Debian's libxml2-utils) runs the schema check");
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.success()
}

#[test]
fn the_official_example_response_is_read() {
    let Some(dir) = espd_data() else {
        return;
    };
    let bytes = std::fs::read(dir.join("xml-examples/ESPD-Response.xml")).unwrap();
    let read = espd::read_response(&bytes).unwrap();
    assert_eq!(read.company, "__Procurer Official Name__");
    assert_eq!(read.siret, "AD123456789");
    assert!(read.sme);
    // The example answers « yes » to the convictions it documents.
    assert!(
        read.exclusions.contains(&"crime-org".to_string()),
        "{read:?}"
    );
    // And the example request is no response.
    let request = std::fs::read(dir.join("xml-examples/ESPD-Request.xml")).unwrap();
    assert!(espd::read_response(&request).is_err());
}

both_backends!(
    a_tender_offers_its_dume_request_and_companies_answer_it_sealed,
    |app| {
        let (reference, ..) = published(&app);
        let tender: i32 = tenders::table
            .filter(tenders::reference.eq(&reference))
            .select(tenders::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let alpha_id = supplier(&app, "24210041000123", "Alpha");
        let beta_id = supplier(&app, "21210231500017", "Beta");
        user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
        user(&app, "beta@example.fr", "supplier", None, Some(beta_id));
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;

        // The request, for anyone, valid against the official schema.
        let request = get_with(&app, &format!("/appels-d-offres/{reference}/dume.xml"), "").await;
        assert_eq!(request.status, 200);
        assert!(request.content_type.starts_with("application/xml"));
        assert!(request
            .body
            .contains(&format!(">{reference}</cbc:ContractFolderID>")));
        assert!(request.body.contains("crime-org") && request.body.contains("gen-year-to"));
        assert!(validates(&request.body, "Request"), "{}", request.body);

        // The simplified form: each problem beside its field, what was typed kept.
        let path = format!("/appels-d-offres/{reference}/dume");
        let refused = post_form(
            &app,
            &path,
            &alpha.cookie(),
            None,
            &[
                ("csrf_token", alpha.csrf.as_str()),
                ("year", "1990"),
                ("turnover_eur", "850 000"),
                ("headcount", "douze"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        for expected in [
            "id=\"dume-year-erreur\"",
            "id=\"dume-headcount-erreur\"",
            "id=\"dume-sworn-erreur\"",
            "value=\"850 000\"",
        ] {
            assert!(
                refused.body.contains(expected),
                "{expected}: {}",
                refused.body
            );
        }
        let last_year = (chrono::Utc::now().date_naive() - chrono::Duration::days(366))
            .format("%Y")
            .to_string();
        let filled = post_form(
            &app,
            &path,
            &alpha.cookie(),
            None,
            &[
                ("csrf_token", alpha.csrf.as_str()),
                ("year", last_year.as_str()),
                ("turnover_eur", "850 000"),
                ("headcount", "12"),
                ("sworn", "on"),
            ],
        )
        .await;
        assert_eq!(filled.status, 303, "{}", filled.body);
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &alpha.cookie(),
        )
        .await;
        assert!(page.body.contains("DUME enregistré le"), "{}", page.body);
        // Encrypted on receipt: the company keeps its receipt, nobody reads the DUME back.
        assert!(
            page.body.contains("chiffré dès sa réception"),
            "{}",
            page.body
        );
        let own = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/dume/mien.xml"),
            &alpha.cookie(),
        )
        .await;
        assert_eq!(own.status, 409);
        assert!(own.body.contains("chiffré"), "{}", own.body);
        // Its receipt, signed by the platform, carries the SHA-256 of the XML kept and of its
        // ciphertext.
        let (_, receipt) = crate::buyer_profile::receipt_of(&app, &alpha, &page.body).await;
        assert_eq!(receipt.receipt.event, "dume");
        assert_eq!(receipt.receipt.lot, 0);
        assert_eq!(receipt.receipt.version, 2);
        assert!(receipt.receipt.documents[0].sealed_sha256.is_some());

        // Uploads: another company's DUME, a DTD, then Beta's own (declaring unpaid taxes).
        let procurement = espd::Procurement {
            reference: &reference,
            title: "Fournitures",
            procedure: "formal",
            buyer_name: "UB",
            buyer_siret: None,
            contact: None,
            lots: vec![1],
            issued_at: chrono::Utc::now().naive_utc(),
        };
        let alpha_dume = espd::response(
            &procurement,
            &espd::Declaration {
                company: "Alpha".into(),
                siret: "24210041000123".into(),
                postcode: "21000".into(),
                city: "Dijon".into(),
                email: "alpha@example.fr".into(),
                sme: true,
                turnover_year: Some(2025),
                turnover_cents: Some(85_000_000),
                headcount: Some(12),
                exclusions: Vec::new(),
            },
            &[1],
        );
        let upload = format!("/appels-d-offres/{reference}/dume/fichier");
        let foreign = upload_form(
            &app,
            &beta,
            &upload,
            &[],
            Some(("dume.xml", alpha_dume.as_bytes())),
        )
        .await;
        assert_eq!(foreign.status, 422, "{}", foreign.body);
        assert!(
            foreign.body.contains("pas de votre entreprise"),
            "{}",
            foreign.body
        );
        let hostile = upload_form(
        &app,
        &beta,
        &upload,
        &[],
        Some((
            "dume.xml",
            br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>"#,
        )),
    )
    .await;
        assert_eq!(hostile.status, 422);
        assert!(hostile.body.contains("DTD"), "{}", hostile.body);
        let beta_dume = espd::response(
            &procurement,
            &espd::Declaration {
                company: "Beta".into(),
                siret: "21210231500017".into(),
                postcode: "21000".into(),
                city: "Dijon".into(),
                email: "beta@example.fr".into(),
                sme: true,
                turnover_year: Some(2025),
                turnover_cents: Some(10_000_000),
                headcount: Some(3),
                exclusions: vec!["tax-pay".into()],
            },
            &[1],
        );
        assert!(validates(&beta_dume, "Response"));
        let uploaded = upload_form(
            &app,
            &beta,
            &upload,
            &[],
            Some(("dume-beta.xml", beta_dume.as_bytes())),
        )
        .await;
        assert_eq!(uploaded.status, 303, "{}", uploaded.body);

        // Sealed until the opening: the lead reads nothing before.
        let dume_of_beta = format!("/consultations/{tender}/dume/{beta_id}");
        assert_eq!(
            get_with(&app, &dume_of_beta, &lead.cookie()).await.status,
            409
        );
        diesel::update(tenders::table.find(tender))
            .set(
                tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        // After the deadline the DUME no longer changes.
        let late = post_form(
            &app,
            &path,
            &alpha.cookie(),
            None,
            &[
                ("csrf_token", alpha.csrf.as_str()),
                ("year", last_year.as_str()),
                ("turnover_eur", "1"),
                ("headcount", "1"),
                ("sworn", "on"),
            ],
        )
        .await;
        assert_eq!(late.status, 409);
        let opened = post_form(
            &app,
            &format!("/consultations/{tender}/ouverture"),
            &lead.cookie(),
            None,
            &[
                ("csrf_token", lead.csrf.as_str()),
                ("passphrase", crate::bids::OPENING),
            ],
        )
        .await;
        assert_eq!(opened.status, 303);
        let comparison = get_with(
            &app,
            &format!("/consultations/{tender}/offres"),
            &lead.cookie(),
        )
        .await;
        assert!(
            comparison.body.contains("DUME des entreprises"),
            "{}",
            comparison.body
        );
        assert!(comparison.body.contains("Alpha (SIRET 24210041000123)"));
        assert!(
            comparison
                .body
                .contains("MOTIFS D&#x27;EXCLUSION DÉCLARÉS : tax-pay")
                || comparison
                    .body
                    .contains("MOTIFS D'EXCLUSION DÉCLARÉS : tax-pay"),
            "{}",
            comparison.body
        );
        let xml = get_with(&app, &dume_of_beta, &lead.cookie()).await;
        assert_eq!(xml.status, 200);
        assert_eq!(xml.body, beta_dume, "kept as sent");
        // Alpha's, written by the platform from its form, opened: valid, and the one its
        // receipt fingerprints.
        let own = get_with(
            &app,
            &format!("/consultations/{tender}/dume/{alpha_id}"),
            &lead.cookie(),
        )
        .await;
        assert_eq!(own.status, 200);
        assert!(validates(&own.body, "Response"), "{}", own.body);
        assert_eq!(
            receipt.receipt.documents[0].sha256,
            groupement::services::receipts::sha256_hex(own.body.as_bytes())
        );
        let read = espd::read_response(own.body.as_bytes()).unwrap();
        assert_eq!(read.siret, "24210041000123");
        assert_eq!(read.turnover_cents, Some(85_000_000));
        assert_eq!(read.headcount, Some(12));
        assert!(read.exclusions.is_empty());
        // Another organisation's lead never reads it.
        let other = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
        assert!([403, 404].contains(&get_with(&app, &dume_of_beta, &other.cookie()).await.status));
    }
);
