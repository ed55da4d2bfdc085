//! The whole journey in headless Chromium, as people do it: two buyers post needs (one by the
//! form, one by uploading a spreadsheet), a lead pools them, adjusts the proposal, accepts it;
//! both members' leads approve; the coordinator publishes; a supplier gets the notice through
//! a real SMTP conversation, follows its link, signs in and bids; after the deadline the lead
//! opens, marks and awards; the public notice and the open data show the result. Every page
//! of the journey is checked with axe-core (vendored, injected through WebDriver): no serious
//! or critical violation. A screenshot of each step is kept in `$CARGO_TARGET_DIR/tmp/artifacts`.

use crate::browser::{browser_or_skip, Browser};
use crate::helpers::{spawn_app_with, TestBackend};
use crate::smtp::SmtpServer;
use diesel::prelude::*;
use groupement::db::models::{NewSupplier, NewSupplierCpv, NewUser};
use groupement::db::schema::{supplier_cpv, suppliers, tenders, users};
use groupement::domain::hash_password;
use serde_json::Value;

use crate::pooling_journey::PASSWORD;
const AXE: &str = include_str!("../fixtures/axe-core/axe.min.js");

pub fn people(pool: &groupement::db::Pool) {
    crate::pooling_journey::members_in(pool);
    let mut conn = pool.get().unwrap();
    let hash = hash_password(PASSWORD).unwrap();
    let supplier: i32 = diesel::insert_into(suppliers::table)
        .values(NewSupplier {
            siret: "24210041000123",
            name: "Pansements de Bourgogne",
            postcode: "21000",
            commune: "DIJON",
            department_code: "21",
            latitude: None,
            longitude: None,
            sme: true,
            annual_capacity_cents: 50_000_000,
            notification_email: "offres@pansements.example.fr",
            opt_in: true,
            provenance: None,
        })
        .returning(suppliers::id)
        .get_result(&mut conn)
        .unwrap();
    diesel::insert_into(supplier_cpv::table)
        .values(NewSupplierCpv {
            supplier_id: supplier,
            cpv_prefix: "3314",
        })
        .execute(&mut conn)
        .unwrap();
    diesel::insert_into(users::table)
        .values(NewUser {
            email: "vente@pansements.example.fr",
            password_hash: &hash,
            display_name: "Camille Vente",
            role: "supplier",
            organisation_id: None,
            supplier_id: Some(supplier),
            email_verified_at: Some(chrono::Utc::now().naive_utc()),
        })
        .execute(&mut conn)
        .unwrap();
}

/// The checked list of what no French page may show (JavaScript regular expressions).
const RAW_WORDS: &str = r#"["\\bno_competition\\b", "\\badapted\\b", "\\bformal\\b", "\\bsub_central\\b",
  "\\bapproving\\b", "\\bsubmitted\\b", "\\bpending\\b", "\\btendered\\b", "\\bpooled\\b",
  "\\bunsuccessful\\b", "\\bwithdrawn\\b", "unit_price_eur", "delivery_postcode", "window_start",
  "window_end", "need_id", "Some\\(", "\\bNone\\b", "\\bnull\\b", "\\bundefined\\b", "NaN",
  "is not a number", "missing column", "\\bexpected\\b", "\\brow \\d", "header:",
  "\\bauth\\.[a-z]", "\\btender\\.[a-z]", "\\bneed\\.[a-z]", "\\bbid\\.[a-z]",
  "\\b(from|year|status) :"]"#;

/// The journey's browser: each page is photographed and checked for accessibility.
pub(crate) struct Walk {
    pub(crate) browser: Browser,
    pub(crate) base: String,
    /// The screenshots' prefix (`journey`, `balanced`).
    pub(crate) name: &'static str,
    pub(crate) step: usize,
}

impl Walk {
    pub(crate) async fn go(&self, path: &str) {
        self.browser.go(&format!("{}{path}", self.base)).await;
    }

