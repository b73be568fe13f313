//! The three local providers' layouts (kubernetes/apiserver `aes.go`, `secretbox.go`):
//! aescbc `IV(16) || CBC(PKCS#7)`, aesgcm `nonce(12) || ct || tag(16)` with the etcd key as AAD,
//! secretbox `nonce(24) || tag(16) || ct` (NaCl XSalsa20-Poly1305).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aead::{AeadCore, OsRng, rand_core::RngCore};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};

use super::Cipher;

/// Why a body did not decrypt (the caller names the provider and key).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// Shorter than the nonce/IV plus tag, or not whole blocks.
    Truncated { len: usize, need: &'static str },
    /// Wrong key or changed ciphertext.
    Authentication,
}

/// Whether a body of `len` bytes fits the provider's layout (nonce/IV, tag, whole blocks).
pub(super) fn check_len(cipher: Cipher, len: usize) -> Result<(), Failure> {
    let (fits, need) = match cipher {
        Cipher::AesCbc => (
            len >= 32 && len % 16 == 0,
            "a 16-byte IV and whole 16-byte blocks",
        ),
        Cipher::AesGcm => (len >= 12 + 16, "a 12-byte nonce and a 16-byte tag"),
        Cipher::Secretbox => (len >= 24 + 16, "a 24-byte nonce and a 16-byte tag"),
    };
    if fits {
        Ok(())
    } else {
        Err(Failure::Truncated { len, need })
    }
}

pub(super) fn aescbc(secret: &[u8], body: &[u8]) -> Result<Vec<u8>, Failure> {
    check_len(Cipher::AesCbc, body.len())?;
    let (iv, ct) = body.split_at(16);
    let out = match secret.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(secret, iv)
            .map(|d| d.decrypt_padded_vec_mut::<Pkcs7>(ct)),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(secret, iv)
            .map(|d| d.decrypt_padded_vec_mut::<Pkcs7>(ct)),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(secret, iv)
            .map(|d| d.decrypt_padded_vec_mut::<Pkcs7>(ct)),
    };
    match out {
        Ok(Ok(plain)) => Ok(plain),
        _ => Err(Failure::Authentication),
    }
}

pub(super) fn aesgcm(secret: &[u8], aad: &[u8], body: &[u8]) -> Result<Vec<u8>, Failure> {
    check_len(Cipher::AesGcm, body.len())?;
    let (nonce, ct) = body.split_at(12);
    let nonce = aes_gcm::Nonce::from_slice(nonce);
    let payload = Payload { msg: ct, aad };
    let out = match secret.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(secret).map(|c| c.decrypt(nonce, payload)),
        24 => aes_gcm::AesGcm::<aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(secret)
            .map(|c| c.decrypt(nonce, payload)),
        _ => aes_gcm::Aes256Gcm::new_from_slice(secret).map(|c| c.decrypt(nonce, payload)),
    };
    match out {
        Ok(Ok(plain)) => Ok(plain),
        _ => Err(Failure::Authentication),
    }
}

pub(super) fn secretbox(secret: &[u8], body: &[u8]) -> Result<Vec<u8>, Failure> {
    check_len(Cipher::Secretbox, body.len())?;
    let (nonce, ct) = body.split_at(24);
    let cipher = crypto_secretbox::XSalsa20Poly1305::new_from_slice(secret)
        .map_err(|_| Failure::Authentication)?;
    cipher
        .decrypt(crypto_secretbox::Nonce::from_slice(nonce), ct)
        .map_err(|_| Failure::Authentication)
}

/// The writing side of the three layouts, with a random nonce/IV.
pub(super) fn encrypt(cipher: Cipher, secret: &[u8], aad: &[u8], plain: &[u8]) -> Vec<u8> {
    match cipher {
        Cipher::AesCbc => {
            let mut iv = [0u8; 16];
            OsRng.fill_bytes(&mut iv);
            let ct = match secret.len() {
                16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(secret, &iv)
                    .map(|e| e.encrypt_padded_vec_mut::<Pkcs7>(plain)),
                24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(secret, &iv)
                    .map(|e| e.encrypt_padded_vec_mut::<Pkcs7>(plain)),
                _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(secret, &iv)
                    .map(|e| e.encrypt_padded_vec_mut::<Pkcs7>(plain)),
            }
            .expect("key sizes are checked when the config is parsed");
            [&iv[..], &ct].concat()
        }
        Cipher::AesGcm => {
            let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
            let payload = Payload { msg: plain, aad };
            let ct = match secret.len() {
                16 => {
                    aes_gcm::Aes128Gcm::new_from_slice(secret).map(|c| c.encrypt(&nonce, payload))
                }
                24 => aes_gcm::AesGcm::<aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(
                    secret,
                )
                .map(|c| c.encrypt(&nonce, payload)),
                _ => aes_gcm::Aes256Gcm::new_from_slice(secret).map(|c| c.encrypt(&nonce, payload)),
            }
            .expect("key sizes are checked when the config is parsed")
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
            [&nonce[..], &ct].concat()
        }
        Cipher::Secretbox => {
            let c = crypto_secretbox::XSalsa20Poly1305::new_from_slice(secret)
                .expect("key sizes are checked when the config is parsed");
            let nonce = crypto_secretbox::XSalsa20Poly1305::generate_nonce(&mut OsRng);
            let ct = c
                .encrypt(&nonce, plain)
                .expect("secretbox encryption of an in-memory buffer cannot fail");
            [&nonce[..], &ct].concat()
        }
    }
}
