//! KMS envelopes. Their data key is wrapped by an external KMS plugin, so they cannot be
//! decrypted here; what can be shown without the plugin is shown (KMS v2's `EncryptedObject`,
//! kubernetes/apiserver `kmsv2/v2/api.proto`).

use std::collections::BTreeMap;

#[derive(Clone, PartialEq, prost::Message)]
pub struct EncryptedObject {
    #[prost(bytes = "vec", tag = "1")]
    pub encrypted_data: Vec<u8>,
    #[prost(string, tag = "2")]
    pub key_id: String,
    #[prost(bytes = "vec", tag = "3")]
    pub encrypted_dek_source: Vec<u8>,
    #[prost(btree_map = "string, bytes", tag = "4")]
    pub annotations: BTreeMap<String, Vec<u8>>,
    #[prost(int32, tag = "5")]
    pub encrypted_dek_source_type: i32,
}

/// What the error says about a KMS v2 body: key id, DEK source type and annotations, or why
/// the body is not an EncryptedObject.
pub(super) fn describe_v2(body: &[u8]) -> String {
    let object = match <EncryptedObject as prost::Message>::decode(body) {
        Ok(o) => o,
        Err(e) => return format!("its EncryptedObject does not parse ({e})"),
    };
    let source_type = match object.encrypted_dek_source_type {
        0 => "AES_GCM_KEY".to_string(),
        1 => "HKDF_SHA256_XNONCE_AES_GCM_SEED".to_string(),
        n => format!("unknown ({n})"),
    };
    let annotations: Vec<String> = object
        .annotations
        .iter()
        .map(|(k, v)| match std::str::from_utf8(v) {
            Ok(s) if !s.chars().any(char::is_control) => format!("{k}={s}"),
            _ => format!("{k}=<{} bytes>", v.len()),
        })
        .collect();
    format!(
        "key id {:?}, DEK source type {source_type}, annotations {{{}}}",
        object.key_id,
        annotations.join(", ")
    )
}
