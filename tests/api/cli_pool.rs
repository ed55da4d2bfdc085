//! `groupement pool` on real files: French CSV, .xlsx, parameters, bad input.

use crate::helpers::groupement;
use groupement_solver::pooling::{check_plan, Need, Params, Plan, Supplier};

const SUPPLIERS: &str = "supplier_id,siret,name,postcode,cpv_prefixes,annual_capacity_eur,sme\n\
    S1,24210041000123,Dijon Fournitures,21000,33140000 3319,400000,oui\n\
    S2,21210231300013,Beaune Médical,21200,3314,350000,oui\n\
    S3,35600000000051,Loin SA,75001,33,9000000,non\n";

#[allow(clippy::too_many_arguments)]
fn need(
    id: &str,
    buyer: &str,
    cpv: &str,
    qty: f64,
    price: f64,
    start: &str,
    end: &str,
    poolable: bool,
) -> Need {
    Need {
        need_id: id.into(),
        buyer: buyer.into(),
        cpv: cpv.into(),
        title: String::new(),
        quantity: qty,
        unit: "boîte".into(),
        unit_price_eur: price,
        delivery_postcode: "21000".into(),
        window_start: start.into(),
        window_end: end.into(),
        poolable,
    }
}

#[test]
fn pool_reads_french_spreadsheets_and_writes_a_checked_plan() {
    let dir = tempfile::tempdir().unwrap();
    // Windows-1252, semicolons, decimal commas, French dates, oui/non, a unit written twice.
    let mut needs = b"need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable\r\n".to_vec();
    needs.extend_from_slice(b"N1;CHU;33141000-0;Compresses st\xe9riles;1000;bo\xeete;120,50;21000;01/01/2027;31/12/2027;oui\r\n");
    needs.extend_from_slice(
        b"N2;UB;33141000;Pansements;500;Bo\xeete ;150;21000;2027-01-01;2027-06-30;oui\r\n",
    );
    needs.extend_from_slice(
        b"N3;DM;33141000;Gants;2000;bo\xeete;99,99;21000;01/07/2027;31/12/2027;oui\r\n",
    );
    needs.extend_from_slice(
        b"N4;GDH;33190000;Divers;10;bo\xeete;800;21000;01/01/2027;31/12/2027;non\r\n",
    );
    std::fs::write(dir.path().join("needs.csv"), needs).unwrap();
    std::fs::write(dir.path().join("suppliers.csv"), SUPPLIERS).unwrap();
    std::fs::write(
        dir.path().join("params.toml"),
        "lot_cost = 2500\nlocal_weight = 0.05\n[buyers]\nUB = \"central\"\nDM = \"sub_central\"\n",
    )
    .unwrap();
    let output = groupement(
        &[
            "pool",
            "--needs",
            "needs.csv",
            "--suppliers",
            "suppliers.csv",
            "--params",
            "params.toml",
            "--out",
            "plan.json",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("objective: alone"), "{stdout}");
    assert!(stdout.contains("procedures: alone"), "{stdout}");
    // Progress by families and needs; the last line says it is done.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rfind(|l| l.starts_with("pooling: "))
        .unwrap_or_default();
    assert!(
        last.contains(" families, ") && last.ends_with(" needs, done"),
        "{stderr}"
    );
    let plan: Plan =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    let needs = vec![
        need(
            "N1",
            "CHU",
            "33141000",
            1000.0,
            120.5,
            "2027-01-01",
            "2027-12-31",
            true,
        ),
        need(
            "N2",
            "UB",
            "33141000",
            500.0,
            150.0,
            "2027-01-01",
            "2027-06-30",
            true,
        ),
        need(
            "N3",
            "DM",
            "33141000",
            2000.0,
            99.99,
            "2027-07-01",
            "2027-12-31",
            true,
        ),
        need(
            "N4",
            "GDH",
            "33190000",
            10.0,
            800.0,
            "2027-01-01",
            "2027-12-31",
            false,
        ),
    ];
    let supplier = |id: &str, postcode: &str, prefixes: &[&str], capacity: f64| Supplier {
        supplier_id: id.into(),
        siret: String::new(),
        name: String::new(),
        postcode: postcode.into(),
        cpv_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        annual_capacity_eur: capacity,
        sme: true,
        members: Vec::new(),
    };
    let suppliers = vec![
        supplier("S1", "21000", &["33140000", "3319"], 400_000.0),
        supplier("S2", "21200", &["3314"], 350_000.0),
        supplier("S3", "75001", &["33"], 9_000_000.0),
    ];
    let mut params = Params {
        lot_cost: 2500.0,
        local_weight: 0.05,
        ..Params::default()
    };
    params.buyers.insert(
        "UB".into(),
        groupement_solver::procedure::BuyerClass::Central,
    );
    params.buyers.insert(
        "DM".into(),
        groupement_solver::procedure::BuyerClass::SubCentral,
    );
    check_plan(&needs, &suppliers, &params, &plan).unwrap();
    assert_eq!(plan.solo, ["N4"]);
    assert_eq!(
        plan.tenders.len(),
        1,
        "« boîte » and « Boîte  » are one unit"
    );
    assert_eq!(
        plan.tenders[0].buyer_class, "central",
        "UB makes the tender central"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    for key in [
        "baseline_objective",
        "pooled_objective",
        "savings_eur",
        "savings_pct",
        "lots_before",
        "lots_after",
        "local_share_before",
        "local_share_after",
    ] {
        assert!(json["kpis"].get(key).is_some(), "kpis.{key} missing");
    }
    for key in [
        "lot",
        "need_ids",
        "buyers",
        "value_eur",
        "savings_eur",
        "local_accessible",
        "eligible_local_suppliers",
        "small_lot",
    ] {
        assert!(
            json["tenders"][0]["lots"][0].get(key).is_some(),
            "lot.{key} missing"
        );
    }
    for key in ["status", "objective", "bound", "gap", "seconds", "families"] {
        assert!(json["solver"].get(key).is_some(), "solver.{key} missing");
    }
    assert!(["optimal", "time-limited"].contains(&json["solver"]["status"].as_str().unwrap()));
}

#[test]
fn pool_reads_xlsx_needs() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "need_id",
        "buyer",
        "cpv",
        "title",
        "quantity",
        "unit",
        "unit_price_eur",
        "delivery_postcode",
        "window_start",
        "window_end",
        "poolable",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (id, buyer)) in [("A", "CHU"), ("B", "DM")].iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *id).unwrap();
        sheet.write_string(r, 1, *buyer).unwrap();
        sheet.write_string(r, 2, "33141000").unwrap();
        sheet.write_string(r, 3, "Compresses").unwrap();
        sheet.write_number(r, 4, 100.0).unwrap();
        sheet.write_string(r, 5, "boîte").unwrap();
        sheet.write_number(r, 6, 1500.0).unwrap();
        sheet.write_string(r, 7, "21000").unwrap();
        sheet.write_string(r, 8, "2027-01-01").unwrap();
        sheet.write_string(r, 9, "31/12/2027").unwrap();
        sheet.write_string(r, 10, "oui").unwrap();
    }
    book.save(dir.path().join("needs.xlsx")).unwrap();
    std::fs::write(dir.path().join("suppliers.csv"), SUPPLIERS).unwrap();
    let output = groupement(
        &[
            "pool",
            "--needs",
            "needs.xlsx",
            "--suppliers",
            "suppliers.csv",
        ],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("3314"), "{stdout}");
}

