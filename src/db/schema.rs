//! The one portable schema over SQLite and PostgreSQL. Written by hand to stay identical for
//! both backends: only types both understand (Integer, BigInt, Text, Bool, Double, Date,
//! Timestamp in UTC).

diesel::table! {
    cpv_codes (code8) {
        code8 -> Text,
        check_digit -> Integer,
        parent_code8 -> Nullable<Text>,
        division -> Text,
        level -> Text,
        significant_digits -> Integer,
        kind -> Text,
        label_en -> Text,
        label_fr -> Text,
    }
}

diesel::table! {
    communes (id) {
        id -> Integer,
        insee_code -> Text,
        name -> Text,
        postcode -> Text,
        department_code -> Text,
        department_name -> Text,
        region_name -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
    }
}

diesel::table! {
    organisations (id) {
        id -> Integer,
        code -> Text,
        name -> Text,
        siret -> Nullable<Text>,
        kind -> Text,
        buyer_class -> Text,
        created_at -> Timestamp,
        needs_version -> BigInt,
        street -> Text,
        postcode -> Text,
        city -> Text,
        phone -> Text,
        email -> Text,
        website -> Text,
    }
}

diesel::table! {
    programme_alerts (supplier_id, purchase_key) {
        supplier_id -> Integer,
        purchase_key -> Text,
        told_at -> Timestamp,
    }
}

