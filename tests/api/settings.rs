//! The procurement settings (territory, thresholds, periods) live in the database with their
//! dates of effect (#19): recorded ahead by the admin, read by a run on its launch day, by a
//! publication on its day, and never rewritten once in force.

use crate::bids::{user, PASSWORD};
use crate::both_backends;
use crate::helpers::{get_with, post_form, session_of};
use crate::life_cycle::{paper, ub_lead};
use groupement::services::settings::{self, SettingsForm};
use groupement::services::{needs as need_service, pooling};

fn paris_today() -> chrono::NaiveDate {
    groupement::domain::to_paris(chrono::Utc::now().naive_utc())
        .0
        .date()
}

fn day_text(day: chrono::NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

both_backends!(a_set_recorded_ahead_takes_effect_on_its_day, |app| {
    let admin = user(&app, "admin@example.fr", "admin", None, None);
    let (_, lead) = ub_lead(&app);
    let today = paris_today();
    let tomorrow = today + chrono::Duration::days(1);
    let in_force = settings::today(&mut app.pool.get().unwrap()).unwrap();
    assert_eq!(in_force.territory, ["21"], "the seeded territory");
    assert_eq!(in_force.adapted_min_days, 15);

    // Dispensed up to 100,000 € from tomorrow, a wider territory, a longer adapted period.
    let form = SettingsForm {
        effective_from: day_text(tomorrow),
        territory: "21 71, 89".into(),
        adapted_min_days: "20".into(),
        no_competition_supplies: "100 000".into(),
        ..SettingsForm::from_settings(&in_force)
    };
    // Nobody but the admin; never a day already in force.
    assert!(matches!(
        settings::record(&app.pool, &lead, &form),
        Err(groupement::AppError::Forbidden)
    ));
    let refused = settings::record(
        &app.pool,
        &admin,
        &SettingsForm {
            effective_from: day_text(today),
            ..form.clone()
        },
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("n'est pas à venir"),
        "{refused}"
    );
    assert_eq!(
        settings::record(&app.pool, &admin, &form).unwrap(),
        tomorrow
    );

    let mut conn = app.pool.get().unwrap();
    assert_eq!(settings::today(&mut conn).unwrap().territory, ["21"]);
    let next = settings::in_force(&mut conn, tomorrow).unwrap();
    assert_eq!(next.territory, ["21", "71", "89"]);
    assert_eq!(next.adapted_min_days, 20);
    assert_eq!(next.thresholds.no_competition_supplies, 100_000.0);
    assert_eq!(
        settings::in_force(&mut conn, today + chrono::Duration::days(400))
            .unwrap()
            .effective_from,
        tomorrow
    );
    drop(conn);

    // 80,000 € of paper: an adapted procedure launched today, none launched tomorrow; the
    // run's territory is that of its launch day unless the lead names one.
    need_service::create(&app.pool, &lead, &paper("Papier", "4000"), true).unwrap();
    let plan_of = |launch: chrono::NaiveDate| {
        let form = pooling::RunForm {
            launch_date: day_text(launch),
            ..pooling::RunForm::defaults(2027)
        };
        let run = pooling::start(&app.pool, &lead, &form).unwrap();
        pooling::execute(&app.pool, run).unwrap();
        let view = pooling::run(&app.pool, &lead, run).unwrap();
        pooling::discard(&app.pool, &lead, run).unwrap();
        let procedures: Vec<String> = view
            .plan
            .unwrap()
            .tenders
            .iter()
            .map(|t| t.procedure.clone())
            .collect();
        (procedures, view.params.territory)
    };
    assert_eq!(
        plan_of(today),
        (vec!["adapted".to_string()], vec!["21".to_string()])
    );
    assert_eq!(
        plan_of(tomorrow),
        (
            vec!["no_competition".to_string()],
            vec!["21".to_string(), "71".to_string(), "89".to_string()]
        )
    );

    // A set not yet in force may be replaced (the same day again), and the journal says so.
    let again = SettingsForm {
        adapted_min_days: "25".into(),
        ..form
    };
    settings::record(&app.pool, &admin, &again).unwrap();
    let mut conn = app.pool.get().unwrap();
    assert_eq!(
        settings::in_force(&mut conn, tomorrow)
            .unwrap()
            .adapted_min_days,
        25
    );
    assert_eq!(settings::all(&mut conn).unwrap().len(), 3);
});

both_backends!(
    the_admin_page_shows_the_sets_and_each_problem_by_its_field,
    |app| {
        user(&app, "admin@example.fr", "admin", None, None);
        ub_lead(&app);
        // Each person lands on their own home, where what waits for them is.
        for (email, landing) in [
            ("admin@example.fr", "/accueil"),
            ("lead.ub@example.fr", "/accueil"),
        ] {
            let signed_in = crate::helpers::sign_in(&app, email, PASSWORD).await;
            assert_eq!(
                (signed_in.status, signed_in.location.as_str()),
                (303, landing)
            );
        }
        let admin = session_of(&app, "admin@example.fr", PASSWORD).await;
        let lead = session_of(&app, "lead.ub@example.fr", PASSWORD).await;
        assert_eq!(
            get_with(&app, "/admin/parametres", &lead.cookie())
                .await
                .status,
            403
        );
        let page = get_with(&app, "/admin/parametres", &admin.cookie()).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("01/04/2026 <strong>(en vigueur)</strong>"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("216\u{202f}000"),
            "thresholds in French numbers"
        );

        let tomorrow = day_text(paris_today() + chrono::Duration::days(1));
        let post = |fields: Vec<(&'static str, String)>| {
            let (app, admin) = (&app, admin.clone());
            async move {
                let mut form: Vec<(&str, &str)> = vec![("csrf_token", admin.csrf.as_str())];
                form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
                post_form(app, "/admin/parametres", &admin.cookie(), None, &form).await
            }
        };
        let valid = |territory: &str, boamp: &str| {
            vec![
                ("effective_from", tomorrow.clone()),
                ("territory", territory.to_string()),
                ("adapted_min_days", "15".into()),
                ("formal_min_days", "30".into()),
                ("standstill_days", "11".into()),
                ("no_competition_supplies", "60 000".into()),
                ("no_competition_works", "100 000".into()),
                ("boamp", boamp.to_string()),
                ("formal_central", "140 000".into()),
                ("formal_sub_central", "216 000".into()),
                ("formal_works", "5 404 000".into()),
                ("small_lot_supplies", "80 000".into()),
                ("small_lot_works", "1 000 000".into()),
                ("small_lots_max_share", "20".into()),
            ]
        };
        // Two problems: each next to its field, marked invalid and described, both in the summary;
        // what was typed stays.
        let refused = post(valid("21 99x", "abc")).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let body = &refused.body;
        assert!(body.contains("class=\"error-summary\""), "{body}");
        assert!(body.contains("2 point(s) à corriger"), "{body}");
        assert!(body.contains("href=\"#territory\"") && body.contains("href=\"#boamp\""));
        assert!(body.contains(
        "id=\"territory\" name=\"territory\" value=\"21 99x\" aria-describedby=\"territory-hint territory-error\" aria-invalid=\"true\""
    ), "{body}");
        assert!(body.contains("id=\"territory-error\""));
        assert!(
            !body.contains("id=\"formal_works-error\""),
            "a good field is not marked"
        );
        assert!(
            !body.contains("territoire : territoire"),
            "a field named once"
        );

        let recorded = post(valid("21 71", "90 000")).await;
        assert_eq!(recorded.status, 200, "{}", recorded.body);
        assert!(recorded
            .body
            .contains(&format!("ils prendront effet le {tomorrow}")));
        assert!(recorded.body.contains(&format!("{tomorrow} (à venir)")));
        assert!(recorded.body.contains("<td>21 71</td>"));
    }
);
