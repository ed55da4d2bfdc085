//! The life cycle of a need (issue #19, first part): what once bent it, tried again.

use crate::bids::user;
use crate::both_backends;
use diesel::prelude::*;
use groupement::db::models::NewOrganisation;
use groupement::db::schema::{needs, organisations, tenders};
use groupement::services::{needs as need_service, pooling, tenders as tender_service};

/// UB and its lead.
pub(crate) fn ub_lead(app: &crate::helpers::TestApp) -> (i32, groupement::web::nav::Viewer) {
    let ub: i32 = diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code: "UB",
            name: "UB",
            siret: None,
            kind: "university",
            buyer_class: "central",
        })
        .returning(organisations::id)
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    (ub, user(app, "lead.ub@example.fr", "lead", Some(ub), None))
}

/// Office paper at 20 € a lot, delivered in Dijon from March to June 2027.
pub(crate) fn paper(title: &str, quantity: &str) -> need_service::RawNeed {
    need_service::RawNeed {
        cpv: "30192000".into(),
        title: title.into(),
        quantity: quantity.into(),
        unit: "lot".into(),
        unit_price_eur: "20".into(),
        delivery_postcode: "21000".into(),
        window_start: "01/03/2027".into(),
        window_end: "30/06/2027".into(),
        poolable: "oui".into(),
        ..Default::default()
    }
}

/// Pools the submitted needs of 2027 and accepts the proposal: the run and its first tender.
fn pooled_tender(app: &crate::helpers::TestApp, lead: &groupement::web::nav::Viewer) -> (i32, i32) {
    let run = pooling::start(&app.pool, lead, &pooling::RunForm::defaults(2027)).unwrap();
    pooling::execute(&app.pool, run).unwrap();
    let reference = pooling::accept(&app.pool, lead, run, &app.address)
        .unwrap()
        .remove(0);
    let tender = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    (run, tender)
}

/// A life cycle's code, label and allowed moves.
type LifeCycle<S> = (
    fn(S) -> &'static str,
    fn(S) -> &'static str,
    fn(S, S) -> bool,
);

/// Every pair of statuses of one life cycle: the status set to `from` directly, then the move to
/// `to` asked; exactly the allowed moves pass, and a refused one changes nothing and names the
/// status it found. Returns how many moves passed.
fn walk_pairs<S: Copy + std::fmt::Debug>(
    all: &[S],
    (code, label, allowed): LifeCycle<S>,
    set: impl Fn(&str),
    status: impl Fn() -> String,
    move_to: impl Fn(S) -> Result<(), groupement::AppError>,
) -> usize {
    let mut passed = 0;
    for &from in all {
        for &to in all {
            set(code(from));
            let moved = move_to(to);
            let now = status();
            if allowed(from, to) {
                assert!(moved.is_ok(), "{from:?} → {to:?}: {moved:?}");
                assert_eq!(now, code(to));
                passed += 1;
            } else {
                let refused = moved.unwrap_err().to_string();
                assert!(refused.contains(label(from)), "{refused}");
                assert_eq!(now, code(from), "{from:?} → {to:?} changed nothing");
            }
        }
    }
    passed
}

both_backends!(a_need_withdrawn_after_pooling_never_comes_back, |app| {
    let (_, lead) = ub_lead(&app);
    let raw = |title: &str| paper(title, "1000");
    let kept = need_service::create(&app.pool, &lead, &raw("Papier"), true).unwrap();
    let dropped = need_service::create(&app.pool, &lead, &raw("Enveloppes"), true).unwrap();
    let (_, tender) = pooled_tender(&app, &lead);
    // A pooled need is locked for its buyer; one withdrawn all the same (an older version
    // allowed it, a tool outside the portal may do it) is not brought back by the approval.
    assert!(need_service::withdraw(&app.pool, &lead, dropped.id).is_err());
    diesel::update(needs::table.find(dropped.id))
        .set(needs::status.eq("withdrawn"))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    tender_service::decide(&app.pool, &lead, tender, true, "").unwrap();
    let status = |id: i32| -> String {
        needs::table
            .find(id)
            .select(needs::status)
            .first(&mut app.pool.get().unwrap())
            .unwrap()
    };
    assert_eq!(status(kept.id), "tendered");
    assert_eq!(
        status(dropped.id),
        "withdrawn",
        "a withdrawn need stays withdrawn"
    );
});

