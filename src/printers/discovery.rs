//! Which resource a name means, as kubectl's discovery decides, and how it is printed:
//! built-in names first (plural, singular, kind, short name, `plural.group`), then the
//! source's own CRDs (plural, singular, kind, short names, each also with `.group`). A custom
//! resource without a CRD is still readable as `<plural>.<group>` (NAME and AGE).

use revkeeper_formats::k8s::resources::{self, Target, UnknownResource};
use revkeeper_formats::k8s::{Keyring, key::key_prefix};

use super::Printer;
use super::custom::{Columns, Crd};
use crate::decode::decode_kv;
use crate::source::{KeyRange, RangeQuery, Source};
use crate::{Error, Result};

/// Where CRDs are stored below the prefix.
pub const CRDS: &str = "apiextensions.k8s.io/customresourcedefinitions";

/// A resource the user named: where its objects are and how to print them.
pub struct Resolved {
    pub target: Target,
    pub printer: Printer,
    /// Columns of the CRD this reader cannot evaluate: `(column, why)`.
    pub unsupported: Vec<(String, String)>,
}

/// Resolves `name` against the built-ins and the CRDs stored in `source` (read at `revision`).
pub fn resolve(
    source: &dyn Source,
    name: &str,
    prefix: &str,
    keyring: &Keyring,
    revision: Option<i64>,
) -> Result<Resolved> {
    if let Some(r) = resources::lookup(name) {
        return Ok(Resolved {
            target: Target {
                etcd_resource: r.etcd_resource.to_string(),
                namespaced: Some(r.namespaced),
            },
            printer: Printer::for_resource(r.group, r.plural),
            unsupported: Vec::new(),
        });
    }
    let lower = name.to_ascii_lowercase();
    let (base, group) = match lower.split_once('/') {
        // `group/plural`, as the older spelling.
        Some((group, plural)) => (plural.to_string(), Some(group.to_string())),
        None => match lower.split_once('.') {
            Some((base, group)) => (base.to_string(), Some(group.to_string())),
            None => (lower.clone(), None),
        },
    };
    let mut crds = read_crds(source, prefix, keyring, revision)?;
    let matching: Vec<usize> = (0..crds.len())
        .filter(|i| {
            let c = &crds[*i];
            c.is_named(&base) && group.as_ref().is_none_or(|g| *g == c.group)
        })
        .collect();
    match matching.as_slice() {
        [i] => {
            let crd = crds.swap_remove(*i);
            let unsupported = crd.columns.unsupported();
            Ok(Resolved {
                target: Target {
                    etcd_resource: resources::custom_etcd_resource(&crd.plural, &crd.group),
                    namespaced: Some(crd.namespaced),
                },
                printer: Printer::Custom(crd.columns),
                unsupported,
            })
        }
        [] => {
            // No CRD: `<plural>.<group>` still names where the objects would be.
            let target = resources::resolve(name)
                .map_err(|e: UnknownResource| Error::invalid(e.to_string()))?;
            Ok(Resolved {
                target,
                printer: Printer::Custom(Columns::age_only()),
                unsupported: Vec::new(),
            })
        }
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|i| format!("{}.{}", crds[*i].plural, crds[*i].group))
                .collect();
            Err(Error::invalid(format!(
                "{name:?} names several custom resources: {}; give one as <plural>.<group>",
                names.join(", ")
            )))
        }
    }
}

/// The resource stored under `etcd_resource` (`pods`, `minions`, `services/specs`,
/// `example.com/widgets`, as keys name it) and how `get` prints it: a built-in's printer, a
/// custom resource's CRD columns read from `source`, or — for anything else below the prefix
/// (`masterleases`) — the columns of objects of any kind.
pub fn for_etcd_resource(
    source: &dyn Source,
    etcd_resource: &str,
    prefix: &str,
    keyring: &Keyring,
) -> Result<Resolved> {
    if let Some(r) = resources::by_etcd_resource(etcd_resource) {
        return Ok(Resolved {
            target: Target {
                etcd_resource: etcd_resource.to_string(),
                namespaced: Some(r.namespaced),
            },
            printer: Printer::for_resource(r.group, r.plural),
            unsupported: Vec::new(),
        });
    }
    match etcd_resource.split_once('/') {
        Some((group, plural)) if group.contains('.') && !plural.contains('/') => {
            resolve(source, &format!("{plural}.{group}"), prefix, keyring, None)
        }
        _ => Ok(Resolved {
            target: Target {
                etcd_resource: etcd_resource.to_string(),
                namespaced: None,
            },
            printer: Printer::Mixed,
            unsupported: Vec::new(),
        }),
    }
}

/// Every CRD the source keeps (a few hundred at most); one that cannot be decoded is named
/// on stderr and left out.
fn read_crds(
    source: &dyn Source,
    prefix: &str,
    keyring: &Keyring,
    revision: Option<i64>,
) -> Result<Vec<Crd>> {
    let query = RangeQuery {
        range: KeyRange::prefix(key_prefix(prefix, CRDS, None).into_bytes()),
        revision,
        keys_only: false,
    };
    let mut crds = Vec::new();
    source.scan(&query, &mut |kv| {
        match decode_kv(&kv, keyring) {
            Ok(d) => crds.extend(d.object.as_ref().map(Crd::from_object)),
            Err(e) => crate::log::warn(
                &format!(
                    "{}: cannot decode this CRD, its resources are not recognised: {e}",
                    String::from_utf8_lossy(kv.key)
                ),
                &[],
            ),
        }
        Ok(())
    })?;
    Ok(crds)
}
