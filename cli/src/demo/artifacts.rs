//! What `motcua demo --out DIR` leaves for anyone to check with standard tools: the signed result and
//! its two detached signatures, the fee receipt (XML, signature, PDF), the slip, the chain they verify
//! against, a signed checkpoint of signing's transparency log with an inclusion proof of each signature,
//! reporting's summary, and VERIFY.md with the OpenSSL commands.

use std::{path::Path, time::Duration};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD};
use motcua_chassis::peer::PeerChannel;
use motcua_proto::motcua::{
    intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
    receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
    reporting::v1 as reporting,
    signing::v1::{self as signing, signing_service_client::SigningServiceClient},
};
use serde_json::json;

use super::{FOLLOW_WAIT, signers};

/// The clients the artifacts are read with.
pub struct Clients<'a> {
    pub intake: &'a mut IntakeServiceClient<PeerChannel>,
    pub signing: &'a mut SigningServiceClient<PeerChannel>,
    pub receipts: &'a mut ReceiptServiceClient<PeerChannel>,
}

/// What the demo made, by name.
pub struct Made<'a> {
    /// The dossier's result, with its document and its two signatures.
    pub result: &'a intake::DossierResult,
    /// The fee receipt.
    pub fee_receipt: &'a receipt::Receipt,
    /// The acknowledgement slip.
    pub slip: &'a receipt::Receipt,
    /// Reporting's summary of the day at the branch, after the dossier.
    pub summary: &'a reporting::GetSummaryResponse,
}

/// Writes every artifact into `out` (created if missing).
pub async fn write(out: &Path, clients: Clients<'_>, made: Made<'_>) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let write = |file: &str, bytes: &[u8]| {
        std::fs::write(out.join(file), bytes).with_context(|| format!("writing {}", out.join(file).display()))
    };
    let request =
        intake::GetDocumentRequest { name: made.result.document.clone(), view: intake::DocumentView::Full as i32 };
    let document = clients.intake.get_document(request).await.context("intake: GetDocument")?.into_inner();
    write("result.pdf", &document.content)?;
    let fee_signature = made.fee_receipt.signature.as_ref().map(|signature| signature.signature.clone());
    let signed = [
        ("result.officer.p7s", made.result.officer_signature.clone()),
        ("result.seal.p7s", made.result.seal_signature.clone()),
        ("receipt.p7s", fee_signature.unwrap_or_default()),
    ];
    for (file, name) in &signed {
        let request = signing::GetSignatureRequest { name: name.clone() };
        let signature = clients.signing.get_signature(request).await.context("signing: GetSignature")?.into_inner();
        write(file, &signature.cms_der)?;
    }
    write("chain.pem", signers::chain_pem(clients.signing).await?.as_bytes())?;
    for (file, name, format) in [
        ("receipt.xml", &made.fee_receipt.name, receipt::RenderFormat::Xml),
        ("receipt.pdf", &made.fee_receipt.name, receipt::RenderFormat::Pdf),
        ("slip.pdf", &made.slip.name, receipt::RenderFormat::Pdf),
    ] {
        let request = receipt::RenderReceiptRequest { name: name.clone(), format: format as i32 };
        let rendered = clients.receipts.render_receipt(request).await.context("receipt: RenderReceipt")?;
        write(file, &rendered.into_inner().content)?;
    }

    let checkpoint = checkpoint_covering(clients.signing, &signed).await?;
    write("checkpoint.txt", checkpoint.checkpoint.as_bytes())?;
    let mut proofs = Vec::new();
    for (file, name) in &signed {
        let request = signing::GetInclusionProofRequest {
            leaf: Some(signing::get_inclusion_proof_request::Leaf::Signature(name.clone())),
            tree_size: checkpoint.tree_size,
        };
        let proof =
            clients.signing.get_inclusion_proof(request).await.context("signing: GetInclusionProof")?.into_inner();
        proofs.push(json!({
            "file": file,
            "signature": name,
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_data_base64": STANDARD.encode(&proof.leaf_data),
            "proof_hashes_hex": proof.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
        }));
    }
    let proofs = json!({
        "checkpoint": "checkpoint.txt",
        "root_hash_hex": hex::encode(&checkpoint.root_hash),
        "leaf_hash": "SHA-256(0x00 || leaf_data), RFC 9162 section 2.1.1",
        "proofs": proofs,
    });
    write("inclusion-proofs.json", serde_json::to_string_pretty(&proofs)?.as_bytes())?;
    write("summary.json", serde_json::to_string_pretty(&summary_json(made.summary))?.as_bytes())?;
    write("VERIFY.md", VERIFY.as_bytes())?;
    Ok(())
}

