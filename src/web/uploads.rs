//! Files sent by forms (`multipart/form-data`): the anti-forgery token and one file, field
//! `fichier`, refused past a size limit said on the page before upload.
//!
//! A file is never held whole in memory while it arrives: it is written to an anonymous
//! temporary file (deleted by the system when closed, whatever happens), its size checked and its
//! SHA-256 computed as it comes, so 64 companies sending 20 MB each at the deadline cost disk,
//! not memory. What reaches the disk is encrypted (age, to a key made for this upload and held
//! in memory only): a bid's document is never written in clear, not even there. A body that sends nothing for a while is dropped (`web::body`). Storing it (read
//! whole into the database) is bounded separately (`work::uploads_stored`).

use crate::error::AppError;
use actix_multipart::Multipart;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};

/// The most a form field other than the file may hold (a change's description: 4,000
/// characters, up to 4 bytes each).
const FIELD_BYTES: usize = 16 * 1024;

/// Places for uploads being received or waiting to be stored: each holds a temporary file of
/// up to 20 MB, so their number bounds the disk they take. Past it an upload is refused at once
/// (503, `Retry-After`), before its body is read.
pub struct Slots {
    used: std::sync::atomic::AtomicUsize,
    limit: usize,
}

impl Slots {
    pub const fn new(limit: usize) -> Slots {
        Slots {
            used: std::sync::atomic::AtomicUsize::new(0),
            limit,
        }
    }

    /// The instance's places: `GROUPEMENT_UPLOADS_RECEIVING` (default 64).
    fn global() -> &'static Slots {
        static SLOTS: std::sync::OnceLock<Slots> = std::sync::OnceLock::new();
        SLOTS.get_or_init(|| {
            Slots::new(
                std::env::var("GROUPEMENT_UPLOADS_RECEIVING")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0)
                    .unwrap_or(64),
            )
        })
    }

    /// A place, when one is free.
    pub fn take(&'static self) -> Option<Slot> {
        use std::sync::atomic::Ordering;
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(self))
    }
}

