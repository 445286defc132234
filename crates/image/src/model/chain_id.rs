//! Chain ids: the identity of a stack of layers, as the OCI image spec defines it
//! (config.md, "Layer ChainID"):
//!
//! ```text
//! ChainID(L₀) = DiffID(L₀)
//! ChainID(L₀|...|Lₙ₋₁|Lₙ) = Digest(ChainID(L₀|...|Lₙ₋₁) + " " + DiffID(Lₙ))
//! ```
//!
//! where the digests are written in full (`sha256:<hex>`). Unpacked layers are stored and
//! shared by chain id, never by diff id alone.

use crate::digest::Digest;

/// The chain id of each prefix of `diff_ids` (bottom first): the last one names the whole
/// stack. Empty in, empty out.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match out.last() {
            None => diff_id.clone(),
            Some(below) => Digest::of(format!("{below} {diff_id}").as_bytes()),
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(hex: &str) -> Digest {
        Digest::from_hex(hex).unwrap()
    }

    #[test]
    fn chain_ids_follow_the_oci_recursion() {
        // Diff ids of the strings "a", "b", "c"; chain ids computed with sha256sum:
        // printf 'sha256:<a> sha256:<b>' | sha256sum, and so on.
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        let c = Digest::of(b"c");
        assert_eq!(
            a,
            d("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        );
        let ids = chain_ids(&[a.clone(), b, c]);
        assert_eq!(
            ids,
            [
                a,
                d("51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676"),
                d("2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106"),
            ]
        );
        assert!(chain_ids(&[]).is_empty());
    }

    #[test]
    fn chain_id_of_a_real_ubuntu_pair() {
        // Two diff ids of an ubuntu image and the layerdb directory Docker made for them.
        let ids = chain_ids(&[
            d("2dc9f76fb25b31e0ae9d36adce713364c682ba0d2fa70756486e5cedfaf40012"),
            d("9f3bfcc4a1a8a676da07287a1aa6f2dcc8e869ea6f054c337593481a5bb1345e"),
        ]);
        assert_eq!(
            ids[1],
            d("61199b56f34827cbab596c63fd6e0ac0c448faa7e026e330994818190852d479")
        );
    }
}
