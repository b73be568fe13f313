//! Secrets stay out of messages: key material of a malformed EncryptionConfiguration, and the
//! user info of an endpoint URL, in errors, logs, manifests and metrics.

mod common;

use common::*;
use revkeeper_harness::{Member, free_port};

/// base64 of the 32-byte key `revkeeper-redaction-test-key-32b`.
const SECRET: &str = "cmV2a2VlcGVyLXJlZGFjdGlvbi10ZXN0LWtleS0zMmI=";
/// base64 of a 16-byte key: a valid aescbc size, the wrong size for secretbox.
const SECRET16: &str = "c2l4dGVlbi1ieXRlLWtleQ==";

const HEAD: &str = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n";

/// No piece of `secret` long enough to matter appears in `text`.
fn assert_hidden(text: &str, secret: &str, what: &str) {
    for start in 0..secret.len() - 8 {
        let piece = &secret[start..start + 8];
        assert!(
            !text.contains(piece),
            "{what}: {piece:?} of the secret shown:\n{text}"
        );
    }
}

#[test]
fn a_malformed_encryption_config_never_shows_its_key_material() {
    let providers =
        |p: &str| format!("{HEAD}resources:\n- resources: [secrets]\n  providers:\n{p}");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "keys as a string",
            providers(&format!("  - aescbc:\n      keys: {SECRET}\n")),
            SECRET,
        ),
        (
            "keys as a map",
            providers(&format!(
                "  - aescbc:\n      keys: {{name: k, secret: {SECRET}}}\n"
            )),
            SECRET,
        ),
        (
            "secret as a map",
            providers(&format!(
                "  - aescbc:\n      keys:\n      - name: k\n        secret: {{value: {SECRET}}}\n"
            )),
            SECRET,
        ),
        (
            "secret as a sequence",
            providers(&format!(
                "  - aesgcm:\n      keys:\n      - name: k\n        secret: [{SECRET}]\n"
            )),
            SECRET,
        ),
        (
            "secret that is not base64",
            providers(&format!(
                "  - aescbc:\n      keys:\n      - name: k\n        secret: {SECRET}!!\n"
            )),
            SECRET,
        ),
        (
            "secret of the wrong length",
            providers(&format!(
                "  - secretbox:\n      keys:\n      - name: k\n        secret: {SECRET16}\n"
            )),
            SECRET16,
        ),
        (
            "providers as a string",
            format!("{HEAD}resources:\n- resources: [secrets]\n  providers: {SECRET}\n"),
            SECRET,
        ),
        (
            "a YAML syntax error next to the secret",
            providers(&format!(
                "  - aescbc:\n      keys:\n      - name: k\n        secret: {SECRET}\n   bad: [\n"
            )),
            SECRET,
        ),
        (
            "JSON with keys as a string",
            format!(
                r#"{{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{{"resources":["secrets"],"providers":[{{"aesgcm":{{"keys":"{SECRET}"}}}}]}}]}}"#
            ),
            SECRET,
        ),
        (
            "kind holding the secret",
            format!("apiVersion: apiserver.config.k8s.io/v1\nkind: {SECRET}\nresources: []\n"),
            SECRET,
        ),
        (
            "kms apiVersion holding the secret",
            providers(&format!(
                "  - kms:\n      name: k\n      apiVersion: {SECRET}\n"
            )),
            SECRET,
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let value = tmp.path().join("value.json");
    std::fs::write(&value, br#"{"kind":"ConfigMap","apiVersion":"v1"}"#).unwrap();
    for (what, config, secret) in cases {
        let path = tmp.path().join("encryption-config.yaml");
        std::fs::write(&path, &config).unwrap();
        let r = run(&[
            "decode",
            value.to_str().unwrap(),
            "--encryption-config",
            path.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 3, "{what}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{what}: {r:?}");
        assert!(
            r.stderr.contains("encryption config") && r.stderr.contains("encryption-config.yaml"),
            "{what}: {r:?}"
        );
        assert_hidden(&r.stderr, secret, what);
        assert_hidden(&r.stdout, secret, what);
    }
}

#[test]
fn endpoint_credentials_never_reach_errors_logs_manifests_or_metrics() {
    const PASSWORDS: [&str; 2] = ["pw-of-bob-4711", "pw-of-alice-0815"];
    let hidden = |text: &str, what: &str| {
        for pw in PASSWORDS {
            assert!(!text.contains(pw), "{what} shows a password:\n{text}");
        }
        assert!(
            !text.contains("bob:") && !text.contains("alice:"),
            "{what}:\n{text}"
        );
    };

    // Flags that cannot be parsed: exit 3, the URL shown as scheme://***@host.
    for bad in [
        "http://bob:pw-of-bob-4711@127.0.0.1:99999",
        "unix://bob:pw-of-bob-4711@sock",
        "http://bob:pw-of-bob-4711/x@127.0.0.1:2379/path",
    ] {
        let r = run(&["get", "--key", "a", "--endpoints", bad]);
        assert_eq!(r.code, 3, "{r:?}");
        assert!(r.last_err_line().contains("***@"), "{r:?}");
        hidden(&r.stderr, bad);
    }

    // Nothing answers: exit 2 naming the endpoint without its user info.
    let closed = free_port();
    let r = run(&[
        "get",
        "--key",
        "a",
        "--dial-timeout",
        "500ms",
        "--endpoints",
        &format!("http://bob:pw-of-bob-4711@127.0.0.1:{closed}"),
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.last_err_line()
            .contains(&format!("http://127.0.0.1:{closed}")),
        "{r:?}"
    );
    hidden(&r.stderr, "connect error");

    // A save that skips the closed endpoint and takes the snapshot from the live one.
    let member = Member::start_single();
    let ep = member.endpoint();
    fill_small(&ep, 3);
    let tmp = tempfile::tempdir().unwrap();
    let metrics = tmp.path().join("etcd.prom");
    let endpoints = format!(
        "http://bob:pw-of-bob-4711@127.0.0.1:{closed},{}",
        ep.replace("http://", "http://alice:pw-of-alice-0815@")
    );
    let r = run(&[
        "snapshot",
        "save",
        "--dir",
        tmp.path().to_str().unwrap(),
        "--endpoints",
        &endpoints,
        "--dial-timeout",
        "500ms",
        "--metrics-file",
        metrics.to_str().unwrap(),
        "--log-format",
        "json",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    hidden(&r.stdout, "save stdout");
    hidden(&r.stderr, "save log");
    let logs = json_lines(&r.stderr);
    let skipped = logs
        .iter()
        .find(|l| l["msg"] == "cannot use this endpoint")
        .unwrap_or_else(|| panic!("no skipped-endpoint line: {r:?}"));
    assert_eq!(
        skipped["endpoint"],
        format!("http://127.0.0.1:{closed}"),
        "{r:?}"
    );
    let warned: Vec<&serde_json::Value> = logs
        .iter()
        .filter(|l| {
            l["msg"]
                .as_str()
                .unwrap_or("")
                .contains("endpoint URL is not used")
        })
        .map(|l| &l["endpoint"])
        .collect();
    assert_eq!(
        warned,
        vec![
            &serde_json::json!(format!("http://***@127.0.0.1:{closed}")),
            &serde_json::json!(ep.replace("http://", "http://***@")),
        ],
        "{r:?}"
    );
    let manifest: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(manifest["endpoint"], ep.as_str());
    let snapshot = tmp.path().join(manifest["file"].as_str().unwrap());
    hidden(
        &std::fs::read_to_string(revkeeper::backup::manifest::manifest_path(&snapshot)).unwrap(),
        "manifest file",
    );
    hidden(&std::fs::read_to_string(&metrics).unwrap(), "metrics");
}
