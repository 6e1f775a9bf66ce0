//! One room: its files, its log, its peers, and each peer's outlet, the
//! queue through which live entries reach its connection.
//!
//! All changes happen under one async mutex, and each change is appended to
//! the log and handed to every outlet before the mutex is released. A
//! joining connection gets its catch-up and takes a seat under the
//! same mutex, so it receives every entry exactly once: older ones in the
//! catch-up, newer ones live. Handing over never waits: a peer whose queue
//! is full is closed by its own connection.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use room_protocol::urls::LinkKind;
use room_protocol::{
    encode, guest_name, is_valid_id, ErrorCode, ErrorFrame, FileChanged, FileContent, FileEdit,
    FileRequest, FileVersion, Hello, LeftOut, LogEntry, PeerInfo, PeerProfile, Peers,
    ProjectVersion, RelPath, RuntimeEvent, ServerFrame, SyncMode, Synced, Token, Tree, TreeEntry,
    Welcome, MAX_CONTENT_BYTES, MAX_REQUEST_BYTES, MAX_REQUEST_PATHS, SNAPSHOT_EVENT_LIMIT,
};
use serde_json::Value;
use tokio::sync::{watch, Mutex};

use bytes::Bytes;

use crate::content::{ContentCache, ContentHash};
use crate::error::{HubError, WriteError};
use crate::ignore_rules::is_at_or_under;
use crate::log::{EntryLog, Logged};
use crate::outbox::{Outlet, Refused};
use crate::project::ProjectDir;
use crate::tokens::{mint_token, random_base64url, Access, RoomSecrets};

/// A connection that joined: the peer id it holds, and which connection it
/// is (see [`Room::leave`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The peer id.
    pub peer_id: String,
    /// This connection's number in the room.
    pub connection: u64,
}

/// A frame's wire text, shared by the log and every peer's queue.
pub type Outgoing = Arc<str>;

/// A file as the room knows it: not its content, which is read from disk
/// (or the content cache) when asked for.
#[derive(Debug, Clone, Copy)]
struct FileState {
    rev: u64,
    size: u64,
    hash: ContentHash,
}

/// Most deleted paths the room remembers for tree deltas. Past it they are
/// forgotten all at once, and a client whose files are older than that
/// gets the whole tree.
const MAX_TOMBSTONES: usize = 100_000;

#[derive(Debug, Default)]
struct RoomState {
    log: EntryLog,
    files: BTreeMap<RelPath, FileState>,
    /// The rev of the newest file change, 0 if none.
    project_rev: u64,
    /// Connected peers by their number (peer ids are `p{number}`).
    peers: BTreeMap<u64, PeerInfo>,
    /// Each connected peer's connection, by the same number.
    seats: BTreeMap<u64, Seat>,
    /// Room files on disk that the file limit keeps out of `files`:
    /// counted by every full walk, and grown by files created past the
    /// limit since.
    left_out: usize,
    /// Paths deleted, with the rev of the deletion, for tree deltas.
    deleted: BTreeMap<RelPath, u64>,
    /// The oldest project rev a tree delta can start from: deletions
    /// before it were forgotten.
    delta_floor: u64,
    /// Contents read or written lately, bounded in bytes.
    contents: ContentCache,
    /// The whole tree as sent, compressed, and the project rev it is of:
    /// made once for every peer joining at that rev.
    whole_tree: Option<(u64, Bytes)>,
}

/// The connection that holds a peer id now.
#[derive(Debug)]
struct Seat {
    /// Its queue.
    outlet: Outlet,
    /// What its token lets it do (a replaced link closes its seats).
    access: Access,
    /// Its tab's client id, if it sent a valid one.
    client_id: Option<String>,
    /// Which connection this is, so that a replaced one leaving does not
    /// take its successor's place with it.
    connection: u64,
}

impl RoomState {
    /// Hands `text` to every connected peer's queue. A peer whose queue
    /// overflows is told through its outlet and closes itself; the others
    /// never wait for it.
    fn fan_out(&self, text: &Outgoing) {
        for seat in self.seats.values() {
            let _ = seat.outlet.push_shared(text);
        }
    }
}

