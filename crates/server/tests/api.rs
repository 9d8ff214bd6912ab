//! The HTTP API of a real `offbeat-server` process: auth, the catalog across a rescan,
//! streaming with Range, path traversal, history, status and metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, Instant};

use common::{add_user, cli, music_copy, Server};

fn catalog_all(
    server: &Server,
    token: &str,
    since: &str,
    limit: u32,
) -> (Vec<serde_json::Value>, String) {
    let mut changes = Vec::new();
    let mut cursor = since.to_owned();
    loop {
        let r = server.get(
            &format!("/api/v1/catalog?since={cursor}&limit={limit}"),
            Some(token),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        changes.extend(page["changes"].as_array().unwrap().iter().cloned());
        cursor = page["cursor"].as_str().unwrap().to_owned();
        if !page["more"].as_bool().unwrap() {
            return (changes, cursor);
        }
    }
}

fn uid_of(change: &serde_json::Value) -> String {
    change["track"]["track_uid"]
        .as_str()
        .or(change["track_uid"].as_str())
        .unwrap()
        .to_owned()
}

#[test]
fn every_endpoint_but_healthz_needs_a_current_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let bo = add_user(&data, "bo");
    let server = Server::start(&music_copy(dir.path()), &data);

    assert_eq!(server.get("/healthz", None).status, 200);
    for (i, path) in [
        "/api/v1/status",
        "/metrics",
        "/api/v1/catalog",
        "/api/v1/history",
        "/api/v1/documents",
        "/api/v1/sync?peer=p",
        "/api/v1/tracks/h:00/file",
        "/api/v1/art/h:00",
    ]
    .into_iter()
    .enumerate()
    {
        let r = server.get(path, None);
        assert_eq!(r.status, 401, "{path} without a token");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        // A different wrong token each time (one token failing often is throttled).
        let wrong = format!("wrong-{i}");
        assert_eq!(
            server.get(path, Some(&wrong)).status,
            401,
            "{path} with a wrong token"
        );
    }
    assert_eq!(server.get("/api/v1/status", Some(&ana)).status, 200);

    // Revoked while the server runs: refused from the next request on.
    cli(&data, &["user", "revoke", "bo"]);
    assert_eq!(server.get("/api/v1/status", Some(&bo)).status, 401);
    assert!(cli(&data, &["user", "list"]).contains("bo\t0 token(s)\trevoked"));

    // A token that keeps failing is refused unchecked for a while.
    let statuses: Vec<u16> = (0..7)
        .map(|_| server.get("/api/v1/status", Some("guess")).status)
        .collect();
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(server.get("/api/v1/status", Some(&ana)).status, 200);
}

#[test]
fn the_catalog_pages_every_change_once_across_a_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let music = music_copy(dir.path());
    let server = Server::start(&music, &data);

    let (all, _) = catalog_all(&server, &token, "", 1000);
    let files = std::fs::read_dir(&music).unwrap().count();
    assert_eq!(all.len(), files);
    assert!(all
        .iter()
        .all(|c| c["deleted"] == false && c["track"]["title"].is_string()));

    // Read the first three, then the folder changes: one file goes, one arrives.
    let first = server.get("/api/v1/catalog?limit=3", Some(&token)).json();
    assert_eq!(first["changes"].as_array().unwrap().len(), 3);
    assert_eq!(first["more"], true);
    let gone_uid = uid_of(&first["changes"][0]);
    let gone = {
        // The file of that track: the one whose bytes the server streams for it.
        let bytes = server
            .get(&format!("/api/v1/tracks/{gone_uid}/file"), Some(&token))
            .body;
        std::fs::read_dir(&music)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| std::fs::read(p).unwrap() == bytes)
            .unwrap()
    };
    let extra = std::fs::read_dir(&music)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p != &gone)
        .unwrap();
    std::fs::remove_file(&gone).unwrap();
    // A second copy of another file arrives too: same tags, so the same uid, which the
    // catalog must still list once.
    std::fs::create_dir_all(music.join("more")).unwrap();
    std::fs::copy(&extra, music.join("more").join(extra.file_name().unwrap())).unwrap();
    // And a track the catalog has never had: new tags, so a new uid.
    let arrived = common::make_music(&music.join("arrivals"), 1, "Arrival");
    assert_eq!(arrived.len(), 1);
    let is_arrival = |c: &serde_json::Value| c["track"]["title"] == "Arrival Song 1";

    let deadline = Instant::now() + Duration::from_secs(30);
    let rest = loop {
        let (rest, _) = catalog_all(&server, &token, first["cursor"].as_str().unwrap(), 2);
        if rest.iter().any(|c| c["deleted"] == true) && rest.iter().any(is_arrival) {
            break rest;
        }
        assert!(
            Instant::now() < deadline,
            "the deletion or the new track never reached the catalog: {rest:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // Each uid once, at its newest; the removed one as a deletion.
    let mut uids: Vec<String> = rest.iter().map(uid_of).collect();
    let n = uids.len();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), n, "a uid twice in one read: {rest:?}");
    let deletion = rest.iter().find(|c| c["deleted"] == true).unwrap();
    assert_eq!(uid_of(deletion), gone_uid);
    // Everything else that was not in the first page is there.
    let first_uids: Vec<String> = first["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(uid_of)
        .collect();
    for c in &all {
        let uid = uid_of(c);
        if !first_uids.contains(&uid) {
            assert!(uids.contains(&uid), "{uid} missing after the rescan");
        }
    }
    // The new track is there, after the saved cursor, as an upsert with a uid of its own.
    let arrival = rest.iter().find(|c| is_arrival(c)).unwrap();
    assert_eq!(arrival["deleted"], false);
    assert_eq!(arrival["track"]["artist"], "Arrival Artist 1");
    let arrival_uid = uid_of(arrival);
    assert!(
        all.iter().all(|c| uid_of(c) != arrival_uid),
        "the new track reused an old uid"
    );
    let bytes = server
        .get(&format!("/api/v1/tracks/{arrival_uid}/file"), Some(&token))
        .body;
    assert_eq!(bytes, std::fs::read(&arrived[0]).unwrap());
    let status = server.get("/api/v1/status", Some(&token)).json();
    assert_eq!(status["catalog_tracks"], files as u64);
    assert_eq!(
        server
            .get("/api/v1/catalog?since=nonsense", Some(&token))
            .status,
        400
    );
}

