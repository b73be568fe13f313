//! The v2 store JSON inside a restore's `.snap` (`docs/format-restore.md#v2-store`): Go's
//! `json.Marshal` of etcd's v2 store holding only `/0/members/<id>/raftAttributes`, as etcd 3.5's
//! restore leaves it. Members are created in ascending ID order, member k (1-based) at store
//! index k.

use std::fmt::Write;

use super::gojson::push_string;
use super::members::{Member, id_hex};

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
/// The v2 store keeps the last 1000 events in a ring.
const EVENT_HISTORY_CAPACITY: usize = 1000;

/// The v2 store JSON for `members` (sorted by ID here, whatever their order).
pub fn membership_store_json(members: &[Member]) -> String {
    let mut members: Vec<&Member> = members.iter().collect();
    members.sort_by_key(|m| m.id);
    let n = members.len();
    // (hex id, creation index k, raftAttributes JSON), children sorted by key as Go sorts maps.
    let mut created: Vec<(String, usize, String)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (id_hex(m.id), i + 1, m.raft_attributes_json()))
        .collect();

    let mut out = String::from("{\"Root\":");
    let mut member_nodes = String::from("{");
    created.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (hex, k, attrs)) in created.iter().enumerate() {
        if i > 0 {
            member_nodes.push(',');
        }
        let dir = format!("/0/members/{hex}");
        let leaf = node(&format!("{dir}/raftAttributes"), *k, attrs, None);
        let children = format!("{{\"raftAttributes\":{leaf}}}");
        push_string(&mut member_nodes, hex);
        member_nodes.push(':');
        member_nodes.push_str(&node(&dir, *k, "", Some(&children)));
    }
    member_nodes.push('}');
    let members_dir = node("/0/members", usize::from(n > 0), "", Some(&member_nodes));
    let zero = node("/0", 0, "", Some(&format!("{{\"members\":{members_dir}}}")));
    let one = node("/1", 0, "", Some("{}"));
    out.push_str(&node(
        "/",
        0,
        "",
        Some(&format!("{{\"0\":{zero},\"1\":{one}}}")),
    ));

    created.sort_by_key(|c| c.1);
    out.push_str(",\"WatcherHub\":");
    out.push_str(&event_history(&created));
    write!(out, ",\"CurrentIndex\":{n},\"Stats\":{}", stats(n)).expect("write to String");
    out.push_str(",\"CurrentVersion\":2}");
    out
}

/// A store node; `children` is `None` for a key (`"Children":null`).
fn node(path: &str, index: usize, value: &str, children: Option<&str>) -> String {
    let mut out = String::from("{\"Path\":");
    push_string(&mut out, path);
    write!(
        out,
        ",\"CreatedIndex\":{index},\"ModifiedIndex\":{index},\"ExpireTime\":\"{ZERO_TIME}\",\"Value\":"
    )
    .expect("write to String");
    push_string(&mut out, value);
    out.push_str(",\"Children\":");
    out.push_str(children.unwrap_or("null"));
    out.push('}');
    out
}

/// The watcher hub's event ring after one `create` per member, in creation order.
fn event_history(created: &[(String, usize, String)]) -> String {
    let mut ring: Vec<Option<String>> = vec![None; EVENT_HISTORY_CAPACITY];
    let (mut front, mut back, mut size) = (0usize, 0usize, 0usize);
    for (hex, k, attrs) in created {
        let mut event = String::from("{\"action\":\"create\",\"node\":{\"key\":");
        push_string(&mut event, &format!("/0/members/{hex}/raftAttributes"));
        event.push_str(",\"value\":");
        push_string(&mut event, attrs);
        write!(event, ",\"modifiedIndex\":{k},\"createdIndex\":{k}}}}}").expect("write to String");
        ring[back] = Some(event);
        back = (back + 1) % EVENT_HISTORY_CAPACITY;
        if size == EVENT_HISTORY_CAPACITY {
            front = (front + 1) % EVENT_HISTORY_CAPACITY;
        } else {
            size += 1;
        }
    }
    let start = if created.is_empty() {
        0
    } else {
        created[created.len().saturating_sub(EVENT_HISTORY_CAPACITY)].1
    };
    let last = created.last().map_or(0, |c| c.1);
    let events: Vec<&str> = ring
        .iter()
        .map(|e| e.as_deref().unwrap_or("null"))
        .collect();
    format!(
        "{{\"EventHistory\":{{\"Queue\":{{\"Events\":[{}],\"Size\":{size},\"Front\":{front},\"Back\":{back},\"Capacity\":{EVENT_HISTORY_CAPACITY}}},\"StartIndex\":{start},\"LastIndex\":{last}}}}}",
        events.join(",")
    )
}

fn stats(creates: usize) -> String {
    let names = [
        "getsSuccess",
        "getsFail",
        "setsSuccess",
        "setsFail",
        "deleteSuccess",
        "deleteFail",
        "updateSuccess",
        "updateFail",
        "createSuccess",
        "createFail",
        "compareAndSwapSuccess",
        "compareAndSwapFail",
        "compareAndDeleteSuccess",
        "compareAndDeleteFail",
        "expireCount",
        "watchers",
    ];
    let fields: Vec<String> = names
        .iter()
        .map(|name| {
            let v = if *name == "createSuccess" { creates } else { 0 };
            format!("\"{name}\":{v}")
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, url: &str) -> Member {
        Member {
            id,
            peer_urls: vec![url.to_string()],
            name: "n".into(),
            ..Member::default()
        }
    }

    #[test]
    fn one_member_store_is_valid_json_with_the_expected_shape() {
        let json = membership_store_json(&[member(0x8e9e05c52164694d, "http://localhost:2380")]);
        assert_eq!(json.len(), 6457);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let attrs = &v["Root"]["Children"]["0"]["Children"]["members"]["Children"]["8e9e05c52164694d"]
            ["Children"]["raftAttributes"];
        assert_eq!(attrs["Value"], "{\"peerURLs\":[\"http://localhost:2380\"]}");
        assert_eq!(attrs["CreatedIndex"], 1);
        assert!(attrs["Children"].is_null());
        let queue = &v["WatcherHub"]["EventHistory"]["Queue"];
        assert_eq!(queue["Events"].as_array().unwrap().len(), 1000);
        assert_eq!(queue["Back"], 1);
        assert_eq!(v["CurrentIndex"], 1);
        assert_eq!(v["Stats"]["createSuccess"], 1);
    }

    #[test]
    fn children_sort_by_hex_but_indexes_follow_ids() {
        // 0xf < 0x10 numerically, but "10" < "f" as map keys.
        let json = membership_store_json(&[member(0x10, "http://b:2"), member(0xf, "http://a:1")]);
        let f = json.find("\"/0/members/f\"").unwrap();
        let ten = json.find("\"/0/members/10\"").unwrap();
        assert!(ten < f);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let children = &v["Root"]["Children"]["0"]["Children"]["members"]["Children"];
        assert_eq!(children["f"]["CreatedIndex"], 1);
        assert_eq!(children["10"]["CreatedIndex"], 2);
        let events = &v["WatcherHub"]["EventHistory"]["Queue"]["Events"];
        assert_eq!(events[0]["node"]["key"], "/0/members/f/raftAttributes");
        assert!(events[2].is_null());
    }
}
