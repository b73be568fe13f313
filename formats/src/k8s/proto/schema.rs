//! The compact schema the decoder walks: per message, its fields in declaration order (Go struct
//! order, which is kubectl's key order), with field number, Go JSON name, type and the omitempty
//! hint. Built once from the FileDescriptorSet that `build.rs` compiles from `k8s-protos/`.

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/k8s_descriptors.bin"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    Double,
    Float,
    Int64,
    UInt64,
    Int32,
    UInt32,
    SInt32,
    SInt64,
    Fixed32,
    Fixed64,
    SFixed32,
    SFixed64,
    Bool,
    String,
    Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldType {
    Scalar(Scalar),
    Message(usize),
}

/// Kubernetes types whose Go JSON form is not the field-by-field object
/// (`docs/format-k8s.md#special-types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Special {
    None,
    /// meta/v1 Time: RFC 3339 seconds, UTC; an empty message is the zero time (`null`).
    Time,
    /// meta/v1 MicroTime: RFC 3339 with 6 fraction digits.
    MicroTime,
    /// meta/v1 Duration: Go duration string.
    Duration,
    /// resource.Quantity: its canonical string.
    Quantity,
    /// intstr.IntOrString: a number or a string.
    IntOrString,
    /// RawExtension, FieldsV1, apiextensions JSON: field 1 holds raw JSON, inlined.
    RawJson,
    /// apiextensions JSONSchemaPropsOrArray: a schema or an array of schemas.
    SchemaOrArray,
    /// apiextensions JSONSchemaPropsOrBool: a schema or a bool.
    SchemaOrBool,
    /// apiextensions JSONSchemaPropsOrStringArray: a schema or an array of strings.
    SchemaOrStringArray,
    /// A Go named slice (`ExtraValue []string`, `Verbs`): field 1 `items`, printed as the array.
    ItemList,
}

#[derive(Debug)]
pub(super) struct Field {
    pub number: u32,
    pub json_name: Box<str>,
    /// `"jsonName":`, ready to copy into the output.
    pub json_key: Box<[u8]>,
    pub ty: FieldType,
    pub repeated: bool,
    /// A proto `map<K, V>`: `ty` is the entry message {1 key, 2 value}.
    pub map: bool,
    /// Print a zero scalar read from the wire. Fields marked `+optional` are taken to be Go
    /// `omitempty` and dropped at zero, unless they are in `PRINT_ZERO`.
    pub keep_zero: bool,
    /// A Go embedded struct (`json:",inline"`): its fields are printed in the parent object.
    pub inline: bool,
    /// Drop the field when it decodes to `null` (ObjectMeta.creationTimestamp, `omitzero` since
    /// Kubernetes 1.34).
    pub omit_null: bool,
}

#[derive(Debug)]
pub(super) struct MessageDef {
    /// Full name without a leading dot, e.g. `api.core.v1.Pod`.
    pub name: Box<str>,
    pub fields: Vec<Field>,
    /// `by_number[n]` = index in `fields` + 1, 0 for no such field.
    by_number: Vec<u16>,
    /// Indices into `fields` sorted by field number: the order gogo writes them.
    pub wire_order: Vec<usize>,
    pub special: Special,
}

impl MessageDef {
    pub fn field(&self, number: u32) -> Option<(usize, &Field)> {
        let i = *self.by_number.get(number as usize)? as usize;
        (i > 0).then(|| (i - 1, &self.fields[i - 1]))
    }

