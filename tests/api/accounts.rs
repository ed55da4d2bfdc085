//! Accounts through their single-use e-mail links: supplier self-registration and address
//! verification, password reset, invitations; the account page (API tokens, signing out
//! everywhere); text typed by people always comes back escaped.

use crate::both_backends;
use crate::helpers::{
    anonymous_csrf, get_with, path_of, post_form, session_of, sign_in, wait_for_mails, TestApp,
};
use diesel::prelude::*;
use groupement::db::models::{NewOrganisation, NewUser};
use groupement::db::schema::{audit_log, auth_links, organisations, suppliers, users};
use groupement::domain::hash_password;

/// A real SIRET of the shared data (Dijon Métropole's), Luhn-valid.
const SIRET: &str = "24210041000123";
const PASSWORD: &str = "une phrase de passe";

fn suppliers_stored(app: &TestApp) -> i64 {
    suppliers::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

fn audited(app: &TestApp, action: &str) -> i64 {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap()
}

fn add_user(app: &TestApp, email: &str, role: &str, password: &str) {
    let mut conn = app.pool.get().unwrap();
    let organisation = match role {
        "admin" => None,
        _ => Some(
            diesel::insert_into(organisations::table)
                .values(NewOrganisation {
                    code: "GDH",
                    name: "Grand Dijon Habitat",
                    siret: None,
                    kind: "social_housing",
                    buyer_class: "sub_central",
                })
                .returning(organisations::id)
                .get_result::<i32>(&mut conn)
                .unwrap(),
        ),
    };
    diesel::insert_into(users::table)
        .values(NewUser {
            email,
            password_hash: &hash_password(password).unwrap(),
            display_name: "Dominique Admin",
            role,
            organisation_id: organisation,
            supplier_id: None,
            email_verified_at: None,
        })
        .execute(&mut conn)
        .unwrap();
}

async fn register(app: &TestApp, fields: &[(&str, &str)]) -> crate::helpers::Answer {
    let (cookie, csrf) = anonymous_csrf(app).await;
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    post_form(app, "/inscription", &cookie, None, &form).await
}

fn registration<'a>(siret: &'a str, company: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("siret", siret),
        ("company", company),
        ("postcode", "21000"),
        ("commune", ""),
        ("contact_name", "Alex Fournier"),
        ("email", email),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
        ("sme", "on"),
    ]
}

