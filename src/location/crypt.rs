//! age encryption, streaming: [`Encryptor`] from recipients (`age1…`, `ssh-ed25519`, `ssh-rsa`)
//! wraps any `Write`; [`Decryptor`] from identity files wraps any `Read`. Keys are never put in
//! messages: a bad line is named by file and line number.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use age::stream::{StreamReader, StreamWriter};

use super::errors::into_io;
use crate::{Error, Result};

/// The first bytes of every age file.
pub const AGE_HEADER: &[u8] = b"age-encryption.org/v1";

/// The variable naming an identity file when no `--identity` is given.
pub const IDENTITY_ENV: &str = "REVKEEPER_AGE_IDENTITY";

/// Whether `prefix` (the first bytes of a file) starts an age file.
pub fn is_age(prefix: &[u8]) -> bool {
    prefix.starts_with(AGE_HEADER)
}

/// Whether the file at `path` is an age file.
pub fn is_age_file(path: &Path) -> Result<bool> {
    let mut head = [0u8; AGE_HEADER.len()];
    let mut file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("cannot read", path, e)),
        }
    }
    Ok(is_age(&head[..n]))
}

/// Encrypts to a fixed set of recipients.
pub struct Encryptor {
    recipients: Vec<Box<dyn age::Recipient + Send + Sync>>,
    public_keys: Vec<String>,
}

impl Encryptor {
    /// From `--encrypt-to` values and `--recipients-file` files (one recipient a line; blank
    /// lines and `#` comments skipped). `None` when both are empty: no encryption asked for.
    pub fn from_args(encrypt_to: &[String], recipients_files: &[PathBuf]) -> Result<Option<Self>> {
        let mut recipients: Vec<Box<dyn age::Recipient + Send + Sync>> = Vec::new();
        let mut public_keys = Vec::new();
        let mut add = |line: &str, source: &str| -> Result<()> {
            let key = line.trim();
            recipients.push(parse_recipient(key, source)?);
            public_keys.push(key.to_string());
            Ok(())
        };
        for r in encrypt_to {
            add(r, "--encrypt-to")?;
        }
        for path in recipients_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io("cannot read the recipients file", path, e))?;
            let mut any = false;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                add(line, &format!("{} line {}", path.display(), i + 1))?;
                any = true;
            }
            if !any {
                return Err(Error::invalid(format!(
                    "recipients file {} has no recipient",
                    path.display()
                )));
            }
        }
        if recipients.is_empty() {
            return Ok(None);
        }
        Ok(Some(Encryptor {
            recipients,
            public_keys,
        }))
    }

    /// The recipients' public keys as given (for the manifest).
    pub fn public_keys(&self) -> &[String] {
        &self.public_keys
    }

    /// Starts an age file on `out`. Call [`EncryptingWriter::finish`] at the end: without it
    /// the file is truncated and will not decrypt.
    pub fn wrap<W: Write>(&self, out: W) -> Result<EncryptingWriter<W>> {
        let encryptor =
            age::Encryptor::with_recipients(self.recipients.iter().map(|r| r.as_ref() as _))
                .map_err(|e| Error::invalid(format!("cannot encrypt to these recipients: {e}")))?;
        let inner = encryptor
            .wrap_output(out)
            .map_err(|e| Error::general(format!("cannot write the age header: {e}")))?;
        Ok(EncryptingWriter { inner })
    }
}

