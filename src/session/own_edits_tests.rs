//! A person's own saves never count as someone else's change. The session
//! core runs against a small model of the hub (its edit, join and content
//! rules, as `hub/src/room.rs` has them) while the connection drops with
//! frames lost or delivered late and the hub restarts after writing; a
//! person who is the only writer of their files must never meet the
//! conflict view, and what they saved lands in the order they saved it.

use std::collections::{BTreeMap, VecDeque};

use room_protocol::{
    decode_client_frame, encode, ClientFrame, ErrorCode, ErrorFrame, FileChanged, FileContent,
    FileEdit, FileVersion, LogEntry, ServerFrame, SyncMode, Synced, Tree, TreeEntry,
};

use super::*;
use crate::intent::Intent;
use crate::state::DraftStatus;

/// What the hub sends a connection: a text frame, or the tree that
/// follows a snapshot `welcome`.
#[derive(Debug, Clone)]
enum Out {
    Text(String),
    Tree(Tree),
}

/// The hub's rules for one room, without I/O: files with the rev of their
/// last change, one log per generation, and a restart that starts a new
/// generation with every file at rev 0 (as `Room::open` does).
#[derive(Debug)]
struct ModelHub {
    generation: u32,
    head: u64,
    /// The rev of the newest file change (the project rev).
    project_rev: u64,
    files: BTreeMap<String, (u64, String)>,
    log: Vec<LogEntry>,
    /// Every text written to each file, in order: what landed, and when.
    written: BTreeMap<String, Vec<String>>,
}

impl ModelHub {
    fn new(files: &[(&str, &str)]) -> Self {
        Self {
            generation: 1,
            head: 0,
            project_rev: 0,
            files: files
                .iter()
                .map(|&(p, c)| (p.to_owned(), (0, c.to_owned())))
                .collect(),
            log: Vec::new(),
            written: BTreeMap::new(),
        }
    }

    fn generation_id(&self) -> String {
        format!("g{}", self.generation)
    }

    /// Killed and started again over the same folder.
    fn restart(&mut self) {
        self.generation += 1;
        self.head = 0;
        self.project_rev = 0;
        self.log.clear();
        for file in self.files.values_mut() {
            file.0 = 0;
        }
    }