    /// Screenshot `name` and axe-core on the page shown: no serious or critical violation;
    /// then the same page on a 390 px phone, photographed too, where nothing may run off the
    /// screen (a wide table scrolls within itself).
    pub(crate) async fn check(&mut self, name: &str) {
        self.step += 1;
        self.browser
            .screenshot(&format!("{}-{:02}-{name}.png", self.name, self.step))
            .await;
        let found = self.violations().await;
        assert!(found.is_empty(), "{name}: accessibility: {found:#?}");
        let raw = self.raw_words().await;
        assert!(raw.is_empty(), "{name}: not for people: {raw:?}");
        self.browser.phone(Some(390)).await;
        self.browser
            .screenshot(&format!("{}-{:02}-{name}-390.png", self.name, self.step))
            .await;
        let (over, who) = self.browser.overflow(390).await;
        self.browser.phone(None).await;
        assert_eq!(over, 0, "{name}: {over} px off a 390 px screen: {who:?}");
    }

    /// What a French page must not show people: the codes of the code (statuses, procedures,
    /// field names, journal actions), Rust's and JavaScript's words, English messages. (What a
    /// page shows as code on purpose — a file's column names in `<code>` — and what it marks as
    /// English (`lang="en"`, the API's own descriptions) are not read.)
    pub(crate) async fn raw_words(&self) -> Vec<String> {
        let found = self
            .browser
            .script(&format!(
                "const shown = document.body.cloneNode(true);
                 shown.querySelectorAll('code, pre, textarea, input, script, [lang=en]').forEach(e => e.remove());
                 const text = shown.textContent;
                 return {RAW_WORDS}.filter(w => new RegExp(w).test(text))
                   .map(w => w + ' in « ' + (text.match(new RegExp('.{{0,40}}' + w + '.{{0,40}}')) || [''])[0] + ' »');"
            ))
            .await;
        serde_json::from_value(found).unwrap_or_default()
    }

    /// axe-core's serious and critical violations on the page shown.
    pub(crate) async fn violations(&self) -> Vec<String> {
        self.browser.script(&format!("{AXE}; return true;")).await;
        let found = self
            .browser
            .async_script(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(r => done(
                   r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)
                       .map(n => n.target.join(' ')).join(' | '))));",
            )
            .await;
        serde_json::from_value(found).unwrap()
    }

    /// Fills a form as a person would (`fields`: a CSS selector and a value each, one of them
    /// wrong), sends it, and checks that the page that says what is wrong gives back every value
    /// typed (passwords aside), photographed and checked like any page.
    pub(crate) async fn typed_values_survive(
        &mut self,
        name: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) {
        self.go(path).await;
        self.browser
            .script(
                "document.querySelectorAll('details').forEach(d => d.open = true); return true;",
            )
            .await;
        for (css, value) in fields {
            self.set(css, value).await;
        }
        self.submit(&format!("form:has({}) button[type=submit]", fields[0].0))
            .await;
        self.browser
            .wait_for("return document.querySelector('.error-summary') !== null")
            .await;
        for (css, value) in fields.iter().filter(|(css, _)| !css.contains("password")) {
            let shown = self
                .browser
                .script(&format!(
                    "return document.querySelector({}).value",
                    Value::from(*css)
                ))
                .await;
            assert_eq!(
                shown,
                Value::from(*value),
                "{name}: {css} lost what was typed"
            );
        }
        self.check(name).await;
    }

    /// Signs in through the form; the person lands on their home, which is checked and
    /// photographed like every page (`home-<who>`).
    pub(crate) async fn sign_in(&mut self, email: &str) {
        self.sign_in_with(email, PASSWORD).await;
    }

    pub(crate) async fn sign_in_with(&mut self, email: &str, password: &str) {
        self.go("/connexion").await;
        self.browser.type_into("#email", email).await;
        self.browser.type_into("#password", password).await;
        self.browser.click("form.form button[type=submit]").await;
        self.browser
            .wait_for("return document.querySelector('.viewer form') !== null")
            .await;
        self.browser
            .wait_for("return location.pathname === '/accueil'")
            .await;
        let who = email.split('@').next().unwrap_or(email).replace('.', "-");
        self.check(&format!("home-{who}")).await;
    }

    pub(crate) async fn sign_out(&self) {
        self.browser
            .wait_for("return document.querySelector('.viewer form button') !== null")
            .await;
        self.browser.click(".viewer form button").await;
        self.browser
            .wait_for("return document.querySelector('.viewer form') === null")
            .await;
    }

    pub(crate) async fn text(&self) -> String {
        self.browser
            .script("return document.body.innerText")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Sets a field by its CSS selector (clearing what was there).
    pub(crate) async fn set(&self, css: &str, value: &str) {
        self.browser
            .script(&format!(
                "document.querySelector({}).value = {}; return true;",
                Value::from(css),
                Value::from(value)
            ))
            .await;
    }

    pub(crate) async fn submit(&self, css: &str) {
        self.browser.click(css).await;
    }
}

