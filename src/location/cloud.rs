//! Cloud stores from `object_store`'s builders: settings and credentials from the environment
//! (or the given variables), then the CLI's overrides.

use std::str::FromStr;
use std::sync::Arc;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};

use super::errors::map_store_error;
use super::{CloudEnv, Location, LocationOptions, redact};
use crate::{Error, Result};

/// Builds the store of a cloud location. Nothing is sent: a wrong credential shows on the first
/// request.
pub(crate) fn build(location: &Location, opts: &LocationOptions) -> Result<Arc<dyn ObjectStore>> {
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: opts.max_retries,
        retry_timeout: opts.retry_timeout,
    };
    let target = location.to_string();
    let built: std::result::Result<Arc<dyn ObjectStore>, object_store::Error> = match location {
        Location::S3 { bucket, .. } => {
            let b = s3_builder(bucket, opts)?;
            b.with_retry(retry).build().map(|s| Arc::new(s) as _)
        }
        Location::Gcs { bucket, .. } => gcs_builder(bucket, &opts.env)
            .with_retry(retry)
            .build()
            .map(|s| Arc::new(s) as _),
        Location::Azure { container, .. } => azure_builder(container, &opts.env)
            .with_retry(retry)
            .build()
            .map(|s| Arc::new(s) as _),
        Location::Local(_) => unreachable!("local locations have no object store"),
    };
    built.map_err(|e| map_store_error(e, location, "open", &target))
}

