// Written by hand to match migrations/{sqlite,postgres}: only types portable across
// diesel's MultiConnection (text, integers, booleans, dates, timestamps) appear here.
diesel::table! {
    agencies (code) {
        code -> Text,
        kind -> Text,
        name_en -> Text,
        name_cy -> Text,
        shipped -> Bool,
        domains -> Text,
        area -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        role -> Text,
        team -> Text,
        authority_code -> Text,
        active -> Bool,
        created_at -> Timestamp,
        password_hash -> Nullable<Text>,
        language -> Text,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        sees_persons_of_concern -> Bool,
    }
}

diesel::table! {
    reference_counters (year) {
        year -> Integer,
        last_value -> Integer,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        reference -> Text,
        child_name -> Text,
        child_date_of_birth -> Date,
        child_gender -> Text,
        located_authority -> Text,
        residence_authority -> Text,
        looked_after -> Bool,
        existing_plan -> Text,
        in_secure_estate -> Bool,
        facts -> Text,
        status -> Text,
        version -> BigInt,
        audit_seq -> BigInt,
        audit_head -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        team -> Nullable<Text>,
        restricted -> Bool,
        child_language -> Text,
        family_language -> Text,
        welsh_offer -> Text,
        child_name_folded -> Text,
        lead_user_id -> Nullable<Text>,
        legal_hold -> Nullable<Text>,
    }
}

