//! E-mail through a durable outbox. Whatever causes a message (a password reset, a
//! registration, an invitation; later publications and awards) writes a `notifications` row in
//! its own transaction with [`enqueue`]; the [`worker`] renders and sends the rows that are due,
//! so that a message exists once the event is committed and never before.

pub mod render;
pub mod worker;

use crate::db::models::NewNotification;
use crate::db::schema::notifications;
use crate::db::AnyConnection;
use diesel::prelude::*;

/// Writes an outbox row, once per idempotency key: a second call with the same key (the same
/// event for the same recipient) writes nothing and returns `false`.
pub fn enqueue(
    conn: &mut AnyConnection,
    recipient: &str,
    template: &str,
    data: &serde_json::Value,
    idempotency_key: &str,
) -> QueryResult<bool> {
    enqueue_at(conn, recipient, template, data, idempotency_key, None)
}

/// [`enqueue`], to be sent no earlier than `due` (now when `None`).
pub fn enqueue_at(
    conn: &mut AnyConnection,
    recipient: &str,
    template: &str,
    data: &serde_json::Value,
    idempotency_key: &str,
    due: Option<chrono::NaiveDateTime>,
) -> QueryResult<bool> {
    let data = data.to_string();
    let row = NewNotification {
        recipient,
        template,
        data: &data,
        idempotency_key,
        next_attempt_at: due,
    };
    let written = crate::per_backend!(conn, c => diesel::insert_into(notifications::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(written == 1)
}
