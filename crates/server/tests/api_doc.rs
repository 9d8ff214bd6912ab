//! docs/api.md stays true: every "Example:" line in it is sent to a real server and must
//! get the status it names, and every route the server defines is described there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::path::Path;

use common::{add_user, music_copy, Server};

fn repo_file(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap()
}

/// The backticked pieces of a line, in order.
fn ticks(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

#[derive(Debug)]
struct Example {
    method: String,
    path: String,
    token: bool,
    headers: Vec<(String, String)>,
    body: String,
    status: u16,
}

fn examples(doc: &str) -> Vec<Example> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("Example: "))
        .map(|line| {
            let (request, status) = line.split_once('→').expect("an example names its status");
            let parts = ticks(request);
            let (method, path) = parts[0].split_once(' ').unwrap();
            let mut example = Example {
                method: method.to_owned(),
                path: path.to_owned(),
                token: !request.contains("(no token)"),
                headers: Vec::new(),
                body: String::new(),
                status: ticks(status)[0].parse().unwrap(),
            };
            for extra in &parts[1..] {
                if extra.starts_with('{') {
                    example.body = (*extra).to_owned();
                } else if let Some((k, v)) = extra.split_once(':') {
                    example
                        .headers
                        .push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
            example
        })
        .collect()
}

/// (method, path) of every route in the router's source.
fn routes(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for call in source.split(".route(").skip(1) {
        let path = call.split('"').nth(1).unwrap().to_owned();
        // The call's own text: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(call.len(), |(i, _)| i);
        let call = &call[..end];
        for method in ["get", "post", "put", "delete", "patch"] {
            let at_start =
                call.contains(&format!(" {method}(")) || call.contains(&format!("\n{method}("));
            if at_start || call.contains(&format!(".{method}(")) {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_is_documented() {
    let doc = repo_file("../../docs/api.md");
    let documented: Vec<(String, String)> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|heading| {
            let (method, path) = ticks(heading)[0].split_once(' ').unwrap();
            (
                method.to_owned(),
                path.split('?').next().unwrap().to_owned(),
            )
        })
        .collect();
    let routes = routes(&repo_file("src/app.rs"));
    assert!(routes.len() >= 10, "{routes:?}");
    for route in &routes {
        assert!(
            documented.contains(route),
            "{route:?} is not in docs/api.md"
        );
    }
    for heading in &documented {
        assert!(
            routes.contains(heading),
            "docs/api.md describes {heading:?}, which the server does not have"
        );
    }
}

#[test]
fn every_example_in_the_api_document_gets_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = add_user(&data, "ana");
    let server = Server::start(&music_copy(dir.path()), &data);
    let track_uid = server.get("/api/v1/catalog?limit=1", Some(&token)).json()["changes"][0]
        ["track"]["track_uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let examples = examples(&repo_file("../../docs/api.md"));
    assert!(examples.len() >= 15, "{examples:?}");
    for e in &examples {
        let fill = |s: &str| {
            s.replace("{track_uid}", &track_uid)
                .replace("{document_id}", "4Q3fKJZbvmsZT2rXQxJdYvw4Xt1h")
        };
        let headers: Vec<(String, String)> = e
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), fill(v)))
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = server.request(
            &e.method,
            &fill(&e.path),
            e.token.then_some(token.as_str()),
            &headers,
            fill(&e.body).as_bytes(),
        );
        assert_eq!(r.status, e.status, "{e:?}: {}", r.text());
    }
}
