//! The frontier of plans in the portal (#26): the worker computes it with the run; the run
//! page draws it and lists its plans; the lead picks a plan, or the share of value local SMEs
//! should be able to take, and the proposal becomes that plan, each tender and lot saying what
//! the choice cost or gained; bad choices are refused beside their field.

use crate::both_backends;
use crate::helpers::{get_with, session_of, Session, TestApp};
use crate::pooling_journey::{members, pool_needs, post, submit_needs, suppliers, PASSWORD};
use diesel::prelude::*;
use groupement::db::schema::{audit_log, pooling_runs};
use groupement_solver::pooling::{Frontier, Plan};

/// Text as the pages write it (handlebars escapes the apostrophe).
fn html(text: &str) -> String {
    text.replace('\'', "&#x27;")
}

fn run_id(path: &str) -> i32 {
    path.rsplit('/').next().unwrap().parse().unwrap()
}

/// The run's stored plan, frontier and local weight.
fn stored(app: &TestApp, path: &str) -> (Option<Plan>, Frontier, f64) {
    let (plan, frontier, parameters): (Option<String>, Option<String>, String) =
        pooling_runs::table
            .find(run_id(path))
            .select((
                pooling_runs::plan,
                pooling_runs::frontier,
                pooling_runs::parameters,
            ))
            .first(&mut app.pool.get().unwrap())
            .unwrap();
    let parameters: groupement::services::pooling::StoredParameters =
        serde_json::from_str(&parameters).unwrap();
    (
        plan.map(|p| serde_json::from_str(&p).unwrap()),
        serde_json::from_str(&frontier.expect("the worker stored the frontier")).unwrap(),
        parameters.params.local_weight,
    )
}

