//! The connection layer (`src/connect.rs`) through `snapshot save`, against real etcd servers:
//! TLS with client certificates, user/password auth, etcdctl's flags and ETCDCTL_* variables,
//! `--insecure-skip-tls-verify`, and the errors for bad TLS files and unreachable endpoints.

mod common;

use std::path::Path;

use common::*;
use revkeeper_harness::Member;

/// TLS with client certificates and user/password auth (enabled through etcd-client), with
/// flags and with ETCDCTL_* variables; wrong CA, wrong password, no user; skip-verify.
#[test]
fn tls_client_certs_and_password_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = revkeeper_harness::TestPki::generate(tmp.path());
    let member = Member::start_single_with(Some(pki.server_tls(true)), Vec::new());
    let ep = member.endpoint();
    assert!(ep.starts_with("https://"));
    rt().block_on(async {
        let tls = etcd_client::TlsOptions::new()
            .ca_certificate(etcd_client::Certificate::from_pem(
                std::fs::read(&pki.ca).unwrap(),
            ))
            .identity(etcd_client::Identity::from_pem(
                std::fs::read(&pki.client_cert).unwrap(),
                std::fs::read(&pki.client_key).unwrap(),
            ));
        let opts = etcd_client::ConnectOptions::new().with_tls(tls);
        let mut c = etcd_client::Client::connect([ep.as_str()], Some(opts))
            .await
            .unwrap();
        c.put("/proof", "over tls", None).await.unwrap();
        c.role_add("root").await.unwrap();
        c.user_add("root", "rootpw", None).await.unwrap();
        c.user_grant_role("root", "root").await.unwrap();
        c.auth_enable().await.unwrap();
    });
    let (ca, cert, key) = (
        pki.ca.to_str().unwrap(),
        pki.client_cert.to_str().unwrap(),
        pki.client_key.to_str().unwrap(),
    );
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let d = out.to_str().unwrap();
    // `snapshot save` over mutual TLS, plus `extra` flags.
    let save_tls = |extra: &[&str]| {
        let mut args = vec![
            "snapshot",
            "save",
            "--dir",
            d,
            "--endpoints",
            &ep,
            "--cacert",
            ca,
            "--cert",
            cert,
            "--key",
            key,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };

    // Flags.
    let r = save_tls(&["--user", "root:rootpw"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("rootpw"), "password in logs: {r:?}");
    split_checked(&zstd_decode(Path::new(r.stdout.trim())));

    // ETCDCTL_* variables, endpoint without scheme (TLS because certificates are given).
    let hostport = ep.trim_start_matches("https://");
    let r = run_cmd(
        revkeeper()
            .args(["snapshot", "save", "--dir", d, "--prefix", "env"])
            .env("ETCDCTL_ENDPOINTS", hostport)
            .env("ETCDCTL_CACERT", ca)
            .env("ETCDCTL_CERT", cert)
            .env("ETCDCTL_KEY", key)
            .env("ETCDCTL_USER", "root")
            .env("ETCDCTL_PASSWORD", "rootpw")
            .env("ETCDCTL_DIAL_TIMEOUT", "3s")
            .env("ETCDCTL_COMMAND_TIMEOUT", "1m"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("/env-"), "{r:?}");

    // Wrong password: exit 3, says so, no password echoed.
    let r = save_tls(&["--user", "root:nope"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("authentication failed"), "{r:?}");
    assert!(!r.stderr.contains("nope"), "{r:?}");

    // No user at all while auth is on (the client certificate's CN is not a user): exit 3.
    let r = save_tls(&[]);
    assert_eq!(r.code, 3, "{r:?}");

    // --user without a password and stdin not a terminal: no prompt, exit 3.
    let r = save_tls(&["--user", "root"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.last_err_line().contains("not a terminal"), "{r:?}");

    // A CA that did not sign the server certificate: cannot connect (2), reason given.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let other_pki = revkeeper_harness::TestPki::generate(&other);
    let r = run(&[
        "snapshot",
        "save",
        "--dir",
        d,
        "--endpoints",
        &ep,
        "--cacert",
        other_pki.ca.to_str().unwrap(),
        "--cert",
        cert,
        "--key",
        key,
        "--user",
        "root:rootpw",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let last = r.last_err_line();
    assert!(last.contains(&ep) && last.contains("certificate"), "{r:?}");

    // --insecure-skip-tls-verify (here via its variable): works with the wrong CA, and warns.
    let r = run_cmd(
        revkeeper()
            .args([
                "snapshot",
                "save",
                "--dir",
                d,
                "--prefix",
                "insecure",
                "--endpoints",
                &ep,
            ])
            .args(["--cert", cert, "--key", key, "--user", "root:rootpw"])
            .env("ETCDCTL_INSECURE_SKIP_TLS_VERIFY", "true"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("NOT verified"), "{r:?}");

    // The restored data is what was written over TLS (etcdutl, when present).
    let path = Path::new(r.stdout.trim());
    let plain = tmp.path().join("tls.db");
    std::fs::write(&plain, zstd_decode(path)).unwrap();
    etcdutl_status(&plain);
}

/// Input errors need no server: bad TLS files → 3, unreachable endpoints → 2 naming each one,
/// always a one-line error; JSON logs stay JSON.
#[test]
fn bad_tls_files_and_unreachable_endpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let junk = tmp.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let missing = tmp.path().join("missing.crt");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--cacert", missing.to_str().unwrap()], "missing.crt"),
        (vec!["--cacert", junk.to_str().unwrap()], "junk.pem"),
        (
            vec![
                "--cacert",
                junk.to_str().unwrap(),
                "--insecure-skip-tls-verify",
            ],
            "junk.pem",
        ),
        (
            vec![
                "--cert",
                junk.to_str().unwrap(),
                "--key",
                junk.to_str().unwrap(),
                "--insecure-skip-tls-verify",
            ],
            "junk.pem",
        ),
        (vec!["--cert", missing.to_str().unwrap()], "without --key"),
        (
            vec!["--endpoints", "unix:///run/etcd.sock"],
            "unix:///run/etcd.sock",
        ),
        (vec!["--dial-timeout", "2"], "missing unit"),
    ];
    for (args, needle) in cases {
        let mut all = vec!["snapshot", "save", "--dir", d];
        all.extend(args.iter().copied());
        let r = run(&all);
        assert_eq!(r.code, 3, "{args:?}: {r:?}");
        if args[0] == "--dial-timeout" {
            // clap's own usage error: the reason is on its first line.
            assert!(r.stderr.lines().next().unwrap().contains(needle), "{r:?}");
        } else {
            assert_eq!(r.stderr.lines().count(), 1, "one line: {r:?}");
            assert!(r.last_err_line().contains(needle), "{args:?}: {r:?}");
        }
    }
    assert!(files_in(tmp.path()).iter().all(|f| f == "junk.pem"));

    let (a, b) = (
        revkeeper_harness::free_port(),
        revkeeper_harness::free_port(),
    );
    let eps = format!("127.0.0.1:{a},http://127.0.0.1:{b}");
    let r = run(&[
        "snapshot",
        "save",
        "--dir",
        d,
        "--endpoints",
        &eps,
        "--dial-timeout",
        "500ms",
        "--log-format",
        "json",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let logs = json_lines(&r.stderr);
    let last = logs.last().unwrap();
    assert_eq!(last["level"], "error");
    let msg = last["msg"].as_str().unwrap();
    assert!(!msg.contains('\n'));
    for port in [a, b] {
        assert!(msg.contains(&format!("http://127.0.0.1:{port}: ")), "{msg}");
    }
    assert!(msg.contains("refused"), "{msg}");

    // Text logs: the error is the last line, one line.
    let r = run(&["snapshot", "save", "--dir", d, "--endpoints", &eps]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.last_err_line()
            .starts_with("revkeeper: cannot connect to any endpoint"),
        "{r:?}"
    );

    // Missing target and bad directory.
    assert_eq!(run(&["snapshot", "save"]).code, 3);
    // A missing --dir is created, but not a missing parent (a typo must not create a tree).
    let deep = missing.join("sub");
    let r = run(&["snapshot", "save", "--dir", deep.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.last_err_line()
            .contains("parent directory does not exist"),
        "{r:?}"
    );
}