both_backends!(an_adapted_procedure_gets_its_minimum_period, |app| {
    let (_, lead) = ub_lead(&app);
    // 5,000 × 20 € = 100,000 €: above 60,000 €, under the 140,000 € of a central buyer.
    let raw = paper("Papier", "5000");
    need_service::create(&app.pool, &lead, &raw, true).unwrap();
    let (_, tender) = pooled_tender(&app, &lead);
    let procedure: String = tenders::table
        .find(tender)
        .select(tenders::procedure)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(procedure, "adapted");
    tender_service::decide(&app.pool, &lead, tender, true, "").unwrap();
    // Without its file the tender is not published: the rules and a price schedule first.
    let bare = tender_service::publish(&app.pool, &lead, &app.address, tender, &{
        tender_service::Publication {
            weight_price: "60".into(),
            weight_quality: "30".into(),
            weight_environment: "10".into(),
            deadline: (chrono::Utc::now() + chrono::Duration::days(17))
                .format("%d/%m/%Y")
                .to_string(),
            ..Default::default()
        }
    })
    .unwrap_err();
    assert!(
        bare.to_string().contains("règlement de la consultation")
            && bare.to_string().contains("bordereau des prix"),
        "{bare}"
    );
    crate::bids::consultation_file(&app, &lead, tender);
    let publication = |days: i64| tender_service::Publication {
        weight_price: "60".into(),
        weight_quality: "30".into(),
        weight_environment: "10".into(),
        deadline: (chrono::Utc::now() + chrono::Duration::days(days))
            .format("%d/%m/%Y")
            .to_string(),
        ..Default::default()
    };
    let early = tender_service::publish(&app.pool, &lead, &app.address, tender, &publication(1))
        .unwrap_err();
    assert!(early.to_string().contains("au moins 15 jours"), "{early}");
    tender_service::publish(&app.pool, &lead, &app.address, tender, &publication(17)).unwrap();
});

both_backends!(only_the_moves_of_the_life_cycle_pass, |app| {
    use groupement::domain::NeedStatus;
    let (ub, lead) = ub_lead(&app);
    let raw = paper("Papier", "10");
    let need = need_service::create(&app.pool, &lead, &raw, false)
        .unwrap()
        .id;
    let passed = walk_pairs(
        &NeedStatus::ALL,
        (
            NeedStatus::code,
            NeedStatus::label_fr,
            NeedStatus::can_move_to,
        ),
        |code| {
            diesel::update(needs::table.find(need))
                .set(needs::status.eq(code))
                .execute(&mut app.pool.get().unwrap())
                .unwrap();
        },
        || {
            needs::table
                .find(need)
                .select(needs::status)
                .first(&mut app.pool.get().unwrap())
                .unwrap()
        },
        |to| {
            groupement::db::write_transaction(&mut app.pool.get().unwrap(), |conn| {
                need_service::move_needs(conn, (&lead).into(), ub, &[need], to).map(|_| ())
            })
        },
    );
    assert_eq!(passed, 9, "the nine moves of the life cycle");
    // A pooled need is locked for its buyer, with whom to ask.
    diesel::update(needs::table.find(need))
        .set(needs::status.eq("pooled"))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let locked = need_service::update(&app.pool, &lead, need, &raw).unwrap_err();
    assert!(
        locked
            .to_string()
            .contains("responsable achats qui la coordonne"),
        "{locked}"
    );
    let locked = need_service::withdraw(&app.pool, &lead, need).unwrap_err();
    assert!(locked.to_string().contains("mutualisé"), "{locked}");
});

both_backends!(
    a_proposal_whose_needs_changed_since_the_run_is_refused,
    |app| {
        let (_, lead) = ub_lead(&app);
        let need = need_service::create(&app.pool, &lead, &paper("Papier", "1000"), true).unwrap();
        let run = pooling::start(&app.pool, &lead, &pooling::RunForm::defaults(2027)).unwrap();
        pooling::execute(&app.pool, run).unwrap();
        // The buyer changes the quantity while the lead reads the proposal.
        need_service::update(&app.pool, &lead, need.id, &paper("Papier", "9000")).unwrap();
        let refused = pooling::accept(&app.pool, &lead, run, &app.address).unwrap_err();
        assert!(
            refused.to_string().contains("ont changé depuis le calcul")
                && refused.to_string().contains("lot 1 : ses besoins valent"),
            "{refused}"
        );
        let created: i64 = tenders::table
            .count()
            .get_result(&mut app.pool.get().unwrap())
            .unwrap();
        assert_eq!(created, 0, "nothing created");
        // A run on today's needs is accepted.
        pooling::discard(&app.pool, &lead, run).unwrap();
        let again = pooling::start(&app.pool, &lead, &pooling::RunForm::defaults(2027)).unwrap();
        pooling::execute(&app.pool, again).unwrap();
        assert!(pooling::accept(&app.pool, &lead, again, &app.address).is_ok());
    }
);

