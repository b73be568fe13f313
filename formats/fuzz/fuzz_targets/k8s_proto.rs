//! Arbitrary bytes through the Kubernetes protobuf decoder (`k8s::proto`): as given and behind
//! the `k8s\0` magic (so the fuzzer needn't find it), then the decoded JSON back through the
//! encoder. Nothing may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::k8s::proto;

fuzz_target!(|data: &[u8]| {
    let _ = proto::type_meta(data);
    let _ = proto::decode(data);
    let mut value = proto::MAGIC.to_vec();
    value.extend_from_slice(data);
    if let Ok(json) = proto::decode(&value) {
        if let Ok(again) = proto::encode(&json) {
            let _ = proto::decode(&again);
        }
    }
});
