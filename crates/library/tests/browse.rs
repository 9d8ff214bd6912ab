//! Browsing the demo library by artist, album, genre and year, and grouped search.

use std::path::Path;

use offbeat_library::Library;

mod common;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn demo_library() -> Result<Library, Box<dyn std::error::Error>> {
    let mut library = Library::open_in_memory()?;
    library.scan_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo"))?;
    Ok(library)
}

#[test]
fn artists_albums_and_album_pages() -> TestResult {
    let library = demo_library()?;
    let artists: Vec<(String, u32, u32)> = library
        .artists()?
        .into_iter()
        .map(|a| (a.name, a.album_count, a.track_count))
        .collect();
    assert_eq!(
        artists,
        [
            ("Aurora Fields".to_owned(), 1, 3),
            ("Élodie Marchand".to_owned(), 1, 2),
            // "The Lanterns feat. Mira" credits Mira on her own.
            ("Mira".to_owned(), 0, 1),
            ("The Lanterns".to_owned(), 1, 3),
        ]
    );
    let albums = library.albums(0, 100)?;
    let titles: Vec<&str> = albums.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["Northern Lights", "Café Nocturne", "Tidal Rooms"]);
    let tidal = albums
        .iter()
        .find(|a| a.title == "Tidal Rooms")
        .ok_or("Tidal Rooms")?;
    assert_eq!(
        (tidal.year, tidal.track_count, tidal.album_artist.as_str()),
        (Some(2019), 3, "The Lanterns")
    );
    assert_eq!(
        library
            .albums(1, 1)?
            .first()
            .map(|a| a.title.clone())
            .as_deref(),
        Some("Café Nocturne")
    );

    let tracks: Vec<(Option<u32>, String)> = library
        .album_tracks(tidal.id)?
        .into_iter()
        .map(|t| (t.track_number, t.title))
        .collect();
    assert_eq!(
        tracks,
        [
            (Some(1), "Driftwood".to_owned()),
            (Some(2), "Undertow".to_owned()),
            (Some(3), "Saltwater".to_owned())
        ]
    );
    let lanterns = library
        .artists()?
        .into_iter()
        .find(|a| a.name == "The Lanterns")
        .ok_or("artist")?;
    assert_eq!(library.artist_albums(lanterns.id)?.len(), 1);
    Ok(())
}

#[test]
fn genres_years_and_recently_added() -> TestResult {
    let library = demo_library()?;
    let genres: Vec<(String, u32)> = library
        .genres()?
        .into_iter()
        .map(|g| (g.name, g.track_count))
        .collect();
    assert_eq!(
        genres,
        [
            ("Ambient".to_owned(), 3),
            ("Electronic".to_owned(), 3),
            ("Jazz".to_owned(), 2)
        ]
    );
    assert_eq!(library.genre_tracks("jazz")?.len(), 2);
    let years: Vec<(i32, u32)> = library
        .years()?
        .into_iter()
        .map(|y| (y.year, y.track_count))
        .collect();
    assert_eq!(years, [(2023, 2), (2021, 3), (2019, 3)]);
    assert_eq!(library.year_tracks(2020, 2029)?.len(), 5, "the 2020s");
    assert_eq!(library.recently_added(5)?.len(), 5);
    Ok(())
}

/// The titles of a search's tracks, in order.
fn titles(results: &offbeat_model::SearchResults) -> Vec<&str> {
    results.tracks.iter().map(|t| t.title.as_str()).collect()
}