both_backends!(
    a_supplier_registers_by_siret_and_confirms_its_address,
    |app| {
        let page = get_with(&app, "/inscription", "").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("name=\"siret\""));

        // Every bad field at once, nothing stored.
        let bad = register(
            &app,
            &[
                ("siret", "24210041000124"),
                ("company", ""),
                ("postcode", "2100"),
                ("contact_name", "Alex"),
                ("email", "pas-une-adresse"),
                ("password", "court"),
                ("password_confirmation", "court"),
            ],
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        for expected in [
            "SIRET : le SIRET 24210041000124 est invalide",
            "Raison sociale :",
            "Code postal de l&#x27;établissement :",
            "Adresse e-mail : « pas-une-adresse »",
            "au moins 12 caractères",
        ] {
            assert!(
                bad.body.contains(expected),
                "{expected} missing: {}",
                bad.body
            );
        }
        assert!(bad.body.contains("value=\"Alex\""), "typed values are kept");
        assert_eq!(suppliers_stored(&app), 0);

        let done = register(
            &app,
            &registration(SIRET, "Menuiserie Dijonnaise", "Alex@Example.fr"),
        )
        .await;
        assert_eq!(done.status, 201, "{}", done.body);
        let mut conn = app.pool.get().unwrap();
        let (commune, department, sme): (String, String, bool) = suppliers::table
            .filter(suppliers::siret.eq(SIRET))
            .select((
                suppliers::commune,
                suppliers::department_code,
                suppliers::sme,
            ))
            .first(&mut conn)
            .unwrap();
        assert_eq!(
            (commune.as_str(), department.as_str(), sme),
            ("DIJON", "21", true)
        );
        drop(conn);

        // The same establishment again: refused, with who has it.
        let again = register(&app, &registration(SIRET, "Autre nom", "autre@example.fr")).await;
        assert_eq!(again.status, 409);
        assert!(
            again.body.contains("déjà inscrit (Menuiserie Dijonnaise)"),
            "{}",
            again.body
        );
        assert_eq!(suppliers_stored(&app), 1);

        // The verification e-mail, with its single-use link.
        let mails = wait_for_mails(&app, 1).await;
        assert_eq!(mails[0].to, "alex@example.fr");
        assert!(mails[0].subject.contains("confirmez votre adresse"));
        assert!(mails[0].html.contains("Confirmer mon adresse e-mail"));
        let link = path_of(
            &app,
            &mails[0].link(&format!("{}/verification?jeton=", app.address)),
        );
        let session = session_of(&app, "alex@example.fr", PASSWORD).await;
        let before = get_with(&app, "/compte", &session.cookie()).await;
        assert!(before.body.contains("pas encore confirmée"));
        assert!(before.body.contains(SIRET) && before.body.contains("Menuiserie Dijonnaise"));
        let verified = get_with(&app, &link, "").await;
        assert_eq!(verified.status, 200, "{}", verified.body);
        assert!(get_with(&app, "/compte", &session.cookie())
            .await
            .body
            .contains("(confirmée)"));
        let reused = get_with(&app, &link, "").await;
        assert_eq!(reused.status, 400);
        assert!(reused.body.contains("ce lien a déjà servi"));
        assert_eq!(audited(&app, "supplier.registered"), 1);
        assert_eq!(audited(&app, "auth.email_verified"), 1);
    }
);

both_backends!(a_forgotten_password_is_reset_once_by_link, |app| {
    add_user(&app, "lead.gdh@example.fr", "lead", "l'ancien mot de passe");
    let old_session = session_of(&app, "lead.gdh@example.fr", "l'ancien mot de passe").await;

    let ask = |email: &'static str| {
        let app = &app;
        async move {
            let (cookie, csrf) = anonymous_csrf(app).await;
            post_form(
                app,
                "/mot-de-passe-oublie",
                &cookie,
                None,
                &[("csrf_token", &csrf), ("email", email)],
            )
            .await
        }
    };
    // The same answer whether or not the account exists; a mail only to the real one.
    let unknown = ask("personne@example.fr").await;
    let known = ask("Lead.GDH@example.fr").await;
    assert_eq!((unknown.status, known.status), (200, 200));
    let message = "Si un compte existe pour cette adresse";
    assert!(unknown.body.contains(message) && known.body.contains(message));
    let mails = wait_for_mails(&app, 1).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        crate::helpers::outbox(&app).len(),
        1,
        "no mail for an unknown address"
    );
    assert_eq!(mails[0].to, "lead.gdh@example.fr");
    let link = path_of(
        &app,
        &mails[0].link(&format!("{}/mot-de-passe/nouveau?jeton=", app.address)),
    );
    let token = link.split("jeton=").nth(1).unwrap().to_string();

    let form = get_with(&app, &link, "").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("lead.gdh@example.fr"));
    let (cookie, csrf) = anonymous_csrf(&app).await;
    let set = |password: &'static str, confirmation: &'static str| {
        let (app, cookie, csrf, token) = (&app, cookie.clone(), csrf.clone(), token.clone());
        async move {
            post_form(
                app,
                "/mot-de-passe/nouveau",
                &cookie,
                None,
                &[
                    ("csrf_token", csrf.as_str()),
                    ("jeton", token.as_str()),
                    ("password", password),
                    ("password_confirmation", confirmation),
                ],
            )
            .await
        }
    };
    // A typo in the confirmation: said, and the link still works.
    let typo = set("le nouveau mot de passe", "le nouveau mot de pase").await;
    assert_eq!(typo.status, 422);
    assert!(typo.body.contains("les deux mots de passe diffèrent"));
    let done = set("le nouveau mot de passe", "le nouveau mot de passe").await;
    assert_eq!(done.status, 200, "{}", done.body);

    // Every session ended; the new password works, the old one no longer.
    assert!(
        get_with(&app, "/compte", &old_session.cookie())
            .await
            .status
            == 403
    );
    assert_eq!(
        sign_in(&app, "lead.gdh@example.fr", "l'ancien mot de passe")
            .await
            .status,
        401
    );
    session_of(&app, "lead.gdh@example.fr", "le nouveau mot de passe").await;

    // Used once: a second use changes nothing and says why.
    let reused = set("un troisième mot de passe", "un troisième mot de passe").await;
    assert_eq!(reused.status, 400);
    assert!(reused.body.contains("ce lien a déjà servi"));
    assert_eq!(
        sign_in(&app, "lead.gdh@example.fr", "un troisième mot de passe")
            .await
            .status,
        401
    );

    // An expired link: clear message, nothing changed.
    ask("lead.gdh@example.fr").await;
    let mails = wait_for_mails(&app, 2).await;
    let link = path_of(
        &app,
        &mails[1].link(&format!("{}/mot-de-passe/nouveau?jeton=", app.address)),
    );
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    diesel::update(auth_links::table.filter(auth_links::used_at.is_null()))
        .set(auth_links::expires_at.eq(past))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let expired = get_with(&app, &link, "").await;
    assert_eq!(expired.status, 400);
    assert!(expired.body.contains("ce lien a expiré"));
    assert_eq!(audited(&app, "auth.password_reset"), 1);
});

