//! Storage: persistent volumes and claims, storage and volume attributes classes, volume
//! attachments, CSI nodes and drivers.

use serde_json::Value;

use super::cells::{access_modes, bool_text, count, items, quantity, s};
use super::time::is_set;
use super::{Ctx, Kind, col, name_and_age, wide};

const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// `<unset>` for an absent optional string.
fn or_unset(v: &Value) -> String {
    v.as_str().unwrap_or("<unset>").to_string()
}

/// An absent `Quantity` is Go's zero value, which prints `0`.
fn storage_quantity(v: &Value) -> String {
    if v.is_null() { "0".into() } else { quantity(v) }
}

/// An annotation's value.
fn annotation<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o["metadata"]["annotations"][key].as_str()
}

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group: "",
        plural: "persistentvolumes",
        columns: &[
            col("Name"),
            col("Capacity"),
            col("Access Modes"),
            col("Reclaim Policy"),
            col("Status"),
            col("Claim"),
            col("StorageClass"),
            col("VolumeAttributesClass"),
            col("Reason"),
            col("Age"),
            wide("VolumeMode"),
        ],
        row: persistent_volume,
    },
    Kind {
        group: "",
        plural: "persistentvolumeclaims",
        columns: &[
            col("Name"),
            col("Status"),
            col("Volume"),
            col("Capacity"),
            col("Access Modes"),
            col("StorageClass"),
            col("VolumeAttributesClass"),
            col("Age"),
            wide("VolumeMode"),
        ],
        row: persistent_volume_claim,
    },
    Kind {
        group: "storage.k8s.io",
        plural: "storageclasses",
        columns: &[
            col("Name"),
            col("Provisioner"),
            col("ReclaimPolicy"),
            col("VolumeBindingMode"),
            col("AllowVolumeExpansion"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [mut name, age] = name_and_age(o, ctx);
            let default = [
                "storageclass.kubernetes.io/is-default-class",
                "storageclass.beta.kubernetes.io/is-default-class",
            ]
            .iter()
            .any(|k| annotation(o, k) == Some("true"));
            if default {
                name.push_str(" (default)");
            }
            vec![
                name,
                s(&o["provisioner"]).to_string(),
                o["reclaimPolicy"].as_str().unwrap_or("Delete").to_string(),
                o["volumeBindingMode"]
                    .as_str()
                    .unwrap_or("Immediate")
                    .to_string(),
                bool_text(o["allowVolumeExpansion"].as_bool().unwrap_or(false)),
                age,
            ]
        },
    },
    Kind {
        group: "storage.k8s.io",
        plural: "volumeattributesclasses",
        columns: &[col("Name"), col("DriverName"), col("Age")],
        row: |o, ctx| {
            let [mut name, age] = name_and_age(o, ctx);
            let key = "volumeattributesclass.alpha.kubernetes.io/is-default-class";
            if annotation(o, key) == Some("true") {
                name.push_str(" (default)");
            }
            vec![name, s(&o["driverName"]).to_string(), age]
        },
    },
    Kind {
        group: "storage.k8s.io",
        plural: "volumeattachments",
        columns: &[
            col("Name"),
            col("Attacher"),
            col("PV"),
            col("Node"),
            col("Attached"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            vec![
                name,
                s(&spec["attacher"]).to_string(),
                s(&spec["source"]["persistentVolumeName"]).to_string(),
                s(&spec["nodeName"]).to_string(),
                bool_text(o["status"]["attached"].as_bool().unwrap_or(false)),
                age,
            ]
        },
    },
    Kind {
        group: "storage.k8s.io",
        plural: "csinodes",
        columns: &[col("Name"), col("Drivers"), col("Age")],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            vec![name, count(&o["spec"]["drivers"]).to_string(), age]
        },
    },
    Kind {
        group: "storage.k8s.io",
        plural: "csidrivers",
        columns: &[
            col("Name"),
            col("AttachRequired"),
            col("PodInfoOnMount"),
            col("StorageCapacity"),
            col("TokenRequests"),
            col("RequiresRepublish"),
            col("Modes"),
            col("Age"),
        ],
        row: |o, ctx| {
            let [name, age] = name_and_age(o, ctx);
            let spec = &o["spec"];
            let flag =
                |field: &str, default: bool| bool_text(spec[field].as_bool().unwrap_or(default));
            let tokens = match spec["tokenRequests"].as_array() {
                Some(list) => list
                    .iter()
                    .map(|t| s(&t["audience"]))
                    .collect::<Vec<_>>()
                    .join(","),
                None => "<unset>".into(),
            };
            let modes: Vec<&str> = items(&spec["volumeLifecycleModes"]).iter().map(s).collect();
            vec![
                name,
                flag("attachRequired", true),
                flag("podInfoOnMount", false),
                flag("storageCapacity", false),
                tokens,
                flag("requiresRepublish", false),
                super::cells::or_none(&modes.join(",")),
                age,
            ]
        },
    },
];

fn persistent_volume(o: &Value, ctx: &Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let spec = &o["spec"];
    let claim = &spec["claimRef"];
    let claim = if claim.is_object() {
        format!("{}/{}", s(&claim["namespace"]), s(&claim["name"]))
    } else {
        String::new()
    };
    let phase = if is_set(&o["metadata"]["deletionTimestamp"]) {
        "Terminating"
    } else {
        s(&o["status"]["phase"])
    };
    // The beta annotation wins over the field (helper.GetPersistentVolumeClass).
    let class = annotation(o, BETA_STORAGE_CLASS).unwrap_or(s(&spec["storageClassName"]));
    vec![
        name,
        storage_quantity(&spec["capacity"]["storage"]),
        access_modes(&spec["accessModes"]),
        s(&spec["persistentVolumeReclaimPolicy"]).to_string(),
        phase.to_string(),
        claim,
        class.to_string(),
        or_unset(&spec["volumeAttributesClassName"]),
        s(&o["status"]["reason"]).to_string(),
        age,
        or_unset(&spec["volumeMode"]),
    ]
}

fn persistent_volume_claim(o: &Value, ctx: &Ctx) -> Vec<String> {
    let [name, age] = name_and_age(o, ctx);
    let spec = &o["spec"];
    let phase = if is_set(&o["metadata"]["deletionTimestamp"]) {
        "Terminating"
    } else {
        s(&o["status"]["phase"])
    };
    // Capacity and access modes are the bound volume's: empty until bound.
    let volume = s(&spec["volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage_quantity(&o["status"]["capacity"]["storage"]),
            access_modes(&o["status"]["accessModes"]),
        )
    };
    let class = annotation(o, BETA_STORAGE_CLASS).unwrap_or(s(&spec["storageClassName"]));
    vec![
        name,
        phase.to_string(),
        volume.to_string(),
        capacity,
        modes,
        class.to_string(),
        or_unset(&spec["volumeAttributesClassName"]),
        age,
        or_unset(&spec["volumeMode"]),
    ]
}