fn parse_recipient(key: &str, source: &str) -> Result<Box<dyn age::Recipient + Send + Sync>> {
    if key.starts_with("age1") {
        return key
            .parse::<age::x25519::Recipient>()
            .map(|r| Box::new(r) as _)
            .map_err(|_| {
                Error::invalid(format!(
                    "{source}: not a valid age recipient (age1… from age-keygen -y)"
                ))
            });
    }
    if key.starts_with("ssh-") {
        return key
            .parse::<age::ssh::Recipient>()
            .map(|r| Box::new(r) as _)
            .map_err(|e| {
                let why = match e {
                    age::ssh::ParseRecipientKeyError::RsaModulusTooSmall => {
                        "ssh-rsa key shorter than 2048 bits"
                    }
                    age::ssh::ParseRecipientKeyError::RsaModulusTooLarge => "ssh-rsa key too large",
                    _ => "not a supported ssh public key (ssh-ed25519 or ssh-rsa)",
                };
                Error::invalid(format!("{source}: {why}"))
            });
    }
    if key.starts_with("AGE-SECRET-KEY-") {
        return Err(Error::invalid(format!(
            "{source}: this is a secret key, not a recipient; give its public key (age-keygen -y)"
        )));
    }
    Err(Error::invalid(format!(
        "{source}: not a recipient; give an age1… key or an ssh-ed25519/ssh-rsa public key"
    )))
}

/// A `Write` that encrypts into its inner writer.
pub struct EncryptingWriter<W: Write> {
    inner: StreamWriter<W>,
}

impl<W: Write> EncryptingWriter<W> {
    /// Writes the last chunk and returns the inner writer (not flushed or finished itself).
    pub fn finish(self) -> io::Result<W> {
        self.inner.finish()
    }
}

impl<W: Write> Write for EncryptingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts with the identities of one or more files.
pub struct Decryptor {
    identities: Vec<Box<dyn age::Identity + Send + Sync>>,
}

impl Decryptor {
    /// From `--identity` files, else the file named by `REVKEEPER_AGE_IDENTITY`; `None` when
    /// neither is given (the reader then fails with [`Decryptor::missing`] once it meets an
    /// encrypted file).
    pub fn from_args(identity_files: &[PathBuf]) -> Result<Option<Self>> {
        let files = identity_files_to_use(identity_files, std::env::var_os(IDENTITY_ENV));
        if files.is_empty() {
            return Ok(None);
        }
        Self::from_files(&files).map(Some)
    }

    /// Loads every identity of `files`: age identity files (`AGE-SECRET-KEY-1…` lines, as
    /// `age-keygen` writes them) and unencrypted OpenSSH private keys (ed25519, rsa).
    pub fn from_files(files: &[PathBuf]) -> Result<Self> {
        let mut identities = Vec::new();
        for path in files {
            identities.extend(load_identity_file(path)?);
        }
        Ok(Decryptor { identities })
    }

    /// The one-line error for an encrypted `target` met without any identity.
    pub fn missing(target: &str) -> Error {
        Error::invalid(format!(
            "{target} is encrypted with age; pass --identity FILE or set {IDENTITY_ENV}"
        ))
    }

    /// Reads the age header of `input` and unlocks it. A wrong identity or a damaged header is
    /// an error now; a damaged or truncated body is an error from `read` (carrying an [`Error`],
    /// see [`super::error_from_io`]). `target` names the file in messages.
    pub fn wrap<R: Read>(&self, input: R, target: &str) -> Result<DecryptingReader<R>> {
        let decryptor = age::Decryptor::new(input).map_err(|e| decrypt_error(e, target))?;
        if decryptor.is_scrypt() {
            return Err(Error::invalid(format!(
                "{target} is encrypted with a passphrase; revkeeper decrypts only with identity files"
            )));
        }
        let inner = decryptor
            .decrypt(self.identities.iter().map(|i| i.as_ref() as _))
            .map_err(|e| decrypt_error(e, target))?;
        Ok(DecryptingReader {
            inner,
            target: target.to_string(),
        })
    }
}

/// `--identity` files win; else the file `REVKEEPER_AGE_IDENTITY` names (if set, not empty).
fn identity_files_to_use(flags: &[PathBuf], env: Option<std::ffi::OsString>) -> Vec<PathBuf> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    env.filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect()
}

