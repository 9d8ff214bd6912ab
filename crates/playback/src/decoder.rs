//! Decoding a file to interleaved `f32` samples with symphonia.

use std::path::{Path, PathBuf};

use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio, AudioBuffer, GenericAudioBufferRef};
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_OPUS,
};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::{Error as SymphoniaError, SeekErrorKind};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;
use symphonia::core::units::{Time, TimeBase, Timestamp};

use crate::downmix::Downmix;
use crate::mp4_trim::mp4_trim;
use crate::opus::OpusCodec;
use crate::{PlaybackError, StreamFormat};

/// Consecutive undecodable packets tolerated before the file is declared broken.
const MAX_CONSECUTIVE_DECODE_ERRORS: u32 = 16;

/// A truncated file is one that ends before this fraction of its declared length.
const TRUNCATION_THRESHOLD: f64 = 0.98;

/// What decodes the packets: symphonia's decoders, or libopus for Opus.
enum Codec {
    Symphonia {
        decoder: Box<dyn AudioDecoder>,
        /// For more than two channels: the mix to stereo, and a buffer for the channels
        /// before it.
        downmix: Option<(Downmix, Vec<f32>)>,
    },
    Opus(OpusCodec),
}

impl Codec {
    /// Decodes a packet into `out` (interleaved samples of `format`).
    fn decode(
        &mut self,
        packet: &Packet,
        format: StreamFormat,
        out: &mut Vec<f32>,
    ) -> Result<(), SymphoniaError> {
        match self {
            Codec::Symphonia { decoder, downmix } => {
                let buffer = decoder.decode(packet)?;
                let channels = downmix
                    .as_ref()
                    .map_or(usize::from(format.channels), |(mix, _)| mix.inputs());
                if buffer.spec().channels().count() != channels
                    || buffer.spec().rate() != format.sample_rate
                {
                    // A mid-stream format change (rare: chained Ogg streams) is not
                    // supported yet; stop rather than play garbage.
                    return Err(SymphoniaError::Unsupported(
                        "the audio format changes mid-stream",
                    ));
                }
                match downmix {
                    Some((mix, all)) => {
                        interleave(&buffer, all);
                        mix.apply(all, out);
                    }
                    None => interleave(&buffer, out),
                }
                Ok(())
            }
            Codec::Opus(decoder) => decoder.decode(packet, out),
        }
    }

    fn reset(&mut self) {
        match self {
            Codec::Symphonia { decoder, .. } => decoder.reset(),
            Codec::Opus(decoder) => decoder.reset(),
        }
    }

    fn is_opus(&self) -> bool {
        matches!(self, Codec::Opus(_))
    }
}

/// Copies a decoded buffer into `out` as interleaved `f32`, with symphonia's conversions
/// (the same values, bit for bit). Mono and stereo buffers of what FLAC (32-bit integers),
/// 16-bit PCM and the lossy codecs (`f32`) decode to take loops the compiler vectorises:
/// symphonia's generic copy converts each 32-bit sample through `f64` on its own, which
/// was 3-4% of the engine's decoding time.
fn interleave(buffer: &GenericAudioBufferRef<'_>, out: &mut Vec<f32>) {
    // 2^-31: an `i32` scaled to [-1, 1). Converting to `f32` first rounds once, as
    // symphonia's `f64` route does, and the power-of-two scale is exact.
    const I32_SCALE: f32 = 1.0 / 2_147_483_648.0;
    let done = match buffer {
        GenericAudioBufferRef::S32(b) => interleave_planes(b, out, |s| s as f32 * I32_SCALE),
        GenericAudioBufferRef::S16(b) => interleave_planes(b, out, |s| f32::from(s) / 32_768.0),
        GenericAudioBufferRef::F32(b) => interleave_planes(b, out, |s| s),
        _ => false,
    };
    if !done {
        out.resize(buffer.samples_interleaved(), 0.0);
        buffer.copy_to_slice_interleaved(&mut out[..]);
    }
}

/// [`interleave`] for one or two planes; false (and `out` untouched) for more.
fn interleave_planes<S: Sample>(
    buffer: &AudioBuffer<S>,
    out: &mut Vec<f32>,
    convert: impl Fn(S) -> f32,
) -> bool {
    match buffer.num_planes() {
        1 => {
            let Some(mono) = buffer.plane(0) else {
                return false;
            };
            out.clear();
            out.extend(mono.iter().map(|&s| convert(s)));
        }
        2 => {
            let Some((left, right)) = buffer.plane_pair(0, 1) else {
                return false;
            };
            // A block comes back the length it was played at, so this rarely writes.
            out.resize(left.len() * 2, 0.0);
            for ((frame, &l), &r) in out.chunks_exact_mut(2).zip(left).zip(right) {
                frame[0] = convert(l);
                frame[1] = convert(r);
            }
        }
        _ => return false,
    }
    true
}