#[test]
fn bad_rows_are_all_reported_and_no_plan_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("needs.csv"),
        "need_id,buyer,cpv,title,quantity,unit,unit_price_eur,delivery_postcode,window_start,window_end,poolable\n\
         N1,CHU,99999999,x,1,u,10,21000,2027-01-01,2027-12-31,oui\n\
         N2,UB,33141000,x,1,u,-4,21000,2027-01-01,2027-12-31,oui\n\
         N3,DM,33141000,x,1,u,10,21000,2027-12-31,2027-01-01,oui\n\
         N4,,33141000,x,1,u,10,21000,2027-01-01,2027-12-31,peut-être\n\
         N1,GDH,33141000-9,x,1,u,10,2100,2027-01-01,2027-12-31,non\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suppliers.csv"),
        "supplier_id,siret,name,postcode,cpv_prefixes,annual_capacity_eur,sme\nS1,24210041000124,X,21000,3314,1000,oui\n",
    )
    .unwrap();
    let output = groupement(
        &[
            "pool",
            "--needs",
            "needs.csv",
            "--suppliers",
            "suppliers.csv",
            "--out",
            "plan.json",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "needs.csv: row 2: cpv:",
        "needs.csv: row 3: unit_price_eur:",
        "needs.csv: row 4: window_start:",
        "needs.csv: row 5: buyer:",
        "needs.csv: row 5: poolable:",
        "needs.csv: row 6: cpv:",
        "needs.csv: row 6: delivery_postcode:",
        "needs.csv: row 6: need_id: need N1 appears twice",
        "suppliers.csv: row 2: siret:",
    ] {
        assert!(
            stderr.contains(expected),
            "missing «{expected}» in:\n{stderr}"
        );
    }
    assert!(!dir.path().join("plan.json").exists());

    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    let output = groupement(
        &[
            "pool",
            "--needs",
            "empty.csv",
            "--suppliers",
            "suppliers.csv",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("row 1: header: the file is empty"));
    std::fs::write(dir.path().join("wrong.csv"), "id;acheteur\n1;CHU\n").unwrap();
    let output = groupement(
        &[
            "pool",
            "--needs",
            "wrong.csv",
            "--suppliers",
            "suppliers.csv",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("row 1: header: missing column(s) need_id"));
    std::fs::write(dir.path().join("params.toml"), "lot_costs = 3\n").unwrap();
    let output = groupement(
        &[
            "pool",
            "--needs",
            "wrong.csv",
            "--suppliers",
            "suppliers.csv",
            "--params",
            "params.toml",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("lot_costs"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn pool_writes_the_frontier_and_picks_the_cheapest_plan_reaching_a_local_share() {
    let dir = tempfile::tempdir().unwrap();
    let mut needs = String::from("need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable\n");
    for (k, (buyer, value)) in [
        ("CHU", "180000"),
        ("UB", "90000"),
        ("DM", "150000"),
        ("GDH", "60000"),
        ("CHU", "40000"),
        ("DM", "210000"),
    ]
    .iter()
    .enumerate()
    {
        needs.push_str(&format!(
            "N{k};{buyer};33141000;Compresses;1;lot;{value};21000;01/01/2027;31/12/2027;oui\n"
        ));
    }
    std::fs::write(dir.path().join("needs.csv"), needs).unwrap();
    std::fs::write(dir.path().join("suppliers.csv"), SUPPLIERS).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "pool",
            "--needs",
            "needs.csv",
            "--suppliers",
            "suppliers.csv",
            "--out",
            "plan.json",
        ];
        args.extend_from_slice(extra);
        groupement(&args, dir.path())
    };
    let output = run(&["--frontier"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("frontier: "), "{stdout}");
    let found: groupement_solver::pooling::Frontier =
        serde_json::from_slice(&std::fs::read(dir.path().join("frontier.json")).unwrap()).unwrap();
    assert!(found.points.len() >= 2, "{found:?}");
    let csv = std::fs::read_to_string(dir.path().join("frontier.csv")).unwrap();
    assert_eq!(csv.lines().count(), found.points.len() + 1);
    assert!(csv.starts_with("weight_from,weight_to,savings_eur,"));
    // The most local plan's share, asked for: its plan is written, and reaches it.
    let most = found.points.last().unwrap().local_share;
    let output = run(&["--local-share", &format!("{most}")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: Plan =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    assert!(plan.kpis.local_share_after + 1e-9 >= most);
    // The savings-only plan is the first point's.
    let output = run(&["--local-share", "0"]);
    assert!(output.status.success());
    let plan: Plan =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    assert!((plan.kpis.local_share_after - found.points[0].local_share).abs() < 1e-9);
    // A share no plan reaches, or that is not a share, is refused and says why.
    let output = run(&["--local-share", "1.5"]);
    assert_eq!(output.status.code(), Some(2));
    if most < 0.999 {
        let output = run(&["--local-share", &format!("{}", (most + 1.0) / 2.0)]);
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("aucun plan"));
    }
}
