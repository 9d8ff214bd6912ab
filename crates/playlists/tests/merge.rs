//! The merge rules: a document forked into two replicas, edited concurrently on both, and
//! merged both ways.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use automerge::Automerge;
use offbeat_playlists::doc::{self, Place, PlaylistKind};

mod common;
use common::track;
use offbeat_playlists::pos::RandomJitter;
use proptest::prelude::*;

/// A playlist of `n` tracks, and a fork of it (another device's replica).
fn forked(n: usize) -> (Automerge, Automerge, RandomJitter) {
    let mut j = RandomJitter::seeded(42);
    let mut a = Automerge::new();
    doc::init(&mut a, PlaylistKind::Playlist, "Road trip", 1).unwrap();
    let tracks: Vec<_> = (0..n).map(track).collect();
    doc::add(&mut a, &tracks, Place::End, 2, &mut j).unwrap();
    let b = a.fork();
    (a, b, j)
}

fn ids(d: &Automerge) -> Vec<String> {
    doc::read(d)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect()
}

fn uids(d: &Automerge) -> Vec<String> {
    doc::read(d)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.track.track_uid)
        .collect()
}

/// The entries read the plain way, one lookup per field (what `doc::read`'s single pass
/// over the document must agree with), in read order.
fn read_by_lookup(d: &Automerge) -> Vec<doc::Entry> {
    use automerge::{ObjType, ReadDoc, ScalarValue, Value, ROOT};
    let Some((_, entries)) = d.get(ROOT, "entries").unwrap() else {
        return Vec::new();
    };
    let field = |obj: &automerge::ObjId, key: &str| match d.get(obj, key).unwrap() {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => (s.to_string(), 0),
            ScalarValue::Int(n) => (String::new(), *n),
            _ => (String::new(), 0),
        },
        Some((Value::Object(ObjType::Text), id)) => (d.text(id).unwrap(), 0),
        _ => (String::new(), 0),
    };
    let mut out: Vec<doc::Entry> = d
        .map_range(&entries, ..)
        .map(|item| {
            let obj = item.id();
            doc::Entry {
                id: item.key.to_string(),
                track: doc::TrackRef {
                    track_uid: field(&obj, "track_uid").0,
                    title: field(&obj, "title").0,
                    artist: field(&obj, "artist").0,
                    album: field(&obj, "album").0,
                    duration_ms: field(&obj, "duration_ms").1 as u32,
                },
                pos: field(&obj, "pos").0,
                added_at: field(&obj, "added_at").1,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.pos, &a.id).cmp(&(&b.pos, &b.id)));
    out
}

/// Merges each replica into the other; both must then read the same.
fn merge_both_ways(a: &mut Automerge, b: &mut Automerge) {
    let mut a_copy = a.fork();
    a.merge(b).unwrap();
    b.merge(&mut a_copy).unwrap();
    assert_eq!(doc::read(a).unwrap(), doc::read(b).unwrap());
}

#[test]
fn every_add_is_kept() {
    let (mut a, mut b, mut j) = forked(3);
    doc::add(&mut a, &[track(10)], Place::End, 3, &mut j).unwrap();
    doc::add(&mut b, &[track(20), track(21)], Place::At(1), 3, &mut j).unwrap();
    merge_both_ways(&mut a, &mut b);
    let got = uids(&a);
    assert_eq!(got.len(), 6);
    for uid in ["uid-10", "uid-20", "uid-21", "uid-0", "uid-1", "uid-2"] {
        assert!(got.contains(&uid.to_owned()), "{uid} missing from {got:?}");
    }
    // B's two went in together after the first entry; A's at the end.
    assert_eq!(&got[1..3], ["uid-20", "uid-21"]);
    assert_eq!(got[5], "uid-10");
}

#[test]
fn a_removed_entry_stays_removed_when_the_other_side_moved_it() {
    for a_first in [true, false] {
        let (mut a, mut b, mut j) = forked(4);
        let victim = ids(&a)[1].clone();
        doc::remove(&mut a, std::slice::from_ref(&victim), 3).unwrap();
        doc::move_entries(&mut b, std::slice::from_ref(&victim), Place::End, 3, &mut j).unwrap();
        if a_first {
            merge_both_ways(&mut a, &mut b);
        } else {
            merge_both_ways(&mut b, &mut a);
        }
        assert!(!ids(&a).contains(&victim));
        assert_eq!(ids(&a).len(), 3);
    }
}

