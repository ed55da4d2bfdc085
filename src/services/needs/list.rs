//! The needs list of an organisation: filters, totals by status and division, a page at a
//! time, kept in a small cache keyed by the organisation's needs version.

#[allow(unused_imports)]
use super::*;

/// Filters of a list of needs; every field optional.
#[derive(
    Debug, Default, Clone, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::IntoParams,
)]
#[into_params(parameter_in = Query)]
pub struct NeedFilter {
    #[serde(default)]
    pub status: String,
    /// Start of the CPV code (`33`, `3314`, …).
    #[serde(default)]
    pub cpv: String,
    #[serde(default)]
    pub year: Option<i32>,
    /// Needs whose delivery window meets `[from, to]`.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusTotal {
    pub status: String,
    pub count: i64,
    pub value_eur: f64,
}

/// Count and value of needs of one CPV division (the dashboard card).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DivisionTotal {
    pub division: String,
    pub label: String,
    pub count: i64,
    pub value_eur: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NeedList {
    pub needs: Vec<NeedView>,
    pub total: i64,
    pub total_value_eur: f64,
    pub by_status: Vec<StatusTotal>,
    pub by_division: Vec<DivisionTotal>,
    pub page: i64,
    pub pages: i64,
    pub per_page: i64,
}

pub const STATUSES: [&str; 7] = [
    "draft",
    "submitted",
    "pooled",
    "tendered",
    "awarded",
    "withdrawn",
    "unsuccessful",
];

/// One page of the actor's organisation's needs, newest first, with the count and value of
/// every matching need by status; served again from `cache` while the organisation's needs
/// are unchanged.
pub fn list(
    pool: &Pool,
    cache: &ListCache,
    actor: &Actor,
    filter: &NeedFilter,
) -> Result<Arc<NeedList>, AppError> {
    let organisation = actor.require_member()?;
    let Some(version) = actor.needs_version else {
        return list_at_most(pool, actor, filter, 500).map(Arc::new);
    };
    let key = (organisation, filter.clone());
    if let Some(list) = cache.get(&key, version) {
        return Ok(list);
    }
    let list = Arc::new(list_at_most(pool, actor, filter, 500)?);
    if list.needs.len() <= ListCache::MOST_ROWS {
        cache.put(key, version, list.clone());
    }
    Ok(list)
}

/// The needs lists computed lately, by organisation and filter, each with the version of the
/// organisation's needs it was computed at. That version (`organisations.needs_version`) is
/// raised by the database itself whenever one of the organisation's needs changes, in the
/// transaction that changes it, and is read with the credential of each request
/// ([`Actor::needs_version`]): a list is served again only if the version is still the same,
/// so every instance of the portal, each with its own cache, shows every committed change at
/// once. A list is computed after its actor's version was read: it is at least that recent.
#[derive(Debug, Default)]
pub struct ListCache {
    lists: Mutex<HashMap<ListKey, (i64, Arc<NeedList>)>>,
}

pub(super) type ListKey = (i32, NeedFilter);

impl ListCache {
    /// How many lists are kept (about 30 KB each for a page of 50): beyond, all are dropped.
    const CAPACITY: usize = 256;
    /// Longer pages (up to 500) are not kept: at most about 15 MB in all.
    const MOST_ROWS: usize = 100;

    fn get(&self, key: &ListKey, version: i64) -> Option<Arc<NeedList>> {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        match lists.get(key) {
            Some((at, list)) if *at == version => Some(list.clone()),
            _ => None,
        }
    }

    fn put(&self, key: ListKey, version: i64, list: Arc<NeedList>) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        // (A request that read an older version and finished later does not replace a newer list.)
        if lists.get(&key).is_some_and(|(at, _)| *at > version) {
            return;
        }
        if lists.len() >= Self::CAPACITY && !lists.contains_key(&key) {
            lists.clear();
        }
        lists.insert(key, (version, list));
    }
}

