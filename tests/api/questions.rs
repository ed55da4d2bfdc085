//! Questions and answers on a published tender (#22, R2132-6): a company asks until the
//! questions' cut-off; only the coordinator's lead answers, before the answers' cut-off; the
//! answer is published on the notice without the asker and e-mailed to who asked or bid.

use crate::bids::{published, supplier, user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of};
use diesel::prelude::*;
use groupement::db::schema::{notifications, questions, tenders};

both_backends!(a_company_asks_the_lead_answers_everyone_reads, |app| {
    let (reference, _lead, _other, _admin) = published(&app);
    let alpha_id = supplier(&app, "24210041000123", "Alpha");
    let beta_id = supplier(&app, "21210231500017", "Beta");
    user(&app, "alpha@example.fr", "supplier", None, Some(alpha_id));
    user(&app, "beta@example.fr", "supplier", None, Some(beta_id));
    let alpha = session_of(&app, "alpha@example.fr", PASSWORD).await;
    let beta = session_of(&app, "beta@example.fr", PASSWORD).await;
    let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    let other_lead = session_of(&app, "lead.chu@example.fr", PASSWORD).await;
    let notice = format!("/appels-d-offres/{reference}");
    let ask = |fields: Vec<(&'static str, String)>| {
        let (app, alpha, path) = (&app, alpha.clone(), format!("{notice}/questions"));
        async move {
            let mut form: Vec<(&str, &str)> = vec![("csrf_token", alpha.csrf.as_str())];
            form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
            post_form(app, &path, &alpha.cookie(), None, &form).await
        }
    };

    // Beta downloads the consultation file signed in: it will hear of the answers.
    let file = get_with(
        &app,
        &format!("/appels-d-offres/{reference}/dce.zip"),
        &beta.cookie(),
    )
    .await;
    assert_eq!(file.status, 200);

    // The form is on the notice for a signed-in company, with the cut-offs said.
    let page = get_with(&app, &notice, &alpha.cookie()).await;
    assert!(page.body.contains("Envoyer la question"), "{}", page.body);
    assert!(
        page.body.contains("Questions reçues jusqu&#x27;au")
            || page.body.contains("Questions reçues jusqu'au")
    );
    assert!(!get_with(&app, &notice, "")
        .await
        .body
        .contains("Envoyer la question"));

    // A question on a lot the tender lacks, and an empty one: beside their fields, kept.
    let refused = ask(vec![("lot", "9".into()), ("question", "  ".into())]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for expected in [
        "href=\"#question-text\"",
        "aria-describedby=\"question-text-erreur\"",
        "id=\"question-lot-erreur\"",
    ] {
        assert!(
            refused.body.contains(expected),
            "{expected}: {}",
            refused.body
        );
    }
    let asked = ask(vec![
        ("lot", "1".into()),
        (
            "question",
            "Les échantillons sont-ils à fournir avec l'offre ?".into(),
        ),
    ])
    .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    assert!(asked.location.ends_with("?question=envoyee#questions"));

    // Nobody reads it before it is answered; the coordinator's lead sees it, with the asker.
    let public = get_with(&app, &notice, "").await;
    assert!(!public.body.contains("échantillons"));
    let tender: i32 = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let lead_page = get_with(&app, &format!("/consultations/{tender}"), &lead.cookie()).await;
    assert!(lead_page.body.contains("échantillons") && lead_page.body.contains("Alpha"));
    assert!(lead_page.body.contains("Publier la réponse"));
    let question: i32 = questions::table
        .select(questions::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let answer_path = format!("/consultations/{tender}/questions/{question}/reponse");
    let answer = |session: crate::helpers::Session, text: &'static str| {
        let (app, path) = (&app, answer_path.clone());
        async move {
            post_form(
                app,
                &path,
                &session.cookie(),
                None,
                &[("csrf_token", session.csrf.as_str()), ("answer", text)],
            )
            .await
        }
    };
    // Another organisation's lead is not a member (404); a company cannot answer (403).
    assert_eq!(answer(other_lead.clone(), "Non.").await.status, 404);
    assert_eq!(answer(alpha.clone(), "Non.").await.status, 403);
    let answered = answer(
        lead.clone(),
        "Non : les échantillons seront demandés au seul attributaire pressenti.",
    )
    .await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    // Once only.
    assert_eq!(answer(lead.clone(), "Oui.").await.status, 409);

    // Published on the notice for everyone, without the asker; written to who asked.
    let public = get_with(&app, &notice, "").await;
    assert!(public
        .body
        .contains("échantillons seront demandés au seul attributaire"));
    assert!(public.body.contains("Sur lot 1"));
    assert!(!public.body.contains("Alpha"), "the asker stays unnamed");
    let mails: Vec<(String, String)> = notifications::table
        .filter(notifications::template.eq("question_answered"))
        .select((notifications::recipient, notifications::data))
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    let mut to: Vec<&str> = mails.iter().map(|(r, _)| r.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["alpha@example.fr", "beta@example.fr"],
        "who asked and who downloaded"
    );

    // Past the questions' cut-off (ten days before the deadline) a question is refused with
    // the date; past the answers' (six days) so is an answer.
    let ask_more = ask(vec![
        ("lot", "".into()),
        ("question", "Encore une ?".into()),
    ])
    .await;
    assert_eq!(ask_more.status, 303);
    diesel::update(tenders::table.find(tender))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() + chrono::Duration::days(8)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let late = ask(vec![("lot", "".into()), ("question", "Trop tard ?".into())]).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late.body.contains("étaient reçues jusqu"), "{}", late.body);
    let second: i32 = questions::table
        .select(questions::id)
        .order(questions::id.desc())
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    diesel::update(tenders::table.find(tender))
        .set(tenders::deadline.eq(chrono::Utc::now().naive_utc() + chrono::Duration::days(5)))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let too_late = post_form(
        &app,
        &format!("/consultations/{tender}/questions/{second}/reponse"),
        &lead.cookie(),
        None,
        &[("csrf_token", lead.csrf.as_str()), ("answer", "Peut-être.")],
    )
    .await;
    assert_eq!(too_late.status, 409, "{}", too_late.body);
    assert!(too_late.body.contains("R2132-6"), "{}", too_late.body);
});
