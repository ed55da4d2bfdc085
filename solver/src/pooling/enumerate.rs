//! Exact planning of a small family by dynamic programming over its subsets of needs.
//!
//! A lot scores by its value alone (curve, local bonus, lot cost) and is feasible when its
//! needs' windows share a day (for intervals, when they pairwise overlap) and, under a cap, when
//! its value fits. So the best plan of a set `S` of needs is
//! `best(S) = max over feasible lots T ∋ first(S), T ⊆ S of score(T) + best(S \ T)`,
//! computed for every subset in increasing order. The lot holding the first need of `S` is
//! taken among the needs whose windows meet that need's, and the needs with the narrowest
//! windows come first, so that the lots tried are few when windows differ.
//!
//! The work is counted (lots tried), not timed: a family whose enumeration would pass the
//! budget is left to the other methods before anything is computed, so the plan never
//! depends on the machine.

use super::instance::Need;
use super::score::LotScorer;

/// The most needs a family may have to be enumerated: the tables hold 2ⁿ entries.
pub const MAX_NEEDS: usize = 22;

/// The lots the enumeration would try for these needs, computed from the windows before any
/// table is built: `Σ_S 2^{|S ∩ meets(first(S))| − 1}` over the non-empty subsets `S`.
pub fn work(needs: &[Need], members: &[usize]) -> Option<u64> {
    if members.len() > MAX_NEEDS {
        return None;
    }
    let order = ordered(needs, members);
    let meets = meets(needs, &order);
    // For the first need i of S, S = {i} ∪ any subset of the needs after i; those that meet i
    // double the lots tried, the others do not.
    let n = order.len();
    let mut total: u64 = 0;
    for (i, bits) in meets.iter().enumerate() {
        let after = n - i - 1;
        let meeting = (bits >> (i + 1)).count_ones() as u64;
        // Σ over subsets A of the needs after i of 2^{|A ∩ meeting|} = 3^meeting · 2^(after−meeting).
        let lots = 3u64
            .checked_pow(meeting as u32)?
            .checked_mul(1u64 << (after as u64 - meeting))?;
        total = total.checked_add(lots)?;
    }
    Some(total)
}

/// Needs with the narrowest windows first, then by value (largest first), then by position.
fn ordered(needs: &[Need], members: &[usize]) -> Vec<usize> {
    let mut order = members.to_vec();
    let meeting = |i: usize| {
        members
            .iter()
            .filter(|&&j| needs[i].overlaps(&needs[j]))
            .count()
    };
    let mut keyed: Vec<(usize, std::cmp::Reverse<i64>, usize)> = order
        .iter()
        .map(|&i| (meeting(i), std::cmp::Reverse(needs[i].value_cents()), i))
        .collect();
    keyed.sort();
    order.clear();
    order.extend(keyed.into_iter().map(|(_, _, i)| i));
    order
}

/// For each position, the bit set of the positions whose windows meet its window.
fn meets(needs: &[Need], order: &[usize]) -> Vec<u32> {
    order
        .iter()
        .map(|&a| {
            order
                .iter()
                .enumerate()
                .filter(|(_, &b)| needs[a].overlaps(&needs[b]))
                .fold(0u32, |bits, (k, _)| bits | (1 << k))
        })
        .collect()
}

/// The optimal lots of `members` and their objective, with the lots tried; `None` when the
/// family is too large or its enumeration would pass `budget` lots.
pub fn solve(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
    budget: u64,
) -> Option<(Vec<Vec<usize>>, f64, u64)> {
    let lots_tried = work(needs, members)?;
    if lots_tried > budget {
        return None;
    }
    let order = ordered(needs, members);
    let n = order.len();
    let meets = meets(needs, &order);
    let size = 1usize << n;
    // The score of every subset as one lot (−∞ when its windows share no day or it passes the
    // cap), from its value and the latest start / earliest end of its windows.
    let values: Vec<i64> = order.iter().map(|&i| needs[i].value_cents()).collect();
    let mut value = vec![0i64; size];
    let mut together = vec![u32::MAX; size];
    let mut lot_score = vec![f64::NEG_INFINITY; size];
    for mask in 1..size {
        let low = mask.trailing_zeros() as usize;
        let rest = mask & (mask - 1);
        value[mask] = value[rest] + values[low];
        // The needs of `mask` that meet every one of its needs.
        together[mask] = together[rest] & meets[low];
        let pairwise = (mask as u32) & !together[mask] == 0;
        // A need above the cap stands alone; no lot of several needs passes it.
        let fits = rest == 0 || max_lot.is_none_or(|m| value[mask] <= m);
        if pairwise && fits {
            lot_score[mask] = scorer.score(value[mask]);
        }
    }
    drop(together);
    let mut best = vec![f64::NEG_INFINITY; size];
    let mut choice = vec![0u32; size];
    best[0] = 0.0;
    for mask in 1..size {
        let low = mask & mask.wrapping_neg();
        let pool = (mask ^ low) & meets[low.trailing_zeros() as usize] as usize;
        let mut sub = pool;
        let mut top = f64::NEG_INFINITY;
        let mut top_lot = 0usize;
        loop {
            let lot = sub | low;
            let s = lot_score[lot];
            if s > f64::NEG_INFINITY {
                let candidate = s + best[mask ^ lot];
                if candidate > top {
                    top = candidate;
                    top_lot = lot;
                }
            }
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & pool;
        }
        best[mask] = top;
        choice[mask] = top_lot as u32;
    }
    let mut lots = Vec::new();
    let mut mask = size - 1;
    while mask != 0 {
        let lot = choice[mask] as usize;
        lots.push(
            (0..n)
                .filter(|k| lot & (1 << k) != 0)
                .map(|k| order[k])
                .collect(),
        );
        mask ^= lot;
    }
    Some((lots, best[size - 1], lots_tried))
}
