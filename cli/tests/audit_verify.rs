//! `motcua audit verify` as an operator runs it, the real binary against a SQLite file migrated by
//! receipt's own migrations and chained by the chassis's chainer: a clean trail verifies (exit 0, the
//! count and the head); after a record in the middle is edited past its trigger, as a database
//! administrator could, the command names that position and record and exits non-zero.

use std::process::{Command, Output};

use motcua_chassis::{audit::chain, db};
use sqlx::{Connection, Row, SqliteConnection};

const RECORDS: i64 = 20;
const EDITED_POSITION: i64 = 7;

fn verify(url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["audit", "verify", "--database-url", url])
        .output()
        .expect("motcua runs")
}

/// Writes `RECORDS` records, some with subjects, the way the trail's store does.
async fn write_records(connection: &mut SqliteConnection) {
    for index in 0..RECORDS {
        let id: i64 = sqlx::query(
            "INSERT INTO audit_records \
             (time, identity, actor_id, rpc, action, request_id, trace_id, status_code, error_reason) \
             VALUES (?, ?, '', '/motcua.receipt.v1.ReceiptService/IssueReceipt', 1, ?, '', 0, '') RETURNING id",
        )
        .bind(format!("2026-12-08 03:00:{index:02}.123456+00:00"))
        .bind(format!("spiffe://motcua/staff/cn{index:02}"))
        .bind(format!("request-{index}"))
        .fetch_one(&mut *connection)
        .await
        .expect("record written")
        .get(0);
        for position in 0..(index % 3) {
            sqlx::query("INSERT INTO audit_record_subjects (record_id, position, subject) VALUES (?, ?, ?)")
                .bind(id)
                .bind(position)
                .bind(format!("receipts/{index}-{position}"))
                .execute(&mut *connection)
                .await
                .expect("subject written");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_a_clean_trail_and_names_the_position_of_an_edited_record() {
    let folder = std::env::temp_dir().join(format!("motcua-audit-verify-{}", uuid::Uuid::new_v4().simple()));
    let path = folder.join("receipt.db");
    let url = format!("sqlite://{}", path.display());

    let db = db::connect(&format!("{url}?mode=rwc"), None).await.expect("database opens");
    db::migrate::<motcua_receipt::migration::Migrator>(&db).await.expect("receipt's migrations");
    let mut connection = SqliteConnection::connect(&url).await.expect("sqlite opens");
    write_records(&mut connection).await;
    let chained = chain::chain_all(&db).await.expect("chained");
    assert_eq!((chained.count, chained.position), (RECORDS as u64, RECORDS));
    db.close().await.expect("closes");

    let clean = verify(&url);
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert!(clean.status.success(), "{stdout}{}", String::from_utf8_lossy(&clean.stderr));
    let head = stdout
        .trim()
        .strip_prefix(&format!("verified {RECORDS} records, head "))
        .unwrap_or_else(|| panic!("unexpected output {stdout:?}"));
    assert!(head.len() == 64 && head.bytes().all(|byte| byte.is_ascii_hexdigit()), "{head}");

    // The administrator drops the trigger and changes one field of the seventh record.
    let record: i64 = sqlx::query("SELECT record_id FROM audit_chain WHERE position = ?")
        .bind(EDITED_POSITION)
        .fetch_one(&mut connection)
        .await
        .expect("the chain names a record there")
        .get(0);
    sqlx::query("DROP TRIGGER audit_records_no_update").execute(&mut connection).await.expect("trigger dropped");
    sqlx::query("UPDATE audit_records SET status_code = 7 WHERE id = ?")
        .bind(record)
        .execute(&mut connection)
        .await
        .expect("record edited");
    connection.close().await.expect("closes");

    let edited = verify(&url);
    let stdout = String::from_utf8_lossy(&edited.stdout);
    assert!(!edited.status.success(), "an edited trail must fail: {stdout}");
    assert!(stdout.starts_with(&format!("MISMATCH at position {EDITED_POSITION} (record {record}): ")), "{stdout}");
    assert!(String::from_utf8_lossy(&edited.stderr).contains("does not match"), "{edited:?}");

    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn verify_refuses_a_database_of_another_kind_by_name() {
    let output = verify("mysql://root@127.0.0.1/motcua");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database URL"), "{output:?}");
}