    /// The message's simple name, for error messages.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

pub(super) struct Schema {
    pub messages: Vec<MessageDef>,
    by_name: HashMap<Box<str>, usize>,
    /// `legacy.v1_33`, ...: older releases' API versions (see `k8s-protos/README.md`), newest first.
    legacy: Vec<String>,
    /// meta/v1 ObjectMeta and the declaration index of its `resourceVersion`, which readers
    /// fill in from the key's mod_revision.
    pub resource_version: Option<(usize, u16)>,
}

impl Schema {
    pub fn get() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let set = FileDescriptorSet::decode(DESCRIPTORS)
                .expect("the FileDescriptorSet embedded by build.rs decodes");
            Schema::build(&set)
        })
    }

    pub fn legacy_prefixes(&self) -> &[String] {
        &self.legacy
    }

    pub fn lookup(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(full_name).copied()
    }

    fn build(set: &FileDescriptorSet) -> Schema {
        // Pass 1: every message (nested ones too) gets an index, so fields can refer to it.
        let mut flat: Vec<(String, &DescriptorProto, Vec<bool>)> = Vec::new();
        for file in &set.file {
            let optional = optional_paths(file);
            let package = file.package.as_deref().unwrap_or("");
            for (i, msg) in file.message_type.iter().enumerate() {
                collect(package, msg, vec![4, i as i32], &optional, &mut flat);
            }
        }
        let by_name: HashMap<Box<str>, usize> = flat
            .iter()
            .enumerate()
            .map(|(i, (name, _, _))| (name.clone().into_boxed_str(), i))
            .collect();
        // Pass 2: fields.
        let mut messages = Vec::with_capacity(flat.len());
        for (name, msg, markers) in &flat {
            let entry = msg.options.as_ref().is_some_and(|o| o.map_entry());
            let fields: Vec<Field> = msg
                .field
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let ty = match f.r#type() {
                        Type::Message | Type::Group => {
                            let target = f.type_name().trim_start_matches('.');
                            FieldType::Message(by_name[target])
                        }
                        t => FieldType::Scalar(scalar(t)),
                    };
                    let map = matches!(ty, FieldType::Message(m) if flat[m].1.options.as_ref().is_some_and(|o| o.map_entry()));
                    let optional = markers.get(i).copied().unwrap_or(false);
                    let short = name.rsplit('.').next().unwrap_or(name);
                    let type_short = f.type_name().rsplit('.').next().unwrap_or("");
                    let json_name = json_name(name, short, f.name());
                    Field {
                        number: f.number() as u32,
                        json_key: format!("{}:", serde_json::Value::from(json_name.as_str())).into_bytes().into(),
                        omit_null: name == "apimachinery.pkg.apis.meta.v1.ObjectMeta" && f.name() == "creationTimestamp",
                        json_name: json_name.into(),
                        ty,
                        repeated: f.label() == Label::Repeated,
                        map,
                        // Map entries' key and value are always printed.
                        keep_zero: entry
                            || PRINT_ZERO.contains(&(short, f.name()))
                            || (!optional && !UNMARKED_OMITEMPTY.contains(&(short, f.name()))),
                        inline: INLINE.contains(&(f.name(), type_short)),
                    }
                })
                .collect();
            let max = fields.iter().map(|f| f.number).max().unwrap_or(0) as usize;
            let mut by_number = vec![0u16; max + 1];
            for (i, f) in fields.iter().enumerate() {
                by_number[f.number as usize] = (i + 1) as u16;
            }
            let mut wire_order: Vec<usize> = (0..fields.len()).collect();
            wire_order.sort_by_key(|&i| fields[i].number);
            messages.push(MessageDef {
                special: special(name, msg),
                name: name.clone().into_boxed_str(),
                fields,
                by_number,
                wire_order,
            });
        }
        let mut legacy: Vec<String> = set
            .file
            .iter()
            .filter_map(|f| {
                let rest = f.package.as_deref()?.strip_prefix("legacy.")?;
                Some(format!("legacy.{}", rest.split('.').next()?))
            })
            .collect();
        legacy.sort_by(|a, b| b.cmp(a));
        legacy.dedup();
        let resource_version = by_name
            .get("apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .and_then(|&m| {
                let i = messages[m]
                    .fields
                    .iter()
                    .position(|f| &*f.json_name == "resourceVersion")?;
                Some((m, i as u16))
            });
        Schema {
            messages,
            by_name,
            legacy,
            resource_version,
        }
    }
}

fn optional_paths(file: &prost_types::FileDescriptorProto) -> Vec<Vec<i32>> {
    let Some(info) = &file.source_code_info else {
        return Vec::new();
    };
    info.location
        .iter()
        .filter(|l| {
            l.leading_comments()
                .lines()
                .any(|c| c.trim() == "+optional")
        })
        .map(|l| l.path.clone())
        .collect()
}

