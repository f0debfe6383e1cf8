//! Fresh request ids: each mutation of a test is a new call, never a retry of another one.

/// A request id no other call has used.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh request id that starts with `label`, so a trail or a log line shows which step sent it.
pub fn request_id_for(label: &str) -> String {
    // The chassis accepts at most 64 characters: the label keeps what the 32-digit suffix leaves.
    let label: String = label.chars().take(31).collect();
    format!("{label}-{}", uuid::Uuid::new_v4().simple())
}
