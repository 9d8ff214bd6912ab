//! What the benchmark corpus holds: a deterministic plan of artists, albums and tracks,
//! with the tag variety a real collection has (multi-valued and featured artists,
//! diacritics, compilations, multi-disc albums, MusicBrainz ids, untagged rips).
//!
//! The plan is pure data; `corpus.rs` turns it into files.

use std::collections::HashSet;
use std::path::PathBuf;

/// The formats the scanner reads, each with one committed template in `assets/bench/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Flac,
    Mp3,
    Vorbis,
    Opus,
    M4a,
    Wav,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Flac,
        Format::Mp3,
        Format::Vorbis,
        Format::Opus,
        Format::M4a,
        Format::Wav,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Flac => "flac",
            Format::Mp3 => "mp3",
            Format::Vorbis => "ogg",
            Format::Opus => "opus",
            Format::M4a => "m4a",
            Format::Wav => "wav",
        }
    }

    /// Roughly how collections are made up: mostly FLAC and MP3, some AAC, a little of
    /// the rest. Percentages, summing to 100.
    fn share(self) -> u32 {
        match self {
            Format::Flac => 32,
            Format::Mp3 => 33,
            Format::Vorbis => 10,
            Format::Opus => 5,
            Format::M4a => 14,
            Format::Wav => 6,
        }
    }
}

/// One file of the corpus: where it goes (relative to the corpus root), which template it
/// is copied from, and the tags written into it (`None`: left untagged).
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub path: PathBuf,
    pub format: Format,
    pub tags: Option<TagPlan>,
}

/// The tags of one file. Empty or `None` fields are not written at all.
#[derive(Debug, Clone, Default)]
pub struct TagPlan {
    pub title: String,
    /// More than one entry is written as a multi-valued artist field.
    pub artists: Vec<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub track: Option<(u32, u32)>,
    pub disc: Option<(u32, u32)>,
    /// "YYYY" or "YYYY-MM-DD".
    pub date: Option<String>,
    pub genre: Option<String>,
    pub musicbrainz: Option<MusicBrainzPlan>,
    /// For WAV: a RIFF INFO chunk instead of the usual ID3v2 chunk.
    pub riff_info: bool,
}

#[derive(Debug, Clone)]
pub struct MusicBrainzPlan {
    pub recording: String,
    pub release: String,
    pub artist: String,
}

/// SplitMix64: small, fast and deterministic, which is all a corpus generator needs.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.range(1, 100) <= percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Artists the scripted search session types, with some of their real album titles, and
/// neighbours that share their prefixes ("be", "mo", "kind") so prefix queries have to
/// sift through many matches.
const KNOWN_ARTISTS: &[(&str, &[&str])] = &[
    (
        "The Beatles",
        &[
            "Abbey Road",
            "Let It Be",
            "Revolver",
            "Rubber Soul",
            "Help!",
        ],
    ),
    (
        "Beyoncé",
        &["Lemonade", "Renaissance", "Dangerously in Love"],
    ),
    ("Motörhead", &["Ace of Spades", "Overkill", "Bomber"]),
    (
        "Miles Davis",
        &[
            "Kind of Blue",
            "Bitches Brew",
            "Sketches of Spain",
            "Round About Midnight",
        ],
    ),
    ("Beach House", &["Bloom", "Teen Dream", "Depression Cherry"]),
    ("Belle and Sebastian", &["If You're Feeling Sinister"]),
    ("Beastie Boys", &["Paul's Boutique", "Ill Communication"]),
    ("Bebel Gilberto", &["Tanto Tempo"]),
    ("Björk", &["Homogenic", "Debut", "Vespertine"]),
    ("Sigur Rós", &["Ágætis byrjun", "Takk..."]),
    ("Mötley Crüe", &["Dr. Feelgood"]),
    ("Blue Öyster Cult", &["Agents of Fortune"]),
    ("Massive Attack", &["Mezzanine", "Blue Lines"]),
    ("Mogwai", &["Young Team", "Come On Die Young"]),
    ("Moby", &["Play"]),
    ("Morcheeba", &["Big Calm"]),
    ("Françoise Hardy", &["La question"]),
    ("Édith Piaf", &["La vie en rose"]),
    ("Ólafur Arnalds", &["re:member"]),
    ("Kind of Like Spitting", &["Bridges Worth Burning"]),
    ("Die Ärzte", &["Die Bestie in Menschengestalt"]),
];

