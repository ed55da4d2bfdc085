//! Bad configuration stops start-up with one clear line: no panic, no backtrace.

use std::process::Command;

fn run_migrate(database_url: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_groupement"))
        .arg("migrate")
        .env("GROUPEMENT_DATABASE_URL", database_url)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run groupement");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_one_clear_line(stderr: &str, expected: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(lines[0].starts_with("groupement: "), "{stderr}");
    assert!(lines[0].contains(expected), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn malformed_database_url() {
    let (ok, stderr) = run_migrate("mysql://root:secret@localhost/groupement");
    assert!(!ok);
    assert_one_clear_line(&stderr, "must start with sqlite:// or postgres://");
    assert!(!stderr.contains("secret"), "{stderr}");
}

#[test]
fn unreachable_postgres() {
    let (ok, stderr) = run_migrate("postgres://nobody:pw@127.0.0.1:1/groupement");
    assert!(!ok);
    assert_one_clear_line(
        &stderr,
        "cannot connect to PostgreSQL at 127.0.0.1:1/groupement",
    );
    assert!(!stderr.contains("pw@"), "{stderr}");
}

#[test]
fn unwritable_sqlite_path() {
    let (ok, stderr) = run_migrate("sqlite:///nonexistent-directory/groupement.db");
    assert!(!ok);
    assert_one_clear_line(
        &stderr,
        "cannot open the SQLite database /nonexistent-directory/groupement.db",
    );
}

#[test]
fn migrate_creates_a_usable_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let (ok, stderr) = run_migrate(&format!("sqlite://{}", path.display()));
    assert!(ok, "{stderr}");
    assert!(path.exists());
    // Twice is fine: nothing pending, reference data already there.
    let (ok, stderr) = run_migrate(&format!("sqlite://{}", path.display()));
    assert!(ok, "{stderr}");
}