/// The S3 builder: `AWS_*` settings, then `--s3-endpoint`/`--s3-region`. A plain-http endpoint
/// must be allowed explicitly (`AWS_ALLOW_HTTP=true`), as the AWS tools require.
pub(crate) fn s3_builder(bucket: &str, opts: &LocationOptions) -> Result<AmazonS3Builder> {
    let mut b = match &opts.env {
        CloudEnv::Process => AmazonS3Builder::from_env(),
        CloudEnv::Vars(vars) => with_vars(AmazonS3Builder::new(), vars, "AWS_", |b, k, v| {
            b.with_config(k, v)
        }),
    };
    b = b.with_bucket_name(bucket);
    if let Some(endpoint) = &opts.s3_endpoint {
        b = b.with_endpoint(endpoint);
    }
    if let Some(region) = &opts.s3_region {
        b = b.with_region(region);
    }
    if let Some(endpoint) = b.get_config_value(&AmazonS3ConfigKey::Endpoint) {
        let allowed = b
            .get_config_value(&AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if endpoint.to_ascii_lowercase().starts_with("http://") && !allowed {
            return Err(Error::invalid(format!(
                "s3://{bucket}: endpoint {} is plain http; set AWS_ALLOW_HTTP=true to allow it",
                redact(&endpoint)
            )));
        }
    }
    Ok(b)
}

pub(crate) fn gcs_builder(bucket: &str, env: &CloudEnv) -> GoogleCloudStorageBuilder {
    let b = match env {
        CloudEnv::Process => GoogleCloudStorageBuilder::from_env(),
        CloudEnv::Vars(vars) => with_vars(
            GoogleCloudStorageBuilder::new(),
            vars,
            "GOOGLE_",
            |b, k, v| b.with_config(k, v),
        ),
    };
    b.with_bucket_name(bucket)
}

pub(crate) fn azure_builder(container: &str, env: &CloudEnv) -> MicrosoftAzureBuilder {
    let b = match env {
        CloudEnv::Process => MicrosoftAzureBuilder::from_env(),
        CloudEnv::Vars(vars) => {
            with_vars(MicrosoftAzureBuilder::new(), vars, "AZURE_", |b, k, v| {
                b.with_config(k, v)
            })
        }
    };
    b.with_container_name(container)
}

/// What `from_env` does, over given variables: each `PREFIX…` name, lowercased, that the
/// builder knows as a config key.
fn with_vars<B, K: FromStr>(
    mut builder: B,
    vars: &[(String, String)],
    prefix: &str,
    set: impl Fn(B, K, &str) -> B,
) -> B {
    for (name, value) in vars {
        if name.starts_with(prefix)
            && let Ok(key) = name.to_ascii_lowercase().parse::<K>()
        {
            builder = set(builder, key, value);
        }
    }
    builder
}

#[cfg(test)]
mod tests {
    use object_store::azure::AzureConfigKey;
    use object_store::gcp::GoogleConfigKey;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> CloudEnv {
        CloudEnv::Vars(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn s3_settings_come_from_the_environment_and_flags_override_them() {
        let opts = LocationOptions {
            env: vars(&[
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_SESSION_TOKEN", "token"),
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ENDPOINT_URL", "https://minio.example:9000"),
                ("UNRELATED", "x"),
            ]),
            ..LocationOptions::default()
        };
        let b = s3_builder("snaps", &opts).unwrap();
        let get = |k| b.get_config_value(&k);
        assert_eq!(get(AmazonS3ConfigKey::Bucket).as_deref(), Some("snaps"));
        assert_eq!(
            get(AmazonS3ConfigKey::AccessKeyId).as_deref(),
            Some("AKIDEXAMPLE")
        );
        assert_eq!(get(AmazonS3ConfigKey::Token).as_deref(), Some("token"));
        assert_eq!(get(AmazonS3ConfigKey::Region).as_deref(), Some("eu-west-1"));
        assert_eq!(
            get(AmazonS3ConfigKey::Endpoint).as_deref(),
            Some("https://minio.example:9000")
        );

        let opts = LocationOptions {
            s3_endpoint: Some("https://rgw.local".into()),
            s3_region: Some("us-east-2".into()),
            ..opts
        };
        let b = s3_builder("snaps", &opts).unwrap();
        assert_eq!(
            b.get_config_value(&AmazonS3ConfigKey::Endpoint).as_deref(),
            Some("https://rgw.local")
        );
        assert_eq!(
            b.get_config_value(&AmazonS3ConfigKey::Region).as_deref(),
            Some("us-east-2")
        );
        b.build().unwrap();
    }

    #[test]
    fn plain_http_endpoints_need_aws_allow_http() {
        let mut opts = LocationOptions {
            s3_endpoint: Some("http://user:pw@127.0.0.1:9000".into()),
            env: vars(&[]),
            ..LocationOptions::default()
        };
        let e = s3_builder("b", &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s3://b: endpoint http://***@127.0.0.1:9000 is plain http; set AWS_ALLOW_HTTP=true to allow it"
        );
        assert_eq!(e.exit_code(), 3);
        opts.env = vars(&[("AWS_ALLOW_HTTP", "true")]);
        s3_builder("b", &opts).unwrap();
    }

    #[test]
    fn gcs_reads_google_variables() {
        let b = gcs_builder(
            "bk",
            &vars(&[("GOOGLE_APPLICATION_CREDENTIALS", "/etc/gcp/sa.json")]),
        );
        assert_eq!(
            b.get_config_value(&GoogleConfigKey::ApplicationCredentials)
                .as_deref(),
            Some("/etc/gcp/sa.json")
        );
        assert_eq!(
            b.get_config_value(&GoogleConfigKey::Bucket).as_deref(),
            Some("bk")
        );
    }

    #[test]
    fn azure_reads_azure_variables() {
        let env = vars(&[
            ("AZURE_STORAGE_ACCOUNT_NAME", "acct"),
            ("AZURE_STORAGE_ACCOUNT_KEY", "a2V5"),
        ]);
        let b = azure_builder("snaps", &env);
        assert_eq!(
            b.get_config_value(&AzureConfigKey::AccountName).as_deref(),
            Some("acct")
        );
        assert_eq!(
            b.get_config_value(&AzureConfigKey::AccessKey).as_deref(),
            Some("a2V5")
        );
        assert_eq!(
            b.get_config_value(&AzureConfigKey::ContainerName)
                .as_deref(),
            Some("snaps")
        );
        b.build().unwrap();
    }

    #[test]
    fn azure_without_an_account_says_which_variable_is_missing() {
        let loc = Location::parse("az://snaps/p").unwrap();
        let opts = LocationOptions {
            env: vars(&[]),
            ..LocationOptions::default()
        };
        let e = build(&loc, &opts).expect_err("no account name");
        let msg = e.to_string();
        assert!(msg.starts_with("cannot open az://snaps/p: "), "{msg}");
        assert!(msg.contains("AZURE_STORAGE_ACCOUNT_NAME"), "{msg}");
        assert_eq!(msg.lines().count(), 1);
    }
}