#[test]
fn a_removed_entry_stays_removed_when_the_other_side_edited_it() {
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;
    let (mut a, mut b, _) = forked(3);
    let victim = ids(&a)[0].clone();
    doc::remove(&mut a, std::slice::from_ref(&victim), 3).unwrap();
    // Another client refreshes the entry's cached title.
    let (_, entries) = b.get(automerge::ROOT, "entries").unwrap().unwrap();
    let (_, entry) = b.get(&entries, victim.as_str()).unwrap().unwrap();
    let mut tx = b.transaction();
    tx.put(&entry, "title", "Song 0 (remastered)").unwrap();
    tx.commit();
    merge_both_ways(&mut a, &mut b);
    assert!(!ids(&a).contains(&victim));
    assert_eq!(uids(&a), ["uid-1", "uid-2"]);
}

#[test]
fn an_entry_moved_on_both_sides_appears_once() {
    let (mut a, mut b, mut j) = forked(5);
    let e = ids(&a)[2].clone();
    doc::move_entries(&mut a, std::slice::from_ref(&e), Place::At(0), 3, &mut j).unwrap();
    doc::move_entries(&mut b, std::slice::from_ref(&e), Place::End, 3, &mut j).unwrap();
    merge_both_ways(&mut a, &mut b);
    let got = ids(&a);
    assert_eq!(got.iter().filter(|i| **i == e).count(), 1);
    assert_eq!(got.len(), 5);
    // One of the two moves won, the same one on both sides.
    assert!(got[0] == e || got[4] == e, "{got:?}");
}

#[test]
fn concurrent_reorders_of_different_entries_both_apply() {
    let (mut a, mut b, mut j) = forked(5);
    let before = ids(&a);
    doc::move_entries(&mut a, &[before[0].clone()], Place::End, 3, &mut j).unwrap();
    doc::move_entries(&mut b, &[before[4].clone()], Place::At(0), 3, &mut j).unwrap();
    merge_both_ways(&mut a, &mut b);
    let got = ids(&a);
    assert_eq!(got[0], before[4]);
    assert_eq!(got[4], before[0]);
    assert_eq!(&got[1..4], &before[1..4]);
}

#[test]
fn a_multi_select_move_keeps_the_selection_together_in_order() {
    let (mut a, _, mut j) = forked(6);
    let before = ids(&a);
    let picked = vec![before[4].clone(), before[1].clone()];
    doc::move_entries(&mut a, &picked, Place::At(0), 3, &mut j).unwrap();
    let got = ids(&a);
    let want: Vec<String> = [4, 1, 0, 2, 3, 5]
        .iter()
        .map(|&i| before[i].clone())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn concurrent_renames_resolve_the_same_on_both_sides() {
    let (mut a, mut b, _) = forked(1);
    doc::rename(&mut a, "Summer", 3).unwrap();
    doc::rename(&mut b, "Winter", 3).unwrap();
    merge_both_ways(&mut a, &mut b);
    let name = doc::read(&a).unwrap().meta.name;
    assert!(name == "Summer" || name == "Winter");
}

#[test]
fn two_hundred_inserts_into_one_gap_keep_a_total_order() {
    let (mut a, _, mut j) = forked(2);
    for n in 0..200 {
        // Always straight after the first entry: the gap keeps shrinking.
        doc::add(&mut a, &[track(100 + n)], Place::At(1), 3, &mut j).unwrap();
    }
    let got = uids(&a);
    assert_eq!(got.len(), 202);
    assert_eq!(got[0], "uid-0");
    assert_eq!(got[201], "uid-1");
    for (i, uid) in got[1..201].iter().enumerate() {
        assert_eq!(*uid, format!("uid-{}", 100 + 199 - i));
    }
}

#[test]
fn concurrent_inserts_into_one_gap_interleave_the_same_everywhere() {
    let (mut a, mut b, _) = forked(2);
    let (mut ja, mut jb) = (RandomJitter::seeded(1), RandomJitter::seeded(2));
    for n in 0..100 {
        doc::add(&mut a, &[track(100 + n)], Place::At(1), 3, &mut ja).unwrap();
        doc::add(&mut b, &[track(300 + n)], Place::At(1), 3, &mut jb).unwrap();
    }
    merge_both_ways(&mut a, &mut b);
    let got = ids(&a);
    assert_eq!(got.len(), 202);
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 202);
}

#[test]
fn text_fields_written_by_another_client_read_as_strings() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};
    let (mut a, _, _) = forked(1);
    let mut tx = a.transaction();
    let name = tx.put_object(ROOT, "name", ObjType::Text).unwrap();
    tx.splice_text(&name, 0, 0, "From JavaScript").unwrap();
    tx.commit();
    assert_eq!(doc::read(&a).unwrap().meta.name, "From JavaScript");
}

#[test]
fn entry_fields_written_as_text_read_as_strings() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc, ROOT};
    let (mut a, _, _) = forked(3);
    let id = ids(&a)[1].clone();
    let (_, entries) = a.get(ROOT, "entries").unwrap().unwrap();
    let (_, entry) = a.get(&entries, id.as_str()).unwrap().unwrap();
    let mut tx = a.transaction();
    let title = tx.put_object(&entry, "title", ObjType::Text).unwrap();
    tx.splice_text(&title, 0, 0, "Typed elsewhere").unwrap();
    tx.commit();
    let read = doc::read(&a).unwrap();
    assert_eq!(read.entries[1].track.title, "Typed elsewhere");
    assert_eq!(read.entries, read_by_lookup(&a));
}

