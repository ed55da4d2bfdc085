//! A fast constructive plan for a family: group needs by a common delivery day, then pack the
//! needs a local supplier can take into local lots and put the rest in one large lot, keeping
//! the split that scores best. It starts the MILP and stands alone for families too large for
//! it.

use super::instance::Need;
use super::score::LotScorer;

/// Splits needs into as few groups as possible whose windows share a common day (greedy
/// stabbing by earliest end: optimal for intervals). Deterministic: ties by start, then index.
pub fn day_groups(needs: &[Need], members: &[usize]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = members.to_vec();
    order.sort_by(|&a, &b| {
        needs[a]
            .window_end
            .cmp(&needs[b].window_end)
            .then(needs[a].window_start.cmp(&needs[b].window_start))
            .then(a.cmp(&b))
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut taken = vec![false; order.len()];
    for first in 0..order.len() {
        if taken[first] {
            continue;
        }
        let day = &needs[order[first]].window_end;
        let mut group = Vec::new();
        for (k, &i) in order.iter().enumerate().skip(first) {
            if !taken[k] && needs[i].window_start <= *day {
                taken[k] = true;
                group.push(i);
            }
        }
        group.sort_unstable();
        groups.push(group);
    }
    groups
}

/// First-fit decreasing of `items` (need index, value) into bins of `capacity` cents.
pub fn first_fit_decreasing(items: &[(usize, i64)], capacity: i64) -> Vec<Vec<(usize, i64)>> {
    let mut sorted = items.to_vec();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut bins: Vec<(i64, Vec<(usize, i64)>)> = Vec::new();
    for item in sorted {
        match bins.iter_mut().find(|(load, _)| load + item.1 <= capacity) {
            Some((load, content)) => {
                *load += item.1;
                content.push(item);
            }
            None => bins.push((item.1, vec![item])),
        }
    }
    bins.into_iter().map(|(_, content)| content).collect()
}

fn total(bin: &[(usize, i64)]) -> i64 {
    bin.iter().map(|x| x.1).sum()
}

/// Lots for one group of needs that share a day.
fn group_plan(items: &[(usize, i64)], scorer: &LotScorer, max_lot: Option<i64>) -> Vec<Vec<usize>> {
    let score =
        |lots: &[Vec<(usize, i64)>]| -> f64 { lots.iter().map(|l| scorer.score(total(l))).sum() };
    let big_lots = |content: Vec<(usize, i64)>| -> Vec<Vec<(usize, i64)>> {
        match max_lot {
            _ if content.is_empty() => Vec::new(),
            Some(max) if total(&content) > max => first_fit_decreasing(&content, max),
            _ => vec![content],
        }
    };
    // Everything in one lot (or as few as the cap allows).
    let mut best = big_lots(items.to_vec());
    let mut best_score = score(&best);
    // Local lots for the needs a local supplier can take, the k smallest folded back into
    // the large lot, for every k.
    let local_cap = max_lot.map_or(scorer.c_cents, |m| m.min(scorer.c_cents));
    if local_cap > 0 {
        let (small, large): (Vec<_>, Vec<_>) = items.iter().partition(|x| x.1 <= local_cap);
        let mut bins = first_fit_decreasing(&small, local_cap);
        bins.sort_by(|a, b| total(a).cmp(&total(b)).then(a[0].0.cmp(&b[0].0)));
        for k in 0..=bins.len() {
            let mut big: Vec<(usize, i64)> = large.clone();
            for bin in &bins[..k] {
                big.extend_from_slice(bin);
            }
            let mut lots = big_lots(big);
            lots.extend(bins[k..].iter().cloned());
            let candidate = score(&lots);
            if candidate > best_score + 1e-9 {
                best_score = candidate;
                best = lots;
            }
        }
    }
    best.into_iter()
        .map(|lot| {
            let mut ids: Vec<usize> = lot.into_iter().map(|x| x.0).collect();
            ids.sort_unstable();
            ids
        })
        .collect()
}

/// Window-aware best fit: each need, in the given order, joins the fullest lot whose needs all
/// overlap it and that still has room, or opens a lot.
fn best_fit_windows(needs: &[Need], order: &[usize], capacity: i64) -> Vec<Vec<usize>> {
    let mut lots: Vec<(i64, Vec<usize>)> = Vec::new();
    for &i in order {
        let v = needs[i].value_cents();
        let slot = lots
            .iter_mut()
            .filter(|(load, members)| {
                load + v <= capacity && members.iter().all(|&j| needs[j].overlaps(&needs[i]))
            })
            .max_by_key(|(load, _)| *load);
        match slot {
            Some((load, members)) => {
                *load += v;
                members.push(i);
            }
            None => lots.push((v, vec![i])),
        }
    }
    lots.into_iter().map(|(_, members)| members).collect()
}

/// Window-aware first fit: each need, in the given order, joins the first lot whose needs all
/// overlap it and whose value stays within `capacity`, or opens a lot.
fn first_fit_windows(needs: &[Need], order: &[usize], capacity: i64) -> Vec<Vec<usize>> {
    let mut lots: Vec<(i64, Vec<usize>)> = Vec::new();
    for &i in order {
        let v = needs[i].value_cents();
        let slot = lots.iter_mut().find(|(load, members)| {
            load + v <= capacity && members.iter().all(|&j| needs[j].overlaps(&needs[i]))
        });
        match slot {
            Some((load, members)) => {
                *load += v;
                members.push(i);
            }
            None => lots.push((v, vec![i])),
        }
    }
    lots.into_iter().map(|(_, members)| members).collect()
}

/// Groups of needs sharing a day, chosen greedily by value: the day whose needs are worth the
/// most forms the first group, and so on with the rest. With a superadditive curve, large lots
/// gain from being few and large, which this favours over the fewest groups.
pub fn heaviest_day_groups(needs: &[Need], members: &[usize]) -> Vec<Vec<usize>> {
    let mut left: Vec<usize> = members.to_vec();
    let mut groups = Vec::new();
    while !left.is_empty() {
        let mut days: Vec<&String> = left.iter().map(|&i| &needs[i].window_start).collect();
        days.sort();
        days.dedup();
        let weight = |day: &String| -> i64 {
            left.iter()
                .filter(|&&i| needs[i].window_start <= *day && *day <= needs[i].window_end)
                .map(|&i| needs[i].value_cents())
                .sum()
        };
        let Some(best) = days
            .iter()
            .max_by(|a, b| weight(a).cmp(&weight(b)).then(b.cmp(a)))
            .map(|d| (*d).clone())
        else {
            break;
        };
        let (group, rest): (Vec<usize>, Vec<usize>) = left
            .iter()
            .partition(|&&i| needs[i].window_start <= best && best <= needs[i].window_end);
        groups.push(group);
        left = rest;
    }
    groups
}

/// Large lots for needs no local lot takes: one per group sharing a day (or packed under the
/// cap on lot value).
fn large_lots(needs: &[Need], members: &[usize], max_lot: Option<i64>) -> Vec<Vec<usize>> {
    let mut lots = Vec::new();
    for group in heaviest_day_groups(needs, members) {
        let items: Vec<(usize, i64)> = group.iter().map(|&i| (i, needs[i].value_cents())).collect();
        let total: i64 = items.iter().map(|x| x.1).sum();
        match max_lot {
            Some(max) if total > max => lots.extend(
                first_fit_decreasing(&items, max)
                    .into_iter()
                    .map(|bin| bin.into_iter().map(|x| x.0).collect::<Vec<usize>>()),
            ),
            _ => lots.push(group),
        }
    }
    lots
}

/// Candidate plans for the family, each a list of lots (need indices): by groups sharing a
/// day, and by packing local lots across groups (a need for the whole year can fill a lot of
/// one quarter), most constrained windows first or largest needs first.
pub fn candidates(
    needs: &[Need],
    members: &[usize],
    scorer: &LotScorer,
    max_lot: Option<i64>,
) -> Vec<Vec<Vec<usize>>> {
    let mut by_groups = Vec::new();
    for group in heaviest_day_groups(needs, members) {
        let items: Vec<(usize, i64)> = group.iter().map(|&i| (i, needs[i].value_cents())).collect();
        by_groups.extend(group_plan(&items, scorer, max_lot));
    }
    let mut plans = vec![by_groups];
    let local_cap = max_lot.map_or(scorer.c_cents, |m| m.min(scorer.c_cents));
    if local_cap > 0 {
        let (small, large): (Vec<usize>, Vec<usize>) = members
            .iter()
            .partition(|&&i| needs[i].value_cents() <= local_cap);
        let mut days: Vec<&String> = members.iter().map(|&i| &needs[i].window_start).collect();
        days.sort();
        days.dedup();
        // How many of the family's days a need could be delivered on: fewer is more constrained.
        let freedom = |i: usize| {
            days.iter()
                .filter(|d| needs[i].window_start <= ***d && ***d <= needs[i].window_end)
                .count()
        };
        let mut largest_first = small.clone();
        largest_first.sort_by(|&a, &b| {
            needs[b]
                .value_cents()
                .cmp(&needs[a].value_cents())
                .then(a.cmp(&b))
        });
        let mut constrained_first = largest_first.clone();
        constrained_first.sort_by_key(|&i| freedom(i));
        for order in [largest_first, constrained_first] {
            for fit in [first_fit_windows, best_fit_windows] {
                let mut plan = fit(needs, &order, local_cap);
                plan.extend(large_lots(needs, &large, max_lot));
                plans.push(plan);
            }
        }
    }
    plans
}
