//! Vectors built here with the RustCrypto crates in the apiserver's layouts (fixed nonces), then
//! decrypted through a parsed config.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cbc::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};

use super::*;

const KEY: &[u8] = b"/registry/secrets/default/db";
const PLAIN: &[u8] = b"k8s\0\x0a\x0c\x0a\x02v1\x12\x06Secret";
const CBC_KEY: [u8; 32] = [7; 32];
const CBC_OLD: [u8; 16] = [8; 16];
const GCM_KEY: [u8; 16] = [9; 16];
const SB_KEY: [u8; 32] = [10; 32];

fn config_yaml() -> String {
    format!(
        "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm:
          keys:
            - name: gcm:with:colons
              secret: {}
      - aescbc:
          keys:
            - name: cbc-new
              secret: {}
            - name: cbc-old
              secret: {}
      - secretbox:
          keys:
            - name: sb
              secret: {}
      - kms:
          apiVersion: v2
          name: vault
          endpoint: unix:///tmp/kms.sock
      - identity: {{}}
",
        B64.encode(GCM_KEY),
        B64.encode(CBC_KEY),
        B64.encode(CBC_OLD),
        B64.encode(SB_KEY)
    )
}

fn keyring() -> Keyring {
    Keyring::from_config(config_yaml().as_bytes()).unwrap()
}

fn aescbc_value(name: &str, key: &[u8], plain: &[u8]) -> Vec<u8> {
    let iv = [3u8; 16];
    let ct = match key.len() {
        16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .unwrap()
            .encrypt_padded_vec_mut::<Pkcs7>(plain),
        _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv)
            .unwrap()
            .encrypt_padded_vec_mut::<Pkcs7>(plain),
    };
    [format!("k8s:enc:aescbc:v1:{name}:").as_bytes(), &iv, &ct].concat()
}

fn aesgcm_value(aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let nonce = [4u8; 12];
    let ct = aes_gcm::Aes128Gcm::new_from_slice(&GCM_KEY)
        .unwrap()
        .encrypt(
            aes_gcm::Nonce::from_slice(&nonce),
            Payload { msg: plain, aad },
        )
        .unwrap();
    [&b"k8s:enc:aesgcm:v1:gcm:with:colons:"[..], &nonce, &ct].concat()
}

fn secretbox_value(plain: &[u8]) -> Vec<u8> {
    let nonce = [5u8; 24];
    let ct = crypto_secretbox::XSalsa20Poly1305::new_from_slice(&SB_KEY)
        .unwrap()
        .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), plain)
        .unwrap();
    [&b"k8s:enc:secretbox:v1:sb:"[..], &nonce, &ct].concat()
}

fn envelope(provider: &str, key_name: &str) -> Envelope {
    Envelope {
        provider: provider.into(),
        key_name: key_name.into(),
    }
}

#[test]
fn every_provider_decrypts() {
    let k = keyring();
    assert_eq!(
        k.decrypt(KEY, &aescbc_value("cbc-new", &CBC_KEY, PLAIN))
            .unwrap(),
        (envelope("aescbc", "cbc-new"), PLAIN.to_vec())
    );
    assert_eq!(
        k.decrypt(KEY, &aescbc_value("cbc-old", &CBC_OLD, PLAIN))
            .unwrap(),
        (envelope("aescbc", "cbc-old"), PLAIN.to_vec())
    );
    assert_eq!(
        k.decrypt(KEY, &aesgcm_value(KEY, PLAIN)).unwrap(),
        (envelope("aesgcm", "gcm:with:colons"), PLAIN.to_vec())
    );
    assert_eq!(
        k.decrypt(KEY, &secretbox_value(PLAIN)).unwrap(),
        (envelope("secretbox", "sb"), PLAIN.to_vec())
    );
    // Block-aligned plaintext gets a whole block of padding.
    let aligned = [1u8; 32];
    assert_eq!(
        k.decrypt(KEY, &aescbc_value("cbc-new", &CBC_KEY, &aligned))
            .unwrap()
            .1,
        aligned
    );
}

