//! The people of the tests: a citizen who files, a fee payer, the officers who act on a dossier and
//! the collector who takes a fee. Their names and numbers are constants so that a test can look for
//! them where personal data must not appear.

use motcua_proto::motcua::{
    common::v1::{Applicant, Citizen, applicant::Kind},
    intake::v1 as intake_pb,
    receipt::v1 as receipt_pb,
};

/// The citizen who files: full name.
pub const CITIZEN_NAME: &str = "Trần Văn Bình";
/// The citizen who files: phone.
pub const CITIZEN_PHONE: &str = "0912345678";
/// The citizen who files: address.
pub const CITIZEN_ADDRESS: &str = "Số 1 phố Tràng Tiền, Hà Nội";

/// The fee payer: full name.
pub const PAYER_NAME: &str = "Nguyễn Thị Hương";
/// The fee payer: identity number.
pub const PAYER_IDENTITY: &str = "001199004321";
/// The fee payer: phone.
pub const PAYER_PHONE: &str = "0987654321";
/// The fee payer: address.
pub const PAYER_ADDRESS: &str = "Số 5 phố Hàng Bài, Hà Nội";

/// The officer whose certificate signs results: display name.
pub const OFFICER_NAME: &str = "Nguyễn Văn An";
/// The branch leader who approves and seals: display name.
pub const LEADER_NAME: &str = "Trần Thị Bình";
/// The officer who collects fees: display name.
pub const COLLECTOR_NAME: &str = "Lê Thu Trang";

/// The citizen with `identity_number` who files, with a phone and an address.
pub fn citizen(identity_number: &str) -> Applicant {
    Applicant {
        kind: Some(Kind::Citizen(Citizen {
            identity_number: identity_number.to_owned(),
            full_name: CITIZEN_NAME.to_owned(),
            date_of_birth: None,
            phone: CITIZEN_PHONE.to_owned(),
            address: CITIZEN_ADDRESS.to_owned(),
        })),
    }
}

/// The citizen who pays a fee.
pub fn payer() -> Applicant {
    Applicant {
        kind: Some(Kind::Citizen(Citizen {
            identity_number: PAYER_IDENTITY.to_owned(),
            full_name: PAYER_NAME.to_owned(),
            date_of_birth: None,
            phone: PAYER_PHONE.to_owned(),
            address: PAYER_ADDRESS.to_owned(),
        })),
    }
}

/// Officer `officer_id` of the one-stop desk, as intake records who acted.
pub fn officer(officer_id: &str) -> intake_pb::Officer {
    intake_pb::Officer {
        officer_id: officer_id.to_owned(),
        display_name: format!("Cán bộ {officer_id}"),
        unit: "Bộ phận một cửa".to_owned(),
    }
}

/// Officer `officer_id` as the actor of a move on a dossier.
pub fn actor(officer_id: &str) -> Option<intake_pb::Officer> {
    Some(officer(officer_id))
}

/// Officer `officer_id` collecting a fee, under the collector's name.
pub fn collector(officer_id: &str) -> receipt_pb::Collector {
    receipt_pb::Collector { officer_id: officer_id.to_owned(), display_name: COLLECTOR_NAME.to_owned() }
}
