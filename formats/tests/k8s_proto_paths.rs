//! The protobuf walk's variants agree, over every stored value of the shared fixtures, damaged
//! copies of them and hand-built extremes:
//! * the validate-only walk (`proto::validate`, `k8s::validate_value`) accepts exactly the
//!   values the JSON writers (`proto::write_json`, `k8s::write_value_json`) accept and refuses
//!   the others with the same error;
//! * the JSON written with the in-order path (`write_json`) is byte for byte the general path's
//!   (`write_json_general`), errors included, and deep nesting stays linear.

use revkeeper_formats::bbolt::Db;
use revkeeper_formats::k8s::{Keyring, proto, validate_value, write_value_json};
use revkeeper_harness::require_fixture;

mod stored_values;
use stored_values::{
    LENGTH_BEYOND_VALUE, all_stored_values, damaged_values, deeply_nested, envelope, live_values,
    put_len,
};

type Written = Result<(u32, Vec<u8>), String>;

/// `proto::write_json` or `proto::write_json_general`.
type Writer = fn(&[u8], Option<i64>, &mut Vec<u8>) -> Result<u32, proto::ProtoError>;

/// The JSON (with the unknown-field count) or the error's text, through `write`.
fn written(value: &[u8], resource_version: Option<i64>, write: Writer) -> Written {
    // Something before, as in a batch of lines: the writers append.
    let mut out = b"previous line\n".to_vec();
    let n = write(value, resource_version, &mut out).map_err(|e| e.to_string());
    let text = out.split_off(14);
    assert_eq!(out, b"previous line\n");
    if n.is_err() {
        assert!(text.is_empty(), "output left behind an error");
    }
    n.map(|n| (n, text))
}

