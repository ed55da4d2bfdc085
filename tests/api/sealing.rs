//! Bids sealed by cryptography (#23): encrypted on receipt to the tender's key, whose secret
//! is split between the members (and the recovery key); nothing of a bid is in a dump of the
//! database before the opening; one key opens nothing, two do; the recovery key stands in for
//! a member; a ciphertext changed in the database is reported as tampered, never opened.

use crate::bids::{consultation_file, supplier, user, OPENING, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of, TestApp};
use diesel::prelude::*;
use groupement::db::models::NewOrganisation;
use groupement::db::schema::{bids, lots, opening_keys, organisations, tenders};
use groupement::services::awards::{self, KeyEntry, Opening};
use groupement::services::{bids as bid_service, espd, keys, needs, pooling};
use groupement::services::{tenders as tender_service, tenders::Publication};
use groupement::web::nav::Viewer;

/// What must never be found in the database before the opening.
const MEMO: &str = "MEMOIRE-CONFIDENTIEL-7f3a";
const PRICE: &str = "12347777,09";
const PRICE_CENTS: &str = "1234777709";
const DOCUMENT: &[u8] = b"%PDF-1.7\n% DOCUMENT-CONFIDENTIEL-91c2\n%%EOF\n";

struct Joint {
    reference: String,
    tender: i32,
    ub: Viewer,
    chu: Viewer,
    admin: Viewer,
}

/// A member organisation (a central university) of `code`.
pub(crate) fn organisation(app: &TestApp, code: &str) -> i32 {
    diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code,
            name: code,
            siret: None,
            kind: "university",
            buyer_class: "central",
        })
        .returning(organisations::id)
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

/// A joint tender of UB (coordinator) and CHU, approved by both, not yet published.
fn approved(app: &TestApp) -> Joint {
    let ub_id = organisation(app, "UB");
    let chu_id = organisation(app, "CHU");
    let ub = user(app, "lead.ub@example.fr", "lead", Some(ub_id), None);
    let chu = user(app, "lead.chu@example.fr", "lead", Some(chu_id), None);
    let admin = user(app, "admin@example.fr", "admin", None, None);
    for (lead, quantity) in [(&ub, "1000"), (&chu, "800")] {
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
    Joint {
        reference,
        tender,
        ub,
        chu,
        admin,
    }
}

fn publication(threshold: &str) -> Publication {
    Publication {
        weight_price: "60".into(),
        weight_quality: "30".into(),
        weight_environment: "10".into(),
        deadline: (chrono::Utc::now() + chrono::Duration::days(40))
            .format("%d/%m/%Y")
            .to_string(),
        opening_threshold: threshold.into(),
        ..Default::default()
    }
}

/// The joint tender published by UB's lead with a threshold (empty: the default).
fn publish(app: &TestApp, joint: &Joint, threshold: &str) -> Result<usize, groupement::AppError> {
    tender_service::publish(
        &app.pool,
        &joint.ub,
        &app.address,
        joint.tender,
        &publication(threshold),
    )
}

/// Two companies bid on lot 1 (form, a document, a DUME); the deadline then passes.
fn bids_then_deadline(app: &TestApp, joint: &Joint) -> Vec<i32> {
    let mut ids = Vec::new();
    for (siret, name, price) in [
        ("24210041000123", "Alpha", PRICE),
        ("21210231500017", "Beta", "12000"),
    ] {
        let company = supplier(app, siret, name);
        let person = user(
            app,
            &format!("{}@example.fr", name.to_lowercase()),
            "supplier",
            None,
            Some(company),
        );
        let receipt = bid_service::submit(
            &app.pool,
            &person,
            &joint.reference,
            1,
            &bid_service::BidForm {
                price_eur: price.into(),
                technical_memo: format!("{MEMO} de {name}"),
                environment_data: "Véhicules électriques".into(),
                ..Default::default()
            },
        )
        .unwrap();
        bid_service::add_document(
            &app.pool,
            &person,
            &joint.reference,
            1,
            "memoire.pdf",
            DOCUMENT,
        )
        .unwrap();
        espd::submit_form(
            &app.pool,
            &person,
            &joint.reference,
            &espd::DumeForm {
                year: (chrono::Utc::now()
                    .format("%Y")
                    .to_string()
                    .parse::<i32>()
                    .unwrap()
                    - 1)
                .to_string(),
                turnover_eur: "8642097531".into(),
                headcount: "12".into(),
                sworn: "on".into(),
            },
        )
        .unwrap();
        ids.push(receipt.bid_id);
    }
    diesel::update(tenders::table.find(joint.tender))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    ids
}

/// Every byte the database keeps: `pg_dump` of the whole database, or the SQLite files.
fn dump(app: &TestApp) -> Vec<u8> {
    let url = app.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        // Everything written so far is in the file or its write-ahead log.
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{path}{suffix}")) {
                bytes.extend(more);
            }
        }
        assert!(bytes.len() > 10_000, "the SQLite file was read");
        return bytes;
    }
    let out = std::process::Command::new("pg_dump")
        .args(["--data-only", "--inserts", "--dbname", url])
        .output()
        .expect("pg_dump (postgresql-client) is installed");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn price_of(app: &TestApp, bid: i32) -> i64 {
    bids::table
        .find(bid)
        .select(bids::price_cents)
        .first(&mut app.pool.get().unwrap())
        .unwrap()
}

