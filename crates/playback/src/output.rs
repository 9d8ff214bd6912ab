//! Where the engine's audio goes: the [`AudioOutput`] trait and its real implementation
//! on rodio (cpal, ALSA on Linux).

use std::num::NonZero;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rodio::cpal::traits::{DeviceTrait, HostTrait};
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

    /// Moves to another device (`None`: the system's default). Whatever played stops; the
    /// engine starts it again on the new device.
    fn switch_device(&mut self, device: Option<&str>) -> Result<(), PlaybackError> {
        let _ = device;
        Err(PlaybackError::Output(
            "this output cannot change devices".into(),
        ))
    }

    /// The device failure (it disappeared) since the last call, if any.
    fn take_failure(&mut self) -> Option<String> {
        None
    }
}

/// An output device the system offers: `id` to choose it by, `name` to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDevice {
    pub id: String,
    pub name: String,
}

/// The output devices the system offers now (an empty list when it cannot say).
pub fn output_devices() -> Vec<OutputDevice> {
    let host = rodio::cpal::default_host();
    let Ok(devices) = host.output_devices() else {
        return Vec::new();
    };
    devices
        .filter_map(|device| {
            let id = device.id().ok()?.to_string();
            let name = device
                .description()
                .map(|d| d.name().to_owned())
                .unwrap_or_else(|_| device.to_string());
            Some(OutputDevice { id, name })
        })
        .collect()
}

/// An output device through rodio's mixer: the system's default, or one chosen by id.
pub struct RodioOutput {
    sink: MixerDeviceSink,
    player: Option<Player>,
    /// Set by the device's error callback when the device disappears.
    failure: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for RodioOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RodioOutput").finish_non_exhaustive()
    }
}

impl RodioOutput {
    /// Opens the default output device (in its default format, else any format it offers).
    pub fn open_default() -> Result<RodioOutput, PlaybackError> {
        RodioOutput::open(None)
    }

    /// Opens the device with this id (see [`output_devices`]), or the default for `None`.
    pub fn open(device: Option<&str>) -> Result<RodioOutput, PlaybackError> {
        let failure = Arc::new(Mutex::new(None));
        let sink = open_sink(device, failure.clone())?;
        Ok(RodioOutput {
            sink,
            player: None,
            failure,
        })
    }
}

fn open_sink(
    device: Option<&str>,
    failure: Arc<Mutex<Option<String>>>,
) -> Result<MixerDeviceSink, PlaybackError> {
    let builder = match device {
        None => DeviceSinkBuilder::from_default_device(),
        Some(id) => {
            let host = rodio::cpal::default_host();
            let found = id
                .parse()
                .ok()
                .and_then(|id| host.device_by_id(&id))
                .ok_or_else(|| {
                    PlaybackError::Output(format!("the output device {id} is not there"))
                })?;
            DeviceSinkBuilder::from_device(found)
        }
    };
    let errors = Arc::new(AtomicU64::new(0));
    let mut sink = builder
        .and_then(|builder| {
            builder
                .with_error_callback(move |e| {
                    if e.kind() == rodio::CpalErrorKind::DeviceNotAvailable {
                        *failure.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(e.to_string());
                    }
                    report_stream_error(&errors, &e);
                })
                .open_sink_or_fallback()
        })
        .map_err(|e| PlaybackError::Output(e.to_string()))?;
    sink.log_on_drop(false);
    Ok(sink)
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

    fn switch_device(&mut self, device: Option<&str>) -> Result<(), PlaybackError> {
        self.stop();
        let failure = Arc::new(Mutex::new(None));
        self.sink = open_sink(device, failure.clone())?;
        self.failure = failure;
        Ok(())
    }

    fn take_failure(&mut self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
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
