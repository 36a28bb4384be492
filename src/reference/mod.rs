//! Reference data the service is given rather than told by its users: the agencies of Wales and
//! the working-day calendar with the England and Wales bank holidays.
pub mod agencies;
pub mod calendar;
