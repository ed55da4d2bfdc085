//! Needs imported from a spreadsheet, a CSV file or the JSON API: all rows checked before any
//! is stored, all or nothing.

#[allow(unused_imports)]
use super::*;

/// The needs columns of DESIGN §6, in order (the import's header, the export's).
pub const NEED_COLUMNS: [&str; 11] = [
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

/// Why an import stored nothing.
#[derive(Debug)]
pub enum ImportError {
    /// Every bad row, `row N: field: message`.
    Rows(Vec<RowError>),
    Other(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Other(e)
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Other(e.into())
    }
}

/// Who imports: a signed-in buyer or lead (page, API), or the command line for an
/// organisation named by its code.
pub enum Importer<'a> {
    Actor(&'a Actor),
    CommandLine { organisation: &'a str },
}

/// A row to import: its number (spreadsheet row, or position in an API list), the buyer it
/// names (may be empty) and the need.
pub struct ImportRow {
    pub number: usize,
    pub buyer: String,
    pub need: RawNeed,
}

/// The rows of a needs table.
pub fn rows_of(table: &Table) -> Vec<ImportRow> {
    table
        .rows
        .iter()
        .map(|row| {
            let cell = |name: &str| table.cell(row, name).to_string();
            ImportRow {
                number: row.number,
                buyer: cell("buyer"),
                need: RawNeed {
                    need_id: cell("need_id"),
                    cpv: cell("cpv"),
                    title: cell("title"),
                    description: cell("description"),
                    quantity: cell("quantity"),
                    unit: cell("unit"),
                    unit_price_eur: cell("unit_price_eur"),
                    delivery_postcode: cell("delivery_postcode"),
                    window_start: cell("window_start"),
                    window_end: cell("window_end"),
                    poolable: cell("poolable"),
                },
            }
        })
        .collect()
}

/// Imports rows as submitted needs of one organisation, all or nothing.
pub fn import(
    pool: &Pool,
    importer: Importer<'_>,
    rows: &[ImportRow],
) -> Result<usize, ImportError> {
    let mut conn = pool.get().map_err(AppError::from)?;
    let (organisation_id, actor_id, label) = match importer {
        Importer::Actor(actor) => (
            actor.require_member()?,
            Some(actor.user_id),
            actor.email.clone(),
        ),
        Importer::CommandLine { organisation } => {
            let code = organisation.trim().to_uppercase();
            let id: Option<i32> = organisations::table
                .filter(organisations::code.eq(&code))
                .select(organisations::id)
                .first(&mut conn)
                .optional()?;
            let id = id.ok_or_else(|| {
                AppError::validation("--org", format!("aucune organisation n'a le code {code}"))
            })?;
            (id, None, "ligne de commande".to_string())
        }
    };
    let code = code_of(&mut conn, organisation_id)?;
    let mut errors: Vec<RowError> = Vec::new();
    let mut valid: Vec<ValidNeed> = Vec::with_capacity(rows.len());
    let mut seen = std::collections::HashMap::new();
    for row in rows {
        let (raw, buyer) = (&row.need, row.buyer.trim());
        if !buyer.is_empty() && !buyer.eq_ignore_ascii_case(&code) {
            errors.push(RowError::new(
                row.number,
                "buyer",
                format!("le fichier est importé pour {code}, cette ligne est pour {buyer}"),
            ));
        }
        if let Some(r) = Some(raw.need_id.trim()).filter(|r| !r.is_empty()) {
            if let Some(first) = seen.insert(r.to_string(), row.number) {
                errors.push(RowError::new(
                    row.number,
                    "need_id",
                    format!("« {r} » est déjà à la ligne {first}"),
                ));
            }
        }
        match validate(raw) {
            Ok(need) => valid.push(need),
            Err(problems) => errors.extend(
                problems
                    .into_iter()
                    .map(|(field, message)| RowError::new(row.number, field, message)),
            ),
        }
    }
    if rows.is_empty() {
        errors.push(RowError::new(
            1,
            "file",
            "le fichier ne contient aucune ligne de besoin",
        ));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ImportError::Rows(errors));
    }
    let provenance = format!("import du {}", Utc::now().format("%Y-%m-%d %H:%M UTC"));
    write_transaction(&mut conn, |conn| {
        // References already stored: checked inside the transaction, then inserted in batches.
        let mut taken: Vec<RowError> = Vec::new();
        for (need, row) in valid.iter().zip(rows) {
            if let Some(r) = &need.external_ref {
                if reference_taken(conn, organisation_id, r, None)? {
                    taken.push(RowError::new(
                        row.number,
                        "need_id",
                        format!("{code} a déjà un besoin de référence « {r} »"),
                    ));
                }
            }
        }
        if !taken.is_empty() {
            return Err(ImportError::Rows(taken));
        }
        for chunk in valid.chunks(500) {
            let rows: Vec<NewNeed> = chunk
                .iter()
                .map(|n| insertable(n, organisation_id, "submitted", Some(&provenance), actor_id))
                .collect();
            crate::per_backend!(conn, c => diesel::insert_into(needs::table).values(&rows).execute(c))?;
        }
        audit::record(
            conn,
            audit::Author {
                user_id: actor_id,
                label: &label,
            },
            Change::new("need.imported", "organisation", organisation_id)
                .after(format!("{} besoins", valid.len())),
        )?;
        Ok(valid.len())
    })
}