/// Every main page of each role on the demo data (the snapshots' list), in a real browser:
/// photographed at 1366 and 390 px (artifacts `pages-NN-<name>.png`, `…-390.png`), with no
/// serious accessibility violation, nothing off a phone's screen, no code or English in the
/// visible text. (Each person's home is checked on signing in.)
#[actix_web::test]
async fn every_page_of_each_role_in_a_real_browser() {
    if !browser_or_skip() {
        return;
    }
    let app = crate::helpers::spawn_app(TestBackend::Sqlite)
        .await
        .unwrap();
    groupement::demo::seed_if_empty(&mut app.pool.get().unwrap()).unwrap();
    let pages = crate::page_snapshots::demo_pages(&app);
    let mut walk = Walk {
        browser: Browser::start().await,
        base: app.address.clone(),
        name: "pages",
        step: 0,
    };
    let mut current: Option<String> = None;
    for (name, who, path) in pages {
        if who != current {
            if current.is_some() {
                walk.sign_out().await;
            }
            if let Some(email) = &who {
                walk.sign_in_with(email, groupement::demo::DEMO_PASSWORD)
                    .await;
            }
            current = who.clone();
        }
        walk.go(&path).await;
        walk.check(name).await;
    }
    // No form loses what was typed when it is refused: a company's registration, a lead's run,
    // a buyer's need, a company's profile, the admin's invitation.
    walk.sign_out().await;
    walk.typed_values_survive(
        "refused-registration",
        "/inscription",
        &[
            ("#siret", "123"),
            ("#company", "Menuiserie Bourguignonne"),
            ("#postcode", "21000"),
            ("#contact_name", "Jeanne Martin"),
            ("#email", "jeanne@example.fr"),
            ("#password", "un mot de passe assez long"),
            ("#password_confirmation", "un mot de passe assez long"),
        ],
    )
    .await;
    let demo = |who: &str| format!("{who}@demo.groupement.fr");
    walk.sign_in_with(&demo("lead.ub"), groupement::demo::DEMO_PASSWORD)
        .await;
    walk.typed_values_survive(
        "refused-run",
        "/mutualisation",
        &[("#lot_cost", "trois mille"), ("#local_weight", "0,05")],
    )
    .await;
    walk.sign_out().await;
    walk.sign_in_with(&demo("buyer.chu"), groupement::demo::DEMO_PASSWORD)
        .await;
    walk.typed_values_survive(
        "refused-need",
        "/besoins/nouveau",
        &[
            ("#cpv", "33141000"),
            ("#title", "Compresses stériles"),
            ("#quantity", "beaucoup"),
            ("#unit", "boîte"),
            ("#unit_price_eur", "2,50"),
            ("#delivery_postcode", "21000"),
            ("#window_start", "01/03/2027"),
            ("#window_end", "30/06/2027"),
        ],
    )
    .await;
    walk.sign_out().await;
    walk.sign_in_with(&demo("admin"), groupement::demo::DEMO_PASSWORD)
        .await;
    walk.typed_values_survive(
        "refused-invitation",
        "/admin/utilisateurs",
        &[
            ("#inv-email", "paul.durand@example.fr"),
            ("#inv-name", "Paul Durand"),
            ("#inv-role", "lead"),
            ("#inv-org", ""),
        ],
    )
    .await;
    // On a phone the navigation folds behind "Menu", which opens it; on a desk no button.
    let display = "return getComputedStyle(document.getElementById('menu-principal')).display";
    let button = "return getComputedStyle(document.querySelector('.menu-toggle')).display";
    assert_eq!(walk.browser.script(button).await, Value::from("none"));
    walk.browser.phone(Some(390)).await;
    assert_eq!(walk.browser.script(display).await, Value::from("none"));
    walk.browser.click(".menu-toggle").await;
    assert_ne!(walk.browser.script(display).await, Value::from("none"));
    walk.browser.phone(None).await;
}

