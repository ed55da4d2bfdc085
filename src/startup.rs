//! Builds the application from its settings: binds the listener (port 0 in tests), wires the
//! shared state and the routes.

use crate::db::Pool;
use crate::mail;
use crate::web;
use crate::Settings;
use actix_web::dev::Server;
use actix_web::{web::Data, App, HttpServer};
use std::net::TcpListener;

/// Sign-in attempts allowed a minute for one account.
pub const SIGN_IN_ATTEMPTS_PER_MINUTE: u32 = crate::services::limits::SIGN_IN_BY_ACCOUNT.per_minute;
/// Password-reset requests allowed a minute per client address and per account.
pub const RESET_REQUESTS_PER_MINUTE: u32 = crate::services::limits::RESET_BY_ACCOUNT.per_minute;

/// `count` pooling workers on the server's event loop, each taking one job at a time
/// (`services::pooling::work_once`, on a blocking thread) and looking for one every `poll`
/// when there is none. Runs cut short by a stop are taken again by the next worker.
pub fn spawn_pooling_workers(pool: Pool, count: usize, poll: std::time::Duration) {
    for _ in 0..count {
        let pool = pool.clone();
        actix_web::rt::spawn(async move {
            let worker = crate::services::pooling::worker_name();
            loop {
                let (p, w) = (pool.clone(), worker.clone());
                let worked =
                    actix_web::web::block(move || crate::services::pooling::work_once(&p, &w))
                        .await;
                match worked {
                    Ok(Ok(true)) => continue,
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e.detailed(), "pooling worker"),
                    Err(e) => tracing::error!(error = %e, "pooling worker"),
                }
                actix_web::rt::time::sleep(poll).await;
            }
        });
    }
}

pub struct Application {
    port: u16,
    host: String,
    server: Server,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error("templates: {0}")]
    Templates(String),
    #[error("mail: {0}")]
    Mail(String),
}

/// Every 30 seconds: forgets rate-limit counts older than two minutes, closes the tenders whose deadline has passed (bids are refused from the
/// deadline itself whatever this says), and once a day from 07:00 Paris time writes the daily
/// digests (once per supplier and day, even across restarts).
fn spawn_closer(pool: Pool, base_url: String, programme_alerts: bool) {
    actix_web::rt::spawn(async move {
        let mut digested: Option<chrono::NaiveDate> = None;
        loop {
            let p = pool.clone();
            if let Ok(Err(e)) =
                actix_web::web::block(move || crate::services::limits::forget_old(&p)).await
            {
                tracing::error!(error = %e.detailed(), "forgetting old rate-limit counts failed");
            }
            let p = pool.clone();
            match actix_web::web::block(move || crate::services::bids::close_due(&p)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(tenders = n, "tenders closed at their deadline"),
                Ok(Err(e)) => tracing::error!(error = %e.detailed(), "closing tenders failed"),
                Err(e) => tracing::error!(error = %e, "closing tenders failed"),
            }
            let (paris_now, _) = crate::domain::to_paris(chrono::Utc::now().naive_utc());
            let today = paris_now.date();
            let due = paris_now.time()
                >= chrono::NaiveTime::from_hms_opt(crate::services::tenders::DIGEST_HOUR, 0, 0)
                    .unwrap_or_default();
            if due && digested != Some(today) {
                let (p, base) = (pool.clone(), base_url.clone());
                let outcome = actix_web::web::block(move || {
                    crate::services::tenders::enqueue_digests(&p, &base, today)
                })
                .await;
                match outcome {
                    Ok(Ok(n)) => {
                        digested = Some(today);
                        tracing::info!(digests = n, "daily digests written");
                        // With the digests, once a day: the planned purchases matching each
                        // supplier's interests, new since it was last told.
                        let (p, base) = (pool.clone(), base_url.clone());
                        let now = chrono::Utc::now().naive_utc();
                        match actix_web::web::block(move || match programme_alerts {
                            true => crate::services::programme::enqueue_alerts(&p, &base, now),
                            false => Ok(0),
                        })
                        .await
                        {
                            Ok(Ok(n)) => tracing::info!(mails = n, "planned purchases told"),
                            Ok(Err(e)) => {
                                tracing::error!(error = %e.detailed(), "planned purchases failed")
                            }
                            Err(e) => tracing::error!(error = %e, "planned purchases failed"),
                        }
                    }
                    Ok(Err(e)) => tracing::error!(error = %e.detailed(), "daily digests failed"),
                    Err(e) => tracing::error!(error = %e, "daily digests failed"),
                }
            }
            actix_web::rt::time::sleep(std::time::Duration::from_secs(30)).await;
        }
    });
}

impl Application {
    pub fn build(mut settings: Settings, pool: Pool) -> Result<Self, StartError> {
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        if !settings.base_url_configured {
            settings.base_url = format!("http://{address}");
        }
        let templates = Data::new(web::templates::registry().map_err(StartError::Templates)?);
        let pool = Data::new(pool);
        spawn_pooling_workers(
            pool.get_ref().clone(),
            settings.pooling_workers,
            std::time::Duration::from_secs(1),
        );
        let worker = mail::worker::Worker::new(&settings).map_err(StartError::Mail)?;
        mail::worker::spawn(worker, pool.get_ref().clone(), settings.mail_poll);
        spawn_closer(
            pool.get_ref().clone(),
            settings.base_url.clone(),
            settings.programme_alerts,
        );
        let https = settings.is_https();
        let settings = Data::new(settings);
        let route_patterns = Data::new(web::route::RoutePatterns::default());
        let need_lists = Data::new(crate::services::needs::ListCache::default());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(web::access::enforce))
                .wrap(actix_web::middleware::from_fn(web::body::idle_bodies))
                .wrap(web::page_errors())
                .wrap(web::security_headers(https))
                .wrap(tracing_actix_web::TracingLogger::<web::route::RequestSpan>::new())
                .wrap(actix_web::middleware::from_fn(
                    web::canonical::canonical_path,
                ))
                .app_data(pool.clone())
                .app_data(route_patterns.clone())
                .app_data(need_lists.clone())
                .app_data(templates.clone())
                .app_data(settings.clone())
                // A query string that does not parse (`?year=abc`) is a validation error that
                // names what is wrong, as any other bad input.
                .app_data(
                    actix_web::web::QueryConfig::default().error_handler(|error, _| {
                        crate::AppError::validation("query", error.to_string()).into()
                    }),
                )
                .configure(web::routes)
        })
        .listen(listener)
        .map_err(|source| StartError::Bind {
            bind: address.to_string(),
            source,
        })?
        .run();
        Ok(Application {
            port: address.port(),
            host: address.ip().to_string(),
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// The server future, to spawn in tests.
    pub fn into_server(self) -> Server {
        self.server
    }
}
