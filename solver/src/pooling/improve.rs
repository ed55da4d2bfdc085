//! Local search over a family's plan: moving one need to another lot (or a lot of its own),
//! swapping two needs between lots, and merging two lots, whenever the objective rises and
//! windows still overlap. Deterministic: scans in a fixed order, takes the first improvement.

use super::instance::Need;
use super::score::LotScorer;

struct Lot {
    members: Vec<usize>,
    value: i64,
}

fn fits(needs: &[Need], members: &[usize], i: usize, except: Option<usize>) -> bool {
    members
        .iter()
        .filter(|&&j| Some(j) != except)
        .all(|&j| needs[j].overlaps(&needs[i]))
}

/// A lot's contribution, an empty lot counting nothing.
fn value_score(scorer: &LotScorer, value: i64, members: usize) -> f64 {
    if members == 0 {
        0.0
    } else {
        scorer.score(value)
    }
}

const EPS: f64 = 1e-7;
const MAX_ROUNDS: usize = 200;

/// Stops after `budget` evaluations of a change, keeping the plan reached (every step only
/// improves it). A count, not a clock: the same input gives the same plan on any machine.
pub fn improve(
    needs: &[Need],
    plan: Vec<Vec<usize>>,
    scorer: &LotScorer,
    max_lot: Option<i64>,
    budget: u64,
) -> (Vec<Vec<usize>>, u64) {
    let mut work: u64 = 0;
    let cap_ok = |value: i64, members: usize| members <= 1 || max_lot.is_none_or(|m| value <= m);
    let mut lots: Vec<Lot> = plan
        .into_iter()
        .map(|members| Lot {
            value: members.iter().map(|&i| needs[i].value_cents()).sum(),
            members,
        })
        .collect();
    for _ in 0..MAX_ROUNDS {
        if work >= budget {
            break;
        }
        let mut improved = false;
        // Merges first: they remove a lot cost at once.
        'merge: for a in 0..lots.len() {
            for b in a + 1..lots.len() {
                work += 1;
                let (la, lb) = (&lots[a], &lots[b]);
                if la.members.is_empty() || lb.members.is_empty() {
                    continue;
                }
                let value = la.value + lb.value;
                if !cap_ok(value, 2)
                    || !lb
                        .members
                        .iter()
                        .all(|&i| fits(needs, &la.members, i, None))
                {
                    continue;
                }
                let delta = scorer.score(value) - scorer.score(la.value) - scorer.score(lb.value);
                if delta > EPS {
                    let moved = std::mem::take(&mut lots[b].members);
                    lots[b].value = 0;
                    lots[a].members.extend(moved);
                    lots[a].value = value;
                    improved = true;
                    break 'merge;
                }
            }
        }
        // Moves of one need.
        for a in 0..lots.len() {
            let mut k = 0;
            while k < lots[a].members.len() {
                let i = lots[a].members[k];
                let v = needs[i].value_cents();
                let from_before = value_score(scorer, lots[a].value, lots[a].members.len());
                let from_after = value_score(scorer, lots[a].value - v, lots[a].members.len() - 1);
                let alone = scorer.score(v) + from_after - from_before;
                let mut best: Option<(f64, Option<usize>)> =
                    (lots[a].members.len() > 1 && alone > EPS).then_some((alone, None));
                work += lots.len() as u64;
                for (b, target) in lots.iter().enumerate() {
                    if b == a
                        || target.members.is_empty()
                        || !cap_ok(target.value + v, target.members.len() + 1)
                        || !fits(needs, &target.members, i, None)
                    {
                        continue;
                    }
                    let delta = scorer.score(target.value + v) - scorer.score(target.value)
                        + from_after
                        - from_before;
                    if delta > best.map_or(EPS, |(d, _)| d) {
                        best = Some((delta, Some(b)));
                    }
                }
                match best {
                    Some((_, target)) => {
                        lots[a].members.remove(k);
                        lots[a].value -= v;
                        match target {
                            Some(b) => {
                                lots[b].members.push(i);
                                lots[b].value += v;
                            }
                            None => lots.push(Lot {
                                members: vec![i],
                                value: v,
                            }),
                        }
                        improved = true;
                    }
                    None => k += 1,
                }
            }
        }
        // Swaps of two needs between two lots, only once merges and moves are exhausted: they
        // cost a scan of every pair of needs.
        'swap: for a in 0..lots.len() {
            if improved || work >= budget {
                break;
            }
            for b in a + 1..lots.len() {
                work += (lots[a].members.len() * lots[b].members.len()) as u64;
                for x in 0..lots[a].members.len() {
                    for y in 0..lots[b].members.len() {
                        let (i, j) = (lots[a].members[x], lots[b].members[y]);
                        let (vi, vj) = (needs[i].value_cents(), needs[j].value_cents());
                        if vi == vj {
                            continue;
                        }
                        let (na, nb) = (lots[a].value - vi + vj, lots[b].value - vj + vi);
                        let delta = scorer.score(na) + scorer.score(nb)
                            - scorer.score(lots[a].value)
                            - scorer.score(lots[b].value);
                        if delta > EPS
                            && cap_ok(na, lots[a].members.len())
                            && cap_ok(nb, lots[b].members.len())
                            && fits(needs, &lots[a].members, j, Some(i))
                            && fits(needs, &lots[b].members, i, Some(j))
                        {
                            lots[a].members[x] = j;
                            lots[b].members[y] = i;
                            lots[a].value = na;
                            lots[b].value = nb;
                            improved = true;
                            break 'swap;
                        }
                    }
                }
            }
        }
        lots.retain(|l| !l.members.is_empty());
        if !improved {
            break;
        }
    }
    let mut plan: Vec<Vec<usize>> = lots
        .into_iter()
        .map(|mut l| {
            l.members.sort_unstable();
            l.members
        })
        .collect();
    plan.sort();
    (plan, work)
}
