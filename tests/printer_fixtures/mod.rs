//! The shared fixtures as the printer tests read them: the k8s-api round-trip objects and
//! cluster-dev's live objects, and one printer row of an object.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use revkeeper::printers::{Ctx, Printer};
use revkeeper_harness::require_fixture;
use serde_json::Value;
use time::macros::datetime;

/// After every timestamp of the k8s-api fixtures (they are 2001…2010-01-01T01:01:01Z).
/// Ages from there: 2008-01-01 (creationTimestamp) is 731 days → "2y1d" (2y ≤ age < 8y:
/// years and days); 2007 is 1096 days → "3y1d"; 2006 → "4y1d"; 2004 → 2192 days → "6y2d".
pub const K8S_API_NOW: time::OffsetDateTime = datetime!(2010-01-01 01:01:01 UTC);
/// cluster-dev's estimated snapshot time (the newest heartbeat, see the CLI test).
pub const CLUSTER_NOW: time::OffsetDateTime = datetime!(2026-11-20 23:31:52 UTC);

pub fn k8s_api(name: &str) -> Option<Value> {
    let path = require_fixture(&format!("k8s-api/v1.33.0/{name}.json"))?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

/// cluster-dev's live objects by key.
pub fn cluster_dev_objects() -> Option<&'static HashMap<String, Value>> {
    static OBJECTS: OnceLock<HashMap<String, Value>> = OnceLock::new();
    let dir = require_fixture("cluster-dev/objects.jsonl")?;
    let dir = dir.parent()?.to_path_buf();
    Some(OBJECTS.get_or_init(|| {
        std::fs::read_to_string(dir.join("objects.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["key"].as_str().unwrap().to_string(), v["object"].clone())
            })
            .collect()
    }))
}

pub fn cluster_dev(key: &str) -> Option<Value> {
    let objects = cluster_dev_objects()?;
    Some(
        objects
            .get(key)
            .unwrap_or_else(|| panic!("{key} in objects.jsonl"))
            .clone(),
    )
}

/// Every cell of the row (wide ones included: the apiserver prints wide, kubectl filters).
pub fn row(group: &str, plural: &str, object: &Value, now: time::OffsetDateTime) -> Vec<String> {
    Printer::for_resource(group, plural).cells(object, &Ctx { now })
}

pub fn headers(group: &str, plural: &str) -> Vec<String> {
    Printer::for_resource(group, plural)
        .columns()
        .into_iter()
        .map(|c| {
            if c.wide {
                format!("[{}]", c.name)
            } else {
                c.name
            }
        })
        .collect()
}