#[test]
fn a_large_add_is_made_of_bounded_changes_and_reads_whole() {
    let mut d = Automerge::new();
    doc::init(&mut d, PlaylistKind::Playlist, "Big", 1).unwrap();
    let before = d.get_changes(&[]).len();
    let tracks: Vec<_> = (0..doc::ADD_CHUNK * 2 + 1).map(track).collect();
    let added = doc::add(&mut d, &tracks, Place::End, 2, &mut RandomJitter::seeded(3)).unwrap();
    assert_eq!(d.get_changes(&[]).len() - before, 3);
    assert_eq!(ids(&d), added);
    assert_eq!(
        uids(&d),
        tracks
            .iter()
            .map(|t| t.track_uid.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(doc::read(&d).unwrap().meta.updated_at, 2);
}

#[test]
fn a_document_that_is_not_a_playlist_is_refused() {
    let d = Automerge::new();
    assert!(doc::read(&d).is_err());
}

/// A random edit, as a device might make it.
#[derive(Debug, Clone)]
enum Op {
    Add { at: usize, count: usize },
    Remove { at: usize },
    Move { from: usize, to: usize },
    MoveMany { from: usize, len: usize, to: usize },
    Rename(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..12usize, 1..4usize).prop_map(|(at, count)| Op::Add { at, count }),
        (0..12usize).prop_map(|at| Op::Remove { at }),
        (0..12usize, 0..12usize).prop_map(|(from, to)| Op::Move { from, to }),
        (0..12usize, 1..4usize, 0..12usize).prop_map(|(from, len, to)| Op::MoveMany {
            from,
            len,
            to
        }),
        any::<u8>().prop_map(Op::Rename),
    ]
}

fn apply(d: &mut Automerge, ops: &[Op], j: &mut RandomJitter, next_track: &mut usize) {
    for op in ops {
        let current = ids(d);
        match op {
            Op::Add { at, count } => {
                let tracks: Vec<_> = (0..*count).map(|i| track(*next_track + i)).collect();
                *next_track += count;
                doc::add(d, &tracks, Place::At(*at), 5, j).unwrap();
            }
            Op::Remove { at } => {
                if let Some(id) = current.get(*at) {
                    doc::remove(d, std::slice::from_ref(id), 5).unwrap();
                }
            }
            Op::Move { from, to } => {
                if let Some(id) = current.get(*from) {
                    doc::move_entries(d, std::slice::from_ref(id), Place::At(*to), 5, j).unwrap();
                }
            }
            Op::MoveMany { from, len, to } => {
                let picked: Vec<String> = current.iter().skip(*from).take(*len).cloned().collect();
                doc::move_entries(d, &picked, Place::At(*to), 5, j).unwrap();
            }
            Op::Rename(n) => doc::rename(d, &format!("name {n}"), 5).unwrap(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn concurrent_edits_merge_to_one_order(
        start in 0..8usize,
        ops_a in proptest::collection::vec(op(), 0..12),
        ops_b in proptest::collection::vec(op(), 0..12),
        seed in any::<u64>(),
    ) {
        let (mut a, mut b, _) = forked(start);
        let base = a.fork();
        let (mut ja, mut jb) = (RandomJitter::seeded(seed), RandomJitter::seeded(seed ^ 1));
        let (mut na, mut nb) = (1000, 2000);
        apply(&mut a, &ops_a, &mut ja, &mut na);
        apply(&mut b, &ops_b, &mut jb, &mut nb);

        let (mut a1, mut b1) = (a.fork(), b.fork());
        a1.merge(&mut b.fork()).unwrap();
        b1.merge(&mut a.fork()).unwrap();
        // A third replica that hears of both in the other order.
        let mut c = base.fork();
        c.merge(&mut b.fork()).unwrap();
        c.merge(&mut a.fork()).unwrap();

        let read_a = doc::read(&a1).unwrap();
        prop_assert_eq!(&read_a.entries, &read_by_lookup(&a1));
        prop_assert_eq!(&read_a, &doc::read(&b1).unwrap());
        prop_assert_eq!(&read_a, &doc::read(&c).unwrap());

        let got: Vec<&String> = read_a.entries.iter().map(|e| &e.id).collect();
        let mut unique = got.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), got.len());

        // Whatever either side added and did not remove is there.
        for side in [&a, &b] {
            for id in ids(side) {
                let removed_elsewhere = ids(&base).contains(&id);
                prop_assert!(got.contains(&&id) || removed_elsewhere);
            }
        }
    }
}
