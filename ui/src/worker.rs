//! All backend calls run here, off the drawing thread: one short-lived thread per request
//! (requests are user-paced), answers back over a channel. A live source also gets a refresher
//! thread that polls with backoff while etcd is slow or gone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use crate::backend::*;
use crate::views::objects::ObjectList;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    Overview,
    /// The overview once the checks still running are done (answered as `Reply::Overview`).
    SettledOverview,
    Keyspace,
    Objects {
        resource: String,
        namespace: Option<String>,
    },
    Object {
        key: String,
        revision: Option<i64>,
    },
    History {
        key: String,
    },
    Leases,
    Findings,
    Snapshots,
    Verify {
        path: String,
    },
    Diff {
        from: String,
        to: Option<String>,
    },
    Delete(DeleteTarget),
}

#[derive(Debug)]
pub enum Reply {
    Overview(BackendResult<Overview>),
    /// Keys seen so far by the keyspace scan.
    Progress(u64),
    Keyspace(BackendResult<Keyspace>),
    /// Objects decoded so far for an object list.
    ObjectsProgress {
        resource: String,
        namespace: Option<String>,
        decoded: u64,
    },
    Objects {
        resource: String,
        namespace: Option<String>,
        result: BackendResult<ObjectList>,
    },
    Object {
        key: String,
        revision: Option<i64>,
        result: BackendResult<ObjectDoc>,
    },
    History {
        key: String,
        result: BackendResult<Vec<RevisionRow>>,
    },
    Leases(BackendResult<LeaseReport>),
    Findings(BackendResult<Findings>),
    Snapshots(BackendResult<Vec<SnapshotRow>>),
    Verify {
        path: String,
        result: BackendResult<VerifyResult>,
    },
    Diff {
        from: String,
        to: Option<String>,
        result: BackendResult<SnapshotDiff>,
    },
    Deleted {
        key: String,
        result: BackendResult<String>,
    },
    /// The live refresher's poll: a fresh overview, or the error and the next retry delay.
    Refreshed(Result<Overview, (String, Duration)>),
    /// A backend call panicked; the UI quits with this message.
    Crashed(String),
}

pub struct Worker {
    backend: Arc<dyn Backend>,
    tx: Sender<Reply>,
}

impl Worker {
    pub fn new(backend: Arc<dyn Backend>) -> (Worker, Receiver<Reply>) {
        let (tx, rx) = channel();
        (Worker { backend, tx }, rx)
    }

    /// Runs `req` on its own thread; the answer arrives on the receiver.
    pub fn send(&self, req: Request) {
        let backend = self.backend.clone();
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("revkeeper-ui-worker".into())
            .spawn(move || {
                let progress_tx = tx.clone();
                let answer = catch_unwind(AssertUnwindSafe(|| call(&*backend, req, &progress_tx)));
                let _ = tx.send(answer.unwrap_or_else(|p| Reply::Crashed(panic_text(&p))));
            });
        if let Err(e) = spawned {
            let _ = self
                .tx
                .send(Reply::Crashed(format!("cannot start a worker thread: {e}")));
        }
    }

    /// A resource name → its etcd resource. Answered on the calling thread: a table lookup.
    pub fn resolve(&self, name: &str) -> Option<String> {
        self.backend.resolve_resource(name)
    }

    /// kubectl's name of an etcd resource. Answered on the calling thread: a table lookup.
    pub fn display_name(&self, resource: &str) -> String {
        self.backend.display_name(resource)
    }

    /// Why deletes are off, if they are. Answered on the calling thread: a flag.
    pub fn write_blocked(&self) -> Option<String> {
        self.backend.write_blocked()
    }

    /// Polls the overview every `every`, doubling the wait (up to 16×) while it fails, until
    /// the returned handle is dropped.
    pub fn start_refresher(&self, every: Duration) -> Sender<()> {
        let (stop_tx, stop_rx) = channel::<()>();
        let backend = self.backend.clone();
        let tx = self.tx.clone();
        let _ = std::thread::Builder::new()
            .name("revkeeper-ui-refresh".into())
            .spawn(move || {
                let mut wait = every;
                loop {
                    match stop_rx.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    let started = Instant::now();
                    let reply = match catch_unwind(AssertUnwindSafe(|| backend.overview())) {
                        Ok(Ok(o)) => {
                            wait = every;
                            Ok(o)
                        }
                        Ok(Err(e)) => {
                            wait = (wait * 2).min(every * 16);
                            Err((e, wait))
                        }
                        Err(p) => {
                            let _ = tx.send(Reply::Crashed(panic_text(&p)));
                            return;
                        }
                    };
                    // A slow answer also backs off, so a struggling etcd is not polled harder.
                    if started.elapsed() > every {
                        wait = (wait * 2).min(every * 16);
                    }
                    if tx.send(Reply::Refreshed(reply)).is_err() {
                        return;
                    }
                }
            });
        stop_tx
    }
}

fn call(b: &dyn Backend, req: Request, tx: &Sender<Reply>) -> Reply {
    match req {
        Request::Overview => Reply::Overview(b.overview()),
        Request::SettledOverview => Reply::Overview(b.settled_overview()),
        Request::Keyspace => {
            let progress = |n: u64| {
                let _ = tx.send(Reply::Progress(n));
            };
            Reply::Keyspace(b.keyspace(&progress))
        }
        Request::Objects {
            resource,
            namespace,
        } => {
            let progress = |decoded: u64| {
                let _ = tx.send(Reply::ObjectsProgress {
                    resource: resource.clone(),
                    namespace: namespace.clone(),
                    decoded,
                });
            };
            let result = b
                .objects(&resource, namespace.as_deref(), &progress)
                .map(ObjectList::new);
            Reply::Objects {
                resource,
                namespace,
                result,
            }
        }
        Request::Object { key, revision } => {
            let result = b.object(&key, revision);
            Reply::Object {
                key,
                revision,
                result,
            }
        }
        Request::History { key } => {
            let result = b.history(&key);
            Reply::History { key, result }
        }
        Request::Leases => Reply::Leases(b.leases()),
        Request::Findings => Reply::Findings(b.findings()),
        Request::Snapshots => Reply::Snapshots(b.snapshots()),
        Request::Verify { path } => {
            let result = b.verify_snapshot(&path);
            Reply::Verify { path, result }
        }
        Request::Diff { from, to } => {
            let result = b.diff_snapshots(&from, to.as_deref());
            Reply::Diff { from, to, result }
        }
        Request::Delete(target) => {
            let result = b.delete(&target);
            Reply::Deleted {
                key: target.key,
                result,
            }
        }
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a background task panicked".into())
}
