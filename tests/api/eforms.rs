//! eForms contract notices (#25): every notice Groupement writes passes the eForms SDK's XSD
//! (xmllint) and its business rules (`complete-validation.sch` under Saxon, through
//! `tests/tools/eforms_check.py`) with zero failed asserts. The checker itself is checked on the
//! SDK's own examples: none on its valid minimal notice, 73 on its invalid one.

use chrono::{NaiveDate, NaiveDateTime};
use groupement::services::eforms::{
    award_notice_xml, contract_notice_xml, dijon_court, notice_id, AwardContract, AwardLot,
    AwardNotice, Buyer, ContractNotice, LotOutcome, NoticeChange, NoticeLot, Tenderer,
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
    let award = std::fs::read_to_string(file)
        .unwrap()
        .contains("<ContractAwardNotice");
    let schema = match award {
        true => "schemas/maindoc/UBL-ContractAwardNotice-2.3.xsd",
        false => "schemas/maindoc/UBL-ContractNotice-2.3.xsd",
    };
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(sdk.join(schema))
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
fn notice(
    lots: u32,
    buyers: Vec<Buyer>,
    cap: Option<i32>,
    weights: (i32, i32, i32),
) -> ContractNotice {
    ContractNotice {
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
        change: None,
    }
}

/// The award of a tender: the first lot won by a local SME (contracts with each member), the
/// second by another company with one contract, the third without any bid, the others with
/// every bid rejected.
fn award_of(notice: &ContractNotice) -> AwardNotice {
    let company = |name: &str, siret: &str, sme: bool| Tenderer {
        name: name.into(),
        siret: siret.into(),
        postcode: "21000".into(),
        city: "Dijon".into(),
        email: "contact@example.fr".into(),
        phone: String::new(),
        sme,
        partners: Vec::new(),
    };
    AwardNotice {
        reference: notice.reference.clone(),
        title: notice.title.clone(),
        description: notice.description.clone(),
        buyers: notice.buyers.clone(),
        review_body: notice.review_body.clone(),
        tenderers: vec![
            // The first lot's winner leads a group of companies (#24).
            Tenderer {
                partners: vec![company("Vitrerie de Côte-d'Or", "44386207300014", true)],
                ..company("Nettoyage Bourguignon SARL", "79812303000016", true)
            },
            company("Hygiène de France SA", "32631334300062", false),
        ],
        lots: notice
            .lots
            .iter()
            .enumerate()
            .map(|(k, lot)| AwardLot {
                lot: lot.clone(),
                bids: match k {
                    2 => 0,
                    _ => 3,
                },
                sme_bids: match k {
                    2 => 0,
                    _ => 1,
                },
                outcome: match k {
                    0 => LotOutcome::Awarded {
                        winner: 0,
                        amount_cents: lot.value_cents - 500_000,
                        highest_cents: lot.value_cents + 700_000,
                        lowest_cents: lot.value_cents - 500_000,
                        contracts: (0..notice.buyers.len())
                            .map(|b| AwardContract {
                                buyer: b,
                                concluded: NaiveDate::from_ymd_opt(2027, 2, 20).unwrap(),
                            })
                            .collect(),
                    },
                    1 => LotOutcome::Awarded {
                        winner: 1,
                        amount_cents: lot.value_cents,
                        highest_cents: lot.value_cents + 100_000,
                        lowest_cents: lot.value_cents,
                        contracts: vec![AwardContract {
                            buyer: 0,
                            concluded: NaiveDate::from_ymd_opt(2027, 2, 21).unwrap(),
                        }],
                    },
                    2 => LotOutcome::Unsuccessful { reason: "no-rece" },
                    _ => LotOutcome::Unsuccessful { reason: "all-rej" },
                },
            })
            .collect(),
        weights: notice.weights,
        awarded: NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(),
        issued: at("2027-02-25 10:00"),
        contract_notice_id: Some(notice_id(&notice.reference, None)),
    }
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
    let one = notice(1, members()[..1].to_vec(), None, (60, 40, 0));
    let three = notice(3, members(), Some(1), (50, 30, 20));
    let forty = notice(40, members(), Some(5), (40, 40, 20));
    let mut changed = three.clone();
    changed.deadline = at("2027-02-03 11:00");
    changed.change = Some(NoticeChange {
        number: 1,
        changed_notice_id: notice_id(&three.reference, None),
        changed_version: 1,
        description: "La date limite est reportée au 3 février 2027 ; le bordereau des prix du lot 2 est remplacé.".into(),
        documents_changed: Some(NaiveDate::from_ymd_opt(2027, 1, 5).unwrap()),
    });
    // A group's tendering party names each of its companies, its representative leading.
    let grouped = award_notice_xml(&award_of(&three));
    assert!(
        grouped.contains(
            "<efbc:GroupLeadIndicator>true</efbc:GroupLeadIndicator></efac:Tenderer><efac:Tenderer>"
        ),
        "{grouped}"
    );
    assert!(grouped.contains("44386207300014"), "the partner's SIRET");
    assert!(grouped.contains("<efbc:GroupLeadIndicator>false</efbc:GroupLeadIndicator>"));
    let mut cases: Vec<(String, String)> = vec![
        ("one-lot-one-buyer".into(), contract_notice_xml(&one)),
        ("three-lots-cap".into(), contract_notice_xml(&three)),
        ("forty-lots".into(), contract_notice_xml(&forty)),
        ("change-of-three-lots".into(), contract_notice_xml(&changed)),
        ("award-one-lot".into(), award_notice_xml(&award_of(&one))),
        (
            "award-three-lots".into(),
            award_notice_xml(&award_of(&three)),
        ),
        (
            "award-forty-lots".into(),
            award_notice_xml(&award_of(&forty)),
        ),
    ];
    // The notices the portal itself wrote for the demo's formal tenders.
    for (name, xml) in demo_notices() {
        cases.push((name, xml));
    }
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

/// The notices the demo's seeding wrote (through the same services as the portal): its formal
/// tenders' contract notices and its formal awarded tender's award notice.
fn demo_notices() -> Vec<(String, String)> {
    use diesel::prelude::*;
    use groupement::db::schema::{eforms_notices, tenders};
    let database =
        crate::helpers::TestDatabase::create(crate::helpers::TestBackend::Sqlite).unwrap();
    let url = groupement::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = groupement::db::open(&url).unwrap();
    let mut conn = pool.get().unwrap();
    groupement::demo::seed_if_empty(&mut conn).unwrap();
    let rows: Vec<(String, String, String)> = eforms_notices::table
        .inner_join(tenders::table)
        .order(eforms_notices::id)
        .select((
            tenders::reference,
            eforms_notices::kind,
            eforms_notices::xml,
        ))
        .load(&mut conn)
        .unwrap();
    let kinds: Vec<&str> = rows.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert!(
        kinds.contains(&"contract"),
        "the demo's published formal tender has its contract notice: {kinds:?}"
    );
    let mut notices: Vec<(String, String)> = rows
        .into_iter()
        .map(|(reference, kind, xml)| (format!("demo-{reference}-{kind}"), xml))
        .collect();
    // The demo's awarded tender is under the thresholds (no notice is kept for it): its award
    // notice is written all the same, to check what the loader reads of an award (winners,
    // bids, contracts per member) against the rules.
    let awarded: i32 = tenders::table
        .filter(tenders::status.eq("awarded"))
        .select(tenders::id)
        .first(&mut conn)
        .unwrap();
    let award = groupement::services::notices::award_notice(
        &mut conn,
        awarded,
        chrono::Utc::now().naive_utc(),
    )
    .unwrap();
    assert!(award.lots.iter().any(
        |l| matches!(l.outcome, LotOutcome::Awarded { ref contracts, .. } if !contracts.is_empty())
    ));
    notices.push(("demo-awarded-loader".into(), award_notice_xml(&award)));
    notices
}