/// MusicBrainz's special artist id for "Various Artists".
const VARIOUS_MBID: &str = "89ad4ac3-39f7-470e-963a-56509c546377";

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Ada", "Amélie", "Anders", "Ángel", "Aoife", "Bea", "Benoît", "Björn", "Carmen", "Céline",
    "Chiara", "Dagny", "Darius", "Élodie", "Emeka", "Farid", "Freya", "Gaël", "Greta", "Hana",
    "Ines", "Ingrid", "Iñaki", "Jonas", "José", "Jürgen", "Kai", "Kenji", "Lars", "Leila",
    "Łucja", "Maëlle", "Malik", "Marta", "Mateo", "Mira", "Nadia", "Noé", "Oskar", "Paloma",
    "Priya", "Rafael", "Renée", "Rosa", "Sami", "Søren", "Thandiwe", "Tomás", "Ulla", "Vera",
    "Wen", "Yusuf", "Zoë", "Zsófia",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Abara", "Andersson", "Bakker", "Brontë", "Castillo", "Dąbrowski", "Delacroix", "Eriksen",
    "Fontaine", "García", "Haddad", "Hernández", "Ivanova", "Jansen", "Kowalczyk", "Lindqvist",
    "Moreau", "Müller", "Nakamura", "Nguyễn", "Novák", "Okafor", "Østergaard", "Petrov",
    "Quintero", "Ramírez", "Rossi", "Sato", "Schäfer", "Silva", "Søndergaard", "Takahashi",
    "Úlfsson", "Varga", "Weiß", "Yılmaz", "Zielińska",
];

#[rustfmt::skip]
const ADJECTIVES: &[&str] = &[
    "Amber", "Blue", "Broken", "Burning", "Crimson", "Crystal", "Dark", "Distant", "Electric",
    "Empty", "Endless", "Fading", "Frozen", "Gentle", "Golden", "Hidden", "Hollow", "Last",
    "Little", "Lonely", "Lost", "Midnight", "Naïve", "Neon", "Northern", "Pale", "Quiet",
    "Restless", "Scarlet", "Secret", "Silent", "Silver", "Slow", "Strange", "Sweet", "Velvet",
    "Wild", "Wooden", "Young",
];

#[rustfmt::skip]
const NOUNS: &[&str] = &[
    "Anchor", "Autumn", "Bell", "Bird", "Bridge", "Café", "Canyon", "Circle", "City", "Cloud",
    "Crème", "Desert", "Dream", "Echo", "Ember", "Engine", "Fire", "Flower", "Garden", "Ghost",
    "Harbor", "Heart", "Horizon", "Island", "Kingdom", "Lantern", "Machine", "Mirror", "Moon",
    "Morning", "Mountain", "Ocean", "Orchard", "Paper", "Rain", "Rêve", "River", "Road",
    "Shadow", "Signal", "Sky", "Smörgåsbord", "Snow", "Song", "Star", "Stone", "Summer", "Sun",
    "Tide", "Tower", "Train", "Valley", "Wave", "Wind", "Window", "Winter", "Wolf", "Été",
];

#[rustfmt::skip]
const VERBS: &[&str] = &[
    "Call", "Carry", "Chase", "Dance", "Follow", "Hold", "Leave", "Light", "Meet", "Move",
    "Remember", "Run", "Save", "Shake", "Sing", "Take", "Touch", "Wake", "Walk", "Watch",
];

#[rustfmt::skip]
const PLACES: &[&str] = &[
    "Montreux", "the Fillmore", "Budokan", "the Royal Albert Hall", "Café Wha?", "Roskilde",
    "the Olympia", "São Paulo", "Reykjavík", "Kraków",
];

#[rustfmt::skip]
const GENRES: &[&str] = &[
    "Rock", "Pop", "Jazz", "Electronic", "Hip-Hop", "Classical", "Ambient", "Metal", "Folk",
    "Soul", "R&B", "Reggae", "Blues", "Country", "Bossa Nova", "Chanson", "Post-Rock", "Indie",
    "Punk", "Trip-Hop", "Afrobeat", "Krautrock", "Shoegaze", "Drum & Bass",
];