/// The latest checkpoint, once it covers every signature in `signed` (signing checkpoints new leaves
/// about once a second).
async fn checkpoint_covering(
    signing: &mut SigningServiceClient<PeerChannel>,
    signed: &[(&str, String)],
) -> anyhow::Result<signing::GetCheckpointResponse> {
    let mut last_index = 0;
    for (_, name) in signed {
        let request = signing::GetSignatureRequest { name: name.clone() };
        let signature = signing.get_signature(request).await.context("signing: GetSignature")?.into_inner();
        last_index = last_index.max(signature.log_index);
    }
    let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
    loop {
        let checkpoint = signing.get_checkpoint(signing::GetCheckpointRequest {}).await;
        let checkpoint = checkpoint.context("signing: GetCheckpoint")?.into_inner();
        if checkpoint.tree_size > last_index {
            return Ok(checkpoint);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "no checkpoint covered log index {last_index} within {FOLLOW_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reporting's summary as JSON: the period, the counters the demo moves, and the rates.
fn summary_json(summary: &reporting::GetSummaryResponse) -> serde_json::Value {
    let counters = summary.counters.clone().unwrap_or_default();
    let rates = summary.rates.unwrap_or_default();
    let day = |date: Option<motcua_proto::google::r#type::Date>| {
        date.map(|date| format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)).unwrap_or_default()
    };
    json!({
        "branch_code": super::BRANCH,
        "first_day": day(summary.first_day),
        "last_day": day(summary.last_day),
        "counters": {
            "received": counters.received,
            "accepted": counters.accepted,
            "supplement_requests": counters.supplement_requests,
            "resolved_on_time": counters.resolved_on_time,
            "resolved_late": counters.resolved_late,
            "resolved_signed_and_sealed": counters.resolved_signed_and_sealed,
            "electronic_results": counters.electronic_results,
            "returned": counters.returned,
            "acknowledgement_slips_issued": counters.acknowledgement_slips_issued,
            "fee_receipts_issued": counters.fee_receipts_issued,
            "amount_collected_dong": counters.amount_collected.map_or(0, |money| money.dong),
            "signatures": counters.signatures,
            "seals": counters.seals,
            "ratings_satisfied": counters.ratings_satisfied,
        },
        "rates": {
            "on_time_percent": rates.on_time_percent,
            "signed_and_sealed_percent": rates.signed_and_sealed_percent,
            "electronic_result_percent": rates.electronic_result_percent,
            "satisfaction_percent": rates.satisfaction_percent,
        },
    })
}

/// VERIFY.md: how anyone checks the files with OpenSSL alone.
const VERIFY: &str = r#"# Verifying this dossier's signatures

Every signature here is a detached CMS SignedData (DER) over exactly the bytes of its file, made with a
certificate of branch CN01's intermediate (`chain.pem`: the intermediate, then the root). Run these in
this folder; each prints `CMS Verification successful`:

```sh
openssl cms -verify -binary -content result.pdf -inform DER -in result.officer.p7s -CAfile chain.pem -purpose any -out /dev/null
openssl cms -verify -binary -content result.pdf -inform DER -in result.seal.p7s -CAfile chain.pem -purpose any -out /dev/null
openssl cms -verify -binary -content receipt.xml -inform DER -in receipt.p7s -CAfile chain.pem -purpose any -out /dev/null
```

Change one byte of `result.pdf` (or `receipt.xml`) and the same command prints `CMS Verification
failure` (a message digest mismatch) and exits with status 4.

Who signed, and when:

```sh
openssl cms -cmsout -print -inform DER -in result.officer.p7s | grep -E 'commonName|UTCTIME'
```

`checkpoint.txt` is a C2SP signed note of signing's transparency log: its origin, its tree size, its
root hash (base64), then the log's Ed25519 signature. `inclusion-proofs.json` holds, for each
signature, its leaf index and leaf data in that tree and the RFC 9162 inclusion proof: hash the leaf
as SHA-256(0x00 || leaf data), fold in the proof hashes as RFC 9162 section 2.1.3.2 says, and you
reach the checkpoint's root hash, so the signature cannot be removed from the log unseen.

`summary.json` is what reporting shows for the day at the branch once it has counted the dossier.
"#;
