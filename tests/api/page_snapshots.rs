//! Snapshots of the main pages of each role on the demo data (`insta`, in
//! `tests/api/snapshots/`): a change of wording or layout shows in review as a diff of the
//! page's HTML. What changes from run to run is masked first: days and times (the demo is
//! seeded relative to today, and next year is the form's default year), anti-forgery tokens, the drafts key of the person, random bid
//! receipt numbers, the engine's time. Review a change with `cargo insta review`, or run with
//! `INSTA_UPDATE=always` and read `git diff`.

use crate::helpers::{get_with, session_of, spawn_app, TestApp, TestBackend};
use diesel::prelude::*;
use groupement::db::schema::{organisations, tenders};

/// Replaces every run of characters shaped like `shape` (`9` a digit, anything else itself)
/// that does not touch another digit with `mask`.
fn mask_shape(text: &str, shape: &str, mask: &str) -> String {
    let (chars, shape): (Vec<char>, Vec<char>) = (text.chars().collect(), shape.chars().collect());
    let fits = |at: usize| {
        at + shape.len() <= chars.len()
            && shape.iter().zip(&chars[at..]).all(|(s, c)| match s {
                '9' => c.is_ascii_digit(),
                other => other == c,
            })
            && (at == 0 || !chars[at - 1].is_ascii_digit())
            && chars
                .get(at + shape.len())
                .is_none_or(|c| !c.is_ascii_digit())
    };
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < chars.len() {
        if fits(at) {
            out.push_str(mask);
            at += shape.len();
        } else {
            out.push(chars[at]);
            at += 1;
        }
    }
    out
}

