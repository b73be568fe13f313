//! Encryption at rest: `k8s:enc:<provider>:v1:<key name>:<ciphertext>`, decrypted with the keys
//! of an apiserver EncryptionConfiguration (`docs/format-k8s.md#encryption-at-rest`).
//!
//! As the apiserver does, every configured key of the value's provider whose name matches is
//! tried in config order (key names may contain `:`, so they are matched, not split). KMS
//! values cannot be decrypted without the KMS plugin; the error says what can be seen of them.
//! Key material is never printed: not in errors, not in `Debug`.

mod cipher;
mod config;
pub mod kms;

use std::path::Path;

use zeroize::Zeroizing;

pub const PREFIX: &[u8] = b"k8s:enc:";

/// Which provider and key encrypted a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub provider: String,
    pub key_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error("cannot read the encryption config {path}: {error}")]
    Io { path: String, error: String },
    #[error("encryption config: {0}")]
    Config(String),
    #[error(
        "value is encrypted with {provider} key {key_name}; pass --encryption-config FILE \
         (the apiserver's EncryptionConfiguration)"
    )]
    NoConfig { provider: String, key_name: String },
    #[error(
        "value is encrypted with {provider} key {key_name}, which the encryption config does \
         not have (its {provider} keys: {known})"
    )]
    UnknownKey {
        provider: String,
        key_name: String,
        known: String,
    },
    #[error(
        "cannot decrypt with {provider} key {key_name}: authentication failed (wrong key or \
         corrupt ciphertext)"
    )]
    Authentication { provider: String, key_name: String },
    #[error("{provider} value under key {key_name} is truncated: {len} bytes, needs {need}")]
    Truncated {
        provider: String,
        key_name: String,
        len: usize,
        need: &'static str,
    },
    #[error(
        "value is encrypted by KMS {version} provider {name}{detail}; decrypting it needs that \
         KMS plugin, which revkeeper cannot call"
    )]
    Kms {
        version: &'static str,
        name: String,
        detail: String,
    },
    #[error("value has an unknown encryption prefix ({0})")]
    UnknownProvider(String),
    #[error("value encrypted by {provider} {key_name} is malformed: {why}")]
    Malformed {
        provider: String,
        key_name: String,
        why: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cipher {
    AesCbc,
    AesGcm,
    Secretbox,
}

impl Cipher {
    fn name(self) -> &'static str {
        match self {
            Cipher::AesCbc => "aescbc",
            Cipher::AesGcm => "aesgcm",
            Cipher::Secretbox => "secretbox",
        }
    }
}

#[derive(Clone)]
struct ProviderKey {
    cipher: Cipher,
    name: String,
    secret: Zeroizing<Vec<u8>>,
}

#[derive(Clone, Debug)]
struct KmsProvider {
    name: String,
    version: u8,
}

/// The keys of an EncryptionConfiguration (empty: nothing can be decrypted).
#[derive(Clone, Default)]
pub struct Keyring {
    keys: Vec<ProviderKey>,
    kms: Vec<KmsProvider>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{}:{} (secret hidden)", k.cipher.name(), k.name))
            .collect();
        f.debug_struct("Keyring")
            .field("keys", &keys)
            .field("kms", &self.kms)
            .finish()
    }
}

