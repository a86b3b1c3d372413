//! Object keys spread over prefixes, since S3's request-rate limits are per prefix.

/// The key of object `index` when keys are spread over `prefixes` prefixes:
/// `p0003/obj-00000042` (prefix = index mod prefixes, so consecutive requests hit different
/// prefixes and every prefix gets an equal share).
pub fn key_for(index: u64, prefixes: u32) -> String {
    let p = index % u64::from(prefixes.max(1));
    format!("p{p:04}/obj-{index:08}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_rotate_over_prefixes() {
        assert_eq!(key_for(0, 4), "p0000/obj-00000000");
        assert_eq!(key_for(5, 4), "p0001/obj-00000005");
        assert_eq!(key_for(5, 0), "p0000/obj-00000005");
    }
}
