//! Where the engine's audio goes: the [`AudioOutput`] trait and its real implementation
//! on rodio (cpal, ALSA on Linux).

use std::num::NonZero;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rodio::cpal::traits::{DeviceTrait, HostTrait};
use rodio::cpal::{
    BufferSize, SampleFormat, SupportedBufferSize, SupportedStreamConfig,
    SupportedStreamConfigRange,
};
use rodio::mixer::Mixer;
use rodio::{DeviceSinkBuilder, MixerDeviceSink, Player, Source};

use crate::error::with_causes;
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
///
/// The device is opened at the sample rate of the music that starts playing, when it can
/// play that rate: the music then reaches the system's audio server (or the hardware)
/// untouched, and any conversion is the server's (PipeWire's and PulseAudio's resamplers
/// are far better than rodio's linear interpolation, which also restarts at every span it
/// converts). A track of another rate that follows gaplessly is converted by rodio, as
/// reopening the device there would leave a gap.
pub struct RodioOutput {
    /// `None` only while the device is being reopened, or after it could not be.
    sink: Option<MixerDeviceSink>,
    player: Option<Player>,
    /// The device chosen (`None`: the system's default).
    device: Option<String>,
    /// The formats the device offers, as it said before it was first opened here (a
    /// device this process holds open may not answer again).
    offers: Vec<SupportedStreamConfigRange>,
    /// The rate the device was last opened for: it plays that rate, or could not.
    opened_for: Option<u32>,
    /// The sample rate of the music last started.
    rate: Option<u32>,
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
        let opened = open_device(device, None)?;
        Ok(RodioOutput {
            sink: Some(opened.sink),
            player: None,
            device: device.map(str::to_owned),
            offers: opened.offers,
            opened_for: None,
            rate: None,
            failure: opened.failure,
        })
    }

    /// Takes over a device just opened.
    fn adopt(&mut self, opened: Opened) {
        self.sink = Some(opened.sink);
        self.offers = opened.offers;
        self.failure = opened.failure;
    }

    /// The sample rate the device is open at.
    fn sample_rate(&self) -> Option<u32> {
        self.sink.as_ref().map(|s| s.config().sample_rate().get())
    }

    /// The device, reopened at `rate` first if it offers that rate and is open at another.
    /// A rate it does not offer leaves it as it is (rodio converts), as does one it was
    /// already opened for, so a play or a seek does not reopen it again.
    fn open_at(&mut self, rate: u32) -> Result<&MixerDeviceSink, PlaybackError> {
        self.rate = Some(rate);
        if reopen_for(rate, self.sample_rate(), self.opened_for, &self.offers) {
            self.stop();
            // Closed first: a hardware device can be open only once.
            self.sink = None;
            self.opened_for = Some(rate);
            match open_device(self.device.as_deref(), Some(rate)) {
                Ok(opened) => self.adopt(opened),
                Err(e) => {
                    // Gone since it was opened: as for a device lost while playing, the
                    // engine moves to the default (see `take_failure`).
                    *self.failure.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(e.describe());
                    return Err(e);
                }
            }
        }
        self.sink
            .as_ref()
            .ok_or_else(|| PlaybackError::Output("the output device is not open".into()))
    }
}

/// True when a device open at `open_at` (`None`: not open), last opened for `opened_for`,
/// and offering `offers`, should be reopened to play `rate`: it is not open, or it offers
/// that rate, is open at another, and was not already opened for it (then it could not be
/// opened at it, and trying again at every play or seek would only reopen it for nothing).
fn reopen_for(
    rate: u32,
    open_at: Option<u32>,
    opened_for: Option<u32>,
    offers: &[SupportedStreamConfigRange],
) -> bool {
    let Some(open_at) = open_at else {
        return true;
    };
    open_at != rate && opened_for != Some(rate) && !configs_at(offers, rate).is_empty()
}

/// A device just opened: its sink, the formats it offered, and where its error callback
/// says it disappeared.
struct Opened {
    sink: MixerDeviceSink,
    offers: Vec<SupportedStreamConfigRange>,
    failure: Arc<Mutex<Option<String>>>,
}

/// Opens `device` (`None`: the system's default) at `rate` if given and it offers that
/// rate (see [`open_sink`]), asking first which formats it offers.
fn open_device(device: Option<&str>, rate: Option<u32>) -> Result<Opened, PlaybackError> {
    let failure = Arc::new(Mutex::new(None));
    let found = find_device(device)?;
    let offers = offered(&found);
    let sink = open_sink(found, &offers, rate, failure.clone())?;
    Ok(Opened {
        sink,
        offers,
        failure,
    })
}

