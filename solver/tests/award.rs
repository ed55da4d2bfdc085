//! The award engine on hand-computed cases and on generated ones, every award through the
//! independent checker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groupement_solver::award::{
    award, check_award, Award, AwardError, AwardLot, AwardRules, Bid, CapRule, LotStatus, Weights,
};
use proptest::prelude::*;

fn lot(id: &str, value: f64) -> AwardLot {
    AwardLot {
        lot_id: id.into(),
        tender_id: "T".into(),
        title: format!("Lot {id}"),
        cpv: "33141000".into(),
        value_eur: value,
    }
}

fn bid(id: &str, supplier: &str, lot: &str, price: f64, quality: f64, env: f64) -> Bid {
    Bid {
        bid_id: id.into(),
        supplier_id: supplier.into(),
        lot_id: lot.into(),
        price_eur: price,
        quality,
        environment: env,
        submitted_at: format!("2027-02-01T10:00:{:02}Z", id.len()),
        members: Vec::new(),
    }
}

fn run(lots: &[AwardLot], bids: &[Bid], rules: AwardRules) -> Award {
    let result = award(lots, bids, &rules).unwrap();
    check_award(lots, bids, &rules, &result).unwrap();
    result
}

fn winner(result: &Award, lot: &str) -> Option<String> {
    result
        .lots
        .iter()
        .find(|l| l.lot_id == lot)
        .and_then(|l| l.winner_bid_id.clone())
}

fn rules(cap: Option<u32>, rule: CapRule) -> AwardRules {
    AwardRules {
        weights: Weights {
            price: 60,
            quality: 30,
            environment: 10,
        },
        cap,
        rule,
    }
}

/// A is best on both lots. With a cap of one, decreasing importance gives A the big lot and B
/// the small one; the best total gives A the small lot, where B is weak.
fn two_lots() -> (Vec<AwardLot>, Vec<Bid>) {
    let lots = vec![lot("L1", 500_000.0), lot("L2", 100_000.0)];
    let bids = vec![
        bid("a1", "A", "L1", 100_000.0, 90.0, 90.0), // 60 + 27 + 9 = 96
        bid("b1", "B", "L1", 100_000.0, 85.0, 85.0), // 60 + 25.5 + 8.5 = 94
        bid("a2", "A", "L2", 100_000.0, 90.0, 90.0), // 96
        bid("b2", "B", "L2", 200_000.0, 10.0, 10.0), // 30 + 3 + 1 = 34
    ];
    (lots, bids)
}

#[test]
fn without_cap_each_lot_goes_to_its_best_bid() {
    let (lots, bids) = two_lots();
    let result = run(&lots, &bids, rules(None, CapRule::DecreasingImportance));
    assert_eq!(winner(&result, "L1").as_deref(), Some("a1"));
    assert_eq!(winner(&result, "L2").as_deref(), Some("a2"));
    assert!((result.total_score - 192.0).abs() < 1e-9);
    assert!(result.other_rule.is_none());
}

#[test]
fn a_cap_changes_the_outcome_and_both_rules_are_shown() {
    let (lots, bids) = two_lots();
    let di = run(&lots, &bids, rules(Some(1), CapRule::DecreasingImportance));
    assert_eq!(winner(&di, "L1").as_deref(), Some("a1"));
    assert_eq!(winner(&di, "L2").as_deref(), Some("b2"));
    assert!((di.total_score - 130.0).abs() < 1e-9);
    let l2 = di.lots.iter().find(|l| l.lot_id == "L2").unwrap();
    assert!(l2.bids[0].lost_to_cap && l2.bids[0].bid_id == "a2");
    assert!(!l2.bids[1].lost_to_cap);
    let other = di.other_rule.as_ref().unwrap();
    assert_eq!(other.rule, CapRule::BestTotal);
    assert!((other.total_score - 190.0).abs() < 1e-9);
    assert_eq!(other.changed_lots, ["L1", "L2"]);

    let bt = run(&lots, &bids, rules(Some(1), CapRule::BestTotal));
    assert_eq!(winner(&bt, "L1").as_deref(), Some("b1"));
    assert_eq!(winner(&bt, "L2").as_deref(), Some("a2"));
    assert!((bt.total_score - 190.0).abs() < 1e-9);
    assert!((bt.other_rule.as_ref().unwrap().total_score - 130.0).abs() < 1e-9);
}

#[test]
fn ties_go_to_the_lower_price_then_the_earlier_bid() {
    let lots = vec![lot("L1", 100_000.0)];
    // x: price score 100 → 60 + 0 + 0 = 60; y: price 125 000 → 48, quality 40 → 12: 60 too.
    let mut bids = vec![
        bid("y", "Y", "L1", 125_000.0, 40.0, 0.0),
        bid("x", "X", "L1", 100_000.0, 0.0, 0.0),
    ];
    let result = run(&lots, &bids, rules(None, CapRule::DecreasingImportance));
    assert_eq!(
        winner(&result, "L1").as_deref(),
        Some("x"),
        "lower price wins the tie"
    );
    // Same price and score: the earlier submission wins.
    bids[0] = bid("y", "Y", "L1", 100_000.0, 0.0, 0.0);
    bids[0].submitted_at = "2027-02-01T09:00:00Z".into();
    let result = run(&lots, &bids, rules(None, CapRule::DecreasingImportance));
    assert_eq!(winner(&result, "L1").as_deref(), Some("y"));
}