/// Flattens `msg` and its nested messages into `out` as (full name, descriptor, which fields
/// carry `+optional`); `path` is the message's source-info path.
fn collect<'a>(
    prefix: &str,
    msg: &'a DescriptorProto,
    path: Vec<i32>,
    optional: &[Vec<i32>],
    out: &mut Vec<(String, &'a DescriptorProto, Vec<bool>)>,
) {
    let name = format!("{prefix}.{}", msg.name());
    for (i, nested) in msg.nested_type.iter().enumerate() {
        let mut p = path.clone();
        p.extend([3, i as i32]);
        collect(&name, nested, p, optional, out);
    }
    let markers = (0..msg.field.len())
        .map(|i| {
            let mut p = path.clone();
            p.extend([2, i as i32]);
            optional.contains(&p)
        })
        .collect();
    out.push((name, msg, markers));
}

fn scalar(t: Type) -> Scalar {
    match t {
        Type::Double => Scalar::Double,
        Type::Float => Scalar::Float,
        Type::Int64 => Scalar::Int64,
        Type::Uint64 => Scalar::UInt64,
        Type::Int32 | Type::Enum => Scalar::Int32,
        Type::Uint32 => Scalar::UInt32,
        Type::Sint32 => Scalar::SInt32,
        Type::Sint64 => Scalar::SInt64,
        Type::Fixed32 => Scalar::Fixed32,
        Type::Fixed64 => Scalar::Fixed64,
        Type::Sfixed32 => Scalar::SFixed32,
        Type::Sfixed64 => Scalar::SFixed64,
        Type::Bool => Scalar::Bool,
        Type::String => Scalar::String,
        Type::Bytes | Type::Message | Type::Group => Scalar::Bytes,
    }
}

fn special(name: &str, msg: &DescriptorProto) -> Special {
    const META: &str = "apimachinery.pkg.apis.meta.v1.";
    const APIEXT: &str = "apiextensions_apiserver.pkg.apis.apiextensions.";
    if let Some(simple) = name.strip_prefix(META) {
        return match simple {
            "Time" => Special::Time,
            "MicroTime" => Special::MicroTime,
            "Duration" => Special::Duration,
            "FieldsV1" => Special::RawJson,
            _ => item_list(msg),
        };
    }
    if let Some(rest) = name.strip_prefix(APIEXT) {
        return match rest.split_once('.').map(|(_, s)| s) {
            Some("JSON") => Special::RawJson,
            Some("JSONSchemaPropsOrArray") => Special::SchemaOrArray,
            Some("JSONSchemaPropsOrBool") => Special::SchemaOrBool,
            Some("JSONSchemaPropsOrStringArray") => Special::SchemaOrStringArray,
            _ => Special::None,
        };
    }
    match name {
        "apimachinery.pkg.api.resource.Quantity"
        | "apimachinery.pkg.api.resource.QuantityValue" => Special::Quantity,
        "apimachinery.pkg.util.intstr.IntOrString" => Special::IntOrString,
        "apimachinery.pkg.runtime.RawExtension" => Special::RawJson,
        _ => item_list(msg),
    }
}

/// Go named slices (`type ExtraValue []string`) are generated as `message X { repeated string
/// items = 1; }`; their JSON is the bare array.
fn item_list(msg: &DescriptorProto) -> Special {
    let only_items = msg.field.len() == 1
        && msg.field[0].name() == "items"
        && msg.field[0].label() == Label::Repeated
        && msg.field[0].r#type() == Type::String;
    if only_items && matches!(msg.name(), "ExtraValue" | "Verbs") {
        Special::ItemList
    } else {
        Special::None
    }
}