/// An open audio file that yields interleaved samples.
pub struct Decoder {
    path: PathBuf,
    reader: Box<dyn FormatReader>,
    decoder: Codec,
    track_id: u32,
    time_base: Option<TimeBase>,
    format: StreamFormat,
    /// Declared length in frames, when the container says.
    total_frames: Option<u64>,
    /// Frames produced since the last open or seek, plus the frame the seek landed on.
    frame_position: u64,
    /// Output before this stream frame is dropped: the encoder's priming at the start, or
    /// what lies between where a seek landed and its target.
    skip_until: u64,
    /// Samples decoded while opening (to learn the real format) and not yet handed out.
    first_chunk: Option<Vec<f32>>,
    /// Encoder priming frames at the start of the stream, never played (M4A).
    priming: u64,
    /// The stream frame after the music's last (M4A: padding follows it).
    end_frame: Option<u64>,
    /// How far the file has come, if it is still arriving.
    arriving: Option<crate::arriving::Progress>,
    /// True when `total_frames` is the file's own count, not an estimate: only then does
    /// ending short of it mean the file is truncated.
    length_exact: bool,
    /// A seek went past the last packet: nothing more comes.
    past_end: bool,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("total_frames", &self.total_frames)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// Opens `path`, probes its format and decodes the first packet.
    pub fn open(path: &Path) -> Result<Decoder, PlaybackError> {
        // A file still arriving (streamed into a cache) is read as it comes.
        let (source, arriving) =
            crate::arriving::open_file(path).map_err(|source| PlaybackError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let unsupported = |source| PlaybackError::Unsupported {
            path: path.to_path_buf(),
            source,
        };
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let reader = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(unsupported)?;
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or(SymphoniaError::Unsupported("no audio track"))
            .map_err(unsupported)?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or(SymphoniaError::Unsupported("no audio codec parameters"))
            .map_err(unsupported)?;
        let channels = params.channels.as_ref().map_or(2, |c| c.count() as u16);
        let decoder = if params.codec == CODEC_ID_OPUS {
            Codec::Opus(
                OpusCodec::new(channels, params.extra_data.as_deref()).map_err(unsupported)?,
            )
        } else {
            let options = AudioDecoderOptions::default().gapless(true);
            Codec::Symphonia {
                decoder: symphonia::default::get_codecs()
                    .make_audio_decoder(params, &options)
                    .map_err(unsupported)?,
                downmix: params
                    .channels
                    .as_ref()
                    .and_then(Downmix::for_channels)
                    .map(|mix| (mix, Vec::new())),
            }
        };
        let channels = match &decoder {
            // Played as stereo, mixed down.
            Codec::Symphonia {
                downmix: Some(_), ..
            } => 2,
            _ => channels,
        };
        let format = StreamFormat {
            sample_rate: params.sample_rate.unwrap_or(44_100),
            channels,
        };
        if format.sample_rate == 0 || format.channels == 0 {
            // A damaged header: nothing can play it, and every length would divide by it.
            return Err(unsupported(SymphoniaError::Unsupported(
                "a sample rate or channel count of zero",
            )));
        }
        // MPEG audio without an encoder (LAME/Xing) header has only a length estimated from
        // its first frames and its size: ending short of it is no sign of truncation.
        let mpeg = [CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3].contains(&params.codec);
        let length_exact = !(mpeg && track.delay.is_none());
        // symphonia trims MP3 (LAME) and Vorbis delay and padding itself, not MP4's, and
        // not Opus's pre-skip (the padding at the end it trims).
        let trim = mp4_trim(path, format.sample_rate);
        let priming = match (&decoder, trim) {
            (Codec::Opus(_), _) => u64::from(track.delay.unwrap_or(0)),
            (_, trim) => trim.map_or(0, |t| t.skip),
        };
        let music_frames = trim.and_then(|t| t.frames);
        let mut decoder = Decoder {
            path: path.to_path_buf(),
            track_id: track.id,
            time_base: track.time_base,
            total_frames: music_frames.or(track.num_frames.map(|n| n.saturating_sub(priming))),
            reader,
            decoder,
            format,
            frame_position: 0,
            skip_until: priming,
            first_chunk: None,
            arriving,
            priming,
            end_frame: music_frames.map(|n| priming + n),
            length_exact,
            past_end: false,
        };
        // Decode ahead once so the stream format is what the decoder really produces,
        // not what the container claims.
        let mut first = Vec::new();
        if decoder.decode_next(&mut first)? {
            decoder.first_chunk = Some(first);
        }
        Ok(decoder)
    }

    pub fn format(&self) -> StreamFormat {
        self.format
    }

    /// False while the file is still arriving and the next packet may not have come yet:
    /// decoding now could wait inside a read. Always true for a whole file.
    pub(crate) fn ready(&self) -> bool {
        self.arriving
            .as_ref()
            .is_none_or(crate::arriving::Progress::ready)
    }

    /// False while the file is still arriving with bytes to come: a seek, which may read
    /// anywhere in it, could wait inside a read. Always true for a whole file.
    pub(crate) fn whole(&self) -> bool {
        self.arriving
            .as_ref()
            .is_none_or(crate::arriving::Progress::whole)
    }

    /// The declared duration, when known.
    pub fn duration_ms(&self) -> Option<u64> {
        self.total_frames
            .map(|f| f * 1000 / u64::from(self.format.sample_rate))
    }

    /// Replaces `out` with the next chunk of interleaved samples. Returns `false` at the end.
    pub fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, PlaybackError> {
        if let Some(first) = self.first_chunk.take() {
            *out = first;
            return Ok(true);
        }
        self.decode_next(out)
    }

    fn decode_next(&mut self, out: &mut Vec<f32>) -> Result<bool, PlaybackError> {
        if self.past_end {
            out.clear();
            return Ok(false);
        }
        let mut errors = 0;
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return self.end_of_stream(),
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return self.end_of_stream()
                }
                Err(source) => return Err(self.decode_error(source)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet, self.format, out) {
                Ok(()) => {
                    let channels = self.format.channels as usize;
                    let frames = (out.len() / channels) as u64;
                    // Where this buffer sits in the stream: its timestamp, else right after
                    // the last one. (A decoder may return nothing for the first packet after
                    // a seek, as Vorbis does, so counting alone would drift.)
                    let start = self.packet_frame(&packet).unwrap_or(self.frame_position);
                    self.frame_position = start + frames;
                    if let Some(end) = self.end_frame {
                        // The encoder's padding after the music is not played.
                        if start >= end {
                            out.clear();
                            return Ok(false);
                        }
                        out.truncate((end - start).min(frames) as usize * channels);
                    }
                    if self.skip_until > start {
                        let skip = ((self.skip_until - start) as usize * channels).min(out.len());
                        out.drain(..skip);
                    }
                    if out.is_empty() {
                        continue;
                    }
                    return Ok(true);
                }
                Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => {
                    errors += 1;
                    if errors >= MAX_CONSECUTIVE_DECODE_ERRORS {
                        return Err(self.decode_error(SymphoniaError::DecodeError(
                            "too many undecodable packets in a row",
                        )));
                    }
                }
                Err(source) => return Err(self.decode_error(source)),
            }
        }
    }

    /// The stream frame of a packet's first decoded frame (after the decoder trims the
    /// encoder delay it knows of), from its timestamp.
    fn packet_frame(&self, packet: &symphonia::core::packet::Packet) -> Option<u64> {
        let trim = i64::try_from(packet.trim_start.get()).ok()?;
        let ts = Timestamp::new(packet.pts.get().checked_add(trim)?);
        let time = self.time_base?.calc_time(ts)?;
        Some(
            (time.as_secs_f64() * f64::from(self.format.sample_rate))
                .round()
                .max(0.0) as u64,
        )
    }

    fn end_of_stream(&self) -> Result<bool, PlaybackError> {
        if let Some(total) = self.total_frames.filter(|_| self.length_exact) {
            let played = self.frame_position.saturating_sub(self.priming);
            if (played as f64) < total as f64 * TRUNCATION_THRESHOLD {
                let rate = u64::from(self.format.sample_rate);
                return Err(PlaybackError::Truncated {
                    path: self.path.clone(),
                    decoded_ms: played * 1000 / rate,
                    expected_ms: total * 1000 / rate,
                });
            }
        }
        Ok(false)
    }

    fn decode_error(&self, source: SymphoniaError) -> PlaybackError {
        PlaybackError::Decode {
            path: self.path.clone(),
            source,
        }
    }

    /// Seeks so the next sample returned is the one at `position_ms` (clamped to the
    /// track). Returns the position actually reached, in milliseconds.
    pub fn seek(&mut self, position_ms: u64) -> Result<u64, PlaybackError> {
        let target_ms = match self.duration_ms() {
            Some(total) => position_ms.min(total.saturating_sub(1)),
            None => position_ms,
        };
        let rate = u64::from(self.format.sample_rate);
        // Stream time counts the encoder's priming; music time does not.
        let target_frame = (target_ms.saturating_mul(rate) / 1000).saturating_add(self.priming);
        // Opus needs 80 ms of audio before the target to converge (RFC 7845 4.6): seek
        // that much earlier; the frames before the target are dropped anyway.
        let preroll = if self.decoder.is_opus() {
            rate * 80 / 1000
        } else {
            0
        };
        let seek_frame = target_frame.saturating_sub(preroll);
        let time = Time::try_from_secs_f64(seek_frame as f64 / rate as f64).unwrap_or_default();
        let seeked = self.reader.seek(
            SeekMode::Accurate,
            SeekTo::Time {
                time,
                track_id: Some(self.track_id),
            },
        );
        self.decoder.reset();
        self.first_chunk = None;
        let seeked = match seeked {
            Ok(seeked) => seeked,
            // In the last moments of some files (an Ogg stream's end is counted from a
            // start before zero) the container has no packet left to land on: the seek
            // reaches the end, and the track ends there as it would have.
            Err(SymphoniaError::SeekError(SeekErrorKind::OutOfRange)) => {
                self.past_end = true;
                return Ok(target_ms);
            }
            Err(source) => return Err(self.decode_error(source)),
        };
        self.past_end = false;
        let to_frames = |ts: Timestamp| -> u64 {
            match self.time_base.and_then(|tb| tb.calc_time(ts)) {
                Some(t) => (t.as_secs_f64() * rate as f64).round().max(0.0) as u64,
                None => ts.get().max(0) as u64,
            }
        };
        let actual = to_frames(seeked.actual_ts);
        self.frame_position = actual;
        self.skip_until = target_frame;
        Ok(target_frame
            .max(actual)
            .saturating_sub(self.priming)
            .saturating_mul(1000)
            / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphonia::core::audio::{AudioMut, AudioSpec, Channels};

    /// A buffer of `channels` planes holding `values` (cycled, offset per plane).
    fn buffer<S: Sample>(channels: u16, frames: usize, values: &[S]) -> AudioBuffer<S> {
        let spec = AudioSpec::new(44_100, Channels::Discrete(channels));
        let mut buffer = AudioBuffer::new(spec, frames);
        buffer.render_silence(Some(frames));
        for c in 0..usize::from(channels) {
            let Some(plane) = buffer.plane_mut(c) else {
                panic!("no plane {c}");
            };
            for (i, s) in plane.iter_mut().enumerate() {
                *s = values[(i * 7 + c * 3) % values.len()];
            }
        }
        buffer
    }

    /// `interleave` into a block still holding an older, longer chunk, against symphonia.
    fn matches_symphonia(generic: GenericAudioBufferRef<'_>) {
        let mut expected = vec![0.0f32; generic.samples_interleaved()];
        generic.copy_to_slice_interleaved(&mut expected[..]);
        let mut out = vec![9.0f32; expected.len() + 10];
        interleave(&generic, &mut out);
        let bits = |v: &[f32]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(&expected));
    }

    #[test]
    fn interleaving_gives_symphonias_samples_bit_for_bit() {
        // Extremes, and integers an f32 cannot hold exactly (they must round alike).
        let i32s = [
            i32::MIN,
            i32::MAX,
            0,
            -1,
            1,
            0x7FFF_FFC1,
            -0x7FFF_FF3F,
            16_777_217,
            -16_777_219,
            123_456_789,
        ];
        let i16s = [i16::MIN, i16::MAX, 0, -1, 1, 12_345, -23_456];
        let f32s = [-1.0, 1.0, 0.0, -0.0, 0.25, 1e-30, -0.999_9, 0.123_4];
        for channels in [1, 2, 3] {
            for frames in [0, 1, 5, 1152] {
                matches_symphonia(GenericAudioBufferRef::S32(&buffer(channels, frames, &i32s)));
                matches_symphonia(GenericAudioBufferRef::S16(&buffer(channels, frames, &i16s)));
                matches_symphonia(GenericAudioBufferRef::F32(&buffer(channels, frames, &f32s)));
                let u8s = [0u8, 1, 127, 128, 255];
                matches_symphonia(GenericAudioBufferRef::U8(&buffer(channels, frames, &u8s)));
            }
        }
    }
}
