//! The real `offbeat-server` process on loopback, for the tests: a music folder copied
//! from the demo library, a data folder, users made with its own CLI, and plain HTTP/1.1
//! over a socket (so requests go on the wire exactly as written, encoded dots and all).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // Test support.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary: Cargo names it for the server's own tests; other crates' tests
/// (which include this file) find it beside their own executable, where `cargo test
/// --workspace` builds it.
pub fn bin() -> PathBuf {
    if let Some(bin) = option_env!("CARGO_BIN_EXE_offbeat-server") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("offbeat-server"))
        .unwrap();
    assert!(
        bin.is_file(),
        "{} is not built: run `cargo build -p offbeat-server` (or `cargo test --workspace`)",
        bin.display()
    );
    bin
}

pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo")
}

/// A copy of the demo library's audio files (so a test may add and remove files).
pub fn music_copy(into: &Path) -> PathBuf {
    let music = into.join("music");
    std::fs::create_dir_all(&music).unwrap();
    for entry in walk(&demo_dir()) {
        let ext = entry.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ["flac", "mp3", "ogg", "opus", "m4a", "wav"].contains(&ext) {
            std::fs::copy(&entry, music.join(entry.file_name().unwrap())).unwrap();
        }
    }
    music
}

/// Writes `count` new tracks (tagged WAVs, names made from `prefix`) under `dir` with
/// `tests/support/make-music.py`; returns the files.
pub fn make_music(dir: &Path, count: usize, prefix: &str) -> Vec<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/support/make-music.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(dir)
        .arg(count.to_string())
        .args(["--seconds", "0.5", "--prefix", prefix])
        .status()
        .unwrap();
    assert!(status.success(), "make-music.py failed");
    walk(dir)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs the CLI against a data folder; returns its stdout.
pub fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "offbeat-server {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub music: PathBuf,
    pub data: PathBuf,
    pub stderr: PathBuf,
}

impl Server {
    /// Starts the server on a free loopback port and waits for its first scan.
    pub fn start(music: &Path, data: &Path) -> Server {
        Server::start_with(music, data, None)
    }

    pub fn start_with(music: &Path, data: &Path, config: Option<&Path>) -> Server {
        Server::start_at(music, data, config, "127.0.0.1:0")
    }

    /// On a chosen address (a restart on the port clients know).
    pub fn start_at(music: &Path, data: &Path, config: Option<&Path>, bind: &str) -> Server {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--music".into(),
            music.into(),
            "--data".into(),
            data.into(),
            "--bind".into(),
            bind.into(),
        ];
        if let Some(config) = config {
            args.extend(["--config".into(), config.into()]);
        }
        let server = Server::launch(&args, music, data).unwrap_or_else(|log| panic!("{log}"));
        server.wait_scanned();
        server
    }

    /// Runs the binary with exactly `args` (its log in `data`) until it says where it
    /// listens; its stdout's first line and its log if it never does.
    pub fn launch(
        args: &[std::ffi::OsString],
        music: &Path,
        data: &Path,
    ) -> Result<Server, String> {
        std::fs::create_dir_all(data).unwrap();
        let stderr = data.join(format!("server-{}.log", fastrand_suffix()));
        let mut child = Command::new(bin())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(port) = line
            .trim()
            .strip_prefix("offbeat-server listening on http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "not listening on loopback ({line:?}): {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            ));
        };
        Ok(Server {
            child: Some(child),
            port,
            music: music.to_path_buf(),
            data: data.to_path_buf(),
            stderr,
        })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until the server has no scan running (its status says so).
    pub fn wait_scanned(&self) {
        let token = self.any_token();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(token) = &token {
                let r = self.get("/api/v1/status", Some(token));
                if r.status == 200 && !r.json()["scanning"].as_bool().unwrap_or(true) {
                    return;
                }
                // A server started to shed everything never says; it is up, though.
                if r.status == 503 && self.get("/healthz", None).status == 200 {
                    return;
                }
            } else if self.get("/healthz", None).status == 200 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server never finished scanning"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A token the harness made for itself (so waiting needs no test's users).
    fn any_token(&self) -> Option<String> {
        std::fs::read_to_string(self.data.join("harness-token")).ok()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        http(self.port, method, path, token, headers, body)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request("GET", path, token, &[], b"")
    }

    /// SIGTERM, then waits for the process to end (it must, within 15 s).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.terminate();
        self.wait_stopped()
    }

    /// Sends SIGTERM and returns at once.
    pub fn terminate(&self) {
        let child = self.child.as_ref().expect("running");
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits for the process to end (it must, within 15 s); kills it if it does not.
    pub fn wait_stopped(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not stop within 15 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the server dies with no goodbye, as in a crash or a power cut.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Makes a user with the CLI; returns the token. The first one is also the harness's.
pub fn add_user(data: &Path, name: &str) -> String {
    std::fs::create_dir_all(data).unwrap();
    let token = cli(data, &["user", "add", name]).trim().to_owned();
    let harness = data.join("harness-token");
    if !harness.exists() {
        std::fs::write(harness, &token).unwrap();
    }
    token
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a new connection, the path sent exactly as given.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}
