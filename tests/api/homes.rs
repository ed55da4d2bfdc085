//! Each person's home (`/accueil`): what waits for them first. (The lead's approvals and
//! proposals, a company's bids and results are walked in `pooling_journey` and
//! `award_journey`.)

use crate::bids::{user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, session_of, sign_in};
use diesel::prelude::*;
use groupement::db::models::NewNotification;
use groupement::db::schema::notifications;

both_backends!(a_buyer_and_the_admin_find_what_waits_for_them, |app| {
    // A buyer with a draft: the home says to complete and submit it.
    let (ub, _) = crate::life_cycle::ub_lead(&app);
    user(&app, "buyer.ub@example.fr", "buyer", Some(ub), None);
    crate::access::ub_need(&mut app.pool.get().unwrap(), "draft");
    let buyer = session_of(&app, "buyer.ub@example.fr", PASSWORD).await;
    let home = get_with(&app, "/accueil", &buyer.cookie()).await;
    assert_eq!(home.status, 200);
    assert!(
        home.body
            .contains("1 besoin(s) en brouillon à compléter et soumettre"),
        "{}",
        home.body
    );
    assert!(home.body.contains("1 besoin(s) au statut « brouillon »"));

    // The admin: a mail that failed and a refused sign-in.
    user(&app, "admin@example.fr", "admin", None, None);
    diesel::insert_into(notifications::table)
        .values(NewNotification {
            recipient: "perdu@example.fr",
            template: "password_reset",
            data: "{}",
            idempotency_key: "home-test",
            next_attempt_at: None,
        })
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    diesel::update(notifications::table)
        .set((
            notifications::status.eq("failed"),
            notifications::last_error.eq(Some("550 boîte inconnue")),
        ))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let refused = sign_in(&app, "buyer.ub@example.fr", "pas le bon mot de passe").await;
    assert_eq!(refused.status, 401);
    let admin = session_of(&app, "admin@example.fr", PASSWORD).await;
    let home = get_with(&app, "/accueil", &admin.cookie()).await;
    for expected in [
        "1 courriel(s) en échec à examiner ou renvoyer",
        "perdu@example.fr — lien de nouveau mot de passe",
        "550 boîte inconnue",
        "Connexions refusées ces 7 derniers jours",
        "buyer.ub@example.fr",
    ] {
        assert!(home.body.contains(expected), "{expected}: {}", home.body);
    }
    // Nobody signed out has a home.
    assert_ne!(get_with(&app, "/accueil", "").await.status, 200);
});
