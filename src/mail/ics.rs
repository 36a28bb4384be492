//! Calendar invitations (RFC 5546 iTIP over RFC 5545), built with the `icalendar` crate.
//! Times are written in UTC, which every calendar accepts without a VTIMEZONE block; the
//! calendar shows them in the reader's own zone. One UID per meeting; SEQUENCE rises with each
//! change, so calendars replace the earlier copy instead of adding a second.
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

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
    /// No child's name: the kind of meeting and the case references only.
    pub summary: &'a str,
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

pub fn calendar(invite: &MeetingInvite<'_>, method: Method) -> String {
    let mut event = Event::new();
    event
        .uid(invite.uid)
        .sequence(invite.sequence)
        .timestamp(invite.stamp)
        .summary(invite.summary)
        .starts(invite.starts)
        .ends(invite.ends);
    let place = match (invite.location, invite.online_link) {
        (Some(l), Some(o)) => Some(format!("{l} / {o}")),
        (Some(l), None) => Some(l.to_string()),
        (None, Some(o)) => Some(o.to_string()),
        (None, None) => None,
    };
    if let Some(p) = &place {
        event.location(p);
    }
    if let Some(link) = invite.online_link {
        event.add_property("URL", link);
    }
    event.append_property(
        Property::new("ORGANIZER", format!("mailto:{}", invite.organizer_email))
            .add_parameter("CN", invite.organizer_name)
            .done(),
    );
    event.append_multi_property(
        Property::new("ATTENDEE", format!("mailto:{}", invite.attendee_email))
            .add_parameter("CN", invite.attendee_name)
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter("PARTSTAT", "NEEDS-ACTION")
            .add_parameter("RSVP", "FALSE")
            .done(),
    );
    event.status(match method {
        Method::Request => EventStatus::Confirmed,
        Method::Cancel => EventStatus::Cancelled,
    });
    let mut cal = Calendar::new();
    cal.append_property(Property::new("METHOD", method.as_str()));
    cal.push(event.done());
    cal.done().to_string()
}
