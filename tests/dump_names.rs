//! `dump` with object names too long for a file name (Kubernetes allows 253 bytes; with
//! `.yaml` that passes the 255-byte limit of most filesystems): every object is still written,
//! long names under a short, distinct file name with a warning; a path the filesystem refuses
//! fails that object only, with the usual "N of M" line. Objects are put in a real etcd.

mod common;

use std::path::Path;

use revkeeper_harness::Member;

fn configmap(name: &str) -> String {
    format!(
        r#"{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"{name}","namespace":"default"}},"data":{{"k":"v"}}}}"#
    )
}

/// One short-named and two long-named ConfigMaps that share their first 250 bytes.
fn cluster_with_long_names() -> (Member, [String; 3]) {
    let member = Member::start_single();
    let names = [
        "short".to_string(),
        format!("{}-a", "x".repeat(250)),
        format!("{}-b", "x".repeat(250)),
    ];
    common::rt().block_on(async {
        let mut c = common::client(&member.endpoint()).await;
        for name in &names {
            c.put(
                format!("/registry/configmaps/default/{name}"),
                configmap(name),
                None,
            )
            .await
            .unwrap();
        }
    });
    (member, names)
}

fn dump(member: &Member, dir: &Path) -> common::Run {
    common::run_cmd(
        common::revkeeper()
            .arg("dump")
            .arg(dir)
            .args(["--endpoints", &member.endpoint()]),
    )
}

#[test]
fn long_names_are_written_under_short_distinct_file_names() {
    let (member, names) = cluster_with_long_names();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = dump(&member, &out);
    assert_eq!(run.code, 0, "{run:?}");

    let dir = out.join("configmaps/default");
    let files = common::files_in(&dir);
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files.contains(&"short.yaml".to_string()), "{files:?}");
    for name in &names[1..] {
        let file = files
            .iter()
            .find(|f| {
                f.contains('%')
                    && std::fs::read_to_string(dir.join(f))
                        .unwrap()
                        .contains(&format!("name: {name}\n"))
            })
            .unwrap_or_else(|| panic!("no file holds {name}: {files:?}"));
        assert!(file.len() + ".part".len() <= 255, "{file}");
        assert!(
            run.stderr.contains(&format!(
                "/registry/configmaps/default/{name}: the name is too long for a file name; written as configmaps/default/{file}"
            )),
            "{run:?}"
        );
    }
}

#[test]
fn a_path_the_filesystem_refuses_fails_that_object_only() {
    let (member, names) = cluster_with_long_names();
    let tmp = tempfile::tempdir().unwrap();
    // Deep enough that `configmaps/default/<long name>.yaml` passes PATH_MAX (4096 bytes) while
    // `configmaps/default/short.yaml` fits.
    let mut out = tmp.path().to_path_buf();
    while out.as_os_str().len() < 3800 {
        out.push("d".repeat(200));
    }
    let run = dump(&member, &out);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.last_err_line(),
        "revkeeper: 2 of 3 objects could not be written (path too long for the filesystem)",
        "{run:?}"
    );
    for name in &names[1..] {
        assert!(
            run.stderr.contains(&format!(
                "/registry/configmaps/default/{name}: cannot write "
            )),
            "{run:?}"
        );
    }
    assert_eq!(
        common::files_in(&out.join("configmaps/default")),
        vec!["short.yaml"]
    );
}
