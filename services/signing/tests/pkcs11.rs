//! Keys in a PKCS#11 token: with SoftHSM2 (Debian's softhsm2, installed by .ci/run) configured, the
//! signing binary makes every ECDSA key in the token, stores none in its database, and its signatures
//! verify with OpenSSL. The binary runs as a child process because SoftHSM2 reads its configuration
//! file's path from the environment.

mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{TEST_SECRET, deploy, sign};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use sea_orm::{ConnectionTrait, Database, Statement};

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN_LABEL: &str = "motcua-test";
const PIN: &str = "123456";

/// The signing binary, stopped when the test ends however it ends.
struct RunningBinary(Child);

impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A SoftHSM2 configuration in `folder` with one initialised token; returns the configuration path.
fn softhsm_token(folder: &Path) -> String {
    assert!(
        Path::new(SOFTHSM_MODULE).exists(),
        "SoftHSM2 is required for this test: apt-get install -y softhsm2 (.ci/run does it)"
    );
    let tokens = folder.join("tokens");
    std::fs::create_dir_all(&tokens).expect("token folder");
    let configuration = folder.join("softhsm2.conf");
    std::fs::write(
        &configuration,
        format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
    )
    .expect("configuration");
    let output = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN, "--so-pin", "12345678"])
        .env("SOFTHSM2_CONF", &configuration)
        .output()
        .unwrap_or_else(|error| panic!("softhsm2-util is required for this test and could not run: {error}"));
    assert!(output.status.success(), "token initialised: {}", String::from_utf8_lossy(&output.stderr));
    configuration.display().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port()
}

fn openssl_verifies(folder: &Path, document: &[u8], signature: &pb::Signature) -> bool {
    std::fs::write(folder.join("doc"), document).expect("document");
    std::fs::write(folder.join("sig.p7s"), &signature.cms_der).expect("signature");
    std::fs::write(folder.join("chain.pem"), &signature.chain_pem).expect("chain");
    Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-CAfile", "chain.pem"])
        .args(["-content", "doc", "-in", "sig.p7s", "-out", "/dev/null"])
        .current_dir(folder)
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is required for this test and could not run: {error}"))
        .status
        .success()
}

#[tokio::test]
async fn keys_made_in_a_softhsm2_token_sign_and_never_reach_the_database() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-pkcs11-{}", uuid::Uuid::new_v4().simple()));
        let configuration = softhsm_token(&folder);
        let port = free_port();
        let _binary = RunningBinary(
            Command::new(env!("CARGO_BIN_EXE_motcua-signing"))
                .env("SOFTHSM2_CONF", &configuration)
                .env("MOTCUA_LISTEN_ADDR", format!("127.0.0.1:{port}"))
                .env("MOTCUA_DATABASE_URL", &database.url)
                .env("MOTCUA_SIGNING_KEY_ENCRYPTION_SECRET", TEST_SECRET)
                .env("MOTCUA_SIGNING_PKCS11_MODULE", SOFTHSM_MODULE)
                .env("MOTCUA_SIGNING_PKCS11_LABEL", TOKEN_LABEL)
                .env("MOTCUA_SIGNING_PKCS11_PIN", PIN)
                // Plaintext on loopback, as `motcua up` runs (the chassis refuses to start without an identity mode).
                .env("MOTCUA_DEV_IDENTITY", "true")
                .env("MOTCUA_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the signing binary starts"),
        );
        let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let mut client = None;
        for _ in 0..200 {
            if let Ok(connected) =
                pb::signing_service_client::SigningServiceClient::connect(format!("http://{address}")).await
            {
                client = Some(connected);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut client = client.expect("the signing binary answers within 20 s");

        let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        for certificate in [&deployment.root, &deployment.intermediate, &deployment.officer, &deployment.seal] {
            assert_eq!(
                certificate.key_storage,
                pb::KeyStorage::Pkcs11 as i32,
                "{}: {}",
                database.backend,
                certificate.name
            );
        }
        let document = b"signed in the token";
        let signature = sign(&mut client, "officer-CN01", document).await;
        assert!(
            openssl_verifies(&folder, document, &signature),
            "{}: openssl verifies a token signature",
            database.backend
        );
        let mut changed = document.to_vec();
        changed[0] ^= 1;
        assert!(!openssl_verifies(&folder, &changed, &signature));

        let db = Database::connect(database.url.as_str()).await.expect("database");
        let backend = db.get_database_backend();
        let row = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS stored FROM certificates WHERE encrypted_key IS NOT NULL",
            ))
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(row.try_get::<i64>("", "stored").expect("count"), 0, "{}: no key in the database", database.backend);
        let _ = std::fs::remove_dir_all(&folder);
    })
    .await;
}