#[rustfmt::skip]
const ENSEMBLES: &[&str] = &[
    "Trio", "Quartet", "Ensemble", "Orchestra", "Collective", "Band",
];

fn artist_name(rng: &mut Rng) -> String {
    match rng.range(0, 9) {
        0..=3 => format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
        4..=5 => format!("The {} {}s", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
        6 => format!("{} {}", rng.pick(NOUNS), rng.pick(NOUNS)),
        7 => format!(
            "{} {} {}",
            rng.pick(FIRST_NAMES),
            rng.pick(LAST_NAMES),
            rng.pick(ENSEMBLES)
        ),
        8 => format!("{} & the {}s", rng.pick(FIRST_NAMES), rng.pick(NOUNS)),
        _ => format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
    }
}

fn album_title(rng: &mut Rng) -> String {
    match rng.range(0, 9) {
        0..=3 => format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
        4..=5 => format!("{} of {}", rng.pick(NOUNS), rng.pick(NOUNS)),
        6 => rng.pick(NOUNS).to_owned(),
        7 => format!("Live at {}", rng.pick(PLACES)),
        8 => format!(
            "{} {}, Vol. {}",
            rng.pick(ADJECTIVES),
            rng.pick(NOUNS),
            rng.range(2, 4)
        ),
        _ => format!("{} the {}", rng.pick(VERBS), rng.pick(NOUNS)),
    }
}

fn track_title(rng: &mut Rng) -> String {
    let base = match rng.range(0, 9) {
        0..=2 => format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS)),
        3..=4 => format!("{} the {}", rng.pick(VERBS), rng.pick(NOUNS)),
        5 => rng.pick(NOUNS).to_owned(),
        6 => format!("{} in the {}", rng.pick(NOUNS), rng.pick(NOUNS)),
        7 => format!("{} Me {}", rng.pick(VERBS), rng.pick(ADJECTIVES)),
        8 => format!("{} ({} Mix)", rng.pick(NOUNS), rng.pick(ADJECTIVES)),
        _ => format!(
            "{} {}, Pt. {}",
            rng.pick(ADJECTIVES),
            rng.pick(NOUNS),
            rng.range(1, 3)
        ),
    };
    if rng.chance(4) {
        format!("{base} - Live")
    } else {
        base
    }
}

/// A name safe as one path component.
fn path_component(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    cleaned.trim_start_matches('.').trim().to_owned()
}

/// Everything about one album that its tracks share.
struct Album {
    artist: String,
    title: String,
    compilation: bool,
    /// Whether tracks carry an explicit album artist field.
    album_artist_tag: bool,
    year: u32,
    genre: Option<String>,
    musicbrainz: Option<(String, String)>,
    format: Format,
    untagged: bool,
    discs: u32,
    tracks_per_disc: u32,
}

/// Builds the plan for `files` files. Same seed, same plan.
pub fn plan(files: usize, seed: u64) -> Vec<FilePlan> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(files);
    let mut used_artists: HashSet<String> = HashSet::new();
    let mut used_dirs: HashSet<PathBuf> = HashSet::new();
    let mut guests: Vec<String> = Vec::new();
    let mut known = KNOWN_ARTISTS.iter();

    while out.len() < files {
        // The known artists come first, so even a small corpus has them.
        let (artist, titles): (String, Vec<String>) = match known.next() {
            Some((name, albums)) => (
                (*name).to_owned(),
                albums.iter().map(|t| (*t).to_owned()).collect(),
            ),
            None => {
                let name = artist_name(&mut rng);
                if !used_artists.insert(name.clone()) {
                    continue;
                }
                let count = rng.range(1, 6);
                let mut titles: Vec<String> = Vec::new();
                while titles.len() < count as usize {
                    let title = album_title(&mut rng);
                    if !titles.contains(&title) {
                        titles.push(title);
                    }
                }
                (name, titles)
            }
        };
        used_artists.insert(artist.clone());
        guests.push(artist.clone());
        let artist_mbid = rng.uuid();
        for title in titles {
            let album = new_album(&mut rng, artist.clone(), title, &artist_mbid, false);
            push_album(&mut rng, &album, &guests, files, &mut used_dirs, &mut out);
        }
        // Now and then a compilation, its tracks by artists already seen.
        if rng.chance(8) {
            let title = format!("{} {}", album_title(&mut rng), rng.range(1990, 2024));
            let album = new_album(
                &mut rng,
                "Various Artists".into(),
                title,
                VARIOUS_MBID,
                true,
            );
            push_album(&mut rng, &album, &guests, files, &mut used_dirs, &mut out);
        }
    }
    out.truncate(files);
    out
}

