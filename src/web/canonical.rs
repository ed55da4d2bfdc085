//! One spelling per path. The router decodes percent-escapes before matching
//! (`/%61pi/v1/me` reaches `/api/v1/me`), while `HttpRequest::path()` — which the access check
//! and the choice between cookie and token read — is the path as sent. So before anything
//! else, the request's path is rewritten to the one spelling every later step reads: escapes of
//! unreserved characters decoded (RFC 3986 §6.2.2.2: they mean the same), other escapes in
//! upper case, runs of slashes made one. After this no spelling can reach a route under
//! another route's rules.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::Error;

/// The middleware (the outermost: the log, the access check and the handlers all see the
/// canonical path). A path that cannot be rewritten is refused (400).
pub async fn canonical_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(path) = canonical(req.path()) {
        let uri = rewritten(req.uri(), &path)
            .map_err(|_| actix_web::error::ErrorBadRequest("malformed path"))?;
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
    next.call(req).await
}

fn rewritten(uri: &Uri, path: &str) -> Result<Uri, Box<dyn std::error::Error>> {
    let mut parts = uri.clone().into_parts();
    let with_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    parts.path_and_query = Some(with_query.parse()?);
    Ok(Uri::from_parts(parts)?)
}

/// The canonical spelling of `path`, or `None` when it already is.
pub fn canonical(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    if !bytes.contains(&b'%') && !path.contains("//") {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match bytes[i] {
            b'%' if escape.is_some() => {
                let byte = escape.unwrap_or_default();
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    out.push(char::from(byte));
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
                i += 3;
            }
            b'/' if out.ends_with('/') => i += 1,
            other => {
                out.push(char::from(other));
                i += 1;
            }
        }
    }
    (out != path).then_some(out)
}

fn hex(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn every_spelling_has_one_canonical_form() {
        assert_eq!(canonical("/api/v1/me"), None);
        assert_eq!(canonical("/%61pi/v1/me").as_deref(), Some("/api/v1/me"));
        assert_eq!(canonical("/%41PI/v1/me").as_deref(), Some("/API/v1/me"));
        assert_eq!(canonical("//api//v1///me").as_deref(), Some("/api/v1/me"));
        assert_eq!(canonical("/a%2fb%c3%a9").as_deref(), Some("/a%2Fb%C3%A9"));
        assert_eq!(canonical("/a%2Fb%C3%A9"), None);
        assert_eq!(canonical("/100%").as_deref(), None);
        assert_eq!(canonical("/%zz%4").as_deref(), None);
        assert_eq!(canonical("/%2e%2E/x").as_deref(), Some("/../x"));
    }
}