/// Waits until the run is a proposal again.
async fn proposed(app: &TestApp, lead: &Session, path: &str) -> String {
    for _ in 0..400 {
        let page = get_with(app, path, &lead.cookie()).await;
        if page.body.contains("proposition à examiner") {
            return page.body;
        }
        assert!(!page.body.contains("a échoué"), "{}", page.body);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the run was not computed again");
}

/// The plan's figures are those of point `k` of the frontier.
fn plan_is_point(plan: &Plan, frontier: &Frontier, k: usize) {
    let point = &frontier.points[k];
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
    assert_eq!(plan.kpis.lots_after, point.lots, "{point:?}");
    assert!(close(plan.kpis.local_share_after, point.local_share));
    assert!(close(
        plan.kpis.expected_discount_after,
        point.expected_discount_eur
    ));
    assert_eq!(plan.kpis.procedures_after, point.procedures);
}

both_backends!(a_lead_picks_a_plan_on_the_frontier, |app| {
    members(&app);
    suppliers(&app);
    let ub_buyer = session_of(&app, "buyer.ub@example.fr", PASSWORD).await;
    let chu_buyer = session_of(&app, "buyer.chu@example.fr", PASSWORD).await;
    submit_needs(
        &app,
        &ub_buyer,
        &[("Compresses", "40000"), ("Bandes", "20000")],
    )
    .await;
    submit_needs(&app, &chu_buyer, &[("Pansements", "9000")]).await;
    let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
    let path = pool_needs(&app, &lead).await;

    // The worker stored the frontier with the plan; the plan stands on it.
    let (plan, frontier, weight) = stored(&app, &path);
    let plan = plan.unwrap();
    assert!(
        frontier.points.len() >= 2,
        "this instance trades savings for local access: {frontier:?}"
    );
    let (current, _) = groupement::services::pooling::point_of_plan(&frontier, &plan, weight)
        .expect("the proposal is a plan of the frontier");
    plan_is_point(&plan, &frontier, current);
    let last = frontier.points.len() - 1;

    // The page draws it and lists every plan, the current one marked, the others choosable.
    let page = get_with(&app, &path, &lead.cookie()).await;
    for expected in [
        "Économie ou accès local : choisir le plan",
        "Frontière des plans : économie attendue et part locale",
        &format!("{} (choix actuel)", current + 1),
        "Trouver ce plan",
        "les changements faits à la main sur la proposition sont alors perdus",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    // The summary's euros saved are the current plan's on the frontier (no local bonus in it).
    let economy = groupement::web::pooling::euros(frontier.points[current].savings_eur);
    assert!(
        page.body.contains(&format!(
            "<dt>Économie attendue</dt><dd><strong>{economy}</strong>"
        )),
        "{economy}: {}",
        page.body
    );
    for k in 0..frontier.points.len() {
        let button = format!("name=\"point\" value=\"{}\"", k + 1);
        assert_eq!(page.body.contains(&button), k != current, "{button}");
    }

    // A buyer cannot choose; a choice the frontier does not have is said beside its field,
    // nothing changes.
    let refused = post(
        &app,
        &ub_buyer,
        &format!("{path}/frontiere"),
        &[("point", "1")],
    )
    .await;
    assert_eq!(refused.status, 403);
    for (field, value, expected) in [
        ("point", "99", "n'est pas un plan de la frontière"),
        ("part_locale", "120", "n'est pas un pourcentage de 0 à 100"),
        (
            "part_locale",
            "beaucoup",
            "n'est pas un pourcentage de 0 à 100",
        ),
        ("part_locale", "", "indiquez la part de la valeur"),
    ] {
        let answer = post(&app, &lead, &format!("{path}/frontiere"), &[(field, value)]).await;
        assert_eq!(answer.status, 422, "{field}={value}: {}", answer.body);
        assert!(
            answer.body.contains(&html(expected)),
            "{expected}: {}",
            answer.body
        );
        assert!(answer.body.contains("aria-invalid=\"true\""));
    }
    let best = frontier.points[last].local_share * 100.0;
    if best < 99.0 {
        let above = format!("{:.1}", best + 0.5).replace('.', ",");
        let answer = post(
            &app,
            &lead,
            &format!("{path}/frontiere"),
            &[("part_locale", &above)],
        )
        .await;
        assert_eq!(answer.status, 422);
        assert!(
            answer.body.contains(&html("aucun plan n'atteint")),
            "{}",
            answer.body
        );
        assert!(answer.body.contains(&format!("value=\"{above}\"")));
    }
    assert_eq!(stored(&app, &path).0.unwrap(), plan);

    // The savings-only plan: the run is computed again there, the frontier kept.
    let chosen = post(&app, &lead, &format!("{path}/frontiere"), &[("point", "1")]).await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    assert_eq!(chosen.location, path);
    proposed(&app, &lead, &path).await;
    let (first_plan, kept, weight) = stored(&app, &path);
    let first_plan = first_plan.unwrap();
    assert_eq!(kept, frontier);
    assert_eq!(weight, frontier.points[0].weight());
    plan_is_point(&first_plan, &frontier, 0);
    let page = get_with(&app, &path, &lead.cookie()).await;
    assert!(page.body.contains("1 (choix actuel)"));
    assert!(!page.body.contains(&html("Choix d'accès local")));

    // The most local plan, by the share wanted: the plan with the most savings reaching it.
    let wanted = format!("{:.1}", best - 0.05).replace('.', ",");
    let chosen = post(
        &app,
        &lead,
        &format!("{path}/frontiere"),
        &[("part_locale", &wanted)],
    )
    .await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    let page = proposed(&app, &lead, &path).await;
    let (local_plan, _, _) = stored(&app, &path);
    let local_plan = local_plan.unwrap();
    let reaching = frontier
        .points
        .iter()
        .position(|p| {
            std::ptr::eq(
                p,
                frontier.cheapest_reaching(best / 100.0 - 0.0005).unwrap(),
            )
        })
        .unwrap();
    plan_is_point(&local_plan, &frontier, reaching);
    assert!(local_plan.kpis.local_share_after > first_plan.kpis.local_share_after);
    // What the choice cost, on the summary and on the tender's page, lot by lot.
    assert!(page.contains(&html("Choix d'accès local")), "{page}");
    let tender = local_plan
        .tenders
        .iter()
        .find(|t| t.lots.len() > 1 || t.lots.iter().any(|l| l.local_accessible))
        .unwrap();
    let tender_page = get_with(
        &app,
        &format!("{path}/consultations/{}", tender.family),
        &lead.cookie(),
    )
    .await;
    assert!(
        tender_page.body.contains("Plan choisi"),
        "{}",
        tender_page.body
    );
    assert!(tender_page
        .body
        .contains("par rapport au plan le plus économe"));
    assert!(tender_page
        .body
        .contains(&html("Lot découpé pour l'accès local")));

    // Every choice is in the journal.
    let chosen: Vec<(String, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("pooling.point_chosen"))
        .order(audit_log::id)
        .select((audit_log::object_id, audit_log::after_summary))
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(chosen.len(), 2, "{chosen:?}");
    assert!(chosen[0].1.as_deref().unwrap().starts_with("plan 1 sur"));

    // Once the proposal is accepted, no plan can be chosen any more.
    let accepted = post(&app, &lead, &format!("{path}/accepter"), &[]).await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let late = post(&app, &lead, &format!("{path}/frontiere"), &[("point", "1")]).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late
        .body
        .contains("se choisit sur une proposition à examiner"));
});
