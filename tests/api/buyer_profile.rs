//! The buyer profile (#22): changes to a published tender (rectificatifs), late bids kept and
//! never opened, receipts signed by the platform and checked offline, the tender's journal and
//! archive.

use crate::bids::{published, supplier, user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, groupement, post_form, session_of, upload_form, TestApp};
use diesel::prelude::*;
use groupement::db::schema::{
    bids, late_bids, notifications, tender_changes, tender_documents, tenders,
};
use groupement::services::receipts;

fn tender_id(app: &TestApp, reference: &str) -> i32 {
    tenders::table
        .filter(tenders::reference.eq(reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap()
}

fn set_deadline(app: &TestApp, tender: i32, deadline: chrono::NaiveDateTime) {
    diesel::update(tenders::table.find(tender))
        .set(tenders::deadline.eq(deadline))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
}

fn days(n: i64) -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc() + chrono::Duration::days(n)
}

fn french_day(at: chrono::NaiveDateTime) -> String {
    at.format("%d/%m/%Y").to_string()
}

fn changes(app: &TestApp) -> i64 {
    tender_changes::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

both_backends!(
    a_published_tender_changes_later_only_and_tells_who_is_concerned,
    |app| {
        let (reference, _lead, _other, _admin) = published(&app);
        let tender = tender_id(&app, &reference);
        // An adapted procedure (15 days at least), ten days from its deadline.
        diesel::update(tenders::table.find(tender))
            .set(tenders::procedure.eq("adapted"))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        set_deadline(&app, tender, days(10));
        let alpha_id = supplier(&app, "24210041000123", "Alpha");
        let beta_id = supplier(&app, "21210231500017", "Beta");
        let gamma_id = supplier(&app, "55208131766522", "Gamma");
        user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
        user(&app, "beta@example.fr", "supplier", None, Some(beta_id));
        user(&app, "gamma@example.fr", "supplier", None, Some(gamma_id));
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let other_lead = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
        // Alpha downloads the file signed in; Beta bids; Gamma does neither.
        assert_eq!(
            get_with(
                &app,
                &format!("/appels-d-offres/{reference}/dce.zip"),
                &alpha.cookie()
            )
            .await
            .status,
            200
        );
        let bid = post_form(
            &app,
            &format!("/appels-d-offres/{reference}/lots/1/offre"),
            &beta.cookie(),
            None,
            &[
                ("csrf_token", beta.csrf.as_str()),
                ("price_eur", "18 000"),
                ("technical_memo", "Livraison en 48 heures"),
            ],
        )
        .await;
        assert_eq!(bid.status, 201, "{}", bid.body);
        let rules: i32 = tender_documents::table
            .filter(tender_documents::tender_id.eq(tender))
            .filter(tender_documents::kind.eq("reglement"))
            .select(tender_documents::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let path = format!("/consultations/{tender}/rectificatif");
        let rules_text = rules.to_string();

        // The lead's page offers the change; nobody else may make one.
        let page = get_with(&app, &format!("/consultations/{tender}"), &lead.cookie()).await;
        assert!(page
            .body
            .contains("Modifier la consultation (rectificatif)"));
        let foreign = upload_form(&app, &other_lead, &path, &[("summary", "x")], None).await;
        assert_eq!(foreign.status, 404);
        let company = upload_form(&app, &alpha, &path, &[("summary", "x")], None).await;
        assert_eq!(company.status, 403);

        // Nothing said, an earlier deadline: both refused beside their fields, nothing stored.
        let earlier = upload_form(
            &app,
            &lead,
            &path,
            &[("summary", " "), ("deadline", &french_day(days(5)))],
            None,
        )
        .await;
        assert_eq!(earlier.status, 422, "{}", earlier.body);
        for expected in [
            "href=\"#change-summary\"",
            "id=\"change-deadline-erreur\"",
            "ne peut qu&#x27;être reportée",
        ] {
            assert!(
                earlier.body.contains(expected),
                "{expected}: {}",
                earlier.body
            );
        }
        // What was typed comes back.
        assert!(earlier
            .body
            .contains(&format!("value=\"{}\"", french_day(days(5)))));
        // A substantial change reopens the 15 days: a deadline 12 days from now is too close.
        let too_close = upload_form(
            &app,
            &lead,
            &path,
            &[
                ("summary", "Quantités du lot 1 doublées"),
                ("deadline", &french_day(days(12))),
                ("substantial", "1"),
            ],
            None,
        )
        .await;
        assert_eq!(too_close.status, 422, "{}", too_close.body);
        assert!(
            too_close.body.contains("rouvre le délai minimal"),
            "{}",
            too_close.body
        );
        // A replacement that would leave the file without its rules: refused, nothing changed.
        let without_rules = upload_form(
            &app,
            &lead,
            &path,
            &[
                ("summary", "Nouveau règlement"),
                ("replaces", &rules_text),
                ("kind", "autre"),
            ],
            Some(("annexe.pdf", b"%PDF-1.7\n% annexe\n%%EOF\n")),
        )
        .await;
        assert_eq!(without_rules.status, 422, "{}", without_rules.body);
        assert!(without_rules.body.contains("règlement de la consultation"));
        assert_eq!(changes(&app), 0, "a refused change stores nothing");

        // The rules replaced and the deadline moved 20 days out: a substantial change, published.
        let new_deadline = french_day(days(20));
        let changed = upload_form(
            &app,
            &lead,
            &path,
            &[
                (
                    "summary",
                    "Quantités du lot 1 doublées ; règlement mis à jour",
                ),
                ("deadline", &new_deadline),
                ("substantial", "1"),
                ("replaces", &rules_text),
            ],
            Some(("reglement-v2.pdf", b"%PDF-1.7\n% reglement v2\n%%EOF\n")),
        )
        .await;
        assert_eq!(changed.status, 303, "{}", changed.body);
        assert_eq!(changes(&app), 1);
        let deadline: chrono::NaiveDateTime = tenders::table
            .find(tender)
            .select(tenders::deadline)
            .first::<Option<chrono::NaiveDateTime>>(&mut app.pool.get().unwrap())
            .unwrap()
            .unwrap();
        assert!(deadline > days(19), "the deadline moved: {deadline}");

        // The notice shows the history; the file has the new rules and not the old ones.
        let notice = get_with(&app, &format!("/appels-d-offres/{reference}"), "").await;
        assert!(notice.body.contains("Changements depuis la publication"));
        assert!(notice.body.contains("Quantités du lot 1 doublées"));
        assert!(notice.body.contains("Date limite reportée"));
        assert!(notice.body.contains("reglement-v2.pdf"));
        assert!(notice
            .body
            .contains("remplaçant reglement-consultation.pdf"));
        let zip = app
            .client
            .get(format!(
                "{}/appels-d-offres/{reference}/dce.zip",
                app.address
            ))
            .send()
            .await
            .unwrap()
            .body()
            .await
            .unwrap();
        let names: Vec<String> = {
            let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
            archive
                .file_names()
                .map(|n| n.unwrap().into_owned())
                .collect()
        };
        assert!(names.contains(&"reglement-v2.pdf".to_string()), "{names:?}");
        assert!(
            !names.contains(&"reglement-consultation.pdf".to_string()),
            "{names:?}"
        );

        // Alpha (downloaded) and Beta (bid) are told, Beta that its bid stays; Gamma is not.
        let mails: Vec<(String, String)> = notifications::table
            .filter(notifications::template.eq("tender_changed"))
            .select((notifications::recipient, notifications::data))
            .load(&mut app.pool.get().unwrap())
            .unwrap();
        let mut to: Vec<&str> = mails.iter().map(|(r, _)| r.as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["alpha@example.fr", "beta@example.fr"]);
        for (recipient, data) in &mails {
            let data: serde_json::Value = serde_json::from_str(data).unwrap();
            assert_eq!(
                data["bidder"],
                recipient == "beta@example.fr",
                "{recipient}"
            );
            assert_eq!(data["moved"], true);
        }
        let standing: i64 = bids::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(standing, 1, "the bid made before the change stays");

        // A change without a document or a new deadline: a correction of the notice.
        let note = upload_form(
            &app,
            &lead,
            &path,
            &[("summary", "Coquille corrigée au lot 1")],
            None,
        )
        .await;
        assert_eq!(note.status, 303, "{}", note.body);
        assert_eq!(changes(&app), 2);

        // Past the deadline, nothing changes any more.
        set_deadline(&app, tender, days(0) - chrono::Duration::seconds(1));
        let late = upload_form(&app, &lead, &path, &[("summary", "Trop tard")], None).await;
        assert_eq!(late.status, 409, "{}", late.body);
        assert_eq!(changes(&app), 2);
    }
);

both_backends!(
    an_answer_past_its_cut_off_needs_the_deadline_moved_first,
    |app| {
        let (reference, _lead, ..) = published(&app);
        let tender = tender_id(&app, &reference);
        let alpha_id = supplier(&app, "24210041000123", "Alpha");
        user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let asked = post_form(
            &app,
            &format!("/appels-d-offres/{reference}/questions"),
            &alpha.cookie(),
            None,
            &[
                ("csrf_token", alpha.csrf.as_str()),
                ("question", "Variantes admises ?"),
            ],
        )
        .await;
        assert_eq!(asked.status, 303);
        let question: i32 = groupement::db::schema::questions::table
            .select(groupement::db::schema::questions::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        set_deadline(&app, tender, days(4));
        let answer = || {
            let (app, lead) = (&app, lead.clone());
            async move {
                post_form(
                    app,
                    &format!("/consultations/{tender}/questions/{question}/reponse"),
                    &lead.cookie(),
                    None,
                    &[("csrf_token", lead.csrf.as_str()), ("answer", "Non.")],
                )
                .await
            }
        };
        let refused = answer().await;
        assert_eq!(refused.status, 409);
        assert!(
            refused
                .body
                .contains("reportez d&#x27;abord la date limite"),
            "{}",
            refused.body
        );
        let moved = upload_form(
            &app,
            &lead,
            &format!("/consultations/{tender}/rectificatif"),
            &[
                (
                    "summary",
                    "Date limite reportée pour répondre aux questions",
                ),
                ("deadline", &french_day(days(14))),
            ],
            None,
        )
        .await;
        assert_eq!(moved.status, 303, "{}", moved.body);
        assert_eq!(answer().await.status, 303);
    }
);

/// A receipt downloaded by its company.
pub(crate) async fn receipt_of(
    app: &TestApp,
    session: &crate::helpers::Session,
    page: &str,
) -> (String, receipts::SignedReceipt) {
    let link = page
        .split("href=\"/offres/accuses/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no receipt link: {page}"))
        .to_string();
    let file = get_with(app, &format!("/offres/accuses/{link}"), &session.cookie()).await;
    assert_eq!(file.status, 200, "{}", file.body);
    assert!(file.content_type.starts_with("application/json"));
    (link, receipts::parse(&file.body).unwrap())
}

both_backends!(
    receipts_are_signed_late_bids_kept_unopened_and_the_journal_tells_it_all,
    |app| {
        let (reference, ..) = published(&app);
        let tender = tender_id(&app, &reference);
        let alpha_id = supplier(&app, "24210041000123", "Alpha");
        let beta_id = supplier(&app, "21210231500017", "Beta");
        user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
        user(&app, "beta@example.fr", "supplier", None, Some(beta_id));
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let bid_path = format!("/appels-d-offres/{reference}/lots/1/offre");

        // The platform's keys are published.
        let keys = get_with(&app, "/accuses/cles", "").await;
        assert_eq!(keys.status, 200);
        let keys: serde_json::Value = serde_json::from_str(&keys.body).unwrap();
        let trusted: Vec<String> = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["public_key"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(trusted.len(), 1);

        // Alpha downloads the file signed in (the journal will say so), then bids: its receipt
        // carries the exact time and the digest of its form, signed.
        let file = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/dce.zip"),
            &alpha.cookie(),
        )
        .await;
        assert_eq!(file.status, 200);
        let made = post_form(
            &app,
            &bid_path,
            &alpha.cookie(),
            None,
            &[
                ("csrf_token", alpha.csrf.as_str()),
                ("price_eur", "12 345,67"),
                ("technical_memo", "Mémoire d'Alpha"),
                ("environment_data", "Vélos cargos"),
            ],
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.body);
        let (first_id, first) = receipt_of(&app, &alpha, &made.body).await;
        assert_eq!(
            receipts::verify(&first, Some(&trusted)),
            receipts::Verdict::Valid
        );
        assert_eq!(first.receipt.event, "depot");
        assert!(!first.receipt.late);
        assert_eq!(
            first.receipt.form_sha256.as_deref(),
            Some(receipts::form_digest(1_234_567, "Mémoire d'Alpha", "Vélos cargos").as_str())
        );
        let received: chrono::NaiveDateTime = bids::table
            .select(bids::updated_at)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(first.receipt.received_at, receipts::rfc3339(received));
        assert_eq!(first.receipt.siret, "24210041000123");
        // Beta cannot take it.
        assert_eq!(
            get_with(&app, &format!("/offres/accuses/{first_id}"), &beta.cookie())
                .await
                .status,
            404
        );
        // A document joined: a new receipt, with the document's SHA-256.
        let document = b"%PDF-1.7 memoire technique d'Alpha";
        let joined = crate::helpers::upload_file(
            &app,
            &alpha,
            &format!("/appels-d-offres/{reference}/lots/1/documents"),
            "memoire.pdf",
            document,
        )
        .await;
        assert_eq!(joined.status, 303, "{}", joined.body);
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &alpha.cookie(),
        )
        .await;
        assert!(page.body.contains("Accusés de réception signés"));
        assert!(page.body.contains("document joint"));
        let (_, second) = receipt_of(&app, &alpha, &page.body).await;
        assert_eq!(second.receipt.event, "document_ajoute");
        assert_eq!(second.receipt.documents.len(), 1);
        assert_eq!(
            second.receipt.documents[0].sha256,
            receipts::sha256_hex(document)
        );
        assert_eq!(second.receipt.form_sha256, first.receipt.form_sha256);

        // The verification page: the true receipt is authentic, a changed one is not.
        let (cookie, csrf) = crate::helpers::anonymous_csrf(&app).await;
        let verify = |text: String| {
            let (app, csrf, cookie) = (&app, csrf.clone(), cookie.clone());
            async move {
                post_form(
                    app,
                    "/accuses/verifier",
                    &cookie,
                    None,
                    &[("csrf_token", csrf.as_str()), ("receipt", text.as_str())],
                )
                .await
            }
        };
        let text = serde_json::to_string_pretty(&second).unwrap();
        let good = verify(text.clone()).await;
        assert_eq!(good.status, 200, "{}", good.body);
        assert!(good.body.contains("Accusé authentique"), "{}", good.body);
        assert!(good.body.contains(&receipts::sha256_hex(document)));
        let forged = text.replacen(
            &second.receipt.received_at,
            "2020-01-01T00:00:00.000000Z",
            1,
        );
        let bad = verify(forged).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("NON valide"), "{}", bad.body);
        let junk = verify("{ pas du json".into()).await;
        assert_eq!(junk.status, 422);
        assert!(junk.body.contains("ligne 1"), "{}", junk.body);

        // Offline: the command checks the signature, the key and the documents.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accuse.json"), &text).unwrap();
        std::fs::write(dir.path().join("memoire.pdf"), document).unwrap();
        std::fs::write(dir.path().join("autre.pdf"), b"%PDF-1.7 autre").unwrap();
        let ok = groupement(
            &[
                "verify-receipt",
                "accuse.json",
                "--key",
                &trusted[0],
                "memoire.pdf",
            ],
            dir.path(),
        );
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(String::from_utf8_lossy(&ok.stdout).contains("valide"));
        let other_document = groupement(
            &[
                "verify-receipt",
                "accuse.json",
                "--key",
                &trusted[0],
                "autre.pdf",
            ],
            dir.path(),
        );
        assert_eq!(other_document.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&other_document.stderr).contains("absent de l'accusé"));
        std::fs::write(
            dir.path().join("change.json"),
            text.replacen("\"lot\": 1", "\"lot\": 2", 1),
        )
        .unwrap();
        let changed = groupement(&["verify-receipt", "change.json"], dir.path());
        assert_eq!(changed.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&changed.stderr).contains("NON valide"));
        let other_key = groupement(
            &[
                "verify-receipt",
                "accuse.json",
                "--key",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ],
            dir.path(),
        );
        assert_eq!(other_key.status.code(), Some(1));

        // Before the opening, the journal says what happened but no deposit.
        let journal_path = format!("/consultations/{tender}/journal");
        let journal = get_with(&app, &journal_path, &lead.cookie()).await;
        assert_eq!(journal.status, 200, "{}", journal.body);
        assert!(journal.body.contains("consultation publiée"));
        assert!(
            !journal.body.contains("offre remise"),
            "deposits stay sealed"
        );
        assert!(journal.body.contains("n'apparaissent qu'après l'ouverture"));

        // After the deadline, Beta's bid is received as late: kept, with a receipt saying so.
        diesel::update(tenders::table.find(tender))
            .set(
                tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &beta.cookie(),
        )
        .await;
        assert!(page.body.contains("Remettre hors délai"), "{}", page.body);
        let late = post_form(
            &app,
            &bid_path,
            &beta.cookie(),
            None,
            &[
                ("csrf_token", beta.csrf.as_str()),
                ("price_eur", "9 999"),
                ("technical_memo", "MEMOIRE-TARDIVE-BETA"),
            ],
        )
        .await;
        assert_eq!(late.status, 201, "{}", late.body);
        assert!(late.body.contains("après la date limite"), "{}", late.body);
        let (_, late_receipt) = receipt_of(&app, &beta, &late.body).await;
        assert!(late_receipt.receipt.late);
        assert_eq!(late_receipt.receipt.event, "hors_delai");
        assert_eq!(
            receipts::verify(&late_receipt, Some(&trusted)),
            receipts::Verdict::Valid
        );
        let kept: i64 = late_bids::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(kept, 1);
        let on_time: i64 = bids::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(on_time, 1, "a late bid is not a bid of the lot");
        let mail: String = notifications::table
            .filter(notifications::template.eq("bid_receipt"))
            .filter(notifications::recipient.eq("beta@example.fr"))
            .select(notifications::data)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(mail.contains("\"late\":true"), "{mail}");
        // A withdrawal after the deadline stays refused.
        let withdraw = post_form(
            &app,
            &format!("/appels-d-offres/{reference}/lots/1/retrait"),
            &alpha.cookie(),
            None,
            &[("csrf_token", alpha.csrf.as_str())],
        )
        .await;
        assert_eq!(withdraw.status, 409);

        // At the opening the lead sees the late bid listed, never opened: not its price, not its memo.
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
        assert_eq!(opened.status, 303, "{}", opened.body);
        let comparison = get_with(
            &app,
            &format!("/consultations/{tender}/offres"),
            &lead.cookie(),
        )
        .await;
        assert_eq!(comparison.status, 200, "{}", comparison.body);
        assert!(comparison.body.contains("Offres reçues hors délai"));
        assert!(comparison.body.contains("Beta"));
        assert!(!comparison.body.contains("MEMOIRE-TARDIVE-BETA"));
        assert!(!comparison.body.contains("9\u{202f}999"));
        assert!(comparison.body.contains("Mémoire d&#x27;Alpha"));

        // The journal now lists the deposits (never an amount), and its CSV and the archive go
        // with the tender.
        let journal = get_with(&app, &journal_path, &lead.cookie()).await;
        for expected in [
            "offre remise",
            "document joint",
            "offre reçue hors délai",
            "offres ouvertes",
            "dossier téléchargé",
        ] {
            assert!(
                journal.body.contains(expected),
                "{expected}: {}",
                journal.body
            );
        }
        assert!(!journal.body.contains("12\u{202f}345"));
        let csv = get_with(&app, &format!("{journal_path}.csv"), &lead.cookie()).await;
        assert_eq!(csv.status, 200);
        assert!(csv.body.contains("offre reçue hors délai"));
        let archive = app
            .client
            .get(format!(
                "{}/consultations/{tender}/archive.zip",
                app.address
            ))
            .insert_header(("Cookie", lead.cookie()))
            .send()
            .await
            .unwrap()
            .body()
            .limit(64 << 20)
            .await
            .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(archive.to_vec())).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        assert!(names.contains(&"journal.csv".to_string()), "{names:?}");
        assert!(names.iter().any(|n| n.starts_with("dossier/")), "{names:?}");
        let signed: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with("accuses/"))
            .cloned()
            .collect();
        assert_eq!(signed.len(), 3, "{names:?}");
        // Each receipt in the archive verifies with the platform's key.
        for name in signed {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut archive.by_name(&name).unwrap(), &mut text).unwrap();
            let receipt = receipts::parse(&text).unwrap();
            assert_eq!(
                receipts::verify(&receipt, Some(&trusted)),
                receipts::Verdict::Valid,
                "{name}"
            );
        }
        // The journal is the coordinator's lead's alone.
        for (who, session) in [("alpha", &alpha), ("beta", &beta)] {
            let status = get_with(&app, &journal_path, &session.cookie())
                .await
                .status;
            assert_eq!(status, 403, "{who}");
        }
        let other = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
        assert_eq!(
            get_with(&app, &journal_path, &other.cookie()).await.status,
            404
        );
    }
);