#[test]
fn a_lot_without_bids_is_unsuccessful() {
    let lots = vec![lot("L1", 100_000.0), lot("L2", 80_000.0)];
    let bids = vec![bid("a", "A", "L1", 90_000.0, 50.0, 50.0)];
    let result = run(&lots, &bids, rules(Some(2), CapRule::BestTotal));
    let l2 = result.lots.iter().find(|l| l.lot_id == "L2").unwrap();
    assert_eq!(l2.status, LotStatus::Unsuccessful);
    assert!(l2.winner_bid_id.is_none() && l2.bids.is_empty());
}

#[test]
fn abnormally_low_bids_are_flagged_not_dropped() {
    let lots = vec![lot("L1", 100_000.0)];
    let bids = vec![
        bid("a", "A", "L1", 100_000.0, 50.0, 50.0),
        bid("b", "B", "L1", 100_000.0, 50.0, 50.0),
        bid("c", "C", "L1", 40_000.0, 50.0, 50.0), // mean 80 000, 70 % = 56 000
    ];
    let result = run(&lots, &bids, rules(None, CapRule::DecreasingImportance));
    let lot = &result.lots[0];
    assert_eq!(lot.winner_bid_id.as_deref(), Some("c"));
    let flags: Vec<(&str, bool)> = lot
        .bids
        .iter()
        .map(|b| (b.bid_id.as_str(), b.abnormally_low))
        .collect();
    assert_eq!(flags, [("c", true), ("a", false), ("b", false)]);
}

#[test]
fn bad_rules_and_bids_are_all_reported() {
    let lots = vec![lot("L1", 100_000.0)];
    let bids = vec![
        bid("a", "A", "L9", 100.0, 50.0, 50.0),
        bid("a", "B", "L1", 0.0, 120.0, -1.0),
    ];
    let bad = AwardRules {
        weights: Weights {
            price: 70,
            quality: 30,
            environment: 0,
        },
        cap: Some(0),
        rule: CapRule::BestTotal,
    };
    let Err(AwardError::Input(errors)) = award(&lots, &bids, &bad) else {
        panic!("bad input accepted");
    };
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("environmental criterion"), "{text:?}");
    assert!(has("cap"), "{text:?}");
    assert!(has("bid 1: lot_id: no lot L9"), "{text:?}");
    assert!(has("bid 2: bid_id: bid a appears twice"), "{text:?}");
    assert!(has("bid 2: price_eur"), "{text:?}");
    assert!(has("bid 2: quality"), "{text:?}");
    assert!(has("bid 2: environment"), "{text:?}");
    let sum = AwardRules {
        weights: Weights {
            price: 50,
            quality: 30,
            environment: 10,
        },
        ..bad
    };
    let Err(AwardError::Input(errors)) = award(&lots, &[], &sum) else {
        panic!("weights summing to 90 accepted");
    };
    assert!(errors.iter().any(|e| e.to_string().contains("sum to 100")));
}

#[test]
fn the_checker_catches_a_tampered_award() {
    let (lots, bids) = two_lots();
    let r = rules(Some(1), CapRule::DecreasingImportance);
    let mut result = award(&lots, &bids, &r).unwrap();
    result.lots[1].winner_bid_id = Some("a2".into());
    assert!(check_award(&lots, &bids, &r, &result).is_err());
    let mut result = award(&lots, &bids, &r).unwrap();
    result.total_score += 1.0;
    assert!(check_award(&lots, &bids, &r, &result).is_err());
}

/// The best total by enumeration, for tiny instances.
fn brute_force_best_total(lots: &[AwardLot], bids: &[Bid], cap: u32, weights: &Weights) -> f64 {
    let scored = award(
        lots,
        bids,
        &AwardRules {
            weights: *weights,
            cap: None,
            rule: CapRule::DecreasingImportance,
        },
    )
    .unwrap();
    // Each bid's companies: its supplier and, for a group, its co-contractors.
    let companies = |bid_id: &str| -> Vec<String> {
        let bid = bids.iter().find(|b| b.bid_id == bid_id).unwrap();
        std::iter::once(bid.supplier_id.clone())
            .chain(bid.members.iter().cloned())
            .collect()
    };
    let options: Vec<Vec<(Vec<String>, f64)>> = scored
        .lots
        .iter()
        .map(|l| {
            l.bids
                .iter()
                .map(|b| (companies(&b.bid_id), b.score))
                .collect()
        })
        .collect();
    fn go(
        options: &[Vec<(Vec<String>, f64)>],
        i: usize,
        wins: &mut std::collections::HashMap<String, u32>,
        cap: u32,
    ) -> f64 {
        if i == options.len() {
            return 0.0;
        }
        let mut best = go(options, i + 1, wins, cap);
        for (companies, score) in &options[i] {
            if companies
                .iter()
                .all(|c| wins.get(c).copied().unwrap_or(0) < cap)
            {
                for c in companies {
                    *wins.entry(c.clone()).or_default() += 1;
                }
                best = best.max(score + go(options, i + 1, wins, cap));
                for c in companies {
                    *wins.entry(c.clone()).or_default() -= 1;
                }
            }
        }
        best
    }
    go(&options, 0, &mut Default::default(), cap)
}