fn decrypt_error(e: age::DecryptError, target: &str) -> Error {
    use age::DecryptError as D;
    let why = match e {
        D::NoMatchingKeys => {
            "none of the given identities can decrypt it (wrong --identity or REVKEEPER_AGE_IDENTITY)"
                .to_string()
        }
        D::InvalidHeader | D::InvalidMac | D::DecryptionFailed | D::KeyDecryptionFailed => {
            "its age header is damaged or was tampered with".to_string()
        }
        D::UnknownFormat => "not an age v1 file (or a newer age format)".to_string(),
        D::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "it is truncated before the end of its age header".to_string()
        }
        D::Io(io) => return Error::general(format!("cannot read {target}: {io}")),
        other => format!("cannot decrypt ({})", other.to_string().replace('\n', " ")),
    };
    Error::invalid(format!("cannot decrypt {target}: {why}"))
}

/// A `Read` of the plaintext. Every error names the file; a modified or truncated ciphertext
/// fails (exit 3) before any byte of its chunk is returned.
pub struct DecryptingReader<R: Read> {
    inner: StreamReader<R>,
    target: String,
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.get_ref().is_some_and(|i| i.is::<Error>()) {
                // Already ours: an error of the store the ciphertext comes from.
                return e;
            }
            let err = match e.kind() {
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => Error::invalid(
                    format!(
                        "cannot decrypt {}: the ciphertext was modified or truncated (age authentication failed)",
                        self.target
                    ),
                ),
                _ => Error::general(format!("cannot read {}: {e}", self.target)),
            };
            into_io(err)
        })
    }
}

