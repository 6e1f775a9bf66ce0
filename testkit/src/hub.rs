//! room-hub as a real child process that can be stopped, started and
//! killed, always on the same port, project folder, room id and tokens.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The room id every harness hub serves.
pub const ROOM_ID: &str = "testroom";

/// A hub process under control.
#[derive(Debug)]
pub struct HubProcess {
    binary: PathBuf,
    project: PathBuf,
    token_file: PathBuf,
    /// The hub's port (fixed across restarts).
    pub port: u16,
    pulse_ms: Option<u64>,
    web: Option<PathBuf>,
    /// More arguments for room-hub (benchmarks).
    pub extra_args: Vec<String>,
    child: Option<Child>,
    /// Every exit of the hub that nobody asked for, in order.
    pub crashes: Vec<String>,
}

impl HubProcess {
    /// Prepares a hub over `project` on a free port; call [`Self::start`].
    pub fn new(
        binary: PathBuf,
        project: PathBuf,
        token_file: PathBuf,
        pulse_ms: Option<u64>,
        web: Option<PathBuf>,
    ) -> std::io::Result<Self> {
        // Find a free port, release it, and keep using it for every start.
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port();
        Ok(Self {
            binary,
            project,
            token_file,
            port,
            pulse_ms,
            web,
            extra_args: Vec::new(),
            child: None,
            crashes: Vec::new(),
        })
    }

    /// Serves `web` from the next start on (a new build of the page).
    pub fn set_web(&mut self, web: PathBuf) {
        self.web = Some(web);
    }

    /// The project folder on disk.
    pub fn project(&self) -> &Path {
        &self.project
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Whether the process is running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// How the hub ended, if it exited without being stopped (a crash, a
    /// panic, an exit of its own): it is recorded in [`Self::crashes`] and
    /// the process forgotten, so each exit is told once and the next
    /// [`Self::start`] starts a new one. `None` while it runs, and after
    /// [`Self::stop`].
    pub fn exited_on_its_own(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        // Before `try_wait`: once the child is reaped it has no id.
        let pid = child.id();
        let status = match child.try_wait() {
            Ok(None) => return None,
            Ok(Some(status)) => status.to_string(),
            Err(e) => format!("unknown status ({e})"),
        };
        let pid = pid.map_or_else(String::new, |pid| format!(" (pid {pid})"));
        self.child = None;
        let crash = format!("room-hub{pid} exited without being stopped: {status}");
        self.crashes.push(crash.clone());
        Some(crash)
    }

    /// Starts the hub (a new generation) and waits until it accepts
    /// connections.
    pub async fn start(&mut self) -> std::io::Result<()> {
        if self.running() {
            return Ok(());
        }
        self.exited_on_its_own();
        let mut command = Command::new(&self.binary);
        command
            .arg("--project")
            .arg(&self.project)
            .args([
                "--port",
                &self.port.to_string(),
                "--room-id",
                ROOM_ID,
                "--token",
                "READONLY",
            ])
            .arg("--token-file")
            .arg(&self.token_file)
            .stdin(Stdio::null())
            // The share links go to stdout; the harness does not need them.
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(ms) = self.pulse_ms {
            command.args(["--pulse", &ms.to_string()]);
        }
        if let Some(web) = &self.web {
            command.arg("--web").arg(web);
        }
        command.args(&self.extra_args);
        self.child = Some(command.spawn()?);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if self.exited_on_its_own().is_some() {
                return Err(std::io::Error::other("room-hub exited during start"));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(std::io::Error::other(
            "room-hub did not start listening within 20 s",
        ))
    }

    /// Kills the hub (SIGKILL, as a crash) and waits for it to exit. An
    /// exit of its own before that still counts in [`Self::crashes`].
    pub async fn stop(&mut self) -> std::io::Result<()> {
        self.exited_on_its_own();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        Ok(())
    }

    /// The tokens the hub uses, from its token file.
    pub fn tokens(&self) -> std::io::Result<serde_json::Value> {
        let text = std::fs::read_to_string(&self.token_file)?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    }
}

/// Copies a folder tree (regular files and folders only).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harness() -> HubProcess {
        let scratch = std::env::temp_dir();
        HubProcess::new(
            PathBuf::from("room-hub"),
            scratch.clone(),
            scratch.join("tokens.json"),
            None,
            None,
        )
        .unwrap()
    }

    fn spawn(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    }

    async fn until_exited(hub: &mut HubProcess) -> Option<String> {
        for _ in 0..200 {
            if let Some(crash) = hub.exited_on_its_own() {
                return Some(crash);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    #[tokio::test]
    async fn an_exit_nobody_asked_for_is_told_once_with_its_status() {
        let mut hub = harness();
        hub.child = Some(spawn("exit 3"));
        let crash = until_exited(&mut hub).await.expect("the exit is seen");
        assert!(crash.contains("exit status: 3"), "{crash}");
        assert_eq!(hub.exited_on_its_own(), None, "told once");
        assert_eq!(hub.crashes, [crash]);
        assert!(!hub.running());
    }

    #[tokio::test]
    async fn a_kill_from_outside_is_a_crash_and_a_stop_is_not() {
        let mut hub = harness();
        hub.child = Some(spawn("sleep 30"));
        assert_eq!(hub.exited_on_its_own(), None, "running");
        hub.stop().await.unwrap();
        assert_eq!(hub.exited_on_its_own(), None, "stopped on request");
        assert!(hub.crashes.is_empty());

        hub.child = Some(spawn("sleep 30"));
        let pid = hub.pid().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let crash = until_exited(&mut hub).await.expect("the kill is seen");
        assert!(crash.contains("signal: 9"), "{crash}");
        assert!(crash.contains(&format!("(pid {pid})")), "{crash}");
    }

    #[tokio::test]
    async fn a_hub_that_died_before_a_stop_or_a_start_is_still_counted() {
        let mut hub = harness();
        hub.child = Some(spawn("exit 101"));
        while hub.running() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        hub.stop().await.unwrap();
        assert_eq!(hub.crashes.len(), 1, "{:?}", hub.crashes);
        assert!(hub.crashes[0].contains("exit status: 101"));
    }
}