diesel::table! {
    sourcing_declarations (id) {
        id -> Integer,
        purchase_key -> Text,
        cpv -> Text,
        supplier_id -> Integer,
        capacity_cents -> BigInt,
        sites -> Text,
        certifications -> Text,
        question -> Nullable<Text>,
        declared_at -> Timestamp,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bid_groups (bid_id) {
        bid_id -> Integer,
        kind -> Text,
    }
}

diesel::table! {
    bid_group_members (bid_id, supplier_id) {
        bid_id -> Integer,
        supplier_id -> Integer,
        share_pct -> Integer,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cobidding_posts (id) {
        id -> Integer,
        target -> Text,
        supplier_id -> Integer,
        kind -> Text,
        part -> Text,
        part_cpv -> Text,
        share_pct -> Integer,
        capacity_cents -> BigInt,
        departments -> Text,
        note -> Text,
        posted_at -> Timestamp,
    }
}

diesel::table! {
    cobidding_contacts (id) {
        id -> Integer,
        target -> Text,
        from_supplier -> Integer,
        to_supplier -> Integer,
        message -> Text,
        status -> Text,
        asked_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    platform_settings (key) {
        key -> Text,
        value -> Text,
        updated_by -> Nullable<Integer>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    eforms_notices (id) {
        id -> Integer,
        tender_id -> Integer,
        kind -> Text,
        notice_id -> Text,
        version -> Integer,
        change_id -> Nullable<Integer>,
        xml -> Text,
        status -> Text,
        channel -> Nullable<Text>,
        ted_number -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        sent_by -> Nullable<Integer>,
        published_at -> Nullable<Timestamp>,
        published_by -> Nullable<Integer>,
    }
}

diesel::table! {
    suppliers (id) {
        id -> Integer,
        siret -> Text,
        name -> Text,
        postcode -> Text,
        commune -> Text,
        department_code -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        sme -> Bool,
        annual_capacity_cents -> BigInt,
        notification_email -> Text,
        opt_in -> Bool,
        digest -> Text,
        provenance -> Nullable<Text>,
        created_at -> Timestamp,
        locale -> Text,
        pending_notification_email -> Nullable<Text>,
    }
}

diesel::table! {
    supplier_cpv (supplier_id, cpv_prefix) {
        supplier_id -> Integer,
        cpv_prefix -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        organisation_id -> Nullable<Integer>,
        supplier_id -> Nullable<Integer>,
        locale -> Text,
        email_verified_at -> Nullable<Timestamp>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    needs (id) {
        id -> Integer,
        organisation_id -> Integer,
        external_ref -> Nullable<Text>,
        cpv_code -> Text,
        title -> Text,
        description -> Text,
        quantity_milli -> BigInt,
        unit -> Text,
        unit_price_cents -> BigInt,
        delivery_postcode -> Text,
        window_start -> Date,
        window_end -> Date,
        budget_year -> Integer,
        poolable -> Bool,
        status -> Text,
        provenance -> Nullable<Text>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        title_public -> Bool,
    }
}

diesel::table! {
    pooling_runs (id) {
        id -> Integer,
        started_by -> Nullable<Integer>,
        budget_year -> Integer,
        status -> Text,
        parameters -> Text,
        input_need_ids -> Text,
        report -> Nullable<Text>,
        plan -> Nullable<Text>,
        error -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        frontier -> Nullable<Text>,
    }
}

diesel::table! {
    tenders (id) {
        id -> Integer,
        reference -> Text,
        title -> Text,
        coordinator_id -> Integer,
        pooling_run_id -> Nullable<Integer>,
        cpv_family -> Text,
        unit -> Text,
        procedure -> Text,
        status -> Text,
        total_value_cents -> BigInt,
        weight_price -> Nullable<Integer>,
        weight_quality -> Nullable<Integer>,
        weight_environment -> Nullable<Integer>,
        max_lots_per_supplier -> Nullable<Integer>,
        cap_rule -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        deadline -> Nullable<Timestamp>,
        created_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        opened_by -> Nullable<Integer>,
        awarded_at -> Nullable<Timestamp>,
        standstill_until -> Nullable<Timestamp>,
        urgent -> Bool,
    }
}

diesel::table! {
    tender_approvals (tender_id, organisation_id) {
        tender_id -> Integer,
        organisation_id -> Integer,
        status -> Text,
        comment -> Nullable<Text>,
        decided_by -> Nullable<Integer>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    lots (id) {
        id -> Integer,
        tender_id -> Integer,
        number -> Integer,
        title -> Text,
        cpv_code -> Text,
        value_cents -> BigInt,
        expected_savings_cents -> BigInt,
        local_accessible -> Bool,
        eligible_local_suppliers -> Integer,
        small_lot -> Bool,
        status -> Text,
    }
}

diesel::table! {
    lot_needs (lot_id, need_id) {
        lot_id -> Integer,
        need_id -> Integer,
    }
}

diesel::table! {
    bids (id) {
        id -> Integer,
        lot_id -> Integer,
        supplier_id -> Integer,
        price_cents -> BigInt,
        quality -> Nullable<Integer>,
        environment -> Nullable<Integer>,
        technical_memo -> Text,
        environment_data -> Text,
        status -> Text,
        submitted_at -> Timestamp,
        updated_at -> Timestamp,
        justification_requested_at -> Nullable<Timestamp>,
        receipt -> Text,
        sealed -> Nullable<Binary>,
        sealed_sha256 -> Nullable<Text>,
        form_sha256 -> Nullable<Text>,
        seal_state -> Nullable<Text>,
    }
}

diesel::table! {
    awards (id) {
        id -> Integer,
        lot_id -> Integer,
        status -> Text,
        winning_bid_id -> Nullable<Integer>,
        rule -> Text,
        scores -> Text,
        approved_by -> Nullable<Integer>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Integer,
        recipient -> Text,
        template -> Text,
        data -> Text,
        idempotency_key -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        actor_user_id -> Nullable<Integer>,
        actor_label -> Text,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        at -> Timestamp,
        before_summary -> Nullable<Text>,
        after_summary -> Nullable<Text>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(users -> suppliers (supplier_id));
diesel::joinable!(supplier_cpv -> suppliers (supplier_id));
diesel::joinable!(needs -> organisations (organisation_id));
diesel::joinable!(tenders -> organisations (coordinator_id));
diesel::joinable!(tender_approvals -> tenders (tender_id));
diesel::joinable!(lots -> tenders (tender_id));
diesel::joinable!(lot_needs -> lots (lot_id));
diesel::joinable!(lot_needs -> needs (need_id));
diesel::joinable!(bids -> lots (lot_id));
diesel::joinable!(bids -> suppliers (supplier_id));
diesel::joinable!(awards -> lots (lot_id));
diesel::joinable!(eforms_notices -> tenders (tender_id));
diesel::joinable!(sourcing_declarations -> suppliers (supplier_id));
diesel::joinable!(cobidding_posts -> suppliers (supplier_id));
diesel::joinable!(bid_groups -> bids (bid_id));
diesel::joinable!(bid_group_members -> bid_groups (bid_id));
diesel::joinable!(bid_group_members -> suppliers (supplier_id));

diesel::allow_tables_to_appear_in_same_query!(
    cpv_codes,
    platform_settings,
    eforms_notices,
    programme_alerts,
    sourcing_declarations,
    cobidding_posts,
    cobidding_contacts,
    bid_groups,
    bid_group_members,
    communes,
    organisations,
    suppliers,
    supplier_cpv,
    users,
    needs,
    pooling_runs,
    pooling_jobs,
    address_confirmations,
    tenders,
    tender_approvals,
    lots,
    lot_needs,
    bids,
    awards,
    notifications,
    audit_log,
    sessions,
    api_tokens,
    auth_links,
    idempotency_keys,
    pooling_run_progress,
    tender_documents,
    unsubscribe_tokens,
    bid_documents,
    contracts,
    questions,
    document_downloads,
    tender_changes,
    late_bids,
    signing_keys,
    receipts,
    backup_copies,
    espd_responses,
    opening_keys,
    recovery_keys,
    tender_seals,
    tender_shares,
    opening_shares,
);

diesel::table! {
    document_downloads (id) {
        id -> Integer,
        tender_id -> Integer,
        user_id -> Integer,
        supplier_id -> Nullable<Integer>,
        document_id -> Nullable<Integer>,
        downloaded_at -> Timestamp,
    }
}

diesel::table! {
    questions (id) {
        id -> Integer,
        tender_id -> Integer,
        lot_number -> Nullable<Integer>,
        supplier_id -> Integer,
        asked_by -> Nullable<Integer>,
        question -> Text,
        asked_at -> Timestamp,
        answer -> Nullable<Text>,
        answered_by -> Nullable<Integer>,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(questions -> tenders (tender_id));
diesel::joinable!(questions -> suppliers (supplier_id));

diesel::table! {
    sessions (id) {
        id -> Integer,
        token_hash -> Text,
        user_id -> Integer,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ip -> Nullable<Text>,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_tokens -> users (user_id));

diesel::table! {
    auth_links (id) {
        id -> Integer,
        user_id -> Integer,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(auth_links -> users (user_id));

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Integer,
        key -> Text,
        request_hash -> Text,
        object_type -> Text,
        object_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pooling_run_progress (run_id) {
        run_id -> Integer,
        families_done -> Integer,
        families_total -> Integer,
        updated_at -> Timestamp,
        needs_done -> Integer,
        needs_total -> Integer,
        seconds_left -> Nullable<Integer>,
        phase -> Text,
    }
}

diesel::table! {
    tender_documents (id) {
        id -> Integer,
        tender_id -> Integer,
        name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content -> Binary,
        uploaded_by -> Nullable<Integer>,
        uploaded_at -> Timestamp,
        kind -> Text,
        change_id -> Nullable<Integer>,
        replaced_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Integer>,
    }
}

diesel::joinable!(tender_documents -> tenders (tender_id));

diesel::table! {
    tender_changes (id) {
        id -> Integer,
        tender_id -> Integer,
        summary -> Text,
        substantial -> Bool,
        deadline_before -> Timestamp,
        deadline_after -> Timestamp,
        made_by -> Nullable<Integer>,
        made_at -> Timestamp,
    }
}

diesel::joinable!(tender_changes -> tenders (tender_id));

diesel::table! {
    late_bids (id) {
        id -> Integer,
        lot_id -> Integer,
        supplier_id -> Integer,
        receipt -> Text,
        price_cents -> BigInt,
        technical_memo -> Text,
        environment_data -> Text,
        received_at -> Timestamp,
        sent_by -> Nullable<Integer>,
        sealed -> Nullable<Binary>,
    }
}

diesel::joinable!(late_bids -> lots (lot_id));
diesel::joinable!(late_bids -> suppliers (supplier_id));

diesel::table! {
    signing_keys (key_id) {
        key_id -> Text,
        public_key -> Text,
        secret_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    receipts (id) {
        id -> Integer,
        supplier_id -> Integer,
        tender_id -> Nullable<Integer>,
        lot_number -> Integer,
        number -> Text,
        event -> Text,
        body -> Text,
        signature -> Text,
        key_id -> Text,
        issued_at -> Timestamp,
    }
}

diesel::joinable!(receipts -> tenders (tender_id));

diesel::table! {
    backup_copies (id) {
        id -> Integer,
        tender_id -> Integer,
        supplier_id -> Integer,
        medium -> Text,
        declared_at -> Timestamp,
        declared_by -> Nullable<Integer>,
        received_at -> Nullable<Timestamp>,
        recorded_by -> Nullable<Integer>,
        opened_at -> Nullable<Timestamp>,
        opened_by -> Nullable<Integer>,
        open_reason -> Nullable<Text>,
    }
}

diesel::joinable!(backup_copies -> tenders (tender_id));

diesel::table! {
    espd_responses (id) {
        id -> Integer,
        tender_id -> Integer,
        supplier_id -> Integer,
        source -> Text,
        xml -> Text,
        summary -> Text,
        received_at -> Timestamp,
        sealed -> Nullable<Binary>,
        sealed_sha256 -> Nullable<Text>,
        seal_state -> Nullable<Text>,
    }
}

diesel::joinable!(espd_responses -> tenders (tender_id));
diesel::joinable!(espd_responses -> suppliers (supplier_id));
diesel::joinable!(backup_copies -> suppliers (supplier_id));
diesel::joinable!(receipts -> suppliers (supplier_id));
diesel::joinable!(document_downloads -> users (user_id));
diesel::joinable!(document_downloads -> suppliers (supplier_id));
diesel::joinable!(document_downloads -> tender_documents (document_id));

diesel::table! {
    unsubscribe_tokens (token_hash) {
        token_hash -> Text,
        supplier_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bid_documents (id) {
        id -> Integer,
        bid_id -> Integer,
        name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content -> Binary,
        uploaded_at -> Timestamp,
        sha256 -> Nullable<Text>,
        sealed_sha256 -> Nullable<Text>,
        seal_state -> Nullable<Text>,
    }
}

diesel::joinable!(bid_documents -> bids (bid_id));

diesel::table! {
    contracts (id) {
        id -> Integer,
        uid -> Text,
        tender_id -> Integer,
        lot_id -> Integer,
        organisation_id -> Integer,
        supplier_id -> Integer,
        bid_id -> Integer,
        amount_cents -> BigInt,
        estimated_cents -> BigInt,
        months -> Integer,
        delivery_postcode -> Text,
        awarded_at -> Timestamp,
        notified_on -> Date,
        status -> Text,
        signed_on -> Nullable<Date>,
        signatory -> Nullable<Text>,
    }
}

diesel::joinable!(contracts -> tenders (tender_id));
diesel::joinable!(contracts -> lots (lot_id));
diesel::joinable!(contracts -> organisations (organisation_id));
diesel::joinable!(contracts -> suppliers (supplier_id));

diesel::table! {
    rate_limits (bucket, key_hash, window_start) {
        bucket -> Text,
        key_hash -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}

diesel::table! {
    pooling_jobs (run_id) {
        run_id -> Integer,
        state -> Text,
        claimed_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        attempts -> Integer,
        queued_at -> Timestamp,
    }
}

diesel::joinable!(pooling_jobs -> pooling_runs (run_id));

diesel::table! {
    address_confirmations (id) {
        id -> Integer,
        supplier_id -> Integer,
        email -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(address_confirmations -> suppliers (supplier_id));

diesel::table! {
    procurement_settings (effective_from) {
        effective_from -> Date,
        territory -> Text,
        adapted_min_days -> Integer,
        thresholds -> Text,
        recorded_by -> Nullable<Integer>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    opening_keys (user_id) {
        user_id -> Integer,
        recipient -> Text,
        sealed_identity -> Text,
        created_at -> Timestamp,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    recovery_keys (id) {
        id -> Integer,
        recipient -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tender_seals (tender_id) {
        tender_id -> Integer,
        recipient -> Text,
        threshold -> Integer,
        created_at -> Timestamp,
        opening_started_at -> Nullable<Timestamp>,
        opening_started_by -> Nullable<Integer>,
    }
}

diesel::table! {
    tender_shares (id) {
        id -> Integer,
        tender_id -> Integer,
        organisation_id -> Nullable<Integer>,
        recovery_key_id -> Nullable<Integer>,
        sealed_share -> Binary,
    }
}

diesel::table! {
    opening_shares (id) {
        id -> Integer,
        tender_id -> Integer,
        share_id -> Integer,
        share -> Binary,
        entered_by -> Nullable<Integer>,
        entered_at -> Timestamp,
    }
}

diesel::joinable!(opening_keys -> users (user_id));
diesel::joinable!(tender_seals -> tenders (tender_id));
diesel::joinable!(tender_shares -> organisations (organisation_id));
diesel::joinable!(opening_shares -> tender_shares (share_id));
