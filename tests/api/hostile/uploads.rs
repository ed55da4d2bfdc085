//! Files from outside: the 1.5 KB workbook that declared the whole grid took the portal down
//! through `/besoins/import`; bodies that stop coming held the server for ever.

use crate::both_backends;
use crate::helpers::{get_with, session_of, spawn_app_with, upload_file, TestBackend};
use diesel::prelude::*;
use std::io::{Read, Write};

fn bomb() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "need_id").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    book.save_to_buffer().unwrap()
}

both_backends!(the_workbook_bomb_is_refused_by_the_portal, |app| {
    crate::access::add_people(&app);
    let buyer = session_of(&app, "buyer@example.fr", crate::access::PASSWORD).await;
    let answer = upload_file(&app, &buyer, "/besoins/import", "bombe.xlsx", &bomb()).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("the sheet declares 1048576 rows and 16384 columns"),
        "{}",
        answer.body
    );
    assert_eq!(
        get_with(&app, "/", "").await.status,
        200,
        "the portal still serves"
    );
});

#[actix_web::test]
async fn a_body_that_stops_coming_is_dropped() {
    let app = spawn_app_with(
        TestBackend::Sqlite,
        &[("GROUPEMENT_IDLE_BODY_SECONDS", "1".into())],
    )
    .await
    .unwrap();
    let address = app.address.trim_start_matches("http://").to_string();
    let outcome = actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "POST /connexion HTTP/1.1\r\nHost: {address}\r\nOrigin: http://{address}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=a"
        )
        .unwrap();
        let mut answer = Vec::new();
        // The server answers (or closes) by itself; a read timing out means it still waits.
        match stream.read_to_end(&mut answer) {
            Ok(_) => Ok(String::from_utf8_lossy(&answer).into_owned()),
            Err(e) if !answer.is_empty() && e.kind() == std::io::ErrorKind::WouldBlock => {
                Ok(String::from_utf8_lossy(&answer).into_owned())
            }
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .unwrap();
    let answer = outcome.expect("the server still waited for the body after 20 s");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

both_backends!(documents_sent_at_once_never_pass_the_bids_limit, |app| {
    use crate::bids::{published, supplier, user};
    use groupement::services::bids;
    let (reference, ..) = published(&app);
    let company = supplier(&app, "24210041000123", "Alpha");
    let alpha = user(&app, "alpha@example.fr", "supplier", None, Some(company));
    let form = bids::BidForm {
        price_eur: "15 000".into(),
        ..Default::default()
    };
    bids::submit(&app.pool, &alpha, &reference, 1, &form).unwrap();
    let session = session_of(&app, "alpha@example.fr", "mot de passe des offres").await;
    let path = format!("/appels-d-offres/{reference}/lots/1/documents");
    let sent = (0..16).map(|i| {
        let (app, session, path) = (&app, session.clone(), path.clone());
        async move {
            let body = format!("%PDF-1.7 document {i}");
            upload_file(
                app,
                &session,
                &path,
                &format!("piece-{i}.pdf"),
                body.as_bytes(),
            )
            .await
            .status
        }
    });
    let statuses = futures_util::future::join_all(sent).await;
    let stored: i64 = groupement::db::schema::bid_documents::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(stored, bids::MAX_DOCUMENTS_PER_BID as i64, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|&&s| s == 303).count(),
        10,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 303 || s == 409),
        "{statuses:?}"
    );
});
