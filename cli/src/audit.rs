//! `motcua audit verify`: an operator's check of a service's audit trail, read straight from its
//! database, against the hash chain the service keeps over it (see docs/security.md).

use anyhow::Context as _;
use motcua_chassis::audit::chain;

/// Walks the chain of the trail in `database_url` and prints `verified N records, head <hex>`, or the
/// first mismatch and fails.
pub async fn verify(database_url: &str) -> anyhow::Result<()> {
    let db = motcua_chassis::db::connect(database_url, Some(1)).await?;
    let outcome = chain::verify(&db).await.context("reading the audit trail and its chain");
    db.close().await.context("closing the database")?;
    match outcome? {
        Ok(verified) => {
            println!("verified {} records, head {}", verified.count, chain::to_hex(&verified.head));
            Ok(())
        }
        Err(mismatch) => {
            println!("{mismatch}");
            anyhow::bail!("the audit trail does not match its chain")
        }
    }
}
