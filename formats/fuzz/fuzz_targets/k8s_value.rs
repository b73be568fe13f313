//! Arbitrary bytes through the Kubernetes value pipeline: `decode_value` (encryption envelopes
//! with real keys configured, protobuf, CBOR, JSON, text), the CBOR decoder on its own, the
//! storage label and etcdctl-output splitting. None may panic; byte 0 picks the etcd key (the
//! AAD of aesgcm) so both matching and non-matching keys are exercised.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::k8s::{Keyring, cbor, decode_value, split_printed_value, storage_label};

fn keyring() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| {
        // Keys: 32 bytes of 0x01 (aesgcm, aescbc 16 bytes of 0x02), secretbox 32 bytes of 0x03.
        let config = "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm: {keys: [{name: k, secret: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=}]}
      - aescbc: {keys: [{name: k, secret: AgICAgICAgICAgICAgICAg==}]}
      - secretbox: {keys: [{name: k, secret: AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=}]}
      - kms: {apiVersion: v2, name: vault, endpoint: unix:///kms.sock}
      - identity: {}
";
        Keyring::from_config(config.as_bytes()).expect("the fuzz config parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, value)) = data.split_first() else {
        return;
    };
    let key: &[u8] = match mode % 3 {
        0 => b"/registry/secrets/default/s",
        1 => b"compact_rev_key",
        _ => b"",
    };
    let keys = keyring();
    if let Ok(d) = decode_value(key, value, keys) {
        let _ = d.encoding.label();
        if let Some(o) = d.object {
            let _ = serde_json::to_vec(&o);
        }
    }
    let _ = cbor::decode(value);
    let _ = storage_label(value);
    let printed = split_printed_value(value);
    let _ = decode_value(printed.key.unwrap_or(key), printed.value, keys);
    let _ = Keyring::from_config(value);
});
