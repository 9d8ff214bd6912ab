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
    /// A decoder for `channels`, with the output gain of the stream's identification
    /// header (`head`: Ogg Opus's `OpusHead`), which RFC 7845 (5.1) says a player must
    /// apply: tools that normalise Opus files in place rewrite it.
    pub(crate) fn new(channels: u16, head: Option<&[u8]>) -> Result<OpusCodec, SymphoniaError> {
        let layout = match channels {
            1 => opus::Channels::Mono,
            2 => opus::Channels::Stereo,
            _ => {
                return Err(SymphoniaError::Unsupported(
                    "Opus with more than two channels",
                ))
            }
        };
        let mut decoder = opus::Decoder::new(48_000, layout)
            .map_err(|_| SymphoniaError::Unsupported("libopus would not start a decoder"))?;
        if let Some(gain) = head.and_then(output_gain).filter(|&g| g != 0) {
            // Q7.8 dB, as libopus takes it.
            decoder
                .set_gain(i32::from(gain))
                .map_err(|_| SymphoniaError::Unsupported("libopus would not take the gain"))?;
        }
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

/// The output gain of an `OpusHead` (Q7.8 dB, little-endian at bytes 16-17).
fn output_gain(head: &[u8]) -> Option<i16> {
    if !head.starts_with(b"OpusHead") {
        return None;
    }
    Some(i16::from_le_bytes([*head.get(16)?, *head.get(17)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_gain_is_read_from_an_opus_head() {
        let mut head = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00".to_vec();
        head.extend_from_slice(&(-1536i16).to_le_bytes());
        head.push(0);
        assert_eq!(output_gain(&head), Some(-1536));
        assert_eq!(output_gain(&head[..17]), None);
        assert_eq!(output_gain(b"dOps\x00\x02"), None);
    }
}
