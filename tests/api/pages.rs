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
