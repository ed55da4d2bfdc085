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