fn new_album(
    rng: &mut Rng,
    artist: String,
    title: String,
    artist_mbid: &str,
    compilation: bool,
) -> Album {
    let mut pick = rng.range(1, 100);
    let mut format = Format::Flac;
    for f in Format::ALL {
        if pick <= f.share() {
            format = f;
            break;
        }
        pick -= f.share();
    }
    let discs = if rng.chance(8) { 2 } else { 1 };
    let musicbrainz = rng.chance(30).then(|| (rng.uuid(), artist_mbid.to_owned()));
    Album {
        artist,
        title,
        compilation,
        album_artist_tag: compilation || rng.chance(70),
        year: rng.range(1955, 2024),
        genre: rng.chance(90).then(|| rng.pick(GENRES).to_owned()),
        musicbrainz,
        format,
        untagged: !compilation && rng.chance(3),
        discs,
        tracks_per_disc: rng.range(5, 16),
    }
}

fn push_album(
    rng: &mut Rng,
    album: &Album,
    guests: &[String],
    files: usize,
    used_dirs: &mut HashSet<PathBuf>,
    out: &mut Vec<FilePlan>,
) {
    let base = PathBuf::from(path_component(&album.artist)).join(path_component(&album.title));
    let mut dir = base.clone();
    let mut n = 2;
    while !used_dirs.insert(dir.clone()) {
        dir = base.with_file_name(format!("{} ({n})", path_component(&album.title)));
        n += 1;
    }
    let riff_info = album.format == Format::Wav && rng.chance(50);
    let date = if rng.chance(70) {
        album.year.to_string()
    } else {
        format!(
            "{}-{:02}-{:02}",
            album.year,
            rng.range(1, 12),
            rng.range(1, 28)
        )
    };
    for disc in 1..=album.discs {
        for track in 1..=album.tracks_per_disc {
            if out.len() >= files {
                return;
            }
            let title = track_title(rng);
            let number = if album.discs > 1 {
                format!("{disc}-{track:02}")
            } else {
                format!("{track:02}")
            };
            let path = dir.join(format!(
                "{number} {}.{}",
                path_component(&title),
                album.format.extension()
            ));
            let tags = (!album.untagged)
                .then(|| track_tags(rng, album, guests, title, (disc, track), &date, riff_info));
            out.push(FilePlan {
                path,
                format: album.format,
                tags,
            });
        }
    }
}

fn track_tags(
    rng: &mut Rng,
    album: &Album,
    guests: &[String],
    title: String,
    (disc, track): (u32, u32),
    date: &str,
    riff_info: bool,
) -> TagPlan {
    // A rip with only a title now and then: the scanner falls back to "Unknown Artist".
    if rng.chance(2) {
        return TagPlan {
            title,
            riff_info,
            ..TagPlan::default()
        };
    }
    let main = if album.compilation {
        guests[(rng.next_u64() % guests.len() as u64) as usize].clone()
    } else {
        album.artist.clone()
    };
    let mut guest = main.clone();
    while guest == main && guests.len() > 1 {
        guest = guests[(rng.next_u64() % guests.len() as u64) as usize].clone();
    }
    let artists = match rng.range(1, 100) {
        1..=5 => vec![main, guest],
        6..=10 => vec![format!("{main} feat. {guest}")],
        11..=13 => vec![format!("{main}; {guest}")],
        14..=15 => vec![format!("{main} & {guest}")],
        _ => vec![main],
    };
    TagPlan {
        title,
        artists,
        album: Some(album.title.clone()),
        album_artist: album.album_artist_tag.then(|| album.artist.clone()),
        track: Some((track, album.tracks_per_disc)),
        disc: (album.discs > 1 || rng.chance(50)).then_some((disc, album.discs)),
        date: Some(date.to_owned()),
        genre: album.genre.clone(),
        musicbrainz: album
            .musicbrainz
            .as_ref()
            .map(|(release, artist)| MusicBrainzPlan {
                recording: rng.uuid(),
                release: release.clone(),
                artist: artist.clone(),
            }),
        riff_info,
    }
}