#[actix_web::test]
async fn the_whole_journey_in_a_real_browser() {
    if !browser_or_skip() {
        return;
    }
    let server = SmtpServer::start(0);
    let app = spawn_app_with(
        TestBackend::Sqlite,
        &[(
            "GROUPEMENT_SMTP_URL",
            format!("smtp://127.0.0.1:{}", server.port),
        )],
    )
    .await
    .unwrap();
    people(&app.pool);
    journey(&app.address, &app.pool, &server, "journey").await;
    server.stop();
}

/// The journey through the portal at `base` (one instance, or a load balancer in front of
/// several), on the database of `pool`, the e-mails caught by `server`.
pub async fn journey(
    base: &str,
    pool: &groupement::db::Pool,
    server: &SmtpServer,
    name: &'static str,
) {
    let mut walk = Walk {
        browser: Browser::start().await,
        base: base.to_string(),
        name,
        step: 0,
    };

    // The check can fail: an image without a text alternative is a critical violation.
    walk.go("/connexion").await;
    walk.browser
        .script("document.body.appendChild(document.createElement('img')); return true;")
        .await;
    let found = walk.violations().await;
    assert!(
        found.iter().any(|v| v.starts_with("image-alt")),
        "{found:?}"
    );

    // 1. UB's buyer posts a need with the form.
    walk.sign_in("buyer.ub@example.fr").await;
    walk.go("/besoins/nouveau").await;
    walk.check("need-form").await;
    walk.browser.type_into("#cpv", "33141000").await;
    walk.browser
        .type_into("#title", "Compresses stériles")
        .await;
    walk.browser.type_into("#quantity", "30000").await;
    walk.browser.type_into("#unit", "boîte").await;
    walk.browser.type_into("#unit_price_eur", "4,50").await;
    walk.browser.type_into("#delivery_postcode", "21000").await;
    walk.browser.type_into("#window_start", "01/03/2027").await;
    walk.browser.type_into("#window_end", "30/09/2027").await;
    walk.submit("button[value=submit]").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Besoin enregistré')")
        .await;
    walk.go("/besoins").await;
    walk.check("needs-list").await;
    walk.sign_out().await;

    // 2. CHU's buyer uploads a spreadsheet (French CSV).
    let upload = tempfile::tempdir().unwrap();
    let file = upload.path().join("besoins-chu.csv");
    std::fs::write(
        &file,
        "need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable\r\n\
         CHU-1;CHU;33141000;Pansements;12000;boîte;4,50;21000;01/03/2027;30/09/2027;oui\r\n"
            .as_bytes(),
    )
    .unwrap();
    walk.sign_in("buyer.chu@example.fr").await;
    walk.go("/besoins/import").await;
    walk.check("import").await;
    walk.browser
        .type_into("#fichier", &file.display().to_string())
        .await;
    walk.submit("form.form button[type=submit]").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Pansements')")
        .await;
    walk.check("imported").await;
    walk.sign_out().await;

    // 3. UB's lead pools, splits a need into a lot of its own and merges it back, accepts.
    walk.sign_in("lead.ub@example.fr").await;
    walk.go("/mutualisation").await;
    walk.check("pooling-form").await;
    walk.submit("form.form button[type=submit]").await;
    for _ in 0..100 {
        if walk.text().await.contains("Accepter") {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        walk.browser.script("location.reload(); return true;").await;
    }
    walk.check("proposal").await;
    // The adjustments are made on the tender's own page, reached from the summary.
    let run_page: String = walk
        .browser
        .script("return location.pathname")
        .await
        .as_str()
        .unwrap()
        .to_string();
    walk.submit("table.tenders-summary th a").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Déplacer un besoin')")
        .await;
    walk.check("proposal-tender").await;
    walk.browser
        .script(
            "const s = document.querySelector('select[name=target]');
             s.value = [...s.options].find(o => o.value.startsWith('new:')).value; return true;",
        )
        .await;
    walk.submit("select[name=target] ~ button").await;
    walk.browser
        .wait_for("return document.querySelectorAll('select[name=lots] option').length >= 1")
        .await;
    walk.set("select[name=lots]", "1+2").await;
    walk.submit("select[name=lots] ~ button").await;
    walk.browser
        .wait_for("return document.querySelector('select[name=lots]') === null")
        .await;
    walk.check("adjusted").await;
    walk.go(&run_page).await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Accepter')")
        .await;
    // Accepting creates tenders and e-mails: a confirmation says so first.
    walk.submit("a[href$='/accepter']").await;
    walk.browser
        .wait_for("return document.querySelector(\"form[action$='/accepter'] button\") !== null")
        .await;
    assert!(walk.text().await.contains("recevront chacun par e-mail"));
    walk.check("accept-confirmation").await;
    walk.submit("form[action$='/accepter'] button").await;
    walk.browser
        .wait_for("return location.pathname === '/consultations'")
        .await;
    walk.check("tenders").await;
    let tender: i32 = tenders::table
        .select(tenders::id)
        .first(&mut pool.get().unwrap())
        .unwrap();
    let tender_page = format!("/consultations/{tender}");

    // 4. Both leads approve their share (a request came by e-mail to each).
    for lead in ["lead.ub@example.fr", "lead.chu@example.fr"] {
        if lead != "lead.ub@example.fr" {
            walk.sign_out().await;
            walk.sign_in(lead).await;
        }
        // Each lead makes their opening key on their account page first: the bids will be
        // encrypted until both enter their passphrases.
        walk.go("/compte").await;
        walk.browser
            .type_into("#passphrase", "ma phrase d'ouverture à moi")
            .await;
        walk.browser
            .type_into("#passphrase-confirmation", "ma phrase d'ouverture à moi")
            .await;
        walk.submit("form[action='/compte/cle-d-ouverture'] button")
            .await;
        walk.browser
            .wait_for(
                "return document.body.innerText.includes('Votre clé d\\'ouverture est créée')",
            )
            .await;
        walk.check(&format!("opening-key-{}", &lead[5..7])).await;
        walk.go(&tender_page).await;
        walk.check(&format!("approval-{}", &lead[5..7])).await;
        walk.submit("button[value=approve]").await;
        // (The page before the click may say « approuvée » already, for the other member: wait
        // for the page after it, where our share has no approval button any more.)
        walk.browser
            .wait_for(
                "return document.readyState === 'complete'
                   && document.querySelector('button[value=approve]') === null
                   && document.body.innerText.includes('approuvée')",
            )
            .await;
    }
    walk.sign_out().await;

    // 5. The coordinator adds the consultation file (the rules and a price schedule, each
    // with its nature), then publishes.
    walk.sign_in("lead.ub@example.fr").await;
    let file_dir = tempfile::tempdir().unwrap();
    for (name, kind) in [("reglement.pdf", "reglement"), ("bordereau.pdf", "prix")] {
        let path = file_dir.path().join(name);
        std::fs::write(&path, b"%PDF-1.7\n% piece du dossier\n%%EOF\n").unwrap();
        walk.go(&tender_page).await;
        walk.set("#kind", kind).await;
        walk.browser
            .type_into("#fichier", &path.display().to_string())
            .await;
        walk.submit("form[action$='/documents'] button").await;
        let shown = format!("return document.body.innerText.includes('{name}')");
        walk.browser.wait_for(&shown).await;
    }
    walk.go(&tender_page).await;
    let deadline = (chrono::Utc::now() + chrono::Duration::days(40))
        .format("%d/%m/%Y")
        .to_string();
    walk.set("#deadline", &deadline).await;
    walk.check("publication-form").await;
    walk.submit("form[action$='/publier/verifier'] button")
        .await;
    walk.browser
        .wait_for("return document.querySelector(\"form[action$='/publier'] button\") !== null")
        .await;
    assert!(walk
        .text()
        .await
        .contains(&format!("offres jusqu'au {deadline}")));
    // Above the EU thresholds: the confirmation says the EU notice will be written.
    assert!(walk
        .text()
        .await
        .contains("l'avis de marché européen (eForms) est produit"));
    walk.check("publication-confirmation").await;
    walk.submit("form[action$='/publier'] button").await;
    // (The confirmation says « publiée » too: wait for the tender's page.)
    walk.browser
        .wait_for(
            "return document.readyState === 'complete'
               && document.querySelector(\"form[action$='/publier']\") === null
               && document.body.innerText.includes('publiée')",
        )
        .await;
    // Its EU notice, to send through the eSender, then its TED number once it appears.
    assert!(walk.text().await.contains("Avis de marché (eForms 16)"));
    walk.submit("form[action$='/envoi'] button").await;
    walk.browser
        .wait_for("return document.querySelector(\"input[name='ted_number']\") !== null")
        .await;
    walk.check("eu-notice-sent").await;
    walk.browser
        .type_into("input[name='ted_number']", "123456-2027")
        .await;
    walk.submit("form[action$='/publication'] button").await;
    walk.browser
        .wait_for(
            "return document.body.innerText.includes('publié au JOUE sous le n° 00123456-2027')",
        )
        .await;
    walk.sign_out().await;

    // 6. The supplier's notice, over SMTP; its link leads to the notice; it bids.
    let mut notice = None;
    for _ in 0..200 {
        notice = server
            .messages()
            .into_iter()
            .find(|m| m.to == "offres@pansements.example.fr");
        if notice.is_some() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = crate::helpers::Mail::parse(notice.expect("the notice").data.as_bytes());
    let link = mail.link(&format!("{base}/appels-d-offres/"));
    walk.browser.go(&link).await;
    walk.check("notice").await;
    walk.sign_in("vente@pansements.example.fr").await;
    let reference = link.rsplit('/').next().unwrap().to_string();
    walk.go(&format!("/appels-d-offres/{reference}/offre"))
        .await;
    walk.check("bid-form").await;
    walk.browser.type_into("#prix-1", "180 000").await;
    walk.browser
        .type_into(
            "#memoire-1",
            "Compresses et pansements livrés chaque semaine.",
        )
        .await;
    walk.browser
        .type_into("#environnement-1", "Tournées électriques depuis Dijon.")
        .await;
    // The bid form keeps a draft in the browser: a reload (or an expired session) loses
    // nothing of what was typed.
    walk.go(&format!("/appels-d-offres/{reference}/offre"))
        .await;
    walk.browser
        .wait_for(
            "return document.querySelector('#prix-1').value === '180 000'
               && document.querySelector('#memoire-1').value.startsWith('Compresses')
               && document.body.innerText.includes('Brouillon restauré')",
        )
        .await;
    walk.submit("form[action$='/lots/1/offre'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Un accusé de réception')")
        .await;
    walk.check("bid-receipt").await;
    // The receipt signed by the platform, checked on the verification page.
    let receipt = walk
        .browser
        .async_script(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector(\"a[href^='/offres/accuses/']\").getAttribute('href'))
               .then(r => r.text()).then(done);",
        )
        .await;
    let receipt = receipt.as_str().unwrap_or_default().to_string();
    assert!(receipt.contains("\"signature\""), "{receipt}");
    walk.go("/accuses/verifier").await;
    walk.browser
        .script(&format!(
            "document.querySelector('#receipt').value = {}; return true;",
            serde_json::to_string(&receipt).unwrap()
        ))
        .await;
    walk.submit("form[action='/accuses/verifier'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Accusé authentique')")
        .await;
    walk.check("receipt-verified").await;
    // The simplified DUME, filled in on the bid page.
    walk.go(&format!("/appels-d-offres/{reference}/offre#dume"))
        .await;
    let last_year = (chrono::Utc::now().date_naive() - chrono::Duration::days(366))
        .format("%Y")
        .to_string();
    walk.browser.type_into("#dume-year", &last_year).await;
    walk.browser.type_into("#dume-turnover", "2 400 000").await;
    walk.browser.type_into("#dume-headcount", "18").await;
    walk.browser.click("#dume-sworn").await;
    walk.check("dume-form").await;
    walk.submit("form[action$='/dume'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('DUME enregistré le')")
        .await;
    // A backup copy declared on the bid page.
    walk.go(&format!("/appels-d-offres/{reference}/offre"))
        .await;
    walk.set("#medium", "papier").await;
    walk.submit("form[action$='/copie-de-sauvegarde'] button")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Copie de sauvegarde déclarée le')")
        .await;
    // A practice deposit, with a document, that counts nowhere.
    let practice = tempfile::tempdir().unwrap();
    let practice_file = practice.path().join("offre-essai.pdf");
    std::fs::write(&practice_file, b"%PDF-1.7\n% offre d'essai\n%%EOF\n").unwrap();
    walk.go("/entrainement").await;
    walk.check("practice").await;
    walk.browser.type_into("#prix", "1 000").await;
    walk.browser
        .type_into("#fichier", &practice_file.display().to_string())
        .await;
    walk.submit("form[action='/entrainement'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Dépôt d\\'entraînement réussi')")
        .await;
    walk.check("practice-done").await;
    // A question on the notice, answered by the coordinator's lead, read by everyone.
    walk.go(&format!("/appels-d-offres/{reference}")).await;
    walk.browser
        .type_into(
            "#question-text",
            "Les échantillons sont-ils à joindre à l'offre ?",
        )
        .await;
    walk.submit("form[action$='/questions'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Votre question est transmise')")
        .await;
    walk.check("question-sent").await;
    walk.sign_out().await;
    walk.sign_in("lead.ub@example.fr").await;
    walk.go(&tender_page).await;
    walk.browser
        .type_into(
            "textarea[name=answer]",
            "Non : seul l'attributaire pressenti les fournira.",
        )
        .await;
    walk.check("question-to-answer").await;
    walk.submit("form[action$='/reponse'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Réponse publiée le')")
        .await;
    walk.sign_out().await;
    walk.go(&format!("/appels-d-offres/{reference}")).await;
    walk.browser
        .wait_for("return document.body.innerText.includes('seul l\\'attributaire pressenti')")
        .await;
    walk.check("notice-answers").await;
    // The lead publishes a change (a rectificatif): the notice shows it.
    walk.sign_in("lead.ub@example.fr").await;
    walk.go(&tender_page).await;
    walk.browser
        .script("document.querySelector('#rectificatif').open = true; return true;")
        .await;
    walk.browser
        .type_into(
            "#change-summary",
            "Livraisons au quai B du site du Bocage, et non au quai A.",
        )
        .await;
    walk.check("change-form").await;
    walk.submit("form[action$='/rectificatif'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Changements publiés')")
        .await;
    // The company's backup copy arrives: the lead records it.
    walk.go(&format!("{tender_page}#copies")).await;
    walk.submit("form[action$='/reception'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Reçue le')")
        .await;
    walk.check("backup-received").await;
    walk.go(&format!("{tender_page}/journal")).await;
    walk.browser
        .wait_for("return document.body.innerText.includes('consultation modifiée (rectificatif)')")
        .await;
    walk.check("journal").await;
    walk.sign_out().await;
    walk.go(&format!("/appels-d-offres/{reference}")).await;
    walk.browser
        .wait_for("return document.body.innerText.includes('quai B du site du Bocage')")
        .await;
    walk.check("notice-changed").await;

    // 7. After the deadline (brought forward here) the lead opens, marks and awards.
    diesel::update(tenders::table.find(tender))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))
        .execute(&mut pool.get().unwrap())
        .unwrap();
    // A bid sent now is received as late: kept, never opened, said so at once.
    walk.sign_in("vente@pansements.example.fr").await;
    walk.go(&format!("/appels-d-offres/{reference}/offre"))
        .await;
    walk.browser.type_into("#prix-1", "150 000").await;
    walk.submit("form[action$='/lots/1/offre'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('après la date limite')")
        .await;
    walk.check("late-bid").await;
    walk.sign_out().await;
    walk.sign_in("lead.ub@example.fr").await;
    walk.go(&tender_page).await;
    walk.submit("a[href$='/ouverture']").await;
    walk.browser
        .wait_for("return document.querySelector(\"form[action$='/ouverture'] button\") !== null")
        .await;
    // The bids are encrypted: UB's lead starts the opening with their key; one key opens
    // nothing; CHU's lead enters theirs, and the bids open.
    walk.check("opening-start").await;
    walk.browser
        .type_into("#passphrase", "ma phrase d'ouverture à moi")
        .await;
    walk.submit("form[action$='/ouverture'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('entrée par lead.ub@example.fr')")
        .await;
    walk.check("opening-waiting").await;
    // CHU's lead, at their own desk (a second browser), enters theirs.
    {
        let mut desk = Walk {
            browser: Browser::start().await,
            base: walk.base.clone(),
            name: walk.name,
            step: 900,
        };
        desk.sign_in("lead.chu@example.fr").await;
        desk.go(&tender_page).await;
        desk.submit("a[href$='/ouverture']").await;
        desk.browser
            .wait_for("return document.querySelector('#passphrase') !== null")
            .await;
        desk.browser.type_into("#passphrase", "pas la bonne").await;
        desk.submit("form[action$='/ouverture'] button").await;
        desk.browser
            .wait_for("return document.body.innerText.includes('ce n\\'est pas la phrase secrète')")
            .await;
        desk.check("opening-wrong-passphrase").await;
        desk.browser
            .type_into("#passphrase", "ma phrase d'ouverture à moi")
            .await;
        desk.submit("form[action$='/ouverture'] button").await;
        desk.browser
            .wait_for("return document.body.innerText.includes('Offres ouvertes le')")
            .await;
    }
    walk.go(&format!("{tender_page}/offres")).await;
    walk.browser
        .wait_for("return document.querySelector('input[name^=quality-]') !== null")
        .await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Offres reçues hors délai')")
        .await;
    walk.check("comparison").await;
    walk.browser
        .script(
            "document.querySelectorAll('input[name^=quality-], input[name^=environment-]')
               .forEach(i => i.value = '80'); return true;",
        )
        .await;
    walk.submit("form[action$='/notes'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Approuver l')")
        .await;
    walk.check("outcome").await;
    walk.submit("a[href$='/attribution']").await;
    walk.browser
        .wait_for("return document.querySelector(\"form[action$='/attribution'] button\") !== null")
        .await;
    walk.check("award-confirmation").await;
    walk.submit("form[action$='/attribution'] button").await;
    walk.browser
        .wait_for("return document.body.innerText.includes('Nos marchés')")
        .await;
    walk.check("contracts").await;

    // 8. The public notice and the open data show the result.
    walk.sign_out().await;
    walk.go(&format!("/appels-d-offres/{reference}")).await;
    let text = walk.text().await;
    assert!(
        text.contains("Résultats") && text.contains("Pansements de Bourgogne"),
        "{text}"
    );
    walk.check("results").await;
    walk.go("/tableau-de-bord").await; // not for the public: the sign-in page
    walk.check("sign-in").await;
    let mut response = awc::Client::default()
        .get(format!("{base}/open-data/ocds.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.body().limit(10 << 20).await.unwrap();
    let ocds: Value = serde_json::from_slice(&body).unwrap();
    crate::award_journey::assert_ocds_valid(&ocds);
    assert_eq!(
        ocds["releases"][0]["awards"][0]["suppliers"][0]["name"],
        "Pansements de Bourgogne"
    );
    // One notice to the supplier, whichever instance published (the outbox sends a row once).
    let notices = server
        .messages()
        .into_iter()
        .filter(|m| m.to == "offres@pansements.example.fr" && m.data.contains("/appels-d-offres/"))
        .count();
    assert!(notices >= 1);
}
