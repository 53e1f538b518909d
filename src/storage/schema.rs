//! Table definitions shared by both backends (see `migrations/sqlite` and `migrations/postgres`).

diesel::table! {
    funds (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        name -> Text,
        kind -> Text,
        target_cents -> BigInt,
        currency -> Text,
        inception_date -> Date,
        term_years -> Integer,
        created_at -> Timestamp,
        bank_account_holder -> Nullable<Text>,
        bank_iban -> Nullable<Text>,
        bank_bic -> Nullable<Text>,
    }
}

diesel::table! {
    ledger_accounts (id) {
        id -> Text,
        fund_id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    journal_entries (id) {
        id -> Text,
        sequence -> BigInt,
        fund_id -> Text,
        effective_date -> Date,
        created_at -> Timestamp,
        actor -> Text,
        event_type -> Text,
        event_id -> Text,
        description -> Text,
        reverses_entry_id -> Nullable<Text>,
        previous_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    postings (entry_id, line) {
        entry_id -> Text,
        line -> Integer,
        account_id -> Text,
        amount_cents -> BigInt,
        party_id -> Nullable<Text>,
        memo -> Text,
    }
}

diesel::table! {
    ledger_head (id) {
        id -> Integer,
        sequence -> BigInt,
        last_hash -> Text,
        last_entry_id -> Nullable<Text>,
    }
}

diesel::table! {
    books_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        role -> Text,
        party_id -> Nullable<Text>,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        credentials_version -> BigInt,
        language -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_tokens (token_id) {
        token_id -> Text,
        username -> Text,
        expires_at -> Timestamp,
        revoked_at -> Timestamp,
    }
}

diesel::table! {
    user_events (id) {
        id -> Text,
        user_id -> Text,
        action -> Text,
        detail -> Text,
        actor -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(user_events -> users (user_id));

diesel::table! {
    idempotency_keys (principal, idempotency_key) {
        principal -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        locked_until -> Timestamp,
    }
}

diesel::table! {
    account_days (account_id, party_key, day) {
        account_id -> Text,
        party_key -> Text,
        day -> Date,
        net_cents -> BigInt,
    }
}

diesel::joinable!(account_days -> ledger_accounts (account_id));
diesel::joinable!(ledger_accounts -> funds (fund_id));
diesel::joinable!(journal_entries -> funds (fund_id));
diesel::joinable!(postings -> journal_entries (entry_id));
diesel::joinable!(postings -> ledger_accounts (account_id));

diesel::table! {
    tranches (id) {
        id -> Text,
        fund_id -> Text,
        name -> Text,
        seniority -> Integer,
        target_cents -> BigInt,
        pref_rate -> Text,
        return_cap -> Nullable<Text>,
        first_loss -> Integer,
        min_ticket_cents -> BigInt,
        created_at -> Timestamp,
        committed_cents -> BigInt,
    }
}

diesel::table! {
    sources (id) {
        id -> Text,
        kind -> Text,
        programme -> Text,
        legal_name -> Text,
        country -> Text,
        lei -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    facilities (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        member_state -> Text,
        chip_count -> BigInt,
        chip_type -> Text,
        quarterly_capacity_gpu_hours -> BigInt,
        created_at -> Timestamp,
        gpus_per_record_max -> BigInt,
    }
}

diesel::table! {
    commitments (id) {
        id -> Text,
        fund_id -> Text,
        tranche_id -> Text,
        source_id -> Text,
        committed_cents -> BigInt,
        called_cents -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    capital_totals (fund_id, tranche_id, source_kind, programme) {
        fund_id -> Text,
        tranche_id -> Text,
        source_kind -> Text,
        programme -> Text,
        committed_cents -> BigInt,
        called_cents -> BigInt,
        paid_cents -> BigInt,
    }
}

diesel::table! {
    commitment_events (id) {
        id -> Text,
        commitment_id -> Text,
        kind -> Text,
        amount_cents -> BigInt,
        committed_after_cents -> BigInt,
        effective_date -> Date,
        oversubscription_allowed -> Integer,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    capital_calls (id) {
        id -> Text,
        fund_id -> Text,
        call_number -> Integer,
        call_date -> Date,
        due_date -> Date,
        description -> Text,
        amount_cents -> BigInt,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    capital_call_lines (call_id, line) {
        call_id -> Text,
        line -> Integer,
        tranche_id -> Text,
        purpose -> Text,
        facility_id -> Nullable<Text>,
        amount_cents -> BigInt,
    }
}

diesel::table! {
    notices (id) {
        id -> Text,
        call_id -> Text,
        commitment_id -> Text,
        source_id -> Text,
        tranche_id -> Text,
        amount_cents -> BigInt,
        investment_cents -> BigInt,
        fees_cents -> BigInt,
        expenses_cents -> BigInt,
        paid_cents -> BigInt,
        cumulative_called_cents -> BigInt,
        remaining_unfunded_cents -> BigInt,
        due_date -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contributions (id) {
        id -> Text,
        notice_id -> Text,
        amount_cents -> BigInt,
        value_date -> Date,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deployments (id) {
        id -> Text,
        fund_id -> Text,
        facility_id -> Text,
        kind -> Text,
        amount_cents -> BigInt,
        value_date -> Date,
        description -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    proceeds (id) {
        id -> Text,
        fund_id -> Text,
        facility_id -> Nullable<Text>,
        amount_cents -> BigInt,
        cost_returned_cents -> BigInt,
        value_date -> Date,
        description -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    valuations (id) {
        id -> Text,
        fund_id -> Text,
        as_of_date -> Date,
        nav_cents -> BigInt,
        description -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(commitments -> sources (source_id));
diesel::joinable!(commitments -> tranches (tranche_id));
diesel::joinable!(notices -> capital_calls (call_id));

diesel::table! {
    waterfall_terms (id) {
        id -> Text,
        fund_id -> Text,
        version -> Integer,
        terms -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    distributions (id) {
        id -> Text,
        fund_id -> Text,
        distribution_date -> Date,
        cash_cents -> BigInt,
        distributed_cents -> BigInt,
        remaining_cents -> BigInt,
        terms_version -> Integer,
        allocation -> Text,
        description -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    distribution_lines (distribution_id, line) {
        distribution_id -> Text,
        line -> Integer,
        step_index -> Integer,
        step_kind -> Text,
        target_kind -> Text,
        target -> Text,
        commitment_id -> Nullable<Text>,
        source_id -> Nullable<Text>,
        owed_cents -> BigInt,
        paid_cents -> BigInt,
        shortfall_cents -> BigInt,
        rule -> Text,
        redistributed_cents -> BigInt,
    }
}

diesel::table! {
    write_downs (id) {
        id -> Text,
        fund_id -> Text,
        facility_id -> Text,
        amount_cents -> BigInt,
        value_date -> Date,
        description -> Text,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    loss_allocations (write_down_id, commitment_id) {
        write_down_id -> Text,
        commitment_id -> Text,
        tranche_id -> Text,
        source_id -> Text,
        amount_cents -> BigInt,
    }
}

diesel::joinable!(distribution_lines -> distributions (distribution_id));

diesel::table! {
    facility_prices (facility_id, effective_date) {
        facility_id -> Text,
        effective_date -> Date,
        price_cents -> BigInt,
        actor -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    grant_calls (id) {
        id -> Text,
        fund_id -> Text,
        name -> Text,
        budget_cents -> BigInt,
        committed_cents -> BigInt,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        max_milli_hours_per_award -> BigInt,
        aid_basis -> Text,
        min_reviewers -> Integer,
        min_average_score -> Text,
        entry_id -> Text,
        actor -> Text,
        created_at -> Timestamp,
        aid_measure_reference -> Nullable<Text>,
        granting_authority -> Text,
        bonus_allowed -> Bool,
    }
}

diesel::table! {
    grant_call_facilities (call_id, facility_id) {
        call_id -> Text,
        facility_id -> Text,
    }
}

diesel::table! {
    grant_applications (id) {
        id -> Text,
        call_id -> Text,
        sme_id -> Text,
        status -> Text,
        legal_name -> Text,
        registration_number -> Text,
        country -> Text,
        undertaking_key -> Text,
        staff_awu -> Text,
        turnover_cents -> BigInt,
        balance_sheet_cents -> BigInt,
        related_json -> Text,
        declared_de_minimis_cents -> BigInt,
        project_title -> Text,
        summary -> Text,
        requested_milli_hours -> BigInt,
        facility_id -> Text,
        start_date -> Date,
        end_date -> Date,
        sme_category -> Text,
        rejection_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        state_aid_json -> Text,
        from_profile -> Bool,
    }
}

diesel::table! {
    grant_reviews (application_id, reviewer) {
        application_id -> Text,
        reviewer -> Text,
        score -> Integer,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    grant_awards (id) {
        id -> Text,
        application_id -> Text,
        call_id -> Text,
        fund_id -> Text,
        sme_id -> Text,
        undertaking_key -> Text,
        legal_name -> Text,
        country -> Text,
        facility_id -> Text,
        award_date -> Date,
        start_date -> Date,
        end_date -> Date,
        aid_basis -> Text,
        sme_category -> Text,
        intensity_percent -> Text,
        price_cents -> BigInt,
        awarded_milli_hours -> BigInt,
        used_milli_hours -> BigInt,
        aid_value_cents -> BigInt,
        subsidy_used_cents -> BigInt,
        status -> Text,
        lapsed_milli_hours -> Nullable<BigInt>,
        returned_cents -> Nullable<BigInt>,
        entry_id -> Text,
        lapse_entry_id -> Nullable<Text>,
        actor -> Text,
        created_at -> Timestamp,
        registration_number -> Text,
        nace_code -> Nullable<Text>,
        nuts2_region -> Nullable<Text>,
    }
}

diesel::table! {
    award_capacity (award_id, quarter_key) {
        award_id -> Text,
        facility_id -> Text,
        quarter_key -> Integer,
        milli_hours -> BigInt,
    }
}

diesel::table! {
    usage_records (facility_id, record_id) {
        facility_id -> Text,
        record_id -> Text,
        award_id -> Text,
        milli_hours -> BigInt,
        period_start_us -> BigInt,
        period_end_us -> BigInt,
        subsidy_cents -> BigInt,
        entry_id -> Nullable<Text>,
        received_at_us -> BigInt,
    }
}

diesel::table! {
    award_day_usage (award_id, day) {
        award_id -> Text,
        day -> BigInt,
        milli_hours -> BigInt,
        subsidy_cents -> BigInt,
    }
}

diesel::table! {
    award_quarter_usage (facility_id, quarter_key, award_id) {
        facility_id -> Text,
        quarter_key -> Integer,
        award_id -> Text,
        records -> BigInt,
        milli_hours -> BigInt,
        subsidy_cents -> BigInt,
    }
}

diesel::table! {
    entry_usage (entry_id, award_id) {
        entry_id -> Text,
        award_id -> Text,
        records -> BigInt,
        milli_hours -> BigInt,
        subsidy_cents -> BigInt,
    }
}

diesel::table! {
    facility_quarter_usage (facility_id, quarter_key) {
        facility_id -> Text,
        quarter_key -> Integer,
        milli_hours -> BigInt,
    }
}

diesel::table! {
    merkle_hashes (stored_index) {
        stored_index -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    merkle_tree (id) {
        id -> Integer,
        size -> BigInt,
    }
}

diesel::table! {
    checkpoints (tree_size) {
        tree_size -> BigInt,
        root_hash -> Text,
        note -> Text,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    proposals (id) {
        id -> Text,
        kind -> Text,
        subject_id -> Text,
        request -> Text,
        preview -> Text,
        revision -> Integer,
        status -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        expires_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        result -> Nullable<Text>,
    }
}

diesel::table! {
    award_undertakings (award_id, undertaking_key) {
        award_id -> Text,
        undertaking_key -> Text,
    }
}

diesel::table! {
    sme_profiles (sme_id) {
        sme_id -> Text,
        profile_json -> Text,
        version -> BigInt,
        updated_at -> Timestamp,
        actor -> Text,
    }
}

diesel::table! {
    slurm_accounts (facility_id, account) {
        facility_id -> Text,
        account -> Text,
        award_id -> Text,
        set_by -> Text,
        set_at_us -> BigInt,
    }
}

diesel::table! {
    usage_imports (id) {
        id -> Text,
        facility_id -> Text,
        file_format -> Text,
        file_name -> Text,
        channel -> Text,
        lines -> BigInt,
        counted -> BigInt,
        replayed -> BigInt,
        duplicates -> BigInt,
        refused -> BigInt,
        skipped -> BigInt,
        malformed -> BigInt,
        milli_hours -> BigInt,
        imported_by -> Text,
        imported_at_us -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    capital_totals,
    award_undertakings,
    sme_profiles,
    proposals,
    funds,
    ledger_accounts,
    journal_entries,
    postings,
    ledger_head,
    merkle_hashes,
    merkle_tree,
    checkpoints,
    books_version,
    users,
    revoked_tokens,
    user_events,
    idempotency_keys,
    tranches,
    sources,
    facilities,
    commitments,
    commitment_events,
    capital_calls,
    capital_call_lines,
    notices,
    contributions,
    deployments,
    proceeds,
    valuations,
    waterfall_terms,
    distributions,
    distribution_lines,
    write_downs,
    loss_allocations,
    facility_prices,
    grant_calls,
    grant_call_facilities,
    grant_applications,
    grant_reviews,
    grant_awards,
    award_capacity,
    usage_records,
    facility_quarter_usage,
    award_day_usage,
    award_quarter_usage,
    entry_usage,
    account_days,
    slurm_accounts,
    usage_imports,
);
