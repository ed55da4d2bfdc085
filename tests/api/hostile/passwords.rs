//! `/mot-de-passe/nouveau`, `/invitation` and `/inscription` hashed the password (argon2id,
//! ~19 MiB and ~50 ms each) before checking the link or the SIRET, with no rate limit: 64
//! clients pinned both cores. Now the cheap checks come first, these forms are rate-limited by
//! address, and hashes run a bounded number at once (`work::password_hashes`).

use crate::both_backends;
use crate::helpers::{anonymous_csrf, post_form};
use groupement::domain::hashes_on_this_thread;
use groupement::services::accounts::{self, Purpose, Registration};

fn registration(siret: &str, email: &str) -> Registration {
    Registration {
        siret: siret.into(),
        company: "Menuiserie Test".into(),
        postcode: "21000".into(),
        contact_name: "Alex Fournier".into(),
        email: email.into(),
        password: "un mot de passe assez long".into(),
        password_confirmation: "un mot de passe assez long".into(),
        ..Registration::default()
    }
}

both_backends!(links_and_sirets_are_checked_before_any_hash, |app| {
    let pool = app.pool.clone();
    let base = app.address.clone();
    actix_web::web::block(move || {
        let before = hashes_on_this_thread();
        for purpose in [Purpose::PasswordReset, Purpose::Invitation] {
            let refused = accounts::set_password_by_link(
                &pool,
                purpose,
                &"0".repeat(64),
                "un mot de passe assez long",
                "un mot de passe assez long",
            );
            assert!(refused.is_err());
        }
        assert_eq!(hashes_on_this_thread(), before, "a bad link costs no hash");
        accounts::register_supplier(
            &pool,
            &base,
            &registration("24210041000123", "a@example.fr"),
        )
        .unwrap();
        assert_eq!(hashes_on_this_thread(), before + 1);
        let taken = accounts::register_supplier(
            &pool,
            &base,
            &registration("24210041000123", "b@example.fr"),
        );
        assert!(taken.unwrap_err().to_string().contains("déjà inscrit"));
        let taken = accounts::register_supplier(
            &pool,
            &base,
            &registration("73282932000074", "a@example.fr"),
        );
        assert!(taken
            .unwrap_err()
            .to_string()
            .contains("un compte existe déjà"));
        assert_eq!(
            hashes_on_this_thread(),
            before + 1,
            "a taken SIRET or address costs no hash"
        );
    })
    .await
    .unwrap();
});

both_backends!(the_password_forms_are_rate_limited_by_address, |app| {
    let (cookie, csrf) = anonymous_csrf(&app).await;
    let mut statuses = Vec::new();
    for path in ["/mot-de-passe/nouveau", "/invitation"] {
        for _ in 0..8 {
            let answer = post_form(
                &app,
                path,
                &cookie,
                None,
                &[
                    ("csrf_token", csrf.as_str()),
                    ("jeton", "bad"),
                    ("password", "un mot de passe assez long"),
                    ("password_confirmation", "un mot de passe assez long"),
                ],
            )
            .await;
            statuses.push(answer.status);
        }
    }
    let limit = groupement::services::limits::PASSWORD_FORMS_BY_ADDRESS.per_minute as usize;
    assert!(statuses[..limit].iter().all(|&s| s == 400), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|&s| s == 429), "{statuses:?}");
});
