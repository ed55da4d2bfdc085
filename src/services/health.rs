use crate::db::Pool;
use diesel::connection::SimpleConnection;

/// Checks that the database answers; returns the backend's name.
pub fn check(pool: &Pool) -> Result<&'static str, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    conn.batch_execute("SELECT 1").map_err(|e| e.to_string())?;
    Ok(conn.backend().name())
}
