use crate::both_backends;

both_backends!(
    home_page_explains_the_platform_and_lists_nothing_yet,
    |app| {
        let (status, content_type, body) = app.get("/").await;
        assert_eq!(status, 200);
        assert!(content_type.starts_with("text/html"));
        assert!(body.contains("<html lang=\"fr\">"));
        assert!(body.contains("Acheter ensemble"));
        assert!(body.contains("Aucune consultation n'est ouverte"));
        assert!(body.contains("/static/style.css"));
    }
);

both_backends!(unknown_page_is_a_french_404_that_leaks_nothing, |app| {
    let (status, content_type, body) = app.get("/nulle-part/../etc/passwd").await;
    assert_eq!(status, 404);
    assert!(content_type.starts_with("text/html"));
    assert!(body.contains("Page introuvable"));
    assert!(!body.to_lowercase().contains("actix"));
    assert!(!body.contains("passwd"));
});

both_backends!(static_assets_are_served_from_the_binary, |app| {
    let (status, content_type, body) = app.get("/static/style.css").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/css"));
    assert!(body.contains("--brand"));
    let (status, _, _) = app.get("/static/absent.js").await;
    assert_eq!(status, 404);
});

both_backends!(server_error_page_says_nothing_of_the_cause, |app| {
    use diesel::connection::SimpleConnection;
    // Break the database under the running server: the home page's query now fails.
    app.pool
        .get()
        .unwrap()
        .batch_execute("ALTER TABLE tenders RENAME TO tenders_elsewhere")
        .unwrap();
    let (status, content_type, body) = app.get("/").await;
    assert_eq!(status, 500);
    assert!(content_type.starts_with("text/html"));
    assert!(body.contains("Erreur du serveur"));
    for secret in ["tenders", "SQL", "diesel", "no such table", "relation"] {
        assert!(!body.contains(secret), "the page leaks «{secret}»: {body}");
    }
    let (status, _, body) = app.get("/healthz").await;
    assert_eq!(status, 200, "the database itself still answers: {body}");
});

both_backends!(every_response_carries_the_security_headers, |app| {
    for path in ["/", "/nowhere", "/healthz", "/static/style.css"] {
        let response = app
            .client
            .get(format!("{}{}", app.address, path))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert!(
            header("strict-transport-security").is_empty(),
            "no HSTS over plain http"
        );
    }
});
