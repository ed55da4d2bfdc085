//! Questions and answers on a published tender (R2132-6 of the Code de la commande publique).
//! A company, signed in, asks about the tender or one of its lots until the questions' cut-off;
//! the coordinator's lead answers; the answer is published on the notice to everyone, without
//! the asker, and e-mailed to the companies that asked or bid. Answers are due at least
//! [`ANSWER_DAYS`] days before the deadline: past that day an answer needs the deadline moved
//! first (a change, [`super::change`]), after which the cut-offs follow the new deadline.

#[allow(unused_imports)]
use super::*;
use crate::db::schema::questions;
use crate::domain::paris_text;

/// Days before the deadline after which no question is taken (the lead needs time to answer
/// within [`ANSWER_DAYS`]).
pub const QUESTION_DAYS: i64 = 10;
/// Days before the deadline by which answers are given (R2132-6: at least six).
pub const ANSWER_DAYS: i64 = 6;
/// The same two when urgency is declared (R2132-6: answers at least four days before).
pub const URGENT_QUESTION_DAYS: i64 = 7;
pub const URGENT_ANSWER_DAYS: i64 = 4;
/// The longest question and answer, in characters.
pub const QUESTION_CHARS: usize = 4000;
pub const ANSWER_CHARS: usize = 8000;

/// A question as the notice shows it, once answered (never who asked).
#[derive(Debug, Clone, Serialize)]
pub struct PublicAnswer {
    pub id: i32,
    /// The lot it is about, or `None` for the whole tender.
    pub lot: Option<i32>,
    pub question: String,
    pub answer: String,
    pub asked_at: NaiveDateTime,
    pub answered_at: NaiveDateTime,
}

/// A question as the coordinator's lead sees it: who asked, and the answer once given.
#[derive(Debug, Clone, Serialize)]
pub struct LeadQuestion {
    pub id: i32,
    pub lot: Option<i32>,
    pub company: String,
    pub question: String,
    pub asked_at: NaiveDateTime,
    pub answer: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
}

/// The two cut-offs of a tender with this deadline: questions until the first, answers until
/// the second (closer to the deadline when urgency is declared).
pub fn cut_offs(deadline: NaiveDateTime, urgent: bool) -> (NaiveDateTime, NaiveDateTime) {
    let (questions, answers) = match urgent {
        true => (URGENT_QUESTION_DAYS, URGENT_ANSWER_DAYS),
        false => (QUESTION_DAYS, ANSWER_DAYS),
    };
    (
        deadline - Duration::days(questions),
        deadline - Duration::days(answers),
    )
}

/// How many days before the deadline answers are due.
pub fn answer_days(urgent: bool) -> i64 {
    match urgent {
        true => URGENT_ANSWER_DAYS,
        false => ANSWER_DAYS,
    }
}

/// A published tender's id, deadline and lot numbers; "not found" for any other.
fn published(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<(i32, NaiveDateTime, bool, Vec<i32>), AppError> {
    let (id, deadline, urgent): (i32, Option<NaiveDateTime>, bool) = tenders::table
        .filter(tenders::reference.eq(reference))
        .filter(tenders::status.eq(TenderStatus::Published))
        .select((tenders::id, tenders::deadline, tenders::urgent))
        .first(conn)?;
    let deadline =
        deadline.ok_or_else(|| AppError::internal(format!("{reference} has no deadline")))?;
    let numbers = lots::table
        .filter(lots::tender_id.eq(id))
        .order(lots::number)
        .select(lots::number)
        .load(conn)?;
    Ok((id, deadline, urgent, numbers))
}

/// A company asks a question about a published tender (`lot`: empty for the whole tender, or
/// a lot's number) before the questions' cut-off. Returns the question's id.
pub fn ask(
    pool: &Pool,
    actor: &Actor,
    reference: &str,
    lot: &str,
    text: &str,
) -> Result<i32, AppError> {
    let supplier_id = actor.require_supplier()?;
    let mut problems = crate::error::Problems::default();
    let text = text.trim();
    if text.is_empty() || text.chars().count() > QUESTION_CHARS {
        problems.add("question", format!("de 1 à {QUESTION_CHARS} caractères"));
    }
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let (tender_id, deadline, urgent, numbers) = published(conn, reference)?;
        let lot = match lot.trim() {
            "" => None,
            text => match text.parse::<i32>().ok().filter(|n| numbers.contains(n)) {
                Some(n) => Some(n),
                None => {
                    problems.add("lot", format!("« {text} » n'est pas un lot de {reference}"));
                    None
                }
            },
        };
        std::mem::take(&mut problems).finish()?;
        let (questions_until, answers_until) = cut_offs(deadline, urgent);
        let now = Utc::now().naive_utc();
        if now > questions_until {
            return Err(AppError::Conflict(format!(
                "les questions sur {reference} étaient reçues jusqu'au {} ({} jours avant la date \
                 limite du {}, pour que les réponses soient données au moins {} jours avant)",
                paris_text(questions_until),
                (deadline - questions_until).num_days(),
                paris_text(deadline),
                (deadline - answers_until).num_days()
            )));
        }
        let id: i32 = diesel::insert_into(questions::table)
            .values((
                questions::tender_id.eq(tender_id),
                questions::lot_number.eq(lot),
                questions::supplier_id.eq(supplier_id),
                questions::asked_by.eq(actor.user_id),
                questions::question.eq(text),
                questions::asked_at.eq(now),
            ))
            .returning(questions::id)
            .get_result(conn)?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.question_asked", "tender", tender_id).after(format!(
                "{reference} : question n° {id}{}",
                lot.map_or(String::new(), |n| format!(" sur le lot {n}"))
            )),
        )?;
        Ok(id)
    })
}

