//! Music with more than two channels (5.1 and 7.1 mixes, quadraphonic records) played as
//! stereo: every channel mixed into left and right by where its speaker stands, as
//! ffmpeg and most players do by default. Without it the output keeps only the first two
//! channels (rodio drops the rest), and a 5.1 mix loses its centre, where the voice is.

use symphonia::core::audio::{Channels, Position};

/// Level of the centre channel in each side (-3 dB), and of the surrounds in their side.
const CENTRE: f32 = std::f32::consts::FRAC_1_SQRT_2;
const SURROUND: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// A mix of `inputs` interleaved channels into stereo.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Downmix {
    /// Per input channel, in buffer order: its weight in the left and the right output.
    weights: Vec<(f32, f32)>,
}

impl Downmix {
    /// The mix for `channels`, or `None` when there are two channels or fewer (those play
    /// as they are: mono is sent to both sides by the output).
    pub(crate) fn for_channels(channels: &Channels) -> Option<Downmix> {
        let count = channels.count();
        if count <= 2 {
            return None;
        }
        let mut weights: Vec<(f32, f32)> = match channels {
            // A positioned set's buffers come in the order of the position bits.
            Channels::Positioned(positions) => (0..64)
                .map(|bit| Position::from_bits_retain(1u64 << bit))
                .filter(|p| positions.contains(*p))
                .map(weight)
                .collect(),
            // Ambisonics: the first component (W) is the sound from every direction.
            Channels::Ambisonic(_) => std::iter::once((CENTRE, CENTRE))
                .chain(std::iter::repeat_n((0.0, 0.0), count - 1))
                .collect(),
            // No places given (AIFF): the usual layout of that many channels.
            _ => usual_layout(count)
                .map(|layout| layout.iter().copied().map(weight).collect())
                .unwrap_or_default(),
        };
        if weights.len() != count {
            // Channels with no known place: alternately left and right.
            weights = (0..count)
                .map(|i| if i % 2 == 0 { (1.0, 0.0) } else { (0.0, 1.0) })
                .collect();
        }
        // Scaled so that no output can exceed full scale, however the inputs add up, and
        // both sides by the same factor, so the balance stays.
        let (left, right) = weights
            .iter()
            .fold((0.0f32, 0.0f32), |(l, r), (wl, wr)| (l + wl, r + wr));
        let most = left.max(right);
        if most > 1.0 {
            for w in &mut weights {
                *w = (w.0 / most, w.1 / most);
            }
        }
        Some(Downmix { weights })
    }

    /// The number of interleaved channels it takes.
    pub(crate) fn inputs(&self) -> usize {
        self.weights.len()
    }

    /// Replaces `out` with the stereo mix of the interleaved frames in `input`.
    pub(crate) fn apply(&self, input: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(input.len() / self.weights.len().max(1) * 2);
        for frame in input.chunks_exact(self.weights.len().max(1)) {
            let (mut left, mut right) = (0.0f32, 0.0f32);
            for (sample, (wl, wr)) in frame.iter().zip(&self.weights) {
                left += sample * wl;
                right += sample * wr;
            }
            out.push(left);
            out.push(right);
        }
    }
}

/// The speakers of the usual layout of `count` channels, in order: 3.0, quadraphonic,
/// 5.0, 5.1, 6.1 and 7.1.
fn usual_layout(count: usize) -> Option<&'static [Position]> {
    use Position as P;
    const LAYOUTS: [&[Position]; 6] = [
        &[P::FRONT_LEFT, P::FRONT_RIGHT, P::FRONT_CENTER],
        &[P::FRONT_LEFT, P::FRONT_RIGHT, P::REAR_LEFT, P::REAR_RIGHT],
        &[
            P::FRONT_LEFT,
            P::FRONT_RIGHT,
            P::FRONT_CENTER,
            P::REAR_LEFT,
            P::REAR_RIGHT,
        ],
        &[
            P::FRONT_LEFT,
            P::FRONT_RIGHT,
            P::FRONT_CENTER,
            P::LFE1,
            P::REAR_LEFT,
            P::REAR_RIGHT,
        ],
        &[
            P::FRONT_LEFT,
            P::FRONT_RIGHT,
            P::FRONT_CENTER,
            P::LFE1,
            P::REAR_CENTER,
            P::SIDE_LEFT,
            P::SIDE_RIGHT,
        ],
        &[
            P::FRONT_LEFT,
            P::FRONT_RIGHT,
            P::FRONT_CENTER,
            P::LFE1,
            P::REAR_LEFT,
            P::REAR_RIGHT,
            P::SIDE_LEFT,
            P::SIDE_RIGHT,
        ],
    ];
    LAYOUTS.iter().copied().find(|layout| layout.len() == count)
}