both_backends!(
    anyone_searches_the_published_contracts_with_the_public_filters,
    |app| {
        groupement::demo::seed_if_empty(&mut app.pool.get().unwrap()).unwrap();
        use groupement::db::schema::{contracts, lots, organisations, suppliers};
        // The demo knows Dijon Métropole's SIRET only: the others' are recorded here, as the
        // admin would, so that their contracts are published.
        let without: Vec<i32> = organisations::table
            .filter(organisations::siret.is_null())
            .order(organisations::id)
            .select(organisations::id)
            .load(&mut app.pool.get().unwrap())
            .unwrap();
        for (id, siret) in
            without
                .into_iter()
                .zip(["21210231500017", "55208131766522", "73282932000074"])
        {
            diesel::update(organisations::table.find(id))
                .set(organisations::siret.eq(siret))
                .execute(&mut app.pool.get().unwrap())
                .unwrap();
        }
        // What the DECP file publishes is what the search finds.
        let decp = get_with(&app, "/open-data/decp.json", "").await;
        let decp: serde_json::Value = serde_json::from_str(&decp.body).unwrap();
        let published = decp["marches"]["marche"].as_array().unwrap().len();
        assert!(published > 0, "the demo has signed contracts");
        let all = get_with(&app, "/open-data/marches", "").await;
        assert_eq!(all.status, 200);
        assert!(
            all.body.contains(&format!("{published} marché(s)")),
            "{}",
            all.body
        );
        // By words, whatever their case and accents: a holder's name.
        let (holder, cpv): (String, String) = contracts::table
            .inner_join(suppliers::table)
            .inner_join(lots::table)
            .filter(contracts::status.eq("active"))
            .select((suppliers::name, lots::cpv_code))
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let word = holder.split_whitespace().next().unwrap().to_lowercase();
        let found = get_with(
            &app,
            &format!("/open-data/marches?q={}", urlencode(&word)),
            "",
        )
        .await;
        assert_eq!(found.status, 200);
        assert!(found.body.contains(&holder), "{}", found.body);
        let none = get_with(&app, "/open-data/marches?q=zzzzintrouvable", "").await;
        assert!(none.body.contains("Aucun marché publié ne correspond"));
        // By CPV, member, procedure and period.
        let by_cpv = get_with(&app, &format!("/open-data/marches?cpv={}", &cpv[..2]), "").await;
        assert!(by_cpv.body.contains(&holder));
        let other_division = if cpv.starts_with("03") { "09" } else { "03" };
        let elsewhere = get_with(
            &app,
            &format!("/open-data/marches?cpv={other_division}"),
            "",
        )
        .await;
        assert!(!elsewhere.body.contains(&holder));
        let later = get_with(&app, "/open-data/marches?from=2099-01-01", "").await;
        assert!(later.body.contains("Aucun marché publié"));
        // Bad filters are said beside their fields, in French.
        let bad = get_with(
            &app,
            "/open-data/marches?cpv=abc&from=2027-02-01&to=2027-01-01",
            "",
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        for expected in [
            "id=\"cpv-erreur\"",
            "id=\"to-erreur\"",
            "la fin de la période est avant son début",
        ] {
            assert!(bad.body.contains(expected), "{expected}: {}", bad.body);
        }
    }
);

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

both_backends!(
    a_backup_copy_is_declared_received_and_opened_only_as_the_code_allows,
    |app| {
        let (reference, ..) = published(&app);
        let tender = tender_id(&app, &reference);
        let alpha_id = supplier(&app, "24210041000123", "Alpha");
        let beta_id = supplier(&app, "21210231500017", "Beta");
        user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
        user(&app, "beta@example.fr", "supplier", None, Some(beta_id));
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let post = |session: crate::helpers::Session,
                    path: String,
                    fields: Vec<(&'static str, String)>| {
            let app = &app;
            async move {
                let mut form: Vec<(&str, &str)> = vec![("csrf_token", session.csrf.as_str())];
                form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
                post_form(app, &path, &session.cookie(), None, &form).await
            }
        };
        let declare = format!("/appels-d-offres/{reference}/copie-de-sauvegarde");
        let made = post(
            alpha.clone(),
            format!("/appels-d-offres/{reference}/lots/1/offre"),
            vec![("price_eur", "15 000".into())],
        )
        .await;
        assert_eq!(made.status, 201);
        // Alpha (which bid) sends a paper copy, Beta (which will not bid) an electronic one.
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &alpha.cookie(),
        )
        .await;
        assert!(
            page.body.contains("Déclarer l&#x27;envoi") || page.body.contains("Déclarer l'envoi")
        );
        let wrong = post(
            alpha.clone(),
            declare.clone(),
            vec![("medium", "pigeon".into())],
        )
        .await;
        assert_eq!(wrong.status, 422);
        let declared = post(
            alpha.clone(),
            declare.clone(),
            vec![("medium", "papier".into())],
        )
        .await;
        assert_eq!(declared.status, 303, "{}", declared.body);
        let twice = post(
            alpha.clone(),
            declare.clone(),
            vec![("medium", "papier".into())],
        )
        .await;
        assert_eq!(twice.status, 409);
        let page = get_with(
            &app,
            &format!("/appels-d-offres/{reference}/offre"),
            &alpha.cookie(),
        )
        .await;
        assert!(
            page.body.contains("Copie de sauvegarde déclarée le"),
            "{}",
            page.body
        );
        assert_eq!(
            post(
                beta.clone(),
                declare.clone(),
                vec![("medium", "electronique".into())]
            )
            .await
            .status,
            303
        );
        let copies: Vec<(i32, i32)> = groupement::db::schema::backup_copies::table
            .order(groupement::db::schema::backup_copies::id)
            .select((
                groupement::db::schema::backup_copies::id,
                groupement::db::schema::backup_copies::supplier_id,
            ))
            .load(&mut app.pool.get().unwrap())
            .unwrap();
        let (alpha_copy, beta_copy) = (copies[0].0, copies[1].0);
        assert_eq!(copies[0].1, alpha_id);

        // The lead sees them and records Alpha's arrival; a date that does not read, or one in the
        // future, is refused.
        let show = get_with(&app, &format!("/consultations/{tender}"), &lead.cookie()).await;
        assert!(show.body.contains("Copies de sauvegarde") && show.body.contains("Alpha"));
        let reception = |copy: i32| format!("/consultations/{tender}/copies/{copy}/reception");
        let opening = |copy: i32| format!("/consultations/{tender}/copies/{copy}/ouverture");
        let bad = post(
            lead.clone(),
            reception(alpha_copy),
            vec![("received", "hier matin".into())],
        )
        .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("14/01/2027 09:30"), "{}", bad.body);
        let future = post(
            lead.clone(),
            reception(alpha_copy),
            vec![("received", "01/01/2099 09:00".into())],
        )
        .await;
        assert_eq!(future.status, 422);
        assert_eq!(
            post(
                lead.clone(),
                reception(alpha_copy),
                // Five minutes ago, in Paris time.
                vec![(
                    "received",
                    groupement::domain::to_paris(days(0) - chrono::Duration::minutes(5))
                        .0
                        .format("%d/%m/%Y %H:%M")
                        .to_string()
                )]
            )
            .await
            .status,
            303
        );
        // Not before the bids are opened.
        let early = post(
            lead.clone(),
            opening(alpha_copy),
            vec![("reason", "virus".into())],
        )
        .await;
        assert_eq!(early.status, 409);
        assert!(
            early.body.contains("ouvrez d&#x27;abord") || early.body.contains("ouvrez d'abord")
        );

        // The deadline passes: no declaration any more; Beta's copy arrives late.
        set_deadline(&app, tender, days(0) - chrono::Duration::seconds(1));
        let late_declaration = post(
            beta.clone(),
            declare.clone(),
            vec![("medium", "papier".into())],
        )
        .await;
        assert_eq!(late_declaration.status, 409);
        assert_eq!(
            post(
                lead.clone(),
                reception(beta_copy),
                vec![("received", "".into())]
            )
            .await
            .status,
            303
        );
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
        // Beta's copy came after the deadline: never opened.
        let late_copy = post(
            lead.clone(),
            opening(beta_copy),
            vec![("reason", "non_parvenue".into())],
        )
        .await;
        assert_eq!(late_copy.status, 409);
        assert!(
            late_copy.body.contains("après la date limite"),
            "{}",
            late_copy.body
        );
        // Alpha's bid arrived in time: « did not arrive » does not apply; a virus does.
        let wrong_reason = post(
            lead.clone(),
            opening(alpha_copy),
            vec![("reason", "non_parvenue".into())],
        )
        .await;
        assert_eq!(wrong_reason.status, 409);
        let no_reason = post(
            lead.clone(),
            opening(alpha_copy),
            vec![("reason", "curiosité".into())],
        )
        .await;
        assert_eq!(no_reason.status, 422);
        assert_eq!(
            post(
                lead.clone(),
                opening(alpha_copy),
                vec![("reason", "virus".into())]
            )
            .await
            .status,
            303
        );
        assert_eq!(
            post(
                lead.clone(),
                opening(alpha_copy),
                vec![("reason", "virus".into())]
            )
            .await
            .status,
            409
        );
        // A company cannot record nor open; the journal tells it all.
        assert_eq!(
            post(
                alpha.clone(),
                opening(alpha_copy),
                vec![("reason", "virus".into())]
            )
            .await
            .status,
            403
        );
        let journal = get_with(
            &app,
            &format!("/consultations/{tender}/journal"),
            &lead.cookie(),
        )
        .await;
        for expected in [
            "copie de sauvegarde déclarée",
            "copie de sauvegarde reçue",
            "copie de sauvegarde ouverte",
            "programme malveillant",
        ] {
            assert!(
                journal.body.contains(expected),
                "{expected}: {}",
                journal.body
            );
        }
    }
);

