//! `offbeat-server`: run the server, or manage its users and operator message.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use offbeat_server::db::Db;
use offbeat_server::{Config, Limits};

#[derive(Debug, Parser)]
#[command(
    name = "offbeat-server",
    version,
    about = "Offbeat's home server: your music folder, playlists and listening history, for your devices."
)]
struct Cli {
    /// A TOML file with `music`, `data`, `bind` and `[limits]` (flags override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The music folder to serve.
    #[arg(long, global = true)]
    music: Option<PathBuf>,
    /// Where the server keeps its data.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Address to listen on (loopback unless you say otherwise).
    #[arg(long, global = true)]
    bind: Option<SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Users and their tokens.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// The message every client's status shows (maintenance, news).
    Status {
        #[command(subcommand)]
        action: StatusAction,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Adds a user and prints their token (shown this once; only its hash is stored).
    Add { name: String },
    /// Lists users.
    List,
    /// Revokes every token of a user.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
enum StatusAction {
    /// Sets the operator message.
    Set { message: String },
    /// Clears it.
    Clear,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    music: Option<PathBuf>,
    data: Option<PathBuf>,
    bind: Option<SocketAddr>,
    #[serde(default)]
    limits: Option<Limits>,
}

fn file_config(path: Option<&PathBuf>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("the config file {}", path.display()))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let file = file_config(cli.config.as_ref())?;
    let data = cli
        .data
        .or(file.data)
        .context("say where the server keeps its data: --data DIR (or `data` in --config)")?;
    match cli.command {
        Some(Command::User { action }) => {
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating {}", data.display()))?;
            let db = Db::open(&data.join("server.db"))?;
            match action {
                UserAction::Add { name } => {
                    let name = name.trim();
                    anyhow::ensure!(
                        !name.is_empty() && name.len() <= 64,
                        "a user name is 1-64 characters"
                    );
                    let token = db.add_user(name)?;
                    println!("{token}");
                    eprintln!("User {name} added. The token above is shown only now: give it to their devices.");
                }
                UserAction::List => {
                    for u in db.users()? {
                        println!(
                            "{}\t{} token(s)\t{}",
                            u.name,
                            u.active_tokens,
                            if u.revoked { "revoked" } else { "active" }
                        );
                    }
                }
                UserAction::Revoke { name } => {
                    db.revoke_user(&name)?;
                    eprintln!("Every token of {name} is revoked.");
                }
            }
            Ok(())
        }
        Some(Command::Status { action }) => {
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating {}", data.display()))?;
            let db = Db::open(&data.join("server.db"))?;
            match action {
                StatusAction::Set { message } => {
                    db.set_setting("operator_message", Some(&message))?
                }
                StatusAction::Clear => db.set_setting("operator_message", None)?,
            }
            Ok(())
        }
        None => {
            let music = cli
                .music
                .or(file.music)
                .context("say which music folder to serve: --music DIR (or `music` in --config)")?;
            let config = Config {
                music,
                data,
                bind: cli
                    .bind
                    .or(file.bind)
                    .unwrap_or_else(offbeat_server::app::default_bind),
                limits: file.limits.unwrap_or_default(),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("offbeat-server")
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(offbeat_server::serve(config))
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_max_level(if std::env::var_os("OFFBEAT_DEBUG").is_some() {
            tracing::Level::DEBUG
        } else {
            tracing::Level::INFO
        })
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offbeat-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
