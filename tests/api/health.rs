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
/// request under load), so each may fail one request and is then closed; a connection idle for
/// longer is checked at checkout and replaced, so no request sees it.
#[actix_web::test]
async fn connections_lost_by_postgres_are_replaced() {
    use crate::helpers::{spawn_app, TestBackend};
    let Some(app) = spawn_app(TestBackend::Postgres).await else {
        return;
    };
    assert_eq!(app.get("/healthz").await.0, 200);

    let ended = terminate_backends(app.database_url());
    assert!(ended >= 1, "the server holds a connection");
    let mut failed = 0;
    for _ in 0..ended + 3 {
        if app.get("/healthz").await.0 != 200 {
            failed += 1;
        }
    }
    assert!(
        failed <= ended,
        "{failed} failures for {ended} lost connections"
    );
    for _ in 0..5 {
        assert_eq!(
            app.get("/healthz").await.0,
            200,
            "a lost connection was kept"
        );
    }

    actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
    let ended = terminate_backends(app.database_url());
    assert!(ended >= 1, "the server holds a connection");
    for _ in 0..5 {
        let (status, _, body) = app.get("/healthz").await;
        assert_eq!(
            status, 200,
            "an idle lost connection was handed out: {body}"
        );
    }
}
