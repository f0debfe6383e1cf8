//! The witness's own check of a consistency proof, written from RFC 9162 section 2.1.4.2 (the
//! verification of RFC 6962's proofs), with the cases c2sp.org/tlog-witness adds: from the empty
//! tree the proof is empty, and between equal sizes the roots are equal. It shares nothing with the
//! log's proof making, so that the witness does not trust the code it checks.

use sha2::{Digest, Sha256};

/// A SHA-256 hash of the tree.
pub type Hash = [u8; 32];

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Whether `proof` shows that the tree of `first_size` leaves with root `first_root` is a prefix of
/// the tree of `second_size` leaves with root `second_root`.
pub fn verify(first_size: u64, second_size: u64, first_root: &Hash, second_root: &Hash, proof: &[Hash]) -> bool {
    if first_size > second_size {
        return false;
    }
    if first_size == second_size {
        return proof.is_empty() && first_root == second_root;
    }
    if first_size == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    // Step 2: a first tree that is a whole subtree is the proof's starting point.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if first_size.is_power_of_two() {
        path.push(first_root);
    }
    path.extend(proof);
    // Steps 3 and 4.
    let (mut first_node, mut second_node) = (first_size - 1, second_size - 1);
    while first_node & 1 == 1 {
        first_node >>= 1;
        second_node >>= 1;
    }
    // Step 5.
    let (mut first_hash, mut second_hash) = (*path[0], *path[0]);
    // Step 6.
    for sibling in &path[1..] {
        if second_node == 0 {
            return false;
        }
        if first_node & 1 == 1 || first_node == second_node {
            first_hash = node(sibling, &first_hash);
            second_hash = node(sibling, &second_hash);
            while first_node & 1 == 0 && first_node != 0 {
                first_node >>= 1;
                second_node >>= 1;
            }
        } else {
            second_hash = node(&second_hash, sibling);
        }
        first_node >>= 1;
        second_node >>= 1;
    }
    // Step 7.
    first_hash == *first_root && second_hash == *second_root && second_node == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::merkle;

    fn leaves(count: usize) -> Vec<Hash> {
        (0..count).map(|index| merkle::leaf_hash(format!("leaf {index}").as_bytes())).collect()
    }

    #[test]
    fn every_proof_the_log_makes_verifies_and_every_altered_one_fails() {
        let all = leaves(40);
        for second in 1..=all.len() {
            let second_root = merkle::root(&all[..second]);
            for first in 1..=second {
                let first_root = merkle::root(&all[..first]);
                let proof = merkle::consistency_proof(first, &all[..second]).expect("a proof");
                let (first_size, second_size) = (first as u64, second as u64);
                assert!(verify(first_size, second_size, &first_root, &second_root, &proof), "{first} -> {second}");
                for index in 0..proof.len() {
                    let mut altered = proof.clone();
                    altered[index][0] ^= 1;
                    assert!(!verify(first_size, second_size, &first_root, &second_root, &altered));
                }
                if first < second {
                    let mut forked = all[..second].to_vec();
                    forked[0][0] ^= 1;
                    let forked_root = merkle::root(&forked);
                    let forked_proof = merkle::consistency_proof(first, &forked).expect("a proof");
                    assert!(
                        !verify(first_size, second_size, &first_root, &forked_root, &forked_proof),
                        "a fork of leaf 0 is caught, {first} -> {second}"
                    );
                    let mut longer = proof.clone();
                    longer.push([0; 32]);
                    assert!(!verify(first_size, second_size, &first_root, &second_root, &longer));
                    assert!(!verify(first_size, second_size, &first_root, &second_root, &proof[..proof.len() - 1]));
                }
            }
        }
    }

    #[test]
    fn the_empty_tree_and_equal_sizes_follow_the_witness_specification() {
        let root = merkle::root(&leaves(5));
        let other = merkle::root(&leaves(6));
        assert!(verify(0, 5, &[0; 32], &root, &[]));
        assert!(!verify(0, 5, &[0; 32], &root, &[root]));
        assert!(verify(5, 5, &root, &root, &[]));
        assert!(!verify(5, 5, &root, &other, &[]));
        assert!(!verify(6, 5, &other, &root, &[]));
    }
}
