//! The application state: what has been loaded, the stack of screens the user walked through,
//! and the input mode. Key handling is in `keys`, drawing in `views`; this file owns the data
//! and asks the worker for more.

use std::collections::HashMap;
use std::time::Instant;

use crate::backend::*;
use crate::list::ListState;
use crate::theme::Theme;
use crate::views::objects::ObjectList;
use crate::worker::{Reply, Request, Worker};

/// Data that is asked for and arrives later.
#[derive(Clone, Debug)]
pub enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Loadable<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Loadable::Ready(t) => Some(t),
            _ => None,
        }
    }
    fn from(r: BackendResult<T>) -> Loadable<T> {
        match r {
            Ok(t) => Loadable::Ready(t),
            Err(e) => Loadable::Failed(e),
        }
    }
}

/// One screen of the stack.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    Overview,
    Resources,
    Namespaces {
        resource: String,
    },
    Objects {
        resource: String,
        namespace: Option<String>,
    },
    Object {
        key: String,
        revision: Option<i64>,
        json: bool,
        /// Evidence of the finding that led here.
        note: Option<String>,
    },
    History {
        key: String,
        marked: Vec<i64>,
    },
    Diff {
        key: String,
        from: i64,
        to: i64,
    },
    Leases,
    LeaseKeys {
        lease: i64,
    },
    Stale,
    StaleFindings {
        check: String,
    },
    Snapshots {
        marked: Option<String>,
    },
    Verify {
        path: String,
    },
    SnapshotDiff {
        from: String,
        to: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub screen: Screen,
    pub list: ListState,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    Filter,
    Command(String),
    Help,
    /// Delete `target` if unchanged; `ok_focused` false means Cancel has the focus.
    Confirm {
        target: DeleteTarget,
        ok_focused: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

pub struct App {
    worker: Worker,
    pub theme: Theme,
    pub overview: Loadable<Overview>,
    pub keyspace: Loadable<Keyspace>,
    pub progress: Option<u64>,
    pub objects: HashMap<(String, Option<String>), Loadable<ObjectList>>,
    /// Objects decoded so far by the object lists still loading.
    pub objects_progress: HashMap<(String, Option<String>), u64>,
    /// Object lists show `-o wide`'s columns and the etcd facts (`w`).
    pub wide: bool,
    pub docs: HashMap<(String, Option<i64>), Loadable<ObjectDoc>>,
    pub histories: HashMap<String, Loadable<Vec<RevisionRow>>>,
    pub leases: Option<Loadable<LeaseReport>>,
    pub findings: Option<Loadable<Findings>>,
    pub snapshots: Option<Loadable<Vec<SnapshotRow>>>,
    pub verifies: HashMap<String, Loadable<VerifyResult>>,
    pub diffs: HashMap<(String, Option<String>), Loadable<SnapshotDiff>>,
    pub stack: Vec<Entry>,
    pub mode: Mode,
    pub status: Option<(String, Level)>,
    /// Set while a live source does not answer: what went wrong and since when.
    pub offline: Option<(String, Instant)>,
    pub last_refresh: Option<Instant>,
    /// Bumped on every arrival of data, so list views know to recompute.
    pub generation: u64,
    pub quit: bool,
    /// A settled overview was asked for (the last overview said a check was still running).
    settling: bool,
    /// Set when a background task panicked: the UI quits and prints it.
    pub crashed: Option<String>,
    pub started: Instant,
    /// Rows the body showed at the last draw (for paging).
    pub body_height: usize,
}

impl App {
    /// Starts with the overview on screen and the first loads under way.
    pub fn new(worker: Worker, theme: Theme) -> App {
        let mut app = App {
            worker,
            theme,
            overview: Loadable::Loading,
            keyspace: Loadable::Loading,
            progress: None,
            objects: HashMap::new(),
            objects_progress: HashMap::new(),
            wide: false,
            docs: HashMap::new(),
            histories: HashMap::new(),
            leases: None,
            findings: None,
            snapshots: None,
            verifies: HashMap::new(),
            diffs: HashMap::new(),
            stack: Vec::new(),
            mode: Mode::Normal,
            status: None,
            offline: None,
            last_refresh: None,
            generation: 0,
            quit: false,
            settling: false,
            crashed: None,
            started: Instant::now(),
            body_height: 20,
        };
        app.worker.send(Request::Overview);
        app.worker.send(Request::Keyspace);
        app.ensure_findings();
        app.push(Screen::Overview);
        app
    }

    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    pub fn top(&self) -> &Entry {
        self.stack
            .last()
            .expect("the stack always holds the overview")
    }

    pub fn top_mut(&mut self) -> &mut Entry {
        self.stack
            .last_mut()
            .expect("the stack always holds the overview")
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.status = Some((msg.into(), Level::Info));
    }

    pub fn error(&mut self, msg: impl Into<String>) {
        self.status = Some((msg.into(), Level::Error));
    }

    /// Opens `screen` on top of the stack and asks for the data it shows.
    pub fn push(&mut self, screen: Screen) {
        self.load_for(&screen, false);
        self.stack.push(Entry {
            screen,
            list: ListState::default(),
        });
    }

    /// Goes back one screen; the overview stays.
    pub fn pop(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    /// Jumps to `screen` from the bottom of the stack (what a `:command` does).
    pub fn jump(&mut self, screen: Screen) {
        self.stack.truncate(1);
        if screen != Screen::Overview {
            self.push(screen);
        }
    }

    /// Asks again for what the top screen shows.
    pub fn reload(&mut self) {
        let screen = self.top().screen.clone();
        if matches!(
            screen,
            Screen::Overview | Screen::Resources | Screen::Namespaces { .. }
        ) {
            self.worker.send(Request::Overview);
            self.keyspace = Loadable::Loading;
            self.progress = None;
            self.worker.send(Request::Keyspace);
        }
        self.load_for(&screen, true);
        self.info("reloading");
    }

    fn load_for(&mut self, screen: &Screen, force: bool) {
        match screen {
            Screen::Overview | Screen::Resources | Screen::Namespaces { .. } => {}
            Screen::Objects {
                resource,
                namespace,
            } => {
                let k = (resource.clone(), namespace.clone());
                if force || !self.objects.contains_key(&k) {
                    self.objects.insert(k, Loadable::Loading);
                    self.worker.send(Request::Objects {
                        resource: resource.clone(),
                        namespace: namespace.clone(),
                    });
                }
            }
            Screen::Object { key, revision, .. } => self.ensure_doc(key, *revision, force),
            Screen::History { key, .. } => {
                if force || !self.histories.contains_key(key) {
                    self.histories.insert(key.clone(), Loadable::Loading);
                    self.worker.send(Request::History { key: key.clone() });
                }
            }
            Screen::Diff { key, from, to } => {
                self.ensure_doc(key, Some(*from), force);
                self.ensure_doc(key, Some(*to), force);
            }
            Screen::Leases | Screen::LeaseKeys { .. } => {
                if force || self.leases.is_none() {
                    self.leases = Some(Loadable::Loading);
                    self.worker.send(Request::Leases);
                }
            }
            Screen::Stale | Screen::StaleFindings { .. } => {
                if force {
                    self.findings = None;
                }
                self.ensure_findings();
            }
            Screen::Snapshots { .. } => {
                if force || self.snapshots.is_none() {
                    self.snapshots = Some(Loadable::Loading);
                    self.worker.send(Request::Snapshots);
                }
            }
            Screen::Verify { path } => {
                if force || !self.verifies.contains_key(path) {
                    self.verifies.insert(path.clone(), Loadable::Loading);
                    self.worker.send(Request::Verify { path: path.clone() });
                }
            }
            Screen::SnapshotDiff { from, to } => {
                let k = (from.clone(), to.clone());
                if force || !self.diffs.contains_key(&k) {
                    self.diffs.insert(k, Loadable::Loading);
                    self.worker.send(Request::Diff {
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
            }
        }
    }

    fn ensure_doc(&mut self, key: &str, revision: Option<i64>, force: bool) {
        let k = (key.to_string(), revision);
        if force || !self.docs.contains_key(&k) {
            self.docs.insert(k, Loadable::Loading);
            self.worker.send(Request::Object {
                key: key.to_string(),
                revision,
            });
        }
    }

    fn ensure_findings(&mut self) {
        if self.findings.is_none() {
            self.findings = Some(Loadable::Loading);
            self.worker.send(Request::Findings);
        }
    }

    /// Takes one answer of the worker into the state.
    pub fn apply(&mut self, reply: Reply) {
        if !matches!(reply, Reply::Progress(_) | Reply::ObjectsProgress { .. }) {
            self.generation += 1;
        }
        match reply {
            Reply::Overview(r) => {
                if let Ok(o) = &r {
                    if o.live {
                        self.last_refresh = Some(Instant::now());
                    }
                    let shown = self.overview.ready().is_some_and(|o| o.unproven.is_some());
                    if let (Some(warning), false) = (&o.unproven, shown) {
                        self.error(warning.clone());
                    }
                    // The header says "checking sha256" until a settled overview comes.
                    if !o.checking_trailer {
                        self.settling = false;
                    } else if !self.settling {
                        self.settling = true;
                        self.worker.send(Request::SettledOverview);
                    }
                }
                self.overview = Loadable::from(r);
            }
            Reply::Progress(n) => self.progress = Some(n),
            Reply::Keyspace(r) => {
                self.progress = None;
                self.keyspace = Loadable::from(r);
                self.ask_estimated_time();
            }
            Reply::ObjectsProgress {
                resource,
                namespace,
                decoded,
            } => {
                self.objects_progress.insert((resource, namespace), decoded);
            }
            Reply::Objects {
                resource,
                namespace,
                result,
            } => {
                self.objects_progress
                    .remove(&(resource.clone(), namespace.clone()));
                self.objects
                    .insert((resource, namespace), Loadable::from(result));
            }
            Reply::Object {
                key,
                revision,
                result,
            } => {
                self.docs.insert((key, revision), Loadable::from(result));
            }
            Reply::History { key, result } => {
                self.histories.insert(key, Loadable::from(result));
            }
            Reply::Leases(r) => self.leases = Some(Loadable::from(r)),
            Reply::Findings(r) => {
                self.findings = Some(Loadable::from(r));
                self.ask_estimated_time();
            }
            Reply::Snapshots(r) => self.snapshots = Some(Loadable::from(r)),
            Reply::Verify { path, result } => {
                self.verifies.insert(path, Loadable::from(result));
            }
            Reply::Diff { from, to, result } => {
                self.diffs.insert((from, to), Loadable::from(result));
            }
            Reply::Deleted { key, result } => match result {
                Ok(msg) => {
                    self.info(msg);
                    self.docs.retain(|(k, _), _| *k != key);
                    self.objects.clear();
                    let top = self.top().screen.clone();
                    if matches!(top, Screen::Object { .. }) {
                        self.pop();
                    }
                    let top = self.top().screen.clone();
                    self.load_for(&top, true);
                }
                Err(e) => self.error(format!("delete {key}: {e}")),
            },
            Reply::Refreshed(r) => self.refreshed(r),
            Reply::Crashed(msg) => {
                self.crashed = Some(msg);
                self.quit = true;
            }
        }
    }

    /// A snapshot's estimated time comes from what the scans saw: ask for the overview again.
    fn ask_estimated_time(&mut self) {
        if self
            .overview
            .ready()
            .is_some_and(|o| !o.live && o.estimated_time.is_none())
        {
            self.worker.send(Request::Overview);
        }
    }

    /// A live poll came back: keep the data, say whether etcd answers and what the watch did,
    /// and take the keyspace counts again on change (the backend keeps them current from its
    /// watch: asking costs etcd nothing).
    fn refreshed(&mut self, r: Result<Overview, (String, std::time::Duration)>) {
        match r {
            Ok(o) => {
                let old = self.overview.ready();
                let changed = old.map(|old| old.revision) != Some(o.revision);
                if let Some(msg) = watch_news(old.and_then(|o| o.reads.as_ref()), o.reads.as_ref())
                {
                    self.status = Some(msg);
                }
                self.offline = None;
                self.last_refresh = Some(Instant::now());
                self.overview = Loadable::Ready(o);
                if changed && !matches!(self.keyspace, Loadable::Loading) {
                    self.worker.send(Request::Keyspace);
                }
            }
            Err((e, retry)) => {
                let since = self
                    .offline
                    .as_ref()
                    .map(|(_, t)| *t)
                    .unwrap_or_else(Instant::now);
                self.offline = Some((format!("{e}; retrying in {}s", retry.as_secs()), since));
            }
        }
    }

    /// The loaded group of `resource`, if the keyspace is in.
    pub fn resource(&self, resource: &str) -> Option<&ResourceGroup> {
        self.keyspace
            .ready()?
            .resources
            .iter()
            .find(|r| r.resource == resource)
    }

    /// kubectl's name of an etcd resource, for titles.
    pub fn display_name(&self, resource: &str) -> String {
        self.resource(resource)
            .map(|r| r.display.clone())
            .unwrap_or_else(|| self.worker.display_name(resource))
    }
}

/// What the status line says when the watch of a live source went down, came back, or had to
/// list everything again.
fn watch_news(old: Option<&ReadCost>, new: Option<&ReadCost>) -> Option<(String, Level)> {
    let (old, new) = (old?, new?);
    if new.relists > old.relists {
        let why = new
            .relist_reason
            .as_deref()
            .unwrap_or("the watch fell behind");
        return Some((
            format!(
                "re-listed every key at rev {} ({why}); relists so far: {}",
                new.listed_at, new.relists
            ),
            Level::Info,
        ));
    }
    match (&old.watch_error, &new.watch_error) {
        (_, Some(e)) if old.watch_error.as_ref() != Some(e) => Some((e.clone(), Level::Error)),
        (Some(_), None) => Some(("the watch resumed".into(), Level::Info)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_tells_of_relists_and_of_the_watch_going_down_and_back() {
        let quiet = ReadCost {
            listed_at: 10,
            ..ReadCost::default()
        };
        assert_eq!(watch_news(Some(&quiet), Some(&quiet)), None);
        let relisted = ReadCost {
            listed_at: 90,
            relists: 1,
            relist_reason: Some("etcd compacted to rev 80".into()),
            ..ReadCost::default()
        };
        let (msg, level) = watch_news(Some(&quiet), Some(&relisted)).unwrap();
        assert_eq!(level, Level::Info);
        assert_eq!(
            msg,
            "re-listed every key at rev 90 (etcd compacted to rev 80); relists so far: 1"
        );
        let down = ReadCost {
            watch_error: Some("the watch was lost".into()),
            ..quiet.clone()
        };
        let (msg, level) = watch_news(Some(&quiet), Some(&down)).unwrap();
        assert_eq!((msg.as_str(), level), ("the watch was lost", Level::Error));
        assert_eq!(watch_news(Some(&down), Some(&down)), None, "said once");
        let (msg, _) = watch_news(Some(&down), Some(&quiet)).unwrap();
        assert_eq!(msg, "the watch resumed");
    }
}