both_backends!(
    a_dump_before_the_opening_holds_no_bid_and_two_keys_open_them,
    |app| {
        let joint = approved(&app);
        publish(&app, &joint, "").unwrap();
        let sealing = {
            let mut conn = app.pool.get().unwrap();
            tender_service::sealing_of(&mut conn, joint.tender)
                .unwrap()
                .unwrap()
        };
        assert_eq!(sealing.threshold, 2, "a joint tender opens with two keys");
        assert_eq!(sealing.holders, vec!["CHU".to_string(), "UB".to_string()]);
        // The notice announces it, with the key a company may encrypt to.
        let (status, _, notice) = app
            .get(&format!("/appels-d-offres/{}", joint.reference))
            .await;
        assert_eq!(status, 200);
        assert!(notice.contains("chiffrées dès leur réception"), "{notice}");
        assert!(notice.contains(&sealing.recipient));
        let (status, _, key) = app
            .get(&format!(
                "/appels-d-offres/{}/cle-publique.txt",
                joint.reference
            ))
            .await;
        assert_eq!((status, key.trim()), (200, sealing.recipient.as_str()));

        let ids = bids_then_deadline(&app, &joint);
        // Before the opening, nothing of the bids is anywhere in the database.
        let before = dump(&app);
        for secret in [
            MEMO.as_bytes(),
            PRICE_CENTS.as_bytes(),
            b"DOCUMENT-CONFIDENTIEL-91c2",
            b"8642097531",
        ] {
            if let Some(at) = before.windows(secret.len()).position(|w| w == secret) {
                panic!(
                    "{} found in the database before the opening: …{}…",
                    String::from_utf8_lossy(secret),
                    String::from_utf8_lossy(
                        &before[at.saturating_sub(300)..(at + 100).min(before.len())]
                    )
                );
            }
        }
        assert!(contains(&before, b"age-encryption.org/v1") || contains(&before, b"\\x6167652d"));

        // The company's own home lists its bid as encrypted, never a price.
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let home = get_with(&app, "/accueil", &alpha.cookie()).await;
        assert!(home.body.contains("offre chiffrée"), "{}", home.body);
        assert!(!home.body.contains("0,01"));
        // One key opens nothing; a wrong passphrase says so; the other member's lead cannot
        // start the opening.
        let refused = awards::open(
            &app.pool,
            &joint.chu,
            joint.tender,
            Some(KeyEntry::Passphrase(OPENING)),
        )
        .unwrap_err();
        assert!(
            refused.detailed().contains("lance l'ouverture"),
            "{refused:?}"
        );
        let wrong = awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Passphrase("pas la bonne phrase")),
        )
        .unwrap_err();
        assert!(wrong.detailed().contains("phrase secrète"), "{wrong:?}");
        let first = awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Passphrase(OPENING)),
        )
        .unwrap();
        assert_eq!(
            first,
            Opening::Waiting {
                entered: vec!["UB".into()],
                threshold: 2
            }
        );
        assert!(bid_service::sealed_bids(&app.pool, &joint.ub, &joint.reference).is_err());
        assert_eq!(price_of(&app, ids[0]), 1, "still sealed after one key");
        // The same key twice is still one key.
        let again = awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Passphrase(OPENING)),
        )
        .unwrap();
        assert!(matches!(again, Opening::Waiting { .. }), "{again:?}");
        // The page of the opening shows whose keys are in, to the other member's lead.
        let chu_session = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
        let page = get_with(
            &app,
            &format!("/consultations/{}/ouverture", joint.tender),
            &chu_session.cookie(),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("entrée par lead.ub@example.fr"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Entrer ma clé"), "{}", page.body);
        // The second key, through the page: the bids open.
        let posted = post_form(
            &app,
            &format!("/consultations/{}/ouverture", joint.tender),
            &chu_session.cookie(),
            None,
            &[
                ("csrf_token", chu_session.csrf.as_str()),
                ("passphrase", OPENING),
            ],
        )
        .await;
        assert_eq!(posted.status, 303, "{}", posted.body);
        assert_eq!(price_of(&app, ids[0]), 1_234_777_709);
        let opened = bid_service::sealed_bids(&app.pool, &joint.ub, &joint.reference).unwrap();
        assert_eq!(opened.len(), 2);
        assert!(opened[0].technical_memo.starts_with(MEMO));
        let document = opened[0].documents[0].id;
        let (name, content_type, content) =
            bid_service::sealed_document(&app.pool, &joint.ub, &joint.reference, document).unwrap();
        assert_eq!(
            (name.as_str(), content_type.as_str(), content.as_slice()),
            ("memoire.pdf", "application/pdf", DOCUMENT)
        );
        let dumes = {
            let mut conn = app.pool.get().unwrap();
            espd::opened(&mut conn, &joint.ub, &joint.reference).unwrap()
        };
        assert_eq!(dumes.len(), 2);
        assert!(dumes.iter().all(|(_, d)| d.declaration.is_some()));
        // Every entry is in the journal, with who.
        let journal = tender_service::journal(&app.pool, &joint.ub, joint.tender).unwrap();
        let text = format!("{journal:?}");
        assert!(
            text.contains("part de UB entrée par lead.ub@example.fr"),
            "{text}"
        );
        assert!(
            text.contains("part de CHU entrée par lead.chu@example.fr"),
            "{text}"
        );
        // The shares entered are gone once the bids are open.
        let left: i64 = groupement::db::schema::opening_shares::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(left, 0);
    }
);

