//! The Merkle tree of the transparency log as RFC 6962 and RFC 9162 define it: leaf and node hashes,
//! the root of any prefix of the log, inclusion and consistency proofs. Two forms: over all leaf
//! hashes in memory (the reference, for tests and small trees), and as plans naming the complete
//! subtrees a root or proof needs, so the log reads those few hashes from its stored tiles and never
//! the whole tree.

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

/// A complete, aligned subtree: the 2^height leaves from `index` × 2^height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subtree {
    /// Its height: 0 for a leaf.
    pub height: u32,
    /// Its position among the subtrees of its height.
    pub index: u64,
}

/// A hash of a proof (or a root) as the complete subtrees it folds: `[a, b, c]` is
/// node_hash(a, node_hash(b, c)), which is MTH of the leaves they cover when they are the
/// decreasing subtrees of a range that starts aligned (RFC 9162 splits at the largest power of two).
pub type Fold = Vec<Subtree>;

/// The complete subtrees of MTH(leaves[start..end]), left to right, for a range whose start is a
/// multiple of a power of two at least its length (every range RFC 9162's recursion visits).
pub fn range_subtrees(start: u64, end: u64) -> Fold {
    let mut subtrees = Vec::new();
    let mut position = start;
    for height in (0..64u32).rev() {
        let width = 1u64 << height;
        if (end - start) & width != 0 {
            subtrees.push(Subtree { height, index: position >> height });
            position += width;
        }
    }
    subtrees
}

/// The root of the first `size` leaves as a fold (empty for the empty tree).
pub fn root_plan(size: u64) -> Fold {
    range_subtrees(0, size)
}

/// Which subtrees make each hash of the inclusion proof of leaf `index` in the tree of `size` leaves,
/// in the order of [`inclusion_proof`]; `None` when the index is outside the tree.
pub fn inclusion_plan(index: u64, size: u64) -> Option<Vec<Fold>> {
    (index < size).then(|| {
        let mut plan = Vec::new();
        path_plan(index, 0, size, &mut plan);
        plan
    })
}

fn path_plan(index: u64, start: u64, end: u64, plan: &mut Vec<Fold>) {
    if end - start <= 1 {
        return;
    }
    let split = start + largest_power_of_two_below((end - start) as usize) as u64;
    if index < split {
        path_plan(index, start, split, plan);
        plan.push(range_subtrees(split, end));
    } else {
        path_plan(index, split, end, plan);
        plan.push(range_subtrees(start, split));
    }
}

/// Which subtrees make each hash of the consistency proof between the trees of `first_size` and
/// `second_size` leaves, in the order of [`consistency_proof`]; `None` unless
/// 0 < first_size <= second_size.
pub fn consistency_plan(first_size: u64, second_size: u64) -> Option<Vec<Fold>> {
    (first_size > 0 && first_size <= second_size).then(|| {
        let mut plan = Vec::new();
        subproof_plan(first_size, 0, second_size, true, &mut plan);
        plan
    })
}

fn subproof_plan(first_end: u64, start: u64, end: u64, first_is_whole_subtree: bool, plan: &mut Vec<Fold>) {
    if first_end == end {
        if !first_is_whole_subtree {
            plan.push(range_subtrees(start, end));
        }
        return;
    }
    let split = start + largest_power_of_two_below((end - start) as usize) as u64;
    if first_end <= split {
        subproof_plan(first_end, start, split, first_is_whole_subtree, plan);
        plan.push(range_subtrees(split, end));
    } else {
        subproof_plan(first_end, split, end, false, plan);
        plan.push(range_subtrees(start, split));
    }
}

/// The hash of a fold, each subtree's hash from `lookup`; `None` when `lookup` has one of them not.
/// The empty fold is the empty tree's root.
pub fn fold(subtrees: &[Subtree], lookup: &mut impl FnMut(Subtree) -> Option<Hash>) -> Option<Hash> {
    let Some((last, rest)) = subtrees.split_last() else {
        return Some(Sha256::digest([]).into());
    };
    let mut hash = lookup(*last)?;
    for subtree in rest.iter().rev() {
        hash = node_hash(&lookup(*subtree)?, &hash);
    }
    Some(hash)
}

/// Every hash of `plan`, each subtree's hash from `lookup`; `None` when `lookup` has one of them not.
pub fn evaluate(plan: &[Fold], mut lookup: impl FnMut(Subtree) -> Option<Hash>) -> Option<Vec<Hash>> {
    plan.iter().map(|subtrees| fold(subtrees, &mut lookup)).collect()
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

    fn in_memory_lookup(tree: &[Hash]) -> impl FnMut(Subtree) -> Option<Hash> + '_ {
        |subtree| {
            let start = usize::try_from(subtree.index << subtree.height).ok()?;
            let end = start.checked_add(1 << subtree.height)?;
            tree.get(start..end).map(root)
        }
    }

    #[test]
    fn plans_fold_to_the_in_memory_roots_and_proofs_for_every_size_to_70() {
        let tree = leaves(70);
        for size in 0..=70usize {
            let prefix = &tree[..size];
            assert_eq!(fold(&root_plan(size as u64), &mut in_memory_lookup(prefix)), Some(root(prefix)), "{size}");
            for index in 0..=size {
                let plan = inclusion_plan(index as u64, size as u64);
                let proof = plan.map(|plan| evaluate(&plan, in_memory_lookup(prefix)).expect("every subtree"));
                assert_eq!(proof, inclusion_proof(index, prefix), "leaf {index} of {size}");
                let plan = consistency_plan(index as u64, size as u64);
                let proof = plan.map(|plan| evaluate(&plan, in_memory_lookup(prefix)).expect("every subtree"));
                assert_eq!(proof, consistency_proof(index, prefix), "{index} within {size}");
            }
        }
    }
}