/// Counters the hub exposes at `/healthz`, for tests and operators.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    /// WebSocket upgrades to this room, whatever their token.
    pub attempts: AtomicU64,
    /// Of those, closed with 4401.
    pub unauthorized: AtomicU64,
    /// Connections that said hello and were welcomed.
    pub welcomed: AtomicU64,
    /// Admitted connections whose token came in the URL query rather than
    /// the subprotocol (browsers should never do this after bootstrap).
    pub query_token: AtomicU64,
}

/// A live room.
#[derive(Debug)]
pub struct Room {
    room_id: String,
    /// The tokens; the host may replace the edit and view ones.
    secrets: std::sync::RwLock<RoomSecrets>,
    /// Where the tokens are kept across restarts (`--token-file`), if
    /// anywhere: a replaced link is stored there before anyone is told.
    token_file: Option<std::path::PathBuf>,
    generation: String,
    project: ProjectDir,
    state: Mutex<RoomState>,
    next_peer: AtomicU64,
    next_connection: AtomicU64,
    /// Flips to true when the hub shuts down, so connections close.
    closing: watch::Sender<bool>,
    /// Connection counters.
    pub stats: ConnectionStats,
}

impl Room {
    /// Opens a room over `project`, loading its files. Every call is a new
    /// generation with a new random `project.id`.
    /// It keeps at most `content_cache_bytes` of file content in memory.
    pub fn open(
        secrets: RoomSecrets,
        project: ProjectDir,
        content_cache_bytes: usize,
    ) -> Result<Self, HubError> {
        let mut files = BTreeMap::new();
        let mut contents = ContentCache::new(content_cache_bytes);
        let walked = project.load_all(&mut |path, content| {
            let hash = ContentHash::of(&content);
            let size = content.len() as u64;
            files.insert(path, FileState { rev: 0, size, hash });
            contents.put(hash, content.into());
        })?;
        warn_left_out(walked.left_out, &project);
        let left_out = walked.left_out;
        Ok(Self {
            room_id: secrets.room_id.clone(),
            secrets: std::sync::RwLock::new(secrets),
            token_file: None,
            generation: random_base64url(9)?,
            project,
            state: Mutex::new(RoomState {
                files,
                left_out,
                contents,
                ..RoomState::default()
            }),
            next_peer: AtomicU64::new(1),
            next_connection: AtomicU64::new(1),
            closing: watch::Sender::new(false),
            stats: ConnectionStats::default(),
        })
    }

    /// Asks every connection to close (the hub is going away).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves when [`Room::close`] has been called.
    pub async fn closed(&self) {
        let mut rx = self.closing.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
    }

    /// Keeps the tokens in `path` when the host replaces a link.
    pub fn with_token_file(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.token_file = path;
        self
    }

    /// The room id.
    pub fn id(&self) -> &str {
        &self.room_id
    }