/// The device with this id, or the system's default for `None`.
fn find_device(device: Option<&str>) -> Result<rodio::cpal::Device, PlaybackError> {
    let host = rodio::cpal::default_host();
    match device {
        None => host
            .default_output_device()
            .ok_or_else(|| PlaybackError::Output("there is no output device".into())),
        Some(id) => id
            .parse()
            .ok()
            .and_then(|id| host.device_by_id(&id))
            .ok_or_else(|| PlaybackError::Output(format!("the output device {id} is not there"))),
    }
}

/// The formats `device` offers (none, if it will not say).
fn offered(device: &rodio::cpal::Device) -> Vec<SupportedStreamConfigRange> {
    device
        .supported_output_configs()
        .map(Iterator::collect)
        .unwrap_or_default()
}

/// Opens `device` at `rate` if given and one of the formats it `offers` plays that rate,
/// else in its default format, else in any format it offers.
fn open_sink(
    device: rodio::cpal::Device,
    offers: &[SupportedStreamConfigRange],
    rate: Option<u32>,
    failure: Arc<Mutex<Option<String>>>,
) -> Result<MixerDeviceSink, PlaybackError> {
    let errors = Arc::new(AtomicU64::new(0));
    let on_error = move |e: rodio::cpal::Error| {
        if e.kind() == rodio::CpalErrorKind::DeviceNotAvailable {
            *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
        }
        report_stream_error(&errors, &e);
    };
    let configs = rate.map_or_else(Vec::new, |rate| configs_at(offers, rate));
    let mut last_error = None;
    let at_rate = configs.iter().find_map(|config| {
        DeviceSinkBuilder::default()
            .with_device(device.clone())
            .with_supported_config(config)
            .with_buffer_size(buffer_size(config))
            .with_error_callback(on_error.clone())
            .open_stream()
            .map_err(|e| last_error = Some(with_causes(&e)))
            .ok()
    });
    if let (Some(rate), Some(error)) = (rate, last_error.filter(|_| at_rate.is_none())) {
        eprintln!(
            "offbeat: the output would not open at {rate} Hz ({} formats tried; the last: \
             {error}); it opens as it would anyway, and the music is converted",
            configs.len()
        );
    }
    let mut sink = match at_rate {
        Some(sink) => sink,
        None => DeviceSinkBuilder::from_device(device)
            .and_then(|builder| {
                builder
                    .with_error_callback(on_error)
                    .open_sink_or_fallback()
            })
            .map_err(|e| PlaybackError::Output(with_causes(&e)))?,
    };
    sink.log_on_drop(false);
    Ok(sink)
}

/// The sample formats a device is tried in at a track's rate, in order: those sound
/// servers and cards take natively. ALSA's plug device offers every format in every
/// channel count from 1 to 10, and each failed try is a device opened for nothing.
const TRIED_FORMATS: [SampleFormat; 4] = [
    SampleFormat::F32,
    SampleFormat::I16,
    SampleFormat::I32,
    SampleFormat::I24,
];

/// At most this many configurations are tried at a track's rate before the device opens
/// as it would anyway.
const MAX_TRIES: usize = 4;

/// The configurations among `ranges` that play `rate` exactly, to try in order: stereo
/// before more channels (never mono: rodio would play the left channel alone), each in
/// [`TRIED_FORMATS`]' order; at most [`MAX_TRIES`].
fn configs_at(ranges: &[SupportedStreamConfigRange], rate: u32) -> Vec<SupportedStreamConfig> {
    let rank = |format: SampleFormat| TRIED_FORMATS.iter().position(|f| *f == format);
    let mut configs: Vec<SupportedStreamConfig> = ranges
        .iter()
        .filter(|range| range.channels() >= 2 && rank(range.sample_format()).is_some())
        .filter_map(|range| range.try_with_sample_rate(rate))
        .collect();
    configs.sort_by_key(|c| (c.channels() != 2, c.channels(), rank(c.sample_format())));
    configs.dedup_by_key(|c| (c.channels(), c.sample_format()));
    configs.truncate(MAX_TRIES);
    configs
}

/// A device buffer of about 50 ms, a power of two in frames as rodio asks for by default
/// (2048 at 44.1 and 48 kHz), within what the device takes.
fn buffer_size(config: &SupportedStreamConfig) -> BufferSize {
    let frames = (config.sample_rate() / 20).max(2);
    let above = frames.next_power_of_two();
    let wanted = if above - frames < frames - above / 2 {
        above
    } else {
        above / 2
    };
    let frames = match *config.buffer_size() {
        SupportedBufferSize::Range { min, max } if min <= max => wanted.clamp(min, max),
        _ => wanted,
    };
    BufferSize::Fixed(frames)
}