/// Where one speaker's channel goes: (left, right) weights.
fn weight(position: Position) -> (f32, f32) {
    let centre = (CENTRE, CENTRE);
    let left = [
        Position::FRONT_LEFT,
        Position::FRONT_LEFT_CENTER,
        Position::FRONT_LEFT_WIDE,
    ];
    let right = [
        Position::FRONT_RIGHT,
        Position::FRONT_RIGHT_CENTER,
        Position::FRONT_RIGHT_WIDE,
    ];
    let surround_left = [
        Position::REAR_LEFT,
        Position::SIDE_LEFT,
        Position::TOP_FRONT_LEFT,
        Position::TOP_REAR_LEFT,
        Position::TOP_SIDE_LEFT,
        Position::BOTTOM_FRONT_LEFT,
    ];
    let surround_right = [
        Position::REAR_RIGHT,
        Position::SIDE_RIGHT,
        Position::TOP_FRONT_RIGHT,
        Position::TOP_REAR_RIGHT,
        Position::TOP_SIDE_RIGHT,
        Position::BOTTOM_FRONT_RIGHT,
    ];
    if left.contains(&position) {
        (1.0, 0.0)
    } else if right.contains(&position) {
        (0.0, 1.0)
    } else if position == Position::FRONT_CENTER {
        centre
    } else if surround_left.contains(&position) {
        (SURROUND, 0.0)
    } else if surround_right.contains(&position) {
        (0.0, SURROUND)
    } else if position == Position::LFE1 || position == Position::LFE2 {
        // The low-frequency effects channel is left out, as ffmpeg does: full-range
        // speakers or headphones would boom with it.
        (0.0, 0.0)
    } else {
        // Rear, top and bottom centres.
        (SURROUND * CENTRE, SURROUND * CENTRE)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn stereo_and_mono_are_left_alone() {
        let stereo = Position::FRONT_LEFT | Position::FRONT_RIGHT;
        assert_eq!(Downmix::for_channels(&Channels::Positioned(stereo)), None);
        assert_eq!(Downmix::for_channels(&Channels::Discrete(1)), None);
    }

    #[test]
    fn five_one_keeps_the_centre_and_surrounds_drops_the_lfe_and_never_clips() {
        // FL FR FC LFE BL BR, as FLAC and WAVE order them.
        let layout = Position::FRONT_LEFT
            | Position::FRONT_RIGHT
            | Position::FRONT_CENTER
            | Position::LFE1
            | Position::REAR_LEFT
            | Position::REAR_RIGHT;
        let mix = Downmix::for_channels(&Channels::Positioned(layout)).unwrap();
        assert_eq!(mix.inputs(), 6);
        let scale = 1.0 / (1.0 + CENTRE + SURROUND);
        let mut out = Vec::new();
        // One frame per channel sounding alone at full scale, then all at full scale.
        let mut input = Vec::new();
        for ch in 0..6 {
            input.extend((0..6).map(|i| if i == ch { 1.0 } else { 0.0 }));
        }
        input.extend([1.0; 6]);
        mix.apply(&input, &mut out);
        let frames: Vec<(f32, f32)> = out.chunks_exact(2).map(|f| (f[0], f[1])).collect();
        let expected = [
            (scale, 0.0),
            (0.0, scale),
            (CENTRE * scale, CENTRE * scale),
            (0.0, 0.0),
            (SURROUND * scale, 0.0),
            (0.0, SURROUND * scale),
            (1.0, 1.0),
        ];
        for (got, want) in frames.iter().zip(expected) {
            assert!(
                close(got.0, want.0) && close(got.1, want.1),
                "{got:?} != {want:?}"
            );
        }
        assert_eq!(frames.len(), expected.len());
    }

    #[test]
    fn channels_without_places_are_taken_in_the_usual_layout_of_their_number() {
        // Four: quadraphonic, front and rear pairs (no LFE to drop).
        let mix = Downmix::for_channels(&Channels::Discrete(4)).unwrap();
        let scale = 1.0 / (1.0 + SURROUND);
        let mut out = Vec::new();
        mix.apply(&[0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5], &mut out);
        let want = [0.5 * SURROUND * scale, 0.0, 0.0, 0.5 * SURROUND * scale];
        assert!(out.iter().zip(want).all(|(a, b)| close(*a, b)), "{out:?}");
        // Six: 5.1, the LFE fourth.
        let mix = Downmix::for_channels(&Channels::Discrete(6)).unwrap();
        mix.apply(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], &mut out);
        assert_eq!(out, [0.0, 0.0]);
    }

    #[test]
    fn ambisonics_play_their_omnidirectional_component_on_both_sides() {
        let mix = Downmix::for_channels(&Channels::Ambisonic(1)).unwrap();
        let mut out = Vec::new();
        mix.apply(&[0.5, 0.3, 0.2, 0.1], &mut out);
        assert!(
            close(out[0], 0.5 * CENTRE) && close(out[1], 0.5 * CENTRE),
            "{out:?}"
        );
    }

    #[test]
    fn channels_with_no_place_alternate_between_the_sides() {
        // More channels than WAVE has places for.
        let mix = Downmix::for_channels(&Channels::Discrete(20)).unwrap();
        let mut input = vec![0.0; 20];
        input[2] = 1.0;
        input[5] = 1.0;
        let mut out = Vec::new();
        mix.apply(&input, &mut out);
        assert!(close(out[0], 0.1) && close(out[1], 0.1), "{out:?}");
    }
}