both_backends!(a_company_rehearses_a_deposit_that_counts_nowhere, |app| {
    let (reference, ..) = published(&app);
    let alpha_id = supplier(&app, "24210041000123", "Alpha");
    user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    // What the platform accepts is said before any upload.
    let page = get_with(&app, "/entrainement", &alpha.cookie()).await;
    assert_eq!(page.status, 200);
    for expected in ["Formats", "20 Mo", "Navigateurs", "ne compte nulle part"] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    assert_eq!(
        get_with(&app, "/entrainement", &lead.cookie()).await.status,
        403
    );
    // A document is checked as a real one: an executable renamed .pdf is refused, what was
    // typed comes back.
    let refused = upload_form(
        &app,
        &alpha,
        "/entrainement",
        &[("price_eur", "1 234,50"), ("technical_memo", "Essai")],
        Some(("offre.pdf", b"MZ\x90\x00 not a pdf")),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"fichier-erreur\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"1 234,50\""));
    let bad_price = upload_form(
        &app,
        &alpha,
        "/entrainement",
        &[("price_eur", "beaucoup")],
        None,
    )
    .await;
    assert_eq!(bad_price.status, 422);
    assert!(bad_price.body.contains("id=\"prix-erreur\""));
    // A good deposit: a signed receipt marked as practice, with the document's digest.
    let document = b"%PDF-1.7\n% offre d'essai\n%%EOF\n";
    let done = upload_form(
        &app,
        &alpha,
        "/entrainement",
        &[("price_eur", "1 234,50"), ("technical_memo", "Essai")],
        Some(("offre.pdf", document)),
    )
    .await;
    assert_eq!(done.status, 201, "{}", done.body);
    assert!(
        done.body.contains("Dépôt d&#x27;entraînement réussi")
            || done.body.contains("Dépôt d'entraînement réussi")
    );
    assert!(done.body.contains(&receipts::sha256_hex(document)));
    let (_, receipt) = receipt_of(&app, &alpha, &done.body).await;
    assert_eq!(receipt.receipt.event, "entrainement");
    assert_eq!(receipt.receipt.tender, "ENTRAINEMENT");
    assert_eq!(
        receipt.receipt.documents[0].sha256,
        receipts::sha256_hex(document)
    );
    assert_eq!(receipts::verify(&receipt, None), receipts::Verdict::Valid);
    // A document the company encrypted itself (memoire.pdf.age) is rehearsed as well.
    let sealed = groupement::services::seal::encrypt(
        &[groupement::services::seal::recipient(
            &groupement::services::seal::KeyPair::generate().recipient,
        )
        .unwrap()],
        document,
    )
    .unwrap();
    let rehearsed = upload_form(
        &app,
        &alpha,
        "/entrainement",
        &[("price_eur", "1 234,50")],
        Some(("offre.pdf.age", &sealed)),
    )
    .await;
    assert_eq!(rehearsed.status, 201, "{}", rehearsed.body);
    assert!(rehearsed.body.contains(&receipts::sha256_hex(&sealed)));
    // It counts nowhere: no bid, no document, nothing on the real tender's pages.
    let counted: i64 = bids::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(counted, 0);
    let documents: i64 = groupement::db::schema::bid_documents::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(documents, 0);
    let bid_page = get_with(
        &app,
        &format!("/appels-d-offres/{reference}/offre"),
        &alpha.cookie(),
    )
    .await;
    assert!(!bid_page.body.contains(&receipt.receipt.number));
    let tender = tender_id(&app, &reference);
    let journal = get_with(
        &app,
        &format!("/consultations/{tender}/journal"),
        &lead.cookie(),
    )
    .await;
    assert!(!journal.body.contains("entraînement"));
});

