//! Result document handler: lays out a dossier's result as the PDF the officer signs and the leader
//! seals, with the QR code of where it is verified. Renders only: intake stores the document.

use motcua_chassis::{ApiError, identity::Caller};
use motcua_proto::motcua::receipt::v1 as pb;

use super::{ReceiptApi, today, validate::Violations};
use crate::render::{self, result::ResultDocument};

/// The longest decision text: a page and a half of A4 at the rendering's size.
const MAX_DECISION_CHARS: usize = 4000;

impl ReceiptApi {
    pub(super) async fn render_result_document_handler(
        &self,
        caller: Caller,
        request: pb::RenderResultDocumentRequest,
    ) -> Result<pb::RenderResultDocumentResponse, ApiError> {
        let mut violations = Violations::default();
        // The code goes into the QR code's URL as it is, so it must need no escaping there.
        let code_is_plain =
            request.dossier_code.bytes().all(|byte| byte.is_ascii_alphanumeric() || b".-_".contains(&byte));
        if request.dossier_code.is_empty() || request.dossier_code.len() > 60 || !code_is_plain {
            violations.add("dossier_code", "required: at most 60 letters, digits, dots, hyphens and underscores");
        }
        violations.text("title", &request.title, true);
        violations.code("procedure_code", &request.procedure_code, 30, true);
        violations.text("procedure_name", &request.procedure_name, true);
        violations.text_within("decision_text", &request.decision_text, true, MAX_DECISION_CHARS);
        violations.code("branch_code", &request.branch_code, 20, true);
        violations.text("branch_name", &request.branch_name, false);
        let issue_date = violations.date("issue_date", request.issue_date.as_ref());
        violations.finish()?;
        caller.check_branch(&request.branch_code)?;

        let verification_url = render::result::verification_url(&self.state.public_base_url, &request.dossier_code);
        let document = ResultDocument {
            dossier_code: &request.dossier_code,
            title: &request.title,
            procedure_code: &request.procedure_code,
            procedure_name: &request.procedure_name,
            decision_text: &request.decision_text,
            branch_code: &request.branch_code,
            branch_name: &request.branch_name,
            issue_date: issue_date.unwrap_or_else(|| today(&self.state.clock)),
            verification_url: &verification_url,
        };
        let content = render::result::result_pdf(&document).map_err(ApiError::internal)?;
        Ok(pb::RenderResultDocumentResponse {
            media_type: "application/pdf".to_owned(),
            file_name: format!("ket-qua-{}.pdf", request.dossier_code),
            content,
            verification_url,
        })
    }
}