/// Runs `values` through every variant and returns (accepted, refused); panics on the first
/// difference.
fn agree<'a>(what: &str, values: impl IntoIterator<Item = &'a [u8]>) -> (usize, usize) {
    let (mut ok, mut refused) = (0, 0);
    for (n, v) in values.into_iter().enumerate() {
        for rv in [None, Some(4242)] {
            let fast = written(v, rv, proto::write_json);
            let general = written(v, rv, proto::write_json_general);
            if fast != general {
                let show = |w: &Written| match w {
                    Ok((_, t)) => String::from_utf8_lossy(t).into_owned(),
                    Err(e) => e.clone(),
                };
                panic!(
                    "{what} #{n} (rv {rv:?}): in-order\n{}\ngeneral\n{}",
                    show(&fast),
                    show(&general)
                );
            }
        }
        let fast = written(v, None, proto::write_json).map(|(n, _)| n);
        let checked = proto::validate(v).map_err(|e| e.to_string());
        assert_eq!(fast, checked, "{what} #{n}: write_json vs validate");
        match fast {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    (ok, refused)
}

#[test]
fn variants_agree_on_fixtures_and_damaged_values() {
    let Some(values) = all_stored_values() else {
        return;
    };
    let (ok, refused) = agree("fixture", values.iter().map(|(_, v)| v.as_slice()));
    println!("fixtures: {ok} accepted, {refused} refused by both");
    assert!(ok > 1000, "the fixtures hold thousands of decodable values");
    let damaged: Vec<Vec<u8>> = damaged_values(&values).collect();
    let (ok, refused) = agree("damaged", damaged.iter().map(Vec::as_slice));
    println!("damaged: {ok} accepted, {refused} refused by both");
    assert!(ok > 0 && refused > 0);
}

#[test]
fn variants_agree_on_nesting_lengths_and_special_types() {
    for levels in [1, 50, 99, 100, 101, 500] {
        agree("nested", [deeply_nested(levels).as_slice()]);
    }
    assert!(matches!(
        proto::validate(&deeply_nested(500)),
        Err(proto::ProtoError::TooDeep { .. })
    ));
    // Damage at the bottom of a deep value is met once: no level decodes its children again
    // (an exponential walk would never finish; a linear one takes milliseconds).
    let started = std::time::Instant::now();
    for levels in [40, 60, 80, 98] {
        let mut v = deeply_nested(levels);
        let last = v.len() - 2;
        v[last] = 0xff; // inside the innermost raw JSON
        agree("damaged deep", [v.as_slice(), &v[..v.len() - 3]]);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "deep values took {:?}",
        started.elapsed()
    );
    assert!(proto::validate(LENGTH_BEYOND_VALUE).is_err());
    agree("length", [LENGTH_BEYOND_VALUE]);

    // core/v1 Event.eventTime (10), a MicroTime {seconds 1, nanos 2}.
    let event = |seconds: i64, nanos: i32| {
        let mut t = vec![0x08];
        varint(&mut t, seconds as u64);
        t.push(0x10);
        varint(&mut t, i64::from(nanos) as u64);
        let mut body = vec![0x52];
        put_len(&mut body, &t);
        envelope("v1", "Event", &body)
    };
    let fine = event(1_600_000_000, 5_000);
    let out_of_range = event(i64::MIN, -1);
    assert!(proto::validate(&fine).is_ok());
    assert!(proto::validate(&out_of_range).is_err());
    agree("MicroTime", [fine.as_slice(), out_of_range.as_slice()]);

    // core/v1 Service.spec (2).ports (1).targetPort (4): IntOrString {type 1, intVal 2, strVal 3}.
    let service = |int_or_string: &[u8]| {
        let mut port = vec![0x22];
        put_len(&mut port, int_or_string);
        let mut spec = vec![0x0a];
        put_len(&mut spec, &port);
        let mut body = vec![0x12];
        put_len(&mut body, &spec);
        envelope("v1", "Service", &body)
    };
    let named = service(b"\x08\x01\x1a\x04http");
    let numbered = service(b"\x10\x90\x3f");
    let neither = service(b"\x08\x02");
    assert!(proto::validate(&named).is_ok() && proto::validate(&numbered).is_ok());
    assert!(proto::validate(&neither).is_err());
    agree(
        "IntOrString",
        [named.as_slice(), numbered.as_slice(), neither.as_slice()],
    );
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Every live value of cluster.db (protobuf, JSON, CBOR, text, Secrets encrypted with four
/// keys) and damaged copies, through the value-level pair with the fixture's keys.
#[test]
fn validate_value_agrees_with_write_value_json_on_cluster_dev() {
    let Some(dir) = require_fixture("cluster-dev") else {
        return;
    };
    let keys = Keyring::load(&dir.join("encryption-config.yaml")).expect("fixture config");
    let mut live: Vec<_> = live_values(&Db::open(&dir.join("cluster.db")).unwrap())
        .into_iter()
        .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
        .collect();
    live.sort();
    // Damaged copies of every 5th value, under its own key (AES-GCM authenticates the key).
    let damaged: Vec<(String, Vec<u8>)> = live
        .iter()
        .step_by(5)
        .flat_map(|kv| damaged_values(std::slice::from_ref(kv)).map(|v| (kv.0.clone(), v)))
        .collect();
    let (mut ok, mut refused, mut encrypted) = (0, 0, 0);
    for (key, value) in live.iter().chain(&damaged) {
        let mut out = Vec::new();
        let written = write_value_json(key.as_bytes(), value, &keys, None, &mut out);
        let checked = validate_value(key.as_bytes(), value, &keys);
        match (written, checked) {
            (Ok(w), Ok(c)) => {
                assert_eq!(w.encoding, c, "{key}");
                ok += 1;
                encrypted += usize::from(w.encoding.label().starts_with("encrypted"));
            }
            (Err(w), Err(c)) => {
                assert_eq!(w.to_string(), c.to_string(), "{key}");
                refused += 1;
            }
            (w, c) => panic!("{key}: write_value_json {w:?}, validate_value {c:?}"),
        }
    }
    println!("cluster-dev: {ok} accepted ({encrypted} encrypted), {refused} refused by both");
    assert!(ok > 1000 && encrypted > 0 && refused > 0);
}