fn load_identity_file(path: &Path) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>> {
    let file = File::open(path).map_err(|e| Error::io("cannot open the identity file", path, e))?;
    let mut reader = BufReader::new(file);
    let head = reader
        .fill_buf()
        .map_err(|e| Error::io("cannot read the identity file", path, e))?;
    let bad = |why: &str| Error::invalid(format!("identity file {}: {why}", path.display()));
    if head.starts_with(b"-----BEGIN") {
        let filename = Some(path.display().to_string());
        let identity = age::ssh::Identity::from_buffer(reader, filename)
            .map_err(|_| bad("not a supported OpenSSH private key (ed25519 or rsa)"))?;
        return match identity {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![Box::new(identity)]),
            age::ssh::Identity::Encrypted(_) => Err(bad(
                "the ssh key is passphrase-protected; use an unencrypted copy or an age identity",
            )),
            age::ssh::Identity::Unsupported(_) => Err(bad("this ssh key type is not supported")),
        };
    }
    // age's parser names the line, never its content.
    let parsed = age::IdentityFile::from_buffer(reader).map_err(|e| bad(&e.to_string()))?;
    let identities = parsed
        .into_identities()
        .map_err(|_| bad("cannot load its identities"))?;
    if identities.is_empty() {
        return Err(bad(
            "no identity in it (expected AGE-SECRET-KEY-1… lines from age-keygen)",
        ));
    }
    Ok(identities)
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    fn keypair(dir: &Path, name: &str) -> (PathBuf, String, String) {
        let id = age::x25519::Identity::generate();
        let secret = id.to_string().expose_secret().to_string();
        let path = dir.join(name);
        std::fs::write(&path, format!("# created by a test\n{secret}\n")).unwrap();
        (path, id.to_public().to_string(), secret)
    }

    fn encrypt(enc: &Encryptor, plain: &[u8]) -> Vec<u8> {
        let mut w = enc.wrap(Vec::new()).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap()
    }

    fn decrypt(dec: &Decryptor, cipher: &[u8]) -> Result<Vec<u8>> {
        let mut r = dec.wrap(cipher, "s3://b/p/x.db.zst.age")?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| super::super::error_from_io(e, "x"))?;
        Ok(out)
    }

    #[test]
    fn round_trip_with_two_recipients_and_a_recipients_file() {
        let dir = tempfile::tempdir().unwrap();
        let (id1, pub1, _) = keypair(dir.path(), "id1");
        let (id2, pub2, _) = keypair(dir.path(), "id2");
        let rfile = dir.path().join("recipients.txt");
        std::fs::write(&rfile, format!("# ops team\n\n{pub2}\n")).unwrap();
        let enc = Encryptor::from_args(std::slice::from_ref(&pub1), &[rfile])
            .unwrap()
            .unwrap();
        assert_eq!(enc.public_keys(), [pub1, pub2]);
        // Several 64 KiB age chunks.
        let plain: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let cipher = encrypt(&enc, &plain);
        assert!(is_age(&cipher));
        for id in [id1, id2] {
            let dec = Decryptor::from_files(&[id]).unwrap();
            assert_eq!(decrypt(&dec, &cipher).unwrap(), plain);
        }
    }

    #[test]
    fn wrong_identity_and_tampering_fail_with_one_line_exit_3() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pub1, _) = keypair(dir.path(), "id1");
        let (other, _, other_secret) = keypair(dir.path(), "other");
        let enc = Encryptor::from_args(&[pub1], &[]).unwrap().unwrap();
        let cipher = encrypt(&enc, &vec![42u8; 200_000]);

        let wrong = Decryptor::from_files(&[other]).unwrap();
        let e = decrypt(&wrong, &cipher).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("wrong --identity"), "{e}");
        assert!(!e.to_string().contains(&other_secret));

        let (id1_path, _, _) = (dir.path().join("id1"), (), ());
        let right = Decryptor::from_files(&[id1_path]).unwrap();
        let mut tampered = cipher.clone();
        let last = tampered.len() - 10;
        tampered[last] ^= 1;
        let e = decrypt(&right, &tampered).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("modified or truncated"), "{e}");

        let truncated = &cipher[..cipher.len() - 100];
        let e = decrypt(&right, truncated).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{e}");
    }

    #[test]
    fn bad_recipients_and_identities_are_named_never_printed() {
        let e = Encryptor::from_args(&["age1notakey".into()], &[])
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .starts_with("--encrypt-to: not a valid age recipient"),
            "{e}"
        );
        let secret = age::x25519::Identity::generate()
            .to_string()
            .expose_secret()
            .to_string();
        let e = Encryptor::from_args(std::slice::from_ref(&secret), &[])
            .err()
            .unwrap();
        assert!(e.to_string().contains("secret key, not a recipient"), "{e}");
        assert!(!e.to_string().contains(&secret));
        assert!(Encryptor::from_args(&[], &[]).unwrap().is_none());

        let dir = tempfile::tempdir().unwrap();
        let idf = dir.path().join("id");
        std::fs::write(&idf, format!("{secret}\nAGE-SECRET-KEY-1GARBAGE{secret}\n")).unwrap();
        let e = Decryptor::from_files(std::slice::from_ref(&idf))
            .err()
            .unwrap();
        let msg = e.to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(!msg.contains(&secret), "{msg}");
        assert_eq!(e.exit_code(), 3);
        let e = Decryptor::from_files(&[dir.path().join("missing")])
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), 3);
        assert!(
            Decryptor::missing("s3://b/x.age")
                .to_string()
                .contains(IDENTITY_ENV)
        );
    }

    #[test]
    fn identity_flags_win_over_the_environment() {
        let env = Some(std::ffi::OsString::from("/etc/revkeeper/age.key"));
        let flag = vec![PathBuf::from("/root/id.txt")];
        assert_eq!(identity_files_to_use(&flag, env.clone()), flag);
        assert_eq!(
            identity_files_to_use(&[], env),
            [PathBuf::from("/etc/revkeeper/age.key")]
        );
        assert!(identity_files_to_use(&[], Some("".into())).is_empty());
        assert!(identity_files_to_use(&[], None).is_empty());
    }

    #[test]
    fn age_files_are_detected_by_their_header() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pubk, _) = keypair(dir.path(), "id");
        let enc = Encryptor::from_args(&[pubk], &[]).unwrap().unwrap();
        let f = dir.path().join("x.age");
        std::fs::write(&f, encrypt(&enc, b"x")).unwrap();
        assert!(is_age_file(&f).unwrap());
        std::fs::write(&f, b"age").unwrap();
        assert!(!is_age_file(&f).unwrap());
    }
}