    /// Handles one frame from a connection: what goes back to that
    /// connection, and what goes to every connection in the room.
    fn handle(&mut self, frame: ClientFrame) -> (Vec<Out>, Vec<Out>) {
        match frame {
            ClientFrame::Hello(hello) => (self.join(&hello), Vec::new()),
            ClientFrame::FileEdit(edit) => match self.edit(&edit) {
                Ok(change) => (Vec::new(), vec![change]),
                Err(refusal) => (vec![refusal], Vec::new()),
            },
            ClientFrame::FileRequest(request) => {
                let answers = request
                    .paths
                    .into_iter()
                    .map(|path| {
                        let file = self.files.get(&path);
                        Out::Text(encode(&ServerFrame::FileContent(FileContent {
                            rev: file.map_or(0, |f| f.0),
                            content: file.map(|f| f.1.clone()),
                            path,
                        })))
                    })
                    .collect();
                (answers, Vec::new())
            }
            ClientFrame::Ping(ping) => (
                vec![Out::Text(format!(r#"{{"type":"pong","t":{}}}"#, ping.t))],
                Vec::new(),
            ),
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// `Room::join`: a replay when the client's files are current and the
    /// log holds what it missed, else a snapshot with a delta or whole tree.
    fn join(&mut self, hello: &room_protocol::Hello) -> Vec<Out> {
        let same_generation = hello.project_id.as_deref() == Some(&*self.generation_id());
        let replay = same_generation && hello.project_rev == Some(self.project_rev);
        let mut welcome = crate::testing::welcome(&self.generation_id(), self.project_rev, {
            if replay {
                SyncMode::Replay
            } else {
                SyncMode::Snapshot
            }
        });
        welcome.head = self.head;
        let mut out = vec![Out::Text(encode(&ServerFrame::Welcome(welcome)))];
        if replay {
            let since = hello.last_seen_rev.unwrap_or(0);
            for entry in self.log.iter().filter(|e| e.rev() > since) {
                out.push(Out::Text(encode(&frame_of(entry.clone()))));
            }
        } else {
            let since = hello.project_rev.filter(|_| same_generation);
            out.push(Out::Tree(Tree {
                since,
                files: self
                    .files
                    .iter()
                    .filter(|(_, f)| since.is_none_or(|since| f.0 > since))
                    .map(|(path, f)| TreeEntry {
                        path: path.clone(),
                        rev: f.0,
                        size: f.1.len() as u64,
                    })
                    .collect(),
                deleted: Vec::new(),
            }));
        }
        out.push(Out::Text(encode(&ServerFrame::Synced(Synced {
            head: self.head,
        }))));
        out
    }

    /// Another program writes `path` (the watcher's reconcile): logged and
    /// broadcast without an author.
    fn write_outside(&mut self, path: &str, content: String) -> Out {
        self.append_change(path, content, None)
    }

    /// `Room::append_file_change`: the next rev, the file table, the log,
    /// and the frame every connection gets.
    fn append_change(&mut self, path: &str, content: String, edit: Option<&FileEdit>) -> Out {
        self.head += 1;
        self.project_rev = self.head;
        self.files
            .insert(path.to_owned(), (self.head, content.clone()));
        let entry = LogEntry::FileChanged(FileChanged {
            rev: self.head,
            path: path.to_owned(),
            content,
            by: edit.map(|_| "p1".into()),
            edit_id: edit.map(|e| e.edit_id.clone()),
            deleted: false,
        });
        self.log.push(entry.clone());
        Out::Text(encode(&frame_of(entry)))
    }

    /// `Room::apply_edit`: refused with the file as it is unless it is
    /// made on the file's current rev of this generation; else written,
    /// logged and broadcast.
    fn edit(&mut self, edit: &FileEdit) -> Result<Out, Out> {
        let current = self.files.get(&edit.path).cloned().unwrap_or_default();
        let other_run = edit
            .base_project
            .as_deref()
            .is_some_and(|id| id != self.generation_id());
        if other_run || edit.base_rev != current.0 {
            let mut refusal = ErrorFrame::new(ErrorCode::Conflict, "changed").for_edit(edit);
            refusal.current = Some(FileVersion {
                rev: current.0,
                content: current.1,
            });
            return Err(Out::Text(encode(&ServerFrame::Error(refusal))));
        }
        self.written
            .entry(edit.path.clone())
            .or_default()
            .push(edit.content.clone());
        Ok(self.append_change(&edit.path, edit.content.clone(), Some(edit)))
    }
}

/// A log entry as the hub sends it.
fn frame_of(entry: LogEntry) -> ServerFrame {
    match entry {
        LogEntry::FileChanged(change) => ServerFrame::FileChanged(change),
        LogEntry::RuntimeEvent(event) => ServerFrame::RuntimeEvent(event),
    }
}

/// The page, the hub and the network between them.
struct World {
    core: SessionCore,
    hub: ModelHub,
    now: f64,
    /// Frames on their way to the hub on the current connection.
    to_hub: VecDeque<ClientFrame>,
    /// Frames on their way to the page on the current connection.
    to_page: VecDeque<Out>,
    /// Whether the hub has welcomed the current connection (it then gets
    /// every broadcast).
    joined: bool,
    connected: bool,
    /// Frames of a dead connection still held in the network (a
    /// blackhole's held bytes): the hub reads them later, and their
    /// answers go nowhere, but what they change is broadcast.
    late: VecDeque<ClientFrame>,
    /// Every text the person had in the file, in order.
    texts: Vec<String>,
    /// Every text the person saved.
    saved: Vec<String>,
    lines: u32,
    trace: Vec<String>,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut world = Self {
            core: SessionCore::new(SessionOptions::default(), RoomState::default(), seed),
            hub: ModelHub::new(&[(PATH, "start\n"), (OUTSIDE, "outside\n")]),
            now: 0.0,
            to_hub: VecDeque::new(),
            to_page: VecDeque::new(),
            joined: false,
            connected: false,
            late: VecDeque::new(),
            texts: vec!["start\n".into()],
            saved: Vec::new(),
            lines: 0,
            trace: Vec::new(),
        };
        let out = world.core.handle(Input::Start, 0.0);
        world.obey(out);
        let open = Intent::Open {
            path: Some(PATH.into()),
        };
        let out = world.core.handle(Input::from(open), 0.0);
        world.obey(out);
        world
    }

    fn obey(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Connect => {
                    self.connected = true;
                    self.joined = false;
                    self.to_hub.clear();
                    self.to_page.clear();
                    let out = self.core.handle(Input::Opened, self.now);
                    self.obey(out);
                }
                Command::Send(text) => {
                    if self.connected {
                        self.to_hub.push_back(decode_client_frame(&text).unwrap());
                    }
                }
                Command::Disconnect => self.drop_connection(false),
                Command::Log(_) | Command::KeepClientId(_) => {}
            }
        }
    }

    fn input(&mut self, input: Input) {
        let out = self.core.handle(input, self.now);
        self.obey(out);
        self.check();
    }

    /// The hub reads the next frame of the current connection.
    fn deliver_to_hub(&mut self) {
        let Some(frame) = self.to_hub.pop_front() else {
            return;
        };
        self.trace.push(format!("hub <- {frame:?}"));
        let hello = matches!(frame, ClientFrame::Hello(_));
        let (answers, broadcast) = self.hub.handle(frame);
        if hello {
            self.joined = true;
        }
        self.to_page.extend(answers);
        if self.joined {
            self.to_page.extend(broadcast);
        }
    }

    /// The hub reads a frame of a dead connection.
    fn deliver_late(&mut self) {
        let Some(frame) = self.late.pop_front() else {
            return;
        };
        self.trace.push(format!("hub <- (late) {frame:?}"));
        if let ClientFrame::FileEdit(_) = frame {
            let (_, broadcast) = self.hub.handle(frame);
            if self.joined {
                self.to_page.extend(broadcast);
            }
        }
    }

    fn deliver_to_page(&mut self) {
        let Some(out) = self.to_page.pop_front() else {
            return;
        };
        self.trace.push(format!("page <- {out:?}"));
        match out {
            Out::Text(text) => self.input(Input::Text(text)),
            Out::Tree(tree) => self.input(Input::Tree(Ok(tree))),
        }
    }

    /// The connection dies. What the page sent and the hub has not read
    /// is held in the network (`held`) or lost; what the hub sent is lost.
    fn drop_connection(&mut self, held: bool) {
        if !self.connected {
            return;
        }
        self.trace.push(format!("drop (held: {held})"));
        self.connected = false;
        self.joined = false;
        let unread = std::mem::take(&mut self.to_hub);
        if held {
            self.late.extend(unread);
        }
        self.to_page.clear();
        let out = self.core.handle(Input::Closed { code: 1006 }, self.now);
        self.obey(out);
    }

    /// `kill -9` and a restart: each edit the hub had not answered is
    /// written (then the hub died before saying so) or lost.
    fn restart_hub(&mut self, written: &mut impl FnMut() -> bool) {
        self.trace.push("hub restart".into());
        let unread: Vec<ClientFrame> = self.to_hub.drain(..).chain(self.late.drain(..)).collect();
        for frame in unread {
            if matches!(frame, ClientFrame::FileEdit(_)) && written() {
                let _ = self.hub.handle(frame);
            }
        }
        self.to_page.clear();
        self.hub.restart();
        self.connected = false;
        self.joined = false;
        let out = self.core.handle(Input::Closed { code: 1006 }, self.now);
        self.obey(out);
    }

    /// Another program changes a file nobody edits in the room.
    fn outside_change(&mut self) {
        self.lines += 1;
        self.trace.push("outside change".into());
        let change = self
            .hub
            .write_outside(OUTSIDE, format!("outside {}\n", self.lines));
        if self.joined {
            self.to_page.push_back(change);
        }
    }

    /// After a drop or a restart: the retry connects, the hub reads the
    /// hello, and the page reads up to `synced` (nothing else moves).
    fn rejoin(&mut self) {
        self.wait(1000.0);
        self.deliver_all_to_hub();
        while self.core.state().status != ConnectionStatus::Connected {
            self.deliver_to_page();
        }
    }

    /// Everything the page sent on this connection reaches the hub.
    fn deliver_all_to_hub(&mut self) {
        while !self.to_hub.is_empty() {
            self.deliver_to_hub();
        }
    }

    /// Time passes; the session's timers run (a retry connects at once).
    fn wait(&mut self, ms: f64) {
        self.now += ms;
        self.input(Input::Tick);
    }

    /// What the editor shows: the draft, else the file (`None` while the
    /// content is being fetched: the editor is read-only).
    fn editor_text(&self) -> Option<String> {
        let state = self.core.state();
        match state.drafts.get(PATH) {
            Some(draft) => Some(draft.content.clone()),
            None => state.files.get(PATH)?.content.as_deref().map(str::to_owned),
        }
    }

    /// The person adds a line; whether they could (the content is there).
    fn type_line(&mut self) -> bool {
        let Some(text) = self.editor_text() else {
            return false;
        };
        self.lines += 1;
        let text = format!("{text}line {}\n", self.lines);
        self.trace.push(format!("type {:?}", self.lines));
        self.texts.push(text.clone());
        self.input(Input::from(Intent::Type {
            path: PATH.into(),
            content: text,
        }));
        true
    }

    fn save(&mut self) {
        if let Some(text) = self.editor_text() {
            self.trace.push("save".into());
            self.saved.push(text.clone());
            self.input(Input::from(Intent::Save {
                path: PATH.into(),
                content: text,
            }));
        }
    }

    /// Nobody else writes the file: the conflict view must never open.
    fn check(&self) {
        if let Some(draft) = self.core.state().drafts.get(PATH) {
            assert!(
                !matches!(draft.status, DraftStatus::Conflict { .. }),
                "the conflict view opened on a file only this person writes: {draft:?}\n{}",
                self.trace.join("\n")
            );
        }
    }

    /// Everything held in the network arrives and the page is live.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            if !self.late.is_empty() {
                self.deliver_late();
            } else if !self.to_hub.is_empty() {
                self.deliver_to_hub();
            } else if !self.to_page.is_empty() {
                self.deliver_to_page();
            } else if self.core.state().status == ConnectionStatus::Lost {
                self.input(Input::Retry);
            } else if self.core.state().status != ConnectionStatus::Connected {
                self.wait(1000.0);
            } else {
                return;
            }
        }
        panic!("the page never settled\n{}", self.trace.join("\n"));
    }
}

