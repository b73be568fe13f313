//! Parsing an apiserver EncryptionConfiguration (YAML or JSON; `apiserver.config.k8s.io/v1`
//! `EncryptionConfiguration` or the legacy `v1` `EncryptionConfig`) into its keys, in order.

use base64::Engine;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{Cipher, EncryptionError, KmsProvider, ProviderKey};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    resources: Vec<ResourceConfig>,
}

#[derive(Deserialize)]
struct ResourceConfig {
    #[serde(default)]
    providers: Vec<ProviderConfig>,
}

#[derive(Deserialize)]
struct ProviderConfig {
    aescbc: Option<KeysConfig>,
    aesgcm: Option<KeysConfig>,
    secretbox: Option<KeysConfig>,
    identity: Option<serde::de::IgnoredAny>,
    kms: Option<KmsConfig>,
}

#[derive(Deserialize)]
struct KeysConfig {
    #[serde(default)]
    keys: Vec<KeyConfig>,
}

#[derive(Deserialize)]
struct KeyConfig {
    name: String,
    secret: Zeroizing<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KmsConfig {
    name: String,
    api_version: Option<String>,
}

/// The keys of a config, in config order (every `resources` entry, every provider).
pub(super) fn parse(bytes: &[u8]) -> Result<(Vec<ProviderKey>, Vec<KmsProvider>), EncryptionError> {
    let config: Config = serde_norway::from_slice(bytes).map_err(|e| {
        EncryptionError::Config(format!(
            "not an EncryptionConfiguration: {}",
            without_values(&e.to_string())
        ))
    })?;
    match (config.api_version.as_str(), config.kind.as_str()) {
        ("apiserver.config.k8s.io/v1", "EncryptionConfiguration") | ("v1", "EncryptionConfig") => {}
        _ => {
            return Err(EncryptionError::Config(
                "its apiVersion/kind is not an apiserver.config.k8s.io/v1 \
                 EncryptionConfiguration (or legacy v1 EncryptionConfig)"
                    .into(),
            ));
        }
    }
    let mut keys = Vec::new();
    let mut kms = Vec::new();
    for resource in &config.resources {
        for provider in &resource.providers {
            let given = [
                provider.aescbc.is_some(),
                provider.aesgcm.is_some(),
                provider.secretbox.is_some(),
                provider.identity.is_some(),
                provider.kms.is_some(),
            ];
            if given.iter().filter(|g| **g).count() != 1 {
                return Err(EncryptionError::Config(
                    "each provider must name exactly one of aescbc, aesgcm, secretbox, \
                     identity, kms"
                        .into(),
                ));
            }
            for (cipher, set) in [
                (Cipher::AesCbc, &provider.aescbc),
                (Cipher::AesGcm, &provider.aesgcm),
                (Cipher::Secretbox, &provider.secretbox),
            ] {
                for key in set.iter().flat_map(|s| &s.keys) {
                    keys.push(provider_key(cipher, key)?);
                }
            }
            if let Some(k) = &provider.kms {
                let version = match k.api_version.as_deref() {
                    None | Some("v1") => 1,
                    Some("v2") => 2,
                    Some(_) => {
                        return Err(EncryptionError::Config(format!(
                            "kms provider {:?}: its apiVersion is neither v1 nor v2",
                            k.name
                        )));
                    }
                };
                kms.push(KmsProvider {
                    name: k.name.clone(),
                    version,
                });
            }
        }
    }
    Ok((keys, kms))
}

fn provider_key(cipher: Cipher, key: &KeyConfig) -> Result<ProviderKey, EncryptionError> {
    let bad = |what: &str| {
        EncryptionError::Config(format!("{} key {:?}: {what}", cipher.name(), key.name))
    };
    if key.name.is_empty() {
        return Err(bad("the key name is empty"));
    }
    // The decode error would quote a byte of the secret: say only that it is not base64.
    let secret = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(key.secret.trim().as_bytes())
            .map_err(|_| bad("the secret is not standard base64"))?,
    );
    let ok = match cipher {
        Cipher::AesCbc | Cipher::AesGcm => matches!(secret.len(), 16 | 24 | 32),
        Cipher::Secretbox => secret.len() == 32,
    };
    if !ok {
        return Err(bad(&format!(
            "a {}-byte secret is the wrong size (aescbc/aesgcm take 16, 24 or 32 bytes, \
             secretbox 32)",
            secret.len()
        )));
    }
    Ok(ProviderKey {
        cipher,
        name: key.name.clone(),
        secret,
    })
}

/// Field names of the config, the only quoted words a parse error may keep.
const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "resources",
    "providers",
    "aescbc",
    "aesgcm",
    "secretbox",
    "identity",
    "kms",
    "keys",
    "name",
    "secret",
];

/// A YAML/serde error without the values it quotes: serde says `invalid type: string "<the
/// value>", expected a sequence` when `keys:` holds the secret itself. Every `"…"` and `` `…` ``
/// is dropped unless it is one of our field names; the rest (path, what was expected, line and
/// column) stays.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            out.push(c);
            continue;
        }
        let mut quoted = String::new();
        let mut escaped = false;
        for q in chars.by_ref() {
            if c == '"' && !escaped && q == '\\' {
                escaped = true;
                continue;
            }
            if q == c && !escaped {
                break;
            }
            escaped = false;
            quoted.push(q);
        }
        if FIELDS.contains(&quoted.as_str()) {
            out.extend([c].into_iter().chain(quoted.chars()).chain([c]));
        } else if out.ends_with(' ') {
            out.pop();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn quoted_values_are_dropped_field_names_kept() {
        let cases = [
            (
                r#"resources[0].providers[0].aescbc.keys: invalid type: string "c2Vj\"cmV0", expected a sequence at line 7 column 13"#,
                "resources[0].providers[0].aescbc.keys: invalid type: string, expected a sequence at line 7 column 13",
            ),
            (
                "invalid type: integer `123`, expected a string",
                "invalid type: integer, expected a string",
            ),
            ("missing field `secret`", "missing field `secret`"),
            ("unknown variant `c2Vj", "unknown variant"),
        ];
        for (message, want) in cases {
            assert_eq!(without_values(message), want);
        }
    }
}
