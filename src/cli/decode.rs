//! `revkeeper decode [FILE|-]`: one stored value in, as auger's `decode` takes it (etcdctl's
//! trailing newline and leading key line tolerated), the object out.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use revkeeper_formats::k8s::{Decoded, ValueError, decode_value, split_printed_value};

use crate::decode::{DecodeOptions, NewerFields};
use crate::output::objects::write_object;
use crate::output::{OutputArgs, OutputFormat, with_stdout};
use crate::{Error, Result, log};

/// Decode one value as stored in etcd (e.g. `etcdctl get KEY --print-value-only | revkeeper decode`)
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The value: a file, or - (the default) for stdin
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The etcd key the value was stored under (aesgcm authenticates it; read from etcdctl's key line when present)
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub decoding: DecodeOptions,
}

pub fn run(args: DecodeArgs) -> Result<()> {
    let format = args
        .output
        .format(&[OutputFormat::Yaml, OutputFormat::Json])?;
    let keys = args.decoding.keyring()?;
    let (input, shown) = match args.file.as_deref() {
        Some(p) if p.as_os_str() != "-" => (
            std::fs::read(p).map_err(|e| Error::io("cannot read", p, e))?,
            p.display().to_string(),
        ),
        _ => {
            if std::io::stdin().is_terminal() {
                log::warn("reading the value from the terminal; end with Ctrl-D", &[]);
            }
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Error::general(format!("cannot read stdin: {e}")))?;
            (buf, "stdin".to_string())
        }
    };
    let printed = split_printed_value(&input);
    let key = match (&args.key, printed.key) {
        (Some(k), _) => k.as_bytes().to_vec(),
        (None, Some(line)) => line.to_vec(),
        (None, None) => Vec::new(),
    };
    let decoded = decode(&key, printed.value, printed.unstripped, &keys).map_err(|e| {
        let hint = match &e {
            ValueError::Encryption(_)
                if key.is_empty() && printed.value.starts_with(b"k8s:enc:aesgcm:") =>
            {
                " (aesgcm authenticates the etcd key: pass --key KEY)"
            }
            _ => "",
        };
        Error::invalid(format!("{shown}: {e}{hint}"))
    })?;
    let mut newer = NewerFields::default();
    let named = if key.is_empty() {
        shown.as_bytes()
    } else {
        &key
    };
    newer.note(named, &decoded);
    newer.warn();
    let Some(object) = decoded.object else {
        return Err(Error::invalid(format!(
            "{shown}: not a Kubernetes object ({}, {} bytes)",
            decoded.encoding.label(),
            printed.value.len()
        )));
    };
    let format = format.objects().expect("yaml and json print objects");
    with_stdout(|o| write_object(o, format, &object))
}

/// The value with etcdctl's newline stripped; if that fails, as given (its last byte may
/// really be `\n`), reporting the first error.
fn decode(
    key: &[u8],
    value: &[u8],
    unstripped: &[u8],
    keys: &revkeeper_formats::k8s::Keyring,
) -> std::result::Result<Decoded, ValueError> {
    match decode_value(key, value, keys) {
        Ok(d) if d.object.is_some() || value == unstripped => Ok(d),
        Ok(d) => Ok(decode_value(key, unstripped, keys)
            .ok()
            .filter(|u| u.object.is_some())
            .unwrap_or(d)),
        Err(e) if value != unstripped => decode_value(key, unstripped, keys).map_err(|_| e),
        Err(e) => Err(e),
    }
}