both_backends!(urgency_declared_brings_the_cut_offs_closer, |app| {
    let (reference, ..) = published(&app);
    let tender = tender_id(&app, &reference);
    let alpha_id = supplier(&app, "24210041000123", "Alpha");
    user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    // The publication form reads the declaration.
    let checked = groupement::services::tenders::check_publication(
        &groupement::services::tenders::Publication {
            weight_price: "60".into(),
            weight_quality: "30".into(),
            weight_environment: "10".into(),
            deadline: "01/03/2027".into(),
            urgent: "1".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(checked.urgent);
    let urgent = |value: bool| {
        diesel::update(tenders::table.find(tender))
            .set(tenders::urgent.eq(value))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
    };
    let ask = || {
        let (app, alpha) = (&app, alpha.clone());
        let path = format!("/appels-d-offres/{reference}/questions");
        async move {
            post_form(
                app,
                &path,
                &alpha.cookie(),
                None,
                &[("csrf_token", alpha.csrf.as_str()), ("question", "Délai ?")],
            )
            .await
        }
    };
    // Eight days from the deadline: too late without urgency, in time with it.
    set_deadline(&app, tender, days(8));
    assert_eq!(ask().await.status, 409);
    urgent(true);
    assert_eq!(ask().await.status, 303);
    let notice = get_with(&app, &format!("/appels-d-offres/{reference}"), "").await;
    assert!(
        notice.body.contains("réponses au plus tard 4 jours avant"),
        "{}",
        notice.body
    );
    // Five days from the deadline: the answer is still due under urgency.
    set_deadline(&app, tender, days(5));
    let question: i32 = groupement::db::schema::questions::table
        .select(groupement::db::schema::questions::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let answer = || {
        let (app, lead) = (&app, lead.clone());
        async move {
            post_form(
                app,
                &format!("/consultations/{tender}/questions/{question}/reponse"),
                &lead.cookie(),
                None,
                &[
                    ("csrf_token", lead.csrf.as_str()),
                    ("answer", "Quatre jours."),
                ],
            )
            .await
        }
    };
    urgent(false);
    assert_eq!(answer().await.status, 409);
    urgent(true);
    assert_eq!(answer().await.status, 303);
});
