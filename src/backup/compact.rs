//! `backup compact`: a full snapshot and the delta segments after it, folded into a new full
//! snapshot at the chain's target with the restore writer, then written into the location like
//! any `snapshot save` (zstd, age to the same recipients, manifest), so later restores start
//! closer to their target.

use std::io::Read;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::chain::{self, Point};
use super::manifest::Compression;
use super::save::{self, CHANNEL_DEPTH, Fetched, SaveOptions, Saved, Target};
use super::writer::{self, Chunk, WriterConfig};
use crate::connect::MemberStatus;
use crate::location::{Decryptor, Encryptor, Location, LocationOptions};
use crate::source::open::{self, OpenOptions};
use crate::{Error, Result, log};

pub struct CompactOptions {
    pub location: String,
    pub to: Point,
    pub open: OpenOptions,
    /// Recipients for the new snapshot; `None`: those of the base snapshot, if it was encrypted.
    pub encryptor: Option<Arc<Encryptor>>,
    pub prefix: String,
    pub zstd_level: i32,
    pub store_options: LocationOptions,
}

pub fn compact(opts: &CompactOptions) -> Result<Saved> {
    let location = Location::parse(&opts.location)?;
    let store = location.open(&opts.store_options)?;
    let decryptor = Decryptor::from_args(&opts.open.identities)?;
    let chain = chain::plan(&store, opts.to, decryptor.as_ref())?;
    if chain.segments.is_empty() {
        return Err(Error::invalid(format!(
            "nothing to compact: revision {} is the full snapshot {} itself",
            chain.target, chain.base.path
        )));
    }
    let base = chain.base.manifest.clone();
    let encryptor = match (&opts.encryptor, &base.encryption) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(enc)) => Encryptor::from_args(&enc.recipients, &[])?.map(Arc::new),
        (None, None) => None,
    };
    log::info(
        "compacting",
        &[
            ("base", chain.base.path.clone().into()),
            ("segments", chain.segments.len().into()),
            ("to_revision", chain.target.into()),
        ],
    );
    let source = open::open(
        &chain.base.path,
        &OpenOptions {
            latest: false,
            ..opts.open.clone()
        },
    )?;
    let started = chain.target_time();
    let deltas = crate::restore::Deltas {
        store,
        segments: chain.segments,
        decryptor,
        target: chain.target,
    };
    let work = tempfile::Builder::new()
        .prefix(&crate::interrupt::temp_prefix("revkeeper-compact"))
        .tempdir()
        .map_err(|e| Error::general(format!("cannot create a temp dir: {e}")))?;
    let _on_signal = crate::interrupt::remove_on_signal(work.path());
    let db_path = work.path().join("db");
    let revision = crate::restore::write_compacted(&source, &deltas, &db_path)?;
    drop(source);

    let save_opts = SaveOptions {
        target: Target::Locations {
            locations: vec![location],
            prefix: opts.prefix.clone(),
        },
        compression: Compression::Zstd,
        zstd_level: opts.zstd_level,
        encryptor,
        store_options: opts.store_options.clone(),
        force: false,
        progress: false,
    };
    let destinations = Arc::new(save::check_target(&save_opts)?);
    let stems = destinations.stems(&save_opts, started);
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_DEPTH);
    let (dest, enc) = (destinations.clone(), save_opts.encryptor.clone());
    let config = WriterConfig {
        compression: Compression::Zstd,
        zstd_level: opts.zstd_level,
        workers: save::zstd_workers(),
    };
    let writer = std::thread::spawn(move || {
        dest.start(&stems, false)
            .map_err(writer::WriterError::Io)
            .and_then(|fanout| writer::run(fanout, enc.as_deref(), config, rx))
    });
    let fed = feed(&db_path, &tx);
    drop(tx);
    let written = writer
        .join()
        .map_err(|_| Error::general("the snapshot writer thread failed"))?;
    fed?;
    let (outcome, fanout) = written.map_err(|e| match e {
        writer::WriterError::Io(e) => e,
        writer::WriterError::Aborted => Error::general("the snapshot writer stopped early"),
    })?;
    let member = MemberStatus {
        cluster_id: u64::from_str_radix(&base.cluster_id, 16).unwrap_or_default(),
        member_id: u64::from_str_radix(&base.member_id, 16).unwrap_or_default(),
        name: base.member_name.clone(),
        version: base.etcd_version.clone(),
        storage_version: base.storage_version.clone(),
        revision,
        ..MemberStatus::default()
    };
    let endpoint = format!("backup compact of {} + delta segments", base.file);
    let fetched = Fetched::from_parts(fanout, outcome, member, endpoint, started);
    let saved = save::commit(fetched, &save_opts, &destinations)?;
    match saved.failure() {
        Some(e) => Err(e),
        None => Ok(saved),
    }
}

/// Streams the db file to the writer as `snapshot save` receives it from etcd: the db, then
/// its sha256 as the trailer.
fn feed(path: &std::path::Path, tx: &tokio::sync::mpsc::Sender<Chunk>) -> Result<()> {
    let gone = || Error::general("the snapshot writer stopped");
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let db_size = file
        .metadata()
        .map_err(|e| Error::io("cannot read", path, e))?
        .len();
    tx.blocking_send(Chunk::Start { db_size })
        .map_err(|_| gone())?;
    let mut hash = Sha256::new();
    loop {
        let mut buf = vec![0u8; 1 << 20];
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        hash.update(&buf);
        tx.blocking_send(Chunk::Db(buf)).map_err(|_| gone())?;
    }
    tx.blocking_send(Chunk::End {
        trailer: hash.finalize().into(),
    })
    .map_err(|_| gone())
}
