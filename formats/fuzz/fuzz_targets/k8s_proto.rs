//! Arbitrary bytes through the Kubernetes protobuf decoder (`k8s::proto`): as given and behind
//! the `k8s\0` magic (so the fuzzer needn't find it), then the decoded JSON back through the
//! encoder. Nothing may panic or hang, and the walk's variants must agree: the in-order path's
//! text equals the general path's, and the validate-only walk gives the same verdict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::k8s::proto;

fn variants_agree(value: &[u8]) {
    let (mut fast, mut general) = (Vec::new(), Vec::new());
    let a = proto::write_json(value, Some(7), &mut fast).map_err(|e| e.to_string());
    let b = proto::write_json_general(value, Some(7), &mut general).map_err(|e| e.to_string());
    assert_eq!(a, b);
    assert_eq!(fast, general);
    let c = proto::validate(value).map_err(|e| e.to_string());
    assert_eq!(a, c);
}

fuzz_target!(|data: &[u8]| {
    let _ = proto::type_meta(data);
    let _ = proto::decode(data);
    let mut value = proto::MAGIC.to_vec();
    value.extend_from_slice(data);
    variants_agree(&value);
    if let Ok(json) = proto::decode(&value) {
        if let Ok(again) = proto::encode(&json) {
            let _ = proto::decode(&again);
        }
    }
});
