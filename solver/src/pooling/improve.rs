//! Local search over a family's plan: moving one need to another lot (or a lot of its own),
//! swapping two needs between lots, and merging two lots, whenever the objective rises and
//! windows still overlap. Deterministic: scans in a fixed order, takes the first improvement.

use super::instance::Need;
use super::score::LotScorer;

/// The delivery days of one need, as ranks among the family's dates (so that windows compare
/// as integers, not strings).
#[derive(Debug, Clone, Copy)]
struct Window {
    start: u32,
    end: u32,
}

struct Lot {
    members: Vec<usize>,
    value: i64,
    /// The latest start and the earliest end of its members' windows: a need overlaps every
    /// member exactly when its window meets `[start, end]`.
    start: u32,
    end: u32,
}

impl Lot {
    fn new(members: Vec<usize>, needs: &[Need], windows: &Windows) -> Self {
        let mut lot = Lot {
            value: members.iter().map(|&i| needs[i].value_cents()).sum(),
            members,
            start: 0,
            end: u32::MAX,
        };
        lot.reshape(windows);
        lot
    }

    /// Recomputes the window after its members changed.
    fn reshape(&mut self, windows: &Windows) {
        (self.start, self.end) = windows.common(&self.members, None);
    }

    /// Whether a need of window `w` overlaps every member (but `except`).
    fn fits(&self, windows: &Windows, w: Window, except: Option<usize>) -> bool {
        let (start, end) = match except {
            None => (self.start, self.end),
            Some(_) => windows.common(&self.members, except),
        };
        start <= w.end && w.start <= end
    }
}

/// The windows of the needs of a plan, by need.
struct Windows(std::collections::HashMap<usize, Window>);

impl Windows {
    fn new(needs: &[Need], plan: &[Vec<usize>]) -> Self {
        let mut dates: Vec<&str> = plan
            .iter()
            .flatten()
            .flat_map(|&i| [needs[i].window_start.as_str(), needs[i].window_end.as_str()])
            .collect();
        dates.sort_unstable();
        dates.dedup();
        let rank = |d: &str| dates.binary_search(&d).map_or(0, |r| r as u32);
        Windows(
            plan.iter()
                .flatten()
                .map(|&i| {
                    let window = Window {
                        start: rank(&needs[i].window_start),
                        end: rank(&needs[i].window_end),
                    };
                    (i, window)
                })
                .collect(),
        )
    }

    fn of(&self, i: usize) -> Window {
        self.0.get(&i).copied().unwrap_or(Window {
            start: 0,
            end: u32::MAX,
        })
    }

    /// The latest start and earliest end of the windows of `members` but `except`.
    fn common(&self, members: &[usize], except: Option<usize>) -> (u32, u32) {
        members
            .iter()
            .filter(|&&j| Some(j) != except)
            .map(|&j| self.of(j))
            .fold((0, u32::MAX), |(s, e), w| (s.max(w.start), e.min(w.end)))
    }
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
    let windows = Windows::new(needs, &plan);
    let mut lots: Vec<Lot> = plan
        .into_iter()
        .map(|members| Lot::new(members, needs, &windows))
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
                // Every member of one overlaps every member of the other.
                if !cap_ok(value, 2) || la.start > lb.end || lb.start > la.end {
                    continue;
                }
                let delta = scorer.score(value) - scorer.score(la.value) - scorer.score(lb.value);
                if delta > EPS {
                    let moved = std::mem::take(&mut lots[b].members);
                    lots[b].value = 0;
                    lots[a].members.extend(moved);
                    lots[a].value = value;
                    lots[a].reshape(&windows);
                    lots[b].reshape(&windows);
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
                let window = windows.of(i);
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
                        || !target.fits(&windows, window, None)
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
                        lots[a].reshape(&windows);
                        match target {
                            Some(b) => {
                                lots[b].members.push(i);
                                lots[b].value += v;
                                lots[b].reshape(&windows);
                            }
                            None => lots.push(Lot::new(vec![i], needs, &windows)),
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
                            && lots[a].fits(&windows, windows.of(j), Some(i))
                            && lots[b].fits(&windows, windows.of(i), Some(j))
                        {
                            lots[a].members[x] = j;
                            lots[b].members[y] = i;
                            lots[a].value = na;
                            lots[b].value = nb;
                            lots[a].reshape(&windows);
                            lots[b].reshape(&windows);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooling::instance::{test_need, Params};

    /// Merges, moves and swaps only ever put together needs whose windows overlap, the lot's
    /// window kept as the latest start and the earliest end of its members'.
    #[test]
    fn keeps_windows_overlapping() {
        let needs = vec![
            test_need("q1".into(), 40_000.0, "2027-01-01", "2027-03-31"),
            test_need("q2".into(), 40_000.0, "2027-04-01", "2027-06-30"),
            test_need("year".into(), 30_000.0, "2027-01-01", "2027-12-31"),
            test_need("q2-bis".into(), 20_000.0, "2027-05-01", "2027-05-31"),
        ];
        let params = Params::default();
        let scorer = LotScorer::new(&params, "3314", 0);
        let alone: Vec<Vec<usize>> = (0..needs.len()).map(|i| vec![i]).collect();
        let (plan, work) = improve(&needs, alone, &scorer, None, 10_000);
        assert!(work > 0);
        // A lot costs more than it saves alone: the four needs end in two lots, the first
        // quarter's never with the second's.
        assert_eq!(plan.len(), 2, "{plan:?}");
        for lot in &plan {
            assert!(lot
                .iter()
                .all(|&a| lot.iter().all(|&b| needs[a].overlaps(&needs[b]))));
        }
    }
}
