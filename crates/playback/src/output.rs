//! Where the engine's audio goes: the [`AudioOutput`] trait and its real implementation
//! on rodio (cpal, ALSA on Linux).

use std::num::NonZero;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rodio::cpal::traits::{DeviceTrait, HostTrait};
use rodio::mixer::Mixer;
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
    /// engine starts it again on the new device. If the device cannot be opened, what
    /// plays goes on playing.
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
        self.player = Some(start(self.sink.mixer(), stream)?);
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
        // Opened before anything stops: a device that cannot be opened leaves the music
        // playing where it was (the engine reports the error and carries on).
        let failure = Arc::new(Mutex::new(None));
        let sink = open_sink(device, failure.clone())?;
        self.stop();
        self.sink = sink;
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

/// A player on `mixer` that starts with `stream`. The stream is queued before the player
/// joins the mixer: the mixer's converter takes its format from what the player holds
/// when it joins, and an empty player would have it convert the first 512 samples as mono.
fn start(mixer: &Mixer, stream: StreamReader) -> Result<Player, PlaybackError> {
    let (player, queued) = Player::new();
    player.append(ReaderSource::new(stream)?);
    mixer.add(queued);
    Ok(player)
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
        // The format never changes within a stream, but the next stream queued after it
        // may have another: rodio converts a span at a time in the format read at its
        // start, so a span must not run past this stream's end.
        Some(self.reader.samples_before_end())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{stream, StreamShared};
    use crate::StreamFormat;

    /// A stream holding all of `samples`, its writer finished.
    fn finished(sample_rate: u32, channels: u16, samples: &[f32]) -> StreamReader {
        let shared = StreamShared::new(1.0, false, std::thread::current());
        let format = StreamFormat {
            sample_rate,
            channels,
        };
        let (mut writer, reader) = stream(format, shared.clone());
        for block in samples.chunks(1024 * usize::from(channels)) {
            assert!(writer.push(block.to_vec()).is_ok(), "the stream is full");
        }
        shared.finish_writing();
        reader
    }

    #[test]
    fn a_stream_of_another_format_after_the_first_plays_converted_not_misread(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let stereo = NonZero::new(2).ok_or("zero channels")?;
        let rate = NonZero::new(48_000).ok_or("zero rate")?;
        let (mixer, mut device) = rodio::mixer::mixer(stereo, rate);
        // A quarter of a second at the device's format: a ramp, the right channel the
        // left's negative, so both the order and the channels show.
        let first: Vec<f32> = (1..=12_000)
            .flat_map(|i| {
                let v = i as f32 / 24_000.0;
                [v, -v]
            })
            .collect();
        // Then a second of 24 kHz mono, which the device plays at 48 kHz in stereo.
        let second = vec![0.25f32; 24_000];
        let player = start(&mixer, finished(48_000, 2, &first))?;
        player.append(ReaderSource::new(finished(24_000, 1, &second))?);

        let played: Vec<f32> = device.by_ref().take(3 * 48_000 * 2).collect();
        let begins = played
            .iter()
            .position(|&s| s != 0.0)
            .ok_or("nothing played")?;
        assert_eq!(
            &played[begins..begins + first.len()],
            &first[..],
            "the first stream, from its first sample, exactly as written"
        );
        let second_out = played[begins + first.len()..]
            .iter()
            .filter(|s| (**s - 0.25).abs() < 1e-6)
            .count();
        assert!(
            (95_800..=96_200).contains(&second_out),
            "a second of the second stream is 96 000 samples at the device, not {second_out}"
        );
        Ok(())
    }
}