    /// The room's tokens as they are now.
    pub fn secrets(&self) -> RoomSecrets {
        self.secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the `kind` link with a new token (`on == false`: turns the
    /// view link off, with no token): stored in the token file first, then
    /// in force; every
    /// connection admitted with the old one is closed with
    /// `CLOSE_LINK_REPLACED` at once. Returns the new token.
    pub async fn replace_link(&self, kind: LinkKind, on: bool) -> Result<Option<Token>, HubError> {
        let token = if on { Some(mint_token()?) } else { None };
        {
            let mut secrets = self
                .secrets
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = secrets.with_link(kind, token.clone())?;
            if let Some(path) = &self.token_file {
                crate::tokens::store(path, &next)?;
            }
            *secrets = next;
        }
        let state = self.state.lock().await;
        let secrets = self.secrets();
        let mut closed = 0;
        for seat in state.seats.values() {
            if seat.access == Access::granted_by(kind) {
                seat.outlet.link_replaced();
                closed += 1;
            } else if seat.access != Access::ReadOnly {
                // Those who share links get the ones that work now.
                let links = ServerFrame::Links(secrets.links_for(seat.access));
                let _ = seat.outlet.push_text(&encode(&links));
            }
        }
        tracing::info!(
            room = self.id(),
            link = kind.name(),
            turned_off = !on,
            connections_closed = closed,
            "the host replaced a link"
        );
        Ok(token)
    }

    /// This run's generation id (`project.id`).
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// The project folder.
    pub fn project(&self) -> &ProjectDir {
        &self.project
    }

    /// The current project version and log head.
    pub async fn version(&self) -> (ProjectVersion, u64) {
        let state = self.state.lock().await;
        (self.project_version(&state), state.log.head())
    }

    /// The left-out notice, when files are left out.
    fn left_out(&self, state: &RoomState) -> Option<LeftOut> {
        (state.left_out > 0).then(|| LeftOut {
            files: state.left_out as u64,
            limit: self.project.file_limit() as u64,
        })
    }

    fn project_version(&self, state: &RoomState) -> ProjectVersion {
        ProjectVersion {
            id: self.generation.clone(),
            rev: state.project_rev,
        }
    }

    /// Admits a connection that said `hello`: decides replay or snapshot,
    /// registers the peer, queues `welcome`, the catch-up entries and
    /// `synced` on `outlet`, and from then on every live frame. Under the
    /// room's lock, so nothing falls between the catch-up and the live
    /// frames.
    ///
    /// A `hello` with the client id of a connection the room still holds
    /// (its link died without a close) takes that connection's place at
    /// once, under the same peer id, and the old one is told to close: the
    /// person never shows twice.
    pub async fn join(
        &self,
        hello: &Hello,
        access: Access,
        token: &Token,
        outlet: &Outlet,
    ) -> Joined {
        let client_id = hello.client_id.clone().filter(|id| is_valid_id(id));
        let mut state = self.state.lock().await;
        // Read under the state's lock: a link the host replaced since this
        // connection was admitted is caught here, or by `replace_link`'s
        // walk over the seats, which takes the lock after the change.
        let replaced = self.secrets().access_for(token.expose()) != Some(access);
        let held = client_id.as_ref().and_then(|id| {
            state
                .seats
                .iter()
                .find(|(_, seat)| seat.client_id.as_ref() == Some(id))
                .map(|(number, _)| *number)
        });
        let number = match held {
            Some(number) => {
                if let Some(old) = state.seats.remove(&number) {
                    old.outlet.replace();
                }
                number
            }
            None => self.next_peer.fetch_add(1, Ordering::Relaxed),
        };
        let peer_id = format!("p{number}");
        let person = hello.person.clone().filter(|p| is_valid_id(p));
        let seed = guest_seed(person.as_deref(), &peer_id);
        let profile = hello.peer.sanitized(&guest_name(seed), seed);
        state.peers.insert(
            number,
            PeerInfo {
                peer_id: peer_id.clone(),
                name: profile.name,
                color: profile.color,
                read_only: access == Access::ReadOnly,
                person,
                open: valid_open(hello.open.as_deref()),
            },
        );
        // Tell the others first; the newcomer has the list in its welcome.
        self.broadcast_peers(&state);
        let replay = self.replayable(&state, hello);
        let mode = if replay.is_some() {
            SyncMode::Replay
        } else {
            SyncMode::Snapshot
        };
        // A snapshot is the tree, never the contents: a join costs the
        // hub the same whatever the project holds.
        let tree = replay.is_none().then(|| self.tree_for(&mut state, hello));
        let head = state.log.head();
        let entries = replay.unwrap_or_else(|| state.log.newest_events(SNAPSHOT_EVENT_LIMIT));
        let links = self.secrets().links_for(access);
        let welcome = ServerFrame::Welcome(Welcome {
            room_id: self.id().to_owned(),
            project: self.project_version(&state),
            head,
            read_only: access == Access::ReadOnly,
            peer_id: peer_id.clone(),
            peers: state.peers.values().cloned().collect(),
            mode,
            left_out: self.left_out(&state),
            read_only_token: links.read_only_token,
            host: access == Access::Host,
            edit_token: links.edit_token,
        });
        outlet.push_uncounted(&encode(&welcome).into());
        if let Some(bytes) = tree {
            outlet.push_uncounted_binary(bytes);
        }
        for entry in &entries {
            outlet.push_uncounted(&entry.text);
        }
        outlet.push_uncounted(&encode(&ServerFrame::Synced(Synced { head })).into());
        let connection = self.next_connection.fetch_add(1, Ordering::Relaxed);
        state.seats.insert(
            number,
            Seat {
                outlet: outlet.clone(),
                access,
                client_id,
                connection,
            },
        );
        if replaced {
            outlet.link_replaced();
        }
        self.stats.welcomed.fetch_add(1, Ordering::Relaxed);
        Joined {
            peer_id,
            connection,
        }
    }

    /// The tree a snapshot `welcome` is followed by: what changed since the
    /// client's files when the room still knows every deletion since, else
    /// the whole tree (compressed once per project rev for everyone).
    fn tree_for(&self, state: &mut RoomState, hello: &Hello) -> Bytes {
        let since = hello
            .project_rev
            .filter(|_| hello.project_id.as_deref() == Some(self.generation.as_str()))
            .filter(|&rev| state.delta_floor <= rev && rev <= state.project_rev);
        if let Some(since) = since {
            let tree = Tree {
                since: Some(since),
                files: state
                    .files
                    .iter()
                    .filter(|(_, f)| f.rev > since)
                    .map(tree_entry)
                    .collect(),
                deleted: state
                    .deleted
                    .iter()
                    .filter(|(_, &rev)| rev > since)
                    .map(|(path, _)| path.to_string())
                    .collect(),
            };
            return compressed(&tree);
        }
        match &state.whole_tree {
            Some((rev, bytes)) if *rev == state.project_rev => bytes.clone(),
            _ => {
                let tree = Tree {
                    since: None,
                    files: state.files.iter().map(tree_entry).collect(),
                    deleted: Vec::new(),
                };
                let bytes = compressed(&tree);
                state.whole_tree = Some((state.project_rev, bytes.clone()));
                bytes
            }
        }
    }

    /// Answers a `file-request` on `outlet`: a `file-content` for each
    /// path, in order, with content for as many as fit in
    /// [`MAX_REQUEST_BYTES`]. Under the room's lock, so each answer sits in
    /// the right place among the live entries. `Err` when the peer's queue
    /// overflows.
    pub async fn send_contents(
        &self,
        request: FileRequest,
        outlet: &Outlet,
    ) -> Result<(), SendError> {
        if request.paths.len() > MAX_REQUEST_PATHS {
            return Err(SendError::Refused(ErrorFrame::new(
                ErrorCode::BadFrame,
                format!("a file-request names at most {MAX_REQUEST_PATHS} paths"),
            )));
        }
        let mut state = self.state.lock().await;
        // Which paths get their content: room files, in order, while the
        // bytes fit (the first always does).
        let mut budget = MAX_REQUEST_BYTES as u64;
        let mut served = Vec::new();
        let mut answers: Vec<FileContent> = Vec::with_capacity(request.paths.len());
        for raw in request.paths {
            let file = RelPath::parse(&raw)
                .ok()
                .and_then(|path| Some((*state.files.get(&path)?, path)));
            let rev = file.as_ref().map_or(0, |(f, _)| f.rev);
            if let Some((f, path)) = file {
                if served.is_empty() || f.size <= budget {
                    budget = budget.saturating_sub(f.size);
                    served.push((answers.len(), path));
                }
            }
            answers.push(FileContent {
                path: raw,
                rev,
                content: None,
            });
        }
        let paths: Vec<RelPath> = served.iter().map(|(_, path)| path.clone()).collect();
        let contents = self.contents_now(&mut state, &paths).await;
        for ((index, _), now) in served.iter().zip(contents) {
            let answer = &mut answers[*index];
            match now {
                Some((rev, content)) => {
                    answer.rev = rev;
                    answer.content = Some(content.to_string());
                }
                // Gone from disk just now (its deletion was announced),
                // or unreadable (logged): nothing to give.
                None => answer.rev = 0,
            }
        }
        for answer in answers {
            outlet
                .push_text(&encode(&ServerFrame::FileContent(answer)))
                .map_err(SendError::Overflowed)?;
        }
        Ok(())
    }

    /// The current revision and content of each of `paths` (`None` for a
    /// path that is not, or no longer, a room file): from the content
    /// cache, else read from disk and checked against the file's hash. A
    /// file the disk changed behind the room's back (the watcher has not
    /// caught up yet) is brought up to date here, announced as any
    /// external change is, and its new content returned.
    async fn contents_now(
        &self,
        state: &mut RoomState,
        paths: &[RelPath],
    ) -> Vec<Option<(u64, Arc<str>)>> {
        let mut now = Vec::with_capacity(paths.len());
        let mut misses = Vec::new();
        for (index, path) in paths.iter().enumerate() {
            let Some(file) = state.files.get(path) else {
                now.push(None);
                continue;
            };
            let cached = state.contents.get(&file.hash);
            if cached.is_none() {
                misses.push(index);
            }
            now.push(cached.map(|content| (file.rev, content)));
        }
        if misses.is_empty() {
            return now;
        }
        let to_read: Vec<RelPath> = misses.iter().map(|&i| paths[i].clone()).collect();
        let project = self.project.clone();
        let read = tokio::task::spawn_blocking(move || {
            to_read
                .iter()
                .map(|path| project.read(path))
                .collect::<Vec<_>>()
        })
        .await;
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                tracing::error!(error = %e, "read task failed");
                return now;
            }
        };
        for (&index, on_disk) in misses.iter().zip(read) {
            let path = &paths[index];
            let on_disk = match on_disk {
                Ok(on_disk) => on_disk,
                Err(e) => {
                    tracing::warn!(path = %path, error = %e, "could not read a file");
                    continue;
                }
            };
            let Some(file) = state.files.get(path).copied() else {
                continue;
            };
            let on_disk: Option<Arc<str>> = on_disk.map(Into::into);
            match on_disk {
                Some(content) if ContentHash::of(&content) == file.hash => {
                    state.contents.put(file.hash, Arc::clone(&content));
                    now[index] = Some((file.rev, content));
                }
                changed => {
                    let rev =
                        self.append_file_change(state, path.clone(), changed.clone(), None, None);
                    now[index] = changed.map(|content| (rev, content));
                }
            }
        }
        now
    }

