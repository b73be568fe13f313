//! JSON → the stored protobuf form, the inverse of [`super::decode`].
use serde_json::Value;

use super::ProtoError;

pub(super) fn encode_object(_object: &Value) -> Result<Vec<u8>, ProtoError> {
    Err(ProtoError::Encode {
        path: "object".into(),
        reason: "not written yet".into(),
    })
}