/// The answered questions of a tender, oldest first, as anyone reads them.
pub fn public_answers(conn: &mut AnyConnection, tender_id: i32) -> QueryResult<Vec<PublicAnswer>> {
    type Row = (
        i32,
        Option<i32>,
        String,
        Option<String>,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = questions::table
        .filter(questions::tender_id.eq(tender_id))
        .filter(questions::answered_at.is_not_null())
        .order(questions::id)
        .select((
            questions::id,
            questions::lot_number,
            questions::question,
            questions::answer,
            questions::asked_at,
            questions::answered_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, lot, question, answer, asked_at, answered_at)| {
            Some(PublicAnswer {
                id,
                lot,
                question,
                answer: answer?,
                asked_at,
                answered_at: answered_at?,
            })
        })
        .collect())
}

/// Every question of a tender, for its coordinator's lead (the caller checks who asks): the
/// ones waiting first.
pub(super) fn of_tender(
    conn: &mut AnyConnection,
    tender_id: i32,
) -> QueryResult<Vec<LeadQuestion>> {
    type Row = (
        i32,
        Option<i32>,
        String,
        String,
        NaiveDateTime,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = questions::table
        .inner_join(suppliers::table)
        .filter(questions::tender_id.eq(tender_id))
        .order(questions::id)
        .select((
            questions::id,
            questions::lot_number,
            suppliers::name,
            questions::question,
            questions::asked_at,
            questions::answer,
            questions::answered_at,
        ))
        .load(conn)?;
    let mut out: Vec<LeadQuestion> = rows
        .into_iter()
        .map(
            |(id, lot, company, question, asked_at, answer, answered_at)| LeadQuestion {
                id,
                lot,
                company,
                question,
                asked_at,
                answer,
                answered_at,
            },
        )
        .collect();
    out.sort_by_key(|q| (q.answered_at.is_some(), q.id));
    Ok(out)
}

/// The coordinator's lead answers a question, once, before the answers' cut-off; the answer
/// goes on the notice and to every company that asked a question on the tender or bid on it.
/// Returns how many companies are written to.
pub fn answer(
    pool: &Pool,
    actor: &Actor,
    base_url: &str,
    tender_id: i32,
    question_id: i32,
    text: &str,
) -> Result<usize, AppError> {
    let organisation_id = actor.require_lead()?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > ANSWER_CHARS {
        return Err(AppError::validation(
            "réponse",
            format!("de 1 à {ANSWER_CHARS} caractères"),
        ));
    }
    let mut conn = pool.get()?;
    write_transaction(&mut conn, |conn| {
        let status = coordinated_status(conn, organisation_id, tender_id)?;
        if status != TenderStatus::Published.code() {
            return Err(AppError::Conflict(format!(
                "la consultation est « {} » : on ne répond qu'aux questions d'une consultation publiée",
                TenderStatus::parse(&status).map_or("inconnu", TenderStatus::label_fr)
            )));
        }
        let (reference, title, deadline, urgent): (String, String, Option<NaiveDateTime>, bool) =
            tenders::table
                .find(tender_id)
                .select((
                    tenders::reference,
                    tenders::title,
                    tenders::deadline,
                    tenders::urgent,
                ))
                .first(conn)?;
        let deadline =
            deadline.ok_or_else(|| AppError::internal(format!("{reference} has no deadline")))?;
        let (_, answers_until) = cut_offs(deadline, urgent);
        let now = Utc::now().naive_utc();
        if now > answers_until {
            return Err(AppError::Conflict(format!(
                "les réponses devaient être données au plus tard le {} ({} jours avant la date \
                 limite, article R2132-6) : pour répondre, reportez d'abord la date limite par un \
                 rectificatif",
                paris_text(answers_until),
                answer_days(urgent)
            )));
        }
        let (question, lot): (String, Option<i32>) = questions::table
            .filter(questions::id.eq(question_id))
            .filter(questions::tender_id.eq(tender_id))
            .select((questions::question, questions::lot_number))
            .first(conn)?;
        let changed = diesel::update(
            questions::table
                .find(question_id)
                .filter(questions::answered_at.is_null()),
        )
        .set((
            questions::answer.eq(text),
            questions::answered_by.eq(actor.user_id),
            questions::answered_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(
                "cette question a déjà sa réponse, publiée sur l'avis".into(),
            ));
        }
        // Everyone concerned: the companies that asked, bid or downloaded the file signed in.
        let link = format!("{base_url}/appels-d-offres/{reference}#questions");
        let written = super::changes::write_to_concerned(
            conn,
            tender_id,
            ("question_answered", &format!("answer:{question_id}")),
            |_, locale, _| {
                json!({
                    "locale": locale,
                    "reference": reference,
                    "title": title,
                    "question": question,
                    "answer": text,
                    "lot": lot,
                    "deadline": paris_text(deadline),
                    "link": link,
                })
            },
        )?;
        audit::record(
            conn,
            actor.into(),
            Change::new("tender.question_answered", "tender", tender_id).after(format!(
                "{reference} : réponse à la question n° {question_id}, envoyée à {written} entreprise(s)"
            )),
        )?;
        Ok(written)
    })
}
