//! Files sent by forms (`multipart/form-data`): the anti-forgery token and one file, field
//! `fichier`, refused past a size limit said on the page before upload.

use crate::error::AppError;
use actix_multipart::Multipart;

pub struct Upload {
    /// The form's anti-forgery token (checked by the caller).
    pub token: String,
    /// The file's name as the browser sent it, without any folder.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Reads the form; a file larger than `max_bytes` is refused as soon as it passes the limit.
pub async fn read(mut form: Multipart, max_bytes: usize) -> Result<Upload, AppError> {
    use futures_util::StreamExt as _;
    let mut upload = Upload {
        token: String::new(),
        file_name: String::new(),
        bytes: Vec::new(),
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::validation("fichier", e.to_string()))?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f).to_string())
            .unwrap_or_default();
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::validation("fichier", e.to_string()))?;
            if data.len() + chunk.len() > max_bytes {
                return Err(AppError::validation(
                    "fichier",
                    format!("le fichier dépasse {} Mo", max_bytes >> 20),
                ));
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => upload.token = String::from_utf8_lossy(&data).into_owned(),
            "fichier" => {
                upload.bytes = data;
                upload.file_name = file_name;
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// A signed-in person's upload: the origin checked first, then the file read (a file over
/// `max_bytes` is a validation error, said on the page), then the form's anti-forgery token.
pub async fn read_posted(
    req: &actix_web::HttpRequest,
    form: Multipart,
    settings: &crate::Settings,
    viewer: &crate::web::nav::Viewer,
    max_bytes: usize,
) -> Result<Upload, AppError> {
    super::auth::check_origin(req, settings)?;
    let upload = read(form, max_bytes).await?;
    super::auth::check_csrf(req, Some(viewer), &upload.token)?;
    Ok(upload)
}

/// A stored document sent back as an attachment, its name reduced to ASCII for the header.
pub fn download(name: &str, content_type: &str, bytes: Vec<u8>) -> actix_web::HttpResponse {
    let ascii: String = name
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || ".-_".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    actix_web::HttpResponse::Ok()
        .content_type(content_type.to_string())
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}
