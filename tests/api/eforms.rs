//! eForms contract notices (#25): every notice Groupement writes passes the eForms SDK's XSD
//! (xmllint) and its business rules (`complete-validation.sch` under Saxon, through
//! `tests/tools/eforms_check.py`) with zero failed asserts. The checker itself is checked on the
//! SDK's own examples: none on its valid minimal notice, 73 on its invalid one.

use chrono::{NaiveDate, NaiveDateTime};
use groupement::services::eforms::{
    contract_notice_xml, dijon_court, Buyer, ContractNotice, NoticeLot,
};
use std::path::PathBuf;

/// The eForms SDK (`../shared/data/eforms`), when this machine has it and the tools to use it.
fn sdk() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/eforms");
    let required = std::env::var("GROUPEMENT_TEST_REQUIRE_SCHEMAS").is_ok_and(|v| v == "1");
    let saxon = std::process::Command::new("python3")
        .args(["-c", "import saxonche"])
        .status()
        .is_ok_and(|s| s.success());
    match (dir.join("schemas/maindoc").is_dir(), saxon) {
        (true, true) => Some(dir),
        _ if required => panic!(
            "the eForms SDK ({}) or saxonche (pip install saxonche) is missing",
            dir.display()
        ),
        _ => {
            eprintln!("notice: no eForms SDK or saxonche here: eForms checks skipped");
            None
        }
    }
}

/// The failed asserts of the business rules on each file: `(file, rule, location)`.
fn rule_failures(sdk: &std::path::Path, files: &[PathBuf]) -> (usize, String) {
    let cache = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir())
        .join("eforms-cache");
    let output = std::process::Command::new("python3")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/eforms_check.py"))
        .arg(sdk)
        .arg(&cache)
        .args(files)
        .output()
        .expect("python3 runs the eForms checker");
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    let count = report
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("failed-asserts "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "the checker did not finish: {report}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    (count, report)
}

fn xsd_valid(sdk: &std::path::Path, file: &std::path::Path) -> Result<(), String> {
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(sdk.join("schemas/maindoc/UBL-ContractNotice-2.3.xsd"))
        .arg(file)
        .output()
        .expect("xmllint (Debian's libxml2-utils) runs the schema check");
    match output.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&output.stderr).to_string()),
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

fn buyer(code: &str, name: &str, kind: &str, lead: bool) -> Buyer {
    Buyer {
        code: code.into(),
        name: name.into(),
        legal_id: "24210041000123".into(),
        kind: kind.into(),
        street: "40 avenue du Drapeau".into(),
        postcode: "21000".into(),
        city: "Dijon".into(),
        email: format!("achats.{}@example.fr", code.to_lowercase()),
        phone: "+33 380000000".into(),
        website: String::new(),
        lead,
    }
}

/// A tender of `lots` lots for the given buyers, a cap on lots per supplier or none.
fn notice(lots: u32, buyers: Vec<Buyer>, cap: Option<i32>, weights: (i32, i32, i32)) -> String {
    contract_notice_xml(&ContractNotice {
        reference: format!("GRP-2027-{lots:03}"),
        title: "Produits d'entretien & d'hygiène <groupement>".into(),
        description: "Fourniture de produits d'entretien pour les membres du groupement.".into(),
        buyers,
        lots: (1..=lots)
            .map(|k| NoticeLot {
                number: k,
                title: format!("Lot {k} : produits d'entretien"),
                cpv: "39830000".into(),
                value_cents: 9_000_000 + i64::from(k) * 1_000_000,
                postcodes: match k % 3 {
                    0 => vec!["21000".into(), "71100".into()],
                    1 => vec!["21000".into()],
                    _ => vec!["89000".into()],
                },
                start: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
                end: NaiveDate::from_ymd_opt(2027, 12, 31).unwrap(),
            })
            .collect(),
        weights,
        max_lots_per_supplier: cap,
        deadline: at("2027-01-20 11:00"),
        issued: at("2026-12-01 09:30"),
        documents_url: "https://groupement.example.fr/appels-d-offres/GRP-2027-001".into(),
        submission_url: "https://groupement.example.fr/appels-d-offres/GRP-2027-001/offre".into(),
        version: 1,
        review_body: dijon_court("17210000000000"),
    })
}

#[test]
fn contract_notices_pass_the_eforms_schemas_and_business_rules() {
    let Some(sdk) = sdk() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let members = || {
        vec![
            buyer("DM", "Dijon Métropole", "local_authority", true),
            buyer(
                "CHU",
                "Centre hospitalier universitaire Dijon Bourgogne",
                "hospital",
                false,
            ),
            buyer("UB", "Université de Bourgogne", "university", false),
        ]
    };
    let cases = [
        (
            "one-lot-one-buyer",
            notice(1, members()[..1].to_vec(), None, (60, 40, 0)),
        ),
        (
            "three-lots-cap",
            notice(3, members(), Some(1), (50, 30, 20)),
        ),
        ("forty-lots", notice(40, members(), Some(5), (40, 40, 20))),
    ];
    let mut files = Vec::new();
    for (name, xml) in &cases {
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, xml).unwrap();
        if let Err(e) = xsd_valid(&sdk, &file) {
            panic!("{name} fails the XSD: {e}");
        }
        files.push(file);
    }
    // The checker itself: nothing on the SDK's valid minimal notice, its 73 on the invalid one.
    files.push(sdk.join("examples/cn_24_minimal.xml"));
    files.push(sdk.join("examples/INVALID_cn_24_stage-1.xml"));
    let (count, report) = rule_failures(&sdk, &files);
    let ours: Vec<&str> = report
        .lines()
        .filter(|l| !l.contains("INVALID_cn_24") && l.contains('\t'))
        .collect();
    assert!(
        ours.is_empty(),
        "failed business rules:\n{}",
        ours.join("\n")
    );
    assert_eq!(count, 73, "the SDK's invalid example: {report}");
}
