//! Starting a hub from its settings.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::content::DEFAULT_CONTENT_CACHE_BYTES;
use crate::error::HubError;
use crate::http::{app, HubState};
use crate::project::{ProjectDir, DEFAULT_FILE_LIMIT};
use crate::room::Room;
use crate::runtime::{spawn_command, spawn_pulse};
use crate::serve::{connections_that_fit, serve, ConnectionLimits};
use crate::share::{share_bases, this_host};
use crate::tokens::{load_or_mint, SecretsRequest};
use crate::watcher::{watch, FolderWatch};
use crate::web::WebApp;
use crate::ws::Heartbeat;
use crate::AbortOnDrop;

/// Everything a hub needs to start. Mirrors the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project folder (`--project`). Default: the current folder.
    pub project: PathBuf,
    /// Address to listen on (`--bind`). Default 127.0.0.1: a room is not
    /// exposed to the network unless the host asks.
    pub bind: IpAddr,
    /// Port (`--port`). Default 8787; 0 picks a free one.
    pub port: u16,
    /// Also mint a read-only token (`--token READONLY`). Default false.
    pub read_only_token: bool,
    /// Keep this room id (`--room-id`). Default: random, or the token
    /// file's.
    pub room_id: Option<String>,
    /// Reuse and store the id and tokens here (`--token-file`). Default none.
    pub token_file: Option<PathBuf>,
    /// The address others open, for the printed share links
    /// (`--public-url`). Default none: the links name the bound address,
    /// or every interface's when bound to all of them.
    pub public_url: Option<String>,
    /// Serve this built web app (`--web`). Default none.
    pub web_dir: Option<PathBuf>,
    /// Run this shell command in the folder and stream its output as events
    /// (`--run`). Default none.
    pub run: Option<String>,
    /// Emit a synthetic `pulse` event this often (`--pulse MS`). Default
    /// none.
    pub pulse: Option<Duration>,
    /// Watch the folder for changes made by others. Default true.
    pub watch: bool,
    /// WebSocket heartbeat settings. Default: ping every 10 s, drop after
    /// 25 s of silence.
    pub heartbeat: Heartbeat,
    /// Header deadline and connection caps. Default: 10 s, 1000 open (or
    /// fewer, as the file limit allows), 128 without a request.
    pub limits: ConnectionLimits,
    /// The most files the room holds (`--max-files`). Default
    /// [`DEFAULT_FILE_LIMIT`] (200,000); past it the rest are left out, and
    /// the page and the log say how many.
    pub max_files: usize,
    /// Bytes of file content the hub keeps in memory
    /// (`--content-cache-mib`). Default [`DEFAULT_CONTENT_CACHE_BYTES`]
    /// (64 MiB); contents past it are read from disk when asked for.
    pub content_cache_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            project: PathBuf::from("."),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8787,
            read_only_token: false,
            room_id: None,
            token_file: None,
            public_url: None,
            web_dir: None,
            run: None,
            pulse: None,
            watch: true,
            heartbeat: Heartbeat::default(),
            limits: ConnectionLimits::default(),
            max_files: DEFAULT_FILE_LIMIT,
            content_cache_bytes: DEFAULT_CONTENT_CACHE_BYTES,
        }
    }
}

/// The links a host shares, best first. They contain tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLinks {
    /// Links with the host token: the host's own (keep it to yourself).
    pub host: Vec<String>,
    /// Links with the edit token.
    pub edit: Vec<String>,
    /// Links with the read-only token; empty if none was minted.
    pub view: Vec<String>,
}

/// A hub that is listening. Dropping it stops the server, closes every
/// connection, and stops the watcher and event sources.
#[derive(Debug)]
pub struct RunningHub {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its room.
    pub room: Arc<Room>,
    public_url: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _watch: Option<FolderWatch>,
    _sources: Vec<AbortOnDrop>,
}

