//! What an officer may sign in (officer, approver), kept with their certificate, and the rule of who
//! may approve and seal.

motcua_chassis::coded_enum! {
    /// A signer's role; the numbers are the contract's.
    #[derive(PartialOrd, Ord)]
    pub enum SignerRole {
        /// Signs results, receipts and slips.
        Officer = 1,
        /// A branch leader: approves results, which applies the branch seal.
        Approver = 2,
    }
}

/// Roles as stored: their numbers, comma-separated, ascending.
pub fn encode(roles: &[SignerRole]) -> String {
    let mut numbers: Vec<i32> = roles.iter().map(|role| role.code()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Roles read back from storage; unknown numbers are skipped.
pub fn decode(text: &str) -> Vec<SignerRole> {
    text.split(',').filter_map(|number| number.trim().parse().ok()).filter_map(SignerRole::from_code).collect()
}

/// Why a leader may not seal an officer's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The leader's certificate lacks the approver role.
    NotAnApprover,
    /// The leader belongs to another branch than the officer's signature.
    OtherBranch,
}

/// Whether a leader of `approver_branch` with `approver_roles` may approve a signature of
/// `signature_branch`.
pub fn may_approve(
    approver_roles: &[SignerRole],
    approver_branch: &str,
    signature_branch: &str,
) -> Result<(), ApprovalRefusal> {
    if !approver_roles.contains(&SignerRole::Approver) {
        return Err(ApprovalRefusal::NotAnApprover);
    }
    if approver_branch != signature_branch {
        return Err(ApprovalRefusal::OtherBranch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_sorted_and_unique() {
        let text = encode(&[SignerRole::Approver, SignerRole::Officer, SignerRole::Approver]);
        assert_eq!(text, "1,2");
        assert_eq!(decode(&text), vec![SignerRole::Officer, SignerRole::Approver]);
    }

    #[test]
    fn only_an_approver_of_the_same_branch_may_seal() {
        assert_eq!(may_approve(&[SignerRole::Approver], "CN01", "CN01"), Ok(()));
        assert_eq!(may_approve(&[SignerRole::Officer], "CN01", "CN01"), Err(ApprovalRefusal::NotAnApprover));
        assert_eq!(may_approve(&[SignerRole::Approver], "CN02", "CN01"), Err(ApprovalRefusal::OtherBranch));
    }
}
