//! Time: the injected clock, Wales local time, and ages.
pub mod age;
pub mod clock;
pub mod wales;
