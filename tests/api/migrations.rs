//! The SQLite and PostgreSQL migrations stay twins, and every `down.sql` undoes its `up.sql`.

use crate::helpers::{TestBackend, TestDatabase};
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use groupement::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use std::path::Path;

fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        for file in ["up.sql", "down.sql"] {
            assert!(
                dir.join(name).join(file).exists(),
                "{backend}/{name}/{file} is missing"
            );
        }
    }
    names
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, migration_names("postgres"));
}

#[derive(QueryableByName, PartialEq, Eq, Debug)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

const SQLITE_SCHEMA: &str = "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line \
    FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
    AND name NOT LIKE '%diesel_schema_migrations%' ORDER BY 1";

const POSTGRES_SCHEMA: &str = "SELECT line FROM ( \
    SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
        || ' ' || COALESCE(column_default, '') AS line \
        FROM information_schema.columns WHERE table_schema = 'public' \
    UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
    UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(c.oid) \
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' \
    UNION ALL SELECT 'trigger ' || trigger_name || ' ' || event_manipulation \
        FROM information_schema.triggers WHERE trigger_schema = 'public' \
    UNION ALL SELECT 'function ' || proname FROM pg_proc p \
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' \
    UNION ALL SELECT 'sequence ' || sequence_name FROM information_schema.sequences \
        WHERE sequence_schema = 'public' \
    ) AS schema WHERE line NOT LIKE '%diesel_schema_migrations%' ORDER BY 1";

/// Twins with nothing to do on one backend (their `up.sql` says why): backend, version.
const NOTHING_TO_DO: &[(&str, &str)] = &[("sqlite", "20261129000016")];

/// Runs each migration up, down and up again, checking that down restores the schema exactly.
fn check_round_trips<DB, C>(
    backend: &str,
    conn: &mut C,
    migrations: fn() -> EmbeddedMigrations,
    snapshot: impl Fn(&mut C) -> Vec<String>,
) where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let mut steps = 0;
    while conn.has_pending_migration(migrations()).unwrap() {
        let before = snapshot(conn);
        let version = conn.run_next_migration(migrations()).unwrap().to_string();
        let after = snapshot(conn);
        match NOTHING_TO_DO.contains(&(backend, version.as_str())) {
            true => assert_eq!(before, after, "{version} has something to do after all"),
            false => assert_ne!(before, after, "{version} changed nothing"),
        }
        conn.revert_last_migration(migrations()).unwrap();
        assert_eq!(
            before,
            snapshot(conn),
            "down.sql of {version} does not undo its up.sql"
        );
        conn.run_next_migration(migrations()).unwrap();
        steps += 1;
    }
    assert_eq!(steps, migration_names("sqlite").len());
    conn.revert_all_migrations(migrations()).unwrap();
    let left = snapshot(conn);
    assert!(left.is_empty(), "reverting everything leaves {left:?}");
}

fn lines(rows: Vec<Line>) -> Vec<String> {
    rows.into_iter().map(|l| l.line).collect()
}

#[test]
fn sqlite_down_migrations_undo_up_migrations() {
    let db = TestDatabase::create(TestBackend::Sqlite).unwrap();
    let path = db.url.trim_start_matches("sqlite://");
    let mut conn = SqliteConnection::establish(path).unwrap();
    check_round_trips(
        "sqlite",
        &mut conn,
        || SQLITE_MIGRATIONS,
        |c: &mut SqliteConnection| lines(diesel::sql_query(SQLITE_SCHEMA).load(c).unwrap()),
    );
}

#[test]
fn postgres_down_migrations_undo_up_migrations() {
    let Some(db) = TestDatabase::create(TestBackend::Postgres) else {
        return;
    };
    let mut conn = PgConnection::establish(&db.url).unwrap();
    check_round_trips(
        "postgres",
        &mut conn,
        || POSTGRES_MIGRATIONS,
        |c: &mut PgConnection| lines(diesel::sql_query(POSTGRES_SCHEMA).load(c).unwrap()),
    );
}