#[test]
fn files_stream_byte_exact_with_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let music = music_copy(dir.path());
    let server = Server::start(&music, &data);
    let (all, _) = catalog_all(&server, &token, "", 1000);
    let uid = uid_of(&all[0]);
    let path = format!("/api/v1/tracks/{uid}/file");

    let whole = server.get(&path, Some(&token));
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let file = std::fs::read_dir(&music)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .find(|b| *b == whole.body)
        .expect("the stream is one of the music files, byte for byte");
    let len = file.len();
    assert_eq!(
        whole.header("content-length"),
        Some(len.to_string().as_str())
    );
    let etag = whole.header("etag").unwrap().to_owned();

    let ranged = |range: &str| server.request("GET", &path, Some(&token), &[("Range", range)], b"");
    for (range, from, to) in [
        ("bytes=0-99".to_owned(), 0, 99),
        (
            format!("bytes={}-{}", len / 2, len / 2 + 4095),
            len / 2,
            len / 2 + 4095,
        ),
        (format!("bytes={}-", len - 10), len - 10, len - 1),
        ("bytes=-500".to_owned(), len - 500, len - 1),
        (
            format!("bytes={}-{}", len - 3, len + 1000),
            len - 3,
            len - 1,
        ),
    ] {
        let r = ranged(&range);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.body, &file[from..=to], "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {from}-{to}/{len}").as_str())
        );
        assert_eq!(
            r.header("content-length"),
            Some((to - from + 1).to_string().as_str())
        );
    }
    for bad in [
        format!("bytes={len}-"),
        "bytes=9-2".to_owned(),
        "bytes=-0".to_owned(),
        "bytes=x-y".to_owned(),
    ] {
        let r = ranged(&bad);
        assert_eq!(r.status, 416, "{bad}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes */{len}").as_str())
        );
    }
    // A range unit the server does not know: the Range header is ignored (RFC 9110).
    for other in ["lines=1-2", "items=0-9"] {
        let r = ranged(other);
        assert_eq!(r.status, 200, "{other}");
        assert_eq!(r.body, file, "{other}");
        assert_eq!(r.header("content-range"), None, "{other}");
    }
    let cached = server.request("GET", &path, Some(&token), &[("If-None-Match", &etag)], b"");
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(
        server
            .get("/api/v1/tracks/h:0000/file", Some(&token))
            .status,
        404
    );

    // The demo tracks carry embedded covers; one without gets 404.
    let covers: Vec<u16> = all
        .iter()
        .map(|c| {
            let art = server.get(&format!("/api/v1/art/{}?size=96", uid_of(c)), Some(&token));
            if art.status == 200 {
                assert_eq!(art.header("content-type"), Some("image/jpeg"));
                assert_eq!(&art.body[..2], [0xFF, 0xD8], "a JPEG");
            }
            art.status
        })
        .collect();
    assert!(covers.contains(&200), "{covers:?}");
    assert!(covers.iter().all(|s| [200, 404].contains(s)), "{covers:?}");
    assert_eq!(
        server
            .get(&format!("/api/v1/art/{uid}?size=5000"), Some(&token))
            .status,
        400
    );
}

