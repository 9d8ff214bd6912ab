//! What the engine's crate tests share: waiting for its events.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use offbeat_playback::{Engine, Event};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Generous bound for waiting on an event; never a measure of speed.
pub const EVENT_WAIT: Duration = Duration::from_secs(30);

/// Waits for the first event matching `want`, returning it and everything seen before.
pub fn wait_for(
    engine: &Engine,
    want: impl Fn(&Event) -> bool,
) -> Result<(Event, Vec<Event>), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + EVENT_WAIT;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match engine.events().recv_timeout(left) {
            Ok(event) if want(&event) => return Ok((event, seen)),
            Ok(event) => seen.push(event),
            Err(_) => break,
        }
    }
    Err(format!("expected event did not arrive; saw {seen:?}").into())
}
