//! `room-hub`: serve a project folder as a live room.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use room_hub::{start, Config};

/// Serve a project folder as a live collaborative room.
#[derive(Debug, Parser)]
#[command(name = "room-hub", version)]
struct Cli {
    /// The project folder to serve.
    #[arg(long, required_unless_present = "write_shell")]
    project: Option<PathBuf>,
    /// Write the offline shell into a built web app and exit (a trunk
    /// post_build hook): the worker `sw.js`, listing every file of the
    /// build, and its name and build id in the page's head. DIR defaults
    /// to $TRUNK_STAGING_DIR; files are under $TRUNK_PUBLIC_URL (or /).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    write_shell: Option<Option<PathBuf>>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// `READONLY` also mints a read-only token.
    #[arg(long, value_name = "READONLY")]
    token: Option<String>,
    /// Keep this room id across restarts.
    #[arg(long)]
    room_id: Option<String>,
    /// Reuse and store the room id and tokens in this file (mode 0600).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The address others open (e.g. https://rooms.example.org), for the
    /// printed share links. Default: the bound address, or with a wildcard
    /// --bind every interface's address and the host name.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Serve this built web app (a trunk build) at / and /rooms/{id}/.
    /// Served as the folder is now: a file a rebuild changes or adds is
    /// served (gzipped) from the next request on, with no restart.
    #[arg(long, value_name = "DIR")]
    web: Option<PathBuf>,
    /// Run this shell command in the folder and stream its output as events.
    #[arg(long, value_name = "CMD")]
    run: Option<String>,
    /// Emit a synthetic pulse event every MS milliseconds.
    #[arg(long, value_name = "MS")]
    pulse: Option<u64>,
    /// The most files the room holds; past it the rest are left out, and
    /// the page and the log say how many.
    #[arg(long, value_name = "N", default_value_t = room_hub::DEFAULT_FILE_LIMIT)]
    max_files: usize,
    /// MiB of file content the hub keeps in memory; the rest is read from
    /// disk when someone opens it.
    #[arg(long, value_name = "MIB", default_value_t = room_hub::DEFAULT_CONTENT_CACHE_BYTES >> 20)]
    content_cache_mib: usize,
}

/// `--write-shell [DIR]`: the offline shell into a trunk build.
fn write_shell(dir: Option<PathBuf>) -> ExitCode {
    let dir = match dir {
        Some(dir) => dir,
        None => match std::env::var_os("TRUNK_STAGING_DIR") {
            Some(staging) => PathBuf::from(staging),
            None => {
                eprintln!("room-hub: --write-shell needs a DIR (or run it as a trunk hook, which sets TRUNK_STAGING_DIR)");
                return ExitCode::from(2);
            }
        },
    };
    let public_url = std::env::var("TRUNK_PUBLIC_URL").unwrap_or_else(|_| "/".to_owned());
    match room_hub::write_shell(&dir, &public_url) {
        Ok(shell) => {
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "shell: build {}, {} files precached",
                    shell.build, shell.files
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("room-hub: cannot write the offline shell: {e}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    room_hub::init_logging();
    let cli = Cli::parse();
    if let Some(dir) = cli.write_shell {
        return write_shell(dir);
    }
    let Some(project) = cli.project else {
        unreachable!("clap requires --project without --write-shell");
    };
    let read_only_token = match cli.token.as_deref() {
        None => false,
        Some(t) if t.eq_ignore_ascii_case("readonly") => true,
        Some(_) => {
            eprintln!("room-hub: --token takes READONLY (to mint a read-only token)");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        project,
        bind: cli.bind,
        port: cli.port,
        read_only_token,
        room_id: cli.room_id,
        token_file: cli.token_file,
        public_url: cli.public_url,
        web_dir: cli.web,
        run: cli.run,
        pulse: cli.pulse.map(Duration::from_millis),
        max_files: cli.max_files,
        content_cache_bytes: cli.content_cache_mib << 20,
        ..Config::default()
    };
    let hub = match start(config).await {
        Ok(hub) => hub,
        Err(e) => {
            eprintln!("room-hub: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The one place tokens are shown: printed once, to stdout, for the host.
    let links = hub.share_links();
    #[allow(clippy::print_stdout)]
    {
        if hub.addr.ip().is_unspecified() {
            println!(
                "room-hub listening on port {} of every interface",
                hub.addr.port()
            );
        } else {
            println!("room-hub listening on {}", hub.base_url());
        }
        println!("room id: {}", hub.room.id());
        for link in &links.edit {
            println!("share link (can edit): {link}");
        }
        for link in &links.view {
            println!("share link (view only): {link}");
        }
        for link in &links.host {
            println!(
                "host link (keep it to yourself: it replaces and turns off the links): {link}"
            );
        }
    }
    match hub.serve_until_ctrl_c().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("room-hub: {e}");
            ExitCode::FAILURE
        }
    }
}
