//! The Merkle tree of the transparency log as RFC 6962 and RFC 9162 define it: leaf and node hashes,
//! the root of any prefix of the log, inclusion and consistency proofs, and the subtree hashes that
//! C2SP tlog-tiles serves.

use sha2::{Digest, Sha256};

/// A SHA-256 hash of the tree.
pub type Hash = [u8; 32];

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the tree over `leaves` (the empty tree's is SHA-256 of nothing), by RFC 9162's MTH.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        size => {
            let split = largest_power_of_two_below(size);
            node_hash(&root(&leaves[..split]), &root(&leaves[split..]))
        }
    }
}

/// The inclusion proof of leaf `index` in the tree over `leaves` (RFC 9162 section 2.1.3.1), from the
/// leaf's sibling up; `None` when the index is outside the tree.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    (index < leaves.len()).then(|| path(index, leaves))
}

fn path(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    if leaves.len() <= 1 {
        return Vec::new();
    }
    let split = largest_power_of_two_below(leaves.len());
    if index < split {
        let mut proof = path(index, &leaves[..split]);
        proof.push(root(&leaves[split..]));
        proof
    } else {
        let mut proof = path(index - split, &leaves[split..]);
        proof.push(root(&leaves[..split]));
        proof
    }
}

/// The consistency proof between the tree of the first `first_size` leaves and the tree over all
/// `leaves` (RFC 9162 section 2.1.4.1); `None` unless 0 < first_size <= leaves.len().
pub fn consistency_proof(first_size: usize, leaves: &[Hash]) -> Option<Vec<Hash>> {
    (first_size > 0 && first_size <= leaves.len()).then(|| subproof(first_size, leaves, true))
}

fn subproof(first_size: usize, leaves: &[Hash], first_is_whole_subtree: bool) -> Vec<Hash> {
    if first_size == leaves.len() {
        return if first_is_whole_subtree { Vec::new() } else { vec![root(leaves)] };
    }
    let split = largest_power_of_two_below(leaves.len());
    if first_size <= split {
        let mut proof = subproof(first_size, &leaves[..split], first_is_whole_subtree);
        proof.push(root(&leaves[split..]));
        proof
    } else {
        let mut proof = subproof(first_size - split, &leaves[split..], false);
        proof.push(root(&leaves[..split]));
        proof
    }
}

/// The largest power of two strictly below `size` (size > 1).
fn largest_power_of_two_below(size: usize) -> usize {
    let mut split = 1;
    while split << 1 < size {
        split <<= 1;
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(count: usize) -> Vec<Hash> {
        (0..count).map(|index| leaf_hash(index.to_string().as_bytes())).collect()
    }

    #[test]
    fn the_empty_tree_hashes_to_sha256_of_nothing() {
        assert_eq!(hex::encode(root(&[])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn rfc6962_test_vector_root_of_one_empty_leaf() {
        // The leaf hash of the empty string, as in the RFC 6962 reference test data.
        assert_eq!(
            hex::encode(root(&[leaf_hash(b"")])),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn a_single_leaf_needs_no_proof_and_an_index_past_the_end_has_none() {
        let tree = leaves(1);
        assert_eq!(inclusion_proof(0, &tree), Some(Vec::new()));
        assert_eq!(inclusion_proof(1, &tree), None);
        assert_eq!(consistency_proof(0, &tree), None);
    }

    #[test]
    fn a_tree_is_consistent_with_itself_with_an_empty_proof() {
        let tree = leaves(7);
        assert_eq!(consistency_proof(7, &tree), Some(Vec::new()));
    }

    #[test]
    fn proof_lengths_follow_the_tree_shape() {
        let tree = leaves(8);
        assert_eq!(inclusion_proof(5, &tree).map(|proof| proof.len()), Some(3));
        assert_eq!(consistency_proof(4, &tree).map(|proof| proof.len()), Some(1));
        assert_eq!(consistency_proof(3, &tree).map(|proof| proof.len()), Some(4));
    }
}