both_backends!(
    the_recovery_key_stands_in_for_a_member_and_a_changed_ciphertext_is_reported,
    |app| {
        let joint = approved(&app);
        let (_, recovery) = keys::create_recovery(&app.pool, &joint.admin, false).unwrap();
        assert!(recovery.starts_with("AGE-SECRET-KEY-1"));
        // Once only, unless it is replaced.
        assert!(keys::create_recovery(&app.pool, &joint.admin, false).is_err());
        publish(&app, &joint, "").unwrap();
        let ids = bids_then_deadline(&app, &joint);
        // Alpha's bid changed in the database after its deposit.
        let mut conn = app.pool.get().unwrap();
        let mut sealed: Vec<u8> = bids::table
            .find(ids[0])
            .select(bids::sealed)
            .first::<Option<Vec<u8>>>(&mut conn)
            .unwrap()
            .unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 0x5a;
        diesel::update(bids::table.find(ids[0]))
            .set(bids::sealed.eq(Some(sealed)))
            .execute(&mut conn)
            .unwrap();
        drop(conn);

        awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Passphrase(OPENING)),
        )
        .unwrap();
        let not_it = awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Recovery(
                "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQSQ6N0Q",
            )),
        )
        .unwrap_err();
        assert!(not_it.detailed().contains("clé de secours"), "{not_it:?}");
        let opened = awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Recovery(&recovery)),
        )
        .unwrap();
        assert_eq!(
            opened,
            Opening::Opened {
                bids: 2,
                tampered: 1
            }
        );
        // The changed bid is reported, never opened nor scored; the other one is open.
        let mut conn = app.pool.get().unwrap();
        let tampered =
            bid_service::tampered_bids_on(&mut conn, &joint.ub, &joint.reference).unwrap();
        assert_eq!(tampered.len(), 1);
        assert_eq!(tampered[0].supplier, "Alpha");
        drop(conn);
        assert_eq!(price_of(&app, ids[0]), 1);
        assert_eq!(price_of(&app, ids[1]), 1_200_000);
        let open = bid_service::sealed_bids(&app.pool, &joint.ub, &joint.reference).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].supplier, "Beta");
        let compared = awards::comparison(&app.pool, &joint.ub, joint.tender).unwrap();
        assert_eq!(compared.tampered.len(), 1);
        let lot_bids: usize = compared.lots.iter().map(|l| l.bids.len()).sum();
        assert_eq!(lot_bids, 1);
    }
);

