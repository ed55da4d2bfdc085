//! The route pattern of a request (`/appels-d-offres/{reference}`), which the log's request
//! span and the access check both need. Actix finds it by trying the routes' regular
//! expressions one after the other; done for the span, for the check and by actix's own routing,
//! that was a tenth of a public page's processor time. A path's pattern never changes while the
//! application runs, so [`RoutePatterns`] keeps it once found.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::web::Data;
use actix_web::{Error, HttpMessage};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// The patterns of the paths met so far, at most [`RoutePatterns::CAPACITY`] paths of at most
/// [`RoutePatterns::LONGEST`] bytes (all forgotten when full, so that paths made up by a client
/// cannot grow it); a path of no route is not kept.
#[derive(Debug, Default)]
pub struct RoutePatterns(RwLock<HashMap<String, Arc<str>>>);

impl RoutePatterns {
    pub const CAPACITY: usize = 4096;
    pub const LONGEST: usize = 256;

    fn get(&self, path: &str) -> Option<Arc<str>> {
        self.0.read().ok()?.get(path).cloned()
    }

    fn put(&self, path: &str, pattern: Arc<str>) {
        if path.len() > Self::LONGEST {
            return;
        }
        if let Ok(mut paths) = self.0.write() {
            if paths.len() >= Self::CAPACITY {
                paths.clear();
            }
            paths.insert(path.to_string(), pattern);
        }
    }

    /// How many paths are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.read().map(|paths| paths.len()).unwrap_or_default()
    }
}

/// The route pattern of the request as actix matches it, `None` for a path of no route (kept
/// in the application's [`RoutePatterns`] when it has one).
pub fn pattern_of(req: &ServiceRequest) -> Option<Arc<str>> {
    let known = req.app_data::<Data<RoutePatterns>>();
    let path = req.path();
    if let Some(pattern) = known.and_then(|k| k.get(path)) {
        return Some(pattern);
    }
    let pattern: Arc<str> = req.match_pattern()?.into();
    if let Some(known) = known {
        known.put(path, pattern.clone());
    }
    Some(pattern)
}

/// The log's span of a request: method, route pattern, path and query, client address, request
/// id; the status and any error are recorded at the end. Fields are computed only when the log
/// keeps the span (`GROUPEMENT_LOG` at `info` or finer).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %pattern_of(request).as_deref().unwrap_or("default"),
            http.target = %request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request
                .extensions()
                .get::<RequestId>()
                .map(ToString::to_string)
                .unwrap_or_default(),
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::middleware::{from_fn, Next};
    use actix_web::{test, web, App, HttpResponse};

    /// Answers with the pattern [`pattern_of`] found in the `x-pattern` header.
    async fn show_pattern(
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, Error> {
        let pattern = pattern_of(&req);
        let mut response = next.call(req).await?;
        let value = HeaderValue::from_str(pattern.as_deref().unwrap_or("none"))?;
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-pattern"), value);
        Ok(response)
    }

    #[actix_web::test]
    async fn a_path_pattern_is_found_once_then_kept_within_bounds() {
        let patterns = Data::new(RoutePatterns::default());
        let app = test::init_service(
            App::new()
                .wrap(from_fn(show_pattern))
                .app_data(patterns.clone())
                .route("/appels-d-offres", web::get().to(HttpResponse::Ok))
                .route(
                    "/appels-d-offres/{reference}",
                    web::get().to(HttpResponse::Ok),
                ),
        )
        .await;
        let pattern_at = |path: String| {
            let app = &app;
            async move {
                let request = test::TestRequest::get().uri(&path).to_request();
                let response = test::call_service(app, request).await;
                let header = response.headers().get("x-pattern").cloned();
                header.map(|v| v.to_str().unwrap_or_default().to_string())
            }
        };
        let dynamic = "/appels-d-offres/{reference}";
        assert_eq!(
            pattern_at("/appels-d-offres/GRP-1".into()).await.as_deref(),
            Some(dynamic)
        );
        assert_eq!(patterns.len(), 1);
        assert_eq!(
            pattern_at("/appels-d-offres/GRP-1".into()).await.as_deref(),
            Some(dynamic)
        );
        assert_eq!(patterns.len(), 1, "the same path is kept once");
        assert_eq!(
            pattern_at("/nulle-part".into()).await.as_deref(),
            Some("none")
        );
        assert_eq!(patterns.len(), 1, "a path of no route is not kept");
        let long = format!("/appels-d-offres/{}", "X".repeat(RoutePatterns::LONGEST));
        assert_eq!(pattern_at(long).await.as_deref(), Some(dynamic));
        assert_eq!(patterns.len(), 1, "a long path is matched, not kept");
        assert_eq!(
            pattern_at("/appels-d-offres".into()).await.as_deref(),
            Some("/appels-d-offres")
        );
        assert_eq!(patterns.len(), 2);

        // A kept path is answered from what was kept, without matching again.
        patterns.put("/appels-d-offres/GRP-2", "/kept".into());
        assert_eq!(
            pattern_at("/appels-d-offres/GRP-2".into()).await.as_deref(),
            Some("/kept")
        );

        // Full, it starts afresh.
        for n in patterns.len()..RoutePatterns::CAPACITY {
            patterns.put(&format!("/appels-d-offres/{n}"), dynamic.into());
        }
        assert_eq!(patterns.len(), RoutePatterns::CAPACITY);
        assert_eq!(
            pattern_at("/appels-d-offres/GRP-3".into()).await.as_deref(),
            Some(dynamic)
        );
        assert_eq!(patterns.len(), 1);
    }
}
