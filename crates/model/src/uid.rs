//! `TrackUid`: the identity of a recording that survives moves between folders and devices.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A stable identifier for a track, the same on every device that has the same file.
///
/// It is the MusicBrainz recording id when the tags carry one (`mb:<uuid>`), else a hash
/// of the normalized album artist, album, disc, track number and title (`h:<hex>`). The
/// path is deliberately not part of it: a file copied or moved elsewhere keeps its uid, and
/// with it its history and playlist entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct TrackUid(String);

/// The tag values a [`TrackUid`] is derived from.
#[derive(Debug, Clone, Default)]
pub struct UidInputs<'a> {
    pub musicbrainz_recording_id: Option<&'a str>,
    pub album_artist: &'a str,
    pub album: &'a str,
    pub disc_number: Option<u32>,
    pub track_number: Option<u32>,
    pub title: &'a str,
}

impl TrackUid {
    /// Computes the uid for a track from its tags.
    pub fn derive(inputs: &UidInputs<'_>) -> TrackUid {
        if let Some(mbid) = inputs.musicbrainz_recording_id {
            let mbid = mbid.trim().to_ascii_lowercase();
            if is_uuid(&mbid) {
                return TrackUid(format!("mb:{mbid}"));
            }
        }
        // Fields are joined with a separator that normalization removes from the values,
        // so ("a b", "c") and ("a", "b c") cannot collide.
        let key = [
            normalize_for_identity(inputs.album_artist),
            normalize_for_identity(inputs.album),
            inputs.disc_number.unwrap_or(0).to_string(),
            inputs.track_number.unwrap_or(0).to_string(),
            normalize_for_identity(inputs.title),
        ]
        .join("\u{1f}");
        let hash = blake3::hash(key.as_bytes());
        let hex = hash.to_hex();
        TrackUid(format!("h:{}", &hex.as_str()[..32]))
    }

    /// Wraps a uid read back from storage.
    pub fn from_stored(value: String) -> TrackUid {
        TrackUid(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Folds a tag value to the form used for identity and matching: Unicode-decomposed with
/// combining marks dropped ("Beyoncé" -> "beyonce"), lowercased, punctuation removed and
/// runs of whitespace collapsed to one space.
pub fn normalize_for_identity(value: &str) -> String {
    // Plain ASCII, which most tags and exports are, has nothing to decompose and no
    // combining marks: the same rules then come down to one pass over its characters. (An
    // import folds every song's names; the full Unicode pass was a tenth of its time.)
    if value.is_ascii() {
        fold_chars(value.chars(), value.len())
    } else {
        normalize_unicode(value)
    }
}

/// [`normalize_for_identity`]'s rules for any text.
fn normalize_unicode(value: &str) -> String {
    let chars = value
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c));
    fold_chars(chars, value.len())
}

/// Lowercased alphanumerics, with each run of whitespace, `_` or `-` between them one space.
fn fold_chars(chars: impl Iterator<Item = char>, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    let mut pending_space = false;
    for c in chars {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else if c.is_whitespace() || c == '_' || c == '-' {
            pending_space = true;
        }
    }
    out
}

fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_folding_is_identity_folding() {
        let same = |name: &str| {
            assert_eq!(
                normalize_for_identity(name),
                normalize_unicode(name),
                "{name:?}"
            );
        };
        // Every pair of ASCII characters, each between letters and alone.
        for a in 0u8..128 {
            for b in 0u8..128 {
                let (a, b) = (char::from(a), char::from(b));
                same(&format!("{a}{b}"));
                same(&format!("x{a}y{b}z"));
                same(&format!("{a} {b}-_"));
            }
        }
        for name in [
            "  Motörhead!! ",
            "Kind  of\tBlue",
            "AC/DC",
            "Beyoncé",
            "a\u{b}b\u{1f}c",
        ] {
            same(name);
        }
    }

    fn inputs<'a>(artist: &'a str, album: &'a str, title: &'a str) -> UidInputs<'a> {
        UidInputs {
            album_artist: artist,
            album,
            disc_number: Some(1),
            track_number: Some(3),
            title,
            ..UidInputs::default()
        }
    }

    #[test]
    fn normalization_folds_case_diacritics_and_punctuation() {
        let check =
            |input: &str, expected: &str| assert_eq!(normalize_for_identity(input), expected);
        check("Beyoncé", "beyonce");
        check("  Motörhead!! ", "motorhead");
        check("AC/DC", "acdc");
        check("Kind  of\tBlue", "kind of blue");
        check("Guns N' Roses", "guns n roses");
    }

    #[test]
    fn hash_uid_ignores_spelling_noise_but_not_content() {
        let a = TrackUid::derive(&inputs("Miles Davis", "Kind of Blue", "So What"));
        let b = TrackUid::derive(&inputs("MILES DAVIS ", "Kind of Blue", "So What!"));
        let c = TrackUid::derive(&inputs("Miles Davis", "Kind of Blue", "Blue in Green"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.as_str().starts_with("h:"));
    }

    #[test]
    fn musicbrainz_id_wins_when_valid() {
        let mut i = inputs("A", "B", "C");
        i.musicbrainz_recording_id = Some("4A6C1F6E-0D2B-4B43-9B1D-1C9E0E0B6B6A");
        assert_eq!(
            TrackUid::derive(&i).as_str(),
            "mb:4a6c1f6e-0d2b-4b43-9b1d-1c9e0e0b6b6a"
        );
        i.musicbrainz_recording_id = Some("not-a-uuid");
        assert!(TrackUid::derive(&i).as_str().starts_with("h:"));
    }
}