/// The Go JSON name of proto field `field` of message `short` (full name `full`)
/// (`docs/format-k8s.md#wire-conventions`).
fn json_name(full: &str, short: &str, field: &str) -> String {
    if short == "JSONSchemaProps" && full.starts_with("apiextensions_apiserver.") {
        match field {
            "ref" => return "$ref".into(),
            "schema" => return "$schema".into(),
            _ => {}
        }
        if let Some(rest) = field.strip_prefix("xKubernetes") {
            let mut out = String::from("x-kubernetes");
            for c in rest.chars() {
                if c.is_ascii_uppercase() {
                    out.push('-');
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            return out;
        }
    }
    // Capitalised proto names are Go field names; their JSON tag is lower camel case, except
    // where the JSON name really is capitalised.
    match field {
        // Go initialisms the generator lower-cased only at the first letter.
        "aPIGroup" => return "apiGroup".into(),
        "uID" => return "uid".into(),
        _ => {}
    }
    let keep = matches!(
        (short, field),
        ("DaemonEndpoint", "Port") | ("CustomResourceColumnDefinition", "JSONPath")
    );
    let mut chars = field.chars();
    match chars.next() {
        Some(c) if c.is_ascii_uppercase() && !keep => {
            c.to_ascii_lowercase().to_string() + chars.as_str()
        }
        _ => field.to_string(),
    }
}

/// Go embedded structs (`json:",inline"`), as (proto field name, type simple name).
const INLINE: &[(&str, &str)] = &[
    ("rule", "Rule"),
    ("ruleWithOperations", "RuleWithOperations"),
    ("ephemeralContainerCommon", "EphemeralContainerCommon"),
    ("persistentVolumeSource", "PersistentVolumeSource"),
    ("handler", "ProbeHandler"),
    ("volumeSource", "VolumeSource"),
    ("ingressRuleValue", "IngressRuleValue"),
    ("deviceConfiguration", "DeviceConfiguration"),
    ("localObjectReference", "LocalObjectReference"),
];

/// Go `omitempty` fields whose proto comment lacks `+optional`. (message simple name, proto name)
const UNMARKED_OMITEMPTY: &[(&str, &str)] = &[
    ("ManagedFieldsEntry", "subresource"),
    ("StatefulSetStatus", "readyReplicas"),
    ("StatefulSetStatus", "currentReplicas"),
    ("StatefulSetStatus", "updatedReplicas"),
    ("StatefulSetStatus", "currentRevision"),
    ("StatefulSetStatus", "updateRevision"),
];

/// `+optional` scalar fields whose zero is printed: Go pointers, so an explicit zero on the wire
/// is meaningful (`replicas: 0`), and a few optional fields without `omitempty`. Other
/// `+optional` scalars are taken to be non-pointer `omitempty` fields, which gogo writes even at
/// zero and Go JSON drops. (message simple name, proto name)
const PRINT_ZERO: &[(&str, &str)] = &[
    ("Event", "reportingComponent"),
    ("Event", "reportingInstance"),
    ("CSIDriverSpec", "attachRequired"),
    ("CSIDriverSpec", "podInfoOnMount"),
    ("CSIDriverSpec", "storageCapacity"),
    ("CSIDriverSpec", "requiresRepublish"),
    ("CSIDriverSpec", "seLinuxMount"),
    ("ObjectMeta", "deletionGracePeriodSeconds"),
    ("StatefulSetStatus", "availableReplicas"),
    ("HPAScalingRules", "stabilizationWindowSeconds"),
    ("PersistentVolumeClaimSpec", "storageClassName"),
    ("PodSpec", "setHostnameAsFQDN"),
    ("Toleration", "tolerationSeconds"),
    ("HostPathVolumeSource", "type"),
    ("DownwardAPIVolumeFile", "mode"),
    ("ConfigMapKeySelector", "optional"),
    ("SecretKeySelector", "optional"),
    ("ConfigMapEnvSource", "optional"),
    ("SecretEnvSource", "optional"),
    ("ConfigMapVolumeSource", "optional"),
    ("SecretVolumeSource", "optional"),
    ("ConfigMapProjection", "optional"),
    ("SecretProjection", "optional"),
    ("ServiceAccountTokenProjection", "expirationSeconds"),
    ("ClientIPConfig", "timeoutSeconds"),
    ("TopologySpreadConstraint", "minDomains"),
    ("StorageClass", "allowVolumeExpansion"),
    ("ValidatingWebhook", "timeoutSeconds"),
    ("MutatingWebhook", "timeoutSeconds"),
    ("ServiceReference", "port"),
    ("NetworkPolicyPort", "endPort"),
    ("MetricTarget", "averageUtilization"),
    ("DeploymentSpec", "replicas"),
    ("DeploymentStatus", "collisionCount"),
    ("StatefulSetStatus", "collisionCount"),
    ("DaemonSetStatus", "collisionCount"),
    ("JobStatus", "terminating"),
    ("JobStatus", "ready"),
    ("JobSpec", "manualSelector"),
    ("JobSpec", "backoffLimitPerIndex"),
    ("JobSpec", "maxFailedIndexes"),
    ("JobSpec", "activeDeadlineSeconds"),
    ("CronJobSpec", "startingDeadlineSeconds"),
    ("LimitedPriorityLevelConfiguration", "lendablePercent"),
    ("LimitedPriorityLevelConfiguration", "borrowingLimitPercent"),
    (
        "LimitedPriorityLevelConfiguration",
        "nominalConcurrencyShares",
    ),
    ("ExemptPriorityLevelConfiguration", "lendablePercent"),
    (
        "ExemptPriorityLevelConfiguration",
        "nominalConcurrencyShares",
    ),
    ("ReplicaSetSpec", "replicas"),
    ("StatefulSetSpec", "replicas"),
    ("ReplicationControllerSpec", "replicas"),
    ("ScaleSpec", "replicas"),
    ("HorizontalPodAutoscalerSpec", "minReplicas"),
    ("JobSpec", "parallelism"),
    ("JobSpec", "completions"),
    ("JobSpec", "backoffLimit"),
    ("JobSpec", "ttlSecondsAfterFinished"),
    ("JobSpec", "suspend"),
    ("CronJobSpec", "suspend"),
    ("CronJobSpec", "successfulJobsHistoryLimit"),
    ("CronJobSpec", "failedJobsHistoryLimit"),
    ("PodSpec", "terminationGracePeriodSeconds"),
    ("PodSpec", "activeDeadlineSeconds"),
    ("PodSpec", "automountServiceAccountToken"),
    ("PodSpec", "enableServiceLinks"),
    ("PodSpec", "priority"),
    ("PodSpec", "shareProcessNamespace"),
    ("PodSpec", "hostUsers"),
    ("ServiceAccount", "automountServiceAccountToken"),
    ("SecurityContext", "privileged"),
    ("SecurityContext", "runAsUser"),
    ("SecurityContext", "runAsGroup"),
    ("SecurityContext", "runAsNonRoot"),
    ("SecurityContext", "readOnlyRootFilesystem"),
    ("SecurityContext", "allowPrivilegeEscalation"),
    ("PodSecurityContext", "runAsUser"),
    ("PodSecurityContext", "runAsGroup"),
    ("PodSecurityContext", "runAsNonRoot"),
    ("PodSecurityContext", "fsGroup"),
    ("Secret", "immutable"),
    ("ConfigMap", "immutable"),
    ("ContainerStatus", "started"),
    ("KeyToPath", "mode"),
    ("SecretVolumeSource", "defaultMode"),
    ("ConfigMapVolumeSource", "defaultMode"),
    ("ProjectedVolumeSource", "defaultMode"),
    ("DownwardAPIVolumeSource", "defaultMode"),
    ("DeploymentSpec", "revisionHistoryLimit"),
    ("DeploymentSpec", "progressDeadlineSeconds"),
    ("DaemonSetSpec", "revisionHistoryLimit"),
    ("StatefulSetSpec", "revisionHistoryLimit"),
    ("RollingUpdateStatefulSetStrategy", "partition"),
    ("ServiceSpec", "allocateLoadBalancerNodePorts"),
    ("LeaseSpec", "leaseDurationSeconds"),
    ("LeaseSpec", "leaseTransitions"),
    ("PriorityClass", "preemptionPolicy"),
    ("Probe", "terminationGracePeriodSeconds"),
    ("EndpointConditions", "ready"),
    ("EndpointConditions", "serving"),
    ("EndpointConditions", "terminating"),
    ("EndpointPort", "port"),
    ("JSONSchemaProps", "maximum"),
    ("JSONSchemaProps", "minimum"),
    ("JSONSchemaProps", "maxLength"),
    ("JSONSchemaProps", "minLength"),
    ("JSONSchemaProps", "maxItems"),
    ("JSONSchemaProps", "minItems"),
    ("JSONSchemaProps", "multipleOf"),
    ("JSONSchemaProps", "maxProperties"),
    ("JSONSchemaProps", "minProperties"),
    ("JSONSchemaProps", "xKubernetesPreserveUnknownFields"),
];
