//! Opus, decoded by libopus: symphonia demuxes Ogg Opus (and gives each packet its
//! pre-skip and end trim) but has no Opus decoder.

use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::packet::Packet;

/// The longest Opus packet: 120 ms at 48 kHz.
const MAX_FRAMES: usize = 5760;

/// A libopus decoder for one mono or stereo stream (channel mapping family 0, which is
/// what music files use).
pub(crate) struct OpusCodec {
    decoder: opus::Decoder,
    channels: usize,
    buffer: Vec<f32>,
}

impl OpusCodec {
    pub(crate) fn new(channels: u16) -> Result<OpusCodec, SymphoniaError> {
        let layout = match channels {
            1 => opus::Channels::Mono,
            2 => opus::Channels::Stereo,
            _ => {
                return Err(SymphoniaError::Unsupported(
                    "Opus with more than two channels",
                ))
            }
        };
        let decoder = opus::Decoder::new(48_000, layout)
            .map_err(|_| SymphoniaError::Unsupported("libopus would not start a decoder"))?;
        Ok(OpusCodec {
            decoder,
            channels: usize::from(channels),
            buffer: vec![0.0; MAX_FRAMES * usize::from(channels)],
        })
    }

    /// Decodes a packet into `out` (interleaved), dropping the frames the container says
    /// to trim (the encoder's pre-skip at the start, padding at the end).
    pub(crate) fn decode(
        &mut self,
        packet: &Packet,
        out: &mut Vec<f32>,
    ) -> Result<(), SymphoniaError> {
        let frames = self
            .decoder
            .decode_float(&packet.data, &mut self.buffer, false)
            .map_err(|_| SymphoniaError::DecodeError("libopus could not decode a packet"))?;
        let trim_start = (packet.trim_start.get() as usize).min(frames);
        let trim_end = (packet.trim_end.get() as usize).min(frames - trim_start);
        out.clear();
        out.extend_from_slice(
            &self.buffer[trim_start * self.channels..(frames - trim_end) * self.channels],
        );
        Ok(())
    }

    pub(crate) fn reset(&mut self) {
        // A fresh state is what libopus's reset gives; a failure leaves the old one, which
        // only costs a few milliseconds of convergence.
        let _ = self.decoder.reset_state();
    }
}