impl Keyring {
    /// Reads and parses an EncryptionConfiguration file.
    pub fn load(path: &Path) -> Result<Keyring, EncryptionError> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| EncryptionError::Io {
            path: path.display().to_string(),
            error: e.to_string(),
        })?);
        Keyring::from_config(&bytes).map_err(|e| match e {
            EncryptionError::Config(m) => {
                EncryptionError::Config(format!("{}: {m}", path.display()))
            }
            other => other,
        })
    }

    /// Parses an EncryptionConfiguration (YAML or JSON).
    pub fn from_config(bytes: &[u8]) -> Result<Keyring, EncryptionError> {
        let (keys, kms) = config::parse(bytes)?;
        Ok(Keyring { keys, kms })
    }

    /// True when no key was configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.kms.is_empty()
    }

    /// Decrypts `value` stored under `key`: which provider/key it used, and the plaintext.
    pub fn decrypt(
        &self,
        key: &[u8],
        value: &[u8],
    ) -> Result<(Envelope, Vec<u8>), EncryptionError> {
        let rest = value
            .strip_prefix(PREFIX)
            .ok_or_else(|| EncryptionError::UnknownProvider("no k8s:enc: prefix".into()))?;
        for (prefix, version) in [(&b"kms:v1:"[..], 1), (&b"kms:v2:"[..], 2)] {
            if let Some(after) = rest.strip_prefix(prefix) {
                let name = printable_head(after);
                let configured = self
                    .kms
                    .iter()
                    .any(|p| p.name == name && p.version == version);
                return Err(kms_error(version, name, configured, after));
            }
        }
        let (cipher, after) = split_cipher(rest)?;
        let provider = cipher.name().to_string();
        let mut last = None;
        for k in self.keys.iter().filter(|k| k.cipher == cipher) {
            let Some(body) = after
                .strip_prefix(k.name.as_bytes())
                .and_then(|b| b.strip_prefix(b":"))
            else {
                continue;
            };
            let result = match cipher {
                Cipher::AesCbc => cipher::aescbc(&k.secret, body),
                Cipher::AesGcm => cipher::aesgcm(&k.secret, key, body),
                Cipher::Secretbox => cipher::secretbox(&k.secret, body),
            };
            let key_name = k.name.clone();
            match result {
                Ok(plain) => return Ok((Envelope { provider, key_name }, plain)),
                Err(cipher::Failure::Truncated { len, need }) => {
                    last = Some(EncryptionError::Truncated {
                        provider: provider.clone(),
                        key_name,
                        len,
                        need,
                    })
                }
                Err(cipher::Failure::Authentication) => {
                    last = Some(EncryptionError::Authentication {
                        provider: provider.clone(),
                        key_name,
                    })
                }
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
        // No configured key matched: name the key as far as it can be read (up to the next ':').
        let key_name = printable_head(after);
        if self.is_empty() {
            return Err(EncryptionError::NoConfig { provider, key_name });
        }
        let known: Vec<&str> = self
            .keys
            .iter()
            .filter(|k| k.cipher == cipher)
            .map(|k| k.name.as_str())
            .collect();
        Err(EncryptionError::UnknownKey {
            provider,
            key_name,
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        })
    }
}

impl Keyring {
    /// Encrypts `plaintext` for `key` as the apiserver writes it, with the first configured key
    /// of `provider` named `key_name` and a fresh random nonce/IV. For tests and tools that
    /// write values; `decrypt` reads them back.
    pub fn encrypt(
        &self,
        key: &[u8],
        provider: &str,
        key_name: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, EncryptionError> {
        let k = self
            .keys
            .iter()
            .find(|k| k.cipher.name() == provider && k.name == key_name)
            .ok_or_else(|| EncryptionError::UnknownKey {
                provider: provider.into(),
                key_name: key_name.into(),
                known: "see the config".into(),
            })?;
        let mut out = format!("k8s:enc:{provider}:v1:{key_name}:").into_bytes();
        out.extend(cipher::encrypt(k.cipher, &k.secret, key, plaintext));
        Ok(out)
    }
}

/// What can be checked of an encrypted value without its key: a known provider, and a body
/// that fits the provider's layout (nonce/IV, tag and block lengths; KMS v1's wrapped-key
/// length; KMS v2's `EncryptedObject`). A key name may contain `:`, so one split that fits is
/// enough. Returns who encrypted it (KMS as provider `kms-v1`/`kms-v2`).
pub fn check_envelope(value: &[u8]) -> Result<Envelope, EncryptionError> {
    let rest = value
        .strip_prefix(PREFIX)
        .ok_or_else(|| EncryptionError::UnknownProvider("no k8s:enc: prefix".into()))?;
    for (prefix, provider) in [(&b"kms:v1:"[..], "kms-v1"), (&b"kms:v2:"[..], "kms-v2")] {
        if let Some(after) = rest.strip_prefix(prefix) {
            let key_name = printable_head(after);
            let malformed = |why: String| EncryptionError::Malformed {
                provider: provider.into(),
                key_name: key_name.clone(),
                why,
            };
            let body = match after.iter().position(|b| *b == b':') {
                Some(i) => &after[i + 1..],
                None => return Err(malformed("no ':' after the provider name".into())),
            };
            if provider == "kms-v2" {
                let object = <kms::EncryptedObject as prost::Message>::decode(body)
                    .map_err(|e| malformed(format!("its EncryptedObject does not parse ({e})")))?;
                if object.encrypted_data.is_empty() || object.key_id.is_empty() {
                    return Err(malformed("its EncryptedObject lacks data or key id".into()));
                }
            } else {
                let wrapped = body
                    .get(..2)
                    .map(|n| usize::from(u16::from_be_bytes([n[0], n[1]])));
                if wrapped.is_none_or(|n| body.len() <= 2 + n) {
                    return Err(malformed(
                        "shorter than its wrapped data key and ciphertext".into(),
                    ));
                }
            }
            return Ok(Envelope {
                provider: provider.into(),
                key_name,
            });
        }
    }
    let (cipher, after) = split_cipher(rest)?;
    let provider = cipher.name().to_string();
    let mut first_failure = None;
    for (i, _) in after.iter().enumerate().filter(|(_, b)| **b == b':') {
        match cipher::check_len(cipher, after.len() - i - 1) {
            Ok(()) => {
                return Ok(Envelope {
                    provider,
                    key_name: printable_head(&after[..i]),
                });
            }
            Err(f) => {
                first_failure.get_or_insert(f);
            }
        }
    }
    let key_name = printable_head(after);
    Err(match first_failure {
        Some(cipher::Failure::Truncated { len, need }) => EncryptionError::Truncated {
            provider,
            key_name,
            len,
            need,
        },
        _ => EncryptionError::Malformed {
            provider,
            key_name,
            why: "no ':' after the key name".into(),
        },
    })
}

fn kms_error(version: u8, name: String, configured: bool, after: &[u8]) -> EncryptionError {
    let mut details = Vec::new();
    if version == 2 {
        if let Some(i) = after.iter().position(|b| *b == b':') {
            details.push(kms::describe_v2(&after[i + 1..]));
        }
    }
    if !configured {
        details.push("not in the encryption config".into());
    }
    let detail = if details.is_empty() {
        String::new()
    } else {
        format!(" ({})", details.join("; "))
    };
    EncryptionError::Kms {
        version: if version == 1 { "v1" } else { "v2" },
        name,
        detail,
    }
}

/// The text up to the next `:`, if it is short printable text (never ciphertext bytes).
fn printable_head(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.iter().position(|b| *b == b':').unwrap_or(bytes.len())];
    match std::str::from_utf8(head) {
        Ok(s) if s.len() <= 128 && !s.chars().any(char::is_control) => s.to_string(),
        _ => "<unreadable>".into(),
    }
}

/// `aescbc:v1:…`, `aesgcm:v1:…` or `secretbox:v1:…`: the cipher and what follows its prefix.
fn split_cipher(rest: &[u8]) -> Result<(Cipher, &[u8]), EncryptionError> {
    [Cipher::AesCbc, Cipher::AesGcm, Cipher::Secretbox]
        .into_iter()
        .find_map(|c| {
            rest.strip_prefix(c.name().as_bytes())
                .and_then(|r| r.strip_prefix(b":v1:"))
                .map(|r| (c, r))
        })
        .ok_or_else(|| EncryptionError::UnknownProvider(printable_head(rest)))
}

#[cfg(test)]
mod tests;
