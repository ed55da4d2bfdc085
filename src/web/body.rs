//! Request bodies that stop coming are dropped: a client that opens a body and then sends
//! nothing for `GROUPEMENT_IDLE_BODY_SECONDS` (30 s) gets its request failed, so that slow senders cannot
//! hold the server's memory and connections for ever. (Headers have actix's own limit.)

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep, Instant, Sleep};
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The middleware: the request's body, read through [`Idle`].
pub async fn idle_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // A request without a body (most GETs) has nothing to watch.
    let headers = req.headers();
    let has_body = headers.contains_key(actix_web::http::header::TRANSFER_ENCODING)
        || headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    if !has_body {
        return next.call(req).await;
    }
    let limit = req
        .app_data::<actix_web::web::Data<crate::Settings>>()
        .map_or(std::time::Duration::from_secs(30), |s| s.idle_body);
    let payload = req.take_payload();
    req.set_payload(Payload::from(Box::pin(Idle::new(payload, limit))
        as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>));
    next.call(req).await
}

/// A body stream that fails once nothing came for `limit`.
pub struct Idle<S> {
    inner: S,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
}

impl<S> Idle<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        Idle {
            inner,
            limit,
            timer: Box::pin(sleep(limit)),
        }
    }
}

impl<S> Stream for Idle<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                let deadline = Instant::now() + this.limit;
                this.timer.as_mut().reset(deadline);
                Poll::Ready(item)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "l'envoi s'est interrompu (rien reçu pendant {} s) : recommencez",
                        this.limit.as_secs()
                    ),
                ))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
