//! The `cluster` bucket (`docs/format-etcd.md#cluster-bucket`): the cluster version and downgrade
//! state.

use serde::{Deserialize, Serialize};

use super::error::SchemaError;

/// Key of the cluster version (ASCII semver, e.g. `3.5.0`).
pub const CLUSTER_VERSION_KEY: &[u8] = b"clusterVersion";
/// Key of the downgrade state (JSON of [`DowngradeInfo`]).
pub const DOWNGRADE_KEY: &[u8] = b"downgrade";

/// Reads `clusterVersion`: `major.minor.patch` with decimal parts.
pub fn cluster_version(value: &[u8]) -> Result<String, SchemaError> {
    let bad = || {
        SchemaError::invalid(
            "cluster/clusterVersion",
            format!(
                "{:?} is not a major.minor.patch version",
                String::from_utf8_lossy(value)
            ),
        )
    };
    let text = std::str::from_utf8(value).map_err(|_| bad())?;
    let parts: Vec<&str> = text.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(numeric) {
        return Err(bad());
    }
    Ok(text.to_string())
}

/// `DowngradeInfo` as etcd stores it: `{"target-version":"3.5.0","enabled":true}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DowngradeInfo {
    #[serde(rename = "target-version", default)]
    pub target_version: String,
    #[serde(default)]
    pub enabled: bool,
}

impl DowngradeInfo {
    /// Reads the `downgrade` value.
    pub fn from_json(value: &[u8]) -> Result<DowngradeInfo, SchemaError> {
        serde_json::from_slice(value).map_err(|e| SchemaError::json("cluster/downgrade", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(cluster_version(b"3.5.0").unwrap(), "3.5.0");
        for bad in [&b""[..], b"3.5", b"3.5.x", b"3..0", b"v3.5.0", &[0xff]] {
            assert!(cluster_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn downgrade_info() {
        let json = br#"{"target-version":"3.5.0","enabled":true}"#;
        let info = DowngradeInfo::from_json(json).unwrap();
        assert_eq!(info.target_version, "3.5.0");
        assert!(info.enabled);
        assert_eq!(serde_json::to_vec(&info).unwrap(), json);
        assert!(DowngradeInfo::from_json(b"{\"enabled\":1}").is_err());
        assert!(DowngradeInfo::from_json(b"").is_err());
    }
}