impl RunningHub {
    /// `http://host:port` as this machine reaches it, with a loopback name
    /// for a wildcard bind; for links others open, see
    /// [`RunningHub::share_links`].
    pub fn base_url(&self) -> String {
        let host = match self.addr.ip() {
            ip if ip.is_unspecified() => "localhost".to_owned(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        format!("http://{host}:{}", self.addr.port())
    }

    /// The share links for the edit token and, if minted, the read-only
    /// one: one of each per address others can open (see `share.rs`).
    /// These contain secrets: print them once, never log them.
    pub fn share_links(&self) -> ShareLinks {
        let (interfaces, host_name) = this_host();
        let bases = share_bases(
            self.addr,
            self.public_url.as_deref(),
            &interfaces,
            host_name.as_deref(),
        );
        let secrets = self.room.secrets();
        let links = |token: &room_protocol::Token| -> Vec<String> {
            bases
                .iter()
                .map(|base| room_protocol::urls::share_link(base, self.room.id(), token.expose()))
                .collect()
        };
        ShareLinks {
            host: links(&secrets.host_token),
            edit: links(&secrets.edit_token),
            view: secrets
                .read_only_token
                .as_ref()
                .map(links)
                .unwrap_or_default(),
        }
    }

    /// Serves until Ctrl-C (or SIGTERM), then shuts down.
    pub async fn serve_until_ctrl_c(mut self) -> Result<(), HubError> {
        let server = self.server.take();
        let terminate = async {
            #[cfg(unix)]
            {
                if let Ok(mut term) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    term.recv().await;
                    return;
                }
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
            result = async { match server { Some(s) => s.await, None => Ok(Ok(())) } } => {
                return match result {
                    Ok(r) => r.map_err(HubError::Io),
                    Err(e) => Err(HubError::Io(std::io::Error::other(e))),
                };
            }
        }
        tracing::info!("shutting down");
        Ok(())
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        self.room.close();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Opens the room, binds the listener and starts serving in the background.
pub async fn start(config: Config) -> Result<RunningHub, HubError> {
    let project = ProjectDir::open(&config.project)?.with_file_limit(config.max_files);
    let secrets = load_or_mint(&SecretsRequest {
        room_id: config.room_id.clone(),
        want_read_only: config.read_only_token,
        token_file: config.token_file.clone(),
    })?;
    let room = Arc::new(
        Room::open(secrets, project, config.content_cache_bytes)?
            .with_token_file(config.token_file.clone()),
    );
    let watch = if config.watch {
        Some(watch(Arc::clone(&room))?)
    } else {
        None
    };
    let mut sources = Vec::new();
    if let Some(command) = config.run.clone() {
        sources.push(spawn_command(Arc::clone(&room), command));
    }
    if let Some(every) = config.pulse {
        sources.push(spawn_pulse(Arc::clone(&room), every));
    }
    let mut state = HubState::new([Arc::clone(&room)]);
    state.heartbeat = config.heartbeat;
    state.public_url = config.public_url.clone();
    if let Some(dir) = &config.web_dir {
        // Compressed once, now, not per request.
        let web = WebApp::prepare(dir).map_err(|source| HubError::WebApp {
            path: dir.clone(),
            source,
        })?;
        let files = web.compressible().to_vec();
        tokio::task::spawn_blocking(move || WebApp::compress_brotli(&files));
        state.web = Some(Arc::new(web));
    }
    let listener = TcpListener::bind(SocketAddr::new(config.bind, config.port)).await?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let sockets = state.sockets.clone();
    let router = app(Arc::new(state));
    let mut limits = config.limits;
    let fit = connections_that_fit(limits.max_open);
    if fit < limits.max_open {
        tracing::warn!(
            wanted = limits.max_open,
            allowed = fit,
            "the open-file limit allows fewer connections"
        );
        limits.max_open = fit;
    }
    let server = tokio::spawn(async move {
        serve(listener, router, limits, sockets, stopped).await;
        Ok::<_, std::io::Error>(())
    });
    Ok(RunningHub {
        addr,
        room,
        public_url: config.public_url.clone(),
        shutdown: Some(shutdown),
        server: Some(server),
        _watch: watch,
        _sources: sources,
    })
}