both_backends!(thresholds_are_those_of_the_planned_launch_day, |app| {
    use groupement::db::models::NewNeed;
    let (ub, lead) = ub_lead(&app);
    // 50,000 € of paper delivered in February 2026: above the 40,000 € threshold of that day,
    // under the 60,000 € in force from April 2026.
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 2, d).unwrap();
    diesel::insert_into(needs::table)
        .values(NewNeed {
            organisation_id: ub,
            external_ref: None,
            cpv_code: "30192000",
            title: "Papier",
            description: "",
            quantity_milli: 2_500_000,
            unit: "lot",
            unit_price_cents: 2_000,
            delivery_postcode: "21000",
            window_start: day(1),
            window_end: day(28),
            budget_year: 2026,
            poolable: true,
            status: "submitted",
            provenance: None,
            created_by: None,
        })
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    let procedure = |form: pooling::RunForm| {
        let run = pooling::start(&app.pool, &lead, &form).unwrap();
        pooling::execute(&app.pool, run).unwrap();
        let plan = pooling::run(&app.pool, &lead, run).unwrap().plan.unwrap();
        pooling::discard(&app.pool, &lead, run).unwrap();
        plan.tenders
            .iter()
            .map(|t| t.procedure.clone())
            .collect::<Vec<_>>()
    };
    // Launched today (the form's default): the thresholds of today.
    assert_eq!(
        procedure(pooling::RunForm::defaults(2026)),
        ["no_competition"]
    );
    // A launch day in the past is refused with the field named.
    let past = pooling::RunForm {
        launch_date: "01/02/2026".into(),
        ..pooling::RunForm::defaults(2026)
    };
    let refused = pooling::start(&app.pool, &lead, &past).unwrap_err();
    assert!(
        refused.to_string().contains("date de lancement prévue"),
        "{refused}"
    );
});

both_backends!(
    only_the_moves_of_the_tender_and_run_life_cycles_pass,
    |app| {
        use groupement::db::schema::pooling_runs;
        use groupement::domain::{RunStatus, TenderStatus};
        let (_, lead) = ub_lead(&app);
        need_service::create(&app.pool, &lead, &paper("Papier", "1000"), true).unwrap();
        let (run, tender) = pooled_tender(&app, &lead);
        let passed = walk_pairs(
            &TenderStatus::ALL,
            (
                TenderStatus::code,
                TenderStatus::label_fr,
                TenderStatus::can_move_to,
            ),
            |code| {
                diesel::update(tenders::table.find(tender))
                    .set(tenders::status.eq(code))
                    .execute(&mut app.pool.get().unwrap())
                    .unwrap();
            },
            || {
                tenders::table
                    .find(tender)
                    .select(tenders::status)
                    .first(&mut app.pool.get().unwrap())
                    .unwrap()
            },
            |to| {
                groupement::db::write_transaction(&mut app.pool.get().unwrap(), |conn| {
                    tender_service::move_tender(conn, tender, to)
                })
            },
        );
        assert_eq!(passed, 6, "the six moves of a tender");
        let passed = walk_pairs(
            &RunStatus::ALL,
            (RunStatus::code, RunStatus::label_fr, RunStatus::can_move_to),
            |code| {
                diesel::update(pooling_runs::table.find(run))
                    .set(pooling_runs::status.eq(code))
                    .execute(&mut app.pool.get().unwrap())
                    .unwrap();
            },
            || {
                pooling_runs::table
                    .find(run)
                    .select(pooling_runs::status)
                    .first(&mut app.pool.get().unwrap())
                    .unwrap()
            },
            |to| {
                groupement::db::write_transaction(&mut app.pool.get().unwrap(), |conn| {
                    pooling::move_run(conn, run, to)
                })
            },
        );
        assert_eq!(passed, 7, "the seven moves of a run");
    }
);

