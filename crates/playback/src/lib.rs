//! The Offbeat playback engine: files decoded with symphonia, played through an output.
//!
//! The engine ([`Engine`]) is a thread driven by [`Command`]s that reports [`Event`]s,
//! both over bounded channels. It decodes ahead into blocks passed to the output through
//! a lock-free ring; the output's audio callback only reads them ([`StreamReader`]) and
//! never allocates, locks or blocks. Outputs sit behind the [`AudioOutput`] trait:
//! [`RodioOutput`] is the real device (rodio, cpal, ALSA), [`CaptureOutput`] records what
//! would have been played.
//!
//! This crate knows nothing of the library, SQLite or the network: it is handed a path.

mod arriving;
mod capture;
mod decoder;
mod downmix;
mod engine;
mod error;
mod mp4_trim;
mod opus;
mod output;
mod queue;
mod stream;

pub use capture::{CaptureHandle, CaptureOutput, Captured, CapturedStream};
pub use decoder::Decoder;
pub use engine::{gain, Command, Engine, Event, QueueSnapshot, ReplayGainMode, ReplayGainSettings};
pub use error::PlaybackError;
pub use output::{output_devices, AudioOutput, OutputDevice, RodioOutput};
pub use queue::{
    Queue, QueueEntry, QueueTrack, Repeat, ReplayGainTags, PREVIOUS_RESTARTS_AFTER_MS,
};
pub use stream::{StreamFormat, StreamReader};