#[test]
fn encrypt_round_trips_for_every_provider() {
    let k = keyring();
    for (provider, name) in [
        ("aescbc", "cbc-old"),
        ("aesgcm", "gcm:with:colons"),
        ("secretbox", "sb"),
    ] {
        let v = k.encrypt(KEY, provider, name, PLAIN).unwrap();
        assert_eq!(
            k.decrypt(KEY, &v).unwrap(),
            (envelope(provider, name), PLAIN.to_vec())
        );
    }
}

#[test]
fn keys_with_one_name_are_all_tried_in_order() {
    let b = |k: &[u8]| B64.encode(k);
    let wrong = [0x55u8; 32];
    let config = format!(
        "{{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\",
          \"resources\":[
            {{\"resources\":[\"configmaps\"],\"providers\":[{{\"aescbc\":{{\"keys\":[{{\"name\":\"k\",\"secret\":\"{}\"}}]}}}}]}},
            {{\"resources\":[\"secrets\"],\"providers\":[{{\"aescbc\":{{\"keys\":[{{\"name\":\"k\",\"secret\":\"{}\"}}]}}}}]}}]}}",
        b(&wrong),
        b(&CBC_KEY)
    );
    let k = Keyring::from_config(config.as_bytes()).unwrap();
    // The first "k" fails its padding check; the second one is right.
    let v = aescbc_value("k", &CBC_KEY, PLAIN);
    assert_eq!(k.decrypt(KEY, &v).unwrap().1, PLAIN);
}

#[test]
fn legacy_config_is_accepted() {
    let legacy = format!(
        "kind: EncryptionConfig\napiVersion: v1\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: sb\n        secret: {}\n",
        B64.encode(SB_KEY)
    );
    let k = Keyring::from_config(legacy.as_bytes()).unwrap();
    assert_eq!(k.decrypt(KEY, &secretbox_value(PLAIN)).unwrap().1, PLAIN);
}

#[test]
fn gcm_authenticates_the_etcd_key() {
    let v = aesgcm_value(b"/registry/secrets/other/db", PLAIN);
    let e = keyring().decrypt(KEY, &v).unwrap_err();
    assert!(matches!(e, EncryptionError::Authentication { .. }), "{e}");
}

#[test]
fn failures_are_named() {
    let k = keyring();
    let mut corrupt = secretbox_value(PLAIN);
    *corrupt.last_mut().unwrap() ^= 1;
    let e = k.decrypt(KEY, &corrupt).unwrap_err().to_string();
    assert_eq!(
        e,
        "cannot decrypt with secretbox key sb: authentication failed (wrong key or corrupt ciphertext)"
    );

    let mut truncated = aesgcm_value(KEY, PLAIN);
    truncated.truncate(b"k8s:enc:aesgcm:v1:gcm:with:colons:".len() + 20);
    let e = k.decrypt(KEY, &truncated).unwrap_err().to_string();
    assert!(e.contains("truncated: 20 bytes"), "{e}");

    let wrong_key = aescbc_value("cbc-new", &[0x42; 32], PLAIN);
    let e = k.decrypt(KEY, &wrong_key).unwrap_err();
    // Wrong-key CBC almost always breaks the padding; if not, the plaintext is garbage.
    assert!(matches!(e, EncryptionError::Authentication { .. }), "{e}");

    let unknown = aescbc_value("nope", &CBC_KEY, PLAIN);
    let e = k.decrypt(KEY, &unknown).unwrap_err().to_string();
    assert_eq!(
        e,
        "value is encrypted with aescbc key nope, which the encryption config does not have (its aescbc keys: cbc-new, cbc-old)"
    );

    let e = Keyring::default()
        .decrypt(KEY, &aesgcm_value(KEY, PLAIN))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "value is encrypted with aesgcm key gcm; pass --encryption-config FILE (the apiserver's EncryptionConfiguration)"
    );

    let e = k
        .decrypt(KEY, b"k8s:enc:rot13:v1:x:abc")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "value has an unknown encryption prefix (rot13)");
}

#[test]
fn kms_values_say_what_they_can() {
    let object = kms::EncryptedObject {
        encrypted_data: vec![1; 40],
        key_id: "vault-key-7".into(),
        encrypted_dek_source: vec![2; 32],
        annotations: [("kms.example.com/region".to_string(), b"eu-1".to_vec())].into(),
        encrypted_dek_source_type: 1,
    };
    let v = [
        &b"k8s:enc:kms:v2:vault:"[..],
        &prost::Message::encode_to_vec(&object),
    ]
    .concat();
    let e = keyring().decrypt(KEY, &v).unwrap_err().to_string();
    assert_eq!(
        e,
        "value is encrypted by KMS v2 provider vault (key id \"vault-key-7\", DEK source type \
         HKDF_SHA256_XNONCE_AES_GCM_SEED, annotations {kms.example.com/region=eu-1}); decrypting \
         it needs that KMS plugin, which revkeeper cannot call"
    );
    let e = keyring()
        .decrypt(KEY, b"k8s:enc:kms:v1:legacy:\x00\x20rest")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "value is encrypted by KMS v1 provider legacy (not in the encryption config)"
        ),
        "{e}"
    );
}

