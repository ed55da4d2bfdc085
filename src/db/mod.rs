//! Storage: one connection type over SQLite and PostgreSQL, the pool, migrations and the
//! reference data. Backend-specific SQL lives here and nowhere else, behind a `match` on the
//! connection (see [`per_backend!`]).

pub mod day;
pub mod models;
pub mod queries;
pub mod reference;
pub mod schema;
pub mod status;

mod url;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use url::{Backend, DatabaseUrl};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same code on the concrete connection, for what the multi-backend connection cannot
/// express (migrations, multi-row inserts, `ON CONFLICT`, immediate transactions).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Why the database could not be opened, said in one line for the person starting the server.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Url(String),
    #[error("cannot open the SQLite database {path}: {reason}")]
    Sqlite { path: String, reason: String },
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Postgres { target: String, reason: String },
    #[error("cannot migrate the database: {0}")]
    Migration(String),
}

/// Opens connections with the settings each backend needs.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// How many times a connection of this pool has found the server gone: when that count has
    /// moved since a connection's last success, the connection is checked before it is handed out.
    losses: Arc<AtomicU64>,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            losses: Arc::default(),
        }
    }

    fn open(&self) -> Result<AnyConnection, OpenError> {
        let mut conn = match &self.url {
            DatabaseUrl::Sqlite { path } => {
                let fail = |reason: String| OpenError::Sqlite {
                    path: path.clone(),
                    reason,
                };
                let mut conn =
                    SqliteConnection::establish(path).map_err(|e| fail(e.to_string()))?;
                // WAL lets readers run beside the writer; synchronous=NORMAL keeps every
                // committed transaction through a killed process (only power loss could undo the
                // last ones); foreign keys are off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| fail(e.to_string()))?;
                AnyConnection::Sqlite(conn)
            }
            DatabaseUrl::Postgres { url, target } => PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(|e| OpenError::Postgres {
                    target: target.clone(),
                    reason: first_line(&e.to_string()),
                })?,
        };
        conn.set_instrumentation(Activity::new(self.losses.clone()));
        Ok(conn)
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.open().map_err(|e| {
            r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(e.to_string()))
        })
    }

    /// Called at each checkout: a connection whose last query succeeded a moment ago is handed
    /// out as it is; one idle for longer, or one whose pool has since seen another connection
    /// find the server gone, is asked `SELECT 1` first (a round trip to PostgreSQL, which under
    /// load would be one more per request for nothing).
    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        if Activity::of(conn).is_some_and(Activity::trusted) {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// Called when a connection goes back to the pool: one that found the server gone, or that
    /// is left inside a transaction, is closed instead of being handed out again.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        Activity::of(conn).is_some_and(|a| a.lost) || conn.is_broken()
    }
}

/// How long after a successful query a connection is handed out without being checked.
const RECENTLY: Duration = Duration::from_secs(1);

/// What the pool learns of a connection from its own queries (diesel's instrumentation, set on
/// each connection when it is opened): when a query last succeeded, and whether one found the
/// connection lost (PostgreSQL restarted, the backend terminated, the network cut). A loss is
/// also counted for the whole pool: after a restart the first request to meet it fails, and
/// every other connection is checked before its next use instead of failing a request each.
#[derive(Debug)]
struct Activity {
    /// (None until a query succeeds: a connection the pool opened in the background a moment
    /// before the server went away is checked like any other.)
    last_success: Option<Instant>,
    lost: bool,
    /// The pool's count of losses and its value at this connection's last success.
    losses: Arc<AtomicU64>,
    losses_seen: u64,
}

impl Activity {
    fn new(losses: Arc<AtomicU64>) -> Self {
        let losses_seen = losses.load(Ordering::Acquire);
        Self {
            last_success: None,
            lost: false,
            losses,
            losses_seen,
        }
    }

    /// Whether the connection can be handed out without a check.
    fn trusted(&self) -> bool {
        !self.lost
            && self.last_success.is_some_and(|at| at.elapsed() < RECENTLY)
            && self.losses_seen == self.losses.load(Ordering::Acquire)
    }

    fn of(conn: &mut AnyConnection) -> Option<&Activity> {
        conn.instrumentation().downcast_ref::<Activity>()
    }
}

impl Instrumentation for Activity {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        use diesel::result::{DatabaseErrorKind, Error};
        if let InstrumentationEvent::FinishQuery { error, .. } = event {
            match error {
                None => {
                    self.losses_seen = self.losses.load(Ordering::Acquire);
                    self.last_success = Some(Instant::now());
                }
                Some(Error::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                )) => {
                    if !self.lost {
                        self.losses.fetch_add(1, Ordering::AcqRel);
                    }
                    self.lost = true;
                }
                Some(_) => {}
            }
        }
    }
}

/// Opens the database, applies pending migrations and loads the reference tables when empty.
/// Every failure is one line that names the database and the reason.
pub fn open(url: &DatabaseUrl) -> Result<Pool, OpenError> {
    let manager = ConnectionManager::new(url.clone());
    // A first connection outside the pool, so that a bad URL or an unreachable server is
    // reported as itself rather than as a pool time-out.
    let mut first = manager.open()?;
    // Several instances starting at once on one PostgreSQL database migrate one after the
    // other (a session-level advisory lock, released with the connection).
    if let AnyConnection::Postgresql(pg) = &mut first {
        diesel::RunQueryDsl::execute(diesel::sql_query("SELECT pg_advisory_lock(47210001)"), pg)
            .map_err(|e| OpenError::Migration(e.to_string()))?;
    }
    migrate(&mut first)?;
    reference::load_if_empty(&mut first).map_err(|e| OpenError::Migration(e.to_string()))?;
    drop(first);
    let size = match url.backend() {
        Backend::Sqlite => 8,
        Backend::Postgres => 16,
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| OpenError::Migration(e.to_string()))
}

/// Applies the pending migrations of the connection's backend.
pub fn migrate(conn: &mut AnyConnection) -> Result<(), OpenError> {
    let result = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| OpenError::Migration(e.to_string()))
}

/// Runs `f` in a write transaction. On SQLite the transaction takes the write lock at once
/// (`BEGIN IMMEDIATE`), so that two writers queue on the busy timeout instead of failing when a
/// read transaction tries to become a write one.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager as Tm, TransactionManager};
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    // Through diesel's own transaction manager, so that transactions nested in `f` become
    // savepoints.
    Tm::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    if let AnyConnection::Sqlite(sqlite) = conn {
        match &result {
            Ok(_) => <Tm as TransactionManager<SqliteConnection>>::commit_transaction(sqlite)?,
            // A failed rollback is secondary to the error being returned.
            Err(_) => {
                let _ = <Tm as TransactionManager<SqliteConnection>>::rollback_transaction(sqlite);
            }
        }
    }
    result
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Sqlite(_) => Backend::Sqlite,
            AnyConnection::Postgresql(_) => Backend::Postgres,
        }
    }
}
