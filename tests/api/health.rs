use crate::both_backends;

both_backends!(healthz_reports_the_backend, |app| {
    let (status, content_type, body) = app.get("/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("application/json"));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    let expected = match app.pool.get().unwrap().backend() {
        groupement::db::Backend::Sqlite => "sqlite",
        groupement::db::Backend::Postgres => "postgresql",
    };
    assert_eq!(json["database"], expected);
});

/// Ends every PostgreSQL backend serving `database` (as a restart of the server would) and
/// waits until they are gone; returns how many there were.
fn terminate_backends(database_url: &str) -> i64 {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Ended {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let admin = crate::helpers::postgres_admin_url().expect("PostgreSQL URL");
    let name = url::Url::parse(database_url).expect("URL").path()[1..].to_string();
    let mut conn = diesel::PgConnection::establish(&admin).expect("connect as admin");
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) AS count \
         FROM pg_stat_activity WHERE datname = $1",
    )
    .bind::<Text, _>(name)
    .get_result::<Ended>(&mut conn)
    .expect("terminate backends")
    .count
}

/// PostgreSQL restarted under the server: its pooled connections are dead. A connection whose
/// last query succeeded a moment ago is handed out without a check (no `SELECT 1` before every
/// request under load), so the first request to use one fails; that loss is counted for the
/// pool, and every other connection is checked before its next use, so no second request fails.
/// A connection idle for longer is checked at checkout and replaced.
#[actix_web::test]
async fn connections_lost_by_postgres_are_replaced() {
    use crate::helpers::{spawn_app_with, TestBackend};
    // The mail worker polls once at start-up and then sleeps: only these requests use the pool
    // (a worker's query a moment before the loss would leave a connection handed out unchecked).
    let quiet = [("GROUPEMENT_MAIL_POLL_MS", "600000".to_string())];
    let Some(app) = spawn_app_with(TestBackend::Postgres, &quiet).await else {
        return;
    };
    // Several connections in the pool, all used a moment ago.
    let requests: Vec<_> = (0..6).map(|_| app.get("/healthz")).collect();
    for (status, _, body) in futures_util::future::join_all(requests).await {
        assert_eq!(status, 200, "{body}");
    }

    let ended = terminate_backends(app.database_url());
    assert!(ended >= 2, "the server holds several connections: {ended}");
    let mut failed = 0;
    for _ in 0..ended + 3 {
        if app.get("/healthz").await.0 != 200 {
            failed += 1;
        }
    }
    assert!(
        failed <= 1,
        "{failed} failures for {ended} lost connections: one loss should have them all checked"
    );

    // After a second idle the connections are checked at checkout and replaced. (One used by a
    // background task a moment before, on a loaded machine, may still fail one request.)
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
    let ended = terminate_backends(app.database_url());
    assert!(ended >= 1, "the server holds a connection");
    let mut failed = 0;
    for _ in 0..5 {
        if app.get("/healthz").await.0 != 200 {
            failed += 1;
        }
    }
    assert!(failed <= 1, "{failed} failures after an idle second");
    for _ in 0..5 {
        let (status, _, body) = app.get("/healthz").await;
        assert_eq!(status, 200, "a lost connection was kept: {body}");
    }
}
