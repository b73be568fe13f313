//! A live cluster as a [`Source`]: the same questions, answered by etcd's v3 API.
//!
//! The trait is synchronous, so a live source owns a small tokio runtime and blocks on it; the
//! CLI and the TUI's worker threads then treat both kinds of source alike.

use std::sync::Arc;
use std::time::Duration;

use etcd_client::{AlarmAction, AlarmType, Client, GetOptions, WatchOptions};

use super::{
    AlarmRecord, ChangeView, KeyRange, KeyView, LeaseRecord, MemberRecord, Overview, RangeQuery,
    Source, WatchEnd,
};
use crate::connect::{ConnectConfig, DEFAULT_COMMAND_TIMEOUT, rpc_error};
use crate::{Error, ErrorKind, Result};

/// Large prefixes are read in pages at one pinned revision, so a million-key cluster never
/// needs one huge response (which etcdctl runs into). etcd counts the whole rest of the range on
/// every limited Range, so pages must be few: they are sized by bytes, starting at
/// `FIRST_PAGE` keys and resized after each response to hold about `PAGE_BYTES`.
const FIRST_PAGE: i64 = 1000;
const PAGE_BYTES: usize = 16 << 20;
/// The largest Range response accepted: well above `PAGE_BYTES`, so pages of uneven values fit;
/// a page that still does not fit is asked again with half the keys.
const MAX_RESPONSE_BYTES: usize = 64 << 20;
/// A quiet watch asks etcd for a progress report this often; no answer within two of these
/// means the connection is gone, even when no error came.
const WATCH_PROGRESS_EVERY: Duration = Duration::from_secs(30);

pub struct LiveSource {
    /// Shared by the sources of one caller that walks from member to member (`backup run`), so
    /// every connection it made stays driven.
    runtime: Arc<tokio::runtime::Runtime>,
    client: Client,
    endpoint: String,
    command_timeout: Duration,
    /// The compact revision found last time: checking that it still is costs two requests
    /// instead of a search (the TUI asks every few seconds).
    compaction_seen: std::sync::Mutex<i64>,
}

impl LiveSource {
    /// Wraps a connected client; `endpoint` is the member it talks to (for messages).
    pub fn new(
        runtime: tokio::runtime::Runtime,
        client: Client,
        endpoint: String,
        command_timeout: Duration,
    ) -> LiveSource {
        LiveSource::on_runtime(Arc::new(runtime), client, endpoint, command_timeout)
    }

    /// [`LiveSource::new`] on a runtime the caller shares (the one `client` was connected on).
    pub fn on_runtime(
        runtime: Arc<tokio::runtime::Runtime>,
        client: Client,
        endpoint: String,
        command_timeout: Duration,
    ) -> LiveSource {
        LiveSource {
            runtime,
            client,
            endpoint,
            command_timeout,
            compaction_seen: std::sync::Mutex::new(0),
        }
    }