#[test]
fn bad_configs_are_rejected_without_showing_secrets() {
    let cases = [
        (
            "kind: Pod\napiVersion: v1\n",
            "is not an apiserver.config.k8s.io/v1",
        ),
        (
            "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: a\n        secret: c2VjcmV0!!\n",
            "aescbc key \"a\": the secret is not standard base64",
        ),
        (
            "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: a\n        secret: c2VjcmV0IGlzIHNlY3VyZQ==\n",
            "a 16-byte secret is the wrong size",
        ),
        ("{not yaml", "not an EncryptionConfiguration"),
    ];
    for (config, want) in cases {
        let e = Keyring::from_config(config.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
        assert!(!e.contains("c2VjcmV0"), "{e}");
    }
    let debug = format!("{:?}", keyring());
    assert!(debug.contains("aescbc:cbc-new (secret hidden)"), "{debug}");
    assert!(
        !debug.contains(&B64.encode(CBC_KEY)) && !debug.contains("7, 7, 7"),
        "{debug}"
    );
}

#[test]
fn envelopes_are_checked_without_keys() {
    let ok = |v: &[u8]| check_envelope(v).map_err(|e| e.to_string());
    assert_eq!(
        ok(&aescbc_value("cbc-new", &CBC_KEY, PLAIN)),
        Ok(envelope("aescbc", "cbc-new"))
    );
    assert_eq!(ok(&aesgcm_value(KEY, PLAIN)), Ok(envelope("aesgcm", "gcm")));
    assert_eq!(ok(&secretbox_value(PLAIN)), Ok(envelope("secretbox", "sb")));

    let mut cut = aescbc_value("cbc-new", &CBC_KEY, PLAIN);
    cut.pop();
    let e = ok(&cut).unwrap_err();
    assert!(
        e.contains("aescbc value under key cbc-new is truncated"),
        "{e}"
    );
    let e = ok(b"k8s:enc:rot13:v1:x:abc").unwrap_err();
    assert_eq!(e, "value has an unknown encryption prefix (rot13)");

    let e = ok(b"k8s:enc:kms:v2:vault:\xff\xff").unwrap_err();
    assert!(
        e.starts_with("value encrypted by kms-v2 vault is malformed"),
        "{e}"
    );
    assert_eq!(
        ok(b"k8s:enc:kms:v1:legacy:\x00\x02dekciphertext"),
        Ok(envelope("kms-v1", "legacy"))
    );
    let e = ok(b"k8s:enc:kms:v1:legacy:\x00\x20rest").unwrap_err();
    assert!(e.contains("shorter than its wrapped data key"), "{e}");
}
