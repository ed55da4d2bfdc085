//! Each `POST /mutualisation` once started an OS thread holding a pooled connection for the
//! whole run: four runs exhausted SQLite's pool and every page failed. Runs are now durable
//! jobs in the database, claimed by a bounded number of workers that hold no connection while
//! the engine works; a second run of a year in progress is refused; a run whose worker stopped
//! is taken again, not marked failed.

use crate::access::{add_people, ub_need_in, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, session_of};
use diesel::prelude::*;
use groupement::db::schema::{pooling_jobs, pooling_runs};
use groupement::services::{auth, pooling};

fn lead(app: &crate::helpers::TestApp) -> groupement::web::nav::Viewer {
    let token = auth::sign_in(&app.pool, "lead@example.fr", PASSWORD, None).unwrap();
    auth::viewer(&app.pool, &token).unwrap().unwrap()
}

fn status_of(app: &crate::helpers::TestApp, run: i32) -> String {
    pooling_runs::table
        .find(run)
        .select(pooling_runs::status)
        .first(&mut app.pool.get().unwrap())
        .unwrap()
}

/// As if a worker had claimed the run `attempts` times and then died (a restart, a crash): the
/// lease passed, nobody renews it.
fn stopped_worker(pool: &groupement::db::Pool, run: i32, attempts: i32) {
    diesel::update(pooling_jobs::table.find(run))
        .set((
            pooling_jobs::state.eq("claimed"),
            pooling_jobs::claimed_by.eq("stopped-worker"),
            pooling_jobs::attempts.eq(attempts),
            pooling_jobs::lease_until
                .eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(5)),
        ))
        .execute(&mut pool.get().unwrap())
        .unwrap();
}

/// Waits (up to a minute) for the run to end.
async fn until_done(app: &crate::helpers::TestApp, run: i32) {
    for _ in 0..600 {
        if status_of(app, run) != "running" {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

both_backends!(runs_queue_as_jobs_and_the_portal_stays_up, |app| {
    add_people(&app);
    let mut conn = app.pool.get().unwrap();
    for year in 2027..2031 {
        for _ in 0..3 {
            ub_need_in(&mut conn, "submitted", year);
        }
    }
    drop(conn);
    let pool = app.pool.clone();
    let (runs, refused) = actix_web::web::block(move || {
        let token = auth::sign_in(&pool, "lead@example.fr", PASSWORD, None).unwrap();
        let lead = auth::viewer(&pool, &token).unwrap().unwrap();
        let runs: Vec<i32> = (2027..2031)
            .map(|year| pooling::start(&pool, &lead, &pooling::RunForm::defaults(year)).unwrap())
            .collect();
        let again = pooling::start(&pool, &lead, &pooling::RunForm::defaults(2027));
        (runs, again.unwrap_err().to_string())
    })
    .await
    .unwrap();
    assert!(
        refused.contains(&format!(
            "n° {} de 2027 est déjà en attente ou en cours",
            runs[0]
        )),
        "{refused}"
    );
    // Pages answer while the runs queue and compute (one worker in the portal).
    let session = session_of(&app, "lead@example.fr", PASSWORD).await;
    for _ in 0..10 {
        assert_eq!(
            get_with(&app, "/mutualisation", &session.cookie())
                .await
                .status,
            200
        );
        assert_eq!(get_with(&app, "/", "").await.status, 200);
    }
    // Every run ends proposed, its job gone.
    for _ in 0..600 {
        if runs.iter().all(|&r| status_of(&app, r) != "running") {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for &run in &runs {
        assert_eq!(status_of(&app, run), "proposed", "run {run}");
    }
    let jobs: i64 = pooling_jobs::table
        .count()
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(jobs, 0);
    // The year is free again.
    let pool = app.pool.clone();
    let lead = lead(&app);
    let again = actix_web::web::block(move || {
        pooling::start(&pool, &lead, &pooling::RunForm::defaults(2027))
    })
    .await
    .unwrap();
    assert!(again.is_ok());
});

both_backends!(a_run_whose_worker_stopped_is_taken_again, |app| {
    add_people(&app);
    let mut conn = app.pool.get().unwrap();
    ub_need_in(&mut conn, "submitted", 2027);
    drop(conn);
    let lead = lead(&app);
    let pool = app.pool.clone();
    let run = actix_web::web::block(move || {
        // As if a worker had claimed the run and then died (a restart, a crash): the lease
        // passed, nobody renews it.
        let run = pooling::start(&pool, &lead, &pooling::RunForm::defaults(2027)).unwrap();
        stopped_worker(&pool, run, 1);
        run
    })
    .await
    .unwrap();
    // The portal's own worker takes it up.
    until_done(&app, run).await;
    assert_eq!(status_of(&app, run), "proposed");
});

both_backends!(a_run_that_keeps_stopping_its_workers_is_given_up, |app| {
    add_people(&app);
    let mut conn = app.pool.get().unwrap();
    ub_need_in(&mut conn, "submitted", 2027);
    drop(conn);
    let lead = lead(&app);
    let pool = app.pool.clone();
    let run = actix_web::web::block(move || {
        let run = pooling::start(&pool, &lead, &pooling::RunForm::defaults(2027)).unwrap();
        stopped_worker(&pool, run, pooling::MOST_ATTEMPTS);
        run
    })
    .await
    .unwrap();
    until_done(&app, run).await;
    assert_eq!(status_of(&app, run), "failed");
    let error: Option<String> = pooling_runs::table
        .find(run)
        .select(pooling_runs::error)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert!(error.unwrap().contains("tentatives interrompues"));
});