/// [`list`], with pages of up to `most` needs.
pub(super) fn list_at_most(
    pool: &Pool,
    actor: &Actor,
    filter: &NeedFilter,
    most: i64,
) -> Result<NeedList, AppError> {
    let organisation_id = actor.require_member()?;
    let status = filter.status.trim();
    if !status.is_empty() && !STATUSES.contains(&status) {
        return Err(AppError::validation(
            "status",
            format!("« {status} » n'est pas un statut ({})", STATUSES.join(", ")),
        ));
    }
    let cpv = filter.cpv.trim();
    if !cpv.bytes().all(|b| b.is_ascii_digit()) || cpv.len() > 8 {
        return Err(AppError::validation(
            "cpv",
            "un début de code CPV : de 1 à 8 chiffres",
        ));
    }
    let day = |field: &'static str, text: &str| match text.trim() {
        "" => Ok(None),
        t => parse_date(t)
            .map(Some)
            .map_err(|e| AppError::validation(field, e.0)),
    };
    let (from, to) = (day("from", &filter.from)?, day("to", &filter.to)?);
    let per_page = filter.per_page.unwrap_or(50).clamp(1, most);
    // The filter, once for the totals and once for the page.
    type Predicate<'a> =
        Box<dyn BoxableExpression<needs::table, MultiBackend, SqlType = Bool> + 'a>;
    let matching = || -> Predicate<'_> {
        let mut p: Predicate<'_> = Box::new(needs::organisation_id.eq(organisation_id));
        if !status.is_empty() {
            p = Box::new(p.and(needs::status.eq(status.to_string())));
        }
        if !cpv.is_empty() {
            p = Box::new(p.and(needs::cpv_code.like(format!("{cpv}%"))));
        }
        if let Some(year) = filter.year {
            p = Box::new(p.and(needs::budget_year.eq(year)));
        }
        if let Some(from) = from {
            p = Box::new(p.and(needs::window_end.ge(from)));
        }
        if let Some(to) = to {
            p = Box::new(p.and(needs::window_start.le(to)));
        }
        p
    };
    let mut conn = pool.get()?;
    // Count and value by status and CPV code over every matching need, summed by the database
    // (from the index `needs_org_totals` alone when unfiltered).
    let groups: Vec<(String, String, i64, i64)> = needs::table
        .filter(matching())
        .group_by((needs::status, needs::cpv_code))
        .select((
            needs::status,
            needs::cpv_code,
            diesel::dsl::count_star(),
            SumOfValues,
        ))
        .load(&mut conn)?;
    let mut divisions: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for (_, code, count, cents) in &groups {
        let entry = divisions.entry(code.get(..2).unwrap_or("")).or_default();
        entry.0 += count;
        entry.1 += cents;
    }
    let catalog = CpvCatalog::embedded();
    let mut by_division: Vec<DivisionTotal> = divisions
        .into_iter()
        .map(|(division, (count, cents))| DivisionTotal {
            label: catalog
                .get(&format!("{division}000000"))
                .map(|e| e.label_fr.clone())
                .unwrap_or_default(),
            division: division.to_string(),
            count,
            value_eur: cents as f64 / 100.0,
        })
        .collect();
    by_division.sort_by(|a, b| b.value_eur.total_cmp(&a.value_eur));
    let mut by_status: Vec<StatusTotal> = Vec::new();
    let total: i64 = groups.iter().map(|(_, _, count, _)| count).sum();
    let mut total_cents = 0i64;
    for status in STATUSES {
        let (count, cents) = groups
            .iter()
            .filter(|(s, _, _, _)| s == status)
            .fold((0, 0), |(n, c), (_, _, count, cents)| {
                (n + count, c + cents)
            });
        total_cents += cents;
        if count > 0 {
            by_status.push(StatusTotal {
                status: status.to_string(),
                count,
                value_eur: cents as f64 / 100.0,
            });
        }
    }
    let pages = match total {
        0 => 1,
        n => (n - 1) / per_page + 1,
    };
    let page = filter.page.unwrap_or(1).clamp(1, pages);
    let rows: Vec<Need> = needs::table
        .filter(matching())
        .order(needs::id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .select(Need::as_select())
        .load(&mut conn)?;
    // (The actor carries its organisation's code: no query for it.)
    let code = match &actor.organisation {
        Some(code) => code.clone(),
        None => code_of(&mut conn, organisation_id)?,
    };
    Ok(NeedList {
        needs: rows.into_iter().map(|n| view(n, &code)).collect(),
        total,
        total_value_eur: total_cents as f64 / 100.0,
        by_status,
        by_division,
        page,
        pages,
        per_page,
    })
}

/// `SUM` of the needs' values in cents, each rounded to the cent first as [`value_cents`] does
/// (values are never negative, so SQL's integer division rounds as Rust's does); within 64 bits
/// thanks to [`MAX_NEED_VALUE_CENTS`]. A typed expression rather than `sql()` text so that the
/// statement is prepared once per connection (diesel never caches `sql()`), and `CAST` because
/// PostgreSQL's `SUM` of a `BIGINT` is a `NUMERIC`.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(super) struct SumOfValues;

impl Expression for SumOfValues {
    type SqlType = BigInt;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for SumOfValues {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("CAST(SUM((quantity_milli * unit_price_cents + 500) / 1000) AS BIGINT)");
        Ok(())
    }
}

impl diesel::expression::AppearsOnTable<needs::table> for SumOfValues {}

impl diesel::expression::SelectableExpression<needs::table> for SumOfValues {}

impl<GroupBy> diesel::expression::ValidGrouping<GroupBy> for SumOfValues {
    type IsAggregate = diesel::expression::is_aggregate::Yes;
}

/// Every need matching the filter (for exports), newest first.
pub fn all_matching(
    pool: &Pool,
    actor: &Actor,
    filter: &NeedFilter,
) -> Result<Vec<NeedView>, AppError> {
    // (Every one: `list` pages by 500 at most, and an export is not a page.)
    let mut everything = filter.clone();
    everything.page = Some(1);
    everything.per_page = Some(i64::MAX);
    list_at_most(pool, actor, &everything, i64::MAX).map(|l| l.needs)
}