    /// The entries to replay, if the client's cache is still valid: same
    /// generation, same project rev, and every entry after its
    /// `lastSeenRev` still buffered.
    fn replayable(&self, state: &RoomState, hello: &Hello) -> Option<Vec<Arc<Logged>>> {
        let same_generation = hello.project_id.as_deref() == Some(self.generation.as_str());
        let same_files = hello.project_rev == Some(state.project_rev);
        if !(same_generation && same_files) {
            return None;
        }
        state.log.since(hello.last_seen_rev?)
    }

    /// How many peers are in the room now.
    pub async fn peer_count(&self) -> usize {
        self.state.lock().await.peers.len()
    }

    /// Removes the peer of a connection that ended, unless a newer
    /// connection of the same tab holds it by now.
    pub async fn leave(&self, joined: &Joined) {
        let mut state = self.state.lock().await;
        let Some(number) = state
            .seats
            .iter()
            .find(|(_, seat)| seat.connection == joined.connection)
            .map(|(number, _)| *number)
        else {
            return;
        };
        state.peers.remove(&number);
        state.seats.remove(&number);
        self.broadcast_peers(&state);
    }

    /// Changes a peer's name and colour. A name or colour left empty (or
    /// not valid) is the person's default again, as at their join.
    pub async fn update_peer(&self, peer_id: &str, profile: &PeerProfile) {
        let mut state = self.state.lock().await;
        let changed = state
            .peers
            .values_mut()
            .find(|p| p.peer_id == peer_id)
            .map(|p| {
                let seed = guest_seed(p.person.as_deref(), peer_id);
                let clean = profile.sanitized(&guest_name(seed), seed);
                let changed = clean.name != p.name || clean.color != p.color;
                p.name = clean.name;
                p.color = clean.color;
                changed
            });
        if changed == Some(true) {
            self.broadcast_peers(&state);
        }
    }