both_backends!(
    a_tender_is_not_published_while_a_member_has_no_opening_key,
    |app| {
        let joint = approved(&app);
        diesel::delete(opening_keys::table.filter(opening_keys::user_id.eq(joint.chu.user_id)))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        let refused = publish(&app, &joint, "").unwrap_err();
        let text = refused.detailed();
        assert!(text.contains("CHU n'a pas encore"), "{text}");
        // Said before the confirmation already, beside the field.
        let ub = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        let deadline = (chrono::Utc::now() + chrono::Duration::days(40))
            .format("%d/%m/%Y")
            .to_string();
        let checked = post_form(
            &app,
            &format!("/consultations/{}/publier/verifier", joint.tender),
            &ub.cookie(),
            None,
            &[
                ("csrf_token", ub.csrf.as_str()),
                ("weight_price", "60"),
                ("weight_quality", "30"),
                ("weight_environment", "10"),
                ("deadline", deadline.as_str()),
            ],
        )
        .await;
        assert_eq!(checked.status, 422, "{}", checked.body);
        assert!(
            checked.body.contains("CHU n&#x27;a pas encore")
                || checked.body.contains("CHU n'a pas encore"),
            "{}",
            checked.body
        );
        // Nothing was written: still approved, no key.
        let status: String = tenders::table
            .find(joint.tender)
            .select(tenders::status)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(status, "approved");
        // A joint tender never opens with one key.
        keys::create(&app.pool, &joint.chu, OPENING, OPENING).unwrap();
        let one = publish(&app, &joint, "1").unwrap_err();
        assert!(one.detailed().contains("deux clés au moins"), "{one:?}");
        let three = publish(&app, &joint, "3").unwrap_err();
        assert!(three.detailed().contains("n'en a que 2"), "{three:?}");
        publish(&app, &joint, "2").unwrap();
        let lot: i32 = lots::table
            .filter(lots::tender_id.eq(joint.tender))
            .select(lots::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(lot > 0);
    }
);

both_backends!(a_lead_keeps_their_key_under_a_new_passphrase, |app| {
    let joint = approved(&app);
    // Made with the account (tests' helper); a second one is refused.
    assert!(keys::create(&app.pool, &joint.ub, OPENING, OPENING).is_err());
    let short =
        keys::change_passphrase(&app.pool, &joint.ub, OPENING, "court", "court").unwrap_err();
    assert!(short.detailed().contains("12 caractères"), "{short:?}");
    let wrong = keys::change_passphrase(
        &app.pool,
        &joint.ub,
        "pas la bonne phrase",
        "une toute nouvelle phrase",
        "une toute nouvelle phrase",
    )
    .unwrap_err();
    assert!(
        wrong.detailed().contains("phrase secrète actuelle"),
        "{wrong:?}"
    );
    publish(&app, &joint, "").unwrap();
    keys::change_passphrase(
        &app.pool,
        &joint.ub,
        OPENING,
        "une toute nouvelle phrase",
        "une toute nouvelle phrase",
    )
    .unwrap();
    bids_then_deadline(&app, &joint);
    // The old passphrase no longer opens; the new one does (same key, same share).
    assert!(awards::open(
        &app.pool,
        &joint.ub,
        joint.tender,
        Some(KeyEntry::Passphrase(OPENING))
    )
    .is_err());
    awards::open(
        &app.pool,
        &joint.ub,
        joint.tender,
        Some(KeyEntry::Passphrase("une toute nouvelle phrase")),
    )
    .unwrap();
    let opened = awards::open(
        &app.pool,
        &joint.chu,
        joint.tender,
        Some(KeyEntry::Passphrase(OPENING)),
    )
    .unwrap();
    assert!(matches!(
        opened,
        Opening::Opened {
            bids: 2,
            tampered: 0
        }
    ));
    // No passphrase is kept anywhere.
    let all = dump(&app);
    assert!(!contains(&all, b"une toute nouvelle phrase"));
    assert!(!contains(&all, OPENING.as_bytes()));
});

both_backends!(
    a_document_the_company_encrypted_itself_opens_with_the_bids,
    |app| {
        let joint = approved(&app);
        publish(&app, &joint, "").unwrap();
        let (status, _, key) = app
            .get(&format!(
                "/appels-d-offres/{}/cle-publique.txt",
                joint.reference
            ))
            .await;
        assert_eq!(status, 200);
        // On the company's machine: `groupement seal` with the key of the notice.
        let desk = tempfile::tempdir().unwrap();
        std::fs::write(desk.path().join("memoire.pdf"), DOCUMENT).unwrap();
        let sealed = crate::helpers::groupement(
            &["seal", "--recipient", key.trim(), "memoire.pdf"],
            desk.path(),
        );
        assert!(
            sealed.status.success(),
            "{}",
            String::from_utf8_lossy(&sealed.stderr)
        );
        let bytes = std::fs::read(desk.path().join("memoire.pdf.age")).unwrap();
        assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
        // A file that is not what its name says is refused there already.
        std::fs::write(desk.path().join("faux.pdf"), b"PK\x03\x04").unwrap();
        let refused = crate::helpers::groupement(
            &["seal", "--recipient", key.trim(), "faux.pdf"],
            desk.path(),
        );
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("pas un vrai fichier pdf"));

        let company = supplier(&app, "24210041000123", "Alpha");
        let person = user(&app, "alpha@example.fr", "supplier", None, Some(company));
        bid_service::submit(
            &app.pool,
            &person,
            &joint.reference,
            1,
            &bid_service::BidForm {
                price_eur: "15000".into(),
                ..Default::default()
            },
        )
        .unwrap();
        // Its name says it is encrypted; uploaded as it is.
        let misnamed = bid_service::add_document(
            &app.pool,
            &person,
            &joint.reference,
            1,
            "memoire.pdf",
            &bytes,
        )
        .unwrap_err();
        assert!(misnamed.detailed().contains(".age"), "{misnamed:?}");
        // Through the page, as a company sends it.
        let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
        let uploaded = crate::helpers::upload_file(
            &app,
            &alpha,
            &format!("/appels-d-offres/{}/lots/1/documents", joint.reference),
            "memoire.pdf.age",
            &bytes,
        )
        .await;
        assert_eq!(uploaded.status, 303, "{}", uploaded.body);
        let stored: Vec<u8> = groupement::db::schema::bid_documents::table
            .select(groupement::db::schema::bid_documents::content)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(stored, bytes, "kept as the company sealed it");
        diesel::update(tenders::table.find(joint.tender))
            .set(
                tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
            )
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        for lead in [&joint.ub, &joint.chu] {
            awards::open(
                &app.pool,
                lead,
                joint.tender,
                Some(KeyEntry::Passphrase(OPENING)),
            )
            .unwrap();
        }
        let opened = bid_service::sealed_bids(&app.pool, &joint.ub, &joint.reference).unwrap();
        let document = &opened[0].documents[0];
        assert_eq!(document.name, "memoire.pdf");
        let (name, content_type, content) =
            bid_service::sealed_document(&app.pool, &joint.ub, &joint.reference, document.id)
                .unwrap();
        assert_eq!(
            (name.as_str(), content_type.as_str(), content.as_slice()),
            ("memoire.pdf", "application/pdf", DOCUMENT)
        );
    }
);

