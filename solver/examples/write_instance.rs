//! Writes a generated pooling instance as the CSV files `groupement pool` reads:
//! `cargo run --release -p groupement-solver --example write_instance -- DIR NEEDS SUPPLIERS [SEED]`.
// A helper for benchmarks: a failure should stop it loudly.
#![allow(clippy::expect_used)]

use groupement_solver::generate::pooling_instance;
use std::fmt::Write as _;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().expect("DIR"));
    let needs: usize = args.get(1).and_then(|a| a.parse().ok()).expect("NEEDS");
    let suppliers: usize = args.get(2).and_then(|a| a.parse().ok()).expect("SUPPLIERS");
    let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2027);
    let (need_list, supplier_list) = pooling_instance(seed, needs, suppliers);
    let mut text = String::from("need_id;buyer;cpv;title;quantity;unit;unit_price_eur;delivery_postcode;window_start;window_end;poolable\n");
    for n in &need_list {
        let _ = writeln!(
            text,
            "{};{};{};{};{};{};{};{};{};{};{}",
            n.need_id,
            n.buyer,
            n.cpv,
            n.title,
            n.quantity,
            n.unit,
            format!("{:.2}", n.unit_price_eur).replace('.', ","),
            n.delivery_postcode,
            n.window_start,
            n.window_end,
            if n.poolable { "oui" } else { "non" }
        );
    }
    std::fs::create_dir_all(&dir).expect("create DIR");
    std::fs::write(dir.join("needs.csv"), text).expect("write needs.csv");
    // Generated suppliers have no SIRET: give each a valid one (Luhn) from its number.
    let mut text =
        String::from("supplier_id,siret,name,postcode,cpv_prefixes,annual_capacity_eur,sme\n");
    for (k, s) in supplier_list.iter().enumerate() {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{}",
            s.supplier_id,
            luhn_siret(k as u64),
            s.name,
            s.postcode,
            s.cpv_prefixes.join(" "),
            s.annual_capacity_eur,
            s.sme
        );
    }
    std::fs::write(dir.join("suppliers.csv"), text).expect("write suppliers.csv");
}

/// A 14-digit number with a valid Luhn key (the last digit), from `n`.
fn luhn_siret(n: u64) -> String {
    let body = format!("{:013}", 1_000_000_000_000 + n);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}