    /// Notes which file `peer_id` has open (a path that is not a valid
    /// relative path counts as none) and tells everyone if it changed.
    pub async fn update_presence(&self, peer_id: &str, open: Option<&str>) {
        let open = valid_open(open);
        let mut state = self.state.lock().await;
        let Some(peer) = state.peers.values_mut().find(|p| p.peer_id == peer_id) else {
            return;
        };
        if peer.open != open {
            peer.open = open;
            self.broadcast_peers(&state);
        }
    }

    fn broadcast_peers(&self, state: &RoomState) {
        let frame = ServerFrame::Peers(Peers {
            peers: state.peers.values().cloned().collect(),
        });
        state.fan_out(&encode(&frame).into());
    }

    /// Applies a `file-edit` from `peer_id`: checks access, path, size and
    /// base revision, writes the file durably, then appends and broadcasts
    /// `file-changed` (the author's acknowledgement). Nothing is written
    /// when it returns an error.
    pub async fn apply_edit(
        &self,
        peer_id: &str,
        access: Access,
        edit: FileEdit,
    ) -> Result<u64, ErrorFrame> {
        if !is_valid_id(&edit.edit_id) {
            // Not echoed: it may be megabytes long.
            return Err(ErrorFrame::new(
                ErrorCode::BadFrame,
                "editId must be 1 to 64 of A-Z, a-z, 0-9, '-' and '_'",
            ));
        }
        let refuse = |code, message: String| Err(ErrorFrame::new(code, message).for_edit(&edit));
        if !access.can_edit() {
            return refuse(
                ErrorCode::ReadOnly,
                "this link is view-only; the edit was not saved".into(),
            );
        }
        let path = match RelPath::parse(&edit.path) {
            Ok(path) => path,
            Err(e) => return refuse(ErrorCode::BadPath, e.to_string()),
        };
        if edit.content.len() > MAX_CONTENT_BYTES {
            return refuse(
                ErrorCode::TooLarge,
                format!(
                    "the content is {} bytes; the limit is {MAX_CONTENT_BYTES}",
                    edit.content.len()
                ),
            );
        }
        if self.project.leaves_out(&path) {
            let left_out = WriteError::LeftOut(path.to_string());
            return refuse(ErrorCode::BadPath, left_out.to_string());
        }
        let mut state = self.state.lock().await;
        let limit = self.project.file_limit();
        if !state.files.contains_key(&path) && state.files.len() >= limit {
            return refuse(
                ErrorCode::WriteFailed,
                format!("the room holds its limit of {limit} files; a new file cannot be added"),
            );
        }
        let current_rev = state.files.get(&path).map_or(0, |f| f.rev);
        // A base from an earlier run of the hub: its revision numbers
        // started from 0 like ours, so equal numbers mean nothing.
        let other_run = edit
            .base_project
            .as_deref()
            .is_some_and(|id| id != self.generation);
        if other_run || edit.base_rev != current_rev {
            let now = self
                .contents_now(&mut state, std::slice::from_ref(&path))
                .await;
            let current = match now.into_iter().next().flatten() {
                Some((rev, content)) => FileVersion {
                    rev,
                    content: content.to_string(),
                },
                None => FileVersion {
                    rev: 0,
                    content: String::new(),
                },
            };
            let mut err = ErrorFrame::new(
                ErrorCode::Conflict,
                format!(
                    "{path} changed since revision {}; it is now at {}",
                    edit.base_rev, current.rev
                ),
            )
            .for_edit(&edit);
            err.current = Some(current);
            return Err(err);
        }
        let content: Arc<str> = edit.content.as_str().into();
        let write = {
            let project = self.project.clone();
            let path = path.clone();
            let content = Arc::clone(&content);
            tokio::task::spawn_blocking(move || project.write_durably(&path, &content)).await
        };
        match write {
            Ok(Ok(())) => {}
            Ok(Err(WriteError::BadPath(e))) => return refuse(ErrorCode::BadPath, e.to_string()),
            Ok(Err(e @ (WriteError::NotPlain(_) | WriteError::LeftOut(_)))) => {
                return refuse(ErrorCode::BadPath, e.to_string())
            }
            Ok(Err(e)) => {
                tracing::warn!(path = %path, error = %e, "edit could not be written");
                return refuse(ErrorCode::WriteFailed, e.to_string());
            }
            Err(join) => {
                tracing::error!(error = %join, "write task failed");
                return refuse(ErrorCode::WriteFailed, "the write did not complete".into());
            }
        }
        let rev = self.append_file_change(
            &mut state,
            path,
            Some(content),
            Some(peer_id.to_owned()),
            Some(edit.edit_id),
        );
        Ok(rev)
    }