diesel::table! {
    case_workflows (id) {
        id -> Text,
        case_id -> Text,
        workflow -> Text,
        workflow_version -> Integer,
        state -> Text,
        entered_at -> Timestamp,
        due_at -> Nullable<Timestamp>,
        due_source -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    step_history (id) {
        id -> Text,
        case_id -> Text,
        case_workflow_id -> Text,
        workflow -> Text,
        state -> Text,
        entered_at -> Timestamp,
        due_at -> Nullable<Timestamp>,
        due_source -> Nullable<Text>,
        left_at -> Timestamp,
        left_by_event -> Text,
    }
}

diesel::table! {
    case_involvements (id) {
        id -> Text,
        case_id -> Text,
        agency_code -> Text,
        person_name -> Nullable<Text>,
        person_email -> Nullable<Text>,
        role -> Text,
        user_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> Text,
        kind -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        location -> Nullable<Text>,
        online_link -> Nullable<Text>,
        chair_user_id -> Text,
        status -> Text,
        sequence -> Integer,
        uid -> Text,
        warnings -> Text,
        warnings_rationale -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        record_summary -> Nullable<Text>,
        next_meeting_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meeting_invitees (id) {
        id -> Text,
        meeting_id -> Text,
        name -> Text,
        email -> Text,
        agency_code -> Nullable<Text>,
        role -> Text,
        language -> Text,
        direct_knowledge -> Bool,
        response -> Text,
        response_reason -> Nullable<Text>,
        responded_at -> Nullable<Timestamp>,
        attended -> Nullable<Bool>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        meeting_id -> Nullable<Text>,
        case_id -> Nullable<Text>,
        recipient -> Text,
        sender -> Text,
        subject -> Text,
        raw -> Text,
        status -> Text,
        attempts -> Integer,
        not_before -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        leased_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        retried_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    meeting_record_sections (meeting_id, case_id) {
        meeting_id -> Text,
        case_id -> Text,
        text -> Text,
    }
}

diesel::table! {
    meeting_cases (meeting_id, case_id) {
        meeting_id -> Text,
        case_id -> Text,
    }
}

diesel::table! {
    agreed_actions (id) {
        id -> Text,
        case_id -> Text,
        meeting_id -> Nullable<Text>,
        kind -> Nullable<Text>,
        title -> Text,
        owner_name -> Text,
        owner_email -> Nullable<Text>,
        owner_user_id -> Nullable<Text>,
        agency_code -> Nullable<Text>,
        due_date -> Date,
        status -> Text,
        cancellable -> Bool,
        rules -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Text>,
        reminder_sent_at -> Nullable<Timestamp>,
        overdue_notice_at -> Nullable<Timestamp>,
        escalated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    action_updates (id) {
        id -> Text,
        action_id -> Text,
        case_id -> Text,
        at -> Timestamp,
        by_name -> Text,
        by_email -> Nullable<Text>,
        by_user_id -> Nullable<Text>,
        note -> Text,
        new_status -> Nullable<Text>,
        kind -> Text,
    }
}

diesel::table! {
    audit_events (case_id, seq) {
        case_id -> Text,
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Text,
        kind -> Text,
        workflow -> Nullable<Text>,
        event -> Nullable<Text>,
        from_state -> Nullable<Text>,
        to_state -> Nullable<Text>,
        decline -> Bool,
        rationale -> Nullable<Text>,
        payload -> Text,
        prev_hash -> Text,
        hash -> Text,
        case_version -> BigInt,
    }
}

diesel::table! {
    access_log (id) {
        id -> Text,
        user_id -> Text,
        case_id -> Text,
        action -> Text,
        path -> Text,
        at -> Timestamp,
        mac -> Text,
    }
}

diesel::table! {
    security_events (id) {
        id -> Text,
        at -> Timestamp,
        kind -> Text,
        account -> Nullable<Text>,
        address -> Nullable<Text>,
        user_id -> Nullable<Text>,
        detail -> Text,
        mac -> Text,
    }
}

diesel::table! {
    workflow_definitions (name, version) {
        name -> Text,
        version -> Integer,
        sha256 -> Text,
        source -> Text,
        first_loaded_at -> Timestamp,
    }
}

diesel::table! {
    plan_reviews (id) {
        id -> Text,
        case_id -> Text,
        case_workflow_id -> Text,
        kind -> Text,
        number -> Integer,
        due_at -> Timestamp,
        due_source -> Text,
        status -> Text,
        held_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    timescale_departures (id) {
        id -> Text,
        case_id -> Text,
        case_workflow_id -> Nullable<Text>,
        step_entered_at -> Nullable<Timestamp>,
        state -> Nullable<Text>,
        review_id -> Nullable<Text>,
        due_at -> Timestamp,
        rationale -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    job_runs (job, scheduled_for) {
        job -> Text,
        scheduled_for -> Timestamp,
        claimed_by -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    link_browsers (link_hash, browser_hash) {
        link_hash -> Text,
        browser_hash -> Text,
        first_seen_at -> Timestamp,
        open_until -> Timestamp,
    }
}

diesel::table! {
    link_codes (id) {
        id -> Text,
        link_hash -> Text,
        code_hash -> Text,
        email -> Text,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        attempts -> Integer,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    case_access_grants (case_id, user_id) {
        case_id -> Text,
        user_id -> Text,
        granted_by -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    break_glass (id) {
        id -> Text,
        case_id -> Text,
        user_id -> Text,
        reason -> Text,
        at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_attempts (id) {
        id -> Text,
        account -> Text,
        address -> Text,
        at -> Timestamp,
        succeeded -> Bool,
    }
}

diesel::table! {
    form_submissions (token) {
        token -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        outcome -> Nullable<Text>,
    }
}

diesel::joinable!(case_workflows -> cases (case_id));
diesel::table! {
    account_invitations (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    single_sign_ons (state_hash) {
        state_hash -> Text,
        tenant -> Integer,
        nonce -> Text,
        pkce_verifier -> Text,
        next_path -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    destruction_approvals (case_id) {
        case_id -> Text,
        rule -> Text,
        approved_by -> Text,
        approved_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    second_steps (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        next_path -> Text,
        attempt_id -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    referral_links (id) {
        id -> Text,
        agency_code -> Text,
        person_name -> Nullable<Text>,
        person_email -> Nullable<Text>,
        issued_by -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_referrals (case_id) {
        case_id -> Text,
        link_id -> Text,
        reporter_name -> Text,
        reporter_role -> Text,
        reporter_email -> Text,
        reporter_phone -> Text,
        language -> Text,
        submitted_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        decision_told_at -> Nullable<Timestamp>,
        flagged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    children (id) {
        id -> Text,
        created_at -> Timestamp,
        merged_into -> Nullable<Text>,
        merged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    child_cases (case_id) {
        case_id -> Text,
        child_id -> Text,
    }
}

diesel::table! {
    child_relations (id) {
        id -> Text,
        child_id -> Text,
        other_child_id -> Text,
        relation -> Text,
        reason -> Text,
        made_by -> Text,
        made_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
    }
}

diesel::table! {
    missing_episodes (id) {
        id -> Text,
        case_id -> Text,
        went_missing_at -> Timestamp,
        returned_at -> Nullable<Timestamp>,
        reported_by -> Text,
        return_interview_due_at -> Nullable<Timestamp>,
        interview_offered_at -> Nullable<Timestamp>,
        interview_held_at -> Nullable<Timestamp>,
        recorded_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    risk_assessments (id) {
        id -> Text,
        case_id -> Text,
        definition -> Text,
        definition_version -> Integer,
        answers -> Text,
        category -> Text,
        category_title -> Text,
        category_title_cy -> Text,
        rationale -> Text,
        assessed_by -> Text,
        assessed_at -> Timestamp,
        next_review_on -> Date,
    }
}

diesel::table! {
    risk_reviews (case_id) {
        case_id -> Text,
        due_on -> Date,
        reason -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    contexts (id) {
        id -> Text,
        reference -> Text,
        kind -> Text,
        name -> Text,
        description -> Text,
        authority_code -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    context_links (id) {
        id -> Text,
        context_id -> Text,
        case_id -> Text,
        reason -> Text,
        information -> Text,
        linked_by -> Text,
        linked_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    context_actions (id) {
        id -> Text,
        context_id -> Text,
        title -> Text,
        disruption -> Bool,
        owner_name -> Text,
        owner_email -> Nullable<Text>,
        owner_user_id -> Nullable<Text>,
        agency_code -> Nullable<Text>,
        due_date -> Date,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        close_note -> Nullable<Text>,
        reminder_sent_at -> Nullable<Timestamp>,
        overdue_notice_at -> Nullable<Timestamp>,
        escalated_at -> Nullable<Timestamp>,
        addresses_rationale -> Nullable<Text>,
        meeting_id -> Nullable<Text>,
    }
}

diesel::table! {
    meeting_contexts (meeting_id, context_id) {
        meeting_id -> Text,
        context_id -> Text,
    }
}

diesel::joinable!(meeting_contexts -> contexts (context_id));
diesel::joinable!(meeting_contexts -> meetings (meeting_id));
diesel::joinable!(context_actions -> contexts (context_id));
diesel::joinable!(context_links -> contexts (context_id));
diesel::joinable!(context_links -> cases (case_id));
diesel::joinable!(missing_episodes -> cases (case_id));
diesel::joinable!(risk_assessments -> cases (case_id));
diesel::joinable!(risk_reviews -> cases (case_id));
diesel::joinable!(child_cases -> cases (case_id));
diesel::joinable!(child_cases -> children (child_id));
diesel::joinable!(partner_referrals -> cases (case_id));
diesel::joinable!(partner_referrals -> referral_links (link_id));
diesel::joinable!(web_sessions -> users (user_id));
diesel::joinable!(second_steps -> users (user_id));
diesel::joinable!(destruction_approvals -> cases (case_id));
diesel::joinable!(account_invitations -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(case_access_grants -> cases (case_id));
diesel::joinable!(break_glass -> cases (case_id));
diesel::joinable!(plan_reviews -> cases (case_id));
diesel::joinable!(timescale_departures -> cases (case_id));
diesel::joinable!(step_history -> cases (case_id));
diesel::joinable!(case_involvements -> cases (case_id));
diesel::joinable!(agreed_actions -> cases (case_id));
diesel::joinable!(meeting_cases -> meetings (meeting_id));
diesel::joinable!(meeting_cases -> cases (case_id));
diesel::joinable!(meeting_invitees -> meetings (meeting_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    api_tokens,
    link_browsers,
    link_codes,
    case_access_grants,
    break_glass,
    users,
    reference_counters,
    cases,
    case_workflows,
    step_history,
    case_involvements,
    meetings,
    meeting_cases,
    meeting_invitees,
    outbox,
    meeting_record_sections,
    agreed_actions,
    action_updates,
    audit_events,
    access_log,
    security_events,
    account_invitations,
    single_sign_ons,
    destruction_approvals,
    recovery_codes,
    second_steps,
    workflow_definitions,
    plan_reviews,
    timescale_departures,
    job_runs,
    web_sessions,
    sign_in_attempts,
    form_submissions,
    referral_links,
    partner_referrals,
    children,
    child_cases,
    child_relations,
    missing_episodes,
    risk_assessments,
    risk_reviews,
    contexts,
    context_links,
    context_actions,
    meeting_contexts,
);
