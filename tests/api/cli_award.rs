//! `groupement award` on real files: French CSV dialects, .xlsx, bad input.

use crate::helpers::groupement;
use groupement_solver::award::{check_award, Award, AwardLot, AwardRules, Bid, CapRule, Weights};

/// The lots and bids the files below describe, for the checker.
fn instance() -> (Vec<AwardLot>, Vec<Bid>) {
    let lot = |id: &str, value: f64| AwardLot {
        lot_id: id.into(),
        tender_id: "GRP-1".into(),
        title: String::new(),
        cpv: "33141000".into(),
        value_eur: value,
    };
    let bid = |id: &str, s: &str, l: &str, p: f64, q: f64, e: f64, at: &str| Bid {
        bid_id: id.into(),
        supplier_id: s.into(),
        lot_id: l.into(),
        price_eur: p,
        quality: q,
        environment: e,
        submitted_at: at.into(),
        members: Vec::new(),
    };
    (
        vec![lot("L1", 500_000.5), lot("L2", 100_000.0)],
        vec![
            bid(
                "a1",
                "A",
                "L1",
                100_000.0,
                90.0,
                90.0,
                "2027-02-01T10:00:00Z",
            ),
            bid(
                "b1",
                "B",
                "L1",
                100_000.0,
                85.0,
                85.0,
                "2027-02-01T11:00:00Z",
            ),
            bid(
                "a2",
                "A",
                "L2",
                100_000.0,
                90.0,
                90.0,
                "2027-02-01T09:00:00Z",
            ),
            bid(
                "b2",
                "B",
                "L2",
                200_000.25,
                10.0,
                10.0,
                "2027-02-01T09:00:00Z",
            ),
        ],
    )
}

#[test]
fn award_reads_french_csv_and_writes_a_checked_award() {
    let dir = tempfile::tempdir().unwrap();
    // Windows-1252 with accents, semicolons, decimal commas, French dates.
    let mut lots = b"lot_id;tender_id;title;cpv;value_eur\r\n".to_vec();
    lots.extend_from_slice(b"L1;GRP-1;Mat\xe9riel m\xe9dical;33141000-0;500 000,50\r\nL2;GRP-1;Petit lot;33141000;100000\r\n");
    std::fs::write(dir.path().join("lots.csv"), lots).unwrap();
    std::fs::write(
        dir.path().join("bids.csv"),
        "\u{feff}bid_id;supplier_id;lot_id;price_eur;quality;environment;submitted_at\n\
         a1;A;L1;100000;90;90;01/02/2027 10:00\n\
         b1;B;L1;100 000,00;85;85;2027-02-01T12:00:00+01:00\n\
         a2;A;L2;100000;90;90;2027-02-01 09:00\n\
         b2;B;L2;200000,25;10;10;2027-02-01T09:00:00Z\n",
    )
    .unwrap();
    let output = groupement(
        &[
            "award",
            "--lots",
            "lots.csv",
            "--bids",
            "bids.csv",
            "--cap",
            "1",
            "--rule",
            "best-total",
            "--out",
            "award.json",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("rule best-total"), "{stdout}");
    assert!(
        stdout.contains("with decreasing-importance instead"),
        "{stdout}"
    );
    let award: Award =
        serde_json::from_slice(&std::fs::read(dir.path().join("award.json")).unwrap()).unwrap();
    let (lots, bids) = instance();
    let rules = AwardRules {
        weights: Weights {
            price: 60,
            quality: 30,
            environment: 10,
        },
        cap: Some(1),
        rule: CapRule::BestTotal,
    };
    check_award(&lots, &bids, &rules, &award).unwrap();
    assert_eq!(award.lots[0].winner_bid_id.as_deref(), Some("b1"));
    assert_eq!(award.lots[1].winner_bid_id.as_deref(), Some("a2"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("award.json")).unwrap()).unwrap();
    for key in [
        "rule",
        "weights",
        "cap",
        "total_score",
        "lots",
        "other_rule",
    ] {
        assert!(json.get(key).is_some(), "award.json lacks {key}");
    }
    assert_eq!(json["other_rule"]["rule"], "decreasing-importance");
    assert_eq!(json["lots"][0]["status"], "awarded");
}

#[test]
fn award_reads_xlsx() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["lot_id", "tender_id", "title", "cpv", "value_eur"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "L1").unwrap();
    sheet.write_string(1, 1, "GRP-1").unwrap();
    sheet.write_string(1, 2, "Matériel médical").unwrap();
    sheet.write_number(1, 3, 33141000.0).unwrap();
    sheet.write_number(1, 4, 500000.5).unwrap();
    book.save(dir.path().join("lots.xlsx")).unwrap();
    std::fs::write(
        dir.path().join("bids.csv"),
        "bid_id,supplier_id,lot_id,price_eur,quality,environment,submitted_at\n\
         a1,A,L1,100000,90,90,2027-02-01T10:00:00Z\n",
    )
    .unwrap();
    let output = groupement(
        &["award", "--lots", "lots.xlsx", "--bids", "bids.csv"],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("500000.50"));
}

#[test]
fn bad_input_lists_every_bad_row_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lots.csv"),
        "lot_id,tender_id,title,cpv,value_eur\nL1,T,x,33141000,1000\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bids.csv"),
        "bid_id,supplier_id,lot_id,price_eur,quality,environment,submitted_at\n\
         a1,A,L9,10,50,50,2027-02-01T10:00:00Z\n\
         a2,B,L1,-5,50,50,2027-02-01T10:00:00Z\n\
         a3,C,L1,10,101,50,2027-02-01T10:00:00Z\n\
         a3,D,L1,10,50,50,2027-02-01T10:00:00Z\n",
    )
    .unwrap();
    let output = groupement(
        &[
            "award",
            "--lots",
            "lots.csv",
            "--bids",
            "bids.csv",
            "--out",
            "award.json",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "bids.csv: row 2: lot_id: no lot L9",
        "bids.csv: row 3: price_eur: -5 must be above 0",
        "bids.csv: row 4: quality: 101",
        "bids.csv: row 5: bid_id: bid a3 appears twice",
    ] {
        assert!(
            stderr.contains(expected),
            "missing «{expected}» in:\n{stderr}"
        );
    }
    assert!(!dir.path().join("award.json").exists());

    let output = groupement(
        &[
            "award",
            "--lots",
            "lots.csv",
            "--bids",
            "lots.csv",
            "--weights",
            "90,10,0",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("row 1: header: missing column(s) bid_id"),
        "{stderr}"
    );
}
