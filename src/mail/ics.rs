//! Calendar invitations (RFC 5546 iTIP over RFC 5545), built with the `icalendar` crate.
//! Times are written in UTC, which every calendar accepts without a VTIMEZONE block; the
//! calendar shows them in the reader's own zone. One UID per meeting; SEQUENCE rises with each
//! change, so calendars replace the earlier copy instead of adding a second.
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// Who wrote the calendar file (RFC 5545 §3.7.3).
pub const PRODID: &str = concat!(
    "-//Safeguarding strategy meetings//safeguard ",
    env!("CARGO_PKG_VERSION"),
    "//EN"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

pub struct MeetingInvite<'a> {
    pub uid: &'a str,
    pub sequence: u32,
    /// No child's name: the kind of meeting and the case references only, in the invitee's
    /// language.
    pub summary: &'a str,
    /// The language of `summary` (RFC 5545 `LANGUAGE`, a BCP 47 tag).
    pub language: &'a str,
    /// The same words in both languages, the invitee's first.
    pub description: &'a str,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub location: Option<&'a str>,
    pub online_link: Option<&'a str>,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
    pub stamp: DateTime<Utc>,
}

/// A TEXT value (RFC 5545 §3.3.11): the crate escapes backslashes, commas, semicolons and
/// line feeds, but passes a bare carriage return or other control character through, which
/// would end the content line; any line break becomes one escaped `\n`, anything else goes.
fn text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// A parameter value (§3.2): always quoted, so that `:`, `;` and `,` stay inside it; a double
/// quote cannot be written inside one, and a control character would end the line, so neither
/// is kept.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c == '"' { '\'' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// An address in a `mailto:` value: nothing that could end the line or the value.
fn address(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && *c != '"')
        .collect()
}

/// A BCP 47 tag holds letters, digits and hyphens only.
fn language_tag(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

pub fn calendar(invite: &MeetingInvite<'_>, method: Method) -> String {
    let mut event = Event::new();
    event
        .uid(&address(invite.uid))
        .sequence(invite.sequence)
        .timestamp(invite.stamp)
        .starts(invite.starts)
        .ends(invite.ends);
    event.append_property(
        Property::new("SUMMARY", text(invite.summary))
            .add_parameter("LANGUAGE", &language_tag(invite.language))
            .done(),
    );
    event.description(&text(invite.description));
    let place = match (invite.location, invite.online_link) {
        (Some(l), Some(o)) => Some(format!("{l} / {o}")),
        (Some(l), None) => Some(l.to_string()),
        (None, Some(o)) => Some(o.to_string()),
        (None, None) => None,
    };
    if let Some(p) = &place {
        event.location(&text(p));
    }
    if let Some(link) = invite.online_link {
        event.add_property("URL", address(link));
    }
    event.append_property(
        Property::new(
            "ORGANIZER",
            format!("mailto:{}", address(invite.organizer_email)),
        )
        .add_parameter("CN", &param(invite.organizer_name))
        .done(),
    );
    event.append_multi_property(
        Property::new(
            "ATTENDEE",
            format!("mailto:{}", address(invite.attendee_email)),
        )
        .add_parameter("CN", &param(invite.attendee_name))
        .add_parameter("ROLE", "REQ-PARTICIPANT")
        .add_parameter("PARTSTAT", "NEEDS-ACTION")
        .add_parameter("RSVP", "FALSE")
        .done(),
    );
    event.status(match method {
        Method::Request => EventStatus::Confirmed,
        Method::Cancel => EventStatus::Cancelled,
    });
    // The crate's default PRODID names the crate; a calendar is told which service wrote it.
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new("PRODID", PRODID));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", method.as_str()));
    cal.push(event.done());
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, h, 0, 0)
            .single()
            .expect("time")
    }

    /// What a hostile name and place try: a second attendee, a property of their own, a
    /// parameter that ends early. Parsed back with the crate's parser, each stays one value.
    #[test]
    fn a_line_break_or_quote_in_a_name_or_place_makes_no_line_of_its_own() {
        let invite = MeetingInvite {
            uid: "meeting-1@safeguard.test",
            sequence: 0,
            summary: "Strategy meeting\r\nATTENDEE:mailto:intruder@evil.example",
            language: "en\r\nX-INJECTED:yes",
            description: "Cyfarfod strategaeth\r\nX-INJECTED:yes",
            starts: at(10),
            ends: at(11),
            location: Some("Room 1\rX-INJECTED:yes"),
            online_link: None,
            organizer_name: "Chair; \"One\", Cardiff",
            organizer_email: "chair@council.example",
            attendee_name: "Officer\nATTENDEE;CN=Intruder:mailto:intruder@evil.example",
            attendee_email: "officer@police.example",
            stamp: at(9),
        };
        let ics = calendar(&invite, Method::Request);
        assert!(
            !ics.replace("\r\n", "").contains('\r'),
            "no bare carriage return"
        );
        let lines: Vec<&str> = ics.split("\r\n").collect();
        assert!(!lines.iter().any(|l| l.starts_with("X-INJECTED")), "{ics}");
        let attendees: Vec<&&str> = lines.iter().filter(|l| l.starts_with("ATTENDEE")).collect();
        assert_eq!(attendees.len(), 1, "{ics}");
        let parsed: Calendar = ics.parse().expect("parses");
        let event = parsed
            .components
            .iter()
            .find_map(|c| c.as_event())
            .expect("an event");
        let organizer = event.properties().get("ORGANIZER").expect("organizer");
        assert_eq!(
            organizer.params().get("CN").map(|p| p.value()),
            Some("Chair; 'One', Cardiff"),
            "one value, with the double quotes made single"
        );
        assert!(
            ics.contains("CN=\"Chair; 'One', Cardiff\""),
            "written quoted: {ics}"
        );
        assert_eq!(
            event.get_location(),
            Some("Room 1\nX-INJECTED:yes"),
            "the carriage return is an escaped line break inside LOCATION"
        );
        let attendee = event.multi_properties().get("ATTENDEE").expect("attendees");
        assert_eq!(attendee.len(), 1);
        assert_eq!(attendee[0].value(), "mailto:officer@police.example");
    }
}
