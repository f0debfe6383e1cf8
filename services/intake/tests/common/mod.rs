//! The names intake's tests/audit.rs imports from here; every other test imports them from the test
//! kit, and so will audit.rs once the kit takes the audit-trail reader.

pub use motcua_testkit::{
    clients::intake as client,
    dossiers::{create, filing},
    people::officer,
    request_id,
};
