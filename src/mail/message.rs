//! Builds the MIME message: plain text and HTML alternatives, and the calendar part where
//! there is one. The Message-ID is fixed when the message is queued, so a retry sends the same
//! message, never a second one.
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::ics::Method;
use super::templates::RenderedEmail;
use crate::error::AppError;

pub fn build(
    from: &Mailbox,
    to: &Mailbox,
    message_id: &str,
    email: &RenderedEmail,
    calendar: Option<(&str, Method)>,
) -> Result<Vec<u8>, AppError> {
    let mut alternatives = MultiPart::alternative()
        .singlepart(SinglePart::plain(email.text.clone()))
        .singlepart(SinglePart::html(email.html.clone()));
    if let Some((ics, method)) = calendar {
        // Outlook and Google treat a text/calendar alternative with a METHOD as an invitation.
        let content_type = ContentType::parse(&format!(
            "text/calendar; charset=utf-8; method={}",
            method.as_str()
        ))
        .map_err(|e| AppError::Internal(format!("calendar content type: {e}")))?;
        alternatives = alternatives.singlepart(
            SinglePart::builder()
                .header(content_type.clone())
                .body(ics.to_string()),
        );
        // The same file again as an attachment named .ics: what a calendar that ignores the
        // inline part (or a person saving it) opens.
        let mixed = MultiPart::mixed().multipart(alternatives).singlepart(
            Attachment::new("invitation.ics".into()).body(ics.to_string(), content_type),
        );
        return finish(from, to, message_id, email, mixed);
    }
    finish(from, to, message_id, email, alternatives)
}

fn finish(
    from: &Mailbox,
    to: &Mailbox,
    message_id: &str,
    email: &RenderedEmail,
    body: MultiPart,
) -> Result<Vec<u8>, AppError> {
    // A header is one line: a line break in a subject would start a header of its own.
    let subject: String = email
        .subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let message = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject.trim())
        .message_id(Some(message_id.to_string()))
        .date_now()
        .multipart(body)
        .map_err(|e| AppError::Internal(format!("cannot build email: {e}")))?;
    Ok(message.formatted())
}