impl AudioOutput for RodioOutput {
    fn play(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        self.stop();
        let sink = self.open_at(stream.format().sample_rate)?;
        self.player = Some(start(sink.mixer(), stream)?);
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
        let opened = open_device(device, self.rate)?;
        self.stop();
        self.adopt(opened);
        self.device = device.map(str::to_owned);
        self.opened_for = self.rate;
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
    fn the_device_is_opened_at_the_musics_rate_only_in_a_format_that_plays_it_exactly() {
        use rodio::cpal::{SampleFormat, SupportedBufferSize};
        let range = |channels, min, max, format| {
            SupportedStreamConfigRange::new(
                channels,
                min,
                max,
                SupportedBufferSize::Unknown,
                format,
            )
        };
        // A sound card as ALSA describes one: stereo at 48 kHz only in 32-bit float, 16-bit
        // stereo at 44.1-96 kHz, and mono at anything.
        let device = vec![
            range(1, 8_000, 192_000, SampleFormat::F32),
            range(2, 44_100, 96_000, SampleFormat::I16),
            range(2, 48_000, 48_000, SampleFormat::F32),
        ];
        let describe = |configs: Vec<SupportedStreamConfig>| -> Vec<(u16, u32, SampleFormat)> {
            configs
                .iter()
                .map(|c| (c.channels(), c.sample_rate(), c.sample_format()))
                .collect()
        };
        assert_eq!(
            describe(configs_at(&device, 44_100)),
            vec![(2, 44_100, SampleFormat::I16)],
            "never the 48 kHz-only format, nor mono (rodio would keep the left channel)"
        );
        assert_eq!(
            describe(configs_at(&device, 48_000)),
            vec![
                (2, 48_000, SampleFormat::F32),
                (2, 48_000, SampleFormat::I16),
            ],
            "float before 16-bit, as for the device's own default"
        );
        assert!(
            configs_at(&device, 4_000).is_empty(),
            "a rate no format plays: the device opens as it would anyway"
        );
        // ALSA's plug device: every format in 1 to 10 channels, at any rate.
        let formats = [
            SampleFormat::U8,
            SampleFormat::I16,
            SampleFormat::F64,
            SampleFormat::I24,
            SampleFormat::F32,
            SampleFormat::I32,
        ];
        let plug: Vec<_> = (1..=10)
            .flat_map(|channels| formats.map(|f| range(channels, 4_000, 192_000, f)))
            .collect();
        assert_eq!(
            describe(configs_at(&plug, 22_050)),
            vec![
                (2, 22_050, SampleFormat::F32),
                (2, 22_050, SampleFormat::I16),
                (2, 22_050, SampleFormat::I32),
                (2, 22_050, SampleFormat::I24)
            ],
            "a few stereo formats, not sixty opens"
        );
        let buffer = |rate, min, max| {
            let range = SupportedStreamConfigRange::new(
                2,
                8_000,
                192_000,
                SupportedBufferSize::Range { min, max },
                SampleFormat::F32,
            );
            buffer_size(&range.with_sample_rate(rate))
        };
        assert_eq!(buffer(44_100, 64, 65_536), BufferSize::Fixed(2_048));
        assert_eq!(buffer(96_000, 64, 65_536), BufferSize::Fixed(4_096));
        assert_eq!(buffer(192_000, 64, 65_536), BufferSize::Fixed(8_192));
        assert_eq!(
            buffer(192_000, 64, 4_000),
            BufferSize::Fixed(4_000),
            "no more than the device takes"
        );
    }

    #[test]
    fn the_device_is_reopened_only_for_a_rate_it_offers_and_once() {
        use rodio::cpal::{SampleFormat, SupportedBufferSize};
        let only_48k = [SupportedStreamConfigRange::new(
            2,
            48_000,
            48_000,
            SupportedBufferSize::Unknown,
            SampleFormat::F32,
        )];
        let any = [SupportedStreamConfigRange::new(
            2,
            8_000,
            192_000,
            SupportedBufferSize::Unknown,
            SampleFormat::F32,
        )];
        assert!(
            reopen_for(44_100, Some(48_000), None, &any),
            "a rate it offers"
        );
        assert!(
            !reopen_for(48_000, Some(48_000), None, &any),
            "already at it"
        );
        assert!(
            !reopen_for(44_100, Some(48_000), None, &only_48k),
            "a rate it does not offer: rodio converts, the device stays open"
        );
        assert!(
            !reopen_for(44_100, Some(48_000), Some(44_100), &any),
            "opened for it before and it came out at another: not again at each seek"
        );
        assert!(
            reopen_for(44_100, None, Some(44_100), &only_48k),
            "not open"
        );
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
