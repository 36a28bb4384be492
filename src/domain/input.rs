//! Checks on what people type that several units of work share. Each error names the field.
use crate::error::AppError;

/// Trimmed text of 1 to `max` characters, on one line.
pub fn field_len(value: &str, field: &str, max: usize) -> Result<String, AppError> {
    single_line(value.trim(), field)?;
    text(value, field, max)
}

/// An email address as typed.
/// A written text of some lines: required, at most `max` characters.
pub fn text(value: &str, field: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::bad_request(
            "required",
            field,
            format!("{field} must not be empty"),
        ));
    }
    if v.chars().count() > max {
        return Err(AppError::bad_request(
            "too_long",
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(v.to_string())
}

pub fn email(value: &str, field: &str) -> Result<(), AppError> {
    if value.trim().parse::<lettre::Address>().is_err() {
        return Err(AppError::bad_request(
            "invalid_email",
            field,
            format!("{value:?} is not an email address"),
        ));
    }
    Ok(())
}

/// A reason someone gives for a decision the history keeps: 20 to 2,000 characters, so that it
/// says something.
pub fn rationale(value: &str, field: &str) -> Result<String, AppError> {
    let v = value.trim();
    let n = v.chars().count();
    if !(20..=2000).contains(&n) {
        return Err(AppError::unprocessable(
            "rationale_required",
            field,
            format!("{field} must say why, in 20 to 2,000 characters"),
        ));
    }
    Ok(v.to_string())
}

/// Text that goes on one line (a name, a place, a title): it may reach a calendar file or an
/// email header, where a line break would start a line of its own, so none is accepted.
pub fn single_line(value: &str, field: &str) -> Result<(), AppError> {
    if value.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "line_break",
            field,
            format!("{field} must be on one line, with no line breaks or tabs"),
        ));
    }
    Ok(())
}

/// A time as an API caller sends it: with an offset, or as a Wales local time such as
/// 2026-12-02T10:00 (a local time the clocks skip or repeat is refused, not guessed).
pub fn time(raw: &str, field: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use chrono::NaiveDateTime;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            AppError::bad_request(
                "invalid_datetime",
                field,
                format!("{field} must be a Wales local time such as 2026-12-02T10:00, or a time with an offset; got {raw:?}"),
            )
        })?;
    crate::time::wales::london_to_utc(local).map_err(|why| {
        AppError::unprocessable("ambiguous_local_time", field, format!("{field}: {why}"))
    })
}

/// A time something happened: not later than now (a few minutes allowed for clocks that
/// disagree).
pub fn past_time(
    raw: &str,
    field: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    let t = time(raw, field)?;
    if t > now + chrono::Duration::minutes(5) {
        return Err(AppError::unprocessable(
            "datetime_in_future",
            field,
            format!("{field} is in the future"),
        ));
    }
    Ok(t)
}
