//! The sign-in and reset limits once kept a key per attempt in memory, the raw e-mail field
//! (up to the form's 16 KB), and never forgot one: 15 KB e-mails in a loop grew the process
//! without bound while every answer was 429. They are now counts in the database, by hashed
//! key and minute, forgotten two minutes later, the same for every instance.

use crate::both_backends;
use crate::helpers::{anonymous_csrf, post_form, TestDatabase};
use diesel::prelude::*;
use groupement::db::schema::rate_limits;
use groupement::services::limits::{self, SIGN_IN_BY_ACCOUNT, SIGN_IN_BY_ADDRESS};

both_backends!(huge_and_many_e_mails_keep_the_limits_small, |app| {
    let (cookie, csrf) = anonymous_csrf(&app).await;
    let huge = format!("{}@example.fr", "x".repeat(15_000));
    let mut statuses = Vec::new();
    for i in 0..60 {
        let email = match i % 2 {
            0 => huge.clone(),
            _ => format!("someone{i}@example.fr"),
        };
        let answer = post_form(
            &app,
            "/connexion",
            &cookie,
            None,
            &[
                ("csrf_token", csrf.as_str()),
                ("email", email.as_str()),
                ("password", "guess"),
            ],
        )
        .await;
        statuses.push(answer.status);
        assert!(
            !answer.body.contains(&"x".repeat(300)),
            "the e-mail is cut when shown"
        );
    }
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429));
    // The 15 KB keys were refused before anything was counted; at most 30 attempts from the
    // address got to their account's count; each key is a 64-character hash.
    let kept: Vec<(String, String, i32)> = rate_limits::table
        .select((
            rate_limits::bucket,
            rate_limits::key_hash,
            rate_limits::hits,
        ))
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(kept.len() <= 2 + 30 + 1, "{} counts kept", kept.len());
    assert!(kept.iter().all(|(_, key, _)| key.len() == 64));
    // (The attempts may straddle two minutes: the address's counts are added up.)
    let address_hits: i32 = kept
        .iter()
        .filter(|(bucket, _, _)| bucket == "sign_in.address")
        .map(|(_, _, hits)| hits)
        .sum();
    assert_eq!(
        address_hits, 30,
        "only the attempts with a plausible e-mail were counted"
    );
});

both_backends!(old_counts_are_forgotten, |app| {
    let mut conn = app.pool.get().unwrap();
    diesel::insert_into(rate_limits::table)
        .values((
            rate_limits::bucket.eq("sign_in.address"),
            rate_limits::key_hash.eq("0".repeat(64)),
            rate_limits::window_start.eq(chrono::Utc::now().timestamp() - 600),
            rate_limits::hits.eq(30),
        ))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    assert!(limits::allow(&app.pool, &[(SIGN_IN_BY_ADDRESS, "10.1.1.1")]).unwrap());
    assert_eq!(limits::kept(&app.pool).unwrap(), 2);
    assert_eq!(limits::forget_old(&app.pool).unwrap(), 1);
    assert_eq!(limits::kept(&app.pool).unwrap(), 1);
});

/// Two instances (two pools on one database) share each limit.
#[test]
fn the_limits_hold_across_instances() {
    for backend in [
        crate::helpers::TestBackend::Sqlite,
        crate::helpers::TestBackend::Postgres,
    ] {
        let Some(database) = TestDatabase::create(backend) else {
            continue;
        };
        let url = groupement::db::DatabaseUrl::parse(&database.url).unwrap();
        let first = groupement::db::open(&url).unwrap();
        groupement::db::migrate(&mut first.get().unwrap()).unwrap();
        let second = groupement::db::open(&url).unwrap();
        let account = [(SIGN_IN_BY_ACCOUNT, "lead@example.fr")];
        for i in 0..SIGN_IN_BY_ACCOUNT.per_minute {
            let instance = if i % 2 == 0 { &first } else { &second };
            assert!(limits::allow(instance, &account).unwrap(), "{backend:?}");
        }
        // The sixth attempt is refused by either instance.
        let refused = !limits::allow(&second, &account).unwrap();
        assert!(refused, "{backend:?}");
    }
}
