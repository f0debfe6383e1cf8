//! Keys never sit in plain text: after a deployment is made and has signed, no table of signing's
//! database holds a private key's PKCS#8 or SEC1 structure, a PEM private key, or the raw private
//! scalar of any of its keys (each recovered in the test by decrypting the stored key with the
//! configured secret).

mod common;

use common::{TEST_SECRET, deploy, sign, start};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// Every text and blob value of every table, as lowercase hex of its bytes.
async fn every_value_as_hex(db: &DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let columns_sql = match backend {
        DbBackend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table'"
        }
        _ => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns \
             WHERE table_schema = 'public'"
        }
    };
    let columns = db.query_all_raw(Statement::from_string(backend, columns_sql)).await.expect("columns");
    let mut values = Vec::new();
    for column in columns {
        let table: String = column.try_get("", "table_name").expect("table");
        let name: String = column.try_get("", "column_name").expect("column");
        let expression = match backend {
            DbBackend::Sqlite => format!("lower(hex(\"{name}\"))"),
            _ => format!(
                "CASE WHEN pg_typeof(\"{name}\") = 'bytea'::regtype THEN encode(\"{name}\"::text::bytea, 'hex') \
                 ELSE encode(convert_to(\"{name}\"::text, 'UTF8'), 'hex') END"
            ),
        };
        let sql = format!("SELECT {expression} AS value FROM \"{table}\"");
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await.expect("values") {
            if let Ok(Some(value)) = row.try_get::<Option<String>>("", "value") {
                values.push((format!("{table}.{name}"), value));
            }
        }
    }
    values
}

/// The private scalars (or RSA private exponents) of the encrypted keys stored, decrypted here with
/// the configured secret.
async fn stored_private_secrets(db: &DatabaseConnection) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut secrets = Vec::new();
    for sql in
        ["SELECT encrypted_key FROM certificates WHERE encrypted_key IS NOT NULL", "SELECT encrypted_key FROM log_key"]
    {
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await.expect("keys") {
            let encrypted: Vec<u8> = row.try_get("", "encrypted_key").expect("bytes");
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(encrypted.as_slice()).expect("encrypted PKCS#8");
            let document = info.decrypt(TEST_SECRET).expect("decrypts with the configured secret");
            let private_key_info = pkcs8::PrivateKeyInfo::try_from(document.as_bytes()).expect("PKCS#8");
            // The inner private key: a SEC1 ECPrivateKey (version 1, then the 32-byte scalar, then the
            // public key, which certificates rightly carry), an RSAPrivateKey (whose last bytes are
            // the secret CRT coefficient) or the Ed25519 seed.
            let inner = private_key_info.private_key;
            let sec1_scalar = inner.windows(5).position(|window| window == [0x02, 0x01, 0x01, 0x04, 0x20]);
            let secret = match sec1_scalar {
                Some(position) => &inner[position + 5..position + 5 + 32],
                None => &inner[inner.len().saturating_sub(32)..],
            };
            secrets.push(hex::encode(secret));
            secrets.push(hex::encode(document.as_bytes()));
        }
    }
    secrets
}

#[tokio::test]
async fn no_private_key_material_is_stored_unencrypted() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        deploy(&mut client, "CN02", false, pb::KeyAlgorithm::Rsa2048Pss).await;
        sign(&mut client, &deployment.officer.holder_id, b"a document").await;
        sign(&mut client, "officer-CN02", b"another document").await;

        let db = Database::connect(database.url.as_str()).await.expect("database");
        let secrets = stored_private_secrets(&db).await;
        assert!(
            secrets.len() >= 2 * 10,
            "{}: every key was found to check ({} values)",
            database.backend,
            secrets.len()
        );
        let markers = [
            hex::encode("PRIVATE KEY-----"),
            // PrivateKeyInfo: version 0 then id-ecPublicKey / rsaEncryption / Ed25519.
            "020100301306072a8648ce3d0201".to_owned(),
            "020100300d06092a864886f70d010101".to_owned(),
            "020100300506032b6570".to_owned(),
        ];
        let values = every_value_as_hex(&db).await;
        assert!(
            values.iter().any(|(column, _)| column == "certificates.encrypted_key"),
            "the scan reads the key column"
        );
        for (column, value) in &values {
            for marker in &markers {
                assert!(
                    !value.contains(marker.as_str()),
                    "{}: {column} holds a plain private key structure",
                    database.backend
                );
            }
            for secret in &secrets {
                assert!(!value.contains(secret.as_str()), "{}: {column} holds private key bytes", database.backend);
            }
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}
