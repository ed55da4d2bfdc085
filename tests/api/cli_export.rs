//! `groupement export ocds|decp [--out FILE]` writes the documents `/open-data/…` serves, from
//! the database named by `GROUPEMENT_DATABASE_URL`.

use crate::helpers::{TestBackend, TestDatabase};

#[test]
fn export_writes_the_open_data_of_the_database() {
    let database = TestDatabase::create(TestBackend::Sqlite).unwrap();
    let url = groupement::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = groupement::db::open(&url).unwrap();
    groupement::demo::seed_if_empty(&mut pool.get().unwrap()).unwrap();
    drop(pool);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_groupement"))
            .args(args)
            .current_dir(dir.path())
            .env("GROUPEMENT_DATABASE_URL", &database.url)
            .env("GROUPEMENT_BASE_URL", "https://achats.example.fr")
            .output()
            .unwrap()
    };
    let written = run(&["export", "ocds", "--out", "ocds.json"]);
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let ocds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ocds.json")).unwrap()).unwrap();
    crate::award_journey::assert_ocds_valid(&ocds);
    assert_eq!(ocds["uri"], "https://achats.example.fr/open-data/ocds.json");

    let printed = run(&["export", "decp"]);
    assert!(printed.status.success());
    let decp: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    crate::award_journey::assert_decp_valid(&decp);

    let unknown = run(&["export", "csv"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("ocds"));
}
