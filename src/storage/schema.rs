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
    users (id) {
        id -> Text,
        username -> Text,
        role -> Text,
        party_id -> Nullable<Text>,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

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

diesel::joinable!(ledger_accounts -> funds (fund_id));
diesel::joinable!(journal_entries -> funds (fund_id));
diesel::joinable!(postings -> journal_entries (entry_id));
diesel::joinable!(postings -> ledger_accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    funds,
    ledger_accounts,
    journal_entries,
    postings,
    ledger_head,
    users,
    idempotency_keys,
);