/// One place among the uploads in flight, given back when dropped.
pub struct Slot(&'static Slots);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0
            .used
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A file received, in a temporary file, encrypted to `key`.
pub struct Spooled {
    file: std::fs::File,
    key: age::x25519::Identity,
    _slot: Slot,
    pub size: usize,
    /// SHA-256 of the content, hexadecimal.
    pub sha256: String,
    /// The first bytes (at most 16), to check the format before reading the rest.
    pub head: Vec<u8>,
}

impl Spooled {
    /// The whole content (on a blocking thread).
    pub fn bytes(mut self) -> Result<Vec<u8>, AppError> {
        self.file.rewind().map_err(AppError::internal)?;
        let decryptor = age::Decryptor::new_buffered(std::io::BufReader::new(&mut self.file))
            .map_err(AppError::internal)?;
        let mut reader = decryptor
            .decrypt(std::iter::once(&self.key as &dyn age::Identity))
            .map_err(AppError::internal)?;
        let mut bytes = Vec::with_capacity(self.size);
        reader.read_to_end(&mut bytes).map_err(AppError::internal)?;
        Ok(bytes)
    }
}

pub struct Upload {
    /// The form's anti-forgery token (checked by the caller).
    pub token: String,
    /// The file's name as the browser sent it, without any folder.
    pub file_name: String,
    /// The file, when one was sent (an empty file counts as none).
    pub file: Option<Spooled>,
    /// The `kind` field of the form, when it has one (what a tender's document is).
    pub kind: String,
    /// The other text fields the forms with a file have ([`TEXT_FIELDS`]: a tender's change,
    /// a practice deposit); any other is ignored.
    pub fields: Vec<(String, String)>,
}

/// The text fields an upload form may carry besides its token and its kind.
const TEXT_FIELDS: [&str; 6] = [
    "summary",
    "deadline",
    "substantial",
    "replaces",
    "price_eur",
    "technical_memo",
];

impl Upload {
    /// A text field of the form, or empty.
    pub fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// Reads the form; a file larger than `max_bytes` is refused as soon as it passes the limit.
pub async fn read(mut form: Multipart, max_bytes: usize) -> Result<Upload, AppError> {
    use futures_util::StreamExt as _;
    let slot = Slots::global().take().ok_or(AppError::Busy)?;
    let mut slot = Some(slot);
    let mut upload = Upload {
        token: String::new(),
        file_name: String::new(),
        file: None,
        kind: String::new(),
        fields: Vec::new(),
    };
    let too_big = || {
        AppError::validation(
            "fichier",
            format!("le fichier dépasse {} Mo", max_bytes >> 20),
        )
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::validation("fichier", e.to_string()))?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "fichier" {
            let file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f).to_string())
                .unwrap_or_default();
            let key = age::x25519::Identity::generate();
            let file = tempfile::tempfile().map_err(AppError::internal)?;
            let mut sealed = age::Encryptor::with_recipients(std::iter::once(
                &key.to_public() as &dyn age::Recipient
            ))
            .map_err(AppError::internal)?
            .wrap_output(std::io::BufWriter::new(file))
            .map_err(AppError::internal)?;
            let (mut size, mut hash, mut head) = (0usize, Sha256::new(), Vec::new());
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| AppError::validation("fichier", e.to_string()))?;
                size += chunk.len();
                if size > max_bytes {
                    return Err(too_big());
                }
                if head.len() < 16 {
                    head.extend(chunk.iter().take(16 - head.len()));
                }
                hash.update(&chunk);
                sealed.write_all(&chunk).map_err(AppError::internal)?;
            }
            let file = sealed
                .finish()
                .map_err(AppError::internal)?
                .into_inner()
                .map_err(|e| AppError::internal(e.to_string()))?;
            upload.file_name = file_name;
            let Some(slot) = slot.take() else {
                return Err(AppError::validation("fichier", "un seul fichier par envoi"));
            };
            upload.file = (size > 0).then(|| Spooled {
                file,
                key,
                _slot: slot,
                size,
                sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
                head,
            });
            continue;
        }
        // Any other field is small (the token); a large one is refused, an unknown one ignored.
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::validation("formulaire", e.to_string()))?;
            if data.len() + chunk.len() > FIELD_BYTES {
                return Err(AppError::validation(
                    "formulaire",
                    format!("le champ « {name} » est trop long"),
                ));
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => upload.token = String::from_utf8_lossy(&data).into_owned(),
            "kind" => upload.kind = String::from_utf8_lossy(&data).into_owned(),
            other if TEXT_FIELDS.contains(&other) && upload.field(other).is_empty() => upload
                .fields
                .push((name.clone(), String::from_utf8_lossy(&data).into_owned())),
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

/// What can be refused before a file is read whole: its size, and its format from its first
/// bytes — or, for a file a company encrypted itself (`memoire.pdf.age`), that it starts as an
/// age file does (what the service then checks whole).
fn precheck(file_name: &str, file: &Spooled) -> Result<(), AppError> {
    let magic = crate::services::seal::AGE_MAGIC;
    let sealed = file_name.trim().ends_with(".age")
        && file.head.len() >= 16
        && magic.starts_with(&file.head[..16]);
    match sealed {
        true if file.size <= crate::services::documents::MAX_BYTES + (1 << 20) => Ok(()),
        true => Err(AppError::validation(
            "fichier",
            format!(
                "« {} » dépasse {} Mo",
                file_name.trim(),
                crate::services::documents::MAX_BYTES >> 20
            ),
        )),
        false => {
            crate::services::documents::checked_parts(file_name, file.size, &file.head).map(|_| ())
        }
    }
}

/// A document received: its format checked on its first bytes and its size (no permit needed
/// to refuse it), then read whole and handed to `store` under an upload permit, on a blocking
/// thread.
pub async fn store_document<T: Send + 'static>(
    upload: Upload,
    store: impl FnOnce(&str, &[u8]) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let Some(file) = upload.file else {
        return Err(AppError::validation(
            "fichier",
            "choisissez un fichier à envoyer",
        ));
    };
    precheck(&upload.file_name, &file)?;
    actix_web::web::block(move || {
        crate::work::uploads_stored().run(|| {
            let bytes = file.bytes()?;
            store(&upload.file_name, &bytes)
        })?
    })
    .await?
}

/// A form whose file is optional (a tender's change, a practice deposit): the file, when one was
/// sent, checked on its first bytes and its size, then read whole under an upload permit and
/// handed to `store`; without one, `store` gets `None`. On a blocking thread either way.
pub async fn with_optional_file<T: Send + 'static>(
    file_name: String,
    file: Option<Spooled>,
    store: impl FnOnce(Option<(&str, &[u8])>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    match file {
        Some(file) => {
            precheck(&file_name, &file)?;
            actix_web::web::block(move || {
                crate::work::uploads_stored().run(|| {
                    let bytes = file.bytes()?;
                    store(Some((&file_name, &bytes)))
                })?
            })
            .await?
        }
        None => actix_web::web::block(move || store(None)).await?,
    }
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

#[cfg(test)]
mod tests {
    use super::Slots;

    #[test]
    fn no_more_uploads_in_flight_than_places() {
        static SLOTS: Slots = Slots::new(2);
        let first = SLOTS.take().unwrap();
        let second = SLOTS.take().unwrap();
        assert!(SLOTS.take().is_none(), "a third is refused");
        drop(first);
        let third = SLOTS.take();
        assert!(third.is_some(), "a place given back is taken again");
        drop((second, third));
        assert_eq!(SLOTS.used.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
