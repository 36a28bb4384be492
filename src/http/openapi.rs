//! The OpenAPI 3.1 description of the JSON API. Kept beside the routes it describes; a test
//! checks that every route in `http::configure` appears here.
use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::auth::SignedIn;

fn error_ref() -> Value {
    json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn responses(ok: &str, extra: &[(&str, &str)]) -> Value {
    let mut r = json!({
        "200": {"description": ok},
        "401": {"description": "no valid bearer token", "content": error_ref()["content"].clone()},
    });
    for (code, text) in extra {
        r[*code] = json!({"description": text, "content": error_ref()["content"].clone()});
    }
    r
}

/// The API document. The meeting kinds are those the primary workflow declares.
pub fn document(meeting_kinds: &[String]) -> Value {
    let case_key = json!({"name": "key", "in": "path", "required": true,
        "description": "case id or reference (CSE-YYYY-NNNNNN)", "schema": {"type": "string"}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "safeguard: CSE strategy meeting orchestrator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Drives cases of children at risk of sexual exploitation through the Wales Safeguarding Procedures. Every route but /healthz and /readyz needs `Authorization: Bearer <token>`. A case the caller may not see answers 404, never 403."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "machine-readable, e.g. guards_unmet, stale_version, rationale_required"},
                    "message": {"type": "string"},
                    "field": {"type": ["string", "null"], "description": "the request field at fault, e.g. facts.police_contacted_at"},
                    "details": {"type": "object"}
                }},
                "NewCase": {"type": "object", "required": ["child"], "properties": {
                    "child": {"type": "object", "required": ["name", "date_of_birth", "gender", "located_authority", "residence_authority"], "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "date_of_birth": {"type": "string", "format": "date"},
                        "gender": {"type": "string", "maxLength": 50},
                        "located_authority": {"type": "string", "description": "agency code, e.g. la-cardiff"},
                        "residence_authority": {"type": "string"},
                        "looked_after": {"type": "boolean"},
                        "existing_plan": {"enum": ["none", "care_and_support", "child_protection", "both"]},
                        "in_secure_estate": {"type": "boolean"},
                        "language": {"enum": ["cy", "en", "both", "other", "not_known"], "default": "not_known"},
                        "family_language": {"enum": ["cy", "en", "both", "other", "not_known"], "default": "not_known"},
                        "welsh_offer": {"enum": ["accepted", "declined", "not_made"], "default": "not_made"}
                    }},
                    "facts": {"type": "object", "description": "report facts declared by the primary workflow"},
                    "involvements": {"type": "array", "items": {"type": "object", "required": ["agency", "role"], "properties": {
                        "agency": {"type": "string"}, "role": {"type": "string"},
                        "person_name": {"type": "string"}, "person_email": {"type": "string", "format": "email"}
                    }}}
                }},
                "Meeting": {"type": "object", "required": ["kind", "starts_at", "ends_at", "invitees"], "properties": {
                    "kind": {"enum": meeting_kinds},
                    "starts_at": {"type": "string", "description": "Wales local time 2026-12-02T10:00, or RFC 3339 with an offset"},
                    "ends_at": {"type": "string"}, "location": {"type": "string"}, "online_link": {"type": "string"},
                    "cases": {"type": "array", "items": {"type": "string"}, "description": "the children's cases; for a meeting about contexts, added to the children linked to them"},
                    "contexts": {"type": "array", "items": {"type": "string"}, "maxItems": 10, "description": "for a kind about contexts (the multi-agency exploitation meeting): the contexts it is about; the children linked to them whom you may see join it"},
                    "invitees": {"type": "array", "items": {"type": "object", "required": ["name", "email", "role"], "properties": {
                        "name": {"type": "string"}, "email": {"type": "string", "format": "email"}, "agency": {"type": "string"},
                        "role": {"type": "string"}, "language": {"enum": ["en", "cy"]}, "direct_knowledge": {"type": "boolean"}}}},
                    "confirm_warnings_rationale": {"type": "string", "minLength": 20}
                }},
                "Event": {"type": "object", "required": ["event", "expected_version"], "properties": {
                    "event": {"type": "string"},
                    "workflow": {"type": "string", "description": "defaults to the primary workflow"},
                    "expected_version": {"type": "integer", "description": "the case version the client saw; a different one answers 409 stale_version"},
                    "rationale": {"type": "string", "minLength": 20, "description": "required for declines"},
                    "meeting_id": {"type": "string", "description": "the meeting this was decided at; owners of agreed actions with an email are sent them"},
                    "facts": {"type": "object"},
                    "agreed_actions": {"type": "array", "items": {"type": "object", "required": ["title", "owner_name"], "properties": {
                        "title": {"type": "string"}, "owner_name": {"type": "string"},
                        "owner_email": {"type": "string", "format": "email"}, "agency": {"type": "string"},
                        "due_date": {"type": "string", "format": "date"}, "kind": {"type": "string"}
                    }}}
                }}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {"summary": "liveness", "security": [], "responses": {"200": {"description": "alive"}}}},
            "/metrics": {"get": {"summary": "Prometheus text format; bearer SAFEGUARD_METRICS_TOKEN, not a user's token; 404 when that setting is absent", "responses": {"200": {"description": "metrics"}, "401": {"description": "not the metrics token"}, "404": {"description": "metrics are not turned on"}}}},
            "/readyz": {"get": {"summary": "readiness: database reachable, workflows loaded", "security": [], "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/api/openapi.json": {"get": {"summary": "this document", "responses": responses("OpenAPI document", &[])}},
            "/api/me": {"get": {"summary": "the signed-in user", "responses": responses("user", &[])}},
            "/api/agencies": {"get": {"summary": "agencies: local authorities, police, health boards, youth justice services", "responses": responses("agencies", &[])}},
            "/api/workflows": {"get": {"summary": "loaded workflows, newest version of each", "responses": responses("workflows", &[])}},
            "/api/workflows/{name}": {"get": {"summary": "a workflow definition", "parameters": [
                {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "version", "in": "query", "schema": {"type": "integer"}}
            ], "responses": responses("definition", &[("404", "no such workflow")])}},
            "/api/workflows/{name}/diagram": {"get": {"summary": "a workflow drawn as Mermaid or Graphviz DOT", "parameters": [
                {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "format", "in": "query", "schema": {"enum": ["mermaid", "dot"]}},
                {"name": "version", "in": "query", "schema": {"type": "integer"}}
            ], "responses": responses("diagram text", &[("400", "unknown format"), ("404", "no such workflow")])}},
            "/api/cases": {
                "get": {"summary": "cases the caller may see", "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                    {"name": "authority", "in": "query", "schema": {"type": "string"}},
                    {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "q", "in": "query", "description": "part of the child's name (accents need not be typed) or of the reference", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
                ], "responses": responses("case summaries", &[("400", "bad filter")])},
                "post": {"summary": "record a report: creates a case on the primary workflow",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewCase"}}}},
                    "responses": {"201": {"description": "created"}, "400": {"description": "malformed input", "content": error_ref()["content"].clone()},
                        "401": {"description": "no token"}, "403": {"description": "role may not record reports"},
                        "413": {"description": "body too large"}, "422": {"description": "well-formed but not acceptable", "content": error_ref()["content"].clone()}}}
            },
            "/api/cases/{key}": {"get": {"summary": "one case", "parameters": [case_key.clone()], "responses": responses("case", &[("404", "no such case, or not visible to you")])}},
            "/api/cases/{key}/events": {"post": {"summary": "apply an event (one transaction)", "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                "responses": responses("transition outcome", &[("400", "malformed input or unknown event"), ("403", "role may not apply the event"),
                    ("404", "no such case"), ("409", "stale_version"), ("413", "body too large"), ("422", "event not allowed now, guards unmet, rationale missing")])}},
            "/api/cases/{key}/events/allowed": {"get": {"summary": "events allowed now and what each still needs", "parameters": [case_key.clone()], "responses": responses("allowed events", &[("404", "no such case")])}},
            "/api/cases/{key}/history": {"get": {"summary": "the case's audit trail", "parameters": [case_key.clone()], "responses": responses("history", &[("404", "no such case")])}},
            "/api/cases/{key}/access-log": {"get": {"summary": "who read or wrote the case (team leads)", "parameters": [case_key.clone()], "responses": responses("access log", &[("403", "not a team lead"), ("404", "no such case")])}},
            "/api/cases/{key}/suggested-invitees": {"get": {"summary": "the invitee list a meeting starts from (R6): both authorities, discussion participants, people involved", "parameters": [case_key.clone()], "responses": responses("suggested invitees", &[("404", "no such case")])}},
            "/api/cases/{key}/actions": {
                "get": {"summary": "the case's agreed actions, soonest due first, with their updates", "parameters": [case_key.clone()], "responses": responses("actions", &[("404", "no such case")])},
                "post": {"summary": "agree an action outside a meeting record; its owner (a user, or someone reached by email) is emailed",
                    "parameters": [case_key.clone()],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["title"], "properties": {
                        "title": {"type": "string", "maxLength": 500}, "owner_name": {"type": "string"}, "owner_email": {"type": "string"}, "owner_user_id": {"type": "string"},
                        "agency": {"type": "string"}, "due_date": {"type": "string", "format": "date"}, "due_working_days": {"type": "integer", "minimum": 1, "maximum": 260}}}}}},
                    "responses": responses("the action", &[("400", "malformed input"), ("403", "not a chair, team lead or senior manager"), ("404", "no such case"),
                        ("422", "owner_email_required, due_date_in_past, unknown_user, unknown_agency, child_named")])}},
            "/api/cases/{key}/actions/{action_id}/updates": {"post": {"summary": "update an open action: a note, done, cancelled (rationale of 20+ characters), or a new due date (more time)",
                "parameters": [case_key.clone(), {"name": "action_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["note"], "properties": {
                    "note": {"type": "string"}, "status": {"type": "string", "enum": ["done", "cancelled"]}, "rationale": {"type": "string"}, "due_date": {"type": "string", "format": "date"},
                    "more_time": {"type": "string", "enum": ["granted", "refused"], "description": "the answer to the owner's waiting request for more time; granted needs due_date, and a refusal's note is emailed to the owner"},
                    "owner_name": {"type": "string", "description": "passing the action on: the new owner"}, "owner_email": {"type": "string", "format": "email"}, "owner_user_id": {"type": "string"}}}}}},
                "responses": responses("the action", &[("403", "not the owner, a chair, team lead or senior manager"), ("404", "no such case or action"), ("409", "action_closed, no_request_waiting"),
                    ("422", "rationale_required, not_cancellable, due_date_in_past, due_date_required, child_named, owner_email_required")])}},
            "/api/cases/{key}/reviews": {"get": {"summary": "the plan's core groups and review conferences: due, held or cancelled, and whether overdue", "parameters": [case_key.clone()], "responses": responses("reviews", &[("404", "no such case")])}},
            "/api/cases/{key}/departures": {"post": {"summary": "a senior manager records a departure from the timescale of the current step (or of a review), with a rationale; audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["rationale"], "properties": {
                    "workflow": {"type": "string"}, "review_id": {"type": "string"}, "rationale": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("the departure", &[("403", "not a senior manager"), ("404", "no such case or review"), ("409", "departure_recorded"),
                    ("422", "rationale_required, no_timescale, workflow_not_running, review_not_due")])}},
            "/api/dashboard": {"get": {"summary": "team leads and senior managers: overdue steps and actions, reviews due in 10 working days, 18th birthdays in 6 months, timeliness per team and authority over a period, and the figures Wales reports (wales_figures)",
                "parameters": [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}}, {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}],
                "responses": responses("dashboard", &[("400", "invalid_date or invalid_period"), ("403", "not a team lead or senior manager")])}},
            "/api/dashboard/{list}": {"get": {"summary": "one dashboard list as CSV: overdue_steps.csv, overdue_actions.csv, overdue_context_actions.csv, reviews_due.csv, turning_18.csv, timeliness.csv, wales_figures.csv",
                "parameters": [{"name": "list", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}}, {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}],
                "responses": responses("CSV", &[("400", "unknown_list, invalid_date"), ("403", "not a team lead or senior manager")])}},
            "/api/meetings": {"post": {"summary": "convene a meeting for one or more children; queues invitations (with calendar files) and reminders",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Meeting"}}}},
                "responses": {"201": {"description": "scheduled"}, "400": {"description": "malformed input", "content": error_ref()["content"].clone()},
                    "403": {"description": "not a chair or team lead"}, "404": {"description": "a case you cannot see"},
                    "422": {"description": "end before start, in the past, or scheduling_warnings to confirm with a rationale; no_children (the contexts chosen have no child you may see)", "content": error_ref()["content"].clone()}}}},
            "/api/meetings/{id}": {"get": {"summary": "a meeting with its invitees and their answers", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": responses("meeting", &[("404", "no such meeting")])}},
            "/api/meetings/{id}/reschedule": {"post": {"summary": "move a meeting (reason required); sends updated invitations (SEQUENCE raised)", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["starts_at", "ends_at", "reason"], "properties": {
                    "starts_at": {"type": "string"}, "ends_at": {"type": "string"}, "location": {"type": "string"}, "online_link": {"type": "string"},
                    "reason": {"type": "string", "minLength": 20}, "confirm_warnings_rationale": {"type": "string"}}}}}},
                "responses": responses("meeting", &[("404", "no such meeting"), ("409", "meeting_cancelled"), ("422", "bad times or warnings to confirm")])}},
            "/api/meetings/{id}/cancel": {"post": {"summary": "cancel a meeting (reason required); sends cancellations (METHOD:CANCEL)", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("meeting", &[("404", "no such meeting"), ("409", "already cancelled")])}},
            "/api/meetings/{id}/record": {"post": {"summary": "record that the meeting was held: attendance, summary of decisions (no child's name), next date; the record goes to each child's case and the summary to everyone invited",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["summary"], "properties": {
                    "summary": {"type": "string", "minLength": 20}, "next_meeting_at": {"type": "string"},
                    "context_actions": {"type": "array", "description": "for a meeting about contexts: actions agreed on its contexts, each emailed to its owner with its title and the context's reference only", "items": {"type": "object", "required": ["context", "action"], "properties": {"context": {"type": "string"}, "action": {"type": "object", "description": "as for POST /api/contexts/{context}/actions", "required": ["title"], "properties": {"title": {"type": "string"}, "disruption": {"type": "boolean"}, "owner_name": {"type": "string"}, "owner_email": {"type": "string"}, "owner_user_id": {"type": "string"}, "agency": {"type": "string"}, "due_date": {"type": "string", "format": "date"}, "due_working_days": {"type": "integer"}}}}}},
                    "attendees": {"type": "array", "items": {"type": "object", "required": ["invitee_id", "attended"], "properties": {"invitee_id": {"type": "string"}, "attended": {"type": "boolean"}}}}}}}}},
                "responses": responses("meeting", &[("404", "no such meeting"), ("409", "cancelled or already recorded"), ("422", "not held yet, names the child, unknown invitee")])}},
            "/api/admin/mail": {"get": {"summary": "mail that failed, or failed at least once and is being retried: kind, case reference, recipient, attempts, last error, dates (administrators)", "responses": responses("mail", &[("403", "not an administrator")])}},
            "/api/admin/mail/{id}/retry": {"post": {"summary": "put one failed message back in the queue (administrators)", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": responses("retried", &[("403", "not an administrator"), ("404", "no failed message with that id")])}},
            "/api/admin/mail/retry-failed": {"post": {"summary": "put every failed message back in the queue (administrators)", "responses": responses("retried", &[("403", "not an administrator")])}},
            "/api/admin/tokens": {"get": {"summary": "every API token still working: person, label, made, expires, last used (administrators)", "responses": responses("tokens", &[("403", "not an administrator")])}},
            "/api/admin/tokens/{id}/revoke": {"post": {"summary": "revoke an API token at once (administrators)", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": responses("revoked", &[("403", "not an administrator"), ("404", "no such token")])}},
            "/api/admin/referral-links": {
                "get": {"summary": "every referral link a partner agency reports through: agency, named person, issued, expires, revoked, last used (administrators)", "responses": responses("referral_links", &[("403", "not an administrator")])},
                "post": {"summary": "issue a signed referral link to a partner agency or a named person of it; the answer's url is shown this once (and emailed to person_email if given); a security event",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["agency"], "properties": {"agency": {"type": "string"}, "person_name": {"type": "string"}, "person_email": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 366}}}}}},
                    "responses": {"201": {"description": "the link, with its url"}, "400": {"description": "invalid_email, invalid_link_days", "content": error_ref()["content"].clone()}, "403": {"description": "not an administrator"}, "422": {"description": "unknown_agency", "content": error_ref()["content"].clone()}}}},
            "/api/admin/referral-links/{id}/revoke": {"post": {"summary": "withdraw a referral link at once: it shows a plain page from then on (administrators); a security event", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": responses("revoked", &[("403", "not an administrator"), ("404", "no such link")])}},
            "/api/cases/{key}/child-record": {"get": {"summary": "the child across cases: the other cases of the same child and of linked siblings that you may open, and cases you may open that may be the same child's (the same date of birth, and the same name or a name in common); nothing of any other case",
                "parameters": [case_key.clone()], "responses": responses("related and suggestions", &[("404", "no such case")])}},
            "/api/cases/{key}/same-child": {"post": {"summary": "confirm that another case you may open is the same child's: the two child records merge; audited on every case of both, with the reason",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["other", "reason"], "properties": {"other": {"type": "string"}, "reason": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("this case's new version", &[("404", "no such case"), ("409", "already_same_child"), ("422", "unknown_case (another case you may not open answers as one that does not exist), same_case, rationale_required")])}},
            "/api/cases/{key}/siblings": {"post": {"summary": "link the child of another case you may open as a sibling; audited on both cases, with the reason",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["other", "reason"], "properties": {"other": {"type": "string"}, "reason": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("this case's new version", &[("404", "no such case"), ("409", "already_linked, same_child"), ("422", "unknown_case, same_case, rationale_required")])}},
            "/api/cases/{key}/siblings/end": {"post": {"summary": "end a sibling link of this case's child, with a reason; audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["link", "reason"], "properties": {"link": {"type": "string"}, "reason": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("this case's new version", &[("404", "no such case"), ("422", "unknown_link, rationale_required")])}},
            "/api/contexts": {
                "get": {"summary": "the contexts you may see (places, peer groups, persons of concern): your authority's, and those linked to a child you may see; persons of concern only with the role an administrator gives (safeguard user persons-of-concern)", "responses": responses("contexts", &[])},
                "post": {"summary": "record a context of your authority: kind (place, peer_group, person_of_concern), name, description; a person of concern only with the role; access-logged. Nothing of a context goes into any email (its actions' emails give their title and the context's reference only)",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["kind", "name", "description"], "properties": {"kind": {"type": "string", "enum": ["place", "peer_group", "person_of_concern"]}, "name": {"type": "string", "maxLength": 200}, "description": {"type": "string", "maxLength": 2000}}}}}},
                    "responses": {"201": {"description": "the context, with its reference"}, "400": {"description": "invalid_choice, required, too_long, line_break", "content": error_ref()["content"].clone()}, "403": {"description": "a person of concern without the role; an administrator"}}}},
            "/api/contexts/{context}": {"get": {"summary": "a context, with the children linked to it that you may see (why, on what information, who, when, ended); nothing of the others, not even how many; the context's own actions; a line in the access log for the context and each child named",
                "parameters": [{"name": "context", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": responses("the context", &[("404", "no such context, or out of your reach")])}},
            "/api/contexts/{context}/links": {"post": {"summary": "link a child you may see to the context, with why (20+ characters) and on what information; audited on the child's case; the child's risk review comes forward",
                "parameters": [{"name": "context", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["case", "reason", "information"], "properties": {"case": {"type": "string"}, "reason": {"type": "string", "minLength": 20}, "information": {"type": "string"}}}}}},
                "responses": {"201": {"description": "the link"}, "404": {"description": "no such context, or out of your reach"}, "409": {"description": "already_linked_to_context"}, "422": {"description": "unknown_case (a case you may not open answers as one that does not exist), rationale_required", "content": error_ref()["content"].clone()}}}},
            "/api/contexts/{context}/links/{link_id}/end": {"post": {"summary": "end a link, with the reason; the link stays in the record; audited on the child's case",
                "parameters": [{"name": "context", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "link_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 20}}}}}},
                "responses": {"200": {"description": "ended"}, "404": {"description": "no such context or link, or out of your reach"}, "422": {"description": "rationale_required", "content": error_ref()["content"].clone()}}}},
            "/api/contexts/{context}/actions": {"post": {"summary": "agree an action on the context (disruption: true for police or partners acting on the place, group or person): title, owner (owner_email, or owner_user_id of a user of the service), agency, due_date or due_working_days. Chairs, team leads and senior managers. The owner is emailed the title, the due date and the context's reference only; a title naming the context or a linked child is refused. Chased like an agreed action: reminded, told when overdue, escalated to a team lead",
                "parameters": [{"name": "context", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string", "maxLength": 500}, "disruption": {"type": "boolean"}, "owner_name": {"type": "string"}, "owner_email": {"type": "string"}, "owner_user_id": {"type": "string"}, "agency": {"type": "string"}, "due_date": {"type": "string", "format": "date"}, "due_working_days": {"type": "integer", "minimum": 1, "maximum": 260}, "confirm_addresses_rationale": {"type": "string"}}}}}},
                "responses": {"201": {"description": "the action"}, "400": {"description": "invalid_title, invalid_email, ambiguous_due, invalid_date, line_break", "content": error_ref()["content"].clone()}, "403": {"description": "not a chair, team lead or senior manager"}, "404": {"description": "no such context, or out of your reach"}, "422": {"description": "context_named, child_named, owner_email_required, unknown_agency, due_date_in_past, address_outside_agency", "content": error_ref()["content"].clone()}}}},
            "/api/contexts/{context}/actions/{context_action_id}/close": {"post": {"summary": "mark a context's open action done (with what was done) or cancelled (with why, 20+ characters); by a chair, team lead, senior manager or the user who owns it; the action keeps who, when and why",
                "parameters": [{"name": "context", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "context_action_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["status", "note"], "properties": {"status": {"type": "string", "enum": ["done", "cancelled"]}, "note": {"type": "string", "maxLength": 2000}}}}}},
                "responses": {"200": {"description": "the action, closed"}, "400": {"description": "invalid_choice, required, too_long", "content": error_ref()["content"].clone()}, "403": {"description": "neither one who manages actions nor its owner"}, "404": {"description": "no such context or action, or out of your reach"}, "409": {"description": "action_closed"}, "422": {"description": "rationale_required", "content": error_ref()["content"].clone()}}}},
            "/api/cases/{key}/risk": {"get": {"summary": "the child's risk over time: the latest assessment's category, when the next risk review is due and why (scheduled, or brought forward by a missing episode), every assessment with the questions as asked and their answers, every missing episode with its return interview; and the assessment to answer (questions, answers, categories)",
                "parameters": [case_key.clone()], "responses": responses("risk and assessment", &[("404", "no such case")])}},
            "/api/cases/{key}/risk-assessments": {"post": {"summary": "record a structured risk assessment: every question answered (an answer id each), the category you chose and why; the next review follows the category's interval. Structured professional judgement: the service computes no score. Chairs, team leads and senior managers; audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["answers", "category", "rationale"], "properties": {"answers": {"type": "object", "additionalProperties": {"type": "string"}}, "category": {"type": "string"}, "rationale": {"type": "string", "minLength": 20}}}}}},
                "responses": {"201": {"description": "the assessment, with its next review date"}, "400": {"description": "question_unanswered, unknown_question, invalid_choice (each names the question or category)", "content": error_ref()["content"].clone()}, "403": {"description": "not a chair, team lead or senior manager"}, "404": {"description": "no such case"}, "409": {"description": "case_closed"}, "422": {"description": "rationale_required", "content": error_ref()["content"].clone()}}}},
            "/api/cases/{key}/significant-changes": {"post": {"summary": "record a significant change (a new disclosure, or another) with a note of 20+ characters: the child's risk review comes forward to within the assessment file's working days, unless due sooner; audited; never emailed",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["reason", "note"], "properties": {"reason": {"type": "string", "enum": ["disclosure", "other_change"]}, "note": {"type": "string", "minLength": 20}}}}}},
                "responses": {"200": {"description": "when the review is now due"}, "400": {"description": "invalid_choice", "content": error_ref()["content"].clone()}, "404": {"description": "no such case"}, "422": {"description": "rationale_required", "content": error_ref()["content"].clone()}}}},
            "/api/cases/{key}/missing-episodes": {"post": {"summary": "record a missing episode (times with an offset, or Wales local time); the return interview's deadline follows the return; a new episode brings the child's risk review forward. Never in any email; audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["went_missing_at", "reported_by"], "properties": {"went_missing_at": {"type": "string"}, "reported_by": {"type": "string", "maxLength": 200}, "returned_at": {"type": "string"}, "interview_offered_at": {"type": "string"}, "interview_held_at": {"type": "string"}}}}}},
                "responses": {"201": {"description": "the episode"}, "400": {"description": "invalid_datetime, required, too_long", "content": error_ref()["content"].clone()}, "403": {"description": "your role does not record missing episodes"}, "404": {"description": "no such case"}, "409": {"description": "case_closed"}, "422": {"description": "datetime_in_future, time_out_of_order, not_returned", "content": error_ref()["content"].clone()}}}},
            "/api/cases/{key}/missing-episodes/{episode_id}": {"post": {"summary": "record what became known of an episode: the return, the interview offered or held (a time not yet recorded is set; one left out stays); audited with what it was before",
                "parameters": [case_key.clone(), {"name": "episode_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"returned_at": {"type": "string"}, "interview_offered_at": {"type": "string"}, "interview_held_at": {"type": "string"}}}}}},
                "responses": {"200": {"description": "the episode"}, "400": {"description": "nothing_to_record, invalid_datetime", "content": error_ref()["content"].clone()}, "404": {"description": "no such case or episode"}, "409": {"description": "already_recorded (a time once recorded stays), case_closed"}, "422": {"description": "datetime_in_future, time_out_of_order, not_returned", "content": error_ref()["content"].clone()}}}},
            "/api/cases/{key}/referral/acknowledge": {"post": {"summary": "record that the partner's report the case came from has been triaged (WSP c2 p18); audited; a second time changes nothing",
                "parameters": [case_key.clone()],
                "responses": responses("when it was acknowledged", &[("404", "no such case"), ("409", "not_a_partner_referral: the case did not come from a referral link")])}},
            "/api/admin/security-events": {"get": {"summary": "the latest 200 security events: sign-ins failed or held back, tokens issued and revoked, sessions ended (administrators)", "responses": responses("events", &[("403", "not an administrator")])}},
            "/api/break-glass": {"post": {"summary": "open a case of your own authority that you would not otherwise see, with a reason (20+ characters); the reason goes in its history, the team leads are told, and access ends after SAFEGUARD_BREAK_GLASS_HOURS",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["reference", "reason"], "properties": {"reference": {"type": "string"}, "reason": {"type": "string", "minLength": 20}}}}}},
                "responses": {"201": {"description": "open until the time given"}, "404": {"description": "no case of your authority has that reference"}, "409": {"description": "already_open: you may open it already"}, "422": {"description": "rationale_required", "content": error_ref()["content"].clone()}}}},
            "/api/cases/{key}/team": {"post": {"summary": "give the case to a team of the authority (team leads and senior managers of the child's authority); audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "team"], "properties": {"expected_version": {"type": "integer"}, "team": {"type": "string"}}}}}},
                "responses": responses("the new case version", &[("403", "not a team lead or senior manager of the child's authority"), ("404", "no such case"), ("409", "stale_version")])}},
            "/api/cases/{key}/languages": {"post": {"summary": "record the child's and family's language and whether the active offer of Welsh was made, when known after the report; audited with what they were before",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "language", "family_language", "welsh_offer"], "properties": {"expected_version": {"type": "integer"},
                    "language": {"enum": ["cy", "en", "both", "other", "not_known"]}, "family_language": {"enum": ["cy", "en", "both", "other", "not_known"]}, "welsh_offer": {"enum": ["accepted", "declined", "not_made"]}}}}}},
                "responses": responses("the new case version", &[("400", "invalid_choice, naming the field"), ("404", "no such case"), ("409", "stale_version")])}},
            "/api/cases/{key}/child": {"post": {"summary": "correct the child's name, date of birth or gender, with a reason (chairs, team leads, senior managers); audited with what they were before; the age-18 track follows the corrected date",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "name", "date_of_birth", "gender", "reason"], "properties": {"expected_version": {"type": "integer"},
                    "name": {"type": "string"}, "date_of_birth": {"type": "string", "format": "date"}, "gender": {"type": "string"}, "reason": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("the new case version, and whether anything changed", &[("400", "invalid_date, naming the field"), ("403", "not a chair, team lead or senior manager"), ("404", "no such case"), ("409", "stale_version"), ("422", "reason_too_short, date_of_birth_in_future, not_a_child")])}},
            "/api/cases/{key}/restriction": {"post": {"summary": "restrict the case to the people named on it, or lift the restriction, with a rationale (team leads and senior managers of the child's authority); audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "restricted", "rationale"], "properties": {"expected_version": {"type": "integer"}, "restricted": {"type": "boolean"}, "rationale": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("the new case version", &[("403", "not a team lead or senior manager of the child's authority"), ("404", "no such case"), ("409", "stale_version"), ("422", "rationale_required")])}},
            "/api/cases/{key}/named": {"post": {"summary": "name a person on the case (they may open it, restricted or not), or take them off; audited",
                "parameters": [case_key.clone()],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "user_email", "named"], "properties": {"expected_version": {"type": "integer"}, "user_email": {"type": "string", "format": "email"}, "named": {"type": "boolean"}}}}}},
                "responses": responses("the new case version", &[("403", "not a team lead or senior manager of the child's authority"), ("404", "no such case"), ("409", "stale_version"), ("422", "unknown_user")])}},
            "/api/cases/{key}/involvements/{involvement_id}/remove": {"post": {"summary": "take an involvement off the case, with a rationale (chairs, team leads and senior managers of the child's authority); a user involved from elsewhere can no longer open it; audited",
                "parameters": [case_key.clone(), {"name": "involvement_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "rationale"], "properties": {"expected_version": {"type": "integer"}, "rationale": {"type": "string", "minLength": 20}}}}}},
                "responses": responses("the new case version", &[("403", "not of the child's authority"), ("404", "no such case or involvement"), ("409", "stale_version"), ("422", "rationale_required")])}},
            "/respond/{token}": {
                "get": {"summary": "public page from an invitation email: the meeting, and accept/decline buttons", "security": [], "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "HTML page"}, "400": {"description": "tampered link (HTML)"}, "410": {"description": "expired link (HTML)"}}},
                "post": {"summary": "record the invitee's answer", "security": [], "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["answer"], "properties": {"answer": {"enum": ["accepted", "declined"]}, "reason": {"type": "string"}}}}}},
                    "responses": {"200": {"description": "HTML page"}, "400": {"description": "tampered link"}, "409": {"description": "meeting cancelled"}, "410": {"description": "expired link"}}}
            },
            "/link-code/{purpose}": {"post": {"summary": "the one-time code a signed link asked for (purpose respond or actions); a right code opens the link in this browser", "security": [],
                "parameters": [{"name": "purpose", "in": "path", "required": true, "schema": {"enum": ["respond", "actions"]}}],
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["token", "code"], "properties": {"token": {"type": "string"}, "code": {"type": "string"}}}}}},
                "responses": {"303": {"description": "back to the link"}, "400": {"description": "wrong, spent or expired code (HTML)"}, "410": {"description": "expired link (HTML)"}}}},
            "/actions/{token}": {
                "get": {"summary": "public page from an agreed-actions email: the owner's actions on one case", "security": [], "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "HTML page"}, "400": {"description": "tampered link (HTML)"}, "410": {"description": "expired link (HTML)"}}},
                "post": {"summary": "add an update to one of the owner's actions, or mark it done", "security": [], "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["action_id", "note", "status"], "properties": {"action_id": {"type": "string"}, "note": {"type": "string"}, "status": {"enum": ["done", "open"]}}}}}},
                    "responses": {"200": {"description": "HTML page"}, "404": {"description": "not one of this owner's actions"}, "409": {"description": "action already closed"}, "410": {"description": "expired link"}}}
            },
            "/api/cases/{key}/involvements": {"post": {"summary": "involve a person, agency or user of another authority (chairs, team leads and senior managers of the child's authority); audited",
                "parameters": [case_key],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["expected_version", "agency", "role"], "properties": {
                    "expected_version": {"type": "integer"}, "agency": {"type": "string"}, "role": {"type": "string"},
                    "person_name": {"type": "string"}, "person_email": {"type": "string", "format": "email"},
                    "user_email": {"type": "string", "format": "email", "description": "an account to give access to this case"}
                }}}}},
                "responses": {"201": {"description": "involved; the new case version"}, "403": {"description": "not of the child's authority"}, "404": {"description": "no such case"},
                    "409": {"description": "stale_version"}, "422": {"description": "unknown agency or user", "content": error_ref()["content"].clone()}}}}
        }
    })
}

pub async fn openapi(
    state: actix_web::web::Data<crate::app::AppState>,
    _user: SignedIn,
) -> HttpResponse {
    HttpResponse::Ok().json(document(&crate::domain::meeting::kind_codes(
        &state.services.engine,
    )))
}
