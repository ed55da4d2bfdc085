use crate::both_backends;
use diesel::prelude::*;
use groupement::db::schema::{
    awards, bids, lot_needs, lots, needs, organisations, pooling_runs, suppliers, tenders, users,
};
use groupement::domain::{verify_password, Siret};

both_backends!(demo_seeds_every_stage_once_from_real_data, |app| {
    let pool = app.pool.clone();
    let summary = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let first = groupement::demo::seed_if_empty(&mut conn).unwrap();
        let second = groupement::demo::seed_if_empty(&mut conn).unwrap();
        assert!(second.is_none(), "the demo is seeded once");
        first.unwrap()
    })
    .await
    .unwrap();
    assert!(summary.suppliers > 50, "{summary}");
    assert!(summary.needs > 150, "{summary}");

    let mut conn = app.pool.get().unwrap();
    let codes: Vec<String> = organisations::table
        .select(organisations::code)
        .order(organisations::code)
        .load(&mut conn)
        .unwrap();
    assert_eq!(codes, ["CHU", "DM", "GDH", "UB"]);
    let statuses: Vec<String> = tenders::table
        .select(tenders::status)
        .order(tenders::reference)
        .load(&mut conn)
        .unwrap();
    for stage in ["approving", "published", "closed", "awarded"] {
        assert!(
            statuses.iter().any(|s| s == stage),
            "no {stage} tender: {statuses:?}"
        );
    }
    // Each tender's needs are where its life cycle puts them (the demo walks it through the
    // portal's own moves): a need of an awarded tender is never left `submitted`, to be pooled
    // again by the next run.
    let need_statuses: Vec<(String, String)> = groupement::db::schema::needs::table
        .inner_join(
            groupement::db::schema::lot_needs::table
                .inner_join(groupement::db::schema::lots::table.inner_join(tenders::table)),
        )
        .select((tenders::status, groupement::db::schema::needs::status))
        .distinct()
        .load(&mut conn)
        .unwrap();
    for (tender, need) in &need_statuses {
        let expected: &[&str] = match tender.as_str() {
            "approving" => &["pooled"],
            "published" | "closed" => &["tendered"],
            "awarded" => &["awarded", "unsuccessful"],
            other => panic!("a demo tender {other}"),
        };
        assert!(expected.contains(&need.as_str()), "{need_statuses:?}");
    }

    // The tenders are the pooling engine's: each points at the stored run, whose plan lists
    // every need of its lots.
    let runs: Vec<(i32, Option<String>)> = pooling_runs::table
        .select((pooling_runs::id, pooling_runs::plan))
        .load(&mut conn)
        .unwrap();
    assert_eq!(runs.len(), 1);
    let plan: serde_json::Value = serde_json::from_str(runs[0].1.as_deref().unwrap()).unwrap();
    // The stored run reads back as the portal reads it (its page once answered 500: the demo
    // stored the parameters in another shape).
    let lead_id: i32 = users::table
        .filter(users::email.eq("lead.dm@demo.groupement.fr"))
        .select(users::id)
        .first(&mut conn)
        .unwrap();
    let session = groupement::services::auth::sign_in(
        &app.pool,
        "lead.dm@demo.groupement.fr",
        groupement::demo::DEMO_PASSWORD,
        None,
    )
    .unwrap();
    let lead = groupement::services::auth::viewer(&app.pool, &session)
        .unwrap()
        .unwrap();
    assert_eq!(lead.user_id, lead_id);
    let run = groupement::services::pooling::run(&app.pool, &lead, runs[0].0).unwrap();
    assert!(run.plan.is_some());
    let unlinked: i64 = tenders::table
        .filter(tenders::pooling_run_id.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(unlinked, 0);
    let linked_needs: Vec<i32> = lot_needs::table
        .select(lot_needs::need_id)
        .load(&mut conn)
        .unwrap();
    let planned: Vec<String> = plan["tenders"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["lots"].as_array().unwrap().iter())
        .flat_map(|l| l["need_ids"].as_array().unwrap().iter())
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    assert!(!linked_needs.is_empty());
    assert!(linked_needs
        .iter()
        .all(|id| planned.contains(&id.to_string())));

    // Accounts follow the documented pattern and share the published password.
    let (hash, role): (String, String) = users::table
        .filter(users::email.eq("lead.chu@demo.groupement.fr"))
        .select((users::password_hash, users::role))
        .first(&mut conn)
        .unwrap();
    assert_eq!(role, "lead");
    assert_eq!(
        verify_password(groupement::demo::DEMO_PASSWORD, &hash),
        Ok(true)
    );
    assert!(
        users::table
            .filter(users::email.eq("admin@demo.groupement.fr"))
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap()
            == 1
    );

    // Suppliers are real companies: valid SIRET, located in a real commune, provenance stated.
    let rows: Vec<(String, String, Option<String>)> = suppliers::table
        .select((suppliers::siret, suppliers::postcode, suppliers::provenance))
        .load(&mut conn)
        .unwrap();
    for (siret, postcode, provenance) in &rows {
        assert!(Siret::parse(siret).is_ok(), "{siret}");
        assert_eq!(postcode.len(), 5);
        assert!(provenance.as_deref().unwrap_or_default().contains("DECP"));
    }
    let territorial = rows.iter().filter(|(_, p, _)| p.starts_with("21")).count();
    assert!(territorial >= 5, "{territorial} suppliers in Côte-d'Or");
    let underived: i64 = needs::table
        .filter(needs::provenance.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(underived, 0);

    // Bids exist only where the deadline has passed.
    let bid_statuses: Vec<String> = bids::table
        .inner_join(lots::table.inner_join(tenders::table))
        .select(tenders::status)
        .distinct()
        .load(&mut conn)
        .unwrap();
    let mut bid_statuses = bid_statuses;
    bid_statuses.sort();
    assert_eq!(bid_statuses, ["awarded", "closed"]);

    // The awarded tender went through the award engine: one award a lot, winners among its bids.
    let awarded: Vec<(String, Option<i32>, i32)> = awards::table
        .select((awards::status, awards::winning_bid_id, awards::lot_id))
        .load(&mut conn)
        .unwrap();
    assert!(!awarded.is_empty());
    for (status, winner, lot) in &awarded {
        if status == "awarded" {
            let on_lot: i32 = bids::table
                .find(winner.unwrap())
                .select(bids::lot_id)
                .first(&mut conn)
                .unwrap();
            assert_eq!(on_lot, *lot);
        }
    }
    drop(conn);

    let (status, _, body) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("GRP-2027-001"),
        "the published tender is listed"
    );
    assert!(
        !body.contains("GRP-2027-002"),
        "a tender being approved is not public"
    );
    for (member, source) in groupement::demo::sources() {
        assert!(
            body.contains(&format!("<strong>{member}</strong> — {source}")),
            "the home page says where {member}'s demo needs come from ({source})"
        );
    }

    // The demo's open data validates: every published tender, the awarded one's contracts.
    let (status, _, body) = app.get("/open-data/ocds.json").await;
    assert_eq!(status, 200);
    let ocds: serde_json::Value = serde_json::from_str(&body).unwrap();
    crate::award_journey::assert_ocds_valid(&ocds);
    assert_eq!(
        ocds["releases"].as_array().unwrap().len(),
        3,
        "published, closed, awarded"
    );
    let (_, _, body) = app.get("/open-data/decp.json").await;
    let decp: serde_json::Value = serde_json::from_str(&body).unwrap();
    crate::award_journey::assert_decp_valid(&decp);
    // The open-data page counts with the documents' own conditions (a buyer without a SIRET
    // is left out of DECP: the demo has one).
    let counted = groupement::services::open_data::counts(&mut app.pool.get().unwrap()).unwrap();
    assert_eq!(
        counted,
        (
            ocds["releases"].as_array().unwrap().len() as i64,
            decp["marches"]["marche"].as_array().unwrap().len() as i64
        )
    );
});