const PATH: &str = "notes/mine.txt";
const OUTSIDE: &str = "outside.txt";

/// A small seeded generator (xorshift), so each seed is one schedule.
fn generator(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// One schedule: the person types and saves (twice in a row at times)
/// while frames travel in any order the network allows, connections drop
/// with their unread frames lost or held and delivered late, and the hub
/// restarts having written what it had not answered, or not.
fn run(seed: u64, steps: usize) {
    let mut next = generator(seed);
    let mut world = World::new(seed);
    for _ in 0..steps {
        match next() % 100 {
            0..=29 => world.deliver_to_hub(),
            30..=59 => world.deliver_to_page(),
            60..=64 => world.deliver_late(),
            65..=74 => {
                world.type_line();
            }
            75..=82 => world.save(),
            83..=86 => {
                if world.type_line() {
                    world.save();
                    world.type_line();
                    world.save();
                }
            }
            87..=89 => world.wait((next() % 3000) as f64),
            90..=91 => world.outside_change(),
            92..=95 => {
                let held = next() % 2 == 0;
                world.drop_connection(held);
            }
            _ => {
                let mut written = || next() % 2 == 0;
                world.restart_hub(&mut written);
            }
        }
        world.now += 5.0;
    }
    // Everything arrives; what is left unsaved is saved and lands.
    world.settle();
    if world.core.state().drafts.contains_key(PATH) {
        world.save();
        world.settle();
    }
    let state = world.core.state();
    assert!(
        state.drafts.is_empty(),
        "seed {seed}: a draft is left: {:?}",
        state.drafts
    );
    let last = world.texts.last().unwrap();
    assert_eq!(
        &world.hub.files[PATH].1, last,
        "seed {seed}: the hub has the person's last text"
    );
    // Nothing the person did not save is written.
    let hub_wrote = world.hub.written.get(PATH).into_iter().flatten();
    for text in hub_wrote {
        assert!(
            world.saved.contains(text),
            "seed {seed}: wrote {text:?}, which the person never saved\n{}",
            world.trace.join("\n")
        );
    }
    // Saves land in the order they were made: each text the hub wrote is
    // one the person had, and none is older than one written before it.
    let order = |text: &String| world.texts.iter().position(|t| t == text);
    let written: Vec<Option<usize>> = world
        .hub
        .written
        .get(PATH)
        .into_iter()
        .flatten()
        .map(order)
        .collect();
    assert!(
        written.iter().all(Option::is_some) && written.windows(2).all(|w| w[0] <= w[1]),
        "seed {seed}: written out of order or not the person's: {written:?}\n{}",
        world.trace.join("\n")
    );
}

#[test]
fn a_persons_own_saves_never_open_the_conflict_view_and_land_in_order_and_only_saves_land() {
    for seed in 0..500 {
        run(seed, 400);
    }
}

/// The person saves what they have, it lands, and nothing is left.
fn save_lands(world: &mut World) {
    world.save();
    world.settle();
    assert!(world.core.state().drafts.is_empty());
    assert_eq!(&world.hub.files[PATH].1, world.texts.last().unwrap());
}

/// Joined, live, with the file's content on the page.
fn live_world() -> World {
    let mut world = World::new(7);
    world.settle();
    assert!(world.editor_text().is_some());
    world
}

fn status_of(world: &World) -> DraftStatus {
    world.core.state().drafts[PATH].status.clone()
}

/// Cause: an edit refused because the hub already holds it (written before
/// its acknowledgement was lost: a dropped connection, or a restart) was
/// merged with what the person typed since as if the hub's text were
/// someone else's: both add lines at the end, so they "overlap".
#[test]
fn an_edit_the_hub_wrote_before_restarting_lands_under_what_was_typed_since() {
    let mut world = live_world();
    // A save that lands: the file is at rev 1.
    world.type_line();
    save_lands(&mut world);
    world.type_line();
    world.save();
    world.type_line();
    world.save();
    // The hub writes the first save, and dies before saying so.
    world.restart_hub(&mut || true);
    world.settle();
    assert!(world.core.state().drafts.is_empty());
    assert_eq!(&world.hub.files[PATH].1, world.texts.last().unwrap());
}

/// Cause: the content of a file the page asked for on this connection
/// moved the edit in flight on it as if its connection were gone: it lost
/// its id, so its own acknowledgement then read as someone else's change
/// under what the person typed meanwhile.
#[test]
fn a_content_answer_leaves_the_edit_in_flight_on_this_connection_waiting_for_its_answer() {
    let mut world = live_world();
    // A save that lands: the file is at rev 1.
    world.type_line();
    save_lands(&mut world);
    world.type_line();
    world.save();
    world.type_line();
    // The hub restarts without having read the edit; the page rejoins in a
    // new generation, whose file contents it fetches.
    world.restart_hub(&mut || false);
    world.rejoin();
    assert!(world.core.state().files[PATH].content.is_none());
    // The page sent the edit again (on its old base) and asked for the
    // content: the hub refuses the edit (its file is the base, at rev 0)
    // and answers the request.
    world.deliver_all_to_hub();
    world.deliver_to_page(); // the refusal: the draft goes again, on rev 0
    assert!(matches!(status_of(&world), DraftStatus::InFlight { .. }));
    world.deliver_to_page(); // the content
    assert!(
        matches!(status_of(&world), DraftStatus::InFlight { .. }),
        "the edit sent on this connection waits for its answer"
    );
    world.deliver_to_page(); // the other file's content
    world.deliver_all_to_hub(); // the hub writes it
    world.type_line();
    world.deliver_to_page(); // its acknowledgement
    assert_eq!(status_of(&world), DraftStatus::Editing);
    save_lands(&mut world);
}

/// Cause: a snapshot after a dropped connection moved an edit in flight
/// onto its unchanged file and sent the text as a new edit, forgetting the
/// old one; the network then delivered the old one late (a blackhole
/// holds bytes), and its acknowledgement read as someone else's change.
#[test]
fn an_edit_held_in_the_network_and_delivered_late_is_still_recognised_as_ones_own() {
    let mut world = live_world();
    world.type_line();
    world.save();
    world.type_line();
    // The edit is held in the network with its dead connection, and
    // another program changes another file meanwhile: the page rejoins
    // with a snapshot in which its own file has not changed.
    world.drop_connection(true);
    world.outside_change();
    world.rejoin();
    assert!(
        matches!(status_of(&world), DraftStatus::InFlight { .. }),
        "a snapshot leaves an edit whose file did not move in flight"
    );
    // The held edit arrives and is written; then what the page sent.
    world.deliver_late();
    world.deliver_all_to_hub();
    world.settle();
    assert_eq!(status_of(&world), DraftStatus::Editing);
    save_lands(&mut world);
}

/// Cause (found by the soak): every run of the hub numbers revisions from
/// 0 again, so an edit resent after a restart on rev 0 of the old run was
/// taken for one on rev 0 of the new run, and written over a change made
/// meanwhile. An edit names the run its base belongs to; the new run
/// refuses it with the file as it is, and the page merges onto that.
#[test]
fn an_edit_resent_after_a_restart_names_its_run_and_never_overwrites_a_change_made_meanwhile() {
    let mut world = live_world();
    world.type_line();
    world.save();
    let edit = |world: &World| {
        let mut edits = world.to_hub.iter().filter_map(|frame| match frame {
            ClientFrame::FileEdit(edit) => Some(edit.clone()),
            _ => None,
        });
        edits.next_back().expect("an edit on its way")
    };
    let first = edit(&world);
    assert_eq!(
        (first.base_rev, first.base_project.as_deref()),
        (0, Some("g1"))
    );
    // The hub dies before reading it; another program adds a line at the
    // top while it is down; the new run has the file at rev 0 again.
    world.restart_hub(&mut || false);
    world.hub.files.get_mut(PATH).unwrap().1 = "header\nstart\n".into();
    world.rejoin();
    let again = edit(&world);
    assert_eq!(
        (
            again.edit_id.as_str(),
            again.base_rev,
            again.base_project.as_deref()
        ),
        (first.edit_id.as_str(), 0, Some("g1")),
        "sent again as it was, naming the run it was made on"
    );
    world.settle();
    assert_eq!(
        world.hub.files[PATH].1, "header\nstart\nline 1\n",
        "merged onto the change made meanwhile, not written over it"
    );
}