    /// Connects to the first healthy member of `config` (the one way every verb opens a live
    /// cluster for reading).
    pub fn connect(config: &ConnectConfig) -> Result<LiveSource> {
        let (runtime, conn) = config.connect_blocking()?;
        let timeout = config.command_timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT);
        Ok(LiveSource::new(
            runtime,
            conn.client,
            conn.endpoint,
            timeout,
        ))
    }

    fn block<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
    ) -> Result<T> {
        self.block_raw(what, fut)?
            .map_err(|e| rpc_error(what, &self.endpoint, &e))
    }

    /// [`Self::block`], leaving etcd's answer to the caller; only a timeout is an error here.
    fn block_raw<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
    ) -> Result<std::result::Result<T, etcd_client::Error>> {
        let timeout = self.command_timeout;
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, fut).await })
            .map_err(|_| {
                Error::connect(format!(
                    "{what} on {} timed out after {timeout:?} (raise --command-timeout?)",
                    self.endpoint
                ))
            })
    }

    fn current_revision(&self) -> Result<i64> {
        let mut c = self.client.clone();
        let resp = self.block("get revision", async move {
            c.get("\0", Some(GetOptions::new().with_count_only())).await
        })?;
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// The compact revision, found by binary search: a Range at revision r fails as compacted
    /// exactly when r < compact revision. About 30 count-only requests for any history length.
    pub fn compact_revision(&self) -> Result<i64> {
        let current = self.current_revision()?;
        let readable = |rev: i64| -> Result<bool> {
            let mut c = self.client.clone();
            let res = self.runtime.block_on(async move {
                c.get(
                    "\0",
                    Some(GetOptions::new().with_count_only().with_revision(rev)),
                )
                .await
            });
            match res {
                Ok(_) => Ok(true),
                Err(e) if is_compacted(&e) => Ok(false),
                Err(e) => Err(rpc_error("probe compaction", &self.endpoint, &e)),
            }
        };
        let seen = *self
            .compaction_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if seen > 1 && seen <= current && readable(seen)? && !readable(seen - 1)? {
            return Ok(seen);
        }
        if current <= 1 || readable(1)? {
            return Ok(0);
        }
        let (mut lo, mut hi) = (1, current); // lo unreadable, hi readable
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if readable(mid)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        *self
            .compaction_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = hi;
        Ok(hi)
    }

    /// etcd's alarm list, asked for. Only when the status did not say (see [`alarms_in_status`]):
    /// an Alarm request goes through raft, a write to the WAL each time.
    fn alarm_list(&self) -> Result<Vec<AlarmRecord>> {
        let mut c = self.client.clone();
        // The alarm list only adds to the overview: a user whose role may not list alarms still
        // gets everything else (with a warning), rather than a failed `get` or `stale`.
        match self.block("alarm list", async move {
            c.alarm(AlarmAction::Get, AlarmType::None, None).await
        }) {
            Ok(resp) => Ok(resp
                .alarms()
                .iter()
                .map(|a| AlarmRecord {
                    member_id: a.member_id(),
                    alarm: revkeeper_formats::etcd::alarm::AlarmType::from_i32(a.alarm() as i32)
                        .name(),
                })
                .collect()),
            Err(e) if matches!(e.kind, ErrorKind::Server | ErrorKind::InvalidInput) => {
                crate::log::warn(&format!("alarms not shown: {e}"), &[]);
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// The id of every lease etcd holds (one request, whatever their number).
    pub fn lease_ids(&self) -> Result<Vec<i64>> {
        let mut c = self.client.clone();
        let list = self.block("lease list", async move { c.leases().await })?;
        Ok(list.leases().iter().map(|l| l.id()).collect())
    }

    /// One lease's granted and remaining TTL; `None` when it expired or was revoked meanwhile.
    pub fn lease(&self, id: i64) -> Result<Option<LeaseRecord>> {
        let mut c = self.client.clone();
        let ttl = self.block("lease time-to-live", async move {
            c.lease_time_to_live(id, None).await
        })?;
        Ok((ttl.ttl() >= 0).then(|| LeaseRecord {
            id,
            ttl: ttl.granted_ttl(),
            remaining_ttl: Some(ttl.ttl()),
        }))
    }

    /// [`Source::scan`], sleeping `pause` after each page but the last.
    fn scan_with_pause(
        &self,
        query: &RangeQuery,
        pause: Duration,
        f: &mut dyn FnMut(KeyView<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut start = first_key(&query.range.start);
        let mut revision = query.revision.unwrap_or(0);
        let mut limit = FIRST_PAGE;
        let kv = self
            .client
            .kv_client()
            .max_decoding_message_size(MAX_RESPONSE_BYTES);
        loop {
            let mut opts = GetOptions::new().with_revision(revision);
            if let Some(end) = &query.range.end {
                opts = opts.with_range(end.clone()).with_limit(limit);
            }
            if query.keys_only {
                opts = opts.with_keys_only();
            }
            let mut c = kv.clone();
            let key = start.clone();
            let resp = match self.block_raw("range", async move { c.get(key, Some(opts)).await })? {
                Ok(resp) => resp,
                Err(e) if limit > 1 && is_too_large(&e) => {
                    limit /= 2;
                    continue;
                }
                Err(e) => return Err(rpc_error("range", &self.endpoint, &e)),
            };
            if revision == 0 {
                // Pin every later page to the revision of the first one.
                revision = resp.header().map(|h| h.revision()).unwrap_or(0);
            }
            let mut bytes = 0;
            for kv in resp.kvs() {
                bytes += kv.key().len() + kv.value().len();
                f(KeyView {
                    key: kv.key(),
                    create_revision: kv.create_revision(),
                    mod_revision: kv.mod_revision(),
                    version: kv.version(),
                    value: kv.value(),
                    lease: kv.lease(),
                })?;
            }
            limit = next_limit(resp.kvs().len(), bytes, limit);
            match (resp.more(), resp.kvs().last()) {
                (true, Some(last)) => {
                    start = last.key().to_vec();
                    start.push(0);
                    if !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                }
                _ => return Ok(()),
            }
        }
    }
}

impl Source for LiveSource {
    fn overview(&self) -> Result<Overview> {
        let mut c = self.client.clone();
        let status = self.block("status", async move { c.status().await })?;
        let mut c = self.client.clone();
        let list = self.block("member list", async move { c.member_list().await })?;
        let alarms = match alarms_in_status(status.errors()) {
            Some(alarms) => alarms,
            None => self.alarm_list()?,
        };
        let header = status.header();
        let members = list
            .members()
            .iter()
            .map(|m| MemberRecord {
                id: m.id(),
                name: m.name().to_string(),
                peer_urls: m.peer_urls().to_vec(),
                client_urls: m.client_urls().to_vec(),
                is_learner: m.is_learner(),
            })
            .collect();
        Ok(Overview {
            description: format!("cluster via {}", self.endpoint),
            revision: header.map(|h| h.revision()).unwrap_or(0),
            compact_revision: self.compact_revision()?,
            db_size: status.db_size().max(0) as u64,
            db_size_in_use: status.raft_used_db_size().max(0) as u64,
            members,
            server_version: Some(status.version().to_string()),
            cluster_id: header.map(|h| h.cluster_id()),
            leader: Some(status.leader()).filter(|&id| id != 0),
            alarms,
        })
    }

    fn scan(&self, query: &RangeQuery, f: &mut dyn FnMut(KeyView<'_>) -> Result<()>) -> Result<()> {
        self.scan_with_pause(query, Duration::ZERO, f)
    }

    fn scan_paced(
        &self,
        query: &RangeQuery,
        pause: Duration,
        f: &mut dyn FnMut(KeyView<'_>) -> Result<()>,
    ) -> Result<()> {
        self.scan_with_pause(query, pause, f)
    }

    fn scan_changes(
        &self,
        range: &KeyRange,
        f: &mut dyn FnMut(ChangeView<'_>) -> Result<()>,
    ) -> Result<()> {
        let from = self.compact_revision()?.max(1);
        let until = self.current_revision()?;
        let mut c = self.client.clone();
        let version = self
            .block("status", async move { c.status().await })?
            .version()
            .to_string();
        // etcd 3.4 answers a progress request at once, caught up or not; with it, the history
        // ends when the stream has been quiet for a while after the watch was created.
        let progress_marks_end = !version.starts_with("3.4.") && !version.starts_with("3.3.");
        let mut c = self.client.clone();
        let key = first_key(&range.start);
        let range_end = range.end.clone();
        let mut failed: Option<Error> = None;
        let timeout = self.command_timeout;
        let endpoint = self.endpoint.clone();
        self.runtime.block_on(async move {
            let work = async {
                let mut opts = WatchOptions::new().with_start_revision(from);
                if let Some(end) = range_end {
                    opts = opts.with_range(end);
                }
                let mut stream = c.watch(key, Some(opts)).await?;
                let mut created = false;
                loop {
                    // A progress response comes only once the watcher has caught up with the
                    // history, so the first one at `until` or later marks the end. It is asked
                    // for after `created` (etcd 3.4 answers at once while no watcher exists) and
                    // asked again while unanswered (3.4 ignores it while the watcher catches up).
                    if created && progress_marks_end {
                        stream.request_progress().await?;
                    }
                    let wait = match (created, progress_marks_end) {
                        (false, _) => timeout,
                        (true, true) => Duration::from_millis(200),
                        (true, false) => Duration::from_millis(500),
                    };
                    let Ok(next) = tokio::time::timeout(wait, stream.message()).await else {
                        if progress_marks_end {
                            continue;
                        }
                        return Ok(());
                    };
                    let Some(resp) = next? else {
                        return Ok(());
                    };
                    if resp.canceled() {
                        return Err(etcd_client::Error::WatchError(
                            resp.cancel_reason().to_string(),
                        ));
                    }
                    for change in resp.events().iter().filter_map(change_view) {
                        if let Err(e) = f(change) {
                            failed = Some(e);
                            return Ok(());
                        }
                    }
                    let at = resp.header().map(|h| h.revision()).unwrap_or(0);
                    if resp.created() {
                        created = true;
                    } else if progress_marks_end && resp.events().is_empty() && at >= until {
                        return Ok(());
                    }
                }
            };
            match tokio::time::timeout(timeout.max(Duration::from_secs(10)), work).await {
                Ok(r) => match (r, failed) {
                    (_, Some(e)) => Err(e),
                    (r, None) => r.map_err(|e| rpc_error("watch history", &endpoint, &e)),
                },
                Err(_) => Err(Error::connect(format!(
                    "reading history from {endpoint} timed out"
                ))),
            }
        })
    }

    fn leases(&self) -> Result<Vec<LeaseRecord>> {
        let mut out = Vec::new();
        for id in self.lease_ids()? {
            out.extend(self.lease(id)?);
        }
        Ok(out)
    }

    fn watch(
        &self,
        range: &KeyRange,
        from: i64,
        f: &mut dyn FnMut(&[ChangeView<'_>], i64) -> Result<bool>,
    ) -> Result<WatchEnd> {
        let key = first_key(&range.start);
        // Fragments: etcd splits a response bigger than its request limit instead of failing it.
        let mut opts = WatchOptions::new()
            .with_start_revision(from)
            .with_fragment();
        if let Some(end) = &range.end {
            opts = opts.with_range(end.clone());
        }
        let mut client = self
            .client
            .watch_client()
            .max_decoding_message_size(MAX_RESPONSE_BYTES);
        let (endpoint, timeout) = (&self.endpoint, self.command_timeout);
        let lost = |why: &dyn std::fmt::Display| {
            Error::connect(format!(
                "the watch on {endpoint} was lost ({why}); it resumes where it stopped"
            ))
        };
        self.runtime.block_on(async move {
            let mut stream =
                match tokio::time::timeout(timeout, client.watch(key, Some(opts))).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => return Err(rpc_error("watch", endpoint, &e)),
                    Err(_) => return Err(lost(&format!("no answer within {timeout:?}"))),
                };
            let (mut heard, mut asked) = (std::time::Instant::now(), std::time::Instant::now());
            let mut fragments: Vec<etcd_client::WatchResponse> = Vec::new();
            loop {
                let resp =
                    match tokio::time::timeout(Duration::from_secs(1), stream.message()).await {
                        Err(_quiet) => {
                            if heard.elapsed() >= 2 * WATCH_PROGRESS_EVERY {
                                return Err(lost(&"no answer to progress requests"));
                            }
                            if heard.elapsed() >= WATCH_PROGRESS_EVERY
                                && asked.elapsed() >= WATCH_PROGRESS_EVERY
                            {
                                stream.request_progress().await.map_err(|e| lost(&e))?;
                                asked = std::time::Instant::now();
                            }
                            if !f(&[], 0)? {
                                return Ok(WatchEnd::Stopped);
                            }
                            continue;
                        }
                        Ok(Err(e)) => return Err(lost(&e)),
                        Ok(Ok(None)) => return Err(lost(&"etcd ended the stream")),
                        Ok(Ok(Some(resp))) => resp,
                    };
                heard = std::time::Instant::now();
                if resp.canceled() {
                    if resp.compact_revision() > 0 {
                        return Ok(WatchEnd::Compacted {
                            compact_revision: resp.compact_revision(),
                        });
                    }
                    return Err(Error::server(format!(
                        "etcd on {endpoint} cancelled the watch: {}",
                        resp.cancel_reason()
                    )));
                }
                // A fragment is held until the last one: `f` only ever sees whole revisions,
                // so a caller that stops after any call resumes at its next revision.
                if resp.0.fragment {
                    fragments.push(resp);
                    continue;
                }
                let at = resp.header().map(|h| h.revision()).unwrap_or(0);
                let changes: Vec<ChangeView<'_>> = fragments
                    .iter()
                    .chain([&resp])
                    .flat_map(|r| r.events())
                    .filter_map(change_view)
                    .collect();
                if !f(&changes, at)? {
                    return Ok(WatchEnd::Stopped);
                }
                drop(changes);
                fragments.clear();
            }
        })
    }
}

/// The key a request for `start` sends: etcd rejects an empty key, and "\0" is where "every
/// key" starts, as in etcdctl.
fn first_key(start: &[u8]) -> Vec<u8> {
    match start {
        [] => vec![0],
        s => s.to_vec(),
    }
}

/// The cluster's alarms from a Status response: etcd lists each in `errors` as its alarm
/// member in protobuf text (`memberID:8e9e… alarm:NOSPACE`), beside other errors such as "no
/// leader". `None` when an alarm line does not read that way (then ask the alarm list).
fn alarms_in_status(errors: &[String]) -> Option<Vec<AlarmRecord>> {
    let mut out = Vec::new();
    for e in errors.iter().filter(|e| e.contains("alarm:")) {
        let field = |name: &str| {
            e.split_whitespace()
                .find_map(|t| t.strip_prefix(name)?.strip_prefix(':'))
        };
        out.push(AlarmRecord {
            member_id: field("memberID")?.parse().ok()?,
            alarm: field("alarm")?.to_string(),
        });
    }
    Some(out)
}

/// One watch event as a [`ChangeView`] (`None` for an event without a key-value).
fn change_view(ev: &etcd_client::Event) -> Option<ChangeView<'_>> {
    let kv = ev.kv()?;
    let deleted = ev.event_type() == etcd_client::EventType::Delete;
    Some(ChangeView {
        revision: kv.mod_revision(),
        deleted,
        kv: KeyView {
            key: kv.key(),
            create_revision: kv.create_revision(),
            mod_revision: if deleted { 0 } else { kv.mod_revision() },
            version: kv.version(),
            value: kv.value(),
            lease: kv.lease(),
        },
    })
}

/// The next page's key limit: about `PAGE_BYTES` at this page's bytes per key, never more than
/// eight times this limit (values vary along a range) and never below `FIRST_PAGE`, unless a
/// too-large page already forced this limit lower.
fn next_limit(keys: usize, bytes: usize, limit: i64) -> i64 {
    if keys == 0 {
        return limit;
    }
    let per_key = (bytes / keys).max(1);
    ((PAGE_BYTES / per_key) as i64).clamp(FIRST_PAGE.min(limit), limit.saturating_mul(8))
}

/// A response larger than the client accepts (`MAX_RESPONSE_BYTES`).
fn is_too_large(e: &etcd_client::Error) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s) if s.code() == tonic::Code::OutOfRange
        && s.message().contains("message length too large"))
}

fn is_compacted(e: &etcd_client::Error) -> bool {
    e.to_string()
        .contains("required revision has been compacted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarms_are_read_from_the_status_errors() {
        let errors = [
            "etcdserver: no leader".to_string(),
            "memberID:10276657743932975437 alarm:NOSPACE ".to_string(),
        ];
        assert_eq!(
            alarms_in_status(&errors),
            Some(vec![AlarmRecord {
                member_id: 10276657743932975437,
                alarm: "NOSPACE".into()
            }])
        );
        assert_eq!(alarms_in_status(&[]), Some(vec![]));
        assert_eq!(alarms_in_status(&["alarm:? member unknown".into()]), None);
    }

    #[test]
    fn pages_grow_to_about_page_bytes_and_stay_small_for_big_values() {
        // 200-byte values: 16 MiB is ~84k keys, reached in steps of at most 8x.
        assert_eq!(next_limit(1000, 200_000, 1000), 8000);
        assert_eq!(next_limit(64_000, 12_800_000, 64_000), 83_886);
        // 1 MiB values: 16 keys, but not below 1000 unless a page was too large.
        assert_eq!(next_limit(1000, 1000 << 20, 1000), 1000);
        assert_eq!(next_limit(31, 31 << 20, 31), 31);
        assert_eq!(next_limit(31, 31 << 10, 31), 248);
        // The last, empty page keeps the limit.
        assert_eq!(next_limit(0, 0, 500), 500);
    }
}