fn instance() -> impl Strategy<Value = (Vec<AwardLot>, Vec<Bid>, u32)> {
    (1usize..6, 1usize..5, 1u32..3).prop_flat_map(|(n_lots, n_suppliers, cap)| {
        let lots: Vec<AwardLot> = (0..n_lots)
            .map(|i| lot(&format!("L{i}"), 10_000.0 * (i as f64 + 1.0)))
            .collect();
        // The last field: a co-contractor for a group bid, or none (a value past the suppliers).
        let bid_strategy = (
            0..n_lots,
            0..n_suppliers,
            1u32..20,
            0u32..5,
            0u32..5,
            0..n_suppliers + 3,
        );
        (
            Just(lots),
            proptest::collection::vec(bid_strategy, 0..14),
            Just(cap),
        )
            .prop_map(move |(lots, raw, cap)| {
                let mut seen = std::collections::HashSet::new();
                let bids = raw
                    .into_iter()
                    .filter(|(l, s, ..)| seen.insert((*l, *s)))
                    .enumerate()
                    .map(|(k, (l, s, price, q, e, partner))| Bid {
                        bid_id: format!("b{k}"),
                        supplier_id: format!("S{s}"),
                        lot_id: format!("L{l}"),
                        price_eur: f64::from(price) * 1_000.0,
                        quality: f64::from(q) * 25.0,
                        environment: f64::from(e) * 25.0,
                        submitted_at: format!("2027-02-01T10:{:02}:00Z", k % 60),
                        members: match partner < n_suppliers && partner != s {
                            true => vec![format!("S{partner}")],
                            false => Vec::new(),
                        },
                    })
                    .collect();
                (lots, bids, cap)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_award_passes_the_checker_and_best_total_is_optimal((lots, bids, cap) in instance()) {
        let weights = Weights { price: 50, quality: 30, environment: 20 };
        let di_rules = AwardRules { weights, cap: Some(cap), rule: CapRule::DecreasingImportance };
        let bt_rules = AwardRules { rule: CapRule::BestTotal, ..di_rules };
        let di = award(&lots, &bids, &di_rules).unwrap();
        let bt = award(&lots, &bids, &bt_rules).unwrap();
        prop_assert_eq!(check_award(&lots, &bids, &di_rules, &di), Ok(()));
        prop_assert_eq!(check_award(&lots, &bids, &bt_rules, &bt), Ok(()));
        prop_assert!(bt.total_score + 1e-6 >= di.total_score);
        let best = brute_force_best_total(&lots, &bids, cap, &weights);
        prop_assert!((bt.total_score - best).abs() < 1e-6, "best total {} vs enumeration {}", bt.total_score, best);
        prop_assert!((di.other_rule.unwrap().total_score - bt.total_score).abs() < 1e-9);
        // Same input, same award.
        prop_assert_eq!(award(&lots, &bids, &bt_rules).unwrap(), bt);
    }
}

/// #24: the cap counts a company's lots whether it wins alone or in a group. B is a co-contractor
/// of A's group, which wins the big lot; with a cap of one, B's own bid, best on the small lot,
/// loses to the cap under both rules, and the checker agrees.
#[test]
fn the_cap_counts_the_lots_a_company_wins_in_a_group() {
    let lots = [lot("L1", 500_000.0), lot("L2", 100_000.0)];
    let group = Bid {
        members: vec!["B".into()],
        ..bid("g", "A", "L1", 400_000.0, 80.0, 80.0)
    };
    let bids = [
        group,
        bid("x", "C", "L1", 450_000.0, 60.0, 60.0),
        bid("b", "B", "L2", 80_000.0, 90.0, 90.0),
        bid("c", "C", "L2", 95_000.0, 50.0, 50.0),
    ];
    // Decreasing importance: the big lot first, to the group; B has then reached the cap.
    let result = run(&lots, &bids, rules(Some(1), CapRule::DecreasingImportance));
    assert_eq!(winner(&result, "L1").as_deref(), Some("g"));
    assert_eq!(winner(&result, "L2").as_deref(), Some("c"));
    let l2 = result.lots.iter().find(|l| l.lot_id == "L2").unwrap();
    assert!(l2.bids.iter().any(|b| b.bid_id == "b" && b.lost_to_cap));
    // Best total: never the group and B's own bid together (the checker counts B in both).
    let result = run(&lots, &bids, rules(Some(1), CapRule::BestTotal));
    let won = (winner(&result, "L1"), winner(&result, "L2"));
    assert_ne!(won, (Some("g".into()), Some("b".into())));
    // Without the cap B wins its lot too.
    let free = run(&lots, &bids, rules(None, CapRule::BestTotal));
    assert_eq!(winner(&free, "L2").as_deref(), Some("b"));
}