both_backends!(
    the_last_keys_entered_at_the_same_moment_open_the_bids,
    |app| {
        let joint = approved(&app);
        let (_, recovery) = keys::create_recovery(&app.pool, &joint.admin, false).unwrap();
        // All three keys: the coordinator's, then CHU's and the recovery key at once.
        publish(&app, &joint, "3").unwrap();
        bids_then_deadline(&app, &joint);
        awards::open(
            &app.pool,
            &joint.ub,
            joint.tender,
            Some(KeyEntry::Passphrase(OPENING)),
        )
        .unwrap();
        let barrier = std::sync::Barrier::new(2);
        let outcomes: Vec<Opening> = std::thread::scope(|scope| {
            let chu = scope.spawn(|| {
                barrier.wait();
                awards::open(
                    &app.pool,
                    &joint.chu,
                    joint.tender,
                    Some(KeyEntry::Passphrase(OPENING)),
                )
                .unwrap()
            });
            let rescue = scope.spawn(|| {
                barrier.wait();
                awards::open(
                    &app.pool,
                    &joint.ub,
                    joint.tender,
                    Some(KeyEntry::Recovery(&recovery)),
                )
                .unwrap()
            });
            vec![chu.join().unwrap(), rescue.join().unwrap()]
        });
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Opening::Opened { bids: 2, .. })),
            "{outcomes:?}"
        );
        let opened: Option<chrono::NaiveDateTime> = tenders::table
            .find(joint.tender)
            .select(tenders::opened_at)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(opened.is_some());
    }
);
