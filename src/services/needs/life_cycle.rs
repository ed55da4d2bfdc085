//! A need's moves along its life cycle (`domain::NeedStatus`): one by one for its buyer
//! (`move_needs`: submit, withdraw), all of a tender or a lot at once for pooling, approval and
//! award (`move_needs_together`); each a conditional update on the statuses it may start from.

#[allow(unused_imports)]
use super::*;

/// Moves needs of the actor's organisation from `from` to `to` (withdraw, submit); every one
/// must be movable, or nothing moves.
pub(super) fn transition(
    pool: &Pool,
    actor: &Actor,
    ids: &[i32],
    to: NeedStatus,
) -> Result<usize, AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        move_needs(conn, actor.into(), organisation_id, ids, to)
    })
}

/// Moves needs of an organisation to `to`, each by a conditional update on the statuses the
/// life cycle allows it from (`NeedStatus::can_move_to`), audited; the first need that may not
/// move refuses the whole (the caller's transaction is undone), with a message saying why.
pub fn move_needs(
    conn: &mut AnyConnection,
    actor: audit::Author<'_>,
    organisation_id: i32,
    ids: &[i32],
    to: NeedStatus,
) -> Result<usize, AppError> {
    let from = NeedStatus::predecessors(to);
    for &id in ids {
        let before: String = needs::table
            .find(id)
            .filter(needs::organisation_id.eq(organisation_id))
            .select(needs::status)
            .first(conn)?;
        let moved = diesel::update(
            needs::table
                .find(id)
                .filter(needs::organisation_id.eq(organisation_id))
                .filter(needs::status.eq_any(&from)),
        )
        .set((
            needs::status.eq(to),
            needs::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
        if moved != 1 {
            let label = NeedStatus::parse(&before).map_or("inconnu", NeedStatus::label_fr);
            let why = match NeedStatus::parse(&before) {
                Some(NeedStatus::Pooled) => {
                    " : il fait partie d'une consultation que les membres approuvent ; demandez au \
                     responsable achats qui la coordonne de la renvoyer"
                }
                _ => "",
            };
            return Err(AppError::Conflict(format!(
                "le besoin {id} est « {label} » : il ne peut pas devenir « {} »{why}",
                to.label_fr()
            )));
        }
        audit::record(
            conn,
            actor,
            Change::new("need.status_changed", "need", id).before_after(before, to.code()),
        )?;
    }
    Ok(ids.len())
}

/// Moves the needs of a tender or a lot together (pooling, approval, award), whatever their
/// organisations: only those whose status may move to `to` move, in one conditional update;
/// the caller says what a shorter count means. Returns how many moved.
pub fn move_needs_together(
    conn: &mut AnyConnection,
    ids: &[i32],
    to: NeedStatus,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        needs::table
            .filter(needs::id.eq_any(ids))
            .filter(needs::status.eq_any(NeedStatus::predecessors(to))),
    )
    .set(needs::status.eq(to))
    .execute(conn)?)
}

pub fn withdraw(pool: &Pool, actor: &Actor, id: i32) -> Result<NeedView, AppError> {
    transition(pool, actor, &[id], NeedStatus::Withdrawn)?;
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    load(&mut conn, organisation_id, id)
}

/// Submits drafts for pooling, all or none.
pub fn submit(pool: &Pool, actor: &Actor, ids: &[i32]) -> Result<usize, AppError> {
    transition(pool, actor, ids, NeedStatus::Submitted)
}

/// The member shows its need's title on the public purchase programme (`oui`), or stops
/// showing it (`non`) (#24): the title only, never the quantity or the amount. Another organisation's need: not
/// found.
pub fn publish_title(pool: &Pool, actor: &Actor, id: i32, choice: &str) -> Result<(), AppError> {
    let organisation_id = actor.require_member()?;
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        // Another organisation's need: not found, before the choice is read.
        let owned: i64 = needs::table
            .find(id)
            .filter(needs::organisation_id.eq(organisation_id))
            .count()
            .get_result(conn)?;
        if owned == 0 {
            return Err(AppError::NotFound);
        }
        let public = match choice {
            "oui" => true,
            "non" => false,
            _ => {
                return Err(AppError::validation(
                    "programme",
                    "publier (oui) ou ne plus publier (non) l'intitulé",
                ))
            }
        };
        let changed = diesel::update(
            needs::table
                .find(id)
                .filter(needs::organisation_id.eq(organisation_id)),
        )
        .set((
            needs::title_public.eq(public),
            needs::updated_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            actor.into(),
            Change::new("need.title_public", "need", id).after(if public {
                "intitulé publié sur le programme des achats"
            } else {
                "intitulé retiré du programme des achats"
            }),
        )?;
        Ok(())
    })
}