    /// Appends a file change (or deletion when `content` is `None`) to the
    /// log, updates the file table and broadcasts it.
    fn append_file_change(
        &self,
        state: &mut RoomState,
        path: RelPath,
        content: Option<Arc<str>>,
        by: Option<String>,
        edit_id: Option<String>,
    ) -> u64 {
        let logged = state.log.append(|rev| {
            LogEntry::FileChanged(FileChanged {
                rev,
                path: path.to_string(),
                content: content.as_deref().unwrap_or_default().to_owned(),
                by,
                edit_id,
                deleted: content.is_none(),
            })
        });
        let rev = logged.rev();
        match content {
            Some(content) => {
                let hash = ContentHash::of(&content);
                let size = content.len() as u64;
                state.contents.put(hash, content);
                state.deleted.remove(&path);
                state.files.insert(path, FileState { rev, size, hash });
            }
            None => {
                if state.files.remove(&path).is_some() {
                    if state.deleted.len() >= MAX_TOMBSTONES {
                        state.deleted.clear();
                        state.delta_floor = state.project_rev;
                    }
                    state.deleted.insert(path, rev);
                }
            }
        }
        state.project_rev = rev;
        state.fan_out(&logged.text);
        rev
    }

    /// Appends a runtime event and broadcasts it; returns its rev.
    pub async fn append_event(&self, kind: &str, data: Value) -> u64 {
        let ts = now_ms();
        let mut state = self.state.lock().await;
        let logged = state.log.append(|rev| {
            LogEntry::RuntimeEvent(RuntimeEvent {
                rev,
                ts,
                kind: kind.to_owned(),
                data,
            })
        });
        state.fan_out(&logged.text);
        logged.rev()
    }