both_backends!(a_member_decides_its_share_once, |app| {
    let (_, ub_lead) = ub_lead(&app);
    let chu: i32 = diesel::insert_into(organisations::table)
        .values(NewOrganisation {
            code: "CHU",
            name: "CHU",
            siret: None,
            kind: "hospital",
            buyer_class: "sub_central",
        })
        .returning(organisations::id)
        .get_result(&mut app.pool.get().unwrap())
        .unwrap();
    let chu_lead = user(&app, "lead.chu@example.fr", "lead", Some(chu), None);
    need_service::create(&app.pool, &ub_lead, &paper("Papier UB", "1000"), true).unwrap();
    need_service::create(&app.pool, &chu_lead, &paper("Papier CHU", "1000"), true).unwrap();
    let run = pooling::start(&app.pool, &ub_lead, &pooling::RunForm::defaults(2027)).unwrap();
    pooling::execute(&app.pool, run).unwrap();
    let reference = pooling::accept(&app.pool, &ub_lead, run, &app.address)
        .unwrap()
        .remove(0);
    let tender: i32 = tenders::table
        .filter(tenders::reference.eq(&reference))
        .select(tenders::id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(
        tender_service::decide(&app.pool, &ub_lead, tender, true, "").unwrap(),
        "approving"
    );
    // Approved once, UB cannot turn its decision into a refusal behind CHU's back.
    let again =
        tender_service::decide(&app.pool, &ub_lead, tender, false, "finalement non").unwrap_err();
    assert!(again.to_string().contains("déjà « approuvée »"), "{again}");
    assert_eq!(
        tender_service::decide(&app.pool, &chu_lead, tender, true, "").unwrap(),
        "approved"
    );
});

both_backends!(
    only_the_moves_of_the_bid_and_contract_life_cycles_pass,
    |app| {
        use groupement::db::schema::{bids, contracts};
        use groupement::domain::{BidStatus, ContractStatus};
        use groupement::services::{awards, bids as bid_service};
        groupement::demo::seed_if_empty(&mut app.pool.get().unwrap()).unwrap();
        let bid: i32 = bids::table
            .select(bids::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let passed = walk_pairs(
            &BidStatus::ALL,
            (BidStatus::code, BidStatus::label_fr, BidStatus::can_move_to),
            |code| {
                diesel::update(bids::table.find(bid))
                    .set(bids::status.eq(code))
                    .execute(&mut app.pool.get().unwrap())
                    .unwrap();
            },
            || {
                bids::table
                    .find(bid)
                    .select(bids::status)
                    .first(&mut app.pool.get().unwrap())
                    .unwrap()
            },
            |to| {
                groupement::db::write_transaction(&mut app.pool.get().unwrap(), |conn| {
                    bid_service::move_bid(conn, bid, to)
                })
            },
        );
        assert_eq!(passed, 2, "withdrawn, submitted again");

        // A contract of the demo's awarded tender, its signature recorded: only
        // `pending → active` passes.
        let contract: i32 = contracts::table
            .filter(contracts::signed_on.is_not_null())
            .select(contracts::id)
            .first(&mut app.pool.get().unwrap())
            .unwrap();
        let passed = walk_pairs(
            &ContractStatus::ALL,
            (
                ContractStatus::code,
                ContractStatus::label_fr,
                ContractStatus::can_move_to,
            ),
            |code| {
                diesel::update(contracts::table.find(contract))
                    .set(contracts::status.eq(code))
                    .execute(&mut app.pool.get().unwrap())
                    .unwrap();
            },
            || {
                contracts::table
                    .find(contract)
                    .select(contracts::status)
                    .first(&mut app.pool.get().unwrap())
                    .unwrap()
            },
            |to| {
                groupement::db::write_transaction(&mut app.pool.get().unwrap(), |conn| {
                    awards::move_contract(conn, contract, to)
                })
            },
        );
        assert_eq!(passed, 1, "signed once");

        // The database itself refuses an unknown status, and an active contract without its
        // signature (CHECK constraints on both backends).
        let odd = diesel::update(bids::table.find(bid))
            .set(bids::status.eq("opened"))
            .execute(&mut app.pool.get().unwrap());
        assert!(odd.is_err(), "{odd:?}");
        let unsigned = diesel::update(contracts::table.find(contract))
            .set((
                contracts::status.eq("active"),
                contracts::signed_on.eq(None::<chrono::NaiveDate>),
            ))
            .execute(&mut app.pool.get().unwrap());
        assert!(unsigned.is_err(), "{unsigned:?}");
        let odd = diesel::update(contracts::table.find(contract))
            .set(contracts::status.eq("terminated"))
            .execute(&mut app.pool.get().unwrap());
        assert!(odd.is_err(), "{odd:?}");
    }
);

both_backends!(only_the_moves_of_a_members_share_pass, |app| {
    use groupement::db::schema::tender_approvals;
    use groupement::domain::ApprovalStatus;
    let (ub, lead) = ub_lead(&app);
    need_service::create(&app.pool, &lead, &paper("Papier", "1000"), true).unwrap();
    let (_, tender) = pooled_tender(&app, &lead);
    let share = || {
        tender_approvals::table
            .filter(tender_approvals::tender_id.eq(tender))
            .filter(tender_approvals::organisation_id.eq(ub))
    };
    let passed = walk_pairs(
        &ApprovalStatus::ALL,
        (
            ApprovalStatus::code,
            ApprovalStatus::label_fr,
            ApprovalStatus::can_move_to,
        ),
        |code| {
            diesel::update(share())
                .set(tender_approvals::status.eq(code))
                .execute(&mut app.pool.get().unwrap())
                .unwrap();
        },
        || {
            share()
                .select(tender_approvals::status)
                .first(&mut app.pool.get().unwrap())
                .unwrap()
        },
        |to| {
            groupement::db::write_transaction(&mut app.pool.get().unwrap(), |conn| {
                tender_service::move_approval(conn, tender, ub, to)
            })
        },
    );
    assert_eq!(passed, 4, "decided once, asked again on resubmission");
});