/// Replaces the value after each `marker` up to the next `end` with `mask`.
fn mask_after(text: &str, marker: &str, end: char, mask: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        out.push_str(&rest[..at + marker.len()]);
        out.push_str(mask);
        rest = &rest[at + marker.len()..];
        rest = &rest[rest.find(end).unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

fn masked(page: &str, address: &str) -> String {
    // (The season's name of Paris time, CET or CEST, changes twice a year.)
    let mut page = page
        .replace(address, "http://portail.test")
        .replace("CEST)", "CET)");
    for (shape, mask) in [
        ("9999-99-99T99:99:99", "AAAA-MM-JJTHH:MM:SS"),
        ("9999-99-99", "AAAA-MM-JJ"),
        ("99/99/9999", "JJ/MM/AAAA"),
        ("99:99", "HH:MM"),
        ("99 h 99", "HH h MM"),
        // (How long the engine took.)
        ("9,99 s</dd>", "S s</dd>"),
        ("99,99 s</dd>", "S s</dd>"),
        ("9,99 s)</dd>", "S s)</dd>"),
        ("99,99 s)</dd>", "S s)</dd>"),
    ] {
        page = mask_shape(&page, shape, mask);
    }
    for (marker, end) in [
        ("name=\"csrf_token\" value=\"", '"'),
        ("name=\"csrf-token\" content=\"", '"'),
        ("data-person=\"", '"'),
        ("reçu n° ", ' '),
        // (Receipt numbers are random.)
        ("signé n° ", '<'),
        // (The open-data page says when its files were made.)
        ("ici au ", ')'),
        // (The receipts' signing key is made for each database.)
        ("clé <code>", '<'),
        ("<code class=\"hash\">", '<'),
        // (A tender's public key is made at its publication.)
        ("<code class=\"hash\" id=\"cle-publique-texte\">", '<'),
        (
            "name=\"budget_year\" inputmode=\"numeric\" required value=\"",
            '"',
        ),
    ] {
        page = mask_after(&page, marker, end, "…");
    }
    page
}

/// The main pages of each role on the demo data: a name, who looks (a demo address, `None`
/// for the public) and the path. The snapshots and the browser's walk of every page
/// (`journey::every_page_of_each_role_in_a_real_browser`) go through the same list.
pub fn demo_pages(app: &TestApp) -> Vec<(&'static str, Option<String>, String)> {
    let tender_of = |status: &str| -> (i32, String, String) {
        tenders::table
            .inner_join(organisations::table)
            .filter(tenders::status.eq(status))
            .order(tenders::id)
            .select((tenders::id, tenders::reference, organisations::code))
            .first(&mut app.pool.get().unwrap())
            .unwrap()
    };
    let (published, published_ref, coordinator) = tender_of("published");
    let (awarded, awarded_ref, awarded_by) = tender_of("awarded");
    let (closed, _, closed_by) = tender_of("closed");
    let demo = |who: &str| format!("{who}@demo.groupement.fr");
    let supplier: String = groupement::db::schema::users::table
        .filter(groupement::db::schema::users::role.eq("supplier"))
        .order(groupement::db::schema::users::id)
        .select(groupement::db::schema::users::email)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let lead = demo(&format!("lead.{}", coordinator.to_lowercase()));
    let awarding_lead = demo(&format!("lead.{}", awarded_by.to_lowercase()));
    let run: i32 = groupement::db::schema::pooling_runs::table
        .select(groupement::db::schema::pooling_runs::id)
        .order(groupement::db::schema::pooling_runs::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let family: String = tenders::table
        .filter(tenders::id.eq(published))
        .select(tenders::cpv_family)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    vec![
        ("public-home", None, "/".into()),
        ("public-tenders", None, "/appels-d-offres".into()),
        (
            "public-all-tenders",
            None,
            "/appels-d-offres?etat=tous".into(),
        ),
        ("public-sign-in", None, "/connexion".into()),
        ("public-register", None, "/inscription".into()),
        ("public-forgot", None, "/mot-de-passe-oublie".into()),
        ("public-api-docs", None, "/documentation/api".into()),
        ("public-open-data", None, "/open-data".into()),
        ("public-verify-receipt", None, "/accuses/verifier".into()),
        ("public-contracts", None, "/open-data/marches".into()),
        (
            "public-not-found",
            None,
            "/appels-d-offres/GRP-1999-999".into(),
        ),
        (
            "public-notice",
            None,
            format!("/appels-d-offres/{published_ref}"),
        ),
        (
            "public-results",
            None,
            format!("/appels-d-offres/{awarded_ref}"),
        ),
        ("buyer-home", Some(demo("buyer.chu")), "/accueil".into()),
        ("lead-home", Some(lead.clone()), "/accueil".into()),
        ("supplier-home", Some(supplier.clone()), "/accueil".into()),
        ("admin-home", Some(demo("admin")), "/accueil".into()),
        ("buyer-needs", Some(demo("buyer.chu")), "/besoins".into()),
        (
            "buyer-new-need",
            Some(demo("buyer.chu")),
            "/besoins/nouveau".into(),
        ),
        // An error page keeps the signed-in header.
        (
            "buyer-not-found",
            Some(demo("buyer.chu")),
            "/besoins/999999".into(),
        ),
        (
            "buyer-tenders",
            Some(demo("buyer.chu")),
            "/consultations".into(),
        ),
        ("lead-runs", Some(lead.clone()), "/mutualisation".into()),
        ("lead-run", Some(lead.clone()), "/mutualisation/1".into()),
        (
            "lead-tender",
            Some(lead.clone()),
            format!("/consultations/{published}"),
        ),
        ("lead-account", Some(lead.clone()), "/compte".into()),
        (
            "lead-bids",
            Some(awarding_lead.clone()),
            format!("/consultations/{awarded}/offres"),
        ),
        (
            "lead-awarded",
            Some(awarding_lead.clone()),
            format!("/consultations/{awarded}"),
        ),
        // The encrypted bids of the closed tender wait for its members' keys.
        (
            "lead-opening",
            Some(demo(&format!("lead.{}", closed_by.to_lowercase()))),
            format!("/consultations/{closed}/ouverture"),
        ),
        (
            "lead-journal",
            Some(awarding_lead),
            format!("/consultations/{awarded}/journal"),
        ),
        (
            "lead-dashboard",
            Some(lead.clone()),
            "/tableau-de-bord".into(),
        ),
        (
            "supplier-profile",
            Some(supplier.clone()),
            "/entreprise".into(),
        ),
        ("supplier-account", Some(supplier.clone()), "/compte".into()),
        (
            "supplier-bid",
            Some(supplier.clone()),
            format!("/appels-d-offres/{published_ref}/offre"),
        ),
        (
            "supplier-practice",
            Some(supplier.clone()),
            "/entrainement".into(),
        ),
        (
            "admin-users",
            Some(demo("admin")),
            "/admin/utilisateurs".into(),
        ),
        (
            "admin-settings",
            Some(demo("admin")),
            "/admin/parametres".into(),
        ),
        (
            "admin-organisations",
            Some(demo("admin")),
            "/admin/organisations".into(),
        ),
        ("admin-audit", Some(demo("admin")), "/admin/journal".into()),
        (
            "admin-outbox",
            Some(demo("admin")),
            "/admin/courriels".into(),
        ),
        (
            "admin-recovery-key",
            Some(demo("admin")),
            "/admin/cle-de-secours".into(),
        ),
        ("admin-account", Some(demo("admin")), "/compte".into()),
        (
            "lead-run-tender",
            Some(lead.clone()),
            format!("/mutualisation/{run}/consultations/{family}"),
        ),
        ("lead-needs", Some(lead.clone()), "/besoins".into()),
        (
            "buyer-dashboard",
            Some(demo("buyer.chu")),
            "/tableau-de-bord".into(),
        ),
    ]
}

#[actix_web::test]
async fn the_main_pages_of_each_role_match_their_snapshots() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    groupement::demo::seed_if_empty(&mut app.pool.get().unwrap()).unwrap();
    let pages = demo_pages(&app);
    let mut sessions = std::collections::HashMap::new();
    for (name, who, path) in pages {
        let cookie = match who {
            None => String::new(),
            Some(email) => {
                if !sessions.contains_key(&email) {
                    let session = session_of(&app, &email, groupement::demo::DEMO_PASSWORD).await;
                    sessions.insert(email.clone(), session);
                }
                sessions[&email].cookie()
            }
        };
        let page = get_with(&app, &path, &cookie).await;
        let expected = match name.ends_with("not-found") {
            true => 404,
            false => 200,
        };
        assert_eq!(page.status, expected, "{name} {path}: {}", page.body);
        insta::assert_snapshot!(name, masked(&page.body, &app.address));
    }
}

#[test]
fn masks_take_out_only_what_changes() {
    assert_eq!(
        masked(
            "le 03/12/2026 à 12:00, réf. GRP-2027-004, 1 200,00 €, 2026-12-03",
            "http://x"
        ),
        "le JJ/MM/AAAA à HH:MM, réf. GRP-2027-004, 1 200,00 €, AAAA-MM-JJ"
    );
    assert_eq!(
        masked("<input name=\"csrf_token\" value=\"abc-123\">", "http://x"),
        "<input name=\"csrf_token\" value=\"…\">"
    );
}
