//! Where the engine's audio goes: the [`AudioOutput`] trait and its real implementation
//! on rodio (cpal, ALSA on Linux).

use std::num::NonZero;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rodio::{DeviceSinkBuilder, MixerDeviceSink, Player, Source};

use crate::{PlaybackError, StreamReader};

/// An audio output the engine can play streams into.
///
/// The engine owns its output on its own thread, so implementations need not be `Send`
/// (a cpal stream is not, on every platform).
pub trait AudioOutput {
    /// Starts playing `stream`, replacing whatever was playing.
    fn play(&mut self, stream: StreamReader) -> Result<(), PlaybackError>;
    /// Queues `stream` to play the moment the current one ends, with no sample between
    /// them (gapless); plays it at once when nothing is playing. A stream of another
    /// format is converted to what the device plays.
    fn append(&mut self, stream: StreamReader) -> Result<(), PlaybackError>;
    /// Stops playing at once.
    fn stop(&mut self);
}

/// The system's default output device, through rodio's mixer.
pub struct RodioOutput {
    sink: MixerDeviceSink,
    player: Option<Player>,
}

impl std::fmt::Debug for RodioOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RodioOutput").finish_non_exhaustive()
    }
}

impl RodioOutput {
    /// Opens the default output device (in its default format, else any format it offers).
    pub fn open_default() -> Result<RodioOutput, PlaybackError> {
        let errors = Arc::new(AtomicU64::new(0));
        let mut sink = DeviceSinkBuilder::from_default_device()
            .and_then(|builder| {
                builder
                    .with_error_callback(move |e| report_stream_error(&errors, &e))
                    .open_sink_or_fallback()
            })
            .map_err(|e| PlaybackError::Output(e.to_string()))?;
        sink.log_on_drop(false);
        Ok(RodioOutput { sink, player: None })
    }
}

impl AudioOutput for RodioOutput {
    fn play(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        self.stop();
        let player = Player::connect_new(self.sink.mixer());
        player.append(ReaderSource::new(stream)?);
        player.play();
        self.player = Some(player);
        Ok(())
    }

    fn append(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        match &self.player {
            // rodio's queue moves to the next source within the same callback.
            Some(player) if !player.empty() => {
                player.append(ReaderSource::new(stream)?);
                Ok(())
            }
            _ => self.play(stream),
        }
    }

    fn stop(&mut self) {
        if let Some(player) = self.player.take() {
            player.stop();
        }
    }
}

/// Logs errors the device reports while it runs. Some are transient and can come in
/// floods (PulseAudio's ALSA plugin reports "no timing data yet" as an I/O error on every
/// poll while a stream starts), so only the 1st, 2nd, 4th, 8th... are printed, with a count.
fn report_stream_error(count: &AtomicU64, error: &rodio::cpal::Error) {
    let n = count.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        eprintln!("offbeat: audio output error ({n} so far): {error}");
    }
}

/// A [`StreamReader`] as a rodio [`Source`]; rodio converts rate and channels for the device.
struct ReaderSource {
    reader: StreamReader,
    channels: NonZero<u16>,
    sample_rate: NonZero<u32>,
}

impl ReaderSource {
    fn new(reader: StreamReader) -> Result<ReaderSource, PlaybackError> {
        let format = reader.format();
        let bad = || PlaybackError::Output(format!("unplayable stream format {format:?}"));
        Ok(ReaderSource {
            channels: NonZero::new(format.channels).ok_or_else(bad)?,
            sample_rate: NonZero::new(format.sample_rate).ok_or_else(bad)?,
            reader,
        })
    }
}

impl Iterator for ReaderSource {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        self.reader.next_sample()
    }
}

impl Source for ReaderSource {
    fn current_span_len(&self) -> Option<usize> {
        // The format never changes within a stream.
        None
    }
    fn channels(&self) -> NonZero<u16> {
        self.channels
    }
    fn sample_rate(&self) -> NonZero<u32> {
        self.sample_rate
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}
