//! Logs on stderr: plain text for people, one JSON object per line for cron and log shippers
//! (`--log-format json`). Never log credentials or values.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Chooses the format once, at start-up.
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
}

static JOB: OnceLock<String> = OnceLock::new();

/// `--job NAME`: every later line carries `job`, so two jobs' logs can be told apart.
pub fn set_job(name: &str) {
    let _ = JOB.set(name.to_string());
}

/// The format chosen at start-up (text before [`init`]).
pub fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// A log line: level, message and structured fields.
pub fn emit(level: &str, msg: &str, fields: &[(&str, serde_json::Value)]) {
    eprintln!("{}", render(format(), level, msg, fields));
}

pub fn info(msg: &str, fields: &[(&str, serde_json::Value)]) {
    emit("info", msg, fields);
}

pub fn warn(msg: &str, fields: &[(&str, serde_json::Value)]) {
    emit("warn", msg, fields);
}

pub fn error(msg: &str, fields: &[(&str, serde_json::Value)]) {
    emit("error", msg, fields);
}

fn render(
    format: LogFormat,
    level: &str,
    msg: &str,
    fields: &[(&str, serde_json::Value)],
) -> String {
    match format {
        LogFormat::Json => {
            let mut obj = serde_json::Map::new();
            obj.insert("ts".into(), crate::timefmt::now_rfc3339().into());
            obj.insert("level".into(), level.into());
            obj.insert("msg".into(), msg.into());
            if let Some(job) = JOB.get() {
                obj.insert("job".into(), job.as_str().into());
            }
            for (k, v) in fields {
                obj.insert((*k).into(), v.clone());
            }
            serde_json::Value::Object(obj).to_string()
        }
        LogFormat::Text => {
            let mut s = format!("revkeeper: {msg}");
            if let Some(job) = JOB.get() {
                s.push_str(&format!(" job={job}"));
            }
            for (k, v) in fields {
                match v {
                    serde_json::Value::String(t) => s.push_str(&format!(" {k}={t}")),
                    other => s.push_str(&format!(" {k}={other}")),
                }
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_lines_are_single_objects() {
        let line = render(LogFormat::Json, "info", "saved", &[("revision", json!(42))]);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "info");
        assert_eq!(v["msg"], "saved");
        assert_eq!(v["revision"], 42);
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn text_lines_carry_fields() {
        let line = render(LogFormat::Text, "info", "saved", &[("file", json!("a.db"))]);
        assert_eq!(line, "revkeeper: saved file=a.db");
    }
}