    /// Brings the file table in line with the disk for `paths` (and, for
    /// folders, everything under them), appending a `file-changed` for each
    /// difference. Reads only those paths.
    pub async fn reconcile(&self, paths: BTreeSet<RelPath>) -> usize {
        self.bring_in_line(Some(paths)).await
    }

    /// Brings the whole file table in line with the disk, for when the
    /// watcher lost events.
    pub async fn rescan(&self) -> usize {
        self.bring_in_line(None).await
    }

    /// Reconciles `paths`, or everything for `None`.
    async fn bring_in_line(&self, paths: Option<BTreeSet<RelPath>>) -> usize {
        let mut state = self.state.lock().await;
        let under = |k: &RelPath| match &paths {
            None => true,
            Some(paths) => paths.iter().any(|p| is_at_or_under(k.as_str(), p.as_str())),
        };
        let known: BTreeMap<RelPath, ContentHash> = state
            .files
            .iter()
            .filter(|(k, _)| under(k))
            .map(|(k, f)| (k.clone(), f.hash))
            .collect();
        let project = self.project.clone();
        // Read under the lock: an edit cannot interleave and be mistaken for
        // an external change.
        let on_disk =
            tokio::task::spawn_blocking(move || read_current(&project, paths, known)).await;
        let (on_disk, walked_left_out) = match on_disk {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not read changed files");
                return 0;
            }
            Err(e) => {
                tracing::error!(error = %e, "reconcile task failed");
                return 0;
            }
        };
        let limit = self.project.file_limit();
        let was_left_out = state.left_out;
        // A full walk counts afresh; a partial one only adds what the
        // limit keeps out now.
        let mut left_out = match walked_left_out {
            Full(n) => n,
            Partial(n) => state.left_out + n,
        };
        let mut changes = 0;
        for (path, content) in on_disk {
            if content.is_some() && !state.files.contains_key(&path) && state.files.len() >= limit {
                left_out += 1;
                continue;
            }
            self.append_file_change(&mut state, path, content.map(Into::into), None, None);
            changes += 1;
        }
        state.left_out = left_out;
        if left_out != was_left_out {
            warn_left_out(left_out, &self.project);
            let notice = self.left_out(&state).unwrap_or(LeftOut {
                files: 0,
                limit: limit as u64,
            });
            state.fan_out(&encode(&ServerFrame::LeftOut(notice)).into());
        }
        changes
    }

    /// Paths of every file, sorted, for the snapshot download.
    pub async fn file_paths(&self) -> Vec<RelPath> {
        self.state.lock().await.files.keys().cloned().collect()
    }
}

