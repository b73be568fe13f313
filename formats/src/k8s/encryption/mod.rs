//! Encryption at rest: `k8s:enc:<provider>:v1:<key name>:<ciphertext>`, decrypted with the keys
//! of an apiserver EncryptionConfiguration. (Being written on the decode-values branch.)

pub const PREFIX: &[u8] = b"k8s:enc:";

/// Which provider and key encrypted a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub provider: String,
    pub key_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error("value is encrypted; decryption is not built yet")]
    NotBuilt,
}

/// The keys of an EncryptionConfiguration (empty: nothing can be decrypted).
#[derive(Clone, Debug, Default)]
pub struct Keyring {}

impl Keyring {
    /// Decrypts `value` stored under `key`: which provider/key it used, and the plaintext.
    pub fn decrypt(
        &self,
        _key: &[u8],
        _value: &[u8],
    ) -> Result<(Envelope, Vec<u8>), EncryptionError> {
        Err(EncryptionError::NotBuilt)
    }
}
