// Random edits of a text, shared by the property tests here and the parser
// comparison in the crate's unit tests (which `include!` this file).

/// Applies edits in order: each is (where, what, byte) with what = 0 insert,
/// 1 remove, 2 replace; positions past the end insert at the end or do
/// nothing.
pub(crate) fn apply_edits(text: &str, edits: Vec<(proptest::sample::Index, u8, u8)>) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for (at, op, byte) in edits {
        let i = at.index(bytes.len() + 1);
        match op {
            0 => bytes.insert(i, byte),
            1 if i < bytes.len() => {
                bytes.remove(i);
            }
            _ if i < bytes.len() => bytes[i] = byte,
            _ => {}
        }
    }
    bytes
}