/// The disk's view of every path that may have changed: the given ones
/// (all of them for `None`), every file found under those that are
/// folders, and every known file under them, absent ones as `None`.
fn read_current(
    project: &ProjectDir,
    paths: Option<BTreeSet<RelPath>>,
    known: BTreeMap<RelPath, ContentHash>,
) -> std::io::Result<(OnDisk, WalkedLeftOut)> {
    // Only what differs is kept: a rescan of a large project never holds
    // its contents all at once. A file can be met twice (a path and its
    // folder both touched).
    let mut changed = BTreeMap::new();
    let mut found = BTreeSet::new();
    let mut sink = |path: RelPath, content: String| {
        if found.insert(path.clone()) && known.get(&path) != Some(&ContentHash::of(&content)) {
            changed.insert(path, Some(content));
        }
    };
    let left_out = match &paths {
        None => Full(project.read_all(&mut sink)?.left_out),
        Some(paths) => Partial(project.read_changed(paths, &mut sink)?.left_out),
    };
    // Known files the walk did not find are gone.
    for path in known.into_keys().filter(|path| !found.contains(path)) {
        changed.insert(path, None);
    }
    Ok((changed.into_iter().collect(), left_out))
}

/// Why a `file-request` got no answers.
#[derive(Debug)]
pub enum SendError {
    /// The request broke a rule; tell the peer.
    Refused(ErrorFrame),
    /// The peer's queue overflowed: it closes.
    Overflowed(Refused),
}

/// A file as a tree lists it.
fn tree_entry((path, file): (&RelPath, &FileState)) -> TreeEntry {
    TreeEntry {
        path: path.to_string(),
        rev: file.rev,
        size: file.size,
    }
}

/// `tree` as the binary frame that follows a welcome: JSON, compressed
/// with zlib at its best (a tree is mostly paths, which compress well).
fn compressed(tree: &Tree) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(encode(tree).as_bytes());
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// Each path whose content on disk differs from the room's, with that
/// content (`None`: absent or not a room file).
type OnDisk = Vec<(RelPath, Option<String>)>;

/// How many files a walk left out past the limit, and whether it walked
/// everything (so the count replaces the room's) or some paths (so it adds).
enum WalkedLeftOut {
    Full(usize),
    Partial(usize),
}
use WalkedLeftOut::{Full, Partial};

/// Says in the log how many files the limit keeps out of the room.
fn warn_left_out(left_out: usize, project: &ProjectDir) {
    if left_out > 0 {
        tracing::warn!(
            left_out,
            limit = project.file_limit(),
            "the project has more files than the room holds; {left_out} are left out (raise --max-files)"
        );
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What a peer's default name and colour derive from: the person id its
/// browser sends (every tab and reload of one browser shares it: one
/// person, one name), or the peer id when it sent none.
fn guest_seed<'a>(person: Option<&'a str>, peer_id: &'a str) -> &'a str {
    person.unwrap_or(peer_id)
}

/// The open file a peer reports, kept only if it is a valid relative path.
fn valid_open(open: Option<&str>) -> Option<String> {
    open.and_then(|p| RelPath::parse(p).ok())
        .map(|p| p.as_str().to_owned())
}
