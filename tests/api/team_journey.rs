//! #24's journey in a real browser: a planned purchase is published on the programme, two SMEs
//! post their parts on its co-bidding exchange and form a team, the lead's run counts the team
//! (with a third company's declared capacity) and the lot becomes accessible thanks to it, the
//! team bids as a group (the co-contractor confirms from its own account) and wins, and the
//! open data show both companies. Every page is photographed at 1366 and 390 px and checked
//! with axe, as in the main journey.

use crate::bids::{user, PASSWORD};
use crate::browser::{browser_or_skip, Browser};
use crate::helpers::{spawn_app, TestBackend};
use crate::journey::Walk;
use diesel::prelude::*;
use groupement::db::schema::{pooling_runs, tenders};
use groupement::services::{open_data, pooling, sourcing};

const BRAVO: &str = "21210231500018";
const CHARLIE: &str = "44386207300014";

#[actix_web::test]
async fn two_smes_team_up_on_the_exchange_and_win_in_a_real_browser() {
    if !browser_or_skip() {
        return;
    }
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let chu = crate::programme::organisation(&app, "CHU", "Centre hospitalier universitaire");
    let lead = user(&app, "lead.chu@example.fr", "lead", Some(chu), None);
    // A need of 150 000 €: one lot, more than any company of the territory can take alone.
    crate::programme::need(&app, &lead, "33141000", "Compresses", "15000");
    let alpha = crate::cobidding::company(&app, "24210041000123", "Alpha", 100_000);
    crate::cobidding::company(&app, BRAVO, "Bravo", 80_000);
    crate::cobidding::company(&app, CHARLIE, "Charlie", 60_000);
    let mut walk = Walk {
        browser: Browser::start().await,
        base: app.address.clone(),
        name: "team",
        step: 0,
    };

    // Bravo finds the purchase on the programme and posts its part on the exchange.
    walk.sign_in_with("vente@bravo.fr", PASSWORD).await;
    walk.go("/programme-achats").await;
    walk.check("programme").await;
    walk.browser.click("a[href^=\"/co-traitance\"]").await;
    walk.browser
        .wait_for("return location.pathname === '/co-traitance'")
        .await;
    walk.check("exchange-empty").await;
    let exchange = walk
        .browser
        .script("return location.pathname + location.search")
        .await
        .as_str()
        .unwrap()
        .to_string();
    walk.browser.click("#kind-search").await;
    walk.set("#part", "Livraison des services de soins à Dijon")
        .await;
    walk.set("#share", "60").await;
    walk.set("#capacity", "90 000").await;
    walk.set("#departments", "21").await;
    walk.submit("form[action=\"/co-traitance/annonce\"] button[type=submit]")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Votre annonce est publiée')")
        .await;
    walk.check("exchange-posted").await;
    walk.sign_out().await;

    // Charlie posts its part, sees the team the exchange proposes, and writes to Bravo.
    walk.sign_in_with("vente@charlie.fr", PASSWORD).await;
    walk.go(&exchange).await;
    walk.set("#part", "Livraison en Saône-et-Loire").await;
    walk.set("#share", "50").await;
    walk.set("#capacity", "70 000").await;
    walk.set("#departments", "21 71").await;
    walk.submit("form[action=\"/co-traitance/annonce\"] button[type=submit]")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Équipes proposées')")
        .await;
    let text = walk.text().await;
    assert!(text.contains("Charlie + Bravo — apportent"), "{text}");
    assert!(
        !text.contains("bravo@example.fr"),
        "no address before both agree"
    );
    walk.set(
        "textarea[name=message]",
        "Nous livrons la Saône-et-Loire ; répondons ensemble ?",
    )
    .await;
    walk.submit("form[action=\"/co-traitance/contact\"] button[type=submit]")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Demande envoyée')")
        .await;
    walk.check("exchange-asked").await;
    walk.sign_out().await;

    // Bravo accepts: both see each other's address.
    walk.sign_in_with("vente@bravo.fr", PASSWORD).await;
    walk.go(&exchange).await;
    walk.submit("form[action=\"/co-traitance/reponse\"] button[value=oui]")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Votre équipe')")
        .await;
    let text = walk.text().await;
    assert!(text.contains("charlie@example.fr"), "{text}");
    walk.check("exchange-team").await;
    walk.sign_out().await;

    // Alpha declares what it could deliver on the programme.
    sourcing::declare(
        &app.pool,
        &alpha,
        &sourcing::DeclarationForm {
            achat: "needs:2027:3314:boîte".into(),
            capacity: "200000".into(),
            ..Default::default()
        },
    )
    .unwrap();

    // The lead runs the pooling counting declarations and teams: the lot is accessible to the
    // territory thanks to them, and says so.
    walk.sign_in_with("lead.chu@example.fr", PASSWORD).await;
    walk.go("/mutualisation").await;
    walk.set("#budget_year", "2027").await;
    walk.browser.click("#count_sourcing").await;
    walk.check("run-form").await;
    walk.submit("form[action=\"/mutualisation\"] button[type=submit]")
        .await;
    walk.browser
        .wait_for("return location.pathname.startsWith('/mutualisation/')")
        .await;
    let run: i32 = pooling_runs::table
        .order(pooling_runs::id.desc())
        .select(pooling_runs::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    pooling::execute(&app.pool, run).unwrap();
    walk.go(&format!("/mutualisation/{run}")).await;
    let text = walk.text().await;
    assert!(
        text.contains("équipes de co-traitance comptées"),
        "the parameter is shown: {text}"
    );
    walk.check("run-counted").await;
    walk.go(&format!("/mutualisation/{run}/consultations/3314"))
        .await;
    let text = walk.text().await;
    assert!(
        text.contains("équipe Bravo + Charlie") && text.contains("capacité déclarée par Alpha"),
        "the lot says what it owes its access to: {text}"
    );
    assert!(
        text.contains("2 candidat(s) du territoire, entreprises et équipes"),
        "{text}"
    );
    walk.check("run-lot-thanks-to-the-team").await;
    walk.sign_out().await;
    let reference = pooling::accept(&app.pool, &lead, run, &app.address)
        .unwrap()
        .remove(0);
    let tender_id: i32 = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    crate::bids::publish(&app, &lead, tender_id);

    // Bravo bids as the group's representative, Charlie its co-contractor for 40 %.
    walk.sign_in_with("vente@bravo.fr", PASSWORD).await;
    walk.go(&format!("/appels-d-offres/{reference}/offre"))
        .await;
    walk.browser
        .script("document.querySelectorAll('details').forEach(d => d.open = true); return true;")
        .await;
    walk.set("#prix-1", "140 000").await;
    walk.set("#groupement-1", "solidaire").await;
    walk.set("#co-siret-1-1", CHARLIE).await;
    walk.set("#co-part-1-1", "40").await;
    walk.check("group-bid-form").await;
    walk.submit("#lot-1 form[action$=\"/lots/1/offre\"] button[type=submit]")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('groupement solidaire')")
        .await;
    let text = walk.text().await;
    assert!(
        text.contains("Charlie (SIRET 44386207300014, 40 %, non confirmé)"),
        "{text}"
    );
    walk.check("group-bid-sent").await;
    walk.sign_out().await;
    // Charlie confirms from its own account.
    walk.sign_in_with("vente@charlie.fr", PASSWORD).await;
    walk.go(&format!("/appels-d-offres/{reference}/offre"))
        .await;
    walk.check("group-invitation").await;
    walk.submit("form[action$=\"/confirmation\"] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Participation confirmée')")
        .await;
    walk.sign_out().await;

    // The deadline passes; the members open, mark and award; the contract is signed.
    crate::groups::opened_after_deadline(&app, &lead, tender_id, &reference);
    let comparison = crate::groups::marked(&app, &lead, tender_id);
    crate::groups::awarded_and_signed(&app, &lead, tender_id, &comparison, (chu, "26210000100011"));

    // The open data show both companies: OCDS suppliers of the award, DECP holders.
    let decp = open_data::decp(&mut app.pool.get().unwrap()).unwrap();
    let marche = &decp["marches"]["marche"][0];
    assert_eq!(marche["typeGroupementOperateurs"], "Solidaire", "{decp}");
    let holders: Vec<&str> = marche["titulaires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["titulaire"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(holders, [BRAVO, CHARLIE]);
    walk.go("/open-data/marches").await;
    let text = walk.text().await;
    assert!(
        text.contains("en groupement solidaire avec Charlie (SIRET 44386207300014)"),
        "{text}"
    );
    walk.check("contracts-with-the-group").await;
    walk.go("/open-data/ocds.json").await;
    let ocds = walk.text().await;
    let package: serde_json::Value = serde_json::from_str(&ocds).unwrap();
    let release = package["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ocid"] == format!("ocds-grpdijon-{reference}"))
        .unwrap();
    let mut suppliers: Vec<&str> = release["awards"][0]["suppliers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    suppliers.sort();
    assert_eq!(suppliers, ["Bravo", "Charlie"]);
}