#[test]
fn no_path_parameter_reaches_outside_the_music_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music_copy(dir.path()), &data);
    let secret = std::fs::read("/etc/passwd").unwrap_or_default();
    for attempt in [
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%252f..%252fetc%252fpasswd",
        "%2Fetc%2Fpasswd",
        "..",
        "%2e%2e",
        "..%5C..%5Cetc%5Cpasswd",
        "h:%00",
        "....%2F%2F....%2F%2Fetc%2Fpasswd",
    ] {
        for path in [
            format!("/api/v1/tracks/{attempt}/file"),
            format!("/api/v1/art/{attempt}?size=96"),
            format!("/api/v1/tracks/{attempt}/../../../etc/passwd"),
        ] {
            let r = server.get(&path, Some(&token));
            assert!(
                matches!(r.status, 400 | 404),
                "{path}: {} {}",
                r.status,
                r.text()
            );
            assert!(
                secret.is_empty() || r.body != secret,
                "{path} served /etc/passwd"
            );
        }
    }
}

#[test]
fn history_is_stored_once_and_each_user_sees_only_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ana = add_user(&data, "ana");
    let bo = add_user(&data, "bo");
    let server = Server::start(&music_copy(dir.path()), &data);
    let batch = serde_json::json!({ "events": [
        { "id": "laptop-1", "played_at": 1_700_000_000_000i64, "ms_played": 181_000, "track_uid": "h:01", "device": "laptop" },
        { "id": "laptop-2", "played_at": 1_700_000_200_000i64, "ms_played": 5_000, "track_uid": "h:02", "device": "laptop", "skipped": true },
    ]})
    .to_string();
    let post = |token: &str, body: &str| {
        server.request(
            "POST",
            "/api/v1/history",
            Some(token),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    };
    let first = post(&ana, &batch);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["stored"], 2);
    let again = post(&ana, &batch);
    assert_eq!(again.json()["stored"], 0);
    assert_eq!(again.json()["duplicates"], 2);
    let phone = serde_json::json!({ "events": [{ "id": "phone-1", "played_at": 1_700_000_400_000i64, "ms_played": 60_000, "device": "phone" }]}).to_string();
    assert_eq!(post(&ana, &phone).json()["stored"], 1);

    let mine = server.get("/api/v1/history?limit=2", Some(&ana)).json();
    assert_eq!(mine["events"].as_array().unwrap().len(), 2);
    assert_eq!(mine["more"], true);
    let rest = server
        .get(
            &format!("/api/v1/history?since={}", mine["cursor"].as_str().unwrap()),
            Some(&ana),
        )
        .json();
    let ids: Vec<&str> = mine["events"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["events"].as_array().unwrap())
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["laptop-1", "laptop-2", "phone-1"]);
    assert_eq!(
        mine["events"][1]["skipped"], true,
        "fields beyond the required ones are kept"
    );

    let theirs = server.get("/api/v1/history", Some(&bo)).json();
    assert_eq!(theirs["events"].as_array().unwrap().len(), 0);

    for bad in [
        "{",
        "{\"events\": [{\"id\": \"\", \"played_at\": 1, \"ms_played\": 1}]}",
        "{\"events\": [{\"id\": \"x\", \"played_at\": -5, \"ms_played\": 1}]}",
        "[]",
    ] {
        assert_eq!(post(&ana, bad).status, 400, "{bad}");
    }
    // Bodies over the limit are refused before they are read whole.
    let huge = format!("{{\"events\": [], \"pad\": \"{}\"}}", "x".repeat(2 << 20));
    assert_eq!(post(&ana, &huge).status, 413);
}

#[test]
fn status_and_metrics_say_how_the_server_is() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music_copy(dir.path()), &data);
    let status = server.get("/api/v1/status", Some(&token)).json();
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert!(status["catalog_tracks"].as_u64().unwrap() > 0);
    assert!(status["message"].is_null());

    cli(&data, &["status", "set", "Maintenance until 18:00"]);
    let status = server.get("/api/v1/status", Some(&token)).json();
    assert_eq!(status["message"], "Maintenance until 18:00");
    cli(&data, &["status", "clear"]);
    assert!(server.get("/api/v1/status", Some(&token)).json()["message"].is_null());

    server.get("/api/v1/nowhere", Some(&token));
    let metrics = server.get("/metrics", Some(&token));
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = metrics.text();
    let value = |prefix: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    // (The harness asks for the status too, while it waits for the first scan.)
    let ok = value("offbeat_requests_total{route=\"/api/v1/status\",status=\"200\"}");
    assert!(ok >= 3);
    assert_eq!(
        value("offbeat_request_seconds_count{route=\"/api/v1/status\"}"),
        ok
    );
    assert_eq!(
        value("offbeat_requests_total{route=\"other\",status=\"404\"}"),
        1
    );
    assert!(text.contains("offbeat_sync_connections 0"));
    assert!(text.contains("offbeat_shed_requests_total 0"));
}