both_backends!(password_reset_requests_are_rate_limited, |app| {
    let limit = groupement::startup::RESET_REQUESTS_PER_MINUTE as usize;
    let (cookie, csrf) = anonymous_csrf(&app).await;
    for _ in 0..limit {
        let answer = post_form(
            &app,
            "/mot-de-passe-oublie",
            &cookie,
            None,
            &[("csrf_token", &csrf), ("email", "quelqu.un@example.fr")],
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    let refused = post_form(
        &app,
        "/mot-de-passe-oublie",
        &cookie,
        None,
        &[("csrf_token", &csrf), ("email", "autre@example.fr")],
    )
    .await;
    assert_eq!(refused.status, 429);
    assert!(refused.body.contains("Trop de demandes"));
});

both_backends!(
    api_tokens_are_created_used_and_revoked_by_their_owner,
    |app| {
        add_user(&app, "buyer.gdh@example.fr", "buyer", PASSWORD);
        let session = session_of(&app, "buyer.gdh@example.fr", PASSWORD).await;
        let created = post_form(
            &app,
            "/compte/jetons",
            &session.cookie(),
            None,
            &[
                ("csrf_token", &session.csrf),
                ("name", "Logiciel financier"),
            ],
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let token = created
            .body
            .split("<code id=\"nouveau-jeton\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap()
            .to_string();
        assert!(token.starts_with("gpt_") && token.len() == 68);
        let me = |bearer: Option<String>| {
            let app = &app;
            async move {
                let mut request = app.client.get(format!("{}/api/v1/me", app.address));
                if let Some(bearer) = bearer {
                    request = request.insert_header(("Authorization", format!("Bearer {bearer}")));
                }
                let mut response = request.send().await.unwrap();
                let body: serde_json::Value = response.json().await.unwrap();
                (response.status().as_u16(), body)
            }
        };
        let (status, body) = me(Some(token.clone())).await;
        assert_eq!(status, 200);
        assert_eq!(body["role"], "buyer");
        assert_eq!(body["organisation"], "GDH");
        let (status, body) = me(None).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "unauthorized");
        // A browser's session cookie does not act on the API.
        let with_cookie = get_with(&app, "/api/v1/me", &session.cookie()).await;
        assert_eq!(with_cookie.status, 401);
        assert!(with_cookie.content_type.starts_with("application/json"));

        // The token is stored hashed: its text is nowhere in the database.
        let stored: Vec<String> = groupement::db::schema::api_tokens::table
            .select(groupement::db::schema::api_tokens::token_hash)
            .load(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(stored.iter().all(|h| !h.contains(&token[4..])));

        let page = get_with(&app, "/compte", &session.cookie()).await;
        assert!(page.body.contains("Logiciel financier") && !page.body.contains(&token));
        let id: i32 = groupement::db::schema::api_tokens::table
            .select(groupement::db::schema::api_tokens::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let revoked = post_form(
            &app,
            &format!("/compte/jetons/{id}/revoquer"),
            &session.cookie(),
            None,
            &[("csrf_token", &session.csrf)],
        )
        .await;
        assert_eq!(revoked.status, 303);
        assert_eq!(me(Some(token)).await.0, 401);
        assert_eq!(audited(&app, "api_token.created"), 1);
        assert_eq!(audited(&app, "api_token.revoked"), 1);
    }
);

both_backends!(signing_out_everywhere_ends_every_session, |app| {
    add_user(&app, "buyer.gdh@example.fr", "buyer", PASSWORD);
    let laptop = session_of(&app, "buyer.gdh@example.fr", PASSWORD).await;
    let phone = session_of(&app, "buyer.gdh@example.fr", PASSWORD).await;
    assert!(get_with(&app, "/compte", &phone.cookie())
        .await
        .body
        .contains("2 session(s)"));
    // A forged form (wrong token) does nothing.
    let forged = post_form(
        &app,
        "/compte/sessions/fermer",
        &laptop.cookie(),
        None,
        &[("csrf_token", &"0".repeat(64))],
    )
    .await;
    assert_eq!(forged.status, 403);
    let done = post_form(
        &app,
        "/compte/sessions/fermer",
        &laptop.cookie(),
        None,
        &[("csrf_token", &laptop.csrf)],
    )
    .await;
    assert_eq!((done.status, done.location.as_str()), (303, "/connexion"));
    for session in [&laptop, &phone] {
        assert_eq!(
            get_with(&app, "/compte", &session.cookie()).await.status,
            403
        );
    }
    assert_eq!(audited(&app, "auth.sign_out_everywhere"), 1);
});

both_backends!(
    an_admin_manages_organisations_users_and_reads_the_audit_log,
    |app| {
        add_user(&app, "admin@example.fr", "admin", PASSWORD);
        let admin = session_of(&app, "admin@example.fr", PASSWORD).await;
        let post = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
            let (app, admin) = (&app, admin.clone());
            async move {
                let mut form = vec![("csrf_token", admin.csrf.as_str())];
                form.extend(fields);
                post_form(app, path, &admin.cookie(), None, &form).await
            }
        };
        let bad = post(
            "/admin/organisations",
            vec![
                ("code", "C H U"),
                ("name", ""),
                ("siret", "123"),
                ("kind", "hospital"),
                ("buyer_class", "sub_central"),
            ],
        )
        .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Code : de 2 à 12") && bad.body.contains("Nom : de 1 à 200"));
        assert!(bad.body.contains("SIRET : « 123 »"));
        let made = post(
            "/admin/organisations",
            vec![
                ("code", "chu"),
                ("name", "CHU Dijon Bourgogne"),
                ("siret", ""),
                ("kind", "hospital"),
                ("buyer_class", "sub_central"),
            ],
        )
        .await;
        assert_eq!(made.status, 303, "{}", made.body);
        let duplicate = post(
            "/admin/organisations",
            vec![
                ("code", "CHU"),
                ("name", "Autre"),
                ("siret", ""),
                ("kind", "hospital"),
                ("buyer_class", "sub_central"),
            ],
        )
        .await;
        assert_eq!(duplicate.status, 409);
        assert!(
            duplicate
                .body
                .contains("l&#x27;organisation CHU existe déjà"),
            "{}",
            duplicate.body
        );

        // An invitation: the account exists but cannot sign in until its link is used.
        let invited = post(
            "/admin/invitations",
            vec![
                ("email", "Acheteur.CHU@example.fr"),
                ("display_name", "Sacha Acheteur"),
                ("role", "buyer"),
                ("organisation", "chu"),
            ],
        )
        .await;
        assert_eq!(invited.status, 201, "{}", invited.body);
        let mails = wait_for_mails(&app, 1).await;
        assert_eq!(mails[0].to, "acheteur.chu@example.fr");
        assert!(
            mails[0].text.contains("compte acheteur (CHU)"),
            "{}",
            mails[0].text
        );
        let link = path_of(
            &app,
            &mails[0].link(&format!("{}/invitation?jeton=", app.address)),
        );
        let token = link.split("jeton=").nth(1).unwrap().to_string();
        let (cookie, csrf) = anonymous_csrf(&app).await;
        let accepted = post_form(
            &app,
            "/invitation",
            &cookie,
            None,
            &[
                ("csrf_token", &csrf),
                ("jeton", &token),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
        assert_eq!(accepted.status, 200, "{}", accepted.body);
        let buyer = session_of(&app, "acheteur.chu@example.fr", PASSWORD).await;
        assert!(get_with(&app, "/compte", &buyer.cookie())
            .await
            .body
            .contains("CHU Dijon Bourgogne"));

        // Promoted to lead: audited with before and after, and the old session ends.
        let mut conn = app.pool.get().unwrap();
        let id: i32 = users::table
            .filter(users::email.eq("acheteur.chu@example.fr"))
            .select(users::id)
            .first(&mut conn)
            .unwrap();
        drop(conn);
        let path: &'static str = Box::leak(format!("/admin/utilisateurs/{id}").into_boxed_str());
        let changed = post(
            path,
            vec![("role", "lead"), ("organisation", "CHU"), ("active", "on")],
        )
        .await;
        assert_eq!(changed.status, 303, "{}", changed.body);
        assert_eq!(get_with(&app, "/compte", &buyer.cookie()).await.status, 403);
        let (before, after): (Option<String>, Option<String>) = audit_log::table
            .filter(audit_log::action.eq("admin.user_changed"))
            .select((audit_log::before_summary, audit_log::after_summary))
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert!(before.unwrap().starts_with("role=buyer"));
        assert!(after.unwrap().starts_with("role=lead"));
        // The last admin stays an admin.
        let admin_id: i32 = users::table
            .filter(users::email.eq("admin@example.fr"))
            .select(users::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let path: &'static str =
            Box::leak(format!("/admin/utilisateurs/{admin_id}").into_boxed_str());
        let demoted = post(path, vec![("role", "admin"), ("organisation", "")]).await;
        assert_eq!(demoted.status, 409);
        assert!(demoted.body.contains("dernier administrateur actif"));

        // The log, filtered.
        let log = get_with(
            &app,
            "/admin/journal?action=admin.&actor=admin%40",
            &admin.cookie(),
        )
        .await;
        assert_eq!(log.status, 200);
        for action in [
            "admin.organisation_created",
            "admin.user_invited",
            "admin.user_changed",
        ] {
            assert!(log.body.contains(action), "{action} missing");
        }
        assert!(
            !log.body.contains("auth.sign_in"),
            "filtered on the action prefix"
        );
        assert!(log.body.contains("3 entrée(s)"), "{}", log.body);
        // Each action said in French beside its code; times in Paris time.
        for said in [
            "organisation ajoutée",
            "personne invitée",
            "compte modifié",
            "(heure de Paris)",
        ] {
            assert!(log.body.contains(said), "{said} missing");
        }
        // The accounts list is searched by words of the name, address or attachment.
        let found = get_with(&app, "/admin/utilisateurs?q=ADMIN%40", &admin.cookie()).await;
        assert_eq!(found.status, 200);
        assert!(
            found.body.contains("1 compte(s) trouvé(s) — page 1 sur 1"),
            "{}",
            found.body
        );
        let none = get_with(
            &app,
            "/admin/utilisateurs?q=personne+inconnue",
            &admin.cookie(),
        )
        .await;
        assert!(none.body.contains("0 compte(s) trouvé(s)"));
        let bad_date = get_with(&app, "/admin/journal?from=hier", &admin.cookie()).await;
        assert_eq!(bad_date.status, 422);
        assert!(
            bad_date.body.contains("href=\"#f-from\"")
                && bad_date.body.contains("id=\"f-from-erreur\"")
                && !bad_date.body.contains("from :"),
            "{}",
            bad_date.body
        );
    }
);

both_backends!(text_typed_by_people_comes_back_escaped, |app| {
    add_user(&app, "admin@example.fr", "admin", PASSWORD);
    let attack = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    let done = register(&app, &registration(SIRET, attack, "xss@example.fr")).await;
    assert_eq!(done.status, 201, "{}", done.body);
    // The contact name too, through a second, refused registration that shows the form again.
    let mut fields = registration("24210041000124", attack, "xss2@example.fr");
    fields[4] = ("contact_name", attack);
    let again = register(&app, &fields).await;
    let supplier = session_of(&app, "xss@example.fr", PASSWORD).await;
    let admin = session_of(&app, "admin@example.fr", PASSWORD).await;
    let pages = [
        again.body,
        get_with(&app, "/compte", &supplier.cookie()).await.body,
        get_with(&app, "/admin/utilisateurs", &admin.cookie())
            .await
            .body,
        get_with(&app, "/admin/journal", &admin.cookie()).await.body,
        get_with(&app, "/connexion?email=%3Cscript%3E", "")
            .await
            .body,
    ];
    for (i, page) in pages.iter().enumerate() {
        assert!(
            !page.contains("<script>alert"),
            "page {i} lets a script through"
        );
        assert!(!page.contains("<img src=x"), "page {i} lets markup through");
    }
    assert!(pages[1].contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"));
    assert!(
        pages[3].contains("&lt;script&gt;"),
        "the audit log shows it escaped"
    );
});

both_backends!(
    people_who_choose_english_get_their_mails_in_english,
    |app| {
        // Registered in English: the verification mail, and the company's notices, in English.
        let mut fields = registration(SIRET, "Dijon Joinery", "alex@example.fr");
        fields.push(("locale", "en"));
        let done = register(&app, &fields).await;
        assert_eq!(done.status, 201, "{}", done.body);
        let locale: String = suppliers::table
            .filter(suppliers::siret.eq(SIRET))
            .select(suppliers::locale)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(locale, "en");
        let mails = wait_for_mails(&app, 1).await;
        assert_eq!(mails[0].subject, "Groupement: confirm your e-mail address");
        assert!(mails[0].text.starts_with("Hello Alex Fournier,"));
        assert!(mails[0].html.contains("lang=\"en\""));

        // A language that does not exist is refused with the field named.
        let session = session_of(&app, "alex@example.fr", PASSWORD).await;
        let set = |code: &'static str| {
            let (app, session) = (&app, session.clone());
            async move {
                post_form(
                    app,
                    "/compte/langue",
                    &session.cookie(),
                    None,
                    &[("csrf_token", session.csrf.as_str()), ("locale", code)],
                )
                .await
            }
        };
        let refused = set("de").await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.body.contains("Langue de vos courriels : « de »"),
            "{}",
            refused.body
        );

        // Back to French on the account page: the next link comes in French.
        assert_eq!(set("fr").await.status, 303);
        let account = get_with(&app, "/compte", &session.cookie()).await;
        assert!(!account.body.contains("value=\"en\" lang=\"en\" selected"));
        let (cookie, csrf) = anonymous_csrf(&app).await;
        post_form(
            &app,
            "/mot-de-passe-oublie",
            &cookie,
            None,
            &[("csrf_token", &csrf), ("email", "alex@example.fr")],
        )
        .await;
        let mails = wait_for_mails(&app, 2).await;
        let reset = mails
            .iter()
            .find(|m| m.subject.contains("mot de passe"))
            .unwrap();
        assert!(reset.text.starts_with("Bonjour Alex Fournier,"));
    }
);