#[test]
fn search_groups_artists_albums_and_tracks() -> TestResult {
    let library = demo_library()?;
    let names = |results: &offbeat_model::SearchResults| {
        (
            results
                .artists
                .iter()
                .map(|a| a.name.clone())
                .collect::<Vec<_>>(),
            results
                .albums
                .iter()
                .map(|a| a.title.clone())
                .collect::<Vec<_>>(),
        )
    };
    let results = library.search_grouped("lant", 100)?;
    // The artist, and the album by that artist.
    assert_eq!(
        names(&results),
        (vec!["The Lanterns".into()], vec!["Tidal Rooms".into()])
    );
    assert_eq!(results.tracks.len(), 3);
    assert_eq!(
        (results.track_matches, results.track_matches_capped),
        (3, false)
    );

    // Words may come from the album's title and its artist.
    let results = library.search_grouped("lanterns tid", 100)?;
    assert_eq!(names(&results), (vec![], vec!["Tidal Rooms".into()]));

    // A featured artist is found on their own.
    let results = library.search_grouped("mira", 100)?;
    assert_eq!(names(&results), (vec!["Mira".into()], vec![]));
    assert_eq!(titles(&results), ["Undertow"]);

    // Fewer tracks than match: the count says how many there are.
    let results = library.search_grouped("a", 2)?;
    assert_eq!(results.tracks.len(), 2);
    assert_eq!(
        results.track_matches, 3,
        "the three tracks by Aurora Fields"
    );

    // Where the first word matches ranks a track: the start of a title beats the start
    // of an artist's name.
    let results = library.search_grouped("aur", 100)?;
    assert_eq!(titles(&results), ["Aurora", "Polar Night", "Snowfield"]);
    let results = library.search_grouped("cafe", 100)?;
    assert_eq!(
        results
            .albums
            .iter()
            .map(|a| a.title.as_str())
            .collect::<Vec<_>>(),
        ["Café Nocturne"]
    );
    assert!(results.artists.is_empty());
    assert_eq!(results.tracks.len(), 2);

    let results = library.search_grouped("polar", 100)?;
    assert!(results.artists.is_empty() && results.albums.is_empty());
    assert_eq!(
        results.tracks.first().map(|t| t.title.as_str()),
        Some("Polar Night")
    );
    Ok(())
}

#[test]
fn tracks_are_found_by_uid_across_batches() -> TestResult {
    let library = demo_library()?;
    let all = library.tracks()?;
    let mut uids: Vec<String> = all.iter().map(|t| t.uid.as_str().to_owned()).collect();
    // Unknown uids (another device's tracks) are left out, repeats answered once; more
    // than one batch's worth of them.
    uids.extend((0..1200).map(|i| format!("not-here-{i}")));
    uids.push(all[0].uid.as_str().to_owned());
    let asked: Vec<&str> = uids.iter().map(String::as_str).collect();
    let found = library.tracks_by_uid(&asked)?;
    assert_eq!(found.len(), all.len());
    for t in &all {
        assert_eq!(found.get(t.uid.as_str()).map(|f| f.id), Some(t.id));
    }
    Ok(())
}

/// The names a grouped search finds: artists, then album titles.
fn names_found(
    library: &Library,
    query: &str,
) -> Result<(Vec<String>, Vec<String>), Box<dyn std::error::Error>> {
    let results = library.search_grouped(query, 100)?;
    Ok((
        results.artists.into_iter().map(|a| a.name).collect(),
        results.albums.into_iter().map(|a| a.title).collect(),
    ))
}

#[test]
fn artists_and_albums_a_rescan_adds_are_found_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let music = dir.path().join("music");
    let aside = dir.path().join("aside");
    std::fs::create_dir_all(&aside)?;
    common::copy_demo(&music)?;
    let mut library = Library::open_in_memory()?;
    library.scan_folder(&music)?;
    let lanterns: Vec<std::path::PathBuf> = library
        .tracks()?
        .into_iter()
        .filter(|t| t.album_artist == "The Lanterns")
        .map(|t| t.path.into())
        .collect();
    assert_eq!(lanterns.len(), 3);

    // Without the band's files, a new scan forgets the band and its album...
    for path in &lanterns {
        std::fs::rename(path, aside.join(path.file_name().ok_or("no name")?))?;
    }
    library.scan_folder(&music)?;
    assert_eq!(names_found(&library, "lant")?, (vec![], vec![]));
    // ...and with them back, the next scan (a new writer) finds them again, once.
    for path in &lanterns {
        std::fs::rename(aside.join(path.file_name().ok_or("no name")?), path)?;
    }
    library.scan_folder(&music)?;
    assert_eq!(
        names_found(&library, "lant")?,
        (
            vec!["The Lanterns".to_owned()],
            vec!["Tidal Rooms".to_owned()]
        )
    );
    // The artists and albums that stayed are still found, and only once.
    assert_eq!(
        names_found(&library, "aurora")?,
        (
            vec!["Aurora Fields".to_owned()],
            vec!["Northern Lights".to_owned()]
        )
    );
    Ok(())
}