#[test]
fn a_surge_past_the_concurrency_limit_is_shed_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let music = music_copy(dir.path());
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "[limits]\nmax_in_flight = 2\n").unwrap();
    let server = Server::start_with(&music, &data, Some(&config));
    let (all, _) = catalog_all(&server, &token, "", 1000);
    let path = format!("/api/v1/tracks/{}/file", uid_of(&all[0]));

    // Requests that stay in flight: their headers are sent only once the whole request
    // has arrived, so each holds a slot until its body is finished.
    let port = server.port;
    let mut held = Vec::new();
    for _ in 0..2 {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "POST /api/v1/history HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 100\r\n\r\n{{").unwrap();
        held.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    let shed = server.get(&path, Some(&token));
    assert_eq!(shed.status, 503, "{}", shed.text());
    let wait: u64 = shed.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&wait));
    assert_eq!(
        server.get("/healthz", None).status,
        200,
        "liveness is never shed"
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.get(&path, Some(&token)).status, 200);
    let metrics = server.get("/metrics", Some(&token)).text();
    assert!(
        metrics.contains("offbeat_shed_requests_total 1"),
        "{metrics}"
    );
}

/// Reads until the server ends the connection (EOF or a reset); the bytes it sent, or
/// `None` if the connection was still open after `wait`.
fn read_until_closed(socket: &mut std::net::TcpStream, wait: Duration) -> Option<Vec<u8>> {
    use std::io::Read;
    socket.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(got),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(e) => panic!("reading: {e}"),
        }
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off_while_others_are_served() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "[limits]\nheader_read_timeout_s = 1\n").unwrap();
    let server = Server::start_with(&music_copy(dir.path()), &data, Some(&config));

    // Half a request line, then nothing; and a connection that says nothing at all.
    let mut half = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half.write_all(b"GET /api/v1/sta").unwrap();
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();

    // Meanwhile, everyone else is served.
    assert_eq!(server.get("/healthz", None).status, 200);
    assert_eq!(server.get("/api/v1/status", Some(&token)).status, 200);

    // Without a header timeout these would stay open for good; the wait is generous.
    for (what, socket) in [("half a request line", &mut half), ("silence", &mut silent)] {
        let answer = read_until_closed(socket, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("a connection that sent {what} was never closed"));
        assert!(
            !String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 2"),
            "{what} was answered as a request"
        );
    }
    assert_eq!(server.get("/api/v1/status", Some(&token)).status, 200);

    // A request sent in full, slowly but within the limit, is answered as usual.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    slow.write_all(b"Host: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = read_until_closed(&mut slow, Duration::from_secs(20)).unwrap();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[test]
fn the_server_runs_from_a_config_file_alone_and_binds_loopback_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let music = music_copy(dir.path());
    let files = std::fs::read_dir(&music).unwrap().count();

    // `music`, `data` and `bind` from the file, and no other argument.
    let config = dir.path().join("server.toml");
    let toml_path = |p: &std::path::Path| p.to_str().unwrap().replace('\\', "\\\\");
    std::fs::write(
        &config,
        format!(
            "music = \"{}\"\ndata = \"{}\"\nbind = \"127.0.0.1:0\"\n\n[limits]\nmax_in_flight = 64\n",
            toml_path(&music),
            toml_path(&data)
        ),
    )
    .unwrap();
    let server = Server::launch(&["--config".into(), config.into()], &music, &data).unwrap();
    assert_ne!(server.port, 4533, "the file's bind (port 0) was not used");
    server.wait_scanned();
    let (all, _) = catalog_all(&server, &token, "", 1000);
    assert_eq!(all.len(), files, "the file's music folder is served");
    assert_eq!(server.get("/api/v1/status", Some(&token)).status, 200);
    drop(server);

    // No bind anywhere: 127.0.0.1:4533. (If something else holds that port, the server
    // must still have tried loopback, and say so.)
    let args = [
        "--music".into(),
        music.clone().into_os_string(),
        "--data".into(),
        data.clone().into_os_string(),
    ];
    match Server::launch(&args, &music, &data) {
        Ok(server) => assert_eq!(server.port, 4533),
        Err(log) => assert!(
            log.contains("listening on 127.0.0.1:4533"),
            "neither listening on loopback nor trying to: {log}"
        ),
    }
}
